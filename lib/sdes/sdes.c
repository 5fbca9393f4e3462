/* RFC 4568 a=crypto parsing and generation. See sdes.h. */
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sdes.h"

const char *mg_sdes_strerror(enum mg_sdes_error error)
{
	switch (error) {
	case MG_SDES_OK:
		return "ok";
	case MG_SDES_ERR_EMPTY:
		return "empty a=crypto value";
	case MG_SDES_ERR_TOO_LONG:
		return "a=crypto value too long";
	case MG_SDES_ERR_TAG:
		return "tag must be 1 to 9 digits";
	case MG_SDES_ERR_SUITE_SYNTAX:
		return "crypto suite missing or malformed";
	case MG_SDES_ERR_KEY_METHOD:
		return "key method must be inline:";
	case MG_SDES_ERR_BASE64:
		return "key||salt is not valid base64";
	case MG_SDES_ERR_KEY_LENGTH:
		return "key||salt length does not match the crypto suite";
	case MG_SDES_ERR_LIFETIME:
		return "lifetime must be decimal or 2^n, between 1 and 2^48";
	case MG_SDES_ERR_MKI:
		return "MKI must be <value>:<length> with length 1..128 and a value that fits";
	case MG_SDES_ERR_MKI_UNSUPPORTED:
		return "MKI longer than mediagate supports";
	case MG_SDES_ERR_MKI_INCONSISTENT:
		return "several keys need MKIs of one length with distinct values";
	case MG_SDES_ERR_TOO_MANY_KEYS:
		return "too many key parameters";
	case MG_SDES_ERR_KEY_PARAM_SYNTAX:
		return "malformed key parameter";
	case MG_SDES_ERR_PARAM_SYNTAX:
		return "malformed session parameter";
	case MG_SDES_ERR_PARAM_UNSUPPORTED:
		return "session parameter not supported (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, "
		       "UNAUTHENTICATED_SRTP, KDR, FEC_ORDER, FEC_KEY are refused)";
	case MG_SDES_ERR_SUITE_UNSUPPORTED:
		return "crypto suite not supported";
	case MG_SDES_ERR_BUFFER:
		return "output buffer too small";
	case MG_SDES_ERR_RANDOM:
		return "random generator failed";
	case MG_SDES_ERR_INVALID_ARGUMENT:
		return "invalid argument";
	default:
		return "unknown error";
	}
}

/* ---------------------------------------------------------------- base64 (RFC 4648) */

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict decoding; padding optional but, if present, correct. Returns the decoded length or
 * -1. Unused trailing bits must be zero (one encoding per value). */
static int base64_decode(const char *in, size_t len, uint8_t *out, size_t out_max)
{
	size_t pad = 0;
	while (len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 2 || (pad && (len + pad) % 4 != 0) || len % 4 == 1 || len == 0)
		return -1;
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= out_max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -1;
	return (int)n;
}

static size_t base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = base64_alphabet[(v >> 18) & 63];
		out[n++] = base64_alphabet[(v >> 12) & 63];
		out[n++] = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? base64_alphabet[v & 63] : '=';
	}
	return n;
}

/* ---------------------------------------------------------------- parser */

struct cursor {
	const char *start;
	const char *p;
	const char *end;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal number of 1..max_digits digits into *value (no overflow for max_digits <= 19). */
static bool parse_decimal(const char *s, size_t len, size_t max_digits, uint64_t *value)
{
	if (len == 0 || len > max_digits)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*value = v;
	return true;
}

/* Next token up to whitespace. */
static size_t next_token(struct cursor *c, const char **token)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
	*token = c->p;
	while (c->p < c->end && !is_space(*c->p))
		c->p++;
	return (size_t)(c->p - *token);
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

static const char *find_char(const char *s, const char *end, char ch)
{
	for (; s < end; s++)
		if (*s == ch)
			return s;
	return NULL;
}

static enum mg_sdes_error parse_lifetime(const char *s, size_t len, uint64_t *lifetime)
{
	uint64_t v;
	if (starts_with(s, len, "2^")) {
		if (!parse_decimal(s + 2, len - 2, 2, &v) || v > 48)
			return MG_SDES_ERR_LIFETIME;
		*lifetime = UINT64_C(1) << v;
		return MG_SDES_OK;
	}
	if (!parse_decimal(s, len, 15, &v) || v == 0 || v > (UINT64_C(1) << 48))
		return MG_SDES_ERR_LIFETIME;
	*lifetime = v;
	return MG_SDES_OK;
}

static enum mg_sdes_error parse_mki(const char *s, size_t len, struct mg_sdes_key *key)
{
	const char *colon = find_char(s, s + len, ':');
	uint64_t value, mki_len;
	if (!colon || !parse_decimal(s, (size_t)(colon - s), 19, &value) ||
	    !parse_decimal(colon + 1, (size_t)(s + len - colon - 1), 3, &mki_len) || mki_len == 0 ||
	    mki_len > 128)
		return MG_SDES_ERR_MKI;
	if (mki_len < 8 && value >> (8 * mki_len))
		return MG_SDES_ERR_MKI; /* value does not fit in the given length */
	if (mki_len > MG_SRTP_MAX_MKI_LEN)
		return MG_SDES_ERR_MKI_UNSUPPORTED;
	key->mki_value = value;
	key->mki_len = (uint8_t)mki_len;
	return MG_SDES_OK;
}

/* inline:<key||salt>[|lifetime][|mki:len] */
static enum mg_sdes_error parse_key_param(const char *s, size_t len, struct mg_sdes_key *key,
					  size_t expected_len)
{
	if (!starts_with(s, len, "inline:"))
		return MG_SDES_ERR_KEY_METHOD;
	const char *p = s + 7, *end = s + len;
	const char *bar = find_char(p, end, '|');
	const char *key_end = bar ? bar : end;
	if (key_end == p)
		return MG_SDES_ERR_BASE64;
	int n = base64_decode(p, (size_t)(key_end - p), key->key_salt, sizeof(key->key_salt));
	if (n < 0)
		return MG_SDES_ERR_BASE64;
	key->key_salt_len = (uint8_t)n;
	if (expected_len && (size_t)n != expected_len)
		return MG_SDES_ERR_KEY_LENGTH;

	/* up to two optional fields: a lifetime (no ':') then an MKI (with ':') */
	bool have_lifetime = false, have_mki = false;
	while (bar) {
		const char *field = bar + 1;
		bar = find_char(field, end, '|');
		const char *field_end = bar ? bar : end;
		size_t field_len = (size_t)(field_end - field);
		enum mg_sdes_error e;
		if (find_char(field, field_end, ':')) {
			if (have_mki)
				return MG_SDES_ERR_KEY_PARAM_SYNTAX;
			e = parse_mki(field, field_len, key);
			have_mki = true;
		} else {
			if (have_lifetime || have_mki) /* lifetime comes before the MKI */
				return MG_SDES_ERR_KEY_PARAM_SYNTAX;
			e = parse_lifetime(field, field_len, &key->lifetime);
			have_lifetime = true;
		}
		if (e != MG_SDES_OK)
			return e;
	}
	return MG_SDES_OK;
}

static enum mg_sdes_error parse_session_param(const char *s, size_t len, struct mg_sdes_crypto *out)
{
	static const char *const refused[] = {"UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP",
					      "UNAUTHENTICATED_SRTP"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (len == strlen(refused[i]) && !memcmp(s, refused[i], len))
			return MG_SDES_ERR_PARAM_UNSUPPORTED;
	uint64_t v;
	if (starts_with(s, len, "KDR=")) {
		/* RFC 4568 6.3.1: KDR=0..24; any key derivation rate other than none is refused
		 * (libsrtp does not support it either) */
		if (!parse_decimal(s + 4, len - 4, 2, &v) || v > 24)
			return MG_SDES_ERR_PARAM_SYNTAX;
		return MG_SDES_ERR_PARAM_UNSUPPORTED;
	}
	if (starts_with(s, len, "WSH=")) {
		/* window size hint: informational (our window is 128), must be >= 64 */
		if (!parse_decimal(s + 4, len - 4, 9, &v) || v < 64)
			return MG_SDES_ERR_PARAM_SYNTAX;
		out->window_size_hint = (uint32_t)v;
		return MG_SDES_OK;
	}
	if (starts_with(s, len, "FEC_ORDER=") || starts_with(s, len, "FEC_KEY="))
		return MG_SDES_ERR_PARAM_UNSUPPORTED;
	/* RFC 4568 6.3: a "-" prefix marks a parameter the sender allows to be ignored;
	 * anything else unknown makes the attribute unusable */
	if (len >= 2 && s[0] == '-')
		return MG_SDES_OK;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return MG_SDES_ERR_PARAM_SYNTAX;
	return MG_SDES_ERR_PARAM_UNSUPPORTED;
}

enum mg_sdes_error mg_sdes_parse(const char *text, size_t len, struct mg_sdes_crypto *out,
				 size_t *error_offset)
{
	if (!out || (!text && len))
		return MG_SDES_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	struct cursor c = {text, text, text + len};
	enum mg_sdes_error e = MG_SDES_OK;
	const char *token;
	size_t n;

	if (len > MG_SDES_MAX_LINE) {
		e = MG_SDES_ERR_TOO_LONG;
		goto out;
	}
	while (c.end > c.p && (c.end[-1] == '\r' || c.end[-1] == '\n' || is_space(c.end[-1])))
		c.end--;
	while (c.p < c.end && is_space(*c.p))
		c.p++;
	if (c.p == c.end) {
		e = MG_SDES_ERR_EMPTY;
		goto out;
	}
	if (starts_with(c.p, (size_t)(c.end - c.p), "a=crypto:"))
		c.p += 9;
	else if (starts_with(c.p, (size_t)(c.end - c.p), "crypto:"))
		c.p += 7;

	/* tag: 1*9DIGIT, directly after the prefix */
	if (c.p < c.end && is_space(*c.p)) {
		e = MG_SDES_ERR_TAG;
		goto out;
	}
	uint64_t tag;
	n = next_token(&c, &token);
	if (!parse_decimal(token, n, 9, &tag)) {
		c.p = token;
		e = MG_SDES_ERR_TAG;
		goto out;
	}
	out->tag = (uint32_t)tag;

	/* suite: 1*(ALPHA / DIGIT / "_") */
	n = next_token(&c, &token);
	if (n == 0 || n >= sizeof(out->suite_name)) {
		c.p = token;
		e = MG_SDES_ERR_SUITE_SYNTAX;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = token[i];
		if (!(is_digit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      ch == '_')) {
			c.p = token + i;
			e = MG_SDES_ERR_SUITE_SYNTAX;
			goto out;
		}
	}
	memcpy(out->suite_name, token, n);
	out->suite = mg_srtp_suite_by_name(token, n);
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(out->suite);
	size_t expected_len = info ? (size_t)info->key_len + info->salt_len : 0;

	/* key params: key-param *(";" key-param) */
	n = next_token(&c, &token);
	if (n == 0) {
		c.p = token;
		e = MG_SDES_ERR_KEY_METHOD;
		goto out;
	}
	const char *params_end = token + n;
	const char *kp = token;
	for (;;) {
		const char *semicolon = find_char(kp, params_end, ';');
		const char *kp_end = semicolon ? semicolon : params_end;
		if (out->n_keys == MG_SDES_MAX_KEYS) {
			c.p = kp;
			e = MG_SDES_ERR_TOO_MANY_KEYS;
			goto out;
		}
		e = parse_key_param(kp, (size_t)(kp_end - kp), &out->keys[out->n_keys],
				    expected_len);
		if (e != MG_SDES_OK) {
			c.p = kp;
			goto out;
		}
		out->n_keys++;
		if (!semicolon)
			break;
		kp = semicolon + 1;
	}
	/* RFC 4568 5.1: with several keys every key carries an MKI, all of one length */
	if (out->n_keys > 1) {
		for (unsigned i = 0; i < out->n_keys; i++) {
			bool bad = out->keys[i].mki_len == 0 ||
				   out->keys[i].mki_len != out->keys[0].mki_len;
			for (unsigned j = 0; j < i && !bad; j++)
				bad = out->keys[j].mki_value == out->keys[i].mki_value;
			if (bad) {
				c.p = token;
				e = MG_SDES_ERR_MKI_INCONSISTENT;
				goto out;
			}
		}
	}

	/* session params */
	while ((n = next_token(&c, &token)) != 0) {
		e = parse_session_param(token, n, out);
		if (e != MG_SDES_OK) {
			c.p = token;
			goto out;
		}
	}
	if (out->suite == MG_SRTP_SUITE_NONE)
		e = MG_SDES_ERR_SUITE_UNSUPPORTED;
out:
	if (error_offset)
		*error_offset = e == MG_SDES_OK ? 0 : (size_t)(c.p - c.start);
	return e;
}

/* ---------------------------------------------------------------- generation */

enum mg_sdes_error mg_sdes_generate(uint32_t tag, enum mg_srtp_suite suite,
				    struct mg_sdes_crypto *out)
{
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	if (!out || !info || tag > 999999999)
		return MG_SDES_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	out->tag = tag;
	out->suite = suite;
	memcpy(out->suite_name, info->name, strlen(info->name));
	out->n_keys = 1;
	out->keys[0].key_salt_len = (uint8_t)(info->key_len + info->salt_len);
	if (RAND_bytes(out->keys[0].key_salt, out->keys[0].key_salt_len) != 1) {
		mg_sdes_wipe(out);
		return MG_SDES_ERR_RANDOM;
	}
	return MG_SDES_OK;
}

struct writer {
	char *out;
	size_t size, len;
	bool overflow;
};

static void put(struct writer *w, const char *s, size_t n)
{
	if (w->len + n >= w->size) {
		w->overflow = true;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

static void put_u64(struct writer *w, uint64_t v)
{
	char digits[24];
	size_t n = 0;
	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, digits + sizeof(digits) - n, n);
}

enum mg_sdes_error mg_sdes_format(const struct mg_sdes_crypto *crypto, char *out, size_t out_size,
				  size_t *written)
{
	if (!crypto || !out || out_size == 0 || crypto->n_keys == 0 ||
	    crypto->n_keys > MG_SDES_MAX_KEYS || crypto->tag > 999999999)
		return MG_SDES_ERR_INVALID_ARGUMENT;
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(crypto->suite);
	if (!info)
		return MG_SDES_ERR_SUITE_UNSUPPORTED;
	struct writer w = {out, out_size, 0, false};
	put_u64(&w, crypto->tag);
	put(&w, " ", 1);
	put(&w, info->name, strlen(info->name));
	put(&w, " ", 1);
	for (unsigned i = 0; i < crypto->n_keys; i++) {
		const struct mg_sdes_key *key = &crypto->keys[i];
		if (key->key_salt_len != info->key_len + info->salt_len)
			return MG_SDES_ERR_KEY_LENGTH;
		if (key->mki_len > MG_SRTP_MAX_MKI_LEN ||
		    (key->mki_len && key->mki_len < 8 && key->mki_value >> (8 * key->mki_len)))
			return MG_SDES_ERR_MKI;
		if (i)
			put(&w, ";", 1);
		put(&w, "inline:", 7);
		char b64[4 * ((MG_SDES_MAX_KEY_SALT + 2) / 3)];
		size_t b64_len = base64_encode(key->key_salt, key->key_salt_len, b64);
		put(&w, b64, b64_len);
		OPENSSL_cleanse(b64, sizeof(b64));
		if (key->lifetime) {
			put(&w, "|", 1);
			if ((key->lifetime & (key->lifetime - 1)) == 0) {
				put(&w, "2^", 2);
				put_u64(&w, (uint64_t)__builtin_ctzll(key->lifetime));
			} else {
				put_u64(&w, key->lifetime);
			}
		}
		if (key->mki_len) {
			put(&w, "|", 1);
			put_u64(&w, key->mki_value);
			put(&w, ":", 1);
			put_u64(&w, key->mki_len);
		}
	}
	if (w.overflow) {
		OPENSSL_cleanse(out, out_size);
		return MG_SDES_ERR_BUFFER;
	}
	out[w.len] = '\0';
	if (written)
		*written = w.len;
	return MG_SDES_OK;
}

enum mg_sdes_error mg_sdes_key_params(const struct mg_sdes_crypto *crypto, unsigned key_index,
				      struct mg_srtp_key_params *params)
{
	if (!crypto || !params || key_index >= crypto->n_keys)
		return MG_SDES_ERR_INVALID_ARGUMENT;
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(crypto->suite);
	if (!info)
		return MG_SDES_ERR_SUITE_UNSUPPORTED;
	const struct mg_sdes_key *key = &crypto->keys[key_index];
	if (key->key_salt_len != info->key_len + info->salt_len)
		return MG_SDES_ERR_KEY_LENGTH;
	if (key->mki_len > MG_SRTP_MAX_MKI_LEN)
		return MG_SDES_ERR_MKI_UNSUPPORTED;
	memset(params, 0, sizeof(*params));
	params->suite = crypto->suite;
	params->master_key = key->key_salt;
	params->master_salt = key->key_salt + info->key_len;
	params->lifetime = key->lifetime;
	params->mki_len = key->mki_len;
	/* MKI value big-endian in mki_len bytes (leading zero bytes if longer than 8) */
	for (unsigned i = 0; i < key->mki_len; i++) {
		unsigned shift = 8 * (key->mki_len - 1 - i);
		params->mki[i] = shift < 64 ? (uint8_t)(key->mki_value >> shift) : 0;
	}
	return MG_SDES_OK;
}

void mg_sdes_wipe(struct mg_sdes_crypto *crypto)
{
	if (crypto)
		OPENSSL_cleanse(crypto, sizeof(*crypto));
}
