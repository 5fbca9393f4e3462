/* libFuzzer target: a passive (server) mg_dtls association fed arbitrary datagrams. The input
 * is split into datagrams by 2-byte big-endian length prefixes. Nothing may crash, and a
 * session that is not CONNECTED must never hand out keys (it cannot connect: the fuzzer does
 * not hold the client certificate the fingerprint names). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static mg_dtls_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx)
		ctx = mg_dtls_ctx_new("fuzz", 2);
	must(ctx != NULL);
	struct mg_dtls_fingerprint fp = {.hash = MG_DTLS_HASH_SHA256, .len = 32};
	memset(fp.value, 0x42, sizeof(fp.value));
	struct mg_dtls_config cfg = {.role = MG_DTLS_ROLE_SERVER, .remote_fingerprint = &fp};
	mg_dtls *d = mg_dtls_new(ctx, &cfg);
	must(d != NULL);
	uint64_t now = 1000;
	size_t off = 0;
	uint8_t out[2048];
	while (off + 2 <= size) {
		size_t n = (size_t)(data[off] << 8 | data[off + 1]);
		off += 2;
		if (n > size - off)
			n = size - off;
		mg_dtls_input(d, data + off, n, now);
		off += n;
		now += 100000000;
		mg_dtls_tick(d, now);
		while (mg_dtls_output(d, out, sizeof(out)) > 0)
			;
	}
	struct mg_dtls_srtp_keys k;
	must(mg_dtls_state(d) != MG_DTLS_STATE_CONNECTED);
	must(mg_dtls_srtp_keys(d, &k) == -1);
	mg_dtls_free(d);
	return 0;
}
