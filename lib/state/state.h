/* Session state in Redis, written from the control path only.
 *
 * The control lcore calls mg_state_put/mg_state_del; they never touch the network and
 * never block on Redis: the latest value per key waits in a bounded table and a writer
 * thread pipelines it to Redis. While Redis is down the table keeps only the newest
 * value of each key (coalescing), so a flapping Redis costs memory per key, not per
 * write; when it is back everything pending is written. mg_state_load reads everything
 * back at start-up (restore, takeover). */
#ifndef MG_STATE_H
#define MG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_state_config {
	char host[64]; /* Redis address (IPv4 or name) */
	uint16_t port;
	char prefix[96];       /* every key starts with it, e.g. "mg:appliance-1:" */
	unsigned max_pending;  /* keys waiting to be written; beyond: put fails, counted */
	unsigned reconnect_ms; /* pause between reconnection attempts */
	unsigned batch;	       /* commands per pipeline round trip */
};

struct mg_state_stats {
	uint64_t puts, dels;   /* accepted from the control path */
	uint64_t coalesced;    /* a pending value replaced by a newer one before it was written */
	uint64_t written;      /* acknowledged by Redis */
	uint64_t refused_full; /* put/del refused: max_pending keys already waiting */
	uint64_t errors;       /* failed round trips (connection lost, error replies) */
	uint64_t reconnects;
	uint64_t round_trips;
	unsigned pending;
	bool connected;
};

struct mg_state;

void mg_state_config_defaults(struct mg_state_config *cfg);
/* Starts the writer thread (it connects in the background). NULL: out of memory. */
struct mg_state *mg_state_open(const struct mg_state_config *cfg);
/* Stops the writer; what is still pending is lost (call mg_state_flush first). */
void mg_state_close(struct mg_state *s);

/* Queue the newest value of `key` (without the prefix) / its deletion.
 * 0, or -1 when max_pending keys are already waiting (counted in refused_full). */
int mg_state_put(struct mg_state *s, const char *key, const void *val, size_t len);
int mg_state_del(struct mg_state *s, const char *key);
/* Waits until nothing is pending or timeout_ms passes; 0 when flushed. */
int mg_state_flush(struct mg_state *s, unsigned timeout_ms);
void mg_state_get_stats(struct mg_state *s, struct mg_state_stats *out);

/* Reads every key under cfg->prefix (SCAN, then pipelined GETs) and calls fn with the
 * key (prefix removed) and value; stops when fn returns non-zero. Blocking: for start-up
 * only. Returns the number of keys, or -1 with err filled. */
long mg_state_load(const struct mg_state_config *cfg,
		   int (*fn)(void *arg, const char *key, const void *val, size_t len), void *arg,
		   char *err, size_t errlen);

#endif
