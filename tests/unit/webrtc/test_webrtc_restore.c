/* A WebRTC leg through a restart: a browser call set up through the real ng handler, an ICE
 * check and a whole in-process DTLS handshake (lib/dtls client) against lib/webrtc; then its
 * snapshot is taken as the state writer does (secrets sealed with lib/keys under an instance
 * key in SoftHSM2), the sessions and the WebRTC manager are torn down, and a new pair restores
 * the call from the snapshot. Checked after the restore:
 * - the snapshot holds neither the ICE password nor the SRTP keys in clear;
 * - the leg has SRTP contexts again, without a handshake: what the browser protects with its
 *   DTLS keys (continuing its sequence) is unprotected by the restored srtp_in, what the
 *   restored srtp_out protects the browser unprotects;
 * - a STUN check with the old credentials is answered (success), a wrong password gets 401;
 * - a re-INVITE with the same fingerprint starts no handshake and keeps the keys;
 * - consent expiry and deletion work as before.
 * EAL on a port made of rte_rings (workers not launched), as test_webrtc_ng.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "check.h"
#include "dataplane.h"
#include "dtls.h"
#include "keys.h"
#include "ng.h"
#include "session.h"
#include "session_secrets.h"
#include "stun.h"
#include "webrtc.h"
#include "webrtc_harness.h"

static struct mg_keys_blob *blob;

static int seal(void *arg, const char *instance, const char *field, const char *plain, size_t len,
		char **out, char *err, size_t errlen)
{
	(void)arg;
	(void)instance;
	int rc = mg_keys_blob_seal(blob, "inst-a", field, plain, len, out);
	snprintf(err, errlen, "%s", mg_keys_strerror(rc));
	return rc == MG_KEYS_OK ? 0 : -1;
}

static int open_sealed(void *arg, const char *instance, const char *field, const char *sealed,
		       size_t len, char **out, size_t *out_len, char *err, size_t errlen)
{
	(void)arg;
	(void)instance;
	uint8_t *plain = NULL;
	int rc = mg_keys_blob_open(blob, "inst-a", field, sealed, len, &plain, out_len);
	snprintf(err, errlen, "%s", mg_keys_strerror(rc));
	*out = (char *)plain;
	return rc == MG_KEYS_OK ? 0 : -1;
}

static void start(void)
{
	sessions = mg_sessions_create(dp, 64);
	struct mg_profile profile;
	mg_profile_defaults(&profile);
	ng = sessions ? mg_ng_create(sessions, &profile) : NULL;
	wr = ng ? mg_ng_webrtc(ng) : NULL;
	struct mg_session_sealer sealer = {.seal = seal, .open = open_sealed};
	if (sessions)
		mg_sessions_set_sealer(sessions, &sealer, NULL);
}

static void stop(void)
{
	mg_ng_destroy(ng);
	mg_sessions_destroy(sessions);
	while (mg_dp_control_poll(dp))
		;
	ng = NULL;
	sessions = NULL;
	wr = NULL;
}

static const char *browser_offer(const char *fingerprint)
{
	static char sdp[4096];
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
		 "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"
		 "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:brws\r\na=ice-pwd:" BROWSER_PWD "\r\n"
		 "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
		 "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host\r\n",
		 fingerprint);
	return sdp;
}

static const char *carrier_sdp =
    "v=0\r\no=c 1 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";

static struct mg_dp_slow_udp pkt_from(uint16_t local_port, uint8_t demux, const uint8_t *data,
				      size_t len)
{
	struct mg_dp_slow_udp p = {.iface = 0,
				   .local_port = local_port,
				   .src_ip = BROWSER_IP,
				   .src_port = BROWSER_PORT,
				   .src_mac = {{2, 0, 0, 0, 0, 2}},
				   .demux = demux,
				   .payload = data,
				   .len = (uint16_t)len};
	return p;
}

static size_t control_sent(uint8_t *buf, size_t cap)
{
	struct rte_mbuf *m;
	if (rte_ring_sc_dequeue(tx_ring[1], (void **)&m) != 0)
		return 0;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	if (m->data_len < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17) {
		/* the control lcore's ARP (announcements after a restart): not ours */
		rte_pktmbuf_free(m);
		return control_sent(buf, cap);
	}
	size_t n = m->data_len - 42u;
	if (n > cap)
		n = cap;
	memcpy(buf, f + 42, n);
	rte_pktmbuf_free(m);
	return n;
}

static void drain_sent(void)
{
	uint8_t b[2048];
	while (control_sent(b, sizeof(b)))
		;
}

static size_t stun_check(uint8_t *out, const char *username, const char *pwd)
{
	struct mg_stun_builder b;
	uint8_t tid[MG_STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	mg_stun_build_init(&b, out, 512, MG_STUN_METHOD_BINDING, MG_STUN_CLASS_REQUEST, tid);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, username, strlen(username));
	mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 1853824767u);
	mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLING, 0x1122334455667788ull);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USE_CANDIDATE, NULL, 0);
	mg_stun_build_integrity(&b, (const uint8_t *)pwd, strlen(pwd));
	mg_stun_build_fingerprint(&b);
	return mg_stun_build_finish(&b);
}

/* A check on port with ufrag/pwd; the STUN error code of the answer (0: success, -1: none). */
static int check_answer(uint16_t port, const char *ufrag, const char *pwd)
{
	uint8_t req[512], resp[512];
	char user[128];
	snprintf(user, sizeof(user), "%s:brws", ufrag);
	size_t n = stun_check(req, user, pwd);
	struct mg_dp_slow_udp p = pkt_from(port, MG_DEMUX_STUN, req, n);
	mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	size_t rn = control_sent(resp, sizeof(resp));
	struct mg_stun_msg msg;
	if (!rn || mg_stun_parse(&msg, resp, rn) != MG_STUN_R_OK)
		return -1;
	return msg.has_error ? msg.error_code : 0;
}

static void handshake(mg_dtls *cl, uint16_t port)
{
	uint8_t buf[2048];
	mg_dtls_start(cl, mg_webrtc_now_ns());
	for (int round = 0; round < 20; round++) {
		int n;
		bool any = false;
		while ((n = mg_dtls_output(cl, buf, sizeof(buf))) > 0) {
			struct mg_dp_slow_udp p = pkt_from(port, MG_DEMUX_DTLS, buf, (size_t)n);
			mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
			any = true;
		}
		size_t m;
		while ((m = control_sent(buf, sizeof(buf))) > 0) {
			mg_dtls_input(cl, buf, m, mg_webrtc_now_ns());
			any = true;
		}
		if (!any)
			break;
	}
}

/* One RTP packet with sequence seq protected by `prot`, unprotected by `unprot`: true when
 * it comes out as it went in. */
static bool roundtrip(mg_srtp_ctx *prot, mg_srtp_ctx *unprot, uint16_t seq)
{
	mg_srtp_engine *eng = mg_dp_control_srtp_engine(dp);
	uint8_t rtp[256] = {0x80, 0,   (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 160, 0x12, 0x34,
			    0x56, 0x78};
	memset(rtp + 12, (uint8_t)seq, 160);
	uint8_t st;
	struct mg_srtp_pkt sp = {.data = rtp, .len = 172, .capacity = sizeof(rtp), .ctx = prot};
	if (mg_srtp_protect_burst(eng, &sp, 1, &st) != 1 || sp.len <= 172)
		return false;
	sp.ctx = unprot;
	return mg_srtp_unprotect_burst(eng, &sp, 1, &st) == 1 && sp.len == 172 &&
	       rtp[12] == (uint8_t)seq && rtp[171] == (uint8_t)seq;
}

static bool contains(const char *hay, size_t n, const void *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_webrtc_restore SOFTHSM_SETUP_SCRIPT\n");
		return 2;
	}
	char tmp[] = "/tmp/mg-webrtc-restore.XXXXXX";
	if (!mkdtemp(tmp))
		return 2;
	char cmd[1024], conf[600], state_dir[600];
	snprintf(cmd, sizeof(cmd), "bash %s %s/hsm mgtest 4321 87654321 >/dev/null", argv[1], tmp);
	if (system(cmd) != 0) {
		printf("FAIL: token setup\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/hsm/softhsm2.conf", tmp);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
	struct mg_keys *keys = NULL;
	struct mg_keys_config kc = {.state_dir = state_dir, .token_label = "mgtest", .pin = "4321"};
	char kid[MG_KEYS_ID_MAX];
	if (mg_keys_open(&keys, &kc) != MG_KEYS_OK ||
	    mg_keys_create(keys, "mediagate", "acct", "inst-a", 0, kid) != MG_KEYS_OK ||
	    mg_keys_blob_create(&blob, keys, "mediagate", 3600) != MG_KEYS_OK) {
		printf("FAIL: instance key\n");
		return 1;
	}

	char *eal[] = {"test_webrtc_restore",
		       "--no-huge",
		       "-m",
		       "256",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-l",
		       "0",
		       "--log-level=error",
		       NULL};
	if (rte_eal_init(10, eal) < 0)
		return 77;
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "wr_rx%d", i);
		rx_ring[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "wr_tx%d", i);
		tx_ring[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (rte_eth_from_rings("wr", rx_ring, 2, tx_ring, 2, 0) < 0)
		return 1;
	struct mg_profile profile;
	mg_profile_defaults(&profile);
	struct mg_profile_error perr;
	const char *text = "[eal]\nargs = x\n[lcores]\ncontrol = 0\nworkers = 1\n"
			   "[interface.lan]\ndevice = net_ring_wr\naddress = 10.0.0.1/24\n"
			   "[media]\nport_min = 30000\nport_max = 30199\nmbufs = 2047\n";
	if (mg_profile_parse(&profile, text, strlen(text), &perr) < 0)
		return 1;
	char err[256];
	dp = mg_dp_create(&profile, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "data plane: %s\n", err);
		return 1;
	}
	start();
	if (!wr)
		return 1;

	/* ---- a browser call, ICE check, DTLS handshake ---- */
	mg_dtls_ctx *bctx = mg_dtls_ctx_new("browser", 30);
	ng_request((const char *const[]){"command", "offer", "call-id", "r1", "from-tag", "browser",
					 "sdp", browser_offer(mg_dtls_ctx_fingerprint(bctx)),
					 "transport-protocol", "RTP/AVP", NULL});
	CHECK(ng_ok());
	ng_request((const char *const[]){"command", "answer", "call-id", "r1", "from-tag",
					 "browser", "to-tag", "carrier", "sdp", carrier_sdp, NULL});
	CHECK(ng_ok());
	char ufrag[64], pwd[64], fp[200], portstr[64];
	const char *a = ng_sdp();
	CHECK(sdp_attr(a, "a=ice-ufrag:", ufrag, sizeof(ufrag)));
	CHECK(sdp_attr(a, "a=ice-pwd:", pwd, sizeof(pwd)));
	CHECK(sdp_attr(a, "a=fingerprint:", fp, sizeof(fp)));
	CHECK(sdp_attr(a, "m=audio ", portstr, sizeof(portstr)));
	uint16_t port = (uint16_t)atoi(portstr);
	CHECK_EQ_INT(check_answer(port, ufrag, pwd), 0);
	struct mg_dtls_fingerprint sfp;
	CHECK(mg_dtls_fingerprint_parse(fp, strlen(fp), &sfp) == 0);
	struct mg_dtls_config ccfg = {.role = MG_DTLS_ROLE_CLIENT, .remote_fingerprint = &sfp};
	mg_dtls *cl = mg_dtls_new(bctx, &ccfg);
	handshake(cl, port);
	CHECK_EQ_INT(mg_dtls_state(cl), MG_DTLS_STATE_CONNECTED);
	struct mg_call *c = mg_call_find(sessions, "r1");
	CHECK(c != NULL);
	if (!c)
		return CHECK_DONE();
	struct mg_leg_cfg *cfg = &c->media[0].cfg[0];
	CHECK(cfg->srtp && cfg->srtp_in && cfg->srtp_out);

	/* the browser's contexts from its DTLS keys; media both ways before the restart */
	struct mg_dtls_srtp_keys ck;
	CHECK(mg_dtls_srtp_keys(cl, &ck) == 0);
	mg_srtp_engine *eng = mg_dp_control_srtp_engine(dp);
	mg_srtp_ctx *b_tx = mg_dp_srtp_ctx_alloc(), *b_rx = mg_dp_srtp_ctx_alloc();
	CHECK(mg_srtp_ctx_init(b_tx, eng, &ck.tx) == 0 && mg_srtp_ctx_init(b_rx, eng, &ck.rx) == 0);
	uint16_t seq = 100;
	for (int k = 0; k < 50; k++, seq++) {
		CHECK(roundtrip(b_tx, cfg->srtp_in, seq));
		CHECK(roundtrip(cfg->srtp_out, b_rx, seq));
	}

	/* ---- the snapshot, as the state writer makes it ---- */
	static char plain[16384], blobtext[32768];
	long pn = mg_call_encode_secrets(c, plain, sizeof(plain));
	CHECK(pn > 0);
	CHECK(contains(plain, (size_t)pn, "4:dtls", 6) &&
	      contains(plain, (size_t)pn, pwd, strlen(pwd)));
	CHECK(contains(plain, (size_t)pn, ck.tx_key, 16)); /* the browser's tx = our in */
	char *sealed = mg_call_seal_secrets(sessions, c, plain, pn);
	CHECK(sealed != NULL);
	explicit_bzero(plain, sizeof(plain));
	size_t bn = sealed ? mg_call_encode_sealed(c, sealed, blobtext, sizeof(blobtext)) : 0;
	free(sealed);
	CHECK(bn > 0);
	CHECK(!contains(blobtext, bn, pwd, strlen(pwd)));
	CHECK(!contains(blobtext, bn, ck.tx_key, 16) && !contains(blobtext, bn, ck.rx_key, 16));
	CHECK(!contains(blobtext, bn, ck.tx_salt, 14) && !contains(blobtext, bn, ck.rx_salt, 14));

	/* ---- restart: everything in memory goes, a new manager restores the call ---- */
	stop();
	CHECK_EQ_INT(mg_dp_legs_in_use(dp), 0);
	drain_sent();
	start();
	CHECK(wr != NULL);
	if (!wr)
		return CHECK_DONE();
	CHECK(mg_call_restore(sessions, blobtext, bn, err, sizeof(err)) == 0);
	CHECK_EQ_INT(mg_sessions_restore_pending(sessions, 100), 0);
	c = mg_call_find(sessions, "r1");
	CHECK(c != NULL);
	if (!c)
		return CHECK_DONE();
	cfg = &c->media[0].cfg[0];
	CHECK(cfg->srtp && cfg->srtp_in && cfg->srtp_out);
	CHECK(cfg->remote_rtp.ip == BROWSER_IP && cfg->remote_rtp.port == BROWSER_PORT);
	struct mg_webrtc_stats st0, st;
	mg_webrtc_get_stats(wr, &st0);
	CHECK_EQ_INT(st0.legs, 1);
	/* same keys, stream state carried on: both directions go on */
	for (int k = 0; k < 50; k++, seq++) {
		CHECK(roundtrip(b_tx, cfg->srtp_in, seq));
		CHECK(roundtrip(cfg->srtp_out, b_rx, seq));
	}
	/* the browser's consent checks: answered with the old credentials */
	CHECK_EQ_INT(check_answer(port, ufrag, pwd), 0);
	CHECK_EQ_INT(check_answer(port, ufrag, "wrong-password-wrong-pw"), 401);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.stun_answered - st0.stun_answered, 1);
	CHECK_EQ_INT(st.pairs_selected - st0.pairs_selected, 0); /* the pair was restored */

	mg_srtp_ctx *in0 = cfg->srtp_in, *out0 = cfg->srtp_out;
	/* stray DTLS from the browser's address (a record that is no ClientHello, a replayed
	 * old flight): the restored keys stay */
	uint8_t junk[64] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 40};
	struct mg_dp_slow_udp jp = pkt_from(port, MG_DEMUX_DTLS, junk, 13 + 40);
	for (int k = 0; k < 3; k++)
		mg_webrtc_input(wr, &jp, mg_webrtc_now_ns());
	mg_webrtc_run_timers(wr, mg_webrtc_now_ns());
	drain_sent();
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.dtls_datagrams_in - st0.dtls_datagrams_in, 3); /* they reached it */
	CHECK(cfg->srtp_in && cfg->srtp_out);
	/* a handshake with a certificate that is not the signalled one (someone at the
	 * browser's address): refused, and the restored keys stay in place */
	mg_dtls_ctx *intruder = mg_dtls_ctx_new("intruder", 1);
	struct mg_dtls_fingerprint nfp; /* this process's certificate: the client accepts it */
	const char *nf = mg_webrtc_fingerprint(wr);
	CHECK(mg_dtls_fingerprint_parse(nf, strlen(nf), &nfp) == 0);
	struct mg_dtls_config icfg = {.role = MG_DTLS_ROLE_CLIENT, .remote_fingerprint = &nfp};
	mg_dtls *icl = mg_dtls_new(intruder, &icfg);
	handshake(icl, port);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.fingerprint_mismatch - st0.fingerprint_mismatch, 1);
	CHECK(mg_dtls_state(icl) != MG_DTLS_STATE_CONNECTED);
	mg_dtls_free(icl);
	mg_dtls_ctx_free(intruder);
	drain_sent();
	CHECK(cfg->srtp_in == in0 && cfg->srtp_out == out0);
	CHECK(roundtrip(b_tx, cfg->srtp_in, seq));
	CHECK(roundtrip(cfg->srtp_out, b_rx, seq));
	seq++;

	mg_webrtc_get_stats(wr, &st0);
	/* a re-INVITE with the same fingerprint: no handshake, the same contexts */
	mg_srtp_ctx *in = cfg->srtp_in, *out = cfg->srtp_out;
	ng_request((const char *const[]){"command", "offer", "call-id", "r1", "from-tag", "browser",
					 "sdp", browser_offer(mg_dtls_ctx_fingerprint(bctx)),
					 "transport-protocol", "RTP/AVP", NULL});
	CHECK(ng_ok());
	CHECK(strstr(ng_sdp(), "m=audio ") != NULL);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.handshakes_started - st0.handshakes_started, 0);
	CHECK(cfg->srtp_in == in && cfg->srtp_out == out);
	CHECK(cfg->remote_rtp.ip == BROWSER_IP && cfg->remote_rtp.port == BROWSER_PORT);
	drain_sent();
	CHECK(roundtrip(b_tx, cfg->srtp_in, seq));
	CHECK(roundtrip(cfg->srtp_out, b_rx, seq));
	seq++;

	/* a second restart from a snapshot of the restored call (its keys written again) */
	pn = mg_call_encode_secrets(c, plain, sizeof(plain));
	CHECK(pn > 0 && contains(plain, (size_t)pn, ck.rx_key, 16));
	sealed = mg_call_seal_secrets(sessions, c, plain, pn);
	explicit_bzero(plain, sizeof(plain));
	bn = sealed ? mg_call_encode_sealed(c, sealed, blobtext, sizeof(blobtext)) : 0;
	free(sealed);
	stop();
	start();
	CHECK(wr && mg_call_restore(sessions, blobtext, bn, err, sizeof(err)) == 0);
	mg_sessions_restore_pending(sessions, 100);
	c = mg_call_find(sessions, "r1");
	cfg = c ? &c->media[0].cfg[0] : NULL;
	CHECK(cfg && cfg->srtp_in && cfg->srtp_out);
	if (!cfg)
		return CHECK_DONE();
	for (int k = 0; k < 10; k++, seq++) {
		CHECK(roundtrip(b_tx, cfg->srtp_in, seq));
		CHECK(roundtrip(cfg->srtp_out, b_rx, seq));
	}
	CHECK_EQ_INT(check_answer(port, ufrag, pwd), 0);

	/* consent: 31 s without a check after the restore -> the leg stops sending */
	mg_webrtc_get_stats(wr, &st0);
	mg_webrtc_run_timers(wr, mg_webrtc_now_ns() + 31ull * 1000000000ull);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.consent_expired - st0.consent_expired, 1);
	CHECK(cfg->srtp && !cfg->srtp_out && cfg->remote_rtp.ip == 0 && cfg->block_media);

	/* deletion frees the restored WebRTC leg */
	mg_call_delete(sessions, c);
	while (mg_dp_control_poll(dp))
		;
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.legs, 0);
	CHECK_EQ_INT(mg_dp_legs_in_use(dp), 0);

	mg_dtls_srtp_keys_wipe(&ck);
	mg_dp_srtp_ctx_free(b_tx);
	mg_dp_srtp_ctx_free(b_rx);
	mg_dtls_free(cl);
	mg_dtls_ctx_free(bctx);
	stop();
	drain_sent();
	mg_dp_destroy(dp);
	mg_keys_blob_destroy(blob);
	mg_keys_close(keys);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return CHECK_DONE();
}
