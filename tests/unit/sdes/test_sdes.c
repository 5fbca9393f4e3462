/* RFC 4568 a=crypto: good inputs (RFC examples, every suite, several keys, lifetimes, MKIs,
 * session parameters), every malformed or refused input with its own error, generation
 * with OpenSSL RAND_bytes, format/parse round trips, and the key parameters reaching an
 * SRTP context (MKI on the wire). Base64 is cross-checked with OpenSSL's decoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sdes.h"

static int failures, checks;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
		}                                                                                  \
	} while (0)

static enum mg_sdes_error parse(const char *s, struct mg_sdes_crypto *c)
{
	/* copy into an exact-size heap buffer so ASan catches any read past the end */
	size_t len = strlen(s);
	char *exact = malloc(len ? len : 1);
	memcpy(exact, s, len);
	enum mg_sdes_error e = mg_sdes_parse(exact, len, c, NULL);
	free(exact);
	return e;
}

static void expect(const char *s, enum mg_sdes_error want)
{
	struct mg_sdes_crypto c;
	enum mg_sdes_error got = parse(s, &c);
	CHECK(got == want, "\"%s\": got %d (%s), want %d (%s)", s, got, mg_sdes_strerror(got), want,
	      mg_sdes_strerror(want));
	printf("%-28s <- %.90s\n", mg_sdes_strerror(got), s);
}

/* OpenSSL's decoder as the independent base64 reference */
static int openssl_b64(const char *b64, uint8_t *out)
{
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));
	size_t len = strlen(b64);
	if (n > 0 && len >= 1 && b64[len - 1] == '=')
		n--;
	if (n > 0 && len >= 2 && b64[len - 2] == '=')
		n--;
	return n;
}

static const char *k30 = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"; /* RFC 4568 example */
static const char *k30b = "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";

static void good_inputs(void)
{
	struct mg_sdes_crypto c;
	uint8_t ref[64];

	/* RFC 4568 section 4 example */
	CHECK(parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
		    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
		    &c) == MG_SDES_OK,
	      "RFC 4568 example");
	CHECK(c.tag == 1 && c.suite == MG_SRTP_AES_CM_128_HMAC_SHA1_80 && c.n_keys == 1,
	      "example fields");
	CHECK(c.keys[0].key_salt_len == 30 && openssl_b64(k30, ref) == 30 &&
		  !memcmp(ref, c.keys[0].key_salt, 30),
	      "example key bytes");
	CHECK(c.keys[0].lifetime == (1u << 20) && c.keys[0].mki_value == 1 &&
		  c.keys[0].mki_len == 32,
	      "example lifetime/MKI");

	/* without prefix, decimal lifetime, trailing CRLF, window size hint, ignorable param */
	char line[512];
	snprintf(line, sizeof(line), "7 AES_CM_128_HMAC_SHA1_32 inline:%s|1048576 WSH=256 -XYZ\r\n",
		 k30b);
	CHECK(parse(line, &c) == MG_SDES_OK, "decimal lifetime + WSH: %s", line);
	CHECK(c.tag == 7 && c.keys[0].lifetime == 1048576 && c.window_size_hint == 256 &&
		  c.keys[0].mki_len == 0,
	      "fields");

	/* several keys with MKIs */
	snprintf(line, sizeof(line),
		 "crypto:3 AES_CM_128_HMAC_SHA1_80 inline:%s|2^31|1:4;inline:%s|2^31|2:4", k30,
		 k30b);
	CHECK(parse(line, &c) == MG_SDES_OK && c.n_keys == 2 && c.keys[1].mki_value == 2 &&
		  c.keys[1].lifetime == (1ull << 31),
	      "two keys");
	CHECK(openssl_b64(k30b, ref) == 30 && !memcmp(ref, c.keys[1].key_salt, 30),
	      "second key bytes");

	/* every suite: generate, format, parse back, compare; the base64 matches OpenSSL */
	for (int s = MG_SRTP_SUITE_NONE + 1; s < MG_SRTP_SUITE_COUNT; s++) {
		struct mg_sdes_crypto gen, back, gen2;
		CHECK(mg_sdes_generate(1000 + s, (enum mg_srtp_suite)s, &gen) == MG_SDES_OK, "gen");
		CHECK(mg_sdes_generate(1000 + s, (enum mg_srtp_suite)s, &gen2) == MG_SDES_OK,
		      "gen");
		CHECK(memcmp(gen.keys[0].key_salt, gen2.keys[0].key_salt,
			     gen.keys[0].key_salt_len) != 0,
		      "two generated keys are equal");
		gen.keys[0].lifetime = s % 2 ? (1ull << 31) : 1000;
		gen.keys[0].mki_len = (uint8_t)s;
		gen.keys[0].mki_value = (uint64_t)s;
		size_t n = 0;
		CHECK(mg_sdes_format(&gen, line, sizeof(line), &n) == MG_SDES_OK &&
			  n == strlen(line),
		      "format");
		CHECK(parse(line, &back) == MG_SDES_OK, "parse generated: %s", line);
		CHECK(back.suite == gen.suite && back.tag == gen.tag &&
			  back.keys[0].key_salt_len == gen.keys[0].key_salt_len &&
			  !memcmp(back.keys[0].key_salt, gen.keys[0].key_salt,
				  gen.keys[0].key_salt_len) &&
			  back.keys[0].lifetime == gen.keys[0].lifetime &&
			  back.keys[0].mki_len == gen.keys[0].mki_len &&
			  back.keys[0].mki_value == gen.keys[0].mki_value,
		      "round trip %s", line);
		const char *b64 = strstr(line, "inline:") + 7;
		char b64only[128] = {0};
		memcpy(b64only, b64, strcspn(b64, "|"));
		CHECK(openssl_b64(b64only, ref) == gen.keys[0].key_salt_len &&
			  !memcmp(ref, gen.keys[0].key_salt, gen.keys[0].key_salt_len),
		      "base64 differs from OpenSSL's");
		printf("generated: %.20s... (%zu chars, suite %s)\n", line, n, back.suite_name);
		/* too small a buffer */
		CHECK(mg_sdes_format(&gen, line, 20, &n) == MG_SDES_ERR_BUFFER, "small buffer");
		mg_sdes_wipe(&gen);
		mg_sdes_wipe(&gen2);
	}
}

static void bad_inputs(void)
{
	char line[1400];
	expect("", MG_SDES_ERR_EMPTY);
	expect("   \r\n", MG_SDES_ERR_EMPTY);
	expect("a=crypto:", MG_SDES_ERR_TAG);
	expect("a=crypto: 1 AES_CM_128_HMAC_SHA1_80 inline:x", MG_SDES_ERR_TAG);
	expect("x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_TAG);
	expect("1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_TAG);
	expect("1", MG_SDES_ERR_SUITE_SYNTAX);
	expect("1 AES-CM-128 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_SUITE_SYNTAX);
	expect("1 AES_CM_128_HMAC_SHA1_80", MG_SDES_ERR_KEY_METHOD);
	expect("1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", MG_SDES_ERR_KEY_METHOD);
	expect("1 AES_CM_128_HMAC_SHA1_80 INLINE:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_KEY_METHOD);
	expect("1 AES_CM_128_HMAC_SHA1_80 inline:", MG_SDES_ERR_BASE64);
	expect("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkp!ywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_BASE64);
	expect("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB",
	       MG_SDES_ERR_BASE64); /* 39 chars: last group of 3 has non-zero unused bits */
	expect("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR===",
	       MG_SDES_ERR_BASE64);
	expect("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx",
	       MG_SDES_ERR_KEY_LENGTH); /* 27 bytes */
	expect("1 AEAD_AES_128_GCM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_KEY_LENGTH); /* 30 bytes, GCM-128 needs 28 */
	expect("1 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_KEY_LENGTH);
	const char *pfx =
	    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
	static const struct {
		const char *suffix;
		enum mg_sdes_error want;
	} tails[] = {
	    {"|2^49", MG_SDES_ERR_LIFETIME},
	    {"|2^", MG_SDES_ERR_LIFETIME},
	    {"|0", MG_SDES_ERR_LIFETIME},
	    {"|abc", MG_SDES_ERR_LIFETIME},
	    {"|281474976710657", MG_SDES_ERR_LIFETIME}, /* 2^48 + 1 */
	    {"|", MG_SDES_ERR_LIFETIME},
	    {"|1:0", MG_SDES_ERR_MKI},
	    {"|1:129", MG_SDES_ERR_MKI},
	    {"|256:1", MG_SDES_ERR_MKI},
	    {"|:4", MG_SDES_ERR_MKI},
	    {"|1:", MG_SDES_ERR_MKI},
	    {"|1:4:4", MG_SDES_ERR_MKI},
	    {"|99999999999999999999:8", MG_SDES_ERR_MKI},
	    {"|1:4|2:4", MG_SDES_ERR_KEY_PARAM_SYNTAX},
	    {"|1:4|2^20", MG_SDES_ERR_KEY_PARAM_SYNTAX},
	    {"|2^20|2^20", MG_SDES_ERR_KEY_PARAM_SYNTAX},
	    {";inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj", MG_SDES_ERR_MKI_INCONSISTENT},
	    {"|1:4;inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2:2",
	     MG_SDES_ERR_MKI_INCONSISTENT},
	    {"|1:4;inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|1:4",
	     MG_SDES_ERR_MKI_INCONSISTENT},
	    {"|1:4;", MG_SDES_ERR_KEY_METHOD},
	    {" UNENCRYPTED_SRTP", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" UNENCRYPTED_SRTCP", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" UNAUTHENTICATED_SRTP", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" KDR=10", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" KDR=25", MG_SDES_ERR_PARAM_SYNTAX},
	    {" KDR=x", MG_SDES_ERR_PARAM_SYNTAX},
	    {" FEC_ORDER=FEC_SRTP", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" FEC_KEY=inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	     MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" WSH=10", MG_SDES_ERR_PARAM_SYNTAX},
	    {" WSH=", MG_SDES_ERR_PARAM_SYNTAX},
	    {" SOMETHING_NEW", MG_SDES_ERR_PARAM_UNSUPPORTED},
	    {" WSH=128 \x01", MG_SDES_ERR_PARAM_SYNTAX},
	};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(line, sizeof(line), "%s%s", pfx, tails[i].suffix);
		expect(line, tails[i].want);
	}
	/* five keys */
	snprintf(line, sizeof(line), "1 AES_CM_128_HMAC_SHA1_80 ");
	for (int i = 0; i < 5; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sinline:%s|%d:1",
			 i ? ";" : "", k30, i + 1);
	expect(line, MG_SDES_ERR_TOO_MANY_KEYS);
	/* well-formed, unsupported suites: parsed, name reported */
	struct mg_sdes_crypto c;
	CHECK(parse("1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20",
		    &c) == MG_SDES_ERR_SUITE_UNSUPPORTED &&
		  !strcmp(c.suite_name, "F8_128_HMAC_SHA1_80") && c.keys[0].key_salt_len == 30 &&
		  c.keys[0].lifetime == (1u << 20),
	      "unsupported suite parsed");
	expect("1 AES_192_CM_HMAC_SHA1_80 "
	       "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRPS1uQCVeeCFCanVmcjkp",
	       MG_SDES_ERR_SUITE_UNSUPPORTED);
	expect("1 NULL_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
	       MG_SDES_ERR_SUITE_UNSUPPORTED);
	/* too long */
	memset(line, 'A', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	expect(line, MG_SDES_ERR_TOO_LONG);

	/* length-delimited: the parser must stop at len, not at a NUL */
	const char *longer =
	    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
	    "UNENCRYPTED_SRTP";
	size_t off = 99;
	CHECK(mg_sdes_parse(longer, strlen(pfx), &c, &off) == MG_SDES_OK && off == 0,
	      "prefix of a longer buffer");
	CHECK(mg_sdes_parse(longer, strlen(longer), &c, &off) == MG_SDES_ERR_PARAM_UNSUPPORTED &&
		  off == strlen(pfx) + 1,
	      "error offset %zu", off);
	CHECK(mg_sdes_parse(NULL, 0, &c, NULL) == MG_SDES_ERR_EMPTY, "NULL, 0");
	CHECK(mg_sdes_parse(NULL, 5, &c, NULL) == MG_SDES_ERR_INVALID_ARGUMENT, "NULL, 5");

	/* every error has its own message */
	for (int i = 0; i < MG_SDES_ERROR_COUNT; i++)
		for (int j = 0; j < i; j++)
			CHECK(strcmp(mg_sdes_strerror(i), mg_sdes_strerror(j)) != 0,
			      "errors %d and %d share a message", i, j);
}

/* The negotiated key reaches an SRTP context; the MKI goes on the wire big-endian. */
static void into_srtp(void)
{
	struct mg_sdes_crypto c;
	CHECK(parse("1 AES_CM_128_HMAC_SHA1_80 "
		    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|258:3",
		    &c) == MG_SDES_OK,
	      "parse");
	struct mg_srtp_key_params kp;
	CHECK(mg_sdes_key_params(&c, 0, &kp) == MG_SDES_OK, "key params");
	CHECK(kp.mki_len == 3 && kp.mki[0] == 0 && kp.mki[1] == 1 && kp.mki[2] == 2 &&
		  kp.lifetime == (1u << 20),
	      "MKI bytes / lifetime");
	CHECK(mg_sdes_key_params(&c, 1, &kp) == MG_SDES_ERR_INVALID_ARGUMENT, "key index");
	mg_srtp_engine *engine = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
	mg_srtp_ctx *ctx = aligned_alloc(64, sizeof(*ctx));
	CHECK(engine && mg_srtp_ctx_init(ctx, engine, &kp) == 0, "ctx");
	uint8_t pkt[64] = {0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
	uint32_t len = 32;
	CHECK(mg_srtp_protect(engine, ctx, pkt, &len, sizeof(pkt)) == MG_SRTP_OK &&
		  len == 32 + 3 + 10 && pkt[32] == 0 && pkt[33] == 1 && pkt[34] == 2,
	      "MKI on the wire");
	free(ctx);
	mg_srtp_engine_destroy(engine);
}

int main(void)
{
	good_inputs();
	bad_inputs();
	into_srtp();
	printf("sdes: %d checks, %d failures -> %s\n", checks, failures,
	       failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
