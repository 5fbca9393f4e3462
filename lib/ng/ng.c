#include "ng.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bencode.h"
#include "ng_conf.h"
#include "ng_rec.h"
#include "sdes.h"
#include "ng_webrtc.h"
#include "sdp.h"
#include "srtp.h"

#define NG_MAX_NODES	 4096
#define NG_MAX_DATAGRAM	 65000
#define NG_COOKIE_MAX	 64
#define NG_CACHE_SLOTS	 512
#define NG_CACHE_SECONDS 30
#define NG_LIST_DEFAULT	 32

/* clang-format off */
static const char *const cmd_names[MG_NG_CMD_COUNT] = {
    "ping",	   "offer",	    "answer",	       "delete",	 "query",   "list",
    "block media", "unblock media", "start recording", "stop recording",
    /* conferences and transfers: ng_conf.c */
    "join conference", "leave conference", "conference hold", "conference unhold",
    "conference mute", "conference unmute", "connect", "unknown",
};
/* clang-format on */

const char *mg_ng_cmd_name(enum mg_ng_cmd c)
{
	return (unsigned)c < MG_NG_CMD_COUNT ? cmd_names[c] : "unknown";
}

/* A retransmitted request (same cookie) gets the same answer without being executed
 * twice: SIP proxies retransmit when an answer is slow or lost. */
struct cached_answer {
	char cookie[NG_COOKIE_MAX];
	time_t when;
	size_t len;
	char *answer;
};

struct mg_ng {
	struct mg_sessions *sessions;
	struct mg_dataplane *dp;
	struct mg_profile profile;
	int fd;
	struct mg_ng_stats stats;
	struct cached_answer cache[NG_CACHE_SLOTS];
	unsigned cache_next;
	struct mg_bencode_node nodes[NG_MAX_NODES];
	struct mg_bencode_doc doc;
	struct mg_sdp sdp;
	char sdp_out[MG_SDP_MAX_SIZE * 2];
	char in[NG_MAX_DATAGRAM + 1], out[NG_MAX_DATAGRAM];
	struct mg_webrtc *webrtc;     /* ICE-lite + DTLS-SRTP legs (ng_webrtc.c); NULL: refused */
	struct mg_recorder *recorder; /* NULL: recording off */
	uint32_t source_ip; /* of the request being handled (host order; 0 = not a socket) */
};

/* Options of one offer/answer, from the dictionary and its "flags" list. */
struct ng_opts {
	char call_id[MG_CALL_ID_MAX], from_tag[MG_TAG_MAX], to_tag[MG_TAG_MAX];
	const struct mg_bencode_node *sdp;
	bool replace_origin, replace_session_conn;
	bool no_rtcp_attr, full_rtcp_attr;
	bool sip_source, trust_address;
	bool ice_force;
	bool rtcp_mux_offer, rtcp_mux_demux;
	bool all;
	uint32_t received_from;
	char direction[2][32];
	char transport[32];
	char contact_id[MG_EXT_MAX], instance[MG_EXT_MAX], role[16];
	bool sdes_off;
	uint32_t sdes_no, sdes_only; /* bit per enum mg_srtp_suite */
	struct mg_ng_webrtc_opts webrtc;
	/* personal data (docs/ng-protocol.md): validated strings / a dictionary of strings */
	const struct mg_bencode_node *ani, *dnis, *external_number, *contact_attributes;
};

struct mg_ng *mg_ng_create(struct mg_sessions *sessions, const struct mg_profile *profile)
{
	struct mg_ng *ng = calloc(1, sizeof(*ng));
	if (!ng)
		return NULL;
	ng->sessions = sessions;
	ng->dp = mg_sessions_dataplane(sessions);
	ng->profile = *profile;
	ng->fd = -1;
	ng->doc.nodes = ng->nodes;
	ng->doc.capacity = NG_MAX_NODES;
	ng->webrtc = mg_ng_webrtc_create(sessions);
	return ng;
}

void mg_ng_destroy(struct mg_ng *ng)
{
	if (!ng)
		return;
	if (ng->fd >= 0)
		close(ng->fd);
	mg_ng_webrtc_destroy(ng->webrtc, ng->sessions);
	for (unsigned i = 0; i < NG_CACHE_SLOTS; i++)
		free(ng->cache[i].answer);
	free(ng);
}

void mg_ng_get_stats(const struct mg_ng *ng, struct mg_ng_stats *out)
{
	*out = ng->stats;
}

int mg_ng_fd(const struct mg_ng *ng)
{
	return ng->fd;
}

/* --- answer helpers --- */

static void begin_ok(struct mg_bencode_out *o)
{
	mg_ben_dict_begin(o);
	mg_ben_kv_str(o, "result", "ok");
}

static void error_answer(struct mg_ng *ng, struct mg_bencode_out *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error_answer(struct mg_ng *ng, struct mg_bencode_out *o, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	o->len = 0;
	o->overflow = false;
	mg_ben_dict_begin(o);
	mg_ben_kv_str(o, "result", "error");
	mg_ben_kv_str(o, "error-reason", reason);
	mg_ben_end(o);
	ng->stats.errors++;
}

/* Flag names are compared case-insensitively with ' ' and '_' equal to '-', as
 * rtpengine does ("trust address", "trust-address"). */
static void normalise(const char *in, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		char c = in[i];
		out[k++] = (c == ' ' || c == '_') ? '-' : (char)tolower((unsigned char)c);
	}
	out[k] = '\0';
}

static bool node_is(const struct mg_bencode_node *n, const char *name)
{
	char buf[64];
	if (!n || n->type != MG_BEN_STR || n->str_len >= sizeof(buf))
		return false;
	normalise(n->str, n->str_len, buf, sizeof(buf));
	return !strcmp(buf, name);
}

/* "off", "no-SUITE", "only-SUITE" (rtpengine's SDES options, from the "SDES" list or
 * from "SDES-..." flags). Unknown options are ignored like other unknown flags. */
static void apply_sdes_option(struct ng_opts *o, const char *opt, size_t len)
{
	char buf[64];
	if (len >= sizeof(buf))
		return;
	memcpy(buf, opt, len);
	buf[len] = '\0';
	if (!strcasecmp(buf, "off")) {
		o->sdes_off = true;
	} else if (!strncasecmp(buf, "no-", 3) || !strncasecmp(buf, "only-", 5)) {
		bool only = buf[0] == 'o' || buf[0] == 'O';
		const char *name = buf + (only ? 5 : 3);
		enum mg_srtp_suite suite = mg_srtp_suite_by_name(name, strlen(name));
		if (suite != MG_SRTP_SUITE_NONE)
			*(only ? &o->sdes_only : &o->sdes_no) |= 1u << suite;
	}
}

static void apply_flag(struct ng_opts *o, const struct mg_bencode_node *f)
{
	char name[64];
	if (f->type != MG_BEN_STR || f->str_len >= sizeof(name))
		return;
	normalise(f->str, f->str_len, name, sizeof(name));
	if (!strcmp(name, "trust-address"))
		o->trust_address = true;
	else if (!strcmp(name, "sip-source-address"))
		o->sip_source = true;
	else if (!strcmp(name, "no-rtcp-attribute"))
		o->no_rtcp_attr = true;
	else if (!strcmp(name, "full-rtcp-attribute"))
		o->full_rtcp_attr = true;
	else if (!strcmp(name, "replace-origin"))
		o->replace_origin = true;
	else if (!strcmp(name, "replace-session-connection"))
		o->replace_session_conn = true;
	else if (!strcmp(name, "all"))
		o->all = true;
	else if (!strncmp(name, "transport-protocol=", 19))
		snprintf(o->transport, sizeof(o->transport), "%s", f->str + 19);
	else if (!strcmp(name, "ice=force"))
		o->ice_force = true;
	else if (!strcmp(name, "rtcp-mux-offer"))
		o->rtcp_mux_offer = true;
	else if (!strcmp(name, "rtcp-mux-demux"))
		o->rtcp_mux_demux = true;
	else if (!strncmp(name, "sdes-", 5))
		apply_sdes_option(o, f->str + 5, f->str_len - 5);
	else if (!strcmp(name, "rtp/avp") || !strcmp(name, "rtp/savp") ||
		 !strcmp(name, "rtp/avpf") || !strcmp(name, "rtp/savpf"))
		/* Kamailio's flag string names the target profile directly */
		snprintf(o->transport, sizeof(o->transport), "%.*s", (int)f->str_len, f->str);
	else
		mg_ng_webrtc_flag(&o->webrtc, name); /* ICE=remove, DTLS=passive/off */
	/* Other flags (symmetric, asymmetric, port-latching, loop-protect, strict-source,
	 * codec and DTMF options...) do not change plain relaying and are accepted. */
}

/* ani, dnis, external-number: strings shorter than MG_PII_NUMBER_MAX; contact-attributes:
 * a dictionary of strings that fits MG_PII_ATTRS_MAX once encoded. */
static int read_pii_opts(struct mg_ng *ng, const struct mg_bencode_node *root, struct ng_opts *o,
			 struct mg_bencode_out *out)
{
	struct mg_bencode_doc *d = &ng->doc;
	static const char *const keys[] = {"ani", "dnis", "external-number"};
	const struct mg_bencode_node **dst[] = {&o->ani, &o->dnis, &o->external_number};
	for (int i = 0; i < 3; i++) {
		const struct mg_bencode_node *n = mg_bencode_dict_get(d, root, keys[i]);
		if (n && (n->type != MG_BEN_STR || n->str_len >= MG_PII_NUMBER_MAX ||
			  memchr(n->str, '\0', n->str_len))) {
			error_answer(ng, out, "%s must be a string of less than %d bytes", keys[i],
				     MG_PII_NUMBER_MAX);
			return -1;
		}
		*dst[i] = n;
	}
	const struct mg_bencode_node *a = mg_bencode_dict_get(d, root, "contact-attributes");
	size_t size = 2;
	for (const struct mg_bencode_node *v = a ? mg_bencode_child(d, a) : NULL; v;
	     v = mg_bencode_next(d, v)) {
		if (v->type != MG_BEN_STR) {
			size = MG_PII_ATTRS_MAX;
			break;
		}
		size += v->key_len + v->str_len + 24;
	}
	if (a && (a->type != MG_BEN_DICT || size >= MG_PII_ATTRS_MAX)) {
		error_answer(ng, out,
			     "contact-attributes must be a dictionary of strings (under %d bytes)",
			     MG_PII_ATTRS_MAX);
		return -1;
	}
	o->contact_attributes = a;
	return 0;
}

/* Stores the request's personal data on the call (sealed before it reaches Redis). */
static int apply_pii(struct mg_ng *ng, struct mg_call *c, const struct ng_opts *o)
{
	char ani[MG_PII_NUMBER_MAX], dnis[MG_PII_NUMBER_MAX], ext[MG_PII_NUMBER_MAX];
	char attrs[MG_PII_ATTRS_MAX];
	size_t attrs_len = 0;
	if (o->contact_attributes) {
		struct mg_bencode_out b;
		mg_bencode_out_init(&b, attrs, sizeof(attrs));
		mg_ben_dict_begin(&b);
		for (const struct mg_bencode_node *v =
			 mg_bencode_child(&ng->doc, o->contact_attributes);
		     v; v = mg_bencode_next(&ng->doc, v)) {
			mg_ben_strn(&b, v->key, v->key_len);
			mg_ben_strn(&b, v->str, v->str_len);
		}
		mg_ben_end(&b);
		attrs_len = mg_bencode_out_ok(&b) ? b.len : 0;
	}
	int rc = mg_call_set_pii(
	    ng->sessions, c, o->ani && mg_bencode_str_copy(o->ani, ani, sizeof(ani)) ? ani : NULL,
	    o->dnis && mg_bencode_str_copy(o->dnis, dnis, sizeof(dnis)) ? dnis : NULL,
	    o->external_number && mg_bencode_str_copy(o->external_number, ext, sizeof(ext)) ? ext
											    : NULL,
	    o->contact_attributes ? attrs : NULL, attrs_len);
	explicit_bzero(ani, sizeof(ani));
	explicit_bzero(dnis, sizeof(dnis));
	explicit_bzero(ext, sizeof(ext));
	explicit_bzero(attrs, sizeof(attrs));
	return rc;
}

static int read_opts(struct mg_ng *ng, const struct mg_bencode_node *root, struct ng_opts *o,
		     struct mg_bencode_out *out)
{
	const struct mg_bencode_doc *d = &ng->doc;
	memset(o, 0, sizeof(*o));
	const struct mg_bencode_node *n;
	if ((n = mg_bencode_dict_get(d, root, "call-id")) &&
	    !mg_bencode_str_copy(n, o->call_id, sizeof(o->call_id))) {
		error_answer(ng, out, "call-id is not a string of less than %d bytes",
			     MG_CALL_ID_MAX);
		return -1;
	}
	if ((n = mg_bencode_dict_get(d, root, "from-tag")) &&
	    !mg_bencode_str_copy(n, o->from_tag, sizeof(o->from_tag))) {
		error_answer(ng, out, "from-tag is not a string of less than %d bytes", MG_TAG_MAX);
		return -1;
	}
	if ((n = mg_bencode_dict_get(d, root, "to-tag")) &&
	    !mg_bencode_str_copy(n, o->to_tag, sizeof(o->to_tag))) {
		error_answer(ng, out, "to-tag is not a string of less than %d bytes", MG_TAG_MAX);
		return -1;
	}
	o->sdp = mg_bencode_dict_get(d, root, "sdp");
	for (n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "flags")); n;
	     n = mg_bencode_next(d, n))
		apply_flag(o, n);
	for (n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "replace")); n;
	     n = mg_bencode_next(d, n)) {
		if (node_is(n, "origin"))
			o->replace_origin = true;
		else if (node_is(n, "session-connection"))
			o->replace_session_conn = true;
	}
	for (n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "SDES")); n;
	     n = mg_bencode_next(d, n))
		if (n->type == MG_BEN_STR)
			apply_sdes_option(o, n->str, n->str_len);
	for (n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "rtcp-mux")); n;
	     n = mg_bencode_next(d, n)) {
		if (node_is(n, "offer"))
			o->rtcp_mux_offer = true;
		else if (node_is(n, "demux"))
			o->rtcp_mux_demux = true;
	}
	if ((n = mg_bencode_dict_get(d, root, "ICE")) && node_is(n, "force"))
		o->ice_force = true;
	if ((n = mg_bencode_dict_get(d, root, "ICE")) && node_is(n, "remove"))
		o->webrtc.ice_remove = true;
	if ((n = mg_bencode_dict_get(d, root, "DTLS")) && node_is(n, "passive"))
		o->webrtc.dtls_passive = true;
	if ((n = mg_bencode_dict_get(d, root, "DTLS")) && (node_is(n, "off") || node_is(n, "no")))
		o->webrtc.dtls_off = true;
	o->webrtc.ice_force = o->ice_force;
	o->webrtc.rtcp_mux_demux = o->rtcp_mux_demux;
	if ((n = mg_bencode_dict_get(d, root, "transport-protocol")) ||
	    (n = mg_bencode_dict_get(d, root, "transport protocol")))
		mg_bencode_str_copy(n, o->transport, sizeof(o->transport));
	n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "direction"));
	for (int i = 0; n && i < 2; i++, n = mg_bencode_next(d, n))
		mg_bencode_str_copy(n, o->direction[i], sizeof(o->direction[i]));
	/* received-from: ["IP4", "a.b.c.d"] */
	n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "received-from"));
	if (n && (n = mg_bencode_next(d, n))) {
		char addr[48];
		if (mg_bencode_str_copy(n, addr, sizeof(addr)))
			mg_ipv4_parse(addr, &o->received_from);
	}
	/* contact-center extensions */
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "contact-id"), o->contact_id,
			    sizeof(o->contact_id));
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "instance"), o->instance,
			    sizeof(o->instance));
	if ((n = mg_bencode_dict_get(d, root, "leg-role"))) {
		static const char *const roles[] = {"customer", "agent", "third-party", "ivr"};
		bool ok = false;
		for (size_t i = 0; i < 4; i++)
			ok |= mg_bencode_str_eq(n, roles[i]);
		if (!ok) {
			error_answer(ng, out,
				     "leg-role must be customer, agent, third-party or ivr");
			return -1;
		}
		mg_bencode_str_copy(n, o->role, sizeof(o->role));
	}
	return read_pii_opts(ng, root, o, out);
}

static bool addr_is_any(uint32_t ip)
{
	return ip == 0;
}

/* --- offer / answer --- */

static int pick_interfaces(struct mg_ng *ng, struct mg_call *c, const struct ng_opts *o,
			   struct mg_bencode_out *out)
{
	for (int i = 0; i < 2; i++) {
		if (!o->direction[i][0]) {
			c->iface[i] = 0;
			continue;
		}
		int idx = mg_profile_interface_index(&ng->profile, o->direction[i]);
		if (idx < 0) {
			error_answer(ng, out, "unknown interface '%s' in direction",
				     o->direction[i]);
			return -1;
		}
		c->iface[i] = (uint8_t)idx;
	}
	return 0;
}

static uint32_t advertised_address(struct mg_ng *ng, unsigned iface)
{
	const struct mg_interface_cfg *ifc = mg_dp_interface(ng->dp, iface);
	return ifc->advertised ? ifc->advertised : ifc->address;
}

static bool proto_supported(enum mg_sdp_proto p)
{
	return p == MG_SDP_PROTO_RTP_AVP || p == MG_SDP_PROTO_RTP_AVPF || p == MG_SDP_PROTO_UDP ||
	       p == MG_SDP_PROTO_RTP_SAVP || p == MG_SDP_PROTO_RTP_SAVPF ||
	       p == MG_SDP_PROTO_UDP_TLS_RTP_SAVP || p == MG_SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

static bool proto_is_srtp(const char *proto)
{
	return !strcmp(proto, "RTP/SAVP") || !strcmp(proto, "RTP/SAVPF");
}

/* --- SDES (RFC 4568) ---
 * mediagate terminates SRTP on every SDES leg: it decrypts with the key the remote
 * offered or answered and encrypts with a fresh key of its own, generated for that
 * leg only. */

static bool suite_allowed(const struct ng_opts *o, enum mg_srtp_suite s)
{
	if (s == MG_SRTP_SUITE_NONE || (o->sdes_no & (1u << s)))
		return false;
	return !o->sdes_only || (o->sdes_only & (1u << s));
}

/* Our preference when offering SDES to a side whose peer offered none (RTP -> SRTP). */
static const enum mg_srtp_suite default_suites[] = {
    MG_SRTP_AES_CM_128_HMAC_SHA1_80, MG_SRTP_AES_CM_128_HMAC_SHA1_32,
    MG_SRTP_AEAD_AES_128_GCM,	     MG_SRTP_AEAD_AES_256_GCM,
    MG_SRTP_AES_256_CM_HMAC_SHA1_80, MG_SRTP_AES_256_CM_HMAC_SHA1_32,
};

/* Parses the section's a=crypto lines; keeps the usable ones (supported suite, one
 * master key, allowed by the flags). Returns how many, or -1 with the answer written
 * when a line is malformed. */
static int collect_crypto(struct mg_ng *ng, struct mg_sdp *sdp, unsigned media,
			  const struct ng_opts *o, struct mg_sdes_crypto *list, unsigned max,
			  struct mg_bencode_out *out)
{
	unsigned cursor = 0, n = 0;
	struct mg_sdp_str v;
	while (mg_sdp_attr_next(sdp, (int)media, "crypto", &cursor, &v)) {
		struct mg_sdes_crypto c;
		enum mg_sdes_error e = mg_sdes_parse(v.ptr, v.len, &c, NULL);
		if (e != MG_SDES_OK) {
			mg_sdes_wipe(&c);
			/* a suite or parameter we do not support is skipped, as RFC 4568 asks;
			 * a broken line is an error */
			if (c.suite == MG_SRTP_SUITE_NONE && c.suite_name[0])
				continue;
			error_answer(ng, out, "media %u: bad a=crypto: %s", media + 1,
				     mg_sdes_strerror(e));
			return -1;
		}
		if (c.n_keys != 1 || !suite_allowed(o, c.suite) || n == max) {
			mg_sdes_wipe(&c);
			continue;
		}
		list[n++] = c;
	}
	return (int)n;
}

static int build_ctx(struct mg_ng *ng, const struct mg_sdes_crypto *c, mg_srtp_ctx **out)
{
	struct mg_srtp_key_params params;
	if (mg_sdes_key_params(c, 0, &params) != MG_SDES_OK)
		return -1;
	mg_srtp_ctx *ctx = mg_dp_srtp_ctx_alloc();
	if (!ctx)
		return -1;
	if (mg_srtp_ctx_init(ctx, mg_dp_control_srtp_engine(ng->dp), &params) != 0) {
		mg_dp_srtp_ctx_free(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

static bool same_key(const struct mg_sdes_crypto *a, const struct mg_sdes_crypto *b)
{
	return a->suite == b->suite && a->tag == b->tag &&
	       a->keys[0].key_salt_len == b->keys[0].key_salt_len &&
	       !memcmp(a->keys[0].key_salt, b->keys[0].key_salt, a->keys[0].key_salt_len) &&
	       a->keys[0].mki_len == b->keys[0].mki_len &&
	       a->keys[0].mki_value == b->keys[0].mki_value;
}

/* Installs the negotiated keys of one side into its leg configuration, keeping the
 * existing contexts (and so their ROC and replay state) when the keys did not change. */
static int set_side_keys(struct mg_ng *ng, struct mg_side_crypto *sc, struct mg_leg_cfg *cfg,
			 const struct mg_sdes_crypto *remote, const struct mg_sdes_crypto *ours)
{
	bool keep_in = sc->negotiated && cfg->srtp_in && same_key(&sc->chosen_remote, remote);
	bool keep_out = sc->negotiated && cfg->srtp_out && same_key(&sc->chosen_ours, ours);
	mg_srtp_ctx *in = cfg->srtp_in, *out = cfg->srtp_out;
	if (!keep_in && build_ctx(ng, remote, &in) < 0)
		return -1;
	if (!keep_out && build_ctx(ng, ours, &out) < 0) {
		if (!keep_in)
			mg_dp_srtp_ctx_free(in);
		return -1;
	}
	if (&sc->chosen_remote != remote)
		sc->chosen_remote = *remote;
	if (&sc->chosen_ours != ours)
		sc->chosen_ours = *ours;
	sc->negotiated = true;
	cfg->srtp = true;
	cfg->srtp_in = in;
	cfg->srtp_out = out;
	return 0;
}

static int add_crypto_line(struct mg_sdp *sdp, unsigned media, const struct mg_sdes_crypto *c)
{
	char line[MG_SDES_MAX_LINE];
	size_t n;
	if (mg_sdes_format(c, line, sizeof(line), &n) != MG_SDES_OK)
		return -1;
	int rc = mg_sdp_add_attr(sdp, (int)media, "crypto", line) == MG_SDP_OK ? 0 : -1;
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* Offer: remember what the offerer offered; offer our own keys to the other side if it
 * is to get SRTP. */
static int sdes_offer(struct mg_ng *ng, struct mg_call *c, unsigned i, int src, int dst,
		      const struct ng_opts *o, const char *src_proto, const char *dst_proto,
		      struct mg_leg_cfg *src_cfg, struct mg_leg_cfg *dst_cfg,
		      struct mg_bencode_out *out)
{
	struct mg_media *m = &c->media[i];
	struct mg_sdp *sdp = &ng->sdp;
	enum mg_srtp_suite suites[MG_MAX_CRYPTO_OFFER];
	unsigned n_suites = 0;
	src_cfg->srtp = proto_is_srtp(src_proto);
	if (src_cfg->srtp) {
		struct mg_side_crypto *sc = mg_media_crypto(m, src);
		if (!sc)
			goto oom;
		int n = collect_crypto(ng, sdp, i, o, sc->remote, MG_MAX_CRYPTO_OFFER, out);
		if (n < 0)
			return -1;
		if (n == 0) {
			error_answer(ng, out, "media %u: %s without a usable a=crypto line", i + 1,
				     src_proto);
			return -1;
		}
		sc->n_remote = (unsigned)n;
		for (unsigned k = 0; k < sc->n_remote; k++) {
			bool dup = false;
			for (unsigned j = 0; j < n_suites; j++)
				dup |= suites[j] == sc->remote[k].suite;
			if (!dup)
				suites[n_suites++] = sc->remote[k].suite;
		}
	} else {
		for (size_t k = 0; k < sizeof(default_suites) / sizeof(default_suites[0]); k++)
			if (suite_allowed(o, default_suites[k]))
				suites[n_suites++] = default_suites[k];
	}
	mg_sdp_remove_attr(sdp, (int)i, "crypto", NULL);
	dst_cfg->srtp = proto_is_srtp(dst_proto);
	if (!dst_cfg->srtp)
		return 0;
	if (o->sdes_off || n_suites == 0) {
		error_answer(ng, out,
			     "media %u: %s requested but SDES is off or every suite is "
			     "excluded",
			     i + 1, dst_proto);
		return -1;
	}
	struct mg_side_crypto *dc = mg_media_crypto(m, dst);
	if (!dc)
		goto oom;
	/* A re-offer keeps the keys already offered when the suites did not change. */
	bool same = dc->n_ours == n_suites;
	for (unsigned k = 0; same && k < n_suites; k++)
		same = dc->ours[k].suite == suites[k];
	if (!same) {
		for (unsigned k = 0; k < dc->n_ours; k++)
			mg_sdes_wipe(&dc->ours[k]);
		dc->n_ours = 0;
		for (unsigned k = 0; k < n_suites; k++)
			if (mg_sdes_generate(k + 1, suites[k], &dc->ours[dc->n_ours]) == MG_SDES_OK)
				dc->n_ours++;
		if (dc->n_ours != n_suites)
			goto oom;
	}
	for (unsigned k = 0; k < dc->n_ours; k++)
		if (add_crypto_line(sdp, i, &dc->ours[k]) < 0)
			goto oom;
	return 0;
oom:
	error_answer(ng, out, "media %u: cannot set up SDES keys", i + 1);
	return -1;
}

/* Answer: the answerer picked one of our lines (or none); the offerer gets our key for
 * the suite it offered, preferably the one the answerer chose. */
static int sdes_answer(struct mg_ng *ng, struct mg_call *c, unsigned i, int src, int dst,
		       const struct ng_opts *o, const char *src_proto, struct mg_leg_cfg *src_cfg,
		       struct mg_leg_cfg *dst_cfg, struct mg_bencode_out *out)
{
	struct mg_media *m = &c->media[i];
	struct mg_sdp *sdp = &ng->sdp;
	enum mg_srtp_suite answered = MG_SRTP_SUITE_NONE;
	if (proto_is_srtp(src_proto)) {
		struct mg_side_crypto *sc = m->crypto[src];
		struct mg_sdes_crypto chosen[1];
		int n = collect_crypto(ng, sdp, i, o, chosen, 1, out);
		if (n < 0)
			return -1;
		const struct mg_sdes_crypto *ours = NULL;
		for (unsigned k = 0; sc && n == 1 && k < sc->n_ours; k++)
			if (sc->ours[k].tag == chosen[0].tag &&
			    sc->ours[k].suite == chosen[0].suite)
				ours = &sc->ours[k];
		if (!ours) {
			if (n == 1)
				mg_sdes_wipe(&chosen[0]);
			error_answer(ng, out,
				     "media %u: the answer's a=crypto matches no line "
				     "mediagate offered",
				     i + 1);
			return -1;
		}
		int rc = set_side_keys(ng, sc, src_cfg, &chosen[0], ours);
		mg_sdes_wipe(&chosen[0]);
		if (rc < 0)
			goto oom;
		answered = ours->suite;
	} else {
		/* plain RTP from the answerer, whatever was offered to it */
		src_cfg->srtp = false;
		src_cfg->srtp_in = src_cfg->srtp_out = NULL;
	}
	mg_sdp_remove_attr(sdp, (int)i, "crypto", NULL);
	struct mg_side_crypto *dc = m->crypto[dst];
	if (!dst_cfg->srtp || !dc || dc->n_remote == 0)
		return 0;
	const struct mg_sdes_crypto *pick = &dc->remote[0];
	for (unsigned k = 0; k < dc->n_remote; k++)
		if (dc->remote[k].suite == answered) {
			pick = &dc->remote[k];
			break;
		}
	struct mg_sdes_crypto ours;
	if (dc->negotiated && dc->chosen_ours.suite == pick->suite &&
	    dc->chosen_ours.tag == pick->tag)
		ours = dc->chosen_ours; /* re-answer: same keys, same contexts */
	else if (mg_sdes_generate(pick->tag, pick->suite, &ours) != MG_SDES_OK)
		goto oom;
	int rc = set_side_keys(ng, dc, dst_cfg, pick, &ours);
	rc = rc < 0 ? rc : add_crypto_line(sdp, i, &ours);
	mg_sdes_wipe(&ours);
	if (rc < 0)
		goto oom;
	return 0;
oom:
	error_answer(ng, out, "media %u: cannot set up SRTP keys", i + 1);
	return -1;
}

static void handle_offer_answer(struct mg_ng *ng, const struct mg_bencode_node *root, bool answer,
				struct mg_bencode_out *out)
{
	struct ng_opts o;
	if (read_opts(ng, root, &o, out) < 0)
		return;
	if (!o.call_id[0] || !o.from_tag[0]) {
		error_answer(ng, out, "call-id and from-tag are required");
		return;
	}
	if (answer && !o.to_tag[0]) {
		error_answer(ng, out, "answer without to-tag");
		return;
	}
	if (!o.sdp || o.sdp->type != MG_BEN_STR) {
		error_answer(ng, out, "no SDP body");
		return;
	}
	if (o.transport[0] && strcmp(o.transport, "RTP/AVP") && strcmp(o.transport, "RTP/AVPF") &&
	    !proto_is_srtp(o.transport) && !mg_ng_webrtc_is_dtls_proto(o.transport)) {
		error_answer(ng, out,
			     "transport-protocol %s is not supported (RTP/AVP(F), "
			     "RTP/SAVP(F) and UDP/TLS/RTP/SAVP(F) are)",
			     o.transport);
		return;
	}
	struct mg_sdp *sdp = &ng->sdp;
	if (mg_sdp_parse(sdp, o.sdp->str, o.sdp->str_len) != MG_SDP_OK) {
		error_answer(ng, out, "Failed to parse SDP: %s", mg_sdp_error(sdp));
		return;
	}
	unsigned n_media = mg_sdp_media_count(sdp);
	if (n_media == 0 || n_media > MG_CALL_MAX_MEDIA) {
		error_answer(ng, out, "SDP has %u media sections (1..%d supported)", n_media,
			     MG_CALL_MAX_MEDIA);
		return;
	}
	/* Check everything before touching state, so a refused request changes nothing. */
	for (unsigned i = 0; i < n_media; i++) {
		struct mg_sdp_media_info mi;
		struct mg_sdp_connection conn;
		mg_sdp_media_info(sdp, i, &mi);
		if (mi.port == 0)
			continue;
		if (!proto_supported(mi.proto)) {
			error_answer(ng, out, "media %u: protocol %.*s is not supported yet", i + 1,
				     (int)mi.proto_text.len, mi.proto_text.ptr);
			return;
		}
		if (!mg_sdp_media_effective_connection(sdp, i, &conn)) {
			error_answer(ng, out, "media %u has no c= line", i + 1);
			return;
		}
		if (conn.addr_type != MG_SDP_ADDR_IP4) {
			error_answer(ng, out, "media %u: only IPv4 is supported", i + 1);
			return;
		}
	}

	struct mg_call *c = mg_call_find(ng->sessions, o.call_id);
	int src; /* the side whose SDP this is */
	bool created = false;
	if (!answer) {
		if (!c) {
			c = mg_call_create(ng->sessions, o.call_id, o.from_tag);
			if (!c) {
				error_answer(ng, out, "cannot create call");
				return;
			}
			created = true;
			if (pick_interfaces(ng, c, &o, out) < 0) {
				mg_call_delete(ng->sessions, c);
				return;
			}
		}
		src = mg_call_side_of(c, o.from_tag);
		if (src < 0) {
			error_answer(ng, out, "from-tag '%s' is not part of call '%s'", o.from_tag,
				     o.call_id);
			return;
		}
	} else {
		if (!c) {
			error_answer(ng, out, "Unknown call-id");
			return;
		}
		src = mg_call_side_of(c, o.to_tag);
		if (src < 0 && !c->tag[1][0] && mg_call_side_of(c, o.from_tag) == 0) {
			snprintf(c->tag[1], sizeof(c->tag[1]), "%s", o.to_tag);
			src = 1;
		}
		if (src < 0 || mg_call_side_of(c, o.from_tag) != 1 - src) {
			error_answer(ng, out, "tags do not match call '%s'", o.call_id);
			return;
		}
	}
	int dst = 1 - src;
	if (o.contact_id[0])
		snprintf(c->contact_id, sizeof(c->contact_id), "%s", o.contact_id);
	if (o.instance[0])
		snprintf(c->instance, sizeof(c->instance), "%s", o.instance);
	if (o.role[0])
		snprintf(c->role[src], sizeof(c->role[src]), "%s", o.role);
	mg_ng_conf_place(ng->sessions, c);
	if (apply_pii(ng, c, &o) < 0) {
		error_answer(ng, out, "out of memory");
		return;
	}

	char ourip[16];
	mg_ipv4_str(advertised_address(ng, c->iface[dst]), ourip);
	for (unsigned i = 0; i < n_media; i++) {
		struct mg_sdp_media_info mi;
		mg_sdp_media_info(sdp, i, &mi);
		struct mg_media *m = &c->media[i];
		snprintf(m->type, sizeof(m->type), "%.*s", (int)mi.media.len, mi.media.ptr);
		if (!answer)
			snprintf(m->proto, sizeof(m->proto), "%.*s", (int)mi.proto_text.len,
				 mi.proto_text.ptr);
		if (mi.port == 0) {
			m->rejected = true;
			if (c->n_media <= i)
				c->n_media = i + 1;
			continue;
		}
		m->rejected = false;
		mg_ng_conf_note_sdp(sdp, i, m, src, answer);
		if (mg_call_media_ensure(ng->sessions, c, i) < 0) {
			error_answer(ng, out, "no free media ports");
			if (created)
				mg_call_delete(ng->sessions, c);
			return;
		}
		struct mg_sdp_connection conn;
		mg_sdp_media_effective_connection(sdp, i, &conn);
		char addr[48];
		snprintf(addr, sizeof(addr), "%.*s", (int)conn.address.len, conn.address.ptr);
		uint32_t ip = 0;
		if (mg_ipv4_parse(addr, &ip) < 0) {
			error_answer(ng, out, "media %u: bad IPv4 address '%s'", i + 1, addr);
			return;
		}
		if (o.sip_source && !o.trust_address && o.received_from && !addr_is_any(ip))
			ip = o.received_from;
		struct mg_leg_cfg cfg = m->cfg[src];
		struct mg_sdp_rtcp rtcp;
		uint16_t rtcp_port = (uint16_t)(mi.port + 1);
		uint32_t rtcp_ip = ip;
		if (mg_sdp_media_rtcp(sdp, i, &rtcp)) {
			rtcp_port = rtcp.port;
			if (rtcp.has_address) {
				snprintf(addr, sizeof(addr), "%.*s",
					 (int)rtcp.connection.address.len,
					 rtcp.connection.address.ptr);
				if (mg_ipv4_parse(addr, &rtcp_ip) < 0)
					rtcp_ip = ip;
			}
		}
		char src_proto[32], dst_proto[32];
		snprintf(src_proto, sizeof(src_proto), "%.*s", (int)mi.proto_text.len,
			 mi.proto_text.ptr);
		/* the offer may convert the profile; the answer restores the offerer's */
		snprintf(dst_proto, sizeof(dst_proto), "%s",
			 answer		  ? m->proto
			 : o.transport[0] ? o.transport
					  : src_proto);
		struct mg_leg_cfg dst_cfg = m->cfg[dst];
		int crypto_rc =
		    answer ? sdes_answer(ng, c, i, src, dst, &o, src_proto, &cfg, &dst_cfg, out)
			   : sdes_offer(ng, c, i, src, dst, &o, src_proto, dst_proto, &cfg,
					&dst_cfg, out);
		char werr[256];
		if (crypto_rc == 0 &&
		    mg_ng_webrtc_prepare(ng->webrtc, c, i, src, answer, sdp, src_proto, dst_proto,
					 &o.webrtc, &cfg, &dst_cfg, werr, sizeof(werr)) < 0) {
			error_answer(ng, out, "%s", werr);
			crypto_rc = -1;
		}
		if (crypto_rc < 0) {
			/* contexts made for this request were never handed to a leg */
			if (cfg.srtp_in != m->cfg[src].srtp_in)
				mg_dp_srtp_ctx_free(cfg.srtp_in);
			if (cfg.srtp_out != m->cfg[src].srtp_out)
				mg_dp_srtp_ctx_free(cfg.srtp_out);
			if (dst_cfg.srtp_in != m->cfg[dst].srtp_in)
				mg_dp_srtp_ctx_free(dst_cfg.srtp_in);
			if (dst_cfg.srtp_out != m->cfg[dst].srtp_out)
				mg_dp_srtp_ctx_free(dst_cfg.srtp_out);
			if (created)
				mg_call_delete(ng->sessions, c);
			return;
		}
		if (answer || !m->leg[dst]->published || dst_cfg.srtp != m->cfg[dst].srtp)
			mg_call_configure(ng->sessions, c, i, dst, &dst_cfg);
		bool changed = cfg.remote_rtp.ip != ip || cfg.remote_rtp.port != mi.port;
		cfg.remote_rtp = (struct mg_endpoint){.ip = ip, .port = mi.port};
		cfg.remote_rtcp = (struct mg_endpoint){.ip = rtcp_ip, .port = rtcp_port};
		cfg.rtcp_mux = mg_sdp_media_rtcp_mux(sdp, i);
		/* A new address in signalling re-opens latching (re-INVITE, transfer). */
		cfg.relatch = changed && m->leg[src]->published;
		mg_call_configure(ng->sessions, c, i, src, &cfg);
		if (mg_ng_webrtc_commit(ng->webrtc, c, i, src, werr, sizeof(werr)) < 0) {
			error_answer(ng, out, "%s", werr);
			return;
		}
		if (ip)
			mg_dp_resolve(ng->dp, c->iface[src], ip);

		struct mg_leg *ours = m->leg[dst];
		mg_sdp_media_set_port(sdp, i, ours->rtp_port);
		if (o.no_rtcp_attr)
			mg_sdp_media_remove_rtcp(sdp, i);
		else
			mg_sdp_media_set_rtcp(sdp, i, ours->rtcp_port,
					      o.full_rtcp_attr ? MG_SDP_ADDR_IP4
							       : MG_SDP_ADDR_OTHER,
					      o.full_rtcp_attr ? ourip : NULL);
		if (!answer && o.rtcp_mux_offer)
			mg_sdp_media_set_rtcp_mux(sdp, i, true);
		if (o.rtcp_mux_demux)
			mg_sdp_media_set_rtcp_mux(sdp, i, false);
		if (strcmp(dst_proto, src_proto))
			mg_sdp_media_set_proto(sdp, i, dst_proto);
	}
	/* Candidates and credentials name the peer's own addresses: never forward them. */
	mg_sdp_remove_ice(sdp, MG_SDP_ALL_SECTIONS);
	mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, ourip, true);
	if (mg_ng_webrtc_sdp(ng->webrtc, c, dst, answer, sdp, ourip, &o.webrtc) < 0) {
		error_answer(ng, out, "rewritten SDP too large (WebRTC attributes)");
		return;
	}
	if (o.replace_origin)
		mg_sdp_set_origin_address(sdp, MG_SDP_ADDR_IP4, ourip);
	c->last_signal = time(NULL);
	if (answer)
		c->answered = true;

	size_t sdp_len;
	if (mg_sdp_serialize(sdp, ng->sdp_out, sizeof(ng->sdp_out), &sdp_len) != MG_SDP_OK) {
		error_answer(ng, out, "rewritten SDP too large");
		return;
	}
	/* Recording: the call's roles join its contact's policy; contact-center keys apply to
	 * the side whose SDP this is. The SDP is done either way: a refused key is a warning. */
	char rec_err[160] = "";
	if (ng->recorder)
		mg_ng_rec_keys(ng->recorder, c, src, &ng->doc, root, rec_err, sizeof(rec_err));
	begin_ok(out);
	mg_ben_str(out, "sdp");
	mg_ben_strn(out, ng->sdp_out, sdp_len);
	if (rec_err[0])
		mg_ben_kv_str(out, "warning", rec_err);
	mg_ben_end(out);
}

/* --- query / delete / list --- */

static void put_endpoint(struct mg_bencode_out *o, const char *key, struct mg_endpoint ep)
{
	char ip[16];
	mg_ben_str(o, key);
	mg_ben_dict_begin(o);
	mg_ben_kv_str(o, "family", "IPv4");
	mg_ben_kv_str(o, "address", mg_ipv4_str(ep.ip, ip));
	mg_ben_kv_int(o, "port", ep.port);
	mg_ben_end(o);
}

static void put_stream(struct mg_ng *ng, struct mg_bencode_out *o, const struct mg_leg *leg,
		       const struct mg_leg_cfg *cfg, bool rtcp)
{
	struct mg_leg_stats st;
	struct mg_latch rl, cl;
	mg_dp_leg_snapshot(leg, &st, &rl, &cl);
	const struct mg_latch *l = rtcp && !cfg->rtcp_mux ? &cl : &rl;
	struct mg_endpoint ep = l->latched ? l->addr : rtcp ? cfg->remote_rtcp : cfg->remote_rtp;
	struct mg_endpoint local = {.ip = mg_dp_interface(ng->dp, leg->iface)->address,
				    .port = rtcp ? leg->rtcp_port : leg->rtp_port};
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "local port", local.port);
	put_endpoint(o, "local endpoint", local);
	put_endpoint(o, "endpoint", ep);
	put_endpoint(o, "advertised endpoint", rtcp ? cfg->remote_rtcp : cfg->remote_rtp);
	mg_ben_str(o, "flags");
	mg_ben_list_begin(o);
	mg_ben_str(o, rtcp ? "RTCP" : "RTP");
	if (cfg->srtp)
		mg_ben_str(o, "SRTP");
	if (l->latched)
		mg_ben_str(o, "confirmed");
	if (cfg->rtcp_mux)
		mg_ben_str(o, "rtcp-mux");
	if (cfg->block_media)
		mg_ben_str(o, "blocked");
	mg_ben_end(o);
	uint64_t errors = 0;
	for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
		errors += st.drops[d];
	mg_ben_str(o, "stats");
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "packets", (int64_t)(rtcp ? st.rtcp_in_pkts : st.rtp_in_pkts));
	mg_ben_kv_int(o, "bytes", (int64_t)(rtcp ? st.rtcp_in_bytes : st.rtp_in_bytes));
	mg_ben_kv_int(o, "errors", rtcp ? 0 : (int64_t)errors);
	mg_ben_end(o);
	if (!rtcp) {
		mg_ben_str(o, "mediagate");
		mg_ben_dict_begin(o);
		mg_ben_kv_int(o, "rtp out packets", (int64_t)st.rtp_out_pkts);
		mg_ben_kv_int(o, "rtcp out packets", (int64_t)st.rtcp_out_pkts);
		mg_ben_kv_int(o, "worker", leg->worker);
		mg_ben_str(o, "drops");
		mg_ben_dict_begin(o);
		for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
			mg_ben_kv_int(o, mg_leg_drop_name((enum mg_leg_drop)d),
				      (int64_t)st.drops[d]);
		mg_ben_end(o);
		mg_ben_end(o);
	}
	mg_ben_end(o);
}

static void put_call_details(struct mg_ng *ng, struct mg_bencode_out *o, const struct mg_call *c)
{
	mg_ben_kv_int(o, "created", (int64_t)c->created);
	mg_ben_kv_int(o, "last signal", (int64_t)c->last_signal);
	if (c->contact_id[0])
		mg_ben_kv_str(o, "contact-id", c->contact_id);
	if (c->instance[0])
		mg_ben_kv_str(o, "instance", c->instance);
	mg_ben_str(o, "tags");
	mg_ben_dict_begin(o);
	for (int side = 0; side < 2; side++) {
		const char *tag = c->tag[side];
		if (!tag[0] && side == 1 && !c->answered)
			tag = "";
		mg_ben_str(o, tag);
		mg_ben_dict_begin(o);
		mg_ben_kv_str(o, "tag", tag);
		mg_ben_kv_int(o, "created", (int64_t)c->created);
		mg_ben_kv_str(o, "in dialogue with", c->tag[1 - side]);
		if (c->role[side][0])
			mg_ben_kv_str(o, "leg-role", c->role[side]);
		mg_ben_kv_str(o, "interface", mg_dp_interface(ng->dp, c->iface[side])->name);
		mg_ben_str(o, "medias");
		mg_ben_list_begin(o);
		for (unsigned i = 0; i < c->n_media; i++) {
			const struct mg_media *m = &c->media[i];
			mg_ben_dict_begin(o);
			mg_ben_kv_int(o, "index", i + 1);
			mg_ben_kv_str(o, "type", m->type);
			mg_ben_kv_str(o, "protocol", m->proto);
			mg_ben_str(o, "streams");
			mg_ben_list_begin(o);
			if (m->leg[side] && !m->rejected) {
				put_stream(ng, o, m->leg[side], &m->cfg[side], false);
				put_stream(ng, o, m->leg[side], &m->cfg[side], true);
			}
			mg_ben_end(o);
			mg_ben_end(o);
		}
		mg_ben_end(o);
		mg_ben_end(o);
	}
	mg_ben_end(o);
	struct mg_leg_stats t;
	mg_call_totals(c, &t);
	uint64_t errors = 0;
	for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
		errors += t.drops[d];
	mg_ben_str(o, "totals");
	mg_ben_dict_begin(o);
	mg_ben_str(o, "RTP");
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "packets", (int64_t)t.rtp_in_pkts);
	mg_ben_kv_int(o, "bytes", (int64_t)t.rtp_in_bytes);
	mg_ben_kv_int(o, "errors", (int64_t)errors);
	mg_ben_end(o);
	mg_ben_str(o, "RTCP");
	mg_ben_dict_begin(o);
	mg_ben_kv_int(o, "packets", (int64_t)t.rtcp_in_pkts);
	mg_ben_kv_int(o, "bytes", (int64_t)t.rtcp_in_bytes);
	mg_ben_kv_int(o, "errors", 0);
	mg_ben_end(o);
	mg_ben_end(o);
}

static struct mg_call *call_for(struct mg_ng *ng, const struct mg_bencode_node *root,
				struct mg_bencode_out *out)
{
	char call_id[MG_CALL_ID_MAX];
	if (!mg_bencode_str_copy(mg_bencode_dict_get(&ng->doc, root, "call-id"), call_id,
				 sizeof(call_id))) {
		error_answer(ng, out, "call-id is required");
		return NULL;
	}
	struct mg_call *c = mg_call_find(ng->sessions, call_id);
	if (!c)
		error_answer(ng, out, "Unknown call-id");
	return c;
}

/* Personal data is only answered to clients in control.ng_pii_allow that ask for it. */
static bool pii_allowed(const struct mg_ng *ng)
{
	for (int i = 0; i < ng->profile.n_ng_pii_allow; i++)
		if (mg_cidr_contains(&ng->profile.ng_pii_allow[i], ng->source_ip))
			return true;
	return false;
}

static bool wants_pii(struct mg_ng *ng, const struct mg_bencode_node *root)
{
	for (const struct mg_bencode_node *n =
		 mg_bencode_child(&ng->doc, mg_bencode_dict_get(&ng->doc, root, "flags"));
	     n; n = mg_bencode_next(&ng->doc, n))
		if (mg_bencode_str_eq(n, "personal-data"))
			return true;
	return false;
}

static void put_pii(struct mg_bencode_out *o, const struct mg_call *c)
{
	const struct mg_call_pii *p = c->pii;
	mg_ben_kv_str(o, "ani", p->ani);
	mg_ben_kv_str(o, "dnis", p->dnis);
	mg_ben_kv_str(o, "external-number", p->external_number);
	mg_ben_str(o, "contact-attributes");
	mg_ben_dict_begin(o);
	static struct mg_bencode_node nodes[256];
	struct mg_bencode_doc d = {.nodes = nodes, .capacity = 256};
	if (p->attributes_len && mg_bencode_decode(&d, p->attributes, p->attributes_len) >= 0)
		for (const struct mg_bencode_node *v = mg_bencode_child(&d, &d.nodes[0]); v;
		     v = mg_bencode_next(&d, v)) {
			mg_ben_strn(o, v->key, v->key_len);
			mg_ben_strn(o, v->str, v->str_len);
		}
	mg_ben_end(o);
}

static void add_call_id(void *arg, struct mg_call *c)
{
	mg_ben_str(arg, c->call_id);
}

/* query by ANI: the call-ids whose ANI has the same keyed hash */
static void handle_query_ani(struct mg_ng *ng, const struct mg_bencode_node *root,
			     const struct mg_bencode_node *ani, struct mg_bencode_out *out)
{
	char number[MG_PII_NUMBER_MAX], instance[MG_EXT_MAX] = "";
	if (!pii_allowed(ng)) {
		error_answer(ng, out, "query by ani is not allowed from this address");
		return;
	}
	if (!mg_bencode_str_copy(ani, number, sizeof(number))) {
		error_answer(ng, out, "ani must be a string of less than %d bytes",
			     MG_PII_NUMBER_MAX);
		return;
	}
	mg_bencode_str_copy(mg_bencode_dict_get(&ng->doc, root, "instance"), instance,
			    sizeof(instance));
	/* the answer is written first, the error replaces it if there are no keys */
	size_t start = out->len;
	begin_ok(out);
	mg_ben_str(out, "calls");
	mg_ben_list_begin(out);
	long n = mg_sessions_find_by_ani(ng->sessions, instance, number, add_call_id, out);
	explicit_bzero(number, sizeof(number));
	if (n < 0) {
		out->len = start;
		error_answer(ng, out, "query by ani needs the instance key ([keys])");
		return;
	}
	mg_ben_end(out);
	mg_ben_end(out);
}

/* query, and delete, which answers with the final figures as rtpengine does */
static void handle_query(struct mg_ng *ng, const struct mg_bencode_node *root, bool delete,
			 struct mg_bencode_out *out)
{
	const struct mg_bencode_node *ani = mg_bencode_dict_get(&ng->doc, root, "ani");
	if (!delete &&ani && !mg_bencode_dict_get(&ng->doc, root, "call-id")) {
		handle_query_ani(ng, root, ani, out);
		return;
	}
	struct mg_call *c = call_for(ng, root, out);
	if (!c)
		return;
	bool pii = wants_pii(ng, root) && !delete;
	if (pii && !pii_allowed(ng)) {
		error_answer(ng, out, "personal data is not available to this address");
		return;
	}
	begin_ok(out);
	put_call_details(ng, out, c);
	if (pii && c->pii)
		put_pii(out, c);
	mg_ben_end(out);
	if (delete) {
		char contact[MG_EXT_MAX];
		snprintf(contact, sizeof(contact), "%s", c->contact_id);
		mg_call_delete(ng->sessions, c);
		mg_ng_conf_tidy(ng->sessions);
		if (ng->recorder) /* an agent's call ending stops the recording now */
			mg_recorder_call_deleted(ng->recorder, contact);
	}
}

static void handle_list(struct mg_ng *ng, const struct mg_bencode_node *root,
			struct mg_bencode_out *out)
{
	int64_t limit = NG_LIST_DEFAULT;
	const struct mg_bencode_node *n = mg_bencode_dict_get(&ng->doc, root, "limit");
	if (n && n->type == MG_BEN_INT && n->num >= 0)
		limit = n->num;
	else if (n && n->type == MG_BEN_STR) {
		char buf[16];
		if (mg_bencode_str_copy(n, buf, sizeof(buf)))
			limit = strtoll(buf, NULL, 10);
	}
	begin_ok(out);
	mg_ben_str(out, "calls");
	mg_ben_list_begin(out);
	int64_t k = 0;
	for (struct mg_call *c = mg_call_first(ng->sessions); c && k < limit;
	     c = mg_call_next(c), k++)
		mg_ben_str(out, c->call_id);
	mg_ben_end(out);
	mg_ben_end(out);
}

static void handle_block(struct mg_ng *ng, const struct mg_bencode_node *root, bool block,
			 struct mg_bencode_out *out)
{
	struct ng_opts o;
	if (read_opts(ng, root, &o, out) < 0)
		return;
	struct mg_call *c = call_for(ng, root, out);
	if (!c)
		return;
	int side = o.from_tag[0] ? mg_call_side_of(c, o.from_tag) : -1;
	if (side < 0 && !o.all) {
		error_answer(ng, out, "from-tag (or the 'all' flag) must name a party of the call");
		return;
	}
	for (int s = 0; s < 2; s++) {
		if (!o.all && s != side)
			continue;
		for (unsigned i = 0; i < c->n_media; i++) {
			struct mg_media *m = &c->media[i];
			if (!m->leg[s])
				continue;
			struct mg_leg_cfg cfg = m->cfg[s];
			cfg.block_media = block;
			mg_call_configure(ng->sessions, c, i, s, &cfg);
		}
		if (ng->recorder) /* an agent who mutes is not recorded while muted */
			mg_ng_rec_block(ng->recorder, c, s, block);
	}
	c->last_signal = time(NULL);
	begin_ok(out);
	mg_ben_end(out);
}

static void handle_recording(struct mg_ng *ng, const struct mg_bencode_node *root, bool start,
			     struct mg_bencode_out *out)
{
	char err[160] = "", tag[MG_TAG_MAX] = "";
	if (!ng->recorder) {
		error_answer(ng, out, "recording is off (profile [recording] enable = on)");
		return;
	}
	struct mg_call *c = call_for(ng, root, out);
	if (!c)
		return;
	mg_bencode_str_copy(mg_bencode_dict_get(&ng->doc, root, "from-tag"), tag, sizeof(tag));
	int side = tag[0] ? mg_call_side_of(c, tag) : -1;
	if (tag[0] && side < 0) {
		error_answer(ng, out, "from-tag '%s' is not part of the call", tag);
		return;
	}
	if (mg_ng_rec_command(ng->recorder, c, side, start, &ng->doc, root, err, sizeof(err)) < 0) {
		error_answer(ng, out, "%s", err[0] ? err : "recording failed");
		return;
	}
	c->last_signal = time(NULL);
	begin_ok(out);
	mg_ben_end(out);
}

void mg_ng_set_recorder(struct mg_ng *ng, struct mg_recorder *r)
{
	ng->recorder = r;
}

static enum mg_ng_cmd command_of(const struct mg_bencode_node *n)
{
	for (int c = 0; c < MG_NG_UNKNOWN; c++)
		if (mg_bencode_str_eq(n, cmd_names[c]))
			return (enum mg_ng_cmd)c;
	return MG_NG_UNKNOWN;
}

static size_t cached(struct mg_ng *ng, const char *cookie, char *out, size_t cap)
{
	time_t now = time(NULL);
	for (unsigned i = 0; i < NG_CACHE_SLOTS; i++) {
		struct cached_answer *a = &ng->cache[i];
		if (a->answer && now - a->when < NG_CACHE_SECONDS && !strcmp(a->cookie, cookie) &&
		    a->len <= cap) {
			memcpy(out, a->answer, a->len);
			return a->len;
		}
	}
	return 0;
}

static void remember(struct mg_ng *ng, const char *cookie, const char *answer, size_t len)
{
	struct cached_answer *a = &ng->cache[ng->cache_next];
	ng->cache_next = (ng->cache_next + 1) % NG_CACHE_SLOTS;
	char *copy = realloc(a->answer, len);
	if (!copy)
		return;
	a->answer = copy;
	memcpy(a->answer, answer, len);
	a->len = len;
	a->when = time(NULL);
	snprintf(a->cookie, sizeof(a->cookie), "%s", cookie);
}

size_t mg_ng_handle(struct mg_ng *ng, const char *req, size_t len, char *out, size_t cap)
{
	const char *space = memchr(req, ' ', len);
	size_t cookie_len = space ? (size_t)(space - req) : 0;
	if (!space || cookie_len == 0 || cookie_len >= NG_COOKIE_MAX || cookie_len + 1 >= cap) {
		ng->stats.malformed++;
		return 0;
	}
	char cookie[NG_COOKIE_MAX];
	memcpy(cookie, req, cookie_len);
	cookie[cookie_len] = '\0';
	size_t hit = cached(ng, cookie, out, cap);
	if (hit) {
		ng->stats.retransmissions++;
		return hit;
	}
	memcpy(out, req, cookie_len + 1);
	struct mg_bencode_out o;
	mg_bencode_out_init(&o, out + cookie_len + 1, cap - cookie_len - 1);
	const char *body = space + 1;
	size_t body_len = len - cookie_len - 1;
	int root_idx = mg_bencode_decode(&ng->doc, body, body_len);
	const struct mg_bencode_node *root = root_idx < 0 ? NULL : &ng->doc.nodes[root_idx];
	if (!root || root->type != MG_BEN_DICT) {
		ng->stats.malformed++;
		error_answer(ng, &o, "%s", root ? "message is not a dictionary" : ng->doc.error);
	} else {
		enum mg_ng_cmd cmd = command_of(mg_bencode_dict_get(&ng->doc, root, "command"));
		ng->stats.requests[cmd]++;
		switch (cmd) {
		case MG_NG_PING:
			mg_ben_dict_begin(&o);
			mg_ben_kv_str(&o, "result", "pong");
			mg_ben_end(&o);
			break;
		case MG_NG_OFFER:
		case MG_NG_ANSWER:
			handle_offer_answer(ng, root, cmd == MG_NG_ANSWER, &o);
			break;
		case MG_NG_DELETE:
		case MG_NG_QUERY:
			handle_query(ng, root, cmd == MG_NG_DELETE, &o);
			break;
		case MG_NG_LIST:
			handle_list(ng, root, &o);
			break;
		case MG_NG_BLOCK_MEDIA:
		case MG_NG_UNBLOCK_MEDIA:
			handle_block(ng, root, cmd == MG_NG_BLOCK_MEDIA, &o);
			break;
		case MG_NG_START_RECORDING:
		case MG_NG_STOP_RECORDING:
			handle_recording(ng, root, cmd == MG_NG_START_RECORDING, &o);
			break;
		case MG_NG_JOIN_CONFERENCE:
		case MG_NG_LEAVE_CONFERENCE:
		case MG_NG_CONFERENCE_HOLD:
		case MG_NG_CONFERENCE_UNHOLD:
		case MG_NG_CONFERENCE_MUTE:
		case MG_NG_CONFERENCE_UNMUTE:
		case MG_NG_CONNECT: {
			char err[256];
			if (mg_ng_conf_command(ng->sessions, &ng->doc, root, cmd, &o, err,
					       sizeof(err)) < 0) {
				error_answer(ng, &o, "%s", err);
				break;
			}
			/* the recording follows the parties; a refused event is a warning */
			if (ng->recorder &&
			    mg_ng_rec_conference(ng->recorder, ng->sessions, cmd, &ng->doc, root,
						 err, sizeof(err)) < 0)
				mg_ben_kv_str(&o, "warning", err);
			mg_ben_end(&o);
			break;
		}
		default:
			error_answer(ng, &o, "Unrecognized command");
			break;
		}
	}
	if (!mg_bencode_out_ok(&o)) {
		ng->stats.oversized++;
		error_answer(ng, &o, "answer too large");
	}
	size_t total = cookie_len + 1 + o.len;
	remember(ng, cookie, out, total);
	return total;
}

int mg_ng_open(struct mg_ng *ng, char *err, size_t errlen)
{
	char host[64];
	snprintf(host, sizeof(host), "%s", ng->profile.ng_listen);
	char *colon = strrchr(host, ':');
	if (!colon) {
		snprintf(err, errlen, "control.ng_listen: expected address:port");
		return -1;
	}
	*colon = '\0';
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "control.ng_listen: bad address '%s'", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "control.ng_listen: cannot bind %s (%s)",
			 ng->profile.ng_listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	ng->fd = fd;
	return fd;
}

static bool allowed(const struct mg_ng *ng, uint32_t ip)
{
	for (int i = 0; i < ng->profile.n_ng_allow; i++)
		if (mg_cidr_contains(&ng->profile.ng_allow[i], ip))
			return true;
	return false;
}

unsigned mg_ng_poll(struct mg_ng *ng)
{
	unsigned n = 0;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r =
		    recvfrom(ng->fd, ng->in, NG_MAX_DATAGRAM, 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			break;
		n++;
		if (from.sin_family != AF_INET || !allowed(ng, ntohl(from.sin_addr.s_addr))) {
			ng->stats.denied++;
			continue;
		}
		ng->source_ip = ntohl(from.sin_addr.s_addr);
		size_t len = mg_ng_handle(ng, ng->in, (size_t)r, ng->out, sizeof(ng->out));
		if (len)
			sendto(ng->fd, ng->out, len, 0, (struct sockaddr *)&from, fl);
	}
	return n;
}

int mg_ng_webrtc_stats(const struct mg_ng *ng, struct mg_webrtc_stats *out)
{
	if (!ng->webrtc)
		return -1;
	mg_webrtc_get_stats(ng->webrtc, out);
	return 0;
}

struct mg_webrtc *mg_ng_webrtc(struct mg_ng *ng)
{
	return ng->webrtc;
}
