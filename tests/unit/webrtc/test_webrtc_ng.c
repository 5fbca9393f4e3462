/* WebRTC legs through the real ng handler, session table, data plane and lib/webrtc:
 * - ng: a browser offer (UDP/TLS/RTP/SAVPF, ICE, DTLS) becomes RTP/AVP for the carrier, the
 *   carrier's answer becomes ICE-lite + DTLS for the browser; DTLS=passive, DTLS=off,
 *   ICE=remove, ICE=force, refused fingerprints and a=setup combinations.
 * - the control side: STUN checks answered (success with XOR-MAPPED-ADDRESS, 401 for a bad
 *   MESSAGE-INTEGRITY), the pair selected, a whole DTLS handshake with an in-process client
 *   (lib/dtls in the client role), the exported keys in the leg's SRTP contexts (checked by
 *   protecting with the client's keys and unprotecting with the leg's), a replayed handshake
 *   flight changing nothing, DTLS from an unchecked address dropped, a wrong fingerprint
 *   refused with no key, and consent expiry stopping the sending.
 * EAL on a port made of rte_rings; the workers are not launched (commands apply at once) and
 * the control lcore's answers are read off its tx ring. */
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
#include "ng.h"
#include "session.h"
#include "stun.h"
#include "webrtc.h"
#include "webrtc_harness.h"

static const char *browser_offer(const char *fingerprint, const char *setup)
{
	static char sdp[4096];
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
		 "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"
		 "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:brws\r\na=ice-pwd:" BROWSER_PWD "\r\n"
		 "a=fingerprint:%s\r\na=setup:%s\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
		 "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host\r\n",
		 fingerprint, setup);
	return sdp;
}

static const char *carrier_sdp =
    "v=0\r\no=c 1 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";

/* ---- control side ---- */
static struct mg_dp_slow_udp pkt_from(uint16_t local_port, uint32_t ip, uint16_t port,
				      uint8_t demux, const uint8_t *data, size_t len)
{
	struct mg_dp_slow_udp p = {.iface = 0,
				   .local_port = local_port,
				   .src_ip = ip,
				   .src_port = port,
				   .src_mac = {{2, 0, 0, 0, 0, 2}},
				   .demux = demux,
				   .payload = data,
				   .len = (uint16_t)len};
	return p;
}

/* Takes one datagram the control lcore sent; its UDP payload into buf. 0 if none. */
static size_t control_sent(uint8_t *buf, size_t cap, uint32_t *dst_ip, uint16_t *dst_port)
{
	struct rte_mbuf *m;
	if (rte_ring_sc_dequeue(tx_ring[1], (void **)&m) != 0)
		return 0;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t n = m->data_len > 42 ? m->data_len - 42u : 0;
	if (n > cap)
		n = cap;
	memcpy(buf, f + 42, n);
	if (dst_ip)
		*dst_ip =
		    (uint32_t)f[30] << 24 | (uint32_t)f[31] << 16 | (uint32_t)f[32] << 8 | f[33];
	if (dst_port)
		*dst_port = (uint16_t)(f[36] << 8 | f[37]);
	rte_pktmbuf_free(m);
	return n;
}

static void drain_sent(void)
{
	uint8_t b[2048];
	while (control_sent(b, sizeof(b), NULL, NULL))
		;
}

/* A Binding request as Chrome sends it; pwd keys the MESSAGE-INTEGRITY. */
static size_t stun_check(uint8_t *out, const char *username, const char *pwd, bool use_candidate)
{
	struct mg_stun_builder b;
	uint8_t tid[MG_STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	mg_stun_build_init(&b, out, 512, MG_STUN_METHOD_BINDING, MG_STUN_CLASS_REQUEST, tid);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, username, strlen(username));
	mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 1853824767u);
	mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLING, 0x1122334455667788ull);
	if (use_candidate)
		mg_stun_build_attr(&b, MG_STUN_ATTR_USE_CANDIDATE, NULL, 0);
	mg_stun_build_integrity(&b, (const uint8_t *)pwd, strlen(pwd));
	mg_stun_build_fingerprint(&b);
	return mg_stun_build_finish(&b);
}

struct call_view {
	struct mg_call *call;
	uint16_t port; /* the browser leg's port */
	char ufrag[64], pwd[64], fp[200];
};

/* offer from the browser (its fingerprint `fp`), answer from the carrier */
static bool browser_call(const char *id, const char *fp, struct call_view *v)
{
	ng_request((const char *const[]){"command", "offer", "call-id", id, "from-tag", "browser",
					 "sdp", browser_offer(fp, "actpass"), "transport-protocol",
					 "RTP/AVP", "ICE", "remove", NULL});
	if (!ng_ok())
		return false;
	const char *o = ng_sdp();
	CHECK(strstr(o, "m=audio ") && strstr(o, " RTP/AVP 111 0\r\n"));
	CHECK(!strstr(o, "a=fingerprint") && !strstr(o, "a=setup") && !strstr(o, "a=ice-") &&
	      !strstr(o, "a=candidate") && !strstr(o, "a=crypto"));
	ng_request((const char *const[]){"command", "answer", "call-id", id, "from-tag", "browser",
					 "to-tag", "carrier", "sdp", carrier_sdp, NULL});
	if (!ng_ok())
		return false;
	const char *a = ng_sdp();
	char port[64];
	CHECK(strstr(a, " UDP/TLS/RTP/SAVPF 0\r\n") != NULL);
	CHECK(strstr(a, "a=ice-lite\r\n") && strstr(a, "a=setup:passive\r\n") &&
	      strstr(a, "a=rtcp-mux\r\n") && strstr(a, "a=mid:0\r\n") &&
	      strstr(a, "a=group:BUNDLE 0\r\n") && strstr(a, "a=end-of-candidates\r\n"));
	CHECK(sdp_attr(a, "a=ice-ufrag:", v->ufrag, sizeof(v->ufrag)));
	CHECK(sdp_attr(a, "a=ice-pwd:", v->pwd, sizeof(v->pwd)));
	CHECK(sdp_attr(a, "a=fingerprint:", v->fp, sizeof(v->fp)));
	CHECK(sdp_attr(a, "m=audio ", port, sizeof(port)));
	CHECK_EQ_INT(strlen(v->ufrag), 8);
	CHECK_EQ_INT(strlen(v->pwd), 24);
	CHECK(!strncmp(v->fp, "sha-256 ", 8) && strlen(v->fp) == 8 + 95);
	v->port = (uint16_t)atoi(port);
	char cand[128];
	snprintf(cand, sizeof(cand), "a=candidate:1 1 UDP 2130706431 10.0.0.1 %u typ host\r\n",
		 v->port);
	CHECK(strstr(a, cand) != NULL);
	v->call = mg_call_find(sessions, id);
	return v->call != NULL;
}

/* Runs the handshake of `cl` against the leg until both sides stop talking. The first
 * client flight is kept in replay/replay_len. */
static void handshake(mg_dtls *cl, uint16_t port, uint8_t *replay, size_t *replay_len)
{
	uint8_t buf[2048];
	mg_dtls_start(cl, mg_webrtc_now_ns());
	for (int round = 0; round < 20; round++) {
		int n;
		bool any = false;
		while ((n = mg_dtls_output(cl, buf, sizeof(buf))) > 0) {
			if (replay && *replay_len == 0) {
				memcpy(replay, buf, (size_t)n);
				*replay_len = (size_t)n;
			}
			struct mg_dp_slow_udp p =
			    pkt_from(port, BROWSER_IP, BROWSER_PORT, MG_DEMUX_DTLS, buf, (size_t)n);
			mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
			any = true;
		}
		size_t m;
		uint32_t ip;
		uint16_t dport;
		while ((m = control_sent(buf, sizeof(buf), &ip, &dport)) > 0) {
			CHECK(ip == BROWSER_IP && dport == BROWSER_PORT);
			mg_dtls_input(cl, buf, m, mg_webrtc_now_ns());
			any = true;
		}
		if (!any)
			break;
	}
}

static void check_ng_flags(void)
{
	/* the carrier offers RTP; the browser side gets ICE-lite + DTLS actpass */
	ng_request((const char *const[]){"command", "offer", "call-id", "rev1", "from-tag", "car",
					 "sdp", carrier_sdp, "transport-protocol",
					 "UDP/TLS/RTP/SAVPF", "ICE", "force", NULL});
	CHECK(ng_ok());
	const char *s = ng_sdp();
	CHECK(strstr(s, " UDP/TLS/RTP/SAVPF 0\r\n") && strstr(s, "a=setup:actpass\r\n") &&
	      strstr(s, "a=ice-lite\r\n") && strstr(s, "a=ice-ufrag:") &&
	      strstr(s, "a=fingerprint:sha-256 ") && strstr(s, "a=rtcp-mux\r\n") &&
	      strstr(s, "a=candidate:1 1 UDP"));
	/* the browser answers active: we are the DTLS server; keys not there yet */
	mg_dtls_ctx *x = mg_dtls_ctx_new("x", 1);
	char sdpb[4096];
	snprintf(sdpb, sizeof(sdpb), "%s", browser_offer(mg_dtls_ctx_fingerprint(x), "active"));
	ng_request((const char *const[]){"command", "answer", "call-id", "rev1", "from-tag", "car",
					 "to-tag", "brw", "sdp", sdpb, NULL});
	CHECK(ng_ok());
	CHECK(strstr(ng_sdp(), " RTP/AVP 111 0\r\n") && !strstr(ng_sdp(), "a=fingerprint"));
	struct mg_call *c = mg_call_find(sessions, "rev1");
	CHECK(c && c->media[0].cfg[1].srtp && !c->media[0].cfg[1].srtp_in &&
	      !c->media[0].cfg[1].srtp_out);
	CHECK(c && !c->media[0].cfg[0].srtp);
	/* an answer with actpass is not an answer */
	ng_request((const char *const[]){"command", "offer", "call-id", "rev2", "from-tag", "car",
					 "sdp", carrier_sdp, "transport-protocol",
					 "UDP/TLS/RTP/SAVPF", NULL});
	snprintf(sdpb, sizeof(sdpb), "%s", browser_offer(mg_dtls_ctx_fingerprint(x), "actpass"));
	ng_request((const char *const[]){"command", "answer", "call-id", "rev2", "from-tag", "car",
					 "to-tag", "brw", "sdp", sdpb, NULL});
	CHECK(!ng_ok() && strstr(answer, "a=setup"));
	/* DTLS=passive and ICE=remove */
	ng_request((const char *const[]){
	    "command", "offer", "call-id", "rev3", "from-tag", "car", "sdp", carrier_sdp, "flags",
	    "[DTLS=passive", "transport-protocol", "UDP/TLS/RTP/SAVPF", "ICE", "remove", NULL});
	CHECK(ng_ok());
	s = ng_sdp();
	CHECK(strstr(s, "a=setup:passive\r\n") && !strstr(s, "a=ice-") &&
	      !strstr(s, "a=candidate") && strstr(s, "a=fingerprint:sha-256 "));
	/* DTLS=off with a DTLS offer */
	ng_request((const char *const[]){
	    "command", "offer", "call-id", "bad1", "from-tag", "b", "sdp",
	    browser_offer(mg_dtls_ctx_fingerprint(x), "actpass"), "DTLS", "off", NULL});
	CHECK(!ng_ok() && strstr(answer, "DTLS=off"));
	/* weak or absent fingerprints are refused */
	ng_request((const char *const[]){
	    "command", "offer", "call-id", "bad2", "from-tag", "b", "sdp",
	    browser_offer("sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
			  "actpass"),
	    NULL});
	CHECK(!ng_ok() && strstr(answer, "fingerprint"));
	CHECK(mg_call_find(sessions, "bad1") == NULL && mg_call_find(sessions, "bad2") == NULL);
	/* browser -> SDES carrier: RTP/SAVP with mediagate's own a=crypto, and back */
	ng_request((const char *const[]){"command", "offer", "call-id", "sdes1", "from-tag", "b",
					 "sdp",
					 browser_offer(mg_dtls_ctx_fingerprint(x), "actpass"),
					 "transport-protocol", "RTP/SAVP", NULL});
	CHECK(ng_ok());
	s = ng_sdp();
	CHECK(strstr(s, " RTP/SAVP 111 0\r\n") && strstr(s, "a=crypto:1 ") &&
	      !strstr(s, "a=fingerprint") && !strstr(s, "a=ice-"));
	ng_request((const char *const[]){
	    "command", "answer", "call-id", "sdes1", "from-tag", "b", "to-tag", "c", "sdp",
	    "v=0\r\no=c 1 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\n"
	    "m=audio 5000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 "
	    "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
	    NULL});
	CHECK(ng_ok());
	s = ng_sdp();
	CHECK(strstr(s, " UDP/TLS/RTP/SAVPF 0\r\n") && !strstr(s, "a=crypto") &&
	      strstr(s, "a=fingerprint:sha-256 ") && strstr(s, "a=setup:passive\r\n"));
	c = mg_call_find(sessions, "sdes1");
	CHECK(c && c->media[0].cfg[1].srtp && c->media[0].cfg[1].srtp_in &&
	      c->media[0].cfg[1].srtp_out); /* SDES keys on the carrier leg */
	CHECK(c && c->media[0].cfg[0].srtp && !c->media[0].cfg[0].srtp_in &&
	      !c->media[0].cfg[0].srtp_out); /* DTLS leg: no key before the handshake */
	/* transport-protocol values */
	ng_request((const char *const[]){"command", "offer", "call-id", "bad3", "from-tag", "b",
					 "sdp", carrier_sdp, "transport-protocol", "UDP/TLS/BFCP",
					 NULL});
	CHECK(!ng_ok());
	mg_dtls_ctx_free(x);
}

int main(void)
{
	char *eal[] = {"test_webrtc_ng",
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
		snprintf(name, sizeof(name), "wt_rx%d", i);
		rx_ring[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "wt_tx%d", i);
		tx_ring[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (rte_eth_from_rings("wt", rx_ring, 2, tx_ring, 2, 0) < 0)
		return 1;
	struct mg_profile profile;
	mg_profile_defaults(&profile);
	struct mg_profile_error perr;
	const char *text = "[eal]\nargs = x\n[lcores]\ncontrol = 0\nworkers = 1\n"
			   "[interface.lan]\ndevice = net_ring_wt\naddress = 10.0.0.1/24\n"
			   "[media]\nport_min = 30000\nport_max = 30199\nmbufs = 2047\n";
	if (mg_profile_parse(&profile, text, strlen(text), &perr) < 0)
		return 1;
	char err[256];
	dp = mg_dp_create(&profile, err, sizeof(err));
	sessions = dp ? mg_sessions_create(dp, 64) : NULL;
	ng = sessions ? mg_ng_create(sessions, &profile) : NULL;
	wr = ng ? mg_ng_webrtc(ng) : NULL;
	if (!wr) {
		fprintf(stderr, "set-up failed: %s\n", dp ? "" : err);
		return 1;
	}
	check_ng_flags();
	drain_sent();

	/* ---- call 1: the right fingerprint ---- */
	mg_dtls_ctx *bctx = mg_dtls_ctx_new("browser", 30);
	struct call_view v;
	CHECK(browser_call("c1", mg_dtls_ctx_fingerprint(bctx), &v));
	struct mg_leg_cfg *cfg = &v.call->media[0].cfg[0];
	CHECK(cfg->srtp && !cfg->srtp_in && !cfg->srtp_out); /* no key: nothing flows */
	struct mg_webrtc_stats st0, st;
	mg_webrtc_get_stats(wr, &st0);

	/* DTLS before any ICE check: dropped */
	uint8_t junk[32] = {22, 0xfe, 0xfd};
	struct mg_dp_slow_udp p =
	    pkt_from(v.port, BROWSER_IP, BROWSER_PORT, MG_DEMUX_DTLS, junk, sizeof(junk));
	mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	CHECK_EQ_INT(control_sent(junk, sizeof(junk), NULL, NULL), 0);

	/* a check with a bad password: 401, nothing selected */
	uint8_t req[512], resp[512];
	char user[128];
	snprintf(user, sizeof(user), "%s:brws", v.ufrag);
	size_t n = stun_check(req, user, "wrong-password-wrong-pw", true);
	p = pkt_from(v.port, BROWSER_IP, BROWSER_PORT, MG_DEMUX_STUN, req, n);
	mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	size_t rn = control_sent(resp, sizeof(resp), NULL, NULL);
	struct mg_stun_msg msg;
	CHECK(rn && mg_stun_parse(&msg, resp, rn) == MG_STUN_R_OK && msg.has_error &&
	      msg.error_code == 401);
	CHECK_EQ_INT(cfg->remote_rtp.ip, 0);

	/* a good check with USE-CANDIDATE: success with XOR-MAPPED-ADDRESS, pair selected */
	n = stun_check(req, user, v.pwd, true);
	p = pkt_from(v.port, BROWSER_IP, BROWSER_PORT, MG_DEMUX_STUN, req, n);
	mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	rn = control_sent(resp, sizeof(resp), NULL, NULL);
	CHECK(rn && mg_stun_parse(&msg, resp, rn) == MG_STUN_R_OK && !msg.has_error);
	CHECK(msg.xor_mapped.port == BROWSER_PORT && msg.xor_mapped.addr[3] == 2);
	CHECK(cfg->remote_rtp.ip == BROWSER_IP && cfg->remote_rtp.port == BROWSER_PORT);

	/* the handshake; Chrome-like client with the browser's certificate */
	struct mg_dtls_fingerprint sfp;
	CHECK(mg_dtls_fingerprint_parse(v.fp, strlen(v.fp), &sfp) == 0);
	struct mg_dtls_config ccfg = {.role = MG_DTLS_ROLE_CLIENT, .remote_fingerprint = &sfp};
	mg_dtls *cl = mg_dtls_new(bctx, &ccfg);
	uint8_t first_flight[2048];
	size_t first_len = 0;
	handshake(cl, v.port, first_flight, &first_len);
	CHECK_EQ_INT(mg_dtls_state(cl), MG_DTLS_STATE_CONNECTED);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.handshakes_ok - st0.handshakes_ok, 1);
	CHECK_EQ_INT(st.keys_installed - st0.keys_installed, 1);
	CHECK(cfg->srtp && cfg->srtp_in && cfg->srtp_out);
	mg_srtp_ctx *in = cfg->srtp_in, *out = cfg->srtp_out;

	/* the leg's srtp_in unprotects what the client protects with its tx key, and what the
	 * leg protects (srtp_out) the client's rx key unprotects */
	struct mg_dtls_srtp_keys ck;
	CHECK(mg_dtls_srtp_keys(cl, &ck) == 0);
	mg_srtp_engine *eng = mg_dp_control_srtp_engine(dp);
	mg_srtp_ctx *ctx_tx = mg_dp_srtp_ctx_alloc(), *ctx_rx = mg_dp_srtp_ctx_alloc();
	CHECK(mg_srtp_ctx_init(ctx_tx, eng, &ck.tx) == 0 &&
	      mg_srtp_ctx_init(ctx_rx, eng, &ck.rx) == 0);
	uint8_t rtp[256] = {0x80, 0, 0, 1, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78};
	memset(rtp + 12, 0x55, 160);
	uint8_t st8;
	struct mg_srtp_pkt sp = {.data = rtp, .len = 172, .capacity = sizeof(rtp), .ctx = ctx_tx};
	CHECK(mg_srtp_protect_burst(eng, &sp, 1, &st8) == 1);
	sp.ctx = in;
	CHECK(mg_srtp_unprotect_burst(eng, &sp, 1, &st8) == 1 && sp.len == 172 && rtp[12] == 0x55);
	sp = (struct mg_srtp_pkt){.data = rtp, .len = 172, .capacity = sizeof(rtp), .ctx = out};
	CHECK(mg_srtp_protect_burst(eng, &sp, 1, &st8) == 1);
	sp.ctx = ctx_rx;
	CHECK(mg_srtp_unprotect_burst(eng, &sp, 1, &st8) == 1 && rtp[12] == 0x55);
	mg_dtls_srtp_keys_wipe(&ck);
	mg_dp_srtp_ctx_free(ctx_tx);
	mg_dp_srtp_ctx_free(ctx_rx);

	/* the first flight again (a replayed ClientHello): the keys stay as they are */
	p = pkt_from(v.port, BROWSER_IP, BROWSER_PORT, MG_DEMUX_DTLS, first_flight, first_len);
	for (int k = 0; k < 3; k++)
		mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	drain_sent();
	mg_webrtc_get_stats(wr, &st);
	CHECK(cfg->srtp_in == in && cfg->srtp_out == out);
	CHECK_EQ_INT(st.handshakes_ok - st0.handshakes_ok, 1);
	CHECK_EQ_INT(st.handshakes_failed - st0.handshakes_failed, 0);
	CHECK_EQ_INT(st.dtls_unchecked_src - st0.dtls_unchecked_src, 1);
	CHECK(st.stun.by_reason[MG_STUN_R_BAD_INTEGRITY] -
		  st0.stun.by_reason[MG_STUN_R_BAD_INTEGRITY] ==
	      1);

	/* a re-INVITE with the same SDP (0.0.0.0:9 in c=/m=): same association, same keys, and
	 * the ICE-selected address stays the leg's remote */
	ng_request((const char *const[]){"command", "offer", "call-id", "c1", "from-tag", "browser",
					 "sdp",
					 browser_offer(mg_dtls_ctx_fingerprint(bctx), "actpass"),
					 "transport-protocol", "RTP/AVP", NULL});
	CHECK(ng_ok());
	CHECK(cfg->srtp_in == in && cfg->srtp_out == out);
	CHECK(cfg->remote_rtp.ip == BROWSER_IP && cfg->remote_rtp.port == BROWSER_PORT);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.handshakes_started - st0.handshakes_started, 1);

	/* consent: 31 s without a check -> no outgoing key, no address, media blocked */
	mg_webrtc_run_timers(wr, mg_webrtc_now_ns() + 31ull * 1000000000ull);
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.consent_expired - st0.consent_expired, 1);
	CHECK(cfg->srtp && !cfg->srtp_out && cfg->remote_rtp.ip == 0 && cfg->block_media);
	mg_dtls_free(cl);

	/* ---- call 2: the browser's certificate is not the one its SDP names ---- */
	mg_dtls_ctx *other = mg_dtls_ctx_new("someone-else", 30);
	struct call_view v2;
	CHECK(browser_call("c2", mg_dtls_ctx_fingerprint(other), &v2));
	cfg = &v2.call->media[0].cfg[0];
	snprintf(user, sizeof(user), "%s:brws", v2.ufrag);
	n = stun_check(req, user, v2.pwd, true);
	p = pkt_from(v2.port, BROWSER_IP, BROWSER_PORT + 1, MG_DEMUX_STUN, req, n);
	mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
	drain_sent();
	CHECK(mg_dtls_fingerprint_parse(v2.fp, strlen(v2.fp), &sfp) == 0);
	cl = mg_dtls_new(bctx, &ccfg);
	mg_dtls_start(cl, mg_webrtc_now_ns());
	/* the client sends from its checked address: BROWSER_PORT + 1 */
	uint8_t buf[2048];
	for (int round = 0; round < 20; round++) {
		int k;
		bool any = false;
		while ((k = mg_dtls_output(cl, buf, sizeof(buf))) > 0) {
			p = pkt_from(v2.port, BROWSER_IP, BROWSER_PORT + 1, MG_DEMUX_DTLS, buf,
				     (size_t)k);
			mg_webrtc_input(wr, &p, mg_webrtc_now_ns());
			any = true;
		}
		size_t m;
		while ((m = control_sent(buf, sizeof(buf), NULL, NULL)) > 0) {
			mg_dtls_input(cl, buf, m, mg_webrtc_now_ns());
			any = true;
		}
		if (!any)
			break;
	}
	struct mg_webrtc_stats st2;
	mg_webrtc_get_stats(wr, &st2);
	CHECK_EQ_INT(st2.fingerprint_mismatch - st.fingerprint_mismatch, 1);
	CHECK_EQ_INT(st2.handshakes_ok - st.handshakes_ok, 0);
	CHECK(cfg->srtp && !cfg->srtp_in && !cfg->srtp_out); /* never a key, never plaintext */
	CHECK(mg_dtls_state(cl) != MG_DTLS_STATE_CONNECTED);
	mg_dtls_free(cl);

	/* deleting the calls frees their WebRTC legs */
	while (mg_call_first(sessions))
		mg_call_delete(sessions, mg_call_first(sessions));
	while (mg_dp_control_poll(dp))
		;
	mg_webrtc_get_stats(wr, &st);
	CHECK_EQ_INT(st.legs, 0);
	CHECK_EQ_INT(mg_dp_legs_in_use(dp), 0);
	mg_dtls_ctx_free(bctx);
	mg_dtls_ctx_free(other);
	mg_ng_destroy(ng);
	mg_sessions_destroy(sessions);
	drain_sent();
	mg_dp_destroy(dp);
	return CHECK_DONE();
}
