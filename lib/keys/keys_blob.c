/* Small secrets (session state in Redis) sealed with a data key per (instance, period),
 * generated under the instance's CMK by mg_keys_generate_data_key and cached in process
 * memory. Sealing costs one token call per instance and period; opening one per distinct
 * data key (a restart restoring 100,000 calls makes a handful). Every data-key generation
 * and unwrap is audited by lib/keys itself (key.generate-data-key / key.decrypt with
 * object=session-state); individual blobs are not (they are state writes, many per second).
 *
 * Sealed text: "mgs1:<key version>:<hex wrap info>:<hex wrapped data key>:<hex IV|ct|tag>",
 * AES-256-GCM, AAD "mg-state1|<instance>|<field>", so a blob moved to another call or
 * instance does not open. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keys.h"

#define SEAL_CACHE  8
#define OPEN_CACHE  32
#define OBJECT_PATH "session-state"
/* after a failed data-key generation, fail fast for this long: no token call and no
 * audit event per snapshot while the token or key is unavailable */
#define RETRY_AFTER_S 10

struct seal_entry {
	bool used;
	char instance[MG_KEYS_NAME_MAX];
	uint64_t period;
	uint32_t version;
	struct mg_envelope_data_key dk;
};

struct open_entry {
	bool used;
	char instance[MG_KEYS_NAME_MAX];
	uint32_t version;
	uint8_t wrap_info[MG_ENVELOPE_WRAPPED_MAX];
	size_t wrap_info_len;
	uint8_t wrapped[MG_ENVELOPE_WRAPPED_MAX];
	size_t wrapped_len;
	uint8_t key[MG_ENVELOPE_KEY_LEN];
};

struct mg_keys_blob {
	struct mg_keys *keys;
	char principal[MG_KEYS_NAME_MAX];
	uint32_t period;
	struct seal_entry seal[SEAL_CACHE];
	unsigned seal_next;
	struct open_entry open[OPEN_CACHE];
	unsigned open_next;
	struct mg_keys_blob_stats stats;
	time_t seal_retry_after; /* no new data key is tried before this */
	int seal_last_error;
	EVP_CIPHER_CTX *cipher_ctx;
	const EVP_CIPHER *cipher;
};

static void hex_table_init(void);

int mg_keys_blob_create(struct mg_keys_blob **out, struct mg_keys *keys, const char *principal,
			uint32_t period)
{
	if (!out || !keys || !principal)
		return MG_KEYS_ERR_ARG;
	struct mg_keys_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return MG_KEYS_ERR_IO;
	b->keys = keys;
	snprintf(b->principal, sizeof(b->principal), "%s", principal);
	b->period = period ? period : 3600;
	b->cipher_ctx = EVP_CIPHER_CTX_new();
	b->cipher = EVP_aes_256_gcm();
	if (!b->cipher_ctx || !b->cipher) {
		EVP_CIPHER_CTX_free(b->cipher_ctx);
		free(b);
		return MG_KEYS_ERR_IO;
	}
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, hex_table_init);
	*out = b;
	return MG_KEYS_OK;
}

void mg_keys_blob_destroy(struct mg_keys_blob *b)
{
	if (!b)
		return;
	EVP_CIPHER_CTX_free(b->cipher_ctx);
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
}

void mg_keys_blob_stats(const struct mg_keys_blob *b, struct mg_keys_blob_stats *out)
{
	*out = b->stats;
}

static void token_result(struct mg_keys_blob *b, int rc)
{
	b->stats.token_calls++;
	b->stats.last_token_result = rc;
	b->stats.last_token_time = time(NULL);
}

static void hex_put(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* 0..15 for a lowercase hex digit, 0xff otherwise (a restore decodes every blob) */
static uint8_t hex_table[256];

static void hex_table_init(void)
{
	memset(hex_table, 0xff, sizeof(hex_table));
	for (int i = 0; i < 10; i++)
		hex_table['0' + i] = (uint8_t)i;
	for (int i = 0; i < 6; i++)
		hex_table['a' + i] = (uint8_t)(10 + i);
}

/* Decodes the hex run starting at *p up to ':' or end; advances *p past the ':'. */
static bool hex_take(const char **p, const char *end, uint8_t *out, size_t cap, size_t *len)
{
	const char *q = *p;
	const char *stop = memchr(q, ':', (size_t)(end - q));
	if (!stop)
		stop = end;
	size_t digits = (size_t)(stop - q);
	if (digits % 2 || digits / 2 > cap)
		return false;
	uint8_t bad = 0;
	for (size_t i = 0; i < digits / 2; i++) {
		uint8_t hi = hex_table[(uint8_t)q[2 * i]], lo = hex_table[(uint8_t)q[2 * i + 1]];
		bad |= (hi | lo) & 0xf0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (bad)
		return false;
	*p = stop < end ? stop + 1 : stop;
	*len = digits / 2;
	return true;
}

/* One cipher context and cipher, reused: fetching them per blob costs more than the
 * encryption of a small blob (OpenSSL 3 provider locks). */
static int gcm(struct mg_keys_blob *b, bool encrypt, const uint8_t key[32], const uint8_t iv[12],
	       const char *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = b->cipher_ctx;
	int n = 0, ok = c && EVP_CipherInit_ex(c, b->cipher, NULL, key, iv, encrypt) == 1;
	ok = ok && EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)aad, (int)aad_len) == 1;
	ok = ok && EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	if (!ok && !encrypt)
		OPENSSL_cleanse(out, len);
	return ok ? 0 : -1;
}

static int context_for(struct mg_keys_blob *b, const char *instance, char key_id[MG_KEYS_ID_MAX],
		       char account[MG_KEYS_NAME_MAX])
{
	int rc = mg_keys_key_for_instance(b->keys, instance, key_id);
	if (rc != MG_KEYS_OK)
		return rc;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return MG_KEYS_ERR_IO;
	rc = mg_keys_describe(b->keys, key_id, info);
	if (rc == MG_KEYS_OK)
		snprintf(account, MG_KEYS_NAME_MAX, "%s", info->account);
	free(info);
	return rc;
}

static int seal_key(struct mg_keys_blob *b, const char *instance, struct seal_entry **out)
{
	uint64_t period = (uint64_t)time(NULL) / b->period;
	for (unsigned i = 0; i < SEAL_CACHE; i++) {
		struct seal_entry *e = &b->seal[i];
		if (e->used && e->period == period && strcmp(e->instance, instance) == 0) {
			*out = e;
			return MG_KEYS_OK;
		}
	}
	if (time(NULL) < b->seal_retry_after)
		return b->seal_last_error;
	char key_id[MG_KEYS_ID_MAX], account[MG_KEYS_NAME_MAX];
	int rc = context_for(b, instance, key_id, account);
	struct seal_entry *e = &b->seal[b->seal_next++ % SEAL_CACHE];
	OPENSSL_cleanse(e, sizeof(*e));
	if (rc == MG_KEYS_OK) {
		struct mg_envelope_context ctx = {.account = account,
						  .instance = instance,
						  .contact_id = "",
						  .object_path = OBJECT_PATH,
						  .key_id = key_id};
		rc = mg_keys_generate_data_key(b->keys, b->principal, &ctx, &e->dk);
		token_result(b, rc);
		e->version = ctx.key_version;
	}
	if (rc != MG_KEYS_OK) {
		OPENSSL_cleanse(e, sizeof(*e));
		b->seal_retry_after = time(NULL) + RETRY_AFTER_S;
		b->seal_last_error = rc;
		return rc;
	}
	b->stats.data_keys_generated++;
	snprintf(e->instance, sizeof(e->instance), "%s", instance);
	e->period = period;
	e->used = true;
	*out = e;
	return MG_KEYS_OK;
}

int mg_keys_blob_seal(struct mg_keys_blob *b, const char *instance, const char *field,
		      const void *plain, size_t len, char **out)
{
	if (!b || !instance || !field || !plain || !out || len > (1u << 24))
		return MG_KEYS_ERR_ARG;
	*out = NULL;
	struct seal_entry *e = NULL;
	int rc = seal_key(b, instance, &e);
	if (rc != MG_KEYS_OK) {
		b->stats.seal_failed++;
		return rc;
	}
	char aad[2 * MG_KEYS_NAME_MAX + 300];
	int aad_len = snprintf(aad, sizeof(aad), "mg-state1|%s|%s", instance, field);
	uint8_t *bin = malloc(12 + len + 16);
	size_t text_cap = 32 + 2 * (e->dk.wrap_info_len + e->dk.wrapped_len + 12 + len + 16);
	char *text = malloc(text_cap);
	if (!bin || !text || aad_len < 0 || (size_t)aad_len >= sizeof(aad) ||
	    RAND_bytes(bin, 12) != 1 ||
	    gcm(b, true, e->dk.key, bin, aad, (size_t)aad_len, plain, len, bin + 12,
		bin + 12 + len)) {
		free(bin);
		free(text);
		b->stats.seal_failed++;
		return MG_KEYS_ERR_IO;
	}
	size_t n = (size_t)snprintf(text, text_cap, "mgs1:%u:", e->version);
	hex_put(text + n, e->dk.wrap_info, e->dk.wrap_info_len);
	n += 2 * e->dk.wrap_info_len;
	text[n++] = ':';
	hex_put(text + n, e->dk.wrapped, e->dk.wrapped_len);
	n += 2 * e->dk.wrapped_len;
	text[n++] = ':';
	hex_put(text + n, bin, 12 + len + 16);
	n += 2 * (12 + len + 16);
	text[n] = '\0';
	free(bin);
	b->stats.sealed++;
	*out = text;
	return MG_KEYS_OK;
}

static int open_key(struct mg_keys_blob *b, const char *instance, uint32_t version,
		    const uint8_t *wrap_info, size_t wrap_info_len, const uint8_t *wrapped,
		    size_t wrapped_len, uint8_t key[MG_ENVELOPE_KEY_LEN])
{
	for (unsigned i = 0; i < OPEN_CACHE; i++) {
		const struct open_entry *e = &b->open[i];
		if (e->used && e->version == version && e->wrap_info_len == wrap_info_len &&
		    e->wrapped_len == wrapped_len && strcmp(e->instance, instance) == 0 &&
		    !memcmp(e->wrap_info, wrap_info, wrap_info_len) &&
		    !memcmp(e->wrapped, wrapped, wrapped_len)) {
			memcpy(key, e->key, MG_ENVELOPE_KEY_LEN);
			return MG_KEYS_OK;
		}
	}
	char key_id[MG_KEYS_ID_MAX], account[MG_KEYS_NAME_MAX];
	int rc = context_for(b, instance, key_id, account);
	if (rc == MG_KEYS_OK) {
		struct mg_envelope_context ctx = {.account = account,
						  .instance = instance,
						  .contact_id = "",
						  .object_path = OBJECT_PATH,
						  .key_id = key_id,
						  .key_version = version};
		rc = mg_keys_decrypt_data_key(b->keys, b->principal, &ctx, wrap_info, wrap_info_len,
					      wrapped, wrapped_len, key);
		token_result(b, rc);
	}
	if (rc != MG_KEYS_OK)
		return rc;
	b->stats.data_keys_opened++;
	struct open_entry *e = &b->open[b->open_next++ % OPEN_CACHE];
	OPENSSL_cleanse(e, sizeof(*e));
	snprintf(e->instance, sizeof(e->instance), "%s", instance);
	e->version = version;
	memcpy(e->wrap_info, wrap_info, wrap_info_len);
	e->wrap_info_len = wrap_info_len;
	memcpy(e->wrapped, wrapped, wrapped_len);
	e->wrapped_len = wrapped_len;
	memcpy(e->key, key, MG_ENVELOPE_KEY_LEN);
	e->used = true;
	return MG_KEYS_OK;
}

int mg_keys_blob_open(struct mg_keys_blob *b, const char *instance, const char *field,
		      const char *sealed, size_t len, uint8_t **out, size_t *out_len)
{
	if (!b || !instance || !field || !sealed || !out || !out_len)
		return MG_KEYS_ERR_ARG;
	*out = NULL;
	const char *p = sealed, *end = sealed + len;
	char *num_end = NULL;
	if (len < 5 || memcmp(p, "mgs1:", 5) != 0) {
		b->stats.open_failed++;
		return MG_KEYS_ERR_UNWRAP;
	}
	p += 5;
	unsigned long version = strtoul(p, &num_end, 10);
	uint8_t wrap_info[MG_ENVELOPE_WRAPPED_MAX], wrapped[MG_ENVELOPE_WRAPPED_MAX];
	size_t wrap_info_len = 0, wrapped_len = 0, bin_len = 0;
	uint8_t *bin = malloc(len / 2 + 1);
	bool ok = bin && num_end && num_end < end && *num_end == ':' && version > 0 &&
		  version <= MG_KEYS_MAX_VERSIONS;
	p = ok ? num_end + 1 : p;
	ok = ok && hex_take(&p, end, wrap_info, sizeof(wrap_info), &wrap_info_len);
	ok = ok && hex_take(&p, end, wrapped, sizeof(wrapped), &wrapped_len);
	ok = ok && hex_take(&p, end, bin, len / 2 + 1, &bin_len) && p == end && bin_len >= 28;
	if (!ok) {
		free(bin);
		b->stats.open_failed++;
		return MG_KEYS_ERR_UNWRAP;
	}
	uint8_t key[MG_ENVELOPE_KEY_LEN];
	int rc = open_key(b, instance, (uint32_t)version, wrap_info, wrap_info_len, wrapped,
			  wrapped_len, key);
	size_t plain_len = bin_len - 28;
	uint8_t *plain = rc == MG_KEYS_OK ? malloc(plain_len + 1) : NULL;
	char aad[2 * MG_KEYS_NAME_MAX + 300];
	int aad_len = snprintf(aad, sizeof(aad), "mg-state1|%s|%s", instance, field);
	if (rc == MG_KEYS_OK && (!plain || aad_len < 0 || (size_t)aad_len >= sizeof(aad) ||
				 gcm(b, false, key, bin, aad, (size_t)aad_len, bin + 12, plain_len,
				     plain, bin + 12 + plain_len) != 0))
		rc = MG_KEYS_ERR_UNWRAP;
	OPENSSL_cleanse(key, sizeof(key));
	free(bin);
	if (rc != MG_KEYS_OK) {
		free(plain);
		b->stats.open_failed++;
		return rc;
	}
	plain[plain_len] = '\0';
	b->stats.opened++;
	*out = plain;
	*out_len = plain_len;
	return MG_KEYS_OK;
}
