/* SDP editing: every operation the ng handler uses, checked on the serialized text. */
#include "check.h"
#include "samples.h"

/* The rewrite rtpengine does for a plain RTP offer: c=, o= (replace-origin), m= port,
 * a=rtcp; codecs and everything else untouched. */
static void test_rtpengine_offer_rewrite(void)
{
	printf("rtpengine-style rewrite of a G.711 offer\n");
	struct mg_sdp *sdp = parse_ok(sample_g711_offer, "g711");
	CHECK(mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "203.0.113.10", false) == MG_SDP_OK,
	      "replace connections");
	CHECK(mg_sdp_set_origin_address(sdp, MG_SDP_ADDR_IP4, "203.0.113.10") == MG_SDP_OK,
	      "replace origin");
	CHECK(mg_sdp_media_set_port(sdp, 0, 30000) == MG_SDP_OK, "port");
	CHECK(mg_sdp_media_set_rtcp(sdp, 0, 30001, MG_SDP_ADDR_IP4, "203.0.113.10") == MG_SDP_OK,
	      "rtcp");
	CHECK_SDP_TEXT(sdp,
		       "v=0\n"
		       "o=- 3838289123 3838289123 IN IP4 203.0.113.10\n"
		       "s=pjmedia\n"
		       "b=AS:84\n"
		       "t=0 0\n"
		       "a=X-nat:0\n"
		       "m=audio 30000 RTP/AVP 0 8 101\n"
		       "c=IN IP4 203.0.113.10\n"
		       "b=TIAS:64000\n"
		       "a=rtcp:30001 IN IP4 203.0.113.10\n"
		       "a=sendrecv\n"
		       "a=rtpmap:0 PCMU/8000\n"
		       "a=rtpmap:8 PCMA/8000\n"
		       "a=rtpmap:101 telephone-event/8000\n"
		       "a=fmtp:101 0-16\n"
		       "a=ptime:20\n",
		       "rewritten offer");
	/* The session had no c= and every media has one: nothing inserted at session level,
	 * even with the replace-session-connection flag. */
	CHECK(mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "198.51.100.1", true) == MG_SDP_OK,
	      "replace again with flag");
	struct mg_sdp_connection c;
	CHECK(!mg_sdp_session_connection(sdp, &c), "no session c= invented");
	CHECK(has_line(serialize(sdp), "c=IN IP4 198.51.100.1"), "media c= replaced again");
	/* The accessors read the edited values. */
	struct mg_sdp_media_info mi;
	struct mg_sdp_rtcp rtcp;
	CHECK(mg_sdp_media_info(sdp, 0, &mi) && mi.port == 30000, "port readable");
	CHECK(mg_sdp_media_rtcp(sdp, 0, &rtcp) && rtcp.port == 30001, "rtcp readable");
}

static void test_connections(void)
{
	printf("c= rewriting: session-only, mixed, flag, insertion\n");
	/* Session-level c= only: media inherit it, so it must be replaced. */
	struct mg_sdp *sdp = parse_ok(sample_sdes_offer, "sdes");
	CHECK(mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "192.0.2.50", false) == MG_SDP_OK,
	      "replace");
	const char *t = serialize(sdp);
	CHECK(has_line(t, "c=IN IP4 192.0.2.50") && !strstr(t, "10.0.0.5\r\nt="),
	      "session c= replaced");
	CHECK(has_line(t, "o=carrier 1776 1 IN IP4 10.0.0.5"), "o= untouched without flag");
	CHECK(mg_sdp_line_count(sdp, 0) == 9, "no media c= inserted");

	/* Mixed: media 0,1,2 inherit the session's IPv6 c=, media 3 has its own. */
	sdp = parse_ok(sample_multi, "multi");
	CHECK(mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP6, "2001:db8::99", false) == MG_SDP_OK,
	      "replace mixed");
	CHECK_SDP_TEXT(sdp,
		       "v=0\n"
		       "o=alice 2890844526 2890844527 IN IP6 2001:db8::1\n"
		       "s=multi\n"
		       "c=IN IP6 2001:db8::99\n"
		       "t=0 0\n"
		       "a=recvonly\n"
		       "m=audio 49170/2 RTP/AVP 0\n"
		       "m=video 0 RTP/AVP 31\n"
		       "m=application 5000 udp wb\n"
		       "a=orient:portrait\n"
		       "m=audio 49180 RTP/AVPF 8\n"
		       "c=IN IP6 2001:db8::99\n"
		       "a=inactive\n",
		       "mixed replace");

	/* Every media has c= and the session one exists: only replaced with the flag. */
	static const char both[] = "v=0\n"
				   "o=- 1 1 IN IP4 10.1.1.1\n"
				   "s=-\n"
				   "c=IN IP4 10.1.1.1\n"
				   "t=0 0\n"
				   "m=audio 1000 RTP/AVP 0\n"
				   "c=IN IP4 10.1.1.2\n";
	sdp = parse_ok(both, "both");
	mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "192.0.2.1", false);
	CHECK_SDP_TEXT(sdp,
		       "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\n"
		       "m=audio 1000 RTP/AVP 0\nc=IN IP4 192.0.2.1\n",
		       "session c= kept without replace-session-connection");
	sdp = parse_ok(both, "both");
	mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "192.0.2.1", true);
	CHECK_SDP_TEXT(sdp,
		       "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
		       "m=audio 1000 RTP/AVP 0\nc=IN IP4 192.0.2.1\n",
		       "session c= replaced with replace-session-connection");

	/* No c= anywhere (invalid but seen): each media gets its own after m=/i=. */
	sdp = parse_ok("v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nt=0 0\nm=audio 1000 RTP/AVP 0\n"
		       "i=voice\nb=AS:64\na=sendrecv\n",
		       "no c=");
	mg_sdp_replace_connections(sdp, MG_SDP_ADDR_IP4, "192.0.2.1", false);
	CHECK_SDP_TEXT(sdp,
		       "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nt=0 0\nm=audio 1000 RTP/AVP 0\n"
		       "i=voice\nc=IN IP4 192.0.2.1\nb=AS:64\na=sendrecv\n",
		       "media c= inserted before b=");

	/* set_session_connection inserts at the RFC position (after s=/i=/u=/e=/p=). */
	sdp = parse_ok(sample_g711_offer, "g711");
	CHECK(mg_sdp_set_session_connection(sdp, MG_SDP_ADDR_IP4, "192.0.2.7") == MG_SDP_OK,
	      "insert session c=");
	t = serialize(sdp);
	CHECK(strstr(t, "s=pjmedia\r\nc=IN IP4 192.0.2.7\r\nb=AS:84\r\n") != NULL,
	      "session c= inserted before b=: %s", t);
	struct mg_sdp_connection c;
	CHECK(mg_sdp_session_connection(sdp, &c) && str_is(c.address, "192.0.2.7"), "readable");
	CHECK(mg_sdp_set_media_connection(sdp, 0, MG_SDP_ADDR_IP6, "::1") == MG_SDP_OK &&
		  has_line(serialize(sdp), "c=IN IP6 ::1"),
	      "media c= to IPv6");
	CHECK(mg_sdp_set_media_connection(sdp, 5, MG_SDP_ADDR_IP4, "1.1.1.1") ==
		  MG_SDP_ERR_INVALID_ARG,
	      "bad media index");
	CHECK(mg_sdp_set_session_connection(sdp, MG_SDP_ADDR_OTHER, "x") == MG_SDP_ERR_INVALID_ARG,
	      "OTHER address type refused");
	CHECK(mg_sdp_set_session_connection(sdp, MG_SDP_ADDR_IP4, "1.2.3.4\r\na=evil") ==
		  MG_SDP_ERR_INVALID_ARG,
	      "line injection refused");
	CHECK(mg_sdp_set_session_connection(sdp, MG_SDP_ADDR_IP4, "1.2.3.4 5") ==
		  MG_SDP_ERR_INVALID_ARG,
	      "space in address refused");
	CHECK(mg_sdp_set_session_connection(sdp, MG_SDP_ADDR_IP4, "") == MG_SDP_ERR_INVALID_ARG,
	      "empty address refused");
}

static void test_origin(void)
{
	printf("o= address and version\n");
	struct mg_sdp *sdp = parse_ok(sample_multi, "multi");
	CHECK(mg_sdp_set_origin_address(sdp, MG_SDP_ADDR_IP4, "192.0.2.1") == MG_SDP_OK, "addr");
	CHECK(mg_sdp_set_origin_version(sdp, 18446744073709551615ull) == MG_SDP_OK, "version");
	CHECK(has_line(serialize(sdp), "o=alice 2890844526 18446744073709551615 IN IP4 192.0.2.1"),
	      "o= rewritten: %s", serialize(sdp));
}

static void test_media_line(void)
{
	printf("m= port and proto\n");
	struct mg_sdp *sdp = parse_ok(sample_multi, "multi");
	CHECK(mg_sdp_media_set_port(sdp, 0, 65535) == MG_SDP_OK, "port");
	CHECK(mg_sdp_media_set_proto(sdp, 0, "RTP/SAVP") == MG_SDP_OK, "proto");
	CHECK(mg_sdp_media_set_port(sdp, 2, 0) == MG_SDP_OK, "reject");
	CHECK(mg_sdp_media_set_proto(sdp, 3, mg_sdp_proto_name(MG_SDP_PROTO_UDP_TLS_RTP_SAVPF)) ==
		  MG_SDP_OK,
	      "proto by enum name");
	const char *t = serialize(sdp);
	CHECK(has_line(t, "m=audio 65535/2 RTP/SAVP 0"), "port count kept: %s", t);
	CHECK(has_line(t, "m=application 0 udp wb"), "rejected");
	CHECK(has_line(t, "m=audio 49180 UDP/TLS/RTP/SAVPF 8"), "proto");
	CHECK(mg_sdp_media_set_proto(sdp, 0, "RTP/AVP 9") == MG_SDP_ERR_INVALID_ARG,
	      "proto with space refused");
	CHECK(mg_sdp_media_set_port(sdp, 4, 1) == MG_SDP_ERR_INVALID_ARG, "bad index");
	/* An m= line without formats keeps none. */
	sdp = parse_ok("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nm=audio 0 RTP/AVP\n", "no formats");
	mg_sdp_media_set_port(sdp, 0, 7);
	CHECK(has_line(serialize(sdp), "m=audio 7 RTP/AVP"), "no trailing space");
}

static void test_rtcp(void)
{
	printf("a=rtcp and a=rtcp-mux\n");
	struct mg_sdp *sdp = parse_ok(sample_sdes_offer, "sdes");
	CHECK(mg_sdp_media_set_rtcp(sdp, 0, 30001, MG_SDP_ADDR_IP4, NULL) == MG_SDP_OK, "add");
	const char *t = serialize(sdp);
	CHECK(strstr(t, "a=sendonly\r\na=rtcp:30001\r\n") != NULL, "appended at the end: %s", t);
	CHECK(mg_sdp_media_set_rtcp(sdp, 0, 40001, MG_SDP_ADDR_IP6, "2001:db8::2") == MG_SDP_OK,
	      "replace");
	t = serialize(sdp);
	CHECK(has_line(t, "a=rtcp:40001 IN IP6 2001:db8::2") && !strstr(t, "a=rtcp:30001"),
	      "replaced in place");
	struct mg_sdp_rtcp r;
	CHECK(mg_sdp_media_rtcp(sdp, 0, &r) && r.port == 40001 && r.has_address &&
		  r.connection.addr_type == MG_SDP_ADDR_IP6,
	      "readable");
	CHECK(mg_sdp_media_remove_rtcp(sdp, 0) == MG_SDP_OK && !strstr(serialize(sdp), "a=rtcp"),
	      "removed");
	CHECK(mg_sdp_media_set_rtcp_mux(sdp, 0, true) == MG_SDP_OK &&
		  mg_sdp_media_set_rtcp_mux(sdp, 0, true) == MG_SDP_OK,
	      "mux added twice");
	t = serialize(sdp);
	CHECK(strstr(t, "a=sendonly\r\na=rtcp-mux\r\n") != NULL, "mux appended: %s", t);
	unsigned cursor = 0, n = 0;
	while (mg_sdp_attr_next(sdp, 0, "rtcp-mux", &cursor, NULL))
		n++;
	CHECK(n == 1, "exactly one a=rtcp-mux");
	CHECK(mg_sdp_media_rtcp_mux(sdp, 0), "mux readable");
	CHECK(mg_sdp_media_set_rtcp_mux(sdp, 0, false) == MG_SDP_OK &&
		  !mg_sdp_media_rtcp_mux(sdp, 0),
	      "mux removed");
	/* Chrome: a=rtcp replaced while a=rtcp-mux and a=rtcp-fb are untouched. */
	sdp = parse_ok(sample_chrome_offer, "chrome");
	mg_sdp_media_set_rtcp(sdp, 0, 20000, MG_SDP_ADDR_IP4, "192.0.2.1");
	t = serialize(sdp);
	CHECK(strstr(t, "c=IN IP4 0.0.0.0\r\na=rtcp:20000 IN IP4 192.0.2.1\r\na=candidate") &&
		  has_line(t, "a=rtcp-fb:111 transport-cc") && has_line(t, "a=rtcp-mux"),
	      "only a=rtcp changed");
}

static void test_ice(void)
{
	printf("ICE removal and insertion\n");
	struct mg_sdp *sdp = parse_ok(sample_chrome_offer, "chrome");
	CHECK(mg_sdp_remove_ice(sdp, MG_SDP_ALL_SECTIONS) == MG_SDP_OK, "remove all");
	const char *t = serialize(sdp);
	CHECK(!strstr(t, "a=candidate") && !strstr(t, "a=ice-"), "no ICE left");
	CHECK(has_line(t, "a=fingerprint:sha-256 "
			  "49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:"
			  "F4:70:03:E7:43:91:73:23:5E") &&
		  has_line(t, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid") &&
		  has_line(t, "a=ssrc:2222 cname:4TOk42mSjXCkVIa6"),
	      "other attributes kept");
	CHECK(mg_sdp_line_count(sdp, 0) == 31 - 5 && mg_sdp_line_count(sdp, 1) == 20 - 3,
	      "line counts after removal (%u, %u)", mg_sdp_line_count(sdp, 0),
	      mg_sdp_line_count(sdp, 1));

	/* mediagate as ICE-lite: credentials, host candidate, end-of-candidates. */
	CHECK(mg_sdp_set_ice_lite(sdp) == MG_SDP_OK && mg_sdp_set_ice_lite(sdp) == MG_SDP_OK,
	      "ice-lite idempotent");
	CHECK(mg_sdp_set_ice_credentials(sdp, 0, "mgUf", "mgPasswordPasswordPass") == MG_SDP_OK,
	      "credentials");
	CHECK(mg_sdp_add_attr(sdp, 0, "end-of-candidates", NULL) == MG_SDP_OK, "eoc");
	CHECK(mg_sdp_media_add_candidate_fields(sdp, 0, "1", 1, 2130706431u, "192.0.2.1", 20000,
						"host") == MG_SDP_OK,
	      "candidate fields");
	CHECK(mg_sdp_media_add_candidate(sdp, 0, "2 1 UDP 2130706175 2001:db8::1 20000 typ host") ==
		  MG_SDP_OK,
	      "candidate text");
	t = serialize(sdp);
	CHECK(strstr(t, "t=0 0\r\na=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\n"
			"a=msid-semantic: WMS stream1\r\na=ice-lite\r\nm=audio") != NULL,
	      "ice-lite at session level: %s", t);
	CHECK(strstr(t, "a=ice-ufrag:mgUf\r\na=ice-pwd:mgPasswordPasswordPass\r\n"
			"a=candidate:1 1 UDP 2130706431 192.0.2.1 20000 typ host\r\n"
			"a=candidate:2 1 UDP 2130706175 2001:db8::1 20000 typ host\r\n"
			"a=end-of-candidates\r\nm=video") != NULL,
	      "candidates before end-of-candidates");
	CHECK(mg_sdp_media_ice_lite(sdp, 1), "ice-lite inherited by media 1");
	struct mg_sdp_str v;
	CHECK(mg_sdp_media_ice_ufrag(sdp, 0, &v) && str_is(v, "mgUf"), "ufrag readable");
	CHECK(!mg_sdp_media_ice_ufrag(sdp, 1, &v), "media 1 has none");
	unsigned cursor = 0;
	struct mg_sdp_candidate cand;
	CHECK(mg_sdp_media_candidate_next(sdp, 0, &cursor, &cand) && cand.port == 20000 &&
		  cand.priority == 2130706431u && str_is(cand.address, "192.0.2.1"),
	      "candidate readable");
	/* Replacing credentials replaces, and session-level ones are separate. */
	mg_sdp_set_ice_credentials(sdp, 0, "new", "newpasswordnewpassword");
	cursor = 0;
	unsigned n = 0;
	while (mg_sdp_attr_next(sdp, 0, "ice-ufrag", &cursor, NULL))
		n++;
	CHECK(n == 1, "one ice-ufrag after replace");
	CHECK(mg_sdp_remove_ice(sdp, MG_SDP_SESSION) == MG_SDP_OK &&
		  !mg_sdp_media_ice_lite(sdp, 0) && mg_sdp_media_ice_ufrag(sdp, 0, &v),
	      "session-only removal");
	CHECK(mg_sdp_remove_ice(sdp, 0) == MG_SDP_OK && !mg_sdp_media_ice_ufrag(sdp, 0, &v) &&
		  !mg_sdp_media_end_of_candidates(sdp, 0),
	      "media removal");
	CHECK(mg_sdp_set_ice_credentials(sdp, 0, "a b", "x") == MG_SDP_ERR_INVALID_ARG,
	      "space in ufrag refused");
	CHECK(mg_sdp_media_add_candidate(sdp, 0, "1 1 UDP 1 1.1.1.1 1 typ host\n") ==
		  MG_SDP_ERR_INVALID_ARG,
	      "newline in candidate refused");
}

static void test_crypto_dtls(void)
{
	printf("a=crypto, a=setup, a=fingerprint\n");
	struct mg_sdp *sdp = parse_ok(sample_sdes_offer, "sdes");
	CHECK(mg_sdp_remove_crypto(sdp, 0) == MG_SDP_OK && !strstr(serialize(sdp), "crypto"),
	      "all crypto removed");
	CHECK(mg_sdp_media_add_crypto(sdp, 0, 1, "AES_CM_128_HMAC_SHA1_80",
				      "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz",
				      NULL) == MG_SDP_OK &&
		  mg_sdp_media_add_crypto(sdp, 0, 2, "AEAD_AES_256_GCM",
					  "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5"
					  "YWJjZGVmZ2hp",
					  "UNENCRYPTED_SRTCP") == MG_SDP_OK,
	      "two added");
	const char *t = serialize(sdp);
	CHECK(strstr(t, "a=sendonly\r\n"
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			"inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz\r\n"
			"a=crypto:2 AEAD_AES_256_GCM "
			"inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5YWJjZGVmZ2hp "
			"UNENCRYPTED_SRTCP\r\n") != NULL,
	      "crypto lines appended: %s", t);
	unsigned cursor = 0;
	struct mg_sdp_crypto cr;
	CHECK(mg_sdp_media_crypto_next(sdp, 0, &cursor, &cr) && cr.tag == 1 &&
		  mg_sdp_media_crypto_next(sdp, 0, &cursor, &cr) && cr.tag == 2 &&
		  str_is(cr.session_params, "UNENCRYPTED_SRTCP") &&
		  !mg_sdp_media_crypto_next(sdp, 0, &cursor, &cr),
	      "crypto readable");
	CHECK(mg_sdp_media_add_crypto(sdp, 0, 1, "AES_CM_128_HMAC_SHA1_80", "inline:a b", NULL) ==
		  MG_SDP_ERR_INVALID_ARG,
	      "space in key params refused");

	sdp = parse_ok(sample_chrome_offer, "chrome");
	CHECK(mg_sdp_set_setup(sdp, 0, MG_SDP_SETUP_PASSIVE) == MG_SDP_OK, "setup passive");
	CHECK(mg_sdp_set_fingerprint(sdp, 0, "sha-256", "AA:BB:CC") == MG_SDP_OK, "fingerprint");
	t = serialize(sdp);
	CHECK(strstr(t, "a=fingerprint:sha-256 AA:BB:CC\r\na=setup:passive\r\na=mid:0\r\n") != NULL,
	      "replaced in place");
	enum mg_sdp_setup setup;
	CHECK(mg_sdp_media_setup(sdp, 0, &setup) && setup == MG_SDP_SETUP_PASSIVE &&
		  mg_sdp_media_setup(sdp, 1, &setup) && setup == MG_SDP_SETUP_ACTPASS,
	      "setup per media");
	unsigned removed = 0;
	CHECK(mg_sdp_remove_attr(sdp, MG_SDP_ALL_SECTIONS, "fingerprint", &removed) == MG_SDP_OK &&
		  removed == 2,
	      "fingerprints removed (%u)", removed);
	CHECK(mg_sdp_remove_attr(sdp, MG_SDP_ALL_SECTIONS, "setup", &removed) == MG_SDP_OK &&
		  removed == 2 && !mg_sdp_media_setup(sdp, 0, &setup),
	      "setup removed");
	/* Session-level DTLS attributes are inherited by the media. */
	CHECK(mg_sdp_set_fingerprint(sdp, MG_SDP_SESSION, "sha-1", "01:02") == MG_SDP_OK &&
		  mg_sdp_set_setup(sdp, MG_SDP_SESSION, MG_SDP_SETUP_ACTIVE) == MG_SDP_OK,
	      "session level");
	struct mg_sdp_fingerprint fp;
	CHECK(mg_sdp_media_fingerprint(sdp, 1, &fp) && str_is(fp.hash_function, "sha-1") &&
		  mg_sdp_media_setup(sdp, 1, &setup) && setup == MG_SDP_SETUP_ACTIVE,
	      "inherited");
	CHECK(mg_sdp_set_setup(sdp, 0, (enum mg_sdp_setup)9) == MG_SDP_ERR_INVALID_ARG,
	      "bad setup");
}

static void test_direction_and_generic(void)
{
	printf("direction, generic attributes\n");
	struct mg_sdp *sdp = parse_ok(sample_g711_offer, "g711");
	CHECK(mg_sdp_set_direction(sdp, 0, MG_SDP_DIR_SENDONLY) == MG_SDP_OK, "sendonly");
	const char *t = serialize(sdp);
	CHECK(!strstr(t, "a=sendrecv") && strstr(t, "a=ptime:20\r\na=sendonly\r\n"), "replaced");
	CHECK(mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_SENDONLY, "readable");
	CHECK(mg_sdp_set_direction(sdp, MG_SDP_SESSION, MG_SDP_DIR_INACTIVE) == MG_SDP_OK &&
		  mg_sdp_session_direction(sdp) == MG_SDP_DIR_INACTIVE &&
		  mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_SENDONLY,
	      "session direction, media overrides");
	mg_sdp_remove_attr(sdp, 0, "sendonly", NULL);
	CHECK(mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_INACTIVE, "media falls back");

	CHECK(mg_sdp_add_attr(sdp, 0, "label", "agent-leg") == MG_SDP_OK &&
		  mg_sdp_add_attr(sdp, MG_SDP_SESSION, "tool", "mediagate") == MG_SDP_OK &&
		  mg_sdp_add_attr(sdp, 0, "flag", NULL) == MG_SDP_OK &&
		  mg_sdp_add_attr(sdp, 0, "empty", "") == MG_SDP_OK,
	      "generic add");
	t = serialize(sdp);
	CHECK(has_line(t, "a=label:agent-leg") && has_line(t, "a=tool:mediagate") &&
		  has_line(t, "a=flag") && has_line(t, "a=empty:"),
	      "generic lines present");
	unsigned removed = 9;
	CHECK(mg_sdp_remove_attr(sdp, 0, "rtpmap", &removed) == MG_SDP_OK && removed == 3,
	      "rtpmap x3 removed");
	CHECK(mg_sdp_remove_attr(sdp, 0, "nothing", &removed) == MG_SDP_OK && removed == 0,
	      "none removed");
	CHECK(mg_sdp_set_attr(sdp, 0, "ptime", "30") == MG_SDP_OK, "set ptime");
	unsigned ptime = 0;
	CHECK(mg_sdp_media_ptime(sdp, 0, &ptime) && ptime == 30, "ptime 30");
	CHECK(mg_sdp_add_attr(sdp, 0, "bad:name", "x") == MG_SDP_ERR_INVALID_ARG, "colon in name");
	CHECK(mg_sdp_add_attr(sdp, 0, "", "x") == MG_SDP_ERR_INVALID_ARG, "empty name");
	CHECK(mg_sdp_add_attr(sdp, 0, "x", "a\rb") == MG_SDP_ERR_INVALID_ARG, "CR in value");
	CHECK(mg_sdp_add_attr(sdp, 3, "x", NULL) == MG_SDP_ERR_INVALID_ARG, "bad section");
	CHECK(mg_sdp_add_attr(sdp, MG_SDP_ALL_SECTIONS, "x", NULL) == MG_SDP_ERR_INVALID_ARG,
	      "ALL not valid for add");
	CHECK(mg_sdp_remove_attr(sdp, 7, "x", NULL) == MG_SDP_ERR_INVALID_ARG, "bad section");
	/* Output still parses. */
	static struct mg_sdp again;
	t = serialize(sdp);
	CHECK(mg_sdp_parse(&again, t, strlen(t)) == MG_SDP_OK, "edited SDP parses");
}

static void test_codec_strip(void)
{
	printf("formats, per-payload attributes, line removal\n");
	struct mg_sdp *sdp = parse_ok(sample_chrome_offer, "chrome");
	CHECK(mg_sdp_media_set_formats(sdp, 0, "111 0") == MG_SDP_OK, "formats");
	static const unsigned dropped[] = {63, 9, 8, 13, 110, 126};
	unsigned total = 0, removed = 0;
	for (unsigned i = 0; i < 6; i++) {
		CHECK(mg_sdp_media_remove_payload_attrs(sdp, 0, dropped[i], &removed) == MG_SDP_OK,
		      "remove pt %u", dropped[i]);
		total += removed;
	}
	CHECK(total == 7, "6 rtpmap + 1 fmtp removed (%u)", total);
	mg_sdp_media_remove_payload_attrs(sdp, 0, 111, &removed);
	CHECK(removed == 3, "opus rtpmap, rtcp-fb, fmtp removed (%u)", removed);
	const char *t = serialize(sdp);
	CHECK(has_line(t, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0") &&
		  has_line(t, "a=rtpmap:0 PCMU/8000") && !strstr(t, "a=rtpmap:8 ") &&
		  !strstr(t, "a=fmtp:63") && !strstr(t, "a=rtpmap:111") &&
		  has_line(t, "a=rtpmap:96 VP8/90000"),
	      "codec strip result: %s", t);
	CHECK(mg_sdp_media_set_formats(sdp, 1, "") == MG_SDP_OK &&
		  has_line(serialize(sdp), "m=video 9 UDP/TLS/RTP/SAVPF"),
	      "empty format list");
	/* Generic removal by index. */
	char type;
	struct mg_sdp_str v;
	CHECK(mg_sdp_line_get(sdp, 1, 1, &type, &v) && type == 'c', "line 1 of media 1 is c=");
	CHECK(mg_sdp_remove_line(sdp, 1, 1) == MG_SDP_OK && mg_sdp_line_get(sdp, 1, 1, &type, &v) &&
		  type == 'a' && str_is(v, "rtcp:9 IN IP4 0.0.0.0"),
	      "c= removed by index");
	CHECK(mg_sdp_remove_line(sdp, 1, 0) == MG_SDP_ERR_INVALID_ARG, "m= line protected");
	CHECK(mg_sdp_remove_line(sdp, MG_SDP_SESSION, 0) == MG_SDP_ERR_INVALID_ARG, "v= protected");
	CHECK(mg_sdp_remove_line(sdp, MG_SDP_SESSION, 1) == MG_SDP_ERR_INVALID_ARG, "o= protected");
	CHECK(mg_sdp_remove_line(sdp, MG_SDP_SESSION, 3) == MG_SDP_OK, "t= removable");
	CHECK(mg_sdp_remove_line(sdp, 1, 500) == MG_SDP_ERR_INVALID_ARG, "bad index");
	/* Flag attributes with trailing blanks are still recognised. */
	sdp = parse_ok("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nm=audio 1 RTP/AVP 0\na=rtcp-mux \n"
		       "a=sendonly\t\n",
		       "trailing blanks");
	CHECK(mg_sdp_media_rtcp_mux(sdp, 0) &&
		  mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_SENDONLY,
	      "trailing blanks tolerated");
	CHECK(has_line(serialize(sdp), "a=rtcp-mux "), "and kept verbatim");
}

static void test_limits(void)
{
	printf("edit limits: attribute count, arena space\n");
	struct mg_sdp *sdp = parse_ok(sample_g711_offer, "g711");
	enum mg_sdp_result r = MG_SDP_OK;
	unsigned added = 0;
	while ((r = mg_sdp_add_attr(sdp, 0, "x", "y")) == MG_SDP_OK)
		added++;
	CHECK(r == MG_SDP_ERR_TOO_MANY_LINES && added == MG_SDP_MAX_ATTRS - 7,
	      "attribute limit (%u added, %s)", added, mg_sdp_result_str(r));
	/* Repeated edits eventually exhaust the arena, with a clean error and intact SDP. */
	sdp = parse_ok(sample_g711_offer, "g711");
	unsigned edits = 0;
	while ((r = mg_sdp_set_attr(sdp, 0, "ptime", "20")) == MG_SDP_OK)
		edits++;
	CHECK(r == MG_SDP_ERR_NO_SPACE && edits > 1000, "arena exhausted after %u edits", edits);
	CHECK(mg_sdp_media_set_port(sdp, 0, 1) == MG_SDP_ERR_NO_SPACE, "m= edit refused too");
	const char *t = serialize(sdp);
	CHECK(strcmp(t, sample_g711_offer) == 0, "SDP unchanged by the refused edits");
}

int main(void)
{
	test_rtpengine_offer_rewrite();
	test_connections();
	test_origin();
	test_media_line();
	test_rtcp();
	test_ice();
	test_crypto_dtls();
	test_direction_and_generic();
	test_codec_strip();
	test_limits();
	return check_summary("sdp-edit");
}
