/* libFuzzer target: the RFC 4568 a=crypto parser. Any input must be answered with an error
 * code (never a crash or an out-of-bounds read); whatever parses as supported must format
 * and parse back to the same keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_sdes_crypto parsed, again;
	size_t offset = 0;
	enum mg_sdes_error e = mg_sdes_parse((const char *)data, size, &parsed, &offset);
	if (mg_sdes_strerror(e) == NULL || offset > size)
		abort();
	if (e != MG_SDES_OK)
		return 0;
	struct mg_srtp_key_params params;
	for (unsigned i = 0; i < parsed.n_keys; i++)
		if (mg_sdes_key_params(&parsed, i, &params) != MG_SDES_OK)
			abort();
	char text[MG_SDES_MAX_LINE + 1];
	size_t len = 0;
	if (mg_sdes_format(&parsed, text, sizeof(text), &len) != MG_SDES_OK)
		return 0; /* e.g. longer than a line once normalised */
	if (mg_sdes_parse(text, len, &again, NULL) != MG_SDES_OK || again.n_keys != parsed.n_keys ||
	    again.suite != parsed.suite || again.tag != parsed.tag)
		abort();
	for (unsigned i = 0; i < parsed.n_keys; i++)
		if (memcmp(&again.keys[i], &parsed.keys[i], sizeof(again.keys[i])) != 0)
			abort();
	return 0;
}
