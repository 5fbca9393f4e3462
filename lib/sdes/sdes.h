/* SDES: RFC 4568 a=crypto attribute values, parsed and generated.
 *
 *   a=crypto:<tag> <suite> inline:<base64(key||salt)>[|<lifetime>][|<MKI>:<len>][;inline:...]
 *            [<session param> ...]
 *
 * The parser works on a length-delimited buffer (no NUL needed), never reads outside it and
 * reports every problem with its own error code. Suites other than the six mediagate
 * supports are parsed and reported as MG_SDES_ERR_SUITE_UNSUPPORTED; session parameters that
 * would weaken or change SRTP (UNENCRYPTED_*, UNAUTHENTICATED_SRTP, KDR, FEC_*) are refused
 * with MG_SDES_ERR_PARAM_UNSUPPORTED. See docs/srtp.md. */
#ifndef MG_SDES_H
#define MG_SDES_H

#include <stddef.h>
#include <stdint.h>

#include "srtp.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mg_sdes_error {
	MG_SDES_OK = 0,
	MG_SDES_ERR_EMPTY,	  /* nothing to parse */
	MG_SDES_ERR_TOO_LONG,	  /* longer than MG_SDES_MAX_LINE */
	MG_SDES_ERR_TAG,	  /* tag missing, not 1-9 digits */
	MG_SDES_ERR_SUITE_SYNTAX, /* suite name missing or with invalid characters */
	MG_SDES_ERR_KEY_METHOD,	  /* key method other than "inline:" */
	MG_SDES_ERR_BASE64,	  /* key||salt not valid base64 */
	MG_SDES_ERR_KEY_LENGTH,	  /* key||salt length does not match the suite */
	MG_SDES_ERR_LIFETIME,	  /* lifetime not decimal or 2^n, 0, or above 2^48 */
	MG_SDES_ERR_MKI,	  /* MKI not <value>:<length>, length 0 or > 128, value too big */
	MG_SDES_ERR_MKI_UNSUPPORTED,   /* MKI length above MG_SRTP_MAX_MKI_LEN */
	MG_SDES_ERR_MKI_INCONSISTENT,  /* several keys without MKI, or MKI lengths differ, or repeat
					*/
	MG_SDES_ERR_TOO_MANY_KEYS,     /* more than MG_SDES_MAX_KEYS key parameters */
	MG_SDES_ERR_KEY_PARAM_SYNTAX,  /* anything else wrong inside a key parameter */
	MG_SDES_ERR_PARAM_SYNTAX,      /* malformed session parameter (e.g. WSH=abc) */
	MG_SDES_ERR_PARAM_UNSUPPORTED, /* valid session parameter mediagate refuses */
	MG_SDES_ERR_SUITE_UNSUPPORTED, /* well-formed, but not one of the six suites */
	MG_SDES_ERR_BUFFER,	       /* generate: output buffer too small */
	MG_SDES_ERR_RANDOM,	       /* generate: RAND_bytes failed */
	MG_SDES_ERR_INVALID_ARGUMENT,
	MG_SDES_ERROR_COUNT
};

const char *mg_sdes_strerror(enum mg_sdes_error error);

#define MG_SDES_MAX_KEYS       4
#define MG_SDES_MAX_LINE       1024
#define MG_SDES_MAX_SUITE_NAME 64
/* key||salt as carried in a=crypto: up to 32 + 14 bytes for the supported suites, more
 * accepted for unsupported suites so they can still be parsed and reported */
#define MG_SDES_MAX_KEY_SALT 64

struct mg_sdes_key {
	uint8_t key_salt[MG_SDES_MAX_KEY_SALT]; /* master key followed by master salt */
	uint8_t key_salt_len;
	uint8_t mki_len;    /* 0 = no MKI */
	uint64_t mki_value; /* big-endian in mki_len bytes on the wire */
	uint64_t lifetime;  /* packets; 0 = not given (RFC 3711 maximum applies) */
};

struct mg_sdes_crypto {
	uint32_t tag;
	enum mg_srtp_suite suite; /* MG_SRTP_SUITE_NONE if unsupported */
	char suite_name[MG_SDES_MAX_SUITE_NAME];
	unsigned n_keys;
	struct mg_sdes_key keys[MG_SDES_MAX_KEYS];
	uint32_t window_size_hint; /* WSH, 0 = not given (informational: window is 128) */
};

/* Parses one attribute value. Accepts an optional "a=crypto:" or "crypto:" prefix and a
 * trailing CR/LF. On error *out holds what was parsed so far and error_offset (if not NULL)
 * the byte offset where parsing stopped. */
enum mg_sdes_error mg_sdes_parse(const char *text, size_t len, struct mg_sdes_crypto *out,
				 size_t *error_offset);

/* Fills out with a fresh key||salt for suite from OpenSSL RAND_bytes, no MKI, no lifetime,
 * a single key. */
enum mg_sdes_error mg_sdes_generate(uint32_t tag, enum mg_srtp_suite suite,
				    struct mg_sdes_crypto *out);

/* Writes the attribute value (without "a=crypto:") and a terminating NUL; *written gets
 * the length without the NUL. */
enum mg_sdes_error mg_sdes_format(const struct mg_sdes_crypto *crypto, char *out, size_t out_size,
				  size_t *written);

/* SRTP context parameters from key number key_index (pointers into crypto). */
enum mg_sdes_error mg_sdes_key_params(const struct mg_sdes_crypto *crypto, unsigned key_index,
				      struct mg_srtp_key_params *params);

/* Zeroes key material. */
void mg_sdes_wipe(struct mg_sdes_crypto *crypto);

#ifdef __cplusplus
}
#endif

#endif
