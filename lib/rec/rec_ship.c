/* The ship lcore's side: drains the rings, feeds each open recording's aligner, whose bytes
 * go straight into that recording's envelope writer (sink: the spool file). */
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "rec.h"

#define BURST 64

struct slot {
	uint32_t generation;
	uint32_t open_index; /* position in ship->open */
	bool open;
	int writer_error;
	struct mg_rec_wav *wav;
	struct mg_envelope_writer *writer;
	uint64_t records, stale, bytes_plain;
};

struct mg_rec_ship {
	struct mg_rec_hub *hub;
	struct mg_rec_wav_config wav_cfg;
	uint32_t max;
	struct slot *slots;
	uint32_t *open; /* slots with an open recording */
	uint32_t n_open;
	uint64_t last_advance;
	bool advanced_once;
	struct mg_rec_ship_stats st;
};

int mg_rec_ship_create(struct mg_rec_ship **out, struct mg_rec_hub *hub,
		       const struct mg_rec_wav_config *wav_cfg)
{
	if (!out || !hub)
		return -1;
	*out = NULL;
	struct mg_rec_ship *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->hub = hub;
	if (wav_cfg)
		s->wav_cfg = *wav_cfg;
	s->max = mg_rec_hub_max_contacts(hub);
	s->slots = calloc(s->max, sizeof(*s->slots));
	s->open = calloc(s->max, sizeof(*s->open));
	if (!s->slots || !s->open) {
		mg_rec_ship_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void mg_rec_ship_free(struct mg_rec_ship *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; s->slots && i < s->n_open; i++) {
		struct slot *sl = &s->slots[s->open[i]];
		mg_envelope_writer_abort(sl->writer);
		mg_rec_wav_free(sl->wav);
	}
	free(s->slots);
	free(s->open);
	free(s);
}

static int writer_sink(void *arg, const void *bytes, size_t len)
{
	struct slot *sl = arg;
	int rc = mg_envelope_writer_write(sl->writer, bytes, len);
	if (rc != MG_ENVELOPE_OK) {
		if (!sl->writer_error)
			sl->writer_error = rc;
		return rc;
	}
	sl->bytes_plain += len;
	return 0;
}

int mg_rec_ship_open(struct mg_rec_ship *s, uint32_t contact, uint32_t generation, uint64_t start,
		     struct mg_envelope_writer *writer)
{
	if (!s || contact >= s->max || !writer || s->slots[contact].open)
		return -1;
	struct slot *sl = &s->slots[contact];
	memset(sl, 0, sizeof(*sl));
	sl->generation = generation;
	sl->writer = writer;
	mg_rec_hub_contact_reset(s->hub, contact);
	if (mg_rec_wav_create(&sl->wav, &s->wav_cfg, start, writer_sink, sl) != 0) {
		sl->writer = NULL;
		return -1;
	}
	sl->open = true;
	sl->open_index = s->n_open;
	s->open[s->n_open++] = contact;
	s->st.opened++;
	return 0;
}

static void place(struct mg_rec_ship *s, struct mg_rec_record *r)
{
	if (r->contact >= s->max) {
		s->st.unknown++;
		return;
	}
	struct slot *sl = &s->slots[r->contact];
	if (!sl->open || sl->generation != r->generation) {
		sl->stale++;
		s->st.stale++;
		return;
	}
	sl->records++;
	mg_rec_wav_put(sl->wav, r);
}

unsigned mg_rec_ship_poll(struct mg_rec_ship *s, uint64_t now, unsigned budget)
{
	struct mg_rec_record *burst[BURST];
	unsigned total = 0, rings = mg_rec_hub_rings(s->hub);
	s->st.polls++;
	bool more = true;
	/* Round robin over the rings, one burst each, until they are empty or the budget is
	 * spent: no ring waits behind another's backlog. */
	while (more && total < budget) {
		more = false;
		for (unsigned ring = 0; ring < rings && total < budget; ring++) {
			unsigned want = budget - total < BURST ? budget - total : BURST;
			unsigned n = mg_rec_hub_drain(s->hub, ring, burst, want);
			/* Three-stage prefetch: records, then their slots, then the recordings'
			 * state, so the cache misses of 10,000 calls overlap. */
			for (unsigned i = 0; i < n && i < 4; i++)
				__builtin_prefetch(burst[i]);
			for (unsigned i = 0; i < n; i++) {
				if (i + 4 < n)
					__builtin_prefetch(burst[i + 4]);
				if (i + 2 < n && burst[i + 2]->contact < s->max)
					__builtin_prefetch(&s->slots[burst[i + 2]->contact]);
				if (i + 1 < n && burst[i + 1]->contact < s->max) {
					const struct slot *nx = &s->slots[burst[i + 1]->contact];
					if (nx->wav)
						mg_rec_wav_prefetch(nx->wav, burst[i + 1]);
				}
				place(s, burst[i]);
			}
			mg_rec_hub_release(s->hub, ring, burst, n);
			total += n;
			if (n == want)
				more = true;
		}
	}
	s->st.records += total;
	/* Contacts that went silent still need their silence written: every 20 ms. */
	if (!s->advanced_once || now - s->last_advance >= MG_REC_FRAME_SAMPLES) {
		s->advanced_once = true;
		s->last_advance = now;
		for (uint32_t i = 0; i < s->n_open; i++)
			mg_rec_wav_advance(s->slots[s->open[i]].wav, now);
	}
	return total;
}

int mg_rec_ship_close(struct mg_rec_ship *s, uint32_t contact, uint64_t end, bool force_partial,
		      bool *partial)
{
	if (!s || contact >= s->max || !s->slots[contact].open)
		return MG_ENVELOPE_ERR_ARG;
	struct slot *sl = &s->slots[contact];
	int wrc = mg_rec_wav_finish(sl->wav, end);
	bool part = force_partial || wrc != 0 || sl->writer_error != 0 ||
		    mg_rec_hub_contact_drops(s->hub, contact) > 0;
	int rc = mg_envelope_writer_finish(sl->writer, part ? MG_ENVELOPE_FLAG_PARTIAL : 0);
	if (rc != MG_ENVELOPE_OK)
		part = true;
	if (partial)
		*partial = part;
	mg_rec_wav_free(sl->wav);
	sl->wav = NULL;
	sl->writer = NULL;
	sl->open = false;
	/* swap-remove from the open list */
	uint32_t last = s->open[--s->n_open];
	s->open[sl->open_index] = last;
	s->slots[last].open_index = sl->open_index;
	s->st.closed++;
	if (part)
		s->st.partial++;
	if (wrc != 0 || sl->writer_error)
		s->st.write_errors++;
	return rc != MG_ENVELOPE_OK ? rc : (wrc ? wrc : 0);
}

int mg_rec_ship_contact_stats(const struct mg_rec_ship *s, uint32_t contact,
			      struct mg_rec_contact_stats *st)
{
	if (!s || contact >= s->max)
		return -1;
	const struct slot *sl = &s->slots[contact];
	memset(st, 0, sizeof(*st));
	st->records = sl->records;
	st->stale = sl->stale;
	st->ring_drops = mg_rec_hub_contact_drops(s->hub, contact);
	st->bytes_plain = sl->bytes_plain;
	st->open = sl->open;
	st->partial = st->ring_drops > 0 || sl->writer_error != 0;
	return 0;
}

void mg_rec_ship_get_stats(const struct mg_rec_ship *s, struct mg_rec_ship_stats *st)
{
	*st = s->st;
}
