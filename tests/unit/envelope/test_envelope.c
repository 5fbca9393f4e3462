/* Envelope format: round trips over many sizes, an independent decryption of the first
 * frame with OpenSSL's HKDF and raw GCM (checks the documented layout), and every tamper
 * case: header edits, frame edits, truncation at every byte, dropped / reordered / duplicated
 * / spliced frames, trailing bytes, wrong context, wrong key. */
#include "envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "../check_msg.h"

struct buf {
	uint8_t *data;
	size_t len, cap, pos;
};

static int buf_sink(void *arg, const void *bytes, size_t len)
{
	struct buf *b = arg;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
	return 0;
}

static long buf_source(void *arg, void *out, size_t len)
{
	struct buf *b = arg;
	size_t n = b->len - b->pos;
	if (n > len)
		n = len;
	/* Hand out odd-sized pieces to exercise the reader's reassembly. */
	if (n > 7 && (b->pos & 1))
		n = 7;
	memcpy(out, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

static const struct mg_envelope_context context = {
    .account = "111122223333",
    .instance = "inst-a",
    .contact_id = "c0ffee00-1111-2222-3333-444455556666",
    .object_path =
	"rec/connect/alias-a/CallRecordings/2026/11/23/c0ffee_20261123T101010Z.wav.mgenc",
    .key_id = "mgk-inst-a",
    .key_version = 3,
};

static struct mg_envelope_data_key data_key;

static struct buf seal(const uint8_t *plain, size_t len, uint32_t frame_len, uint8_t flags,
		       size_t chunk)
{
	struct buf out = {0};
	struct mg_envelope_writer *w;
	int rc = mg_envelope_writer_open(&w, &context, &data_key, frame_len, buf_sink, &out);
	CHECK(rc == 0, "writer_open: %s", mg_envelope_strerror(rc));
	size_t off = 0;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		rc = mg_envelope_writer_write(w, plain + off, n);
		CHECK(rc == 0, "write: %s", mg_envelope_strerror(rc));
		off += n;
	}
	rc = mg_envelope_writer_finish(w, flags);
	CHECK(rc == 0, "finish: %s", mg_envelope_strerror(rc));
	return out;
}

/* Decrypts everything; returns the status (0 ok) and the plaintext in *plain_out. */
static int open_all(struct buf *sealed, const uint8_t *key,
		    const struct mg_envelope_context *expect, struct buf *plain_out, uint8_t *flags)
{
	sealed->pos = 0;
	struct mg_envelope_reader *r;
	int rc = mg_envelope_reader_open(&r, buf_source, sealed);
	if (rc != 0)
		return rc;
	rc = mg_envelope_reader_set_key(r, key, expect);
	if (rc == 0) {
		uint8_t tmp[1000];
		long n;
		while ((n = mg_envelope_reader_read(r, tmp, sizeof(tmp))) > 0)
			if (plain_out)
				buf_sink(plain_out, tmp, (size_t)n);
		rc = (int)n;
		if (rc == 0 && flags)
			*flags = mg_envelope_reader_flags(r);
	}
	mg_envelope_reader_free(r);
	return rc;
}

static size_t header_len(void)
{
	uint8_t ctx[4096];
	long c = mg_envelope_context_encode(&context, ctx, sizeof(ctx));
	return 10 + 32 + (size_t)c + 2 + data_key.wrap_info_len + 2 + data_key.wrapped_len + 32 +
	       16;
}

/* Independent check of the documented layout: derive the frame key with OpenSSL's
 * EVP_PKEY HKDF interface, rebuild the first regular frame's IV and AAD by hand, decrypt. */
static void check_layout(const uint8_t *plain, uint32_t frame_len, struct buf *sealed)
{
	size_t h = header_len();
	const uint8_t *message_id = sealed->data + 10;
	uint8_t info[32] = "MGRE\x01"
			   "DERIVEKEY";
	uint8_t key[32];
	size_t key_len = sizeof(key);
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	EVP_PKEY_derive_init(pctx);
	EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha512());
	EVP_PKEY_CTX_set1_hkdf_salt(pctx, message_id, 32);
	EVP_PKEY_CTX_set1_hkdf_key(pctx, data_key.key, 32);
	EVP_PKEY_CTX_add1_hkdf_info(pctx, info, 14);
	CHECK(EVP_PKEY_derive(pctx, key, &key_len) == 1, "hkdf");
	EVP_PKEY_CTX_free(pctx);

	const uint8_t *frame = sealed->data + h;
	CHECK(frame[0] == 0 && frame[1] == 0 && frame[2] == 0 && frame[3] == 1,
	      "first frame sequence number is 1 at offset %zu", h);
	uint8_t iv[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t aad[46];
	memcpy(aad, message_id, 32);
	uint8_t rest[14] = {1,
			    0,
			    0,
			    0,
			    1,
			    0,
			    0,
			    0,
			    0,
			    0,
			    (uint8_t)(frame_len >> 24),
			    (uint8_t)(frame_len >> 16),
			    (uint8_t)(frame_len >> 8),
			    (uint8_t)frame_len};
	memcpy(aad + 32, rest, 14);
	uint8_t *out = malloc(frame_len);
	int outl;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv);
	EVP_DecryptUpdate(c, NULL, &outl, aad, sizeof(aad));
	EVP_DecryptUpdate(c, out, &outl, frame + 4, (int)frame_len);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(frame + 4 + frame_len));
	int ok = EVP_DecryptFinal_ex(c, out + outl, &outl);
	CHECK(ok == 1, "independent GCM decrypt of frame 1 authenticates");
	CHECK(ok == 1 && memcmp(out, plain, frame_len) == 0, "independent decrypt matches");
	EVP_CIPHER_CTX_free(c);
	free(out);
}

static void test_round_trips(void)
{
	const uint32_t frame_len = 256;
	size_t sizes[] = {0, 1, 255, 256, 257, 511, 512, 513, 4096, 100000};
	uint8_t *plain = malloc(5 * 1024 * 1024);
	RAND_bytes(plain, 5 * 1024 * 1024);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t chunks[] = {1, 100, 256, 257, 1 << 20};
		for (size_t c = 0; c < 5; c++) {
			struct buf sealed = seal(plain, sizes[i], frame_len, 0, chunks[c]);
			size_t frames = sizes[i] == 0 ? 1 : (sizes[i] + frame_len - 1) / frame_len;
			size_t expect_len = header_len() + (frames - 1) * (4 + frame_len + 16) +
					    13 + (sizes[i] - (frames - 1) * frame_len) + 16;
			CHECK(sealed.len == expect_len, "size %zu: sealed length %zu, expected %zu",
			      sizes[i], sealed.len, expect_len);
			struct buf back = {0};
			uint8_t flags = 0xff;
			int rc = open_all(&sealed, data_key.key, &context, &back, &flags);
			CHECK(rc == 0, "size %zu chunk %zu: open: %s", sizes[i], chunks[c],
			      mg_envelope_strerror(rc));
			CHECK(back.len == sizes[i] &&
				  (sizes[i] == 0 || memcmp(back.data, plain, sizes[i]) == 0),
			      "size %zu: plaintext back", sizes[i]);
			CHECK(flags == 0, "flags 0");
			if (sizes[i] > frame_len && c == 0)
				check_layout(plain, frame_len, &sealed);
			free(sealed.data);
			free(back.data);
		}
		printf("round trip %zu bytes (frame %u): ok\n", sizes[i], frame_len);
	}
	/* Large: 5 MiB with the default frame length. */
	struct buf sealed = seal(plain, 5 * 1024 * 1024, 0, MG_ENVELOPE_FLAG_PARTIAL, 65536 + 3);
	struct buf back = {0};
	uint8_t flags = 0;
	int rc = open_all(&sealed, data_key.key, &context, &back, &flags);
	CHECK(rc == 0 && back.len == 5 * 1024 * 1024 && memcmp(back.data, plain, back.len) == 0,
	      "5 MiB round trip: %s", mg_envelope_strerror(rc));
	CHECK(flags == MG_ENVELOPE_FLAG_PARTIAL, "partial flag survives");
	printf("round trip 5 MiB, default frame, partial flag: ok\n");
	free(sealed.data);
	free(back.data);
	free(plain);
}

static void test_tamper(void)
{
	const uint32_t frame_len = 64;
	uint8_t plain[64 * 3 + 10];
	RAND_bytes(plain, sizeof(plain));
	struct buf sealed = seal(plain, sizeof(plain), frame_len, 0, 1000);
	size_t h = header_len();
	size_t frame = 4 + frame_len + 16;
	CHECK(open_all(&sealed, data_key.key, &context, NULL, NULL) == 0, "baseline opens");

	/* Every single-bit edit anywhere must be refused. */
	int undetected = 0;
	for (size_t i = 0; i < sealed.len; i++) {
		sealed.data[i] ^= 0x01;
		if (open_all(&sealed, data_key.key, &context, NULL, NULL) == 0)
			undetected++;
		sealed.data[i] ^= 0x01;
	}
	CHECK(undetected == 0, "%d single-bit edits undetected", undetected);
	printf("bit flips at all %zu positions: all detected\n", sealed.len);

	/* Truncation at every length. */
	int accepted = 0;
	size_t full = sealed.len;
	for (size_t cut = 0; cut < full; cut++) {
		sealed.len = cut;
		int rc = open_all(&sealed, data_key.key, &context, NULL, NULL);
		if (rc == 0)
			accepted++;
		if (cut == h + frame)
			CHECK(rc == MG_ENVELOPE_ERR_TRUNCATED, "cut at frame boundary: %s",
			      mg_envelope_strerror(rc));
	}
	sealed.len = full;
	CHECK(accepted == 0, "%d truncations accepted", accepted);
	printf("truncation at every length: all detected\n");

	/* Dropped frame 2. */
	struct buf edited = {0};
	buf_sink(&edited, sealed.data, h + frame);
	buf_sink(&edited, sealed.data + h + 2 * frame, full - h - 2 * frame);
	int rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_SEQUENCE, "dropped frame: %s", mg_envelope_strerror(rc));
	/* Frames 1 and 2 swapped. */
	edited.len = 0;
	buf_sink(&edited, sealed.data, h);
	buf_sink(&edited, sealed.data + h + frame, frame);
	buf_sink(&edited, sealed.data + h, frame);
	buf_sink(&edited, sealed.data + h + 2 * frame, full - h - 2 * frame);
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_SEQUENCE, "swapped frames: %s", mg_envelope_strerror(rc));
	/* Swapped and renumbered: the sequence number is inside the IV and AAD. */
	edited.data[h + 3] = 1;
	edited.data[h + frame + 3] = 2;
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_AUTH, "swapped + renumbered frames: %s",
	      mg_envelope_strerror(rc));
	/* Duplicated frame 1. */
	edited.len = 0;
	buf_sink(&edited, sealed.data, h + frame);
	buf_sink(&edited, sealed.data + h, full - h);
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_SEQUENCE, "duplicated frame: %s", mg_envelope_strerror(rc));
	/* Final frame dropped (a regular frame last). */
	edited.len = 0;
	buf_sink(&edited, sealed.data, h + 3 * frame);
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_TRUNCATED, "final frame dropped: %s", mg_envelope_strerror(rc));
	/* Trailing bytes after the final frame. */
	edited.len = 0;
	buf_sink(&edited, sealed.data, full);
	buf_sink(&edited, "x", 1);
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_TRAILING, "trailing bytes: %s", mg_envelope_strerror(rc));
	/* A frame spliced in from another recording sealed with the same data key. */
	struct buf other = seal(plain, sizeof(plain), frame_len, 0, 1000);
	edited.len = 0;
	buf_sink(&edited, sealed.data, h + frame);
	buf_sink(&edited, other.data + h + frame, frame);
	buf_sink(&edited, sealed.data + h + 2 * frame, full - h - 2 * frame);
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_AUTH, "frame spliced from another recording: %s",
	      mg_envelope_strerror(rc));
	/* Partial flag flipped in the final frame. */
	edited.len = 0;
	buf_sink(&edited, sealed.data, full);
	edited.data[h + 3 * frame + 8] = MG_ENVELOPE_FLAG_PARTIAL;
	rc = open_all(&edited, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_AUTH, "partial flag edited: %s", mg_envelope_strerror(rc));
	printf(
	    "dropped, swapped, renumbered, duplicated, spliced frames, trailing bytes: detected\n");

	/* Wrong context (everything else right). */
	struct mg_envelope_context wrong = context;
	wrong.contact_id = "another-contact";
	rc = open_all(&sealed, data_key.key, &wrong, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_CONTEXT, "wrong context: %s", mg_envelope_strerror(rc));
	wrong = context;
	wrong.key_version = 2;
	rc = open_all(&sealed, data_key.key, &wrong, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_CONTEXT, "wrong key version in context: %s",
	      mg_envelope_strerror(rc));
	/* Wrong key: refused by the commitment before any frame is decrypted. */
	uint8_t other_key[32];
	memcpy(other_key, data_key.key, 32);
	other_key[31] ^= 0x80;
	rc = open_all(&sealed, other_key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_COMMITMENT, "wrong key: %s", mg_envelope_strerror(rc));
	/* Header edit of the context with a matching expectation: header tag fails. */
	edited.len = 0;
	buf_sink(&edited, sealed.data, full);
	edited.data[10 + 32 + 2] ^= 0x01; /* first byte of the account */
	struct mg_envelope_context edited_ctx = context;
	char account[32];
	snprintf(account, sizeof(account), "%s", context.account);
	account[0] ^= 0x01;
	edited_ctx.account = account;
	rc = open_all(&edited, data_key.key, &edited_ctx, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_AUTH, "header context edit: %s", mg_envelope_strerror(rc));
	printf("wrong context, wrong key version, wrong key, header edit: detected\n");
	/* Abort leaves a stream that never opens. */
	struct buf aborted = {0};
	struct mg_envelope_writer *w;
	mg_envelope_writer_open(&w, &context, &data_key, frame_len, buf_sink, &aborted);
	mg_envelope_writer_write(w, plain, sizeof(plain));
	mg_envelope_writer_abort(w);
	rc = open_all(&aborted, data_key.key, &context, NULL, NULL);
	CHECK(rc == MG_ENVELOPE_ERR_TRUNCATED, "aborted stream: %s", mg_envelope_strerror(rc));
	printf("aborted recording reads as truncated: ok\n");
	free(aborted.data);
	free(other.data);
	free(edited.data);
	free(sealed.data);
}

static int failing_sink_calls;
static int failing_sink(void *arg, const void *bytes, size_t len)
{
	(void)arg;
	(void)bytes;
	(void)len;
	return ++failing_sink_calls > 1 ? -1 : 0; /* header accepted, first frame refused */
}

static void test_misuse(void)
{
	struct mg_envelope_writer *w;
	uint8_t plain[300] = {0};
	int rc = mg_envelope_writer_open(&w, &context, &data_key, 64, failing_sink, NULL);
	CHECK(rc == 0, "open with failing sink");
	rc = mg_envelope_writer_write(w, plain, sizeof(plain));
	CHECK(rc == MG_ENVELOPE_ERR_SINK, "sink failure reported: %s", mg_envelope_strerror(rc));
	rc = mg_envelope_writer_write(w, plain, 1);
	CHECK(rc == MG_ENVELOPE_ERR_SINK, "sink failure is sticky");
	rc = mg_envelope_writer_finish(w, 0);
	CHECK(rc == MG_ENVELOPE_ERR_SINK, "finish reports the earlier failure");
	struct mg_envelope_context missing = context;
	missing.object_path = NULL;
	struct buf out = {0};
	CHECK(mg_envelope_writer_open(&w, &missing, &data_key, 0, buf_sink, &out) ==
		  MG_ENVELOPE_ERR_ARG,
	      "context field missing refused");
	CHECK(mg_envelope_writer_open(&w, &context, &data_key, 63, buf_sink, &out) ==
		  MG_ENVELOPE_ERR_ARG,
	      "frame length below minimum refused");
	struct buf sealed = seal(plain, sizeof(plain), 64, 0, 1000);
	struct mg_envelope_reader *r;
	sealed.pos = 0;
	CHECK(mg_envelope_reader_open(&r, buf_source, &sealed) == 0, "reader open");
	uint8_t tmp[10];
	CHECK(mg_envelope_reader_read(r, tmp, sizeof(tmp)) == MG_ENVELOPE_ERR_STATE,
	      "read before set_key refused");
	mg_envelope_reader_free(r);
	struct buf junk = {0};
	buf_sink(&junk, "RIFF\x24\x00\x00\x00WAVEfmt ", 16);
	CHECK(mg_envelope_reader_open(&r, buf_source, &junk) == MG_ENVELOPE_ERR_FORMAT,
	      "a plain WAV is not a sealed recording");
	printf("misuse: sticky sink failure, bad arguments, read before key, plain WAV: ok\n");
	free(junk.data);
	free(sealed.data);
	free(out.data);
}

int main(void)
{
	RAND_bytes(data_key.key, sizeof(data_key.key));
	memset(data_key.wrapped, 0xAB, 60);
	data_key.wrapped_len = 60;
	memcpy(data_key.wrap_info, "\x01test", 5);
	data_key.wrap_info_len = 5;
	test_round_trips();
	test_tamper();
	test_misuse();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
