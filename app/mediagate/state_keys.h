#ifndef MG_APP_STATE_KEYS_H
#define MG_APP_STATE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "session.h"

struct mg_keys;
struct mg_keys_blob;

/* Seals the SRTP keys of session snapshots under the instance key; keys NULL: snapshots
 * carry no keys (logged once when an SRTP call is first written). Returns the sealer's
 * handle (for its counters) or NULL. */
struct mg_keys_blob *mg_app_state_keys_connect(struct mg_sessions *s, struct mg_keys *keys,
					       const struct mg_profile *p,
					       void (*log)(const char *msg));

/* Re-reads the instance key's metadata for /mediagate/keys (control thread, at most every
 * few seconds: it reads the key's metadata file). */
void mg_app_state_keys_refresh(void);
/* The telemetry hook (struct mg_telemetry_ctx keys_report). */
void mg_app_keys_report(void *arg, void (*emit)(void *, const char *, uint64_t, bool),
			void (*emit_str)(void *, const char *, const char *), void *emit_arg);

#endif
