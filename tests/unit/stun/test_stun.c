/* lib/stun: RFC 5769 test vectors (parse, MESSAGE-INTEGRITY and FINGERPRINT exact, rebuilt
 * byte for byte), builder round trips checked against independent HMAC-SHA1 (OpenSSL HMAC())
 * and CRC-32 (zlib), every truncated prefix, corrupted bytes, and the ICE-lite responder's
 * success and error cases (400/401/420/487, silent drops) with their reasons and counters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>
#include <zlib.h>

#include "check.h"
#include "stun.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* RFC 5769 2.1, 2.2, 2.3 */
static const char *req_hex =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e"
    "0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781e"
    "f2b5b2d3f249c1b571a280280004e57a3bcf";
static const char *resp4_hex =
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e1"
    "12a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96";
static const char *resp6_hex =
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a14701"
    "13a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed41802800"
    "04c8fb0b4c";
static const char *pwd5769 = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t tid5769[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

static void test_rfc5769(void)
{
	uint8_t buf[256], built[256];
	struct mg_stun_msg m;
	const uint8_t *pwd = (const uint8_t *)pwd5769;
	size_t pl = strlen(pwd5769);

	printf("RFC 5769 2.1 sample request\n");
	size_t n = unhex(req_hex, buf);
	CHECK_EQ_INT(n, 108);
	CHECK_EQ_INT(mg_stun_parse(&m, buf, n), MG_STUN_R_OK);
	CHECK(m.method == MG_STUN_METHOD_BINDING && m.cls == MG_STUN_CLASS_REQUEST);
	CHECK(m.username_len == 9 && memcmp(m.username, "evtj:h6vY", 9) == 0);
	CHECK(m.software_len == 16 && memcmp(m.software, "STUN test client", 16) == 0);
	CHECK(m.has_priority && m.priority == 0x6e0001ff);
	CHECK(m.has_controlled && !m.has_controlling && m.tie_breaker == 0x932ff9b151263b36ull);
	CHECK(mg_stun_check_integrity(&m, buf, n, pwd, pl));
	CHECK(!mg_stun_check_integrity(&m, buf, n, pwd, pl - 1));
	CHECK(mg_stun_check_fingerprint(&m, buf, n));
	/* rebuild byte for byte (the RFC pads with spaces) */
	struct mg_stun_builder b;
	mg_stun_build_init(&b, built, sizeof(built), MG_STUN_METHOD_BINDING, MG_STUN_CLASS_REQUEST,
			   tid5769);
	b.pad_byte = 0x20;
	mg_stun_build_attr(&b, MG_STUN_ATTR_SOFTWARE, "STUN test client", 16);
	mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 0x6e0001ff);
	mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ull);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	mg_stun_build_integrity(&b, pwd, pl);
	mg_stun_build_fingerprint(&b);
	CHECK_EQ_INT(mg_stun_build_finish(&b), n);
	CHECK(memcmp(built, buf, n) == 0);

	const char *resp[2] = {resp4_hex, resp6_hex};
	for (int v = 0; v < 2; v++) {
		printf("RFC 5769 %s sample response\n", v ? "2.3 IPv6" : "2.2 IPv4");
		n = unhex(resp[v], buf);
		CHECK_EQ_INT(n, v ? 92 : 80);
		CHECK_EQ_INT(mg_stun_parse(&m, buf, n), MG_STUN_R_OK);
		CHECK(m.cls == MG_STUN_CLASS_SUCCESS && m.method == MG_STUN_METHOD_BINDING);
		CHECK(m.has_xor_mapped && m.xor_mapped.port == 32853);
		struct mg_stun_addr a = {.family = 4, .port = 32853, .addr = {192, 0, 2, 1}};
		if (v) {
			static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34,
						       0x56, 0x78, 0x00, 0x11, 0x22, 0x33,
						       0x44, 0x55, 0x66, 0x77};
			a.family = 6;
			memcpy(a.addr, a6, 16);
		}
		CHECK(m.xor_mapped.family == a.family);
		CHECK(memcmp(m.xor_mapped.addr, a.addr, 16) == 0);
		CHECK(mg_stun_check_integrity(&m, buf, n, pwd, pl));
		CHECK(mg_stun_check_fingerprint(&m, buf, n));
		mg_stun_build_init(&b, built, sizeof(built), MG_STUN_METHOD_BINDING,
				   MG_STUN_CLASS_SUCCESS, tid5769);
		b.pad_byte = 0x20;
		mg_stun_build_attr(&b, MG_STUN_ATTR_SOFTWARE, "test vector", 11);
		mg_stun_build_xor_addr(&b, MG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
		mg_stun_build_integrity(&b, pwd, pl);
		mg_stun_build_fingerprint(&b);
		CHECK_EQ_INT(mg_stun_build_finish(&b), n);
		CHECK(memcmp(built, buf, n) == 0);
		/* any flipped bit of the integrity-covered part breaks both checks */
		for (size_t i = 0; i < (size_t)m.integrity_off; i++) {
			if (i == 2 || i == 3)
				continue; /* length: parse fails instead */
			buf[i] ^= 0x01;
			struct mg_stun_msg m2;
			if (mg_stun_parse(&m2, buf, n) == MG_STUN_R_OK) {
				CHECK(!mg_stun_check_integrity(&m2, buf, n, pwd, pl));
				CHECK(!mg_stun_check_fingerprint(&m2, buf, n));
			}
			buf[i] ^= 0x01;
		}
	}
	CHECK_EQ_INT(mg_stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
}

/* ---- ICE-lite responder --------------------------------------------------------------------- */
static const char *L_UFRAG = "mgUf", *L_PWD = "mediagatePasswordOf22ch", *R_UFRAG = "Br0wser+";

struct req_opts {
	const char *username;
	const char *pwd;
	int no_priority, no_role, controlled, use_candidate, no_integrity, sha256_only,
	    no_fingerprint, bad_fingerprint, unknown_attr, cls, method, goog;
};

static size_t make_req(uint8_t *buf, size_t cap, const struct req_opts *o, uint8_t tid[12])
{
	for (int i = 0; i < 12; i++)
		tid[i] = (uint8_t)(rand() & 0xFF);
	struct mg_stun_builder b;
	mg_stun_build_init(&b, buf, cap, o->method ? (uint16_t)o->method : MG_STUN_METHOD_BINDING,
			   (enum mg_stun_class)o->cls, tid);
	char user[128];
	snprintf(user, sizeof(user), "%s:%s", L_UFRAG, R_UFRAG);
	const char *u = o->username ? o->username : user;
	mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, u, strlen(u));
	if (o->goog)
		mg_stun_build_u32(&b, 0xC057, 0x00010032); /* GOOG-NETWORK-INFO: optional */
	if (!o->no_priority)
		mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 0x6e7f1eff);
	if (!o->no_role)
		mg_stun_build_u64(
		    &b, o->controlled ? MG_STUN_ATTR_ICE_CONTROLLED : MG_STUN_ATTR_ICE_CONTROLLING,
		    0x1122334455667788ull);
	if (o->use_candidate)
		mg_stun_build_attr(&b, MG_STUN_ATTR_USE_CANDIDATE, NULL, 0);
	if (o->unknown_attr)
		mg_stun_build_u32(&b, 0x7777, 1);
	const char *pwd = o->pwd ? o->pwd : L_PWD;
	if (o->sha256_only) {
		uint8_t fake[32] = {0};
		mg_stun_build_attr(&b, MG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, fake, 32);
	} else if (!o->no_integrity) {
		mg_stun_build_integrity(&b, (const uint8_t *)pwd, strlen(pwd));
	}
	if (!o->no_fingerprint)
		mg_stun_build_fingerprint(&b);
	size_t n = mg_stun_build_finish(&b);
	if (o->bad_fingerprint)
		buf[n - 1] ^= 0x40;
	return n;
}

static struct mg_stun_ice_creds creds(void)
{
	struct mg_stun_ice_creds c = {L_UFRAG,	     strlen(L_UFRAG), L_PWD,
				      strlen(L_PWD), R_UFRAG,	      strlen(R_UFRAG)};
	return c;
}

/* Independent checks of a response: HMAC-SHA1 by OpenSSL's one-shot HMAC(), CRC by zlib. */
static void independent_check(const uint8_t *resp, size_t n, int expect_mi)
{
	struct mg_stun_msg m;
	CHECK_EQ_INT(mg_stun_parse(&m, resp, n), MG_STUN_R_OK);
	CHECK(m.fingerprint_off == (int32_t)n - 8);
	uint32_t crc = (uint32_t)crc32(0, resp, (uInt)(n - 8)) ^ 0x5354554eu;
	CHECK(m.fingerprint == crc);
	if (!expect_mi) {
		CHECK(m.integrity_off < 0);
		return;
	}
	CHECK(m.integrity_off == (int32_t)n - 32);
	uint8_t copy[512], mac[20];
	unsigned ml = 0;
	memcpy(copy, resp, n - 32);
	copy[2] = (uint8_t)((n - 8 - 20) >> 8);
	copy[3] = (uint8_t)(n - 8 - 20);
	HMAC(EVP_sha1(), L_PWD, (int)strlen(L_PWD), copy, n - 32, mac, &ml);
	CHECK(ml == 20 && memcmp(mac, resp + n - 28, 20) == 0);
}

static void expect(const char *what, const struct req_opts *o, enum mg_stun_ice_action action,
		   enum mg_stun_reason reason, uint16_t code)
{
	uint8_t req[512], out[MG_STUN_RESPONSE_MAX], tid[12];
	size_t n = make_req(req, sizeof(req), o, tid);
	struct mg_stun_ice_creds c = creds();
	struct mg_stun_addr src = {.family = 4, .port = 54321, .addr = {10, 0, 0, 7}};
	struct mg_stun_ice_result res;
	struct mg_stun_counters cnt = {0};
	mg_stun_ice_respond(req, n, &c, &src, 12345, out, sizeof(out), &res, &cnt);
	printf("responder: %-40s -> action %d reason %s code %u\n", what, res.action,
	       mg_stun_reason_str(res.reason), res.error_code);
	CHECK_EQ_INT(res.action, action);
	CHECK_EQ_INT(res.reason, reason);
	CHECK_EQ_INT(cnt.by_reason[reason], 1);
	if (action == MG_STUN_ICE_DROP) {
		CHECK_EQ_INT(res.out_len, 0);
		return;
	}
	struct mg_stun_msg m;
	CHECK_EQ_INT(mg_stun_parse(&m, out, res.out_len), MG_STUN_R_OK);
	CHECK(memcmp(m.tid, tid, 12) == 0);
	if (action == MG_STUN_ICE_ERROR_RESPONSE) {
		CHECK(m.cls == MG_STUN_CLASS_ERROR && m.has_error && m.error_code == code);
		CHECK_EQ_INT(res.error_code, code);
		independent_check(out, res.out_len,
				  code != 400 && code != 401 ? 1
							     : reason == MG_STUN_R_NO_PRIORITY ||
								   reason == MG_STUN_R_NO_ROLE);
		if (code == 420) {
			/* UNKNOWN-ATTRIBUTES lists 0x7777 */
			int found = 0;
			for (size_t off = 20; off + 4 <= res.out_len;) {
				uint16_t t = (uint16_t)(out[off] << 8 | out[off + 1]);
				uint16_t l = (uint16_t)(out[off + 2] << 8 | out[off + 3]);
				if (t == MG_STUN_ATTR_UNKNOWN_ATTRIBUTES && l == 2 &&
				    out[off + 4] == 0x77 && out[off + 5] == 0x77)
					found = 1;
				off += 4 + ((l + 3u) & ~3u);
			}
			CHECK(found);
		}
	} else {
		CHECK(m.cls == MG_STUN_CLASS_SUCCESS && !m.has_error);
		CHECK(m.has_xor_mapped && m.xor_mapped.family == 4 && m.xor_mapped.port == 54321 &&
		      memcmp(m.xor_mapped.addr, src.addr, 4) == 0);
		CHECK(mg_stun_check_integrity(&m, out, res.out_len, (const uint8_t *)L_PWD,
					      strlen(L_PWD)));
		independent_check(out, res.out_len, 1);
		CHECK_EQ_INT(res.use_candidate, o->use_candidate ? 1 : 0);
		CHECK(res.priority == 0x6e7f1eff && res.peer_controlling);
		CHECK(res.consent_ns == 12345);
	}
}

static void test_responder(void)
{
	struct req_opts o;
#define OPTS(...) (o = (struct req_opts){__VA_ARGS__}, &o)
	expect("valid check", OPTS(.goog = 1), MG_STUN_ICE_SUCCESS, MG_STUN_R_OK, 0);
	expect("valid check + USE-CANDIDATE", OPTS(.use_candidate = 1), MG_STUN_ICE_SUCCESS,
	       MG_STUN_R_OK, 0);
	expect("wrong password", OPTS(.pwd = "notTheRightPasswordAtAll"),
	       MG_STUN_ICE_ERROR_RESPONSE, MG_STUN_R_BAD_INTEGRITY, 401);
	expect("wrong username (swapped)", OPTS(.username = "Br0wser+:mgUf"),
	       MG_STUN_ICE_ERROR_RESPONSE, MG_STUN_R_BAD_USERNAME, 401);
	expect("wrong username (remote part)", OPTS(.username = "mgUf:Br0wser"),
	       MG_STUN_ICE_ERROR_RESPONSE, MG_STUN_R_BAD_USERNAME, 401);
	expect("wrong username (prefix only)", OPTS(.username = "mgU"), MG_STUN_ICE_ERROR_RESPONSE,
	       MG_STUN_R_BAD_USERNAME, 401);
	expect("no MESSAGE-INTEGRITY", OPTS(.no_integrity = 1), MG_STUN_ICE_ERROR_RESPONSE,
	       MG_STUN_R_NO_INTEGRITY, 400);
	expect("MESSAGE-INTEGRITY-SHA256 only", OPTS(.sha256_only = 1), MG_STUN_ICE_ERROR_RESPONSE,
	       MG_STUN_R_SHA256_REFUSED, 400);
	expect("bad FINGERPRINT", OPTS(.bad_fingerprint = 1), MG_STUN_ICE_DROP,
	       MG_STUN_R_BAD_FINGERPRINT, 0);
	expect("no FINGERPRINT", OPTS(.no_fingerprint = 1), MG_STUN_ICE_DROP,
	       MG_STUN_R_NO_FINGERPRINT, 0);
	expect("unknown comprehension-required attr", OPTS(.unknown_attr = 1),
	       MG_STUN_ICE_ERROR_RESPONSE, MG_STUN_R_UNKNOWN_ATTRIBUTE, 420);
	expect("no PRIORITY", OPTS(.no_priority = 1), MG_STUN_ICE_ERROR_RESPONSE,
	       MG_STUN_R_NO_PRIORITY, 400);
	expect("no ICE role", OPTS(.no_role = 1), MG_STUN_ICE_ERROR_RESPONSE, MG_STUN_R_NO_ROLE,
	       400);
	expect("ICE-CONTROLLED from peer", OPTS(.controlled = 1), MG_STUN_ICE_ERROR_RESPONSE,
	       MG_STUN_R_ROLE_CONFLICT, 487);
	expect("indication", OPTS(.cls = MG_STUN_CLASS_INDICATION), MG_STUN_ICE_DROP,
	       MG_STUN_R_NOT_REQUEST, 0);
	expect("success response", OPTS(.cls = MG_STUN_CLASS_SUCCESS), MG_STUN_ICE_DROP,
	       MG_STUN_R_NOT_REQUEST, 0);
	expect("Allocate (TURN) request", OPTS(.method = 0x003), MG_STUN_ICE_DROP,
	       MG_STUN_R_NOT_BINDING, 0);

	/* remote ufrag not known yet: any remote part accepted, empty one refused */
	uint8_t req[512], out[MG_STUN_RESPONSE_MAX], tid[12];
	struct mg_stun_ice_creds c = creds();
	c.remote_ufrag = NULL;
	c.remote_ufrag_len = 0;
	struct mg_stun_addr src6 = {.family = 6, .port = 9, .addr = {0x20, 0x01, 0x0d, 0xb8, 1}};
	struct mg_stun_ice_result res;
	size_t n = make_req(req, sizeof(req), OPTS(.username = "mgUf:anything"), tid);
	mg_stun_ice_respond(req, n, &c, &src6, 7, out, sizeof(out), &res, NULL);
	CHECK_EQ_INT(res.action, MG_STUN_ICE_SUCCESS);
	struct mg_stun_msg m;
	CHECK_EQ_INT(mg_stun_parse(&m, out, res.out_len), MG_STUN_R_OK);
	CHECK(m.xor_mapped.family == 6 && m.xor_mapped.port == 9 &&
	      memcmp(m.xor_mapped.addr, src6.addr, 16) == 0);
	n = make_req(req, sizeof(req), OPTS(.username = "mgUf:"), tid);
	mg_stun_ice_respond(req, n, &c, &src6, 7, out, sizeof(out), &res, NULL);
	CHECK_EQ_INT(res.reason, MG_STUN_R_BAD_USERNAME);
	/* MESSAGE-INTEGRITY followed by MESSAGE-INTEGRITY-SHA256 (RFC 8489 order): the SHA-1 one is
	 * checked, the SHA-256 one ignored */
	{
		struct mg_stun_builder b;
		uint8_t fake[32] = {0};
		for (int i = 0; i < 12; i++)
			tid[i] = (uint8_t)i;
		mg_stun_build_init(&b, req, sizeof(req), MG_STUN_METHOD_BINDING,
				   MG_STUN_CLASS_REQUEST, tid);
		mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, "mgUf:Br0wser+", 13);
		mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 1);
		mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLING, 2);
		mg_stun_build_integrity(&b, (const uint8_t *)L_PWD, strlen(L_PWD));
		mg_stun_build_attr(&b, MG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, fake, 32);
		mg_stun_build_fingerprint(&b);
		n = mg_stun_build_finish(&b);
		struct mg_stun_ice_creds c2 = creds();
		mg_stun_ice_respond(req, n, &c2, &src6, 7, out, sizeof(out), &res, NULL);
		CHECK_EQ_INT(res.action, MG_STUN_ICE_SUCCESS);
	}
	/* output buffer too small: refused, nothing written past it */
	n = make_req(req, sizeof(req), OPTS(.goog = 0), tid);
	mg_stun_ice_respond(req, n, &c, &src6, 7, out, 64, &res, NULL);
	CHECK_EQ_INT(res.action, MG_STUN_ICE_DROP);
	CHECK_EQ_INT(res.reason, MG_STUN_R_BAD_ARGUMENT);

	/* consent freshness (RFC 7675) */
	struct mg_stun_consent cs = {0};
	CHECK(!mg_stun_consent_valid(&cs, 5));
	mg_stun_consent_refresh(&cs, 1000000000ull);
	CHECK(mg_stun_consent_valid(&cs, 1000000000ull + MG_STUN_CONSENT_TIMEOUT_NS - 1));
	CHECK(!mg_stun_consent_valid(&cs, 1000000000ull + MG_STUN_CONSENT_TIMEOUT_NS));
	mg_stun_consent_refresh(&cs, 20000000000ull);
	CHECK(mg_stun_consent_valid(&cs, 1000000000ull + MG_STUN_CONSENT_TIMEOUT_NS));
#undef OPTS
}

/* Every prefix (with the original and with a consistent length field), every byte corrupted,
 * and random garbage: parse and respond never crash or read outside (ASan build), never answer
 * anything but a valid check with success. */
static void test_malformed(void)
{
	uint8_t req[512], buf[512], out[MG_STUN_RESPONSE_MAX], tid[12];
	struct req_opts o = {.use_candidate = 1, .goog = 1};
	size_t n = make_req(req, sizeof(req), &o, tid);
	struct mg_stun_ice_creds c = creds();
	struct mg_stun_addr src = {.family = 4, .port = 1, .addr = {127, 0, 0, 1}};
	struct mg_stun_ice_result res;
	struct mg_stun_msg m;
	unsigned prefixes_ok = 0, successes = 0;
	printf("malformed: %zu prefixes of a %zu-byte request\n", n, n);
	for (size_t p = 0; p < n; p++) {
		uint8_t *copy = malloc(p ? p : 1); /* exact size: ASan sees any over-read */
		memcpy(copy, req, p);
		CHECK(mg_stun_parse(&m, copy, p) != MG_STUN_R_OK);
		mg_stun_ice_respond(copy, p, &c, &src, 1, out, sizeof(out), &res, NULL);
		CHECK(res.action == MG_STUN_ICE_DROP);
		if (p >= 20) { /* consistent length field: attribute walk on a cut message */
			copy[2] = (uint8_t)((p - 20) >> 8);
			copy[3] = (uint8_t)(p - 20);
			if (mg_stun_parse(&m, copy, p) == MG_STUN_R_OK)
				prefixes_ok++;
			mg_stun_ice_respond(copy, p, &c, &src, 1, out, sizeof(out), &res, NULL);
			CHECK(res.action != MG_STUN_ICE_SUCCESS);
		}
		free(copy);
	}
	printf("malformed: %u length-consistent prefixes parse (attribute boundaries)\n",
	       prefixes_ok);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, req, n);
			buf[i] ^= (uint8_t)(1u << bit);
			mg_stun_ice_respond(buf, n, &c, &src, 1, out, sizeof(out), &res, NULL);
			if (res.action == MG_STUN_ICE_SUCCESS)
				successes++;
		}
	}
	/* CRC-32 detects every single-bit error: nothing corrupted is ever answered with success */
	CHECK_EQ_INT(successes, 0);
	printf("malformed: %zu single-bit corruptions, %u answered with success\n", n * 8,
	       successes);
	/* attribute after FINGERPRINT; attribute length past the end; bad lengths */
	memcpy(buf, req, n);
	buf[n] = 0x80, buf[n + 1] = 0x22, buf[n + 2] = 0, buf[n + 3] = 0;
	buf[2] = (uint8_t)((n + 4 - 20) >> 8), buf[3] = (uint8_t)(n + 4 - 20);
	CHECK_EQ_INT(mg_stun_parse(&m, buf, n + 4), MG_STUN_R_AFTER_FINGERPRINT);
	memcpy(buf, req, n);
	buf[22] = 0x01; /* USERNAME length 256+ */
	CHECK_EQ_INT(mg_stun_parse(&m, buf, n), MG_STUN_R_ATTR_TRUNCATED);
	CHECK_EQ_INT(mg_stun_parse(&m, req, n + 0), MG_STUN_R_OK);
	memcpy(buf, req, n);
	buf[0] = 0xC0;
	CHECK_EQ_INT(mg_stun_parse(&m, buf, n), MG_STUN_R_NOT_STUN);
	memcpy(buf, req, n);
	buf[5] ^= 1;
	CHECK_EQ_INT(mg_stun_parse(&m, buf, n), MG_STUN_R_BAD_COOKIE);
	/* a PRIORITY with length 3, ICE-CONTROLLING with 4, MI with 16, XOR address family 3 */
	struct {
		uint16_t type, len;
		uint8_t v0;
		enum mg_stun_reason want;
	} bad[] = {
	    {MG_STUN_ATTR_PRIORITY, 3, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_ICE_CONTROLLING, 4, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_MESSAGE_INTEGRITY, 16, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_FINGERPRINT, 8, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_USE_CANDIDATE, 4, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, 3, MG_STUN_R_ATTR_BAD_VALUE},
	    {MG_STUN_ATTR_XOR_MAPPED_ADDRESS, 12, 1, MG_STUN_R_ATTR_BAD_LENGTH},
	    {MG_STUN_ATTR_ERROR_CODE, 4, 0, MG_STUN_R_ATTR_BAD_VALUE},
	    {MG_STUN_ATTR_USERNAME, 600, 0, MG_STUN_R_ATTR_BAD_LENGTH},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		static uint8_t big[1024];
		struct mg_stun_builder b;
		uint8_t val[600] = {0};
		val[1] = bad[k].v0;
		mg_stun_build_init(&b, big, sizeof(big), 1, MG_STUN_CLASS_REQUEST, tid);
		mg_stun_build_attr(&b, bad[k].type, val, bad[k].len);
		size_t bl = mg_stun_build_finish(&b);
		CHECK_EQ_INT(mg_stun_parse(&m, big, bl), bad[k].want);
	}
	/* random garbage with a STUN-looking header */
	unsigned answered = 0;
	for (int it = 0; it < 200000; it++) {
		size_t len = 20 + (size_t)(rand() % 120) * 4;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		buf[0] &= 0x01;
		buf[1] = 0x01;
		buf[2] = (uint8_t)((len - 20) >> 8), buf[3] = (uint8_t)(len - 20);
		buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
		mg_stun_ice_respond(buf, len, &c, &src, 1, out, sizeof(out), &res, NULL);
		if (res.action != MG_STUN_ICE_DROP)
			answered++;
	}
	CHECK_EQ_INT(answered, 0); /* no valid FINGERPRINT by chance */
	printf("malformed: 200000 random messages, %u answered\n", answered);
}

static void test_builder_limits(void)
{
	uint8_t buf[40], tid[12] = {0};
	struct mg_stun_builder b;
	CHECK(mg_stun_build_init(&b, buf, 19, 1, MG_STUN_CLASS_REQUEST, tid) < 0);
	mg_stun_build_init(&b, buf, sizeof(buf), 1, MG_STUN_CLASS_REQUEST, tid);
	CHECK(mg_stun_build_attr(&b, MG_STUN_ATTR_SOFTWARE, "0123456789abcdef", 16) == 0);
	CHECK(mg_stun_build_integrity(&b, (const uint8_t *)"k", 1) < 0); /* no room */
	CHECK(mg_stun_build_fingerprint(&b) < 0);			 /* sticky */
	CHECK_EQ_INT(mg_stun_build_finish(&b), 0);
	CHECK(mg_stun_build_error_code(&b, 200, "x") < 0);
	/* class/method encoding round trip */
	for (unsigned method = 0; method < 0x1000; method += 0x111)
		for (int cls = 0; cls < 4; cls++) {
			uint8_t mb[64];
			struct mg_stun_msg m;
			mg_stun_build_init(&b, mb, sizeof(mb), (uint16_t)method,
					   (enum mg_stun_class)cls, tid);
			size_t n = mg_stun_build_finish(&b);
			CHECK_EQ_INT(mg_stun_parse(&m, mb, n), MG_STUN_R_OK);
			CHECK(m.method == method && m.cls == cls);
		}
	CHECK(mg_stun_looks_like((const uint8_t *)"\x00\x01\x00\x00\x21\x12\xa4\x42"
						  "abcdefghijkl",
				 20));
	CHECK(!mg_stun_looks_like((const uint8_t *)"\x80\x01\x00\x00\x21\x12\xa4\x42"
						   "abcdefghijkl",
				  20));
	for (int r = 0; r <= MG_STUN_REASON_COUNT; r++)
		CHECK(mg_stun_reason_str((enum mg_stun_reason)r) != NULL);
}

int main(void)
{
	srand(7);
	test_rfc5769();
	test_responder();
	test_malformed();
	test_builder_limits();
	return CHECK_DONE();
}
