/* Small helpers shared by relay_bench (mediagate, in-process) and rtpengine_load
 * (Debian's rtpengine over UDP): fatal errors, big-endian fields, the shuffled stream order
 * and its round-robin, ng request writing, a minimal bencode reader for the answers, SDP
 * port extraction, an independent Internet checksum, schedstat reading and medians.
 * The includer defines BENCH_PROG (its name, the prefix of bench_die's message).
 *
 * Kept independent of lib/ on purpose: the benchmark checks mediagate's output with
 * its own code, not with the code under test. */
#ifndef RELAY_BENCH_UTIL_H
#define RELAY_BENCH_UTIL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_PROG
#error "define BENCH_PROG (the program name) before including bench_util.h"
#endif

/* G.711 at 20 ms: 12-byte RTP header + 160 bytes of payload. */
#define BENCH_RTP_HDR	12
#define BENCH_PAYLOAD	160
#define BENCH_RTP_LEN	(BENCH_RTP_HDR + BENCH_PAYLOAD)
#define BENCH_SSRC_BASE 0x5a000000u

static inline void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, BENCH_PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* Network byte order fields. */
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- stream order: both generators visit the streams in the same shuffled round-robin --- */

/* order[0..n) = a fixed-seed Fisher-Yates permutation of 0..n-1 (same on every run). */
static inline void bench_shuffle(uint32_t *order, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	srand(12345);
	for (uint32_t i = n ? n - 1 : 0; i > 0; i--) {
		uint32_t j = (uint32_t)(((uint64_t)rand() * (i + 1)) / ((uint64_t)RAND_MAX + 1));
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* The next stream of the round-robin over order[0..n). */
static inline uint32_t bench_next_stream(const uint32_t *order, uint32_t n, uint32_t *cursor)
{
	uint32_t s = order[*cursor];
	if (++*cursor == n)
		*cursor = 0;
	return s;
}

/* A thread's /proc/.../schedstat: ns on the CPU and ns runnable but waiting. 0 or -1. */
static inline int bench_schedstat(const char *path, uint64_t *run_ns, uint64_t *wait_ns)
{
	FILE *f = fopen(path, "r");
	*run_ns = *wait_ns = 0;
	if (!f)
		return -1;
	int rc = fscanf(f, "%" SCNu64 " %" SCNu64, run_ns, wait_ns) == 2 ? 0 : -1;
	if (rc)
		*run_ns = *wait_ns = 0;
	fclose(f);
	return rc;
}

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- bencode writing: just what offer/answer/delete need --- */

struct ben_buf {
	char *p;
	size_t len, cap;
	int overflow;
};

static inline void ben_raw(struct ben_buf *b, const char *s, size_t n)
{
	if (b->len + n >= b->cap) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void ben_str(struct ben_buf *b, const char *s)
{
	char hdr[24];
	size_t n = strlen(s);
	int h = snprintf(hdr, sizeof(hdr), "%zu:", n);
	ben_raw(b, hdr, (size_t)h);
	ben_raw(b, s, n);
}

/* Writes "<cookie> d<key><value>...e" from NULL-terminated key/value pairs (keys must
 * be given in sorted order, as bencode wants). */
static inline size_t ben_request(char *out, size_t cap, const char *cookie, ...)
{
	struct ben_buf b = {.p = out, .len = 0, .cap = cap, .overflow = 0};
	ben_raw(&b, cookie, strlen(cookie));
	ben_raw(&b, " d", 2);
	va_list ap;
	va_start(ap, cookie);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		ben_str(&b, k);
		ben_str(&b, v);
	}
	va_end(ap);
	ben_raw(&b, "e", 1);
	return b.overflow ? 0 : b.len;
}

/* --- bencode reading: find a string value by key in the top-level dictionary --- */

/* Skips one bencoded value at *p (bounded by end); returns 0 or -1. */
static inline int ben_skip(const char **p, const char *end, int depth)
{
	if (*p >= end || depth > 32)
		return -1;
	char c = **p;
	if (c == 'i') {
		const char *e = memchr(*p, 'e', (size_t)(end - *p));
		if (!e)
			return -1;
		*p = e + 1;
		return 0;
	}
	if (c == 'l' || c == 'd') {
		(*p)++;
		while (*p < end && **p != 'e')
			if (ben_skip(p, end, depth + 1) < 0)
				return -1;
		if (*p >= end)
			return -1;
		(*p)++;
		return 0;
	}
	if (c >= '0' && c <= '9') {
		size_t n = 0;
		while (*p < end && **p >= '0' && **p <= '9')
			n = n * 10 + (size_t)(*(*p)++ - '0');
		if (*p >= end || **p != ':' || (size_t)(end - *p - 1) < n)
			return -1;
		*p += 1 + n;
		return 0;
	}
	return -1;
}

/* Finds key `key` in the dictionary that follows the cookie; points val and vlen at its
 * string value. Returns 0, or -1 when absent or not a string. */
static inline int ben_dict_str(const char *msg, size_t len, const char *key, const char **val,
			       size_t *vlen)
{
	const char *p = memchr(msg, ' ', len), *end = msg + len;
	if (!p || ++p >= end || *p != 'd')
		return -1;
	p++;
	size_t klen = strlen(key);
	while (p < end && *p != 'e') {
		const char *k = p;
		if (ben_skip(&p, end, 0) < 0)
			return -1;
		const char *colon = memchr(k, ':', (size_t)(p - k));
		int match =
		    colon && (size_t)(p - colon - 1) == klen && !memcmp(colon + 1, key, klen);
		const char *v = p;
		if (ben_skip(&p, end, 0) < 0)
			return -1;
		if (match) {
			if (*v < '0' || *v > '9')
				return -1;
			const char *vc = memchr(v, ':', (size_t)(p - v));
			*val = vc + 1;
			*vlen = (size_t)(p - vc - 1);
			return 0;
		}
	}
	return -1;
}

/* From an answer: result must be "ok"; returns the SDP's c= address and m= port. */
static inline int ng_answer_media(const char *msg, size_t len, char *addr, size_t addr_cap,
				  uint16_t *port, char *why, size_t why_cap)
{
	const char *v;
	size_t vl;
	if (ben_dict_str(msg, len, "result", &v, &vl) < 0 || vl != 2 || memcmp(v, "ok", 2)) {
		const char *r;
		size_t rl;
		if (ben_dict_str(msg, len, "error-reason", &r, &rl) == 0)
			snprintf(why, why_cap, "error: %.*s", (int)rl, r);
		else
			snprintf(why, why_cap, "no ok result in '%.*s'",
				 (int)(len > 200 ? 200 : len), msg);
		return -1;
	}
	if (ben_dict_str(msg, len, "sdp", &v, &vl) < 0) {
		snprintf(why, why_cap, "no sdp in answer");
		return -1;
	}
	char sdp[8192];
	if (vl >= sizeof(sdp)) {
		snprintf(why, why_cap, "sdp too long");
		return -1;
	}
	memcpy(sdp, v, vl);
	sdp[vl] = '\0';
	const char *m = strstr(sdp, "\nm=audio ");
	const char *c = strstr(sdp, "\nc=IN IP4 ");
	unsigned p;
	if (!m || sscanf(m + 9, "%u", &p) != 1 || p == 0 || p > 65535) {
		snprintf(why, why_cap, "no m=audio port in sdp");
		return -1;
	}
	*port = (uint16_t)p;
	if (c) {
		size_t i = 0;
		for (c += 10; *c && *c != '\r' && *c != '\n' && i + 1 < addr_cap; c++)
			addr[i++] = *c;
		addr[i] = '\0';
	} else if (addr_cap) {
		addr[0] = '\0';
	}
	return 0;
}

/* An SDP as a SIP endpoint would offer/answer plain G.711. */
static inline void bench_sdp(char *out, size_t cap, unsigned id, const char *ip, unsigned port)
{
	snprintf(out, cap,
		 "v=0\r\no=- %u 1 IN IP4 %s\r\ns=relay-bench\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
		 "a=sendrecv\r\n",
		 id, ip, ip, port);
}

/* --- SDES (RFC 4568) for the SRTP mode: base64 and a=crypto lines, independent of lib/sdes --- */

static const char bench_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline void b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = bench_b64[v >> 18];
		out[o++] = bench_b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? bench_b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? bench_b64[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Decodes up to the first character that is not base64 (padding allowed); returns the
 * number of bytes, or -1 on bad input or overflow. */
static inline int b64_decode(const char *in, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (; *in; in++) {
		const char *c = *in ? strchr(bench_b64, *in) : NULL;
		if (*in == '=' || !c)
			break;
		acc = acc << 6 | (uint32_t)(c - bench_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}

/* From an ng answer's SDP: the a=crypto line for `suite` (and tag `want_tag` unless it is
 * 0). Gives its tag and the decoded key||salt. 0, or -1 when there is no such line. */
static inline int ng_sdp_crypto(const char *msg, size_t len, const char *suite, unsigned want_tag,
				unsigned *tag, uint8_t *key_salt, size_t cap, size_t *ks_len)
{
	const char *v;
	size_t vl;
	char sdp[8192];
	if (ben_dict_str(msg, len, "sdp", &v, &vl) < 0 || vl >= sizeof(sdp))
		return -1;
	memcpy(sdp, v, vl);
	sdp[vl] = '\0';
	for (char *p = sdp; (p = strstr(p, "a=crypto:")); p++) {
		unsigned t;
		char name[64], key[256];
		if (sscanf(p + 9, "%u %63s inline:%255[A-Za-z0-9+/=]", &t, name, key) != 3)
			continue;
		if (strcmp(name, suite) || (want_tag && t != want_tag))
			continue;
		int n = b64_decode(key, key_salt, cap);
		if (n <= 0)
			return -1;
		*tag = t;
		*ks_len = (size_t)n;
		return 0;
	}
	return -1;
}

/* An SDP for an SRTP endpoint: RTP/SAVP with one a=crypto line. */
static inline void bench_sdp_srtp(char *out, size_t cap, unsigned id, const char *ip, unsigned port,
				  unsigned tag, const char *suite, const uint8_t *key_salt,
				  size_t ks_len)
{
	char b64[128];
	b64_encode(key_salt, ks_len, b64);
	snprintf(out, cap,
		 "v=0\r\no=- %u 1 IN IP4 %s\r\ns=relay-bench\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
		 "a=sendrecv\r\na=crypto:%u %s inline:%s\r\n",
		 id, ip, ip, port, tag, suite, b64);
}

/* --- checksums (RFC 1071), written independently of lib/net --- */

static inline uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* --- statistics --- */

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline double bench_median(const double *v, unsigned n, double *min, double *max)
{
	double s[256];
	if (n == 0 || n > 256)
		return 0;
	memcpy(s, v, n * sizeof(double));
	qsort(s, n, sizeof(double), bench_cmp_double);
	if (min)
		*min = s[0];
	if (max)
		*max = s[n - 1];
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

#endif
