/* SDP parsing: accessors on realistic SDPs and byte-exact round trips. */
#include "check.h"
#include "samples.h"

static void round_trip(const char *text, const char *what)
{
	struct mg_sdp *sdp = parse_ok(text, what);
	char *want = to_crlf(text);
	const char *got = serialize(sdp);
	CHECK(strcmp(got, want) == 0, "%s: round trip differs\n--- got:\n%s--- want:\n%s", what,
	      got, want);
	CHECK(mg_sdp_serialized_len(sdp) == strlen(want), "%s: serialized_len", what);
	/* The output parses again to the same text. */
	static struct mg_sdp again;
	CHECK(mg_sdp_parse(&again, got, strlen(got)) == MG_SDP_OK, "%s: re-parse", what);
	size_t len = 0;
	static char buf[MG_SDP_MAX_SIZE * 2];
	CHECK(mg_sdp_serialize(&again, buf, sizeof(buf), &len) == MG_SDP_OK &&
		  len == strlen(want) && memcmp(buf, want, len) == 0,
	      "%s: second round trip", what);
	free(want);
}

static void test_g711(void)
{
	printf("G.711 SIP phone offer\n");
	struct mg_sdp *sdp = parse_ok(sample_g711_offer, "g711");
	CHECK(mg_sdp_media_count(sdp) == 1, "one media");
	struct mg_sdp_origin o;
	CHECK(mg_sdp_origin(sdp, &o) && str_is(o.username, "-") &&
		  str_is(o.session_id, "3838289123") && str_is(o.session_version, "3838289123") &&
		  o.connection.addr_type == MG_SDP_ADDR_IP4 &&
		  str_is(o.connection.address, "192.168.1.20"),
	      "origin fields");
	struct mg_sdp_connection c;
	CHECK(!mg_sdp_session_connection(sdp, &c), "no session c=");
	CHECK(mg_sdp_media_connection(sdp, 0, &c) && c.addr_type == MG_SDP_ADDR_IP4 &&
		  str_is(c.address, "192.168.1.20") && str_is(c.addr_type_text, "IP4"),
	      "media c=");
	struct mg_sdp_media_info mi;
	CHECK(mg_sdp_media_info(sdp, 0, &mi) && str_is(mi.media, "audio") && mi.port == 4000 &&
		  mi.port_count == 0 && mi.proto == MG_SDP_PROTO_RTP_AVP &&
		  str_is(mi.proto_text, "RTP/AVP") && str_is(mi.formats, "0 8 101"),
	      "m= fields");
	size_t cur = 0;
	struct mg_sdp_str tok;
	const char *want_fmts[] = {"0", "8", "101"};
	unsigned nfmt = 0;
	while (mg_sdp_token_next(mi.formats, &cur, &tok)) {
		CHECK(nfmt < 3 && str_is(tok, want_fmts[nfmt]), "format %u", nfmt);
		nfmt++;
	}
	CHECK(nfmt == 3, "three formats");
	struct mg_sdp_rtcp rtcp;
	CHECK(mg_sdp_media_rtcp(sdp, 0, &rtcp) && rtcp.port == 4001 && rtcp.has_address &&
		  str_is(rtcp.connection.address, "192.168.1.20"),
	      "a=rtcp with address");
	CHECK(!mg_sdp_media_rtcp_mux(sdp, 0), "no rtcp-mux");
	CHECK(mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_SENDRECV, "sendrecv");
	unsigned ptime = 0;
	CHECK(mg_sdp_media_ptime(sdp, 0, &ptime) && ptime == 20, "ptime 20");
	struct mg_sdp_rtpmap map;
	CHECK(mg_sdp_media_rtpmap(sdp, 0, 8, &map) && str_is(map.encoding, "PCMA") &&
		  map.clock_rate == 8000 && map.channels == 1,
	      "rtpmap 8");
	CHECK(mg_sdp_media_rtpmap(sdp, 0, 101, &map) && str_is(map.encoding, "telephone-event"),
	      "rtpmap 101");
	CHECK(!mg_sdp_media_rtpmap(sdp, 0, 9, &map), "no rtpmap 9");
	struct mg_sdp_str fmtp;
	CHECK(mg_sdp_media_fmtp(sdp, 0, 101, &fmtp) && str_is(fmtp, "0-16"), "fmtp 101");
	CHECK(!mg_sdp_media_fmtp(sdp, 0, 0, &fmtp), "no fmtp 0");
	struct mg_sdp_str v;
	CHECK(mg_sdp_attr_get(sdp, MG_SDP_SESSION, "X-nat", &v) && str_is(v, "0"),
	      "unknown session attribute readable");
	char type;
	CHECK(mg_sdp_line_get(sdp, MG_SDP_SESSION, 3, &type, &v) && type == 'b' &&
		  str_is(v, "AS:84"),
	      "b= line kept in place");
	CHECK(mg_sdp_line_count(sdp, 0) == 10, "media line count incl. m=");
	CHECK(!mg_sdp_media_info(sdp, 1, &mi), "media 1 does not exist");
	round_trip(sample_g711_offer, "g711");
}

static void test_chrome(void)
{
	printf("Chrome WebRTC offer\n");
	struct mg_sdp *sdp = parse_ok(sample_chrome_offer, "chrome");
	CHECK(mg_sdp_media_count(sdp) == 2, "two media");
	struct mg_sdp_str mids, v;
	CHECK(mg_sdp_group(sdp, "BUNDLE", &mids) && str_is(mids, "0 1"), "BUNDLE 0 1");
	CHECK(!mg_sdp_group(sdp, "LS", &mids), "no LS group");
	CHECK(mg_sdp_media_by_mid(sdp, (struct mg_sdp_str){"1", 1}) == 1, "mid 1 is media 1");
	CHECK(mg_sdp_media_by_mid(sdp, (struct mg_sdp_str){"7", 1}) == -1, "no mid 7");
	struct mg_sdp_media_info mi;
	CHECK(mg_sdp_media_info(sdp, 0, &mi) && mi.proto == MG_SDP_PROTO_UDP_TLS_RTP_SAVPF &&
		  mi.port == 9,
	      "UDP/TLS/RTP/SAVPF port 9");
	CHECK(mg_sdp_media_rtcp_mux(sdp, 0) && mg_sdp_media_rtcp_mux(sdp, 1), "rtcp-mux");
	CHECK(mg_sdp_media_ice_ufrag(sdp, 0, &v) && str_is(v, "Oyef"), "ice-ufrag");
	CHECK(mg_sdp_media_ice_pwd(sdp, 1, &v) && str_is(v, "7SQ2p6oBZ2Va5Um4XQAqJD3q"), "ice-pwd");
	CHECK(mg_sdp_media_ice_options(sdp, 0, &v) && str_is(v, "trickle"), "ice-options");
	CHECK(!mg_sdp_media_ice_lite(sdp, 0), "not ice-lite");
	CHECK(!mg_sdp_media_end_of_candidates(sdp, 0), "no end-of-candidates");
	enum mg_sdp_setup setup;
	CHECK(mg_sdp_media_setup(sdp, 0, &setup) && setup == MG_SDP_SETUP_ACTPASS, "actpass");
	struct mg_sdp_fingerprint fp;
	CHECK(mg_sdp_media_fingerprint(sdp, 1, &fp) && str_is(fp.hash_function, "sha-256") &&
		  fp.fingerprint.len == 95 && fp.fingerprint.ptr[0] == '4',
	      "fingerprint");
	CHECK(mg_sdp_media_mid(sdp, 0, &v) && str_is(v, "0"), "mid 0");
	struct mg_sdp_rtpmap map;
	CHECK(mg_sdp_media_rtpmap(sdp, 0, 111, &map) && str_is(map.encoding, "opus") &&
		  map.clock_rate == 48000 && map.channels == 2,
	      "opus/48000/2");
	CHECK(mg_sdp_media_fmtp(sdp, 0, 111, &v) && str_is(v, "minptime=10;useinbandfec=1"),
	      "opus fmtp");
	CHECK(mg_sdp_media_fmtp(sdp, 1, 97, &v) && str_is(v, "apt=96"), "rtx fmtp");
	unsigned cur = 0, n = 0;
	struct mg_sdp_candidate cand;
	while (mg_sdp_media_candidate_next(sdp, 0, &cur, &cand)) {
		if (n == 0)
			CHECK(str_is(cand.foundation, "1467250027") && cand.component == 1 &&
				  str_is(cand.transport, "udp") && cand.priority == 2122260223u &&
				  str_is(cand.address, "192.168.0.196") && cand.port == 46243 &&
				  str_is(cand.type, "host") && cand.rel_addr.len == 0 &&
				  str_is(cand.extensions, "generation 0 network-id 1"),
			      "host candidate");
		else
			CHECK(str_is(cand.type, "srflx") &&
				  str_is(cand.rel_addr, "192.168.0.196") &&
				  cand.rel_port == 46243 &&
				  str_is(cand.extensions,
					 "generation 0 network-id 1 network-cost 10"),
			      "srflx candidate");
		n++;
	}
	CHECK(n == 2, "two candidates, got %u", n);
	cur = 0;
	n = 0;
	while (mg_sdp_attr_next(sdp, 0, "extmap", &cur, &v))
		n++;
	CHECK(n == 4, "four extmap lines");
	cur = 0;
	CHECK(mg_sdp_attr_next(sdp, 1, "ssrc-group", &cur, &v) && str_is(v, "FID 1111 2222"),
	      "ssrc-group kept");
	CHECK(mg_sdp_attr_get(sdp, MG_SDP_SESSION, "msid-semantic", &v) &&
		  str_is(v, " WMS stream1"),
	      "attribute value keeps its leading space");
	CHECK(!mg_sdp_attr_has(sdp, 0, "rtcp-m"), "attribute names match exactly");
	round_trip(sample_chrome_offer, "chrome");
}

static void test_sdes(void)
{
	printf("SDES offer with several a=crypto\n");
	struct mg_sdp *sdp = parse_ok(sample_sdes_offer, "sdes");
	struct mg_sdp_connection c;
	CHECK(mg_sdp_session_connection(sdp, &c) && str_is(c.address, "10.0.0.5"), "session c=");
	CHECK(!mg_sdp_media_connection(sdp, 0, &c), "no media c=");
	CHECK(mg_sdp_media_effective_connection(sdp, 0, &c) && str_is(c.address, "10.0.0.5"),
	      "effective c= from session");
	struct mg_sdp_media_info mi;
	CHECK(mg_sdp_media_info(sdp, 0, &mi) && mi.proto == MG_SDP_PROTO_RTP_SAVP, "RTP/SAVP");
	const char *suites[] = {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
				"AES_256_CM_HMAC_SHA1_80", "AEAD_AES_128_GCM"};
	unsigned cur = 0, n = 0;
	struct mg_sdp_crypto cr;
	while (mg_sdp_media_crypto_next(sdp, 0, &cur, &cr)) {
		CHECK(n < 4 && cr.tag == n + 1 && str_is(cr.suite, suites[n]), "crypto %u", n);
		if (n == 0)
			CHECK(str_is(cr.key_params,
				     "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4") &&
				  str_is(cr.session_params, "FEC_ORDER=FEC_SRTP"),
			      "crypto 1 key and session params");
		if (n == 1)
			CHECK(cr.session_params.len == 0, "crypto 2 has no session params");
		n++;
	}
	CHECK(n == 4, "four crypto lines");
	CHECK(mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_SENDONLY, "sendonly");
	round_trip(sample_sdes_offer, "sdes");
}

static void test_multi(void)
{
	printf("several m= lines, rejected stream, IPv6\n");
	struct mg_sdp *sdp = parse_ok(sample_multi, "multi");
	CHECK(mg_sdp_media_count(sdp) == 4, "four media");
	struct mg_sdp_connection c;
	CHECK(mg_sdp_session_connection(sdp, &c) && c.addr_type == MG_SDP_ADDR_IP6 &&
		  str_is(c.address, "2001:db8::1"),
	      "IPv6 session c=");
	struct mg_sdp_origin o;
	CHECK(mg_sdp_origin(sdp, &o) && o.connection.addr_type == MG_SDP_ADDR_IP6, "IPv6 o=");
	CHECK(mg_sdp_media_effective_connection(sdp, 3, &c) && c.addr_type == MG_SDP_ADDR_IP4 &&
		  str_is(c.address, "192.0.2.9"),
	      "media c= overrides");
	CHECK(mg_sdp_media_effective_connection(sdp, 1, &c) && c.addr_type == MG_SDP_ADDR_IP6,
	      "media 1 inherits");
	struct mg_sdp_media_info mi;
	CHECK(mg_sdp_media_info(sdp, 0, &mi) && mi.port == 49170 && mi.port_count == 2,
	      "port/count");
	CHECK(mg_sdp_media_info(sdp, 1, &mi) && mi.port == 0 && str_is(mi.media, "video"),
	      "rejected video");
	CHECK(mg_sdp_media_info(sdp, 2, &mi) && mi.proto == MG_SDP_PROTO_UDP &&
		  str_is(mi.formats, "wb"),
	      "udp wb");
	CHECK(mg_sdp_session_direction(sdp) == MG_SDP_DIR_RECVONLY, "session recvonly");
	CHECK(mg_sdp_media_direction(sdp, 0) == MG_SDP_DIR_RECVONLY, "media inherits recvonly");
	CHECK(mg_sdp_media_direction(sdp, 3) == MG_SDP_DIR_INACTIVE, "media inactive");
	CHECK(mg_sdp_media_direction(sdp, 99) == MG_SDP_DIR_RECVONLY, "bad index: session dir");
	round_trip(sample_multi, "multi");
}

static void test_misc(void)
{
	printf("line endings, blank lines, protocol names\n");
	/* No final newline: the serializer ends the last line with CRLF. */
	struct mg_sdp *sdp = parse_ok("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0", "no final LF");
	CHECK_SDP_TEXT(sdp, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "final line ended");
	/* Mixed CRLF/LF and trailing blank line. */
	sdp = parse_ok("v=0\r\no=- 1 1 IN IP4 1.2.3.4\ns=-\r\nt=0 0\r\n\r\n", "mixed");
	CHECK_SDP_TEXT(sdp, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "mixed endings");
	CHECK(mg_sdp_proto_from_text("RTP/SAVPF", 9) == MG_SDP_PROTO_RTP_SAVPF, "SAVPF");
	CHECK(mg_sdp_proto_from_text("UDP/TLS/RTP/SAVP", 16) == MG_SDP_PROTO_UDP_TLS_RTP_SAVP,
	      "UDP/TLS/RTP/SAVP");
	CHECK(mg_sdp_proto_from_text("TCP/MRCPv2", 10) == MG_SDP_PROTO_OTHER, "other");
	CHECK(mg_sdp_proto_from_text("RTP/AVPX", 7) == MG_SDP_PROTO_RTP_AVP, "length respected");
	for (int p = 0; p < MG_SDP_PROTO_OTHER; p++) {
		const char *name = mg_sdp_proto_name((enum mg_sdp_proto)p);
		CHECK(name && (int)mg_sdp_proto_from_text(name, strlen(name)) == p, "proto %d", p);
	}
	/* Serialize into a buffer that is one byte short, then exactly right. */
	sdp = parse_ok(sample_g711_offer, "g711");
	size_t need = 0;
	char small[16];
	CHECK(mg_sdp_serialize(sdp, small, sizeof(small), &need) == MG_SDP_ERR_BUFFER_TOO_SMALL &&
		  need == strlen(sample_g711_offer),
	      "too-small buffer reports the needed size");
	char *exact = malloc(need);
	size_t got = 0;
	CHECK(mg_sdp_serialize(sdp, exact, need - 1, &got) == MG_SDP_ERR_BUFFER_TOO_SMALL,
	      "one byte short");
	CHECK(mg_sdp_serialize(sdp, exact, need, &got) == MG_SDP_OK && got == need &&
		  memcmp(exact, sample_g711_offer, need) == 0,
	      "exact size buffer, no NUL needed");
	free(exact);
	/* Input need not be NUL-terminated: parse from a buffer with trailing junk excluded. */
	char buf[256];
	const char *s = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n";
	memcpy(buf, s, strlen(s));
	memset(buf + strlen(s), 'Z', sizeof(buf) - strlen(s));
	static struct mg_sdp nt;
	CHECK(mg_sdp_parse(&nt, buf, strlen(s)) == MG_SDP_OK, "length-delimited input");
	CHECK(mg_sdp_serialized_len(&nt) == strlen(s) + 3, "only the given bytes are used");
}

/* Every fuzz seed is a valid SDP that round-trips (so the corpus stays useful). */
static void test_corpus(const char *dir)
{
	static const char *const seeds[] = {"g711_offer.sdp",	   "chrome_offer.sdp",
					    "sdes_offer.sdp",	   "multi_ipv6.sdp",
					    "ice_lite_answer.sdp", "multicast_misc.sdp"};
	printf("fuzz seed corpus in %s\n", dir);
	for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i]);
		FILE *f = fopen(path, "rb");
		CHECK(f != NULL, "open %s", path);
		if (!f)
			continue;
		static char text[MG_SDP_MAX_SIZE + 1];
		size_t n = fread(text, 1, MG_SDP_MAX_SIZE, f);
		fclose(f);
		text[n] = '\0';
		round_trip(text, seeds[i]);
	}
}

int main(int argc, char **argv)
{
	test_g711();
	test_chrome();
	test_sdes();
	test_multi();
	test_misc();
	if (argc > 1)
		test_corpus(argv[1]);
	return check_summary("sdp-parse");
}
