#include "state.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A key waiting to be written: the newest value (or a deletion) and a version so the
 * writer knows whether it was replaced while its round trip was in flight. */
struct pending {
	char *key;
	void *val;
	size_t len;
	bool del;
	uint64_t version;
	bool queued;	       /* in the dirty list */
	struct pending *hnext; /* hash chain */
	struct pending *next;  /* dirty list (FIFO) */
};

struct mg_state {
	struct mg_state_config cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	bool stop;
	unsigned n_buckets;
	struct pending **buckets;
	struct pending *head, *tail;
	unsigned n_pending;
	uint64_t next_version;
	struct mg_state_stats stats;
	redisContext *redis;
};

void mg_state_config_defaults(struct mg_state_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
	cfg->port = 6379;
	snprintf(cfg->prefix, sizeof(cfg->prefix), "mg:default:");
	cfg->max_pending = 1u << 20;
	cfg->reconnect_ms = 200;
	cfg->batch = 256;
}

static uint64_t hash_key(const char *k)
{
	uint64_t h = 1469598103934665603ull;
	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 1099511628211ull;
	return h;
}

static struct pending **slot_of(struct mg_state *s, const char *key)
{
	struct pending **pp = &s->buckets[hash_key(key) % s->n_buckets];
	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->hnext;
	return pp;
}

static int enqueue(struct mg_state *s, const char *key, const void *val, size_t len, bool del)
{
	void *copy = NULL;
	if (!del) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -1;
		memcpy(copy, val, len);
	}
	pthread_mutex_lock(&s->lock);
	struct pending **pp = slot_of(s, key), *p = *pp;
	if (!p) {
		if (s->n_pending >= s->cfg.max_pending) {
			s->stats.refused_full++;
			pthread_mutex_unlock(&s->lock);
			free(copy);
			return -1;
		}
		p = calloc(1, sizeof(*p));
		char *k = strdup(key);
		if (!p || !k) {
			pthread_mutex_unlock(&s->lock);
			free(p);
			free(k);
			free(copy);
			return -1;
		}
		p->key = k;
		*pp = p;
		s->n_pending++;
	} else {
		s->stats.coalesced++;
		free(p->val);
	}
	p->val = copy;
	p->len = len;
	p->del = del;
	p->version = ++s->next_version;
	if (!p->queued) {
		p->queued = true;
		p->next = NULL;
		if (s->tail)
			s->tail->next = p;
		else
			s->head = p;
		s->tail = p;
	}
	if (del)
		s->stats.dels++;
	else
		s->stats.puts++;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int mg_state_put(struct mg_state *s, const char *key, const void *val, size_t len)
{
	return enqueue(s, key, val, len, false);
}

int mg_state_del(struct mg_state *s, const char *key)
{
	return enqueue(s, key, NULL, 0, true);
}

static void forget(struct mg_state *s, struct pending *p)
{
	struct pending **pp = slot_of(s, p->key);
	*pp = p->hnext;
	s->n_pending--;
	free(p->key);
	free(p->val);
	free(p);
}

static void disconnect(struct mg_state *s)
{
	if (s->redis) {
		redisFree(s->redis);
		s->redis = NULL;
	}
}

static bool connect_redis(struct mg_state *s)
{
	struct timeval tv = {.tv_sec = 1};
	redisContext *c = redisConnectWithTimeout(s->cfg.host, s->cfg.port, tv);
	if (!c || c->err) {
		if (c)
			redisFree(c);
		return false;
	}
	redisSetTimeout(c, (struct timeval){.tv_sec = 2});
	s->redis = c;
	return true;
}

/* One pipelined round trip over up to cfg.batch dirty keys. The values are copied out
 * under the lock; the network I/O happens without it. */
static void write_batch(struct mg_state *s)
{
	unsigned n = 0, max = s->cfg.batch;
	struct {
		struct pending *p;
		uint64_t version;
	} *sent = calloc(max, sizeof(*sent));
	if (!sent)
		return;
	pthread_mutex_lock(&s->lock);
	for (struct pending *p = s->head; p && n < max; p = p->next) {
		char full[512];
		snprintf(full, sizeof(full), "%s%s", s->cfg.prefix, p->key);
		if (p->del)
			redisAppendCommand(s->redis, "DEL %s", full);
		else
			redisAppendCommand(s->redis, "SET %s %b", full, p->val, p->len);
		sent[n].p = p;
		sent[n].version = p->version;
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	bool ok = true;
	for (unsigned i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(s->redis, (void **)&r) != REDIS_OK || !r ||
		    r->type == REDIS_REPLY_ERROR) {
			ok = false;
			if (r)
				freeReplyObject(r);
			break;
		}
		freeReplyObject(r);
	}
	pthread_mutex_lock(&s->lock);
	s->stats.round_trips++;
	if (!ok) {
		s->stats.errors++;
		pthread_mutex_unlock(&s->lock);
		disconnect(s);
		free(sent);
		return;
	}
	/* Acknowledged: drop the keys from the dirty list unless a newer value came in
	 * meanwhile (then it stays queued for the next round). */
	for (unsigned i = 0; i < n; i++) {
		struct pending *p = sent[i].p;
		s->stats.written++;
		/* unlink from the FIFO: sent entries are the first n of the list */
		s->head = p->next;
		if (!s->head)
			s->tail = NULL;
		p->queued = false;
		if (p->version == sent[i].version) {
			forget(s, p);
		} else {
			p->next = NULL;
			p->queued = true;
			if (s->tail)
				s->tail->next = p;
			else
				s->head = p;
			s->tail = p;
		}
	}
	if (!s->head)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	free(sent);
}

static void *writer_main(void *arg)
{
	struct mg_state *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->stop && !s->head && s->redis)
			pthread_cond_wait(&s->wake, &s->lock);
		bool stop = s->stop;
		s->stats.connected = s->redis != NULL;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		if (!s->redis) {
			if (!connect_redis(s)) {
				struct timespec ts = {
				    .tv_sec = s->cfg.reconnect_ms / 1000,
				    .tv_nsec = (long)(s->cfg.reconnect_ms % 1000) * 1000000};
				nanosleep(&ts, NULL);
				continue;
			}
			pthread_mutex_lock(&s->lock);
			s->stats.reconnects++;
			s->stats.connected = true;
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		write_batch(s);
	}
	disconnect(s);
	return NULL;
}

struct mg_state *mg_state_open(const struct mg_state_config *cfg)
{
	struct mg_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (!s->cfg.batch)
		s->cfg.batch = 256;
	s->n_buckets = 65536;
	s->buckets = calloc(s->n_buckets, sizeof(*s->buckets));
	if (!s->buckets) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		free(s->buckets);
		free(s);
		return NULL;
	}
	return s;
}

void mg_state_close(struct mg_state *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	while (s->head) {
		struct pending *p = s->head;
		s->head = p->next;
		forget(s, p);
	}
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->idle);
	free(s);
}

int mg_state_flush(struct mg_state *s, unsigned timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	int rc = 0;
	while (s->head && rc == 0)
		rc = pthread_cond_timedwait(&s->idle, &s->lock, &until);
	bool empty = s->head == NULL;
	pthread_mutex_unlock(&s->lock);
	return empty ? 0 : -1;
}

void mg_state_get_stats(struct mg_state *s, struct mg_state_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	out->pending = s->n_pending;
	pthread_mutex_unlock(&s->lock);
}

long mg_state_load(const struct mg_state_config *cfg,
		   int (*fn)(void *arg, const char *key, const void *val, size_t len), void *arg,
		   char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = 2};
	redisContext *c = redisConnectWithTimeout(cfg->host, cfg->port, tv);
	if (!c || c->err) {
		snprintf(err, errlen, "redis %s:%u: %s", cfg->host, cfg->port,
			 c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return -1;
	}
	char pattern[128];
	snprintf(pattern, sizeof(pattern), "%s*", cfg->prefix);
	size_t plen = strlen(cfg->prefix);
	long total = 0;
	char cursor[32] = "0";
	int stop = 0;
	do {
		redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			snprintf(err, errlen, "redis SCAN failed: %s",
				 r && r->str ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		redisReply *keys = r->element[1];
		for (size_t i = 0; i < keys->elements; i++)
			redisAppendCommand(c, "GET %b", keys->element[i]->str,
					   keys->element[i]->len);
		for (size_t i = 0; i < keys->elements; i++) {
			redisReply *v = NULL;
			if (redisGetReply(c, (void **)&v) != REDIS_OK || !v) {
				snprintf(err, errlen, "redis GET failed: %s", c->errstr);
				freeReplyObject(r);
				redisFree(c);
				return -1;
			}
			/* a key deleted between SCAN and GET is simply gone */
			if (!stop && v->type == REDIS_REPLY_STRING &&
			    keys->element[i]->len > plen) {
				total++;
				stop = fn(arg, keys->element[i]->str + plen, v->str, v->len);
			}
			freeReplyObject(v);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && !stop);
	redisFree(c);
	return total;
}
