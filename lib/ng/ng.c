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
#include "sdp.h"

#define NG_MAX_NODES     4096
#define NG_MAX_DATAGRAM  65000
#define NG_COOKIE_MAX    64
#define NG_CACHE_SLOTS   512
#define NG_CACHE_SECONDS 30
#define NG_LIST_DEFAULT  32

static const char *const cmd_names[MG_NG_CMD_COUNT] = {
	"ping", "offer", "answer", "delete", "query", "list", "block media", "unblock media",
	"start recording", "stop recording", "unknown",
};

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
	return ng;
}

void mg_ng_destroy(struct mg_ng *ng)
{
	if (!ng)
		return;
	if (ng->fd >= 0)
		close(ng->fd);
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
	/* Other flags (symmetric, asymmetric, port-latching, loop-protect, strict-source,
	 * codec and DTMF options...) do not change plain relaying and are accepted. */
}

static int read_opts(struct mg_ng *ng, const struct mg_bencode_node *root, struct ng_opts *o,
		     struct mg_bencode_out *out)
{
	const struct mg_bencode_doc *d = &ng->doc;
	memset(o, 0, sizeof(*o));
	const struct mg_bencode_node *n;
	if ((n = mg_bencode_dict_get(d, root, "call-id")) &&
	    !mg_bencode_str_copy(n, o->call_id, sizeof(o->call_id))) {
		error_answer(ng, out, "call-id is not a string of less than %d bytes", MG_CALL_ID_MAX);
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
	for (n = mg_bencode_child(d, mg_bencode_dict_get(d, root, "rtcp-mux")); n;
	     n = mg_bencode_next(d, n)) {
		if (node_is(n, "offer"))
			o->rtcp_mux_offer = true;
		else if (node_is(n, "demux"))
			o->rtcp_mux_demux = true;
	}
	if ((n = mg_bencode_dict_get(d, root, "ICE")) && node_is(n, "force"))
		o->ice_force = true;
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
	return 0;
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
			error_answer(ng, out, "unknown interface '%s' in direction", o->direction[i]);
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
	return p == MG_SDP_PROTO_RTP_AVP || p == MG_SDP_PROTO_RTP_AVPF || p == MG_SDP_PROTO_UDP;
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
	if (o.transport[0] && strcmp(o.transport, "RTP/AVP") && strcmp(o.transport, "RTP/AVPF")) {
		error_answer(ng, out, "transport-protocol %s is not supported yet (plain RTP only)",
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
				snprintf(addr, sizeof(addr), "%.*s", (int)rtcp.connection.address.len,
					 rtcp.connection.address.ptr);
				if (mg_ipv4_parse(addr, &rtcp_ip) < 0)
					rtcp_ip = ip;
			}
		}
		bool changed = cfg.remote_rtp.ip != ip || cfg.remote_rtp.port != mi.port;
		cfg.remote_rtp = (struct mg_endpoint){.ip = ip, .port = mi.port};
		cfg.remote_rtcp = (struct mg_endpoint){.ip = rtcp_ip, .port = rtcp_port};
		cfg.rtcp_mux = mg_sdp_media_rtcp_mux(sdp, i);
		/* A new address in signalling re-opens latching (re-INVITE, transfer). */
		cfg.relatch = changed && m->leg[src]->published;
		mg_call_configure(ng->sessions, c, i, src, &cfg);
		if (!m->leg[dst]->published)
			mg_call_configure(ng->sessions, c, i, dst, &m->cfg[dst]);
		if (ip)
			mg_dp_resolve(ng->dp, c->iface[src], ip);

		struct mg_leg *ours = m->leg[dst];
		mg_sdp_media_set_port(sdp, i, ours->rtp_port);
		if (o.no_rtcp_attr)
			mg_sdp_media_remove_rtcp(sdp, i);
		else
			mg_sdp_media_set_rtcp(sdp, i, ours->rtcp_port,
					      o.full_rtcp_attr ? MG_SDP_ADDR_IP4 : MG_SDP_ADDR_OTHER,
					      o.full_rtcp_attr ? ourip : NULL);
		if (!answer && o.rtcp_mux_offer)
			mg_sdp_media_set_rtcp_mux(sdp, i, true);
		if (o.rtcp_mux_demux)
			mg_sdp_media_set_rtcp_mux(sdp, i, false);
		if (o.transport[0])
			mg_sdp_media_set_proto(sdp, i, o.transport);
	}
	/* Candidates and credentials name the peer's own addresses: never forward them. */
	mg_sdp_remove_ice(sdp, MG_SDP_ALL_SECTIONS);
	mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, ourip, true);
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
	begin_ok(out);
	mg_ben_str(out, "sdp");
	mg_ben_strn(out, ng->sdp_out, sdp_len);
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
			mg_ben_kv_int(o, mg_leg_drop_name((enum mg_leg_drop)d), (int64_t)st.drops[d]);
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

static void handle_query(struct mg_ng *ng, const struct mg_bencode_node *root,
			 struct mg_bencode_out *out)
{
	struct mg_call *c = call_for(ng, root, out);
	if (!c)
		return;
	begin_ok(out);
	put_call_details(ng, out, c);
	mg_ben_end(out);
}

static void handle_delete(struct mg_ng *ng, const struct mg_bencode_node *root,
			  struct mg_bencode_out *out)
{
	struct mg_call *c = call_for(ng, root, out);
	if (!c)
		return;
	/* Answer with the final figures, as rtpengine does, then free everything. */
	begin_ok(out);
	put_call_details(ng, out, c);
	mg_ben_end(out);
	mg_call_delete(ng->sessions, c);
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
	}
	c->last_signal = time(NULL);
	begin_ok(out);
	mg_ben_end(out);
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
			handle_delete(ng, root, &o);
			break;
		case MG_NG_QUERY:
			handle_query(ng, root, &o);
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
			error_answer(ng, &o, "recording is not available in this build yet");
			break;
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
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "control.ng_listen: bad address '%s'", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "control.ng_listen: cannot bind %s (%s)", ng->profile.ng_listen,
			 strerror(errno));
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
		ssize_t r = recvfrom(ng->fd, ng->in, NG_MAX_DATAGRAM, 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			break;
		n++;
		if (from.sin_family != AF_INET || !allowed(ng, ntohl(from.sin_addr.s_addr))) {
			ng->stats.denied++;
			continue;
		}
		size_t len = mg_ng_handle(ng, ng->in, (size_t)r, ng->out, sizeof(ng->out));
		if (len)
			sendto(ng->fd, ng->out, len, 0, (struct sockaddr *)&from, fl);
	}
	return n;
}
