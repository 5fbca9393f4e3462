/* Internal to lib/session: the secret part of a call snapshot (SDES keys and SRTP stream
 * state), sealed through the application's mg_session_sealer. */
#ifndef MG_SESSION_SECRETS_H
#define MG_SESSION_SECRETS_H

#include <stdbool.h>

#include "bencode.h"
#include "session.h"

struct mg_call *mg_call_lookup(struct mg_sessions *s, const char *call_id); /* no finish */

struct mg_session_keys {
	bool have_sealer;
	struct mg_session_sealer sealer;
	void (*log)(const char *msg);
	bool warned_no_keys, warned_seal, warned_open;
	struct mg_session_seal_stats stats;
	char last_open_error[256];
	struct mg_call *pending; /* restored calls whose SRTP contexts are still to build */
	unsigned n_pending;
};
struct mg_session_keys *mg_sessions_keys(struct mg_sessions *s);

/* Mixes the call's SRTP stream state, coarsened (ROC, sequence / 4096, SRTCP index / 64),
 * into h: the checkpoint pass rewrites a call when this changes. */
uint64_t mg_call_secrets_signature(const struct mg_call *c, uint64_t h);
/* The secret plaintext (bencode); 0 when the call has no SDES state, -1 when cap is too
 * small. The caller wipes buf after use. */
long mg_call_encode_secrets(const struct mg_call *c, char *buf, size_t cap);
/* Sealed text for the "sealed" field (malloc'ed), or NULL: nothing secret, or no keys /
 * failure (counted, logged once). A call restored with an unopened field gets it back. */
char *mg_call_seal_secrets(struct mg_sessions *s, const struct mg_call *c, const char *plain,
			   long len);
/* Clear snapshot with a "sealed" field (NULL: none). */
size_t mg_call_encode_sealed(const struct mg_call *c, const char *sealed, char *buf, size_t cap);

#define MG_SECRETS_NODES 1024
struct mg_call_secrets {
	struct mg_bencode_node nodes[MG_SECRETS_NODES];
	struct mg_bencode_doc doc;
	char *plain;
	size_t len;
	bool ok; /* opened and decoded */
};
/* Opens the sealed field of a call being restored; on failure (no keys, token, tampered)
 * remembers the text on the call, counts it and returns -1 with err. */
int mg_call_secrets_open(struct mg_sessions *s, struct mg_call *c, const char *sealed, size_t len,
			 struct mg_call_secrets *sec, char *err, size_t errlen);
/* Restores media i, side's SDES state and, when cfg->srtp, builds its SRTP contexts from
 * the saved keys and stream state into cfg. Nothing happens without opened secrets. */
void mg_call_secrets_apply(struct mg_sessions *s, struct mg_call *c,
			   const struct mg_call_secrets *sec, unsigned i, int side,
			   struct mg_leg_cfg *cfg);
void mg_call_secrets_free(struct mg_call_secrets *sec);
/* Takes the opened secrets of a call being restored (sec->plain moves to the call) and
 * queues the call for mg_sessions_restore_pending. */
void mg_call_pending_add(struct mg_sessions *s, struct mg_call *c, struct mg_call_secrets *sec);
/* Builds the call's SRTP contexts from its restore secrets and installs them. */
void mg_call_restore_finish(struct mg_sessions *s, struct mg_call *c);
/* Unqueues (delete) and wipes the restore secrets. */
void mg_call_pending_remove(struct mg_sessions *s, struct mg_call *c);
/* Restores the call's personal data from opened secrets; ani_hash from the clear part. */
void mg_call_secrets_restore_pii(struct mg_sessions *s, struct mg_call *c,
				 const struct mg_call_secrets *sec, const char *ani_hash);

/* WebRTC sides (docs/state.md "WebRTC legs"): their state under "dtls" in the side's
 * dictionary, their SRTP stream state under "dtls-in"/"dtls-out". Contexts are built into
 * cfg like mg_call_secrets_apply does for SDES. */
void mg_call_secrets_apply_dtls(struct mg_sessions *s, struct mg_call *c,
				const struct mg_call_secrets *sec, unsigned i, int side,
				struct mg_leg_cfg *cfg);

/* Margins applied at restore (docs/state.md "SRTP state"): */
#define MG_SECRETS_SEQ_QUANTUM_BITS   12   /* rewrite after 4096 RTP packets of a stream */
#define MG_SECRETS_SRTCP_QUANTUM_BITS 6	   /* ... or 64 SRTCP packets */
#define MG_SECRETS_SRTCP_MARGIN	      256  /* SRTCP indexes we send skip this many */
#define MG_SECRETS_USED_MARGIN	      8192 /* packets counted against the key lifetime */

#endif
