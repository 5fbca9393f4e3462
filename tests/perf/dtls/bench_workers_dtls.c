/* Workers unaffected while 1,000 DTLS handshakes run (issue 7 benchmark).
 *
 *   bench_workers_dtls [rounds] [handshakes per round] [plain calls]
 *
 * mediagate's real data plane on a port made of rte_rings (EAL lcores 0 and 1, no hugepages):
 * - the worker runs on lcore 1 (mg_dp_start) and relays plain RTP between the two legs of
 *   `plain calls` calls created through ng;
 * - the generator (main lcore 0) keeps the worker's rx ring fed with valid RTP frames for those
 *   calls and takes the relayed frames off the worker's tx ring;
 * - the control side runs on its own thread (as mediagate's control lcore, never on the
 *   worker's core): it creates `handshakes` WebRTC calls through ng (browser offer with ICE +
 *   DTLS, carrier answer), then plays the browsers: for every leg a STUN check and a whole DTLS
 *   handshake (lib/dtls client), as Ethernet/IPv4/UDP frames put on the same rx ring, so they
 *   go through the worker's demux and the slow-path ring to mg_dp_control_poll ->
 *   lib/webrtc, whose answers it reads off the control tx ring. Every handshake must complete
 *   and install keys.
 * Per round three windows: before (no handshakes), during (the 1,000 handshakes), after. For
 * each: the worker's relayed packets per busy second (tx_pkts over busy_cycles at the TSC
 * rate: its per-packet cost), delivered packets per wall second, and the busy share. Medians
 * over rounds. Exit status 1 when a handshake fails or the worker relays nothing. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "dtls.h"
#include "net.h"
#include "ng.h"
#include "session.h"
#include "stun.h"
#include "webrtc.h"

#define OUR_IP	  0x0a000001u /* 10.0.0.1 */
#define ROUTER_IP 0x0a0000feu
#define PEER_NET  0x0a090000u /* peers behind the router: 10.9.x.y */
#define WINDOW_S  2.0

static struct rte_ring *rx_ring[2], *tx_ring[2];
static struct rte_mempool *pool;
static struct mg_dataplane *dp;
static struct mg_sessions *sessions;
static struct mg_ng *ng;
static struct mg_mac port_mac, router_mac = {{0x02, 0, 0, 0, 0, 0xfe}};
static volatile int phase; /* 0 idle, 1 run handshakes, 2 done, 3 quit */
static unsigned n_hs, n_plain;
static unsigned hs_ok_total, hs_fail_total;
static double hs_seconds;

static void die(const char *m)
{
	fprintf(stderr, "bench_workers_dtls: %s\n", m);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- ng ---- */
static char ng_ans[65536];
static const char *ng_call(const char *cmd, const char *id, const char *from, const char *to,
			   const char *sdp, const char *extra)
{
	static char req[32768];
	static unsigned cookie;
	int n = snprintf(req, sizeof(req), "b%u d7:command%zu:%s7:call-id%zu:%s8:from-tag%zu:%s",
			 ++cookie, strlen(cmd), cmd, strlen(id), id, strlen(from), from);
	if (to)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "6:to-tag%zu:%s", strlen(to), to);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "3:sdp%zu:%s%se", strlen(sdp), sdp,
		      extra ? extra : "");
	size_t k = mg_ng_handle(ng, req, (size_t)n, ng_ans, sizeof(ng_ans) - 1);
	ng_ans[k] = 0;
	if (!strstr(ng_ans, "6:result2:ok"))
		die(ng_ans);
	const char *p = strstr(ng_ans, "3:sdp");
	return p ? strchr(p + 5, ':') + 1 : "";
}

static unsigned sdp_port(const char *sdp)
{
	const char *p = strstr(sdp, "m=audio ");
	return p ? (unsigned)atoi(p + 8) : 0;
}

static void sdp_value(const char *sdp, const char *prefix, char *out, size_t cap)
{
	const char *p = strstr(sdp, prefix);
	if (!p)
		die(prefix);
	p += strlen(prefix);
	size_t n = strcspn(p, "\r\n");
	if (n >= cap)
		die("SDP value too long");
	memcpy(out, p, n);
	out[n] = 0;
}

/* ---- frames ---- */
static struct rte_mbuf *frame(uint32_t src_ip, uint16_t src_port, uint16_t dst_port,
			      const uint8_t *payload, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(MG_ETH_IP_UDP_LEN + len));
	memcpy(f + MG_ETH_IP_UDP_LEN, payload, len);
	struct mg_udp_tuple t = {.src_mac = router_mac,
				 .dst_mac = port_mac,
				 .src_ip = src_ip,
				 .dst_ip = OUR_IP,
				 .src_port = src_port,
				 .dst_port = dst_port,
				 .ttl = 60};
	mg_net_build_udp(f, &t, (uint16_t)len, 1, false);
	return m;
}

/* ---- plain calls: the generator ---- */
struct stream {
	uint32_t src_ip;
	uint16_t src_port, dst_port;
	uint16_t seq;
	uint32_t ssrc;
};
static struct stream *streams;

static void make_plain_calls(void)
{
	streams = calloc(2 * n_plain, sizeof(*streams));
	for (unsigned c = 0; c < n_plain; c++) {
		char id[32], sa[512], sb[512];
		uint32_t ia = PEER_NET | (1u << 8) | (c & 0xff),
			 ib = PEER_NET | (2u << 8) | (c & 0xff);
		snprintf(sa, sizeof(sa),
			 "v=0\r\no=a 1 1 IN IP4 10.9.1.%u\r\ns=-\r\nc=IN IP4 10.9.1.%u\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0\r\n",
			 c & 0xff, c & 0xff, 4000 + 2 * c);
		snprintf(sb, sizeof(sb),
			 "v=0\r\no=b 1 1 IN IP4 10.9.2.%u\r\ns=-\r\nc=IN IP4 10.9.2.%u\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0\r\n",
			 c & 0xff, c & 0xff, 6000 + 2 * c);
		snprintf(id, sizeof(id), "plain%u", c);
		unsigned to_b = sdp_port(ng_call("offer", id, "a", NULL, sa, NULL));
		unsigned to_a = sdp_port(ng_call("answer", id, "a", "b", sb, NULL));
		streams[2 * c] = (struct stream){ia, (uint16_t)(4000 + 2 * c), (uint16_t)to_a, 0,
						 0x5a000000u + 2 * c};
		streams[2 * c + 1] = (struct stream){ib, (uint16_t)(6000 + 2 * c), (uint16_t)to_b,
						     0, 0x5a000001u + 2 * c};
	}
}

static uint64_t relayed_seen, offered;
static double rate_pps;	   /* 0: keep the rx ring full; else paced */
static double pace_start;  /* time the paced count started */
static uint64_t pace_sent; /* packets due since pace_start */
static unsigned ring_max;  /* highest rx ring fill seen in the window */

static void generate(void)
{
	static unsigned next;
	struct rte_mbuf *m[32];
	uint8_t rtp[172];
	memset(rtp, 0xd5, sizeof(rtp));
	unsigned fill = rte_ring_count(rx_ring[0]);
	if (fill > ring_max)
		ring_max = fill;
	unsigned space = rte_ring_free_count(rx_ring[0]);
	unsigned want = 32;
	if (rate_pps > 0) {
		double due = (now_s() - pace_start) * rate_pps - (double)pace_sent;
		want = due < 0 ? 0 : due > 32 ? 32 : (unsigned)due;
	}
	unsigned k = 0;
	while (k < want && space > 256 + k) {
		struct stream *s = &streams[next++ % (2 * n_plain)];
		s->seq++;
		rtp[0] = 0x80;
		rtp[1] = 0;
		rtp[2] = (uint8_t)(s->seq >> 8);
		rtp[3] = (uint8_t)s->seq;
		uint32_t ts = (uint32_t)s->seq * 160;
		for (int i = 0; i < 4; i++) {
			rtp[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
			rtp[8 + i] = (uint8_t)(s->ssrc >> (24 - 8 * i));
		}
		if (!(m[k] = frame(s->src_ip, s->src_port, s->dst_port, rtp, sizeof(rtp))))
			break;
		k++;
	}
	if (k)
		rte_ring_mp_enqueue_bulk(rx_ring[0], (void **)m, k, NULL);
	offered += k;
	pace_sent += want; /* what did not fit is lost at the "NIC", as a full rx ring would */
	unsigned n = rte_ring_sc_dequeue_burst(tx_ring[0], (void **)m, 32, NULL);
	relayed_seen += n;
	rte_pktmbuf_free_bulk(m, n);
}

/* ---- WebRTC calls and the browsers (control thread) ---- */
struct browser {
	uint16_t port;	/* mediagate's port for this leg */
	uint16_t bport; /* the browser's port */
	char ufrag[32], pwd[64];
	struct mg_dtls_fingerprint fp;
	mg_dtls *cl;
};

static mg_dtls_ctx *browser_ctx;

static void to_mediagate(const struct browser *b, const uint8_t *data, size_t len)
{
	struct rte_mbuf *m = frame(PEER_NET | (200u << 8) | 1, b->bport, b->port, data, len);
	while (m && rte_ring_mp_enqueue(rx_ring[0], m) != 0)
		mg_dp_control_poll(dp);
}

static unsigned round_no;

static void make_webrtc_calls(struct browser *br)
{
	char offer[2048];
	char answer[] = "v=0\r\no=c 1 1 IN IP4 10.9.3.1\r\ns=-\r\nc=IN IP4 10.9.3.1\r\nt=0 0\r\n"
			"m=audio 5000 RTP/AVP 0\r\n";
	snprintf(offer, sizeof(offer),
		 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		 "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:brws\r\n"
		 "a=ice-pwd:browserpassword0123456789\r\na=fingerprint:%s\r\na=setup:actpass\r\n"
		 "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n",
		 mg_dtls_ctx_fingerprint(browser_ctx));
	for (unsigned i = 0; i < n_hs; i++) {
		char id[32], fp[128];
		snprintf(id, sizeof(id), "w%u-%u", round_no, i);
		ng_call("offer", id, "browser", NULL, offer, "18:transport-protocol7:RTP/AVP");
		const char *a = ng_call("answer", id, "browser", "carrier", answer, NULL);
		br[i].port = (uint16_t)sdp_port(a);
		br[i].bport = (uint16_t)(10000 + i);
		sdp_value(a, "a=ice-ufrag:", br[i].ufrag, sizeof(br[i].ufrag));
		sdp_value(a, "a=ice-pwd:", br[i].pwd, sizeof(br[i].pwd));
		sdp_value(a, "a=fingerprint:", fp, sizeof(fp));
		if (mg_dtls_fingerprint_parse(fp, strlen(fp), &br[i].fp) < 0)
			die("bad fingerprint in the answer");
	}
}

static void delete_webrtc_calls(void)
{
	for (unsigned i = 0; i < n_hs; i++) {
		char id[32];
		snprintf(id, sizeof(id), "w%u-%u", round_no, i);
		struct mg_call *c = mg_call_find(sessions, id);
		if (c)
			mg_call_delete(sessions, c);
	}
	while (mg_dp_control_poll(dp))
		;
}

/* Everything the control lcore sent: DTLS records back to their browser. */
static void browsers_receive(struct browser *br, unsigned n)
{
	struct rte_mbuf *m[32];
	unsigned k;
	while ((k = rte_ring_sc_dequeue_burst(tx_ring[1], (void **)m, 32, NULL)) > 0) {
		for (unsigned j = 0; j < k; j++) {
			const uint8_t *f = rte_pktmbuf_mtod(m[j], const uint8_t *);
			uint16_t dport = (uint16_t)(f[36] << 8 | f[37]);
			unsigned i = (unsigned)(dport - 10000);
			const uint8_t *pl = f + MG_ETH_IP_UDP_LEN;
			size_t len = m[j]->data_len - MG_ETH_IP_UDP_LEN;
			if (i < n && br[i].cl && pl[0] >= 20 && pl[0] <= 63)
				mg_dtls_input(br[i].cl, pl, len, mg_webrtc_now_ns());
		}
		rte_pktmbuf_free_bulk(m, k);
	}
}

static void drain_stun_answers(void)
{
	struct rte_mbuf *m[32];
	unsigned k;
	while ((k = rte_ring_sc_dequeue_burst(tx_ring[1], (void **)m, 32, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, k);
}

static void run_handshakes(struct browser *br)
{
	const unsigned batch = 50; /* browsers connecting at the same time */
	uint8_t buf[2048];
	for (unsigned base = 0; base < n_hs; base += batch) {
		unsigned end = base + batch < n_hs ? base + batch : n_hs;
		for (unsigned i = base; i < end; i++) {
			char user[64];
			snprintf(user, sizeof(user), "%s:brws", br[i].ufrag);
			struct mg_stun_builder b;
			uint8_t tid[MG_STUN_TID_LEN] = {(uint8_t)i, (uint8_t)(i >> 8), 7};
			mg_stun_build_init(&b, buf, sizeof(buf), MG_STUN_METHOD_BINDING,
					   MG_STUN_CLASS_REQUEST, tid);
			mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, user, strlen(user));
			mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 1853824767u);
			mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLING, 42);
			mg_stun_build_attr(&b, MG_STUN_ATTR_USE_CANDIDATE, NULL, 0);
			mg_stun_build_integrity(&b, (const uint8_t *)br[i].pwd, strlen(br[i].pwd));
			mg_stun_build_fingerprint(&b);
			to_mediagate(&br[i], buf, mg_stun_build_finish(&b));
			struct mg_dtls_config cfg = {.role = MG_DTLS_ROLE_CLIENT,
						     .remote_fingerprint = &br[i].fp};
			br[i].cl = mg_dtls_new(browser_ctx, &cfg);
		}
		/* the checks first: DTLS is accepted only from checked addresses */
		struct mg_webrtc_stats ws0;
		mg_webrtc_get_stats(mg_ng_webrtc(ng), &ws0);
		double t0 = now_s();
		for (;;) {
			mg_dp_control_poll(dp);
			struct mg_webrtc_stats ws;
			mg_webrtc_get_stats(mg_ng_webrtc(ng), &ws);
			if (ws.stun_answered - ws0.stun_answered >= end - base || now_s() - t0 > 10)
				break;
		}
		drain_stun_answers();
		while (now_s() - t0 < 60) {
			while (mg_dp_control_poll(dp))
				;
			browsers_receive(br, n_hs);
			unsigned busy = 0;
			for (unsigned i = base; i < end; i++) {
				uint64_t now = mg_webrtc_now_ns();
				if (mg_dtls_state(br[i].cl) == MG_DTLS_STATE_NEW)
					mg_dtls_start(br[i].cl, now);
				else if (now >= mg_dtls_next_timeout(br[i].cl))
					mg_dtls_tick(br[i].cl, now);
				int n;
				while ((n = mg_dtls_output(br[i].cl, buf, sizeof(buf))) > 0)
					to_mediagate(&br[i], buf, (size_t)n);
				enum mg_dtls_state st = mg_dtls_state(br[i].cl);
				busy += st == MG_DTLS_STATE_HANDSHAKING;
			}
			struct mg_webrtc_stats ws;
			mg_webrtc_get_stats(mg_ng_webrtc(ng), &ws);
			if (!busy && ws.keys_installed >= hs_ok_total + end)
				break;
		}
		for (unsigned i = base; i < end; i++) {
			mg_dtls_free(br[i].cl);
			br[i].cl = NULL;
		}
	}
	while (mg_dp_control_poll(dp))
		;
	struct mg_webrtc_stats ws;
	mg_webrtc_get_stats(mg_ng_webrtc(ng), &ws);
	hs_ok_total = (unsigned)ws.keys_installed;
	hs_fail_total = (unsigned)ws.handshakes_failed;
}

static void *control_thread(void *arg)
{
	(void)arg;
	struct browser *br = calloc(n_hs, sizeof(*br));
	for (;;) {
		while (phase == 0 || phase == 2)
			mg_dp_control_poll(dp); /* the control lcore idles as in mediagate */
		if (phase == 3)
			break;
		if (phase == 4) { /* prepare the next round's calls (outside the windows) */
			delete_webrtc_calls();
			round_no++;
			make_webrtc_calls(br);
			phase = 2;
			continue;
		}
		double t0 = now_s();
		run_handshakes(br);
		hs_seconds = now_s() - t0;
		phase = 2;
	}
	free(br);
	return NULL;
}

/* ---- windows ---- */
struct window {
	double busy_mpps, wall_mpps, busy_share, seconds;
	uint64_t slow_path, slow_drops;
	uint64_t offered, relayed; /* by the generator / seen on the worker's tx ring */
	uint64_t ring_full;	   /* paced: due but the rx ring was full (lost at the "NIC") */
	unsigned ring_max;
};

static struct window measure(int want_phase)
{
	struct mg_worker_stats a, b;
	mg_dp_worker_stats(dp, 0, &a);
	uint64_t off0 = offered, rel0 = relayed_seen;
	ring_max = 0;
	double t0 = now_s();
	pace_start = t0;
	pace_sent = 0;
	if (want_phase == 1) {
		phase = 1;
		while (phase == 1)
			generate();
	} else {
		while (now_s() - t0 < WINDOW_S)
			generate();
	}
	mg_dp_worker_stats(dp, 0, &b);
	double secs = now_s() - t0;
	double busy = (double)(b.busy_cycles - a.busy_cycles) / (double)rte_get_tsc_hz();
	double total = (double)(b.total_cycles - a.total_cycles) / (double)rte_get_tsc_hz();
	uint64_t tx = b.tx_pkts - a.tx_pkts;
	return (struct window){.busy_mpps = busy > 0 ? (double)tx / busy / 1e6 : 0,
			       .wall_mpps = (double)tx / secs / 1e6,
			       .busy_share = total > 0 ? busy / total : 0,
			       .seconds = secs,
			       .slow_path = b.slow_path - a.slow_path,
			       .slow_drops = b.slow_path_drops - a.slow_path_drops,
			       .offered = offered - off0,
			       .relayed = relayed_seen - rel0,
			       .ring_max = ring_max,
			       .ring_full = rate_pps > 0 ? pace_sent - (offered - off0) : 0};
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}
static double med(double *v, unsigned n)
{
	qsort(v, n, sizeof(double), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
	n_hs = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	n_plain = argc > 3 ? (unsigned)atoi(argv[3]) : 100;
	rate_pps = argc > 4 ? atof(argv[4]) : 0;
	char *eal[] = {"bench_workers_dtls",
		       "--no-huge",
		       "-m",
		       "512",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-l",
		       "0,1",
		       "--log-level=error",
		       NULL};
	if (rte_eal_init(10, eal) < 0)
		die("EAL");
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "bw_rx%d", i);
		rx_ring[i] = rte_ring_create(name, 4096, 0, RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "bw_tx%d", i);
		tx_ring[i] = rte_ring_create(name, 4096, 0, RING_F_SC_DEQ);
	}
	if (rte_eth_from_rings("bw", rx_ring, 2, tx_ring, 2, 0) < 0)
		die("rte_eth_from_rings");
	struct mg_profile p;
	mg_profile_defaults(&p);
	snprintf(p.name, sizeof(p.name), "bench-workers-dtls");
	p.control_lcore = 0;
	p.n_workers = 1;
	p.worker_lcores[0] = 1;
	p.telemetry = false;
	p.port_min = 20000;
	p.port_max = 59999;
	p.mbufs = 32767;
	p.burst = 32;
	p.n_interfaces = 1;
	struct mg_interface_cfg *ifc = &p.interfaces[0];
	snprintf(ifc->name, sizeof(ifc->name), "bench");
	snprintf(ifc->device, sizeof(ifc->device), "net_ring_bw");
	ifc->address = OUR_IP;
	ifc->prefix_len = 24;
	ifc->gateway = ROUTER_IP;
	ifc->rx_desc = ifc->tx_desc = 1024;
	ifc->mtu = 1500;
	ifc->n_neighbors = 1;
	ifc->neighbors[0].ip = ROUTER_IP;
	ifc->neighbors[0].mac = router_mac;
	char err[256];
	dp = mg_dp_create(&p, err, sizeof(err));
	if (!dp)
		die(err);
	pool = rte_mempool_lookup("mg_mbufs");
	struct rte_ether_addr mac;
	rte_eth_macaddr_get(mg_dp_interface_port_id(dp, 0), &mac);
	memcpy(port_mac.b, mac.addr_bytes, 6);
	sessions = mg_sessions_create(dp, 16384);
	ng = sessions ? mg_ng_create(sessions, &p) : NULL;
	browser_ctx = mg_dtls_ctx_new("browser", 30);
	if (!ng || !mg_ng_webrtc(ng) || !browser_ctx)
		die("ng / WebRTC / browser certificate");
	make_plain_calls();
	if (mg_dp_start(dp) < 0)
		die("mg_dp_start");
	pthread_t th;
	phase = 4;
	pthread_create(&th, NULL, control_thread, NULL);
	printf("# %u rounds; %u handshakes per round (50 browsers at a time), %u plain calls "
	       "relayed by one worker; windows of %.0f s before/after; offered load: ",
	       rounds, n_hs, n_plain, WINDOW_S);
	if (rate_pps > 0)
		printf("paced at %.0f packets/s\n", rate_pps);
	else
		printf("the rx ring kept full\n");
	printf("round | before Mpps/busy-s | during Mpps/busy-s | after Mpps/busy-s | before "
	       "Mpps/wall-s | during Mpps/wall-s | after Mpps/wall-s | worker busy before/during "
	       "| handshakes s (ok) | slow path pkts during (drops) | relayed/offered before, "
	       "during, after | rx ring max fill before/during/after | lost at a full rx ring "
	       "before/during/after\n");
	double v[6][64];
	int rc = 0;
	for (double t0 = now_s(); now_s() - t0 < 1.0;)
		generate(); /* warm-up */
	for (unsigned r = 0; r < rounds && r < 64; r++) {
		while (phase == 4)
			generate();
		unsigned ok0 = hs_ok_total;
		struct window b = measure(0), d = measure(1), a = measure(0);
		unsigned ok = hs_ok_total - ok0;
		printf("%u | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f/%.2f | %.2f (%u) | "
		       "%" PRIu64 " (%" PRIu64 ") | %.4f, %.4f, %.4f | %u/%u/%u | %" PRIu64
		       "/%" PRIu64 "/%" PRIu64 "\n",
		       r + 1, b.busy_mpps, d.busy_mpps, a.busy_mpps, b.wall_mpps, d.wall_mpps,
		       a.wall_mpps, b.busy_share, d.busy_share, hs_seconds, ok, d.slow_path,
		       d.slow_drops, b.offered ? (double)b.relayed / (double)b.offered : 0,
		       d.offered ? (double)d.relayed / (double)d.offered : 0,
		       a.offered ? (double)a.relayed / (double)a.offered : 0, b.ring_max,
		       d.ring_max, a.ring_max, b.ring_full, d.ring_full, a.ring_full);
		fflush(stdout);
		v[0][r] = b.busy_mpps, v[1][r] = d.busy_mpps, v[2][r] = a.busy_mpps;
		v[3][r] = b.wall_mpps, v[4][r] = d.wall_mpps, v[5][r] = a.wall_mpps;
		if (ok != n_hs || b.busy_mpps <= 0) {
			fprintf(stderr, "round %u: %u of %u handshakes ok (%u failed)\n", r + 1, ok,
				n_hs, hs_fail_total);
			rc = 1;
		}
		phase = 4;
	}
	unsigned n = rounds < 64 ? rounds : 64;
	printf("median | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f\n", med(v[0], n), med(v[1], n),
	       med(v[2], n), med(v[3], n), med(v[4], n), med(v[5], n));
	while (phase == 4)
		generate();
	phase = 3;
	pthread_join(th, NULL);
	mg_dp_stop(dp);
	printf("relayed frames taken off the worker's tx ring: %" PRIu64 "\n", relayed_seen);
	return rc;
}
