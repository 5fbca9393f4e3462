/* rtpengine_load: the reference side of the relay benchmark. Drives Debian's rtpengine
 * daemon (userspace forwarding) the way relay_bench drives mediagate:
 *
 * - creates N calls through ng offer + answer (bencode over UDP) with real SDP naming
 *   two loopback endpoints, A (offerer) and B (answerer), and reads the media ports
 *   rtpengine chose from the rewritten SDPs;
 * - pinned to one core, sends 172-byte G.711 RTP for both directions of every call in
 *   a shuffled round-robin at a fixed total rate with sendmmsg(), from A's and B's
 *   sockets, and receives the relayed packets on the same sockets with recvmmsg(),
 *   checking that each arrives from the port the other side was told to use;
 * - per repetition, measures relayed packets per second and rtpengine's CPU time (the
 *   sum of /proc/<pid>/task/<tid>/schedstat run times, which includes the softirq work
 *   done in its context; utime+stime is printed as a cross-check), giving relayed
 *   packets per rtpengine core-second, and the loss;
 * - deletes its calls at the end.
 * - --srtp (P2, issue 4): SRTP-to-SRTP re-keying. A offers RTP/SAVP with
 *   AES_CM_128_HMAC_SHA1_80 and its own key. rtpengine offers B that suite with A's key
 *   passed through (and would then forward A's packets without decrypting: its
 *   must_recrypt test compares the keys), plus lines for other suites with keys of its
 *   own; B answers AES_CM_128_HMAC_SHA1_32 with its key, which makes rtpengine re-key both
 *   ways: it answers A with a fresh AES_CM_128_HMAC_SHA1_80 key of its own (checked).
 *   Every packet is protected by the sender with libsrtp2 and everything that comes back
 *   is unprotected with rtpengine's key for that leg (libsrtp2) and compared.
 *
 * Output: human-readable lines plus "REP rtpengine ..." lines for run.sh. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#define BENCH_PROG "rtpengine_load"
#include "bench_util.h"

#define A_SUITE "AES_CM_128_HMAC_SHA1_80"
#define B_SUITE "AES_CM_128_HMAC_SHA1_32"
#define KS_LEN	30 /* AES-128 key || 112-bit salt */

#define BATCH 64

struct stream {
	struct sockaddr_in dst; /* rtpengine's port for this direction */
	uint16_t expect_src;	/* the port rtpengine relays the opposite direction from */
	uint32_t peer;
	uint64_t sent, received;
	uint8_t hdr[BENCH_RTP_HDR];
	/* --srtp: tx protects what this stream's endpoint sends (its own key); rx checks
	 * what its peer receives from rtpengine (rtpengine's key for the peer's leg) */
	srtp_t tx, rx;
	uint16_t rx_len; /* expected length at the peer (its suite's tag) */
};

static struct {
	char ng[64], a[64], b[64], prefix[32];
	unsigned calls, reps;
	double rate, seconds, warmup;
	int pid, cpu;
	bool srtp;
} opt = {.ng = "127.0.0.1:2223",
	 .a = "127.0.0.2:4000",
	 .b = "127.0.0.3:5000",
	 .prefix = "rtpe-load",
	 .calls = 1000,
	 .reps = 1,
	 .rate = 80000,
	 .seconds = 5,
	 .warmup = 1,
	 .pid = 0,
	 .cpu = 0};

static struct stream *streams;
static uint32_t n_streams, *order, cursor;
static uint8_t payload[BENCH_PAYLOAD];
static int sock_a, sock_b, ng_fd;
static uint64_t g_sent, g_received, g_send_fail, g_wrong, g_auth_fail, g_passthru_key;

static void parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	snprintf(host, sizeof(host), "%s", s);
	char *c = strrchr(host, ':');
	if (!c)
		bench_die("address %s: expected ip:port", s);
	*c = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		bench_die("address %s: bad IPv4", s);
}

static int udp_socket(const struct sockaddr_in *bind_to)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	int sz = 32 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind_to && bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)) < 0)
		bench_die("bind %s:%u: %s", inet_ntoa(bind_to->sin_addr), ntohs(bind_to->sin_port),
			  strerror(errno));
	return fd;
}

/* One ng request/response with retransmission (same cookie) on timeout. */
static size_t ng_rpc(const char *req, size_t len, char *resp, size_t cap)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		if (send(ng_fd, req, len, 0) < 0)
			bench_die("ng send: %s", strerror(errno));
		struct pollfd p = {.fd = ng_fd, .events = POLLIN};
		while (poll(&p, 1, 2000) > 0) {
			ssize_t n = recv(ng_fd, resp, cap - 1, 0);
			if (n <= 0)
				break;
			const char *sp = memchr(req, ' ', len);
			if (sp && (size_t)n > (size_t)(sp - req) &&
			    !memcmp(resp, req, (size_t)(sp - req + 1))) {
				resp[n] = '\0';
				return (size_t)n;
			}
			/* a late answer to an earlier cookie: keep waiting */
		}
	}
	bench_die("no ng answer from %s (is rtpengine running?)", opt.ng);
}

/* A libsrtp2 session for one stream: suite by a=crypto name, key||salt, direction. */
static srtp_t srtp_session(const char *suite, const uint8_t *key_salt, bool inbound)
{
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_32"))
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	else
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = (unsigned char *)key_salt;
	pol.window_size = 128;
	srtp_t s;
	if (srtp_create(&s, &pol) != srtp_err_status_ok)
		bench_die("srtp_create failed");
	return s;
}

static void setup_call(unsigned c, const struct sockaddr_in *a, const struct sockaddr_in *b,
		       const struct sockaddr_in *ng_addr)
{
	char cookie[48], call_id[64], ftag[32], ttag[32], sdp[1024], req[4096], resp[65536];
	char addr[64], why[256], ip[32];
	uint16_t port;
	snprintf(call_id, sizeof(call_id), "%s-%u", opt.prefix, c);
	snprintf(ftag, sizeof(ftag), "a%u", c);
	snprintf(ttag, sizeof(ttag), "b%u", c);

	uint8_t ka[KS_LEN], kb[KS_LEN], k_rb[64], k_ra[64], k_pass[64];
	unsigned tag = 0, tag1 = 0;
	size_t kl = 0;
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	if (opt.srtp) {
		if (getrandom(ka, KS_LEN, 0) != KS_LEN || getrandom(kb, KS_LEN, 0) != KS_LEN)
			bench_die("getrandom failed");
		bench_sdp_srtp(sdp, sizeof(sdp), c, ip, ntohs(a->sin_port), 1, A_SUITE, ka, KS_LEN);
	} else {
		bench_sdp(sdp, sizeof(sdp), c, ip, ntohs(a->sin_port));
	}
	snprintf(cookie, sizeof(cookie), "%s-o%u", opt.prefix, c);
	size_t n = ben_request(req, sizeof(req), cookie, "call-id", call_id, "command", "offer",
			       "from-tag", ftag, "sdp", sdp, NULL);
	size_t r = ng_rpc(req, n, resp, sizeof(resp));
	if (ng_answer_media(resp, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("offer %u: %s", c, why);
	struct stream *sa = &streams[2 * c], *sb = &streams[2 * c + 1];
	/* B sends to the port in the rewritten offer, at the address it names */
	sb->dst.sin_family = AF_INET;
	sb->dst.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sb->dst.sin_addr) != 1)
		sb->dst.sin_addr = ng_addr->sin_addr;
	if (opt.srtp) {
		if (ng_sdp_crypto(resp, r, B_SUITE, 0, &tag, k_rb, sizeof(k_rb), &kl) < 0 ||
		    kl != KS_LEN)
			bench_die("offer %u: rtpengine offered B no usable %s line", c, B_SUITE);
		if (ng_sdp_crypto(resp, r, A_SUITE, 0, &tag1, k_pass, sizeof(k_pass), &kl) == 0 &&
		    kl == KS_LEN && !memcmp(k_pass, ka, KS_LEN))
			g_passthru_key++; /* A's key offered to B as is (see the top) */
		if (!memcmp(k_rb, ka, KS_LEN))
			bench_die("offer %u: rtpengine's %s key is A's", c, B_SUITE);
	}

	inet_ntop(AF_INET, &b->sin_addr, ip, sizeof(ip));
	if (opt.srtp)
		bench_sdp_srtp(sdp, sizeof(sdp), c, ip, ntohs(b->sin_port), tag, B_SUITE, kb,
			       KS_LEN);
	else
		bench_sdp(sdp, sizeof(sdp), c, ip, ntohs(b->sin_port));
	snprintf(cookie, sizeof(cookie), "%s-a%u", opt.prefix, c);
	n = ben_request(req, sizeof(req), cookie, "call-id", call_id, "command", "answer",
			"from-tag", ftag, "sdp", sdp, "to-tag", ttag, NULL);
	r = ng_rpc(req, n, resp, sizeof(resp));
	if (ng_answer_media(resp, r, addr, sizeof(addr), &port, why, sizeof(why)) < 0)
		bench_die("answer %u: %s", c, why);
	sa->dst.sin_family = AF_INET;
	sa->dst.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sa->dst.sin_addr) != 1)
		sa->dst.sin_addr = ng_addr->sin_addr;
	/* What A sends arrives at B from the port B sends to, and vice versa. */
	sa->expect_src = ntohs(sb->dst.sin_port);
	sb->expect_src = ntohs(sa->dst.sin_port);
	sa->peer = 2 * c + 1;
	sb->peer = 2 * c;
	if (opt.srtp) {
		if (ng_sdp_crypto(resp, r, A_SUITE, 1, &tag1, k_ra, sizeof(k_ra), &kl) < 0 ||
		    kl != KS_LEN)
			bench_die("answer %u: rtpengine answered A without a %s line for tag 1", c,
				  A_SUITE);
		if (!memcmp(k_ra, kb, KS_LEN) || !memcmp(k_ra, ka, KS_LEN))
			bench_die("answer %u: rtpengine did not give A a key of its own", c);
		sa->tx = srtp_session(A_SUITE, ka, false);  /* A -> rtpengine */
		sb->tx = srtp_session(B_SUITE, kb, false);  /* B -> rtpengine */
		sa->rx = srtp_session(B_SUITE, k_rb, true); /* rtpengine -> B (A's packets) */
		sb->rx = srtp_session(A_SUITE, k_ra, true); /* rtpengine -> A (B's packets) */
		sa->rx_len = BENCH_RTP_LEN + 4;
		sb->rx_len = BENCH_RTP_LEN + 10;
		explicit_bzero(ka, sizeof(ka));
		explicit_bzero(kb, sizeof(kb));
		explicit_bzero(k_ra, sizeof(k_ra));
		explicit_bzero(k_rb, sizeof(k_rb));
	}
}

static void delete_calls(void)
{
	char cookie[48], call_id[64], ftag[32], req[1024], resp[65536];
	for (unsigned c = 0; c < opt.calls; c++) {
		snprintf(call_id, sizeof(call_id), "%s-%u", opt.prefix, c);
		snprintf(ftag, sizeof(ftag), "a%u", c);
		snprintf(cookie, sizeof(cookie), "%s-d%u", opt.prefix, c);
		/* delete-delay 0: free the ports now, so the next run can reuse them */
		size_t n = ben_request(req, sizeof(req), cookie, "call-id", call_id, "command",
				       "delete", "delete-delay", "0", "from-tag", ftag, NULL);
		ng_rpc(req, n, resp, sizeof(resp));
	}
}

static void stream_init(uint32_t i)
{
	uint8_t *h = streams[i].hdr;
	h[0] = 0x80;
	h[1] = 0;
	wr16(h + 2, (uint16_t)(i * 7));
	wr32(h + 4, i * 1000);
	wr32(h + 8, BENCH_SSRC_BASE + i);
}

static inline void stream_advance(struct stream *s)
{
	uint8_t *h = s->hdr;
	wr16(h + 2, (uint16_t)(rd16(h + 2) + 1));
	wr32(h + 4, rd32(h + 4) + 160);
}

/* Per-socket send batch. */
struct batch {
	int fd;
	unsigned n;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH][2];
	uint8_t hdr[BATCH][BENCH_RTP_HDR];
	uint8_t pkt[BATCH][BENCH_RTP_LEN + 32]; /* --srtp: the protected packet */
};

static void flush(struct batch *b)
{
	unsigned done = 0;
	while (done < b->n) {
		int r = sendmmsg(b->fd, b->msg + done, b->n - done, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				g_send_fail += b->n - done; /* counted as sent and lost */
				break;
			}
			if (errno == EINTR)
				continue;
			bench_die("sendmmsg: %s", strerror(errno));
		}
		done += (unsigned)r;
	}
	b->n = 0;
}

static void queue_packet(struct batch *b, struct stream *s)
{
	unsigned k = b->n++;
	if (opt.srtp) {
		int len = BENCH_RTP_LEN;
		memcpy(b->pkt[k], s->hdr, BENCH_RTP_HDR);
		memcpy(b->pkt[k] + BENCH_RTP_HDR, payload, BENCH_PAYLOAD);
		if (srtp_protect(s->tx, b->pkt[k], &len) != srtp_err_status_ok)
			bench_die("srtp_protect failed");
		b->iov[k][0] = (struct iovec){.iov_base = b->pkt[k], .iov_len = (size_t)len};
	} else {
		memcpy(b->hdr[k], s->hdr, BENCH_RTP_HDR);
		b->iov[k][0] = (struct iovec){.iov_base = b->hdr[k], .iov_len = BENCH_RTP_HDR};
		b->iov[k][1] = (struct iovec){.iov_base = payload, .iov_len = BENCH_PAYLOAD};
	}
	b->msg[k].msg_hdr = (struct msghdr){.msg_name = &s->dst,
					    .msg_namelen = sizeof(s->dst),
					    .msg_iov = b->iov[k],
					    .msg_iovlen = opt.srtp ? 1 : 2};
	stream_advance(s);
	s->sent++;
	g_sent++;
	if (b->n == BATCH)
		flush(b);
}

static struct batch batch_a, batch_b;

static void send_n(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t idx = bench_next_stream(order, n_streams, &cursor);
		queue_packet(idx & 1 ? &batch_b : &batch_a, &streams[idx]);
	}
	flush(&batch_a);
	flush(&batch_b);
}

static unsigned receive(int fd)
{
	static uint8_t buf[BATCH][2048];
	static struct sockaddr_in from[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msg[BATCH];
	unsigned total = 0;
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
			msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
							 .msg_namelen = sizeof(from[i]),
							 .msg_iov = &iov[i],
							 .msg_iovlen = 1};
		}
		int r = recvmmsg(fd, msg, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			break;
		for (int i = 0; i < r; i++) {
			uint8_t *p = buf[i];
			uint32_t idx = ((uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
					(uint32_t)p[10] << 8 | p[11]) -
				       BENCH_SSRC_BASE;
			unsigned len = msg[i].msg_len;
			if (opt.srtp && idx < n_streams) {
				/* re-keyed: rtpengine's key for this leg, and the plaintext */
				int l = (int)len;
				if (len != streams[idx].rx_len ||
				    !memcmp(p + BENCH_RTP_HDR, payload, BENCH_PAYLOAD) ||
				    srtp_unprotect(streams[idx].rx, p, &l) != srtp_err_status_ok) {
					g_auth_fail++;
					g_wrong++;
					continue;
				}
				len = (unsigned)l;
			}
			if (len != BENCH_RTP_LEN || idx >= n_streams ||
			    ntohs(from[i].sin_port) != streams[idx].expect_src ||
			    memcmp(p + BENCH_RTP_HDR, payload, BENCH_PAYLOAD)) {
				g_wrong++;
				continue;
			}
			streams[idx].received++;
		}
		total += (unsigned)r;
		g_received += (unsigned)r;
		if (r < BATCH)
			break;
	}
	return total;
}

/* rtpengine's CPU time: schedstat run time over all its threads (ns), and utime+stime
 * (clock ticks) as a cross-check. */
static void rtpengine_cpu(uint64_t *run_ns, uint64_t *wait_ns, double *ticks_s)
{
	char path[320];
	*run_ns = 0;
	*wait_ns = 0;
	*ticks_s = 0;
	if (opt.pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", opt.pid);
	DIR *d = opendir(path);
	if (!d)
		bench_die("rtpengine pid %d: %s", opt.pid, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", opt.pid, e->d_name);
		uint64_t run, wait;
		if (bench_schedstat(path, &run, &wait) == 0) {
			*run_ns += run;
			*wait_ns += wait;
		}
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/stat", opt.pid);
	FILE *f = fopen(path, "r");
	if (f) {
		char line[2048];
		if (fgets(line, sizeof(line), f)) {
			char *p = strrchr(line, ')');
			unsigned long ut = 0, st = 0;
			/* fields after the comm: state(3) ... utime(14) stime(15) */
			if (p &&
			    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				   &ut, &st) == 2)
				*ticks_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
}

/* Sends at opt.rate until `until` and receives everything that comes back. */
static void run_until(double t0, double *sent_base, double until)
{
	for (;;) {
		double now = bench_now();
		if (now >= until)
			break;
		double target = (now - t0) * opt.rate;
		if (target > *sent_base) {
			uint64_t due = (uint64_t)(target - *sent_base);
			if (due > 4096)
				due = 4096;
			send_n(due);
			*sent_base += (double)due;
		}
		receive(sock_a);
		receive(sock_b);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rtpengine_load [--ng IP:PORT] [--calls N] [--rate PPS] [--seconds S]\n"
		"       [--warmup S] [--reps R] [--pid RTPENGINE_PID] [--cpu N] [--a IP:PORT]\n"
		"       [--b IP:PORT] [--prefix CALLID_PREFIX] [--srtp]\n"
		"--srtp: SRTP-to-SRTP re-keying (A " A_SUITE ", B " B_SUITE "), libsrtp2 peers\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"ng", required_argument, NULL, 'n'},
	    {"calls", required_argument, NULL, 'c'},
	    {"rate", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"reps", required_argument, NULL, 'R'},
	    {"pid", required_argument, NULL, 'p'},
	    {"cpu", required_argument, NULL, 'C'},
	    {"a", required_argument, NULL, 'A'},
	    {"b", required_argument, NULL, 'B'},
	    {"prefix", required_argument, NULL, 'P'},
	    {"srtp", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			snprintf(opt.ng, sizeof(opt.ng), "%s", optarg);
			break;
		case 'c':
			opt.calls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opt.rate = strtod(optarg, NULL);
			break;
		case 's':
			opt.seconds = strtod(optarg, NULL);
			break;
		case 'w':
			opt.warmup = strtod(optarg, NULL);
			break;
		case 'R':
			opt.reps = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			opt.pid = atoi(optarg);
			break;
		case 'C':
			opt.cpu = atoi(optarg);
			break;
		case 'A':
			snprintf(opt.a, sizeof(opt.a), "%s", optarg);
			break;
		case 'B':
			snprintf(opt.b, sizeof(opt.b), "%s", optarg);
			break;
		case 'P':
			snprintf(opt.prefix, sizeof(opt.prefix), "%s", optarg);
			break;
		case 'S':
			opt.srtp = true;
			break;
		default:
			usage();
		}
	}
	if (!opt.calls || opt.calls > 100000 || opt.rate <= 0 || opt.seconds <= 0 || !opt.reps ||
	    opt.reps > 256)
		usage();
	if (opt.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			bench_die("cannot pin to cpu %d: %s", opt.cpu, strerror(errno));
	}
	for (int i = 0; i < BENCH_PAYLOAD; i++)
		payload[i] = (uint8_t)(0xd5 ^ (i * 37));
	if (opt.srtp && srtp_init() != srtp_err_status_ok)
		bench_die("srtp_init failed");

	struct sockaddr_in ng_addr, a, b;
	parse_addr(opt.ng, &ng_addr);
	parse_addr(opt.a, &a);
	parse_addr(opt.b, &b);
	ng_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (ng_fd < 0 || connect(ng_fd, (struct sockaddr *)&ng_addr, sizeof(ng_addr)) < 0)
		bench_die("ng socket: %s", strerror(errno));
	sock_a = udp_socket(&a);
	sock_b = udp_socket(&b);
	batch_a.fd = sock_a;
	batch_b.fd = sock_b;

	n_streams = 2 * opt.calls;
	streams = calloc(n_streams, sizeof(*streams));
	order = malloc(sizeof(*order) * n_streams);
	if (!streams || !order)
		bench_die("out of memory");
	double t = bench_now();
	for (unsigned c = 0; c < opt.calls; c++)
		setup_call(c, &a, &b, &ng_addr);
	t = bench_now() - t;
	for (uint32_t i = 0; i < n_streams; i++)
		stream_init(i);
	bench_shuffle(order, n_streams);
	printf("rtpengine_load: %u calls created through ng (%s) in %.2f s; sending %.0f pps "
	       "(%.1f pps per stream) from %s and %s, pinned to cpu %d\n",
	       opt.calls, opt.ng, t, opt.rate, opt.rate / n_streams, opt.a, opt.b, opt.cpu);
	if (opt.srtp)
		printf("rtpengine_load: SRTP-to-SRTP (libsrtp2 %s): A %s, B %s; rtpengine offered "
		       "B A's own key for %s in %" PRIu64 " of %u calls, answered A with a fresh "
		       "key in all\n",
		       srtp_get_version_string(), A_SUITE, B_SUITE, A_SUITE, g_passthru_key,
		       opt.calls);
	fflush(stdout);

	double t0 = bench_now(), sent_base = 0;
	run_until(t0, &sent_base, t0 + opt.warmup);
	double per_core[256], pps[256], loss[256];
	for (unsigned r = 0; r < opt.reps; r++) {
		uint64_t run0, run1, wait0, wait1;
		double tk0, tk1;
		uint64_t sent0 = g_sent, recv0 = g_received;
		rtpengine_cpu(&run0, &wait0, &tk0);
		double w0 = bench_now();
		run_until(t0, &sent_base, w0 + opt.seconds);
		double w1 = bench_now();
		rtpengine_cpu(&run1, &wait1, &tk1);
		uint64_t sent = g_sent - sent0, recvd = g_received - recv0;
		double secs = w1 - w0, cpu = (double)(run1 - run0) * 1e-9;
		pps[r] = (double)recvd / secs;
		per_core[r] = cpu > 0 ? (double)recvd / cpu : 0;
		loss[r] = sent ? 1.0 - (double)recvd / (double)sent : 0;
		if (loss[r] < 0)
			loss[r] = 0;
		printf(
		    "rep %u: sent %" PRIu64 ", relayed back %" PRIu64 " in %.3f s: %.0f pps; "
		    "rtpengine CPU %.3f s (utime+stime %.2f s) = %.0f%% of a core; %.0f pps per "
		    "rtpengine core-second; loss %.3f%%; rtpengine runnable but preempted %.1f%% "
		    "of the time\n",
		    r + 1, sent, recvd, secs, pps[r], cpu, tk1 - tk0, 100 * cpu / secs, per_core[r],
		    100 * loss[r], 100 * (double)(wait1 - wait0) * 1e-9 / secs);
		printf("REP rtpengine calls=%u rate=%.0f relayed_pps=%.0f cpu_s=%.4f cpu_util=%.4f "
		       "per_core_pps=%.0f loss=%.5f preempted=%.4f mode=%s\n",
		       opt.calls, opt.rate, pps[r], cpu, cpu / secs, per_core[r], loss[r],
		       (double)(wait1 - wait0) * 1e-9 / secs, opt.srtp ? "srtp" : "plain");
		fflush(stdout);
	}
	/* Stop sending; collect what is still in flight. */
	double end = bench_now() + 0.3;
	while (bench_now() < end) {
		receive(sock_a);
		receive(sock_b);
		usleep(1000);
	}
	uint64_t silent = 0, smin = UINT64_MAX, smax = 0;
	for (uint32_t i = 0; i < n_streams; i++) {
		uint64_t d = streams[i].received;
		if (d == 0)
			silent++;
		if (d < smin)
			smin = d;
		if (d > smax)
			smax = d;
	}
	printf("totals: sent %" PRIu64 " (send failures %" PRIu64 "), relayed back %" PRIu64
	       " (loss %.3f%%), wrong %" PRIu64 " (of which SRTP unprotect failed %" PRIu64
	       "); per stream received min %" PRIu64 " max %" PRIu64 ", silent streams %" PRIu64
	       "\n",
	       g_sent, g_send_fail, g_received,
	       g_sent ? 100.0 * (1.0 - (double)g_received / (double)g_sent) : 0, g_wrong,
	       g_auth_fail, smin, smax, silent);
	double pmin, pmax;
	double med = bench_median(per_core, opt.reps, &pmin, &pmax);
	double medp = bench_median(pps, opt.reps, NULL, NULL);
	double medl = bench_median(loss, opt.reps, NULL, NULL);
	printf("SUMMARY rtpengine calls=%u rate=%.0f per_core_pps=%.0f min=%.0f max=%.0f "
	       "relayed_pps=%.0f loss=%.5f wrong=%" PRIu64 " silent=%" PRIu64 " mode=%s\n",
	       opt.calls, opt.rate, med, pmin, pmax, medp, medl, g_wrong, silent,
	       opt.srtp ? "srtp" : "plain");
	delete_calls();
	return g_wrong ? 1 : 0;
}
