/* Customer-managed keys (CMKs) in a PKCS#11 token, data keys, grants, bucket keys, PII keys
 * and the hash-chained audit log. The CMK versions are token objects that never leave the
 * token (sensitive, not extractable); every wrap, unwrap and derivation runs inside it.
 * Metadata (versions, state, grants) lives in <state_dir>/keys/ and holds no secrets.
 * Design and trade-offs: docs/keys.md. */
#ifndef MG_KEYS_H
#define MG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"

#define MG_KEYS_ID_MAX		      128
#define MG_KEYS_NAME_MAX	      128 /* principals, instances, accounts, grant ids */
#define MG_KEYS_CONSTRAINT_MAX	      512
#define MG_KEYS_MAX_VERSIONS	      256
#define MG_KEYS_MAX_GRANTS	      64
#define MG_KEYS_ROTATION_DAYS_MIN     90
#define MG_KEYS_ROTATION_DAYS_MAX     2560
#define MG_KEYS_ROTATION_DAYS_DEFAULT 365
#define MG_KEYS_DELETION_DAYS_MIN     7
#define MG_KEYS_DELETION_DAYS_MAX     30
#define MG_KEYS_ANI_HASH_HEX	      65 /* 64 hex digits + NUL */
#define MG_KEYS_DEFAULT_MODULE	      "/usr/lib/softhsm/libsofthsm2.so"

enum mg_keys_status {
	MG_KEYS_OK = 0,
	MG_KEYS_ERR_ARG = -1,
	MG_KEYS_ERR_IO = -2,	    /* metadata or audit file I/O */
	MG_KEYS_ERR_TOKEN = -3,	    /* PKCS#11 module/token failure */
	MG_KEYS_ERR_LOGIN = -4,	    /* token not found or PIN refused */
	MG_KEYS_ERR_NOT_FOUND = -5, /* no such key / version / grant */
	MG_KEYS_ERR_EXISTS = -6,    /* instance already has a CMK */
	MG_KEYS_ERR_DENIED = -7,    /* principal not allowed (no matching grant) */
	MG_KEYS_ERR_DISABLED = -8,  /* key disabled */
	MG_KEYS_ERR_PENDING_DELETION = -9,
	MG_KEYS_ERR_DELETED = -10,
	MG_KEYS_ERR_UNWRAP = -11,  /* wrapped key does not open under this key and context */
	MG_KEYS_ERR_CORRUPT = -12, /* metadata unreadable */
	MG_KEYS_ERR_AUDIT = -13,   /* audit log could not be appended: operation refused */
};

enum mg_keys_state {
	MG_KEYS_STATE_ENABLED = 0,
	MG_KEYS_STATE_DISABLED,
	MG_KEYS_STATE_PENDING_DELETION,
	MG_KEYS_STATE_DELETED,
};

/* Operations a grant may allow. */
#define MG_KEYS_OP_ENCRYPT 0x01 /* generate data keys (seal recordings) */
#define MG_KEYS_OP_DECRYPT 0x02 /* unwrap data keys (play recordings) */
#define MG_KEYS_OP_PII	   0x04 /* hash ANI, seal and open PII fields */

struct mg_keys_config {
	const char *state_dir;	 /* metadata + audit log directory (created if missing) */
	const char *module_path; /* NULL = MG_KEYS_DEFAULT_MODULE */
	const char *token_label; /* token holding the CMKs */
	const char *pin;	 /* user PIN; never logged */
	/* Bucket key period in seconds: one token call per (key version, period) instead of
	 * one per recording. 0 = every data key wrapped by the token directly. */
	uint32_t bucket_key_period;
};

struct mg_keys_grant {
	char id[MG_KEYS_NAME_MAX];
	char grantee[MG_KEYS_NAME_MAX];
	unsigned ops;
	/* "" = any context; else "field=value[,field=value...]" over account, instance,
	 * contact_id, object_path; a value ending in '*' matches by prefix. */
	char constraint[MG_KEYS_CONSTRAINT_MAX];
};

struct mg_keys_info {
	char key_id[MG_KEYS_ID_MAX];
	char account[MG_KEYS_NAME_MAX];
	char instance[MG_KEYS_NAME_MAX];
	char owner[MG_KEYS_NAME_MAX];
	enum mg_keys_state state;
	time_t created, deletion_time;
	unsigned rotation_days;
	uint32_t version_count; /* versions are 1..version_count; the last one seals */
	time_t version_created[MG_KEYS_MAX_VERSIONS];
	unsigned grant_count;
	struct mg_keys_grant grants[MG_KEYS_MAX_GRANTS];
};

struct mg_keys;

const char *mg_keys_strerror(int status);
const char *mg_keys_state_name(enum mg_keys_state state);

int mg_keys_open(struct mg_keys **keys, const struct mg_keys_config *config);
void mg_keys_close(struct mg_keys *keys);
/* Replace the clock (tests of rotation and deletion windows). */
void mg_keys_set_clock(struct mg_keys *keys, time_t (*now)(void *arg), void *arg);
/* PKCS#11 calls that used a CMK (wrap, unwrap, derive, generate) since open. */
uint64_t mg_keys_token_calls(const struct mg_keys *keys);

/* Key administration; principal is the caller, recorded in the audit log. Only the key's
 * owner (its creator) may administer it. */
int mg_keys_create(struct mg_keys *keys, const char *principal, const char *account,
		   const char *instance, unsigned rotation_days, char key_id[MG_KEYS_ID_MAX]);
int mg_keys_rotate(struct mg_keys *keys, const char *principal, const char *key_id);
int mg_keys_set_rotation(struct mg_keys *keys, const char *principal, const char *key_id,
			 unsigned rotation_days);
int mg_keys_disable(struct mg_keys *keys, const char *principal, const char *key_id);
int mg_keys_enable(struct mg_keys *keys, const char *principal, const char *key_id);
int mg_keys_schedule_deletion(struct mg_keys *keys, const char *principal, const char *key_id,
			      unsigned waiting_days);
int mg_keys_cancel_deletion(struct mg_keys *keys, const char *principal, const char *key_id);
int mg_keys_grant(struct mg_keys *keys, const char *principal, const char *key_id,
		  const char *grantee, unsigned ops, const char *constraint,
		  char grant_id[MG_KEYS_NAME_MAX]);
int mg_keys_revoke(struct mg_keys *keys, const char *principal, const char *key_id,
		   const char *grant_id);
int mg_keys_describe(struct mg_keys *keys, const char *key_id, struct mg_keys_info *info);
/* The CMK of an instance (one per instance). */
int mg_keys_key_for_instance(struct mg_keys *keys, const char *instance,
			     char key_id[MG_KEYS_ID_MAX]);
/* Calls fn for each key id; stops early when fn returns non-zero. */
int mg_keys_list(struct mg_keys *keys, int (*fn)(void *arg, const char *key_id), void *arg);

/* Data keys. generate: context->key_id names the CMK; context->key_version is set to the
 * version used (the newest); a fresh random data key is returned with its wrapped form bound
 * to the whole context. decrypt: unwraps for the context from a recording's header. */
int mg_keys_generate_data_key(struct mg_keys *keys, const char *principal,
			      struct mg_envelope_context *context,
			      struct mg_envelope_data_key *data_key);
int mg_keys_decrypt_data_key(struct mg_keys *keys, const char *principal,
			     const struct mg_envelope_context *context, const uint8_t *wrap_info,
			     size_t wrap_info_len, const uint8_t *wrapped, size_t wrapped_len,
			     uint8_t key[MG_ENVELOPE_KEY_LEN]);

/* PII (M12): keyed hash of a caller number for search, and sealing of PII fields with the
 * instance's data key. Sealed text is "pii1:<hex>"; *out is malloc'ed. */
int mg_keys_ani_hash(struct mg_keys *keys, const char *principal, const char *instance,
		     const char *ani, char hash_hex[MG_KEYS_ANI_HASH_HEX]);
int mg_keys_pii_seal(struct mg_keys *keys, const char *principal, const char *instance,
		     const char *field, const char *plaintext, char **out);
int mg_keys_pii_open(struct mg_keys *keys, const char *principal, const char *instance,
		     const char *field, const char *sealed, char **out);

/* Small secrets (the keys and SRTP state of a session snapshot in Redis; keys_blob.c):
 * AES-256-GCM with a data key per (instance, period) generated under the instance's CMK
 * and cached in process memory, so sealing costs one token call per instance and period
 * and opening one per distinct data key, not one per blob. Data-key events are audited
 * (object "session-state"); blobs are not. Sealed text: "mgs1:..." (*out malloc'ed). A
 * blob only opens for the same instance and field. Control thread only. */
struct mg_keys_blob;
struct mg_keys_blob_stats {
	uint64_t sealed, opened, seal_failed, open_failed;
	uint64_t data_keys_generated, data_keys_opened;
	uint64_t token_calls;	/* data-key generations and unwraps tried */
	int last_token_result;	/* enum mg_keys_status of the last one */
	time_t last_token_time; /* 0 = none yet */
};
/* period: seconds per data key (0 = 3600). */
int mg_keys_blob_create(struct mg_keys_blob **b, struct mg_keys *keys, const char *principal,
			uint32_t period);
void mg_keys_blob_destroy(struct mg_keys_blob *b);
int mg_keys_blob_seal(struct mg_keys_blob *b, const char *instance, const char *field,
		      const void *plain, size_t len, char **out);
/* *out is malloc'ed, NUL-terminated after *out_len bytes. */
int mg_keys_blob_open(struct mg_keys_blob *b, const char *instance, const char *field,
		      const char *sealed, size_t len, uint8_t **out, size_t *out_len);
void mg_keys_blob_stats(const struct mg_keys_blob *b, struct mg_keys_blob_stats *out);

/* Audit. Appends one event (used for recording accesses by the CLI and store); the key
 * operations above audit themselves. result: "ok", "denied: ...", "error: ...". */
int mg_keys_audit(struct mg_keys *keys, const char *principal, const char *operation,
		  const char *key_id, uint32_t key_version,
		  const struct mg_envelope_context *context, const char *detail,
		  const char *result);
/* Verifies <state_dir>/audit.log: every entry's HMAC (key derived in the token, so the
 * token is needed to verify and to forge), the chain of previous MACs, consecutive sequence
 * numbers and the head. Returns MG_KEYS_OK or MG_KEYS_ERR_CORRUPT with the first bad entry in
 * why. */
int mg_keys_audit_verify(struct mg_keys *keys, uint64_t *entries, char *why, size_t why_len);

#endif
