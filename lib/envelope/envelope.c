/* Sealed recording format, writer and reader. Layout: docs/recording-format.md. */
#include "envelope.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define MAGIC				    "MGRE"
#define FORMAT_VERSION			    0x01
#define SUITE_AES256_GCM_HKDF_SHA512_COMMIT 0x01
#define FINAL_MARKER			    0xFFFFFFFFu
#define SEQ_MAX				    0xFFFFFFFEu /* the marker value can never be a sequence number */
#define IV_LEN				    12
#define FRAME_AAD_LEN			    (MG_ENVELOPE_MESSAGE_ID_LEN + 1 + 4 + 1 + 8)
#define FRAME_KIND_REGULAR		    0x01
#define FRAME_KIND_FINAL		    0x02
#define FRAME_HEADROOM			    13 /* final frame header: marker, seq, flags, content length */
#define HEADER_MAX                                                                                 \
	(4 + 1 + 1 + 4 + MG_ENVELOPE_MESSAGE_ID_LEN + 5 * (2 + MG_ENVELOPE_FIELD_MAX) + 4 +        \
	 2 * (2 + MG_ENVELOPE_WRAPPED_MAX) + MG_ENVELOPE_COMMIT_LEN + MG_ENVELOPE_TAG_LEN)

const char *mg_envelope_strerror(int status)
{
	switch (status) {
	case MG_ENVELOPE_OK:
		return "ok";
	case MG_ENVELOPE_ERR_ARG:
		return "invalid argument";
	case MG_ENVELOPE_ERR_SINK:
		return "sink write failed";
	case MG_ENVELOPE_ERR_SOURCE:
		return "source read failed";
	case MG_ENVELOPE_ERR_FORMAT:
		return "not a sealed recording (bad header or frame)";
	case MG_ENVELOPE_ERR_TRUNCATED:
		return "truncated: ends before the final frame";
	case MG_ENVELOPE_ERR_TRAILING:
		return "bytes after the final frame";
	case MG_ENVELOPE_ERR_SEQUENCE:
		return "frame dropped, reordered or duplicated";
	case MG_ENVELOPE_ERR_AUTH:
		return "authentication failed (tampered header or frame)";
	case MG_ENVELOPE_ERR_COMMITMENT:
		return "key commitment mismatch (wrong data key)";
	case MG_ENVELOPE_ERR_CONTEXT:
		return "encryption context does not match";
	case MG_ENVELOPE_ERR_CRYPTO:
		return "crypto library failure";
	case MG_ENVELOPE_ERR_LIMIT:
		return "frame limit for one data key reached";
	case MG_ENVELOPE_ERR_NOMEM:
		return "out of memory";
	case MG_ENVELOPE_ERR_STATE:
		return "API called in the wrong state";
	default:
		return "unknown error";
	}
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ---- context ---------------------------------------------------------------------------- */

static const char *context_field(const struct mg_envelope_context *c, int i)
{
	switch (i) {
	case 0:
		return c->account;
	case 1:
		return c->instance;
	case 2:
		return c->contact_id;
	case 3:
		return c->object_path;
	default:
		return c->key_id;
	}
}

long mg_envelope_context_encode(const struct mg_envelope_context *context, uint8_t *out,
				size_t out_cap)
{
	size_t pos = 0;
	if (!context)
		return -1;
	for (int i = 0; i < 5; i++) {
		const char *field = context_field(context, i);
		if (!field)
			return -1;
		size_t len = strlen(field);
		if (len > MG_ENVELOPE_FIELD_MAX || pos + 2 + len > out_cap)
			return -1;
		put_u16(out + pos, (uint16_t)len);
		memcpy(out + pos + 2, field, len);
		pos += 2 + len;
	}
	if (pos + 4 > out_cap)
		return -1;
	put_u32(out + pos, context->key_version);
	return (long)(pos + 4);
}

bool mg_envelope_context_equal(const struct mg_envelope_context *a,
			       const struct mg_envelope_context *b)
{
	for (int i = 0; i < 5; i++) {
		const char *x = context_field(a, i), *y = context_field(b, i);
		if (!x || !y || strcmp(x, y) != 0)
			return false;
	}
	return a->key_version == b->key_version;
}

/* ---- key schedule ----------------------------------------------------------------------- */

/* HKDF-SHA-512(salt = message id, ikm = data key, info = MAGIC || suite || label). The same
 * construction as the AWS Encryption SDK's committing suites, with our own labels. */
static int hkdf_sha512(const uint8_t data_key[MG_ENVELOPE_KEY_LEN],
		       const uint8_t message_id[MG_ENVELOPE_MESSAGE_ID_LEN], const char *label,
		       uint8_t *out, size_t out_len)
{
	uint8_t info[64];
	size_t label_len = strlen(label);
	memcpy(info, MAGIC, 4);
	info[4] = SUITE_AES256_GCM_HKDF_SHA512_COMMIT;
	memcpy(info + 5, label, label_len);

	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return MG_ENVELOPE_ERR_CRYPTO;
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kctx)
		return MG_ENVELOPE_ERR_CRYPTO;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA512", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)data_key,
					      MG_ENVELOPE_KEY_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)message_id,
					      MG_ENVELOPE_MESSAGE_ID_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 5 + label_len),
	    OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok ? MG_ENVELOPE_OK : MG_ENVELOPE_ERR_CRYPTO;
}

static void frame_iv(uint8_t iv[IV_LEN], uint32_t seq)
{
	/* seq 0 authenticates the header; frames use 1..SEQ_MAX: each IV is used once per
	 * derived key, and every recording has its own derived key (fresh data key, random
	 * message id). */
	memset(iv, 0, IV_LEN);
	put_u32(iv + 8, seq);
}

static void frame_aad(uint8_t aad[FRAME_AAD_LEN], const uint8_t *message_id, uint8_t kind,
		      uint32_t seq, uint8_t flags, uint64_t content_len)
{
	memcpy(aad, message_id, MG_ENVELOPE_MESSAGE_ID_LEN);
	uint8_t *p = aad + MG_ENVELOPE_MESSAGE_ID_LEN;
	p[0] = kind;
	put_u32(p + 1, seq);
	p[5] = flags;
	put_u64(p + 6, content_len);
}

/* One GCM operation with a context initialised once per recording. */
static int gcm_seal(EVP_CIPHER_CTX *ctx, uint32_t seq, const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[MG_ENVELOPE_TAG_LEN])
{
	uint8_t iv[IV_LEN];
	int outl;
	frame_iv(iv, seq);
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	if (len && EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	if (EVP_EncryptFinal_ex(ctx, out + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MG_ENVELOPE_TAG_LEN, tag) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	return MG_ENVELOPE_OK;
}

static int gcm_open(EVP_CIPHER_CTX *ctx, uint32_t seq, const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	uint8_t iv[IV_LEN];
	int outl;
	frame_iv(iv, seq);
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	if (len && EVP_DecryptUpdate(ctx, out, &outl, in, (int)len) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MG_ENVELOPE_TAG_LEN, (void *)tag) != 1)
		return MG_ENVELOPE_ERR_CRYPTO;
	if (EVP_DecryptFinal_ex(ctx, out + len, &outl) != 1) {
		OPENSSL_cleanse(out, len); /* never hand out unauthenticated plaintext */
		return MG_ENVELOPE_ERR_AUTH;
	}
	return MG_ENVELOPE_OK;
}

static EVP_CIPHER_CTX *gcm_context(const uint8_t key[MG_ENVELOPE_KEY_LEN], int encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	int ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL)
			 : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL);
	if (ok != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- writer ----------------------------------------------------------------------------- */

struct mg_envelope_writer {
	mg_envelope_sink_fn sink;
	void *sink_arg;
	EVP_CIPHER_CTX *gcm;
	uint8_t message_id[MG_ENVELOPE_MESSAGE_ID_LEN];
	uint32_t frame_len;
	uint32_t next_seq;
	size_t buffered;
	uint64_t bytes_out;
	int error; /* sticky */
	/* One buffer: FRAME_HEADROOM bytes for a frame header, then the frame being filled
	 * (sealed in place, so small writes touch one buffer), then the tag. */
	uint8_t *out;
	uint8_t *plain; /* out + FRAME_HEADROOM */
};

static int writer_emit(struct mg_envelope_writer *w, const void *bytes, size_t len)
{
	if (w->sink(w->sink_arg, bytes, len) != 0)
		return MG_ENVELOPE_ERR_SINK;
	w->bytes_out += len;
	return MG_ENVELOPE_OK;
}

static void writer_free(struct mg_envelope_writer *w)
{
	if (!w)
		return;
	EVP_CIPHER_CTX_free(w->gcm); /* wipes the key schedule */
	if (w->out)
		OPENSSL_cleanse(w->out,
				FRAME_HEADROOM + (size_t)w->frame_len + MG_ENVELOPE_TAG_LEN);
	free(w->out);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

int mg_envelope_writer_open(struct mg_envelope_writer **writer,
			    const struct mg_envelope_context *context,
			    const struct mg_envelope_data_key *data_key, uint32_t frame_len,
			    mg_envelope_sink_fn sink, void *sink_arg)
{
	if (!writer || !context || !data_key || !sink)
		return MG_ENVELOPE_ERR_ARG;
	*writer = NULL;
	if (frame_len == 0)
		frame_len = MG_ENVELOPE_FRAME_LEN_DEFAULT;
	if (frame_len < MG_ENVELOPE_FRAME_LEN_MIN || frame_len > MG_ENVELOPE_FRAME_LEN_MAX ||
	    data_key->wrapped_len == 0 || data_key->wrapped_len > MG_ENVELOPE_WRAPPED_MAX ||
	    data_key->wrap_info_len > MG_ENVELOPE_WRAPPED_MAX)
		return MG_ENVELOPE_ERR_ARG;

	uint8_t *header = malloc(HEADER_MAX);
	struct mg_envelope_writer *w = calloc(1, sizeof(*w));
	if (!header || !w) {
		free(header);
		free(w);
		return MG_ENVELOPE_ERR_NOMEM;
	}
	w->sink = sink;
	w->sink_arg = sink_arg;
	w->frame_len = frame_len;
	w->next_seq = 1;
	w->out = malloc(FRAME_HEADROOM + (size_t)frame_len + MG_ENVELOPE_TAG_LEN);
	int rc = MG_ENVELOPE_ERR_NOMEM;
	if (!w->out)
		goto fail;
	w->plain = w->out + FRAME_HEADROOM;

	rc = MG_ENVELOPE_ERR_CRYPTO;
	if (RAND_bytes(w->message_id, sizeof(w->message_id)) != 1)
		goto fail;

	/* Header: magic, version, suite, frame length, message id, context, wrap info,
	 * wrapped key, commitment, header tag. */
	size_t pos = 0;
	memcpy(header, MAGIC, 4);
	header[4] = FORMAT_VERSION;
	header[5] = SUITE_AES256_GCM_HKDF_SHA512_COMMIT;
	put_u32(header + 6, frame_len);
	memcpy(header + 10, w->message_id, MG_ENVELOPE_MESSAGE_ID_LEN);
	pos = 10 + MG_ENVELOPE_MESSAGE_ID_LEN;
	long ctx_len = mg_envelope_context_encode(context, header + pos, HEADER_MAX - pos);
	rc = MG_ENVELOPE_ERR_ARG;
	if (ctx_len < 0)
		goto fail;
	pos += (size_t)ctx_len;
	put_u16(header + pos, (uint16_t)data_key->wrap_info_len);
	memcpy(header + pos + 2, data_key->wrap_info, data_key->wrap_info_len);
	pos += 2 + data_key->wrap_info_len;
	put_u16(header + pos, (uint16_t)data_key->wrapped_len);
	memcpy(header + pos + 2, data_key->wrapped, data_key->wrapped_len);
	pos += 2 + data_key->wrapped_len;

	uint8_t derived[MG_ENVELOPE_KEY_LEN];
	rc = hkdf_sha512(data_key->key, w->message_id, "COMMITKEY", header + pos,
			 MG_ENVELOPE_COMMIT_LEN);
	if (rc == MG_ENVELOPE_OK)
		rc = hkdf_sha512(data_key->key, w->message_id, "DERIVEKEY", derived,
				 sizeof(derived));
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	pos += MG_ENVELOPE_COMMIT_LEN;
	w->gcm = gcm_context(derived, 1);
	OPENSSL_cleanse(derived, sizeof(derived));
	rc = MG_ENVELOPE_ERR_CRYPTO;
	if (!w->gcm)
		goto fail;
	rc = gcm_seal(w->gcm, 0, header, pos, NULL, 0, NULL, header + pos);
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	pos += MG_ENVELOPE_TAG_LEN;
	rc = writer_emit(w, header, pos);
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	free(header);
	*writer = w;
	return MG_ENVELOPE_OK;
fail:
	free(header);
	writer_free(w);
	return rc;
}

/* Regular frame: seq(4) | ciphertext(frame_len) | tag(16). */
static int writer_regular_frame(struct mg_envelope_writer *w, const uint8_t *plain)
{
	if (w->next_seq >= SEQ_MAX) /* keep SEQ_MAX for the final frame */
		return MG_ENVELOPE_ERR_LIMIT;
	uint8_t aad[FRAME_AAD_LEN];
	uint32_t seq = w->next_seq;
	frame_aad(aad, w->message_id, FRAME_KIND_REGULAR, seq, 0, w->frame_len);
	uint8_t *frame = w->plain - 4;
	put_u32(frame, seq);
	int rc = gcm_seal(w->gcm, seq, aad, sizeof(aad), plain, w->frame_len, w->plain,
			  w->plain + w->frame_len);
	if (rc != MG_ENVELOPE_OK)
		return rc;
	w->next_seq++;
	return writer_emit(w, frame, 4 + (size_t)w->frame_len + MG_ENVELOPE_TAG_LEN);
}

int mg_envelope_writer_write(struct mg_envelope_writer *w, const void *bytes, size_t len)
{
	if (!w || (!bytes && len))
		return MG_ENVELOPE_ERR_ARG;
	if (w->error)
		return w->error;
	const uint8_t *in = bytes;
	/* A full frame is only sealed once more data follows: the last frame of the recording
	 * must be written as the final frame. */
	while (len > 0) {
		if (w->buffered == w->frame_len) {
			int rc = writer_regular_frame(w, w->plain);
			if (rc != MG_ENVELOPE_OK)
				return w->error = rc;
			w->buffered = 0;
		}
		if (w->buffered == 0 && len > w->frame_len) {
			/* Seal straight from the caller's buffer: no copy on the hot path. */
			int rc = writer_regular_frame(w, in);
			if (rc != MG_ENVELOPE_OK)
				return w->error = rc;
			in += w->frame_len;
			len -= w->frame_len;
			continue;
		}
		size_t take = w->frame_len - w->buffered;
		if (take > len)
			take = len;
		memcpy(w->plain + w->buffered, in, take);
		w->buffered += take;
		in += take;
		len -= take;
	}
	return MG_ENVELOPE_OK;
}

/* Final frame: 0xFFFFFFFF | seq(4) | flags(1) | content_len(4) | ciphertext | tag(16). */
int mg_envelope_writer_finish(struct mg_envelope_writer *w, uint8_t flags)
{
	if (!w)
		return MG_ENVELOPE_ERR_ARG;
	int rc = w->error;
	if (rc == MG_ENVELOPE_OK) {
		uint8_t aad[FRAME_AAD_LEN];
		uint32_t seq = w->next_seq;
		frame_aad(aad, w->message_id, FRAME_KIND_FINAL, seq, flags, w->buffered);
		put_u32(w->out, FINAL_MARKER);
		put_u32(w->out + 4, seq);
		w->out[8] = flags;
		put_u32(w->out + 9, (uint32_t)w->buffered);
		rc = gcm_seal(w->gcm, seq, aad, sizeof(aad), w->plain, w->buffered, w->plain,
			      w->plain + w->buffered);
		if (rc == MG_ENVELOPE_OK)
			rc = writer_emit(w, w->out, 13 + w->buffered + MG_ENVELOPE_TAG_LEN);
	}
	writer_free(w);
	return rc;
}

void mg_envelope_writer_abort(struct mg_envelope_writer *w)
{
	writer_free(w);
}

uint64_t mg_envelope_writer_bytes_out(const struct mg_envelope_writer *w)
{
	return w ? w->bytes_out : 0;
}

/* ---- reader ----------------------------------------------------------------------------- */

struct mg_envelope_reader {
	mg_envelope_source_fn source;
	void *source_arg;
	EVP_CIPHER_CTX *gcm;
	uint8_t *header;
	size_t header_len; /* up to and including the commitment */
	const uint8_t *commitment;
	const uint8_t *header_tag;
	uint8_t message_id[MG_ENVELOPE_MESSAGE_ID_LEN];
	uint32_t frame_len;
	uint32_t next_seq;
	struct mg_envelope_context context;
	char *fields[5];
	const uint8_t *wrap_info, *wrapped;
	size_t wrap_info_len, wrapped_len;
	uint8_t *cipher; /* one frame's ciphertext + tag */
	uint8_t *plain;	 /* authenticated plaintext of the current frame */
	size_t plain_len, plain_pos;
	uint8_t flags;
	bool keyed, done;
	int error; /* sticky */
};

/* Reads exactly len bytes. Returns 0, MG_ENVELOPE_ERR_TRUNCATED at a clean or mid-way end,
 * or MG_ENVELOPE_ERR_SOURCE. *got tells how many bytes arrived. */
static int source_read_exact(struct mg_envelope_reader *r, uint8_t *buf, size_t len, size_t *got)
{
	size_t have = 0;
	while (have < len) {
		long n = r->source(r->source_arg, buf + have, len - have);
		if (n < 0)
			return MG_ENVELOPE_ERR_SOURCE;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (got)
		*got = have;
	return have == len ? MG_ENVELOPE_OK : MG_ENVELOPE_ERR_TRUNCATED;
}

void mg_envelope_reader_free(struct mg_envelope_reader *r)
{
	if (!r)
		return;
	EVP_CIPHER_CTX_free(r->gcm);
	if (r->plain)
		OPENSSL_cleanse(r->plain, r->frame_len);
	free(r->plain);
	free(r->cipher);
	free(r->header);
	for (int i = 0; i < 5; i++)
		free(r->fields[i]);
	free(r);
}

static int header_field(struct mg_envelope_reader *r, size_t *pos, size_t max_len, size_t *len_out)
{
	uint8_t len_bytes[2];
	int rc = source_read_exact(r, len_bytes, 2, NULL);
	if (rc != MG_ENVELOPE_OK)
		return rc == MG_ENVELOPE_ERR_TRUNCATED ? MG_ENVELOPE_ERR_FORMAT : rc;
	size_t len = get_u16(len_bytes);
	if (len > max_len)
		return MG_ENVELOPE_ERR_FORMAT;
	memcpy(r->header + *pos, len_bytes, 2);
	*pos += 2;
	rc = source_read_exact(r, r->header + *pos, len, NULL);
	if (rc != MG_ENVELOPE_OK)
		return rc == MG_ENVELOPE_ERR_TRUNCATED ? MG_ENVELOPE_ERR_FORMAT : rc;
	*len_out = len;
	return MG_ENVELOPE_OK;
}

int mg_envelope_reader_open(struct mg_envelope_reader **reader, mg_envelope_source_fn source,
			    void *source_arg)
{
	if (!reader || !source)
		return MG_ENVELOPE_ERR_ARG;
	*reader = NULL;
	struct mg_envelope_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return MG_ENVELOPE_ERR_NOMEM;
	r->source = source;
	r->source_arg = source_arg;
	r->header = malloc(HEADER_MAX);
	int rc = MG_ENVELOPE_ERR_NOMEM;
	if (!r->header)
		goto fail;

	size_t pos = 10 + MG_ENVELOPE_MESSAGE_ID_LEN;
	rc = source_read_exact(r, r->header, pos, NULL);
	if (rc != MG_ENVELOPE_OK) {
		rc = rc == MG_ENVELOPE_ERR_TRUNCATED ? MG_ENVELOPE_ERR_FORMAT : rc;
		goto fail;
	}
	rc = MG_ENVELOPE_ERR_FORMAT;
	if (memcmp(r->header, MAGIC, 4) != 0 || r->header[4] != FORMAT_VERSION ||
	    r->header[5] != SUITE_AES256_GCM_HKDF_SHA512_COMMIT)
		goto fail;
	r->frame_len = get_u32(r->header + 6);
	if (r->frame_len < MG_ENVELOPE_FRAME_LEN_MIN || r->frame_len > MG_ENVELOPE_FRAME_LEN_MAX)
		goto fail;
	memcpy(r->message_id, r->header + 10, MG_ENVELOPE_MESSAGE_ID_LEN);

	for (int i = 0; i < 5; i++) {
		size_t len;
		rc = header_field(r, &pos, MG_ENVELOPE_FIELD_MAX, &len);
		if (rc != MG_ENVELOPE_OK)
			goto fail;
		rc = MG_ENVELOPE_ERR_NOMEM;
		r->fields[i] = malloc(len + 1);
		if (!r->fields[i])
			goto fail;
		memcpy(r->fields[i], r->header + pos, len);
		r->fields[i][len] = '\0';
		rc = MG_ENVELOPE_ERR_FORMAT;
		if (strlen(r->fields[i]) != len) /* an embedded NUL would hide bytes */
			goto fail;
		pos += len;
	}
	rc = source_read_exact(r, r->header + pos, 4, NULL);
	if (rc != MG_ENVELOPE_OK) {
		rc = rc == MG_ENVELOPE_ERR_TRUNCATED ? MG_ENVELOPE_ERR_FORMAT : rc;
		goto fail;
	}
	r->context.key_version = get_u32(r->header + pos);
	pos += 4;
	r->context.account = r->fields[0];
	r->context.instance = r->fields[1];
	r->context.contact_id = r->fields[2];
	r->context.object_path = r->fields[3];
	r->context.key_id = r->fields[4];

	size_t wrap_info_pos, wrapped_pos;
	rc = header_field(r, &pos, MG_ENVELOPE_WRAPPED_MAX, &r->wrap_info_len);
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	wrap_info_pos = pos;
	pos += r->wrap_info_len;
	rc = header_field(r, &pos, MG_ENVELOPE_WRAPPED_MAX, &r->wrapped_len);
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	rc = MG_ENVELOPE_ERR_FORMAT;
	if (r->wrapped_len == 0)
		goto fail;
	wrapped_pos = pos;
	pos += r->wrapped_len;
	rc = source_read_exact(r, r->header + pos, MG_ENVELOPE_COMMIT_LEN + MG_ENVELOPE_TAG_LEN,
			       NULL);
	if (rc != MG_ENVELOPE_OK) {
		rc = rc == MG_ENVELOPE_ERR_TRUNCATED ? MG_ENVELOPE_ERR_FORMAT : rc;
		goto fail;
	}
	r->wrap_info = r->header + wrap_info_pos;
	r->wrapped = r->header + wrapped_pos;
	r->commitment = r->header + pos;
	r->header_len = pos + MG_ENVELOPE_COMMIT_LEN;
	r->header_tag = r->header + r->header_len;
	*reader = r;
	return MG_ENVELOPE_OK;
fail:
	mg_envelope_reader_free(r);
	return rc;
}

const struct mg_envelope_context *mg_envelope_reader_context(const struct mg_envelope_reader *r)
{
	return &r->context;
}

const uint8_t *mg_envelope_reader_wrapped_key(const struct mg_envelope_reader *r, size_t *len)
{
	*len = r->wrapped_len;
	return r->wrapped;
}

const uint8_t *mg_envelope_reader_wrap_info(const struct mg_envelope_reader *r, size_t *len)
{
	*len = r->wrap_info_len;
	return r->wrap_info;
}

uint32_t mg_envelope_reader_frame_len(const struct mg_envelope_reader *r)
{
	return r->frame_len;
}

uint8_t mg_envelope_reader_flags(const struct mg_envelope_reader *r)
{
	return r->flags;
}

int mg_envelope_reader_set_key(struct mg_envelope_reader *r, const uint8_t key[MG_ENVELOPE_KEY_LEN],
			       const struct mg_envelope_context *expected)
{
	if (!r || !key)
		return MG_ENVELOPE_ERR_ARG;
	if (r->keyed)
		return MG_ENVELOPE_ERR_STATE;
	uint8_t commitment[MG_ENVELOPE_COMMIT_LEN], derived[MG_ENVELOPE_KEY_LEN];
	int rc = hkdf_sha512(key, r->message_id, "COMMITKEY", commitment, sizeof(commitment));
	if (rc != MG_ENVELOPE_OK)
		return rc;
	/* Commitment first: a wrong key is rejected before any decryption happens. */
	if (CRYPTO_memcmp(commitment, r->commitment, MG_ENVELOPE_COMMIT_LEN) != 0)
		return MG_ENVELOPE_ERR_COMMITMENT;
	rc = hkdf_sha512(key, r->message_id, "DERIVEKEY", derived, sizeof(derived));
	if (rc != MG_ENVELOPE_OK)
		return rc;
	r->gcm = gcm_context(derived, 0);
	OPENSSL_cleanse(derived, sizeof(derived));
	if (!r->gcm)
		return MG_ENVELOPE_ERR_CRYPTO;
	rc = gcm_open(r->gcm, 0, r->header, r->header_len, NULL, 0, NULL, r->header_tag);
	if (rc != MG_ENVELOPE_OK)
		goto fail;
	rc = MG_ENVELOPE_ERR_CONTEXT;
	if (expected && !mg_envelope_context_equal(expected, &r->context))
		goto fail;
	rc = MG_ENVELOPE_ERR_NOMEM;
	r->cipher = malloc((size_t)r->frame_len + MG_ENVELOPE_TAG_LEN);
	r->plain = malloc(r->frame_len);
	if (!r->cipher || !r->plain)
		goto fail;
	r->next_seq = 1;
	r->keyed = true;
	return MG_ENVELOPE_OK;
fail:
	EVP_CIPHER_CTX_free(r->gcm);
	r->gcm = NULL;
	return rc;
}

static int reader_next_frame(struct mg_envelope_reader *r)
{
	uint8_t head[9];
	size_t got;
	int rc = source_read_exact(r, head, 4, &got);
	if (rc != MG_ENVELOPE_OK)
		return rc;
	uint32_t marker = get_u32(head);
	bool final = marker == FINAL_MARKER;
	uint32_t seq = marker, content_len = r->frame_len;
	uint8_t flags = 0;
	if (final) {
		rc = source_read_exact(r, head, 9, NULL);
		if (rc != MG_ENVELOPE_OK)
			return rc;
		seq = get_u32(head);
		flags = head[4];
		content_len = get_u32(head + 5);
		if (content_len > r->frame_len)
			return MG_ENVELOPE_ERR_FORMAT;
	}
	if (seq != r->next_seq)
		return MG_ENVELOPE_ERR_SEQUENCE;
	rc = source_read_exact(r, r->cipher, (size_t)content_len + MG_ENVELOPE_TAG_LEN, NULL);
	if (rc != MG_ENVELOPE_OK)
		return rc;
	uint8_t aad[FRAME_AAD_LEN];
	frame_aad(aad, r->message_id, final ? FRAME_KIND_FINAL : FRAME_KIND_REGULAR, seq, flags,
		  content_len);
	rc = gcm_open(r->gcm, seq, aad, sizeof(aad), r->cipher, content_len, r->plain,
		      r->cipher + content_len);
	if (rc != MG_ENVELOPE_OK)
		return rc;
	if (final) {
		uint8_t extra;
		rc = source_read_exact(r, &extra, 1, &got);
		if (rc == MG_ENVELOPE_ERR_SOURCE)
			return rc;
		if (got != 0) {
			OPENSSL_cleanse(r->plain, content_len);
			return MG_ENVELOPE_ERR_TRAILING;
		}
		r->flags = flags;
		r->done = true;
	} else if (seq >= SEQ_MAX - 1) {
		return MG_ENVELOPE_ERR_LIMIT;
	}
	r->next_seq++;
	r->plain_len = content_len;
	r->plain_pos = 0;
	return MG_ENVELOPE_OK;
}

long mg_envelope_reader_read(struct mg_envelope_reader *r, void *buf, size_t len)
{
	if (!r || (!buf && len))
		return MG_ENVELOPE_ERR_ARG;
	if (r->error)
		return r->error;
	if (!r->keyed)
		return MG_ENVELOPE_ERR_STATE;
	while (r->plain_pos == r->plain_len) {
		if (r->done)
			return 0;
		int rc = reader_next_frame(r);
		if (rc != MG_ENVELOPE_OK)
			return r->error = rc;
	}
	size_t n = r->plain_len - r->plain_pos;
	if (n > len)
		n = len;
	memcpy(buf, r->plain + r->plain_pos, n);
	r->plain_pos += n;
	return (long)n;
}
