/* Internal to lib/ng: WebRTC (ICE-lite + DTLS-SRTP) legs in offer/answer (ng_webrtc.c). */
#ifndef MG_NG_WEBRTC_H
#define MG_NG_WEBRTC_H

#include <stdbool.h>
#include <stddef.h>

#include "sdp.h"
#include "session.h"
#include "webrtc.h"

/* The ng flags that concern WebRTC legs. */
struct mg_ng_webrtc_opts {
	bool ice_force;	   /* ICE=force: ICE-lite towards the destination even for RTP */
	bool ice_remove;   /* ICE=remove: no ICE attributes towards the destination */
	bool dtls_passive; /* DTLS=passive: our a=setup is passive */
	bool dtls_off;	   /* DTLS=off: never offer/accept UDP/TLS */
	bool rtcp_mux_demux;
};

/* Parses one flag string ("ICE=remove", "DTLS=passive", ...; already lower-cased); true when
 * it was one of ours. */
bool mg_ng_webrtc_flag(struct mg_ng_webrtc_opts *o, const char *name);
/* UDP/TLS/RTP/SAVP or UDP/TLS/RTP/SAVPF. */
bool mg_ng_webrtc_is_dtls_proto(const char *proto);

struct mg_webrtc *mg_ng_webrtc_create(struct mg_sessions *sessions);
void mg_ng_webrtc_destroy(struct mg_webrtc *w, struct mg_sessions *sessions);

/* Before the legs are configured, for media i whose SDP (from side src, going to dst) is in
 * sdp: checks the DTLS/ICE attributes of a UDP/TLS source and fixes both sides' SRTP
 * settings in src_cfg/dst_cfg (a DTLS side is an SRTP side whose keys only DTLS gives).
 * 0, or -1 with err filled (nothing changed yet). */
int mg_ng_webrtc_prepare(struct mg_webrtc *w, struct mg_call *c, unsigned i, int src, bool answer,
			 const struct mg_sdp *sdp, const char *src_proto, const char *dst_proto,
			 const struct mg_ng_webrtc_opts *o, struct mg_leg_cfg *src_cfg,
			 struct mg_leg_cfg *dst_cfg, char *err, size_t errlen);
/* After both legs of media i were configured: WebRTC legs created/updated, DTLS set up. */
int mg_ng_webrtc_commit(struct mg_webrtc *w, struct mg_call *c, unsigned i, int src, char *err,
			size_t errlen);
/* After the generic rewrite (ICE of the source removed, c= replaced): our ICE/DTLS attributes
 * for every media section going to a WebRTC destination. 0 or -1 (SDP edit space). */
int mg_ng_webrtc_sdp(struct mg_webrtc *w, struct mg_call *c, int dst, bool answer,
		     struct mg_sdp *sdp, const char *our_ip, const struct mg_ng_webrtc_opts *o);

#endif
