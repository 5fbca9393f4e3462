/* libFuzzer target: whatever parses must serialize, re-parse and serialize to the same
 * text; then the ng handler's edits are applied and the result must parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

static struct mg_sdp sdp, again;
static char out[2 * (MG_SDP_MAX_SIZE + MG_SDP_EDIT_SPACE)], out2[sizeof(out)];

static void must(int cond)
{
	if (!cond)
		abort();
}

/* Serializes, re-parses and checks the text is stable. */
static void round_trip(const struct mg_sdp *s)
{
	size_t len = 0, len2 = 0;
	must(mg_sdp_serialize(s, out, sizeof(out), &len) == MG_SDP_OK);
	must(len == mg_sdp_serialized_len(s));
	/* LF->CRLF and edits can grow the text past the input limit: nothing to re-parse then. */
	if (len > MG_SDP_MAX_SIZE)
		return;
	must(mg_sdp_parse(&again, out, len) == MG_SDP_OK);
	must(mg_sdp_serialize(&again, out2, sizeof(out2), &len2) == MG_SDP_OK);
	must(len == len2 && memcmp(out, out2, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (mg_sdp_parse(&sdp, (const char *)data, size) != MG_SDP_OK) {
		must(mg_sdp_error(&sdp)[0] != '\0');
		return 0;
	}
	round_trip(&sdp);

	/* Read everything the ng handler reads. */
	struct mg_sdp_origin o;
	struct mg_sdp_connection c;
	struct mg_sdp_str v;
	mg_sdp_origin(&sdp, &o);
	mg_sdp_group(&sdp, "BUNDLE", &v);
	for (unsigned m = 0; m < mg_sdp_media_count(&sdp); m++) {
		struct mg_sdp_media_info mi;
		struct mg_sdp_rtcp rtcp;
		struct mg_sdp_rtpmap map;
		struct mg_sdp_candidate cand;
		struct mg_sdp_crypto cr;
		struct mg_sdp_fingerprint fp;
		enum mg_sdp_setup setup;
		unsigned u, cur = 0;
		must(mg_sdp_media_info(&sdp, m, &mi));
		mg_sdp_media_effective_connection(&sdp, m, &c);
		mg_sdp_media_rtcp(&sdp, m, &rtcp);
		mg_sdp_media_direction(&sdp, m);
		mg_sdp_media_setup(&sdp, m, &setup);
		mg_sdp_media_fingerprint(&sdp, m, &fp);
		mg_sdp_media_ptime(&sdp, m, &u);
		mg_sdp_media_ice_ufrag(&sdp, m, &v);
		size_t tc = 0;
		struct mg_sdp_str tok;
		while (mg_sdp_token_next(mi.formats, &tc, &tok)) {
			char pt[4] = {0};
			if (tok.len < 4) {
				memcpy(pt, tok.ptr, tok.len);
				mg_sdp_media_rtpmap(&sdp, m, (unsigned)atoi(pt), &map);
				mg_sdp_media_fmtp(&sdp, m, (unsigned)atoi(pt), &v);
			}
		}
		while (mg_sdp_media_candidate_next(&sdp, m, &cur, &cand))
			;
		cur = 0;
		while (mg_sdp_media_crypto_next(&sdp, m, &cur, &cr))
			;
	}

	/* The rewrites of an offer through mediagate; errors (limits) are fine, crashes not. */
	mg_sdp_replace_connections(&sdp, MG_SDP_ADDR_IP4, "203.0.113.1", size & 1);
	mg_sdp_set_origin_address(&sdp, MG_SDP_ADDR_IP6, "2001:db8::1");
	mg_sdp_set_origin_version(&sdp, size);
	mg_sdp_remove_ice(&sdp, MG_SDP_ALL_SECTIONS);
	mg_sdp_remove_crypto(&sdp, MG_SDP_ALL_SECTIONS);
	mg_sdp_set_ice_lite(&sdp);
	for (unsigned m = 0; m < mg_sdp_media_count(&sdp); m++) {
		mg_sdp_media_set_port(&sdp, m, (uint16_t)(30000 + 2 * m));
		mg_sdp_media_set_proto(&sdp, m, "RTP/SAVPF");
		mg_sdp_media_set_rtcp(&sdp, m, (uint16_t)(30001 + 2 * m), MG_SDP_ADDR_IP4,
				      "203.0.113.1");
		mg_sdp_media_set_rtcp_mux(&sdp, m, m & 1);
		mg_sdp_set_ice_credentials(&sdp, (int)m, "ufrag", "passwordpasswordpassword");
		mg_sdp_media_add_candidate_fields(&sdp, m, "1", 1, 2130706431u, "203.0.113.1",
						  30000, "host");
		mg_sdp_media_add_crypto(&sdp, m, 1, "AES_CM_128_HMAC_SHA1_80",
					"inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz", NULL);
		mg_sdp_set_setup(&sdp, (int)m, MG_SDP_SETUP_PASSIVE);
		mg_sdp_set_fingerprint(&sdp, (int)m, "sha-256", "AB:CD");
		mg_sdp_set_direction(&sdp, (int)m, MG_SDP_DIR_SENDRECV);
		mg_sdp_media_remove_payload_attrs(&sdp, m, 8, NULL);
		mg_sdp_media_set_formats(&sdp, m, "0 101");
		mg_sdp_remove_line(&sdp, (int)m, 1);
	}
	round_trip(&sdp);
	return 0;
}
