/* Every way a packet must be refused, for all six suites, SRTP and SRTCP: forgery (every
 * byte of the header and of the tag flipped, payload bits), replay, too old, wrong key,
 * wrong MKI, truncation at every length, no room, key lifetime exhaustion; the counters; no
 * plaintext left behind a failure; SSRC state not evicted by forged packets. */
#include <errno.h>
#include <stdlib.h>

#include "srtp.h"
#include "test_util.h"

#define BUF 1600

static mg_srtp_engine *engine;

static mg_srtp_ctx *new_ctx(enum mg_srtp_suite suite, const uint8_t *key_salt, int mki_len)
{
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	struct mg_srtp_key_params kp = {
	    .suite = suite, .master_key = key_salt, .master_salt = key_salt + info->key_len};
	kp.mki_len = (uint8_t)mki_len;
	for (int i = 0; i < mki_len; i++)
		kp.mki[i] = (uint8_t)(0xA0 + i);
	mg_srtp_ctx *ctx = aligned_alloc(64, sizeof(*ctx));
	CHECK(mg_srtp_ctx_init(ctx, engine, &kp) == 0, "ctx init");
	return ctx;
}

static enum mg_srtp_status unprotect(mg_srtp_ctx *rx, int rtcp, uint8_t *p, uint32_t *len)
{
	return rtcp ? mg_srtcp_unprotect(engine, rx, p, len)
		    : mg_srtp_unprotect(engine, rx, p, len);
}

static enum mg_srtp_status protect(mg_srtp_ctx *tx, int rtcp, uint8_t *p, uint32_t *len)
{
	return rtcp ? mg_srtcp_protect(engine, tx, p, len, BUF)
		    : mg_srtp_protect(engine, tx, p, len, BUF);
}

static uint32_t make(int rtcp, uint8_t *p, uint16_t seq, uint32_t ssrc, int variant)
{
	return rtcp ? test_make_rtcp(p, ssrc, 160)
		    : test_make_rtp(p, seq, seq * 160u, ssrc, variant, 160);
}

/* True if the 160-byte plaintext payload appears anywhere in p. */
static int holds_plaintext(const uint8_t *p, uint32_t len, const uint8_t *plain_payload)
{
	for (uint32_t off = 0; off + 160 <= len; off++)
		if (!memcmp(p + off, plain_payload, 160))
			return 1;
	return 0;
}

static void test_suite(enum mg_srtp_suite suite, int rtcp, int mki_len)
{
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	const char *what = rtcp ? "SRTCP" : "SRTP";
	uint8_t key_salt[46], other_key[46];
	test_fill_random(key_salt, sizeof(key_salt));
	memcpy(other_key, key_salt, sizeof(other_key));
	other_key[3] ^= 1;
	mg_srtp_ctx *tx = new_ctx(suite, key_salt, mki_len);
	mg_srtp_ctx *rx = new_ctx(suite, key_salt, mki_len);
	mg_srtp_ctx *pristine = aligned_alloc(64, sizeof(*pristine));
	mg_srtp_ctx *wrong_key = new_ctx(suite, other_key, mki_len);
	mg_srtp_ctx *wrong_mki = new_ctx(suite, key_salt, mki_len ? mki_len : 2);
	if (mki_len)
		wrong_mki->mki[0] ^= 0xff;
	const uint32_t ssrc = 0x12345678;
	static uint8_t plain[BUF], work[BUF];
	static uint8_t history[300][BUF];
	static uint32_t history_len[300];

	/* 300 in-order packets, kept for replay tests; accepted once */
	for (int i = 0; i < 300; i++) {
		uint32_t len = make(rtcp, plain, (uint16_t)(65400 + i), ssrc, i % 4);
		memcpy(history[i], plain, len);
		CHECK(protect(tx, rtcp, history[i], &len) == MG_SRTP_OK, "protect");
		history_len[i] = len;
		if (i == 0) /* receiver state before anything was accepted */
			memcpy(pristine, rx, sizeof(*rx));
		if (i == 299)
			break; /* the last one is kept for the forgery tests */
		memcpy(work, history[i], len);
		CHECK(unprotect(rx, rtcp, work, &len) == MG_SRTP_OK, "%s %s unprotect %d",
		      info->name, what, i);
	}

	/* replay: every packet of the last 100 again -> replay; older ones -> too old */
	for (int i = 199; i < 299; i++) {
		uint32_t len = history_len[i];
		memcpy(work, history[i], len);
		enum mg_srtp_status st = unprotect(rx, rtcp, work, &len);
		CHECK(st == MG_SRTP_ERR_REPLAY, "%s %s replay %d: %s", info->name, what, i,
		      mg_srtp_status_str(st));
	}
	for (int i = 0; i < 150; i++) {
		uint32_t len = history_len[i];
		memcpy(work, history[i], len);
		enum mg_srtp_status st = unprotect(rx, rtcp, work, &len);
		CHECK(st == MG_SRTP_ERR_TOO_OLD, "%s %s too old %d: %s", info->name, what, i,
		      mg_srtp_status_str(st));
	}

	/* forgery: flip each byte of the packet (header, payload sample, index, MKI, tag) */
	const uint8_t *good = history[299];
	uint32_t good_len = history_len[299];
	const uint8_t *plain_payload = plain + (good_len - 160 - info->srtp_tag_len - mki_len);
	if (rtcp)
		plain_payload = plain + 8;
	int flips = 0, flip_fail = 0;
	for (uint32_t pos = 0; pos < good_len; pos++) {
		/* payload: only a sample of positions, the rest costs time and adds nothing */
		int in_payload = pos >= 40 && pos < good_len - 40;
		if (in_payload && pos % 37)
			continue;
		for (int bit = 0; bit < 8; bit += 7) {
			mg_srtp_ctx scratch_rx;
			memcpy(&scratch_rx, rx, sizeof(scratch_rx));
			uint32_t len = good_len;
			memcpy(work, good, len);
			work[pos] ^= (uint8_t)(1u << bit);
			enum mg_srtp_status st = unprotect(&scratch_rx, rtcp, work, &len);
			flips++;
			if (st == MG_SRTP_OK) {
				flip_fail++;
				CHECK(0, "%s %s: flipped byte %u bit %d accepted", info->name, what,
				      pos, bit);
			}
			CHECK(!holds_plaintext(work, good_len, plain_payload),
			      "%s %s: plaintext left after failure (byte %u)", info->name, what,
			      pos);
		}
	}
	/* the unmodified packet is then accepted */
	{
		uint32_t len = good_len;
		memcpy(work, good, len);
		enum mg_srtp_status st = unprotect(rx, rtcp, work, &len);
		CHECK(st == MG_SRTP_OK, "%s %s last packet: %s", info->name, what,
		      mg_srtp_status_str(st));
	}

	/* wrong key, wrong MKI */
	{
		uint32_t len = good_len;
		memcpy(work, good, len);
		enum mg_srtp_status st = unprotect(wrong_key, rtcp, work, &len);
		CHECK(st == MG_SRTP_ERR_AUTH, "%s %s wrong key: %s", info->name, what,
		      mg_srtp_status_str(st));
		CHECK(!holds_plaintext(work, good_len, plain_payload), "plaintext after wrong key");
		len = good_len;
		memcpy(work, good, len);
		st = unprotect(wrong_mki, rtcp, work, &len);
		/* without MKI configured on the sender the MKI-expecting receiver reads
		 * tag bytes as MKI: either way it must fail */
		CHECK(st == (mki_len ? MG_SRTP_ERR_MKI : st) && st != MG_SRTP_OK,
		      "%s %s wrong MKI: %s", info->name, what, mg_srtp_status_str(st));
	}

	/* truncation at every length, on a fresh receiver */
	for (uint32_t cut = 0; cut < good_len; cut++) {
		mg_srtp_ctx scratch_rx;
		memcpy(&scratch_rx, pristine, sizeof(scratch_rx));
		uint32_t len = cut;
		memcpy(work, good, good_len);
		enum mg_srtp_status st = unprotect(&scratch_rx, rtcp, work, &len);
		CHECK(st == MG_SRTP_ERR_MALFORMED || st == MG_SRTP_ERR_AUTH ||
			  st == MG_SRTP_ERR_MKI,
		      "%s %s truncated to %u: %s", info->name, what, cut, mg_srtp_status_str(st));
	}

	/* no room for the trailer */
	{
		uint32_t len = make(rtcp, work, 1, ssrc, 0);
		uint32_t capacity = len + info->srtp_tag_len + mki_len - 1;
		enum mg_srtp_status st = rtcp ? mg_srtcp_protect(engine, tx, work, &len, capacity)
					      : mg_srtp_protect(engine, tx, work, &len, capacity);
		CHECK(st == MG_SRTP_ERR_NO_ROOM, "%s %s no room: %s", info->name, what,
		      mg_srtp_status_str(st));
	}

	const struct mg_srtp_counters counters = mg_srtp_ctx_counters(rx), *c = &counters;
	CHECK(c->failed[MG_SRTP_ERR_REPLAY] == 100, "replay counter %lu",
	      (unsigned long)c->failed[MG_SRTP_ERR_REPLAY]);
	CHECK(c->failed[MG_SRTP_ERR_TOO_OLD] == 150, "too old counter %lu",
	      (unsigned long)c->failed[MG_SRTP_ERR_TOO_OLD]);
	CHECK((rtcp ? c->srtcp_ok : c->srtp_ok) == 300, "ok counter");
	CHECK(mg_srtp_ctx_counters(wrong_key).failed[MG_SRTP_ERR_AUTH] == 1, "auth counter");
	printf("%-24s %-5s MKI %d: replay/too-old/forgery (%d flips)/wrong key/MKI/truncation ok\n",
	       info->name, what, mki_len, flips);
	(void)flip_fail;
	free(tx);
	free(rx);
	free(pristine);
	free(wrong_key);
	free(wrong_mki);
}

static void test_key_exhaustion(enum mg_srtp_suite suite)
{
	uint8_t key_salt[46];
	test_fill_random(key_salt, sizeof(key_salt));
	mg_srtp_ctx *tx = new_ctx(suite, key_salt, 0), *rx = new_ctx(suite, key_salt, 0);
	mg_srtp_ctx_set_packet_limits_for_test(tx, 5, 3);
	mg_srtp_ctx_set_packet_limits_for_test(rx, 4, 2);
	uint8_t packets[8][BUF];
	uint32_t lens[8];
	for (int i = 0; i < 8; i++) {
		lens[i] = test_make_rtp(packets[i], (uint16_t)i, 0, 7, 0, 20);
		enum mg_srtp_status st = mg_srtp_protect(engine, tx, packets[i], &lens[i], BUF);
		CHECK(st == (i < 5 ? MG_SRTP_OK : MG_SRTP_ERR_KEY_EXHAUSTED), "tx exhaust %d: %s",
		      i, mg_srtp_status_str(st));
	}
	for (int i = 0; i < 5; i++) {
		enum mg_srtp_status st = mg_srtp_unprotect(engine, rx, packets[i], &lens[i]);
		CHECK(st == (i < 4 ? MG_SRTP_OK : MG_SRTP_ERR_KEY_EXHAUSTED), "rx exhaust %d: %s",
		      i, mg_srtp_status_str(st));
	}
	for (int i = 0; i < 4; i++) {
		lens[i] = test_make_rtcp(packets[i], 7, 20);
		enum mg_srtp_status st = mg_srtcp_protect(engine, tx, packets[i], &lens[i], BUF);
		CHECK(st == (i < 3 ? MG_SRTP_OK : MG_SRTP_ERR_KEY_EXHAUSTED), "srtcp tx exhaust %d",
		      i);
	}
	for (int i = 0; i < 3; i++) {
		enum mg_srtp_status st = mg_srtcp_unprotect(engine, rx, packets[i], &lens[i]);
		CHECK(st == (i < 2 ? MG_SRTP_OK : MG_SRTP_ERR_KEY_EXHAUSTED), "srtcp rx exhaust %d",
		      i);
	}
	CHECK(mg_srtp_ctx_counters(tx).failed[MG_SRTP_ERR_KEY_EXHAUSTED] == 4, "tx counter");
	CHECK(mg_srtp_ctx_counters(rx).failed[MG_SRTP_ERR_KEY_EXHAUSTED] == 2, "rx counter");

	/* the limit is also enforced inside one burst: 6 authentic packets, 4 left */
	{
		mg_srtp_ctx *btx = new_ctx(suite, key_salt, 0), *brx = new_ctx(suite, key_salt, 0);
		mg_srtp_ctx_set_packet_limits_for_test(brx, 4, 4);
		struct mg_srtp_pkt burst[6];
		uint8_t st[6];
		for (int i = 0; i < 6; i++) {
			lens[i] = test_make_rtp(packets[i], (uint16_t)(100 + i), 0, 9, 0, 20);
			burst[i] = (struct mg_srtp_pkt){packets[i], lens[i], BUF, btx};
		}
		CHECK(mg_srtp_protect_burst(engine, burst, 6, st) == 6, "burst protect");
		for (int i = 0; i < 6; i++)
			burst[i].ctx = brx;
		CHECK(mg_srtp_unprotect_burst(engine, burst, 6, st) == 4, "burst exhaustion");
		CHECK(st[4] == MG_SRTP_ERR_KEY_EXHAUSTED && st[5] == MG_SRTP_ERR_KEY_EXHAUSTED,
		      "burst exhaustion statuses %u %u", st[4], st[5]);
		CHECK(mg_srtp_ctx_counters(brx).srtp_ok == 4, "ok = 4");
		free(btx);
		free(brx);
	}

	/* a=crypto lifetime: 2^2 packets */
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	struct mg_srtp_key_params kp = {.suite = suite,
					.master_key = key_salt,
					.master_salt = key_salt + info->key_len,
					.lifetime = 4};
	CHECK(mg_srtp_ctx_init(tx, engine, &kp) == 0, "init with lifetime");
	for (int i = 0; i < 5; i++) {
		lens[i] = test_make_rtp(packets[i], (uint16_t)i, 0, 7, 0, 20);
		enum mg_srtp_status st = mg_srtp_protect(engine, tx, packets[i], &lens[i], BUF);
		CHECK(st == (i < 4 ? MG_SRTP_OK : MG_SRTP_ERR_KEY_EXHAUSTED), "lifetime %d", i);
	}
	printf("%-24s key lifetime exhaustion ok\n", info->name);
	free(tx);
	free(rx);
}

/* SSRC slots: a 5th SSRC replaces the least recently used; a forged packet with a new SSRC
 * does not replace anything; a wrapped stream's replays are still caught. */
static void test_ssrc_slots(void)
{
	uint8_t key_salt[46];
	test_fill_random(key_salt, sizeof(key_salt));
	mg_srtp_ctx *tx = new_ctx(MG_SRTP_AES_CM_128_HMAC_SHA1_80, key_salt, 0);
	mg_srtp_ctx *rx = new_ctx(MG_SRTP_AES_CM_128_HMAC_SHA1_80, key_salt, 0);
	uint8_t p[BUF], saved[BUF];
	uint32_t saved_len = 0;
	for (uint32_t s = 1; s <= 4; s++) {
		for (int i = 0; i < 3; i++) {
			uint32_t len = test_make_rtp(p, (uint16_t)(65534 + i), 0, s, 0, 10);
			CHECK(mg_srtp_protect(engine, tx, p, &len, BUF) == MG_SRTP_OK, "protect");
			if (s == 1 && i == 1) {
				memcpy(saved, p, len);
				saved_len = len;
			}
			CHECK(mg_srtp_unprotect(engine, rx, p, &len) == MG_SRTP_OK, "unprotect");
		}
	}
	/* replay across the wrap: seq 65535 (ROC 0) after seq 0 (ROC 1) */
	uint32_t len = saved_len;
	memcpy(p, saved, len);
	CHECK(mg_srtp_unprotect(engine, rx, p, &len) == MG_SRTP_ERR_REPLAY, "replay across wrap");

	/* forged packets from 50 new SSRCs: no state replaced */
	for (uint32_t s = 100; s < 150; s++) {
		len = test_make_rtp(p, 5, 0, s, 0, 10);
		memset(p + len, 0x55, 10);
		len += 10;
		CHECK(mg_srtp_unprotect(engine, rx, p, &len) == MG_SRTP_ERR_AUTH, "forged ssrc");
	}
	CHECK(mg_srtp_ctx_counters(rx).ssrc_replaced == 0, "forged SSRCs evicted state");
	len = saved_len;
	memcpy(p, saved, len);
	CHECK(mg_srtp_unprotect(engine, rx, p, &len) == MG_SRTP_ERR_REPLAY,
	      "replay still caught after forged SSRCs");
	uint32_t roc = 0;
	CHECK(mg_srtp_ctx_get_roc(rx, 1, &roc) == 0 && roc == 1, "ROC of SSRC 1 = %u", roc);

	/* a real 5th SSRC replaces the least recently used: SSRC 1 (failed packets do not
	 * refresh a slot) */
	len = test_make_rtp(p, 9, 0, 5, 0, 10);
	CHECK(mg_srtp_protect(engine, tx, p, &len, BUF) == MG_SRTP_OK, "protect ssrc 5");
	CHECK(mg_srtp_unprotect(engine, rx, p, &len) == MG_SRTP_OK, "unprotect ssrc 5");
	CHECK(mg_srtp_ctx_counters(rx).ssrc_replaced == 1, "5th SSRC replaced one");
	CHECK(mg_srtp_ctx_get_roc(rx, 1, &roc) == -ENOENT, "LRU SSRC 1 replaced");
	printf("SSRC slots: LRU replacement, forged SSRCs do not evict, replay across wrap ok\n");
	free(tx);
	free(rx);
}

/* A mixed burst: good, forged, replayed, malformed, no-context packets side by side; each
 * gets its own status and the good ones are unaffected. */
static void test_mixed_burst(void)
{
	uint8_t key_salt[46];
	test_fill_random(key_salt, sizeof(key_salt));
	mg_srtp_ctx *tx = new_ctx(MG_SRTP_AEAD_AES_128_GCM, key_salt, 0);
	mg_srtp_ctx *rx = new_ctx(MG_SRTP_AEAD_AES_128_GCM, key_salt, 0);
	enum { N = 70 };
	static uint8_t bufs[N][BUF];
	struct mg_srtp_pkt pkts[N];
	uint8_t status[N];
	for (int i = 0; i < N; i++) {
		uint32_t len = test_make_rtp(bufs[i], (uint16_t)(i % 60), 0, 42, 0, 100);
		pkts[i] =
		    (struct mg_srtp_pkt){.data = bufs[i], .len = len, .capacity = BUF, .ctx = tx};
	}
	/* packets 60..69 repeat seq 0..9: the sender protects them with the same index */
	CHECK(mg_srtp_protect_burst(engine, pkts, N, status) == N, "protect burst");
	for (int i = 0; i < N; i++)
		pkts[i].ctx = rx;
	bufs[5][20] ^= 1;   /* forged */
	pkts[7].len = 3;    /* malformed */
	pkts[8].ctx = NULL; /* no context */
	unsigned ok = mg_srtp_unprotect_burst(engine, pkts, N, status);
	CHECK(status[5] == MG_SRTP_ERR_AUTH, "forged in burst: %s", mg_srtp_status_str(status[5]));
	CHECK(status[7] == MG_SRTP_ERR_MALFORMED, "malformed in burst");
	CHECK(status[8] == MG_SRTP_ERR_NO_CONTEXT, "no context in burst");
	for (int i = 60; i < N; i++)
		if (i - 60 != 5 && i - 60 != 7 && i - 60 != 8)
			CHECK(status[i] == MG_SRTP_ERR_REPLAY, "replay in same burst %d: %s", i,
			      mg_srtp_status_str(status[i]));
	CHECK(ok == 57 + 3, "ok count %u", ok);
	printf("mixed burst: per-packet statuses ok\n");
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
	for (int s = MG_SRTP_SUITE_NONE + 1; s < MG_SRTP_SUITE_COUNT; s++) {
		for (int rtcp = 0; rtcp <= 1; rtcp++) {
			test_suite((enum mg_srtp_suite)s, rtcp, 0);
			test_suite((enum mg_srtp_suite)s, rtcp, 4);
		}
		test_key_exhaustion((enum mg_srtp_suite)s);
	}
	test_ssrc_slots();
	test_mixed_burst();
	mg_srtp_engine_destroy(engine);
	return test_report("srtp-status");
}
