/* Conference mixer: jitter buffers, N-1 mixing with saturation, G.711, RFC 4733
 * passthrough. See mix.h for the API and docs/mixing.md for the rules. */
#include "mix.h"

#include <stdlib.h>
#include <string.h>

#include "rtp.h"

#define FRAME		MG_MIX_FRAME_SAMPLES
#define SLOT_MASK	(MG_MIX_JB_SLOTS - 1)
#define WINDOW_FRAMES	50  /* |distance| beyond which a packet is outside the playout window */
#define STRAY_RESYNC	3   /* consecutive stray packets that restart playout */
#define IDLE_TICKS	50  /* 1 s without audio: the buffer goes idle (silence, no counting) */
#define ADAPT_TICKS	250 /* 5 s: depth adaptation window */
#define CONCEAL_REPEATS 3   /* attenuated repeats (3/4, 2/4, 1/4) before silence */

_Static_assert((MG_MIX_JB_SLOTS & SLOT_MASK) == 0, "slots must be a power of two");

/* Per-thread scratch for one tick (the sum and every participant's decoded frame): not
 * part of the conference, so the memory a tick touches per conference stays small. Static
 * TLS of the linking executable: no allocation on access. */
static _Thread_local struct {
	int32_t sum[FRAME] __attribute__((aligned(64)));
	int16_t pcm[MG_MIX_MAX_PARTICIPANTS][FRAME] __attribute__((aligned(64)));
} scratch;
_Static_assert(MG_MIX_JB_MAX_DEPTH < MG_MIX_JB_SLOTS, "depth must fit the slots");

struct slot {
	uint32_t ts;
	uint16_t seq;
	uint8_t valid;
	uint8_t pad;
	uint8_t payload[FRAME];
};

struct jb {
	uint8_t synced;
	uint8_t have_last;   /* last[] holds a real frame for concealment */
	uint8_t conceal_run; /* consecutive concealed frames */
	uint8_t stray_run;
	uint8_t target, min, max;
	uint8_t prefill; /* ticks of silence before the first frame plays */
	uint8_t stretch; /* frames to insert (growth) */
	uint8_t late_in_window;
	uint8_t min_ahead; /* smallest depth seen in the adaptation window */
	uint8_t pad;
	uint16_t last_seq; /* of the last accepted packet */
	uint16_t idle;	   /* ticks since the last accepted packet */
	uint16_t window;   /* ticks into the adaptation window */
	uint32_t ssrc;
	uint32_t play_idx;    /* slot counter of play_ts (slot = play_idx & mask) */
	uint32_t play_ts;     /* timestamp of the next frame to play */
	uint32_t newest_ts;   /* highest timestamp accepted */
	uint64_t played_mask; /* bit i: frame play_ts - (i+1)*160 was played from a packet */
	uint32_t last_ts;     /* the last frame played from a packet: its slot still holds */
	uint8_t last_slot;    /* the payload until a packet 16 frames later reuses it */
	struct slot slots[MG_MIX_JB_SLOTS];
};

struct participant {
	uint8_t active;
	uint8_t muted;
	uint8_t on_hold;
	uint8_t first_out;
	uint8_t pt;
	uint8_t ev_have;
	int16_t te_pt;
	enum mg_g711_law law;
	uint32_t out_ssrc;
	uint32_t out_ts;
	uint16_t out_seq;
	uint16_t ev_last_seq;
	uint32_t ev_src_ts; /* timestamp of the sender's current event */
	uint64_t ev_tick;   /* conference tick when that event started */
	struct mg_mix_pstats st;
	struct jb jb;
};

struct mg_mix {
	struct mg_mix_stats st;
	unsigned ev_count;
	unsigned out_count;
	struct participant p[MG_MIX_MAX_PARTICIPANTS];
	struct mg_mix_pkt out[MG_MIX_MAX_PARTICIPANTS];
	struct mg_mix_pkt ev[MG_MIX_EVENT_QUEUE];
} __attribute__((aligned(64)));

/* ---- creation ---- */

size_t mg_mix_footprint(void)
{
	return sizeof(struct mg_mix);
}

struct mg_mix *mg_mix_init(void *mem, size_t len)
{
	if (!mem || len < sizeof(struct mg_mix) || ((uintptr_t)mem & 63))
		return NULL;
	memset(mem, 0, sizeof(struct mg_mix));
	return mem;
}

struct mg_mix *mg_mix_create(void)
{
	size_t sz = (sizeof(struct mg_mix) + 63) & ~(size_t)63;
	void *mem = aligned_alloc(64, sz);
	if (!mem)
		return NULL;
	return mg_mix_init(mem, sz);
}

void mg_mix_destroy(struct mg_mix *m)
{
	free(m);
}

/* ---- participants ---- */

static struct participant *part(struct mg_mix *m, unsigned id)
{
	if (id >= MG_MIX_MAX_PARTICIPANTS || !m->p[id].active)
		return NULL;
	return &m->p[id];
}

int mg_mix_join(struct mg_mix *m, const struct mg_mix_participant_cfg *cfg)
{
	if (!m || !cfg)
		return -2;
	unsigned mn = cfg->jb_min ? cfg->jb_min : MG_MIX_JB_DEFAULT_MIN;
	unsigned mx = cfg->jb_max ? cfg->jb_max : MG_MIX_JB_DEFAULT_MAX;
	if (!cfg->jb_max && mx < mn)
		mx = mn;
	if ((cfg->law != MG_G711_ULAW && cfg->law != MG_G711_ALAW) || cfg->pt > 127 ||
	    cfg->te_pt < -1 || cfg->te_pt > 127 || cfg->te_pt == cfg->pt || mn < 1 || mn > mx ||
	    mx > MG_MIX_JB_MAX_DEPTH)
		return -2;
	for (unsigned i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++) {
		struct participant *p = &m->p[i];
		if (p->active)
			continue;
		memset(p, 0, offsetof(struct participant, jb)); /* all but buffers */
		memset(&p->jb, 0, offsetof(struct jb, slots));
		for (unsigned s = 0; s < MG_MIX_JB_SLOTS; s++)
			p->jb.slots[s].valid = 0;
		p->active = 1;
		p->muted = cfg->muted ? 1 : 0;
		p->on_hold = cfg->on_hold ? 1 : 0;
		p->first_out = 1;
		p->pt = cfg->pt;
		p->te_pt = cfg->te_pt;
		p->law = cfg->law;
		p->out_ssrc = cfg->out_ssrc;
		p->out_seq = cfg->out_seq;
		p->out_ts = cfg->out_ts;
		p->jb.min = (uint8_t)mn;
		p->jb.max = (uint8_t)mx;
		p->jb.target = (uint8_t)mn;
		p->jb.min_ahead = 0xFF;
		p->st.jb_target = mn;
		m->st.participants++;
		return (int)i;
	}
	return -1;
}

int mg_mix_leave(struct mg_mix *m, unsigned id)
{
	struct participant *p = m ? part(m, id) : NULL;
	if (!p)
		return -1;
	p->active = 0;
	m->st.participants--;
	/* drop events queued for it, keeping the order of the others */
	unsigned k = 0;
	for (unsigned i = 0; i < m->ev_count; i++) {
		if (m->ev[i].to == id)
			continue;
		if (k != i)
			m->ev[k] = m->ev[i];
		k++;
	}
	m->ev_count = k;
	return 0;
}

int mg_mix_set_muted(struct mg_mix *m, unsigned id, int muted)
{
	struct participant *p = m ? part(m, id) : NULL;
	if (!p)
		return -1;
	p->muted = muted ? 1 : 0;
	return 0;
}

int mg_mix_set_hold(struct mg_mix *m, unsigned id, int on_hold)
{
	struct participant *p = m ? part(m, id) : NULL;
	if (!p)
		return -1;
	p->on_hold = on_hold ? 1 : 0;
	return 0;
}

int mg_mix_out_state(const struct mg_mix *m, unsigned id, uint32_t *ssrc, uint16_t *next_seq,
		     uint32_t *next_ts)
{
	if (!m || id >= MG_MIX_MAX_PARTICIPANTS || !m->p[id].active)
		return -1;
	const struct participant *p = &m->p[id];
	if (ssrc)
		*ssrc = p->out_ssrc;
	if (next_seq)
		*next_seq = p->out_seq;
	if (next_ts)
		*next_ts = p->out_ts;
	return 0;
}

const struct mg_mix_stats *mg_mix_stats(const struct mg_mix *m)
{
	return &m->st;
}

const struct mg_mix_pstats *mg_mix_pstats(const struct mg_mix *m, unsigned id)
{
	if (!m || id >= MG_MIX_MAX_PARTICIPANTS || !m->p[id].active)
		return NULL;
	return &m->p[id].st;
}

/* ---- RTP helpers ---- */

static inline void put_hdr(uint8_t *d, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
			   uint32_t ssrc)
{
	d[0] = 0x80;
	d[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	d[2] = (uint8_t)(seq >> 8);
	d[3] = (uint8_t)seq;
	d[4] = (uint8_t)(ts >> 24);
	d[5] = (uint8_t)(ts >> 16);
	d[6] = (uint8_t)(ts >> 8);
	d[7] = (uint8_t)ts;
	d[8] = (uint8_t)(ssrc >> 24);
	d[9] = (uint8_t)(ssrc >> 16);
	d[10] = (uint8_t)(ssrc >> 8);
	d[11] = (uint8_t)ssrc;
}

/* ---- jitter buffer ---- */

static void jb_resync(struct jb *jb, const struct mg_rtp_hdr *h)
{
	for (unsigned s = 0; s < MG_MIX_JB_SLOTS; s++)
		jb->slots[s].valid = 0;
	jb->synced = 1;
	jb->ssrc = h->ssrc;
	jb->play_ts = h->timestamp;
	jb->newest_ts = h->timestamp;
	jb->prefill = (uint8_t)(jb->target - 1);
	jb->stretch = 0;
	jb->stray_run = 0;
	jb->conceal_run = 0;
	jb->played_mask = 0;
	jb->min_ahead = 0xFF;
	jb->window = 0;
	jb->late_in_window = 0;
}

static inline struct slot *jb_slot(struct jb *jb, int32_t f)
{
	return &jb->slots[(jb->play_idx + (uint32_t)f) & SLOT_MASK];
}

/* stores the packet f frames ahead of play_ts */
static void jb_store(struct jb *jb, int32_t f, const struct mg_rtp_hdr *h, const uint8_t *payload)
{
	struct slot *s = jb_slot(jb, f);
	s->ts = h->timestamp;
	s->seq = h->seq;
	s->valid = 1;
	memcpy(s->payload, payload, FRAME);
	if ((int32_t)(h->timestamp - jb->newest_ts) > 0)
		jb->newest_ts = h->timestamp;
	jb->last_seq = h->seq;
	jb->idle = 0;
	jb->stray_run = 0;
}

static enum mg_mix_push_status jb_push(struct participant *p, const struct mg_rtp_hdr *h,
				       const uint8_t *payload)
{
	struct jb *jb = &p->jb;
	if (!jb->synced) {
		int restart = p->st.packets != 0; /* resuming after idle */
		p->st.resyncs += (uint64_t)restart;
		jb_resync(jb, h);
		jb_store(jb, 0, h, payload);
		p->st.packets++;
		return restart ? MG_MIX_PUSH_RESYNC : MG_MIX_PUSH_QUEUED;
	}
	int32_t d = (int32_t)(h->timestamp - jb->play_ts);
	int aligned = d % FRAME == 0; /* signed: a multiple of 160 either way */
	int32_t f = d / FRAME;	      /* frames ahead of the next one to play (< 0: behind) */
	if (h->ssrc != jb->ssrc || !aligned || f >= WINDOW_FRAMES || f < -WINDOW_FRAMES) {
		/* a new source, or a timestamp off the playout grid or far away: restart when
		 * it continues the sender's sequence (its own timeline jumped) or repeats */
		if (h->ssrc != jb->ssrc || h->seq == (uint16_t)(jb->last_seq + 1) ||
		    ++jb->stray_run >= STRAY_RESYNC) {
			p->st.resyncs++;
			jb_resync(jb, h);
			jb_store(jb, 0, h, payload);
			p->st.packets++;
			return MG_MIX_PUSH_RESYNC;
		}
		p->st.discarded++;
		return MG_MIX_PUSH_DISCARDED;
	}
	if (f < 0) {
		/* already played (duplicate) or its playout time has passed (late) */
		if (-f <= 64 && (jb->played_mask >> (-f - 1)) & 1) {
			p->st.duplicates++;
			return MG_MIX_PUSH_DUPLICATE;
		}
		p->st.late++;
		jb->late_in_window = 1;
		if (jb->target < jb->max) {
			jb->target++;
			jb->stretch++;
			p->st.jb_target = jb->target;
		}
		return MG_MIX_PUSH_LATE;
	}
	enum mg_mix_push_status ret = MG_MIX_PUSH_QUEUED;
	if (f >= MG_MIX_JB_SLOTS) {
		/* no room: skip the oldest frames so that this one is the last slot */
		uint32_t skip = (uint32_t)(f - (MG_MIX_JB_SLOTS - 1));
		for (uint32_t i = 0; i < skip && i < MG_MIX_JB_SLOTS; i++)
			jb_slot(jb, (int32_t)i)->valid = 0;
		jb->play_ts += skip * FRAME;
		jb->play_idx += skip;
		f -= (int32_t)skip;
		jb->played_mask = skip >= 64 ? 0 : jb->played_mask << skip;
		jb->prefill = 0;
		p->st.overruns++;
		ret = MG_MIX_PUSH_OVERRUN;
	}
	struct slot *s = jb_slot(jb, f);
	if (s->valid && s->ts == h->timestamp) {
		p->st.duplicates++;
		return MG_MIX_PUSH_DUPLICATE;
	}
	jb_store(jb, f, h, payload);
	p->st.packets++;
	return ret;
}

/* Attenuated repeat of the last frame (gain (4-run)/4), then silence. */
static const int16_t *conceal(struct participant *p, int16_t *buf)
{
	struct jb *jb = &p->jb;
	p->st.concealed++;
	if (jb->conceal_run < 255)
		jb->conceal_run++;
	const struct slot *last = &jb->slots[jb->last_slot];
	if (!jb->have_last || jb->conceal_run > CONCEAL_REPEATS || last->ts != jb->last_ts)
		return NULL;
	int32_t g = 4 - jb->conceal_run; /* 3, 2, 1 quarters */
	if (p->law == MG_G711_ALAW)
		for (unsigned i = 0; i < FRAME; i++)
			buf[i] = (int16_t)((mg_g711_alaw_decode(last->payload[i]) * g) / 4);
	else
		for (unsigned i = 0; i < FRAME; i++)
			buf[i] = (int16_t)((mg_g711_ulaw_decode(last->payload[i]) * g) / 4);
	return buf;
}

/* Plays one frame: returns the samples, or NULL for silence. */
static const int16_t *jb_pull(struct participant *p, int16_t *buf)
{
	struct jb *jb = &p->jb;
	if (!jb->synced)
		return NULL;
	if (jb->idle < 0xFFFF)
		jb->idle++;
	if (jb->idle > IDLE_TICKS) {
		/* nothing for a second: stop playing and counting until it resumes */
		jb->synced = 0;
		jb->have_last = 0;
		p->st.jb_depth = 0;
		return NULL;
	}
	int32_t ahead = (int32_t)(jb->newest_ts - jb->play_ts);
	ahead = ahead < 0 ? 0 : ahead / FRAME + 1;
	p->st.jb_depth = (uint64_t)ahead;
	if (jb->prefill) {
		jb->prefill--;
		return NULL;
	}
	if (jb->stretch) {
		jb->stretch--;
		p->st.grown++;
		return conceal(p, buf);
	}

	/* depth adaptation: lower the target after a quiet window, drop a frame when the
	 * buffer stayed deeper than the target for a whole window */
	if (ahead < jb->min_ahead)
		jb->min_ahead = (uint8_t)(ahead > 255 ? 255 : ahead);
	if (++jb->window >= ADAPT_TICKS) {
		if (!jb->late_in_window && jb->target > jb->min) {
			jb->target--;
			p->st.jb_target = jb->target;
		}
		if (jb->min_ahead != 0xFF && jb->min_ahead > jb->target) {
			jb_slot(jb, 0)->valid = 0;
			jb->play_ts += FRAME;
			jb->play_idx++;
			jb->played_mask <<= 1;
			p->st.shrunk++;
		}
		jb->window = 0;
		jb->late_in_window = 0;
		jb->min_ahead = 0xFF;
	}

	struct slot *s = jb_slot(jb, 0);
	const int16_t *out;
	int played = 0;
	if (s->valid && s->ts == jb->play_ts) {
		s->valid = 0;
		mg_g711_decode_burst(p->law, buf, s->payload, FRAME);
		jb->have_last = 1;
		jb->last_slot = (uint8_t)(s - jb->slots);
		jb->last_ts = s->ts;
		jb->conceal_run = 0;
		p->st.played++;
		played = 1;
		out = buf;
	} else {
		p->st.lost++;
		out = conceal(p, buf);
	}
	jb->play_ts += FRAME;
	jb->play_idx++;
	jb->played_mask = (jb->played_mask << 1) | (uint64_t)played;
	return out;
}

/* ---- push ---- */

static enum mg_mix_push_status push_event(struct mg_mix *m, unsigned id, struct participant *p,
					  const struct mg_rtp_hdr *h, const uint8_t *payload)
{
	p->st.events_in++;
	if (p->on_hold)
		return MG_MIX_PUSH_IGNORED; /* not heard while on hold */
	if (p->ev_have && mg_seq_diff(h->seq, p->ev_last_seq) <= 0) {
		p->st.duplicates++;
		return MG_MIX_PUSH_DUPLICATE;
	}
	if (!p->ev_have || h->timestamp != p->ev_src_ts) {
		p->ev_src_ts = h->timestamp;
		p->ev_tick = m->st.ticks;
	}
	p->ev_have = 1;
	p->ev_last_seq = h->seq;
	p->jb.last_seq = h->seq; /* events share the sender's sequence space */
	uint32_t back = (uint32_t)(m->st.ticks - p->ev_tick) * FRAME;
	for (unsigned r = 0; r < MG_MIX_MAX_PARTICIPANTS; r++) {
		struct participant *q = &m->p[r];
		if (r == id || !q->active || q->on_hold || q->te_pt < 0)
			continue;
		if (m->ev_count >= MG_MIX_EVENT_QUEUE) {
			m->st.event_queue_drops++;
			continue;
		}
		struct mg_mix_pkt *e = &m->ev[m->ev_count++];
		e->to = (uint8_t)r;
		e->is_event = 1;
		e->len = (uint16_t)(MG_MIX_RTP_HDR + h->payload_len);
		put_hdr(e->data, h->marker, (uint8_t)q->te_pt, q->out_seq++, q->out_ts - back,
			q->out_ssrc);
		memcpy(e->data + MG_MIX_RTP_HDR, payload, h->payload_len);
		q->st.events_out++;
	}
	return MG_MIX_PUSH_EVENT;
}

enum mg_mix_push_status mg_mix_push(struct mg_mix *m, unsigned id, const uint8_t *pkt, size_t len)
{
	struct participant *p = m ? part(m, id) : NULL;
	if (!p)
		return MG_MIX_PUSH_BAD_ID;
	struct mg_rtp_hdr h;
	if (!pkt || mg_rtp_parse(pkt, len, 1, &h) != MG_RTP_OK) {
		p->st.malformed++;
		return MG_MIX_PUSH_MALFORMED;
	}
	const uint8_t *payload = pkt + h.header_len;
	if (p->te_pt >= 0 && h.payload_type == (uint8_t)p->te_pt) {
		if (h.payload_len < 4 || h.payload_len > MG_MIX_FRAME_SAMPLES) {
			p->st.malformed++;
			return MG_MIX_PUSH_MALFORMED;
		}
		return push_event(m, id, p, &h, payload);
	}
	if (h.payload_type != p->pt) {
		p->st.ignored++;
		return MG_MIX_PUSH_IGNORED;
	}
	if (h.payload_len != FRAME) {
		p->st.malformed++;
		return MG_MIX_PUSH_MALFORMED;
	}
	return jb_push(p, &h, payload);
}

/* ---- tick ---- */

static inline int16_t sat16(int32_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* dst = encode(sat(sum - self)) (self may be NULL) */
static void mix_encode(uint8_t *restrict dst, const int32_t *restrict sum,
		       const int16_t *restrict self, enum mg_g711_law law)
{
	if (law == MG_G711_ALAW) {
		if (self)
			for (unsigned i = 0; i < FRAME; i++)
				dst[i] = mg_g711_alaw_encode_fast(sat16(sum[i] - self[i]));
		else
			for (unsigned i = 0; i < FRAME; i++)
				dst[i] = mg_g711_alaw_encode_fast(sat16(sum[i]));
	} else {
		if (self)
			for (unsigned i = 0; i < FRAME; i++)
				dst[i] = mg_g711_ulaw_encode_fast(sat16(sum[i] - self[i]));
		else
			for (unsigned i = 0; i < FRAME; i++)
				dst[i] = mg_g711_ulaw_encode_fast(sat16(sum[i]));
	}
}

unsigned mg_mix_tick(struct mg_mix *m, int late, const struct mg_mix_pkt **out)
{
	const int16_t *src[MG_MIX_MAX_PARTICIPANTS];
	unsigned contributors = 0;
	m->st.ticks++;
	if (late)
		m->st.tick_overruns++;

	for (unsigned i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++) {
		struct participant *p = &m->p[i];
		src[i] = NULL;
		if (!p->active)
			continue;
		const int16_t *f = jb_pull(p, scratch.pcm[i]);
		if (f && !p->muted && !p->on_hold) {
			src[i] = f;
			if (contributors == 0)
				for (unsigned k = 0; k < FRAME; k++)
					scratch.sum[k] = f[k];
			else
				for (unsigned k = 0; k < FRAME; k++)
					scratch.sum[k] += f[k];
			contributors++;
		}
	}

	unsigned n = 0;
	for (unsigned i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++) {
		struct participant *p = &m->p[i];
		if (!p->active)
			continue;
		struct mg_mix_pkt *o = &m->out[n++];
		o->to = (uint8_t)i;
		o->is_event = 0;
		o->len = MG_MIX_PKT_MAX;
		put_hdr(o->data, p->first_out, p->pt, p->out_seq, p->out_ts, p->out_ssrc);
		uint8_t *pl = o->data + MG_MIX_RTP_HDR;
		/* nobody else to hear, or on hold: digital silence */
		if (p->on_hold || contributors == 0 || (contributors == 1 && src[i]))
			memset(pl, mg_g711_silence(p->law), FRAME);
		else
			mix_encode(pl, scratch.sum, src[i], p->law);
		p->first_out = 0;
		p->out_seq++;
		p->out_ts += FRAME;
		p->st.frames_out++;
	}
	m->out_count = n;
	if (out)
		*out = m->out;
	return n;
}

static inline void prefetch_range(const void *p, size_t len, int write)
{
	const char *c = (const char *)((uintptr_t)p & ~(uintptr_t)63);
	for (; c < (const char *)p + len; c += 64) {
		if (write)
			__builtin_prefetch(c, 1, 3);
		else
			__builtin_prefetch(c, 0, 3);
	}
}

void mg_mix_prefetch(const struct mg_mix *m)
{
	prefetch_range(m, offsetof(struct mg_mix, p), 1);
	for (unsigned i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++) {
		const struct participant *p = &m->p[i];
		if (!p->active)
			continue; /* (the flag's line is fetched by this very test) */
		prefetch_range(p, offsetof(struct participant, jb) + offsetof(struct jb, slots), 1);
		prefetch_range(&p->jb.slots[p->jb.play_idx & SLOT_MASK], sizeof(struct slot), 0);
		prefetch_range(&m->out[i], sizeof(m->out[i]), 1);
	}
}

unsigned mg_mix_events(const struct mg_mix *m, const struct mg_mix_pkt **ev)
{
	if (ev)
		*ev = m->ev;
	return m->ev_count;
}

void mg_mix_events_clear(struct mg_mix *m)
{
	m->ev_count = 0;
}

const char *mg_mix_push_status_name(enum mg_mix_push_status s)
{
	static const char *const names[] = {
	    "queued", "event",	   "late",    "duplicate", "overrun",
	    "resync", "discarded", "ignored", "malformed", "bad_id",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}
