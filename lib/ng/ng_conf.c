/* Conferences, consult and transfer through ng (issue 8; docs/ng-protocol.md,
 * "Conferences, consult and transfer").
 *
 * A party is one side of a call (call-id + its tag); its leg is the leg of the call's first
 * audio section on that side. A conference is named (the `conference` key, else the
 * contact-id) and mixes the parties' legs on the worker that owns them. When a conference
 * is left with two parties, they relay to each other again and the conference goes. */
#include "ng_conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define MAX_PARTIES MG_MIX_MAX_PARTICIPANTS

struct party {
	struct mg_call *call;
	int side;
	struct mg_leg *leg;
	unsigned media;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- SDP facts remembered at offer/answer --- */

/* PCMU (static 0) or PCMA (static 8), with or without an a=rtpmap confirming it. */
static int g711_pt_of(const struct mg_sdp *sdp, unsigned i, unsigned pt)
{
	if (pt != 0 && pt != 8)
		return -1;
	struct mg_sdp_rtpmap r;
	if (!mg_sdp_media_rtpmap(sdp, i, pt, &r))
		return (int)pt;
	bool ok = r.clock_rate == 8000 && r.encoding.len == 4 &&
		  !strncasecmp(r.encoding.ptr, pt == 0 ? "PCMU" : "PCMA", 4);
	return ok ? (int)pt : -1;
}

void mg_ng_conf_note_sdp(const struct mg_sdp *sdp, unsigned i, struct mg_media *m, int src,
			 bool answer)
{
	struct mg_sdp_media_info mi;
	if (!mg_sdp_media_info(sdp, i, &mi))
		return;
	int g711 = -1, te = -1;
	size_t cur = 0;
	struct mg_sdp_str tok;
	while (mg_sdp_token_next(mi.formats, &cur, &tok)) {
		char buf[8];
		if (tok.len == 0 || tok.len >= sizeof(buf))
			continue;
		memcpy(buf, tok.ptr, tok.len);
		buf[tok.len] = '\0';
		char *end;
		long pt = strtol(buf, &end, 10);
		if (*end || pt < 0 || pt > 127)
			continue;
		struct mg_sdp_rtpmap r;
		if (g711 < 0)
			g711 = g711_pt_of(sdp, i, (unsigned)pt);
		if (te < 0 && mg_sdp_media_rtpmap(sdp, i, (unsigned)pt, &r) &&
		    r.clock_rate == 8000 && r.encoding.len == 15 &&
		    !strncasecmp(r.encoding.ptr, "telephone-event", 15))
			te = (int)pt;
	}
	m->g711_pt[src] = (int16_t)(g711 + 1);
	m->te_pt[src] = (int16_t)(te + 1);
	/* the answer's first codec is what both sides send */
	if (answer)
		m->g711_pt[1 - src] = m->g711_pt[src];
}

void mg_ng_conf_place(struct mg_sessions *s, struct mg_call *c)
{
	if (!c->contact_id[0] || c->place_worker)
		return;
	for (struct mg_call *x = mg_call_first(s); x; x = mg_call_next(x)) {
		if (x == c || strcmp(x->contact_id, c->contact_id))
			continue;
		for (unsigned i = 0; i < x->n_media; i++)
			if (x->media[i].leg[0]) {
				c->place_worker = (int16_t)(x->media[i].leg[0]->worker + 1);
				return;
			}
	}
}

/* --- parties --- */

static int audio_media(const struct mg_call *c)
{
	for (unsigned i = 0; i < c->n_media; i++)
		if (!strcmp(c->media[i].type, "audio") && !c->media[i].rejected &&
		    c->media[i].leg[0] && c->media[i].leg[1])
			return (int)i;
	return -1;
}

static bool party_of(struct mg_call *c, int side, struct party *p)
{
	int i = audio_media(c);
	if (i < 0 || side < 0 || !c->tag[side][0] || !c->media[i].leg[side]->published)
		return false;
	*p = (struct party){
	    .call = c, .side = side, .leg = c->media[i].leg[side], .media = (unsigned)i};
	return true;
}

/* The party whose leg this is (legs belong to calls: leg->owner). */
static bool party_of_leg(struct mg_leg *leg, struct party *p)
{
	struct mg_call *c = leg->owner;
	if (!c)
		return false;
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++)
			if (c->media[i].leg[side] == leg) {
				*p =
				    (struct party){.call = c, .side = side, .leg = leg, .media = i};
				return true;
			}
	return false;
}

static const char *party_tag(const struct party *p)
{
	return p->call->tag[p->side];
}

/* The parties a request names: call-id + from-tag (one party), or call-id alone (both). */
static int named_parties(struct mg_sessions *s, const struct mg_bencode_doc *d,
			 const struct mg_bencode_node *root, struct party *out, char *err,
			 size_t errlen)
{
	char call_id[MG_CALL_ID_MAX], tag[MG_TAG_MAX] = "";
	if (!mg_bencode_str_copy(mg_bencode_dict_get(d, root, "call-id"), call_id, sizeof(call_id)))
		return fail(err, errlen, "call-id is required");
	struct mg_call *c = mg_call_find(s, call_id);
	if (!c)
		return fail(err, errlen, "Unknown call-id");
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "from-tag"), tag, sizeof(tag));
	if (audio_media(c) < 0)
		return fail(err, errlen, "call '%s' has no audio stream with both legs", call_id);
	if (tag[0]) {
		int side = mg_call_side_of(c, tag);
		if (side < 0)
			return fail(err, errlen, "from-tag '%s' is not part of call '%s'", tag,
				    call_id);
		if (!party_of(c, side, &out[0]))
			return fail(err, errlen, "party '%s' has no media yet", tag);
		return 1;
	}
	int n = 0;
	for (int side = 0; side < 2; side++)
		n += party_of(c, side, &out[n]);
	if (!n)
		return fail(err, errlen, "call '%s' has no party with media yet", call_id);
	return n;
}

static bool flag_set(const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
		     const char *name)
{
	for (const struct mg_bencode_node *n =
		 mg_bencode_child(d, mg_bencode_dict_get(d, root, "flags"));
	     n; n = mg_bencode_next(d, n))
		if (n->type == MG_BEN_STR && n->str_len == strlen(name) &&
		    !strncasecmp(n->str, name, n->str_len))
			return true;
	const struct mg_bencode_node *v = mg_bencode_dict_get(d, root, name);
	return v && ((v->type == MG_BEN_INT && v->num) ||
		     (v->type == MG_BEN_STR &&
		      (mg_bencode_str_eq(v, "yes") || mg_bencode_str_eq(v, "true") ||
		       mg_bencode_str_eq(v, "1"))));
}

static uint32_t random32(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)rand();
	return v;
}

static int participant_cfg(const struct party *p, bool muted, bool on_hold,
			   struct mg_mix_participant_cfg *cfg, char *err, size_t errlen)
{
	const struct mg_media *m = &p->call->media[p->media];
	int pt = m->g711_pt[p->side] - 1;
	if (pt < 0)
		return fail(err, errlen,
			    "party '%s' of call '%s' did not negotiate G.711 (PCMU/PCMA at 8 kHz): "
			    "conferences mix G.711 only",
			    party_tag(p), p->call->call_id);
	memset(cfg, 0, sizeof(*cfg));
	cfg->law = pt == 8 ? MG_G711_ALAW : MG_G711_ULAW;
	cfg->pt = (uint8_t)pt;
	cfg->te_pt = (int16_t)(m->te_pt[p->side] - 1);
	cfg->out_ssrc = random32();
	cfg->out_seq = (uint16_t)random32();
	cfg->out_ts = random32();
	cfg->muted = muted;
	cfg->on_hold = on_hold;
	return 0;
}

/* --- conferences --- */

static bool in_list(const struct party *list, int n, const struct mg_leg *leg)
{
	for (int i = 0; i < n; i++)
		if (list[i].leg == leg)
			return true;
	return false;
}

/* Two parties left: they relay to each other; fewer: nothing to mix. */
static void dissolve(struct mg_sessions *s, struct mg_conf *conf)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	struct mg_leg *legs[MAX_PARTIES];
	unsigned n = mg_dp_conf_legs(conf, legs, MAX_PARTIES);
	for (unsigned i = 0; i < n; i++)
		mg_dp_conf_leave(dp, legs[i]);
	if (n == 2)
		mg_dp_relay_connect(dp, legs[0], legs[1]);
	mg_sessions_lock(s);
	mg_dp_conf_release(dp, conf);
	mg_sessions_unlock(s);
}

void mg_ng_conf_tidy(struct mg_sessions *s)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	struct mg_conf *conf = mg_dp_conf_first(dp);
	while (conf) {
		struct mg_conf *next = mg_dp_conf_next(conf);
		if (mg_dp_conf_legs(conf, NULL, 0) <= 2)
			dissolve(s, conf);
		conf = next;
	}
}

static void answer_conf(struct mg_bencode_out *out, struct mg_conf *conf, const char *mode)
{
	mg_ben_dict_begin(out);
	mg_ben_kv_str(out, "result", "ok");
	if (conf) {
		mg_ben_kv_str(out, "conference", mg_dp_conf_name(conf));
		mg_ben_kv_int(out, "participants", mg_dp_conf_legs(conf, NULL, 0));
		mg_ben_kv_int(out, "worker", mg_dp_conf_worker(conf));
	}
	mg_ben_kv_str(out, "mode", mode);
	mg_ben_end(out);
}

/* The contact's call: the oldest call carrying the contact-id `name`. */
static struct mg_call *contact_call(struct mg_sessions *s, const char *name)
{
	for (struct mg_call *x = mg_call_first(s); x; x = mg_call_next(x))
		if (!strcmp(x->contact_id, name) && audio_media(x) >= 0)
			return x;
	return NULL;
}

/* Who talks in the contact now: its call's first party and whoever that party relays with
 * (after a transfer, a party of another call); both parties of the call otherwise. */
static int contact_parties(struct mg_call *cc, struct party *out)
{
	if (!cc)
		return 0;
	for (int side = 0; side < 2; side++) {
		if (!party_of(cc, side, &out[0]))
			continue;
		struct mg_leg *partner = mg_dp_leg_relay_partner(out[0].leg);
		if (partner && party_of_leg(partner, &out[1]))
			return 2;
	}
	int n = 0;
	for (int side = 0; side < 2; side++)
		n += party_of(cc, side, &out[n]);
	return n;
}

static bool role_is(const struct party *p, const char *role)
{
	return role[0] && !strcmp(p->call->role[p->side], role);
}

static int cmd_join(struct mg_sessions *s, const struct mg_bencode_doc *d,
		    const struct mg_bencode_node *root, struct mg_bencode_out *out, char *err,
		    size_t errlen)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	struct party join[2];
	int n_join = named_parties(s, d, root, join, err, errlen);
	if (n_join < 0)
		return -1;
	char name[MG_CONF_NAME_MAX] = "", hold_role[16] = "", replaces[MG_TAG_MAX] = "";
	if (!mg_bencode_str_copy(mg_bencode_dict_get(d, root, "conference"), name, sizeof(name)) &&
	    !mg_bencode_str_copy(mg_bencode_dict_get(d, root, "contact-id"), name, sizeof(name)))
		snprintf(name, sizeof(name), "%s", join[0].call->contact_id);
	if (!name[0])
		return fail(err, errlen,
			    "no conference named: give conference or contact-id (or offer the "
			    "call with a contact-id)");
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "hold-role"), hold_role,
			    sizeof(hold_role));
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "replaces"), replaces, sizeof(replaces));
	bool muted = flag_set(d, root, "muted"), on_hold = flag_set(d, root, "on-hold");

	/* Everyone who will be in it: the conference's members, or, for a new conference,
	 * the parties of the contact's call; then the joiners. */
	struct party all[MAX_PARTIES + 2];
	int n_all = 0;
	struct mg_conf *conf = mg_dp_conf_find(dp, name);
	if (conf) {
		struct mg_leg *legs[MAX_PARTIES];
		unsigned n = mg_dp_conf_legs(conf, legs, MAX_PARTIES);
		for (unsigned i = 0; i < n; i++)
			if (party_of_leg(legs[i], &all[n_all]))
				n_all++;
	} else {
		struct mg_call *cc = contact_call(s, name);
		if (cc == join[0].call)
			cc = NULL; /* the contact's own call: its parties are the joiners */
		n_all = contact_parties(cc, all);
		for (int i = 0; i < n_all; i++)
			if (in_list(join, n_join, all[i].leg))
				all[i--] = all[--n_all];
	}
	int first_new = n_all;
	for (int i = 0; i < n_join; i++)
		if (!in_list(all, first_new, join[i].leg))
			all[n_all++] = join[i];
	/* the party a cold/warm step replaces leaves in the same request */
	struct mg_leg *leaving = NULL;
	if (replaces[0]) {
		for (int i = 0; i < n_all && !leaving; i++)
			if (!strcmp(party_tag(&all[i]), replaces))
				leaving = all[i].leg;
		if (!leaving)
			return fail(err, errlen, "replaces: no party '%s' in conference '%s'",
				    replaces, name);
	}
	if (n_all - (leaving ? 1 : 0) > MAX_PARTIES)
		return fail(err, errlen, "conference '%s' would have %d parties (at most %d)", name,
			    n_all - (leaving ? 1 : 0), MAX_PARTIES);
	if (n_all == 0)
		return fail(err, errlen, "nobody to conference");
	unsigned worker = conf ? mg_dp_conf_worker(conf) : all[0].leg->worker;
	struct mg_mix_participant_cfg cfgs[MAX_PARTIES + 2];
	for (int i = 0; i < n_all; i++) {
		const struct party *p = &all[i];
		if (p->leg->worker != worker)
			return fail(err, errlen,
				    "party '%s' of call '%s' is on worker %u, the conference on "
				    "worker %u (offer the call with the contact's contact-id)",
				    party_tag(p), p->call->call_id, p->leg->worker, worker);
		if (p->leg->conf_ctl && p->leg->conf_ctl != conf)
			return fail(err, errlen, "party '%s' of call '%s' is in conference '%s'",
				    party_tag(p), p->call->call_id,
				    mg_dp_conf_name(p->leg->conf_ctl));
		if (i >= (conf ? first_new : 0)) {
			bool joiner = i >= first_new;
			if (participant_cfg(p, joiner && muted,
					    (joiner && on_hold) || role_is(p, hold_role), &cfgs[i],
					    err, errlen) < 0)
				return -1;
		}
	}
	if (!conf) {
		mg_sessions_lock(s);
		conf = mg_dp_conf_create(dp, worker, name);
		mg_sessions_unlock(s);
		if (!conf)
			return fail(err, errlen, "cannot create conference '%s' (out of memory)",
				    name);
		first_new = 0;
	}
	for (int i = 0; i < n_all; i++) {
		if (i >= first_new) {
			if (all[i].leg == leaving)
				continue;
			if (mg_dp_conf_join(dp, conf, all[i].leg, &cfgs[i]) < 0)
				return fail(err, errlen, "cannot queue the join of party '%s'",
					    party_tag(&all[i]));
		} else if (role_is(&all[i], hold_role)) {
			bool m, h;
			mg_dp_conf_leg_state(all[i].leg, &m, &h);
			mg_dp_conf_set_state(dp, all[i].leg, m, true);
		}
	}
	if (leaving && leaving->conf_ctl)
		mg_dp_conf_leave(dp, leaving);
	unsigned left = mg_dp_conf_legs(conf, NULL, 0);
	if (left <= 2) {
		dissolve(s, conf);
		answer_conf(out, NULL, "relay");
		return 0;
	}
	answer_conf(out, conf, "conference");
	return 0;
}

static int cmd_leave(struct mg_sessions *s, const struct mg_bencode_doc *d,
		     const struct mg_bencode_node *root, struct mg_bencode_out *out, char *err,
		     size_t errlen)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	struct party p[2];
	int n = named_parties(s, d, root, p, err, errlen);
	if (n < 0)
		return -1;
	struct mg_conf *conf = NULL;
	for (int i = 0; i < n; i++)
		if (p[i].leg->conf_ctl)
			conf = p[i].leg->conf_ctl;
	if (!conf)
		return fail(err, errlen, "not in a conference");
	for (int i = 0; i < n; i++)
		if (p[i].leg->conf_ctl)
			mg_dp_conf_leave(dp, p[i].leg);
	if (mg_dp_conf_legs(conf, NULL, 0) <= 2) {
		dissolve(s, conf);
		answer_conf(out, NULL, "relay");
		return 0;
	}
	answer_conf(out, conf, "conference");
	return 0;
}

static int cmd_state(struct mg_sessions *s, const struct mg_bencode_doc *d,
		     const struct mg_bencode_node *root, enum mg_ng_cmd cmd,
		     struct mg_bencode_out *out, char *err, size_t errlen)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	struct party p[2];
	int n = named_parties(s, d, root, p, err, errlen);
	if (n < 0)
		return -1;
	struct mg_conf *conf = NULL;
	for (int i = 0; i < n; i++) {
		if (!p[i].leg->conf_ctl)
			continue;
		conf = p[i].leg->conf_ctl;
		bool muted, hold;
		mg_dp_conf_leg_state(p[i].leg, &muted, &hold);
		if (cmd == MG_NG_CONFERENCE_HOLD || cmd == MG_NG_CONFERENCE_UNHOLD)
			hold = cmd == MG_NG_CONFERENCE_HOLD;
		else
			muted = cmd == MG_NG_CONFERENCE_MUTE;
		if (mg_dp_conf_set_state(dp, p[i].leg, muted, hold) < 0)
			return fail(err, errlen, "cannot queue the state change");
	}
	if (!conf)
		return fail(err, errlen, "not in a conference");
	answer_conf(out, conf, "conference");
	return 0;
}

/* rtpengine's "connect": the party from-tag of call-id and the party to-tag of to-call-id
 * (default: the same call) relay to each other; they leave any conference first. */
static int cmd_connect(struct mg_sessions *s, const struct mg_bencode_doc *d,
		       const struct mg_bencode_node *root, struct mg_bencode_out *out, char *err,
		       size_t errlen)
{
	struct mg_dataplane *dp = mg_sessions_dataplane(s);
	char call_id[MG_CALL_ID_MAX], to_call[MG_CALL_ID_MAX], from[MG_TAG_MAX], to[MG_TAG_MAX];
	if (!mg_bencode_str_copy(mg_bencode_dict_get(d, root, "call-id"), call_id,
				 sizeof(call_id)) ||
	    !mg_bencode_str_copy(mg_bencode_dict_get(d, root, "from-tag"), from, sizeof(from)) ||
	    !mg_bencode_str_copy(mg_bencode_dict_get(d, root, "to-tag"), to, sizeof(to)))
		return fail(err, errlen, "connect needs call-id, from-tag and to-tag");
	if (!mg_bencode_str_copy(mg_bencode_dict_get(d, root, "to-call-id"), to_call,
				 sizeof(to_call)))
		snprintf(to_call, sizeof(to_call), "%s", call_id);
	struct mg_call *a = mg_call_find(s, call_id), *b = mg_call_find(s, to_call);
	if (!a || !b)
		return fail(err, errlen, "Unknown call-id");
	struct party pa, pb;
	if (!party_of(a, mg_call_side_of(a, from), &pa) ||
	    !party_of(b, mg_call_side_of(b, to), &pb))
		return fail(err, errlen, "from-tag and to-tag must name parties with media");
	if (pa.leg == pb.leg || pa.leg->worker != pb.leg->worker)
		return fail(err, errlen,
			    "the two parties are on workers %u and %u (offer the calls with the "
			    "same contact-id)",
			    pa.leg->worker, pb.leg->worker);
	struct mg_conf *confs[2] = {pa.leg->conf_ctl, pb.leg->conf_ctl};
	if (pa.leg->conf_ctl)
		mg_dp_conf_leave(dp, pa.leg);
	if (pb.leg->conf_ctl)
		mg_dp_conf_leave(dp, pb.leg);
	if (mg_dp_relay_connect(dp, pa.leg, pb.leg) < 0)
		return fail(err, errlen, "cannot queue the connection");
	for (int i = 0; i < 2; i++)
		if (confs[i] && (i == 0 || confs[1] != confs[0]) &&
		    mg_dp_conf_legs(confs[i], NULL, 0) <= 2)
			dissolve(s, confs[i]);
	answer_conf(out, NULL, "relay");
	return 0;
}

int mg_ng_conf_command(struct mg_sessions *s, const struct mg_bencode_doc *d,
		       const struct mg_bencode_node *root, enum mg_ng_cmd cmd,
		       struct mg_bencode_out *out, char *err, size_t errlen)
{
	/* parties of deleted calls have left: conferences of two go back to relay first */
	mg_ng_conf_tidy(s);
	switch (cmd) {
	case MG_NG_JOIN_CONFERENCE:
		return cmd_join(s, d, root, out, err, errlen);
	case MG_NG_LEAVE_CONFERENCE:
		return cmd_leave(s, d, root, out, err, errlen);
	case MG_NG_CONFERENCE_HOLD:
	case MG_NG_CONFERENCE_UNHOLD:
	case MG_NG_CONFERENCE_MUTE:
	case MG_NG_CONFERENCE_UNMUTE:
		return cmd_state(s, d, root, cmd, out, err, errlen);
	case MG_NG_CONNECT:
		return cmd_connect(s, d, root, out, err, errlen);
	default:
		return fail(err, errlen, "not a conference command");
	}
}
