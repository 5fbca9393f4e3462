/* WebRTC legs in offer/answer: a browser leg (UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP) on
 * one side, a carrier leg (RTP/AVP or SDES RTP/SAVP) on the other, and back. mediagate
 * terminates ICE (lite) and DTLS on the browser side; see docs/ng-protocol.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
