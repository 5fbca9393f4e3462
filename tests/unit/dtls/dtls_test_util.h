/* Shared helpers of the DTLS unit tests: clocks and SRTP checks of exported keys against
 * lib/srtp and libsrtp2. */
#ifndef MG_DTLS_TEST_UTIL_H
#define MG_DTLS_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "check.h"
#include "dtls.h"

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
}

static inline void libsrtp_policy(enum mg_srtp_suite suite, srtp_policy_t *p)
{
	memset(p, 0, sizeof(*p));
	switch (suite) {
	case MG_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_rtp_default(&p->rtp);
		srtp_crypto_policy_set_rtcp_default(&p->rtcp);
		break;
	case MG_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_rtcp_default(&p->rtcp);
		break;
	case MG_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	case MG_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
		break;
	default:
		break;
	}
	p->window_size = 128;
}

static inline srtp_t libsrtp_session(const struct mg_srtp_key_params *kp, int outbound,
				     uint8_t *keybuf)
{
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(kp->suite);
	memcpy(keybuf, kp->master_key, si->key_len);
	memcpy(keybuf + si->key_len, kp->master_salt, si->salt_len);
	srtp_policy_t p;
	libsrtp_policy(kp->suite, &p);
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = keybuf;
	srtp_t s = NULL;
	if (srtp_create(&s, &p) != srtp_err_status_ok)
		return NULL;
	return s;
}

static inline size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
	buf[0] = 0x80;
	buf[1] = 0;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	uint32_t ts = seq * 160u;
	buf[4] = (uint8_t)(ts >> 24), buf[5] = (uint8_t)(ts >> 16), buf[6] = (uint8_t)(ts >> 8),
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24), buf[9] = (uint8_t)(ssrc >> 16),
	buf[10] = (uint8_t)(ssrc >> 8), buf[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload; i++)
		buf[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + payload;
}

/* Sender keys tx (one side) against receiver keys rx (the other side): lib/srtp protects, lib/srtp
 * and libsrtp2 unprotect; libsrtp2 protects the same packets byte-identically; RTCP too.
 * Returns the number of failed checks. */
static inline int srtp_keys_work(mg_srtp_engine *eng, const struct mg_srtp_key_params *tx,
				 const struct mg_srtp_key_params *rx,
				 const struct mg_srtp_key_params *wrong, const char *what)
{
	int before = check_failures;
	mg_srtp_ctx *ctx_tx = aligned_alloc(128, sizeof(mg_srtp_ctx));
	mg_srtp_ctx *ctx_rx = aligned_alloc(128, sizeof(mg_srtp_ctx));
	uint8_t k1[64], k2[64];
	CHECK(mg_srtp_ctx_init(ctx_tx, eng, tx) == 0);
	CHECK(mg_srtp_ctx_init(ctx_rx, eng, rx) == 0);
	srtp_t lib_tx = libsrtp_session(tx, 1, k1), lib_rx = libsrtp_session(rx, 0, k2);
	CHECK(lib_tx && lib_rx);
	int ok_ours = 0, ok_lib = 0, identical = 0;
	for (uint16_t seq = 1000; seq < 1010; seq++) {
		uint8_t orig[256], ours[256], lib[256];
		size_t n = make_rtp(orig, seq, 0x5eed0001u, 160);
		memcpy(ours, orig, n);
		memcpy(lib, orig, n);
		uint32_t len = (uint32_t)n;
		CHECK(mg_srtp_protect(eng, ctx_tx, ours, &len, sizeof(ours)) == MG_SRTP_OK);
		int llen = (int)n;
		CHECK(lib_tx && srtp_protect(lib_tx, lib, &llen) == srtp_err_status_ok);
		if ((uint32_t)llen == len && memcmp(ours, lib, len) == 0)
			identical++;
		/* libsrtp2 receiver decrypts ours */
		uint8_t copy[256];
		memcpy(copy, ours, len);
		int clen = (int)len;
		if (lib_rx && srtp_unprotect(lib_rx, copy, &clen) == srtp_err_status_ok &&
		    (size_t)clen == n && memcmp(copy, orig, n) == 0)
			ok_lib++;
		/* lib/srtp receiver (the other endpoint's keys) */
		uint32_t rlen = len;
		if (mg_srtp_unprotect(eng, ctx_rx, ours, &rlen) == MG_SRTP_OK && rlen == n &&
		    memcmp(ours, orig, n) == 0)
			ok_ours++;
	}
	CHECK_EQ_INT(identical, 10);
	CHECK_EQ_INT(ok_lib, 10);
	CHECK_EQ_INT(ok_ours, 10);
	/* one RTCP receiver report each way through both */
	uint8_t rtcp[64] = {0x81, 201, 0, 7, 0x5e, 0xed, 0, 1};
	for (int i = 8; i < 32; i++)
		rtcp[i] = (uint8_t)i;
	uint8_t r2[96];
	memcpy(r2, rtcp, 32);
	uint32_t rl = 32;
	CHECK(mg_srtcp_protect(eng, ctx_tx, r2, &rl, sizeof(r2)) == MG_SRTP_OK);
	int il = (int)rl;
	CHECK(lib_rx && srtp_unprotect_rtcp(lib_rx, r2, &il) == srtp_err_status_ok && il == 32 &&
	      memcmp(r2, rtcp, 32) == 0);
	/* the key of the other direction (the sender's own rx) does not authenticate */
	if (wrong) {
		uint8_t pkt[256];
		size_t n = make_rtp(pkt, 7, 0x5eed0002u, 100);
		uint32_t wl = (uint32_t)n;
		mg_srtp_ctx_wipe(ctx_tx);
		CHECK(mg_srtp_ctx_init(ctx_tx, eng, tx) == 0);
		CHECK(mg_srtp_protect(eng, ctx_tx, pkt, &wl, sizeof(pkt)) == MG_SRTP_OK);
		mg_srtp_ctx_wipe(ctx_rx);
		CHECK(mg_srtp_ctx_init(ctx_rx, eng, wrong) == 0);
		CHECK(mg_srtp_unprotect(eng, ctx_rx, pkt, &wl) == MG_SRTP_ERR_AUTH);
	}
	printf("  %s: %s rtp identical to libsrtp2 %d/10, libsrtp2 decrypts %d/10, lib/srtp "
	       "decrypts %d/10\n",
	       what, mg_srtp_suite_info(tx->suite)->name, identical, ok_lib, ok_ours);
	if (lib_tx)
		srtp_dealloc(lib_tx);
	if (lib_rx)
		srtp_dealloc(lib_rx);
	mg_srtp_ctx_wipe(ctx_tx);
	mg_srtp_ctx_wipe(ctx_rx);
	free(ctx_tx);
	free(ctx_rx);
	return check_failures - before;
}

#endif
