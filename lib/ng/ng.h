/* rtpengine's "ng" control protocol: bencode dictionaries over UDP, each datagram
 * "<cookie> <bencoded dict>", each answer "<cookie> <bencoded dict>".
 *
 * Commands: ping, offer, answer, delete, query, list, block media, unblock media,
 * start/stop recording (with a recorder set; otherwise a clear error).
 * Contact-center extensions are extra dictionary keys: docs/ng-protocol.md. */
#ifndef MG_NG_H
#define MG_NG_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "session.h"

enum mg_ng_cmd {
	MG_NG_PING = 0,
	MG_NG_OFFER,
	MG_NG_ANSWER,
	MG_NG_DELETE,
	MG_NG_QUERY,
	MG_NG_LIST,
	MG_NG_BLOCK_MEDIA,
	MG_NG_UNBLOCK_MEDIA,
	MG_NG_START_RECORDING,
	MG_NG_STOP_RECORDING,
	/* conferences and transfers (ng_conf.c) */
	MG_NG_JOIN_CONFERENCE,
	MG_NG_LEAVE_CONFERENCE,
	MG_NG_CONFERENCE_HOLD,
	MG_NG_CONFERENCE_UNHOLD,
	MG_NG_CONFERENCE_MUTE,
	MG_NG_CONFERENCE_UNMUTE,
	MG_NG_CONNECT,
	MG_NG_UNKNOWN,
	MG_NG_CMD_COUNT
};
const char *mg_ng_cmd_name(enum mg_ng_cmd c);

struct mg_ng_stats {
	uint64_t requests[MG_NG_CMD_COUNT];
	uint64_t errors;	  /* answered with result=error */
	uint64_t malformed;	  /* no cookie or bad bencode */
	uint64_t denied;	  /* source not in control.ng_allow: not answered */
	uint64_t retransmissions; /* same cookie again: cached answer resent */
	uint64_t oversized;	  /* answer did not fit a datagram */
};

struct mg_ng;

struct mg_ng *mg_ng_create(struct mg_sessions *sessions, const struct mg_profile *profile);
void mg_ng_destroy(struct mg_ng *ng);

/* Handles one request datagram; writes the answer (cookie included) into out and
 * returns its length, or 0 when nothing must be sent (no cookie at all). */
size_t mg_ng_handle(struct mg_ng *ng, const char *req, size_t len, char *out, size_t cap);

/* Binds the UDP socket from profile control.ng_listen; returns its fd or -1. */
int mg_ng_open(struct mg_ng *ng, char *err, size_t errlen);
/* Reads and answers every pending datagram (non-blocking); returns how many. */
unsigned mg_ng_poll(struct mg_ng *ng);
int mg_ng_fd(const struct mg_ng *ng);

void mg_ng_get_stats(const struct mg_ng *ng, struct mg_ng_stats *out);

/* Recording (lib/recorder): start/stop recording, mute through block media and the
 * contact-center keys act on it; NULL (default) answers start/stop recording with an
 * error. */
struct mg_recorder;
void mg_ng_set_recorder(struct mg_ng *ng, struct mg_recorder *r);
/* ICE-lite/DTLS-SRTP figures (lib/webrtc); -1 when WebRTC is not available. */
struct mg_webrtc_stats;
int mg_ng_webrtc_stats(const struct mg_ng *ng, struct mg_webrtc_stats *out);
/* The WebRTC manager (tests and benchmarks drive it directly); NULL when not available. */
struct mg_webrtc;
struct mg_webrtc *mg_ng_webrtc(struct mg_ng *ng);

#endif
