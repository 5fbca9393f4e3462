/* Conferences on the worker lcores (issue 8, docs/mixing.md "Integration").
 *
 * A conference is a lib/mix mixer plus the legs in it. The control lcore creates it
 * (rte_malloc on the worker's NUMA node) and hands it to its worker with a command; the
 * worker then owns it: it pushes what the conference's legs receive (plaintext, right
 * after SRTP unprotect and the RTP checks) into the mixer, ticks every conference every
 * 20 ms from the TSC, builds one packet per participant in mbufs of the pool (headers
 * towards the leg's latched or SDP remote, as for relayed packets), protects it with the
 * leg's own SRTP context when the leg is SRTP, and sends it on its tx queue. Forwarded
 * telephone-events go out as soon as the worker polls after they arrived. A removed
 * conference goes back through the return ring and only then is freed.
 *
 * Relay partners: a leg in a conference has no relay `peer`, and neither has the leg it
 * normally relays with (so nothing is relayed around the mixer). The worker keeps the
 * partnership in `relay_peer` and restores `peer` when both are out of conferences. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dp_internal.h"

#define CONF_TICK_US	  20000
#define CONF_MAX_CATCHUP  5 /* periods a late worker catches up before it skips ahead */
#define CONF_TX_MAX_BURST (MG_MIX_MAX_PARTICIPANTS + MG_MIX_EVENT_QUEUE)

struct mg_conf {
	/* worker-owned once added */
	struct mg_mix *mix;
	struct mg_leg *slot_leg[MG_MIX_MAX_PARTICIPANTS];
	uint16_t slot_port[MG_MIX_MAX_PARTICIPANTS]; /* for telemetry: never dereference legs */
	struct mg_conf *next, *prev;		     /* the worker's list */
	struct mg_conf *ev_next;		     /* the worker's list of pending events */
	bool ev_pending;
	/* control-owned */
	char name[MG_CONF_NAME_MAX];
	uint8_t worker;
	unsigned n_parts;
	struct mg_leg *parts[MG_MIX_MAX_PARTICIPANTS];
	bool muted[MG_MIX_MAX_PARTICIPANTS], on_hold[MG_MIX_MAX_PARTICIPANTS];
	struct mg_conf *ctl_next, *ctl_prev;
};

/* ------------------------------------------------------------------ worker side */

static void relay_init(struct mg_leg *l)
{
	if (l && !l->relay_init) {
		l->relay_peer = l->peer;
		l->relay_init = true;
	}
}

/* A leg relays only when neither it nor its partner is in a conference. */
static void relay_refresh(struct mg_leg *l)
{
	if (!l)
		return;
	struct mg_leg *p = l->relay_peer;
	l->peer = (l->conf || !p || p->conf) ? NULL : p;
}

static void conf_detach(struct mg_leg *leg)
{
	struct mg_conf *conf = leg->conf;
	if (!conf)
		return;
	unsigned slot = (unsigned)leg->conf_slot;
	if (slot < MG_MIX_MAX_PARTICIPANTS && conf->slot_leg[slot] == leg) {
		mg_mix_leave(conf->mix, slot);
		conf->slot_leg[slot] = NULL;
		conf->slot_port[slot] = 0;
	}
	leg->conf = NULL;
	leg->conf_slot = -1;
	relay_refresh(leg);
	relay_refresh(leg->relay_peer);
}

static void unlink_relay(struct mg_leg *l)
{
	struct mg_leg *old = l->relay_peer;
	if (old && old->relay_peer == l) {
		old->relay_peer = NULL;
		relay_refresh(old);
	}
	l->relay_peer = NULL;
}

static void conf_remove(struct mg_dataplane *dp, struct mg_worker *w, struct mg_conf *conf)
{
	for (unsigned s = 0; s < MG_MIX_MAX_PARTICIPANTS; s++)
		if (conf->slot_leg[s])
			conf_detach(conf->slot_leg[s]);
	if (conf->prev)
		conf->prev->next = conf->next;
	else if (w->conf_head == conf)
		w->conf_head = conf->next;
	if (conf->next)
		conf->next->prev = conf->prev;
	if (conf->ev_pending) {
		struct mg_conf **pp = &w->conf_events;
		while (*pp && *pp != conf)
			pp = &(*pp)->ev_next;
		if (*pp)
			*pp = conf->ev_next;
		conf->ev_pending = false;
	}
	conf->next = conf->prev = NULL;
	/* The return ring has room for every leg and context, and a conference holds at
	 * least one leg's worth of that room. */
	rte_ring_mp_enqueue(dp->return_ring, (void *)((uintptr_t)conf | MG_RETIRED_CONF_TAG));
}

void mg_worker_conf_command(struct mg_dataplane *dp, struct mg_worker *w, struct mg_cmd *c)
{
	struct mg_conf *conf = c->conf;
	struct mg_leg *leg = c->leg;
	switch (c->op) {
	case MG_CMD_CONF_ADD:
		if (!w->conf_period)
			w->conf_period = rte_get_tsc_hz() / (1000000 / CONF_TICK_US);
		if (!w->conf_head)
			w->conf_next_tsc = rte_rdtsc() + w->conf_period;
		conf->prev = NULL;
		conf->next = w->conf_head;
		if (w->conf_head)
			w->conf_head->prev = conf;
		w->conf_head = conf;
		break;
	case MG_CMD_CONF_JOIN: {
		if (leg->conf)
			conf_detach(leg);
		int id = mg_mix_join(conf->mix, &c->pcfg);
		if (id < 0) {
			w->stats.conf_join_failed++;
			break;
		}
		relay_init(leg);
		relay_init(leg->relay_peer);
		conf->slot_leg[id] = leg;
		conf->slot_port[id] = leg->rtp_port;
		leg->conf = conf;
		leg->conf_slot = (int8_t)id;
		relay_refresh(leg);
		relay_refresh(leg->relay_peer);
		break;
	}
	case MG_CMD_CONF_LEAVE:
		conf_detach(leg);
		break;
	case MG_CMD_CONF_STATE:
		if (leg->conf) {
			mg_mix_set_muted(leg->conf->mix, (unsigned)leg->conf_slot, c->muted);
			mg_mix_set_hold(leg->conf->mix, (unsigned)leg->conf_slot, c->on_hold);
		}
		break;
	case MG_CMD_CONF_RELAY: {
		struct mg_leg *other = c->other;
		relay_init(leg);
		relay_init(other);
		relay_init(leg->relay_peer);
		relay_init(other->relay_peer);
		if (leg->relay_peer != other) {
			unlink_relay(leg);
			unlink_relay(other);
			leg->relay_peer = other;
			other->relay_peer = leg;
		}
		relay_refresh(leg);
		relay_refresh(other);
		break;
	}
	case MG_CMD_CONF_REMOVE:
		conf_remove(dp, w, conf);
		break;
	default:
		break;
	}
	w->stats.commands++;
}

void mg_worker_conf_leg_released(struct mg_worker *w, struct mg_leg *leg)
{
	(void)w;
	conf_detach(leg);
	if (leg->relay_init) {
		unlink_relay(leg);
		relay_refresh(leg);
	}
}

bool mg_worker_conf_input(struct mg_worker *w, struct mg_leg *leg, const uint8_t *pkt, uint32_t len,
			  bool rtcp)
{
	struct mg_conf *conf = leg->conf;
	if (conf) {
		/* RTCP of a conference leg is terminated here: the mixer's output streams are
		 * not the streams the remote's reports describe. Counted in rtcp_in. */
		if (rtcp)
			return true;
		/* Recording fork for conference legs: the same point as for relayed legs,
		 * right after stage_accept in relay_burst (see docs/mixing.md). */
		enum mg_mix_push_status st =
		    mg_mix_push(conf->mix, (unsigned)leg->conf_slot, pkt, len);
		w->stats.conf_pushed++;
		if (st == MG_MIX_PUSH_EVENT && !conf->ev_pending) {
			conf->ev_pending = true;
			conf->ev_next = w->conf_events;
			w->conf_events = conf;
		}
		return true;
	}
	if (leg->relay_peer && leg->relay_peer->conf) {
		leg->stats.drops[MG_LEG_DROP_CONFERENCE]++;
		return true;
	}
	return false; /* no destination: counted by the relay path */
}

static inline uint32_t room_from(const struct rte_mbuf *m, const uint8_t *p)
{
	return (uint32_t)((const uint8_t *)m->buf_addr + m->buf_len - p);
}

/* One packet for a conference leg on its way out. */
struct conf_out {
	struct rte_mbuf *m;
	struct mg_leg *leg;
	uint8_t *rtp;
	uint32_t len;
	bool event;
};

/* Headers towards the leg's latched (else SDP) RTP remote, then transmit or hold for ARP. */
static void conf_send(struct mg_dataplane *dp, struct mg_worker *w, struct conf_out *o)
{
	struct mg_leg *leg = o->leg;
	struct rte_mbuf *m = o->m;
	struct mg_endpoint dst = leg->rtp_latch.latched ? leg->rtp_latch.addr : leg->cfg.remote_rtp;
	if (unlikely(!dst.ip || !dst.port)) {
		leg->stats.drops[MG_LEG_DROP_NO_PEER]++;
		rte_pktmbuf_free(m);
		return;
	}
	const struct mg_iface *ifc = &dp->ifaces[leg->iface];
	struct mg_udp_tuple t;
	uint32_t held = 0;
	if (leg->rtp_latch.latched) {
		t.dst_mac = leg->rtp_latch.mac;
	} else {
		uint32_t hop = mg_next_hop(ifc, dst.ip);
		if (unlikely(!hop)) {
			leg->stats.drops[MG_LEG_DROP_NO_NEIGHBOR]++;
			rte_pktmbuf_free(m);
			return;
		}
		if (unlikely(mg_neigh_lookup(dp, leg->iface, hop, &t.dst_mac) < 0)) {
			held = hop;
			memset(t.dst_mac.b, 0, sizeof(t.dst_mac.b));
		}
	}
	m->data_len = (uint16_t)(MG_ETH_IP_UDP_LEN + o->len);
	m->pkt_len = m->data_len;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(t.src_mac.b, ifc->mac.addr_bytes, 6);
	t.src_ip = ifc->cfg.address;
	t.dst_ip = dst.ip;
	t.src_port = leg->rtp_port;
	t.dst_port = dst.port;
	t.ttl = 64;
	t.tos = 0xb8; /* DSCP EF: voice */
	mg_net_build_udp(frame, &t, (uint16_t)o->len, leg->ip_id++, false);
	leg->stats.rtp_out_pkts++;
	leg->stats.rtp_out_bytes += o->len;
	if (o->event)
		w->stats.conf_events_out++;
	else
		w->stats.conf_packets_out++;
	if (unlikely(held)) {
		struct mg_mbuf_meta *meta = mg_meta(m);
		meta->iface = leg->iface;
		meta->info.dst_ip = held;
		if (rte_ring_mp_enqueue(dp->hold_ring, m) != 0) {
			leg->stats.drops[MG_LEG_DROP_NO_NEIGHBOR]++;
			rte_pktmbuf_free(m);
		}
		return;
	}
	mg_worker_tx(dp, w, leg->iface, m);
}

/* Copies the mixer's packets into mbufs, protects those for SRTP legs in one burst (a
 * leg without a key gets nothing: never plaintext to an SRTP remote) and sends them. */
static void conf_emit(struct mg_dataplane *dp, struct mg_worker *w, struct mg_conf *conf,
		      const struct mg_mix_pkt *pkts, unsigned n)
{
	struct conf_out out[CONF_TX_MAX_BURST];
	struct rte_mbuf *mbufs[CONF_TX_MAX_BURST];
	struct mg_srtp_pkt sp[CONF_TX_MAX_BURST];
	unsigned sp_idx[CONF_TX_MAX_BURST];
	uint8_t status[CONF_TX_MAX_BURST];
	unsigned n_out = 0, n_sp = 0;
	if (n > CONF_TX_MAX_BURST)
		n = CONF_TX_MAX_BURST;
	if (unlikely(rte_pktmbuf_alloc_bulk(dp->pool, mbufs, n) != 0)) {
		for (unsigned i = 0; i < n; i++) {
			struct mg_leg *leg = conf->slot_leg[pkts[i].to];
			if (leg)
				leg->stats.drops[MG_LEG_DROP_NO_MBUF]++;
		}
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct mg_leg *leg = conf->slot_leg[pkts[i].to];
		if (unlikely(!leg)) {
			rte_pktmbuf_free(mbufs[i]);
			continue;
		}
		struct conf_out *o = &out[n_out];
		o->m = mbufs[i];
		o->leg = leg;
		o->rtp = rte_pktmbuf_mtod_offset(o->m, uint8_t *, MG_ETH_IP_UDP_LEN);
		o->len = pkts[i].len;
		o->event = pkts[i].is_event;
		memcpy(o->rtp, pkts[i].data, pkts[i].len);
		if (leg->cfg.srtp) {
			if (unlikely(!leg->cfg.srtp_out)) {
				leg->stats.drops[MG_LEG_DROP_SRTP_NO_KEY]++;
				rte_pktmbuf_free(o->m);
				continue;
			}
			sp[n_sp] = (struct mg_srtp_pkt){.data = o->rtp,
							.len = o->len,
							.capacity = room_from(o->m, o->rtp),
							.ctx = leg->cfg.srtp_out};
			sp_idx[n_sp++] = n_out;
		}
		n_out++;
	}
	if (n_sp) {
		mg_srtp_protect_burst(w->srtp, sp, n_sp, status);
		for (unsigned k = 0; k < n_sp; k++) {
			struct conf_out *o = &out[sp_idx[k]];
			if (likely(status[k] == MG_SRTP_OK)) {
				o->len = sp[k].len;
			} else {
				o->leg->stats.drops[status[k] == MG_SRTP_ERR_NO_CONTEXT
							? MG_LEG_DROP_SRTP_NO_KEY
							: MG_LEG_DROP_SRTP_PROTECT]++;
				rte_pktmbuf_free(o->m);
				o->m = NULL;
			}
		}
	}
	for (unsigned k = 0; k < n_out; k++)
		if (out[k].m)
			conf_send(dp, w, &out[k]);
}

static void conf_send_events(struct mg_dataplane *dp, struct mg_worker *w)
{
	struct mg_conf *conf = w->conf_events;
	w->conf_events = NULL;
	for (; conf; conf = conf->ev_next) {
		const struct mg_mix_pkt *ev;
		unsigned n = mg_mix_events(conf->mix, &ev);
		if (n)
			conf_emit(dp, w, conf, ev, n);
		mg_mix_events_clear(conf->mix);
		conf->ev_pending = false;
	}
}

unsigned mg_worker_conf_poll(struct mg_dataplane *dp, struct mg_worker *w)
{
	unsigned done = 0;
	if (unlikely(w->conf_events != NULL)) {
		conf_send_events(dp, w);
		done++;
	}
	if (likely(!w->conf_head))
		return done;
	uint64_t start = rte_rdtsc();
	if (start < w->conf_next_tsc)
		return done;
	/* Late by a whole period or more: this round is an overrun. The mixer is told, and
	 * the next poll catches up (up to CONF_MAX_CATCHUP periods, then time is skipped). */
	uint64_t behind = start - w->conf_next_tsc;
	int late = behind >= w->conf_period;
	w->stats.conf_tick_overruns += (uint64_t)late;
	for (struct mg_conf *c = w->conf_head; c; c = c->next) {
		if (c->next && c->next->next)
			mg_mix_prefetch(c->next->next->mix);
		const struct mg_mix_pkt *out;
		unsigned n = mg_mix_tick(c->mix, late, &out);
		if (n)
			conf_emit(dp, w, c, out, n);
		w->stats.conf_ticks++;
		done++;
	}
	w->conf_next_tsc += w->conf_period;
	if (behind > CONF_MAX_CATCHUP * w->conf_period)
		w->conf_next_tsc = start + w->conf_period;
	uint64_t took = rte_rdtsc() - start;
	w->stats.conf_rounds++;
	w->stats.conf_round_cycles += took;
	if (took > w->stats.conf_round_max_cycles)
		w->stats.conf_round_max_cycles = took;
	return done;
}

/* ------------------------------------------------------------------ control side */

static int conf_cmd(struct mg_dataplane *dp, unsigned worker, uint8_t op, struct mg_conf *conf,
		    struct mg_leg *leg, struct mg_leg *other,
		    const struct mg_mix_participant_cfg *pcfg, bool muted, bool on_hold)
{
	void *obj;
	if (rte_mempool_get(dp->cmd_pool, &obj) != 0)
		return -1;
	struct mg_cmd *c = obj;
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->conf = conf;
	c->leg = leg;
	c->other = other;
	if (pcfg)
		c->pcfg = *pcfg;
	c->muted = muted;
	c->on_hold = on_hold;
	if (rte_ring_sp_enqueue(dp->workers[worker].cmd_ring, c) != 0) {
		rte_mempool_put(dp->cmd_pool, c);
		return -1;
	}
	if (!dp->started)
		mg_worker_apply_commands(dp, &dp->workers[worker]);
	return 0;
}

/* Commands that must not be lost (leave, remove) are retried until queued. */
static void conf_cmd_sure(struct mg_dataplane *dp, unsigned worker, uint8_t op,
			  struct mg_conf *conf, struct mg_leg *leg)
{
	while (conf_cmd(dp, worker, op, conf, leg, NULL, NULL, false, false) != 0)
		mg_dp_control_poll(dp);
}

struct mg_conf *mg_dp_conf_create(struct mg_dataplane *dp, unsigned worker, const char *name)
{
	if (worker >= dp->n_workers || !name || strlen(name) >= MG_CONF_NAME_MAX)
		return NULL;
	int socket = (int)rte_lcore_to_socket_id(dp->workers[worker].lcore);
	struct mg_conf *conf =
	    rte_zmalloc_socket("mg_conf", sizeof(*conf), RTE_CACHE_LINE_SIZE, socket);
	void *mem = rte_malloc_socket("mg_mix", mg_mix_footprint(), 64, socket);
	if (!conf || !mem || !(conf->mix = mg_mix_init(mem, mg_mix_footprint()))) {
		rte_free(mem);
		rte_free(conf);
		return NULL;
	}
	snprintf(conf->name, sizeof(conf->name), "%s", name);
	conf->worker = (uint8_t)worker;
	if (conf_cmd(dp, worker, MG_CMD_CONF_ADD, conf, NULL, NULL, NULL, false, false) != 0) {
		mg_conf_free(conf);
		return NULL;
	}
	conf->ctl_next = dp->confs;
	if (dp->confs)
		dp->confs->ctl_prev = conf;
	dp->confs = conf;
	dp->n_confs++;
	return conf;
}

void mg_conf_free(struct mg_conf *conf)
{
	if (!conf)
		return;
	rte_free(conf->mix);
	rte_free(conf);
}

struct mg_conf *mg_dp_conf_find(struct mg_dataplane *dp, const char *name)
{
	for (struct mg_conf *c = dp->confs; c; c = c->ctl_next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int part_index(const struct mg_conf *conf, const struct mg_leg *leg)
{
	for (unsigned i = 0; i < conf->n_parts; i++)
		if (conf->parts[i] == leg)
			return (int)i;
	return -1;
}

static void part_remove(struct mg_conf *conf, unsigned i)
{
	for (unsigned k = i + 1; k < conf->n_parts; k++) {
		conf->parts[k - 1] = conf->parts[k];
		conf->muted[k - 1] = conf->muted[k];
		conf->on_hold[k - 1] = conf->on_hold[k];
	}
	conf->n_parts--;
}

static void relay_ctl_init(struct mg_leg *l)
{
	if (l && !l->relay_ctl_init) {
		l->relay_ctl = l->peer; /* as paired at creation */
		l->relay_ctl_init = true;
	}
}

int mg_dp_conf_join(struct mg_dataplane *dp, struct mg_conf *conf, struct mg_leg *leg,
		    const struct mg_mix_participant_cfg *pcfg)
{
	if (!leg->published || leg->worker != conf->worker || leg->conf_ctl ||
	    conf->n_parts >= MG_MIX_MAX_PARTICIPANTS)
		return -1;
	/* the worker takes the relay peers apart now: keep the control view first */
	relay_ctl_init(leg);
	relay_ctl_init(leg->relay_ctl);
	if (conf_cmd(dp, conf->worker, MG_CMD_CONF_JOIN, conf, leg, NULL, pcfg, false, false) != 0)
		return -1;
	leg->conf_ctl = conf;
	conf->parts[conf->n_parts] = leg;
	conf->muted[conf->n_parts] = pcfg->muted;
	conf->on_hold[conf->n_parts] = pcfg->on_hold;
	conf->n_parts++;
	return 0;
}

int mg_dp_conf_leave(struct mg_dataplane *dp, struct mg_leg *leg)
{
	struct mg_conf *conf = leg->conf_ctl;
	if (!conf)
		return -1;
	conf_cmd_sure(dp, conf->worker, MG_CMD_CONF_LEAVE, conf, leg);
	int i = part_index(conf, leg);
	if (i >= 0)
		part_remove(conf, (unsigned)i);
	leg->conf_ctl = NULL;
	return 0;
}

int mg_dp_conf_set_state(struct mg_dataplane *dp, struct mg_leg *leg, bool muted, bool on_hold)
{
	struct mg_conf *conf = leg->conf_ctl;
	int i = conf ? part_index(conf, leg) : -1;
	if (i < 0)
		return -1;
	if (conf_cmd(dp, conf->worker, MG_CMD_CONF_STATE, conf, leg, NULL, NULL, muted, on_hold) !=
	    0)
		return -1;
	conf->muted[i] = muted;
	conf->on_hold[i] = on_hold;
	return 0;
}

struct mg_leg *mg_dp_leg_relay_partner(struct mg_leg *leg)
{
	relay_ctl_init(leg);
	return leg->relay_ctl;
}

static void relay_ctl_unlink(struct mg_leg *l)
{
	relay_ctl_init(l);
	struct mg_leg *old = l->relay_ctl;
	relay_ctl_init(old);
	if (old && old->relay_ctl == l)
		old->relay_ctl = NULL;
	l->relay_ctl = NULL;
}

int mg_dp_relay_connect(struct mg_dataplane *dp, struct mg_leg *a, struct mg_leg *b)
{
	if (a == b || a->worker != b->worker || a->conf_ctl || b->conf_ctl || !a->published ||
	    !b->published)
		return -1;
	/* the worker re-pairs the peers (at once when not started): keep the control view
	 * of all four first, as a join does */
	relay_ctl_init(a);
	relay_ctl_init(b);
	relay_ctl_init(a->relay_ctl);
	relay_ctl_init(b->relay_ctl);
	if (conf_cmd(dp, a->worker, MG_CMD_CONF_RELAY, NULL, a, b, NULL, false, false) != 0)
		return -1;
	if (mg_dp_leg_relay_partner(a) != b) {
		relay_ctl_unlink(a);
		relay_ctl_unlink(b);
		a->relay_ctl = b;
		b->relay_ctl = a;
	}
	return 0;
}

void mg_dp_conf_release(struct mg_dataplane *dp, struct mg_conf *conf)
{
	while (conf->n_parts)
		mg_dp_conf_leave(dp, conf->parts[0]);
	if (conf->ctl_prev)
		conf->ctl_prev->ctl_next = conf->ctl_next;
	else
		dp->confs = conf->ctl_next;
	if (conf->ctl_next)
		conf->ctl_next->ctl_prev = conf->ctl_prev;
	dp->n_confs--;
	conf_cmd_sure(dp, conf->worker, MG_CMD_CONF_REMOVE, conf, NULL);
	if (!dp->started)
		mg_dp_control_poll(dp);
}

void mg_conf_forget_leg(struct mg_dataplane *dp, struct mg_leg *leg)
{
	(void)dp;
	if (leg->relay_ctl_init)
		relay_ctl_unlink(leg);
	struct mg_conf *conf = leg->conf_ctl;
	if (!conf)
		return;
	int i = part_index(conf, leg);
	if (i >= 0)
		part_remove(conf, (unsigned)i);
	leg->conf_ctl = NULL; /* the worker detaches it when it applies the release */
}

struct mg_conf *mg_dp_conf_first(struct mg_dataplane *dp)
{
	return dp->confs;
}
struct mg_conf *mg_dp_conf_next(struct mg_conf *conf)
{
	return conf->ctl_next;
}
const char *mg_dp_conf_name(const struct mg_conf *conf)
{
	return conf->name;
}
unsigned mg_dp_conf_worker(const struct mg_conf *conf)
{
	return conf->worker;
}
unsigned mg_dp_conf_legs(const struct mg_conf *conf, struct mg_leg **legs, unsigned max)
{
	unsigned n = conf->n_parts < max ? conf->n_parts : max;
	for (unsigned i = 0; i < n; i++)
		legs[i] = conf->parts[i];
	return conf->n_parts;
}
unsigned mg_dp_conf_count(const struct mg_dataplane *dp)
{
	return dp->n_confs;
}
const struct mg_mix *mg_dp_conf_mix(const struct mg_conf *conf)
{
	return conf->mix;
}
uint16_t mg_dp_conf_slot_port(const struct mg_conf *conf, unsigned slot)
{
	return slot < MG_MIX_MAX_PARTICIPANTS ? conf->slot_port[slot] : 0;
}
void mg_dp_conf_leg_state(const struct mg_leg *leg, bool *muted, bool *on_hold)
{
	const struct mg_conf *conf = leg->conf_ctl;
	int i = conf ? part_index(conf, leg) : -1;
	*muted = i >= 0 && conf->muted[i];
	*on_hold = i >= 0 && conf->on_hold[i];
}
