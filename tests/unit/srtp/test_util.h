/* Tiny helpers shared by the SRTP unit tests. */
#ifndef MG_SRTP_TEST_UTIL_H
#define MG_SRTP_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		test_checks++;                                                                     \
		if (!(cond)) {                                                                     \
			test_failures++;                                                           \
			if (test_failures < 50) {                                                  \
				fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
				fprintf(stderr, __VA_ARGS__);                                      \
				fprintf(stderr, "\n");                                             \
			}                                                                          \
		}                                                                                  \
	} while (0)

static inline int test_report(const char *name)
{
	printf("%s: %d checks, %d failures -> %s\n", name, test_checks, test_failures,
	       test_failures ? "FAIL" : "PASS");
	return test_failures ? 1 : 0;
}

static uint64_t test_rng_state = 0x9e3779b97f4a7c15ull;
static inline uint32_t test_rand(void)
{
	test_rng_state ^= test_rng_state << 13;
	test_rng_state ^= test_rng_state >> 7;
	test_rng_state ^= test_rng_state << 17;
	return (uint32_t)(test_rng_state >> 11);
}

static inline void test_fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)test_rand();
}

static inline size_t test_hex_decode(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	while (hex[0] && hex[1] && n < max) {
		if (hex[0] == ' ' || hex[0] == '\n') {
			hex++;
			continue;
		}
		unsigned v;
		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static inline void test_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void test_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RTP packet: variant 0 plain, 1 two CSRCs, 2 header extension, 3 CSRC + extension. */
static inline uint32_t test_make_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc,
				     int variant, uint32_t payload_len)
{
	uint32_t cc = (variant & 1) ? 2 : 0;
	buf[0] = (uint8_t)(0x80 | ((variant & 2) ? 0x10 : 0) | cc);
	buf[1] = 0x00;
	test_put_be16(buf + 2, seq);
	test_put_be32(buf + 4, ts);
	test_put_be32(buf + 8, ssrc);
	uint32_t off = 12;
	for (uint32_t i = 0; i < cc; i++, off += 4)
		test_put_be32(buf + off, 0x11110000u + i);
	if (variant & 2) {
		test_put_be16(buf + off, 0xBEDE); /* RFC 8285 one-byte header extensions */
		test_put_be16(buf + off + 2, 2);
		test_fill_random(buf + off + 4, 8);
		off += 12;
	}
	test_fill_random(buf + off, payload_len);
	return off + payload_len;
}

/* RTCP compound-ish packet: a sender report header + payload bytes. */
static inline uint32_t test_make_rtcp(uint8_t *buf, uint32_t ssrc, uint32_t payload_len)
{
	buf[0] = 0x80;
	buf[1] = 200;
	test_put_be16(buf + 2, (uint16_t)((8 + payload_len) / 4 - 1));
	test_put_be32(buf + 4, ssrc);
	test_fill_random(buf + 8, payload_len);
	return 8 + payload_len;
}

/* Engine architecture from argv[1]: auto (default), sse, avx2, avx512. */
static inline int test_arch_from_args(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "auto"))
		return 0;
	if (!strcmp(argv[1], "sse"))
		return 1;
	if (!strcmp(argv[1], "avx2"))
		return 2;
	if (!strcmp(argv[1], "avx512"))
		return 3;
	return 0;
}

#endif
