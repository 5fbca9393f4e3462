#include "telemetry.h"

#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>
#include <rte_version.h>

#include "mg_version.h"
#include "webrtc.h"
#include "recorder.h"

static struct mg_telemetry_ctx ctx;

static void add_u64(struct rte_tel_data *d, const char *k, uint64_t v)
{
	rte_tel_data_add_dict_u64(d, k, v);
}

static int cmd_version(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", MG_VERSION);
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	rte_tel_data_add_dict_string(d, "profile", ctx.profile_name ? ctx.profile_name : "");
	rte_tel_data_add_dict_string(d, "build", __DATE__ " " __TIME__);
	return 0;
}

static void sum_workers(struct mg_worker_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned w = 0; w < mg_dp_worker_count(ctx.dp); w++) {
		struct mg_worker_stats s;
		mg_dp_worker_stats(ctx.dp, w, &s);
		uint64_t *dst = (uint64_t *)t;
		const uint64_t *src = (const uint64_t *)&s;
		for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
			dst[i] += src[i];
	}
}

void mg_metrics_worker(const struct mg_worker_stats *s, mg_metric_fn emit, void *arg)
{
	emit(arg, "rx_packets", s->rx_pkts, false);
	emit(arg, "rx_bytes", s->rx_bytes, false);
	emit(arg, "tx_packets", s->tx_pkts, false);
	emit(arg, "tx_drops", s->tx_drops, false);
	for (int v = 0; v < MG_NET_VERDICT_COUNT; v++) {
		char k[48];
		snprintf(k, sizeof(k), "net_%s", mg_net_verdict_name((enum mg_net_verdict)v));
		emit(arg, k, s->net_verdict[v], false);
	}
	for (int c = 0; c < MG_DEMUX_CLASS_COUNT; c++) {
		char k[48];
		snprintf(k, sizeof(k), "demux_%s", mg_demux_class_name((enum mg_demux_class)c));
		emit(arg, k, s->demux[c], false);
	}
	emit(arg, "no_session", s->no_session, false);
	emit(arg, "dispatched_out", s->dispatched_out, false);
	emit(arg, "dispatched_in", s->dispatched_in, false);
	emit(arg, "dispatch_drops", s->dispatch_drops, false);
	emit(arg, "slow_path", s->slow_path, false);
	emit(arg, "slow_path_drops", s->slow_path_drops, false);
	emit(arg, "multiseg_drops", s->multiseg_drops, false);
	emit(arg, "commands", s->commands, false);
	emit(arg, "rec_not_forked_codec", s->rec_not_g711, false);
	/* conferences */
	emit(arg, "conference_rounds", s->conf_rounds, false);
	emit(arg, "conference_tick_overruns", s->conf_tick_overruns, false);
	emit(arg, "conference_ticks", s->conf_ticks, false);
	emit(arg, "conference_packets_out", s->conf_packets_out, false);
	emit(arg, "conference_events_out", s->conf_events_out, false);
	emit(arg, "conference_packets_in", s->conf_pushed, false);
	emit(arg, "conference_join_failed", s->conf_join_failed, false);
	emit(arg, "conference_round_cycles", s->conf_round_cycles, false);
}

/* Conference figures summed over the conferences that exist now (under the lock). */
static void conference_totals(const struct mg_telemetry_ctx *c, mg_metric_fn emit, void *arg)
{
	uint64_t confs = 0, parts = 0, late = 0, lost = 0, concealed = 0, depth_max = 0;
	mg_sessions_lock(c->sessions);
	for (struct mg_conf *cf = mg_dp_conf_first(c->dp); cf; cf = mg_dp_conf_next(cf)) {
		const struct mg_mix *mix = mg_dp_conf_mix(cf);
		confs++;
		for (unsigned p = 0; p < MG_MIX_MAX_PARTICIPANTS; p++) {
			const struct mg_mix_pstats *ps = mg_mix_pstats(mix, p);
			if (!ps)
				continue;
			parts++;
			late += ps->late;
			lost += ps->lost;
			concealed += ps->concealed;
			if (ps->jb_depth > depth_max)
				depth_max = ps->jb_depth;
		}
	}
	mg_sessions_unlock(c->sessions);
	emit(arg, "conferences", confs, true);
	emit(arg, "conference_participants", parts, true);
	emit(arg, "conference_late_packets_active", late, true);
	emit(arg, "conference_lost_frames_active", lost, true);
	emit(arg, "conference_concealed_frames_active", concealed, true);
	emit(arg, "conference_jitter_buffer_max_frames", depth_max, true);
}

/* Per-leg drops summed over every call (under the sessions lock). */
static void sum_leg_drops(const struct mg_telemetry_ctx *c, uint64_t drops[MG_LEG_DROP_COUNT],
			  uint64_t *relayed_rtp, uint64_t *relayed_rtcp)
{
	memset(drops, 0, sizeof(uint64_t) * MG_LEG_DROP_COUNT);
	*relayed_rtp = *relayed_rtcp = 0;
	mg_sessions_lock(c->sessions);
	for (struct mg_call *call = mg_call_first(c->sessions); call; call = mg_call_next(call)) {
		struct mg_leg_stats t;
		mg_call_totals(call, &t);
		for (int i = 0; i < MG_LEG_DROP_COUNT; i++)
			drops[i] += t.drops[i];
		*relayed_rtp += t.rtp_out_pkts;
		*relayed_rtcp += t.rtcp_out_pkts;
	}
	mg_sessions_unlock(c->sessions);
}

void mg_metrics_totals(const struct mg_telemetry_ctx *c, mg_metric_fn emit, void *arg)
{
	mg_sessions_lock(c->sessions);
	uint64_t sessions = mg_sessions_count(c->sessions), legs = mg_dp_legs_in_use(c->dp);
	mg_sessions_unlock(c->sessions);
	emit(arg, "sessions", sessions, true);
	emit(arg, "legs", legs, true);
	conference_totals(c, emit, arg);
	uint64_t drops[MG_LEG_DROP_COUNT], rtp, rtcp;
	sum_leg_drops(c, drops, &rtp, &rtcp);
	/* counters of the calls that exist now: they fall when a call goes */
	emit(arg, "relayed_rtp_packets_active_calls", rtp, true);
	emit(arg, "relayed_rtcp_packets_active_calls", rtcp, true);
	for (int i = 0; i < MG_LEG_DROP_COUNT; i++) {
		char k[48];
		snprintf(k, sizeof(k), "leg_drop_%s", mg_leg_drop_name((enum mg_leg_drop)i));
		emit(arg, k, drops[i], true);
	}
	struct mg_control_stats cs;
	mg_dp_control_stats(c->dp, &cs);
	emit(arg, "arp_requests_answered", cs.arp_requests_answered, false);
	emit(arg, "arp_replies_learned", cs.arp_replies_learned, false);
	emit(arg, "arp_requests_sent", cs.arp_requests_sent, false);
	emit(arg, "arp_ignored", cs.arp_ignored, false);
	emit(arg, "icmp_echo_answered", cs.icmp_echo_answered, false);
	emit(arg, "icmp_ignored", cs.icmp_ignored, false);
	emit(arg, "stun_received", cs.stun_received, false);
	emit(arg, "dtls_received", cs.dtls_received, false);
	emit(arg, "neighbor_misses", cs.neighbor_misses, false);
	emit(arg, "neighbor_held_sent", cs.neighbor_held_sent, false);
	emit(arg, "neighbor_held_dropped", cs.neighbor_held_dropped, false);
	emit(arg, "control_tx_drops", cs.tx_drops, false);
	emit(arg, "nic_rx_missed", cs.rx_missed, false);
	if (c->state) {
		struct mg_state_stats ss;
		mg_state_get_stats(c->state, &ss);
		emit(arg, "state_connected", ss.connected, true);
		emit(arg, "state_pending", ss.pending, true);
		emit(arg, "state_written", ss.written, false);
		emit(arg, "state_coalesced", ss.coalesced, false);
		emit(arg, "state_refused_full", ss.refused_full, false);
		emit(arg, "state_errors", ss.errors, false);
		emit(arg, "state_reconnects", ss.reconnects, false);
	}
	if (c->ng) {
		struct mg_ng_stats ns;
		mg_ng_get_stats(c->ng, &ns);
		for (int cmd = 0; cmd < MG_NG_CMD_COUNT; cmd++) {
			char k[48];
			snprintf(k, sizeof(k), "ng_%s", mg_ng_cmd_name((enum mg_ng_cmd)cmd));
			for (char *p = k; *p; p++)
				if (*p == ' ')
					*p = '_';
			emit(arg, k, ns.requests[cmd], false);
		}
		emit(arg, "ng_errors", ns.errors, false);
		emit(arg, "ng_malformed", ns.malformed, false);
		emit(arg, "ng_denied", ns.denied, false);
		emit(arg, "ng_retransmissions", ns.retransmissions, false);
	}
	struct mg_webrtc_stats ws;
	if (c->ng && mg_ng_webrtc_stats(c->ng, &ws) == 0) {
		emit(arg, "webrtc_legs", ws.legs, true);
		emit(arg, "stun_answered", ws.stun_answered, false);
		emit(arg, "stun_errors_sent", ws.stun_errors_sent, false);
		emit(arg, "stun_dropped", ws.stun_dropped, false);
		emit(arg, "stun_no_ice_leg", ws.stun_no_ice_leg, false);
		for (int r = 1; r < MG_STUN_REASON_COUNT; r++) {
			char k[48];
			snprintf(k, sizeof(k), "stun_%s",
				 mg_stun_reason_str((enum mg_stun_reason)r));
			emit(arg, k, ws.stun.by_reason[r], false);
		}
		emit(arg, "ice_pairs_selected", ws.pairs_selected, false);
		emit(arg, "ice_consent_expired", ws.consent_expired, false);
		emit(arg, "dtls_no_leg", ws.dtls_no_leg, false);
		emit(arg, "dtls_unchecked_source", ws.dtls_unchecked_src, false);
		emit(arg, "dtls_datagrams_in", ws.dtls_datagrams_in, false);
		emit(arg, "dtls_datagrams_out", ws.dtls_datagrams_out, false);
		emit(arg, "dtls_garbage", ws.dtls_garbage, false);
		emit(arg, "dtls_handshakes_started", ws.handshakes_started, false);
		emit(arg, "dtls_handshakes_ok", ws.handshakes_ok, false);
		emit(arg, "dtls_handshakes_failed", ws.handshakes_failed, false);
		emit(arg, "dtls_handshakes_timeout", ws.handshakes_timeout, false);
		emit(arg, "dtls_fingerprint_mismatch", ws.fingerprint_mismatch, false);
		for (int f = 1; f < MG_DTLS_FAILURE_COUNT; f++) {
			char k[48];
			snprintf(k, sizeof(k), "dtls_fail_%s",
				 mg_dtls_failure_str((enum mg_dtls_failure)f));
			emit(arg, k, ws.handshake_fail[f], false);
		}
		emit(arg, "dtls_closed_by_peer", ws.closed_by_peer, false);
		emit(arg, "dtls_keys_installed", ws.keys_installed, false);
		emit(arg, "dtls13_offered", ws.dtls13_offered, false);
		emit(arg, "dtls_retransmissions", ws.retransmissions, false);
		emit(arg, "webrtc_tx_errors", ws.tx_errors, false);
	}
	if (c->recorder)
		mg_recorder_metrics(c->recorder, emit, arg);
	if (c->keys_report)
		c->keys_report(c->keys_report_arg, emit, NULL, arg);
}

static void keys_u64(void *a, const char *name, uint64_t value, bool gauge)
{
	(void)gauge;
	add_u64(a, name, value);
}

static void keys_str(void *a, const char *name, const char *value)
{
	rte_tel_data_add_dict_string(a, name, value);
}

static int cmd_keys(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (ctx.keys_report)
		ctx.keys_report(ctx.keys_report_arg, keys_u64, keys_str, d);
	else
		rte_tel_data_add_dict_string(d, "keys", "off");
	return 0;
}

static void tel_emit(void *arg, const char *name, uint64_t value, bool gauge)
{
	(void)gauge;
	add_u64(arg, name, value);
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	struct mg_worker_stats t;
	sum_workers(&t);
	rte_tel_data_start_dict(d);
	mg_metrics_totals(&ctx, tel_emit, d);
	mg_metrics_worker(&t, tel_emit, d);
	return 0;
}

static int cmd_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	const struct mg_profile *p = mg_dp_profile(ctx.dp);
	struct rte_tel_data *control = rte_tel_data_alloc();
	if (!control)
		return -1;
	rte_tel_data_start_dict(control);
	rte_tel_data_add_dict_string(control, "role", "control");
	add_u64(control, "lcore", p->control_lcore);
	char key[32];
	snprintf(key, sizeof(key), "lcore%u", p->control_lcore);
	rte_tel_data_add_dict_container(d, key, control, 0);
	for (unsigned w = 0; w < mg_dp_worker_count(ctx.dp); w++) {
		struct mg_worker_stats s;
		mg_dp_worker_stats(ctx.dp, w, &s);
		struct rte_tel_data *wd = rte_tel_data_alloc();
		if (!wd)
			return -1;
		rte_tel_data_start_dict(wd);
		rte_tel_data_add_dict_string(wd, "role", "worker");
		add_u64(wd, "worker", w);
		add_u64(wd, "lcore", mg_dp_worker_lcore(ctx.dp, w));
		add_u64(wd, "busy_percent",
			s.total_cycles ? s.busy_cycles * 100 / s.total_cycles : 0);
		add_u64(wd, "loops", s.loops);
		mg_metrics_worker(&s, tel_emit, wd);
		snprintf(key, sizeof(key), "lcore%u", mg_dp_worker_lcore(ctx.dp, w));
		rte_tel_data_add_dict_container(d, key, wd, 0);
	}
	return 0;
}

static int cmd_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	mg_sessions_lock(ctx.sessions);
	unsigned n = 0;
	for (struct mg_call *c = mg_call_first(ctx.sessions); c && n < RTE_TEL_MAX_ARRAY_ENTRIES;
	     c = mg_call_next(c), n++)
		rte_tel_data_add_array_string(d, c->call_id);
	mg_sessions_unlock(ctx.sessions);
	return 0;
}

static struct rte_tel_data *leg_dict(const struct mg_call *c, int side)
{
	struct rte_tel_data *ld = rte_tel_data_alloc();
	if (!ld)
		return NULL;
	rte_tel_data_start_dict(ld);
	rte_tel_data_add_dict_string(ld, "tag", c->tag[side]);
	rte_tel_data_add_dict_string(ld, "role", c->role[side][0] ? c->role[side] : "");
	rte_tel_data_add_dict_string(ld, "interface",
				     mg_dp_interface(ctx.dp, c->iface[side])->name);
	for (unsigned i = 0; i < c->n_media && i < 4; i++) {
		const struct mg_leg *leg = c->media[i].leg[side];
		if (!leg)
			continue;
		struct mg_leg_stats st;
		struct mg_latch rl, cl;
		mg_dp_leg_snapshot(leg, &st, &rl, &cl);
		char k[64], ip[16], v[64], prefix[8] = "";
		if (i > 0) /* keys of further media sections are prefixed m1_, m2_, ... */
			snprintf(prefix, sizeof(prefix), "m%u_", i);
#define KEY(name) (snprintf(k, sizeof(k), "%s%s", prefix, name), k)
		add_u64(ld, KEY("local_rtp_port"), leg->rtp_port);
		add_u64(ld, KEY("local_rtcp_port"), leg->rtcp_port);
		add_u64(ld, KEY("worker"), leg->worker);
		snprintf(v, sizeof(v), "%s:%u",
			 mg_ipv4_str(c->media[i].cfg[side].remote_rtp.ip, ip),
			 c->media[i].cfg[side].remote_rtp.port);
		rte_tel_data_add_dict_string(ld, KEY("sdp_remote"), v);
		if (rl.latched)
			snprintf(v, sizeof(v), "%s:%u", mg_ipv4_str(rl.addr.ip, ip), rl.addr.port);
		else
			snprintf(v, sizeof(v), "none");
		rte_tel_data_add_dict_string(ld, KEY("latched_rtp"), v);
		add_u64(ld, KEY("rtp_in_packets"), st.rtp_in_pkts);
		add_u64(ld, KEY("rtp_out_packets"), st.rtp_out_pkts);
		add_u64(ld, KEY("rtcp_in_packets"), st.rtcp_in_pkts);
		add_u64(ld, KEY("rtcp_out_packets"), st.rtcp_out_pkts);
		for (int dr = 0; dr < MG_LEG_DROP_COUNT; dr++) {
			char name[48];
			snprintf(name, sizeof(name), "drop_%s",
				 mg_leg_drop_name((enum mg_leg_drop)dr));
			add_u64(ld, KEY(name), st.drops[dr]);
		}
		add_u64(ld, KEY("blocked"), c->media[i].cfg[side].block_media);
#undef KEY
	}
	return ld;
}

static int cmd_session(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (!params || !*params)
		return -1; /* the socket answers null: a call-id is required */
	mg_sessions_lock(ctx.sessions);
	struct mg_call *c = mg_call_find(ctx.sessions, params);
	if (!c) {
		mg_sessions_unlock(ctx.sessions);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", "unknown call-id");
		return 0;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "call_id", c->call_id);
	if (c->contact_id[0])
		rte_tel_data_add_dict_string(d, "contact_id", c->contact_id);
	if (c->instance[0])
		rte_tel_data_add_dict_string(d, "instance", c->instance);
	add_u64(d, "created", (uint64_t)c->created);
	add_u64(d, "media", c->n_media);
	add_u64(d, "answered", c->answered);
	for (int side = 0; side < 2; side++) {
		struct rte_tel_data *ld = leg_dict(c, side);
		if (ld)
			rte_tel_data_add_dict_container(d, side == 0 ? "offerer" : "answerer", ld,
							0);
	}
	mg_sessions_unlock(ctx.sessions);
	return 0;
}

static int cmd_interfaces(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < mg_dp_interface_count(ctx.dp); i++) {
		const struct mg_interface_cfg *ifc = mg_dp_interface(ctx.dp, i);
		struct rte_tel_data *id = rte_tel_data_alloc();
		if (!id)
			return -1;
		char ip[16], v[32];
		rte_tel_data_start_dict(id);
		rte_tel_data_add_dict_string(id, "device", ifc->device);
		snprintf(v, sizeof(v), "%s/%u", mg_ipv4_str(ifc->address, ip), ifc->prefix_len);
		rte_tel_data_add_dict_string(id, "address", v);
		add_u64(id, "port_id", mg_dp_interface_port_id(ctx.dp, i));
		mg_sessions_lock(ctx.sessions);
		add_u64(id, "free_media_ports", mg_dp_ports_free(ctx.dp, i));
		mg_sessions_unlock(ctx.sessions);
		rte_tel_data_add_dict_container(d, ifc->name, id, 0);
	}
	return 0;
}

/* One dictionary per conference: worker, counters, and per participant (slot N) its RTP
 * port and jitter-buffer figures as pN_<figure> (telemetry dictionaries nest one level). */
static int cmd_conferences(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	mg_sessions_lock(ctx.sessions);
	add_u64(d, "conferences", mg_dp_conf_count(ctx.dp));
	unsigned shown = 0;
	for (struct mg_conf *cf = mg_dp_conf_first(ctx.dp); cf && shown < 64;
	     cf = mg_dp_conf_next(cf), shown++) {
		struct rte_tel_data *cd = rte_tel_data_alloc();
		if (!cd)
			break;
		const struct mg_mix *mix = mg_dp_conf_mix(cf);
		const struct mg_mix_stats *ms = mg_mix_stats(mix);
		rte_tel_data_start_dict(cd);
		add_u64(cd, "worker", mg_dp_conf_worker(cf));
		add_u64(cd, "participants", ms->participants);
		add_u64(cd, "ticks", ms->ticks);
		add_u64(cd, "tick_overruns", ms->tick_overruns);
		add_u64(cd, "event_queue_drops", ms->event_queue_drops);
		for (unsigned p = 0; p < MG_MIX_MAX_PARTICIPANTS; p++) {
			const struct mg_mix_pstats *ps = mg_mix_pstats(mix, p);
			if (!ps)
				continue;
			char k[48];
#define P(name, v) (snprintf(k, sizeof(k), "p%u_%s", p, name), add_u64(cd, k, v))
			P("rtp_port", mg_dp_conf_slot_port(cf, p));
			P("packets", ps->packets);
			P("played", ps->played);
			P("late", ps->late);
			P("lost", ps->lost);
			P("concealed", ps->concealed);
			P("duplicates", ps->duplicates);
			P("overruns", ps->overruns);
			P("resyncs", ps->resyncs);
			P("malformed", ps->malformed);
			P("events_in", ps->events_in);
			P("events_out", ps->events_out);
			P("frames_out", ps->frames_out);
			P("jb_depth", ps->jb_depth);
			P("jb_target", ps->jb_target);
#undef P
		}
		rte_tel_data_add_dict_container(d, mg_dp_conf_name(cf), cd, 0);
	}
	mg_sessions_unlock(ctx.sessions);
	return 0;
}

int mg_telemetry_register(const struct mg_telemetry_ctx *c)
{
	ctx = *c;
	int rc = 0;
	rc |= rte_telemetry_register_cmd("/mediagate/version", cmd_version,
					 "mediagate and DPDK versions, profile. No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/stats", cmd_stats,
					 "Totals: packets, drops by reason, sessions, ng requests. "
					 "No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/lcores", cmd_lcores,
					 "Per-lcore roles and counters. No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/sessions", cmd_sessions,
					 "Call-ids of active sessions (first 512). No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/session", cmd_session,
					 "One session's legs, ports, latching and counters. "
					 "Parameter: call-id");
	rc |= rte_telemetry_register_cmd("/mediagate/interfaces", cmd_interfaces,
					 "Interfaces, addresses, free media ports. No parameters");
	rc |= mg_telemetry_register_rec(c);
	rc |= rte_telemetry_register_cmd("/mediagate/conferences", cmd_conferences,
					 "Conferences: worker, participants, jitter buffers, loss, "
					 "tick overruns. No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/keys", cmd_keys,
					 "Instance key metadata and seal/open counters, no key "
					 "material. No parameters");
	return rc ? -1 : 0;
}
