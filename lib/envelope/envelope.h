/* Sealed recording format: envelope encryption with framed, committed AES-256-GCM.
 *
 * A fresh 256-bit data key per recording (wrapped by the instance CMK through lib/keys),
 * body in fixed-length sequence-numbered frames, a final-frame marker, key commitment and
 * the encryption context bound into every authentication tag. Byte layout:
 * docs/recording-format.md. This library knows nothing about tokens: the caller supplies the
 * plaintext data key and the opaque wrapped form that goes into the header. */
#ifndef MG_ENVELOPE_H
#define MG_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define MG_ENVELOPE_KEY_LEN	      32
#define MG_ENVELOPE_MESSAGE_ID_LEN    32
#define MG_ENVELOPE_TAG_LEN	      16
#define MG_ENVELOPE_COMMIT_LEN	      32
#define MG_ENVELOPE_FIELD_MAX	      1024 /* longest context field, bytes */
#define MG_ENVELOPE_WRAPPED_MAX	      512  /* longest wrapped key blob / wrap info */
#define MG_ENVELOPE_FRAME_LEN_DEFAULT (16 * 1024)
#define MG_ENVELOPE_FRAME_LEN_MIN     64
#define MG_ENVELOPE_FRAME_LEN_MAX     (4 * 1024 * 1024)
#define MG_ENVELOPE_FLAG_PARTIAL      0x01 /* recording ended early; set in the final frame */

enum mg_envelope_status {
	MG_ENVELOPE_OK = 0,
	MG_ENVELOPE_ERR_ARG = -1,	 /* bad argument or misuse of the API */
	MG_ENVELOPE_ERR_SINK = -2,	 /* the sink refused bytes */
	MG_ENVELOPE_ERR_SOURCE = -3,	 /* the source failed (I/O) */
	MG_ENVELOPE_ERR_FORMAT = -4,	 /* not a sealed recording or malformed header/frame */
	MG_ENVELOPE_ERR_TRUNCATED = -5,	 /* ended before the final frame */
	MG_ENVELOPE_ERR_TRAILING = -6,	 /* bytes after the final frame */
	MG_ENVELOPE_ERR_SEQUENCE = -7,	 /* frame dropped, reordered or duplicated */
	MG_ENVELOPE_ERR_AUTH = -8,	 /* a frame or header failed authentication */
	MG_ENVELOPE_ERR_COMMITMENT = -9, /* data key does not match the commitment: wrong key */
	MG_ENVELOPE_ERR_CONTEXT = -10,	 /* header context differs from the expected one */
	MG_ENVELOPE_ERR_CRYPTO = -11,	 /* OpenSSL failure */
	MG_ENVELOPE_ERR_LIMIT = -12,	 /* too many frames for one data key */
	MG_ENVELOPE_ERR_NOMEM = -13,
	MG_ENVELOPE_ERR_STATE = -14, /* call order wrong (e.g. read before set_key) */
};

/* The encryption context: who the recording belongs to. Bound as AAD; never secret
 * (it appears in the clear in the header and in audit records). */
struct mg_envelope_context {
	const char *account;
	const char *instance;
	const char *contact_id;
	const char *object_path;
	const char *key_id;
	uint32_t key_version;
};

/* A data key in clear (process memory only) and its wrapped form for the header.
 * wrap_info is opaque to this library (lib/keys records how the key was wrapped). */
struct mg_envelope_data_key {
	uint8_t key[MG_ENVELOPE_KEY_LEN];
	uint8_t wrapped[MG_ENVELOPE_WRAPPED_MAX];
	size_t wrapped_len;
	uint8_t wrap_info[MG_ENVELOPE_WRAPPED_MAX];
	size_t wrap_info_len;
};

/* Sink for sealed bytes (a spool file in production). Returns 0 on success. */
typedef int (*mg_envelope_sink_fn)(void *sink_arg, const void *bytes, size_t len);
/* Source of sealed bytes: returns bytes read (0 = end), or -1 on error. */
typedef long (*mg_envelope_source_fn)(void *source_arg, void *buf, size_t len);

const char *mg_envelope_strerror(int status);

/* Writer: open writes the header; write buffers and emits full frames; finish emits the
 * final frame (flags: MG_ENVELOPE_FLAG_PARTIAL) and wipes keys; abort wipes without a final
 * frame (the output then fails as truncated). frame_len 0 = default. */
struct mg_envelope_writer;
int mg_envelope_writer_open(struct mg_envelope_writer **writer,
			    const struct mg_envelope_context *context,
			    const struct mg_envelope_data_key *data_key, uint32_t frame_len,
			    mg_envelope_sink_fn sink, void *sink_arg);
int mg_envelope_writer_write(struct mg_envelope_writer *writer, const void *bytes, size_t len);
int mg_envelope_writer_finish(struct mg_envelope_writer *writer, uint8_t flags);
void mg_envelope_writer_abort(struct mg_envelope_writer *writer);
uint64_t mg_envelope_writer_bytes_out(const struct mg_envelope_writer *writer);

/* Reader: open parses the header (nothing verified yet); the caller looks at the context and
 * wrapped key, unwraps it (lib/keys) and calls set_key, which checks the commitment, the
 * header tag and the expected context (NULL = accept the header's, for inspection only).
 * read returns authenticated plaintext only: >0 bytes, 0 at the verified end, <0 status. */
struct mg_envelope_reader;
int mg_envelope_reader_open(struct mg_envelope_reader **reader, mg_envelope_source_fn source,
			    void *source_arg);
/* Header fields, valid until reader_free. */
const struct mg_envelope_context *mg_envelope_reader_context(const struct mg_envelope_reader *r);
const uint8_t *mg_envelope_reader_wrapped_key(const struct mg_envelope_reader *r, size_t *len);
const uint8_t *mg_envelope_reader_wrap_info(const struct mg_envelope_reader *r, size_t *len);
uint32_t mg_envelope_reader_frame_len(const struct mg_envelope_reader *r);
int mg_envelope_reader_set_key(struct mg_envelope_reader *reader,
			       const uint8_t key[MG_ENVELOPE_KEY_LEN],
			       const struct mg_envelope_context *expected);
long mg_envelope_reader_read(struct mg_envelope_reader *reader, void *buf, size_t len);
/* Flags of the final frame (valid after read returned 0). */
uint8_t mg_envelope_reader_flags(const struct mg_envelope_reader *r);
void mg_envelope_reader_free(struct mg_envelope_reader *reader);

/* Canonical encoding of a context (the bytes bound as AAD by lib/keys as well).
 * Returns the length written, or -1 if it does not fit / a field is missing or too long. */
long mg_envelope_context_encode(const struct mg_envelope_context *context, uint8_t *out,
				size_t out_cap);
/* True when both contexts are equal field by field. */
bool mg_envelope_context_equal(const struct mg_envelope_context *a,
			       const struct mg_envelope_context *b);

#endif
