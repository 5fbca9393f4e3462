/* SRTP / SRTCP engine on Intel IPsec-MB 1.3 bursts. See srtp.h and docs/srtp.md. */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "srtp.h"

/* Packets handled per IPsec-MB burst: enough to hide the multi-buffer lanes, small enough
 * that the prefetched contexts of one chunk stay in L1. */
#define CHUNK 32

#define RTP_HEADER_LEN	  12
#define RTCP_HEADER_LEN	  8
#define SRTCP_INDEX_LEN	  4
#define SRTCP_E_BIT	  0x80000000u
#define SRTCP_INDEX_MASK  0x7fffffffu
#define HMAC_SHA1_OUT_LEN 12 /* IPsec-MB 1.3 emits 12 or 20 bytes; we keep the first 10 or 4 */
#define GCM_TAG_LEN	  16

static const struct mg_srtp_suite_info suite_table[MG_SRTP_SUITE_COUNT] = {
    [MG_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, 0},
    [MG_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, 0},
    [MG_SRTP_AES_256_CM_HMAC_SHA1_80] = {"AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10, 0},
    [MG_SRTP_AES_256_CM_HMAC_SHA1_32] = {"AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10, 0},
    [MG_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 16, 12, 16, 16, 1},
    [MG_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 32, 12, 16, 16, 1},
};

const struct mg_srtp_suite_info *mg_srtp_suite_info(enum mg_srtp_suite suite)
{
	if (suite <= MG_SRTP_SUITE_NONE || suite >= MG_SRTP_SUITE_COUNT)
		return NULL;
	return &suite_table[suite];
}

enum mg_srtp_suite mg_srtp_suite_by_name(const char *name, size_t name_len)
{
	for (int s = MG_SRTP_SUITE_NONE + 1; s < MG_SRTP_SUITE_COUNT; s++)
		if (strlen(suite_table[s].name) == name_len &&
		    memcmp(suite_table[s].name, name, name_len) == 0)
			return (enum mg_srtp_suite)s;
	return MG_SRTP_SUITE_NONE;
}

const char *mg_srtp_status_str(enum mg_srtp_status status)
{
	switch (status) {
	case MG_SRTP_OK:
		return "ok";
	case MG_SRTP_ERR_AUTH:
		return "authentication failed";
	case MG_SRTP_ERR_REPLAY:
		return "replayed";
	case MG_SRTP_ERR_TOO_OLD:
		return "too old";
	case MG_SRTP_ERR_MALFORMED:
		return "malformed packet";
	case MG_SRTP_ERR_KEY_EXHAUSTED:
		return "master key lifetime exhausted";
	case MG_SRTP_ERR_MKI:
		return "unknown MKI";
	case MG_SRTP_ERR_NO_ROOM:
		return "no room for the trailer";
	case MG_SRTP_ERR_NO_CONTEXT:
		return "no context";
	case MG_SRTP_ERR_INTERNAL:
		return "internal error";
	default:
		return "unknown status";
	}
}

/* ---------------------------------------------------------------- engine */

/* Scratch of one packet of a chunk: lives until the chunk is flushed. */
struct packet_scratch {
	uint8_t iv[16];
	uint8_t computed_tag[32];
	uint8_t aad[16]; /* SRTCP AEAD: header || E+index, not contiguous in the packet */
	uint64_t index;	 /* SRTP 48-bit index or SRTCP 31-bit index */
	uint32_t enc_start;
	uint32_t enc_len;
	uint32_t ssrc;
	int8_t state_slot; /* receiver: -1 = SSRC not installed yet (installed once authentic) */
} __attribute__((aligned(64)));

struct mg_srtp_engine {
	IMB_MGR *mgr;
	enum mg_srtp_arch arch;
	/* the parts of struct gcm_key_data this arch's GCM code reads for a short packet:
	 * round keys at the start, GHASH key powers where the arch keeps them */
	uint16_t gcm_hot_head_end;   /* [0, head_end) */
	uint16_t gcm_hot_tail_start; /* [tail_start, sizeof(struct gcm_key_data)) */
	char description[160];
	IMB_JOB *jobs[CHUNK];
	struct packet_scratch scratch[CHUNK];
};

static const char *imb_arch_name(IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_SSE:
		return "SSE";
	case IMB_ARCH_AVX:
		return "AVX";
	case IMB_ARCH_AVX2:
		return "AVX2";
	case IMB_ARCH_AVX512:
		return "AVX512";
	default:
		return "none";
	}
}

mg_srtp_engine *mg_srtp_engine_create(enum mg_srtp_arch arch)
{
	mg_srtp_engine *engine = aligned_alloc(64, (sizeof(*engine) + 63) & ~(size_t)63);
	if (!engine)
		return NULL;
	memset(engine, 0, sizeof(*engine));
	engine->mgr = alloc_mb_mgr(0);
	if (!engine->mgr)
		goto fail;

	const uint64_t features = engine->mgr->features;
	IMB_ARCH imb_arch = IMB_ARCH_NONE;
	switch (arch) {
	case MG_SRTP_ARCH_AUTO:
		init_mb_mgr_auto(engine->mgr, &imb_arch);
		break;
	case MG_SRTP_ARCH_SSE:
		if ((features & IMB_CPUFLAGS_SSE) != IMB_CPUFLAGS_SSE)
			goto fail;
		init_mb_mgr_sse(engine->mgr);
		imb_arch = IMB_ARCH_SSE;
		break;
	case MG_SRTP_ARCH_AVX2:
		if ((features & IMB_CPUFLAGS_AVX2) != IMB_CPUFLAGS_AVX2)
			goto fail;
		init_mb_mgr_avx2(engine->mgr);
		imb_arch = IMB_ARCH_AVX2;
		break;
	case MG_SRTP_ARCH_AVX512:
		if ((features & IMB_CPUFLAGS_AVX512) != IMB_CPUFLAGS_AVX512)
			goto fail;
		init_mb_mgr_avx512(engine->mgr);
		imb_arch = IMB_ARCH_AVX512;
		break;
	default:
		goto fail;
	}
	if (imb_get_errno(engine->mgr) != 0 || imb_arch == IMB_ARCH_NONE ||
	    imb_arch == IMB_ARCH_NOAESNI)
		goto fail;
	switch (imb_arch) {
	case IMB_ARCH_AVX512:
		engine->arch = MG_SRTP_ARCH_AVX512;
		break;
	case IMB_ARCH_AVX2:
		engine->arch = MG_SRTP_ARCH_AVX2;
		break;
	default:
		engine->arch = MG_SRTP_ARCH_SSE;
		break;
	}
	/* IPsec-MB 1.3 key layouts (gcm_keys_*.asm): VAES-AVX512 stores H^48..H^1 at the end
	 * (H^k at 16 * (63 - k)), a 160-byte packet needs H^11..H^1; AVX2/AVX512 keep H^1..H^8
	 * after the round keys, SSE/AVX also the Karatsuba halves. */
	if (imb_arch == IMB_ARCH_AVX512 && (features & IMB_FEATURE_VAES)) {
		engine->gcm_hot_head_end = 16 * 15;
		engine->gcm_hot_tail_start = 16 * (63 - 11);
	} else if (imb_arch == IMB_ARCH_AVX512 || imb_arch == IMB_ARCH_AVX2) {
		engine->gcm_hot_head_end = 16 * 23;
		engine->gcm_hot_tail_start = sizeof(struct gcm_key_data);
	} else {
		engine->gcm_hot_head_end = 16 * 31;
		engine->gcm_hot_tail_start = sizeof(struct gcm_key_data);
	}
	snprintf(engine->description, sizeof(engine->description), "IPsec-MB %s %s (%s%s%s%s)",
		 imb_get_version_str(), imb_arch_name(imb_arch),
		 features & IMB_FEATURE_AESNI ? "AES-NI " : "",
		 features & IMB_FEATURE_SHANI ? "SHA-NI " : "",
		 features & IMB_FEATURE_VAES ? "VAES " : "",
		 features & IMB_FEATURE_VPCLMULQDQ ? "VPCLMULQDQ" : "");
	return engine;
fail:
	if (engine->mgr)
		free_mb_mgr(engine->mgr);
	free(engine);
	return NULL;
}

void mg_srtp_engine_destroy(mg_srtp_engine *engine)
{
	if (!engine)
		return;
	free_mb_mgr(engine->mgr);
	OPENSSL_cleanse(engine->scratch, sizeof(engine->scratch));
	free(engine);
}

const char *mg_srtp_engine_describe(const mg_srtp_engine *engine)
{
	return engine->description;
}

enum mg_srtp_arch mg_srtp_engine_arch(const mg_srtp_engine *engine)
{
	return engine->arch;
}

/* ---------------------------------------------------------------- context setup */

/* Layout of struct mg_srtp_cm_keys for a given AES key length. */
static inline unsigned cm_round_keys_len(unsigned key_len)
{
	return key_len == 16 ? 11 * 16 : 15 * 16;
}

static inline const uint8_t *cm_ipad(const union mg_srtp_session_keys *keys, unsigned key_len)
{
	return keys->cm.bytes + cm_round_keys_len(key_len);
}

static inline const uint8_t *cm_opad(const union mg_srtp_session_keys *keys, unsigned key_len)
{
	return keys->cm.bytes + cm_round_keys_len(key_len) + 32;
}

static inline const uint8_t *cm_salt_iv(const union mg_srtp_session_keys *keys, unsigned key_len)
{
	return keys->cm.bytes + cm_round_keys_len(key_len) + 64;
}

/* Loads session keys into IPsec-MB's expanded form. */
static int load_session_keys(mg_srtp_engine *engine, union mg_srtp_session_keys *keys,
			     const struct mg_srtp_suite_info *info, const uint8_t *enc_key,
			     const uint8_t *auth_key, const uint8_t *salt)
{
	DECLARE_ALIGNED(uint8_t dec_round_keys[16 * 15], 16);
	memset(keys, 0, sizeof(*keys));
	if (info->is_aead) {
		if (info->key_len == 16)
			IMB_AES128_GCM_PRE(engine->mgr, enc_key, &keys->gcm.key);
		else
			IMB_AES256_GCM_PRE(engine->mgr, enc_key, &keys->gcm.key);
		memcpy(keys->gcm.salt, salt, 12);
	} else {
		if (info->key_len == 16)
			IMB_AES_KEYEXP_128(engine->mgr, enc_key, keys->cm.bytes, dec_round_keys);
		else
			IMB_AES_KEYEXP_256(engine->mgr, enc_key, keys->cm.bytes, dec_round_keys);
		/* HMAC: precompute the SHA-1 state after the inner and outer pad blocks */
		uint8_t block[64];
		memset(block, 0x36, sizeof(block));
		for (int i = 0; i < 20; i++)
			block[i] ^= auth_key[i];
		IMB_SHA1_ONE_BLOCK(engine->mgr, block, (uint8_t *)cm_ipad(keys, info->key_len));
		memset(block, 0x5c, sizeof(block));
		for (int i = 0; i < 20; i++)
			block[i] ^= auth_key[i];
		IMB_SHA1_ONE_BLOCK(engine->mgr, block, (uint8_t *)cm_opad(keys, info->key_len));
		OPENSSL_cleanse(block, sizeof(block));
		memcpy((uint8_t *)cm_salt_iv(keys, info->key_len), salt, 14);
	}
	OPENSSL_cleanse(dec_round_keys, sizeof(dec_round_keys));
	return imb_get_errno(engine->mgr) != 0 ? -EIO : 0;
}

/* Derives (RFC 3711 4.3.2 labels from label_base) and loads one set of session keys. */
static int expand_session_keys(mg_srtp_engine *engine, union mg_srtp_session_keys *keys,
			       const struct mg_srtp_suite_info *info, const uint8_t *master_key,
			       const uint8_t *master_salt, uint8_t label_base)
{
	uint8_t enc_key[32], auth_key[20] = {0}, salt[14] = {0};
	int rc = mg_srtp_kdf(master_key, info->key_len, master_salt, info->salt_len, label_base,
			     enc_key, info->key_len);
	rc = rc ? rc
		: mg_srtp_kdf(master_key, info->key_len, master_salt, info->salt_len,
			      label_base + 2, salt, info->is_aead ? 12 : 14);
	if (!rc && !info->is_aead)
		rc = mg_srtp_kdf(master_key, info->key_len, master_salt, info->salt_len,
				 label_base + 1, auth_key, sizeof(auth_key));
	if (!rc)
		rc = load_session_keys(engine, keys, info, enc_key, auth_key, salt);
	OPENSSL_cleanse(enc_key, sizeof(enc_key));
	OPENSSL_cleanse(auth_key, sizeof(auth_key));
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc;
}

static int init_config(mg_srtp_ctx *ctx, const struct mg_srtp_key_params *params,
		       const struct mg_srtp_suite_info **info_out)
{
	if (!ctx || !params)
		return -EINVAL;
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(params->suite);
	if (!info || !params->master_key || !params->master_salt ||
	    params->mki_len > MG_SRTP_MAX_MKI_LEN)
		return -EINVAL;
	mg_srtp_ctx_wipe(ctx);
	ctx->suite = (uint8_t)params->suite;
	ctx->key_len = info->key_len;
	ctx->srtp_tag_len = info->srtp_tag_len;
	ctx->srtcp_tag_len = info->srtcp_tag_len;
	ctx->is_aead = info->is_aead;
	ctx->mki_len = params->mki_len;
	memcpy(ctx->mki, params->mki, params->mki_len);
	ctx->srtp_limit = MG_SRTP_MAX_SRTP_PACKETS;
	ctx->srtcp_limit = (uint32_t)MG_SRTP_MAX_SRTCP_PACKETS;
	if (params->lifetime && params->lifetime < ctx->srtp_limit)
		ctx->srtp_limit = params->lifetime;
	if (params->lifetime && params->lifetime < ctx->srtcp_limit)
		ctx->srtcp_limit = (uint32_t)params->lifetime;
	ctx->srtp_remaining = ctx->srtp_limit;
	ctx->srtcp_remaining = ctx->srtcp_limit;
	*info_out = info;
	return 0;
}

int mg_srtp_ctx_init_session_keys_for_test(mg_srtp_ctx *ctx, mg_srtp_engine *engine,
					   const struct mg_srtp_key_params *params,
					   const uint8_t *session_auth_key)
{
	const struct mg_srtp_suite_info *info;
	static const uint8_t no_auth_key[20];
	if (!engine || init_config(ctx, params, &info) != 0)
		return -EINVAL;
	if (!session_auth_key)
		session_auth_key = no_auth_key;
	int rc = load_session_keys(engine, &ctx->srtp, info, params->master_key, session_auth_key,
				   params->master_salt);
	if (!rc)
		rc = load_session_keys(engine, &ctx->srtcp, info, params->master_key,
				       session_auth_key, params->master_salt);
	if (rc) {
		mg_srtp_ctx_wipe(ctx);
		return rc;
	}
	ctx->initialized = 1;
	return 0;
}

int mg_srtp_ctx_init(mg_srtp_ctx *ctx, mg_srtp_engine *engine,
		     const struct mg_srtp_key_params *params)
{
	const struct mg_srtp_suite_info *info;
	if (!engine || init_config(ctx, params, &info) != 0)
		return -EINVAL;

	/* labels: 0x00..0x02 SRTP, 0x03..0x05 SRTCP (RFC 3711 4.3.2) */
	int rc = expand_session_keys(engine, &ctx->srtp, info, params->master_key,
				     params->master_salt, 0x00);
	if (!rc)
		rc = expand_session_keys(engine, &ctx->srtcp, info, params->master_key,
					 params->master_salt, 0x03);
	if (rc) {
		mg_srtp_ctx_wipe(ctx);
		return rc;
	}
	ctx->initialized = 1;
	return 0;
}

void mg_srtp_ctx_wipe(mg_srtp_ctx *ctx)
{
	if (ctx)
		OPENSSL_cleanse(ctx, sizeof(*ctx));
}

void mg_srtp_ctx_set_packet_limits_for_test(mg_srtp_ctx *ctx, uint64_t srtp_limit,
					    uint32_t srtcp_limit)
{
	uint64_t srtp_used = ctx->srtp_limit - ctx->srtp_remaining;
	uint32_t srtcp_used = ctx->srtcp_limit - ctx->srtcp_remaining;
	ctx->srtp_limit = srtp_limit;
	ctx->srtcp_limit = srtcp_limit;
	ctx->srtp_remaining = srtp_limit > srtp_used ? srtp_limit - srtp_used : 0;
	ctx->srtcp_remaining = srtcp_limit > srtcp_used ? srtcp_limit - srtcp_used : 0;
}

struct mg_srtp_counters mg_srtp_ctx_counters(const mg_srtp_ctx *ctx)
{
	/* the ok counts are the lifetime counters on line 0: no extra line per packet */
	struct mg_srtp_counters counters = ctx->counters;
	counters.srtp_ok = ctx->srtp_limit - ctx->srtp_remaining;
	counters.srtcp_ok = ctx->srtcp_limit - ctx->srtcp_remaining;
	return counters;
}

/* ---------------------------------------------------------------- per-SSRC state */

/* RTP state of an SSRC slot: slot 0 lives in line 0 of the context. */
static inline struct mg_srtp_rtp_state *rtp_state(mg_srtp_ctx *ctx, int slot)
{
	return slot == 0 ? &ctx->rtp_first : &ctx->rtp_other[slot - 1];
}

static inline int find_ssrc_slot(const mg_srtp_ctx *ctx, uint32_t ssrc)
{
	for (int i = 0; i < MG_SRTP_SSRC_SLOTS; i++)
		if ((ctx->ssrc_in_use & (1u << i)) && ctx->ssrc_ids[i] == ssrc)
			return i;
	return -1;
}

/* Installs a fresh state for ssrc, replacing the least recently used one if all are taken. */
static int install_ssrc_slot(mg_srtp_ctx *ctx, uint32_t ssrc)
{
	int victim = 0;
	for (int i = 0; i < MG_SRTP_SSRC_SLOTS; i++) {
		if (!(ctx->ssrc_in_use & (1u << i))) {
			victim = i;
			goto take;
		}
		if ((int8_t)(uint8_t)(ctx->ssrc_last_use[i] - ctx->ssrc_last_use[victim]) < 0)
			victim = i;
	}
	ctx->counters.ssrc_replaced++;
take:
	memset(rtp_state(ctx, victim), 0, sizeof(struct mg_srtp_rtp_state));
	memset(&ctx->rtcp[victim], 0, sizeof(ctx->rtcp[victim]));
	ctx->ssrc_ids[victim] = ssrc;
	ctx->ssrc_in_use |= (uint8_t)(1u << victim);
	return victim;
}

static inline void touch_slot(mg_srtp_ctx *ctx, int slot)
{
	ctx->ssrc_last_use[slot] = ++ctx->lru_clock;
}

int mg_srtp_ctx_set_roc(mg_srtp_ctx *ctx, uint32_t ssrc, uint32_t roc)
{
	if (!ctx || !ctx->initialized)
		return -EINVAL;
	int slot = find_ssrc_slot(ctx, ssrc);
	if (slot < 0)
		slot = install_ssrc_slot(ctx, ssrc);
	touch_slot(ctx, slot);
	struct mg_srtp_rtp_state *state = rtp_state(ctx, slot);
	state->roc = roc;
	state->highest_seq = 0;
	state->started = 0;
	state->window[0] = state->window[1] = 0;
	return 0;
}

int mg_srtp_ctx_get_roc(const mg_srtp_ctx *ctx, uint32_t ssrc, uint32_t *roc)
{
	int slot = ctx ? find_ssrc_slot(ctx, ssrc) : -1;
	if (slot < 0)
		return -ENOENT;
	*roc = rtp_state((mg_srtp_ctx *)ctx, slot)->roc;
	return 0;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

int mg_srtp_ctx_export_state(const mg_srtp_ctx *ctx, struct mg_srtp_ctx_state *out)
{
	memset(out, 0, sizeof(*out));
	if (!ctx || !ctx->initialized)
		return -EINVAL;
	uint8_t in_use = LOAD(ctx->ssrc_in_use);
	for (int slot = 0; slot < MG_SRTP_SSRC_SLOTS; slot++) {
		if (!(in_use & (1u << slot)))
			continue;
		const struct mg_srtp_rtp_state *rs = rtp_state((mg_srtp_ctx *)ctx, slot);
		struct mg_srtp_ssrc_state *o = &out->ssrc[out->n_ssrc++];
		o->ssrc = LOAD(ctx->ssrc_ids[slot]);
		/* the worker writes roc then highest_seq; two equal reads in a row are a
		 * consistent pair (a packet every few ms cannot race this many times) */
		uint32_t roc = LOAD(rs->roc);
		uint16_t seq = LOAD(rs->highest_seq);
		for (int tries = 0; tries < 16; tries++) {
			uint32_t roc2 = LOAD(rs->roc);
			uint16_t seq2 = LOAD(rs->highest_seq);
			if (roc2 == roc && seq2 == seq)
				break;
			roc = roc2;
			seq = seq2;
		}
		o->roc = roc;
		o->highest_seq = seq;
		o->rtp_started = LOAD(rs->started);
		o->srtcp_index = LOAD(ctx->rtcp[slot].index);
		o->rtcp_started = LOAD(ctx->rtcp[slot].started);
	}
	out->srtp_used = ctx->srtp_limit - LOAD(ctx->srtp_remaining);
	out->srtcp_used = ctx->srtcp_limit - LOAD(ctx->srtcp_remaining);
	return 0;
}

int mg_srtp_ctx_import_state(mg_srtp_ctx *ctx, const struct mg_srtp_ctx_state *in)
{
	if (!ctx || !ctx->initialized || !in || in->n_ssrc > MG_SRTP_SSRC_SLOTS)
		return -EINVAL;
	for (unsigned i = 0; i < in->n_ssrc; i++) {
		const struct mg_srtp_ssrc_state *st = &in->ssrc[i];
		int slot = find_ssrc_slot(ctx, st->ssrc);
		if (slot < 0)
			slot = install_ssrc_slot(ctx, st->ssrc);
		touch_slot(ctx, slot);
		struct mg_srtp_rtp_state *rs = rtp_state(ctx, slot);
		rs->roc = st->roc;
		rs->highest_seq = st->highest_seq;
		rs->started = st->rtp_started ? 1 : 0;
		rs->window[0] = rs->window[1] = 0; /* replay window reset */
		struct mg_srtp_rtcp_state *cs = &ctx->rtcp[slot];
		cs->index = st->srtcp_index & SRTCP_INDEX_MASK;
		cs->started = st->rtcp_started ? 1 : 0;
		cs->window[0] = cs->window[1] = 0;
	}
	ctx->srtp_remaining = in->srtp_used < ctx->srtp_limit ? ctx->srtp_limit - in->srtp_used : 0;
	ctx->srtcp_remaining =
	    in->srtcp_used < ctx->srtcp_limit ? ctx->srtcp_limit - in->srtcp_used : 0;
	return 0;
}

/* RFC 3711 Appendix A: guess the index of seq from the highest index seen. Returns false if
 * the guess would lie before index 0. */
static inline bool estimate_rtp_index(const struct mg_srtp_rtp_state *state, uint16_t seq,
				      uint64_t *index)
{
	uint32_t roc = state->roc;
	if (state->started) {
		uint16_t s_l = state->highest_seq;
		if (s_l < 0x8000) {
			if ((int)seq - (int)s_l > 0x8000) {
				if (roc == 0)
					return false;
				roc--;
			}
		} else if ((int)s_l - 0x8000 > (int)seq) {
			roc++;
		}
	}
	*index = (uint64_t)roc << 16 | seq;
	return true;
}

static inline uint64_t highest_rtp_index(const struct mg_srtp_rtp_state *state)
{
	return (uint64_t)state->roc << 16 | state->highest_seq;
}

/* RFC 3711 3.3.2 replay check against a 128-packet window below the highest index. */
static inline enum mg_srtp_status replay_check(bool started, uint64_t highest,
					       const uint64_t window[2], uint64_t index)
{
	if (!started || index > highest)
		return MG_SRTP_OK;
	uint64_t behind = highest - index;
	if (behind >= MG_SRTP_REPLAY_WINDOW)
		return MG_SRTP_ERR_TOO_OLD;
	uint64_t bit = behind < 64 ? window[0] >> behind : window[1] >> (behind - 64);
	return (bit & 1) ? MG_SRTP_ERR_REPLAY : MG_SRTP_OK;
}

/* Marks index as received; returns true if it became the new highest. */
static inline bool replay_commit(bool started, uint64_t highest, uint64_t window[2], uint64_t index)
{
	if (!started) {
		window[0] = 1;
		window[1] = 0;
		return true;
	}
	if (index > highest) {
		uint64_t shift = index - highest;
		if (shift >= 128) {
			window[1] = 0;
			window[0] = 0;
		} else if (shift >= 64) {
			window[1] = shift == 64 ? window[0] : window[0] << (shift - 64);
			window[0] = 0;
		} else {
			window[1] = (window[1] << shift) | (window[0] >> (64 - shift));
			window[0] <<= shift;
		}
		window[0] |= 1;
		return true;
	}
	uint64_t behind = highest - index;
	if (behind < 64)
		window[0] |= UINT64_C(1) << behind;
	else
		window[1] |= UINT64_C(1) << (behind - 64);
	return false;
}

/* ---------------------------------------------------------------- packet helpers */

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RTP header length (fixed + CSRCs + extension) or 0 if it does not fit in len. */
static inline uint32_t rtp_header_len(const uint8_t *data, uint32_t len)
{
	if (len < RTP_HEADER_LEN || (data[0] >> 6) != 2)
		return 0;
	uint32_t header_len = RTP_HEADER_LEN + 4u * (data[0] & 0x0f);
	if (data[0] & 0x10) {
		if (header_len + 4 > len)
			return 0;
		header_len += 4 + 4u * load_be16(data + header_len + 2);
	}
	return header_len <= len ? header_len : 0;
}

static inline bool ct_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint8_t diff = 0;
	for (unsigned i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* RFC 3711 4.1.1 IV: (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). */
static inline void cm_iv(uint8_t iv[16], const uint8_t salt_iv[16], uint32_t ssrc, uint64_t index)
{
	memcpy(iv, salt_iv, 16);
	iv[4] ^= (uint8_t)(ssrc >> 24);
	iv[5] ^= (uint8_t)(ssrc >> 16);
	iv[6] ^= (uint8_t)(ssrc >> 8);
	iv[7] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/* RFC 7714 8.1 / 9.1 IV: 00 00 || SSRC || 48-bit index (ROC||SEQ, or 0 || SRTCP index),
 * XOR the 96-bit session salt. */
static inline void gcm_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint64_t index)
{
	memcpy(iv, salt, 12);
	iv[2] ^= (uint8_t)(ssrc >> 24);
	iv[3] ^= (uint8_t)(ssrc >> 16);
	iv[4] ^= (uint8_t)(ssrc >> 8);
	iv[5] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[6 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

static inline void fill_cm_job(IMB_JOB *job, const mg_srtp_ctx *ctx,
			       const union mg_srtp_session_keys *keys, uint8_t *data,
			       struct packet_scratch *scratch, uint32_t hashed_len, bool protect)
{
	job->key_len_in_bytes = ctx->key_len;
	job->src = data;
	job->dst = data + scratch->enc_start;
	job->cipher_start_src_offset_in_bytes = scratch->enc_start;
	job->msg_len_to_cipher_in_bytes = scratch->enc_len;
	/* an empty payload has nothing to encrypt; IPsec-MB rejects zero-length CTR jobs */
	job->cipher_mode = scratch->enc_len ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
	job->cipher_direction = protect ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = protect ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = keys->cm.bytes;
	job->dec_keys = keys->cm.bytes; /* CTR decrypts with the encryption schedule */
	job->iv = scratch->iv;
	job->iv_len_in_bytes = 16;
	job->hash_alg = IMB_AUTH_HMAC_SHA_1;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = hashed_len;
	job->auth_tag_output = scratch->computed_tag;
	job->auth_tag_output_len_in_bytes = HMAC_SHA1_OUT_LEN;
	job->u.HMAC._hashed_auth_key_xor_ipad = cm_ipad(keys, ctx->key_len);
	job->u.HMAC._hashed_auth_key_xor_opad = cm_opad(keys, ctx->key_len);
}

static inline void fill_gcm_job(IMB_JOB *job, const mg_srtp_ctx *ctx,
				const union mg_srtp_session_keys *keys, uint8_t *data,
				struct packet_scratch *scratch, const uint8_t *aad,
				uint32_t aad_len, uint8_t *tag_out, bool protect)
{
	job->key_len_in_bytes = ctx->key_len;
	job->src = data;
	job->dst = data + scratch->enc_start;
	job->cipher_start_src_offset_in_bytes = scratch->enc_start;
	job->msg_len_to_cipher_in_bytes = scratch->enc_len;
	job->cipher_mode = IMB_CIPHER_GCM;
	job->cipher_direction = protect ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = protect ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = &keys->gcm.key;
	job->dec_keys = &keys->gcm.key;
	job->iv = scratch->iv;
	job->iv_len_in_bytes = 12;
	job->hash_alg = IMB_AUTH_AES_GMAC;
	job->hash_start_src_offset_in_bytes = scratch->enc_start;
	job->msg_len_to_hash_in_bytes = scratch->enc_len;
	job->u.GCM.aad = aad;
	job->u.GCM.aad_len_in_bytes = aad_len;
	job->auth_tag_output = tag_out;
	job->auth_tag_output_len_in_bytes = GCM_TAG_LEN;
}

/* ---------------------------------------------------------------- prepare (before crypto) */

static inline enum mg_srtp_status prepare_rtp_protect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
						      IMB_JOB *job, struct packet_scratch *scratch)
{
	uint8_t *data = pkt->data;
	uint32_t header_len = rtp_header_len(data, pkt->len);
	if (!header_len)
		return MG_SRTP_ERR_MALFORMED;
	if ((uint64_t)pkt->len + ctx->srtp_tag_len + ctx->mki_len > pkt->capacity)
		return MG_SRTP_ERR_NO_ROOM;
	if (ctx->srtp_remaining == 0)
		return MG_SRTP_ERR_KEY_EXHAUSTED;

	uint32_t ssrc = load_be32(data + 8);
	int slot = find_ssrc_slot(ctx, ssrc);
	if (slot < 0)
		slot = install_ssrc_slot(ctx, ssrc);
	touch_slot(ctx, slot);
	struct mg_srtp_rtp_state *state = rtp_state(ctx, slot);
	uint64_t index;
	if (!estimate_rtp_index(state, load_be16(data + 2), &index))
		return MG_SRTP_ERR_TOO_OLD;
	/* the sender keeps the highest index it sent so the ROC follows the sequence wrap */
	if (!state->started || index > highest_rtp_index(state)) {
		state->roc = (uint32_t)(index >> 16);
		state->highest_seq = (uint16_t)index;
		state->started = 1;
	}
	ctx->srtp_remaining--;

	scratch->index = index;
	scratch->enc_start = header_len;
	scratch->enc_len = pkt->len - header_len;
	if (ctx->is_aead) {
		gcm_iv(scratch->iv, ctx->srtp.gcm.salt, ssrc, index);
		fill_gcm_job(job, ctx, &ctx->srtp, data, scratch, data, header_len, data + pkt->len,
			     true);
	} else {
		cm_iv(scratch->iv, cm_salt_iv(&ctx->srtp, ctx->key_len), ssrc, index);
		/* authenticated portion = header || encrypted payload || ROC */
		store_be32(data + pkt->len, (uint32_t)(index >> 16));
		fill_cm_job(job, ctx, &ctx->srtp, data, scratch, pkt->len + 4, true);
	}
	return MG_SRTP_OK;
}

static inline enum mg_srtp_status prepare_rtp_unprotect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
							IMB_JOB *job,
							struct packet_scratch *scratch)
{
	uint8_t *data = pkt->data;
	uint32_t trailer = ctx->srtp_tag_len + ctx->mki_len;
	if (pkt->len < RTP_HEADER_LEN + trailer)
		return MG_SRTP_ERR_MALFORMED;
	uint32_t protected_end = pkt->len - trailer;
	uint32_t header_len = rtp_header_len(data, protected_end);
	if (!header_len)
		return MG_SRTP_ERR_MALFORMED;
	/* AES-CM: ... || MKI || tag;  AEAD (RFC 7714): ... || tag || MKI */
	const uint8_t *mki = ctx->is_aead ? data + pkt->len - ctx->mki_len : data + protected_end;
	if (ctx->mki_len && !ct_equal(mki, ctx->mki, ctx->mki_len))
		return MG_SRTP_ERR_MKI;
	if (ctx->srtp_remaining == 0)
		return MG_SRTP_ERR_KEY_EXHAUSTED;

	uint32_t ssrc = load_be32(data + 8);
	int slot = find_ssrc_slot(ctx, ssrc);
	static const struct mg_srtp_rtp_state fresh_state;
	const struct mg_srtp_rtp_state *state = slot >= 0 ? rtp_state(ctx, slot) : &fresh_state;
	uint64_t index;
	if (!estimate_rtp_index(state, load_be16(data + 2), &index))
		return MG_SRTP_ERR_TOO_OLD;
	enum mg_srtp_status replay =
	    replay_check(state->started, highest_rtp_index(state), state->window, index);
	if (replay != MG_SRTP_OK)
		return replay;

	scratch->index = index;
	scratch->ssrc = ssrc;
	scratch->state_slot = (int8_t)slot;
	scratch->enc_start = header_len;
	scratch->enc_len = protected_end - header_len;
	if (ctx->is_aead) {
		gcm_iv(scratch->iv, ctx->srtp.gcm.salt, ssrc, index);
		fill_gcm_job(job, ctx, &ctx->srtp, data, scratch, data, header_len,
			     scratch->computed_tag, false);
	} else {
		cm_iv(scratch->iv, cm_salt_iv(&ctx->srtp, ctx->key_len), ssrc, index);
		/* the received tag is about to be overwritten by the ROC: keep a copy */
		memcpy(scratch->aad, data + pkt->len - ctx->srtp_tag_len, ctx->srtp_tag_len);
		store_be32(data + protected_end, (uint32_t)(index >> 16));
		fill_cm_job(job, ctx, &ctx->srtp, data, scratch, protected_end + 4, false);
	}
	return MG_SRTP_OK;
}

static inline enum mg_srtp_status prepare_rtcp_protect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
						       IMB_JOB *job, struct packet_scratch *scratch)
{
	uint8_t *data = pkt->data;
	if (pkt->len < RTCP_HEADER_LEN || (data[0] >> 6) != 2)
		return MG_SRTP_ERR_MALFORMED;
	if ((uint64_t)pkt->len + SRTCP_INDEX_LEN + ctx->srtcp_tag_len + ctx->mki_len >
	    pkt->capacity)
		return MG_SRTP_ERR_NO_ROOM;
	if (ctx->srtcp_remaining == 0)
		return MG_SRTP_ERR_KEY_EXHAUSTED;
	uint32_t ssrc = load_be32(data + 4);
	int slot = find_ssrc_slot(ctx, ssrc);
	if (slot < 0)
		slot = install_ssrc_slot(ctx, ssrc);
	touch_slot(ctx, slot);
	struct mg_srtp_rtcp_state *state = &ctx->rtcp[slot];
	/* libsrtp and RFC 3711: the first SRTCP index sent is 1; 2^31 - 1 is the last */
	if (state->index >= SRTCP_INDEX_MASK)
		return MG_SRTP_ERR_KEY_EXHAUSTED;
	uint32_t index = ++state->index;
	state->started = 1;
	ctx->srtcp_remaining--;

	scratch->index = index;
	scratch->enc_start = RTCP_HEADER_LEN;
	scratch->enc_len = pkt->len - RTCP_HEADER_LEN;
	if (ctx->is_aead) {
		/* RFC 7714 9: AAD = header || E+index; trailer = tag || E+index || MKI */
		gcm_iv(scratch->iv, ctx->srtcp.gcm.salt, ssrc, index);
		memcpy(scratch->aad, data, RTCP_HEADER_LEN);
		store_be32(scratch->aad + RTCP_HEADER_LEN, SRTCP_E_BIT | index);
		fill_gcm_job(job, ctx, &ctx->srtcp, data, scratch, scratch->aad,
			     RTCP_HEADER_LEN + SRTCP_INDEX_LEN, data + pkt->len, true);
	} else {
		/* trailer = E+index || MKI || tag; the tag covers header || payload || E+index */
		cm_iv(scratch->iv, cm_salt_iv(&ctx->srtcp, ctx->key_len), ssrc, index);
		store_be32(data + pkt->len, SRTCP_E_BIT | index);
		fill_cm_job(job, ctx, &ctx->srtcp, data, scratch, pkt->len + SRTCP_INDEX_LEN, true);
	}
	return MG_SRTP_OK;
}

static inline enum mg_srtp_status prepare_rtcp_unprotect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
							 IMB_JOB *job,
							 struct packet_scratch *scratch)
{
	uint8_t *data = pkt->data;
	uint32_t trailer = SRTCP_INDEX_LEN + ctx->srtcp_tag_len + ctx->mki_len;
	if (pkt->len < RTCP_HEADER_LEN + trailer || (data[0] >> 6) != 2)
		return MG_SRTP_ERR_MALFORMED;
	uint32_t protected_end = pkt->len - trailer;
	const uint8_t *index_word, *mki;
	if (ctx->is_aead) {
		index_word = data + protected_end + ctx->srtcp_tag_len;
		mki = index_word + SRTCP_INDEX_LEN;
	} else {
		index_word = data + protected_end;
		mki = index_word + SRTCP_INDEX_LEN;
	}
	if (ctx->mki_len && !ct_equal(mki, ctx->mki, ctx->mki_len))
		return MG_SRTP_ERR_MKI;
	uint32_t e_and_index = load_be32(index_word);
	/* unencrypted SRTCP (E = 0) is never negotiated (UNENCRYPTED_SRTCP is refused) */
	if (!(e_and_index & SRTCP_E_BIT))
		return MG_SRTP_ERR_MALFORMED;
	if (ctx->srtcp_remaining == 0)
		return MG_SRTP_ERR_KEY_EXHAUSTED;
	uint32_t index = e_and_index & SRTCP_INDEX_MASK;
	uint32_t ssrc = load_be32(data + 4);
	int slot = find_ssrc_slot(ctx, ssrc);
	if (slot >= 0) {
		const struct mg_srtp_rtcp_state *state = &ctx->rtcp[slot];
		enum mg_srtp_status replay =
		    replay_check(state->started, state->index, state->window, index);
		if (replay != MG_SRTP_OK)
			return replay;
	}

	scratch->index = index;
	scratch->ssrc = ssrc;
	scratch->state_slot = (int8_t)slot;
	scratch->enc_start = RTCP_HEADER_LEN;
	scratch->enc_len = protected_end - RTCP_HEADER_LEN;
	if (ctx->is_aead) {
		gcm_iv(scratch->iv, ctx->srtcp.gcm.salt, ssrc, index);
		memcpy(scratch->aad, data, RTCP_HEADER_LEN);
		memcpy(scratch->aad + RTCP_HEADER_LEN, index_word, SRTCP_INDEX_LEN);
		fill_gcm_job(job, ctx, &ctx->srtcp, data, scratch, scratch->aad,
			     RTCP_HEADER_LEN + SRTCP_INDEX_LEN, scratch->computed_tag, false);
	} else {
		cm_iv(scratch->iv, cm_salt_iv(&ctx->srtcp, ctx->key_len), ssrc, index);
		fill_cm_job(job, ctx, &ctx->srtcp, data, scratch, protected_end + SRTCP_INDEX_LEN,
			    false);
	}
	return MG_SRTP_OK;
}

/* ---------------------------------------------------------------- complete (after crypto) */

static inline enum mg_srtp_status complete_protect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
						   const struct packet_scratch *scratch, bool rtcp)
{
	uint8_t *tail = pkt->data + pkt->len;
	uint32_t tag_len = rtcp ? ctx->srtcp_tag_len : ctx->srtp_tag_len;
	if (ctx->is_aead) {
		/* tag already written by IPsec-MB right after the ciphertext */
		tail += tag_len;
		if (rtcp) {
			store_be32(tail, SRTCP_E_BIT | (uint32_t)scratch->index);
			tail += SRTCP_INDEX_LEN;
		}
		memcpy(tail, ctx->mki, ctx->mki_len);
		tail += ctx->mki_len;
	} else {
		if (rtcp)
			tail += SRTCP_INDEX_LEN; /* E+index written before hashing */
		memcpy(tail, ctx->mki, ctx->mki_len);
		tail += ctx->mki_len;
		memcpy(tail, scratch->computed_tag, tag_len);
		tail += tag_len;
	}
	pkt->len = (uint32_t)(tail - pkt->data);
	return MG_SRTP_OK;
}

static inline enum mg_srtp_status complete_unprotect(mg_srtp_ctx *ctx, struct mg_srtp_pkt *pkt,
						     const struct packet_scratch *scratch,
						     bool rtcp)
{
	uint8_t *data = pkt->data;
	uint32_t protected_end = scratch->enc_start + scratch->enc_len;
	enum mg_srtp_status status = MG_SRTP_OK;
	bool authentic;
	if (ctx->is_aead) {
		authentic = ct_equal(scratch->computed_tag, data + protected_end, GCM_TAG_LEN);
	} else if (rtcp) {
		authentic = ct_equal(scratch->computed_tag,
				     data + protected_end + SRTCP_INDEX_LEN + ctx->mki_len,
				     ctx->srtcp_tag_len);
	} else {
		authentic = ct_equal(scratch->computed_tag, scratch->aad, ctx->srtp_tag_len);
	}
	if (!authentic) {
		status = MG_SRTP_ERR_AUTH;
		goto reject;
	}

	/* Only authentic packets may create or move per-SSRC state (a forged SSRC must not
	 * evict a real stream). Re-check replay: the burst may hold the same index twice. */
	int slot = find_ssrc_slot(ctx, scratch->ssrc);
	if (slot < 0)
		slot = install_ssrc_slot(ctx, scratch->ssrc);
	touch_slot(ctx, slot);
	if (rtcp) {
		struct mg_srtp_rtcp_state *state = &ctx->rtcp[slot];
		status = replay_check(state->started, state->index, state->window, scratch->index);
		if (status == MG_SRTP_OK && ctx->srtcp_remaining == 0)
			status = MG_SRTP_ERR_KEY_EXHAUSTED; /* used up earlier in this burst */
		if (status != MG_SRTP_OK)
			goto reject;
		if (replay_commit(state->started, state->index, state->window, scratch->index))
			state->index = (uint32_t)scratch->index;
		state->started = 1;
		ctx->srtcp_remaining--;
	} else {
		struct mg_srtp_rtp_state *state = rtp_state(ctx, slot);
		uint64_t highest = highest_rtp_index(state);
		status = replay_check(state->started, highest, state->window, scratch->index);
		if (status == MG_SRTP_OK && ctx->srtp_remaining == 0)
			status = MG_SRTP_ERR_KEY_EXHAUSTED; /* used up earlier in this burst */
		if (status != MG_SRTP_OK)
			goto reject;
		if (replay_commit(state->started, highest, state->window, scratch->index)) {
			state->roc = (uint32_t)(scratch->index >> 16);
			state->highest_seq = (uint16_t)scratch->index;
		}
		state->started = 1;
		ctx->srtp_remaining--;
	}
	pkt->len = protected_end;
	return MG_SRTP_OK;

reject:
	/* the payload was decrypted in place: never leave plaintext behind a failure */
	memset(data + scratch->enc_start, 0, scratch->enc_len);
	return status;
}

/* ---------------------------------------------------------------- burst driver */

enum burst_kind { RTP_PROTECT, RTP_UNPROTECT, RTCP_PROTECT, RTCP_UNPROTECT };

/* Prefetch from the context address alone (line 0, the first key lines: all of an AES-CM-128
 * key set, the round keys of a GCM one): used for the next chunk and by
 * mg_srtp_prefetch_burst. The chunk being processed is gathered with loads instead. */
static inline void prefetch_head(const mg_srtp_ctx *ctx, const uint8_t *data, bool rtcp)
{
	const char *keys = (const char *)(rtcp ? &ctx->srtcp : &ctx->srtp);
	__builtin_prefetch(ctx, 1, 3);
	if (rtcp) /* other SSRCs' RTP state, RTCP state and limits */
		for (unsigned off = 64; off < offsetof(mg_srtp_ctx, srtp); off += 64)
			__builtin_prefetch((const char *)ctx + off, 1, 3);
	for (unsigned off = 0; off < 256; off += 64) /* AES-CM-128 keys, GCM round keys */
		__builtin_prefetch(keys + off, 0, 3);
	__builtin_prefetch(data, 1, 3);
}

static inline void prefetch_heads(const struct mg_srtp_pkt *pkts, unsigned n, bool rtcp)
{
	for (unsigned i = 0; i < n; i++)
		if (pkts[i].ctx)
			prefetch_head(pkts[i].ctx, pkts[i].data, rtcp);
}

void mg_srtp_prefetch_burst(const struct mg_srtp_pkt *pkts, unsigned n)
{
	prefetch_heads(pkts, n, false);
}

void mg_srtcp_prefetch_burst(const struct mg_srtp_pkt *pkts, unsigned n)
{
	prefetch_heads(pkts, n, true);
}

/* Loads one byte of every context line a packet will need: line 0 and the first key lines
 * first (addresses only), then the lines that depend on the suite read from line 0. */
static inline void gather_contexts(const mg_srtp_engine *engine, const struct mg_srtp_pkt *pkts,
				   unsigned n, bool rtcp)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *ctx = (const char *)pkts[i].ctx;
		if (!ctx)
			continue;
		const char *keys =
		    rtcp ? (const char *)&pkts[i].ctx->srtcp : (const char *)&pkts[i].ctx->srtp;
		sum += *(const volatile uint8_t *)ctx;
		for (unsigned off = 0; off < 256; off += 64)
			sum += *(const volatile uint8_t *)(keys + off);
		__builtin_prefetch(pkts[i].data, 1, 3);
	}
	for (unsigned i = 0; i < n; i++) {
		const mg_srtp_ctx *ctx = pkts[i].ctx;
		if (!ctx)
			continue;
		const char *keys = rtcp ? (const char *)&ctx->srtcp : (const char *)&ctx->srtp;
		if (rtcp)
			for (unsigned off = 64; off < offsetof(mg_srtp_ctx, srtp); off += 64)
				sum += *(const volatile uint8_t *)((const char *)ctx + off);
		if (!ctx->is_aead) {
			if (ctx->key_len == 32)
				sum += *(const volatile uint8_t *)(keys + 256);
			continue;
		}
		for (unsigned off = engine->gcm_hot_tail_start & ~63u;
		     off < sizeof(struct gcm_key_data); off += 64)
			sum += *(const volatile uint8_t *)(keys + off);
		sum += *(const volatile uint8_t *)(keys + sizeof(struct gcm_key_data));
	}
	__asm__ volatile("" : : "r"(sum));
}

static inline unsigned run_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				 uint8_t *status, const enum burst_kind kind)
{
	const bool protect = kind == RTP_PROTECT || kind == RTCP_PROTECT;
	const bool rtcp = kind == RTCP_PROTECT || kind == RTCP_UNPROTECT;
	IMB_MGR *mgr = engine->mgr;
	unsigned ok_count = 0;

	for (unsigned base = 0; base < n; base += CHUNK) {
		const unsigned count = n - base < CHUNK ? n - base : CHUNK;
		struct mg_srtp_pkt *chunk = pkts + base;
		uint8_t *chunk_status = status + base;

		/* Bring the contexts in with plain loads, all packets of the chunk back to back so
		 * the core overlaps the misses; measured on the benchmark host, prefetch
		 * instructions alone left most lines missing when they were used. */
		gather_contexts(engine, chunk, count, rtcp);
		if (base + CHUNK < n)
			prefetch_heads(chunk + CHUNK,
				       n - base - CHUNK < CHUNK ? n - base - CHUNK : CHUNK, rtcp);

		if (IMB_GET_NEXT_BURST(mgr, count, engine->jobs) < count) {
			/* cannot happen with an empty queue; fail the chunk rather than spin */
			for (unsigned i = 0; i < count; i++)
				chunk_status[i] = MG_SRTP_ERR_INTERNAL;
			continue;
		}

		unsigned submitted = 0;
		for (unsigned i = 0; i < count; i++) {
			struct mg_srtp_pkt *pkt = &chunk[i];
			mg_srtp_ctx *ctx = pkt->ctx;
			enum mg_srtp_status st;
			if (!ctx || !ctx->initialized || !pkt->data) {
				chunk_status[i] = MG_SRTP_ERR_NO_CONTEXT;
				continue;
			}
			/* jobs are submitted in queue order: a rejected packet leaves its job
			 * for the next one */
			IMB_JOB *job = engine->jobs[submitted];
			struct packet_scratch *scratch = &engine->scratch[i];
			switch (kind) {
			case RTP_PROTECT:
				st = prepare_rtp_protect(ctx, pkt, job, scratch);
				break;
			case RTP_UNPROTECT:
				st = prepare_rtp_unprotect(ctx, pkt, job, scratch);
				break;
			case RTCP_PROTECT:
				st = prepare_rtcp_protect(ctx, pkt, job, scratch);
				break;
			default:
				st = prepare_rtcp_unprotect(ctx, pkt, job, scratch);
				break;
			}
			chunk_status[i] = (uint8_t)st;
			if (st != MG_SRTP_OK) {
				ctx->counters.failed[st]++;
				continue;
			}
			job->user_data = (void *)(uintptr_t)i;
			submitted++;
		}
		if (!submitted)
			continue;

		unsigned done = IMB_SUBMIT_BURST(mgr, submitted, engine->jobs);
		if (done == 0 && imb_get_errno(mgr) != 0) {
			/* a job IPsec-MB refused: mark everything we submitted as failed */
			IMB_FLUSH_BURST(mgr, submitted, engine->jobs);
			for (unsigned i = 0; i < count; i++) {
				if (chunk_status[i] != MG_SRTP_OK)
					continue;
				chunk_status[i] = MG_SRTP_ERR_INTERNAL;
				chunk[i].ctx->counters.failed[MG_SRTP_ERR_INTERNAL]++;
				if (!protect)
					memset(chunk[i].data, 0, chunk[i].len);
			}
			continue;
		}
		unsigned completed = 0;
		while (completed < submitted) {
			if (done == 0) {
				done = IMB_FLUSH_BURST(mgr, submitted - completed, engine->jobs);
				if (done == 0)
					break;
			}
			for (unsigned j = 0; j < done; j++) {
				IMB_JOB *job = engine->jobs[j];
				unsigned i = (unsigned)(uintptr_t)job->user_data;
				struct mg_srtp_pkt *pkt = &chunk[i];
				enum mg_srtp_status st;
				if (job->status != IMB_STATUS_COMPLETED) {
					st = MG_SRTP_ERR_INTERNAL;
					if (!protect)
						memset(pkt->data, 0, pkt->len);
				} else if (protect) {
					st = complete_protect(pkt->ctx, pkt, &engine->scratch[i],
							      rtcp);
				} else {
					st = complete_unprotect(pkt->ctx, pkt, &engine->scratch[i],
								rtcp);
				}
				chunk_status[i] = (uint8_t)st;
				if (st != MG_SRTP_OK)
					pkt->ctx->counters.failed[st]++;
				else
					ok_count++;
			}
			completed += done;
			done = 0;
		}
	}
	return ok_count;
}

unsigned mg_srtp_protect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
			       uint8_t *status)
{
	return run_burst(engine, pkts, n, status, RTP_PROTECT);
}

unsigned mg_srtp_unprotect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				 uint8_t *status)
{
	return run_burst(engine, pkts, n, status, RTP_UNPROTECT);
}

unsigned mg_srtcp_protect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				uint8_t *status)
{
	return run_burst(engine, pkts, n, status, RTCP_PROTECT);
}

unsigned mg_srtcp_unprotect_burst(mg_srtp_engine *engine, struct mg_srtp_pkt *pkts, unsigned n,
				  uint8_t *status)
{
	return run_burst(engine, pkts, n, status, RTCP_UNPROTECT);
}

/* ---------------------------------------------------------------- single-packet helpers */

static enum mg_srtp_status one(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
			       uint32_t *len, uint32_t capacity, enum burst_kind kind)
{
	struct mg_srtp_pkt pkt = {.data = data, .len = *len, .capacity = capacity, .ctx = ctx};
	uint8_t status = MG_SRTP_ERR_INTERNAL;
	run_burst(engine, &pkt, 1, &status, kind);
	*len = pkt.len;
	return (enum mg_srtp_status)status;
}

enum mg_srtp_status mg_srtp_protect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				    uint32_t *len, uint32_t capacity)
{
	return one(engine, ctx, data, len, capacity, RTP_PROTECT);
}

enum mg_srtp_status mg_srtp_unprotect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				      uint32_t *len)
{
	return one(engine, ctx, data, len, 0, RTP_UNPROTECT);
}

enum mg_srtp_status mg_srtcp_protect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				     uint32_t *len, uint32_t capacity)
{
	return one(engine, ctx, data, len, capacity, RTCP_PROTECT);
}

enum mg_srtp_status mg_srtcp_unprotect(mg_srtp_engine *engine, mg_srtp_ctx *ctx, uint8_t *data,
				       uint32_t *len)
{
	return one(engine, ctx, data, len, 0, RTCP_UNPROTECT);
}
