/* relay_bench: plain-RTP relay throughput of mediagate's real data plane, in-process.
 *
 * - EAL on lcores 0,1 (no hugepages). One DPDK port is made from rte_rings with
 *   rte_eth_from_rings(): 2 rx rings (the data plane configures one rx queue for one
 *   worker) and 2 tx rings (one per worker + one for the control lcore).
 * - The data plane (lib/dataplane, unchanged), sessions and the ng handler are created
 *   from a profile built in code; N calls are created through mg_ng_handle() offer +
 *   answer with real SDP text, and the media ports are taken from the SDP answers.
 * - The worker runs on lcore 1 (mg_dp_start). The main lcore 0 is the traffic
 *   generator: it keeps the rx ring full of valid Ethernet/IPv4/UDP/RTP frames (172-byte
 *   RTP, valid IPv4 and UDP checksums) for both legs of every call in a shuffled
 *   round-robin, each leg's packets coming from the address its SDP named, drains the
 *   tx rings, counts every relayed packet per stream (by SSRC) and fully checks a
 *   sample (MACs, addresses, ports, lengths, both checksums, payload).
 * - Per repetition the relayed packets per worker core-second come from the worker's
 *   own counters (tx_pkts over busy_cycles at the TSC rate).
 * - --overload F offers F times the measured capacity at a paced rate; what does not fit
 *   into the rx ring is dropped there (a NIC's rx ring overflowing), and per-stream
 *   deliveries show that every stream keeps getting packets through.
 * - --srtp [SUITE] (P2, issue 4): SRTP-to-SRTP re-keying. Both sides offer/answer
 *   RTP/SAVP with an a=crypto line whose key the bench generated; mediagate's own key for
 *   each leg is read from the SDP it returns. The generator encrypts every packet on the
 *   fly with its own mg_srtp engine (one context per stream, bursts of 32, sequence numbers
 *   increasing per stream as the worker's replay check requires) and the sampled relayed
 *   packets are decrypted with mediagate's key for the receiving leg and their payload
 *   compared. Any SRTP drop counter (auth, replay, ...) fails the run.
 *
 * Output: human-readable lines plus "REP ..." and "SUMMARY ..." lines for run.sh. Exit
 * status is non-zero when a check fails (wrong rewrite, drops, lost packets). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#define BENCH_PROG "relay_bench"
#include "bench_util.h"
#include "dataplane.h"
#include "ng.h"
#include "profile.h"
#include "session.h"
#include "srtp.h"

#include <sys/random.h>

#define RING_NAME      "relaybench" /* rte_eth_from_rings() prefixes net_ring_ */
#define PORT_NAME      "net_ring_" RING_NAME
#define N_MBUFS	       32767
#define GEN_BURST      32
#define FRAME_LEN      (14 + 20 + 8 + BENCH_RTP_LEN)
#define OUR_IP	       0x0a5f0001u /* 10.95.0.1/24 */
#define ROUTER_IP      0x0a5f00feu /* 10.95.0.254: next hop to every peer */
#define A_NET	       0xc6120000u /* 198.18.0.0/16: offerers */
#define B_NET	       0xc6130000u /* 198.19.0.0/16: answerers */
#define A_PORT	       4000
#define B_PORT	       5000
#define MG_SDES_KS_MAX 64 /* key||salt buffer */

static const uint8_t router_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x95, 0xfe};

/* SRTP mode (--srtp): the suite, the generator's engine, per stream the context that
 * protects what the stream's endpoint sends (the bench's key) and the one that checks
 * what its peer receives (mediagate's key for that leg, from the rewritten SDP). */
static bool srtp_mode;
static char srtp_name[64] = "AES_CM_128_HMAC_SHA1_80";
static enum mg_srtp_suite srtp_suite;
static const struct mg_srtp_suite_info *srtp_info;
static mg_srtp_engine *gen_engine;
static mg_srtp_ctx *gen_ctx, *ver_ctx;
static unsigned wire_len = BENCH_RTP_LEN; /* RTP or SRTP bytes in the UDP datagram */
static unsigned frame_len = FRAME_LEN;	  /* Ethernet frame */
static uint64_t g_srtp_checked;		  /* sampled packets decrypted and compared */

/* Per direction of a call ("stream"): the hot part is one cache line, read and written
 * for every packet the generator builds; the RTP seq/ts live inside the template. */
struct stream_hot {
	uint8_t hdr[54]; /* Ethernet + IPv4 + UDP + RTP headers, ready to copy */
	uint16_t pad;
	uint32_t base_sum; /* UDP checksum sum over everything with seq = ts = 0 */
	uint32_t pad2;
} __rte_cache_aligned;

struct stream {
	uint32_t src_ip; /* the endpoint's own address (as in its SDP) */
	uint16_t src_port;
	uint16_t dst_port; /* mediagate's port this endpoint sends to (from the SDP answer) */
	uint32_t peer;	   /* index of the opposite direction's stream */
	uint64_t offered, shed;
};

static struct {
	unsigned calls, reps, verify_every, inflight;
	double seconds, warmup, overload;
} opt = {
    .calls = 1000, .reps = 5, .verify_every = 64, .inflight = 8191, .seconds = 2.0, .warmup = 0.5};

static struct stream *streams;
static struct stream_hot *hot;
static uint64_t *delivered; /* relayed packets seen on the tx ring, per stream */
static uint32_t n_streams, *order;
static uint8_t payload[BENCH_PAYLOAD];
static struct rte_ring *rx_ring[2], *tx_ring[2];
static struct rte_mempool *pool;
static uint8_t port_mac[6];
static size_t data_shift; /* mbuf pointer -> packet data, for prefetching */

/* The generator's free mbufs: relayed packets come back here and are re-headed. Every
 * mbuf keeps the same payload for its whole life (the relay does not touch it), so a
 * new packet costs one 54-byte header write. */
static struct rte_mbuf **stash;
static unsigned n_stash;

/* generator counters */
static uint64_t g_injected, g_received, g_control_pkts, g_verified, g_bad;
static char g_bad_first[256];

static void stream_init(uint32_t idx)
{
	const struct stream *s = &streams[idx];
	struct stream_hot *t = &hot[idx];
	uint8_t *h = t->hdr;
	memset(t, 0, sizeof(*t));
	memcpy(h, port_mac, 6);
	memcpy(h + 6, router_mac, 6);
	wr16(h + 12, 0x0800);
	uint8_t *ip = h + 14;
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + 8 + wire_len));
	wr16(ip + 4, (uint16_t)idx);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	wr32(ip + 12, s->src_ip);
	wr32(ip + 16, OUR_IP);
	wr16(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, 20, 0)));
	uint8_t *udp = ip + 20;
	wr16(udp, s->src_port);
	wr16(udp + 2, s->dst_port);
	wr16(udp + 4, (uint16_t)(8 + wire_len));
	uint8_t *rtp = udp + 8;
	rtp[0] = 0x80;
	rtp[1] = 0; /* PCMU */
	wr32(rtp + 8, BENCH_SSRC_BASE + idx);
	uint32_t sum = (s->src_ip >> 16) + (s->src_ip & 0xffff) + (OUR_IP >> 16) +
		       (OUR_IP & 0xffff) + 17 + 8 + wire_len;
	sum = ref_sum(udp, 8, sum); /* checksum, seq and ts are 0 in the template here */
	if (!srtp_mode) {
		sum = ref_sum(rtp, BENCH_RTP_HDR, sum);
		sum = ref_sum(payload, BENCH_PAYLOAD, sum);
	}
	t->base_sum = sum; /* SRTP: pseudo header + UDP header only (payload is ciphertext) */
	wr16(rtp + 2, (uint16_t)(idx * 7));
	wr32(rtp + 4, idx * 1000);
}

/* Big-endian 16-bit word sum of p[0..n) as 32-bit native loads (the generator's fast path
 * for SRTP packets; verify() checks the result with ref_sum). p must start at an even
 * offset of the checksummed data. */
static inline uint32_t gen_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		s += (v & 0xffffffffu) + (v >> 32);
	}
	for (; i + 2 <= n; i += 2) {
		uint16_t v;
		memcpy(&v, p + i, 2);
		s += v;
	}
	if (i < n)
		s += p[i]; /* the low byte of a native word is the high byte on the wire */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return __builtin_bswap16((uint16_t)s);
}

/* SRTP mode: writes the next plaintext packet of stream t into p (headers and payload:
 * the relay re-encrypted the payload in place); protect and checksum come later. */
static inline void build_plain_srtp(uint8_t *p, struct stream_hot *t)
{
	uint8_t *rtp = t->hdr + 42;
	uint16_t seq = rd16(rtp + 2);
	uint32_t ts = rd32(rtp + 4);
	memcpy(p, t->hdr, 54);
	memcpy(p + 54, payload, BENCH_PAYLOAD);
	wr16(rtp + 2, (uint16_t)(seq + 1));
	wr32(rtp + 4, ts + 160);
}

/* Writes the next packet of stream t into p (whose payload is already in place). */
static inline void build(uint8_t *p, struct stream_hot *t)
{
	uint8_t *rtp = t->hdr + 42;
	uint16_t seq = rd16(rtp + 2);
	uint32_t ts = rd32(rtp + 4);
	uint16_t c = (uint16_t)~ref_fold(t->base_sum + seq + (ts >> 16) + (ts & 0xffff));
	wr16(t->hdr + 40, c ? c : 0xffff);
	memcpy(p, t->hdr, 54);
	wr16(rtp + 2, (uint16_t)(seq + 1));
	wr32(rtp + 4, ts + 160);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	if (g_bad++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(g_bad_first, sizeof(g_bad_first), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Full check of a relayed frame against what the origin stream's peer must receive. */
static int verify(const struct rte_mbuf *m, const struct stream *from)
{
	const struct stream *to = &streams[from->peer];
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	g_verified++;
	if (m->data_len != frame_len || m->pkt_len != frame_len || m->nb_segs != 1 ||
	    m->data_off != RTE_PKTMBUF_HEADROOM)
		return bad("mbuf length %u/%u or offset %u, want %u at %u", m->data_len, m->pkt_len,
			   m->data_off, frame_len, RTE_PKTMBUF_HEADROOM);
	if (memcmp(p, router_mac, 6) || memcmp(p + 6, port_mac, 6) || rd16(p + 12) != 0x0800)
		return bad("ethernet header (dst must be the latched MAC, src the port's)");
	const uint8_t *ip = p + 14;
	if (ip[0] != 0x45 || rd16(ip + 2) != 20 + 8 + wire_len || ip[9] != 17 || ip[8] == 0)
		return bad("ipv4 header");
	if (ref_fold(ref_sum(ip, 20, 0)) != 0xffff)
		return bad("ipv4 checksum");
	if (rd32(ip + 12) != OUR_IP || rd32(ip + 16) != to->src_ip)
		return bad("ipv4 addresses %08x -> %08x, want %08x -> %08x", rd32(ip + 12),
			   rd32(ip + 16), OUR_IP, to->src_ip);
	const uint8_t *udp = ip + 20;
	if (rd16(udp) != to->dst_port || rd16(udp + 2) != to->src_port ||
	    rd16(udp + 4) != 8 + wire_len)
		return bad("udp ports %u -> %u, want %u -> %u", rd16(udp), rd16(udp + 2),
			   to->dst_port, to->src_port);
	uint32_t sum = (OUR_IP >> 16) + (OUR_IP & 0xffff) + (to->src_ip >> 16) +
		       (to->src_ip & 0xffff) + 17 + 8 + wire_len;
	if (rd16(udp + 6) == 0 || ref_fold(ref_sum(udp, 8 + wire_len, sum)) != 0xffff)
		return bad("udp checksum");
	if (srtp_mode) {
		/* Ciphertext on the wire, and it decrypts with mediagate's key for the leg
		 * it went out on (the one in the SDP given to the receiving endpoint). */
		uint8_t buf[BENCH_RTP_LEN + MG_SRTP_MAX_TRAILER];
		uint32_t len = wire_len;
		if (!memcmp(udp + 8 + BENCH_RTP_HDR, payload, BENCH_PAYLOAD))
			return bad("plaintext payload sent to an SRTP leg");
		memcpy(buf, udp + 8, wire_len);
		enum mg_srtp_status st =
		    mg_srtp_unprotect(gen_engine, &ver_ctx[from - streams], buf, &len);
		if (st != MG_SRTP_OK)
			return bad("relayed SRTP does not unprotect with mediagate's key: %s",
				   mg_srtp_status_str(st));
		if (len != BENCH_RTP_LEN || buf[0] != 0x80 || buf[1] != 0 ||
		    rd32(buf + 8) != rd32(udp + 16) ||
		    memcmp(buf + BENCH_RTP_HDR, payload, BENCH_PAYLOAD))
			return bad("decrypted RTP differs from what was sent");
		g_srtp_checked++;
		return 0;
	}
	if (udp[8] != 0x80 || udp[9] != 0 ||
	    memcmp(udp + 8 + BENCH_RTP_HDR, payload, BENCH_PAYLOAD))
		return bad("rtp header or payload changed");
	return 0;
}

static inline uint8_t *data_of(struct rte_mbuf *m)
{
	return (uint8_t *)m + data_shift;
}

static unsigned verify_tick;

/* Takes relayed packets off the worker's tx ring: counts them per stream, checks a
 * sample completely, and keeps the mbufs for reuse. */
static void drain(void)
{
	struct rte_mbuf *m[64];
	unsigned n = rte_ring_sc_dequeue_burst(tx_ring[0], (void **)m, 64, NULL);
	for (unsigned i = 0; i < n; i++)
		rte_prefetch0(data_of(m[i]) + 50);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = data_of(m[i]);
		uint32_t idx = rd32(p + 50) - BENCH_SSRC_BASE;
		if (unlikely(idx >= n_streams)) {
			bad("relayed packet with unknown SSRC");
			idx = 0;
		}
		delivered[idx]++;
		if (unlikely(++verify_tick >= opt.verify_every)) {
			verify_tick = 0;
			verify(m[i], &streams[idx]);
		}
		stash[n_stash++] = m[i];
	}
	g_received += n;
	n = rte_ring_sc_dequeue_burst(tx_ring[1], (void **)m, 64, NULL);
	g_control_pkts += n;
	if (n)
		rte_pktmbuf_free_bulk(m, n);
}

static uint32_t cursor;

static inline uint32_t next_stream(void)
{
	return bench_next_stream(order, n_streams, &cursor);
}

/* Offers n packets from the stash to the worker's rx ring (the caller checked space). */
static void inject(unsigned n)
{
	while (n) {
		unsigned k = n < GEN_BURST ? n : GEN_BURST;
		struct rte_mbuf **m = &stash[n_stash - k];
		uint32_t idx[GEN_BURST];
		for (unsigned i = 0; i < k; i++) {
			idx[i] = next_stream();
			rte_prefetch0(&hot[idx[i]]);
		}
		if (srtp_mode) {
			struct mg_srtp_pkt pk[GEN_BURST];
			uint8_t status[GEN_BURST];
			for (unsigned i = 0; i < k; i++) {
				uint8_t *p = data_of(m[i]);
				build_plain_srtp(p, &hot[idx[i]]);
				pk[i].data = p + 42;
				pk[i].len = BENCH_RTP_LEN;
				pk[i].capacity = BENCH_RTP_LEN + MG_SRTP_MAX_TAG_LEN;
				pk[i].ctx = &gen_ctx[idx[i]];
				streams[idx[i]].offered++;
			}
			if (mg_srtp_protect_burst(gen_engine, pk, k, status) != k)
				bench_die("generator: protect failed");
			for (unsigned i = 0; i < k; i++) {
				uint8_t *p = data_of(m[i]);
				uint16_t c = (uint16_t)~ref_fold(hot[idx[i]].base_sum +
								 gen_sum(p + 42, wire_len));
				wr16(p + 40, c ? c : 0xffff);
				m[i]->data_len = (uint16_t)frame_len;
				m[i]->pkt_len = frame_len;
			}
		} else {
			for (unsigned i = 0; i < k; i++) {
				build(data_of(m[i]), &hot[idx[i]]);
				streams[idx[i]].offered++;
			}
		}
		unsigned sent = rte_ring_sp_enqueue_burst(rx_ring[0], (void **)m, k, NULL);
		if (unlikely(sent != k))
			bench_die("rx ring refused packets although space was checked");
		n_stash -= k;
		g_injected += k;
		n -= k;
	}
}

/* "Clean windows": every ~10 ms the generator samples the worker's counters and its
 * thread's schedstat. A window in which the worker thread never waited for its CPU
 * (run queue wait unchanged) measures the worker alone; on this shared machine other
 * jobs preempt it often, and a loop that was preempted counts the preemption as busy
 * cycles. Sums over clean windows give the undisturbed cost. */
static struct mg_dataplane *g_dp;
static int worker_tid;
static bool win_on;
static uint64_t win_next, win_len;
static struct {
	uint64_t tx, busy, total, wait, tsc;
} win_prev;
static uint64_t clean_tx, clean_busy, clean_total, clean_n, win_n;

static void read_schedstat(uint64_t *run_ns, uint64_t *wait_ns)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", worker_tid);
	bench_schedstat(path, run_ns, wait_ns);
}

static void window_sample(uint64_t now, bool count)
{
	struct mg_worker_stats w;
	uint64_t run, wait;
	read_schedstat(&run, &wait);
	mg_dp_worker_stats(g_dp, 0, &w);
	if (count && worker_tid) {
		win_n++;
		if (wait == win_prev.wait && w.tx_pkts > win_prev.tx) {
			clean_n++;
			clean_tx += w.tx_pkts - win_prev.tx;
			clean_busy += w.busy_cycles - win_prev.busy;
			clean_total += w.total_cycles - win_prev.total;
		}
	}
	win_prev.tx = w.tx_pkts;
	win_prev.busy = w.busy_cycles;
	win_prev.total = w.total_cycles;
	win_prev.wait = wait;
	win_prev.tsc = now;
	win_next = now + win_len;
}

static void windows_start(void)
{
	clean_tx = clean_busy = clean_total = clean_n = win_n = 0;
	win_len = rte_get_tsc_hz() / 100;
	win_on = true;
	window_sample(rte_rdtsc(), false);
}

static void windows_stop(void)
{
	win_on = false;
}

/* Runs the generator until `until` (TSC). rate_pps 0: keep the rx ring full. */
static void generate(struct mg_dataplane *dp, uint64_t until, double rate_pps)
{
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), offered = 0;
	unsigned iter = 0;
	for (;;) {
		uint64_t now = rte_rdtsc();
		if (now >= until)
			break;
		drain();
		unsigned space = rte_ring_free_count(rx_ring[0]);
		if (space > n_stash)
			space = n_stash;
		if (rate_pps <= 0) {
			inject(space);
		} else {
			uint64_t target = (uint64_t)((double)(now - t0) * rate_pps / (double)hz);
			uint64_t due = target - offered;
			if (due > 4096)
				due = 4096;
			unsigned fit = (unsigned)(due < space ? due : space);
			inject(fit);
			for (uint64_t i = fit; i < due; i++) { /* rx ring full: dropped there */
				struct stream *s = &streams[next_stream()];
				s->offered++;
				s->shed++;
			}
			offered += due;
		}
		if ((++iter & 1023) == 0)
			mg_dp_control_poll(dp);
		if (win_on && now >= win_next)
			window_sample(now, true);
	}
}

/* Allocates the packets that will circulate and writes their payload once. */
static void fill_stash(void)
{
	stash = malloc(sizeof(*stash) * opt.inflight);
	if (!stash)
		bench_die("out of memory");
	if (rte_pktmbuf_alloc_bulk(pool, stash, opt.inflight) != 0)
		bench_die("cannot allocate %u mbufs", opt.inflight);
	data_shift = (size_t)(rte_pktmbuf_mtod(stash[0], uint8_t *) - (uint8_t *)stash[0]);
	for (unsigned i = 0; i < opt.inflight; i++) {
		struct rte_mbuf *m = stash[i];
		if ((size_t)(rte_pktmbuf_mtod(m, uint8_t *) - (uint8_t *)m) != data_shift)
			bench_die("mbuf layout is not uniform");
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)frame_len);
		if (!p)
			bench_die("mbuf too small");
		memset(p, 0, 54);
		memcpy(p + 54, payload, BENCH_PAYLOAD);
	}
	n_stash = opt.inflight;
}

static void make_port(void)
{
	/* Both directions can hold every packet in flight. */
	unsigned ring_sz = rte_align32pow2(opt.inflight + 1);
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "rb_rx%d", i);
		rx_ring[i] = rte_ring_create(name, ring_sz, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rb_tx%d", i);
		tx_ring[i] = rte_ring_create(name, ring_sz, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[i] || !tx_ring[i])
			bench_die("cannot create rings: %s", rte_strerror(rte_errno));
	}
	if (rte_eth_from_rings(RING_NAME, rx_ring, 2, tx_ring, 2, rte_socket_id()) < 0)
		bench_die("rte_eth_from_rings: %s", rte_strerror(rte_errno));
}

static void make_profile(struct mg_profile *p, const char *eal_args)
{
	mg_profile_defaults(p);
	snprintf(p->name, sizeof(p->name), "relay-bench");
	snprintf(p->eal_args, sizeof(p->eal_args), "%s", eal_args);
	p->control_lcore = 0;
	p->n_workers = 1;
	p->worker_lcores[0] = 1;
	p->telemetry = false;
	p->port_min = 20000;
	p->port_max = 59999;
	p->mbufs = N_MBUFS;
	p->burst = 32;
	p->n_interfaces = 1;
	struct mg_interface_cfg *ifc = &p->interfaces[0];
	snprintf(ifc->name, sizeof(ifc->name), "bench");
	snprintf(ifc->device, sizeof(ifc->device), "%s", PORT_NAME);
	ifc->address = OUR_IP;
	ifc->prefix_len = 24;
	ifc->gateway = ROUTER_IP;
	ifc->rx_desc = 1024;
	ifc->tx_desc = 1024;
	ifc->mtu = 1500;
	ifc->rss = MG_RSS_AUTO;
	ifc->n_neighbors = 1;
	ifc->neighbors[0].ip = ROUTER_IP;
	memcpy(ifc->neighbors[0].mac.b, router_mac, 6);
	struct mg_profile_error err;
	if (mg_profile_validate(p, &err) < 0)
		bench_die("profile: %s: %s", err.field, err.reason);
}

static char ng_out[65536];

static void srtp_ctx_set(mg_srtp_ctx *ctx, const uint8_t *key_salt)
{
	struct mg_srtp_key_params kp;
	memset(&kp, 0, sizeof(kp));
	kp.suite = srtp_suite;
	kp.master_key = key_salt;
	kp.master_salt = key_salt + srtp_info->key_len;
	if (mg_srtp_ctx_init(ctx, gen_engine, &kp) != 0)
		bench_die("mg_srtp_ctx_init failed");
}

/* SRTP mode: mediagate's key for the leg this ng answer's SDP goes to (a=crypto line of
 * our suite, tag `want_tag` or any); checks it is fresh (not one the bench gave). */
static void mg_key(const char *what, unsigned c, size_t r, unsigned want_tag, unsigned *tag,
		   uint8_t *ks, const uint8_t *not1, const uint8_t *not2)
{
	size_t n, want = (size_t)srtp_info->key_len + srtp_info->salt_len;
	if (ng_sdp_crypto(ng_out, r, srtp_name, want_tag, tag, ks, MG_SDES_KS_MAX, &n) < 0)
		bench_die("%s %u: no a=crypto %s line in mediagate's SDP", what, c, srtp_name);
	if (n != want)
		bench_die("%s %u: key||salt of %zu bytes, want %zu", what, c, n, want);
	if (!memcmp(ks, not1, n) || (not2 && !memcmp(ks, not2, n)))
		bench_die("%s %u: mediagate reused a key instead of its own fresh one", what, c);
}

static void ng_call(struct mg_ng *ng, unsigned c)
{
	char cookie[32], call_id[32], ftag[32], ttag[32], sdp[1024], req[4096], ip[16], why[256];
	char addr[64];
	uint16_t port;
	struct stream *a = &streams[2 * c], *b = &streams[2 * c + 1];
	a->src_ip = A_NET + c + 1;
	a->src_port = A_PORT;
	b->src_ip = B_NET + c + 1;
	b->src_port = B_PORT;
	a->peer = 2 * c + 1;
	b->peer = 2 * c;
	snprintf(call_id, sizeof(call_id), "relay-bench-%u", c);
	snprintf(ftag, sizeof(ftag), "a%u", c);
	snprintf(ttag, sizeof(ttag), "b%u", c);

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a->src_ip >> 24, (a->src_ip >> 16) & 255,
		 (a->src_ip >> 8) & 255, a->src_ip & 255);
	uint8_t ka[MG_SDES_KS_MAX], kb[MG_SDES_KS_MAX], k_mb[MG_SDES_KS_MAX], k_ma[MG_SDES_KS_MAX];
	unsigned tag = 0, tag_a = 0;
	size_t ks_len = srtp_mode ? (size_t)srtp_info->key_len + srtp_info->salt_len : 0;
	if (srtp_mode) {
		if (getrandom(ka, ks_len, 0) != (ssize_t)ks_len ||
		    getrandom(kb, ks_len, 0) != (ssize_t)ks_len)
			bench_die("getrandom failed");
		bench_sdp_srtp(sdp, sizeof(sdp), c, ip, a->src_port, 1, srtp_name, ka, ks_len);
	} else {
		bench_sdp(sdp, sizeof(sdp), c, ip, a->src_port);
	}
	snprintf(cookie, sizeof(cookie), "o%u", c);
	size_t n = ben_request(req, sizeof(req), cookie, "call-id", call_id, "command", "offer",
			       "from-tag", ftag, "sdp", sdp, NULL);
	size_t r = mg_ng_handle(ng, req, n, ng_out, sizeof(ng_out));
	if (ng_answer_media(ng_out, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("offer %u: %s", c, why);
	if (strcmp(addr, "10.95.0.1"))
		bench_die("offer %u: SDP names %s, not 10.95.0.1", c, addr);
	b->dst_port = port; /* the answerer sends to the port in the rewritten offer */
	if (srtp_mode)	    /* mediagate -> B: its key in the offer it gives B */
		mg_key("offer", c, r, 0, &tag, k_mb, ka, NULL);

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", b->src_ip >> 24, (b->src_ip >> 16) & 255,
		 (b->src_ip >> 8) & 255, b->src_ip & 255);
	if (srtp_mode)
		bench_sdp_srtp(sdp, sizeof(sdp), c, ip, b->src_port, tag, srtp_name, kb, ks_len);
	else
		bench_sdp(sdp, sizeof(sdp), c, ip, b->src_port);
	snprintf(cookie, sizeof(cookie), "a%u", c);
	n = ben_request(req, sizeof(req), cookie, "call-id", call_id, "command", "answer",
			"from-tag", ftag, "sdp", sdp, "to-tag", ttag, NULL);
	r = mg_ng_handle(ng, req, n, ng_out, sizeof(ng_out));
	if (ng_answer_media(ng_out, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("answer %u: %s", c, why);
	a->dst_port = port;
	if (a->dst_port == b->dst_port)
		bench_die("call %u: both sides got port %u", c, port);
	if (srtp_mode) {
		/* mediagate -> A: its key in the answer it gives A, for A's tag 1 */
		mg_key("answer", c, r, 1, &tag_a, k_ma, kb, k_mb);
		srtp_ctx_set(&gen_ctx[2 * c], ka);	 /* A sends with its own key */
		srtp_ctx_set(&gen_ctx[2 * c + 1], kb);	 /* B likewise */
		srtp_ctx_set(&ver_ctx[2 * c], k_mb);	 /* A's packets reach B with k_mb */
		srtp_ctx_set(&ver_ctx[2 * c + 1], k_ma); /* B's reach A with k_ma */
		explicit_bzero(ka, sizeof(ka));
		explicit_bzero(kb, sizeof(kb));
		explicit_bzero(k_ma, sizeof(k_ma));
		explicit_bzero(k_mb, sizeof(k_mb));
	}
}

struct wsnap {
	struct mg_worker_stats w;
	uint64_t tsc, injected, received;
	uint64_t run_ns, wait_ns; /* the worker thread's schedstat: on CPU, runnable but not */
};

static int record_tid(void *arg)
{
	(void)arg;
	worker_tid = rte_gettid();
	return 0;
}

static void snap(struct mg_dataplane *dp, struct wsnap *s)
{
	mg_dp_worker_stats(dp, 0, &s->w);
	s->tsc = rte_rdtsc();
	s->injected = g_injected;
	s->received = g_received;
	read_schedstat(&s->run_ns, &s->wait_ns);
}

static uint64_t worker_drops(const struct mg_worker_stats *w)
{
	uint64_t d = w->no_session + w->dispatch_drops + w->slow_path_drops + w->tx_drops +
		     w->multiseg_drops;
	for (int v = 1; v < MG_NET_VERDICT_COUNT; v++)
		d += w->net_verdict[v];
	return d;
}

static void print_worker_drops(const struct mg_worker_stats *w)
{
	if (w->no_session)
		printf("  DROP no_session %" PRIu64 "\n", w->no_session);
	if (w->dispatch_drops)
		printf("  DROP dispatch_drops %" PRIu64 "\n", w->dispatch_drops);
	if (w->slow_path_drops)
		printf("  DROP slow_path_drops %" PRIu64 "\n", w->slow_path_drops);
	if (w->tx_drops)
		printf("  DROP tx_drops %" PRIu64 "\n", w->tx_drops);
	if (w->multiseg_drops)
		printf("  DROP multiseg_drops %" PRIu64 "\n", w->multiseg_drops);
	for (int v = 1; v < MG_NET_VERDICT_COUNT; v++)
		if (w->net_verdict[v])
			printf("  DROP %s %" PRIu64 "\n", mg_net_verdict_name(v),
			       w->net_verdict[v]);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: relay_bench [--calls N] [--reps R] [--seconds S] [--warmup S]\n"
		"                   [--overload F] [--verify-every K] [--inflight P]\n"
		"                   [--srtp[=SUITE]] [-- EAL args]\n"
		"--srtp: SRTP-to-SRTP re-keying, SUITE default AES_CM_128_HMAC_SHA1_80\n"
		"EAL args default: --no-huge -m 2048 --no-pci --no-shconf -l 0,1 --no-telemetry\n"
		"                  --file-prefix relaybench-<pid>\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"calls", required_argument, NULL, 'c'},
	    {"reps", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"overload", required_argument, NULL, 'o'},
	    {"verify-every", required_argument, NULL, 'v'},
	    {"inflight", required_argument, NULL, 'i'},
	    {"srtp", optional_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt.calls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opt.reps = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt.seconds = strtod(optarg, NULL);
			break;
		case 'w':
			opt.warmup = strtod(optarg, NULL);
			break;
		case 'o':
			opt.overload = strtod(optarg, NULL);
			break;
		case 'v':
			opt.verify_every = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			opt.inflight = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			srtp_mode = true;
			if (optarg)
				snprintf(srtp_name, sizeof(srtp_name), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (opt.calls == 0 || opt.calls > 20000 || opt.reps == 0 || opt.reps > 256 ||
	    opt.seconds <= 0 || opt.verify_every == 0 || opt.inflight < 64 ||
	    opt.inflight > N_MBUFS / 2)
		usage();
	if (srtp_mode) {
		srtp_suite = mg_srtp_suite_by_name(srtp_name, strlen(srtp_name));
		srtp_info = mg_srtp_suite_info(srtp_suite);
		if (!srtp_info)
			bench_die("unknown SRTP suite %s", srtp_name);
		wire_len = BENCH_RTP_LEN + srtp_info->srtp_tag_len;
		frame_len = 14 + 20 + 8 + wire_len;
	}

	/* EAL */
	char prefix[64], eal_line[1024];
	snprintf(prefix, sizeof(prefix), "relaybench-%d", (int)getpid());
	char *eal_argv[64];
	int eal_argc = 0;
	eal_argv[eal_argc++] = argv[0];
	if (optind < argc) {
		for (int i = optind; i < argc && eal_argc < 63; i++)
			eal_argv[eal_argc++] = argv[i];
	} else {
		static char *defaults[] = {
		    "--no-huge",    "-m",  "2048",	     "--no-pci",    "--no-shconf",
		    "-l",	    "0,1", "--no-telemetry", "--log-level", "lib.eal:warning",
		    "--file-prefix"};
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			eal_argv[eal_argc++] = defaults[i];
		eal_argv[eal_argc++] = prefix;
	}
	eal_argv[eal_argc] = NULL;
	eal_line[0] = '\0';
	for (int i = 1; i < eal_argc; i++) {
		strncat(eal_line, eal_argv[i], sizeof(eal_line) - strlen(eal_line) - 2);
		strcat(eal_line, " ");
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		bench_die("EAL init failed: %s", rte_strerror(rte_errno));
	if (rte_lcore_id() != 0 || !rte_lcore_is_enabled(1))
		bench_die("needs lcores 0 (main: generator + control) and 1 (worker)");

	for (int i = 0; i < BENCH_PAYLOAD; i++)
		payload[i] = (uint8_t)(0xd5 ^ (i * 37));
	make_port();
	struct mg_profile prof;
	make_profile(&prof, eal_line);
	char err[256];
	struct mg_dataplane *dp = mg_dp_create(&prof, err, sizeof(err));
	if (!dp)
		bench_die("mg_dp_create: %s", err);
	g_dp = dp;
	pool = rte_mempool_lookup("mg_mbufs");
	if (!pool)
		bench_die("mbuf pool not found");
	struct rte_ether_addr mac;
	rte_eth_macaddr_get(mg_dp_interface_port_id(dp, 0), &mac);
	memcpy(port_mac, mac.addr_bytes, 6);
	struct mg_sessions *sessions = mg_sessions_create(dp, 16384);
	struct mg_ng *ng = sessions ? mg_ng_create(sessions, &prof) : NULL;
	if (!ng)
		bench_die("cannot create sessions/ng");

	n_streams = 2 * opt.calls;
	if (srtp_mode) {
		gen_engine = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
		gen_ctx = aligned_alloc(128, sizeof(mg_srtp_ctx) * n_streams);
		ver_ctx = aligned_alloc(128, sizeof(mg_srtp_ctx) * n_streams);
		if (!gen_engine || !gen_ctx || !ver_ctx)
			bench_die("cannot create the generator's SRTP engine or contexts");
		memset(gen_ctx, 0, sizeof(mg_srtp_ctx) * n_streams);
		memset(ver_ctx, 0, sizeof(mg_srtp_ctx) * n_streams);
	}
	streams = calloc(n_streams, sizeof(*streams));
	hot = rte_zmalloc("rb_hot", sizeof(*hot) * n_streams, RTE_CACHE_LINE_SIZE);
	delivered = calloc(n_streams, sizeof(*delivered));
	order = malloc(sizeof(*order) * n_streams);
	if (!streams || !hot || !delivered || !order)
		bench_die("out of memory");
	double t_setup = bench_now();
	for (unsigned c = 0; c < opt.calls; c++)
		ng_call(ng, c);
	t_setup = bench_now() - t_setup;
	for (uint32_t i = 0; i < n_streams; i++)
		stream_init(i);
	bench_shuffle(order, n_streams);
	fill_stash();
	printf("relay_bench: %u calls (%u streams) created through ng offer/answer in %.3f s; "
	       "legs in use %u; %u packets in flight; TSC %.3f GHz\n",
	       opt.calls, n_streams, t_setup, mg_dp_legs_in_use(dp), opt.inflight,
	       (double)rte_get_tsc_hz() / 1e9);
	printf("relay_bench: EAL %s\n", eal_line);
	if (srtp_mode)
		printf("relay_bench: SRTP-to-SRTP %s on both legs (%u-byte SRTP, %u-byte frames); "
		       "generator encrypts with %s\n",
		       srtp_name, wire_len, frame_len, mg_srtp_engine_describe(gen_engine));

	/* The worker runs on lcore 1's EAL thread; learn its tid for its CPU time. */
	if (rte_eal_remote_launch(record_tid, NULL, 1) != 0 || rte_eal_wait_lcore(1) != 0)
		bench_die("cannot use lcore 1");
	if (mg_dp_start(dp) < 0)
		bench_die("mg_dp_start failed");
	uint64_t hz = rte_get_tsc_hz();
	generate(dp, rte_rdtsc() + (uint64_t)(opt.warmup * (double)hz), 0);

	double per_core[256], per_cpu[256], wall[256], busy_frac[256], cyc_pkt[256], preempt[256];
	double clean[256], clean_frac[256], clean_cyc[256];
	unsigned reps = opt.reps;
	int failed = 0;
	struct wsnap s0, s1;
	for (unsigned r = 0; r < reps; r++) {
		snap(dp, &s0);
		windows_start();
		generate(dp, s0.tsc + (uint64_t)(opt.seconds * (double)hz), 0);
		windows_stop();
		snap(dp, &s1);
		clean[r] = clean_busy ? (double)clean_tx / ((double)clean_busy / (double)hz) : 0;
		clean_frac[r] = win_n ? (double)clean_n / (double)win_n : 0;
		clean_cyc[r] = clean_tx ? (double)clean_busy / (double)clean_tx : 0;
		uint64_t tx = s1.w.tx_pkts - s0.w.tx_pkts;
		uint64_t busy = s1.w.busy_cycles - s0.w.busy_cycles;
		uint64_t total = s1.w.total_cycles - s0.w.total_cycles;
		double secs = (double)(s1.tsc - s0.tsc) / (double)hz;
		double run_s = (double)(s1.run_ns - s0.run_ns) * 1e-9;
		double wait_s = (double)(s1.wait_ns - s0.wait_ns) * 1e-9;
		per_core[r] = busy ? (double)tx / ((double)busy / (double)hz) : 0;
		per_cpu[r] = run_s > 0 ? (double)tx / run_s : 0;
		wall[r] = (double)tx / secs;
		busy_frac[r] = total ? (double)busy / (double)total : 0;
		cyc_pkt[r] = tx ? (double)busy / (double)tx : 0;
		preempt[r] = wait_s / secs;
		uint64_t drops = worker_drops(&s1.w) - worker_drops(&s0.w);
		uint64_t loops = s1.w.busy_loops - s0.w.busy_loops;
		printf(
		    "rep %u: relayed %" PRIu64 " in %.3f s: %.3f Mpps per worker core-second "
		    "(busy TSC, %.1f cycles/pkt), %.3f Mpps per worker CPU-second (schedstat), "
		    "wall %.3f Mpps; worker busy %.1f%% of loops, %.1f pkts/busy loop, preempted "
		    "%.1f%% of the time, on CPU %.1f%%, loop cycles %.1f%% of wall; drops %" PRIu64
		    "\n",
		    r + 1, tx, secs, per_core[r] / 1e6, cyc_pkt[r], per_cpu[r] / 1e6, wall[r] / 1e6,
		    100 * busy_frac[r], loops ? (double)(s1.w.rx_pkts - s0.w.rx_pkts) / loops : 0,
		    100 * preempt[r], 100 * run_s / secs, 100 * (double)total / (double)hz / secs,
		    drops);
		printf(
		    "  clean 10 ms windows (worker never waited for its CPU): %.0f%% of windows, "
		    "%.3f Mpps per worker core-second (%.1f cycles/pkt)\n",
		    100 * clean_frac[r], clean[r] / 1e6, clean_cyc[r]);
		printf("REP mediagate calls=%u per_core_pps=%.0f per_cpu_pps=%.0f wall_pps=%.0f "
		       "busy=%.4f cycles_per_pkt=%.1f preempted=%.4f clean_pps=%.0f "
		       "clean_cycles_per_pkt=%.1f clean_windows=%.3f drops=%" PRIu64 " mode=%s\n",
		       opt.calls, per_core[r], per_cpu[r], wall[r], busy_frac[r], cyc_pkt[r],
		       preempt[r], clean[r], clean_cyc[r], clean_frac[r], drops,
		       srtp_mode ? srtp_name : "plain");
		fflush(stdout);
		if (drops) {
			print_worker_drops(&s1.w);
			failed = 1;
		}
	}

	uint64_t dmin = UINT64_MAX, dmax = 0;
	for (uint32_t i = 0; i < n_streams; i++) {
		if (delivered[i] < dmin)
			dmin = delivered[i];
		if (delivered[i] > dmax)
			dmax = delivered[i];
	}
	printf("per stream (warm-up + reps): delivered min %" PRIu64 " max %" PRIu64 "\n", dmin,
	       dmax);
	if (dmin == 0) {
		printf("FAIL: a stream got no packet through\n");
		failed = 1;
	}

	double med_core = 0;
	{
		double lo, hi, lo2, hi2, lo3, hi3, lo4, hi4;
		med_core = bench_median(per_core, reps, &lo, &hi);
		double med_cpu = bench_median(per_cpu, reps, &lo4, &hi4);
		double med_wall = bench_median(wall, reps, &lo2, &hi2);
		double med_cyc = bench_median(cyc_pkt, reps, &lo3, &hi3);
		double med_busy = bench_median(busy_frac, reps, NULL, NULL);
		double med_pre = bench_median(preempt, reps, NULL, NULL);
		double lo5, hi5;
		double med_clean = bench_median(clean, reps, &lo5, &hi5);
		double med_cc = bench_median(clean_cyc, reps, NULL, NULL);
		printf(
		    "median of %u reps, %u calls: %.3f Mpps per worker core-second (busy TSC; min "
		    "%.3f max %.3f), %.1f cycles/pkt (%.1f-%.1f); %.3f Mpps per worker CPU-second "
		    "(%.3f-%.3f); wall %.3f Mpps (%.3f-%.3f); busy %.1f%%, preempted %.1f%%\n",
		    reps, opt.calls, med_core / 1e6, lo / 1e6, hi / 1e6, med_cyc, lo3, hi3,
		    med_cpu / 1e6, lo4 / 1e6, hi4 / 1e6, med_wall / 1e6, lo2 / 1e6, hi2 / 1e6,
		    100 * med_busy, 100 * med_pre);
		printf("median over clean windows: %.3f Mpps per worker core-second (%.3f-%.3f), "
		       "%.1f cycles/pkt\n",
		       med_clean / 1e6, lo5 / 1e6, hi5 / 1e6, med_cc);
		printf("SUMMARY mediagate calls=%u per_core_pps=%.0f min=%.0f max=%.0f "
		       "per_cpu_pps=%.0f "
		       "wall_pps=%.0f cycles_per_pkt=%.1f clean_pps=%.0f clean_cycles_per_pkt=%.1f "
		       "mode=%s\n",
		       opt.calls, med_core, lo, hi, med_cpu, med_wall, med_cyc, med_clean, med_cc,
		       srtp_mode ? srtp_name : "plain");
	}

	if (opt.overload > 0 && med_core > 0) {
		double rate = opt.overload * med_core;
		/* Start the window with the stash refilled and counters clean. */
		generate(dp, rte_rdtsc() + hz / 10, 0);
		for (uint32_t i = 0; i < n_streams; i++) {
			delivered[i] = 0;
			streams[i].offered = streams[i].shed = 0;
		}
		snap(dp, &s0);
		generate(dp, s0.tsc + (uint64_t)(opt.seconds * (double)hz), rate);
		snap(dp, &s1);
		/* Packets still in flight at the end are counted as delivered only if they came
		 * back before the window closed: compare against offered minus in flight. */
		uint64_t tx = s1.w.tx_pkts - s0.w.tx_pkts, offered = 0, shed = 0;
		double fmin = 1e9, fmax = 0;
		dmin = UINT64_MAX;
		dmax = 0;
		for (uint32_t i = 0; i < n_streams; i++) {
			const struct stream *st = &streams[i];
			offered += st->offered;
			shed += st->shed;
			if (delivered[i] < dmin)
				dmin = delivered[i];
			if (delivered[i] > dmax)
				dmax = delivered[i];
			double fr = st->offered ? (double)delivered[i] / (double)st->offered : 0;
			if (fr < fmin)
				fmin = fr;
			if (fr > fmax)
				fmax = fr;
		}
		double secs = (double)(s1.tsc - s0.tsc) / (double)hz;
		printf(
		    "overload %.2fx: offered %.3f Mpps, relayed %.3f Mpps, dropped at the full rx "
		    "ring %.1f%%; per stream delivered min %" PRIu64 " max %" PRIu64
		    " (delivered/offered %.3f-%.3f)\n",
		    opt.overload, (double)offered / secs / 1e6, (double)tx / secs / 1e6,
		    offered ? 100.0 * (double)shed / (double)offered : 0, dmin, dmax, fmin, fmax);
		printf("OVERLOAD mediagate calls=%u factor=%.2f offered_pps=%.0f relayed_pps=%.0f "
		       "shed=%.4f stream_min=%" PRIu64 " stream_max=%" PRIu64
		       " frac_min=%.3f frac_max=%.3f\n",
		       opt.calls, opt.overload, (double)offered / secs, (double)tx / secs,
		       offered ? (double)shed / (double)offered : 0, dmin, dmax, fmin, fmax);
		if (dmin == 0) {
			printf("FAIL: a stream went silent under overload\n");
			failed = 1;
		}
	}

	/* Stop feeding, let everything in flight come back, stop the worker. */
	/* At least 0.2 s; on a loaded machine a preempted worker may need longer for what is
	 * still in its rx ring (SRTP costs more per packet), so wait up to 10 s for it. */
	uint64_t t_end = rte_rdtsc(), until = t_end + hz / 5, limit = t_end + 10 * hz;
	while (rte_rdtsc() < until || (n_stash < opt.inflight && rte_rdtsc() < limit))
		drain();
	mg_dp_stop(dp);
	drain();
	struct mg_worker_stats ws;
	mg_dp_worker_stats(dp, 0, &ws);
	struct mg_control_stats cs;
	mg_dp_control_stats(dp, &cs);
	uint64_t leg_drops[MG_LEG_DROP_COUNT] = {0};
	for (unsigned c = 0; c < opt.calls; c++) {
		char call_id[32];
		snprintf(call_id, sizeof(call_id), "relay-bench-%u", c);
		struct mg_call *call = mg_call_find(sessions, call_id);
		if (!call) {
			printf("FAIL: call %s vanished\n", call_id);
			failed = 1;
			continue;
		}
		for (int sd = 0; sd < 2; sd++) {
			struct mg_leg_stats st;
			mg_dp_leg_snapshot(call->media[0].leg[sd], &st, NULL, NULL);
			for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
				leg_drops[d] += st.drops[d];
		}
	}
	printf("totals: injected %" PRIu64 ", worker rx %" PRIu64 ", worker tx %" PRIu64
	       ", received %" PRIu64 ", in flight at the end %u, verified %" PRIu64
	       " (1 in %u), control tx %" PRIu64 " (ARP)\n",
	       g_injected, ws.rx_pkts, ws.tx_pkts, g_received, opt.inflight - n_stash, g_verified,
	       opt.verify_every, g_control_pkts);
	if (g_injected != ws.rx_pkts || ws.tx_pkts != g_received || ws.tx_pkts != ws.rx_pkts ||
	    n_stash != opt.inflight) {
		printf("FAIL: packets lost between generator and worker\n");
		failed = 1;
	}
	if (srtp_mode) {
		printf("srtp: %" PRIu64 " sampled relayed packets decrypted with mediagate's key "
		       "and compared; leg drop counters:",
		       g_srtp_checked);
		for (int d = MG_LEG_DROP_SRTP_AUTH; d <= MG_LEG_DROP_SRTP_PROTECT; d++)
			printf(" %s %" PRIu64, mg_leg_drop_name(d), leg_drops[d]);
		printf("\n");
		if (g_srtp_checked == 0) {
			printf("FAIL: no relayed SRTP packet was checked\n");
			failed = 1;
		}
	}
	for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
		if (leg_drops[d]) {
			printf("  DROP leg %s %" PRIu64 "\n", mg_leg_drop_name(d), leg_drops[d]);
			failed = 1;
		}
	if (worker_drops(&ws)) {
		print_worker_drops(&ws);
		failed = 1;
	}
	if (cs.tx_drops) {
		printf("  DROP control tx %" PRIu64 "\n", cs.tx_drops);
		failed = 1;
	}
	if (g_bad) {
		printf("FAIL: %" PRIu64 " relayed packets wrong; first: %s\n", g_bad, g_bad_first);
		failed = 1;
	}
	printf("relay_bench: %s\n", failed ? "FAILED" : "ok (all checks passed, no drops)");

	rte_pktmbuf_free_bulk(stash, n_stash);
	if (srtp_mode) {
		for (uint32_t i = 0; i < n_streams; i++) {
			mg_srtp_ctx_wipe(&gen_ctx[i]);
			mg_srtp_ctx_wipe(&ver_ctx[i]);
		}
		free(gen_ctx);
		free(ver_ctx);
		mg_srtp_engine_destroy(gen_engine);
	}
	mg_ng_destroy(ng);
	mg_sessions_destroy(sessions);
	mg_dp_destroy(dp);
	rte_eal_cleanup();
	/* --no-shconf still creates the runtime directory; remove it if it is ours. */
	if (optind >= argc) {
		char dir[128];
		snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
		rmdir(dir);
	}
	return failed;
}
