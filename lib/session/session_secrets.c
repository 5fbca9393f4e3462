/* The secret part of a call snapshot: per media and side the SDES state (what the remote
 * offered, what we offered, the chosen pair) and the SRTP contexts' stream state (ROC,
 * highest sequence, SRTCP index, packets used). Encoded as bencode, sealed by the
 * application's sealer into one "sealed" field of the snapshot, never stored in clear.
 *
 * Layout of the plaintext (docs/state.md):
 *   d 1:v i1e 5:media l <per media> l <side 0> <side 1> e e e
 *   side: d (empty when the side has no SDES state)
 *     remote: l <a=crypto values> e   ours: l ... e   negotiated: i0/1e
 *     chosen-remote, chosen-ours: <a=crypto value>
 *     in, out: d used: i, used-rtcp: i, ssrc: l l ssrc roc seq rtp-started srtcp-index
 *              rtcp-started e ... e e
 *     dtls: <WebRTC state, written by the registered hook (lib/ng/ng_webrtc.c)>
 *     dtls-in, dtls-out: <stream state as in/out> (the contexts made from its DTLS keys) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_secrets.h"

/* WebRTC state hooks: one registration per process (lib/ng's manager). */
static struct mg_session_webrtc_state webrtc_hooks;

static bool side_has_webrtc(const struct mg_media *m, int side)
{
	return webrtc_hooks.encode && m->webrtc[side] != NULL;
}

void mg_sessions_set_sealer(struct mg_sessions *s, const struct mg_session_sealer *sealer,
			    void (*log)(const char *msg))
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	k->have_sealer = sealer != NULL;
	if (sealer)
		k->sealer = *sealer;
	k->log = log;
}

void mg_sessions_seal_stats(const struct mg_sessions *s, struct mg_session_seal_stats *out)
{
	const struct mg_session_keys *k = mg_sessions_keys((struct mg_sessions *)s);
	*out = k->stats;
	out->restore_pending = k->n_pending;
}

static void log_once(struct mg_session_keys *k, bool *flag, const char *msg)
{
	if (*flag)
		return;
	*flag = true;
	if (k->log)
		k->log(msg);
}

static void field_of(const struct mg_call *c, char *out, size_t cap)
{
	snprintf(out, cap, "session-keys|%s", c->call_id);
}

static bool side_has_secrets(const struct mg_media *m, int side)
{
	const struct mg_side_crypto *sc = m->crypto[side];
	return sc && (sc->n_remote || sc->n_ours || sc->negotiated);
}

uint64_t mg_call_secrets_signature(const struct mg_call *c, uint64_t h)
{
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++) {
			const struct mg_leg_cfg *cfg = &c->media[i].cfg[side];
			const mg_srtp_ctx *ctxs[2] = {cfg->srtp_in, cfg->srtp_out};
			for (int d = 0; d < 2; d++) {
				struct mg_srtp_ctx_state st;
				/* keys installed or removed (DTLS, consent): written */
				h = (h ^ (uint64_t)(ctxs[d] != NULL)) * 1099511628211ull;
				if (!ctxs[d] || mg_srtp_ctx_export_state(ctxs[d], &st) != 0)
					continue;
				for (unsigned k = 0; k < st.n_ssrc; k++) {
					const struct mg_srtp_ssrc_state *x = &st.ssrc[k];
					uint64_t v = (uint64_t)x->ssrc << 32 ^
						     (uint64_t)x->roc << 8 ^
						     (uint64_t)(x->highest_seq >>
								MG_SECRETS_SEQ_QUANTUM_BITS)
							 << 1 ^
						     x->rtp_started;
					uint64_t w = (uint64_t)(x->srtcp_index >>
								MG_SECRETS_SRTCP_QUANTUM_BITS)
							 << 1 |
						     x->rtcp_started;
					h = (h ^ v) * 1099511628211ull;
					h = (h ^ w) * 1099511628211ull;
				}
			}
		}
	return h;
}

static void put_crypto(struct mg_bencode_out *o, const struct mg_sdes_crypto *cr)
{
	char line[MG_SDES_MAX_LINE];
	size_t n = 0;
	if (mg_sdes_format(cr, line, sizeof(line), &n) != MG_SDES_OK)
		n = 0; /* an empty value does not parse back: that entry is skipped at restore */
	mg_ben_strn(o, line, n);
	explicit_bzero(line, sizeof(line));
}

static void put_ctx_state(struct mg_bencode_out *o, const char *k, const mg_srtp_ctx *ctx)
{
	struct mg_srtp_ctx_state st;
	if (!ctx || mg_srtp_ctx_export_state(ctx, &st) != 0)
		return;
	mg_ben_str(o, k);
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "used", (int64_t)st.srtp_used);
	mg_ben_kv_int(o, "used-rtcp", st.srtcp_used);
	mg_ben_str(o, "ssrc");
	mg_ben_list_begin(o);
	for (unsigned i = 0; i < st.n_ssrc; i++) {
		const struct mg_srtp_ssrc_state *x = &st.ssrc[i];
		mg_ben_list_begin(o);
		mg_ben_int(o, x->ssrc);
		mg_ben_int(o, x->roc);
		mg_ben_int(o, x->highest_seq);
		mg_ben_int(o, x->rtp_started);
		mg_ben_int(o, x->srtcp_index);
		mg_ben_int(o, x->rtcp_started);
		mg_ben_end(o);
	}
	mg_ben_end(o);
	mg_ben_end(o);
}

long mg_call_encode_secrets(const struct mg_call *c, char *buf, size_t cap)
{
	bool any = c->pii != NULL;
	for (unsigned i = 0; i < c->n_media; i++)
		any |= side_has_secrets(&c->media[i], 0) || side_has_secrets(&c->media[i], 1);
	for (unsigned i = 0; i < c->n_media; i++)
		any |= side_has_webrtc(&c->media[i], 0) || side_has_webrtc(&c->media[i], 1);
	if (!any)
		return 0;
	struct mg_bencode_out o;
	mg_bencode_out_init(&o, buf, cap);
	mg_ben_dict_begin(&o);
	mg_ben_kv_int(&o, "v", 1);
	mg_ben_str(&o, "media");
	mg_ben_list_begin(&o);
	for (unsigned i = 0; i < c->n_media; i++) {
		const struct mg_media *m = &c->media[i];
		mg_ben_list_begin(&o);
		for (int side = 0; side < 2; side++) {
			mg_ben_dict_begin(&o);
			const struct mg_side_crypto *sc = m->crypto[side];
			if (side_has_secrets(m, side)) {
				mg_ben_str(&o, "remote");
				mg_ben_list_begin(&o);
				for (unsigned k = 0; k < sc->n_remote; k++)
					put_crypto(&o, &sc->remote[k]);
				mg_ben_end(&o);
				mg_ben_str(&o, "ours");
				mg_ben_list_begin(&o);
				for (unsigned k = 0; k < sc->n_ours; k++)
					put_crypto(&o, &sc->ours[k]);
				mg_ben_end(&o);
				mg_ben_kv_int(&o, "negotiated", sc->negotiated);
				if (sc->negotiated) {
					mg_ben_str(&o, "chosen-remote");
					put_crypto(&o, &sc->chosen_remote);
					mg_ben_str(&o, "chosen-ours");
					put_crypto(&o, &sc->chosen_ours);
				}
				put_ctx_state(&o, "in", m->cfg[side].srtp_in);
				put_ctx_state(&o, "out", m->cfg[side].srtp_out);
			}
			if (side_has_webrtc(m, side)) {
				mg_ben_str(&o, "dtls");
				webrtc_hooks.encode(webrtc_hooks.arg, c, i, side, &o);
				put_ctx_state(&o, "dtls-in", m->cfg[side].srtp_in);
				put_ctx_state(&o, "dtls-out", m->cfg[side].srtp_out);
			}
			mg_ben_end(&o);
		}
		mg_ben_end(&o);
	}
	mg_ben_end(&o);
	if (c->pii) {
		const struct mg_call_pii *p = c->pii;
		mg_ben_str(&o, "pii");
		mg_ben_dict_begin(&o);
		mg_ben_kv_str(&o, "ani", p->ani);
		mg_ben_kv_str(&o, "dnis", p->dnis);
		mg_ben_kv_str(&o, "external-number", p->external_number);
		mg_ben_str(&o, "contact-attributes");
		mg_ben_strn(&o, p->attributes, p->attributes_len);
		mg_ben_end(&o);
	}
	mg_ben_end(&o);
	return mg_bencode_out_ok(&o) ? (long)o.len : -1;
}

void mg_call_secrets_restore_pii(struct mg_sessions *s, struct mg_call *c,
				 const struct mg_call_secrets *sec, const char *ani_hash)
{
	if (!sec || !sec->ok)
		return;
	const struct mg_bencode_doc *doc = &sec->doc;
	const struct mg_bencode_node *d = mg_bencode_dict_get(doc, &doc->nodes[0], "pii");
	if (!d || d->type != MG_BEN_DICT || (!c->pii && !(c->pii = calloc(1, sizeof(*c->pii)))))
		return;
	struct mg_call_pii *p = c->pii;
	mg_bencode_str_copy(mg_bencode_dict_get(doc, d, "ani"), p->ani, sizeof(p->ani));
	mg_bencode_str_copy(mg_bencode_dict_get(doc, d, "dnis"), p->dnis, sizeof(p->dnis));
	mg_bencode_str_copy(mg_bencode_dict_get(doc, d, "external-number"), p->external_number,
			    sizeof(p->external_number));
	const struct mg_bencode_node *a = mg_bencode_dict_get(doc, d, "contact-attributes");
	if (a && a->type == MG_BEN_STR && a->str_len < sizeof(p->attributes)) {
		memcpy(p->attributes, a->str, a->str_len);
		p->attributes_len = a->str_len;
	}
	/* the stored hash (the same key hashes the same way); recomputed if absent */
	if (ani_hash && strlen(ani_hash) < sizeof(p->ani_hash))
		snprintf(p->ani_hash, sizeof(p->ani_hash), "%s", ani_hash);
	else if (p->ani[0]) {
		struct mg_session_keys *k = mg_sessions_keys(s);
		if (k->sealer.ani_hash &&
		    k->sealer.ani_hash(k->sealer.arg, c->instance, p->ani, p->ani_hash) != 0)
			p->ani_hash[0] = '\0';
	}
}

char *mg_call_seal_secrets(struct mg_sessions *s, const struct mg_call *c, const char *plain,
			   long len)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	if (len <= 0)
		return c->sealed_unopened ? strdup(c->sealed_unopened) : NULL;
	if (!k->have_sealer) {
		k->stats.stored_without_keys++;
		log_once(
		    k, &k->warned_no_keys,
		    "state: no [keys] in the profile: SRTP keys are not stored in the session "
		    "state; a restored SRTP call drops its media (srtp_no_key) until re-keyed");
		return c->sealed_unopened ? strdup(c->sealed_unopened) : NULL;
	}
	char field[MG_CALL_ID_MAX + 16], err[200] = "";
	field_of(c, field, sizeof(field));
	char *out = NULL;
	if (k->sealer.seal(k->sealer.arg, c->instance, field, plain, (size_t)len, &out, err,
			   sizeof(err)) != 0 ||
	    !out) {
		k->stats.seal_failed++;
		if (!k->warned_seal && k->log) {
			char msg[300];
			snprintf(msg, sizeof(msg),
				 "state: cannot seal SRTP keys (%s); snapshots are written without "
				 "them (counted in /mediagate/keys)",
				 err);
			log_once(k, &k->warned_seal, msg);
		}
		free(out);
		return NULL;
	}
	k->stats.sealed++;
	return out;
}

int mg_call_secrets_open(struct mg_sessions *s, struct mg_call *c, const char *sealed, size_t len,
			 struct mg_call_secrets *sec, char *err, size_t errlen)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	sec->doc = (struct mg_bencode_doc){.nodes = sec->nodes, .capacity = MG_SECRETS_NODES};
	sec->plain = NULL;
	sec->len = 0;
	sec->ok = false;
	int rc = -1;
	if (!k->have_sealer) {
		snprintf(err, errlen, "no [keys]: the sealed SRTP keys cannot be opened");
	} else {
		char field[MG_CALL_ID_MAX + 16];
		field_of(c, field, sizeof(field));
		char why[200] = "";
		if (k->sealer.open(k->sealer.arg, c->instance, field, sealed, len, &sec->plain,
				   &sec->len, why, sizeof(why)) != 0 ||
		    !sec->plain)
			snprintf(err, errlen, "SRTP keys not opened: %s", why);
		else if (mg_bencode_decode(&sec->doc, sec->plain, sec->len) < 0 ||
			 sec->doc.nodes[0].type != MG_BEN_DICT)
			snprintf(err, errlen, "SRTP keys: opened but malformed");
		else
			rc = 0;
	}
	if (rc == 0) {
		sec->ok = true;
		k->stats.opened++;
		return 0;
	}
	mg_call_secrets_free(sec);
	k->stats.open_failed++;
	snprintf(k->last_open_error, sizeof(k->last_open_error), "%s", err);
	free(c->sealed_unopened);
	c->sealed_unopened = strndup(sealed, len);
	return -1;
}

void mg_call_secrets_free(struct mg_call_secrets *sec)
{
	if (sec->plain) {
		explicit_bzero(sec->plain, sec->len);
		free(sec->plain);
	}
	sec->plain = NULL;
	sec->len = 0;
	sec->ok = false;
}

static bool get_crypto(const struct mg_bencode_node *n, struct mg_sdes_crypto *out)
{
	if (!n || n->type != MG_BEN_STR || n->str_len == 0)
		return false;
	if (mg_sdes_parse(n->str, n->str_len, out, NULL) != MG_SDES_OK) {
		mg_sdes_wipe(out);
		return false;
	}
	return true;
}

static unsigned get_crypto_list(const struct mg_bencode_doc *doc, const struct mg_bencode_node *l,
				struct mg_sdes_crypto *out, unsigned max)
{
	unsigned n = 0;
	if (!l || l->type != MG_BEN_LIST)
		return 0;
	for (const struct mg_bencode_node *e = mg_bencode_child(doc, l); e && n < max;
	     e = mg_bencode_next(doc, e))
		if (get_crypto(e, &out[n]))
			n++;
	return n;
}

static bool get_ctx_state(const struct mg_bencode_doc *doc, const struct mg_bencode_node *d,
			  struct mg_srtp_ctx_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!d || d->type != MG_BEN_DICT)
		return false;
	const struct mg_bencode_node *used = mg_bencode_dict_get(doc, d, "used");
	const struct mg_bencode_node *used_rtcp = mg_bencode_dict_get(doc, d, "used-rtcp");
	const struct mg_bencode_node *ssrcs = mg_bencode_dict_get(doc, d, "ssrc");
	if (!used || used->type != MG_BEN_INT || used->num < 0 || !used_rtcp ||
	    used_rtcp->type != MG_BEN_INT || used_rtcp->num < 0 || used_rtcp->num > 0x7fffffff ||
	    !ssrcs || ssrcs->type != MG_BEN_LIST)
		return false;
	st->srtp_used = (uint64_t)used->num;
	st->srtcp_used = (uint32_t)used_rtcp->num;
	for (const struct mg_bencode_node *e = mg_bencode_child(doc, ssrcs); e;
	     e = mg_bencode_next(doc, e)) {
		if (st->n_ssrc == MG_SRTP_SSRC_SLOTS || e->type != MG_BEN_LIST)
			return false;
		int64_t v[6];
		const struct mg_bencode_node *x = mg_bencode_child(doc, e);
		for (int j = 0; j < 6; j++, x = mg_bencode_next(doc, x)) {
			if (!x || x->type != MG_BEN_INT || x->num < 0 || x->num > 0xffffffffll)
				return false;
			v[j] = x->num;
		}
		if (v[2] > 0xffff)
			return false;
		struct mg_srtp_ssrc_state *s = &st->ssrc[st->n_ssrc++];
		s->ssrc = (uint32_t)v[0];
		s->roc = (uint32_t)v[1];
		s->highest_seq = (uint16_t)v[2];
		s->rtp_started = v[3] != 0;
		s->srtcp_index = (uint32_t)v[4];
		s->rtcp_started = v[5] != 0;
	}
	return true;
}

/* A context for one direction from the saved key and stream state. `sending`: SRTCP
 * indexes are generated by this side, so they resume past a margin (an index is never
 * used twice with the same key, even if the last checkpoint was a little behind). RTP
 * sequence numbers come from the relayed source, so the RTP state is taken as saved and
 * RFC 3711's index estimate carries the ROC over a wrap that happened since. */
static mg_srtp_ctx *build_ctx_params(struct mg_sessions *s, const struct mg_srtp_key_params *p,
				     const struct mg_bencode_doc *doc,
				     const struct mg_bencode_node *state, bool sending)
{
	mg_srtp_ctx *ctx = mg_dp_srtp_ctx_alloc();
	if (!ctx)
		return NULL;
	if (mg_srtp_ctx_init(ctx, mg_dp_control_srtp_engine(mg_sessions_dataplane(s)), p) != 0) {
		mg_dp_srtp_ctx_free(ctx);
		return NULL;
	}
	struct mg_srtp_ctx_state st;
	if (state && get_ctx_state(doc, state, &st)) {
		for (unsigned k = 0; sending && k < st.n_ssrc; k++)
			if (st.ssrc[k].rtcp_started)
				st.ssrc[k].srtcp_index += MG_SECRETS_SRTCP_MARGIN;
		st.srtp_used += MG_SECRETS_USED_MARGIN;
		st.srtcp_used += MG_SECRETS_SRTCP_MARGIN;
		mg_srtp_ctx_import_state(ctx, &st);
	}
	return ctx;
}

/* The same from an SDES key (a=crypto). */
static mg_srtp_ctx *build_ctx(struct mg_sessions *s, const struct mg_sdes_crypto *cr,
			      const struct mg_bencode_doc *doc, const struct mg_bencode_node *state,
			      bool sending)
{
	struct mg_srtp_key_params params;
	if (mg_sdes_key_params(cr, 0, &params) != MG_SDES_OK)
		return NULL;
	return build_ctx_params(s, &params, doc, state, sending);
}

void mg_call_secrets_apply(struct mg_sessions *s, struct mg_call *c,
			   const struct mg_call_secrets *sec, unsigned i, int side,
			   struct mg_leg_cfg *cfg)
{
	if (!sec || !sec->ok)
		return;
	const struct mg_bencode_doc *doc = &sec->doc;
	const struct mg_bencode_node *media = mg_bencode_dict_get(doc, &doc->nodes[0], "media");
	if (!media || media->type != MG_BEN_LIST)
		return;
	const struct mg_bencode_node *md = mg_bencode_child(doc, media);
	for (unsigned k = 0; md && k < i; k++)
		md = mg_bencode_next(doc, md);
	if (!md || md->type != MG_BEN_LIST)
		return;
	const struct mg_bencode_node *sd = mg_bencode_child(doc, md);
	if (side == 1 && sd)
		sd = mg_bencode_next(doc, sd);
	if (!sd || sd->type != MG_BEN_DICT || !mg_bencode_dict_get(doc, sd, "negotiated"))
		return;
	struct mg_side_crypto *sc = mg_media_crypto(&c->media[i], side);
	if (!sc)
		return;
	sc->n_remote = get_crypto_list(doc, mg_bencode_dict_get(doc, sd, "remote"), sc->remote,
				       MG_MAX_CRYPTO_OFFER);
	sc->n_ours = get_crypto_list(doc, mg_bencode_dict_get(doc, sd, "ours"), sc->ours,
				     MG_MAX_CRYPTO_OFFER);
	const struct mg_bencode_node *neg = mg_bencode_dict_get(doc, sd, "negotiated");
	sc->negotiated =
	    neg->type == MG_BEN_INT && neg->num &&
	    get_crypto(mg_bencode_dict_get(doc, sd, "chosen-remote"), &sc->chosen_remote) &&
	    get_crypto(mg_bencode_dict_get(doc, sd, "chosen-ours"), &sc->chosen_ours);
	if (!cfg->srtp || !sc->negotiated)
		return;
	cfg->srtp_in =
	    build_ctx(s, &sc->chosen_remote, doc, mg_bencode_dict_get(doc, sd, "in"), false);
	cfg->srtp_out =
	    build_ctx(s, &sc->chosen_ours, doc, mg_bencode_dict_get(doc, sd, "out"), true);
}

void mg_call_pending_add(struct mg_sessions *s, struct mg_call *c, struct mg_call_secrets *sec)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	if (!sec->ok || c->restore_secrets)
		return;
	c->restore_secrets = sec->plain;
	c->restore_secrets_len = sec->len;
	sec->plain = NULL; /* the call owns it now */
	sec->len = 0;
	sec->ok = false;
	c->pending_prev = NULL;
	c->pending_next = k->pending;
	if (k->pending)
		k->pending->pending_prev = c;
	k->pending = c;
	k->n_pending++;
}

void mg_call_pending_remove(struct mg_sessions *s, struct mg_call *c)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	if (!c->restore_secrets)
		return;
	if (c->pending_prev)
		c->pending_prev->pending_next = c->pending_next;
	else
		k->pending = c->pending_next;
	if (c->pending_next)
		c->pending_next->pending_prev = c->pending_prev;
	c->pending_next = c->pending_prev = NULL;
	k->n_pending--;
	explicit_bzero(c->restore_secrets, c->restore_secrets_len);
	free(c->restore_secrets);
	c->restore_secrets = NULL;
	c->restore_secrets_len = 0;
}

void mg_call_restore_finish(struct mg_sessions *s, struct mg_call *c)
{
	static struct mg_call_secrets sec;
	sec.doc = (struct mg_bencode_doc){.nodes = sec.nodes, .capacity = MG_SECRETS_NODES};
	sec.plain = NULL;
	sec.ok = mg_bencode_decode(&sec.doc, c->restore_secrets, c->restore_secrets_len) >= 0 &&
		 sec.doc.nodes[0].type == MG_BEN_DICT;
	for (unsigned i = 0; sec.ok && i < c->n_media; i++)
		for (int side = 0; side < 2; side++) {
			struct mg_media *m = &c->media[i];
			if (!m->leg[side] || !m->leg[side]->published)
				continue;
			struct mg_leg_cfg cfg = m->cfg[side];
			bool srtp = cfg.srtp && !cfg.srtp_in && !cfg.srtp_out;
			if (!srtp)
				cfg.srtp = false; /* only the SDES state then */
			mg_call_secrets_apply(s, c, &sec, i, side, &cfg);
			mg_call_secrets_apply_dtls(s, c, &sec, i, side, &cfg);
			if (srtp && (cfg.srtp_in || cfg.srtp_out)) {
				cfg.srtp = true;
				mg_call_configure(s, c, i, side, &cfg);
			}
		}
	sec.ok = false;
	mg_call_pending_remove(s, c);
}

unsigned mg_sessions_restore_pending(struct mg_sessions *s, unsigned budget)
{
	struct mg_session_keys *k = mg_sessions_keys(s);
	for (unsigned n = 0; n < budget && k->pending; n++)
		mg_call_restore_finish(s, k->pending);
	return k->n_pending;
}

void mg_sessions_on_webrtc_state(struct mg_sessions *s, const struct mg_session_webrtc_state *hooks)
{
	(void)s;
	if (hooks)
		webrtc_hooks = *hooks;
	else
		memset(&webrtc_hooks, 0, sizeof(webrtc_hooks));
}

void mg_call_secrets_apply_dtls(struct mg_sessions *s, struct mg_call *c,
				const struct mg_call_secrets *sec, unsigned i, int side,
				struct mg_leg_cfg *cfg)
{
	if (!sec || !sec->ok || !webrtc_hooks.restore)
		return;
	const struct mg_bencode_doc *doc = &sec->doc;
	const struct mg_bencode_node *media = mg_bencode_dict_get(doc, &doc->nodes[0], "media");
	if (!media || media->type != MG_BEN_LIST)
		return;
	const struct mg_bencode_node *md = mg_bencode_child(doc, media);
	for (unsigned k = 0; md && k < i; k++)
		md = mg_bencode_next(doc, md);
	if (!md || md->type != MG_BEN_LIST)
		return;
	const struct mg_bencode_node *sd = mg_bencode_child(doc, md);
	if (side == 1 && sd)
		sd = mg_bencode_next(doc, sd);
	const struct mg_bencode_node *v =
	    sd && sd->type == MG_BEN_DICT ? mg_bencode_dict_get(doc, sd, "dtls") : NULL;
	if (!v)
		return;
	struct mg_session_srtp_keys keys;
	memset(&keys, 0, sizeof(keys));
	int rc = webrtc_hooks.restore(webrtc_hooks.arg, c, i, side, doc, v, &keys);
	if (rc == 1 && cfg->srtp && !cfg->srtp_in && !cfg->srtp_out) {
		keys.in.master_key = keys.in_key;
		keys.in.master_salt = keys.in_salt;
		keys.out.master_key = keys.out_key;
		keys.out.master_salt = keys.out_salt;
		cfg->srtp_in = build_ctx_params(s, &keys.in, doc,
						mg_bencode_dict_get(doc, sd, "dtls-in"), false);
		cfg->srtp_out = build_ctx_params(s, &keys.out, doc,
						 mg_bencode_dict_get(doc, sd, "dtls-out"), true);
	}
	explicit_bzero(&keys, sizeof(keys));
}
