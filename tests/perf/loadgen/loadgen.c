/* loadgen: multi-call RTP/SRTP load generator and sink for mediagate (M17, P5).
 *
 * - Creates N calls through mediagate's ng port (offer + answer, bencode over UDP, as
 *   tests/tools/ng.py and rtpengine-ng-client do) with real SDP; with --srtp the offer
 *   and answer carry SDES a=crypto lines with the endpoints' own keys, and the keys
 *   mediagate hands out (one per leg) are read back from the rewritten SDPs.
 * - Sends G.711 (172-byte RTP: 12-byte header, 160-byte payload) at 50 packets/s on
 *   both legs of every call, the calls' send times spread evenly over the 20 ms period.
 *   With --srtp every packet is protected with libsrtp2 (an implementation independent
 *   of mediagate's engine) and every received packet is unprotected with the key
 *   mediagate announced for that leg.
 * - Receives on the other leg's socket and measures per stream: received packets, loss,
 *   reordering, jitter (RFC 3550 section 6.4.1 estimator) and the added latency: the
 *   sender writes its send time into the payload, the receiver takes the kernel's
 *   receive timestamp (SO_TIMESTAMPNS), so the figure is send() -> socket arrival and
 *   does not include the sink's own wake-up delay. Median, p99 and max from a 1-us
 *   histogram over all streams.
 * - --mode forward: no ng; A sends straight to B's address and B to A's (through
 *   whatever forwards frames in between, e.g. dpdk-testpmd in io mode), with the same
 *   packets and the same SRTP work at both ends (B unprotects with A's key): the anchor
 *   for P5.
 *
 * Kernel UDP sockets, not DPDK: 50 packets/s per leg is 100 packets/s per call, so
 * even 1,000 calls are 100k packets/s, which the sockets carry; in the test set-up the
 * middle box's af_packet ports (~0.3 Mpps) are the limit anyway. Each side uses one
 * socket (all calls' legs on that side share the endpoint address; streams are told
 * apart by SSRC), created in its own network namespace with setns(), so one process
 * with one clock measures both ends.
 *
 * Output: a human summary and one "RESULT key=value ..." line for run.sh. Exit status 1
 * when a call could not be set up, 2 when --max-loss is exceeded or a packet arrived
 * damaged, undecryptable or from a stream that was not sent. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#define BENCH_PROG "loadgen"
#include "bench_util.h"

#define PERIOD_NS   20000000ull /* 20 ms of G.711 per packet */
#define TS_STEP	    160		/* RTP timestamp units (8 kHz) per packet */
#define MAX_KS	    46		/* longest SRTP master key || salt (AES-256 + 112-bit salt) */
#define SRTP_MAX    (BENCH_RTP_LEN + 16) /* room for the auth tag */
#define RX_BATCH    64
#define HIST_US	    1000000 /* latency histogram: 1 us buckets up to 1 s */
#define STAMP_MAGIC 0x4c47u /* "LG": marks the payload layout */

struct stream {
	uint32_t ssrc;
	uint16_t seq;
	uint32_t rtp_ts;
	uint64_t next_send_ns; /* CLOCK_MONOTONIC */
	struct sockaddr_in dst;
	int tx_fd;
	srtp_t tx, rx; /* protect at the sender, unprotect at the receiver */
	uint64_t sent, counted_sent, received, counted_received, reordered;
	int32_t highest_seq; /* -1 before the first packet */
	bool have_transit;
	int64_t transit_send_ns, transit_rtpts_ns; /* previous transits (RFC 3550 6.4.1) */
	double jitter_send_ns, jitter_rtpts_ns;
};

static struct {
	const char *mode, *ng, *ng_ns, *a_ns, *b_ns, *a_addr, *b_addr, *direction, *suite, *prefix;
	unsigned calls, a_port, b_port;
	double seconds, warmup, linger, max_loss;
	bool srtp;
	const char *setup_only; /* write the legs to this file, keep the calls, send nothing */
	bool delete_only;
} opt = {
    .mode = "mediagate",
    .ng = "127.0.0.1:2223",
    .a_addr = "10.92.1.2",
    .b_addr = "10.92.2.2",
    .a_port = 4000,
    .b_port = 5000,
    .suite = "AES_CM_128_HMAC_SHA1_80",
    .prefix = "lg",
    .calls = 20,
    .seconds = 3,
    .warmup = 0.5,
    .linger = 0.5,
    .max_loss = -1,
};

static struct stream *streams; /* 2 per call: [2c] A -> B, [2c+1] B -> A */
static unsigned n_streams;
static int fd_a, fd_b, ng_fd, home_ns = -1;
static uint32_t *hist;
static uint64_t hist_over, lat_samples, bad_payload, unknown_ssrc, auth_fail, short_pkt;
static uint64_t late_sends, max_late_ns, send_fail;
static uint64_t warm_end_ns; /* packets sent before this are not counted */
static bool stopped_behind;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The send stamp is CLOCK_REALTIME because SO_TIMESTAMPNS reports that clock. */
static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Enters network namespace `name` (NULL: the one we started in). */
static void enter_ns(const char *name)
{
	if (home_ns < 0 && (home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		die("open /proc/self/ns/net: %s", strerror(errno));
	int fd = home_ns;
	if (name) {
		char path[256];
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			die("network namespace %s: %s", name, strerror(errno));
	}
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", name ? name : "(home)", strerror(errno));
	if (fd != home_ns)
		close(fd);
}

static int udp_socket_in(const char *ns, const char *ip, unsigned port)
{
	enter_ns(ns);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int sz = 16 << 20, on = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0)
		die("SO_TIMESTAMPNS: %s", strerror(errno));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		die("bad address %s", ip);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind %s:%u in %s: %s", ip, port, ns ? ns : "this namespace", strerror(errno));
	enter_ns(NULL);
	return fd;
}

/* --- ng: offer/answer/delete with mediagate --- */

static void ben_s(struct ben_buf *b, const char *s)
{
	ben_str(b, s);
}

/* "<cookie> d...e" with keys in bencode order; direction is a list when set. */
static size_t ng_request(char *out, size_t cap, const char *cookie, const char *command,
			 const char *call_id, const char *from_tag, const char *to_tag,
			 const char *sdp)
{
	struct ben_buf b = {.p = out, .len = 0, .cap = cap};
	ben_raw(&b, cookie, strlen(cookie));
	ben_raw(&b, " d", 2);
	ben_s(&b, "call-id");
	ben_s(&b, call_id);
	ben_s(&b, "command");
	ben_s(&b, command);
	if (opt.direction && sdp) {
		char first[64], *second;
		snprintf(first, sizeof(first), "%s", opt.direction);
		second = strchr(first, ',');
		if (!second)
			die("--direction wants two interface names: IF1,IF2");
		*second++ = '\0';
		ben_s(&b, "direction");
		ben_raw(&b, "l", 1);
		ben_s(&b, first);
		ben_s(&b, second);
		ben_raw(&b, "e", 1);
	}
	ben_s(&b, "from-tag");
	ben_s(&b, from_tag);
	if (sdp) {
		ben_s(&b, "sdp");
		ben_s(&b, sdp);
	}
	if (to_tag) {
		ben_s(&b, "to-tag");
		ben_s(&b, to_tag);
	}
	ben_raw(&b, "e", 1);
	if (b.overflow)
		die("ng request too long");
	return b.len;
}

static size_t ng_rpc(const char *req, size_t len, char *resp, size_t cap)
{
	const char *sp = memchr(req, ' ', len);
	size_t cookie_len = sp ? (size_t)(sp - req) + 1 : 0;
	for (int attempt = 0; attempt < 5; attempt++) {
		if (send(ng_fd, req, len, 0) < 0)
			die("ng send: %s", strerror(errno));
		struct pollfd p = {.fd = ng_fd, .events = POLLIN};
		while (poll(&p, 1, 2000) > 0) {
			ssize_t n = recv(ng_fd, resp, cap - 1, 0);
			if (n <= 0)
				break;
			if ((size_t)n > cookie_len && !memcmp(resp, req, cookie_len)) {
				resp[n] = '\0';
				return (size_t)n;
			}
		}
	}
	die("no ng answer from %s", opt.ng);
}

static size_t suite_key_len(const char *suite)
{
	if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_80") || !strcmp(suite, "AES_CM_128_HMAC_SHA1_32"))
		return 30;
	if (!strcmp(suite, "AEAD_AES_128_GCM"))
		return 28;
	if (!strcmp(suite, "AEAD_AES_256_GCM"))
		return 44;
	if (!strcmp(suite, "AES_256_CM_HMAC_SHA1_80") || !strcmp(suite, "AES_256_CM_HMAC_SHA1_32"))
		return 46;
	die("unknown suite %s", suite);
}

static srtp_t srtp_session(const uint8_t *key_salt, bool inbound)
{
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	const char *s = opt.suite;
	if (!strcmp(s, "AES_CM_128_HMAC_SHA1_80")) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	} else if (!strcmp(s, "AES_CM_128_HMAC_SHA1_32")) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	} else if (!strcmp(s, "AEAD_AES_128_GCM")) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
	} else if (!strcmp(s, "AEAD_AES_256_GCM")) {
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
	} else if (!strcmp(s, "AES_256_CM_HMAC_SHA1_80")) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtp);
	} else {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&pol.rtp);
	}
	pol.rtcp = pol.rtp;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = (unsigned char *)key_salt;
	pol.window_size = 1024;
	srtp_t ctx;
	if (srtp_create(&ctx, &pol) != srtp_err_status_ok)
		die("srtp_create failed (%s)", s);
	return ctx;
}

static void sdp_for(char *out, size_t cap, unsigned id, const char *ip, unsigned port, unsigned tag,
		    const uint8_t *key, size_t klen)
{
	if (opt.srtp)
		bench_sdp_srtp(out, cap, id, ip, port, tag, opt.suite, key, klen);
	else
		bench_sdp(out, cap, id, ip, port);
}

static void set_dst(struct sockaddr_in *sa, const char *addr, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		die("no usable c= address '%s' in mediagate's SDP", addr);
}

static void setup_call_mediagate(unsigned c)
{
	char cookie[48], call_id[64], ftag[32], ttag[32], sdp[1024], req[4096], resp[65536];
	char addr[64], why[256];
	uint8_t ka[MAX_KS], kb[MAX_KS], k_mb[64], k_ma[64];
	size_t klen = suite_key_len(opt.suite), got = 0;
	unsigned tag = 1, tag_a = 0;
	uint16_t port;
	struct stream *ab = &streams[2 * c], *ba = &streams[2 * c + 1];

	snprintf(call_id, sizeof(call_id), "%s-%u", opt.prefix, c);
	snprintf(ftag, sizeof(ftag), "a%u", c);
	snprintf(ttag, sizeof(ttag), "b%u", c);
	if (opt.srtp &&
	    (getrandom(ka, klen, 0) != (ssize_t)klen || getrandom(kb, klen, 0) != (ssize_t)klen))
		die("getrandom failed");

	sdp_for(sdp, sizeof(sdp), c, opt.a_addr, opt.a_port, 1, ka, klen);
	snprintf(cookie, sizeof(cookie), "%s-o%u", opt.prefix, c);
	size_t n = ng_request(req, sizeof(req), cookie, "offer", call_id, ftag, NULL, sdp);
	size_t r = ng_rpc(req, n, resp, sizeof(resp));
	if (ng_answer_media(resp, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		die("offer of call %u: %s", c, why);
	set_dst(&ba->dst, addr, port); /* B sends to the port offered to B */
	if (opt.srtp) {
		if (ng_sdp_crypto(resp, r, opt.suite, 0, &tag, k_mb, sizeof(k_mb), &got) < 0 ||
		    got != klen)
			die("offer of call %u: no %s a=crypto line offered to B", c, opt.suite);
		if (!memcmp(k_mb, ka, klen))
			die("offer of call %u: mediagate passed A's key through", c);
	}

	sdp_for(sdp, sizeof(sdp), c, opt.b_addr, opt.b_port, tag, kb, klen);
	snprintf(cookie, sizeof(cookie), "%s-a%u", opt.prefix, c);
	n = ng_request(req, sizeof(req), cookie, "answer", call_id, ftag, ttag, sdp);
	r = ng_rpc(req, n, resp, sizeof(resp));
	if (ng_answer_media(resp, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		die("answer of call %u: %s", c, why);
	set_dst(&ab->dst, addr, port);
	if (opt.srtp) {
		if (ng_sdp_crypto(resp, r, opt.suite, 1, &tag_a, k_ma, sizeof(k_ma), &got) < 0 ||
		    got != klen)
			die("answer of call %u: no %s a=crypto:1 line for A", c, opt.suite);
		if (!memcmp(k_ma, kb, klen) || !memcmp(k_ma, k_mb, klen))
			die("answer of call %u: A's key is not one of mediagate's own", c);
		ab->tx = srtp_session(ka, false);
		ab->rx = srtp_session(k_mb, true); /* B gets A's stream under mediagate's B key */
		ba->tx = srtp_session(kb, false);
		ba->rx = srtp_session(k_ma, true);
		explicit_bzero(ka, sizeof(ka));
		explicit_bzero(kb, sizeof(kb));
		explicit_bzero(k_ma, sizeof(k_ma));
		explicit_bzero(k_mb, sizeof(k_mb));
	}
}

static void setup_call_forward(unsigned c)
{
	struct stream *ab = &streams[2 * c], *ba = &streams[2 * c + 1];
	set_dst(&ab->dst, opt.b_addr, (uint16_t)opt.b_port);
	set_dst(&ba->dst, opt.a_addr, (uint16_t)opt.a_port);
	if (opt.srtp) {
		uint8_t k[MAX_KS];
		size_t klen = suite_key_len(opt.suite);
		for (unsigned i = 0; i < 2; i++) {
			if (getrandom(k, klen, 0) != (ssize_t)klen)
				die("getrandom failed");
			streams[2 * c + i].tx = srtp_session(k, false);
			streams[2 * c + i].rx = srtp_session(k, true);
		}
		explicit_bzero(k, sizeof(k));
	}
}

static void delete_calls(void)
{
	char cookie[48], call_id[64], ftag[32], req[1024], resp[65536];
	for (unsigned c = 0; c < opt.calls; c++) {
		snprintf(call_id, sizeof(call_id), "%s-%u", opt.prefix, c);
		snprintf(ftag, sizeof(ftag), "a%u", c);
		snprintf(cookie, sizeof(cookie), "%s-d%u", opt.prefix, c);
		size_t n =
		    ng_request(req, sizeof(req), cookie, "delete", call_id, ftag, NULL, NULL);
		ng_rpc(req, n, resp, sizeof(resp));
	}
}

/* One line per leg: what a packet generator must send so mediagate relays it. */
static void write_legs(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# side ssrc src_ip src_port dst_ip dst_port (calls %s-0..%u, srtp %s)\n",
		opt.prefix, opt.calls - 1, opt.srtp ? opt.suite : "off");
	for (unsigned i = 0; i < n_streams; i++) {
		char dst[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &streams[i].dst.sin_addr, dst, sizeof(dst));
		fprintf(f, "%c 0x%08x %s %u %s %u\n", (i & 1) ? 'B' : 'A', streams[i].ssrc,
			(i & 1) ? opt.b_addr : opt.a_addr, (i & 1) ? opt.b_port : opt.a_port, dst,
			ntohs(streams[i].dst.sin_port));
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	printf("%u calls set up, %u legs written to %s; delete them with --delete-only\n",
	       opt.calls, n_streams, path);
}

/* --- media --- */

/* Payload: [0..1] magic, [2..9] send time (ns, CLOCK_REALTIME, big endian), [10] 1 when
 * the packet counts (sent after the warm-up), [11..159] a pattern that is a function of
 * (ssrc, seq) so damage is seen. */
static void fill_payload(uint8_t *p, uint32_t ssrc, uint16_t seq, uint64_t stamp, bool counts)
{
	p[0] = STAMP_MAGIC >> 8;
	p[1] = STAMP_MAGIC & 0xff;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(stamp >> (56 - 8 * i));
	p[10] = counts;
	for (int i = 11; i < BENCH_PAYLOAD; i++)
		p[i] = (uint8_t)(ssrc * 7u + seq * 13u + (unsigned)i);
}

static bool check_payload(const uint8_t *p, uint32_t ssrc, uint16_t seq, uint64_t *stamp)
{
	if (p[0] != STAMP_MAGIC >> 8 || p[1] != (STAMP_MAGIC & 0xff) || p[10] > 1)
		return false;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | p[2 + i];
	for (int i = 11; i < BENCH_PAYLOAD; i++)
		if (p[i] != (uint8_t)(ssrc * 7u + seq * 13u + (unsigned)i))
			return false;
	*stamp = t;
	return true;
}

static void send_packet(struct stream *s, uint64_t now_mono)
{
	uint8_t pkt[SRTP_MAX];
	pkt[0] = 0x80;
	pkt[1] = 0; /* PCMU */
	pkt[2] = (uint8_t)(s->seq >> 8);
	pkt[3] = (uint8_t)s->seq;
	pkt[4] = (uint8_t)(s->rtp_ts >> 24);
	pkt[5] = (uint8_t)(s->rtp_ts >> 16);
	pkt[6] = (uint8_t)(s->rtp_ts >> 8);
	pkt[7] = (uint8_t)s->rtp_ts;
	pkt[8] = (uint8_t)(s->ssrc >> 24);
	pkt[9] = (uint8_t)(s->ssrc >> 16);
	pkt[10] = (uint8_t)(s->ssrc >> 8);
	pkt[11] = (uint8_t)s->ssrc;
	bool counts = now_mono >= warm_end_ns;
	fill_payload(pkt + BENCH_RTP_HDR, s->ssrc, s->seq, real_ns(), counts);
	int len = BENCH_RTP_LEN;
	if (opt.srtp && srtp_protect(s->tx, pkt, &len) != srtp_err_status_ok)
		die("srtp_protect failed");
	if (sendto(s->tx_fd, pkt, (size_t)len, 0, (struct sockaddr *)&s->dst, sizeof(s->dst)) !=
	    len) {
		send_fail++;
	} else {
		s->sent++;
		if (counts)
			s->counted_sent++;
	}
	s->seq++;
	s->rtp_ts += TS_STEP;
}

static void record_latency(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	uint64_t us = (uint64_t)ns / 1000;
	if (us >= HIST_US)
		hist_over++;
	else
		hist[us]++;
	lat_samples++;
}

static void receive_one(uint8_t *buf, int len, uint64_t rx_real, bool at_b)
{
	if (len < BENCH_RTP_HDR) {
		short_pkt++;
		return;
	}
	uint32_t ssrc =
	    (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
	uint32_t idx = ssrc - BENCH_SSRC_BASE;
	if (idx >= n_streams || (idx % 2 == 0) != at_b) { /* A's streams arrive at B */
		unknown_ssrc++;
		return;
	}
	struct stream *s = &streams[idx];
	if (opt.srtp && srtp_unprotect(s->rx, buf, &len) != srtp_err_status_ok) {
		auth_fail++;
		return;
	}
	uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
	uint32_t rtp_ts =
	    (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	uint64_t stamp;
	if (len != BENCH_RTP_LEN || !check_payload(buf + BENCH_RTP_HDR, ssrc, seq, &stamp)) {
		bad_payload++;
		return;
	}
	s->received++;
	if (s->highest_seq >= 0 && (int16_t)(seq - (uint16_t)s->highest_seq) <= 0)
		s->reordered++;
	else
		s->highest_seq = seq;
	/* warm-up packets (ARP, latching) are not part of the figures */
	if (!buf[BENCH_RTP_HDR + 10])
		return;
	s->counted_received++;
	int64_t lat = (int64_t)(rx_real - stamp);
	record_latency(lat);
	/* RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time. Once with the
	 * sender's real send time (the relay and network alone), once with the RTP
	 * timestamp as the RFC has it (what a phone sees, including the sender's lateness on
	 * this busy machine). */
	int64_t transit_send = lat;
	int64_t transit_rtpts = (int64_t)rx_real - (int64_t)((uint64_t)rtp_ts * 125000ull);
	if (s->have_transit) {
		double d1 = (double)llabs(transit_send - s->transit_send_ns);
		double d2 = (double)llabs(transit_rtpts - s->transit_rtpts_ns);
		s->jitter_send_ns += (d1 - s->jitter_send_ns) / 16.0;
		s->jitter_rtpts_ns += (d2 - s->jitter_rtpts_ns) / 16.0;
	}
	s->have_transit = true;
	s->transit_send_ns = transit_send;
	s->transit_rtpts_ns = transit_rtpts;
}

static unsigned receive_burst(int fd)
{
	static uint8_t bufs[RX_BATCH][SRTP_MAX + 64];
	static char ctrl[RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < RX_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_control = ctrl[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i]);
	}
	int n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	uint64_t fallback = real_ns();
	for (int i = 0; i < n; i++) {
		uint64_t rx = fallback;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
		     cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				rx = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			}
		}
		receive_one(bufs[i], (int)msgs[i].msg_len, rx, fd == fd_b);
	}
	return (unsigned)n;
}

static void drain(void)
{
	while (receive_burst(fd_a) + receive_burst(fd_b))
		;
}

static void wait_until(uint64_t deadline_mono)
{
	uint64_t now = mono_ns();
	if (deadline_mono <= now)
		return;
	struct pollfd p[2] = {{.fd = fd_a, .events = POLLIN}, {.fd = fd_b, .events = POLLIN}};
	uint64_t d = deadline_mono - now;
	struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull),
			      .tv_nsec = (long)(d % 1000000000ull)};
	ppoll(p, 2, &ts, NULL);
}

static uint64_t hist_quantile(double q)
{
	uint64_t want = (uint64_t)(q * (double)lat_samples), seen = 0;
	if (want >= lat_samples && lat_samples)
		want = lat_samples - 1;
	for (uint64_t us = 0; us < HIST_US; us++) {
		seen += hist[us];
		if (seen > want)
			return us;
	}
	return HIST_US;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen [--mode mediagate|forward] [--calls N] [--seconds S] [--srtp]\n"
		"  [--suite NAME] [--ng IP:PORT] [--ng-ns NS] [--a-ns NS] [--a-addr IP]\n"
		"  [--a-port P] [--b-ns NS] [--b-addr IP] [--b-port P] [--direction IF1,IF2]\n"
		"  [--warmup S] [--linger S] [--max-loss FRACTION] [--prefix CALLID_PREFIX]\n"
		"  [--setup-only FILE | --delete-only]\n"
		"--setup-only FILE: create the calls, write one line per leg (for pktgen pcaps,\n"
		"  tests/perf/pktgen/rtp-pcap.py) and leave them; --delete-only: delete them\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"mode", 1, 0, 'm'},	      {"calls", 1, 0, 'c'},
					   {"seconds", 1, 0, 's'},    {"srtp", 0, 0, 'S'},
					   {"suite", 1, 0, 'u'},      {"ng", 1, 0, 'n'},
					   {"ng-ns", 1, 0, 'N'},      {"a-ns", 1, 0, 'A'},
					   {"b-ns", 1, 0, 'B'},	      {"a-addr", 1, 0, 'x'},
					   {"b-addr", 1, 0, 'y'},     {"a-port", 1, 0, 'X'},
					   {"b-port", 1, 0, 'Y'},     {"direction", 1, 0, 'd'},
					   {"warmup", 1, 0, 'w'},     {"linger", 1, 0, 'l'},
					   {"max-loss", 1, 0, 'L'},   {"prefix", 1, 0, 'p'},
					   {"setup-only", 1, 0, 'O'}, {"delete-only", 0, 0, 'D'},
					   {"help", 0, 0, 'h'},	      {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'm':
			opt.mode = optarg;
			break;
		case 'c':
			opt.calls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt.seconds = atof(optarg);
			break;
		case 'S':
			opt.srtp = true;
			break;
		case 'u':
			opt.suite = optarg;
			break;
		case 'n':
			opt.ng = optarg;
			break;
		case 'N':
			opt.ng_ns = optarg;
			break;
		case 'A':
			opt.a_ns = optarg;
			break;
		case 'B':
			opt.b_ns = optarg;
			break;
		case 'x':
			opt.a_addr = optarg;
			break;
		case 'y':
			opt.b_addr = optarg;
			break;
		case 'X':
			opt.a_port = (unsigned)atoi(optarg);
			break;
		case 'Y':
			opt.b_port = (unsigned)atoi(optarg);
			break;
		case 'd':
			opt.direction = optarg;
			break;
		case 'w':
			opt.warmup = atof(optarg);
			break;
		case 'l':
			opt.linger = atof(optarg);
			break;
		case 'L':
			opt.max_loss = atof(optarg);
			break;
		case 'p':
			opt.prefix = optarg;
			break;
		case 'O':
			opt.setup_only = optarg;
			break;
		case 'D':
			opt.delete_only = true;
			break;
		default:
			usage();
		}
	}
	bool forward = !strcmp(opt.mode, "forward");
	if ((!forward && strcmp(opt.mode, "mediagate")) || opt.calls == 0 ||
	    (forward && (opt.setup_only || opt.delete_only)) || opt.calls > (0xffffffu / 2) ||
	    opt.seconds <= 0)
		usage();
	(void)suite_key_len(opt.suite);
	if (srtp_init() != srtp_err_status_ok)
		die("srtp_init failed");

	n_streams = 2 * opt.calls;
	streams = calloc(n_streams, sizeof(*streams));
	hist = calloc(HIST_US, sizeof(*hist));
	if (!streams || !hist)
		die("out of memory");
	bool send_media = !opt.setup_only && !opt.delete_only;
	if (send_media) { /* bound before the offer, so nothing mediagate sends is missed */
		fd_a = udp_socket_in(opt.a_ns, opt.a_addr, opt.a_port);
		fd_b = udp_socket_in(opt.b_ns, opt.b_addr, opt.b_port);
	}
	for (unsigned i = 0; i < n_streams; i++) {
		streams[i].ssrc = BENCH_SSRC_BASE + i;
		streams[i].tx_fd = (i & 1) ? fd_b : fd_a;
		streams[i].highest_seq = -1;
		uint16_t r;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			die("getrandom failed");
		streams[i].seq = r & 0x3fff; /* random start, far from the wrap */
		streams[i].rtp_ts = (uint32_t)r * 7919u;
	}

	double t_setup = bench_now();
	if (!forward) {
		struct sockaddr_in ng_addr;
		char host[64];
		snprintf(host, sizeof(host), "%s", opt.ng);
		char *colon = strrchr(host, ':');
		if (!colon)
			die("--ng wants IP:PORT");
		*colon = '\0';
		set_dst(&ng_addr, host, (uint16_t)atoi(colon + 1));
		enter_ns(opt.ng_ns);
		ng_fd = socket(AF_INET, SOCK_DGRAM, 0);
		enter_ns(NULL);
		if (ng_fd < 0 || connect(ng_fd, (struct sockaddr *)&ng_addr, sizeof(ng_addr)) < 0)
			die("ng socket: %s", strerror(errno));
		if (opt.delete_only) {
			delete_calls();
			printf("deleted %u calls %s-0..%u\n", opt.calls, opt.prefix, opt.calls - 1);
			return 0;
		}
		for (unsigned c = 0; c < opt.calls; c++)
			setup_call_mediagate(c);
		if (opt.setup_only) {
			write_legs(opt.setup_only);
			return 0;
		}
	} else {
		for (unsigned c = 0; c < opt.calls; c++)
			setup_call_forward(c);
	}
	double setup_s = bench_now() - t_setup;

	/* Every stream sends every 20 ms; stream i's phase is i/n of the period. */
	uint64_t t0 = mono_ns() + 10000000ull;
	for (unsigned i = 0; i < n_streams; i++)
		streams[i].next_send_ns = t0 + PERIOD_NS * i / n_streams;
	warm_end_ns = t0 + (uint64_t)(opt.warmup * 1e9);
	uint64_t end_ns = warm_end_ns + (uint64_t)(opt.seconds * 1e9);
	double cpu0 = cpu_seconds();
	unsigned cursor = 0; /* streams become due in index order, round after round */
	for (;;) {
		uint64_t now = mono_ns();
		struct stream *s = &streams[cursor];
		if (s->next_send_ns >= end_ns)
			break;
		/* a generator that cannot keep up (a busy host) stops on time rather than
		 * stretching the run: fewer packets per leg, reported as offered_pps_per_leg */
		if (now > end_ns + 2 * PERIOD_NS) {
			stopped_behind = true;
			break;
		}
		unsigned sent_now = 0;
		while (s->next_send_ns <= now && sent_now < 256) {
			uint64_t late = now - s->next_send_ns;
			if (late > 1000000ull)
				late_sends++;
			if (late > max_late_ns)
				max_late_ns = late;
			send_packet(s, s->next_send_ns);
			s->next_send_ns += PERIOD_NS;
			cursor = (cursor + 1) % n_streams;
			s = &streams[cursor];
			sent_now++;
		}
		drain();
		if (sent_now == 0)
			wait_until(s->next_send_ns);
	}
	uint64_t linger_end = mono_ns() + (uint64_t)(opt.linger * 1e9);
	while (mono_ns() < linger_end) {
		drain();
		wait_until(mono_ns() + 1000000ull);
	}
	drain();
	double gen_cpu = cpu_seconds() - cpu0;
	if (!forward)
		delete_calls();

	uint64_t sent = 0, counted_sent = 0, received = 0, counted = 0, reordered = 0;
	unsigned silent = 0;
	double jit_sum = 0, jit_max = 0, jit2_sum = 0, jit2_max = 0;
	for (unsigned i = 0; i < n_streams; i++) {
		struct stream *s = &streams[i];
		sent += s->sent;
		counted_sent += s->counted_sent;
		received += s->received;
		counted += s->counted_received;
		reordered += s->reordered;
		if (s->counted_sent && !s->counted_received)
			silent++;
		jit_sum += s->jitter_send_ns;
		jit2_sum += s->jitter_rtpts_ns;
		if (s->jitter_send_ns > jit_max)
			jit_max = s->jitter_send_ns;
		if (s->jitter_rtpts_ns > jit2_max)
			jit2_max = s->jitter_rtpts_ns;
	}
	uint64_t lost = counted_sent > counted ? counted_sent - counted : 0;
	double loss = counted_sent ? (double)lost / (double)counted_sent : 1.0;
	uint64_t med = hist_quantile(0.5), p99 = hist_quantile(0.99), mx = 0;
	for (uint64_t us = 0; us < HIST_US; us++)
		if (hist[us])
			mx = us;
	if (hist_over)
		mx = HIST_US;

	printf("loadgen: mode=%s calls=%u streams=%u srtp=%s setup %.2f s, sending %.1f s "
	       "(+%.1f s warm-up, not counted)\n",
	       opt.mode, opt.calls, n_streams, opt.srtp ? opt.suite : "off", setup_s, opt.seconds,
	       opt.warmup);
	printf("  counted: sent %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64
	       " (%.4f %%), reordered %" PRIu64 ", silent streams %u\n",
	       counted_sent, counted, lost, 100 * loss, reordered, silent);
	if (stopped_behind)
		printf(
		    "  the generator fell behind its schedule and stopped on time: %.1f packets/s "
		    "per leg offered instead of 50\n",
		    (double)counted_sent / opt.seconds / n_streams);
	printf("  added latency (send -> socket): median %" PRIu64 " us, p99 %" PRIu64
	       " us, max %" PRIu64 " us over %" PRIu64 " packets\n",
	       med, p99, mx, lat_samples);
	printf("  jitter (RFC 3550): mean %.3f ms, max %.3f ms; with RTP timestamps: mean %.3f "
	       "ms, max %.3f ms\n",
	       jit_sum / n_streams / 1e6, jit_max / 1e6, jit2_sum / n_streams / 1e6,
	       jit2_max / 1e6);
	printf("  bad payload %" PRIu64 ", SRTP unprotect failures %" PRIu64
	       ", unknown SSRC %" PRIu64 ", short %" PRIu64 ", send failures %" PRIu64
	       "; sends >1 ms late %" PRIu64 " (max %.2f ms); generator CPU %.2f s\n",
	       bad_payload, auth_fail, unknown_ssrc, short_pkt, send_fail, late_sends,
	       (double)max_late_ns / 1e6, gen_cpu);
	printf("RESULT mode=%s srtp=%s calls=%u seconds=%.1f sent=%" PRIu64 " received=%" PRIu64
	       " all_sent=%" PRIu64 " all_received=%" PRIu64 " lost=%" PRIu64
	       " loss=%.6f reordered=%" PRIu64 " silent=%u lat_median_us=%" PRIu64
	       " lat_p99_us=%" PRIu64 " lat_max_us=%" PRIu64 " jitter_ms=%.4f jitter_max_ms=%.4f"
	       " jitter_rtpts_ms=%.4f bad=%" PRIu64 " auth_fail=%" PRIu64 " unknown=%" PRIu64
	       " send_fail=%" PRIu64 " late_sends=%" PRIu64 " max_late_ms=%.3f gen_cpu_s=%.3f"
	       " setup_s=%.3f offered_pps_per_leg=%.2f stopped_behind=%d\n",
	       opt.mode, opt.srtp ? opt.suite : "off", opt.calls, opt.seconds, counted_sent,
	       counted, sent, received, lost, loss, reordered, silent, med, p99, mx,
	       jit_sum / n_streams / 1e6, jit_max / 1e6, jit2_sum / n_streams / 1e6, bad_payload,
	       auth_fail, unknown_ssrc, send_fail, late_sends, (double)max_late_ns / 1e6, gen_cpu,
	       setup_s, (double)counted_sent / opt.seconds / n_streams, stopped_behind);
	if (bad_payload || auth_fail || unknown_ssrc || counted_sent == 0)
		return 2;
	if (opt.max_loss >= 0 && loss > opt.max_loss)
		return 2;
	return 0;
}
