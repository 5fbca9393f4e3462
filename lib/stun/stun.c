/* STUN parse/build and the ICE-lite Binding responder. See stun.h. */
#include "stun.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char *const reason_names[MG_STUN_REASON_COUNT] = {
    [MG_STUN_R_OK] = "ok",
    [MG_STUN_R_TOO_SHORT] = "too_short",
    [MG_STUN_R_NOT_STUN] = "not_stun",
    [MG_STUN_R_BAD_COOKIE] = "bad_cookie",
    [MG_STUN_R_BAD_LENGTH] = "bad_length",
    [MG_STUN_R_ATTR_TRUNCATED] = "attr_truncated",
    [MG_STUN_R_ATTR_BAD_LENGTH] = "attr_bad_length",
    [MG_STUN_R_ATTR_BAD_VALUE] = "attr_bad_value",
    [MG_STUN_R_AFTER_FINGERPRINT] = "attr_after_fingerprint",
    [MG_STUN_R_BAD_FINGERPRINT] = "bad_fingerprint",
    [MG_STUN_R_NOT_BINDING] = "not_binding",
    [MG_STUN_R_NOT_REQUEST] = "not_request",
    [MG_STUN_R_NO_FINGERPRINT] = "no_fingerprint",
    [MG_STUN_R_BAD_ARGUMENT] = "bad_argument",
    [MG_STUN_R_NO_INTEGRITY] = "no_integrity",
    [MG_STUN_R_SHA256_REFUSED] = "integrity_sha256_refused",
    [MG_STUN_R_NO_PRIORITY] = "no_priority",
    [MG_STUN_R_NO_ROLE] = "no_role",
    [MG_STUN_R_BAD_USERNAME] = "bad_username",
    [MG_STUN_R_BAD_INTEGRITY] = "bad_integrity",
    [MG_STUN_R_UNKNOWN_ATTRIBUTE] = "unknown_attribute",
    [MG_STUN_R_ROLE_CONFLICT] = "role_conflict",
};

const char *mg_stun_reason_str(enum mg_stun_reason reason)
{
	if ((unsigned)reason >= MG_STUN_REASON_COUNT)
		return "invalid";
	return reason_names[reason];
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- CRC-32 (reflected, poly 0xEDB88320) ---------------------------------------------------- */
static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t mg_stun_crc32(const uint8_t *data, size_t len)
{
	/* Idempotent: two lcores racing here compute the same table. */
	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
		crc_init();
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ---- parser ------------------------------------------------------------------------------- */
int mg_stun_looks_like(const uint8_t *buf, size_t len)
{
	return buf && len >= MG_STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
	       rd32(buf + 4) == MG_STUN_MAGIC_COOKIE && (rd16(buf + 2) & 3) == 0 &&
	       (size_t)rd16(buf + 2) + MG_STUN_HEADER_LEN == len;
}

static int is_known(uint16_t type)
{
	switch (type) {
	case MG_STUN_ATTR_MAPPED_ADDRESS:
	case MG_STUN_ATTR_USERNAME:
	case MG_STUN_ATTR_MESSAGE_INTEGRITY:
	case MG_STUN_ATTR_ERROR_CODE:
	case MG_STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case MG_STUN_ATTR_REALM:
	case MG_STUN_ATTR_NONCE:
	case MG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
	case MG_STUN_ATTR_XOR_MAPPED_ADDRESS:
	case MG_STUN_ATTR_PRIORITY:
	case MG_STUN_ATTR_USE_CANDIDATE:
	case MG_STUN_ATTR_FINGERPRINT:
	case MG_STUN_ATTR_ICE_CONTROLLED:
	case MG_STUN_ATTR_ICE_CONTROLLING:
		return 1;
	default:
		/* PASSWORD-ALGORITHM(S), USERHASH (long-term only) are not understood; 0x8000+
		 * attributes are comprehension-optional and simply skipped. */
		return 0;
	}
}

static enum mg_stun_reason parse_xor_addr(struct mg_stun_msg *msg, const uint8_t *v, uint16_t len,
					  const uint8_t *hdr)
{
	if (len != 8 && len != 20)
		return MG_STUN_R_ATTR_BAD_LENGTH;
	uint8_t fam = v[1];
	if (!((fam == 1 && len == 8) || (fam == 2 && len == 20)))
		return MG_STUN_R_ATTR_BAD_VALUE;
	struct mg_stun_addr *a = &msg->xor_mapped;
	a->family = fam == 1 ? 4 : 6;
	a->port = rd16(v + 2) ^ (uint16_t)(MG_STUN_MAGIC_COOKIE >> 16);
	memset(a->addr, 0, sizeof(a->addr));
	size_t n = fam == 1 ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		a->addr[i] = v[4 + i] ^ hdr[4 + i]; /* cookie || transaction id */
	msg->has_xor_mapped = 1;
	return MG_STUN_R_OK;
}

enum mg_stun_reason mg_stun_parse(struct mg_stun_msg *msg, const uint8_t *buf, size_t len)
{
	memset(msg, 0, sizeof(*msg));
	msg->integrity_off = msg->integrity_sha256_off = msg->fingerprint_off = -1;
	if (!buf || len < MG_STUN_HEADER_LEN)
		return MG_STUN_R_TOO_SHORT;
	if (buf[0] & 0xC0)
		return MG_STUN_R_NOT_STUN;
	if (rd32(buf + 4) != MG_STUN_MAGIC_COOKIE)
		return MG_STUN_R_BAD_COOKIE;
	uint16_t mlen = rd16(buf + 2);
	if ((mlen & 3) || (size_t)mlen + MG_STUN_HEADER_LEN != len)
		return MG_STUN_R_BAD_LENGTH;
	uint16_t type = rd16(buf);
	msg->type = type;
	msg->cls = (uint8_t)(((type >> 4) & 1) | ((type >> 7) & 2));
	msg->method = (uint16_t)((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
	msg->length = mlen;
	memcpy(msg->tid, buf + 8, MG_STUN_TID_LEN);

	size_t off = MG_STUN_HEADER_LEN;
	int after_integrity = 0;
	while (off < len) {
		if (msg->fingerprint_off >= 0)
			return MG_STUN_R_AFTER_FINGERPRINT;
		if (len - off < 4)
			return MG_STUN_R_ATTR_TRUNCATED;
		uint16_t at = rd16(buf + off), alen = rd16(buf + off + 2);
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return MG_STUN_R_ATTR_TRUNCATED;
		const uint8_t *v = buf + off + 4;
		msg->n_attrs++;

		if (at == MG_STUN_ATTR_FINGERPRINT) {
			if (alen != 4)
				return MG_STUN_R_ATTR_BAD_LENGTH;
			msg->fingerprint_off = (int32_t)off;
			msg->fingerprint = rd32(v);
		} else if (at == MG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
			/* RFC 8489 14.6: 16..32 bytes, multiple of 4 */
			if (alen < 16 || alen > 32 || (alen & 3))
				return MG_STUN_R_ATTR_BAD_LENGTH;
			if (msg->integrity_sha256_off < 0)
				msg->integrity_sha256_off = (int32_t)off;
			after_integrity = 1;
		} else if (after_integrity) {
			/* RFC 5389 15.4: ignored after MESSAGE-INTEGRITY */
		} else if (at == MG_STUN_ATTR_MESSAGE_INTEGRITY) {
			if (alen != 20)
				return MG_STUN_R_ATTR_BAD_LENGTH;
			msg->integrity_off = (int32_t)off;
			after_integrity = 1;
		} else {
			enum mg_stun_reason r = MG_STUN_R_OK;
			switch (at) {
			case MG_STUN_ATTR_USERNAME:
				if (alen >= MG_STUN_MAX_USERNAME)
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				else if (!msg->username) {
					msg->username = v;
					msg->username_len = alen;
				}
				break;
			case MG_STUN_ATTR_PRIORITY:
				if (alen != 4)
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				else if (!msg->has_priority) {
					msg->has_priority = 1;
					msg->priority = rd32(v);
				}
				break;
			case MG_STUN_ATTR_USE_CANDIDATE:
				if (alen != 0)
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				else
					msg->use_candidate = 1;
				break;
			case MG_STUN_ATTR_ICE_CONTROLLED:
			case MG_STUN_ATTR_ICE_CONTROLLING:
				if (alen != 8) {
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				} else if (!msg->has_controlled && !msg->has_controlling) {
					msg->tie_breaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
					if (at == MG_STUN_ATTR_ICE_CONTROLLED)
						msg->has_controlled = 1;
					else
						msg->has_controlling = 1;
				}
				break;
			case MG_STUN_ATTR_XOR_MAPPED_ADDRESS:
				if (!msg->has_xor_mapped)
					r = parse_xor_addr(msg, v, alen, buf);
				break;
			case MG_STUN_ATTR_ERROR_CODE:
				if (alen < 4 || alen > 4 + 763)
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				else if (v[2] < 3 || v[2] > 6 || v[3] > 99)
					r = MG_STUN_R_ATTR_BAD_VALUE;
				else if (!msg->has_error) {
					msg->has_error = 1;
					msg->error_code = (uint16_t)(v[2] * 100 + v[3]);
					msg->error_reason = v + 4;
					msg->error_reason_len = (uint16_t)(alen - 4);
				}
				break;
			case MG_STUN_ATTR_SOFTWARE:
				if (!msg->software) {
					msg->software = v;
					msg->software_len = alen;
				}
				break;
			case MG_STUN_ATTR_UNKNOWN_ATTRIBUTES:
				if (alen & 1)
					r = MG_STUN_R_ATTR_BAD_LENGTH;
				break;
			default:
				if (at < 0x8000 && !is_known(at) &&
				    msg->n_unknown < MG_STUN_MAX_UNKNOWN)
					msg->unknown[msg->n_unknown++] = at;
				break;
			}
			if (r != MG_STUN_R_OK)
				return r;
		}
		off += 4 + padded;
	}
	return MG_STUN_R_OK;
}

int mg_stun_check_fingerprint(const struct mg_stun_msg *msg, const uint8_t *buf, size_t len)
{
	if (msg->fingerprint_off < 0 || (size_t)msg->fingerprint_off + 8 != len)
		return 0;
	/* The length field already covers FINGERPRINT, which is the last attribute. */
	uint32_t crc = mg_stun_crc32(buf, (size_t)msg->fingerprint_off) ^ MG_STUN_FINGERPRINT_XOR;
	return crc == msg->fingerprint;
}

/* HMAC-SHA1 over buf[0..mi_off) with the length field set to end right after an MI at mi_off. */
static int integrity_hmac(const uint8_t *buf, size_t mi_off, const uint8_t *key, size_t key_len,
			  uint8_t out[20])
{
	uint8_t hdr[MG_STUN_HEADER_LEN];
	memcpy(hdr, buf, sizeof(hdr));
	wr16(hdr + 2, (uint16_t)(mi_off + 24 - MG_STUN_HEADER_LEN));
	int ok = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (ctx) {
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA1", 0),
		    OSSL_PARAM_construct_end(),
		};
		size_t olen = 0;
		static const uint8_t empty;
		ok = EVP_MAC_init(ctx, key_len ? key : &empty, key_len, params) == 1 &&
		     EVP_MAC_update(ctx, hdr, sizeof(hdr)) == 1 &&
		     EVP_MAC_update(ctx, buf + MG_STUN_HEADER_LEN, mi_off - MG_STUN_HEADER_LEN) ==
			 1 &&
		     EVP_MAC_final(ctx, out, &olen, 20) == 1 && olen == 20;
	}
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

int mg_stun_check_integrity(const struct mg_stun_msg *msg, const uint8_t *buf, size_t len,
			    const uint8_t *key, size_t key_len)
{
	if (msg->integrity_off < 0 || (size_t)msg->integrity_off + 24 > len)
		return 0;
	uint8_t mac[20];
	if (!integrity_hmac(buf, (size_t)msg->integrity_off, key, key_len, mac))
		return 0;
	int ok = CRYPTO_memcmp(mac, buf + msg->integrity_off + 4, 20) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* ---- builder ------------------------------------------------------------------------------ */
static int fail(struct mg_stun_builder *b)
{
	b->failed = 1;
	return -1;
}

int mg_stun_build_init(struct mg_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
		       enum mg_stun_class cls, const uint8_t tid[MG_STUN_TID_LEN])
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (!buf || cap < MG_STUN_HEADER_LEN || method > 0xFFF || (unsigned)cls > 3 || !tid)
		return fail(b);
	uint16_t type = (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) |
				   ((method & 0x0F80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));
	wr16(buf, type);
	wr16(buf + 2, 0);
	wr32(buf + 4, MG_STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, MG_STUN_TID_LEN);
	b->len = MG_STUN_HEADER_LEN;
	return 0;
}

int mg_stun_build_attr(struct mg_stun_builder *b, uint16_t type, const void *value, size_t len)
{
	if (b->failed)
		return -1;
	size_t padded = (len + 3) & ~(size_t)3;
	if (len > 0xFFFF || (len && !value) || b->len + 4 + padded > b->cap ||
	    b->len + 4 + padded - MG_STUN_HEADER_LEN > 0xFFFF)
		return fail(b);
	uint8_t *p = b->buf + b->len;
	wr16(p, type);
	wr16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + 4, value, len);
	memset(p + 4 + len, b->pad_byte, padded - len);
	b->len += 4 + padded;
	wr16(b->buf + 2, (uint16_t)(b->len - MG_STUN_HEADER_LEN));
	return 0;
}

int mg_stun_build_u32(struct mg_stun_builder *b, uint16_t type, uint32_t value)
{
	uint8_t v[4];
	wr32(v, value);
	return mg_stun_build_attr(b, type, v, 4);
}

int mg_stun_build_u64(struct mg_stun_builder *b, uint16_t type, uint64_t value)
{
	uint8_t v[8];
	wr32(v, (uint32_t)(value >> 32));
	wr32(v + 4, (uint32_t)value);
	return mg_stun_build_attr(b, type, v, 8);
}

int mg_stun_build_xor_addr(struct mg_stun_builder *b, uint16_t type,
			   const struct mg_stun_addr *addr)
{
	if (b->failed || !addr || (addr->family != 4 && addr->family != 6))
		return fail(b);
	uint8_t v[20];
	size_t n = addr->family == 4 ? 4 : 16;
	v[0] = 0;
	v[1] = addr->family == 4 ? 1 : 2;
	wr16(v + 2, addr->port ^ (uint16_t)(MG_STUN_MAGIC_COOKIE >> 16));
	uint8_t x[16]; /* address XOR (magic cookie || transaction id): header bytes 4..19 */
	for (size_t i = 0; i < 16; i++)
		x[i] = addr->addr[i] ^ b->buf[4 + i];
	memcpy(v + 4, x, n);
	return mg_stun_build_attr(b, type, v, 4 + n);
}

int mg_stun_build_error_code(struct mg_stun_builder *b, uint16_t code, const char *reason)
{
	if (code < 300 || code > 699)
		return fail(b);
	uint8_t v[4 + 128];
	size_t rl = reason ? strlen(reason) : 0;
	if (rl > 128)
		rl = 128;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rl)
		memcpy(v + 4, reason, rl);
	return mg_stun_build_attr(b, MG_STUN_ATTR_ERROR_CODE, v, 4 + rl);
}

int mg_stun_build_unknown_attributes(struct mg_stun_builder *b, const uint16_t *types, unsigned n)
{
	uint8_t v[2 * MG_STUN_MAX_UNKNOWN];
	if (n > MG_STUN_MAX_UNKNOWN || (n && !types))
		return fail(b);
	for (unsigned i = 0; i < n; i++)
		wr16(v + 2 * i, types[i]);
	return mg_stun_build_attr(b, MG_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * n);
}

int mg_stun_build_integrity(struct mg_stun_builder *b, const uint8_t *key, size_t key_len)
{
	if (b->failed || b->len + 24 > b->cap || (key_len && !key))
		return fail(b);
	uint8_t mac[20];
	if (!integrity_hmac(b->buf, b->len, key, key_len, mac))
		return fail(b);
	int r = mg_stun_build_attr(b, MG_STUN_ATTR_MESSAGE_INTEGRITY, mac, 20);
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

int mg_stun_build_fingerprint(struct mg_stun_builder *b)
{
	if (b->failed || b->len + 8 > b->cap)
		return fail(b);
	wr16(b->buf + 2, (uint16_t)(b->len + 8 - MG_STUN_HEADER_LEN));
	uint32_t crc = mg_stun_crc32(b->buf, b->len) ^ MG_STUN_FINGERPRINT_XOR;
	return mg_stun_build_u32(b, MG_STUN_ATTR_FINGERPRINT, crc);
}

size_t mg_stun_build_finish(struct mg_stun_builder *b)
{
	return b->failed ? 0 : b->len;
}

/* ---- ICE-lite responder ------------------------------------------------------------------- */
static void count(struct mg_stun_counters *c, enum mg_stun_reason r)
{
	if (c && (unsigned)r < MG_STUN_REASON_COUNT)
		c->by_reason[r]++;
}

static void drop(struct mg_stun_ice_result *res, enum mg_stun_reason r,
		 struct mg_stun_counters *counters)
{
	res->action = MG_STUN_ICE_DROP;
	res->reason = r;
	res->out_len = 0;
	count(counters, r);
}

static void error_response(const struct mg_stun_msg *msg, const struct mg_stun_ice_creds *creds,
			   int with_integrity, uint16_t code, const char *text, uint8_t *out,
			   size_t out_cap, struct mg_stun_ice_result *res, enum mg_stun_reason r,
			   struct mg_stun_counters *counters)
{
	struct mg_stun_builder b;
	mg_stun_build_init(&b, out, out_cap, MG_STUN_METHOD_BINDING, MG_STUN_CLASS_ERROR, msg->tid);
	mg_stun_build_error_code(&b, code, text);
	if (code == 420)
		mg_stun_build_unknown_attributes(&b, msg->unknown, msg->n_unknown);
	if (with_integrity)
		mg_stun_build_integrity(&b, (const uint8_t *)creds->local_pwd,
					creds->local_pwd_len);
	mg_stun_build_fingerprint(&b);
	size_t n = mg_stun_build_finish(&b);
	if (!n) {
		drop(res, MG_STUN_R_BAD_ARGUMENT, counters);
		return;
	}
	res->action = MG_STUN_ICE_ERROR_RESPONSE;
	res->reason = r;
	res->error_code = code;
	res->out_len = n;
	count(counters, r);
}

static int username_ok(const struct mg_stun_msg *msg, const struct mg_stun_ice_creds *c)
{
	size_t ul = msg->username_len, ll = c->local_ufrag_len;
	const uint8_t *u = msg->username;
	if (ul < ll + 1 || memcmp(u, c->local_ufrag, ll) != 0 || u[ll] != ':')
		return 0;
	if (!c->remote_ufrag || !c->remote_ufrag_len)
		return ul > ll + 1; /* remote part not known yet: anything non-empty */
	return ul - ll - 1 == c->remote_ufrag_len &&
	       memcmp(u + ll + 1, c->remote_ufrag, c->remote_ufrag_len) == 0;
}

void mg_stun_ice_respond(const uint8_t *req, size_t req_len, const struct mg_stun_ice_creds *creds,
			 const struct mg_stun_addr *src, uint64_t now_ns, uint8_t *out,
			 size_t out_cap, struct mg_stun_ice_result *res,
			 struct mg_stun_counters *counters)
{
	struct mg_stun_msg msg;
	memset(res, 0, sizeof(*res));
	if (!creds || !creds->local_ufrag || !creds->local_ufrag_len || !creds->local_pwd ||
	    !creds->local_pwd_len || !src || (src->family != 4 && src->family != 6) || !out ||
	    out_cap < MG_STUN_RESPONSE_MAX) {
		drop(res, MG_STUN_R_BAD_ARGUMENT, counters);
		return;
	}
	enum mg_stun_reason r = mg_stun_parse(&msg, req, req_len);
	if (r != MG_STUN_R_OK) {
		drop(res, r, counters);
		return;
	}
	if (msg.method != MG_STUN_METHOD_BINDING) {
		drop(res, MG_STUN_R_NOT_BINDING, counters);
		return;
	}
	if (msg.cls != MG_STUN_CLASS_REQUEST) {
		drop(res, MG_STUN_R_NOT_REQUEST, counters);
		return;
	}
	if (msg.fingerprint_off < 0) {
		drop(res, MG_STUN_R_NO_FINGERPRINT, counters);
		return;
	}
	if (!mg_stun_check_fingerprint(&msg, req, req_len)) {
		drop(res, MG_STUN_R_BAD_FINGERPRINT, counters);
		return;
	}
	if (!msg.username || msg.integrity_off < 0) {
		int sha256_only = msg.username && msg.integrity_sha256_off >= 0;
		error_response(
		    &msg, creds, 0, 400,
		    sha256_only ? "MESSAGE-INTEGRITY-SHA256 not supported" : "Bad Request", out,
		    out_cap, res, sha256_only ? MG_STUN_R_SHA256_REFUSED : MG_STUN_R_NO_INTEGRITY,
		    counters);
		return;
	}
	if (!username_ok(&msg, creds)) {
		error_response(&msg, creds, 0, 401, "Unauthorized", out, out_cap, res,
			       MG_STUN_R_BAD_USERNAME, counters);
		return;
	}
	if (!mg_stun_check_integrity(&msg, req, req_len, (const uint8_t *)creds->local_pwd,
				     creds->local_pwd_len)) {
		error_response(&msg, creds, 0, 401, "Unauthorized", out, out_cap, res,
			       MG_STUN_R_BAD_INTEGRITY, counters);
		return;
	}
	/* Authenticated from here: responses carry MESSAGE-INTEGRITY. */
	if (msg.n_unknown) {
		error_response(&msg, creds, 1, 420, "Unknown Attribute", out, out_cap, res,
			       MG_STUN_R_UNKNOWN_ATTRIBUTE, counters);
		return;
	}
	if (!msg.has_priority) {
		error_response(&msg, creds, 1, 400, "PRIORITY missing", out, out_cap, res,
			       MG_STUN_R_NO_PRIORITY, counters);
		return;
	}
	if (!msg.has_controlling && !msg.has_controlled) {
		error_response(&msg, creds, 1, 400, "ICE role missing", out, out_cap, res,
			       MG_STUN_R_NO_ROLE, counters);
		return;
	}
	if (msg.has_controlled) {
		error_response(&msg, creds, 1, 487, "Role Conflict", out, out_cap, res,
			       MG_STUN_R_ROLE_CONFLICT, counters);
		return;
	}

	struct mg_stun_builder b;
	mg_stun_build_init(&b, out, out_cap, MG_STUN_METHOD_BINDING, MG_STUN_CLASS_SUCCESS,
			   msg.tid);
	mg_stun_build_xor_addr(&b, MG_STUN_ATTR_XOR_MAPPED_ADDRESS, src);
	mg_stun_build_integrity(&b, (const uint8_t *)creds->local_pwd, creds->local_pwd_len);
	mg_stun_build_fingerprint(&b);
	size_t n = mg_stun_build_finish(&b);
	if (!n) {
		drop(res, MG_STUN_R_BAD_ARGUMENT, counters);
		return;
	}
	res->action = MG_STUN_ICE_SUCCESS;
	res->reason = MG_STUN_R_OK;
	res->out_len = n;
	res->use_candidate = msg.use_candidate;
	res->peer_controlling = 1;
	res->priority = msg.priority;
	res->tie_breaker = msg.tie_breaker;
	res->consent_ns = now_ns;
	count(counters, MG_STUN_R_OK);
}
