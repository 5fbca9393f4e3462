/* Internal layout shared by the data plane's source files. */
#ifndef MG_DP_INTERNAL_H
#define MG_DP_INTERNAL_H

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane.h"

#define MG_MAX_BURST  64
#define MG_PORT_SPACE 65536
#define MG_NO_OWNER   0xff
#define MG_CMD_BURST  32

/* Metadata kept in the mbuf private area: what the first parse found, so a packet
 * handed to another lcore is not parsed twice. */
struct mg_mbuf_meta {
	struct mg_pkt_info info;
	uint8_t iface;
	uint8_t verdict; /* enum mg_net_verdict */
	uint8_t demux;	 /* enum mg_demux_class, for UDP */
};

static inline struct mg_mbuf_meta *mg_meta(struct rte_mbuf *m)
{
	return (struct mg_mbuf_meta *)rte_mbuf_to_priv(m);
}

enum mg_cmd_op {
	MG_CMD_PUBLISH = 1,
	MG_CMD_UPDATE,
	MG_CMD_RELEASE,
	/* conferences (worker_mix.c) */
	MG_CMD_CONF_ADD,    /* conf: start ticking it */
	MG_CMD_CONF_JOIN,   /* leg joins conf with pcfg */
	MG_CMD_CONF_LEAVE,  /* leg leaves its conference */
	MG_CMD_CONF_STATE,  /* leg: muted, on_hold */
	MG_CMD_CONF_RELAY,  /* leg and other relay to each other */
	MG_CMD_CONF_REMOVE, /* conf: stop ticking it, hand it back */
};

struct mg_cmd {
	uint8_t op;
	struct mg_leg *leg;
	struct mg_leg_cfg cfg;
	/* conference commands */
	struct mg_conf *conf;
	struct mg_leg *other;
	struct mg_mix_participant_cfg pcfg;
	bool muted, on_hold;
};

struct mg_iface {
	struct mg_interface_cfg cfg;
	uint16_t port_id;
	struct rte_ether_addr mac;
	uint32_t netmask;
	uint16_t n_rxq, n_txq;
	bool tx_udp_csum_offload;
	bool rx_csum_offload;
	/* control-only port allocator: one byte per even/odd pair */
	uint8_t *pair_used;
	uint32_t n_pairs, pair_cursor, pairs_free;
	/* owner worker per local UDP port; written by control, read by every worker */
	uint8_t *owner;
};

struct mg_rxq_ref {
	uint16_t port_id;
	uint16_t queue;
	uint8_t iface;
};

struct mg_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[MG_MAX_BURST];
};

struct mg_worker {
	unsigned index, lcore;
	struct rte_ring *cmd_ring;		  /* control -> worker, SP/SC */
	struct rte_ring *dispatch_ring;		  /* any worker -> this worker, MP/SC */
	struct mg_leg **table[MG_MAX_INTERFACES]; /* local UDP port -> leg */
	unsigned n_rxq;
	struct mg_rxq_ref rxq[MG_MAX_INTERFACES * MG_MAX_WORKERS];
	struct mg_txbuf tx[MG_MAX_INTERFACES];
	struct mg_worker_stats stats;
	mg_srtp_engine *srtp;
	unsigned legs; /* control-side count, for placement */
	volatile int stop;
	struct mg_rec_fork *rec_fork; /* this worker's recording ring; NULL = recording off */
	/* conferences (worker_mix.c), worker-owned */
	struct mg_conf *conf_head;   /* the conferences it ticks */
	struct mg_conf *conf_events; /* conferences with telephone-events to send */
	uint64_t conf_next_tsc;	     /* next 20 ms deadline */
	uint64_t conf_period;	     /* 20 ms in TSC cycles */
} __rte_cache_aligned;

struct mg_dataplane {
	struct mg_profile profile;
	unsigned n_ifaces, n_workers;
	uint16_t burst;
	uint16_t control_txq;
	struct mg_iface ifaces[MG_MAX_INTERFACES];
	struct mg_worker *workers;
	struct mg_dp_worker_arg *worker_args;
	struct rte_mempool *pool;
	struct rte_mempool *cmd_pool;
	struct rte_ring *slow_ring;   /* workers -> control: ARP, ICMP, STUN, DTLS */
	struct rte_ring *hold_ring;   /* workers -> control: packets to next hops without a MAC */
	struct rte_ring *return_ring; /* workers -> control: legs (and tagged SRTP contexts)
				       * no longer referenced */
	mg_srtp_engine *control_srtp;
	struct rte_hash *neighbors; /* (iface, ip) -> MAC; lock-free readers */
	uint64_t tsc_hz;
	unsigned legs_in_use;
	struct mg_control_stats control;
	/* packets waiting for ARP (control lcore only) */
	unsigned n_held;
	struct mg_held {
		struct rte_mbuf *m;
		uint32_t hop;
		uint8_t iface;
		uint64_t since;
	} held[256];
	bool started;
	/* STUN/DTLS handler (lib/webrtc), control lcore only */
	void (*slow_udp)(void *arg, const struct mg_dp_slow_udp *pkt);
	unsigned (*slow_tick)(void *arg);
	void *slow_arg;
	/* conferences (control-owned list) */
	struct mg_conf *confs;
	unsigned n_confs;
};

/* neighbor.c */
int mg_neigh_init(struct mg_dataplane *dp);
void mg_neigh_free(struct mg_dataplane *dp);
void mg_neigh_set(struct mg_dataplane *dp, unsigned iface, uint32_t ip, const struct mg_mac *mac);
int mg_neigh_lookup(const struct mg_dataplane *dp, unsigned iface, uint32_t ip, struct mg_mac *mac);
uint32_t mg_next_hop(const struct mg_iface *ifc, uint32_t ip);

/* Objects on the return ring: a leg, or an SRTP context with bit 0 set, or a
 * conference with bit 1 set. */
#define MG_RETIRED_CTX_TAG  1u
#define MG_RETIRED_CONF_TAG 2u

/* worker.c */
void mg_worker_apply_commands(struct mg_dataplane *dp, struct mg_worker *w);
/* Sends one built frame on the worker's tx queue of `iface` (burst-buffered). */
void mg_worker_tx(struct mg_dataplane *dp, struct mg_worker *w, unsigned iface, struct rte_mbuf *m);

/* worker_mix.c: worker side */
void mg_worker_conf_command(struct mg_dataplane *dp, struct mg_worker *w, struct mg_cmd *c);
/* A leg is being released: out of its conference, out of relay partnerships. */
void mg_worker_conf_leg_released(struct mg_worker *w, struct mg_leg *leg);
/* An accepted packet on a leg without a relay destination: true when it was consumed
 * by a conference (pushed into the mixer, RTCP terminated, or dropped because the relay
 * partner is in a conference); the caller frees the mbuf. */
bool mg_worker_conf_input(struct mg_worker *w, struct mg_leg *leg, const uint8_t *pkt, uint32_t len,
			  bool rtcp);
/* Sends queued telephone-events and, at the 20 ms deadline, ticks every conference.
 * Returns how many conferences it ticked or sent events for (0: nothing to do). */
unsigned mg_worker_conf_poll(struct mg_dataplane *dp, struct mg_worker *w);
/* worker_mix.c: control side */
void mg_conf_forget_leg(struct mg_dataplane *dp, struct mg_leg *leg);
void mg_conf_free(struct mg_conf *conf);

/* worker_rec.c: copies an accepted (decrypted) RTP packet of a recorded leg into the
 * worker's recording ring (staged; flushed once per burst). */
struct mg_rec_fork;
void mg_worker_rec_fork(struct mg_worker *w, const struct mg_leg *leg, const uint8_t *rtp,
			uint32_t len, uint64_t rec_now);
void mg_worker_rec_flush(struct mg_worker *w);
uint64_t mg_worker_rec_clock(void);

#endif
