#include "session.h"
#include "session_secrets.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct mg_sessions {
	struct mg_dataplane *dp;
	unsigned n_buckets;
	struct mg_call **buckets;
	struct mg_call *head, *tail;
	unsigned count;
	pthread_mutex_t lock;
	void (*on_delete)(void *arg, const struct mg_call *c);
	void *on_delete_arg;
	struct mg_call *dirty; /* calls changed by signalling, not yet persisted */
	void (*webrtc_free)(void *arg, struct mg_media *m, int side);
	void *webrtc_free_arg;
	struct mg_session_keys keys; /* sealing of snapshot secrets (session_secrets.c) */
};

struct mg_session_keys *mg_sessions_keys(struct mg_sessions *s)
{
	return &s->keys;
}

void mg_sessions_on_webrtc_free(struct mg_sessions *s,
				void (*fn)(void *arg, struct mg_media *m, int side), void *arg)
{
	s->webrtc_free = fn;
	s->webrtc_free_arg = arg;
}

void mg_call_mark_dirty(struct mg_sessions *s, struct mg_call *c)
{
	if (c->state_dirty)
		return;
	c->state_dirty = true;
	c->dirty_prev = NULL;
	c->dirty_next = s->dirty;
	if (s->dirty)
		s->dirty->dirty_prev = c;
	s->dirty = c;
}

struct mg_call *mg_sessions_take_dirty(struct mg_sessions *s)
{
	struct mg_call *list = s->dirty;
	s->dirty = NULL;
	return list;
}

void mg_sessions_on_delete(struct mg_sessions *s, void (*fn)(void *arg, const struct mg_call *c),
			   void *arg)
{
	s->on_delete = fn;
	s->on_delete_arg = arg;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

struct mg_sessions *mg_sessions_create(struct mg_dataplane *dp, unsigned buckets)
{
	struct mg_sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dp = dp;
	s->n_buckets = buckets ? buckets : 65536;
	s->buckets = calloc(s->n_buckets, sizeof(*s->buckets));
	if (!s->buckets) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void mg_sessions_destroy(struct mg_sessions *s)
{
	if (!s)
		return;
	while (s->head)
		mg_call_delete(s, s->head);
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void mg_sessions_lock(struct mg_sessions *s)
{
	pthread_mutex_lock(&s->lock);
}

void mg_sessions_unlock(struct mg_sessions *s)
{
	pthread_mutex_unlock(&s->lock);
}

struct mg_call *mg_call_lookup(struct mg_sessions *s, const char *call_id)
{
	for (struct mg_call *c = s->buckets[hash_str(call_id) % s->n_buckets]; c; c = c->hash_next)
		if (!strcmp(c->call_id, call_id))
			return c;
	return NULL;
}

struct mg_call *mg_call_find(struct mg_sessions *s, const char *call_id)
{
	struct mg_call *c = mg_call_lookup(s, call_id);
	if (c && c->restore_secrets) /* restored, keys not installed yet: now */
		mg_call_restore_finish(s, c);
	return c;
}

struct mg_call *mg_call_create(struct mg_sessions *s, const char *call_id, const char *from_tag)
{
	if (strlen(call_id) >= MG_CALL_ID_MAX || strlen(from_tag) >= MG_TAG_MAX)
		return NULL;
	struct mg_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	strcpy(c->call_id, call_id);
	strcpy(c->tag[0], from_tag);
	c->created = c->last_signal = time(NULL);
	unsigned b = (unsigned)(hash_str(call_id) % s->n_buckets);
	c->hash_next = s->buckets[b];
	c->list_prev = s->tail;
	mg_sessions_lock(s);
	s->buckets[b] = c;
	if (s->tail)
		s->tail->list_next = c;
	else
		s->head = c;
	s->tail = c;
	s->count++;
	mg_sessions_unlock(s);
	return c;
}

int mg_call_side_of(const struct mg_call *c, const char *tag)
{
	if (!tag || !*tag)
		return -1;
	if (!strcmp(c->tag[0], tag))
		return 0;
	if (c->tag[1][0] && !strcmp(c->tag[1], tag))
		return 1;
	return -1;
}

void mg_call_delete(struct mg_sessions *s, struct mg_call *c)
{
	if (s->on_delete)
		s->on_delete(s->on_delete_arg, c);
	if (c->state_dirty) { /* deleted before it was persisted */
		if (c->dirty_prev)
			c->dirty_prev->dirty_next = c->dirty_next;
		else
			s->dirty = c->dirty_next;
		if (c->dirty_next)
			c->dirty_next->dirty_prev = c->dirty_prev;
	}
	mg_sessions_lock(s);
	struct mg_call **pp = &s->buckets[hash_str(c->call_id) % s->n_buckets];
	while (*pp && *pp != c)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = c->hash_next;
	if (c->list_prev)
		c->list_prev->list_next = c->list_next;
	else
		s->head = c->list_next;
	if (c->list_next)
		c->list_next->list_prev = c->list_prev;
	else
		s->tail = c->list_prev;
	s->count--;
	for (unsigned i = 0; i < MG_CALL_MAX_MEDIA; i++)
		for (int side = 0; side < 2; side++)
			if (c->media[i].webrtc[side] && s->webrtc_free)
				s->webrtc_free(s->webrtc_free_arg, &c->media[i], side);
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++)
			if (c->media[i].leg[side])
				mg_dp_leg_release(s->dp, c->media[i].leg[side]);
	mg_sessions_unlock(s);
	for (unsigned i = 0; i < MG_CALL_MAX_MEDIA; i++)
		for (int side = 0; side < 2; side++)
			if (c->media[i].crypto[side]) {
				/* key material never lingers in freed memory */
				explicit_bzero(c->media[i].crypto[side],
					       sizeof(struct mg_side_crypto));
				free(c->media[i].crypto[side]);
			}
	mg_call_pending_remove(s, c);
	free(c->sealed_unopened);
	if (c->pii) {
		explicit_bzero(c->pii, sizeof(*c->pii));
		free(c->pii);
	}
	free(c);
}

struct mg_side_crypto *mg_media_crypto(struct mg_media *m, int side)
{
	if (!m->crypto[side])
		m->crypto[side] = calloc(1, sizeof(struct mg_side_crypto));
	return m->crypto[side];
}

int mg_call_media_ensure(struct mg_sessions *s, struct mg_call *c, unsigned i)
{
	return mg_call_media_ensure_at(s, c, i, 0, 0);
}

int mg_call_media_ensure_at(struct mg_sessions *s, struct mg_call *c, unsigned i, uint16_t port0,
			    uint16_t port1)
{
	if (i >= MG_CALL_MAX_MEDIA)
		return -1;
	struct mg_media *m = &c->media[i];
	if (m->leg[0] && m->leg[1])
		return 0;
	struct mg_leg *a = mg_dp_leg_alloc_at(s->dp, c->iface[0], c->place_worker - 1, port0);
	struct mg_leg *b = a ? mg_dp_leg_alloc_at(s->dp, c->iface[1], a->worker, port1) : NULL;
	if (!a || !b) {
		if (a)
			mg_dp_leg_release(s->dp, a);
		return -1;
	}
	mg_dp_leg_pair(a, b);
	a->owner = b->owner = c;
	mg_sessions_lock(s);
	m->leg[0] = a;
	m->leg[1] = b;
	if (c->n_media <= i)
		c->n_media = i + 1;
	mg_sessions_unlock(s);
	return 0;
}

int mg_call_configure(struct mg_sessions *s, struct mg_call *c, unsigned i, int side,
		      const struct mg_leg_cfg *cfg)
{
	struct mg_media *m = &c->media[i];
	struct mg_leg *leg = m->leg[side];
	if (!leg)
		return -1;
	m->cfg[side] = *cfg;
	m->cfg[side].relatch = false;
	m->cfg[side].restore_latch = false;
	mg_call_mark_dirty(s, c);
	if (leg->published)
		return mg_dp_leg_update(s->dp, leg, cfg);
	return mg_dp_leg_publish(s->dp, leg, cfg);
}

struct mg_call *mg_call_first(struct mg_sessions *s)
{
	return s->head;
}

struct mg_call *mg_call_next(struct mg_call *c)
{
	return c->list_next;
}

unsigned mg_sessions_count(const struct mg_sessions *s)
{
	return s->count;
}

struct mg_dataplane *mg_sessions_dataplane(struct mg_sessions *s)
{
	return s->dp;
}

unsigned mg_sessions_expire(struct mg_sessions *s, double timeout_s)
{
	unsigned n = 0;
	struct mg_call *c = s->head;
	while (c) {
		struct mg_call *next = c->list_next;
		bool idle = true;
		for (unsigned i = 0; i < c->n_media && idle; i++)
			for (int side = 0; side < 2; side++) {
				struct mg_leg *l = c->media[i].leg[side];
				if (l && mg_dp_leg_idle_seconds(s->dp, l) < timeout_s)
					idle = false;
			}
		if (idle && difftime(time(NULL), c->last_signal) >= timeout_s) {
			mg_call_delete(s, c);
			n++;
		}
		c = next;
	}
	return n;
}

void mg_call_totals(const struct mg_call *c, struct mg_leg_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++) {
			const struct mg_leg *l = c->media[i].leg[side];
			if (!l)
				continue;
			struct mg_leg_stats st;
			mg_dp_leg_snapshot(l, &st, NULL, NULL);
			out->rtp_in_pkts += st.rtp_in_pkts;
			out->rtp_in_bytes += st.rtp_in_bytes;
			out->rtcp_in_pkts += st.rtcp_in_pkts;
			out->rtcp_in_bytes += st.rtcp_in_bytes;
			out->rtp_out_pkts += st.rtp_out_pkts;
			out->rtp_out_bytes += st.rtp_out_bytes;
			out->rtcp_out_pkts += st.rtcp_out_pkts;
			out->rtcp_out_bytes += st.rtcp_out_bytes;
			for (int d = 0; d < MG_LEG_DROP_COUNT; d++)
				out->drops[d] += st.drops[d];
		}
}
