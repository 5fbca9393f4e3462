/* Known-answer tests from the RFCs:
 *  RFC 3711 B.2 (AES-CM keystream) and B.3 (key derivation),
 *  RFC 6188 7.1 (AES-256-CM keystream) and 7.2 (AES-256 key derivation),
 *  RFC 7714 16.1.1 / 16.2.1 (SRTP AEAD_AES_128/256_GCM) and 17.1 / 17.2 (SRTCP),
 *  17.3 (unencrypted SRTCP, which mediagate refuses by design). */
#include <stdlib.h>

#include "srtp.h"
#include "test_util.h"

static mg_srtp_engine *engine;

static void check_kdf(const char *name, const char *key_hex, const char *salt_hex, uint8_t label,
		      const char *expected_hex)
{
	uint8_t key[32], salt[14], expected[128], out[128];
	size_t key_len = test_hex_decode(key_hex, key, sizeof(key));
	size_t salt_len = test_hex_decode(salt_hex, salt, sizeof(salt));
	size_t len = test_hex_decode(expected_hex, expected, sizeof(expected));
	int rc = mg_srtp_kdf(key, key_len, salt, salt_len, label, out, len);
	CHECK(rc == 0 && memcmp(out, expected, len) == 0, "%s label %u (%zu bytes)", name, label,
	      len);
	printf("kdf %-22s label %u: %s\n", name, label,
	       rc == 0 && memcmp(out, expected, len) == 0 ? "ok" : "MISMATCH");
}

/* Keystream = SRTP of an all-zero payload with SSRC 0, SEQ 0, ROC 0 under the given session
 * key and salt (the IV is then salt * 2^16, as in B.2). */
static void check_keystream(const char *name, enum mg_srtp_suite suite, const char *key_hex,
			    const char *salt_hex, const char *keystream_hex)
{
	uint8_t key[32], salt[14], keystream[64], packet[128] = {0x80};
	test_hex_decode(key_hex, key, sizeof(key));
	test_hex_decode(salt_hex, salt, sizeof(salt));
	size_t len = test_hex_decode(keystream_hex, keystream, sizeof(keystream));
	static const uint8_t auth_key[20];
	struct mg_srtp_key_params kp = {.suite = suite, .master_key = key, .master_salt = salt};
	mg_srtp_ctx *ctx = aligned_alloc(64, sizeof(*ctx));
	CHECK(mg_srtp_ctx_init_session_keys_for_test(ctx, engine, &kp, auth_key) == 0, "init");
	uint32_t packet_len = 12 + (uint32_t)len;
	enum mg_srtp_status st = mg_srtp_protect(engine, ctx, packet, &packet_len, sizeof(packet));
	int same = st == MG_SRTP_OK && memcmp(packet + 12, keystream, len) == 0;
	CHECK(same, "%s keystream", name);
	printf("keystream %-18s %s\n", name, same ? "ok" : "MISMATCH");
	free(ctx);
}

static void check_rfc7714_srtp(const char *name, enum mg_srtp_suite suite, const char *key_hex,
			       const char *expected_hex)
{
	uint8_t key[32], salt[12], plain[128], expected[128], packet[256];
	test_hex_decode(key_hex, key, sizeof(key));
	test_hex_decode("517569642070726f2071756f", salt, sizeof(salt));
	size_t plain_len = test_hex_decode("8040f17b8041f8d35501a0b2"
					   "47616c6c696120657374206f6d6e69732064697669736120"
					   "696e207061727465732074726573",
					   plain, sizeof(plain));
	size_t expected_len = test_hex_decode(expected_hex, expected, sizeof(expected));
	struct mg_srtp_key_params kp = {.suite = suite, .master_key = key, .master_salt = salt};
	mg_srtp_ctx *tx = aligned_alloc(64, sizeof(*tx)), *rx = aligned_alloc(64, sizeof(*rx));
	CHECK(mg_srtp_ctx_init_session_keys_for_test(tx, engine, &kp, NULL) == 0, "init");
	CHECK(mg_srtp_ctx_init_session_keys_for_test(rx, engine, &kp, NULL) == 0, "init");

	memcpy(packet, plain, plain_len);
	uint32_t len = (uint32_t)plain_len;
	enum mg_srtp_status st = mg_srtp_protect(engine, tx, packet, &len, sizeof(packet));
	int ok = st == MG_SRTP_OK && len == expected_len && !memcmp(packet, expected, len);
	CHECK(ok, "%s SRTP protect", name);
	printf("RFC 7714 %-20s SRTP protect:    %s\n", name, ok ? "ok" : "MISMATCH");

	memcpy(packet, expected, expected_len);
	len = (uint32_t)expected_len;
	st = mg_srtp_unprotect(engine, rx, packet, &len);
	ok = st == MG_SRTP_OK && len == plain_len && !memcmp(packet, plain, len);
	CHECK(ok, "%s SRTP unprotect (%s)", name, mg_srtp_status_str(st));
	printf("RFC 7714 %-20s SRTP unprotect:  %s\n", name, ok ? "ok" : "MISMATCH");
	free(tx);
	free(rx);
}

static const char *rtcp_plain_hex = "81c8000d4d6172734e5450314e545032525450200000042a0000e930"
				    "4c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

static void check_rfc7714_srtcp(const char *name, enum mg_srtp_suite suite, const char *key_hex,
				const char *expected_hex)
{
	uint8_t key[32], salt[12], plain[128], expected[128], packet[256];
	test_hex_decode(key_hex, key, sizeof(key));
	test_hex_decode("517569642070726f2071756f", salt, sizeof(salt));
	size_t plain_len = test_hex_decode(rtcp_plain_hex, plain, sizeof(plain));
	size_t expected_len = test_hex_decode(expected_hex, expected, sizeof(expected));
	struct mg_srtp_key_params kp = {.suite = suite, .master_key = key, .master_salt = salt};
	mg_srtp_ctx *tx = aligned_alloc(64, sizeof(*tx)), *rx = aligned_alloc(64, sizeof(*rx));
	CHECK(mg_srtp_ctx_init_session_keys_for_test(tx, engine, &kp, NULL) == 0, "init");
	CHECK(mg_srtp_ctx_init_session_keys_for_test(rx, engine, &kp, NULL) == 0, "init");

	/* the vector uses SRTCP index 0x5d4; the sender starts at 1 */
	uint32_t len = 0;
	for (uint32_t index = 1; index <= 0x5d4; index++) {
		memcpy(packet, plain, plain_len);
		len = (uint32_t)plain_len;
		CHECK(mg_srtcp_protect(engine, tx, packet, &len, sizeof(packet)) == MG_SRTP_OK,
		      "srtcp protect");
	}
	int ok = len == expected_len && !memcmp(packet, expected, len);
	CHECK(ok, "%s SRTCP protect", name);
	printf("RFC 7714 %-20s SRTCP protect:   %s\n", name, ok ? "ok" : "MISMATCH");

	memcpy(packet, expected, expected_len);
	len = (uint32_t)expected_len;
	enum mg_srtp_status st = mg_srtcp_unprotect(engine, rx, packet, &len);
	ok = st == MG_SRTP_OK && len == plain_len && !memcmp(packet, plain, len);
	CHECK(ok, "%s SRTCP unprotect (%s)", name, mg_srtp_status_str(st));
	printf("RFC 7714 %-20s SRTCP unprotect: %s\n", name, ok ? "ok" : "MISMATCH");
	free(tx);
	free(rx);
}

int main(int argc, char **argv)
{
	engine = mg_srtp_engine_create((enum mg_srtp_arch)test_arch_from_args(argc, argv));
	if (!engine) {
		printf("SKIP: arch not available\n");
		return argc > 1 ? 77 : 1;
	}
	printf("engine: %s\n", mg_srtp_engine_describe(engine));

	/* RFC 3711 B.3 */
	const char *mk = "E1F97A0D3E018BE0D64FA32C06DE4139", *ms = "0EC675AD498AFEEBB6960B3AABE6";
	check_kdf("RFC 3711 B.3", mk, ms, 0x00, "C61E7A93744F39EE10734AFE3FF7A087");
	check_kdf("RFC 3711 B.3", mk, ms, 0x02, "30CBBC08863D8C85D49DB34A9AE1");
	check_kdf("RFC 3711 B.3", mk, ms, 0x01,
		  "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
		  "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
		  "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2");
	/* RFC 6188 7.2 */
	const char *mk256 = "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6";
	const char *ms256 = "3b04803de51ee7c96423ab5b78d2";
	check_kdf("RFC 6188 7.2", mk256, ms256, 0x00,
		  "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
	check_kdf("RFC 6188 7.2", mk256, ms256, 0x02, "fa31791685ca444a9e07c6c64e93");
	check_kdf("RFC 6188 7.2", mk256, ms256, 0x01, "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05");

	/* RFC 3711 B.2 and RFC 6188 7.1: first three keystream blocks */
	check_keystream("RFC 3711 B.2", MG_SRTP_AES_CM_128_HMAC_SHA1_80,
			"2B7E151628AED2A6ABF7158809CF4F3C", "F0F1F2F3F4F5F6F7F8F9FAFBFCFD",
			"E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB"
			"41E95B3BB0A2E8DD477901E4FCA894C0");
	check_keystream("RFC 6188 7.1", MG_SRTP_AES_256_CM_HMAC_SHA1_80,
			"57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98",
			"f0f1f2f3f4f5f6f7f8f9fafbfcfd",
			"92bdd28a93c3f52511c677d08b5515a49da71b2378a854f67050756ded165bac"
			"63c4868b7096d88421b563b8c94c9a31");

	/* RFC 7714 16 / 17 */
	const char *k128 = "000102030405060708090a0b0c0d0e0f";
	const char *k256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	check_rfc7714_srtp(
	    "16.1.1 AES-128-GCM", MG_SRTP_AEAD_AES_128_GCM, k128,
	    "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f"
	    "42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce");
	check_rfc7714_srtp(
	    "16.2.1 AES-256-GCM", MG_SRTP_AEAD_AES_256_GCM, k256,
	    "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3"
	    "b50b2a0276ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13");
	check_rfc7714_srtcp(
	    "17.1 AES-128-GCM", MG_SRTP_AEAD_AES_128_GCM, k128,
	    "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1"
	    "730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4");
	check_rfc7714_srtcp(
	    "17.2 AES-256-GCM", MG_SRTP_AEAD_AES_256_GCM, k256,
	    "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1"
	    "110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4");

	/* RFC 7714 17.3: E = 0 (authenticated, not encrypted). Valid per the RFC, but never
	 * negotiated by mediagate (UNENCRYPTED_SRTCP is refused), so it must be refused. */
	{
		uint8_t key[16], salt[12], packet[256];
		test_hex_decode(k128, key, sizeof(key));
		test_hex_decode("517569642070726f2071756f", salt, sizeof(salt));
		uint32_t len = (uint32_t)test_hex_decode(
		    "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeef"
		    "deadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4",
		    packet, sizeof(packet));
		struct mg_srtp_key_params kp = {
		    .suite = MG_SRTP_AEAD_AES_128_GCM, .master_key = key, .master_salt = salt};
		mg_srtp_ctx *rx = aligned_alloc(64, sizeof(*rx));
		CHECK(mg_srtp_ctx_init_session_keys_for_test(rx, engine, &kp, NULL) == 0, "init");
		enum mg_srtp_status st = mg_srtcp_unprotect(engine, rx, packet, &len);
		CHECK(st == MG_SRTP_ERR_MALFORMED, "17.3 unencrypted SRTCP: %s",
		      mg_srtp_status_str(st));
		printf("RFC 7714 17.3 E=0 SRTCP refused: %s\n", mg_srtp_status_str(st));
		free(rx);
	}

	mg_srtp_engine_destroy(engine);
	return test_report("srtp-vectors");
}
