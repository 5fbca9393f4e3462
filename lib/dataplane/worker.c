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
};

const char *mg_leg_drop_name(enum mg_leg_drop d)
{
	return (unsigned)d < MG_LEG_DROP_COUNT ? leg_drop_names[d] : "unknown";
}

static void apply_cfg(struct mg_leg *leg, const struct mg_leg_cfg *cfg)
{
	leg->cfg = *cfg;
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
		struct mg_leg *leg = c->leg;
		struct mg_leg **table = w->table[leg->iface];
		switch (c->op) {
		case MG_CMD_PUBLISH:
			apply_cfg(leg, &c->cfg);
			leg->stats.last_rx_tsc = rte_rdtsc();
			table[leg->rtp_port] = leg;
			table[leg->rtcp_port] = leg;
			break;
		case MG_CMD_UPDATE:
			apply_cfg(leg, &c->cfg);
			break;
		case MG_CMD_RELEASE:
			table[leg->rtp_port] = NULL;
			table[leg->rtcp_port] = NULL;
			/* The peer stays on this worker; it must not reach a leg that is
			 * about to be freed. */
			if (leg->peer && leg->peer->peer == leg)
				leg->peer->peer = NULL;
			leg->peer = NULL;
			/* The return ring is sized for every leg, so this cannot fail. */
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

static inline void tx_flush(struct mg_dataplane *dp, struct mg_worker *w)
{
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		struct mg_txbuf *tb = &w->tx[i];
		if (!tb->n)
			continue;
		uint16_t sent = rte_eth_tx_burst(dp->ifaces[i].port_id, (uint16_t)w->index,
						 tb->pkts, tb->n);
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

/* Relays one packet owned by this worker. */
static void relay(struct mg_dataplane *dp, struct mg_worker *w, struct rte_mbuf *m,
		  struct mg_mbuf_meta *meta, uint64_t now)
{
	const struct mg_pkt_info *info = &meta->info;
	struct mg_leg *leg = w->table[meta->iface][info->dst_port];
	if (unlikely(!leg)) {
		w->stats.no_session++;
		drop(m);
		return;
	}
	uint8_t *payload = rte_pktmbuf_mtod_offset(m, uint8_t *, info->payload_off);
	enum mg_demux_class cls = mg_demux_classify(payload, info->payload_len);
	w->stats.demux[cls]++;
	if (cls != MG_DEMUX_RTP && cls != MG_DEMUX_RTCP) {
		if (cls == MG_DEMUX_UNKNOWN) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(m);
		} else {
			meta->demux = (uint8_t)cls;
			to_slow_path(dp, w, m);
		}
		return;
	}
	bool on_rtcp_port = info->dst_port == leg->rtcp_port;
	bool rtcp = on_rtcp_port || cls == MG_DEMUX_RTCP;

	/* Symmetric RTP: the first packet latches the source; afterwards only the
	 * latched source is relayed (no RTP bleed, R3). */
	struct mg_latch *latch = on_rtcp_port ? &leg->rtcp_latch : &leg->rtp_latch;
	if (likely(latch->latched)) {
		if (unlikely(latch->addr.ip != info->src_ip || latch->addr.port != info->src_port)) {
			leg->stats.drops[MG_LEG_DROP_UNLATCHED]++;
			drop(m);
			return;
		}
	} else {
		latch->addr.ip = info->src_ip;
		latch->addr.port = info->src_port;
		latch->mac = info->src_mac;
		latch->latched = true;
	}
	if (unlikely(leg->cfg.block_media)) {
		leg->stats.drops[MG_LEG_DROP_BLOCKED]++;
		drop(m);
		return;
	}
	if (rtcp) {
		struct mg_rtcp_hdr rh;
		if (unlikely(mg_rtcp_parse(payload, info->payload_len, 1, &rh) != MG_RTP_OK)) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(m);
			return;
		}
		leg->stats.rtcp_in_pkts++;
		leg->stats.rtcp_in_bytes += info->payload_len;
	} else {
		struct mg_rtp_hdr rh;
		if (unlikely(mg_rtp_parse(payload, info->payload_len, 1, &rh) != MG_RTP_OK)) {
			leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
			drop(m);
			return;
		}
		leg->stats.rtp_in_pkts++;
		leg->stats.rtp_in_bytes += info->payload_len;
	}
	leg->stats.last_rx_tsc = now;

	struct mg_leg *peer = leg->peer;
	uint16_t src_port;
	const struct mg_latch *out_latch;
	struct mg_endpoint dst;
	if (unlikely(!peer || egress_of(peer, rtcp, &src_port, &out_latch, &dst) < 0)) {
		leg->stats.drops[MG_LEG_DROP_NO_PEER]++;
		drop(m);
		return;
	}
	const struct mg_iface *out_if = &dp->ifaces[peer->iface];
	struct mg_udp_tuple t;
	if (out_latch->latched) {
		t.dst_mac = out_latch->mac;
	} else {
		uint32_t hop = mg_next_hop(out_if, dst.ip);
		if (unlikely(!hop || mg_neigh_lookup(dp, peer->iface, hop, &t.dst_mac) < 0)) {
			leg->stats.drops[MG_LEG_DROP_NO_NEIGHBOR]++;
			if (hop)
				rte_ring_mp_enqueue(dp->resolve_ring,
						    (void *)(uintptr_t)((uint64_t)peer->iface << 32 | hop));
			drop(m);
			return;
		}
	}
	uint16_t plen = info->payload_len;
	/* Strip the old headers and any Ethernet padding, then write new ones. */
	rte_pktmbuf_adj(m, info->payload_off);
	if (m->pkt_len > plen)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - plen));
	uint8_t *frame = (uint8_t *)rte_pktmbuf_prepend(m, MG_ETH_IP_UDP_LEN);
	if (unlikely(!frame)) {
		leg->stats.drops[MG_LEG_DROP_MALFORMED]++;
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
	mg_net_build_udp(frame, &t, plen, peer->ip_id++, false);
	m->ol_flags = 0;
	if (rtcp) {
		peer->stats.rtcp_out_pkts++;
		peer->stats.rtcp_out_bytes += plen;
	} else {
		peer->stats.rtp_out_pkts++;
		peer->stats.rtp_out_bytes += plen;
	}
	tx_enqueue(dp, w, peer->iface, m);
}

static bool is_local_ip(uint32_t ip, void *arg)
{
	const struct mg_iface *ifc = arg;
	return ip == ifc->cfg.address;
}

/* First look at a frame received from a port: parse, then relay, dispatch to the
 * owning worker, or hand to the control lcore. */
static void classify_rx(struct mg_dataplane *dp, struct mg_worker *w, unsigned iface,
			struct rte_mbuf *m, uint64_t now)
{
	struct mg_iface *ifc = &dp->ifaces[iface];
	struct mg_mbuf_meta *meta = mg_meta(m);
	w->stats.rx_pkts++;
	w->stats.rx_bytes += m->pkt_len;
	if (unlikely(m->nb_segs != 1)) {
		w->stats.multiseg_drops++;
		drop(m);
		return;
	}
	enum mg_csum_mode ipc = MG_CSUM_VERIFY, l4c = MG_CSUM_VERIFY;
	if (ifc->rx_csum_offload) {
		uint64_t f = m->ol_flags;
		if ((f & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			ipc = MG_CSUM_GOOD;
		if ((f & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			l4c = MG_CSUM_GOOD;
	}
	enum mg_net_verdict v = mg_net_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
					     ipc, l4c, is_local_ip, ifc, &meta->info);
	w->stats.net_verdict[v]++;
	meta->iface = (uint8_t)iface;
	meta->verdict = (uint8_t)v;
	if (v == MG_NET_ARP || v == MG_NET_ICMP) {
		to_slow_path(dp, w, m);
		return;
	}
	if (v != MG_NET_UDP) {
		drop(m);
		return;
	}
	uint8_t owner = ifc->owner[meta->info.dst_port];
	if (likely(owner == w->index)) {
		relay(dp, w, m, meta, now);
	} else if (owner == MG_NO_OWNER) {
		w->stats.no_session++;
		drop(m);
	} else if (rte_ring_mp_enqueue(dp->workers[owner].dispatch_ring, m) == 0) {
		w->stats.dispatched_out++;
	} else {
		w->stats.dispatch_drops++;
		drop(m);
	}
}

int mg_dp_worker_main(void *arg)
{
	struct mg_dp_worker_arg *a = arg;
	struct mg_dataplane *dp = a->dp;
	struct mg_worker *w = &dp->workers[a->index];
	struct rte_mbuf *pkts[MG_MAX_BURST];
	const uint16_t burst = dp->burst;

	while (!w->stop) {
		uint64_t start = rte_rdtsc();
		unsigned work = 0;
		for (unsigned q = 0; q < w->n_rxq; q++) {
			const struct mg_rxq_ref *r = &w->rxq[q];
			uint16_t n = rte_eth_rx_burst(r->port_id, r->queue, pkts, burst);
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				classify_rx(dp, w, r->iface, pkts[i], start);
			}
			work += n;
		}
		unsigned n = rte_ring_sc_dequeue_burst(w->dispatch_ring, (void **)pkts, burst, NULL);
		for (unsigned i = 0; i < n; i++)
			relay(dp, w, pkts[i], mg_meta(pkts[i]), start);
		w->stats.dispatched_in += n;
		work += n;
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
