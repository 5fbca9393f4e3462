/* STUN (RFC 5389 / RFC 8489) messages on byte buffers, and an ICE-lite Binding responder
 * (RFC 8445 short-term credentials, RFC 7675 consent freshness).
 *
 * The parser works on one UDP payload (the datagram is exactly one message), never reads
 * outside it and names every rejection (enum mg_stun_reason). Attribute values are returned as
 * pointers into the caller's buffer. The builder writes into a caller-supplied buffer and never
 * writes past its capacity.
 *
 * Plain C11 + OpenSSL libcrypto (HMAC-SHA1); no allocation, no global state: safe to call from
 * any lcore. See docs/ice-dtls.md. */
#ifndef MG_STUN_H
#define MG_STUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_STUN_HEADER_LEN	20
#define MG_STUN_MAGIC_COOKIE	0x2112A442u
#define MG_STUN_TID_LEN		12
#define MG_STUN_FINGERPRINT_XOR 0x5354554eu
#define MG_STUN_MAX_USERNAME	513 /* RFC 5389 15.3: < 513 bytes */
#define MG_STUN_MAX_UNKNOWN	8   /* unknown comprehension-required attributes remembered */
/* A Binding response mediagate builds: header + XOR-MAPPED-ADDRESS (IPv6) + MESSAGE-INTEGRITY
 * + FINGERPRINT = 20 + 24 + 24 + 8; error responses add ERROR-CODE and UNKNOWN-ATTRIBUTES.
 * 256 bytes are always enough for mg_stun_ice_respond. */
#define MG_STUN_RESPONSE_MAX 256

/* Message classes (RFC 5389 6) and the one method ICE uses. */
enum mg_stun_class {
	MG_STUN_CLASS_REQUEST = 0,
	MG_STUN_CLASS_INDICATION = 1,
	MG_STUN_CLASS_SUCCESS = 2,
	MG_STUN_CLASS_ERROR = 3,
};
#define MG_STUN_METHOD_BINDING 0x001

/* Attribute types. */
enum {
	MG_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	MG_STUN_ATTR_USERNAME = 0x0006,
	MG_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	MG_STUN_ATTR_ERROR_CODE = 0x0009,
	MG_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	MG_STUN_ATTR_REALM = 0x0014,
	MG_STUN_ATTR_NONCE = 0x0015,
	MG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	MG_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
	MG_STUN_ATTR_USERHASH = 0x001E,
	MG_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	MG_STUN_ATTR_PRIORITY = 0x0024,
	MG_STUN_ATTR_USE_CANDIDATE = 0x0025,
	MG_STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
	MG_STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
	MG_STUN_ATTR_SOFTWARE = 0x8022,
	MG_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	MG_STUN_ATTR_FINGERPRINT = 0x8028,
	MG_STUN_ATTR_ICE_CONTROLLED = 0x8029,
	MG_STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* Why a message was rejected, or what the responder did. Each is a counter. */
enum mg_stun_reason {
	MG_STUN_R_OK = 0, /* parsed / valid check answered with a success response */
	/* structure (the message is dropped, never answered) */
	MG_STUN_R_TOO_SHORT,	   /* fewer than 20 bytes */
	MG_STUN_R_NOT_STUN,	   /* first two bits not 00 */
	MG_STUN_R_BAD_COOKIE,	   /* magic cookie missing (RFC 3489 messages are not accepted) */
	MG_STUN_R_BAD_LENGTH,	   /* length not a multiple of 4 or != datagram length - 20 */
	MG_STUN_R_ATTR_TRUNCATED,  /* attribute header or value runs past the message */
	MG_STUN_R_ATTR_BAD_LENGTH, /* known attribute with a wrong value length */
	MG_STUN_R_ATTR_BAD_VALUE,  /* known attribute with an invalid value (family, padding...) */
	MG_STUN_R_AFTER_FINGERPRINT, /* any attribute after FINGERPRINT */
	MG_STUN_R_BAD_FINGERPRINT,   /* FINGERPRINT present and wrong */
	/* ICE responder: silently dropped */
	MG_STUN_R_NOT_BINDING,	  /* a method other than Binding */
	MG_STUN_R_NOT_REQUEST,	  /* indication or response (a lite agent sends no checks) */
	MG_STUN_R_NO_FINGERPRINT, /* RFC 8445 7.1: ICE requests carry FINGERPRINT */
	MG_STUN_R_BAD_ARGUMENT,	  /* caller error (NULL, output buffer too small) */
	/* ICE responder: answered with an error response */
	MG_STUN_R_NO_INTEGRITY,	     /* 400: USERNAME or MESSAGE-INTEGRITY missing */
	MG_STUN_R_SHA256_REFUSED,    /* 400: only MESSAGE-INTEGRITY-SHA256 (not supported) */
	MG_STUN_R_NO_PRIORITY,	     /* 400: PRIORITY missing (RFC 8445 7.1.1) */
	MG_STUN_R_NO_ROLE,	     /* 400: neither ICE-CONTROLLING nor ICE-CONTROLLED */
	MG_STUN_R_BAD_USERNAME,	     /* 401: USERNAME is not "<local ufrag>:<remote ufrag>" */
	MG_STUN_R_BAD_INTEGRITY,     /* 401: HMAC-SHA1 with the local ice-pwd does not match */
	MG_STUN_R_UNKNOWN_ATTRIBUTE, /* 420: unknown comprehension-required attribute(s) */
	MG_STUN_R_ROLE_CONFLICT,     /* 487: peer claims the controlled role (we are lite) */
	MG_STUN_REASON_COUNT
};

const char *mg_stun_reason_str(enum mg_stun_reason reason);

/* A transport address. addr is in network byte order (4 or 16 bytes used), port host order. */
struct mg_stun_addr {
	uint8_t family; /* 4 or 6 */
	uint16_t port;
	uint8_t addr[16];
};

/* A parsed message. Pointers point into the parsed buffer. Offsets are from the start of the
 * message (of the attribute header), -1 when absent. Only the first occurrence of an attribute
 * is used (RFC 5389 15); attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256
 * and FINGERPRINT are ignored (RFC 5389 15.4). */
struct mg_stun_msg {
	uint16_t type; /* raw message type */
	uint16_t method;
	uint8_t cls; /* enum mg_stun_class */
	uint16_t length;
	uint8_t tid[MG_STUN_TID_LEN];
	unsigned n_attrs;

	const uint8_t *username;
	uint16_t username_len;
	int32_t integrity_off;	      /* MESSAGE-INTEGRITY */
	int32_t integrity_sha256_off; /* MESSAGE-INTEGRITY-SHA256 */
	int32_t fingerprint_off;      /* FINGERPRINT (always the last attribute) */
	uint32_t fingerprint;	      /* value as received */

	uint8_t has_priority, use_candidate, has_controlling, has_controlled;
	uint32_t priority;
	uint64_t tie_breaker; /* of ICE-CONTROLLING or ICE-CONTROLLED */

	uint8_t has_xor_mapped;
	struct mg_stun_addr xor_mapped; /* decoded (XOR removed) */

	uint8_t has_error;
	uint16_t error_code; /* 300..699 */
	const uint8_t *error_reason;
	uint16_t error_reason_len;

	const uint8_t *software;
	uint16_t software_len;

	unsigned
	    n_unknown; /* unknown comprehension-required attributes (first MG_STUN_MAX_UNKNOWN) */
	uint16_t unknown[MG_STUN_MAX_UNKNOWN];
};

/* Quick test for the data path (RFC 7983 range aside): 20+ bytes, top bits 00, cookie. */
int mg_stun_looks_like(const uint8_t *buf, size_t len);

/* Parses one message of exactly len bytes. MG_STUN_R_OK or a structural reason. A FINGERPRINT
 * is parsed but not checked here: use mg_stun_check_fingerprint. */
enum mg_stun_reason mg_stun_parse(struct mg_stun_msg *msg, const uint8_t *buf, size_t len);

/* 1 if the message has a FINGERPRINT and it is right, 0 otherwise. */
int mg_stun_check_fingerprint(const struct mg_stun_msg *msg, const uint8_t *buf, size_t len);
/* 1 if the message has a MESSAGE-INTEGRITY that is the HMAC-SHA1 of the message under key
 * (short-term credential: the ice-pwd bytes), 0 otherwise (constant-time compare). */
int mg_stun_check_integrity(const struct mg_stun_msg *msg, const uint8_t *buf, size_t len,
			    const uint8_t *key, size_t key_len);

/* CRC-32 (ISO-HDLC, the one zlib computes) as STUN FINGERPRINT uses it (before the XOR). */
uint32_t mg_stun_crc32(const uint8_t *data, size_t len);

/* Builder. Errors are sticky: after one failure every call fails and mg_stun_build_finish
 * returns 0. */
struct mg_stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int failed;
	uint8_t pad_byte; /* padding content; 0 by default (RFC 5769 vectors use 0x20) */
};

int mg_stun_build_init(struct mg_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
		       enum mg_stun_class cls, const uint8_t tid[MG_STUN_TID_LEN]);
int mg_stun_build_attr(struct mg_stun_builder *b, uint16_t type, const void *value, size_t len);
int mg_stun_build_u32(struct mg_stun_builder *b, uint16_t type, uint32_t value);
int mg_stun_build_u64(struct mg_stun_builder *b, uint16_t type, uint64_t value);
/* XOR-MAPPED-ADDRESS (or any XOR'd address attribute) for addr, using the message's tid. */
int mg_stun_build_xor_addr(struct mg_stun_builder *b, uint16_t type,
			   const struct mg_stun_addr *addr);
int mg_stun_build_error_code(struct mg_stun_builder *b, uint16_t code, const char *reason);
int mg_stun_build_unknown_attributes(struct mg_stun_builder *b, const uint16_t *types, unsigned n);
/* MESSAGE-INTEGRITY (HMAC-SHA1 with key over the message so far, length adjusted). */
int mg_stun_build_integrity(struct mg_stun_builder *b, const uint8_t *key, size_t key_len);
/* FINGERPRINT (last attribute). */
int mg_stun_build_fingerprint(struct mg_stun_builder *b);
/* Length of the finished message, 0 if any step failed. */
size_t mg_stun_build_finish(struct mg_stun_builder *b);

/* ---- ICE-lite responder --------------------------------------------------------------------
 * Credentials of one ICE session (one leg). RFC 8445: the request's USERNAME is
 * "<local ufrag>:<remote ufrag>" and MESSAGE-INTEGRITY is keyed with the local ice-pwd. */
struct mg_stun_ice_creds {
	const char *local_ufrag;
	size_t local_ufrag_len;
	const char *local_pwd;
	size_t local_pwd_len;
	const char *remote_ufrag; /* NULL/0 = not known yet (answer before the remote SDP):
				     any remote part of the USERNAME is accepted */
	size_t remote_ufrag_len;
};

enum mg_stun_ice_action {
	MG_STUN_ICE_DROP = 0,	    /* not answered (reason says why) */
	MG_STUN_ICE_SUCCESS,	    /* valid check: success response in out */
	MG_STUN_ICE_ERROR_RESPONSE, /* error response in out (400/401/420/487) */
};

struct mg_stun_ice_result {
	enum mg_stun_ice_action action;
	enum mg_stun_reason reason;
	size_t out_len;	     /* response bytes, 0 for DROP */
	uint16_t error_code; /* for ERROR_RESPONSE */
	/* Valid check only (action == SUCCESS): */
	uint8_t use_candidate; /* the peer nominates this pair: latch it */
	uint8_t peer_controlling;
	uint32_t priority; /* PRIORITY of the request (peer-reflexive priority) */
	uint64_t tie_breaker;
	uint64_t consent_ns; /* = now_ns: RFC 7675 consent refreshed at this time */
};

/* Counters of one responder (one leg or one port): one per reason. */
struct mg_stun_counters {
	uint64_t by_reason[MG_STUN_REASON_COUNT];
};

/* Answers one datagram received from src. out must hold MG_STUN_RESPONSE_MAX bytes. now_ns is
 * the caller's monotonic clock (copied into consent_ns for a valid check). counters may be NULL.
 * Order of checks (RFC 5389 7.3, 10.1.2; RFC 8445 7.3): structure -> Binding request ->
 * FINGERPRINT -> USERNAME and MESSAGE-INTEGRITY present (400) -> USERNAME (401) -> HMAC (401)
 * -> unknown comprehension-required attributes (420) -> PRIORITY and role present (400) ->
 * ICE-CONTROLLED (487: a lite agent is always controlled and never switches) -> success.
 * 400/401 responses carry no MESSAGE-INTEGRITY; 420/487 and success do. All have FINGERPRINT. */
void mg_stun_ice_respond(const uint8_t *req, size_t req_len, const struct mg_stun_ice_creds *creds,
			 const struct mg_stun_addr *src, uint64_t now_ns, uint8_t *out,
			 size_t out_cap, struct mg_stun_ice_result *res,
			 struct mg_stun_counters *counters);

/* RFC 7675 consent freshness of a pair: valid while a check arrived in the last 30 s. */
#define MG_STUN_CONSENT_TIMEOUT_NS (30ull * 1000000000ull)
struct mg_stun_consent {
	uint64_t last_ns; /* time of the last valid check; 0 = never */
};
static inline void mg_stun_consent_refresh(struct mg_stun_consent *c, uint64_t now_ns)
{
	c->last_ns = now_ns ? now_ns : 1;
}
/* 1 when the pair has (still) consent at now_ns. */
static inline int mg_stun_consent_valid(const struct mg_stun_consent *c, uint64_t now_ns)
{
	return c->last_ns != 0 && now_ns - c->last_ns < MG_STUN_CONSENT_TIMEOUT_NS;
}

#ifdef __cplusplus
}
#endif

#endif
