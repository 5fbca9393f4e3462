/* libFuzzer target: the STUN parser and the ICE-lite responder on arbitrary bytes. Whatever the
 * responder answers must itself parse, carry the request's transaction id and a correct
 * FINGERPRINT (and MESSAGE-INTEGRITY under the local password when it claims to); a success
 * answer is only possible for a request that authenticates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ufrag[] = "mgUf", pwd[] = "mediagatePasswordOf22ch",
			  rufrag[] = "Br0wser+";
	struct mg_stun_msg m;
	enum mg_stun_reason r = mg_stun_parse(&m, data, size);
	if (r == MG_STUN_R_OK) {
		must(m.fingerprint_off < 0 || (size_t)m.fingerprint_off + 8 == size);
		(void)mg_stun_check_fingerprint(&m, data, size);
		(void)mg_stun_check_integrity(&m, data, size, (const uint8_t *)pwd, strlen(pwd));
		must(!m.username ||
		     (m.username >= data && m.username + m.username_len <= data + size));
	}
	struct mg_stun_ice_creds c = {ufrag,	   strlen(ufrag), pwd,
				      strlen(pwd), rufrag,	  strlen(rufrag)};
	struct mg_stun_addr src = {
	    .family = (size && (data[0] & 1)) ? 6 : 4, .port = 4242, .addr = {192, 0, 2, 1}};
	uint8_t out[MG_STUN_RESPONSE_MAX];
	struct mg_stun_ice_result res;
	struct mg_stun_counters cnt = {0};
	mg_stun_ice_respond(data, size, &c, &src, 1, out, sizeof(out), &res, &cnt);
	if (res.action == MG_STUN_ICE_DROP) {
		must(res.out_len == 0);
		return 0;
	}
	must(res.out_len >= MG_STUN_HEADER_LEN && res.out_len <= sizeof(out));
	struct mg_stun_msg resp;
	must(mg_stun_parse(&resp, out, res.out_len) == MG_STUN_R_OK);
	must(mg_stun_check_fingerprint(&resp, out, res.out_len));
	must(memcmp(resp.tid, data + 8, MG_STUN_TID_LEN) == 0);
	if (resp.integrity_off >= 0)
		must(mg_stun_check_integrity(&resp, out, res.out_len, (const uint8_t *)pwd,
					     strlen(pwd)));
	if (res.action == MG_STUN_ICE_SUCCESS) {
		must(resp.cls == MG_STUN_CLASS_SUCCESS && resp.integrity_off >= 0);
		must(m.integrity_off >= 0 &&
		     mg_stun_check_integrity(&m, data, size, (const uint8_t *)pwd, strlen(pwd)));
	} else {
		must(resp.cls == MG_STUN_CLASS_ERROR && resp.has_error);
	}
	return 0;
}
