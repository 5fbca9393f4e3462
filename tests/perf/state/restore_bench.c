/* P6: how long mediagate takes to restore N sessions from Redis, and how many Redis
 * round trips the ng offers/answers cost.
 *
 *   restore_bench --redis HOST:PORT --calls N [--reps R] [--srtp]
 *                 [--keys-state DIR --token LABEL --pin PIN --instance I]
 *
 * --srtp: SDES-SRTP on both sides (four SRTP contexts per call, restored with their keys
 * and ROC state). --keys-*: the keys and SRTP state sealed under instance I's key in a
 * PKCS#11 token (SOFTHSM2_CONF in the environment), as mediagate with [keys] does; every
 * restore starts with an empty data-key cache, like a new process, and reports the token
 * calls it made.
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
#include "keys.h"
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

static struct mg_keys *bench_keys;
static struct mg_keys_blob *bench_blob;
static char bench_instance[64];

static int bench_seal(void *arg, const char *instance, const char *field, const char *plain,
		      size_t len, char **out, char *err, size_t errlen)
{
	(void)arg;
	(void)instance;
	int rc = mg_keys_blob_seal(bench_blob, bench_instance, field, plain, len, out);
	snprintf(err, errlen, "%s", mg_keys_strerror(rc));
	return rc == MG_KEYS_OK ? 0 : -1;
}

static int bench_open(void *arg, const char *instance, const char *field, const char *sealed,
		      size_t len, char **out, size_t *out_len, char *err, size_t errlen)
{
	(void)arg;
	(void)instance;
	uint8_t *plain = NULL;
	int rc = mg_keys_blob_open(bench_blob, bench_instance, field, sealed, len, &plain, out_len);
	snprintf(err, errlen, "%s", mg_keys_strerror(rc));
	*out = (char *)plain;
	return rc == MG_KEYS_OK ? 0 : -1;
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
	bool srtp = false;
	const char *keys_state = NULL, *token = "mediagate", *pin = NULL;
	static struct option opts[] = {{"redis", required_argument, 0, 'r'},
				       {"calls", required_argument, 0, 'c'},
				       {"reps", required_argument, 0, 'n'},
				       {"srtp", no_argument, 0, 's'},
				       {"keys-state", required_argument, 0, 'k'},
				       {"token", required_argument, 0, 't'},
				       {"pin", required_argument, 0, 'p'},
				       {"instance", required_argument, 0, 'i'},
				       {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r')
			snprintf(redis, sizeof(redis), "%s", optarg);
		else if (o == 'c')
			calls = atol(optarg);
		else if (o == 'n')
			reps = atoi(optarg);
		else if (o == 's')
			srtp = true;
		else if (o == 'k')
			keys_state = optarg;
		else if (o == 't')
			token = optarg;
		else if (o == 'p')
			pin = optarg;
		else if (o == 'i')
			snprintf(bench_instance, sizeof(bench_instance), "%s", optarg);
		else
			return 2;
	}
	char fp[64];
	snprintf(fp, sizeof(fp), "--file-prefix=restorebench%d", getpid());
	char *eal[32] = {"restore_bench",
			 "--no-huge",
			 "-m",
			 "3072",
			 "--no-pci",
			 "--no-shconf",
			 "--no-telemetry",
			 "-l",
			 "0,1",
			 "--log-level=error",
			 fp};
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
	if (keys_state) {
		struct mg_keys_config kc = {.state_dir = keys_state,
					    .token_label = token,
					    .pin = pin ? pin : "",
					    .bucket_key_period = 3600};
		int rc = mg_keys_open(&bench_keys, &kc);
		if (rc != MG_KEYS_OK ||
		    mg_keys_blob_create(&bench_blob, bench_keys, "mediagate", 3600) != MG_KEYS_OK) {
			fprintf(stderr, "keys: %s\n", mg_keys_strerror(rc));
			return 1;
		}
		struct mg_session_sealer sealer = {.seal = bench_seal, .open = bench_open};
		mg_sessions_set_sealer(s, &sealer, NULL);
	}

	/* phase 1: N calls through ng, persisted as the control loop does after each request */
	static char req[4096], out[65536];
	double t0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < calls; i++) {
		int a = (int)(i % (N_IFACES / 2)) * 2; /* a pair of interfaces per call */
		char sdp[256], b_sdp[256];
		/* RFC 4568's example key; mediagate generates its own towards each side */
		static const char *crypto = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
					    "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\r\n";
		int n =
		    snprintf(sdp, sizeof(sdp),
			     "v=0\r\no=- 1 1 IN IP4 10.%d.1.2\r\ns=-\r\nc=IN IP4 10.%d.1.2\r\nt=0 "
			     "0\r\nm=audio %ld %s 0\r\n%s",
			     a, a, 4000 + 2 * (i % 20000), srtp ? "RTP/SAVP" : "RTP/AVP",
			     srtp ? crypto : "");
		snprintf(req, sizeof(req),
			 "c%ld d7:command5:offer7:call-id%zu:call-%ld8:from-tag1:a9:directionl"
			 "3:if%d3:if%de3:sdp%d:%se",
			 i, strlen("call-") + (size_t)snprintf(NULL, 0, "%ld", i), i, a, a + 1, n,
			 sdp);
		ng_call(ng, req, out);
		mg_sessions_persist(s, st, false);
		n = snprintf(b_sdp, sizeof(b_sdp),
			     "v=0\r\no=- 1 1 IN IP4 10.%d.1.3\r\ns=-\r\nc=IN IP4 10.%d.1.3\r\nt=0 "
			     "0\r\nm=audio %ld %s 0\r\n%s",
			     a + 1, a + 1, 5000 + 2 * (i % 20000), srtp ? "RTP/SAVP" : "RTP/AVP",
			     srtp ? crypto : "");
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
		uint64_t token0 = 0;
		if (bench_blob) { /* a new process: nothing cached */
			mg_keys_blob_destroy(bench_blob);
			mg_keys_blob_create(&bench_blob, bench_keys, "mediagate", 3600);
			token0 = mg_keys_token_calls(bench_keys);
		}
		double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		long n = mg_sessions_restore(s, &cfg, &failed, err, sizeof(err));
		double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
		/* then the SRTP contexts, in the control loop's batches */
		while (mg_sessions_restore_pending(s, 1000))
			while (mg_dp_control_poll(dp))
				;
		double w2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
		if (n != calls || failed || mg_sessions_count(s) != (unsigned)calls ||
		    mg_dp_legs_in_use(dp) != 2 * (unsigned)calls) {
			fprintf(stderr, "restored %ld of %ld (failed %ld: %s), %u legs\n", n, calls,
				failed, err, mg_dp_legs_in_use(dp));
			return 1;
		}
		wall[r] = w1 - w0;
		cpu[r] = c1 - c0;
		struct mg_session_seal_stats seal;
		mg_sessions_seal_stats(s, &seal);
		printf(
		    "REP restore calls=%ld srtp=%d sealed=%d wall_s=%.3f cpu_s=%.3f "
		    "srtp_contexts_after_s=%.3f srtp_contexts_cpu_s=%.3f "
		    "token_calls=%llu keys_opened_total=%llu open_failed_total=%llu\n",
		    calls, srtp, bench_blob != NULL, wall[r], cpu[r], w2 - w1, c2 - c1,
		    (unsigned long long)(bench_keys ? mg_keys_token_calls(bench_keys) - token0 : 0),
		    (unsigned long long)seal.opened, (unsigned long long)seal.open_failed);
	}
	qsort(wall, (size_t)reps, sizeof(double), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
	printf("SUMMARY restore srtp=%d sealed=%d calls=%ld median_wall_s=%.3f min_wall_s=%.3f "
	       "max_wall_s=%.3f "
	       "median_cpu_s=%.3f (mediagate process; Redis's own time excluded)\n",
	       srtp, bench_blob != NULL, calls, wall[reps / 2], wall[0], wall[reps - 1],
	       cpu[reps / 2]);

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
