/* WebRTC legs (browser softphones) on the control lcore: ICE-lite and DTLS-SRTP.
 *
 * One mg_webrtc per process, registered as the data plane's STUN/DTLS handler. A WebRTC leg
 * (mg_webrtc_leg) belongs to one data-plane leg and keeps a pointer to the configuration the
 * session layer last sent for it (struct mg_leg_cfg), which it updates and republishes with
 * mg_dp_leg_update when ICE selects an address, when DTLS completes (SRTP contexts from the
 * exported keys) and when consent expires (no more sending).
 *
 * - STUN on the leg's ports: mg_stun_ice_respond with the leg's credentials; answers leave on
 *   the control lcore's tx queue to the source. A valid check refreshes consent (RFC 7675); the
 *   first valid check, and any USE-CANDIDATE from another address, selects that address as the
 *   leg's remote (relatch).
 * - DTLS: records are accepted only from an address that passed a valid check (ICE legs) and
 *   go to mg_dtls; its output is sent back to that address; timers run from the control poll.
 *   CONNECTED -> two fresh SRTP contexts (rx -> srtp_in, tx -> srtp_out). Until then the leg is
 *   an SRTP leg without contexts: the workers drop its media (srtp_no_key), never plaintext.
 *   FAILED or CLOSED leaves (or makes) it so.
 * - Consent expiry (30 s without a valid check): the leg's outgoing context is removed, its
 *   remote address cleared and its media blocked; counted. Final until re-negotiated.
 *
 * Nothing here is thread safe: control lcore only. Counters are whole 64-bit words (the
 * telemetry thread may read them). */
#ifndef MG_WEBRTC_H
#define MG_WEBRTC_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane.h"
#include "dtls.h"
#include "stun.h"

#define MG_WEBRTC_UFRAG_LEN 8  /* >= 4 ice-chars (RFC 8839) */
#define MG_WEBRTC_PWD_LEN   24 /* >= 22 ice-chars */

struct mg_webrtc_stats {
	struct mg_stun_counters stun; /* every check, by lib/stun reason (by_reason[]) */
	uint64_t stun_answered, stun_errors_sent, stun_dropped;
	uint64_t stun_no_ice_leg;    /* STUN on a port without an ICE leg: dropped */
	uint64_t pairs_selected;     /* a valid check / USE-CANDIDATE moved the leg's remote */
	uint64_t consent_expired;    /* 30 s without a valid check: the leg stopped sending */
	uint64_t dtls_no_leg;	     /* DTLS on a port without a DTLS leg: dropped */
	uint64_t dtls_unchecked_src; /* DTLS from an address without a valid ICE check: dropped */
	uint64_t dtls_datagrams_in, dtls_datagrams_out;
	uint64_t dtls_garbage; /* refused by the record parser (never given to OpenSSL) */
	uint64_t handshakes_started, handshakes_ok, handshakes_failed, handshakes_timeout;
	uint64_t handshake_fail[MG_DTLS_FAILURE_COUNT]; /* by mg_dtls_failure */
	uint64_t fingerprint_mismatch;			/* also in handshake_fail */
	uint64_t closed_by_peer;			/* close_notify / alert after connecting */
	uint64_t keys_installed;			/* SRTP contexts given to a leg */
	uint64_t dtls13_offered; /* ClientHellos offering DTLS 1.3 (1.2 used) */
	uint64_t retransmissions;
	uint64_t tx_errors; /* control tx queue refused an answer */
	uint64_t legs;	    /* gauge: WebRTC legs now */
};

struct mg_webrtc;
struct mg_webrtc_leg;

/* Creates the manager with the instance's DTLS identity (taken over: freed with it) and
 * registers it with the data plane. NULL on allocation failure. */
struct mg_webrtc *mg_webrtc_create(struct mg_dataplane *dp, mg_dtls_ctx *identity);
void mg_webrtc_destroy(struct mg_webrtc *w);
/* Replaces the instance's DTLS identity (taken over), e.g. by the one persisted before a
 * restart; associations already made keep theirs. 0, or -1 for NULL. */
int mg_webrtc_set_identity(struct mg_webrtc *w, mg_dtls_ctx *identity);
/* The identity in use (to persist it: mg_dtls_ctx_export_pem). */
mg_dtls_ctx *mg_webrtc_identity(const struct mg_webrtc *w);
/* "sha-256 AB:CD:..." of the instance certificate (a=fingerprint). */
const char *mg_webrtc_fingerprint(const struct mg_webrtc *w);
void mg_webrtc_get_stats(const struct mg_webrtc *w, struct mg_webrtc_stats *out);

/* Datagram entry and timers (registered with the data plane by mg_webrtc_create; public for
 * tests and benchmarks that drive the control side themselves). now_ns: monotonic clock. */
void mg_webrtc_input(struct mg_webrtc *w, const struct mg_dp_slow_udp *pkt, uint64_t now_ns);
unsigned mg_webrtc_run_timers(struct mg_webrtc *w, uint64_t now_ns);

/* A WebRTC leg for `leg`; `cfg` is the configuration the caller keeps for it (the session's
 * copy): it must stay valid until mg_webrtc_leg_free. Fresh local ICE credentials. */
struct mg_webrtc_leg *mg_webrtc_leg_new(struct mg_webrtc *w, struct mg_leg *leg,
					struct mg_leg_cfg *cfg);
/* Frees the DTLS association (keys wiped); the data-plane leg itself is not touched. */
void mg_webrtc_leg_free(struct mg_webrtc *w, struct mg_webrtc_leg *l);
/* The session's configuration moved (or the caller republished it): keep using `cfg`. */
void mg_webrtc_leg_set_cfg(struct mg_webrtc_leg *l, struct mg_leg_cfg *cfg);

const char *mg_webrtc_leg_ufrag(const struct mg_webrtc_leg *l);
const char *mg_webrtc_leg_pwd(const struct mg_webrtc_leg *l);
/* ICE on (checks answered, DTLS only from checked addresses) with the peer's ufrag (NULL =
 * not known yet), or off (ICE=remove: DTLS from the signalled/latched address). */
int mg_webrtc_leg_set_ice(struct mg_webrtc_leg *l, bool on, const char *remote_ufrag);
/* DTLS with this role and the peer's a=fingerprint. A server waits for the ClientHello; a
 * client starts once it knows where to send (a valid check, or the signalled address without
 * ICE). Calling again with the same role and fingerprint changes nothing (re-INVITE);
 * different ones start a new association (old keys kept until the new one completes). */
int mg_webrtc_leg_set_dtls(struct mg_webrtc *w, struct mg_webrtc_leg *l, enum mg_dtls_role role,
			   const struct mg_dtls_fingerprint *remote_fp, uint64_t now_ns);
/* After signalling rewrote the leg's configuration (a re-offer names the SDP address, e.g.
 * 0.0.0.0:9 for a browser): the ICE-selected address stays the leg's remote. */
void mg_webrtc_leg_keep_pair(struct mg_webrtc *w, struct mg_webrtc_leg *l);
bool mg_webrtc_leg_has_dtls(const struct mg_webrtc_leg *l);
enum mg_dtls_state mg_webrtc_leg_dtls_state(const struct mg_webrtc_leg *l);

/* What a WebRTC leg needs to come back after a restart or a takeover (the session
 * snapshot's sealed part, lib/ng/ng_webrtc.c): the local ICE credentials the browser knows,
 * the selected pair, the DTLS role and peer fingerprint, and the SRTP keys the association
 * exported. Secret: wipe it (mg_webrtc_leg_state_wipe). */
struct mg_webrtc_leg_state {
	char ufrag[MG_WEBRTC_UFRAG_LEN + 1], pwd[MG_WEBRTC_PWD_LEN + 1];
	char remote_ufrag[257];
	bool ice;
	bool selected, consent_lost;
	uint32_t sel_ip;
	uint16_t sel_port, sel_local_port;
	struct mg_mac sel_mac;
	bool dtls; /* role and fp are set */
	enum mg_dtls_role role;
	struct mg_dtls_fingerprint fp;
	bool have_keys; /* keys: the association's (rx: what the peer sends, tx: ours) */
	struct mg_dtls_srtp_keys keys;
};
int mg_webrtc_leg_export(const struct mg_webrtc_leg *l, struct mg_webrtc_leg_state *out);
/* A WebRTC leg for `leg` rebuilt from a snapshot (fails on bad credentials/role): STUN
 * checks with the saved credentials are answered, consent counts from now_ns, the saved
 * pair stays selected, and no DTLS handshake is started; the caller installs SRTP contexts
 * made from st->keys in cfg. A server-role leg accepts a new handshake from the peer
 * (its keys replace the restored ones when it completes). */
struct mg_webrtc_leg *mg_webrtc_leg_restore(struct mg_webrtc *w, struct mg_leg *leg,
					    struct mg_leg_cfg *cfg,
					    const struct mg_webrtc_leg_state *st, uint64_t now_ns);
void mg_webrtc_leg_state_wipe(struct mg_webrtc_leg_state *st);

/* Monotonic clock in ns (the one the data-plane hook uses). */
uint64_t mg_webrtc_now_ns(void);

#endif
