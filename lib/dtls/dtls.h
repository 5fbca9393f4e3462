/* DTLS-SRTP (RFC 5764, RFC 8842) with OpenSSL 3: DTLS 1.2 on memory BIOs, for the control lcore.
 *
 * - mg_dtls_ctx: one per tenant instance. An EC P-256 key and a self-signed certificate
 *   (generated, or loaded from PEM so the instance keeps it), its "sha-256 AB:CD:..."
 *   fingerprint for a=fingerprint, and the OpenSSL SSL_CTX every leg of the instance uses.
 * - mg_dtls: one DTLS association (one leg). No sockets: the caller feeds the datagrams a worker
 *   received (mg_dtls_input), takes the datagrams to send (mg_dtls_output) and hands them to a
 *   tx queue, and drives the timers with its own clock (mg_dtls_next_timeout, mg_dtls_tick).
 *   The peer certificate must match the a=fingerprint of the remote SDP, else the handshake
 *   fails (alert bad_certificate) and no key is ever exported. On success the use_srtp profile
 *   and the RFC 5764 4.2 keys are available as two struct mg_srtp_key_params (tx = what we
 *   protect with, rx = what we unprotect with; which half is ours depends on the role).
 * - mg_dtls_record_*: a record header parser for the data path (no OpenSSL, no allocation):
 *   classify and validate a datagram before it is queued to the control lcore.
 *
 * Only DTLS 1.2 is spoken (OpenSSL 3.0 has no DTLS 1.3): a client offering DTLS 1.3 and 1.2
 * (Chrome) gets a DTLS 1.2 ServerHello. No session resumption (every handshake checks the
 * certificate), no renegotiation, AEAD cipher suites with ECDHE only, extended master secret.
 * Application data (WebRTC data channels) is not supported: such records are counted and
 * dropped. Nothing here is thread safe; one lcore owns a session. See docs/ice-dtls.md. */
#ifndef MG_DTLS_H
#define MG_DTLS_H

#include <stddef.h>
#include <stdint.h>

/* intel-ipsec-mb.h (via srtp.h) otherwise #defines SHA1, SHA256... which clash with OpenSSL. */
#ifndef NO_COMPAT_IMB_API_053
#define NO_COMPAT_IMB_API_053
#endif
#include "srtp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- record header parser (data path) ----------------------------------------------------- */
#define MG_DTLS_RECORD_HEADER_LEN 13
#define MG_DTLS_MAX_RECORD_LEN	  (16384 + 2048) /* RFC 6347 4.1: ciphertext limit */

enum mg_dtls_content_type {
	MG_DTLS_CT_CHANGE_CIPHER_SPEC = 20,
	MG_DTLS_CT_ALERT = 21,
	MG_DTLS_CT_HANDSHAKE = 22,
	MG_DTLS_CT_APPLICATION_DATA = 23,
};

enum mg_dtls_rec_status {
	MG_DTLS_REC_OK = 0,
	MG_DTLS_REC_EMPTY,	 /* zero-length datagram */
	MG_DTLS_REC_TOO_SHORT,	 /* fewer than 13 bytes left for a record header */
	MG_DTLS_REC_BAD_TYPE,	 /* content type not 20..23 (heartbeat 24 refused too) */
	MG_DTLS_REC_DTLS13,	 /* RFC 9147 unified header (first byte 0x20-0x3f): not spoken */
	MG_DTLS_REC_BAD_VERSION, /* version not DTLS 1.0 (0xfeff) or 1.2 (0xfefd) */
	MG_DTLS_REC_TRUNCATED,	 /* length field runs past the datagram */
	MG_DTLS_REC_TOO_LONG,	 /* length field above MG_DTLS_MAX_RECORD_LEN */
	MG_DTLS_REC_TOO_MANY,	 /* more than MG_DTLS_MAX_RECORDS records in one datagram */
	MG_DTLS_REC_BAD_CONTENT, /* epoch 0 (plaintext) content malformed: handshake fragments
				    that do not fill the record or overrun their message, unknown
				    handshake type, alert not 2 bytes, CCS not 0x01, app data */
	MG_DTLS_REC_STATUS_COUNT
};
#define MG_DTLS_MAX_RECORDS 32

const char *mg_dtls_rec_status_str(enum mg_dtls_rec_status status);

struct mg_dtls_record {
	uint8_t content_type;
	uint16_t version;
	uint16_t epoch;
	uint64_t seq; /* 48 bits */
	uint16_t length;
	const uint8_t *fragment; /* length bytes, inside the parsed buffer */
	/* epoch 0 handshake records: the handshake message type (1 = ClientHello ...), else -1 */
	int hs_type;
};

/* Parses the record at buf (len bytes available). */
enum mg_dtls_rec_status mg_dtls_record_parse(const uint8_t *buf, size_t len,
					     struct mg_dtls_record *rec);

/* Summary of one datagram: every record must parse and the records must fill it exactly. */
struct mg_dtls_datagram_info {
	unsigned n_records;
	uint8_t has_client_hello; /* an epoch 0 ClientHello is in it (a new handshake) */
	uint8_t has_handshake;
	uint8_t has_app_data;
	uint8_t has_alert;
	uint16_t max_epoch;
};
enum mg_dtls_rec_status mg_dtls_datagram_check(const uint8_t *buf, size_t len,
					       struct mg_dtls_datagram_info *info);

/* ---- a=setup and a=fingerprint (RFC 8842, RFC 8122) ---------------------------------------- */
enum mg_dtls_setup {
	MG_DTLS_SETUP_NONE = 0, /* attribute absent */
	MG_DTLS_SETUP_ACTPASS,
	MG_DTLS_SETUP_ACTIVE,
	MG_DTLS_SETUP_PASSIVE,
	MG_DTLS_SETUP_HOLDCONN,
};

enum mg_dtls_role {
	MG_DTLS_ROLE_CLIENT = 1, /* a=setup:active: we send the ClientHello */
	MG_DTLS_ROLE_SERVER = 2, /* a=setup:passive */
};

/* "actpass" / "active" / "passive" / "holdconn" (exact); -1 otherwise. */
int mg_dtls_setup_parse(const char *value, size_t len, enum mg_dtls_setup *out);
const char *mg_dtls_setup_str(enum mg_dtls_setup setup);
/* We answer an offer: the remote offer's a=setup (NONE = absent = "active", RFC 4145 4) and
 * our preference for actpass (ACTIVE or PASSIVE). Returns the a=setup of our answer (ACTIVE or
 * PASSIVE), or NONE when the offer cannot be answered (holdconn, bad preference). */
enum mg_dtls_setup mg_dtls_setup_answer(enum mg_dtls_setup remote_offer, enum mg_dtls_setup prefer);
/* Our role given our a=setup and the peer's: (ACTIVE, *) -> client, (PASSIVE, *) -> server,
 * (ACTPASS, remote answer ACTIVE) -> server, (ACTPASS, PASSIVE) -> client. -1 for any
 * other combination (both active, both passive, actpass in an answer, holdconn). */
int mg_dtls_role_from_setup(enum mg_dtls_setup local, enum mg_dtls_setup remote,
			    enum mg_dtls_role *role);

enum mg_dtls_hash { MG_DTLS_HASH_SHA256 = 1, MG_DTLS_HASH_SHA384, MG_DTLS_HASH_SHA512 };
#define MG_DTLS_FINGERPRINT_MAX 64
/* A certificate fingerprint: a=fingerprint:<hash> <HEX:HEX:...>. sha-256/384/512 are accepted;
 * sha-1, md5, md2 and sha-224 are refused (weak or unused by browsers). */
struct mg_dtls_fingerprint {
	enum mg_dtls_hash hash;
	uint8_t len;
	uint8_t value[MG_DTLS_FINGERPRINT_MAX];
};
/* Parses an a=fingerprint value ("sha-256 AB:CD:..."; hash name case-insensitive, hex either
 * case). 0, or -1 on any syntax error, unsupported hash or wrong length. */
int mg_dtls_fingerprint_parse(const char *value, size_t len, struct mg_dtls_fingerprint *fp);
/* "sha-256 AB:CD:..." (upper case) into out; -1 if cap is too small. */
int mg_dtls_fingerprint_format(const struct mg_dtls_fingerprint *fp, char *out, size_t cap);

/* ---- instance context (certificate) ------------------------------------------------------- */
typedef struct mg_dtls_ctx mg_dtls_ctx;

/* New EC P-256 key and self-signed certificate (CN = common_name, SHA-256 signature, random
 * 127-bit serial, valid from one day ago for validity_days). NULL on failure. */
mg_dtls_ctx *mg_dtls_ctx_new(const char *common_name, unsigned validity_days);
/* From a PEM certificate and PEM private key (EC P-256 only), e.g. restored state. */
mg_dtls_ctx *mg_dtls_ctx_from_pem(const char *cert_pem, size_t cert_len, const char *key_pem,
				  size_t key_len);
/* PEM texts (NUL-terminated) to persist the instance's identity. The key is a secret: wrap it
 * before storing, never log it. 0, or -1 if a buffer is too small. */
int mg_dtls_ctx_export_pem(const mg_dtls_ctx *ctx, char *cert_pem, size_t cert_cap, char *key_pem,
			   size_t key_cap);
/* "sha-256 AB:CD:...:EF" of the certificate (the a=fingerprint value). */
const char *mg_dtls_ctx_fingerprint(const mg_dtls_ctx *ctx);
/* Sessions keep their own reference to the OpenSSL context: freeing ctx first is safe. */
void mg_dtls_ctx_free(mg_dtls_ctx *ctx);

/* ---- one association ---------------------------------------------------------------------- */
enum mg_dtls_profile { /* RFC 5764 4.1.2 / RFC 7714 14.2 SRTPProtectionProfile values */
		       MG_DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001,
		       MG_DTLS_SRTP_AES128_CM_SHA1_32 = 0x0002,
		       MG_DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,
		       MG_DTLS_SRTP_AEAD_AES_256_GCM = 0x0008,
};
/* OpenSSL's name of a profile ("SRTP_AES128_CM_SHA1_80" ...), NULL if unknown. */
const char *mg_dtls_profile_name(enum mg_dtls_profile profile);
/* The mg_srtp suite a profile keys (MG_SRTP_SUITE_NONE if unknown). */
enum mg_srtp_suite mg_dtls_profile_suite(enum mg_dtls_profile profile);

#define MG_DTLS_MAX_PROFILES 4
struct mg_dtls_config {
	enum mg_dtls_role role;
	/* a=fingerprint of the remote SDP: the peer certificate must match it. Required. */
	const struct mg_dtls_fingerprint *remote_fingerprint;
	/* use_srtp profiles in preference order (the server's order wins); n_profiles 0 = default:
	 * AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES128_CM_SHA1_80, AES128_CM_SHA1_32. */
	enum mg_dtls_profile profiles[MG_DTLS_MAX_PROFILES];
	unsigned n_profiles;
	uint64_t handshake_timeout_ns;	/* 0 = 30 s, on the caller's clock, from mg_dtls_start */
	uint32_t retransmit_initial_ms; /* 0 = 1000 (RFC 6347 4.2.4.1); doubles each time */
	uint32_t retransmit_max_ms;	/* 0 = 60000 */
	uint16_t mtu;			/* largest datagram mg_dtls_output returns; 0 = 1200 */
};

enum mg_dtls_state {
	MG_DTLS_STATE_NEW = 0,	   /* created, not started */
	MG_DTLS_STATE_HANDSHAKING, /* started; flights being exchanged */
	MG_DTLS_STATE_CONNECTED,   /* handshake done, fingerprint checked, keys exported */
	MG_DTLS_STATE_FAILED,	   /* see mg_dtls_failure(); never any key */
	MG_DTLS_STATE_CLOSED,	   /* close_notify sent or received; keys wiped */
};

enum mg_dtls_failure {
	MG_DTLS_FAIL_NONE = 0,
	MG_DTLS_FAIL_FINGERPRINT,     /* peer certificate does not match the remote a=fingerprint */
	MG_DTLS_FAIL_NO_CERTIFICATE,  /* peer sent no certificate */
	MG_DTLS_FAIL_NO_SRTP_PROFILE, /* no use_srtp profile in common / none negotiated */
	MG_DTLS_FAIL_TIMEOUT,	      /* handshake not done within handshake_timeout_ns */
	MG_DTLS_FAIL_RETRANSMIT_LIMIT, /* OpenSSL gave up after too many retransmissions */
	MG_DTLS_FAIL_PEER_ALERT,       /* peer sent a fatal alert (see detail) */
	MG_DTLS_FAIL_PROTOCOL,	       /* any other handshake error (see detail) */
	MG_DTLS_FAIL_KEY_EXPORT,       /* keying material export failed */
	MG_DTLS_FAIL_INTERNAL,	       /* allocation / OpenSSL internal error */
	MG_DTLS_FAILURE_COUNT
};

const char *mg_dtls_state_str(enum mg_dtls_state state);
const char *mg_dtls_failure_str(enum mg_dtls_failure failure);

/* Counters of one association (read by the control lcore / telemetry). */
struct mg_dtls_counters {
	uint64_t datagrams_in, datagrams_out, bytes_in, bytes_out;
	uint64_t garbage_dropped; /* datagrams the record parser refused (never given to OpenSSL) */
	uint64_t after_end_dropped; /* datagrams received in FAILED or CLOSED state */
	uint64_t app_data_dropped; /* application data records after the handshake (data channel) */
	uint64_t retransmissions;  /* flights retransmitted by our timers */
	uint64_t alerts_in, alerts_out;
	uint64_t dtls13_offered; /* server: the ClientHello offered DTLS 1.3 (1.2 was chosen) */
};

/* The keys of a connected association. tx/rx point into this structure itself: keep it where
 * it is (or call mg_dtls_srtp_keys() again into the new place). Wipe it when done. */
struct mg_dtls_srtp_keys {
	enum mg_dtls_profile profile;
	struct mg_srtp_key_params tx; /* protect what we send */
	struct mg_srtp_key_params rx; /* unprotect what we receive */
	uint8_t tx_key[MG_SRTP_MAX_KEY_LEN], tx_salt[MG_SRTP_MAX_SALT_LEN];
	uint8_t rx_key[MG_SRTP_MAX_KEY_LEN], rx_salt[MG_SRTP_MAX_SALT_LEN];
};
void mg_dtls_srtp_keys_wipe(struct mg_dtls_srtp_keys *keys);

typedef struct mg_dtls mg_dtls;

/* A new association of the instance ctx; state NEW. NULL on bad config or allocation failure. */
mg_dtls *mg_dtls_new(mg_dtls_ctx *ctx, const struct mg_dtls_config *config);
void mg_dtls_free(mg_dtls *d);

/* NEW -> HANDSHAKING; starts the handshake timer at now_ns. A client queues its ClientHello
 * (take it with mg_dtls_output). A server created in NEW also starts on its first input. */
enum mg_dtls_state mg_dtls_start(mg_dtls *d, uint64_t now_ns);
/* One datagram received from the peer. Garbage (record parser), records after FAILED/CLOSED
 * and application data are counted and dropped. Returns the state after processing; when it
 * becomes CONNECTED, take the keys. Replies (if any) are queued for mg_dtls_output. */
enum mg_dtls_state mg_dtls_input(mg_dtls *d, const uint8_t *data, size_t len, uint64_t now_ns);
/* Next datagram to send (records packed up to the MTU) into buf; its length, or 0 when nothing
 * is queued, or -1 if cap is smaller than the next record (the datagram stays queued). */
int mg_dtls_output(mg_dtls *d, uint8_t *buf, size_t cap);
/* Absolute time (caller's clock) at which mg_dtls_tick must run next; UINT64_MAX = no timer.
 * Retransmission deadlines come from OpenSSL's timer (DTLSv1_get_timeout, which OpenSSL keeps
 * in wall-clock time and we convert into the caller's clock at every call); the handshake
 * deadline is entirely on the caller's clock. */
uint64_t mg_dtls_next_timeout(const mg_dtls *d);
/* Timers: handshake timeout (-> FAILED/TIMEOUT) and retransmission (DTLSv1_handle_timeout). */
enum mg_dtls_state mg_dtls_tick(mg_dtls *d, uint64_t now_ns);
/* Queues close_notify (if connected) and moves to CLOSED; keys are wiped. */
enum mg_dtls_state mg_dtls_close(mg_dtls *d);

enum mg_dtls_state mg_dtls_state(const mg_dtls *d);
enum mg_dtls_failure mg_dtls_failure(const mg_dtls *d);
/* Human-readable detail of a failure or close (alert name, OpenSSL reason); never secret. */
const char *mg_dtls_detail(const mg_dtls *d);
enum mg_dtls_role mg_dtls_role(const mg_dtls *d);
int mg_dtls_closed_by_peer(const mg_dtls *d);
struct mg_dtls_counters mg_dtls_counters(const mg_dtls *d);
/* The negotiated protocol version (0xfefd = DTLS 1.2) once connected, else 0. */
uint16_t mg_dtls_version(const mg_dtls *d);
/* The peer certificate's fingerprint (sha-256 form) once connected; -1 before. */
int mg_dtls_peer_fingerprint(const mg_dtls *d, char *out, size_t cap);

/* Copies the SRTP keys into *keys (tx/rx set up for lib/srtp). 0, or -1 unless CONNECTED. */
int mg_dtls_srtp_keys(const mg_dtls *d, struct mg_dtls_srtp_keys *keys);

#ifdef __cplusplus
}
#endif

#endif
