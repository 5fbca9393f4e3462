/* Writes the seed corpus for fuzz_envelope_reader: small recordings sealed under the fuzz
 * target's fixed key (first byte: context check on/off). Usage: make_seed DIR */
#include "envelope.h"

#include <stdio.h>
#include <string.h>

static FILE *out;
static int file_sink(void *arg, const void *bytes, size_t len)
{
	(void)arg;
	return fwrite(bytes, 1, len, out) == len ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	struct mg_envelope_data_key dk = {.wrapped_len = 60, .wrap_info_len = 1};
	memcpy(dk.key, "mg-fuzz-key-0001mg-fuzz-key-0002", 32);
	memset(dk.wrapped, 0xAB, 60);
	dk.wrap_info[0] = 1;
	struct mg_envelope_context ctx = {"111122223333",    "inst-a",	   "c-1",
					  "p/c-1.wav.mgenc", "mgk-inst-a", 1};
	size_t sizes[] = {0, 63, 64, 65, 200};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/seed-%zu", argv[1], sizes[i]);
		out = fopen(path, "wb");
		if (!out)
			return 1;
		fputc((int)(i & 1), out);
		struct mg_envelope_writer *w;
		mg_envelope_writer_open(&w, &ctx, &dk, 64, file_sink, NULL);
		unsigned char plain[200];
		memset(plain, 'a' + (int)i, sizeof(plain));
		mg_envelope_writer_write(w, plain, sizes[i]);
		mg_envelope_writer_finish(w, i == 4 ? MG_ENVELOPE_FLAG_PARTIAL : 0);
		fclose(out);
	}
	return 0;
}
