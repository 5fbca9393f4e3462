/* SRTP / SRTCP (RFC 3711, RFC 6188, RFC 7714) on Intel IPsec-MB bursts.
 *
 * A context (mg_srtp_ctx) is one direction of one leg: one master key + salt, the session keys
 * derived from it for SRTP and SRTCP in IPsec-MB's expanded form, and per-SSRC state (ROC,
 * highest sequence number, replay window, SRTCP index) for up to MG_SRTP_SSRC_SLOTS SSRCs
 * (least recently used replaced, like libsrtp's ssrc_any template).
 *
 * An engine (mg_srtp_engine) belongs to one lcore: it owns the IPsec-MB manager and the scratch
 * space of a burst. The burst functions protect or unprotect N packets of any mix of contexts
 * and suites in place; they do not allocate, lock or make system calls.
 *
 * Neither contexts nor engines are thread safe: one lcore uses a given context at a time. */
#ifndef MG_SRTP_H
#define MG_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mg_srtp_suite {
	MG_SRTP_SUITE_NONE = 0,
	MG_SRTP_AES_CM_128_HMAC_SHA1_80,
	MG_SRTP_AES_CM_128_HMAC_SHA1_32,
	MG_SRTP_AES_256_CM_HMAC_SHA1_80,
	MG_SRTP_AES_256_CM_HMAC_SHA1_32,
	MG_SRTP_AEAD_AES_128_GCM,
	MG_SRTP_AEAD_AES_256_GCM,
	MG_SRTP_SUITE_COUNT
};

struct mg_srtp_suite_info {
	const char *name;      /* RFC 4568 / RFC 6188 / RFC 7714 a=crypto name */
	uint8_t key_len;       /* master (and session) encryption key, bytes */
	uint8_t salt_len;      /* master salt: 14 for AES-CM, 12 for AEAD */
	uint8_t srtp_tag_len;  /* authentication tag appended to SRTP */
	uint8_t srtcp_tag_len; /* SRTCP always uses an 80-bit tag for AES-CM (RFC 4568 6.2) */
	uint8_t is_aead;
};

/* NULL for an unknown suite. */
const struct mg_srtp_suite_info *mg_srtp_suite_info(enum mg_srtp_suite suite);
/* Exact, case-sensitive a=crypto name; MG_SRTP_SUITE_NONE if not one of the six. */
enum mg_srtp_suite mg_srtp_suite_by_name(const char *name, size_t name_len);

/* Per-packet result of the burst functions. */
enum mg_srtp_status {
	MG_SRTP_OK = 0,
	MG_SRTP_ERR_AUTH,	   /* tag mismatch: forged, corrupted or wrong key */
	MG_SRTP_ERR_REPLAY,	   /* index already seen inside the replay window */
	MG_SRTP_ERR_TOO_OLD,	   /* index older than the replay window */
	MG_SRTP_ERR_MALFORMED,	   /* too short, not version 2, header longer than the packet */
	MG_SRTP_ERR_KEY_EXHAUSTED, /* master key lifetime (packet count) reached: re-key */
	MG_SRTP_ERR_MKI,	   /* MKI in the packet is not this context's */
	MG_SRTP_ERR_NO_ROOM,	   /* protect: capacity smaller than len + tag + MKI */
	MG_SRTP_ERR_NO_CONTEXT,	   /* packet without a (initialised) context */
	MG_SRTP_ERR_INTERNAL,	   /* IPsec-MB refused the job (bug) */
	MG_SRTP_STATUS_COUNT
};

const char *mg_srtp_status_str(enum mg_srtp_status status);

/* Counters of one context (one leg, one direction); indexed by enum mg_srtp_status for the
 * failures. "forged" = MG_SRTP_ERR_AUTH. */
struct mg_srtp_counters {
	uint64_t srtp_ok; /* protected (sender) or authenticated (receiver) */
	uint64_t srtcp_ok;
	uint64_t failed[MG_SRTP_STATUS_COUNT]; /* [MG_SRTP_OK] unused */
	uint64_t ssrc_replaced;		       /* per-SSRC state evicted (LRU) for a new SSRC */
};

#define MG_SRTP_MAX_KEY_LEN  32
#define MG_SRTP_MAX_SALT_LEN 14
#define MG_SRTP_MAX_MKI_LEN  128 /* RFC 4568 allows 1..128 bytes */
#define MG_SRTP_MAX_TAG_LEN  16
/* Largest trailer protect adds: tag + MKI (+ 4 bytes SRTCP index for RTCP). */
#define MG_SRTP_MAX_TRAILER   (MG_SRTP_MAX_TAG_LEN + MG_SRTP_MAX_MKI_LEN + 4)
#define MG_SRTP_SSRC_SLOTS    4
#define MG_SRTP_REPLAY_WINDOW 128
/* RFC 3711 9.2: at most 2^48 SRTP and 2^31 SRTCP packets per master key. */
#define MG_SRTP_MAX_SRTP_PACKETS  (UINT64_C(1) << 48)
#define MG_SRTP_MAX_SRTCP_PACKETS (UINT64_C(1) << 31)

struct mg_srtp_key_params {
	enum mg_srtp_suite suite;
	const uint8_t *master_key;  /* suite key_len bytes */
	const uint8_t *master_salt; /* suite salt_len bytes */
	uint8_t mki_len;	    /* 0 = no MKI; else 1..MG_SRTP_MAX_MKI_LEN */
	uint8_t mki[MG_SRTP_MAX_MKI_LEN];
	/* a=crypto lifetime: packets allowed with this master key, for SRTP and SRTCP each;
	 * 0 = the RFC 3711 maximum (2^48 / 2^31); larger values are capped to it. */
	uint64_t lifetime;
};

/* Per-SSRC state, private to the implementation. RTP and RTCP halves are kept apart so the
 * RTP state of the first SSRC fits in line 0 of the context. */
struct mg_srtp_rtp_state {
	uint64_t window[2];   /* bit i = (highest index - i) received, 128 packets */
	uint32_t roc;	      /* rollover counter of the highest index */
	uint16_t highest_seq; /* receiver: highest authenticated; sender: highest sent */
	uint8_t started;
	uint8_t reserved;
};

struct mg_srtp_rtcp_state {
	uint64_t window[2];
	uint32_t index; /* sender: last SRTCP index sent; receiver: highest accepted */
	uint8_t started;
	uint8_t reserved[3];
};

/* Packed so that an AES-128 key set is exactly 4 cache lines: AES round keys (11 or 15 x
 * 16 B), the SHA-1 states after the HMAC inner and outer pad blocks (32 B each, 20 used),
 * then session salt || 00 00 (the IV base). */
struct mg_srtp_cm_keys {
	uint8_t bytes[16 * 15 + 32 + 32 + 16];
};

struct mg_srtp_gcm_keys {
	struct gcm_key_data key; /* round keys + GHASH powers */
	uint8_t salt[12];
};

union mg_srtp_session_keys {
	struct mg_srtp_cm_keys cm;
	struct mg_srtp_gcm_keys gcm;
} __attribute__((aligned(64)));

/* One direction of one leg. Fields are private: use the functions below. Line 0 holds all
 * an RTP packet of the first SSRC needs besides its keys (configuration, SSRC lookup, packet
 * budget, that SSRC's RTP state); then the other SSRCs, RTCP state and limits; then the SRTP
 * keys; SRTCP keys, failure counters and MKI last (cold). */
typedef struct mg_srtp_ctx {
	/* line 0 */
	uint8_t suite;
	uint8_t key_len;
	uint8_t srtp_tag_len;
	uint8_t srtcp_tag_len;
	uint8_t is_aead;
	uint8_t mki_len;
	uint8_t ssrc_in_use; /* bitmask of SSRC slots */
	uint8_t initialized;
	uint32_t ssrc_ids[MG_SRTP_SSRC_SLOTS];
	uint64_t srtp_remaining; /* SRTP packets this master key may still process */
	uint8_t ssrc_last_use[MG_SRTP_SSRC_SLOTS]; /* 8-bit LRU stamps (approximate, wrap) */
	uint8_t lru_clock;
	uint8_t reserved[3];
	struct mg_srtp_rtp_state rtp_first; /* RTP state of SSRC slot 0 */
	/* line 1 on */
	struct mg_srtp_rtp_state rtp_other[MG_SRTP_SSRC_SLOTS - 1]; /* slots 1.. */
	struct mg_srtp_rtcp_state rtcp[MG_SRTP_SSRC_SLOTS];
	uint64_t srtp_limit;
	uint32_t srtcp_remaining;
	uint32_t srtcp_limit;
	/* 128-byte aligned: the 4 lines of an AES-CM-128 key set are two adjacent-line pairs */
	union mg_srtp_session_keys srtp __attribute__((aligned(128)));
	union mg_srtp_session_keys srtcp;
	struct mg_srtp_counters counters;
	uint8_t mki[MG_SRTP_MAX_MKI_LEN]; /* only read when mki_len != 0 */
} __attribute__((aligned(64))) mg_srtp_ctx;

typedef struct mg_srtp_engine mg_srtp_engine;

enum mg_srtp_arch {
	MG_SRTP_ARCH_AUTO = 0, /* best the CPU has (IPsec-MB init_mb_mgr_auto) */
	MG_SRTP_ARCH_SSE,
	MG_SRTP_ARCH_AVX2,
	MG_SRTP_ARCH_AVX512,
};

/* Control path (allocates): one engine per lcore. NULL if the CPU lacks the arch (or AES-NI). */
mg_srtp_engine *mg_srtp_engine_create(enum mg_srtp_arch arch);
void mg_srtp_engine_destroy(mg_srtp_engine *engine);
/* e.g. "IPsec-MB 1.3.0 AVX512 (SHA-NI VAES VPCLMULQDQ)" */
const char *mg_srtp_engine_describe(const mg_srtp_engine *engine);
enum mg_srtp_arch mg_srtp_engine_arch(const mg_srtp_engine *engine);

/* Control path: derive the session keys (RFC 3711 4.3, kdr 0) and reset all state.
 * 0 on success, -EINVAL on bad parameters. The engine is only used for key expansion. */
int mg_srtp_ctx_init(mg_srtp_ctx *ctx, mg_srtp_engine *engine,
		     const struct mg_srtp_key_params *params);
/* Zero keys and state (before freeing or reusing the memory). */
void mg_srtp_ctx_wipe(mg_srtp_ctx *ctx);
/* Set the ROC for an SSRC (RFC 4568 re-key of a running stream, or signalled ROC). */
int mg_srtp_ctx_set_roc(mg_srtp_ctx *ctx, uint32_t ssrc, uint32_t roc);
/* ROC of an SSRC's current highest index (to persist session state); -ENOENT if unknown. */
int mg_srtp_ctx_get_roc(const mg_srtp_ctx *ctx, uint32_t ssrc, uint32_t *roc);

/* Stream state of a context for session snapshots (control path): per SSRC the ROC and
 * highest sequence number (RTP) and the SRTCP index, plus the packets used with the master
 * key. No key material. */
struct mg_srtp_ssrc_state {
	uint32_t ssrc;
	uint32_t roc;
	uint16_t highest_seq;
	uint8_t rtp_started;
	uint8_t rtcp_started;
	uint32_t srtcp_index; /* sender: last index sent; receiver: highest accepted */
};
struct mg_srtp_ctx_state {
	unsigned n_ssrc;
	struct mg_srtp_ssrc_state ssrc[MG_SRTP_SSRC_SLOTS];
	uint64_t srtp_used; /* SRTP packets processed with this master key */
	uint32_t srtcp_used;
};
/* Reads the state while the owning worker may be using the context: every field is read
 * with single loads and the ROC/sequence pair of an SSRC is re-read until two reads agree,
 * so a wrap in between cannot give a torn (ROC, sequence). -EINVAL if not initialised. */
int mg_srtp_ctx_export_state(const mg_srtp_ctx *ctx, struct mg_srtp_ctx_state *out);
/* Installs saved state into a freshly initialised context (before it is published): each
 * SSRC starts from the saved ROC and highest sequence number with an empty replay window,
 * SRTCP from the saved index; the packet budget is reduced by what was used. Margins
 * (e.g. for indexes this side generates) are the caller's choice. */
int mg_srtp_ctx_import_state(mg_srtp_ctx *ctx, const struct mg_srtp_ctx_state *in);
/* TESTS ONLY: lower the packet limits so key exhaustion can be tested. */
void mg_srtp_ctx_set_packet_limits_for_test(mg_srtp_ctx *ctx, uint64_t srtp_limit,
					    uint32_t srtcp_limit);
/* TESTS ONLY (RFC 7714 / RFC 3711 B.2 known-answer vectors): params->master_key and
 * master_salt are used directly as the session encryption key and salt of both SRTP and
 * SRTCP, with session_auth_key (20 bytes, AES-CM suites; may be NULL for AEAD). */
int mg_srtp_ctx_init_session_keys_for_test(mg_srtp_ctx *ctx, mg_srtp_engine *engine,
					   const struct mg_srtp_key_params *params,
					   const uint8_t *session_auth_key);
/* Snapshot of the counters (srtp_ok/srtcp_ok: packets processed with this master key). */
struct mg_srtp_counters mg_srtp_ctx_counters(const mg_srtp_ctx *ctx);

/* One packet of a burst: data points at the RTP (RTCP) header, len is its length.
 * protect: capacity = bytes writable from data (len + tag + MKI [+ 4 for SRTCP] needed);
 * unprotect: capacity is not used. On MG_SRTP_OK len is updated. */
struct mg_srtp_pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t capacity;
	mg_srtp_ctx *ctx;
};

/* Burst API. status[i] receives the enum mg_srtp_status of pkts[i]; returns the number of
 * packets with MG_SRTP_OK. Any n (processed in chunks internally). A packet that failed
 * unprotect never holds plaintext: its payload is zeroed. */
unsigned mg_srtp_protect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
			       uint8_t *status);
unsigned mg_srtp_unprotect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				 uint8_t *status);
unsigned mg_srtcp_protect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				uint8_t *status);
unsigned mg_srtcp_unprotect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				  uint8_t *status);

/* Optional: start fetching the contexts (and packet headers) of a burst that will be passed
 * to the burst functions later, e.g. the next burst while this one is processed. Only
 * prefetch instructions: no state is read or changed. The burst functions themselves
 * prefetch chunk k+1 while chunk k is processed when n > 32. */
void mg_srtp_prefetch_burst(const struct mg_srtp_pkt *pkts, unsigned n);
void mg_srtcp_prefetch_burst(const struct mg_srtp_pkt *pkts, unsigned n);

/* Debugging helpers: a burst of one. */
enum mg_srtp_status mg_srtp_protect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				    uint32_t *len, uint32_t capacity);
enum mg_srtp_status mg_srtp_unprotect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				      uint32_t *len);
enum mg_srtp_status mg_srtcp_protect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				     uint32_t *len, uint32_t capacity);
enum mg_srtp_status mg_srtcp_unprotect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				       uint32_t *len);

/* RFC 3711 4.3 key derivation (AES-CM PRF, kdr 0; AES-256 PRF for 32-byte keys per RFC 6188):
 * out = len bytes of the keystream for label. Exposed for the RFC B.3 test vectors. */
int mg_srtp_kdf(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt,
		size_t salt_len, uint8_t label, uint8_t *out, size_t len);

#ifdef __cplusplus
}
#endif

#endif
