/* P6: how long mediagate takes to restore N sessions from Redis, and how many Redis
 * round trips the ng offers/answers cost.
 *
 *   restore_bench --redis HOST:PORT --calls N [--reps R]
 *
 * In one process: EAL on net_null ports (8 interfaces, so 100,000 calls fit the port
 * ranges), the real data plane, sessions and ng handler. Phase 1 creates N calls through
 * mg_ng_handle offer + answer (real SDP), persisting them through lib/state, and reports
 * state round trips per ng request. Phase 2, repeated R times: drop every call from
 * memory (Redis keeps them), then time mg_sessions_restore, which reads them back (SCAN +
 * pipelined GET), recreates them on the same ports and publishes their legs. The
 * figure is wall time and CPU time of the restore. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "dataplane.h"
#include "ng.h"
#include "session.h"
#include "state.h"

#define N_IFACES 8

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void ng_call(struct mg_ng *ng, const char *req, char *out)
{
	size_t n = mg_ng_handle(ng, req, strlen(req), out, 65536);
	if (!n || !strstr(out, "6:result2:ok")) {
		fprintf(stderr, "ng failed: %.*s\n", (int)(n > 300 ? 300 : n), out);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char redis[64] = "127.0.0.1:6379";
	long calls = 10000;
	int reps = 5;
	static struct option opts[] = {{"redis", required_argument, 0, 'r'},
				       {"calls", required_argument, 0, 'c'},
				       {"reps", required_argument, 0, 'n'},
				       {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			snprintf(redis, sizeof(redis), "%s", optarg);
		else if (o == 'c')
			calls = atol(optarg);
		else if (o == 'n')
			reps = atoi(optarg);
		else
			return 2;
	}
	char fp[64];
	snprintf(fp, sizeof(fp), "--file-prefix=restorebench%d", getpid());
	char *eal[32] = {"restore_bench", "--no-huge", "-m", "3072", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-l", "0,1", "--log-level=error", fp};
	int eal_argc = 11;
	char vdevs[N_IFACES][48];
	for (int i = 0; i < N_IFACES; i++) {
		snprintf(vdevs[i], sizeof(vdevs[i]), "--vdev=net_null%d", i);
		eal[eal_argc++] = vdevs[i];
	}
	if (rte_eal_init(eal_argc, eal) < 0)
		return 1;

	static struct mg_profile p;
	mg_profile_defaults(&p);
	snprintf(p.eal_args, sizeof(p.eal_args), "x");
	p.n_workers = 1;
	p.worker_lcores[0] = 1;
	p.port_min = 2000;
	p.port_max = 65534;
	p.mbufs = 4095;
	p.n_interfaces = N_IFACES;
	for (int i = 0; i < N_IFACES; i++) {
		struct mg_interface_cfg *ifc = &p.interfaces[i];
		memset(ifc, 0, sizeof(*ifc));
		snprintf(ifc->name, sizeof(ifc->name), "if%d", i);
		snprintf(ifc->device, sizeof(ifc->device), "net_null%d", i);
		ifc->address = 0x0a000001u + ((uint32_t)i << 8);
		ifc->prefix_len = 24;
		ifc->rx_desc = ifc->tx_desc = 512;
		ifc->mtu = 1500;
	}
	char err[256];
	struct mg_dataplane *dp = mg_dp_create(&p, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "data plane: %s\n", err);
		return 1;
	}
	struct mg_state_config cfg;
	mg_state_config_defaults(&cfg);
	char *colon = strrchr(redis, ':');
	snprintf(cfg.host, sizeof(cfg.host), "%.*s", (int)(colon - redis), redis);
	cfg.port = (uint16_t)atoi(colon + 1);
	snprintf(cfg.prefix, sizeof(cfg.prefix), "mg:bench%d:", getpid());

	struct mg_sessions *s = mg_sessions_create(dp, 1 << 18);
	struct mg_ng *ng = mg_ng_create(s, &p);
	struct mg_state *st = mg_state_open(&cfg);
	mg_sessions_attach_state(s, st);

	/* phase 1: N calls through ng, persisted as the control loop does after each request */
	static char req[4096], out[65536];
	double t0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < calls; i++) {
		int a = (int)(i % (N_IFACES / 2)) * 2; /* a pair of interfaces per call */
		char sdp[256], b_sdp[256];
		int n = snprintf(sdp, sizeof(sdp),
				 "v=0\r\no=- 1 1 IN IP4 10.%d.1.2\r\ns=-\r\nc=IN IP4 10.%d.1.2\r\nt=0 "
				 "0\r\nm=audio %ld RTP/AVP 0\r\n",
				 a, a, 4000 + 2 * (i % 20000));
		snprintf(req, sizeof(req),
			 "c%ld d7:command5:offer7:call-id%zu:call-%ld8:from-tag1:a9:directionl"
			 "3:if%d3:if%de3:sdp%d:%se",
			 i, strlen("call-") + (size_t)snprintf(NULL, 0, "%ld", i), i, a, a + 1, n, sdp);
		ng_call(ng, req, out);
		mg_sessions_persist(s, st, false);
		n = snprintf(b_sdp, sizeof(b_sdp),
			     "v=0\r\no=- 1 1 IN IP4 10.%d.1.3\r\ns=-\r\nc=IN IP4 10.%d.1.3\r\nt=0 "
			     "0\r\nm=audio %ld RTP/AVP 0\r\n",
			     a + 1, a + 1, 5000 + 2 * (i % 20000));
		snprintf(req, sizeof(req),
			 "a%ld d7:command6:answer7:call-id%zu:call-%ld8:from-tag1:a6:to-tag1:b"
			 "3:sdp%d:%se",
			 i, strlen("call-") + (size_t)snprintf(NULL, 0, "%ld", i), i, n, b_sdp);
		ng_call(ng, req, out);
		mg_sessions_persist(s, st, false);
		while (mg_dp_control_poll(dp))
			;
	}
	double t1 = now(CLOCK_MONOTONIC);
	if (mg_state_flush(st, 120000) != 0) {
		fprintf(stderr, "state: could not flush to Redis\n");
		return 1;
	}
	double t2 = now(CLOCK_MONOTONIC);
	struct mg_state_stats ss;
	mg_state_get_stats(st, &ss);
	printf("SETUP calls=%ld ng_requests=%ld ng_seconds=%.3f flush_seconds=%.3f state_puts=%llu "
	       "written=%llu coalesced=%llu round_trips=%llu round_trips_per_ng_request=%.4f\n",
	       calls, 2 * calls, t1 - t0, t2 - t1, (unsigned long long)ss.puts,
	       (unsigned long long)ss.written, (unsigned long long)ss.coalesced,
	       (unsigned long long)ss.round_trips, (double)ss.round_trips / (double)(2 * calls));

	/* phase 2: forget every call in memory (not in Redis), then restore */
	mg_sessions_on_delete(s, NULL, NULL);
	double wall[64], cpu[64];
	for (int r = 0; r < reps && r < 64; r++) {
		while (mg_call_first(s))
			mg_call_delete(s, mg_call_first(s));
		while (mg_dp_control_poll(dp))
			;
		if (mg_dp_legs_in_use(dp) != 0) {
			fprintf(stderr, "legs left after dropping the calls\n");
			return 1;
		}
		long failed = 0;
		double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		long n = mg_sessions_restore(s, &cfg, &failed, err, sizeof(err));
		double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
		if (n != calls || failed || mg_sessions_count(s) != (unsigned)calls ||
		    mg_dp_legs_in_use(dp) != 2 * (unsigned)calls) {
			fprintf(stderr, "restored %ld of %ld (failed %ld: %s), %u legs\n", n, calls,
				failed, err, mg_dp_legs_in_use(dp));
			return 1;
		}
		wall[r] = w1 - w0;
		cpu[r] = c1 - c0;
		printf("REP restore calls=%ld wall_s=%.6f cpu_s=%.6f\n", calls, wall[r], cpu[r]);
	}
	qsort(wall, (size_t)reps, sizeof(double), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
	printf("SUMMARY restore calls=%ld median_wall_s=%.6f min_wall_s=%.6f max_wall_s=%.6f "
	       "median_cpu_s=%.6f (mediagate process; Redis's own time excluded)\n",
	       calls, wall[reps / 2], wall[0], wall[reps - 1], cpu[reps / 2]);

	/* leave Redis clean */
	mg_sessions_attach_state(s, st);
	while (mg_call_first(s))
		mg_call_delete(s, mg_call_first(s));
	mg_state_flush(st, 120000);
	mg_state_close(st);
	mg_ng_destroy(ng);
	mg_sessions_destroy(s);
	mg_dp_destroy(dp);
	rte_eal_cleanup();
	return 0;
}
