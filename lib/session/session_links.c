/* What ties calls together beyond their own two legs, in the snapshot (docs/state.md,
 * "Conferences, pairings, recording"): conference membership, relay pairings across calls
 * made by connect/transfers, each side's G.711 / telephone-event payload types, the worker
 * placement, and the recording policy state of the call's legs. Control lcore only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bencode.h"
#include "session.h"

struct side_link {
	char conf[MG_CONF_NAME_MAX]; /* "" = in no conference */
	uint8_t conf_worker;
	bool muted, on_hold;
	bool repaired; /* relays with peer_call/peer_tag instead of its own call's other side */
	char peer_call[MG_CALL_ID_MAX];
	char peer_tag[MG_TAG_MAX];
};

struct mg_call_links {
	struct side_link side[MG_CALL_MAX_MEDIA][2];
};

/* The side of a call a leg is (its owner is the call). */
static bool leg_party(struct mg_leg *leg, const struct mg_call **call, int *side)
{
	const struct mg_call *c = leg ? leg->owner : NULL;
	if (!c)
		return false;
	for (unsigned i = 0; i < c->n_media; i++)
		for (int s = 0; s < 2; s++)
			if (c->media[i].leg[s] == leg) {
				*call = c;
				*side = s;
				return true;
			}
	return false;
}

void mg_call_encode_links(const struct mg_call *c, struct mg_bencode_out *o)
{
	for (unsigned i = 0; i < c->n_media; i++)
		if (c->media[i].leg[0]) {
			mg_ben_kv_int(o, "place", c->media[i].leg[0]->worker + 1);
			break;
		}
	/* per media section, per side: [g711 pt + 1, te pt + 1, conference or "", worker,
	 * muted, on hold, relay: [] (own call), ["" ""] (none), [call-id, tag]] */
	mg_ben_str(o, "links");
	mg_ben_list_begin(o);
	for (unsigned i = 0; i < c->n_media; i++) {
		const struct mg_media *m = &c->media[i];
		mg_ben_list_begin(o);
		for (int side = 0; side < 2; side++) {
			struct mg_leg *leg = m->leg[side];
			mg_ben_list_begin(o);
			mg_ben_int(o, m->g711_pt[side]);
			mg_ben_int(o, m->te_pt[side]);
			bool muted = false, hold = false;
			if (leg && leg->conf_ctl) {
				mg_dp_conf_leg_state(leg, &muted, &hold);
				mg_ben_str(o, mg_dp_conf_name(leg->conf_ctl));
				mg_ben_int(o, mg_dp_conf_worker(leg->conf_ctl));
			} else {
				mg_ben_str(o, "");
				mg_ben_int(o, 0);
			}
			mg_ben_int(o, muted);
			mg_ben_int(o, hold);
			mg_ben_list_begin(o);
			struct mg_leg *partner = leg ? mg_dp_leg_relay_partner(leg) : NULL;
			const struct mg_call *pc = NULL;
			int ps = 0;
			if (leg && partner != m->leg[1 - side]) {
				if (partner && leg_party(partner, &pc, &ps)) {
					mg_ben_str(o, pc->call_id);
					mg_ben_str(o, pc->tag[ps]);
				} else {
					mg_ben_str(o, "");
					mg_ben_str(o, "");
				}
			}
			mg_ben_end(o);
			mg_ben_end(o);
		}
		mg_ben_end(o);
	}
	mg_ben_end(o);
	if (c->rec.set) {
		/* [mode, state, primary leg id, last leg id, side 0: [id, role, flags], side 1] */
		mg_ben_str(o, "rec");
		mg_ben_list_begin(o);
		mg_ben_int(o, c->rec.mode);
		mg_ben_int(o, c->rec.state);
		mg_ben_int(o, c->rec.primary);
		mg_ben_int(o, c->rec.next_leg);
		for (int side = 0; side < 2; side++) {
			mg_ben_list_begin(o);
			mg_ben_int(o, c->rec.leg_id[side]);
			mg_ben_int(o, c->rec.role[side]);
			mg_ben_int(o, c->rec.flags[side]);
			mg_ben_end(o);
		}
		mg_ben_end(o);
	}
}

void mg_call_decode_place(struct mg_sessions *s, const struct mg_bencode_doc *d,
			  const struct mg_bencode_node *root, struct mg_call *c)
{
	const struct mg_bencode_node *n = mg_bencode_dict_get(d, root, "place");
	unsigned workers = mg_dp_worker_count(mg_sessions_dataplane(s));
	/* another profile with fewer workers (takeover): the least loaded instead */
	if (n && n->type == MG_BEN_INT && n->num > 0 && n->num <= (int64_t)workers)
		c->place_worker = (int16_t)n->num;
}

/* The i-th element of list l (NULL when shorter). */
static const struct mg_bencode_node *nth(const struct mg_bencode_doc *d,
					 const struct mg_bencode_node *l, int i)
{
	if (!l || l->type != MG_BEN_LIST)
		return NULL;
	const struct mg_bencode_node *n = mg_bencode_child(d, l);
	while (n && i-- > 0)
		n = mg_bencode_next(d, n);
	return n;
}

static int64_t int_at(const struct mg_bencode_doc *d, const struct mg_bencode_node *l, int i,
		      int64_t lo, int64_t hi)
{
	const struct mg_bencode_node *n = nth(d, l, i);
	if (!n || n->type != MG_BEN_INT || n->num < lo || n->num > hi)
		return 0;
	return n->num;
}

int mg_call_decode_links(const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
			 struct mg_call *c, char *err, size_t errlen)
{
	const struct mg_bencode_node *links = mg_bencode_dict_get(d, root, "links");
	unsigned i = 0;
	for (const struct mg_bencode_node *md = mg_bencode_child(d, links);
	     md && i < c->n_media && links->type == MG_BEN_LIST; md = mg_bencode_next(d, md), i++)
		for (int side = 0; side < 2; side++) {
			const struct mg_bencode_node *sd = nth(d, md, side);
			struct mg_media *m = &c->media[i];
			m->g711_pt[side] = (int16_t)int_at(d, sd, 0, 0, 128);
			m->te_pt[side] = (int16_t)int_at(d, sd, 1, 0, 128);
			char conf[MG_CONF_NAME_MAX] = "";
			const struct mg_bencode_node *cn = nth(d, sd, 2);
			if (cn && cn->type == MG_BEN_STR)
				mg_bencode_str_copy(cn, conf, sizeof(conf));
			const struct mg_bencode_node *peer = nth(d, sd, 6);
			const struct mg_bencode_node *pcall = nth(d, peer, 0),
						     *ptag = nth(d, peer, 1);
			bool repaired =
			    pcall && ptag && pcall->type == MG_BEN_STR && ptag->type == MG_BEN_STR;
			if (!conf[0] && !repaired)
				continue;
			if (!c->links && !(c->links = calloc(1, sizeof(*c->links)))) {
				snprintf(err, errlen, "call '%s': out of memory", c->call_id);
				return -1;
			}
			struct side_link *sl = &c->links->side[i][side];
			snprintf(sl->conf, sizeof(sl->conf), "%s", conf);
			sl->conf_worker = (uint8_t)int_at(d, sd, 3, 0, 255);
			sl->muted = int_at(d, sd, 4, 0, 1);
			sl->on_hold = int_at(d, sd, 5, 0, 1);
			sl->repaired = repaired;
			if (repaired) {
				mg_bencode_str_copy(pcall, sl->peer_call, sizeof(sl->peer_call));
				mg_bencode_str_copy(ptag, sl->peer_tag, sizeof(sl->peer_tag));
			}
		}
	const struct mg_bencode_node *rec = mg_bencode_dict_get(d, root, "rec");
	if (rec && rec->type == MG_BEN_LIST) {
		c->rec.set = true;
		c->rec.mode = (uint8_t)int_at(d, rec, 0, 0, 3);
		c->rec.state = (uint8_t)int_at(d, rec, 1, 0, 2);
		c->rec.primary = (uint32_t)int_at(d, rec, 2, 0, UINT32_MAX);
		c->rec.next_leg = (uint32_t)int_at(d, rec, 3, 0, UINT32_MAX);
		for (int side = 0; side < 2; side++) {
			const struct mg_bencode_node *sd = nth(d, rec, 4 + side);
			c->rec.leg_id[side] = (uint32_t)int_at(d, sd, 0, 0, UINT32_MAX);
			c->rec.role[side] = (uint8_t)int_at(d, sd, 1, 0, 3);
			c->rec.flags[side] = (uint8_t)int_at(d, sd, 2, 0, 255);
		}
	}
	return 0;
}

void mg_call_links_free(struct mg_call *c)
{
	free(c->links);
	c->links = NULL;
}

static uint32_t random32(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)rand();
	return v;
}

static void failed(struct mg_links_report *rep, const char *fmt, const char *a, const char *b)
{
	if (!rep->failed++)
		snprintf(rep->error, sizeof(rep->error), fmt, a, b);
}

static struct mg_leg *leg_of(struct mg_sessions *s, const char *call_id, const char *tag)
{
	struct mg_call *c = mg_call_find(s, call_id);
	int side = c ? mg_call_side_of(c, tag) : -1;
	if (side < 0)
		return NULL;
	for (unsigned i = 0; i < c->n_media; i++)
		if (!strcmp(c->media[i].type, "audio") && c->media[i].leg[side] &&
		    c->media[i].leg[side]->published)
			return c->media[i].leg[side];
	return NULL;
}

void mg_sessions_restore_links(struct mg_sessions *s, struct mg_links_report *rep)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	memset(rep, 0, sizeof(*rep));
	/* relay pairings first: a party that leaves its conference later relays with the
	 * partner it had */
	for (struct mg_call *c = mg_call_first(s); c; c = mg_call_next(c))
		for (unsigned i = 0; c->links && i < c->n_media; i++)
			for (int side = 0; side < 2; side++) {
				struct side_link *sl = &c->links->side[i][side];
				struct mg_leg *leg = c->media[i].leg[side];
				if (!sl->repaired || !sl->peer_call[0] || !leg)
					continue;
				struct mg_leg *peer = leg_of(s, sl->peer_call, sl->peer_tag);
				if (peer && mg_dp_leg_relay_partner(leg) == peer)
					continue; /* its partner's record did it */
				if (!peer || peer->worker != leg->worker ||
				    mg_dp_relay_connect(dp, leg, peer) < 0) {
					failed(rep, "relay of call '%s' with '%s' not restored",
					       c->call_id, sl->peer_call);
					continue;
				}
				rep->pairings++;
			}
	/* conferences, in the calls' order (join order is not kept: the mixer does not
	 * depend on it) */
	for (struct mg_call *c = mg_call_first(s); c; c = mg_call_next(c))
		for (unsigned i = 0; c->links && i < c->n_media; i++)
			for (int side = 0; side < 2; side++) {
				struct side_link *sl = &c->links->side[i][side];
				struct mg_leg *leg = c->media[i].leg[side];
				if (!sl->conf[0] || !leg)
					continue;
				const struct mg_media *m = &c->media[i];
				int pt = m->g711_pt[side] - 1;
				struct mg_conf *conf = mg_dp_conf_find(dp, sl->conf);
				if (!conf) {
					mg_sessions_lock(s);
					conf = mg_dp_conf_create(dp, leg->worker, sl->conf);
					mg_sessions_unlock(s);
					if (conf)
						rep->conferences++;
				}
				struct mg_mix_participant_cfg cfg = {
				    .law = pt == 8 ? MG_G711_ALAW : MG_G711_ULAW,
				    .pt = (uint8_t)(pt < 0 ? 0 : pt),
				    .te_pt = (int16_t)(m->te_pt[side] - 1),
				    .out_ssrc = random32(),
				    .out_seq = (uint16_t)random32(),
				    .out_ts = random32(),
				    .muted = sl->muted,
				    .on_hold = sl->on_hold};
				if (!conf || pt < 0 || !leg->published ||
				    mg_dp_conf_worker(conf) != leg->worker ||
				    mg_dp_conf_join(dp, conf, leg, &cfg) < 0) {
					failed(rep, "party '%s' not back in conference '%s'",
					       c->tag[side], sl->conf);
					continue;
				}
				rep->parties++;
			}
	for (struct mg_call *c = mg_call_first(s); c; c = mg_call_next(c))
		mg_call_links_free(c);
}
