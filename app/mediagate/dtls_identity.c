/* The instance's DTLS certificate, sealed in Redis so that a=fingerprint survives a restart.
 * Stored value: the sealed text (lib/keys "mgs1:..." format) of
 *   "<decimal length of the certificate PEM>\n<certificate PEM><private key PEM>"
 * bound to the field "dtls-identity|<prefix>". The key PEM exists in clear only in this
 * process's memory, wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_identity.h"
#include "keys.h"
#include "state.h"

#define PEM_MAX 8192

struct loaded {
	char *val;
	size_t len;
};

static int take_value(void *arg, const char *key, const void *val, size_t len)
{
	struct loaded *l = arg;
	if (strcmp(key, "cert") != 0 || l->val) /* "<prefix>dtls:cert" only */
		return 0;
	l->val = malloc(len + 1);
	if (l->val) {
		memcpy(l->val, val, len);
		l->val[len] = '\0';
		l->len = len;
	}
	return 0;
}

static void say(void (*log)(const char *), const char *fmt, const char *a, const char *b)
{
	char msg[400];
	snprintf(msg, sizeof(msg), fmt, a, b);
	if (log)
		log(msg);
}

/* The stored identity, or NULL with why. */
static mg_dtls_ctx *open_identity(struct mg_keys_blob *blob, const char *instance,
				  const char *field, const struct loaded *l, char *why, size_t cap)
{
	uint8_t *plain = NULL;
	size_t n = 0;
	int rc = mg_keys_blob_open(blob, instance, field, l->val, l->len, &plain, &n);
	if (rc != MG_KEYS_OK) {
		snprintf(why, cap, "not opened: %s", mg_keys_strerror(rc));
		return NULL;
	}
	char *end = NULL;
	unsigned long cert_len = strtoul((const char *)plain, &end, 10);
	mg_dtls_ctx *id = NULL;
	if (!end || *end != '\n' || cert_len == 0 ||
	    cert_len > n - (size_t)(end + 1 - (char *)plain))
		snprintf(why, cap, "malformed");
	else if (!(id = mg_dtls_ctx_from_pem(end + 1, cert_len, end + 1 + cert_len,
					     n - (size_t)(end + 1 - (char *)plain) - cert_len)))
		snprintf(why, cap, "not an EC P-256 certificate and key");
	explicit_bzero(plain, n);
	free(plain);
	return id;
}

static int store_identity(struct mg_webrtc *w, struct mg_keys_blob *blob, const char *instance,
			  const char *field, const struct mg_state_config *base, char *why,
			  size_t cap)
{
	(void)w;
	static char cert[PEM_MAX], key[PEM_MAX], plain[2 * PEM_MAX + 32];
	int rc = -1;
	char *sealed = NULL;
	if (mg_dtls_ctx_export_pem(mg_webrtc_identity(w), cert, sizeof(cert), key, sizeof(key)) <
	    0) {
		snprintf(why, cap, "cannot export it");
		goto out;
	}
	int n = snprintf(plain, sizeof(plain), "%zu\n%s%s", strlen(cert), cert, key);
	int src = mg_keys_blob_seal(blob, instance, field, plain, (size_t)n, &sealed);
	if (src != MG_KEYS_OK) {
		snprintf(why, cap, "cannot seal it: %s", mg_keys_strerror(src));
		goto out;
	}
	struct mg_state *st = mg_state_open(base);
	if (!st || mg_state_put(st, "dtls:cert", sealed, strlen(sealed)) < 0 ||
	    mg_state_flush(st, 3000) < 0)
		snprintf(why, cap, "Redis did not take it");
	else
		rc = 0;
	mg_state_close(st);
out:
	free(sealed);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

static void identity(struct mg_webrtc *w, struct mg_keys_blob *blob, const struct mg_profile *p,
		     void (*log)(const char *msg))
{
	if (!p->state_redis[0] || !blob) {
		say(log,
		    "webrtc: DTLS certificate not persisted (needs [state] redis and [keys]): "
		    "a=fingerprint %s is new at each start%s",
		    mg_webrtc_fingerprint(w), "");
		return;
	}
	struct mg_state_config cfg;
	mg_state_config_defaults(&cfg);
	const char *colon = strrchr(p->state_redis, ':');
	if (!colon)
		return;
	snprintf(cfg.host, sizeof(cfg.host), "%.*s", (int)(colon - p->state_redis), p->state_redis);
	cfg.port = (uint16_t)atoi(colon + 1);
	char field[128], why[200] = "";
	snprintf(field, sizeof(field), "dtls-identity|%s", p->state_prefix);
	snprintf(cfg.prefix, sizeof(cfg.prefix), "%sdtls:", p->state_prefix);
	struct loaded l = {0};
	if (mg_state_load(&cfg, take_value, &l, why, sizeof(why)) < 0) {
		/* never overwrite what may be there: this start keeps a new certificate */
		say(log,
		    "webrtc: cannot read the DTLS certificate from Redis (%s); using a new "
		    "one (a=fingerprint %s) for this run",
		    why, mg_webrtc_fingerprint(w));
		return;
	}
	if (l.val) {
		mg_dtls_ctx *id =
		    open_identity(blob, p->keys_instance, field, &l, why, sizeof(why));
		free(l.val);
		if (id) {
			mg_webrtc_set_identity(w, id);
			say(log,
			    "webrtc: DTLS certificate restored from Redis (a=fingerprint %s)%s",
			    mg_webrtc_fingerprint(w), "");
		} else {
			say(log,
			    "webrtc: the DTLS certificate stored in Redis is %s; using a new one "
			    "(a=fingerprint %s), the stored one is left as it is",
			    why, mg_webrtc_fingerprint(w));
		}
		return;
	}
	snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", p->state_prefix);
	if (store_identity(w, blob, p->keys_instance, field, &cfg, why, sizeof(why)) == 0)
		say(log,
		    "webrtc: new DTLS certificate stored in Redis, sealed (a=fingerprint %s)%s",
		    mg_webrtc_fingerprint(w), "");
	else
		say(log,
		    "webrtc: DTLS certificate not stored (%s); a=fingerprint %s changes at the "
		    "next start",
		    why, mg_webrtc_fingerprint(w));
}

void mg_app_dtls_identity(struct mg_webrtc *w, struct mg_keys *keys, const struct mg_profile *p,
			  void (*log)(const char *msg))
{
	if (!w)
		return;
	/* its own data-key cache: /mediagate/keys' keys_state_* count session snapshots only */
	struct mg_keys_blob *blob = NULL;
	if (keys && p->state_redis[0] &&
	    mg_keys_blob_create(&blob, keys, p->keys_principal, p->keys_bucket_key_period) !=
		MG_KEYS_OK)
		blob = NULL;
	identity(w, blob, p, log);
	mg_keys_blob_destroy(blob);
}
