/* WebRTC legs in offer/answer: a browser leg (UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP) on
 * one side, a carrier leg (RTP/AVP or SDES RTP/SAVP) on the other, and back. mediagate
 * terminates ICE (lite) and DTLS on the browser side; see docs/ng-protocol.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "ng_webrtc.h"

/* Per media side (struct mg_media.webrtc[side]). */
struct ng_webrtc_side {
	struct mg_webrtc_leg *leg;
	bool dtls;	 /* this side speaks DTLS-SRTP */
	bool ice;	 /* ICE-lite towards this side */
	bool role_known; /* DTLS role decided (src_dtls after its SDP) */
	enum mg_dtls_role role;
	struct mg_dtls_fingerprint remote_fp;
	bool have_remote_fp;
	char remote_ufrag[257];
	enum mg_dtls_setup our_setup; /* a=setup we write towards this side */
	char mid[64];		      /* the side's a=mid, repeated in our answer */
	bool bundle, rtcp_mux;	      /* it offered a BUNDLE group / rtcp-mux */
};

bool mg_ng_webrtc_is_dtls_proto(const char *proto)
{
	return !strcmp(proto, "UDP/TLS/RTP/SAVPF") || !strcmp(proto, "UDP/TLS/RTP/SAVP");
}

bool mg_ng_webrtc_flag(struct mg_ng_webrtc_opts *o, const char *name)
{
	if (!strcmp(name, "ice=force"))
		o->ice_force = true;
	else if (!strcmp(name, "ice=remove"))
		o->ice_remove = true;
	else if (!strcmp(name, "dtls=passive"))
		o->dtls_passive = true;
	else if (!strcmp(name, "dtls=off") || !strcmp(name, "dtls=no"))
		o->dtls_off = true;
	else if (!strcmp(name, "rtcp-mux-demux"))
		o->rtcp_mux_demux = true;
	else
		return false;
	return true;
}

static void free_side(void *arg, struct mg_media *m, int side)
{
	struct ng_webrtc_side *s = m->webrtc[side];
	if (s->leg)
		mg_webrtc_leg_free(arg, s->leg);
	memset(s, 0, sizeof(*s));
	free(s);
	m->webrtc[side] = NULL;
}

static void encode_side(void *arg, const struct mg_call *c, unsigned i, int side,
			struct mg_bencode_out *o);
static int restore_side(void *arg, struct mg_call *c, unsigned i, int side,
			const struct mg_bencode_doc *doc, const struct mg_bencode_node *v,
			struct mg_session_srtp_keys *keys);

struct mg_webrtc *mg_ng_webrtc_create(struct mg_sessions *sessions)
{
	/* One certificate per instance (EC P-256, a=fingerprint sha-256). */
	mg_dtls_ctx *id = mg_dtls_ctx_new("mediagate", 365);
	struct mg_webrtc *w = id ? mg_webrtc_create(mg_sessions_dataplane(sessions), id) : NULL;
	if (!w) {
		mg_dtls_ctx_free(id);
		return NULL;
	}
	mg_sessions_on_webrtc_free(sessions, free_side, w);
	struct mg_session_webrtc_state hooks = {
	    .encode = encode_side, .restore = restore_side, .arg = w};
	mg_sessions_on_webrtc_state(sessions, &hooks);
	return w;
}

void mg_ng_webrtc_destroy(struct mg_webrtc *w, struct mg_sessions *sessions)
{
	if (!w)
		return;
	/* calls outlive ng at shutdown: their WebRTC state goes with the manager */
	for (struct mg_call *c = mg_call_first(sessions); c; c = mg_call_next(c))
		for (unsigned i = 0; i < MG_CALL_MAX_MEDIA; i++)
			for (int side = 0; side < 2; side++)
				if (c->media[i].webrtc[side])
					free_side(w, &c->media[i], side);
	mg_sessions_on_webrtc_free(sessions, NULL, NULL);
	mg_sessions_on_webrtc_state(sessions, NULL);
	mg_webrtc_destroy(w);
}

static struct ng_webrtc_side *side_state(struct mg_media *m, int side)
{
	if (!m->webrtc[side])
		m->webrtc[side] = calloc(1, sizeof(struct ng_webrtc_side));
	return m->webrtc[side];
}

static enum mg_dtls_setup dtls_setup_of(enum mg_sdp_setup s)
{
	switch (s) {
	case MG_SDP_SETUP_ACTPASS:
		return MG_DTLS_SETUP_ACTPASS;
	case MG_SDP_SETUP_ACTIVE:
		return MG_DTLS_SETUP_ACTIVE;
	case MG_SDP_SETUP_PASSIVE:
		return MG_DTLS_SETUP_PASSIVE;
	default:
		return MG_DTLS_SETUP_HOLDCONN;
	}
}

static int fail(char *err, size_t errlen, const char *fmt, unsigned i, const char *what)
{
	snprintf(err, errlen, fmt, i + 1, what);
	return -1;
}

int mg_ng_webrtc_prepare(struct mg_webrtc *w, struct mg_call *c, unsigned i, int src, bool answer,
			 const struct mg_sdp *sdp, const char *src_proto, const char *dst_proto,
			 const struct mg_ng_webrtc_opts *o, struct mg_leg_cfg *src_cfg,
			 struct mg_leg_cfg *dst_cfg, char *err, size_t errlen)
{
	struct mg_media *m = &c->media[i];
	int dst = 1 - src;
	bool src_dtls = mg_ng_webrtc_is_dtls_proto(src_proto);
	bool dst_dtls = mg_ng_webrtc_is_dtls_proto(dst_proto);
	if (!w && (src_dtls || dst_dtls || o->ice_force))
		return fail(err, errlen, "media %u: %s: WebRTC is not available (no DTLS identity)",
			    i, src_proto);
	if (o->dtls_off && (src_dtls || dst_dtls))
		return fail(err, errlen, "media %u: DTLS=off but the stream is %s", i,
			    src_dtls ? src_proto : dst_proto);
	if (src_dtls) {
		/* everything the association needs, checked before anything changes */
		struct mg_sdp_fingerprint f;
		struct mg_dtls_fingerprint fp;
		char text[300];
		if (!mg_sdp_media_fingerprint(sdp, i, &f))
			return fail(err, errlen, "media %u: %s without a=fingerprint", i,
				    src_proto);
		snprintf(text, sizeof(text), "%.*s %.*s", (int)f.hash_function.len,
			 f.hash_function.ptr, (int)f.fingerprint.len, f.fingerprint.ptr);
		if (mg_dtls_fingerprint_parse(text, strlen(text), &fp) < 0)
			return fail(err, errlen,
				    "media %u: a=fingerprint '%s' is malformed or uses a refused "
				    "hash (sha-256/384/512 are accepted)",
				    i, text);
		enum mg_sdp_setup ss;
		enum mg_dtls_setup remote =
		    mg_sdp_media_setup(sdp, i, &ss) ? dtls_setup_of(ss) : MG_DTLS_SETUP_NONE;
		struct mg_sdp_str ufrag = {0};
		bool has_ice = mg_sdp_media_ice_ufrag(sdp, i, &ufrag);
		if (has_ice && (ufrag.len == 0 || ufrag.len >= 257))
			return fail(err, errlen, "media %u: bad a=ice-ufrag%s", i, "");
		struct ng_webrtc_side *s = side_state(m, src);
		if (!s)
			return fail(err, errlen, "media %u: out of memory%s", i, "");
		enum mg_dtls_setup ours = s->our_setup;
		if (!answer) {
			/* we answer this side later with passive (or active if it is passive) */
			ours = mg_dtls_setup_answer(remote, MG_DTLS_SETUP_PASSIVE);
			if (ours == MG_DTLS_SETUP_NONE)
				return fail(err, errlen, "media %u: a=setup cannot be answered%s",
					    i, "");
		}
		enum mg_dtls_role role;
		if (mg_dtls_role_from_setup(ours, remote, &role) < 0)
			return fail(
			    err, errlen, "media %u: a=setup:%s does not fit ours (no DTLS role)", i,
			    mg_dtls_setup_str(remote) ? mg_dtls_setup_str(remote) : "(none)");
		if (!has_ice && role == MG_DTLS_ROLE_CLIENT)
			return fail(err, errlen,
				    "media %u: DTLS active towards a peer without ICE is not "
				    "supported%s",
				    i, "");
		s->dtls = true;
		s->ice = has_ice;
		s->our_setup = ours;
		s->role = role;
		s->role_known = true;
		s->remote_fp = fp;
		s->have_remote_fp = true;
		snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%.*s", (int)ufrag.len,
			 ufrag.ptr);
		struct mg_sdp_str mid;
		s->mid[0] = 0;
		if (mg_sdp_media_mid(sdp, i, &mid) && mid.len < sizeof(s->mid))
			snprintf(s->mid, sizeof(s->mid), "%.*s", (int)mid.len, mid.ptr);
		struct mg_sdp_str mids;
		s->bundle = mg_sdp_group(sdp, "BUNDLE", &mids);
		s->rtcp_mux = mg_sdp_media_rtcp_mux(sdp, i);
		/* keys only from DTLS: none yet means the workers drop, never plaintext */
		src_cfg->srtp = true;
		src_cfg->srtp_in = m->cfg[src].srtp_in;
		src_cfg->srtp_out = m->cfg[src].srtp_out;
	} else if (m->webrtc[src]) {
		struct ng_webrtc_side *s = m->webrtc[src];
		struct mg_sdp_str ufrag;
		if (answer && !s->dtls && mg_sdp_media_ice_ufrag(sdp, i, &ufrag) && ufrag.len &&
		    ufrag.len < sizeof(s->remote_ufrag)) {
			/* ICE=force towards an RTP peer that answered with ICE */
			snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%.*s", (int)ufrag.len,
				 ufrag.ptr);
		} else {
			/* this side is no longer WebRTC (re-INVITE to RTP): its state goes */
			free_side(w, m, src);
		}
	}
	if (dst_dtls || (o->ice_force && !o->ice_remove)) {
		struct ng_webrtc_side *d = side_state(m, dst);
		if (!d)
			return fail(err, errlen, "media %u: out of memory%s", i, "");
		if (!answer)
			d->ice = !o->ice_remove; /* an answer keeps what the offerer uses */
		if (dst_dtls) {
			if (!d->ice && !answer && !o->dtls_passive)
				d->our_setup =
				    MG_DTLS_SETUP_PASSIVE; /* no ICE: we never go first */
			else if (!answer)
				d->our_setup =
				    o->dtls_passive ? MG_DTLS_SETUP_PASSIVE : MG_DTLS_SETUP_ACTPASS;
			d->dtls = true;
			dst_cfg->srtp = true;
			dst_cfg->srtp_in = m->cfg[dst].srtp_in;
			dst_cfg->srtp_out = m->cfg[dst].srtp_out;
		}
	}
	return 0;
}

int mg_ng_webrtc_commit(struct mg_webrtc *w, struct mg_call *c, unsigned i, int src, char *err,
			size_t errlen)
{
	struct mg_media *m = &c->media[i];
	for (int side = 0; side < 2; side++) {
		struct ng_webrtc_side *s = m->webrtc[side];
		if (!s)
			continue;
		if (!s->leg && !(s->leg = mg_webrtc_leg_new(w, m->leg[side], &m->cfg[side])))
			return fail(err, errlen, "media %u: cannot create the WebRTC leg%s", i, "");
		mg_webrtc_leg_set_cfg(s->leg, &m->cfg[side]);
		if (side == src) {
			mg_webrtc_leg_set_ice(s->leg, s->ice,
					      s->remote_ufrag[0] ? s->remote_ufrag : NULL);
			mg_webrtc_leg_keep_pair(w, s->leg); /* re-offer: ICE decided the address */
		} else if (!s->have_remote_fp)
			mg_webrtc_leg_set_ice(s->leg, s->ice, NULL); /* it answers later */
		if (side == src && s->dtls && s->role_known && s->have_remote_fp &&
		    mg_webrtc_leg_set_dtls(w, s->leg, s->role, &s->remote_fp, mg_webrtc_now_ns()) <
			0)
			return fail(err, errlen, "media %u: cannot create the DTLS association%s",
				    i, "");
	}
	return 0;
}

int mg_ng_webrtc_sdp(struct mg_webrtc *w, struct mg_call *c, int dst, bool answer,
		     struct mg_sdp *sdp, const char *our_ip, const struct mg_ng_webrtc_opts *o)
{
	bool any_dtls_src = false, lite = false;
	char bundle[256] = "";
	unsigned n = mg_sdp_media_count(sdp);
	for (unsigned i = 0; i < n && i < c->n_media; i++) {
		struct ng_webrtc_side *s = c->media[i].webrtc[1 - dst];
		any_dtls_src |= s && s->dtls;
	}
	/* The source's DTLS identity is its own business: mediagate terminates DTLS. */
	if (any_dtls_src) {
		mg_sdp_remove_attr(sdp, MG_SDP_ALL_SECTIONS, "fingerprint", NULL);
		mg_sdp_remove_attr(sdp, MG_SDP_ALL_SECTIONS, "setup", NULL);
		mg_sdp_remove_attr(sdp, MG_SDP_ALL_SECTIONS, "tls-id", NULL);
		mg_sdp_remove_attr(sdp, MG_SDP_SESSION, "fingerprint", NULL);
		mg_sdp_remove_attr(sdp, MG_SDP_SESSION, "setup", NULL);
	}
	for (unsigned i = 0; i < n && i < c->n_media; i++) {
		struct mg_media *m = &c->media[i];
		struct ng_webrtc_side *d = m->webrtc[dst];
		if (m->rejected || !d || !d->leg)
			continue;
		struct mg_leg *leg = m->leg[dst];
		enum mg_sdp_result r = MG_SDP_OK;
		if (d->dtls) {
			const char *fp = mg_webrtc_fingerprint(w); /* "sha-256 AB:..." */
			char hash[16];
			const char *sp = strchr(fp, ' ');
			snprintf(hash, sizeof(hash), "%.*s", (int)(sp - fp), fp);
			r |= mg_sdp_remove_attr(sdp, (int)i, "crypto", NULL);
			r |= mg_sdp_set_fingerprint(sdp, (int)i, hash, sp + 1);
			enum mg_sdp_setup ss =
			    d->our_setup == MG_DTLS_SETUP_ACTPASS  ? MG_SDP_SETUP_ACTPASS
			    : d->our_setup == MG_DTLS_SETUP_ACTIVE ? MG_SDP_SETUP_ACTIVE
								   : MG_SDP_SETUP_PASSIVE;
			r |= mg_sdp_set_setup(sdp, (int)i, ss);
			/* browsers insist on rtcp-mux (they offered it; we offer it) */
			if ((!answer || d->rtcp_mux) && !o->rtcp_mux_demux)
				r |= mg_sdp_media_set_rtcp_mux(sdp, i, true);
			if (answer && d->mid[0]) {
				r |= mg_sdp_set_attr(sdp, (int)i, "mid", d->mid);
				if (d->bundle &&
				    strlen(bundle) + strlen(d->mid) + 2 < sizeof(bundle))
					snprintf(bundle + strlen(bundle),
						 sizeof(bundle) - strlen(bundle), " %s", d->mid);
			}
		}
		if (d->ice) {
			lite = true;
			r |= mg_sdp_set_ice_credentials(sdp, (int)i, mg_webrtc_leg_ufrag(d->leg),
							mg_webrtc_leg_pwd(d->leg));
			r |= mg_sdp_media_add_candidate_fields(sdp, i, "1", 1, 2130706431u, our_ip,
							       leg->rtp_port, "host");
			bool mux = mg_sdp_media_rtcp_mux(sdp, i);
			if (!mux)
				r |= mg_sdp_media_add_candidate_fields(
				    sdp, i, "1", 2, 2130706430u, our_ip, leg->rtcp_port, "host");
			r |= mg_sdp_add_attr(sdp, (int)i, "end-of-candidates", NULL);
		}
		if (r != MG_SDP_OK)
			return -1;
	}
	if (lite && mg_sdp_set_ice_lite(sdp) != MG_SDP_OK)
		return -1;
	if (bundle[0]) {
		char v[300];
		snprintf(v, sizeof(v), "BUNDLE%s", bundle);
		mg_sdp_remove_attr(sdp, MG_SDP_SESSION, "group", NULL);
		if (mg_sdp_add_attr(sdp, MG_SDP_SESSION, "group", v) != MG_SDP_OK)
			return -1;
	}
	return 0;
}

/* --- the session snapshot (sealed part, docs/state.md "WebRTC legs") --- */

static void put_fp(struct mg_bencode_out *o, const char *k, const struct mg_dtls_fingerprint *fp)
{
	char text[300];
	if (mg_dtls_fingerprint_format(fp, text, sizeof(text)) == 0)
		mg_ben_kv_str(o, k, text);
}

static void put_key(struct mg_bencode_out *o, const char *k, const struct mg_srtp_key_params *p)
{
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(p->suite);
	if (!si)
		return;
	mg_ben_str(o, k);
	mg_ben_list_begin(o);
	mg_ben_int(o, p->suite);
	mg_ben_strn(o, (const char *)p->master_key, si->key_len);
	mg_ben_strn(o, (const char *)p->master_salt, si->salt_len);
	mg_ben_end(o);
}

static void encode_side(void *arg, const struct mg_call *c, unsigned i, int side,
			struct mg_bencode_out *o)
{
	(void)arg;
	const struct ng_webrtc_side *s = c->media[i].webrtc[side];
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "dtls", s->dtls);
	mg_ben_kv_int(o, "ice", s->ice);
	mg_ben_kv_int(o, "role-known", s->role_known);
	mg_ben_kv_int(o, "role", s->role);
	if (s->have_remote_fp)
		put_fp(o, "remote-fp", &s->remote_fp);
	mg_ben_kv_str(o, "remote-ufrag", s->remote_ufrag);
	mg_ben_kv_int(o, "our-setup", s->our_setup);
	mg_ben_kv_str(o, "mid", s->mid);
	mg_ben_kv_int(o, "bundle", s->bundle);
	mg_ben_kv_int(o, "rtcp-mux", s->rtcp_mux);
	struct mg_webrtc_leg_state st;
	if (s->leg && mg_webrtc_leg_export(s->leg, &st) == 0) {
		mg_ben_str(o, "leg");
		mg_ben_dict_begin(o);
		mg_ben_kv_str(o, "ufrag", st.ufrag);
		mg_ben_kv_str(o, "pwd", st.pwd);
		mg_ben_kv_str(o, "remote-ufrag", st.remote_ufrag);
		mg_ben_kv_int(o, "ice", st.ice);
		mg_ben_kv_int(o, "consent-lost", st.consent_lost);
		if (st.selected) {
			int64_t mac = 0;
			for (int b = 0; b < 6; b++)
				mac = mac << 8 | st.sel_mac.b[b];
			mg_ben_str(o, "pair");
			mg_ben_list_begin(o);
			mg_ben_int(o, st.sel_ip);
			mg_ben_int(o, st.sel_port);
			mg_ben_int(o, st.sel_local_port);
			mg_ben_int(o, mac);
			mg_ben_end(o);
		}
		if (st.dtls) {
			mg_ben_kv_int(o, "role", st.role);
			put_fp(o, "fp", &st.fp);
		}
		if (st.have_keys) {
			mg_ben_kv_int(o, "profile", st.keys.profile);
			put_key(o, "in", &st.keys.rx);
			put_key(o, "out", &st.keys.tx);
		}
		mg_ben_end(o);
		mg_webrtc_leg_state_wipe(&st);
	}
	mg_ben_end(o);
}

static int64_t int_of(const struct mg_bencode_doc *doc, const struct mg_bencode_node *d,
		      const char *k, int64_t min, int64_t max, bool *bad)
{
	const struct mg_bencode_node *n = mg_bencode_dict_get(doc, d, k);
	if (!n || n->type != MG_BEN_INT || n->num < min || n->num > max) {
		*bad = true;
		return min;
	}
	return n->num;
}

static void str_of(const struct mg_bencode_doc *doc, const struct mg_bencode_node *d, const char *k,
		   char *out, size_t cap, bool *bad)
{
	if (!mg_bencode_str_copy(mg_bencode_dict_get(doc, d, k), out, cap))
		*bad = true;
}

static bool fp_of(const struct mg_bencode_doc *doc, const struct mg_bencode_node *d, const char *k,
		  struct mg_dtls_fingerprint *fp)
{
	const struct mg_bencode_node *n = mg_bencode_dict_get(doc, d, k);
	return n && n->type == MG_BEN_STR && mg_dtls_fingerprint_parse(n->str, n->str_len, fp) == 0;
}

/* [suite key salt] into params whose key/salt point at key/salt (given arrays). */
static bool key_of(const struct mg_bencode_doc *doc, const struct mg_bencode_node *d, const char *k,
		   struct mg_srtp_key_params *p, uint8_t *key, uint8_t *salt)
{
	const struct mg_bencode_node *l = mg_bencode_dict_get(doc, d, k);
	const struct mg_bencode_node *suite =
	    l && l->type == MG_BEN_LIST ? mg_bencode_child(doc, l) : NULL;
	const struct mg_bencode_node *kn = suite ? mg_bencode_next(doc, suite) : NULL;
	const struct mg_bencode_node *sn = kn ? mg_bencode_next(doc, kn) : NULL;
	if (!sn || suite->type != MG_BEN_INT || kn->type != MG_BEN_STR || sn->type != MG_BEN_STR ||
	    suite->num < 0 || suite->num >= MG_SRTP_SUITE_COUNT)
		return false;
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info((enum mg_srtp_suite)suite->num);
	if (!si || kn->str_len != si->key_len || sn->str_len != si->salt_len ||
	    si->key_len > MG_SRTP_MAX_KEY_LEN || si->salt_len > MG_SRTP_MAX_SALT_LEN)
		return false;
	memset(p, 0, sizeof(*p));
	p->suite = (enum mg_srtp_suite)suite->num;
	memcpy(key, kn->str, kn->str_len);
	memcpy(salt, sn->str, sn->str_len);
	p->master_key = key;
	p->master_salt = salt;
	return true;
}

static int restore_side(void *arg, struct mg_call *c, unsigned i, int side,
			const struct mg_bencode_doc *doc, const struct mg_bencode_node *v,
			struct mg_session_srtp_keys *keys)
{
	struct mg_webrtc *w = arg;
	struct mg_media *m = &c->media[i];
	if (!v || v->type != MG_BEN_DICT || !m->leg[side])
		return -1;
	if (m->webrtc[side])
		free_side(w, m, side);
	struct ng_webrtc_side *s = side_state(m, side);
	if (!s)
		return -1;
	bool bad = false;
	s->dtls = int_of(doc, v, "dtls", 0, 1, &bad);
	s->ice = int_of(doc, v, "ice", 0, 1, &bad);
	s->role_known = int_of(doc, v, "role-known", 0, 1, &bad);
	s->role = (enum mg_dtls_role)int_of(doc, v, "role", 0, 16, &bad);
	s->have_remote_fp = fp_of(doc, v, "remote-fp", &s->remote_fp);
	str_of(doc, v, "remote-ufrag", s->remote_ufrag, sizeof(s->remote_ufrag), &bad);
	s->our_setup = (enum mg_dtls_setup)int_of(doc, v, "our-setup", 0, 16, &bad);
	str_of(doc, v, "mid", s->mid, sizeof(s->mid), &bad);
	s->bundle = int_of(doc, v, "bundle", 0, 1, &bad);
	s->rtcp_mux = int_of(doc, v, "rtcp-mux", 0, 1, &bad);
	const struct mg_bencode_node *ld = mg_bencode_dict_get(doc, v, "leg");
	if (bad || !ld) {
		if (bad)
			free_side(w, m, side);
		return bad ? -1 : 0;
	}
	if (ld->type != MG_BEN_DICT) {
		free_side(w, m, side);
		return -1;
	}
	struct mg_webrtc_leg_state st;
	memset(&st, 0, sizeof(st));
	str_of(doc, ld, "ufrag", st.ufrag, sizeof(st.ufrag), &bad);
	str_of(doc, ld, "pwd", st.pwd, sizeof(st.pwd), &bad);
	str_of(doc, ld, "remote-ufrag", st.remote_ufrag, sizeof(st.remote_ufrag), &bad);
	st.ice = int_of(doc, ld, "ice", 0, 1, &bad);
	st.consent_lost = int_of(doc, ld, "consent-lost", 0, 1, &bad);
	const struct mg_bencode_node *pair = mg_bencode_dict_get(doc, ld, "pair");
	if (pair) {
		const struct mg_bencode_node *x[4] = {0};
		x[0] = pair->type == MG_BEN_LIST ? mg_bencode_child(doc, pair) : NULL;
		for (int k = 1; k < 4 && x[k - 1]; k++)
			x[k] = mg_bencode_next(doc, x[k - 1]);
		static const int64_t max[4] = {0xffffffffll, 65535, 65535, 0xffffffffffffll};
		for (int k = 0; k < 4; k++)
			if (!x[k] || x[k]->type != MG_BEN_INT || x[k]->num < 0 ||
			    x[k]->num > max[k])
				bad = true;
		if (!bad) {
			st.selected = true;
			st.sel_ip = (uint32_t)x[0]->num;
			st.sel_port = (uint16_t)x[1]->num;
			st.sel_local_port = (uint16_t)x[2]->num;
			for (int b = 5; b >= 0; b--)
				st.sel_mac.b[5 - b] = (uint8_t)(x[3]->num >> (8 * b));
		}
	}
	if (mg_bencode_dict_get(doc, ld, "role")) {
		st.dtls = true;
		st.role = (enum mg_dtls_role)int_of(doc, ld, "role", 0, 16, &bad);
		if (!fp_of(doc, ld, "fp", &st.fp))
			bad = true;
	}
	int rc = 0;
	if (!bad && mg_bencode_dict_get(doc, ld, "profile")) {
		st.keys.profile = (enum mg_dtls_profile)int_of(doc, ld, "profile", 0, 0xffff, &bad);
		if (!bad && key_of(doc, ld, "in", &keys->in, keys->in_key, keys->in_salt) &&
		    key_of(doc, ld, "out", &keys->out, keys->out_key, keys->out_salt)) {
			/* the leg keeps a copy (a later snapshot writes it again) */
			st.have_keys = true;
			st.keys.rx = keys->in;
			st.keys.tx = keys->out;
			memcpy(st.keys.rx_key, keys->in_key, sizeof(st.keys.rx_key));
			memcpy(st.keys.rx_salt, keys->in_salt, sizeof(st.keys.rx_salt));
			memcpy(st.keys.tx_key, keys->out_key, sizeof(st.keys.tx_key));
			memcpy(st.keys.tx_salt, keys->out_salt, sizeof(st.keys.tx_salt));
			st.keys.rx.master_key = st.keys.rx_key;
			st.keys.rx.master_salt = st.keys.rx_salt;
			st.keys.tx.master_key = st.keys.tx_key;
			st.keys.tx.master_salt = st.keys.tx_salt;
			rc = 1;
		} else
			bad = true;
	}
	if (!bad)
		s->leg =
		    mg_webrtc_leg_restore(w, m->leg[side], &m->cfg[side], &st, mg_webrtc_now_ns());
	mg_webrtc_leg_state_wipe(&st);
	if (bad || !s->leg) {
		free_side(w, m, side);
		explicit_bzero(keys, sizeof(*keys));
		return -1;
	}
	return rc;
}
