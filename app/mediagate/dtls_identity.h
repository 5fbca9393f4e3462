#ifndef MG_APP_DTLS_IDENTITY_H
#define MG_APP_DTLS_IDENTITY_H

#include "profile.h"
#include "webrtc.h"

struct mg_keys;

/* The instance's DTLS certificate across restarts (docs/ice-dtls.md "Restart"): with
 * [state] redis and [keys], the certificate and its private key are kept in Redis under
 * "<state.prefix>dtls:cert", sealed under the instance key (lib/keys, the same data keys as
 * the session snapshots); at start the stored one replaces the generated one, or the
 * generated one is stored. Without them the certificate is new at each start (logged). */
void mg_app_dtls_identity(struct mg_webrtc *w, struct mg_keys *keys, const struct mg_profile *p,
			  void (*log)(const char *msg));

#endif
