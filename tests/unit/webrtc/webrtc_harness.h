/* What the WebRTC unit tests share: the objects under test (the real data plane on ring
 * ports, sessions, ng handler, lib/webrtc) and a small ng client that drives mg_ng_handle
 * directly and reads its answers. Included by one test program each. */
#ifndef MG_TEST_WEBRTC_HARNESS_H
#define MG_TEST_WEBRTC_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>

#include "dataplane.h"
#include "ng.h"
#include "session.h"
#include "webrtc.h"

static struct mg_dataplane *dp;
static struct mg_sessions *sessions;
static struct mg_ng *ng;
static struct mg_webrtc *wr;
static struct rte_ring *rx_ring[2], *tx_ring[2];
static char answer[65536];

#define BROWSER_IP   0x0a000002u
#define BROWSER_PORT 50000
#define BROWSER_PWD  "browserpassword0123456789"

/* ---- ng requests ---- */
static inline size_t put_str(char *p, const char *s)
{
	return (size_t)sprintf(p, "%zu:%s", strlen(s), s);
}

/* keys/values alternate, NULL-terminated; values starting with '[' are a one-element list */
static inline const char *ng_request(const char *const *kv)
{
	static char req[32768];
	static unsigned cookie; /* a repeated cookie would get the cached answer */
	char *p = req;
	p += sprintf(p, "ck%u d", ++cookie);
	for (unsigned i = 0; kv[i]; i += 2) {
		p += put_str(p, kv[i]);
		if (kv[i + 1][0] == '[') {
			*p++ = 'l';
			p += put_str(p, kv[i + 1] + 1);
			*p++ = 'e';
		} else {
			p += put_str(p, kv[i + 1]);
		}
	}
	*p++ = 'e';
	size_t n = mg_ng_handle(ng, req, (size_t)(p - req), answer, sizeof(answer) - 1);
	answer[n] = 0;
	return answer;
}

static inline bool ng_ok(void)
{
	return strstr(answer, "6:result2:ok") != NULL;
}

/* The SDP of the last ng answer, NUL-terminated (in a static buffer). */
static inline const char *ng_sdp(void)
{
	static char sdp[32768];
	const char *p = strstr(answer, "3:sdp");
	sdp[0] = 0;
	if (!p)
		return sdp;
	char *end;
	unsigned long n = strtoul(p + 5, &end, 10);
	if (*end != ':' || n >= sizeof(sdp))
		return sdp;
	memcpy(sdp, end + 1, n);
	sdp[n] = 0;
	return sdp;
}

/* Value of the first "a=<name>:" line (up to CR) into out. */
static inline bool sdp_attr(const char *sdp, const char *prefix, char *out, size_t cap)
{
	const char *p = strstr(sdp, prefix);
	if (!p)
		return false;
	p += strlen(prefix);
	size_t n = strcspn(p, "\r\n");
	if (n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = 0;
	return true;
}

#endif
