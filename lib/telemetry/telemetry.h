/* /mediagate/... commands on the DPDK telemetry socket (readable with
 * dpdk-telemetry.py). Callbacks run on DPDK's telemetry thread: they read per-lcore
 * counters (whole 64-bit words) and take the sessions lock for call data. */
#ifndef MG_TELEMETRY_H
#define MG_TELEMETRY_H

#include "ng.h"
#include "state.h"
#include "session.h"

struct mg_keys;
struct mg_recorder;

struct mg_telemetry_ctx {
	struct mg_dataplane *dp;
	struct mg_sessions *sessions;
	struct mg_ng *ng;
	const char *profile_name;
	struct mg_state *state;	      /* NULL when state.redis is off */
	struct mg_keys *keys;	      /* NULL when [keys] is off or the token could not be opened */
	struct mg_recorder *recorder; /* NULL when [recording] is off */
	/* /mediagate/keys and the keys_* figures: metadata only, never key material. Called
	 * on the telemetry/exporter threads; emit_str is NULL for Prometheus. NULL = absent. */
	void (*keys_report)(void *arg,
			    void (*emit)(void *a, const char *name, uint64_t value, bool gauge),
			    void (*emit_str)(void *a, const char *name, const char *value),
			    void *emit_arg);
	void *keys_report_arg;
};

/* Registers every /mediagate/... command; returns 0 or -1. */
int mg_telemetry_register(const struct mg_telemetry_ctx *ctx);
/* telemetry_rec.c: /mediagate/rings, /mediagate/recordings, /mediagate/spool. */
int mg_telemetry_register_rec(const struct mg_telemetry_ctx *ctx);

/* The figures, in one place for the telemetry socket and the Prometheus exporter:
 * emit(arg, name, value, is_gauge) is called once per figure. */
typedef void (*mg_metric_fn)(void *arg, const char *name, uint64_t value, bool gauge);
void mg_metrics_totals(const struct mg_telemetry_ctx *ctx, mg_metric_fn emit, void *arg);
void mg_metrics_worker(const struct mg_worker_stats *s, mg_metric_fn emit, void *arg);

/* Prometheus text exporter: an HTTP server on its own thread (never a worker) serving
 * GET /metrics at `listen_at` ("addr:port"). Returns 0 or -1 with err filled. */
int mg_prometheus_start(const struct mg_telemetry_ctx *ctx, const char *listen_at, char *err,
			size_t errlen);
void mg_prometheus_stop(void);

#endif
