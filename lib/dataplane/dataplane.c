/* Data plane set-up and the control lcore's side of it: ports, rings, legs, the
 * slow path (ARP, ICMP, STUN/DTLS hand-off) and neighbor resolution. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_internal.h"

#define RESOLVE_INTERVAL_S 1

static int err_out(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_out(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int setup_port(struct mg_dataplane *dp, unsigned i, char *err, size_t errlen)
{
	struct mg_iface *ifc = &dp->ifaces[i];
	const char *dev = ifc->cfg.device;
	if (rte_eth_dev_get_port_by_name(dev, &ifc->port_id) != 0)
		return err_out(
		    err, errlen,
		    "interface.%s.device: no DPDK port named '%s' (check eal.args --vdev/-a)",
		    ifc->cfg.name, dev);
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(ifc->port_id, &info) != 0)
		return err_out(err, errlen, "%s: cannot read device info", dev);
	/* af_packet spreads packets over all of its socket queues (PACKET_FANOUT), so
	 * every one of them must be polled; elsewhere one rx queue per worker is enough. */
	bool fanout_device = strstr(info.driver_name, "af_packet") != NULL;
	/* net_tap insists on as many rx as tx queues; the kernel spreads flows over them */
	bool paired_queues = strstr(info.driver_name, "tap") != NULL;
	uint16_t n_tx = (uint16_t)(dp->n_workers + 1); /* one per worker + control */
	uint16_t n_rx = fanout_device	? info.max_rx_queues
			: paired_queues ? n_tx
					: (uint16_t)RTE_MIN(info.max_rx_queues, dp->n_workers);
	if (n_rx == 0)
		n_rx = 1;
	if (info.max_tx_queues < n_tx)
		return err_out(err, errlen,
			       "interface.%s: device %s has %u tx queues, needs %u (one per worker "
			       "plus control; for af_packet raise qpairs=)",
			       ifc->cfg.name, dev, info.max_tx_queues, n_tx);
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (n_rx > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_UDP) &&
	    ifc->cfg.rss != MG_RSS_OFF) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	} else if (ifc->cfg.rss == MG_RSS_DST_PORT) {
		return err_out(err, errlen, "interface.%s.rss: device %s has no UDP RSS",
			       ifc->cfg.name, dev);
	}
	uint64_t rx_cs = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if ((info.rx_offload_capa & rx_cs) == rx_cs) {
		conf.rxmode.offloads |= rx_cs;
		ifc->rx_csum_offload = true;
	}
	int rc = rte_eth_dev_configure(ifc->port_id, n_rx, n_tx, &conf);
	if (rc < 0)
		return err_out(err, errlen, "%s: configure failed (%s)", dev, rte_strerror(-rc));
	uint16_t nb_rxd = ifc->cfg.rx_desc, nb_txd = ifc->cfg.tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(ifc->port_id, &nb_rxd, &nb_txd);
	int socket = rte_eth_dev_socket_id(ifc->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < n_rx; q++) {
		rc = rte_eth_rx_queue_setup(ifc->port_id, q, nb_rxd, (unsigned)socket, NULL,
					    dp->pool);
		if (rc < 0)
			return err_out(err, errlen, "%s: rx queue %u: %s", dev, q,
				       rte_strerror(-rc));
		struct mg_worker *w = &dp->workers[q % dp->n_workers];
		w->rxq[w->n_rxq++] =
		    (struct mg_rxq_ref){.port_id = ifc->port_id, .queue = q, .iface = (uint8_t)i};
	}
	for (uint16_t q = 0; q < n_tx; q++) {
		rc = rte_eth_tx_queue_setup(ifc->port_id, q, nb_txd, (unsigned)socket, NULL);
		if (rc < 0)
			return err_out(err, errlen, "%s: tx queue %u: %s", dev, q,
				       rte_strerror(-rc));
	}
	if (ifc->cfg.mtu != 1500)
		rte_eth_dev_set_mtu(ifc->port_id, ifc->cfg.mtu);
	rc = rte_eth_dev_start(ifc->port_id);
	if (rc < 0)
		return err_out(err, errlen, "%s: start failed (%s)", dev, rte_strerror(-rc));
	rte_eth_macaddr_get(ifc->port_id, &ifc->mac);
	ifc->n_rxq = n_rx;
	ifc->n_txq = n_tx;
	return 0;
}

static int setup_iface_tables(struct mg_dataplane *dp, unsigned i)
{
	struct mg_iface *ifc = &dp->ifaces[i];
	ifc->netmask = ifc->cfg.prefix_len ? 0xffffffffu << (32 - ifc->cfg.prefix_len) : 0;
	ifc->n_pairs = (uint32_t)(dp->profile.port_max - dp->profile.port_min + 1) / 2;
	ifc->pairs_free = ifc->n_pairs;
	ifc->pair_used = rte_zmalloc("mg_pairs", ifc->n_pairs, 0);
	ifc->owner = rte_malloc("mg_owner", MG_PORT_SPACE, RTE_CACHE_LINE_SIZE);
	if (!ifc->pair_used || !ifc->owner)
		return -1;
	memset(ifc->owner, MG_NO_OWNER, MG_PORT_SPACE);
	for (unsigned w = 0; w < dp->n_workers; w++) {
		dp->workers[w].table[i] =
		    rte_zmalloc("mg_legs", MG_PORT_SPACE * sizeof(void *), RTE_CACHE_LINE_SIZE);
		if (!dp->workers[w].table[i])
			return -1;
	}
	for (int n = 0; n < ifc->cfg.n_neighbors; n++)
		mg_neigh_set(dp, i, ifc->cfg.neighbors[n].ip, &ifc->cfg.neighbors[n].mac);
	return 0;
}

struct mg_dataplane *mg_dp_create(const struct mg_profile *profile, char *err, size_t errlen)
{
	struct mg_dataplane *dp = rte_zmalloc("mg_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (!dp) {
		err_out(err, errlen, "out of memory");
		return NULL;
	}
	dp->profile = *profile;
	dp->n_ifaces = (unsigned)profile->n_interfaces;
	dp->n_workers = profile->n_workers;
	dp->burst = RTE_MIN(profile->burst, MG_MAX_BURST);
	dp->control_txq = (uint16_t)dp->n_workers;
	dp->tsc_hz = rte_get_tsc_hz();
	unsigned total_legs = 0;
	uint32_t ring_legs = 1;
	dp->workers = rte_zmalloc("mg_workers", sizeof(struct mg_worker) * dp->n_workers,
				  RTE_CACHE_LINE_SIZE);
	dp->worker_args = rte_zmalloc("mg_wargs", sizeof(*dp->worker_args) * dp->n_workers, 0);
	if (!dp->workers || !dp->worker_args)
		goto oom;
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		dp->ifaces[i].cfg = profile->interfaces[i];
		total_legs += (unsigned)(profile->port_max - profile->port_min + 1) / 2;
	}
	/* every leg and its two SRTP contexts may be on the return ring at once */
	while (ring_legs <= 3 * total_legs)
		ring_legs <<= 1;

	unsigned priv = RTE_ALIGN(sizeof(struct mg_mbuf_meta), RTE_MBUF_PRIV_ALIGN);
	dp->pool = rte_pktmbuf_pool_create("mg_mbufs", profile->mbufs, 256, (uint16_t)priv,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	dp->cmd_pool = rte_mempool_create("mg_cmds", 8191, sizeof(struct mg_cmd), 64, 0, NULL, NULL,
					  NULL, NULL, (int)rte_socket_id(), 0);
	dp->slow_ring = rte_ring_create("mg_slow", 4096, (int)rte_socket_id(), RING_F_SC_DEQ);
	dp->hold_ring = rte_ring_create("mg_hold", 1024, (int)rte_socket_id(), RING_F_SC_DEQ);
	dp->return_ring =
	    rte_ring_create("mg_return", ring_legs, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (!dp->pool || !dp->cmd_pool || !dp->slow_ring || !dp->hold_ring || !dp->return_ring) {
		err_out(err, errlen,
			"cannot create mbuf pool or rings (%s); with --no-huge give -m "
			"enough memory for media.mbufs",
			rte_strerror(rte_errno));
		goto fail;
	}
	dp->control_srtp = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
	if (!dp->control_srtp) {
		err_out(err, errlen, "SRTP engine: IPsec-MB found no usable CPU features");
		goto fail;
	}
	if (mg_neigh_init(dp) < 0) {
		err_out(err, errlen, "cannot create the neighbor table");
		goto fail;
	}
	for (unsigned w = 0; w < dp->n_workers; w++) {
		struct mg_worker *wk = &dp->workers[w];
		char name[32];
		wk->index = w;
		wk->lcore = profile->worker_lcores[w];
		snprintf(name, sizeof(name), "mg_cmd_%u", w);
		wk->cmd_ring = rte_ring_create(name, 8192, (int)rte_socket_id(),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "mg_dispatch_%u", w);
		wk->dispatch_ring = rte_ring_create(name, profile->dispatch_ring_size,
						    (int)rte_socket_id(), RING_F_SC_DEQ);
		if (!wk->cmd_ring || !wk->dispatch_ring) {
			err_out(err, errlen, "cannot create worker rings");
			goto fail;
		}
		dp->worker_args[w] = (struct mg_dp_worker_arg){.dp = dp, .index = w};
		wk->srtp = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
		if (!wk->srtp) {
			err_out(err, errlen, "SRTP engine: IPsec-MB found no usable CPU features");
			goto fail;
		}
	}
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		if (setup_iface_tables(dp, i) < 0)
			goto oom;
		if (setup_port(dp, i, err, errlen) < 0)
			goto fail;
	}
	return dp;
oom:
	err_out(err, errlen, "out of memory");
fail:
	mg_dp_destroy(dp);
	return NULL;
}

void mg_dp_destroy(struct mg_dataplane *dp)
{
	if (!dp)
		return;
	mg_dp_stop(dp);
	for (unsigned i = 0; i < dp->n_held; i++)
		rte_pktmbuf_free(dp->held[i].m);
	dp->n_held = 0;
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		if (dp->ifaces[i].n_rxq) {
			rte_eth_dev_stop(dp->ifaces[i].port_id);
			rte_eth_dev_close(dp->ifaces[i].port_id);
		}
		rte_free(dp->ifaces[i].pair_used);
		rte_free(dp->ifaces[i].owner);
		for (unsigned w = 0; dp->workers && w < dp->n_workers; w++)
			rte_free(dp->workers[w].table[i]);
	}
	for (unsigned w = 0; dp->workers && w < dp->n_workers; w++) {
		rte_ring_free(dp->workers[w].cmd_ring);
		rte_ring_free(dp->workers[w].dispatch_ring);
		if (dp->workers[w].srtp)
			mg_srtp_engine_destroy(dp->workers[w].srtp);
	}
	if (dp->control_srtp)
		mg_srtp_engine_destroy(dp->control_srtp);
	if (dp->neighbors)
		mg_neigh_free(dp);
	rte_ring_free(dp->slow_ring);
	rte_ring_free(dp->hold_ring);
	rte_ring_free(dp->return_ring);
	rte_mempool_free(dp->cmd_pool);
	rte_mempool_free(dp->pool);
	rte_free(dp->workers);
	rte_free(dp->worker_args);
	rte_free(dp);
}

static void send_arp_request(struct mg_dataplane *dp, unsigned iface, uint32_t target);

int mg_dp_start(struct mg_dataplane *dp)
{
	for (unsigned w = 0; w < dp->n_workers; w++) {
		dp->workers[w].stop = 0;
		int rc = rte_eal_remote_launch(mg_dp_worker_main, &dp->worker_args[w],
					       dp->workers[w].lcore);
		if (rc != 0) {
			mg_dp_stop(dp);
			return -1;
		}
	}
	dp->started = true;
	/* gratuitous ARP: peers learn our MAC without asking */
	for (unsigned i = 0; i < dp->n_ifaces; i++)
		send_arp_request(dp, i, dp->ifaces[i].cfg.address);
	return 0;
}

void mg_dp_stop(struct mg_dataplane *dp)
{
	if (!dp->started)
		return;
	for (unsigned w = 0; w < dp->n_workers; w++)
		dp->workers[w].stop = 1;
	for (unsigned w = 0; w < dp->n_workers; w++)
		rte_eal_wait_lcore(dp->workers[w].lcore);
	dp->started = false;
}

/* --- legs --- */

struct mg_leg *mg_dp_leg_alloc(struct mg_dataplane *dp, unsigned iface, int worker)
{
	return mg_dp_leg_alloc_at(dp, iface, worker, 0);
}

struct mg_leg *mg_dp_leg_alloc_at(struct mg_dataplane *dp, unsigned iface, int worker,
				  uint16_t rtp_port)
{
	if (iface >= dp->n_ifaces)
		return NULL;
	struct mg_iface *ifc = &dp->ifaces[iface];
	if (ifc->pairs_free == 0)
		return NULL;
	if (worker < 0) {
		unsigned best = 0;
		for (unsigned w = 1; w < dp->n_workers; w++)
			if (dp->workers[w].legs < dp->workers[best].legs)
				best = w;
		worker = (int)best;
	}
	if ((unsigned)worker >= dp->n_workers)
		return NULL;
	struct mg_leg *leg = rte_zmalloc("mg_leg", sizeof(*leg), RTE_CACHE_LINE_SIZE);
	if (!leg)
		return NULL;
	uint32_t p;
	if (rtp_port) {
		/* a restored session gets its ports back */
		p = (uint32_t)(rtp_port - dp->profile.port_min) / 2;
		if (rtp_port < dp->profile.port_min || (rtp_port & 1) || p >= ifc->n_pairs ||
		    ifc->pair_used[p]) {
			rte_free(leg);
			return NULL;
		}
	} else {
		/* Round-robin through the range so a just-freed port is not reused at
		 * once (late packets of the old call must not reach the new one). */
		p = ifc->pair_cursor;
		while (ifc->pair_used[p])
			p = (p + 1) % ifc->n_pairs;
		ifc->pair_cursor = (p + 1) % ifc->n_pairs;
	}
	ifc->pair_used[p] = 1;
	ifc->pairs_free--;
	leg->iface = (uint8_t)iface;
	leg->worker = (uint8_t)worker;
	leg->rtp_port = (uint16_t)(dp->profile.port_min + 2 * p);
	leg->rtcp_port = (uint16_t)(leg->rtp_port + 1);
	dp->workers[worker].legs++;
	dp->legs_in_use++;
	return leg;
}

int mg_dp_leg_pair(struct mg_leg *a, struct mg_leg *b)
{
	if (a->worker != b->worker || a->published || b->published)
		return -1;
	a->peer = b;
	b->peer = a;
	return 0;
}

static int send_cmd(struct mg_dataplane *dp, struct mg_leg *leg, uint8_t op,
		    const struct mg_leg_cfg *cfg)
{
	void *obj;
	if (rte_mempool_get(dp->cmd_pool, &obj) != 0)
		return -1;
	struct mg_cmd *c = obj;
	c->op = op;
	c->leg = leg;
	if (cfg)
		c->cfg = *cfg;
	if (rte_ring_sp_enqueue(dp->workers[leg->worker].cmd_ring, c) != 0) {
		rte_mempool_put(dp->cmd_pool, c);
		return -1;
	}
	/* Without running workers (unit tests before start) apply at once. */
	if (!dp->started)
		mg_worker_apply_commands(dp, &dp->workers[leg->worker]);
	return 0;
}

int mg_dp_leg_publish(struct mg_dataplane *dp, struct mg_leg *leg, const struct mg_leg_cfg *cfg)
{
	struct mg_iface *ifc = &dp->ifaces[leg->iface];
	ifc->owner[leg->rtp_port] = leg->worker;
	ifc->owner[leg->rtcp_port] = leg->worker;
	leg->published = true;
	return send_cmd(dp, leg, MG_CMD_PUBLISH, cfg);
}

int mg_dp_leg_update(struct mg_dataplane *dp, struct mg_leg *leg, const struct mg_leg_cfg *cfg)
{
	if (!leg->published) {
		if (leg->cfg.srtp_in != cfg->srtp_in)
			mg_dp_srtp_ctx_free(leg->cfg.srtp_in);
		if (leg->cfg.srtp_out != cfg->srtp_out)
			mg_dp_srtp_ctx_free(leg->cfg.srtp_out);
		leg->cfg = *cfg;
		return 0;
	}
	return send_cmd(dp, leg, MG_CMD_UPDATE, cfg);
}

static void reclaim(struct mg_dataplane *dp, struct mg_leg *leg)
{
	struct mg_iface *ifc = &dp->ifaces[leg->iface];
	ifc->owner[leg->rtp_port] = MG_NO_OWNER;
	ifc->owner[leg->rtcp_port] = MG_NO_OWNER;
	ifc->pair_used[(leg->rtp_port - dp->profile.port_min) / 2] = 0;
	ifc->pairs_free++;
	dp->workers[leg->worker].legs--;
	dp->legs_in_use--;
	rte_free(leg);
}

mg_srtp_engine *mg_dp_control_srtp_engine(struct mg_dataplane *dp)
{
	return dp->control_srtp;
}

mg_srtp_ctx *mg_dp_srtp_ctx_alloc(void)
{
	/* the type's own alignment (128: its key sets start on an adjacent-line pair) */
	return rte_zmalloc("mg_srtp_ctx", sizeof(mg_srtp_ctx), _Alignof(mg_srtp_ctx));
}

void mg_dp_srtp_ctx_free(mg_srtp_ctx *ctx)
{
	if (!ctx)
		return;
	mg_srtp_ctx_wipe(ctx); /* key material never lingers in freed memory */
	rte_free(ctx);
}

void mg_dp_leg_release(struct mg_dataplane *dp, struct mg_leg *leg)
{
	mg_conf_forget_leg(dp, leg);
	if (!leg->published) {
		if (leg->peer && leg->peer->peer == leg)
			leg->peer->peer = NULL;
		mg_dp_srtp_ctx_free(leg->cfg.srtp_in);
		mg_dp_srtp_ctx_free(leg->cfg.srtp_out);
		reclaim(dp, leg);
		return;
	}
	/* If the command cannot be queued now, retry until it can: leaking a port
	 * would be worse than a short wait on the control lcore. */
	while (send_cmd(dp, leg, MG_CMD_RELEASE, NULL) != 0)
		mg_dp_control_poll(dp);
	if (!dp->started)
		mg_dp_control_poll(dp);
}

void mg_dp_leg_snapshot(const struct mg_leg *leg, struct mg_leg_stats *stats, struct mg_latch *rtp,
			struct mg_latch *rtcp)
{
	/* Counters are 64-bit aligned words written by one worker: each read is whole. */
	if (stats)
		*stats = leg->stats;
	if (rtp)
		*rtp = leg->rtp_latch;
	if (rtcp)
		*rtcp = leg->rtcp_latch;
}

double mg_dp_leg_idle_seconds(struct mg_dataplane *dp, const struct mg_leg *leg)
{
	uint64_t last = leg->stats.last_rx_tsc, now = rte_rdtsc();
	return last && now > last ? (double)(now - last) / (double)dp->tsc_hz : 0.0;
}

/* --- control lcore: slow path --- */

static void control_tx(struct mg_dataplane *dp, unsigned iface, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(dp->ifaces[iface].port_id, dp->control_txq, &m, 1) != 1) {
		dp->control.tx_drops++;
		rte_pktmbuf_free(m);
	}
}

static void send_arp_request(struct mg_dataplane *dp, unsigned iface, uint32_t target)
{
	struct mg_iface *ifc = &dp->ifaces[iface];
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	if (!m)
		return;
	struct mg_mac mac;
	memcpy(mac.b, ifc->mac.addr_bytes, 6);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, 60);
	mg_arp_build(f, MG_ARP_REQUEST, &mac, ifc->cfg.address, NULL, target);
	dp->control.arp_requests_sent++;
	control_tx(dp, iface, m);
}

struct pending_resolve {
	uint32_t ip;
	uint8_t iface;
	uint64_t last_tsc;
};
static struct pending_resolve pending[256];

void mg_dp_resolve(struct mg_dataplane *dp, unsigned iface, uint32_t ip)
{
	if (iface >= dp->n_ifaces || !ip)
		return;
	struct mg_iface *ifc = &dp->ifaces[iface];
	uint32_t hop = mg_next_hop(ifc, ip);
	if (!hop)
		return;
	uint64_t now = rte_rdtsc();
	struct pending_resolve *slot = &pending[(hop ^ iface) & 255];
	if (slot->ip == hop && slot->iface == iface &&
	    now - slot->last_tsc < RESOLVE_INTERVAL_S * dp->tsc_hz)
		return; /* asked recently */
	slot->ip = hop;
	slot->iface = (uint8_t)iface;
	slot->last_tsc = now;
	send_arp_request(dp, iface, hop);
}

#define HOLD_PER_HOP 8 /* like the kernel's unresolved-neighbour queue */
#define HOLD_SECONDS 1

/* Sends held packets for (iface, ip) now that its MAC is known. */
static void release_held(struct mg_dataplane *dp, unsigned iface, uint32_t ip,
			 const struct mg_mac *mac)
{
	unsigned k = 0;
	for (unsigned i = 0; i < dp->n_held; i++) {
		struct mg_held *h = &dp->held[i];
		if (h->iface == iface && h->hop == ip) {
			memcpy(rte_pktmbuf_mtod(h->m, uint8_t *), mac->b, 6);
			dp->control.neighbor_held_sent++;
			control_tx(dp, iface, h->m);
		} else {
			dp->held[k++] = *h;
		}
	}
	dp->n_held = k;
}

static void hold_packet(struct mg_dataplane *dp, struct rte_mbuf *m)
{
	struct mg_mbuf_meta *meta = mg_meta(m);
	uint32_t hop = meta->info.dst_ip;
	struct mg_mac mac;
	dp->control.neighbor_misses++;
	if (mg_neigh_lookup(dp, meta->iface, hop, &mac) == 0) { /* resolved meanwhile */
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), mac.b, 6);
		dp->control.neighbor_held_sent++;
		control_tx(dp, meta->iface, m);
		return;
	}
	unsigned same = 0;
	for (unsigned i = 0; i < dp->n_held; i++)
		same += dp->held[i].iface == meta->iface && dp->held[i].hop == hop;
	if (same >= HOLD_PER_HOP || dp->n_held == RTE_DIM(dp->held)) {
		dp->control.neighbor_held_dropped++;
		rte_pktmbuf_free(m);
	} else {
		dp->held[dp->n_held++] = (struct mg_held){
		    .m = m, .hop = hop, .iface = meta->iface, .since = rte_rdtsc()};
	}
	mg_dp_resolve(dp, meta->iface, hop);
}

/* Drops what waited too long for a neighbor that never answered. */
static void expire_held(struct mg_dataplane *dp)
{
	uint64_t now = rte_rdtsc(), limit = HOLD_SECONDS * dp->tsc_hz;
	unsigned k = 0;
	for (unsigned i = 0; i < dp->n_held; i++) {
		if (now - dp->held[i].since > limit) {
			dp->control.neighbor_held_dropped++;
			rte_pktmbuf_free(dp->held[i].m);
		} else {
			dp->held[k++] = dp->held[i];
		}
	}
	dp->n_held = k;
}

static void handle_arp(struct mg_dataplane *dp, struct rte_mbuf *m, unsigned iface)
{
	struct mg_iface *ifc = &dp->ifaces[iface];
	struct mg_arp arp;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	if (mg_arp_parse(f, m->data_len, &arp) < 0 || arp.tpa != ifc->cfg.address ||
	    mg_mac_is_multicast(&arp.sha) || mg_mac_is_zero(&arp.sha)) {
		dp->control.arp_ignored++;
		rte_pktmbuf_free(m);
		return;
	}
	/* Whoever talks ARP to us is a neighbor we will likely answer. */
	mg_neigh_set(dp, iface, arp.spa, &arp.sha);
	release_held(dp, iface, arp.spa, &arp.sha);
	dp->control.arp_replies_learned += arp.op == MG_ARP_REPLY;
	if (arp.op != MG_ARP_REQUEST) {
		rte_pktmbuf_free(m);
		return;
	}
	struct mg_mac mine;
	memcpy(mine.b, ifc->mac.addr_bytes, 6);
	rte_pktmbuf_reset(m);
	f = (uint8_t *)rte_pktmbuf_append(m, 60);
	mg_arp_build(f, MG_ARP_REPLY, &mine, ifc->cfg.address, &arp.sha, arp.spa);
	dp->control.arp_requests_answered++;
	control_tx(dp, iface, m);
}

static void handle_slow(struct mg_dataplane *dp, struct rte_mbuf *m)
{
	struct mg_mbuf_meta *meta = mg_meta(m);
	switch (meta->verdict) {
	case MG_NET_ARP:
		handle_arp(dp, m, meta->iface);
		return;
	case MG_NET_ICMP:
		if (mg_icmp_echo_reply_in_place(rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
						&meta->info) == 0) {
			dp->control.icmp_echo_answered++;
			control_tx(dp, meta->iface, m);
		} else {
			dp->control.icmp_ignored++;
			rte_pktmbuf_free(m);
		}
		return;
	default:
		break;
	}
	/* STUN and DTLS: ICE-lite and DTLS-SRTP (lib/webrtc) when a handler is registered */
	if (dp->slow_udp && (meta->demux == MG_DEMUX_STUN || meta->demux == MG_DEMUX_DTLS)) {
		const struct mg_pkt_info *in = &meta->info;
		struct mg_dp_slow_udp pkt = {
		    .iface = meta->iface,
		    .local_port = in->dst_port,
		    .src_ip = in->src_ip,
		    .src_port = in->src_port,
		    .src_mac = in->src_mac,
		    .demux = meta->demux,
		    .payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, in->payload_off),
		    .len = in->payload_len};
		dp->slow_udp(dp->slow_arg, &pkt);
	}
	if (meta->demux == MG_DEMUX_STUN)
		dp->control.stun_received++;
	else if (meta->demux == MG_DEMUX_DTLS)
		dp->control.dtls_received++;
	else
		dp->control.other_slow++;
	rte_pktmbuf_free(m);
}

unsigned mg_dp_control_poll(struct mg_dataplane *dp)
{
	void *objs[64];
	unsigned total = 0, n;
	n = rte_ring_sc_dequeue_burst(dp->slow_ring, objs, 64, NULL);
	for (unsigned i = 0; i < n; i++)
		handle_slow(dp, objs[i]);
	total += n;
	n = rte_ring_sc_dequeue_burst(dp->hold_ring, objs, 64, NULL);
	for (unsigned i = 0; i < n; i++)
		hold_packet(dp, objs[i]);
	total += n;
	if (dp->n_held)
		expire_held(dp);
	n = rte_ring_sc_dequeue_burst(dp->return_ring, objs, 64, NULL);
	for (unsigned i = 0; i < n; i++) {
		uintptr_t v = (uintptr_t)objs[i];
		if (v & MG_RETIRED_CTX_TAG)
			mg_dp_srtp_ctx_free((mg_srtp_ctx *)(v & ~(uintptr_t)MG_RETIRED_CTX_TAG));
		else if (v & MG_RETIRED_CONF_TAG)
			mg_conf_free((struct mg_conf *)(v & ~(uintptr_t)MG_RETIRED_CONF_TAG));
		else
			reclaim(dp, objs[i]);
	}
	total += n;
	if (dp->slow_tick)
		total += dp->slow_tick(dp->slow_arg);
	return total;
}

/* --- introspection --- */

unsigned mg_dp_worker_count(const struct mg_dataplane *dp)
{
	return dp->n_workers;
}
unsigned mg_dp_worker_lcore(const struct mg_dataplane *dp, unsigned w)
{
	return dp->workers[w].lcore;
}
unsigned mg_dp_interface_count(const struct mg_dataplane *dp)
{
	return dp->n_ifaces;
}
const struct mg_interface_cfg *mg_dp_interface(const struct mg_dataplane *dp, unsigned i)
{
	return &dp->ifaces[i].cfg;
}
uint16_t mg_dp_interface_port_id(const struct mg_dataplane *dp, unsigned i)
{
	return dp->ifaces[i].port_id;
}
void mg_dp_worker_stats(const struct mg_dataplane *dp, unsigned w, struct mg_worker_stats *out)
{
	*out = dp->workers[w].stats;
}
void mg_dp_control_stats(const struct mg_dataplane *dp, struct mg_control_stats *out)
{
	*out = dp->control;
	out->rx_missed = 0;
	for (unsigned i = 0; i < dp->n_ifaces; i++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(dp->ifaces[i].port_id, &st) == 0)
			out->rx_missed += st.imissed + st.rx_nombuf;
	}
}
unsigned mg_dp_legs_in_use(const struct mg_dataplane *dp)
{
	return dp->legs_in_use;
}
unsigned mg_dp_ports_free(const struct mg_dataplane *dp, unsigned iface)
{
	return dp->ifaces[iface].pairs_free * 2;
}
const struct mg_profile *mg_dp_profile(const struct mg_dataplane *dp)
{
	return &dp->profile;
}
