/* Fork records: one SP/SC rte_ring per producer, a preallocated pool per ring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "rec.h"

#define STAGE_MAX 32 /* records staged before one enqueue burst */
#define SPARE_MAX (2 * STAGE_MAX)
#define REFILL	  STAGE_MAX

/* Producer-owned: only its worker writes these lines. */
struct mg_rec_fork {
	struct rte_ring *ring;
	struct rte_mempool *pool;
	struct mg_rec_hub *hub;
	uint64_t forked, dropped_full, dropped_pool;
	unsigned n_stage, n_spare;
	struct mg_rec_record *stage[STAGE_MAX];
	struct mg_rec_record *spare[SPARE_MAX]; /* from the pool or refused by the ring */
} __rte_cache_aligned;

/* Consumer-owned counters. */
struct consumer_side {
	uint64_t drained;
} __rte_cache_aligned;

struct mg_rec_hub {
	unsigned n;
	uint32_t max_contacts;
	struct mg_rec_fork *forks;	/* n, cache aligned */
	struct consumer_side *consumer; /* n */
	uint64_t *contact_drops;	/* max_contacts; atomic adds from producers */
};

static uint64_t clock_mult; /* (8000 << 64) / tsc_hz */

void mg_rec_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz();
	if (hz)
		clock_mult = (uint64_t)(((unsigned __int128)8000 << 64) / hz);
}

uint64_t mg_rec_clock_now(void)
{
	return (uint64_t)(((unsigned __int128)rte_get_tsc_cycles() * clock_mult) >> 64);
}

void mg_rec_hub_free(struct mg_rec_hub *hub)
{
	if (!hub)
		return;
	for (unsigned i = 0; hub->forks && i < hub->n; i++) {
		rte_ring_free(hub->forks[i].ring);
		rte_mempool_free(hub->forks[i].pool);
	}
	rte_free(hub->forks);
	rte_free(hub->consumer);
	free(hub->contact_drops);
	free(hub);
}

int mg_rec_hub_create(struct mg_rec_hub **out, const struct mg_rec_hub_config *cfg)
{
	if (!out || !cfg || cfg->rings == 0 || cfg->ring_size < 2 ||
	    !rte_is_power_of_2(cfg->ring_size) || cfg->max_contacts == 0)
		return -1;
	*out = NULL;
	struct mg_rec_hub *hub = calloc(1, sizeof(*hub));
	if (!hub)
		return -1;
	hub->n = cfg->rings;
	hub->max_contacts = cfg->max_contacts;
	int socket = cfg->socket_id < 0 ? SOCKET_ID_ANY : cfg->socket_id;
	hub->forks = rte_zmalloc_socket("mgrec_forks", sizeof(*hub->forks) * hub->n,
					RTE_CACHE_LINE_SIZE, socket);
	hub->consumer = rte_zmalloc_socket("mgrec_cons", sizeof(*hub->consumer) * hub->n,
					   RTE_CACHE_LINE_SIZE, socket);
	hub->contact_drops = calloc(cfg->max_contacts, sizeof(uint64_t));
	if (!hub->forks || !hub->consumer || !hub->contact_drops)
		goto fail;
	const char *prefix = cfg->name ? cfg->name : "mgrec";
	unsigned pool_size = cfg->pool_size ? cfg->pool_size : 2 * cfg->ring_size;
	for (unsigned i = 0; i < hub->n; i++) {
		struct mg_rec_fork *f = &hub->forks[i];
		char name[RTE_RING_NAMESIZE];
		f->hub = hub;
		snprintf(name, sizeof(name), "%s_r%u", prefix, i);
		f->ring =
		    rte_ring_create(name, cfg->ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "%s_p%u", prefix, i);
		/* Records leave the pool on the worker (get) and return on the ship (put): one
		 * producer and one consumer of the pool's own ring, hence ring_sp_sc. The worker
		 * never puts: records the ring refused stay in its spare list. */
		f->pool = rte_mempool_create_empty(name, pool_size, sizeof(struct mg_rec_record), 0,
						   0, socket, 0);
		if (!f->ring || !f->pool ||
		    rte_mempool_set_ops_byname(f->pool, "ring_sp_sc", NULL) != 0 ||
		    rte_mempool_populate_default(f->pool) < 0)
			goto fail;
	}
	*out = hub;
	return 0;
fail:
	mg_rec_hub_free(hub);
	return -1;
}

unsigned mg_rec_hub_rings(const struct mg_rec_hub *hub)
{
	return hub->n;
}

uint32_t mg_rec_hub_max_contacts(const struct mg_rec_hub *hub)
{
	return hub->max_contacts;
}

struct mg_rec_fork *mg_rec_hub_fork(struct mg_rec_hub *hub, unsigned ring)
{
	return ring < hub->n ? &hub->forks[ring] : NULL;
}

void mg_rec_hub_ring_stats(const struct mg_rec_hub *hub, unsigned ring,
			   struct mg_rec_ring_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ring >= hub->n)
		return;
	const struct mg_rec_fork *f = &hub->forks[ring];
	st->forked = __atomic_load_n(&f->forked, __ATOMIC_RELAXED);
	st->dropped_full = __atomic_load_n(&f->dropped_full, __ATOMIC_RELAXED);
	st->dropped_pool = __atomic_load_n(&f->dropped_pool, __ATOMIC_RELAXED);
	st->drained = __atomic_load_n(&hub->consumer[ring].drained, __ATOMIC_RELAXED);
}

uint64_t mg_rec_hub_contact_drops(const struct mg_rec_hub *hub, uint32_t contact)
{
	return contact < hub->max_contacts
		   ? __atomic_load_n(&hub->contact_drops[contact], __ATOMIC_RELAXED)
		   : 0;
}

void mg_rec_hub_contact_reset(struct mg_rec_hub *hub, uint32_t contact)
{
	if (contact < hub->max_contacts)
		__atomic_store_n(&hub->contact_drops[contact], 0, __ATOMIC_RELAXED);
}

static inline void count_contact_drop(struct mg_rec_hub *hub, uint32_t contact)
{
	if (contact < hub->max_contacts)
		__atomic_fetch_add(&hub->contact_drops[contact], 1, __ATOMIC_RELAXED);
}

unsigned mg_rec_fork_flush(struct mg_rec_fork *f)
{
	unsigned n = f->n_stage;
	if (n == 0)
		return 0;
	unsigned done = rte_ring_sp_enqueue_burst(f->ring, (void *const *)f->stage, n, NULL);
	f->n_stage = 0;
	if (done)
		__atomic_store_n(&f->forked, f->forked + done, __ATOMIC_RELAXED);
	if (done < n) {
		__atomic_store_n(&f->dropped_full, f->dropped_full + (n - done), __ATOMIC_RELAXED);
		for (unsigned i = done; i < n; i++) {
			count_contact_drop(f->hub, f->stage[i]->contact);
			f->spare[f->n_spare++] = f->stage[i]; /* n_spare <= REFILL before */
		}
	}
	return done;
}

static inline struct mg_rec_record *take_record(struct mg_rec_fork *f)
{
	if (f->n_spare == 0) {
		if (rte_mempool_get_bulk(f->pool, (void **)f->spare, REFILL) == 0)
			f->n_spare = REFILL;
		else if (rte_mempool_get(f->pool, (void **)&f->spare[0]) == 0)
			f->n_spare = 1;
		else
			return NULL;
	}
	return f->spare[--f->n_spare];
}

unsigned mg_rec_fork_add(struct mg_rec_fork *f, uint32_t contact, uint32_t generation, uint8_t leg,
			 uint8_t channel, uint32_t ssrc, uint32_t rtp_ts, uint16_t seq, uint8_t pt,
			 uint64_t arrival, const uint8_t *payload, uint16_t len)
{
	unsigned staged = 0;
	uint8_t chunk = 0;
	if (len == 0 || !payload)
		return 0;
	do {
		uint16_t n = len > MG_REC_PAYLOAD_MAX ? MG_REC_PAYLOAD_MAX : len;
		if (f->n_stage == STAGE_MAX)
			mg_rec_fork_flush(f);
		struct mg_rec_record *r = take_record(f);
		if (!r) {
			__atomic_store_n(&f->dropped_pool, f->dropped_pool + 1, __ATOMIC_RELAXED);
			count_contact_drop(f->hub, contact);
		} else {
			r->contact = contact;
			r->generation = generation;
			r->arrival = arrival;
			r->ssrc = ssrc;
			r->rtp_ts = rtp_ts;
			r->seq = seq;
			r->pt = pt;
			r->leg = leg;
			r->channel = channel;
			r->flags = chunk; /* chunk index of a split packet */
			r->len = n;
			memcpy(r->payload, payload, n);
			f->stage[f->n_stage++] = r;
			staged++;
		}
		payload += n;
		len = (uint16_t)(len - n);
		rtp_ts += n;
		chunk++;
	} while (len > 0 && chunk < 8);
	return staged;
}

unsigned mg_rec_hub_drain(struct mg_rec_hub *hub, unsigned ring, struct mg_rec_record **out,
			  unsigned max)
{
	if (ring >= hub->n)
		return 0;
	unsigned n = rte_ring_sc_dequeue_burst(hub->forks[ring].ring, (void **)out, max, NULL);
	struct consumer_side *c = &hub->consumer[ring];
	__atomic_store_n(&c->drained, c->drained + n, __ATOMIC_RELAXED);
	return n;
}

void mg_rec_hub_release(struct mg_rec_hub *hub, unsigned ring, struct mg_rec_record **recs,
			unsigned n)
{
	if (ring < hub->n && n)
		rte_mempool_put_bulk(hub->forks[ring].pool, (void *const *)recs, n);
}
