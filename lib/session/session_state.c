/* Calls to and from bencoded snapshots for the state store (Redis). */
#include <stdio.h>
#include <string.h>

#include "bencode.h"
#include "session.h"
#include "session_secrets.h"

static void put_endpoint(struct mg_bencode_out *o, const char *k, struct mg_endpoint e)
{
	mg_ben_str(o, k);
	mg_ben_list_begin(o);
	mg_ben_int(o, e.ip);
	mg_ben_int(o, e.port);
	mg_ben_end(o);
}

static void put_latch(struct mg_bencode_out *o, const char *k, const struct mg_latch *l)
{
	if (!l->latched)
		return;
	int64_t mac = 0;
	for (int i = 0; i < 6; i++)
		mac = mac << 8 | l->mac.b[i];
	mg_ben_str(o, k);
	mg_ben_list_begin(o);
	mg_ben_int(o, l->addr.ip);
	mg_ben_int(o, l->addr.port);
	mg_ben_int(o, mac);
	mg_ben_end(o);
}

size_t mg_call_encode(const struct mg_call *c, char *buf, size_t cap)
{
	return mg_call_encode_sealed(c, NULL, buf, cap);
}

size_t mg_call_encode_sealed(const struct mg_call *c, const char *sealed, char *buf, size_t cap)
{
	struct mg_bencode_out o;
	mg_bencode_out_init(&o, buf, cap);
	mg_ben_dict_begin(&o);
	mg_ben_kv_int(&o, "v", 1);
	mg_ben_kv_str(&o, "call-id", c->call_id);
	mg_ben_kv_str(&o, "tag0", c->tag[0]);
	mg_ben_kv_str(&o, "tag1", c->tag[1]);
	mg_ben_kv_int(&o, "iface0", c->iface[0]);
	mg_ben_kv_int(&o, "iface1", c->iface[1]);
	mg_ben_kv_str(&o, "contact-id", c->contact_id);
	mg_ben_kv_str(&o, "instance", c->instance);
	mg_ben_kv_str(&o, "role0", c->role[0]);
	mg_ben_kv_str(&o, "role1", c->role[1]);
	mg_ben_kv_int(&o, "created", (int64_t)c->created);
	mg_ben_kv_int(&o, "answered", c->answered);
	mg_ben_str(&o, "media");
	mg_ben_list_begin(&o);
	for (unsigned i = 0; i < c->n_media; i++) {
		const struct mg_media *m = &c->media[i];
		mg_ben_dict_begin(&o);
		mg_ben_kv_str(&o, "type", m->type);
		mg_ben_kv_str(&o, "proto", m->proto);
		mg_ben_kv_int(&o, "rejected", m->rejected);
		mg_ben_str(&o, "legs");
		mg_ben_list_begin(&o);
		for (int side = 0; side < 2 && m->leg[0] && m->leg[1]; side++) {
			const struct mg_leg *l = m->leg[side];
			const struct mg_leg_cfg *cfg = &m->cfg[side];
			struct mg_latch rtp, rtcp;
			mg_dp_leg_snapshot(l, NULL, &rtp, &rtcp);
			mg_ben_dict_begin(&o);
			mg_ben_kv_int(&o, "port", l->rtp_port);
			put_endpoint(&o, "remote", cfg->remote_rtp);
			put_endpoint(&o, "remote-rtcp", cfg->remote_rtcp);
			mg_ben_kv_int(&o, "rtcp-mux", cfg->rtcp_mux);
			mg_ben_kv_int(&o, "block", cfg->block_media);
			mg_ben_kv_int(&o, "srtp", cfg->srtp);
			mg_ben_kv_int(&o, "published", l->published);
			put_latch(&o, "latch", &rtp);
			put_latch(&o, "latch-rtcp", &rtcp);
			mg_ben_end(&o);
		}
		mg_ben_end(&o);
		mg_ben_end(&o);
	}
	mg_ben_end(&o);
	if (sealed) /* SDES keys, SRTP state, personal data, sealed (session_secrets.c) */
		mg_ben_kv_str(&o, "sealed", sealed);
	if (sealed && c->pii && c->pii->ani_hash[0]) /* keyed: for the ANI index only */
		mg_ben_kv_str(&o, "ani-hash", c->pii->ani_hash);
	mg_call_encode_links(c, &o); /* conferences, pairings, recording (session_links.c) */
	mg_ben_end(&o);
	return mg_bencode_out_ok(&o) ? o.len : 0;
}

/* --- restore --- */

struct reader {
	struct mg_bencode_doc *doc;
	char *err;
	size_t errlen;
	bool bad;
};

static const struct mg_bencode_node *get(struct reader *r, const struct mg_bencode_node *d,
					 const char *k, int type)
{
	const struct mg_bencode_node *n = mg_bencode_dict_get(r->doc, d, k);
	if (!n || n->type != type) {
		if (!r->bad)
			snprintf(r->err, r->errlen, "state blob: '%s' missing or of the wrong type",
				 k);
		r->bad = true;
		return NULL;
	}
	return n;
}

static int64_t get_int(struct reader *r, const struct mg_bencode_node *d, const char *k)
{
	const struct mg_bencode_node *n = get(r, d, k, MG_BEN_INT);
	return n ? n->num : 0;
}

static void get_str(struct reader *r, const struct mg_bencode_node *d, const char *k, char *out,
		    size_t cap)
{
	const struct mg_bencode_node *n = get(r, d, k, MG_BEN_STR);
	if (n && !mg_bencode_str_copy(n, out, cap)) {
		snprintf(r->err, r->errlen, "state blob: '%s' too long", k);
		r->bad = true;
	}
}

static struct mg_endpoint get_endpoint(struct reader *r, const struct mg_bencode_node *d,
				       const char *k)
{
	struct mg_endpoint e = {0};
	const struct mg_bencode_node *l = get(r, d, k, MG_BEN_LIST);
	const struct mg_bencode_node *ip = mg_bencode_child(r->doc, l);
	const struct mg_bencode_node *port = mg_bencode_next(r->doc, ip);
	if (!ip || !port || ip->type != MG_BEN_INT || port->type != MG_BEN_INT || ip->num < 0 ||
	    ip->num > 0xffffffffll || port->num < 0 || port->num > 65535) {
		if (!r->bad)
			snprintf(r->err, r->errlen, "state blob: bad endpoint '%s'", k);
		r->bad = true;
		return e;
	}
	e.ip = (uint32_t)ip->num;
	e.port = (uint16_t)port->num;
	return e;
}

static void get_latch(struct reader *r, const struct mg_bencode_node *d, const char *k,
		      struct mg_latch *l)
{
	memset(l, 0, sizeof(*l));
	const struct mg_bencode_node *n = mg_bencode_dict_get(r->doc, d, k);
	if (!n)
		return; /* not latched */
	const struct mg_bencode_node *ip = mg_bencode_child(r->doc, n);
	const struct mg_bencode_node *port = mg_bencode_next(r->doc, ip);
	const struct mg_bencode_node *mac = mg_bencode_next(r->doc, port);
	if (!ip || !port || !mac || ip->type != MG_BEN_INT || port->type != MG_BEN_INT ||
	    mac->type != MG_BEN_INT) {
		snprintf(r->err, r->errlen, "state blob: bad latch '%s'", k);
		r->bad = true;
		return;
	}
	l->addr.ip = (uint32_t)ip->num;
	l->addr.port = (uint16_t)port->num;
	for (int i = 5; i >= 0; i--)
		l->mac.b[5 - i] = (uint8_t)(mac->num >> (8 * i));
	l->latched = true;
}

int mg_call_restore(struct mg_sessions *s, const char *blob, size_t len, char *err, size_t errlen)
{
	static struct mg_bencode_node nodes[1024];
	struct mg_bencode_doc doc = {.nodes = nodes, .capacity = 1024};
	struct reader r = {.doc = &doc, .err = err, .errlen = errlen};
	if (mg_bencode_decode(&doc, blob, len) < 0 || doc.nodes[0].type != MG_BEN_DICT) {
		snprintf(err, errlen, "state blob: %s",
			 doc.error[0] ? doc.error : "not a dictionary");
		return -1;
	}
	const struct mg_bencode_node *root = &doc.nodes[0];
	if (get_int(&r, root, "v") != 1 && !r.bad) {
		snprintf(err, errlen, "state blob: unknown version");
		return -1;
	}
	char call_id[MG_CALL_ID_MAX], tag0[MG_TAG_MAX];
	get_str(&r, root, "call-id", call_id, sizeof(call_id));
	get_str(&r, root, "tag0", tag0, sizeof(tag0));
	if (r.bad)
		return -1;
	if (mg_call_lookup(s, call_id)) {
		snprintf(err, errlen, "call '%s' exists already", call_id);
		return -1;
	}
	struct mg_call *c = mg_call_create(s, call_id, tag0);
	if (!c) {
		snprintf(err, errlen, "cannot create call '%s'", call_id);
		return -1;
	}
	get_str(&r, root, "tag1", c->tag[1], sizeof(c->tag[1]));
	int64_t if0 = get_int(&r, root, "iface0"), if1 = get_int(&r, root, "iface1");
	unsigned n_if = mg_dp_interface_count(mg_sessions_dataplane(s));
	if (if0 < 0 || if1 < 0 || if0 >= n_if || if1 >= n_if) {
		snprintf(err, errlen, "call '%s': interface index not in this profile", call_id);
		r.bad = true;
	}
	c->iface[0] = (uint8_t)if0;
	c->iface[1] = (uint8_t)if1;
	get_str(&r, root, "contact-id", c->contact_id, sizeof(c->contact_id));
	get_str(&r, root, "instance", c->instance, sizeof(c->instance));
	get_str(&r, root, "role0", c->role[0], sizeof(c->role[0]));
	get_str(&r, root, "role1", c->role[1], sizeof(c->role[1]));
	c->created = (time_t)get_int(&r, root, "created");
	c->answered = get_int(&r, root, "answered") != 0;
	/* SRTP keys and stream state: when they cannot be opened the call still comes back,
	 * its SRTP legs without keys (they drop, never plaintext); counted, the
	 * first reason goes to the restore report */
	static struct mg_call_secrets secrets;
	secrets.ok = false;
	const struct mg_bencode_node *sealed = mg_bencode_dict_get(&doc, root, "sealed");
	char keys_err[200];
	if (!r.bad && sealed && sealed->type == MG_BEN_STR)
		mg_call_secrets_open(s, c, sealed->str, sealed->str_len, &secrets, keys_err,
				     sizeof(keys_err));
	mg_call_decode_place(s, &doc, root, c); /* the legs go back to their worker */
	const struct mg_bencode_node *media = get(&r, root, "media", MG_BEN_LIST);
	unsigned i = 0;
	for (const struct mg_bencode_node *md = mg_bencode_child(&doc, media); md && !r.bad;
	     md = mg_bencode_next(&doc, md), i++) {
		if (i >= MG_CALL_MAX_MEDIA || md->type != MG_BEN_DICT) {
			snprintf(err, errlen, "call '%s': bad media list", call_id);
			r.bad = true;
			break;
		}
		struct mg_media *m = &c->media[i];
		get_str(&r, md, "type", m->type, sizeof(m->type));
		get_str(&r, md, "proto", m->proto, sizeof(m->proto));
		m->rejected = get_int(&r, md, "rejected") != 0;
		if (c->n_media <= i)
			c->n_media = i + 1;
		const struct mg_bencode_node *legs = get(&r, md, "legs", MG_BEN_LIST);
		const struct mg_bencode_node *l0 = mg_bencode_child(&doc, legs);
		const struct mg_bencode_node *l1 = mg_bencode_next(&doc, l0);
		if (r.bad || !l0)
			continue; /* a media section without legs (rejected) */
		if (!l1 || l0->type != MG_BEN_DICT || l1->type != MG_BEN_DICT) {
			snprintf(err, errlen, "call '%s': media %u needs two legs", call_id, i + 1);
			r.bad = true;
			break;
		}
		int64_t p0 = get_int(&r, l0, "port"), p1 = get_int(&r, l1, "port");
		if (r.bad || p0 <= 0 || p0 > 65535 || p1 <= 0 || p1 > 65535 ||
		    mg_call_media_ensure_at(s, c, i, (uint16_t)p0, (uint16_t)p1) < 0) {
			if (!r.bad)
				snprintf(err, errlen, "call '%s': ports %lld/%lld not available",
					 call_id, (long long)p0, (long long)p1);
			r.bad = true;
			break;
		}
		const struct mg_bencode_node *ld[2] = {l0, l1};
		for (int side = 0; side < 2 && !r.bad; side++) {
			struct mg_leg_cfg cfg;
			memset(&cfg, 0, sizeof(cfg));
			cfg.remote_rtp = get_endpoint(&r, ld[side], "remote");
			cfg.remote_rtcp = get_endpoint(&r, ld[side], "remote-rtcp");
			cfg.rtcp_mux = get_int(&r, ld[side], "rtcp-mux") != 0;
			cfg.block_media = get_int(&r, ld[side], "block") != 0;
			/* an SRTP leg whose keys were not restored comes back without them,
			 * which drops its media (counted) rather than sending plaintext */
			cfg.srtp = get_int(&r, ld[side], "srtp") != 0;
			get_latch(&r, ld[side], "latch", &cfg.saved_rtp_latch);
			get_latch(&r, ld[side], "latch-rtcp", &cfg.saved_rtcp_latch);
			cfg.restore_latch = true;
			/* SRTP contexts come later (mg_sessions_restore_pending): the
			 * leg drops (srtp_no_key) until then */
			if (!r.bad && get_int(&r, ld[side], "published"))
				mg_call_configure(s, c, i, side, &cfg);
		}
	}
	if (!r.bad) {
		char ani_hash[68] = "";
		const struct mg_bencode_node *h = mg_bencode_dict_get(&doc, root, "ani-hash");
		mg_call_secrets_restore_pii(
		    s, c, &secrets,
		    h && mg_bencode_str_copy(h, ani_hash, sizeof(ani_hash)) ? ani_hash : NULL);
	}
	if (!r.bad && mg_call_decode_links(&doc, root, c, err, errlen) < 0)
		r.bad = true;
	if (!r.bad)
		mg_call_pending_add(s, c, &secrets);
	mg_call_secrets_free(&secrets);
	if (r.bad) {
		mg_call_links_free(c);
		mg_call_delete(s, c);
		return -1;
	}
	return 0;
}
