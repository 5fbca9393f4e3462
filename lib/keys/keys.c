/* CMKs in a PKCS#11 token, data keys, grants, bucket keys, PII keys, audit log. */
#include "keys.h"

#include "fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <p11-kit/pkcs11.h>

#define WRAP_MODE_TOKEN	 0x01 /* data key wrapped by the CMK version inside the token */
#define WRAP_MODE_BUCKET 0x02 /* data key wrapped by the period's bucket key */
#define WRAPPED_LEN	 (12 + MG_ENVELOPE_KEY_LEN + 16)
#define CTX_MAX		 (5 * (2 + MG_ENVELOPE_FIELD_MAX) + 4)
#define BUCKET_CACHE	 8
#define PII_CACHE	 8

struct bucket_entry {
	char key_id[MG_KEYS_ID_MAX];
	uint32_t version;
	uint64_t period;
	uint8_t key[32];
	bool used;
};

struct pii_entry {
	char instance[MG_KEYS_NAME_MAX];
	uint8_t ani_key[32], data_key[32];
	bool used;
};

struct mg_keys {
	pthread_mutex_t lock;
	char state_dir[512];
	void *module;
	CK_FUNCTION_LIST_PTR p11;
	CK_SESSION_HANDLE session;
	uint32_t bucket_period;
	time_t (*now)(void *);
	void *now_arg;
	uint64_t token_calls;
	uint8_t audit_key[32]; /* HMAC key of the audit chain, derived in the token */
	struct bucket_entry buckets[BUCKET_CACHE];
	unsigned bucket_next;
	struct pii_entry pii[PII_CACHE];
	unsigned pii_next;
};

const char *mg_keys_strerror(int status)
{
	switch (status) {
	case MG_KEYS_OK:
		return "ok";
	case MG_KEYS_ERR_ARG:
		return "invalid argument";
	case MG_KEYS_ERR_IO:
		return "key metadata I/O error";
	case MG_KEYS_ERR_TOKEN:
		return "PKCS#11 token error";
	case MG_KEYS_ERR_LOGIN:
		return "token not found or PIN refused";
	case MG_KEYS_ERR_NOT_FOUND:
		return "no such key, version or grant";
	case MG_KEYS_ERR_EXISTS:
		return "the instance already has a CMK";
	case MG_KEYS_ERR_DENIED:
		return "access denied (no grant allows this operation and context)";
	case MG_KEYS_ERR_DISABLED:
		return "key is disabled";
	case MG_KEYS_ERR_PENDING_DELETION:
		return "key is pending deletion";
	case MG_KEYS_ERR_DELETED:
		return "key has been deleted";
	case MG_KEYS_ERR_UNWRAP:
		return "data key does not unwrap under this key and context";
	case MG_KEYS_ERR_CORRUPT:
		return "metadata or audit log corrupt";
	case MG_KEYS_ERR_AUDIT:
		return "audit log append failed";
	default:
		return "unknown error";
	}
}

const char *mg_keys_state_name(enum mg_keys_state state)
{
	switch (state) {
	case MG_KEYS_STATE_ENABLED:
		return "enabled";
	case MG_KEYS_STATE_DISABLED:
		return "disabled";
	case MG_KEYS_STATE_PENDING_DELETION:
		return "pending-deletion";
	default:
		return "deleted";
	}
}

static time_t keys_now(struct mg_keys *k)
{
	return k->now ? k->now(k->now_arg) : time(NULL);
}

void mg_keys_set_clock(struct mg_keys *keys, time_t (*now)(void *arg), void *arg)
{
	keys->now = now;
	keys->now_arg = arg;
}

uint64_t mg_keys_token_calls(const struct mg_keys *keys)
{
	return keys->token_calls;
}

/* Identifiers go into file names, metadata lines and audit lines: keep them plain. */
static bool name_ok(const char *s, size_t max, bool allow_empty)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if ((!allow_empty && n == 0) || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr("._:@-+/=,*", c))
			return false;
	}
	return !strstr(s, "..");
}

/* Accounts and instances also appear in file names, object keys and grant constraints
 * (where ',' '=' '*' have meaning): letters, digits, '-', '_', '.' only. */
static bool plain_id(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) >= max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return false;
	return true;
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_decode(const char *in, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(in);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(in + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)in[2 * i]) ||
		    !isxdigit((unsigned char)in[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Crash-safe replace: write a temporary file, fsync, rename, fsync the directory. */
static int write_file_atomic(const char *dir, const char *name, const char *text)
{
	char path[1024], tmp[1100];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return mg_fsync_dir(dir);
}

/* ---- audit log -------------------------------------------------------------------------- */

#define GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static void audit_clean(char *dst, size_t cap, const char *src)
{
	/* Audit fields are single tokens: anything unusual becomes '_'. */
	size_t i = 0;
	if (!src || !*src)
		src = "-";
	for (; src[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (isgraph(c) && c != '\\') ? (char)c : '_';
	}
	dst[i] = '\0';
}

/* Entry MAC: HMAC-SHA-256 under the audit key, which is derived in the token, so someone who
 * can rewrite the log file but cannot use the token cannot recompute a consistent chain. */
static void entry_mac_hex(const uint8_t key[32], const char *text, size_t len, char out[65])
{
	uint8_t digest[32];
	unsigned digest_len = 32;
	HMAC(EVP_sha256(), key, 32, (const uint8_t *)text, len, digest, &digest_len);
	hex_encode(digest, 32, out);
}

static int audit_append_locked(struct mg_keys *k, const char *principal, const char *operation,
			       const char *key_id, uint32_t key_version,
			       const struct mg_envelope_context *context, const char *detail,
			       const char *result)
{
	char path[600], head_path[600];
	snprintf(path, sizeof(path), "%s/audit.log", k->state_dir);
	snprintf(head_path, sizeof(head_path), "%s/audit.head", k->state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return MG_KEYS_ERR_AUDIT;
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return MG_KEYS_ERR_AUDIT;
	}
	/* The head file holds the last sequence number and hash; under the lock it is current. */
	unsigned long long seq = 0;
	char prev[65] = GENESIS_HASH;
	FILE *head = fopen(head_path, "r");
	if (head) {
		if (fscanf(head, "%llu %64s", &seq, prev) != 2) {
			fclose(head);
			flock(fd, LOCK_UN);
			close(fd);
			return MG_KEYS_ERR_AUDIT;
		}
		fclose(head);
	} else if (lseek(fd, 0, SEEK_END) > 0) {
		flock(fd, LOCK_UN);
		close(fd);
		return MG_KEYS_ERR_AUDIT; /* log without head: refuse to extend a broken chain */
	}
	char p[MG_KEYS_NAME_MAX], op[64], kid[MG_KEYS_ID_MAX], det[256], res[256];
	char acc[MG_KEYS_NAME_MAX] = "-", ins[MG_KEYS_NAME_MAX] = "-", con[MG_KEYS_NAME_MAX] = "-",
	     obj[1100] = "-";
	audit_clean(p, sizeof(p), principal);
	audit_clean(op, sizeof(op), operation);
	audit_clean(kid, sizeof(kid), key_id);
	audit_clean(det, sizeof(det), detail);
	audit_clean(res, sizeof(res), result);
	if (context) {
		audit_clean(acc, sizeof(acc), context->account);
		audit_clean(ins, sizeof(ins), context->instance);
		audit_clean(con, sizeof(con), context->contact_id);
		audit_clean(obj, sizeof(obj), context->object_path);
	}
	time_t now = keys_now(k);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char line[3000];
	int n =
	    snprintf(line, sizeof(line),
		     "seq=%llu time=%s principal=%s op=%s key=%s version=%u account=%s "
		     "instance=%s contact=%s object=%s detail=%s result=%s prev=%s",
		     seq + 1, when, p, op, kid, key_version, acc, ins, con, obj, det, res, prev);
	char hash[65];
	entry_mac_hex(k->audit_key, line, (size_t)n, hash);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " hash=%s\n", hash);
	int rc = MG_KEYS_OK;
	if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
		rc = MG_KEYS_ERR_AUDIT;
	if (rc == MG_KEYS_OK) {
		char head_text[100];
		snprintf(head_text, sizeof(head_text), "%llu %s\n", seq + 1, hash);
		if (write_file_atomic(k->state_dir, "audit.head", head_text) != 0)
			rc = MG_KEYS_ERR_AUDIT;
	}
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

int mg_keys_audit(struct mg_keys *k, const char *principal, const char *operation,
		  const char *key_id, uint32_t key_version,
		  const struct mg_envelope_context *context, const char *detail, const char *result)
{
	if (!k)
		return MG_KEYS_ERR_ARG;
	return audit_append_locked(k, principal, operation, key_id, key_version, context, detail,
				   result);
}

static const char *result_text(int status, char *buf, size_t cap)
{
	if (status == MG_KEYS_OK)
		return "ok";
	snprintf(buf, cap, "%s:%s", status == MG_KEYS_ERR_DENIED ? "denied" : "error",
		 mg_keys_strerror(status));
	return buf;
}

int mg_keys_audit_verify(struct mg_keys *k, uint64_t *entries, char *why, size_t why_len)
{
	if (!k)
		return MG_KEYS_ERR_ARG;
	const char *state_dir = k->state_dir;
	char path[600];
	snprintf(path, sizeof(path), "%s/audit.log", state_dir);
	FILE *f = fopen(path, "r");
	if (entries)
		*entries = 0;
	if (!f) {
		snprintf(why, why_len, "cannot open %s", path);
		return MG_KEYS_ERR_IO;
	}
	char prev[65] = GENESIS_HASH;
	unsigned long long expect = 1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = MG_KEYS_OK;
	while ((len = getline(&line, &cap, f)) > 0) {
		unsigned long long seq;
		char *hash_at = strstr(line, " hash=");
		char *prev_at = strstr(line, " prev=");
		if (line[len - 1] != '\n' || !hash_at || !prev_at || prev_at > hash_at ||
		    sscanf(line, "seq=%llu ", &seq) != 1) {
			snprintf(why, why_len, "entry %llu: malformed line", expect);
			rc = MG_KEYS_ERR_CORRUPT;
			break;
		}
		if (seq != expect) {
			snprintf(why, why_len,
				 "entry %llu: sequence number %llu (removed or reordered)", expect,
				 seq);
			rc = MG_KEYS_ERR_CORRUPT;
			break;
		}
		if (strncmp(prev_at + 6, prev, 64) != 0 || prev_at + 6 + 64 != hash_at) {
			snprintf(why, why_len, "entry %llu: previous-hash link broken", expect);
			rc = MG_KEYS_ERR_CORRUPT;
			break;
		}
		char computed[65];
		entry_mac_hex(k->audit_key, line, (size_t)(hash_at - line), computed);
		if (strncmp(hash_at + 6, computed, 64) != 0 || hash_at[6 + 64] != '\n') {
			snprintf(why, why_len, "entry %llu: hash mismatch (entry edited)", expect);
			rc = MG_KEYS_ERR_CORRUPT;
			break;
		}
		memcpy(prev, computed, 65);
		expect++;
	}
	free(line);
	fclose(f);
	if (rc != MG_KEYS_OK)
		return rc;
	/* The head detects removal of the newest entries, which a chain alone cannot. */
	snprintf(path, sizeof(path), "%s/audit.head", state_dir);
	f = fopen(path, "r");
	unsigned long long head_seq = 0;
	char head_hash[65] = GENESIS_HASH;
	if (f) {
		if (fscanf(f, "%llu %64s", &head_seq, head_hash) != 2)
			head_seq = (unsigned long long)-1;
		fclose(f);
	}
	if (head_seq != expect - 1 || strcmp(head_hash, prev) != 0) {
		snprintf(why, why_len,
			 "log ends at entry %llu but head records entry %llu "
			 "(entries removed from the end, or head edited)",
			 expect - 1, head_seq);
		return MG_KEYS_ERR_CORRUPT;
	}
	if (entries)
		*entries = expect - 1;
	snprintf(why, why_len, "%llu entries, chain intact", expect - 1);
	return MG_KEYS_OK;
}

/* ---- PKCS#11 ---------------------------------------------------------------------------- */

static int audit_key_setup(struct mg_keys *k);
static int admin_lock(struct mg_keys *k);
static void admin_unlock(struct mg_keys *k, int fd);

int mg_keys_open(struct mg_keys **keys, const struct mg_keys_config *config)
{
	if (!keys || !config || !config->state_dir || !config->token_label || !config->pin)
		return MG_KEYS_ERR_ARG;
	*keys = NULL;
	struct mg_keys *k = calloc(1, sizeof(*k));
	if (!k)
		return MG_KEYS_ERR_IO;
	pthread_mutex_init(&k->lock, NULL);
	snprintf(k->state_dir, sizeof(k->state_dir), "%s", config->state_dir);
	k->bucket_period = config->bucket_key_period;
	char keys_dir[700];
	snprintf(keys_dir, sizeof(keys_dir), "%s/keys", k->state_dir);
	int rc = MG_KEYS_ERR_IO;
	if (mg_mkdir_p(keys_dir) != 0)
		goto fail;

	rc = MG_KEYS_ERR_TOKEN;
	const char *module = config->module_path ? config->module_path : MG_KEYS_DEFAULT_MODULE;
	k->module = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!k->module)
		goto fail;
	CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(k->module, "C_GetFunctionList");
	if (!get_list || get_list(&k->p11) != CKR_OK)
		goto fail;
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = k->p11->C_Initialize(&init);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		goto fail;

	CK_SLOT_ID slots[64];
	CK_ULONG slot_count = 64;
	if (k->p11->C_GetSlotList(CK_TRUE, slots, &slot_count) != CKR_OK)
		goto fail;
	char want[32];
	memset(want, ' ', sizeof(want));
	memcpy(want, config->token_label,
	       strlen(config->token_label) < 32 ? strlen(config->token_label) : 32);
	rc = MG_KEYS_ERR_LOGIN;
	CK_SLOT_ID slot = 0;
	bool found = false;
	for (CK_ULONG i = 0; i < slot_count && !found; i++) {
		CK_TOKEN_INFO info;
		if (k->p11->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
		    memcmp(info.label, want, 32) == 0) {
			slot = slots[i];
			found = true;
		}
	}
	if (!found)
		goto fail;
	if (k->p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				  &k->session) != CKR_OK)
		goto fail;
	rv = k->p11->C_Login(k->session, CKU_USER, (CK_UTF8CHAR_PTR)config->pin,
			     strlen(config->pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		goto fail;
	rc = audit_key_setup(k);
	if (rc != MG_KEYS_OK)
		goto fail;
	*keys = k;
	return MG_KEYS_OK;
fail:
	mg_keys_close(k);
	return rc;
}

void mg_keys_close(struct mg_keys *k)
{
	if (!k)
		return;
	if (k->p11) {
		if (k->session)
			k->p11->C_CloseSession(k->session);
		k->p11->C_Finalize(NULL);
	}
	if (k->module)
		dlclose(k->module);
	pthread_mutex_destroy(&k->lock);
	OPENSSL_cleanse(k, sizeof(*k)); /* cached bucket and PII keys */
	free(k);
}

static void version_label(char *out, size_t cap, const char *key_id, uint32_t version)
{
	snprintf(out, cap, "%s/v%u", key_id, version);
}

static int token_find(struct mg_keys *k, const char *key_id, uint32_t version,
		      CK_OBJECT_HANDLE *obj)
{
	char label[MG_KEYS_ID_MAX + 16];
	version_label(label, sizeof(label), key_id, version);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, label, strlen(label)},
	};
	CK_ULONG count = 0;
	if (k->p11->C_FindObjectsInit(k->session, tmpl, 2) != CKR_OK)
		return MG_KEYS_ERR_TOKEN;
	CK_RV rv = k->p11->C_FindObjects(k->session, obj, 1, &count);
	k->p11->C_FindObjectsFinal(k->session);
	if (rv != CKR_OK)
		return MG_KEYS_ERR_TOKEN;
	return count == 1 ? MG_KEYS_OK : MG_KEYS_ERR_NOT_FOUND;
}

/* A new CMK version: AES-256 generated inside the token, sensitive and never extractable. */
static int token_generate(struct mg_keys *k, const char *key_id, uint32_t version)
{
	char label[MG_KEYS_ID_MAX + 16];
	version_label(label, sizeof(label), key_id, version);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},	{CKA_KEY_TYPE, &type, sizeof(type)},
	    {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},	{CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)}, {CKA_ENCRYPT, &yes, sizeof(yes)},
	    {CKA_DECRYPT, &yes, sizeof(yes)},	{CKA_MODIFIABLE, &yes, sizeof(yes)},
	    {CKA_LABEL, label, strlen(label)},	{CKA_ID, label, strlen(label)},
	};
	CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
	CK_OBJECT_HANDLE obj;
	k->token_calls++;
	return k->p11->C_GenerateKey(k->session, &mech, tmpl, sizeof(tmpl) / sizeof(tmpl[0]),
				     &obj) == CKR_OK
		   ? MG_KEYS_OK
		   : MG_KEYS_ERR_TOKEN;
}

/* Disabling also switches the token's own usage flags, so the token refuses to use the key
 * even if the metadata were edited. */
static int token_set_usable(struct mg_keys *k, const char *key_id, uint32_t versions, bool usable)
{
	CK_BBOOL v = usable ? CK_TRUE : CK_FALSE;
	for (uint32_t ver = 1; ver <= versions; ver++) {
		CK_OBJECT_HANDLE obj;
		int rc = token_find(k, key_id, ver, &obj);
		if (rc != MG_KEYS_OK)
			return rc;
		CK_ATTRIBUTE tmpl[] = {{CKA_ENCRYPT, &v, sizeof(v)}, {CKA_DECRYPT, &v, sizeof(v)}};
		if (k->p11->C_SetAttributeValue(k->session, obj, tmpl, 2) != CKR_OK)
			return MG_KEYS_ERR_TOKEN;
	}
	return MG_KEYS_OK;
}

static int token_destroy(struct mg_keys *k, const char *key_id, uint32_t versions)
{
	for (uint32_t ver = 1; ver <= versions; ver++) {
		CK_OBJECT_HANDLE obj;
		if (token_find(k, key_id, ver, &obj) == MG_KEYS_OK &&
		    k->p11->C_DestroyObject(k->session, obj) != CKR_OK)
			return MG_KEYS_ERR_TOKEN;
	}
	return MG_KEYS_OK;
}

/* AES-256-GCM inside the token. out = iv(12) | ciphertext | tag(16). */
static int token_gcm_wrap(struct mg_keys *k, CK_OBJECT_HANDLE cmk, const uint8_t *aad,
			  size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	if (RAND_bytes(out, 12) != 1)
		return MG_KEYS_ERR_TOKEN;
	CK_GCM_PARAMS gcm = {.pIv = out,
			     .ulIvLen = 12,
			     .ulIvBits = 96,
			     .pAAD = (CK_BYTE_PTR)aad,
			     .ulAADLen = aad_len,
			     .ulTagBits = 128};
	CK_MECHANISM mech = {CKM_AES_GCM, &gcm, sizeof(gcm)};
	CK_ULONG out_len = len + 16;
	k->token_calls++;
	if (k->p11->C_EncryptInit(k->session, &mech, cmk) != CKR_OK)
		return MG_KEYS_ERR_TOKEN;
	if (k->p11->C_Encrypt(k->session, (CK_BYTE_PTR)in, len, out + 12, &out_len) != CKR_OK ||
	    out_len != len + 16)
		return MG_KEYS_ERR_TOKEN;
	return MG_KEYS_OK;
}

static int token_gcm_unwrap(struct mg_keys *k, CK_OBJECT_HANDLE cmk, const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
	if (in_len < 12 + 16)
		return MG_KEYS_ERR_UNWRAP;
	CK_GCM_PARAMS gcm = {.pIv = (CK_BYTE_PTR)in,
			     .ulIvLen = 12,
			     .ulIvBits = 96,
			     .pAAD = (CK_BYTE_PTR)aad,
			     .ulAADLen = aad_len,
			     .ulTagBits = 128};
	CK_MECHANISM mech = {CKM_AES_GCM, &gcm, sizeof(gcm)};
	CK_ULONG out_len = in_len - 12;
	k->token_calls++;
	CK_RV rv = k->p11->C_DecryptInit(k->session, &mech, cmk);
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return MG_KEYS_ERR_DISABLED;
	if (rv != CKR_OK)
		return MG_KEYS_ERR_TOKEN;
	/* SoftHSM2 reports a failed tag as CKR_GENERAL_ERROR: any failure means "does not
	 * open". */
	rv = k->p11->C_Decrypt(k->session, (CK_BYTE_PTR)in + 12, in_len - 12, out, &out_len);
	if (rv != CKR_OK || out_len != in_len - 12 - 16)
		return MG_KEYS_ERR_UNWRAP;
	return MG_KEYS_OK;
}

/* Key derivation inside the token: AES-256 used as a PRF on two label-derived blocks
 * (CKM_AES_ECB on SHA-256(label)), then SHA-256 outside to get a uniform 256-bit key. */
static int token_derive(struct mg_keys *k, const char *key_id, uint32_t version, const char *label,
			uint8_t out[32])
{
	CK_OBJECT_HANDLE obj;
	int rc = token_find(k, key_id, version, &obj);
	if (rc != MG_KEYS_OK)
		return rc;
	uint8_t blocks[32], prf[32 + 16];
	SHA256((const uint8_t *)label, strlen(label), blocks);
	CK_MECHANISM mech = {CKM_AES_ECB, NULL, 0};
	CK_ULONG out_len = 32;
	k->token_calls++;
	CK_RV rv = k->p11->C_EncryptInit(k->session, &mech, obj);
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return MG_KEYS_ERR_DISABLED;
	if (rv != CKR_OK || k->p11->C_Encrypt(k->session, blocks, 32, prf, &out_len) != CKR_OK ||
	    out_len != 32)
		return MG_KEYS_ERR_TOKEN;
	uint8_t input[7 + 32];
	memcpy(input, "mg-kdf1", 7);
	memcpy(input + 7, prf, 32);
	SHA256(input, sizeof(input), out);
	OPENSSL_cleanse(prf, sizeof(prf));
	OPENSSL_cleanse(input, sizeof(input));
	return MG_KEYS_OK;
}

/* The token's audit key (label "mg-audit/v1", created on first use) yields the chain's HMAC
 * key: one token call per process. */
static int audit_key_setup(struct mg_keys *k)
{
	/* Under the metadata lock: two first-ever processes must not create two keys. */
	int lock = admin_lock(k);
	CK_OBJECT_HANDLE obj;
	int rc = token_find(k, "mg-audit", 1, &obj);
	if (rc == MG_KEYS_ERR_NOT_FOUND)
		rc = token_generate(k, "mg-audit", 1);
	if (rc == MG_KEYS_OK)
		rc = token_derive(k, "mg-audit", 1, "audit-chain-hmac", k->audit_key);
	admin_unlock(k, lock);
	k->token_calls = 0; /* count only recording work */
	return rc;
}

/* ---- metadata --------------------------------------------------------------------------- */

static int meta_path(struct mg_keys *k, const char *key_id, char *out, size_t cap)
{
	if (!name_ok(key_id, MG_KEYS_ID_MAX, false) || strchr(key_id, '/'))
		return MG_KEYS_ERR_ARG;
	snprintf(out, cap, "%s/keys/%s.meta", k->state_dir, key_id);
	return MG_KEYS_OK;
}

static int meta_load(struct mg_keys *k, const char *key_id, struct mg_keys_info *info)
{
	char path[800];
	int rc = meta_path(k, key_id, path, sizeof(path));
	if (rc != MG_KEYS_OK)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? MG_KEYS_ERR_NOT_FOUND : MG_KEYS_ERR_IO;
	memset(info, 0, sizeof(*info));
	char line[2048];
	rc = MG_KEYS_OK;
	while (fgets(line, sizeof(line), f)) {
		char name[64], a[MG_KEYS_CONSTRAINT_MAX], b[MG_KEYS_NAME_MAX], c[MG_KEYS_NAME_MAX];
		long long t;
		unsigned u;
		if (sscanf(line, "key_id %127s", info->key_id) == 1 ||
		    sscanf(line, "account %127s", info->account) == 1 ||
		    sscanf(line, "instance %127s", info->instance) == 1 ||
		    sscanf(line, "owner %127s", info->owner) == 1)
			continue;
		if (sscanf(line, "state %63s", name) == 1) {
			for (int s = 0; s <= MG_KEYS_STATE_DELETED; s++)
				if (strcmp(name, mg_keys_state_name((enum mg_keys_state)s)) == 0)
					info->state = (enum mg_keys_state)s;
		} else if (sscanf(line, "created %lld", &t) == 1) {
			info->created = (time_t)t;
		} else if (sscanf(line, "deletion_time %lld", &t) == 1) {
			info->deletion_time = (time_t)t;
		} else if (sscanf(line, "rotation_days %u", &u) == 1) {
			info->rotation_days = u;
		} else if (sscanf(line, "version %u %lld", &u, &t) == 2) {
			if (u != info->version_count + 1 || u > MG_KEYS_MAX_VERSIONS) {
				rc = MG_KEYS_ERR_CORRUPT;
				break;
			}
			info->version_created[u - 1] = (time_t)t;
			info->version_count = u;
		} else if (sscanf(line, "grant %127s %127s %u %511s", b, c, &u, a) == 4) {
			if (info->grant_count == MG_KEYS_MAX_GRANTS) {
				rc = MG_KEYS_ERR_CORRUPT;
				break;
			}
			struct mg_keys_grant *g = &info->grants[info->grant_count++];
			snprintf(g->id, sizeof(g->id), "%s", b);
			snprintf(g->grantee, sizeof(g->grantee), "%s", c);
			g->ops = u;
			snprintf(g->constraint, sizeof(g->constraint), "%s",
				 strcmp(a, "-") == 0 ? "" : a);
		}
	}
	fclose(f);
	if (rc == MG_KEYS_OK && (info->version_count == 0 || strcmp(info->key_id, key_id) != 0))
		rc = MG_KEYS_ERR_CORRUPT;
	return rc;
}

static int meta_store(struct mg_keys *k, const struct mg_keys_info *info)
{
	size_t cap = 4096 + MG_KEYS_MAX_VERSIONS * 40 + MG_KEYS_MAX_GRANTS * 900;
	char *text = malloc(cap);
	if (!text)
		return MG_KEYS_ERR_IO;
	size_t n = (size_t)snprintf(text, cap,
				    "# mediagate CMK metadata: no key material here\n"
				    "key_id %s\naccount %s\ninstance %s\nowner %s\nstate %s\n"
				    "created %lld\ndeletion_time %lld\nrotation_days %u\n",
				    info->key_id, info->account, info->instance, info->owner,
				    mg_keys_state_name(info->state), (long long)info->created,
				    (long long)info->deletion_time, info->rotation_days);
	for (uint32_t v = 0; v < info->version_count; v++)
		n += (size_t)snprintf(text + n, cap - n, "version %u %lld\n", v + 1,
				      (long long)info->version_created[v]);
	for (unsigned g = 0; g < info->grant_count; g++)
		n += (size_t)snprintf(text + n, cap - n, "grant %s %s %u %s\n", info->grants[g].id,
				      info->grants[g].grantee, info->grants[g].ops,
				      info->grants[g].constraint[0] ? info->grants[g].constraint
								    : "-");
	char dir[700], name[MG_KEYS_ID_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/keys", k->state_dir);
	snprintf(name, sizeof(name), "%s.meta", info->key_id);
	int rc = write_file_atomic(dir, name, text) == 0 ? MG_KEYS_OK : MG_KEYS_ERR_IO;
	free(text);
	return rc;
}

/* Loads a key and applies what time has decided: a due deletion or automatic rotation. */
static int key_load(struct mg_keys *k, const char *key_id, struct mg_keys_info *info)
{
	int rc = meta_load(k, key_id, info);
	if (rc != MG_KEYS_OK)
		return rc;
	time_t now = keys_now(k);
	if (info->state == MG_KEYS_STATE_PENDING_DELETION && now >= info->deletion_time) {
		rc = token_destroy(k, key_id, info->version_count);
		char res[128];
		audit_append_locked(k, "mediagate", "key.delete", key_id, 0, NULL,
				    "waiting-period-over", result_text(rc, res, sizeof(res)));
		if (rc != MG_KEYS_OK)
			return rc;
		info->state = MG_KEYS_STATE_DELETED;
		return meta_store(k, info);
	}
	if (info->state == MG_KEYS_STATE_ENABLED && info->rotation_days &&
	    now >= info->version_created[info->version_count - 1] +
		       (time_t)info->rotation_days * 86400 &&
	    info->version_count < MG_KEYS_MAX_VERSIONS) {
		uint32_t version = info->version_count + 1;
		rc = token_generate(k, key_id, version);
		char res[128];
		audit_append_locked(k, "mediagate", "key.rotate", key_id, version, NULL,
				    "automatic", result_text(rc, res, sizeof(res)));
		if (rc != MG_KEYS_OK)
			return rc;
		info->version_created[version - 1] = now;
		info->version_count = version;
		return meta_store(k, info);
	}
	return MG_KEYS_OK;
}

static int state_error(enum mg_keys_state s)
{
	switch (s) {
	case MG_KEYS_STATE_ENABLED:
		return MG_KEYS_OK;
	case MG_KEYS_STATE_DISABLED:
		return MG_KEYS_ERR_DISABLED;
	case MG_KEYS_STATE_PENDING_DELETION:
		return MG_KEYS_ERR_PENDING_DELETION;
	default:
		return MG_KEYS_ERR_DELETED;
	}
}

/* "field=value[,field=value]": each named field must equal value (or start with it when the
 * value ends in '*'). */
static bool constraint_matches(const char *constraint, const struct mg_envelope_context *ctx)
{
	if (!constraint[0])
		return true;
	if (!ctx)
		return false;
	char buf[MG_KEYS_CONSTRAINT_MAX];
	snprintf(buf, sizeof(buf), "%s", constraint);
	char *save = NULL;
	for (char *term = strtok_r(buf, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(term, '=');
		if (!eq)
			return false;
		*eq = '\0';
		const char *want = eq + 1, *have;
		if (strcmp(term, "account") == 0)
			have = ctx->account;
		else if (strcmp(term, "instance") == 0)
			have = ctx->instance;
		else if (strcmp(term, "contact_id") == 0)
			have = ctx->contact_id;
		else if (strcmp(term, "object_path") == 0)
			have = ctx->object_path;
		else
			return false;
		if (!have)
			return false;
		size_t wl = strlen(want);
		if (wl && want[wl - 1] == '*') {
			if (strncmp(have, want, wl - 1) != 0)
				return false;
		} else if (strcmp(have, want) != 0) {
			return false;
		}
	}
	return true;
}

static bool allowed(const struct mg_keys_info *info, const char *principal, unsigned op,
		    const struct mg_envelope_context *ctx)
{
	if (!principal || !*principal)
		return false;
	if (strcmp(principal, info->owner) == 0)
		return true;
	for (unsigned g = 0; g < info->grant_count; g++)
		if (strcmp(info->grants[g].grantee, principal) == 0 && (info->grants[g].ops & op) &&
		    constraint_matches(info->grants[g].constraint, ctx))
			return true;
	return false;
}

/* ---- administration --------------------------------------------------------------------- */

static int admin_lock(struct mg_keys *k)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/keys/.lock", k->state_dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	pthread_mutex_lock(&k->lock);
	return fd;
}

static void admin_unlock(struct mg_keys *k, int fd)
{
	pthread_mutex_unlock(&k->lock);
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

int mg_keys_create(struct mg_keys *k, const char *principal, const char *account,
		   const char *instance, unsigned rotation_days, char key_id[MG_KEYS_ID_MAX])
{
	if (!k || !name_ok(principal, MG_KEYS_NAME_MAX, false) ||
	    !plain_id(account, MG_KEYS_NAME_MAX) || !plain_id(instance, MG_KEYS_NAME_MAX - 8))
		return MG_KEYS_ERR_ARG;
	if (rotation_days == 0)
		rotation_days = MG_KEYS_ROTATION_DAYS_DEFAULT;
	if (rotation_days < MG_KEYS_ROTATION_DAYS_MIN || rotation_days > MG_KEYS_ROTATION_DAYS_MAX)
		return MG_KEYS_ERR_ARG;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return MG_KEYS_ERR_IO;
	snprintf(info->key_id, sizeof(info->key_id), "mgk-%s", instance);
	int lock = admin_lock(k);
	struct mg_keys_info *existing = calloc(1, sizeof(*existing));
	int rc = existing ? meta_load(k, info->key_id, existing) : MG_KEYS_ERR_IO;
	free(existing);
	if (rc == MG_KEYS_OK || rc != MG_KEYS_ERR_NOT_FOUND) {
		rc = rc == MG_KEYS_OK ? MG_KEYS_ERR_EXISTS : rc;
	} else {
		snprintf(info->account, sizeof(info->account), "%s", account);
		snprintf(info->instance, sizeof(info->instance), "%s", instance);
		snprintf(info->owner, sizeof(info->owner), "%s", principal);
		info->state = MG_KEYS_STATE_ENABLED;
		info->created = keys_now(k);
		info->rotation_days = rotation_days;
		info->version_count = 1;
		info->version_created[0] = info->created;
		/* A leftover object with this label (crash between token and metadata) is
		 * replaced so the metadata and token agree. */
		token_destroy(k, info->key_id, 1);
		rc = token_generate(k, info->key_id, 1);
		if (rc == MG_KEYS_OK)
			rc = meta_store(k, info);
	}
	char res[128], detail[64];
	snprintf(detail, sizeof(detail), "rotation_days=%u", rotation_days);
	struct mg_envelope_context ctx = {.account = account, .instance = instance};
	int arc = audit_append_locked(k, principal, "key.create", info->key_id, 1, &ctx, detail,
				      result_text(rc, res, sizeof(res)));
	admin_unlock(k, lock);
	if (rc == MG_KEYS_OK && key_id)
		snprintf(key_id, MG_KEYS_ID_MAX, "%s", info->key_id);
	free(info);
	return rc != MG_KEYS_OK ? rc : arc;
}

enum admin_action {
	ROTATE,
	SET_ROTATION,
	DISABLE,
	ENABLE,
	SCHEDULE_DELETION,
	CANCEL_DELETION,
	GRANT,
	REVOKE
};

static int admin(struct mg_keys *k, const char *principal, const char *key_id,
		 enum admin_action action, unsigned number, const char *grantee, unsigned ops,
		 const char *constraint, char *grant_id)
{
	static const char *const names[] = {"key.rotate",
					    "key.set-rotation",
					    "key.disable",
					    "key.enable",
					    "key.schedule-deletion",
					    "key.cancel-deletion",
					    "key.grant",
					    "key.revoke"};
	if (!k || !principal || !key_id)
		return MG_KEYS_ERR_ARG;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return MG_KEYS_ERR_IO;
	int lock = admin_lock(k);
	char detail[800] = "-";
	uint32_t version = 0;
	int rc = name_ok(principal, MG_KEYS_NAME_MAX, false) ? key_load(k, key_id, info)
							     : MG_KEYS_ERR_ARG;
	if (rc == MG_KEYS_OK && strcmp(principal, info->owner) != 0)
		rc = MG_KEYS_ERR_DENIED;
	if (rc == MG_KEYS_OK && info->state == MG_KEYS_STATE_DELETED)
		rc = MG_KEYS_ERR_DELETED;
	if (rc == MG_KEYS_OK) {
		version = info->version_count;
		switch (action) {
		case ROTATE:
			rc = state_error(info->state);
			if (rc == MG_KEYS_OK && info->version_count == MG_KEYS_MAX_VERSIONS)
				rc = MG_KEYS_ERR_ARG;
			if (rc == MG_KEYS_OK)
				rc = token_generate(k, key_id, info->version_count + 1);
			if (rc == MG_KEYS_OK) {
				version = ++info->version_count;
				info->version_created[version - 1] = keys_now(k);
				snprintf(detail, sizeof(detail), "manual");
			}
			break;
		case SET_ROTATION:
			if (number < MG_KEYS_ROTATION_DAYS_MIN ||
			    number > MG_KEYS_ROTATION_DAYS_MAX)
				rc = MG_KEYS_ERR_ARG;
			info->rotation_days = number;
			snprintf(detail, sizeof(detail), "rotation_days=%u", number);
			break;
		case DISABLE:
			if (info->state == MG_KEYS_STATE_PENDING_DELETION)
				rc = MG_KEYS_ERR_PENDING_DELETION;
			else
				rc = token_set_usable(k, key_id, info->version_count, false);
			info->state = MG_KEYS_STATE_DISABLED;
			break;
		case ENABLE:
			if (info->state == MG_KEYS_STATE_PENDING_DELETION)
				rc = MG_KEYS_ERR_PENDING_DELETION; /* cancel the deletion first */
			else
				rc = token_set_usable(k, key_id, info->version_count, true);
			info->state = MG_KEYS_STATE_ENABLED;
			break;
		case SCHEDULE_DELETION:
			if (number == 0)
				number = MG_KEYS_DELETION_DAYS_MAX;
			if (number < MG_KEYS_DELETION_DAYS_MIN ||
			    number > MG_KEYS_DELETION_DAYS_MAX)
				rc = MG_KEYS_ERR_ARG;
			else
				rc = token_set_usable(k, key_id, info->version_count, false);
			info->state = MG_KEYS_STATE_PENDING_DELETION;
			info->deletion_time = keys_now(k) + (time_t)number * 86400;
			snprintf(detail, sizeof(detail), "waiting_days=%u", number);
			break;
		case CANCEL_DELETION:
			/* Like KMS: cancelling leaves the key disabled until enabled. */
			if (info->state != MG_KEYS_STATE_PENDING_DELETION)
				rc = MG_KEYS_ERR_ARG;
			info->state = MG_KEYS_STATE_DISABLED;
			info->deletion_time = 0;
			break;
		case GRANT: {
			if (!name_ok(grantee, MG_KEYS_NAME_MAX, false) ||
			    !name_ok(constraint ? constraint : "", MG_KEYS_CONSTRAINT_MAX, true) ||
			    !ops || (ops & ~7u) || info->grant_count == MG_KEYS_MAX_GRANTS) {
				rc = MG_KEYS_ERR_ARG;
				break;
			}
			struct mg_keys_grant *g = &info->grants[info->grant_count];
			uint8_t rnd[8];
			RAND_bytes(rnd, sizeof(rnd));
			char hex[17];
			hex_encode(rnd, sizeof(rnd), hex);
			snprintf(g->id, sizeof(g->id), "g-%s", hex);
			snprintf(g->grantee, sizeof(g->grantee), "%s", grantee);
			g->ops = ops;
			snprintf(g->constraint, sizeof(g->constraint), "%s",
				 constraint ? constraint : "");
			if (grant_id)
				snprintf(grant_id, MG_KEYS_NAME_MAX, "%s", g->id);
			info->grant_count++;
			snprintf(detail, sizeof(detail), "grant=%s grantee=%s ops=%u constraint=%s",
				 g->id, grantee, ops, g->constraint[0] ? g->constraint : "-");
			break;
		}
		case REVOKE: {
			rc = MG_KEYS_ERR_NOT_FOUND;
			for (unsigned g = 0; g < info->grant_count; g++) {
				if (grantee && strcmp(info->grants[g].id, grantee) == 0) {
					info->grants[g] = info->grants[--info->grant_count];
					rc = MG_KEYS_OK;
					break;
				}
			}
			snprintf(detail, sizeof(detail), "grant=%s", grantee ? grantee : "-");
			break;
		}
		}
		if (rc == MG_KEYS_OK)
			rc = meta_store(k, info);
	}
	char res[128];
	int arc = audit_append_locked(k, principal, names[action], key_id, version, NULL, detail,
				      result_text(rc, res, sizeof(res)));
	admin_unlock(k, lock);
	free(info);
	return rc != MG_KEYS_OK ? rc : arc;
}

int mg_keys_rotate(struct mg_keys *k, const char *principal, const char *key_id)
{
	return admin(k, principal, key_id, ROTATE, 0, NULL, 0, NULL, NULL);
}

int mg_keys_set_rotation(struct mg_keys *k, const char *principal, const char *key_id,
			 unsigned rotation_days)
{
	return admin(k, principal, key_id, SET_ROTATION, rotation_days, NULL, 0, NULL, NULL);
}

int mg_keys_disable(struct mg_keys *k, const char *principal, const char *key_id)
{
	return admin(k, principal, key_id, DISABLE, 0, NULL, 0, NULL, NULL);
}

int mg_keys_enable(struct mg_keys *k, const char *principal, const char *key_id)
{
	return admin(k, principal, key_id, ENABLE, 0, NULL, 0, NULL, NULL);
}

int mg_keys_schedule_deletion(struct mg_keys *k, const char *principal, const char *key_id,
			      unsigned waiting_days)
{
	return admin(k, principal, key_id, SCHEDULE_DELETION, waiting_days, NULL, 0, NULL, NULL);
}

int mg_keys_cancel_deletion(struct mg_keys *k, const char *principal, const char *key_id)
{
	return admin(k, principal, key_id, CANCEL_DELETION, 0, NULL, 0, NULL, NULL);
}

int mg_keys_grant(struct mg_keys *k, const char *principal, const char *key_id, const char *grantee,
		  unsigned ops, const char *constraint, char grant_id[MG_KEYS_NAME_MAX])
{
	return admin(k, principal, key_id, GRANT, 0, grantee, ops, constraint, grant_id);
}

int mg_keys_revoke(struct mg_keys *k, const char *principal, const char *key_id,
		   const char *grant_id)
{
	return admin(k, principal, key_id, REVOKE, 0, grant_id, 0, NULL, NULL);
}

int mg_keys_describe(struct mg_keys *k, const char *key_id, struct mg_keys_info *info)
{
	if (!k || !key_id || !info)
		return MG_KEYS_ERR_ARG;
	int lock = admin_lock(k);
	int rc = key_load(k, key_id, info);
	admin_unlock(k, lock);
	return rc;
}

int mg_keys_key_for_instance(struct mg_keys *k, const char *instance, char key_id[MG_KEYS_ID_MAX])
{
	if (!k || !name_ok(instance, MG_KEYS_NAME_MAX - 8, false) || strchr(instance, '/'))
		return MG_KEYS_ERR_ARG;
	char id[MG_KEYS_ID_MAX], path[800];
	snprintf(id, sizeof(id), "mgk-%s", instance);
	meta_path(k, id, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return MG_KEYS_ERR_NOT_FOUND;
	snprintf(key_id, MG_KEYS_ID_MAX, "%s", id);
	return MG_KEYS_OK;
}

int mg_keys_list(struct mg_keys *k, int (*fn)(void *arg, const char *key_id), void *arg)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/keys", k->state_dir);
	DIR *d = opendir(dir);
	if (!d)
		return MG_KEYS_ERR_IO;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".meta") == 0) {
			char id[MG_KEYS_ID_MAX];
			snprintf(id, sizeof(id), "%.*s", (int)(n - 5), e->d_name);
			if (fn(arg, id))
				break;
		}
	}
	closedir(d);
	return MG_KEYS_OK;
}

/* ---- data keys -------------------------------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The period's bucket key: derived in the token once, then cached in process memory. */
static int bucket_key(struct mg_keys *k, const char *key_id, uint32_t version, uint64_t period,
		      uint8_t out[32])
{
	for (unsigned i = 0; i < BUCKET_CACHE; i++) {
		struct bucket_entry *b = &k->buckets[i];
		if (b->used && b->version == version && b->period == period &&
		    strcmp(b->key_id, key_id) == 0) {
			memcpy(out, b->key, 32);
			return MG_KEYS_OK;
		}
	}
	char label[MG_KEYS_ID_MAX + 64];
	snprintf(label, sizeof(label), "bucket-key|%s|%u|%llu", key_id, version,
		 (unsigned long long)period);
	int rc = token_derive(k, key_id, version, label, out);
	if (rc != MG_KEYS_OK)
		return rc;
	struct bucket_entry *b = &k->buckets[k->bucket_next++ % BUCKET_CACHE];
	snprintf(b->key_id, sizeof(b->key_id), "%s", key_id);
	b->version = version;
	b->period = period;
	memcpy(b->key, out, 32);
	b->used = true;
	return MG_KEYS_OK;
}

static int soft_gcm(int encrypt, const uint8_t key[32], const uint8_t *iv, const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl, ok = c != NULL;
	ok = ok && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, encrypt) == 1;
	ok = ok && EVP_CipherUpdate(c, NULL, &outl, aad, (int)aad_len) == 1;
	ok = ok && (len == 0 || EVP_CipherUpdate(c, out, &outl, in, (int)len) == 1);
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + len, &outl) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok && !encrypt)
		OPENSSL_cleanse(out, len);
	return ok ? 0 : -1;
}

static int data_key_op(struct mg_keys *k, const char *principal, unsigned op,
		       struct mg_envelope_context *gen_ctx,
		       const struct mg_envelope_context *dec_ctx, struct mg_envelope_data_key *dk,
		       const uint8_t *wrap_info, size_t wrap_info_len, const uint8_t *wrapped,
		       size_t wrapped_len, uint8_t *key_out)
{
	const struct mg_envelope_context *ctx = gen_ctx ? gen_ctx : dec_ctx;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return MG_KEYS_ERR_IO;
	int lock = admin_lock(k);
	char detail[128] = "-";
	int rc = key_load(k, ctx->key_id, info);
	uint32_t version = gen_ctx ? info->version_count : dec_ctx->key_version;
	if (rc == MG_KEYS_OK && gen_ctx)
		gen_ctx->key_version = version;
	if (rc == MG_KEYS_OK && strcmp(ctx->instance, info->instance) != 0)
		rc = MG_KEYS_ERR_DENIED; /* a CMK only serves its own instance */
	if (rc == MG_KEYS_OK && !allowed(info, principal, op, ctx))
		rc = MG_KEYS_ERR_DENIED;
	if (rc == MG_KEYS_OK)
		rc = state_error(info->state);
	if (rc == MG_KEYS_OK && (version == 0 || version > info->version_count))
		rc = MG_KEYS_ERR_NOT_FOUND;
	uint8_t aad[CTX_MAX];
	long aad_len = rc == MG_KEYS_OK ? mg_envelope_context_encode(ctx, aad, sizeof(aad)) : 0;
	if (aad_len < 0)
		rc = MG_KEYS_ERR_ARG;
	if (rc == MG_KEYS_OK && gen_ctx) {
		memset(dk, 0, sizeof(*dk));
		if (RAND_bytes(dk->key, sizeof(dk->key)) != 1)
			rc = MG_KEYS_ERR_TOKEN;
		if (rc == MG_KEYS_OK && k->bucket_period) {
			uint64_t period = (uint64_t)keys_now(k) / k->bucket_period;
			uint8_t bk[32];
			rc = bucket_key(k, ctx->key_id, version, period, bk);
			if (rc == MG_KEYS_OK &&
			    (RAND_bytes(dk->wrapped, 12) != 1 ||
			     soft_gcm(1, bk, dk->wrapped, aad, (size_t)aad_len, dk->key, 32,
				      dk->wrapped + 12, dk->wrapped + 12 + 32) != 0))
				rc = MG_KEYS_ERR_TOKEN;
			OPENSSL_cleanse(bk, sizeof(bk));
			dk->wrap_info[0] = WRAP_MODE_BUCKET;
			put_u64(dk->wrap_info + 1, period);
			dk->wrap_info_len = 9;
			snprintf(detail, sizeof(detail), "wrap=bucket-key period=%llu",
				 (unsigned long long)period);
		} else if (rc == MG_KEYS_OK) {
			CK_OBJECT_HANDLE obj;
			rc = token_find(k, ctx->key_id, version, &obj);
			if (rc == MG_KEYS_OK)
				rc = token_gcm_wrap(k, obj, aad, (size_t)aad_len, dk->key, 32,
						    dk->wrapped);
			dk->wrap_info[0] = WRAP_MODE_TOKEN;
			dk->wrap_info_len = 1;
			snprintf(detail, sizeof(detail), "wrap=token");
		}
		dk->wrapped_len = WRAPPED_LEN;
		if (rc != MG_KEYS_OK)
			OPENSSL_cleanse(dk, sizeof(*dk));
	} else if (rc == MG_KEYS_OK) {
		if (wrapped_len != WRAPPED_LEN || wrap_info_len < 1) {
			rc = MG_KEYS_ERR_UNWRAP;
		} else if (wrap_info[0] == WRAP_MODE_BUCKET && wrap_info_len == 9) {
			uint64_t period = get_u64(wrap_info + 1);
			uint8_t bk[32];
			rc = bucket_key(k, ctx->key_id, version, period, bk);
			if (rc == MG_KEYS_OK &&
			    soft_gcm(0, bk, wrapped, aad, (size_t)aad_len, wrapped + 12, 32,
				     key_out, (uint8_t *)wrapped + 12 + 32) != 0)
				rc = MG_KEYS_ERR_UNWRAP;
			OPENSSL_cleanse(bk, sizeof(bk));
			snprintf(detail, sizeof(detail), "wrap=bucket-key period=%llu",
				 (unsigned long long)period);
		} else if (wrap_info[0] == WRAP_MODE_TOKEN && wrap_info_len == 1) {
			CK_OBJECT_HANDLE obj;
			rc = token_find(k, ctx->key_id, version, &obj);
			if (rc == MG_KEYS_OK)
				rc = token_gcm_unwrap(k, obj, aad, (size_t)aad_len, wrapped,
						      wrapped_len, key_out);
			snprintf(detail, sizeof(detail), "wrap=token");
		} else {
			rc = MG_KEYS_ERR_UNWRAP;
		}
	}
	char res[128];
	int arc = audit_append_locked(
	    k, principal, gen_ctx ? "key.generate-data-key" : "key.decrypt", ctx->key_id, version,
	    ctx, detail, result_text(rc, res, sizeof(res)));
	admin_unlock(k, lock);
	free(info);
	if (rc == MG_KEYS_OK && arc != MG_KEYS_OK) {
		/* No audit record, no key. */
		if (dk)
			OPENSSL_cleanse(dk, sizeof(*dk));
		if (key_out)
			OPENSSL_cleanse(key_out, MG_ENVELOPE_KEY_LEN);
		return arc;
	}
	return rc;
}

static bool context_ok(const struct mg_envelope_context *c)
{
	return c && c->account && c->instance && c->contact_id && c->object_path && c->key_id;
}

int mg_keys_generate_data_key(struct mg_keys *k, const char *principal,
			      struct mg_envelope_context *context,
			      struct mg_envelope_data_key *data_key)
{
	if (!k || !context_ok(context) || !data_key)
		return MG_KEYS_ERR_ARG;
	return data_key_op(k, principal, MG_KEYS_OP_ENCRYPT, context, NULL, data_key, NULL, 0, NULL,
			   0, NULL);
}

int mg_keys_decrypt_data_key(struct mg_keys *k, const char *principal,
			     const struct mg_envelope_context *context, const uint8_t *wrap_info,
			     size_t wrap_info_len, const uint8_t *wrapped, size_t wrapped_len,
			     uint8_t key[MG_ENVELOPE_KEY_LEN])
{
	if (!k || !context_ok(context) || !wrap_info || !wrapped || !key)
		return MG_KEYS_ERR_ARG;
	return data_key_op(k, principal, MG_KEYS_OP_DECRYPT, NULL, context, NULL, wrap_info,
			   wrap_info_len, wrapped, wrapped_len, key);
}

/* ---- PII -------------------------------------------------------------------------------- */

/* Instance keys for PII, derived in the token under the instance CMK's first version so they
 * stay stable across rotations (stored hashes remain searchable). */
static int pii_keys(struct mg_keys *k, const char *principal, const char *instance,
		    const char *operation, uint8_t ani_key[32], uint8_t data_key[32])
{
	char key_id[MG_KEYS_ID_MAX];
	int rc = mg_keys_key_for_instance(k, instance, key_id);
	if (rc != MG_KEYS_OK)
		return rc;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return MG_KEYS_ERR_IO;
	int lock = admin_lock(k);
	rc = key_load(k, key_id, info);
	struct mg_envelope_context ctx = {
	    .account = info->account, .instance = instance, .contact_id = "", .object_path = ""};
	if (rc == MG_KEYS_OK && !allowed(info, principal, MG_KEYS_OP_PII, &ctx))
		rc = MG_KEYS_ERR_DENIED;
	if (rc == MG_KEYS_OK)
		rc = state_error(info->state);
	bool cached = false;
	for (unsigned i = 0; rc == MG_KEYS_OK && i < PII_CACHE; i++) {
		if (k->pii[i].used && strcmp(k->pii[i].instance, instance) == 0) {
			memcpy(ani_key, k->pii[i].ani_key, 32);
			memcpy(data_key, k->pii[i].data_key, 32);
			cached = true;
			break;
		}
	}
	if (rc == MG_KEYS_OK && !cached) {
		char label[MG_KEYS_ID_MAX + 64];
		snprintf(label, sizeof(label), "ani-hmac|%s|%s", instance, key_id);
		rc = token_derive(k, key_id, 1, label, ani_key);
		snprintf(label, sizeof(label), "pii-data|%s|%s", instance, key_id);
		if (rc == MG_KEYS_OK)
			rc = token_derive(k, key_id, 1, label, data_key);
		if (rc == MG_KEYS_OK) {
			struct pii_entry *e = &k->pii[k->pii_next++ % PII_CACHE];
			snprintf(e->instance, sizeof(e->instance), "%s", instance);
			memcpy(e->ani_key, ani_key, 32);
			memcpy(e->data_key, data_key, 32);
			e->used = true;
		}
	}
	/* Only refusals are audited here: successful PII use is audited by the caller's
	 * recording-level event (seal, search, get), which names the contact. */
	if (rc != MG_KEYS_OK) {
		char res[128];
		audit_append_locked(k, principal, operation, key_id, 1, &ctx, "-",
				    result_text(rc, res, sizeof(res)));
	}
	admin_unlock(k, lock);
	free(info);
	return rc;
}

int mg_keys_ani_hash(struct mg_keys *k, const char *principal, const char *instance,
		     const char *ani, char hash_hex[MG_KEYS_ANI_HASH_HEX])
{
	if (!k || !instance || !ani || !hash_hex)
		return MG_KEYS_ERR_ARG;
	uint8_t ani_key[32], data_key[32], mac[32];
	int rc = pii_keys(k, principal, instance, "pii.ani-hash", ani_key, data_key);
	if (rc == MG_KEYS_OK) {
		unsigned mac_len = 32;
		/* Domain-separate by instance: equal numbers never hash equally across
		 * instances even if keys were shared. */
		char msg[600];
		int n = snprintf(msg, sizeof(msg), "ani|%s|%s", instance, ani);
		HMAC(EVP_sha256(), ani_key, 32, (const uint8_t *)msg, (size_t)n, mac, &mac_len);
		hex_encode(mac, 32, hash_hex);
	}
	OPENSSL_cleanse(ani_key, 32);
	OPENSSL_cleanse(data_key, 32);
	return rc;
}

static long pii_aad(char *aad, size_t cap, const char *instance, const char *field)
{
	return snprintf(aad, cap, "mg-pii1|%s|%s", instance, field);
}

int mg_keys_pii_seal(struct mg_keys *k, const char *principal, const char *instance,
		     const char *field, const char *plaintext, char **out)
{
	if (!k || !instance || !field || !plaintext || !out)
		return MG_KEYS_ERR_ARG;
	*out = NULL;
	uint8_t ani_key[32], data_key[32];
	int rc = pii_keys(k, principal, instance, "pii.seal", ani_key, data_key);
	size_t len = strlen(plaintext);
	if (rc == MG_KEYS_OK) {
		uint8_t *bin = malloc(12 + len + 16);
		char *text = malloc(5 + 2 * (12 + len + 16) + 1);
		char aad[600];
		long aad_len = pii_aad(aad, sizeof(aad), instance, field);
		if (!bin || !text || RAND_bytes(bin, 12) != 1 ||
		    soft_gcm(1, data_key, bin, (uint8_t *)aad, (size_t)aad_len,
			     (const uint8_t *)plaintext, len, bin + 12, bin + 12 + len) != 0) {
			free(text);
			rc = MG_KEYS_ERR_IO;
		} else {
			memcpy(text, "pii1:", 5);
			hex_encode(bin, 12 + len + 16, text + 5);
			*out = text;
		}
		free(bin);
	}
	OPENSSL_cleanse(ani_key, 32);
	OPENSSL_cleanse(data_key, 32);
	return rc;
}

int mg_keys_pii_open(struct mg_keys *k, const char *principal, const char *instance,
		     const char *field, const char *sealed, char **out)
{
	if (!k || !instance || !field || !sealed || !out || strncmp(sealed, "pii1:", 5) != 0)
		return MG_KEYS_ERR_ARG;
	*out = NULL;
	size_t cap = strlen(sealed) / 2, len;
	uint8_t *bin = malloc(cap + 1);
	if (!bin)
		return MG_KEYS_ERR_IO;
	if (hex_decode(sealed + 5, bin, cap, &len) != 0 || len < 28) {
		free(bin);
		return MG_KEYS_ERR_ARG;
	}
	uint8_t ani_key[32], data_key[32];
	int rc = pii_keys(k, principal, instance, "pii.open", ani_key, data_key);
	if (rc == MG_KEYS_OK) {
		size_t plain_len = len - 28;
		char *text = malloc(plain_len + 1);
		char aad[600];
		long aad_len = pii_aad(aad, sizeof(aad), instance, field);
		if (!text || soft_gcm(0, data_key, bin, (uint8_t *)aad, (size_t)aad_len, bin + 12,
				      plain_len, (uint8_t *)text, bin + 12 + plain_len) != 0) {
			free(text);
			rc = MG_KEYS_ERR_UNWRAP;
		} else {
			text[plain_len] = '\0';
			*out = text;
		}
	}
	OPENSSL_cleanse(ani_key, 32);
	OPENSSL_cleanse(data_key, 32);
	free(bin);
	return rc;
}
