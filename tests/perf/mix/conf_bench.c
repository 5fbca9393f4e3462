/* conf_bench: conferences on mediagate's real worker lcore, in-process, in real time (P3).
 *
 * - EAL on lcores 0,1 (no hugepages); one DPDK port made of rte_rings
 *   (rte_eth_from_rings). The data plane, sessions and ng are the real ones; every call is
 *   created with mg_ng_handle() offer + answer (real SDP text, contact-id), and in
 *   conference mode a third party's call joins each contact with "join conference".
 * - The worker runs on lcore 1 (mg_dp_start) with its 20 ms TSC tick. The main lcore 0 is
 *   the generator: every 20 ms of wall time it sends one 20 ms G.711 packet (valid
 *   Ethernet/IPv4/UDP checksums, RTP sequence and timestamp advancing) for every talking
 *   party, spread over the period, and drains and counts what the worker transmits.
 * - Modes: "conf" = N 3-party conferences (3 packets in and 3 mixed packets out per
 *   conference per 20 ms); "relay" = N 2-party relayed calls (2 in, 2 out per 20 ms).
 * - Output for one N: the worker's busy CPU per 20 ms (its busy_cycles: loops that had
 *   packets or a tick), the conference tick overruns (rounds that started a period or
 *   more late), the longest tick round, packets in/out and drops. Lines "RESULT ..." are
 *   for tests/perf/mix/conf_run.sh.
 *
 *   conf_bench conf|relay N [seconds] [-- EAL args] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#define BENCH_PROG "conf_bench"
#include "../relay/bench_util.h"
#include "dataplane.h"
#include "ng.h"
#include "profile.h"
#include "session.h"

#define RING_NAME "confbench"
#define PORT_NAME "net_ring_" RING_NAME
#define OUR_IP	  0x0a5f0001u /* 10.95.0.1/24 */
#define ROUTER_IP 0x0a5f00feu
#define PEER_NET  0xc6120000u /* 198.18.0.0/15: the parties */
#define FRAME	  (14 + 20 + 8 + BENCH_RTP_LEN)

static const uint8_t router_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x95, 0xfe};

struct party {
	uint8_t hdr[54]; /* Ethernet + IPv4 + UDP + RTP, seq/ts advanced per packet */
	uint32_t base_sum;
};

static struct party *parties;
static unsigned n_parties;
static struct rte_ring *rx_ring[2], *tx_ring[2];
static struct rte_mempool *gen_pool;
static uint8_t port_mac[6], payload[BENCH_PAYLOAD];
static char ng_out[65536];
static uint64_t g_rx_out, g_injected, g_inject_fail;

static void party_init(struct party *t, uint32_t src_ip, uint16_t src_port, uint16_t dst_port,
		       uint32_t ssrc)
{
	uint8_t *h = t->hdr;
	memset(t, 0, sizeof(*t));
	memcpy(h, port_mac, 6);
	memcpy(h + 6, router_mac, 6);
	wr16(h + 12, 0x0800);
	uint8_t *ip = h + 14;
	ip[0] = 0x45;
	wr16(ip + 2, 20 + 8 + BENCH_RTP_LEN);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	wr32(ip + 12, src_ip);
	wr32(ip + 16, OUR_IP);
	wr16(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, 20, 0)));
	uint8_t *udp = ip + 20;
	wr16(udp, src_port);
	wr16(udp + 2, dst_port);
	wr16(udp + 4, 8 + BENCH_RTP_LEN);
	uint8_t *rtp = udp + 8;
	rtp[0] = 0x80;
	wr32(rtp + 8, ssrc);
	uint32_t sum = (src_ip >> 16) + (src_ip & 0xffff) + (OUR_IP >> 16) + (OUR_IP & 0xffff) +
		       17 + 8 + BENCH_RTP_LEN;
	sum = ref_sum(udp, 8, sum);
	sum = ref_sum(rtp, BENCH_RTP_HDR, sum);
	t->base_sum = ref_sum(payload, BENCH_PAYLOAD, sum); /* with seq = ts = 0 */
}

static void build(uint8_t *p, struct party *t)
{
	uint8_t *rtp = t->hdr + 42;
	uint16_t seq = rd16(rtp + 2);
	uint32_t ts = rd32(rtp + 4);
	uint16_t c = (uint16_t)~ref_fold(t->base_sum + seq + (ts >> 16) + (ts & 0xffff));
	wr16(t->hdr + 40, c ? c : 0xffff);
	memcpy(p, t->hdr, 54);
	memcpy(p + 54, payload, BENCH_PAYLOAD);
	wr16(rtp + 2, (uint16_t)(seq + 1));
	wr32(rtp + 4, ts + 160);
}

static void drain(void)
{
	struct rte_mbuf *m[64];
	for (int r = 0; r < 2; r++) {
		unsigned n;
		while ((n = rte_ring_sc_dequeue_burst(tx_ring[r], (void **)m, 64, NULL)) > 0) {
			if (r == 0)
				g_rx_out += n;
			rte_pktmbuf_free_bulk(m, n);
		}
	}
}

static void inject(unsigned from, unsigned to)
{
	struct rte_mbuf *m[32];
	while (from < to) {
		unsigned k = to - from < 32 ? to - from : 32;
		if (rte_pktmbuf_alloc_bulk(gen_pool, m, k) != 0) {
			g_inject_fail += k;
			return;
		}
		for (unsigned i = 0; i < k; i++) {
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m[i], FRAME);
			build(p, &parties[from + i]);
		}
		unsigned sent = rte_ring_sp_enqueue_burst(rx_ring[0], (void **)m, k, NULL);
		if (sent < k) {
			g_inject_fail += k - sent;
			rte_pktmbuf_free_bulk(m + sent, k - sent);
		}
		g_injected += sent;
		from += k;
	}
}

/* The worker thread's scheduler figures: time on its CPU and time it waited, runnable,
 * for it (preempted by other jobs of this shared machine). */
static int worker_tid;
static int record_tid(void *arg)
{
	(void)arg;
	worker_tid = rte_gettid();
	return 0;
}
static uint64_t wait_ns(void)
{
	char path[64];
	unsigned long long run = 0, wait = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", worker_tid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &run, &wait) != 2)
			wait = 0;
		fclose(f);
	}
	return wait;
}

static size_t ng(struct mg_ng *h, const char *cookie, ...)
{
	char req[4096];
	va_list ap;
	va_start(ap, cookie);
	/* ben_request takes key/value pairs ending with NULL */
	const char *kv[24];
	unsigned n = 0;
	const char *s;
	while (n < 22 && (s = va_arg(ap, const char *)) != NULL)
		kv[n++] = s;
	va_end(ap);
	kv[n] = NULL;
	size_t len;
	switch (n) {
	case 8:
		len = ben_request(req, sizeof(req), cookie, kv[0], kv[1], kv[2], kv[3], kv[4],
				  kv[5], kv[6], kv[7], NULL);
		break;
	case 10:
		len = ben_request(req, sizeof(req), cookie, kv[0], kv[1], kv[2], kv[3], kv[4],
				  kv[5], kv[6], kv[7], kv[8], kv[9], NULL);
		break;
	case 12:
		len = ben_request(req, sizeof(req), cookie, kv[0], kv[1], kv[2], kv[3], kv[4],
				  kv[5], kv[6], kv[7], kv[8], kv[9], kv[10], kv[11], NULL);
		break;
	default:
		bench_die("ng: %u arguments", n);
	}
	return mg_ng_handle(h, req, len, ng_out, sizeof(ng_out));
}

/* One call of two parties: party a (offerer) at a_ip, party b at b_ip; returns the ports
 * they send to in *to_a / *to_b. */
static void make_call(struct mg_ng *h, const char *call, const char *contact, uint32_t a_ip,
		      uint32_t b_ip, uint16_t *to_a, uint16_t *to_b)
{
	char sdp[1024], ip[16], cookie[48], addr[64], why[256];
	uint16_t port;
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a_ip >> 24, (a_ip >> 16) & 255, (a_ip >> 8) & 255,
		 a_ip & 255);
	bench_sdp(sdp, sizeof(sdp), 1, ip, 4000);
	snprintf(cookie, sizeof(cookie), "o-%s", call);
	size_t r = ng(h, cookie, "call-id", call, "command", "offer", "contact-id", contact,
		      "from-tag", "a", "sdp", sdp, NULL);
	if (ng_answer_media(ng_out, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("offer %s: %s", call, why);
	*to_b = port;
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", b_ip >> 24, (b_ip >> 16) & 255, (b_ip >> 8) & 255,
		 b_ip & 255);
	bench_sdp(sdp, sizeof(sdp), 2, ip, 5000);
	snprintf(cookie, sizeof(cookie), "a-%s", call);
	r = ng(h, cookie, "call-id", call, "command", "answer", "from-tag", "a", "sdp", sdp,
	       "to-tag", "b", NULL);
	if (ng_answer_media(ng_out, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("answer %s: %s", call, why);
	*to_a = port;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		bench_die("usage: conf_bench conf|relay N [seconds] [-- EAL args]");
	bool conf = !strcmp(argv[1], "conf");
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	double seconds = argc > 3 && strcmp(argv[3], "--") ? atof(argv[3]) : 4.0;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "confbench-%d", (int)getpid());
	char *eal_argv[32] = {argv[0],
			      "--no-huge",
			      "-m",
			      "2048",
			      "--no-pci",
			      "--no-shconf",
			      "-l",
			      "0,1",
			      "--no-telemetry",
			      "--log-level",
			      "lib.eal:warning",
			      "--file-prefix",
			      prefix};
	int eal_argc = 13;
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		bench_die("EAL init failed");
	for (int i = 0; i < BENCH_PAYLOAD; i++)
		payload[i] = (uint8_t)(0x80 ^ (i * 37)); /* loud, varied audio */

	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cb_rx%d", i);
		rx_ring[i] = rte_ring_create(name, 65536, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "cb_tx%d", i);
		tx_ring[i] = rte_ring_create(name, 65536, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[i] || !tx_ring[i])
			bench_die("rings");
	}
	if (rte_eth_from_rings(RING_NAME, rx_ring, 2, tx_ring, 2, rte_socket_id()) < 0)
		bench_die("rte_eth_from_rings");
	gen_pool = rte_pktmbuf_pool_create("cb_gen", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (!gen_pool)
		bench_die("generator pool");

	struct mg_profile prof;
	mg_profile_defaults(&prof);
	snprintf(prof.name, sizeof(prof.name), "conf-bench");
	snprintf(prof.eal_args, sizeof(prof.eal_args), "--no-huge -l 0,1");
	prof.control_lcore = 0;
	prof.n_workers = 1;
	prof.worker_lcores[0] = 1;
	prof.telemetry = false;
	prof.port_min = 20000;
	prof.port_max = 59999;
	prof.mbufs = 65535;
	prof.burst = 32;
	prof.n_interfaces = 1;
	struct mg_interface_cfg *ifc = &prof.interfaces[0];
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
	struct mg_profile_error perr;
	if (mg_profile_validate(&prof, &perr) < 0)
		bench_die("profile: %s: %s", perr.field, perr.reason);
	char err[256];
	struct mg_dataplane *dp = mg_dp_create(&prof, err, sizeof(err));
	if (!dp)
		bench_die("mg_dp_create: %s", err);
	struct rte_ether_addr mac;
	rte_eth_macaddr_get(mg_dp_interface_port_id(dp, 0), &mac);
	memcpy(port_mac, mac.addr_bytes, 6);
	struct mg_sessions *sessions = mg_sessions_create(dp, 65536);
	struct mg_ng *h = sessions ? mg_ng_create(sessions, &prof) : NULL;
	if (!h)
		bench_die("sessions/ng");

	/* parties: per contact 2 (relay) or 3 (conference: the third party's own call has a
	 * silent far side) */
	unsigned per = conf ? 3 : 2;
	parties = calloc((size_t)n * per, sizeof(*parties));
	if (!parties)
		bench_die("out of memory");
	double t_setup = bench_now();
	for (unsigned c = 0; c < n; c++) {
		char call[32], contact[32];
		uint16_t to_a, to_b;
		uint32_t base = PEER_NET + 4 * c + 1;
		snprintf(call, sizeof(call), "c%u", c);
		snprintf(contact, sizeof(contact), "K%u", c);
		make_call(h, call, contact, base, base + 1, &to_a, &to_b);
		party_init(&parties[n_parties++], base, 4000, to_a, 0x10000000u + c);
		party_init(&parties[n_parties++], base + 1, 5000, to_b, 0x20000000u + c);
		if (conf) {
			snprintf(call, sizeof(call), "s%u", c);
			make_call(h, call, contact, base + 2, base + 3, &to_a, &to_b);
			party_init(&parties[n_parties++], base + 2, 4000, to_a, 0x30000000u + c);
			char cookie[32];
			snprintf(cookie, sizeof(cookie), "j%u", c);
			size_t r = ng(h, cookie, "call-id", call, "command", "join conference",
				      "from-tag", "a", "contact-id", contact, NULL);
			if (!memmem(ng_out, r, "participantsi3e", 15))
				bench_die("join %u: %.*s", c, (int)r, ng_out);
		}
	}
	t_setup = bench_now() - t_setup;
	if (rte_eal_remote_launch(record_tid, NULL, 1) != 0 || rte_eal_wait_lcore(1) != 0)
		bench_die("cannot start lcore 1");
	if (mg_dp_start(dp) < 0)
		bench_die("mg_dp_start");

	/* real time: every 20 ms one packet per party, spread in 20 slices of 1 ms */
	uint64_t hz = rte_get_tsc_hz(), period = hz / 50, slice = period / 20;
	struct mg_worker_stats w0, w1;
	uint64_t start = rte_rdtsc(), warm = start + hz, end = warm + (uint64_t)(seconds * hz);
	bool measuring = false;
	uint64_t in0 = 0, out0 = 0, t0 = 0;
	/* Per 20 ms period: the worker's busy time. A loop that is preempted (this machine is
	 * shared) counts the whole preemption as busy, so the mean is inflated; the median
	 * over the periods is what a period usually costs. "clean": periods in which the
	 * worker thread did not wait for its CPU (schedstat). */
	uint64_t clean = 0, prev_wait = 0, prev_busy = 0, all_periods = 0;
	static double per_period[1 << 16];
	unsigned n_pp = 0;
	/* Cost estimates that a preemption cannot inflate much: per period, the input cost per
	 * received packet ((busy - tick rounds) / packets) in periods that received at least
	 * half of a period's packets, and the tick round cost per conference in periods with
	 * exactly one round; their 10th percentiles and medians (a preempted period is an
	 * outlier on the high side). */
	static double pkt_ns[1 << 16], round_ns[1 << 16];
	unsigned n_pkt = 0, n_round = 0;
	uint64_t prev_rx = 0, prev_rc = 0, prev_rounds = 0;
	for (uint64_t tick = 0;; tick++) {
		uint64_t base = start + tick * period;
		if (measuring) {
			struct mg_worker_stats ws;
			mg_dp_worker_stats(dp, 0, &ws);
			uint64_t wt = wait_ns();
			if (all_periods++) {
				uint64_t rx = ws.rx_pkts - prev_rx,
					 rc = ws.conf_round_cycles - prev_rc;
				uint64_t nr = ws.conf_rounds - prev_rounds;
				uint64_t busy = ws.busy_cycles - prev_busy;
				if (rx >= n_parties / 2 && busy > rc && n_pkt < (1 << 16))
					pkt_ns[n_pkt++] =
					    (double)(busy - rc) * 1e9 / (double)hz / (double)rx;
				if (nr == 1 && n_round < (1 << 16))
					round_ns[n_round++] = (double)rc * 1e9 / (double)hz / n;
				clean += wt == prev_wait;
				if (n_pp < (1 << 16))
					per_period[n_pp++] =
					    (double)(ws.busy_cycles - prev_busy) / (double)hz * 1e3;
			}
			prev_wait = wt;
			prev_busy = ws.busy_cycles;
			prev_rx = ws.rx_pkts;
			prev_rc = ws.conf_round_cycles;
			prev_rounds = ws.conf_rounds;
		}
		if (!measuring && base >= warm) {
			mg_dp_control_poll(dp);
			mg_dp_worker_stats(dp, 0, &w0);
			in0 = g_injected;
			out0 = g_rx_out;
			t0 = rte_rdtsc();
			measuring = true;
		}
		if (base >= end)
			break;
		for (unsigned sl = 0; sl < 20; sl++) {
			while (rte_rdtsc() < base + sl * slice) {
				drain();
				mg_dp_control_poll(dp);
			}
			inject(n_parties * sl / 20, n_parties * (sl + 1) / 20);
		}
	}
	mg_dp_worker_stats(dp, 0, &w1);
	uint64_t t1 = rte_rdtsc();
	drain();
	double secs = (double)(t1 - t0) / (double)hz;
	double periods = secs * 50;
	double busy_ms = (double)(w1.busy_cycles - w0.busy_cycles) / (double)hz * 1e3 / periods;
	uint64_t rounds = w1.conf_rounds - w0.conf_rounds;
	uint64_t overruns = w1.conf_tick_overruns - w0.conf_tick_overruns;
	double round_ms = rounds ? (double)(w1.conf_round_cycles - w0.conf_round_cycles) /
				       (double)hz * 1e3 / (double)rounds
				 : 0;
	double max_round_ms = (double)w1.conf_round_max_cycles / (double)hz * 1e3;
	uint64_t drops = w1.tx_drops + w1.no_session + w1.dispatch_drops;
	for (int v = 1; v < MG_NET_VERDICT_COUNT; v++)
		drops += w1.net_verdict[v];
	double lo = 0, hi = 0;
	double med_ms = bench_median(per_period, n_pp, &lo, &hi);
	qsort(per_period, n_pp, sizeof(double), bench_cmp_double);
	double p10 = n_pp ? per_period[n_pp / 10] : 0, p90 = n_pp ? per_period[n_pp * 9 / 10] : 0;
	const char *unit = conf ? "conference" : "call";
	qsort(pkt_ns, n_pkt, sizeof(double), bench_cmp_double);
	qsort(round_ns, n_round, sizeof(double), bench_cmp_double);
	double pkt10 = n_pkt ? pkt_ns[n_pkt / 10] : 0, pkt50 = n_pkt ? pkt_ns[n_pkt / 2] : 0;
	double rnd10 = n_round ? round_ns[n_round / 10] : 0,
	       rnd50 = n_round ? round_ns[n_round / 2] : 0;
	/* per conference (3 packets in + its share of a tick round) or call (2 packets in:
	 * the relay's output is part of the same loop) per 20 ms */
	double unit10 = (conf ? 3 : 2) * pkt10 + rnd10, unit50 = (conf ? 3 : 2) * pkt50 + rnd50;
	printf("cost model: input %.0f ns per packet (p10; median %.0f, %u periods), tick round "
	       "%.0f ns per conference (p10; median %.0f, %u periods): %.2f us per %s per 20 ms "
	       "(p10; median %.2f) -> %.0f per core by CPU time\n",
	       pkt10, pkt50, n_pkt, rnd10, rnd50, n_round, unit10 / 1e3, unit, unit50 / 1e3,
	       unit50 > 0 ? 20e6 / unit50 : 0);
	printf("%s: %u %s, setup %.1f s, %.1f s measured: in %" PRIu64 " out %" PRIu64
	       " pkts; worker busy %.2f ms per 20 ms (mean); per period: median %.3f ms (%.2f us "
	       "per %s), p10 %.3f, p90 %.3f, max %.3f ms (%" PRIu64 " of %u periods without a "
	       "preemption); tick rounds %" PRIu64
	       " (mean %.2f ms, longest %.2f ms), overruns %" PRIu64 "; worker drops %" PRIu64
	       ", generator could not inject %" PRIu64 "\n",
	       conf ? "conference" : "relay", n, conf ? "3-party conferences" : "2-party calls",
	       t_setup, secs, g_injected - in0, g_rx_out - out0, busy_ms, med_ms, med_ms * 1e3 / n,
	       unit, p10, p90, hi, clean, n_pp, rounds, round_ms, max_round_ms, overruns, drops,
	       g_inject_fail);
	printf("COST mode=%s n=%u pkt10_ns=%.1f pkt50_ns=%.1f round10_ns=%.1f round50_ns=%.1f "
	       "unit10_us=%.3f unit50_us=%.3f\n",
	       conf ? "conf" : "relay", n, pkt10, pkt50, rnd10, rnd50, unit10 / 1e3, unit50 / 1e3);
	printf("RESULT mode=%s n=%u clean=%" PRIu64 " periods=%u med_ms=%.3f p10_ms=%.3f "
	       "p90_ms=%.3f busy_ms=%.3f rounds=%" PRIu64 " overruns=%" PRIu64
	       " round_ms=%.3f max_round_ms=%.3f in=%" PRIu64 " out=%" PRIu64 " drops=%" PRIu64
	       " gen_fail=%" PRIu64 "\n",
	       conf ? "conf" : "relay", n, clean, n_pp, med_ms, p10, p90, busy_ms, rounds, overruns,
	       round_ms, max_round_ms, g_injected - in0, g_rx_out - out0, drops, g_inject_fail);
	mg_dp_stop(dp);
	return 0;
}
