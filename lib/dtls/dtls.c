/* DTLS-SRTP on OpenSSL 3 memory BIOs. See dtls.h and docs/ice-dtls.md. */
#include "dtls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DEFAULT_HANDSHAKE_TIMEOUT_NS (30ull * 1000000000ull)
#define DEFAULT_RT_INITIAL_MS	     1000
#define DEFAULT_RT_MAX_MS	     60000
#define DEFAULT_MTU		     1200
#define MIN_MTU			     256
#define MAX_MTU			     16384

/* ECDHE + AEAD only; ECDSA first (our certificates), RSA for peers with RSA certificates. */
static const char cipher_list[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
static const char groups_list[] = "X25519:P-256:P-384";
static const char exporter_label[] = "EXTRACTOR-dtls_srtp";

/* ---- profiles ------------------------------------------------------------------------------ */
struct profile_info {
	enum mg_dtls_profile id;
	const char *name;
	enum mg_srtp_suite suite;
};

static const struct profile_info profiles[] = {
    {MG_DTLS_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", MG_SRTP_AES_CM_128_HMAC_SHA1_80},
    {MG_DTLS_SRTP_AES128_CM_SHA1_32, "SRTP_AES128_CM_SHA1_32", MG_SRTP_AES_CM_128_HMAC_SHA1_32},
    {MG_DTLS_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", MG_SRTP_AEAD_AES_128_GCM},
    {MG_DTLS_SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", MG_SRTP_AEAD_AES_256_GCM},
};
#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static const enum mg_dtls_profile default_profiles[MG_DTLS_MAX_PROFILES] = {
    MG_DTLS_SRTP_AEAD_AES_128_GCM, MG_DTLS_SRTP_AEAD_AES_256_GCM, MG_DTLS_SRTP_AES128_CM_SHA1_80,
    MG_DTLS_SRTP_AES128_CM_SHA1_32};

static const struct profile_info *profile_find(unsigned id)
{
	for (size_t i = 0; i < N_PROFILES; i++)
		if ((unsigned)profiles[i].id == id)
			return &profiles[i];
	return NULL;
}

const char *mg_dtls_profile_name(enum mg_dtls_profile profile)
{
	const struct profile_info *p = profile_find(profile);
	return p ? p->name : NULL;
}

enum mg_srtp_suite mg_dtls_profile_suite(enum mg_dtls_profile profile)
{
	const struct profile_info *p = profile_find(profile);
	return p ? p->suite : MG_SRTP_SUITE_NONE;
}

/* ---- names --------------------------------------------------------------------------------- */
static const char *const state_names[] = {"new", "handshaking", "connected", "failed", "closed"};
static const char *const failure_names[MG_DTLS_FAILURE_COUNT] = {
    [MG_DTLS_FAIL_NONE] = "none",
    [MG_DTLS_FAIL_FINGERPRINT] = "fingerprint_mismatch",
    [MG_DTLS_FAIL_NO_CERTIFICATE] = "no_peer_certificate",
    [MG_DTLS_FAIL_NO_SRTP_PROFILE] = "no_srtp_profile",
    [MG_DTLS_FAIL_TIMEOUT] = "handshake_timeout",
    [MG_DTLS_FAIL_RETRANSMIT_LIMIT] = "retransmit_limit",
    [MG_DTLS_FAIL_PEER_ALERT] = "peer_alert",
    [MG_DTLS_FAIL_PROTOCOL] = "protocol_error",
    [MG_DTLS_FAIL_KEY_EXPORT] = "key_export",
    [MG_DTLS_FAIL_INTERNAL] = "internal",
};

const char *mg_dtls_state_str(enum mg_dtls_state state)
{
	if ((unsigned)state >= sizeof(state_names) / sizeof(state_names[0]))
		return "invalid";
	return state_names[state];
}

const char *mg_dtls_failure_str(enum mg_dtls_failure failure)
{
	if ((unsigned)failure >= MG_DTLS_FAILURE_COUNT)
		return "invalid";
	return failure_names[failure];
}

/* ---- a=setup ------------------------------------------------------------------------------- */
int mg_dtls_setup_parse(const char *value, size_t len, enum mg_dtls_setup *out)
{
	static const struct {
		const char *name;
		enum mg_dtls_setup setup;
	} names[] = {{"actpass", MG_DTLS_SETUP_ACTPASS},
		     {"active", MG_DTLS_SETUP_ACTIVE},
		     {"passive", MG_DTLS_SETUP_PASSIVE},
		     {"holdconn", MG_DTLS_SETUP_HOLDCONN}};
	if (!value || !out)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && memcmp(names[i].name, value, len) == 0) {
			*out = names[i].setup;
			return 0;
		}
	return -1;
}

const char *mg_dtls_setup_str(enum mg_dtls_setup setup)
{
	switch (setup) {
	case MG_DTLS_SETUP_ACTPASS:
		return "actpass";
	case MG_DTLS_SETUP_ACTIVE:
		return "active";
	case MG_DTLS_SETUP_PASSIVE:
		return "passive";
	case MG_DTLS_SETUP_HOLDCONN:
		return "holdconn";
	default:
		return "";
	}
}

enum mg_dtls_setup mg_dtls_setup_answer(enum mg_dtls_setup remote_offer, enum mg_dtls_setup prefer)
{
	switch (remote_offer) {
	case MG_DTLS_SETUP_ACTPASS:
		return (prefer == MG_DTLS_SETUP_ACTIVE || prefer == MG_DTLS_SETUP_PASSIVE)
			   ? prefer
			   : MG_DTLS_SETUP_NONE;
	case MG_DTLS_SETUP_NONE: /* RFC 4145 4: absent = active */
	case MG_DTLS_SETUP_ACTIVE:
		return MG_DTLS_SETUP_PASSIVE;
	case MG_DTLS_SETUP_PASSIVE:
		return MG_DTLS_SETUP_ACTIVE;
	default:
		return MG_DTLS_SETUP_NONE;
	}
}

int mg_dtls_role_from_setup(enum mg_dtls_setup local, enum mg_dtls_setup remote,
			    enum mg_dtls_role *role)
{
	enum mg_dtls_role r;
	if (local == MG_DTLS_SETUP_ACTIVE && remote != MG_DTLS_SETUP_ACTIVE &&
	    remote != MG_DTLS_SETUP_HOLDCONN)
		r = MG_DTLS_ROLE_CLIENT;
	else if (local == MG_DTLS_SETUP_PASSIVE && remote != MG_DTLS_SETUP_PASSIVE &&
		 remote != MG_DTLS_SETUP_HOLDCONN)
		r = MG_DTLS_ROLE_SERVER;
	else if (local == MG_DTLS_SETUP_ACTPASS && remote == MG_DTLS_SETUP_ACTIVE)
		r = MG_DTLS_ROLE_SERVER;
	else if (local == MG_DTLS_SETUP_ACTPASS && remote == MG_DTLS_SETUP_PASSIVE)
		r = MG_DTLS_ROLE_CLIENT;
	else
		return -1;
	if (role)
		*role = r;
	return 0;
}

/* ---- a=fingerprint ------------------------------------------------------------------------- */
static const struct {
	const char *name;
	enum mg_dtls_hash hash;
	uint8_t len;
} hashes[] = {{"sha-256", MG_DTLS_HASH_SHA256, 32},
	      {"sha-384", MG_DTLS_HASH_SHA384, 48},
	      {"sha-512", MG_DTLS_HASH_SHA512, 64}};

static const EVP_MD *hash_md(enum mg_dtls_hash h)
{
	switch (h) {
	case MG_DTLS_HASH_SHA256:
		return EVP_sha256();
	case MG_DTLS_HASH_SHA384:
		return EVP_sha384();
	case MG_DTLS_HASH_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mg_dtls_fingerprint_parse(const char *value, size_t len, struct mg_dtls_fingerprint *fp)
{
	if (!value || !fp)
		return -1;
	memset(fp, 0, sizeof(*fp));
	size_t sp = 0;
	while (sp < len && value[sp] != ' ')
		sp++;
	if (sp == len)
		return -1;
	int found = -1;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strlen(hashes[i].name) == sp && strncasecmp(hashes[i].name, value, sp) == 0)
			found = (int)i;
	if (found < 0)
		return -1;
	size_t pos = sp + 1, n = 0, want = hashes[found].len;
	/* exactly want hex pairs separated by single colons; nothing after */
	if (len - pos != want * 3 - 1)
		return -1;
	for (; n < want; n++, pos += 3) {
		int hi = hexval(value[pos]), lo = hexval(value[pos + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		if (n + 1 < want && value[pos + 2] != ':')
			return -1;
		fp->value[n] = (uint8_t)(hi << 4 | lo);
	}
	fp->hash = hashes[found].hash;
	fp->len = (uint8_t)want;
	return 0;
}

int mg_dtls_fingerprint_format(const struct mg_dtls_fingerprint *fp, char *out, size_t cap)
{
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].hash == fp->hash && hashes[i].len == fp->len)
			name = hashes[i].name;
	if (!name || !out)
		return -1;
	size_t nl = strlen(name), need = nl + 1 + (size_t)fp->len * 3;
	if (cap < need)
		return -1;
	memcpy(out, name, nl);
	out[nl] = ' ';
	char *p = out + nl + 1;
	static const char hx[] = "0123456789ABCDEF";
	for (unsigned i = 0; i < fp->len; i++) {
		*p++ = hx[fp->value[i] >> 4];
		*p++ = hx[fp->value[i] & 15];
		*p++ = i + 1 < fp->len ? ':' : '\0';
	}
	return 0;
}

static int cert_fingerprint(X509 *x, enum mg_dtls_hash h, struct mg_dtls_fingerprint *fp)
{
	unsigned n = 0;
	const EVP_MD *md = hash_md(h);
	if (!md || X509_digest(x, md, fp->value, &n) != 1 || n > MG_DTLS_FINGERPRINT_MAX)
		return -1;
	fp->hash = h;
	fp->len = (uint8_t)n;
	return 0;
}

/* ---- instance context ---------------------------------------------------------------------- */
struct mg_dtls_ctx {
	SSL_CTX *ssl_ctx;
	X509 *cert;
	EVP_PKEY *pkey;
	char fingerprint[8 + 32 * 3];
};

struct mg_dtls {
	SSL *ssl;
	BIO *rbio, *wbio;
	enum mg_dtls_role role;
	enum mg_dtls_state state;
	enum mg_dtls_failure failure;
	struct mg_dtls_fingerprint remote_fp;
	uint8_t fp_checked, fp_mismatch, peer_fatal_alert, closed_by_peer, keys_ready;
	uint16_t version;
	uint16_t mtu;
	uint32_t rt_initial_us, rt_max_us;
	uint64_t hs_timeout_ns, hs_deadline, rt_deadline;
	enum mg_dtls_profile allowed[MG_DTLS_MAX_PROFILES];
	unsigned n_allowed;
	struct mg_dtls_counters c;
	struct mg_dtls_fingerprint peer_fp; /* sha-256 of the peer certificate once checked */
	struct mg_dtls_srtp_keys keys;
	char detail[192];
};

static int verify_cb(X509_STORE_CTX *store, void *arg);
static int client_hello_cb(SSL *ssl, int *al, void *arg);

static SSL_CTX *make_ssl_ctx(X509 *cert, EVP_PKEY *pkey)
{
	SSL_CTX *c = SSL_CTX_new(DTLS_method());
	if (!c)
		return NULL;
	int ok = SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) == 1 &&
		 SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) == 1 &&
		 SSL_CTX_use_certificate(c, cert) == 1 && SSL_CTX_use_PrivateKey(c, pkey) == 1 &&
		 SSL_CTX_check_private_key(c) == 1 &&
		 SSL_CTX_set_cipher_list(c, cipher_list) == 1 &&
		 SSL_CTX_set1_groups_list(c, groups_list) == 1;
	if (!ok) {
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
				   SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* No resumption: an abbreviated handshake would skip the certificate (and our check). */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c, verify_cb, NULL);
	SSL_CTX_set_client_hello_cb(c, client_hello_cb, NULL);
	return c;
}

static void format_own_fingerprint(mg_dtls_ctx *ctx)
{
	struct mg_dtls_fingerprint fp;
	if (cert_fingerprint(ctx->cert, MG_DTLS_HASH_SHA256, &fp) == 0)
		mg_dtls_fingerprint_format(&fp, ctx->fingerprint, sizeof(ctx->fingerprint));
}

static mg_dtls_ctx *ctx_finish(X509 *cert, EVP_PKEY *pkey)
{
	mg_dtls_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		goto fail;
	ctx->cert = cert;
	ctx->pkey = pkey;
	ctx->ssl_ctx = make_ssl_ctx(cert, pkey);
	if (!ctx->ssl_ctx)
		goto fail;
	format_own_fingerprint(ctx);
	return ctx;
fail:
	free(ctx);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return NULL;
}

mg_dtls_ctx *mg_dtls_ctx_new(const char *common_name, unsigned validity_days)
{
	if (!common_name || !*common_name || validity_days == 0 || validity_days > 3650)
		return NULL;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	int ok = pkey && x && serial && X509_set_version(x, 2) == 1 &&
		 BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
		 X509_gmtime_adj(X509_getm_notAfter(x), (long)validity_days * 86400) != NULL &&
		 X509_set_pubkey(x, pkey) == 1;
	if (ok) {
		X509_NAME *name = X509_get_subject_name(x);
		ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						(const unsigned char *)common_name, -1, -1,
						0) == 1 &&
		     X509_set_issuer_name(x, name) == 1 && X509_sign(x, pkey, EVP_sha256()) > 0;
	}
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return ctx_finish(x, pkey);
}

mg_dtls_ctx *mg_dtls_ctx_from_pem(const char *cert_pem, size_t cert_len, const char *key_pem,
				  size_t key_len)
{
	if (!cert_pem || !key_pem || cert_len > INT32_MAX || key_len > INT32_MAX)
		return NULL;
	BIO *cb = BIO_new_mem_buf(cert_pem, (int)cert_len);
	BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pkey = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	BIO_free(cb);
	BIO_free(kb);
	char group[32] = "";
	size_t glen = 0;
	int ok = x && pkey && EVP_PKEY_is_a(pkey, "EC") &&
		 EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1 &&
		 strcmp(group, "prime256v1") == 0 && X509_check_private_key(x, pkey) == 1;
	ERR_clear_error();
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return ctx_finish(x, pkey);
}

static int bio_to_text(BIO *b, char *out, size_t cap)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0 || (size_t)n + 1 > cap)
		return -1;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return 0;
}

int mg_dtls_ctx_export_pem(const mg_dtls_ctx *ctx, char *cert_pem, size_t cert_cap, char *key_pem,
			   size_t key_cap)
{
	if (!ctx || !cert_pem || !key_pem)
		return -1;
	BIO *cb = BIO_new(BIO_s_mem());
	BIO *kb = BIO_new(BIO_s_secmem()); /* wiped when freed */
	int ok = cb && kb && PEM_write_bio_X509(cb, ctx->cert) == 1 &&
		 PEM_write_bio_PrivateKey(kb, ctx->pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
		 bio_to_text(cb, cert_pem, cert_cap) == 0 && bio_to_text(kb, key_pem, key_cap) == 0;
	BIO_free(cb);
	BIO_free(kb);
	return ok ? 0 : -1;
}

const char *mg_dtls_ctx_fingerprint(const mg_dtls_ctx *ctx)
{
	return ctx ? ctx->fingerprint : "";
}

void mg_dtls_ctx_free(mg_dtls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	X509_free(ctx->cert);
	EVP_PKEY_free(ctx->pkey);
	free(ctx);
}

/* ---- callbacks ----------------------------------------------------------------------------- */
/* Replaces chain verification: the peer's (self-signed) leaf certificate must have the
 * a=fingerprint of the remote SDP. A mismatch fails the handshake (alert bad_certificate). */
static int verify_cb(X509_STORE_CTX *store, void *arg)
{
	(void)arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	mg_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *peer = X509_STORE_CTX_get0_cert(store);
	if (!d || !peer) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	struct mg_dtls_fingerprint got;
	if (cert_fingerprint(peer, d->remote_fp.hash, &got) != 0 || got.len != d->remote_fp.len ||
	    CRYPTO_memcmp(got.value, d->remote_fp.value, got.len) != 0) {
		d->fp_mismatch = 1;
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	cert_fingerprint(peer, MG_DTLS_HASH_SHA256, &d->peer_fp);
	d->fp_checked = 1;
	return 1;
}

/* Server side: refuse a ClientHello without a use_srtp profile we allow (alert
 * handshake_failure), and note a DTLS 1.3 offer (supported_versions with 0xfefc). */
static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	(void)arg;
	mg_dtls *d = SSL_get_app_data(ssl);
	if (!d)
		return SSL_CLIENT_HELLO_SUCCESS;
	const unsigned char *p = NULL;
	size_t n = 0;
	if (SSL_client_hello_get0_ext(ssl, 43 /* supported_versions */, &p, &n) == 1 && n >= 1) {
		size_t l = p[0];
		for (size_t i = 1; i + 1 < n && i + 1 <= l; i += 2)
			if (p[i] == 0xFE && p[i + 1] == 0xFC)
				d->c.dtls13_offered = 1;
	}
	int match = 0;
	if (SSL_client_hello_get0_ext(ssl, 14 /* use_srtp */, &p, &n) == 1 && n >= 2) {
		size_t l = (size_t)(p[0] << 8 | p[1]);
		for (size_t i = 2; i + 1 < n && i < l + 2; i += 2) {
			unsigned id = (unsigned)(p[i] << 8 | p[i + 1]);
			for (unsigned k = 0; k < d->n_allowed; k++)
				if ((unsigned)d->allowed[k] == id)
					match = 1;
		}
	}
	if (!match) {
		d->failure = MG_DTLS_FAIL_NO_SRTP_PROFILE;
		snprintf(d->detail, sizeof(d->detail),
			 "ClientHello offers no use_srtp profile we allow");
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	mg_dtls *d = SSL_get_app_data(ssl);
	if (!d || !(where & SSL_CB_ALERT))
		return;
	if (where & SSL_CB_READ) {
		d->c.alerts_in++;
		if ((ret >> 8) == SSL3_AL_FATAL) {
			d->peer_fatal_alert = 1;
			snprintf(d->detail, sizeof(d->detail), "peer sent fatal alert: %s",
				 SSL_alert_desc_string_long(ret));
		} else if ((ret & 0xFF) == SSL_AD_CLOSE_NOTIFY) {
			d->closed_by_peer = 1;
		}
	} else {
		d->c.alerts_out++;
	}
}

static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
	mg_dtls *d = SSL_get_app_data(ssl);
	unsigned initial = d ? d->rt_initial_us : 1000000, max = d ? d->rt_max_us : 60000000;
	if (prev_us == 0)
		return initial;
	uint64_t next = (uint64_t)prev_us * 2;
	return next > max ? max : (unsigned)next;
}

/* ---- association ---------------------------------------------------------------------------- */
void mg_dtls_srtp_keys_wipe(struct mg_dtls_srtp_keys *keys)
{
	if (keys)
		OPENSSL_cleanse(keys, sizeof(*keys));
}

static void keys_bind(struct mg_dtls_srtp_keys *k)
{
	k->tx.master_key = k->tx_key;
	k->tx.master_salt = k->tx_salt;
	k->rx.master_key = k->rx_key;
	k->rx.master_salt = k->rx_salt;
}

mg_dtls *mg_dtls_new(mg_dtls_ctx *ctx, const struct mg_dtls_config *cfg)
{
	if (!ctx || !cfg ||
	    (cfg->role != MG_DTLS_ROLE_CLIENT && cfg->role != MG_DTLS_ROLE_SERVER) ||
	    !cfg->remote_fingerprint || !hash_md(cfg->remote_fingerprint->hash) ||
	    cfg->n_profiles > MG_DTLS_MAX_PROFILES)
		return NULL;
	const struct mg_dtls_fingerprint *rfp = cfg->remote_fingerprint;
	if (rfp->len != EVP_MD_get_size(hash_md(rfp->hash)))
		return NULL;
	if (cfg->mtu && (cfg->mtu < MIN_MTU || cfg->mtu > MAX_MTU))
		return NULL;
	mg_dtls *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->role = cfg->role;
	d->remote_fp = *rfp;
	d->mtu = cfg->mtu ? cfg->mtu : DEFAULT_MTU;
	d->hs_timeout_ns =
	    cfg->handshake_timeout_ns ? cfg->handshake_timeout_ns : DEFAULT_HANDSHAKE_TIMEOUT_NS;
	uint32_t ini =
	    cfg->retransmit_initial_ms ? cfg->retransmit_initial_ms : DEFAULT_RT_INITIAL_MS;
	uint32_t max = cfg->retransmit_max_ms ? cfg->retransmit_max_ms : DEFAULT_RT_MAX_MS;
	if (ini > 600000) /* 10 minutes: keeps the microsecond values in 32 bits */
		ini = 600000;
	if (max > 600000)
		max = 600000;
	if (max < ini)
		max = ini;
	d->rt_initial_us = ini * 1000u;
	d->rt_max_us = max * 1000u;
	d->rt_deadline = d->hs_deadline = UINT64_MAX;

	char list[128] = "";
	const enum mg_dtls_profile *src = cfg->n_profiles ? cfg->profiles : default_profiles;
	unsigned n = cfg->n_profiles ? cfg->n_profiles : MG_DTLS_MAX_PROFILES;
	for (unsigned i = 0; i < n; i++) {
		const struct profile_info *p = profile_find(src[i]);
		if (!p)
			goto fail;
		for (unsigned k = 0; k < d->n_allowed; k++)
			if (d->allowed[k] == p->id)
				goto fail;
		d->allowed[d->n_allowed++] = p->id;
		if (i)
			strcat(list, ":");
		strcat(list, p->name);
	}

	d->ssl = SSL_new(ctx->ssl_ctx);
	d->rbio = BIO_new(BIO_s_mem());
	d->wbio = BIO_new(BIO_s_mem());
	if (!d->ssl || !d->rbio || !d->wbio)
		goto fail;
	BIO_set_mem_eof_return(d->rbio, -1); /* empty = "retry later", not EOF */
	BIO_set_mem_eof_return(d->wbio, -1);
	SSL_set_bio(d->ssl, d->rbio, d->wbio); /* the SSL owns both BIOs from here */
	SSL_set_app_data(d->ssl, d);
	/* SSL_set_tlsext_use_srtp returns 0 on success */
	if (SSL_set_tlsext_use_srtp(d->ssl, list) != 0)
		goto fail;
	SSL_set_mtu(d->ssl, d->mtu);
	DTLS_set_timer_cb(d->ssl, timer_cb);
	SSL_set_info_callback(d->ssl, info_cb);
	if (d->role == MG_DTLS_ROLE_CLIENT)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	ERR_clear_error();
	return d;
fail:
	ERR_clear_error();
	mg_dtls_free(d);
	return NULL;
}

void mg_dtls_free(mg_dtls *d)
{
	if (!d)
		return;
	if (d->ssl)
		SSL_free(d->ssl); /* frees the BIOs */
	else {
		BIO_free(d->rbio);
		BIO_free(d->wbio);
	}
	OPENSSL_cleanse(d, sizeof(*d));
	free(d);
}

static void update_deadline(mg_dtls *d, uint64_t now)
{
	struct timeval tv;
	d->rt_deadline = UINT64_MAX;
	if (d->state != MG_DTLS_STATE_HANDSHAKING && d->state != MG_DTLS_STATE_CONNECTED)
		return;
	if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
		d->rt_deadline =
		    now + (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static void fail(mg_dtls *d, enum mg_dtls_failure f, const char *detail)
{
	d->state = MG_DTLS_STATE_FAILED;
	d->failure = f;
	if (detail)
		snprintf(d->detail, sizeof(d->detail), "%s", detail);
	d->keys_ready = 0;
	mg_dtls_srtp_keys_wipe(&d->keys);
	d->rt_deadline = d->hs_deadline = UINT64_MAX;
}

/* After SSL_do_handshake failed with SSL_ERROR_SSL (or a timer error). */
static void classify_failure(mg_dtls *d)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);
	char buf[160] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	if (d->fp_mismatch)
		fail(d, MG_DTLS_FAIL_FINGERPRINT,
		     "peer certificate does not match the remote a=fingerprint");
	else if (d->failure == MG_DTLS_FAIL_NO_SRTP_PROFILE) /* set by client_hello_cb */
		fail(d, MG_DTLS_FAIL_NO_SRTP_PROFILE, NULL);
	else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		fail(d, MG_DTLS_FAIL_NO_CERTIFICATE, "peer sent no certificate");
	else if (reason == SSL_R_READ_TIMEOUT_EXPIRED)
		fail(d, MG_DTLS_FAIL_RETRANSMIT_LIMIT, "too many retransmissions");
	else if (d->peer_fatal_alert)
		fail(d, MG_DTLS_FAIL_PEER_ALERT, NULL); /* detail set by info_cb */
	else
		fail(d, MG_DTLS_FAIL_PROTOCOL, buf[0] ? buf : "handshake error");
	ERR_clear_error();
}

static void handshake_done(mg_dtls *d)
{
	const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(d->ssl);
	const struct profile_info *p = sp ? profile_find((unsigned)sp->id) : NULL;
	int allowed = 0;
	for (unsigned k = 0; p && k < d->n_allowed; k++)
		allowed |= d->allowed[k] == p->id;
	if (!p || !allowed) {
		/* tell the peer: it believes the handshake succeeded */
		SSL_shutdown(d->ssl);
		fail(d, MG_DTLS_FAIL_NO_SRTP_PROFILE, "no use_srtp profile negotiated");
		return;
	}
	if (!d->fp_checked || !SSL_get0_peer_certificate(d->ssl)) {
		SSL_shutdown(d->ssl);
		fail(d, MG_DTLS_FAIL_FINGERPRINT, "peer certificate was not checked");
		return;
	}
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(p->suite);
	size_t kl = si->key_len, sl = si->salt_len;
	uint8_t m[2 * (MG_SRTP_MAX_KEY_LEN + MG_SRTP_MAX_SALT_LEN)];
	if (SSL_export_keying_material(d->ssl, m, 2 * (kl + sl), exporter_label,
				       sizeof(exporter_label) - 1, NULL, 0, 0) != 1) {
		OPENSSL_cleanse(m, sizeof(m));
		SSL_shutdown(d->ssl);
		fail(d, MG_DTLS_FAIL_KEY_EXPORT, "SSL_export_keying_material failed");
		ERR_clear_error();
		return;
	}
	/* RFC 5764 4.2: client_write_SRTP_master_key | server_write_SRTP_master_key |
	 *               client_write_SRTP_master_salt | server_write_SRTP_master_salt */
	const uint8_t *ck = m, *sk = m + kl, *cs = m + 2 * kl, *ss = m + 2 * kl + sl;
	int client = d->role == MG_DTLS_ROLE_CLIENT;
	struct mg_dtls_srtp_keys *k = &d->keys;
	memset(k, 0, sizeof(*k));
	k->profile = p->id;
	memcpy(k->tx_key, client ? ck : sk, kl);
	memcpy(k->tx_salt, client ? cs : ss, sl);
	memcpy(k->rx_key, client ? sk : ck, kl);
	memcpy(k->rx_salt, client ? ss : cs, sl);
	k->tx.suite = k->rx.suite = p->suite;
	OPENSSL_cleanse(m, sizeof(m));
	d->keys_ready = 1;
	d->version = (uint16_t)SSL_version(d->ssl);
	d->state = MG_DTLS_STATE_CONNECTED;
	d->hs_deadline = UINT64_MAX;
}

static void do_handshake(mg_dtls *d)
{
	ERR_clear_error();
	int r = SSL_do_handshake(d->ssl);
	if (r == 1) {
		handshake_done(d);
		return;
	}
	int e = SSL_get_error(d->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return;
	}
	classify_failure(d);
}

enum mg_dtls_state mg_dtls_start(mg_dtls *d, uint64_t now_ns)
{
	if (!d)
		return MG_DTLS_STATE_FAILED;
	if (d->state != MG_DTLS_STATE_NEW)
		return d->state;
	d->state = MG_DTLS_STATE_HANDSHAKING;
	d->hs_deadline = now_ns + d->hs_timeout_ns;
	if (d->hs_deadline < now_ns)
		d->hs_deadline = UINT64_MAX;
	if (d->role == MG_DTLS_ROLE_CLIENT)
		do_handshake(d);
	update_deadline(d, now_ns);
	return d->state;
}

static void peer_closed(mg_dtls *d)
{
	SSL_shutdown(d->ssl); /* answer with our close_notify */
	ERR_clear_error();
	d->closed_by_peer = 1;
	d->state = MG_DTLS_STATE_CLOSED;
	d->keys_ready = 0;
	mg_dtls_srtp_keys_wipe(&d->keys);
	snprintf(d->detail, sizeof(d->detail), "close_notify received");
}

static void read_connected(mg_dtls *d)
{
	uint8_t buf[2048];
	for (;;) {
		ERR_clear_error();
		int n = SSL_read(d->ssl, buf, sizeof(buf));
		if (n > 0) {
			d->c.app_data_dropped++;
			continue;
		}
		int e = SSL_get_error(d->ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN) {
			peer_closed(d);
		} else if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL) {
			/* fatal alert or protocol error after the handshake: the association ends
			 */
			char msg[160] = "";
			ERR_error_string_n(ERR_peek_error(), msg, sizeof(msg));
			if (!d->peer_fatal_alert)
				snprintf(d->detail, sizeof(d->detail), "closed: %s", msg);
			d->closed_by_peer = d->peer_fatal_alert;
			d->state = MG_DTLS_STATE_CLOSED;
			d->keys_ready = 0;
			mg_dtls_srtp_keys_wipe(&d->keys);
		}
		break;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	ERR_clear_error();
}

enum mg_dtls_state mg_dtls_input(mg_dtls *d, const uint8_t *data, size_t len, uint64_t now_ns)
{
	if (!d)
		return MG_DTLS_STATE_FAILED;
	if (d->state == MG_DTLS_STATE_FAILED || d->state == MG_DTLS_STATE_CLOSED) {
		d->c.after_end_dropped++;
		return d->state;
	}
	struct mg_dtls_datagram_info info;
	if (len > 65535 || mg_dtls_datagram_check(data, len, &info) != MG_DTLS_REC_OK) {
		d->c.garbage_dropped++;
		return d->state;
	}
	if (d->state == MG_DTLS_STATE_NEW)
		mg_dtls_start(d, now_ns);
	d->c.datagrams_in++;
	d->c.bytes_in += len;
	if (BIO_write(d->rbio, data, (int)len) != (int)len) {
		fail(d, MG_DTLS_FAIL_INTERNAL, "BIO_write failed");
		return d->state;
	}
	if (d->state == MG_DTLS_STATE_HANDSHAKING)
		do_handshake(d);
	if (d->state == MG_DTLS_STATE_CONNECTED && BIO_ctrl_pending(d->rbio) > 0)
		read_connected(d);
	/* Whatever OpenSSL did not take (e.g. after a failure) is discarded: one datagram only. */
	if (BIO_ctrl_pending(d->rbio) > 0)
		(void)BIO_reset(d->rbio);
	update_deadline(d, now_ns);
	return d->state;
}

int mg_dtls_output(mg_dtls *d, uint8_t *buf, size_t cap)
{
	if (!d || !buf)
		return -1;
	char *p = NULL;
	long pending = BIO_get_mem_data(d->wbio, &p);
	if (pending <= 0)
		return 0;
	size_t limit = cap < d->mtu ? cap : d->mtu, off = 0, total = (size_t)pending;
	while (off < total) {
		size_t rl;
		if (total - off < MG_DTLS_RECORD_HEADER_LEN)
			rl = total - off;
		else
			rl = MG_DTLS_RECORD_HEADER_LEN +
			     (size_t)((uint8_t)p[off + 11] << 8 | (uint8_t)p[off + 12]);
		if (rl > total - off)
			rl = total - off;
		if (off + rl > limit) {
			if (off == 0 && rl <= cap)
				off = rl; /* one record larger than the MTU: alone */
			break;
		}
		off += rl;
	}
	if (off == 0)
		return -1;
	if (BIO_read(d->wbio, buf, (int)off) != (int)off)
		return -1;
	d->c.datagrams_out++;
	d->c.bytes_out += off;
	return (int)off;
}

uint64_t mg_dtls_next_timeout(const mg_dtls *d)
{
	if (!d)
		return UINT64_MAX;
	uint64_t t = d->rt_deadline;
	if (d->state == MG_DTLS_STATE_HANDSHAKING && d->hs_deadline < t)
		t = d->hs_deadline;
	return t;
}

enum mg_dtls_state mg_dtls_tick(mg_dtls *d, uint64_t now_ns)
{
	if (!d)
		return MG_DTLS_STATE_FAILED;
	if (d->state != MG_DTLS_STATE_HANDSHAKING && d->state != MG_DTLS_STATE_CONNECTED)
		return d->state;
	if (d->state == MG_DTLS_STATE_HANDSHAKING && now_ns >= d->hs_deadline) {
		fail(d, MG_DTLS_FAIL_TIMEOUT, "handshake not completed in time");
		return d->state;
	}
	if (now_ns >= d->rt_deadline) {
		ERR_clear_error();
		int r = (int)DTLSv1_handle_timeout(d->ssl);
		if (r > 0) {
			d->c.retransmissions++;
		} else if (r < 0) {
			if (d->state == MG_DTLS_STATE_HANDSHAKING) {
				classify_failure(d);
				return d->state;
			}
			d->state = MG_DTLS_STATE_CLOSED;
			d->keys_ready = 0;
			mg_dtls_srtp_keys_wipe(&d->keys);
		}
		ERR_clear_error();
	}
	update_deadline(d, now_ns);
	return d->state;
}

enum mg_dtls_state mg_dtls_close(mg_dtls *d)
{
	if (!d)
		return MG_DTLS_STATE_FAILED;
	if (d->state == MG_DTLS_STATE_CONNECTED) {
		ERR_clear_error();
		SSL_shutdown(d->ssl); /* queues close_notify */
		ERR_clear_error();
		snprintf(d->detail, sizeof(d->detail), "closed locally");
	} else if (d->state == MG_DTLS_STATE_FAILED || d->state == MG_DTLS_STATE_CLOSED) {
		return d->state;
	} else {
		snprintf(d->detail, sizeof(d->detail), "closed before the handshake completed");
	}
	d->state = MG_DTLS_STATE_CLOSED;
	d->keys_ready = 0;
	mg_dtls_srtp_keys_wipe(&d->keys);
	d->rt_deadline = d->hs_deadline = UINT64_MAX;
	return d->state;
}

enum mg_dtls_state mg_dtls_state(const mg_dtls *d)
{
	return d ? d->state : MG_DTLS_STATE_FAILED;
}

enum mg_dtls_failure mg_dtls_failure(const mg_dtls *d)
{
	return d && d->state == MG_DTLS_STATE_FAILED ? d->failure : MG_DTLS_FAIL_NONE;
}

const char *mg_dtls_detail(const mg_dtls *d)
{
	return d ? d->detail : "";
}

enum mg_dtls_role mg_dtls_role(const mg_dtls *d)
{
	return d ? d->role : MG_DTLS_ROLE_CLIENT;
}

int mg_dtls_closed_by_peer(const mg_dtls *d)
{
	return d && d->state == MG_DTLS_STATE_CLOSED && d->closed_by_peer;
}

struct mg_dtls_counters mg_dtls_counters(const mg_dtls *d)
{
	struct mg_dtls_counters c = {0};
	return d ? d->c : c;
}

uint16_t mg_dtls_version(const mg_dtls *d)
{
	return d && d->state == MG_DTLS_STATE_CONNECTED ? d->version : 0;
}

int mg_dtls_peer_fingerprint(const mg_dtls *d, char *out, size_t cap)
{
	if (!d || d->state != MG_DTLS_STATE_CONNECTED || !d->fp_checked)
		return -1;
	return mg_dtls_fingerprint_format(&d->peer_fp, out, cap);
}

int mg_dtls_srtp_keys(const mg_dtls *d, struct mg_dtls_srtp_keys *keys)
{
	if (!d || !keys || d->state != MG_DTLS_STATE_CONNECTED || !d->keys_ready)
		return -1;
	*keys = d->keys;
	keys_bind(keys);
	return 0;
}
