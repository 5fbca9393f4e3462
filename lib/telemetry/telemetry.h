/* /mediagate/... commands on the DPDK telemetry socket (readable with
 * dpdk-telemetry.py). Callbacks run on DPDK's telemetry thread: they read per-lcore
 * counters (whole 64-bit words) and take the sessions lock for call data. */
#ifndef MG_TELEMETRY_H
#define MG_TELEMETRY_H

#include "ng.h"
#include "session.h"

struct mg_telemetry_ctx {
	struct mg_dataplane *dp;
	struct mg_sessions *sessions;
	struct mg_ng *ng;
	const char *profile_name;
};

/* Registers every /mediagate/... command; returns 0 or -1. */
int mg_telemetry_register(const struct mg_telemetry_ctx *ctx);

#endif
