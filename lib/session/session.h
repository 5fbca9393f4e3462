/* Calls as the control protocol sees them: a call-id, the two tags (offerer and
 * answerer), and per media section a pair of legs that relay to each other.
 *
 * Owned by the control lcore. The telemetry thread reads it under mg_sessions_lock(). */
#ifndef MG_SESSION_H
#define MG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dataplane.h"
#include "sdes.h"

#define MG_CALL_ID_MAX	  128
#define MG_TAG_MAX	  128
#define MG_CALL_MAX_MEDIA 8
#define MG_EXT_MAX	  64

/* Side 0 is the offerer (from-tag of the first offer), side 1 the answerer. */
enum { MG_SIDE_OFFERER = 0, MG_SIDE_ANSWERER = 1 };

#define MG_MAX_CRYPTO_OFFER 6

/* SDES state of one side of a media stream (control lcore only; holds key material and
 * is wiped when the call goes). "remote" keys encrypt what the remote sends us; "ours"
 * encrypt what we send it. */
struct mg_side_crypto {
	unsigned n_remote; /* what the remote offered */
	struct mg_sdes_crypto remote[MG_MAX_CRYPTO_OFFER];
	unsigned n_ours; /* what we offered to the remote */
	struct mg_sdes_crypto ours[MG_MAX_CRYPTO_OFFER];
	bool negotiated; /* chosen_* valid */
	struct mg_sdes_crypto chosen_remote, chosen_ours;
};

struct mg_media {
	char type[16];	/* audio, video, ... */
	char proto[24]; /* as offered */
	bool rejected;	/* port 0 */
	struct mg_leg *leg[2];
	struct mg_leg_cfg cfg[2];	  /* last configuration sent for each side */
	struct mg_side_crypto *crypto[2]; /* SDES state, for SRTP sides only */
	void *webrtc[2]; /* ICE/DTLS state of a WebRTC side (lib/ng/ng_webrtc.c), else NULL */
	/* conferences (lib/ng/ng_conf.c): each side's G.711 payload type + 1 and
	 * telephone-event payload type + 1 (0: none), from the SDP */
	int16_t g711_pt[2], te_pt[2];
};

struct mg_call {
	char call_id[MG_CALL_ID_MAX];
	char tag[2][MG_TAG_MAX];
	uint8_t iface[2]; /* interface of each side */
	/* contact-center extensions (docs/ng-extensions.md) */
	char contact_id[MG_EXT_MAX];
	char instance[MG_EXT_MAX];
	char role[2][16]; /* customer, agent, third-party, ivr */
	unsigned n_media;
	struct mg_media media[MG_CALL_MAX_MEDIA];
	time_t created, last_signal;
	bool answered;
	bool state_dirty;			 /* changed since last written to the state store */
	struct mg_call *dirty_next, *dirty_prev; /* the sessions' dirty list, while state_dirty */
	uint64_t latch_sig;  /* latched addresses at the last snapshot (cheap change check) */
	uint64_t state_hash; /* of the last snapshot written */
	struct mg_call *hash_next;
	struct mg_call *list_next, *list_prev;
	/* a sealed keys field restored but not opened (no keys, token failure): written back
	 * as is until the call is re-keyed, so a later restart with the token can open it */
	char *sealed_unopened;
	struct mg_call_pii *pii; /* ANI, DNIS, ...: NULL when the call has none */
	/* restored, SRTP contexts not built yet: the opened secrets (wiped when done) */
	char *restore_secrets;
	size_t restore_secrets_len;
	struct mg_call *pending_next, *pending_prev;
	/* worker + 1 for new legs (set so that the calls of one contact share a worker and
	 * can be conferenced); 0: least loaded */
	int16_t place_worker;
	/* recording policy of this call's legs as lib/recorder last set it, stored in the
	 * snapshot so a restore resumes the recording (session_links.c, docs/state.md) */
	struct mg_call_rec {
		bool set;	     /* some leg of the call is in a contact's policy */
		uint8_t mode, state; /* the contact's enum mg_rec_mode / mg_rec_state */
		uint32_t primary;    /* policy leg id of the recorded agent, 0: none */
		uint32_t next_leg;   /* the contact's last leg id given out */
		uint32_t leg_id[2];  /* per side: policy leg id, 0: not in the policy */
		uint8_t role[2];     /* enum mg_rec_role */
		uint8_t flags[2];    /* MG_CALL_REC_* */
	} rec;
	/* restored conference membership and relay pairings, until
	 * mg_sessions_restore_links rebuilds them (then freed) */
	struct mg_call_links *links;
};
#define MG_CALL_REC_PRESENT   0x01
#define MG_CALL_REC_CONNECTED 0x02
#define MG_CALL_REC_HOLD      0x04
#define MG_CALL_REC_MUTED     0x08

/* Personal data of a call (ng `ani`, `dnis`, `external-number`, `contact-attributes`):
 * kept in clear only in process memory, in Redis only inside the sealed field; the ANI
 * is searchable by its keyed hash (lib/keys), which alone is stored in clear. */
#define MG_PII_NUMBER_MAX 64
#define MG_PII_ATTRS_MAX  2048
struct mg_call_pii {
	char ani[MG_PII_NUMBER_MAX], dnis[MG_PII_NUMBER_MAX], external_number[MG_PII_NUMBER_MAX];
	char attributes[MG_PII_ATTRS_MAX]; /* bencoded dictionary of strings; "" = none */
	size_t attributes_len;
	char ani_hash[68];     /* hex keyed hash of the ANI; "" = no ANI or no keys */
	char indexed_hash[68]; /* the hash whose index key was last written */
};

struct mg_sessions;

struct mg_sessions *mg_sessions_create(struct mg_dataplane *dp, unsigned buckets);
void mg_sessions_destroy(struct mg_sessions *s);

/* Called (control lcore) when a call is deleted, before it is freed. */
void mg_sessions_on_delete(struct mg_sessions *s, void (*fn)(void *arg, const struct mg_call *c),
			   void *arg);

/* Called (control lcore) for every media side with WebRTC state when its call is deleted,
 * before the legs are released: frees m->webrtc[side]. */
void mg_sessions_on_webrtc_free(struct mg_sessions *s,
				void (*fn)(void *arg, struct mg_media *m, int side), void *arg);

/* Serialises the control lcore with the telemetry thread. */
void mg_sessions_lock(struct mg_sessions *s);
void mg_sessions_unlock(struct mg_sessions *s);

struct mg_call *mg_call_find(struct mg_sessions *s, const char *call_id);
/* Creates an empty call (no media yet); NULL when the id is too long or memory is out. */
struct mg_call *mg_call_create(struct mg_sessions *s, const char *call_id, const char *from_tag);
/* Which side a tag names: 0, 1, or -1 when it names neither. */
int mg_call_side_of(const struct mg_call *c, const char *tag);
/* Releases the legs and frees the call. */
void mg_call_delete(struct mg_sessions *s, struct mg_call *c);

/* Ensures media section `i` has its two legs (allocating and pairing them on the
 * sides' interfaces); returns 0 or -1 when no port pair is free. */
int mg_call_media_ensure(struct mg_sessions *s, struct mg_call *c, unsigned i);
/* The same, with the two legs' RTP ports given (restore); -1 if a pair is taken. */
int mg_call_media_ensure_at(struct mg_sessions *s, struct mg_call *c, unsigned i, uint16_t port0,
			    uint16_t port1);
/* Publishes (first time) or updates the configuration of one side's leg. */
int mg_call_configure(struct mg_sessions *s, struct mg_call *c, unsigned i, int side,
		      const struct mg_leg_cfg *cfg);

/* Marks a call as changed by signalling: the next persist pass writes it. */
void mg_call_mark_dirty(struct mg_sessions *s, struct mg_call *c);
/* Takes the list of calls marked dirty (each clears its flag when written). */
struct mg_call *mg_sessions_take_dirty(struct mg_sessions *s);

/* SDES state of one side, allocated on first use; NULL when out of memory. */
struct mg_side_crypto *mg_media_crypto(struct mg_media *m, int side);

/* Iteration in creation order (call under lock from other threads). */
struct mg_call *mg_call_first(struct mg_sessions *s);
struct mg_call *mg_call_next(struct mg_call *c);
unsigned mg_sessions_count(const struct mg_sessions *s);
struct mg_dataplane *mg_sessions_dataplane(struct mg_sessions *s);

/* Deletes calls whose every leg has been idle longer than `timeout_s`; returns how many. */
unsigned mg_sessions_expire(struct mg_sessions *s, double timeout_s);

/* Session state snapshots (lib/session/session_state.c): a call as a bencoded blob
 * with its tags, interfaces, contact keys, ports, SDP and latched addresses, and back.
 * SRTP keys are not in the blob yet: a restored SRTP leg has no key and drops what it
 * cannot protect or authenticate (srtp_no_key) until re-negotiated; never plaintext.
 * mg_call_encode returns the length, or 0 when cap is too small. */
size_t mg_call_encode(const struct mg_call *c, char *buf, size_t cap);
/* Recreates a call from a blob on the same ports, publishes its legs with their latched
 * addresses. Returns 0, or -1 with err filled (malformed blob, port taken, ...). */
int mg_call_restore(struct mg_sessions *s, const char *blob, size_t len, char *err, size_t errlen);

/* State store glue (lib/session/session_persist.c). */
struct mg_state;
struct mg_state_config;
/* Deleting a call deletes its snapshot from the store. */
void mg_sessions_attach_state(struct mg_sessions *s, struct mg_state *st);
/* Writes changed calls (all: every call whose snapshot differs from the last written,
 * e.g. a new latch; otherwise only those marked dirty by signalling). */
unsigned mg_sessions_persist(struct mg_sessions *s, struct mg_state *st, bool all);
/* Restores every call stored under cfg->prefix; returns how many, *failed those that
 * could not be (err: the first reason), or -1 when the store cannot be read. */
long mg_sessions_restore(struct mg_sessions *s, const struct mg_state_config *cfg, long *failed,
			 char *err, size_t errlen);

/* Start-up: restore the calls stored under `prefix` and then under `takeover` (a failed
 * appliance's prefix, optional), open the writer for `prefix`, move the taken-over keys
 * to it and write every restored call. `redis` is "host:port". Returns the store, or
 * NULL when out of memory; `report` says what each prefix gave (restored -1: unreadable). */
struct mg_links_report {
	unsigned conferences, parties, pairings, failed;
	char error[200];
};
struct mg_restore_report {
	char prefix[2][64];
	long restored[2], failed[2];
	double ms[2];
	char error[2][256];
	/* calls restored without their SRTP keys (sealed field not opened), first reason */
	long without_keys[2];
	char keys_error[2][256];
	/* conferences and relay pairings rebuilt after both prefixes were restored */
	struct mg_links_report links;
};
struct mg_state *mg_sessions_state_open(struct mg_sessions *s, const char *redis,
					const char *prefix, const char *takeover,
					struct mg_restore_report *report);

/* Sealing of the secret part of a snapshot (SDES keys, SRTP ROC/sequence state; DTLS-SRTP
 * keys later), supplied by the application so lib/session needs no token. `instance` is
 * the call's instance ("" = the application's default), `field` binds the sealed text to
 * the call ("session-keys|<call-id>"). Both return 0, or -1 with err filled (never key
 * material); *out is malloc'ed (seal: NUL-terminated text; open: plaintext, *out_len). */
struct mg_session_sealer {
	int (*seal)(void *arg, const char *instance, const char *field, const char *plain,
		    size_t len, char **out, char *err, size_t errlen);
	int (*open)(void *arg, const char *instance, const char *field, const char *sealed,
		    size_t len, char **out, size_t *out_len, char *err, size_t errlen);
	void *arg;
	/* keyed hash of a caller number for the ANI index (hex, NUL-terminated); 0 or -1 */
	int (*ani_hash)(void *arg, const char *instance, const char *ani, char out[68]);
};
/* sealer NULL: no keys, SRTP calls are stored without keys (logged once through log). */
void mg_sessions_set_sealer(struct mg_sessions *s, const struct mg_session_sealer *sealer,
			    void (*log)(const char *msg));
struct mg_session_seal_stats {
	uint64_t sealed, opened;	   /* snapshots whose keys were sealed / opened */
	uint64_t seal_failed, open_failed; /* ... that could not be (stored/restored w/o keys) */
	uint64_t stored_without_keys;	   /* SRTP snapshots written without keys (no sealer) */
	uint64_t restore_pending; /* restored calls whose SRTP contexts are not built yet */
};
void mg_sessions_seal_stats(const struct mg_sessions *s, struct mg_session_seal_stats *out);

/* Sets the call's personal data (NULL: unchanged, "" / 0 length: cleared) and, with keys,
 * the ANI's hash; marks the call for writing. attributes: a bencoded dictionary. 0 or -1
 * (out of memory). */
int mg_call_set_pii(struct mg_sessions *s, struct mg_call *c, const char *ani, const char *dnis,
		    const char *external_number, const char *attributes, size_t attributes_len);
/* Calls fn for every call of `instance` ("" = the default) whose ANI is `ani` (by keyed
 * hash); returns how many, or -1 when there are no keys to hash with. */
long mg_sessions_find_by_ani(struct mg_sessions *s, const char *instance, const char *ani,
			     void (*fn)(void *arg, struct mg_call *c), void *arg);

/* A restore publishes an SRTP call's legs at once (dropping as srtp_no_key) and builds
 * its SRTP contexts later, so that restoring many calls is not held up by key set-up:
 * this builds those of up to `budget` calls (control loop); returns how many calls are
 * still waiting. mg_call_find finishes a waiting call first (ng on it sees its keys). */
unsigned mg_sessions_restore_pending(struct mg_sessions *s, unsigned budget);

/* Conference membership, relay pairings across calls (connect, transfers), the sides'
 * G.711/telephone-event payload types, the worker placement and the recording policy
 * state in the snapshot (lib/session/session_links.c, docs/state.md). The encoder appends
 * its keys to the open root dictionary; the decoders read them back (place: before the
 * legs are allocated, the rest after). */
struct mg_bencode_out;
struct mg_bencode_doc;
struct mg_bencode_node;
void mg_call_encode_links(const struct mg_call *c, struct mg_bencode_out *o);
void mg_call_decode_place(struct mg_sessions *s, const struct mg_bencode_doc *d,
			  const struct mg_bencode_node *root, struct mg_call *c);
/* 0, or -1 when out of memory (err filled) */
int mg_call_decode_links(const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
			 struct mg_call *c, char *err, size_t errlen);
void mg_call_links_free(struct mg_call *c);
/* After a restore: re-pairs the relays and rebuilds the conferences on their workers
 * (joins queued to the workers) from what the restored calls carried. Returns the number
 * of conferences rebuilt; *failed counts the parties that could not be put back (err: the
 * first reason). */
void mg_sessions_restore_links(struct mg_sessions *s, struct mg_links_report *rep);

/* Totals over both legs of a call. */
void mg_call_totals(const struct mg_call *c, struct mg_leg_stats *out);

/* WebRTC legs in the snapshot's sealed part (lib/ng/ng_webrtc.c registers these): encode
 * writes one bencode value for media i, side of a call whose m->webrtc[side] is set; restore
 * (from mg_sessions_restore_pending, after the leg is published) rebuilds that side's state
 * from the value and, when it had SRTP keys, fills keys (in: what the peer sends) and returns
 * 1; 0: no keys, -1: refused. The session builds the SRTP contexts with the saved stream
 * state (ROC, sequence, SRTCP index) as for SDES legs. One registration per process. */
struct mg_bencode_out;
struct mg_bencode_doc;
struct mg_bencode_node;
struct mg_session_srtp_keys {
	struct mg_srtp_key_params in, out; /* master_key/master_salt point into the arrays */
	uint8_t in_key[MG_SRTP_MAX_KEY_LEN], in_salt[MG_SRTP_MAX_SALT_LEN];
	uint8_t out_key[MG_SRTP_MAX_KEY_LEN], out_salt[MG_SRTP_MAX_SALT_LEN];
};
struct mg_session_webrtc_state {
	void (*encode)(void *arg, const struct mg_call *c, unsigned i, int side,
		       struct mg_bencode_out *o);
	int (*restore)(void *arg, struct mg_call *c, unsigned i, int side,
		       const struct mg_bencode_doc *doc, const struct mg_bencode_node *v,
		       struct mg_session_srtp_keys *keys);
	void *arg;
};
/* hooks NULL: unregistered (WebRTC sides are then stored without their state). */
void mg_sessions_on_webrtc_state(struct mg_sessions *s,
				 const struct mg_session_webrtc_state *hooks);

#endif
