/* libFuzzer target for the sealed-recording reader: arbitrary bytes must be refused with a
 * status, never crash, never release unauthenticated plaintext. The data key is fixed, so
 * inputs built from the seed (a real sealed recording under that key) reach the frame
 * parser; the first input byte chooses whether the expected context is checked. */
#include "envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
	const uint8_t *data;
	size_t len, pos;
};

static long source(void *arg, void *buf, size_t len)
{
	struct cursor *c = arg;
	size_t n = c->len - c->pos;
	if (n > len)
		n = len;
	if (n > 3 && (c->pos & 3) == 1) /* odd piece sizes exercise reassembly */
		n = 3;
	memcpy(buf, c->data + c->pos, n);
	c->pos += n;
	return (long)n;
}

static const uint8_t fuzz_key[MG_ENVELOPE_KEY_LEN] = {
    0x6d, 0x67, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, 0x30, 0x31,
    0x6d, 0x67, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x30, 0x30, 0x32};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct cursor c = {data + 1, size - 1, 0};
	struct mg_envelope_reader *r;
	if (mg_envelope_reader_open(&r, source, &c) != MG_ENVELOPE_OK)
		return 0;
	const struct mg_envelope_context *header = mg_envelope_reader_context(r);
	size_t len;
	(void)mg_envelope_reader_wrapped_key(r, &len);
	(void)mg_envelope_reader_wrap_info(r, &len);
	struct mg_envelope_context expected = *header;
	if (mg_envelope_reader_set_key(r, fuzz_key, (data[0] & 1) ? &expected : NULL) ==
	    MG_ENVELOPE_OK) {
		uint8_t buf[4096];
		long n;
		while ((n = mg_envelope_reader_read(r, buf, sizeof(buf))) > 0)
			;
	}
	mg_envelope_reader_free(r);
	return 0;
}
