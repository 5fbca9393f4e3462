/* The data plane: DPDK ports, worker lcores and the objects they own.
 *
 * Shape (see docs/architecture.md):
 *  - Every worker polls its share of the rx queues of every interface, parses
 *    Ethernet/IPv4/UDP, demultiplexes (RFC 7983) and relays RTP/RTCP between the two
 *    legs of a media stream, rewriting L2/L3/UDP in place, and transmits on its own tx
 *    queue. No locks, no allocation, no syscalls.
 *  - A leg (one side of a media stream: a local RTP port and RTCP port on one
 *    interface) is owned by exactly one worker. A packet received by another worker
 *    is handed to the owner through the owner's dispatch ring (software dispatch for
 *    ports with one queue or RSS that does not follow the owner).
 *  - The control lcore is the only one that creates, changes or deletes legs. It does
 *    so through each worker's command ring; the worker applies the command between
 *    bursts and hands deleted legs back through a return ring, so nothing is freed
 *    while a worker can still see it.
 *  - ARP, ICMP, STUN and DTLS go to the control lcore through the slow-path ring;
 *    the control lcore answers on its own tx queue.
 */
#ifndef MG_DATAPLANE_H
#define MG_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include "mix.h"
#include "net.h"
#include "profile.h"
#include "rtp.h"
#include "srtp.h"

struct rte_mbuf;

enum mg_leg_drop {
	MG_LEG_DROP_UNLATCHED = 0, /* source is not the latched remote (R3) */
	MG_LEG_DROP_MALFORMED,	   /* RTP/RTCP header invalid */
	MG_LEG_DROP_NO_PEER,	   /* the other leg has no destination yet */
	MG_LEG_DROP_NO_NEIGHBOR,   /* next hop MAC unknown (resolution requested) */
	MG_LEG_DROP_TX_FULL,	   /* transmit queue full: shed per packet */
	MG_LEG_DROP_BLOCKED,	   /* media blocked by the control protocol */
	/* SRTP (R2): what the remote sent did not authenticate or was not acceptable */
	MG_LEG_DROP_SRTP_AUTH,		/* forged, corrupted, or the wrong key */
	MG_LEG_DROP_SRTP_REPLAY,	/* already seen inside the replay window */
	MG_LEG_DROP_SRTP_TOO_OLD,	/* older than the replay window */
	MG_LEG_DROP_SRTP_MALFORMED,	/* too short, bad header, wrong MKI */
	MG_LEG_DROP_SRTP_KEY_EXHAUSTED, /* master key lifetime reached: needs re-keying */
	/* what we would send to this leg's remote could not be protected: never sent */
	MG_LEG_DROP_SRTP_NO_KEY,  /* the leg is SRTP but has no key for that direction */
	MG_LEG_DROP_SRTP_PROTECT, /* protect failed (no room, key exhausted) */
	/* conferences (worker_mix.c) */
	MG_LEG_DROP_CONFERENCE, /* its relay partner is in a conference and it is not */
	MG_LEG_DROP_NO_MBUF,	/* mixer output: no mbuf free */
	MG_LEG_DROP_COUNT
};
const char *mg_leg_drop_name(enum mg_leg_drop d);

struct mg_endpoint {
	uint32_t ip;   /* host order; 0 = unknown */
	uint16_t port; /* 0 = unknown */
};

/* Per-leg counters, written by the owning worker only, read by control/telemetry. */
struct mg_leg_stats {
	/* first: what every relayed packet updates, in the leg's third cache line */
	uint64_t last_rx_tsc; /* TSC of the last accepted packet (0: none yet) */
	uint64_t rtp_in_pkts, rtp_in_bytes, rtp_out_pkts, rtp_out_bytes;
	uint64_t rtcp_in_pkts, rtcp_in_bytes, rtcp_out_pkts, rtcp_out_bytes;
	uint64_t drops[MG_LEG_DROP_COUNT];
};

struct mg_latch {
	struct mg_endpoint addr;
	struct mg_mac mac; /* L2 source of the latched packets: next hop back to them */
	bool latched;
};

/* Configuration of a leg that the control lcore sets; the worker copies it in when
 * applying a command, so the control lcore never writes a published leg. */
struct mg_leg_cfg {
	struct mg_endpoint remote_rtp;	/* from SDP; used until latched */
	struct mg_endpoint remote_rtcp; /* from SDP (a=rtcp or port+1) */
	bool rtcp_mux;			/* the remote sends and expects RTCP on the RTP port */
	/* SRTP: when set, what the remote sends must authenticate with srtp_in and what is
	 * sent to it is protected with srtp_out; a missing context drops, never plaintext.
	 * Contexts are allocated by the control lcore and retired through the return ring
	 * when replaced, so their ROC and replay state live as long as the keys. */
	bool srtp;
	mg_srtp_ctx *srtp_in, *srtp_out;
	bool block_media; /* drop what this leg's remote sends */
	bool relatch;	  /* forget latched addresses (new SDP address) */
	/* restore latched addresses saved before a restart (set once, at publication) */
	bool restore_latch;
	struct mg_latch saved_rtp_latch, saved_rtcp_latch;
	/* recording (lib/recorder): when rec is set, the worker forks the decrypted G.711
	 * payload of what this leg's remote sends into its recording ring */
	bool rec;
	uint8_t rec_leg;	 /* source index within the contact's recording, 0..7 */
	uint8_t rec_channel;	 /* enum mg_rec_channel: 0 customer, 1 agent */
	uint32_t rec_contact;	 /* contact slot of the recording */
	uint32_t rec_generation; /* slot generation: records of an older recording are stale */
};

struct mg_leg {
	/* fixed at creation */
	uint8_t iface;
	uint8_t worker;
	uint16_t rtp_port, rtcp_port;
	struct mg_leg *peer; /* where what arrives here is sent to (same worker) */
	/* worker-owned */
	struct mg_leg_cfg cfg;
	struct mg_latch rtp_latch, rtcp_latch;
	uint16_t ip_id;
	struct mg_leg_stats stats;
	/* control-owned */
	void *owner; /* the session object that holds this leg */
	bool published;
	/* conferences (worker_mix.c). Worker-owned: */
	struct mg_conf *conf;	   /* the conference its media goes to, or NULL */
	struct mg_leg *relay_peer; /* the leg it relays with when neither is in a conference */
	bool relay_init;	   /* relay_peer has been taken over from peer */
	int8_t conf_slot;	   /* its participant id in conf's mixer */
	/* control-owned: the conference it has been sent to, or NULL; its relay partner as
	 * last sent (valid once relay_ctl_init) */
	struct mg_conf *conf_ctl;
	struct mg_leg *relay_ctl;
	bool relay_ctl_init;
};

/* Worker-level counters (one set per worker). */
struct mg_worker_stats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t net_verdict[MG_NET_VERDICT_COUNT];
	uint64_t demux[MG_DEMUX_CLASS_COUNT];
	uint64_t no_session;	    /* UDP to a port without a leg */
	uint64_t dispatched_out;    /* handed to another worker */
	uint64_t dispatched_in;	    /* received from another worker */
	uint64_t dispatch_drops;    /* owner's dispatch ring full */
	uint64_t slow_path;	    /* handed to the control lcore */
	uint64_t slow_path_drops;   /* slow-path ring full */
	uint64_t tx_drops;	    /* tx queue full */
	uint64_t multiseg_drops;    /* chained mbufs are not relayed */
	uint64_t commands;	    /* control commands applied */
	uint64_t loops, busy_loops; /* poll iterations, those that found work */
	uint64_t busy_cycles, total_cycles;
	uint64_t rec_not_g711; /* packets of recorded legs not forked: not PCMU/PCMA */
	/* conferences (worker_mix.c) */
	uint64_t conf_rounds;		/* 20 ms ticks of all its conferences */
	uint64_t conf_tick_overruns;	/* rounds that started a period or more late */
	uint64_t conf_ticks;		/* conference ticks (one per conference per round) */
	uint64_t conf_packets_out;	/* mixed audio packets sent */
	uint64_t conf_events_out;	/* forwarded telephone-event packets sent */
	uint64_t conf_pushed;		/* RTP packets handed to a mixer */
	uint64_t conf_join_failed;	/* joins the mixer refused (full or bad configuration) */
	uint64_t conf_round_cycles;	/* TSC cycles spent in tick rounds */
	uint64_t conf_round_max_cycles; /* longest round */
};

/* Control-lcore counters for the slow path. */
struct mg_control_stats {
	uint64_t arp_requests_answered, arp_replies_learned, arp_requests_sent, arp_ignored;
	uint64_t icmp_echo_answered, icmp_ignored;
	uint64_t stun_received, dtls_received, other_slow;
	uint64_t neighbor_misses;			    /* packets that had to wait for ARP */
	uint64_t neighbor_held_sent, neighbor_held_dropped; /* ... sent once resolved, or not */
	uint64_t tx_drops;
	uint64_t rx_missed; /* summed from the ports: packets the NIC dropped (overload) */
};

struct mg_dataplane;

/* Creates ports, rings and mbuf pools from the profile (EAL must be initialised).
 * Returns NULL with a message in err. */
struct mg_dataplane *mg_dp_create(const struct mg_profile *profile, char *err, size_t errlen);
void mg_dp_destroy(struct mg_dataplane *dp);

/* Launches the workers on their lcores (rte_eal_remote_launch) / stops them. */
int mg_dp_start(struct mg_dataplane *dp);
void mg_dp_stop(struct mg_dataplane *dp);

/* The worker main loop, for callers that launch lcores themselves (tests, bench).
 * `arg` is a struct mg_dp_worker_arg. */
struct mg_dp_worker_arg {
	struct mg_dataplane *dp;
	unsigned index;
};
int mg_dp_worker_main(void *arg);

/* Control-lcore work: slow path, neighbor resolution, returned legs. Non-blocking;
 * returns how many items were processed. */
unsigned mg_dp_control_poll(struct mg_dataplane *dp);

/* --- leg management (control lcore only) --- */

/* Allocates a leg with a free even/odd port pair on `iface`, owned by `worker`
 * (-1: the least loaded worker); not yet visible to the data path. */
struct mg_leg *mg_dp_leg_alloc(struct mg_dataplane *dp, unsigned iface, int worker);
/* The same with a given RTP port (restore after a restart or takeover); NULL when that
 * pair is outside the range or taken. */
struct mg_leg *mg_dp_leg_alloc_at(struct mg_dataplane *dp, unsigned iface, int worker,
				  uint16_t rtp_port);
/* Two legs relay to each other; both must share a worker. */
int mg_dp_leg_pair(struct mg_leg *a, struct mg_leg *b);
/* Publishes a leg (with its initial cfg) to its worker. */
int mg_dp_leg_publish(struct mg_dataplane *dp, struct mg_leg *leg, const struct mg_leg_cfg *cfg);
/* Sends a new configuration to the owning worker. */
int mg_dp_leg_update(struct mg_dataplane *dp, struct mg_leg *leg, const struct mg_leg_cfg *cfg);
/* Unpublishes and releases a leg; its memory and ports are reclaimed once the worker
 * has let go of it. The caller must not touch `leg` afterwards. */
void mg_dp_leg_release(struct mg_dataplane *dp, struct mg_leg *leg);
/* Copies the leg's latched addresses and counters (a consistent-enough snapshot). */
void mg_dp_leg_snapshot(const struct mg_leg *leg, struct mg_leg_stats *stats, struct mg_latch *rtp,
			struct mg_latch *rtcp);
/* Seconds since the last packet on this leg (or since publication). */
double mg_dp_leg_idle_seconds(struct mg_dataplane *dp, const struct mg_leg *leg);

/* Control lcore's SRTP engine, for key expansion in mg_srtp_ctx_init. */
mg_srtp_engine *mg_dp_control_srtp_engine(struct mg_dataplane *dp);
/* Allocates a zeroed SRTP context (control lcore); give it to a leg with
 * mg_dp_leg_update/publish; the data plane frees it once no worker uses it. A context
 * never given to a leg is freed with mg_dp_srtp_ctx_free. */
mg_srtp_ctx *mg_dp_srtp_ctx_alloc(void);
void mg_dp_srtp_ctx_free(mg_srtp_ctx *ctx);

/* Sends an ARP request for the next hop towards `ip` on `iface` now (control lcore). */
void mg_dp_resolve(struct mg_dataplane *dp, unsigned iface, uint32_t ip);

/* --- STUN/DTLS on the control lcore (lib/webrtc) --- */

/* One STUN or DTLS datagram the workers handed to the control lcore, on a leg's port. */
struct mg_dp_slow_udp {
	unsigned iface;
	uint16_t local_port; /* the leg's RTP or RTCP port it arrived on */
	uint32_t src_ip;     /* host order */
	uint16_t src_port;
	struct mg_mac src_mac; /* L2 source: the next hop back to the sender */
	uint8_t demux;	       /* MG_DEMUX_STUN or MG_DEMUX_DTLS */
	const uint8_t *payload;
	uint16_t len;
};
/* `on_udp` gets every STUN/DTLS datagram (valid during the call only); `tick` runs on every
 * mg_dp_control_poll and returns how much work it did (timers). Either may be NULL. */
void mg_dp_set_slow_udp_handler(struct mg_dataplane *dp,
				void (*on_udp)(void *arg, const struct mg_dp_slow_udp *pkt),
				unsigned (*tick)(void *arg), void *arg);
/* Sends one UDP datagram from (iface address, src_port) to dst on the control lcore's tx
 * queue; dst_mac is the next hop (e.g. the sender's src_mac). 0, or -1 (counted in
 * tx_drops). */
int mg_dp_control_send_udp(struct mg_dataplane *dp, unsigned iface, uint16_t src_port,
			   uint32_t dst_ip, uint16_t dst_port, const struct mg_mac *dst_mac,
			   const uint8_t *payload, uint16_t len);

/* --- introspection --- */
unsigned mg_dp_worker_count(const struct mg_dataplane *dp);
unsigned mg_dp_worker_lcore(const struct mg_dataplane *dp, unsigned w);
unsigned mg_dp_interface_count(const struct mg_dataplane *dp);
const struct mg_interface_cfg *mg_dp_interface(const struct mg_dataplane *dp, unsigned i);
uint16_t mg_dp_interface_port_id(const struct mg_dataplane *dp, unsigned i);
/* Sums worker counters; `per_worker` (optional) gets one entry per worker. */
void mg_dp_worker_stats(const struct mg_dataplane *dp, unsigned w, struct mg_worker_stats *out);
void mg_dp_control_stats(const struct mg_dataplane *dp, struct mg_control_stats *out);
unsigned mg_dp_legs_in_use(const struct mg_dataplane *dp);
unsigned mg_dp_ports_free(const struct mg_dataplane *dp, unsigned iface);
const struct mg_profile *mg_dp_profile(const struct mg_dataplane *dp);

/* --- recording (worker_rec.c) --- */
struct mg_rec_hub;
/* Gives every worker its fork handle on the hub (ring i for worker i); before mg_dp_start.
 * The hub needs at least one ring per worker. Returns 0 or -1. */
int mg_dp_attach_recording(struct mg_dataplane *dp, struct mg_rec_hub *hub);
/* --- conferences (lib/dataplane/worker_mix.c, docs/mixing.md) ---
 * A conference is a lib/mix mixer owned by one worker. The control lcore creates it,
 * and sends joins, leaves, state changes and its release through the worker's command
 * ring; the worker ticks it every 20 ms. A leg in a conference hands what it receives
 * (after SRTP unprotect) to the mixer instead of relaying it, and receives the mix of
 * the others (protected with its own SRTP context when it is an SRTP leg). Every leg
 * of a conference must be owned by the conference's worker.
 * All calls: control lcore only. Creating and releasing change the list that
 * mg_dp_conf_first/next walk: callers serialise that with readers (the sessions lock). */
struct mg_conf;
#define MG_CONF_NAME_MAX 64
/* NULL when out of memory or the worker does not exist. */
struct mg_conf *mg_dp_conf_create(struct mg_dataplane *dp, unsigned worker, const char *name);
struct mg_conf *mg_dp_conf_find(struct mg_dataplane *dp, const char *name);
/* Adds a published leg of the conference's worker. 0, or -1 (full, other worker, already in
 * a conference, bad cfg). */
int mg_dp_conf_join(struct mg_dataplane *dp, struct mg_conf *conf, struct mg_leg *leg,
		    const struct mg_mix_participant_cfg *pcfg);
/* Takes the leg out of its conference: it relays again with its relay partner (if that
 * one is not in a conference). 0 or -1 when it is in none. */
int mg_dp_conf_leave(struct mg_dataplane *dp, struct mg_leg *leg);
int mg_dp_conf_set_state(struct mg_dataplane *dp, struct mg_leg *leg, bool muted, bool on_hold);
/* Makes two legs of one worker relay to each other (their former relay partners are left
 * without a destination). Neither may be in a conference. 0 or -1. */
int mg_dp_relay_connect(struct mg_dataplane *dp, struct mg_leg *a, struct mg_leg *b);
/* Every remaining participant leaves; the memory goes once the worker lets go of it. */
void mg_dp_conf_release(struct mg_dataplane *dp, struct mg_conf *conf);
/* Introspection (under the caller's lock). */
struct mg_conf *mg_dp_conf_first(struct mg_dataplane *dp);
struct mg_conf *mg_dp_conf_next(struct mg_conf *conf);
const char *mg_dp_conf_name(const struct mg_conf *conf);
unsigned mg_dp_conf_worker(const struct mg_conf *conf);
/* Control view: the legs sent to join and not sent to leave, in join order. */
unsigned mg_dp_conf_legs(const struct mg_conf *conf, struct mg_leg **legs, unsigned max);
unsigned mg_dp_conf_count(const struct mg_dataplane *dp);
/* The mixer (its counters may be read from any thread) and, per mixer slot, the RTP port
 * of the leg in it (0: free slot). */
const struct mg_mix *mg_dp_conf_mix(const struct mg_conf *conf);
uint16_t mg_dp_conf_slot_port(const struct mg_conf *conf, unsigned slot);
/* The leg it relays with when neither is in a conference (control view), or NULL. */
struct mg_leg *mg_dp_leg_relay_partner(struct mg_leg *leg);
/* The leg's current mute/hold state as sent by the control lcore. */
void mg_dp_conf_leg_state(const struct mg_leg *leg, bool *muted, bool *on_hold);

#endif
