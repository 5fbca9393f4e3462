/* Worker lcore: rx burst -> parse -> dispatch or relay -> tx burst.
 *
 * Everything here runs on one worker and touches only that worker's state, the legs
 * it owns, read-only configuration and lock-free rings. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dp_internal.h"

static const char *const leg_drop_names[MG_LEG_DROP_COUNT] = {
    [MG_LEG_DROP_UNLATCHED] = "unlatched_source",
    [MG_LEG_DROP_MALFORMED] = "malformed",
    [MG_LEG_DROP_NO_PEER] = "no_destination",
    [MG_LEG_DROP_NO_NEIGHBOR] = "no_neighbor",
    [MG_LEG_DROP_TX_FULL] = "tx_full",
    [MG_LEG_DROP_BLOCKED] = "blocked",
    [MG_LEG_DROP_SRTP_AUTH] = "srtp_auth_failed",
    [MG_LEG_DROP_SRTP_REPLAY] = "srtp_replayed",
    [MG_LEG_DROP_SRTP_TOO_OLD] = "srtp_too_old",
    [MG_LEG_DROP_SRTP_MALFORMED] = "srtp_malformed",
    [MG_LEG_DROP_SRTP_KEY_EXHAUSTED] = "srtp_key_exhausted",
    [MG_LEG_DROP_SRTP_NO_KEY] = "srtp_no_key",
    [MG_LEG_DROP_SRTP_PROTECT] = "srtp_protect_failed",
    [MG_LEG_DROP_CONFERENCE] = "peer_in_conference",
    [MG_LEG_DROP_NO_MBUF] = "no_mbuf",
};

const char *mg_leg_drop_name(enum mg_leg_drop d)
{
	return (unsigned)d < MG_LEG_DROP_COUNT ? leg_drop_names[d] : "unknown";
}

/* Hands a context the worker no longer uses back to the control lcore. */
static void retire_ctx(struct mg_dataplane *dp, mg_srtp_ctx *ctx)
{
	if (ctx)
		rte_ring_mp_enqueue(dp->return_ring, (void *)((uintptr_t)ctx | MG_RETIRED_CTX_TAG));
}

static void apply_cfg(struct mg_dataplane *dp, struct mg_leg *leg, const struct mg_leg_cfg *cfg)
{
	if (leg->cfg.srtp_in != cfg->srtp_in)
		retire_ctx(dp, leg->cfg.srtp_in);
	if (leg->cfg.srtp_out != cfg->srtp_out)
		retire_ctx(dp, leg->cfg.srtp_out);
	leg->cfg = *cfg;
	if (cfg->restore_latch) {
		leg->rtp_latch = cfg->saved_rtp_latch;
		leg->rtcp_latch = cfg->saved_rtcp_latch;
	}
	leg->cfg.restore_latch = false;
	if (cfg->relatch) {
		leg->rtp_latch.latched = false;
		leg->rtcp_latch.latched = false;
	}
	leg->cfg.relatch = false;
}

void mg_worker_apply_commands(struct mg_dataplane *dp, struct mg_worker *w)
{
	void *cmds[MG_CMD_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->cmd_ring, cmds, MG_CMD_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct mg_cmd *c = cmds[i];
		if (c->op >= MG_CMD_CONF_ADD) { /* conferences: worker_mix.c */
			mg_worker_conf_command(dp, w, c);
			rte_mempool_put(dp->cmd_pool, c);
			continue;
		}
		struct mg_leg *leg = c->leg;
		struct mg_leg **table = w->table[leg->iface];
		switch (c->op) {
		case MG_CMD_PUBLISH:
			apply_cfg(dp, leg, &c->cfg);
			leg->stats.last_rx_tsc = rte_rdtsc();
			table[leg->rtp_port] = leg;
			table[leg->rtcp_port] = leg;
			break;
		case MG_CMD_UPDATE:
			apply_cfg(dp, leg, &c->cfg);
			break;
		case MG_CMD_RELEASE:
			table[leg->rtp_port] = NULL;
			table[leg->rtcp_port] = NULL;
			mg_worker_conf_leg_released(w, leg);
			/* The peer stays on this worker; it must not reach a leg that is
			 * about to be freed. */
			if (leg->peer && leg->peer->peer == leg)
				leg->peer->peer = NULL;
			leg->peer = NULL;
			retire_ctx(dp, leg->cfg.srtp_in);
			retire_ctx(dp, leg->cfg.srtp_out);
			leg->cfg.srtp_in = leg->cfg.srtp_out = NULL;
			/* The return ring holds every leg and context, so this cannot fail. */
			rte_ring_mp_enqueue(dp->return_ring, leg);
			break;
		}
		rte_mempool_put(dp->cmd_pool, c);
	}
	w->stats.commands += n;
}

static inline void to_slow_path(struct mg_dataplane *dp, struct mg_worker *w, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(dp->slow_ring, m) == 0) {
		w->stats.slow_path++;
	} else {
		w->stats.slow_path_drops++;
		rte_pktmbuf_free(m);
	}
}

static inline void tx_enqueue(struct mg_dataplane *dp, struct mg_worker *w, unsigned iface,
			      struct rte_mbuf *m)
{
	struct mg_txbuf *tb = &w->tx[iface];
	tb->pkts[tb->n++] = m;
	if (tb->n == dp->burst) {
		uint16_t sent = rte_eth_tx_burst(dp->ifaces[iface].port_id, (uint16_t)w->index,
						 tb->pkts, tb->n);
		for (uint16_t i = sent; i < tb->n; i++) {
			w->stats.tx_drops++;
			rte_pktmbuf_free(tb->pkts[i]);
		}
		w->stats.tx_pkts += sent;
		tb->n = 0;
	}
}

void mg_worker_tx(struct mg_dataplane *dp, struct mg_worker *w, unsigned iface, struct rte_mbuf *m)
{
	tx_enqueue(dp, w, iface, m);
}

static inline void tx_flush(struct mg_dataplane *dp, struct mg_worker *w)
{
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		struct mg_txbuf *tb = &w->tx[i];
		if (!tb->n)
			continue;
		uint16_t sent =
		    rte_eth_tx_burst(dp->ifaces[i].port_id, (uint16_t)w->index, tb->pkts, tb->n);
		for (uint16_t k = sent; k < tb->n; k++) {
			w->stats.tx_drops++;
			rte_pktmbuf_free(tb->pkts[k]);
		}
		w->stats.tx_pkts += sent;
		tb->n = 0;
	}
}

static inline void drop(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/* Where a packet arriving on `leg` goes: the peer's RTP or RTCP destination. */
static inline int egress_of(const struct mg_leg *peer, bool rtcp, uint16_t *src_port,
			    const struct mg_latch **latch, struct mg_endpoint *dst)
{
	if (!rtcp || peer->cfg.rtcp_mux) {
		*src_port = peer->rtp_port;
		*latch = &peer->rtp_latch;
		*dst = peer->rtp_latch.latched ? peer->rtp_latch.addr : peer->cfg.remote_rtp;
	} else {
		*src_port = peer->rtcp_port;
		*latch = &peer->rtcp_latch;
		*dst = peer->rtcp_latch.latched ? peer->rtcp_latch.addr : peer->cfg.remote_rtcp;
	}
	return dst->ip && dst->port ? 0 : -1;
}

/* One packet on its way through the stages of a burst. */
struct in_flight {
	struct rte_mbuf *m;
	struct mg_mbuf_meta *meta;
	struct mg_leg *leg;
	uint8_t *payload;
	uint32_t len; /* current payload length (changes with SRTP) */
	bool rtcp;    /* RTCP (muxed or on the RTCP port) */
	bool on_rtcp_port;
	bool latch_now; /* latch (or re-latch) the source once it is accepted */
};

static const enum mg_leg_drop srtp_drop_reason[MG_SRTP_STATUS_COUNT] = {
    [MG_SRTP_ERR_AUTH] = MG_LEG_DROP_SRTP_AUTH,
    [MG_SRTP_ERR_REPLAY] = MG_LEG_DROP_SRTP_REPLAY,
    [MG_SRTP_ERR_TOO_OLD] = MG_LEG_DROP_SRTP_TOO_OLD,
    [MG_SRTP_ERR_MALFORMED] = MG_LEG_DROP_SRTP_MALFORMED,
    [MG_SRTP_ERR_KEY_EXHAUSTED] = MG_LEG_DROP_SRTP_KEY_EXHAUSTED,
    [MG_SRTP_ERR_MKI] = MG_LEG_DROP_SRTP_MALFORMED,
    [MG_SRTP_ERR_NO_ROOM] = MG_LEG_DROP_SRTP_MALFORMED,
    [MG_SRTP_ERR_NO_CONTEXT] = MG_LEG_DROP_SRTP_NO_KEY,
    [MG_SRTP_ERR_INTERNAL] = MG_LEG_DROP_SRTP_MALFORMED,
};

/* Stage 1: find the leg, tell RTP from RTCP from the rest, apply the latch rule.
 * Returns false when the packet was consumed (dropped or handed to the slow path). */
static bool stage_lookup(struct mg_dataplane *dp, struct mg_worker *w, struct in_flight *f)
{
	const struct mg_pkt_info *info = &f->meta->info;
	struct mg_leg *leg = w->table[f->meta->iface][info->dst_port];
	if (unlikely(!leg)) {
		w->stats.no_session++;
		drop(f->m);
		return false;
	}
	f->leg = leg;
	f->payload = rte_pktmbuf_mtod_offset(f->m, uint8_t *, info->payload_off);
	f->len = info->payload_len;
	enum mg_demux_class cls = mg_demux_classify(f->payload, f->len);
	w->stats.demux[cls]++;
	if (cls != MG_DEMUX_RTP && cls != MG_DEMUX_RTCP) {
		if (cls == MG_DEMUX_UNKNOWN) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(f->m);
		} else {
			f->meta->demux = (uint8_t)cls;
			to_slow_path(dp, w, f->m);
		}
		return false;
	}
	f->on_rtcp_port = info->dst_port == leg->rtcp_port;
	f->rtcp = f->on_rtcp_port || cls == MG_DEMUX_RTCP;
	/* Symmetric RTP: the first accepted packet latches its source; afterwards only
	 * the latched source is relayed (no RTP bleed, R3). On an SRTP leg a packet from
	 * another source may re-latch, but only once it has authenticated. */
	const struct mg_latch *latch = f->on_rtcp_port ? &leg->rtcp_latch : &leg->rtp_latch;
	bool same =
	    latch->latched && latch->addr.ip == info->src_ip && latch->addr.port == info->src_port;
	if (!same && latch->latched && !leg->cfg.srtp) {
		leg->stats.drops[MG_LEG_DROP_UNLATCHED]++;
		drop(f->m);
		return false;
	}
	f->latch_now = !same;
	return true;
}

static void latch_commit(struct in_flight *f)
{
	struct mg_latch *latch = f->on_rtcp_port ? &f->leg->rtcp_latch : &f->leg->rtp_latch;
	latch->addr.ip = f->meta->info.src_ip;
	latch->addr.port = f->meta->info.src_port;
	latch->mac = f->meta->info.src_mac;
	latch->latched = true;
}

/* Stage 3: checks on the (plaintext) packet, counters, latch. False when dropped. */
static bool stage_accept(struct in_flight *f, uint64_t now)
{
	struct mg_leg *leg = f->leg;
	if (f->rtcp) {
		struct mg_rtcp_hdr rh;
		/* Decrypted SRTCP has lost its trailer, so the whole compound is checked. */
		if (unlikely(mg_rtcp_parse(f->payload, f->len, 1, &rh) != MG_RTP_OK)) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(f->m);
			return false;
		}
	} else {
		struct mg_rtp_hdr rh;
		if (unlikely(mg_rtp_parse(f->payload, f->len, 1, &rh) != MG_RTP_OK)) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(f->m);
			return false;
		}
	}
	if (f->latch_now)
		latch_commit(f);
	if (unlikely(leg->cfg.block_media)) {
		leg->stats.drops[MG_LEG_DROP_BLOCKED]++;
		drop(f->m);
		return false;
	}
	if (f->rtcp) {
		leg->stats.rtcp_in_pkts++;
		leg->stats.rtcp_in_bytes += f->len;
	} else {
		leg->stats.rtp_in_pkts++;
		leg->stats.rtp_in_bytes += f->len;
	}
	leg->stats.last_rx_tsc = now;
	return true;
}

/* Stage 5: new Ethernet/IPv4/UDP headers for the peer's destination, then transmit. */
static void stage_send(struct mg_dataplane *dp, struct mg_worker *w, struct in_flight *f)
{
	struct mg_leg *peer = f->leg->peer;
	struct rte_mbuf *m = f->m;
	uint16_t src_port;
	const struct mg_latch *out_latch;
	struct mg_endpoint dst;
	uint32_t held = 0;
	if (unlikely(!peer || egress_of(peer, f->rtcp, &src_port, &out_latch, &dst) < 0)) {
		f->leg->stats.drops[MG_LEG_DROP_NO_PEER]++;
		drop(m);
		return;
	}
	const struct mg_iface *out_if = &dp->ifaces[peer->iface];
	struct mg_udp_tuple t;
	if (out_latch->latched) {
		t.dst_mac = out_latch->mac;
	} else {
		uint32_t hop = mg_next_hop(out_if, dst.ip);
		if (unlikely(!hop)) {
			f->leg->stats.drops[MG_LEG_DROP_NO_NEIGHBOR]++;
			drop(m);
			return;
		}
		if (unlikely(mg_neigh_lookup(dp, peer->iface, hop, &t.dst_mac) < 0))
			held = hop; /* the control lcore resolves it and sends the packet */
	}
	/* The payload stays where it is; drop the old headers (and any Ethernet padding
	 * or SRTP trailer change) and write new ones in front. */
	uint16_t plen = (uint16_t)f->len;
	const struct mg_pkt_info *in = &f->meta->info;
	/* An unchanged payload (plain relay) keeps its checksum, adjusted for the new
	 * addresses and ports (RFC 1624) instead of summing the payload again. */
	uint16_t old_csum = 0;
	bool same_payload = !f->leg->cfg.srtp && !peer->cfg.srtp && plen == in->payload_len;
	if (same_payload) {
		const uint8_t *udp = rte_pktmbuf_mtod_offset(m, const uint8_t *, in->l4_off);
		old_csum = (uint16_t)(udp[6] << 8 | udp[7]);
	}
	rte_pktmbuf_adj(m, f->meta->info.payload_off);
	m->data_len = plen;
	m->pkt_len = plen;
	uint8_t *frame = (uint8_t *)rte_pktmbuf_prepend(m, MG_ETH_IP_UDP_LEN);
	if (unlikely(!frame)) {
		f->leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
		drop(m);
		return;
	}
	memcpy(t.src_mac.b, out_if->mac.addr_bytes, 6);
	t.src_ip = out_if->cfg.address;
	t.dst_ip = dst.ip;
	t.src_port = src_port;
	t.dst_port = dst.port;
	t.ttl = 64;
	t.tos = 0xb8; /* DSCP EF: voice */
	if (unlikely(held))
		memset(t.dst_mac.b, 0, sizeof(t.dst_mac.b));
	if (same_payload && old_csum) {
		mg_net_build_udp(frame, &t, plen, peer->ip_id++, true);
		uint16_t c =
		    mg_udp_csum_update(old_csum, in->src_ip, in->dst_ip, in->src_port, in->dst_port,
				       t.src_ip, t.dst_ip, t.src_port, t.dst_port);
		frame[MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 6] = (uint8_t)(c >> 8);
		frame[MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 7] = (uint8_t)c;
	} else {
		mg_net_build_udp(frame, &t, plen, peer->ip_id++, false);
	}
	m->ol_flags = 0;
	if (f->rtcp) {
		peer->stats.rtcp_out_pkts++;
		peer->stats.rtcp_out_bytes += plen;
	} else {
		peer->stats.rtp_out_pkts++;
		peer->stats.rtp_out_bytes += plen;
	}
	if (unlikely(held)) {
		/* Like a kernel's neighbour queue: hold the first packets to a next hop
		 * whose MAC is not known yet instead of dropping them. */
		f->meta->iface = peer->iface;
		f->meta->info.dst_ip = held;
		if (rte_ring_mp_enqueue(dp->hold_ring, m) != 0) {
			peer->stats.drops[MG_LEG_DROP_NO_NEIGHBOR]++;
			drop(m);
		}
		return;
	}
	tx_enqueue(dp, w, peer->iface, m);
}

static inline uint32_t room_from(const struct rte_mbuf *m, const uint8_t *p)
{
	return (uint32_t)((const uint8_t *)m->buf_addr + m->buf_len - p);
}

/* Runs the SRTP or SRTCP burst over the packets in `idx`, drops the failures (counted
 * per leg), compacts idx to the survivors and returns their number. */
static unsigned crypto_burst(struct mg_worker *w, struct in_flight *fl, unsigned *idx, unsigned n,
			     bool protect, bool rtcp)
{
	struct mg_srtp_pkt pk[MG_MAX_BURST];
	uint8_t status[MG_MAX_BURST];
	if (!n)
		return 0;
	for (unsigned k = 0; k < n; k++) {
		struct in_flight *f = &fl[idx[k]];
		pk[k].data = f->payload;
		pk[k].len = f->len;
		pk[k].capacity = room_from(f->m, f->payload);
		pk[k].ctx = protect ? f->leg->peer->cfg.srtp_out : f->leg->cfg.srtp_in;
	}
	if (protect)
		rtcp ? mg_srtcp_protect_burst(w->srtp, pk, n, status)
		     : mg_srtp_protect_burst(w->srtp, pk, n, status);
	else
		rtcp ? mg_srtcp_unprotect_burst(w->srtp, pk, n, status)
		     : mg_srtp_unprotect_burst(w->srtp, pk, n, status);
	unsigned kept = 0;
	for (unsigned k = 0; k < n; k++) {
		struct in_flight *f = &fl[idx[k]];
		if (likely(status[k] == MG_SRTP_OK)) {
			f->len = pk[k].len;
			idx[kept++] = idx[k];
			continue;
		}
		if (protect)
			f->leg->peer->stats.drops[status[k] == MG_SRTP_ERR_NO_CONTEXT
						      ? MG_LEG_DROP_SRTP_NO_KEY
						      : MG_LEG_DROP_SRTP_PROTECT]++;
		else
			f->leg->stats.drops[srtp_drop_reason[status[k]]]++;
		drop(f->m);
	}
	return kept;
}

/* Relays a burst of packets this worker owns:
 *   lookup/latch -> SRTP unprotect burst (SRTP legs) -> checks -> SRTP protect burst
 *   (towards SRTP legs) -> headers -> tx.
 * A packet for an SRTP leg leaves only through the protect stage: a missing key or a
 * failed protect drops it, so plaintext never reaches an SRTP remote (R2). */
static void relay_burst(struct mg_dataplane *dp, struct mg_worker *w, struct rte_mbuf **pkts,
			unsigned n, uint64_t now)
{
	struct in_flight fl[MG_MAX_BURST];
	unsigned srtp_rtp[MG_MAX_BURST], srtp_rtcp[MG_MAX_BURST], plain[MG_MAX_BURST];
	unsigned n_rtp = 0, n_rtcp = 0, n_plain = 0, n_fl = 0;
	/* With thousands of calls the port table entries and the legs are cache misses;
	 * fetch them for the whole burst first so the misses overlap instead of queueing
	 * one after the other: table slots, then each leg's hot lines, then its peer's. */
	struct mg_leg *const *slot[MG_MAX_BURST];
	for (unsigned i = 0; i < n; i++) {
		const struct mg_mbuf_meta *meta = mg_meta(pkts[i]);
		slot[i] = &w->table[meta->iface][meta->info.dst_port];
		rte_prefetch0(slot[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct mg_leg *leg = *slot[i];
		if (leg) {
			rte_prefetch0(leg);
			rte_prefetch0((const char *)leg + RTE_CACHE_LINE_SIZE);
			rte_prefetch0((const char *)leg + 2 * RTE_CACHE_LINE_SIZE);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const struct mg_leg *leg = *slot[i];
		const struct mg_leg *peer = leg ? leg->peer : NULL;
		if (peer) {
			rte_prefetch0(peer);
			rte_prefetch0((const char *)peer + RTE_CACHE_LINE_SIZE);
			rte_prefetch0((const char *)peer + 2 * RTE_CACHE_LINE_SIZE);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct in_flight *f = &fl[n_fl];
		f->m = pkts[i];
		f->meta = mg_meta(pkts[i]);
		if (!stage_lookup(dp, w, f))
			continue;
		if (f->leg->cfg.srtp) {
			if (f->rtcp)
				srtp_rtcp[n_rtcp++] = n_fl;
			else
				srtp_rtp[n_rtp++] = n_fl;
		} else {
			plain[n_plain++] = n_fl;
		}
		n_fl++;
	}
	n_rtp = crypto_burst(w, fl, srtp_rtp, n_rtp, false, false);
	n_rtcp = crypto_burst(w, fl, srtp_rtcp, n_rtcp, false, true);
	for (unsigned k = 0; k < n_rtp; k++)
		plain[n_plain++] = srtp_rtp[k];
	for (unsigned k = 0; k < n_rtcp; k++)
		plain[n_plain++] = srtp_rtcp[k];

	/* accepted packets: straight out, or into the protect bursts */
	unsigned out_rtp[MG_MAX_BURST], out_rtcp[MG_MAX_BURST];
	unsigned o_rtp = 0, o_rtcp = 0;
	uint64_t rec_now = 0; /* recording clock, read once per burst when needed */
	bool rec_any = false;
	for (unsigned k = 0; k < n_plain; k++) {
		struct in_flight *f = &fl[plain[k]];
		if (!stage_accept(f, now))
			continue;
		if (unlikely(f->leg->cfg.rec) && !f->rtcp) {
			if (!rec_any)
				rec_now = mg_worker_rec_clock();
			rec_any = true;
			mg_worker_rec_fork(w, f->leg, f->payload, f->len, rec_now);
		}
		struct mg_leg *peer = f->leg->peer;
		/* Conference legs have no relay peer: their media goes to the mixer. */
		if (unlikely(!peer) &&
		    mg_worker_conf_input(w, f->leg, f->payload, f->len, f->rtcp)) {
			drop(f->m);
			continue;
		}
		if (peer && peer->cfg.srtp) {
			if (f->rtcp)
				out_rtcp[o_rtcp++] = plain[k];
			else
				out_rtp[o_rtp++] = plain[k];
		} else {
			stage_send(dp, w, f);
		}
	}
	o_rtp = crypto_burst(w, fl, out_rtp, o_rtp, true, false);
	o_rtcp = crypto_burst(w, fl, out_rtcp, o_rtcp, true, true);
	for (unsigned k = 0; k < o_rtp; k++)
		stage_send(dp, w, &fl[out_rtp[k]]);
	for (unsigned k = 0; k < o_rtcp; k++)
		stage_send(dp, w, &fl[out_rtcp[k]]);
	if (rec_any)
		mg_worker_rec_flush(w);
}

static bool is_local_ip(uint32_t ip, void *arg)
{
	const struct mg_iface *ifc = arg;
	return ip == ifc->cfg.address;
}

/* First look at a frame received from a port: parse, then relay, dispatch to the
 * owning worker, or hand to the control lcore. */
static bool classify_rx(struct mg_dataplane *dp, struct mg_worker *w, unsigned iface,
			struct rte_mbuf *m)
{
	struct mg_iface *ifc = &dp->ifaces[iface];
	struct mg_mbuf_meta *meta = mg_meta(m);
	w->stats.rx_pkts++;
	w->stats.rx_bytes += m->pkt_len;
	if (unlikely(m->nb_segs != 1)) {
		w->stats.multiseg_drops++;
		drop(m);
		return false;
	}
	enum mg_csum_mode ipc = MG_CSUM_VERIFY, l4c = MG_CSUM_VERIFY;
	if (ifc->rx_csum_offload) {
		uint64_t f = m->ol_flags;
		if ((f & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			ipc = MG_CSUM_GOOD;
		if ((f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			l4c = MG_CSUM_GOOD;
	}
	enum mg_net_verdict v = mg_net_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, ipc,
					     l4c, is_local_ip, ifc, &meta->info);
	w->stats.net_verdict[v]++;
	meta->iface = (uint8_t)iface;
	meta->verdict = (uint8_t)v;
	if (v == MG_NET_ARP || v == MG_NET_ICMP) {
		to_slow_path(dp, w, m);
		return false;
	}
	if (v != MG_NET_UDP) {
		drop(m);
		return false;
	}
	uint8_t owner = ifc->owner[meta->info.dst_port];
	if (likely(owner == w->index))
		return true;
	if (owner == MG_NO_OWNER) {
		w->stats.no_session++;
		drop(m);
	} else if (rte_ring_mp_enqueue(dp->workers[owner].dispatch_ring, m) == 0) {
		w->stats.dispatched_out++;
	} else {
		w->stats.dispatch_drops++;
		drop(m);
	}
	return false;
}

int mg_dp_worker_main(void *arg)
{
	struct mg_dp_worker_arg *a = arg;
	struct mg_dataplane *dp = a->dp;
	struct mg_worker *w = &dp->workers[a->index];
	struct rte_mbuf *pkts[MG_MAX_BURST], *mine[MG_MAX_BURST];
	const uint16_t burst = dp->burst;

	while (!w->stop) {
		uint64_t start = rte_rdtsc();
		unsigned work = 0;
		for (unsigned q = 0; q < w->n_rxq; q++) {
			const struct mg_rxq_ref *r = &w->rxq[q];
			uint16_t n = rte_eth_rx_burst(r->port_id, r->queue, pkts, burst);
			if (!n)
				continue;
			/* A command (say the answer's new destination) is queued before the
			 * control lcore replies to the proxy, so applying pending commands
			 * here means no packet caused by that reply can overtake it. */
			mg_worker_apply_commands(dp, w);
			unsigned n_mine = 0;
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				if (classify_rx(dp, w, r->iface, pkts[i]))
					mine[n_mine++] = pkts[i];
			}
			if (n_mine)
				relay_burst(dp, w, mine, n_mine, start);
			work += n;
		}
		unsigned n =
		    rte_ring_sc_dequeue_burst(w->dispatch_ring, (void **)pkts, burst, NULL);
		if (n) {
			mg_worker_apply_commands(dp, w);
			relay_burst(dp, w, pkts, n, start);
		}
		w->stats.dispatched_in += n;
		work += n;
		work += mg_worker_conf_poll(dp, w); /* a tick round is busy time */
		tx_flush(dp, w);
		mg_worker_apply_commands(dp, w);
		uint64_t end = rte_rdtsc();
		w->stats.loops++;
		w->stats.total_cycles += end - start;
		if (work) {
			w->stats.busy_loops++;
			w->stats.busy_cycles += end - start;
		}
	}
	tx_flush(dp, w);
	return 0;
}
