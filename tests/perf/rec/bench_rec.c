/* P4 benchmark (issue 6): concurrent recorded calls one ship lcore sustains with zero ring
 * drops, and the cost the fork adds to a worker.
 *
 * EAL lcores 0 and 1. Lcore 1 is the producer: it stands for the workers, feeding N calls'
 * worth of fork records (both sides, G.711 20 ms, 50 packets/s each way, call phases spread
 * over the 20 ms) at real-time rate into the SP/SC rings (2 rings by default: two workers,
 * a call's legs on one worker). Lcore 0 is the ship: it drains the rings, aligns, builds the
 * stereo WAV, seals it with the envelope writer (AES-256-GCM frames of 16 KiB) and writes the
 * sealed bytes to a sink: a file per call (default, the same write loop as
 * mg_store_spool_sink: lib/common's mg_write_all), the real lib/store spool, or nothing
 * (null). N is ramped; the highest N with zero drops is printed per run and the median
 * over runs.
 *
 * usage: bench_rec [--ramp N1,N2,...] [--seconds S] [--runs R] [--sink file|spool|null]
 *                  [--dir DIR] [--ring-size K] [--rings W] [--fork-cost-only] [-- EAL args]
 * Results: docs/performance-recording-path.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "envelope.h"
#include "fsutil.h"
#include "rec.h"
#include "store.h"

enum sink_kind { SINK_FILE, SINK_SPOOL, SINK_NULL };

static struct {
	unsigned ramp[64], n_ramp;
	double seconds;
	unsigned runs;
	enum sink_kind sink;
	char dir[512];
	unsigned ring_size, rings;
	unsigned cost_calls; /* calls for the CPU-cost pass, 0 = skip */
	bool fork_cost_only, cost_only;
} opt = {.seconds = 5,
	 .runs = 3,
	 .sink = SINK_FILE,
	 .ring_size = 16384,
	 .rings = 2,
	 .cost_calls = 10000};

static uint8_t tone_u[50][160], tone_a[50][160];

static void die(const char *m)
{
	fprintf(stderr, "bench_rec: %s\n", m);
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A G.711-ish test signal: 400 Hz customer, 1 kHz agent, coarse 8-bit law-like mapping. */
static void make_tones(void)
{
	for (int f = 0; f < 50; f++)
		for (int i = 0; i < 160; i++) {
			double t = (f * 160 + i) / 8000.0;
			int v = (int)(100 * sin(2 * M_PI * 400 * t));
			int w = (int)(100 * sin(2 * M_PI * 1000 * t));
			tone_u[f][i] = (uint8_t)(v < 0 ? 0x7f + v : 0xff - v);
			tone_a[f][i] = (uint8_t)((w < 0 ? 0x55 : 0xd5) ^ (abs(w) & 0x7f));
		}
}

/* ---- fork cost (worker side): copy + enqueue per recorded packet.
 * Each burst of 32 packets is timed with the TSC and the median burst is taken, so bursts
 * during which the thread was preempted (shared host) do not count. */

enum { FC_B = 32, FC_BURSTS = 100000 };

struct fc_run {
	struct mg_rec_hub *hub;
	uint64_t *fork_cyc, *ref_cyc; /* per burst */
	bool drain_inline;	      /* same core: drain after each burst (untimed) */
	volatile int done;
};

static int fc_produce(void *arg)
{
	struct fc_run *fr = arg;
	struct mg_rec_fork *f = mg_rec_hub_fork(fr->hub, 0);
	struct mg_rec_record *out[64];
	static struct mg_rec_record flat[FC_B]; /* reference: the same bytes into an array */
	volatile uint32_t sink = 0;
	for (unsigned b = 0; b < FC_BURSTS; b++) {
		uint64_t t0 = rte_rdtsc();
		for (unsigned k = 0; k < FC_B; k++)
			mg_rec_fork_add(f, (b * FC_B + k) & 1023, 1, k & 1, k & 1, 1234 + k,
					160 * b, (uint16_t)b, 0, b, tone_u[b % 50], 160);
		mg_rec_fork_flush(f);
		uint64_t t1 = rte_rdtsc();
		for (unsigned k = 0; k < FC_B; k++) {
			struct mg_rec_record *x = &flat[k];
			x->contact = (b * FC_B + k) & 1023;
			x->generation = 1;
			x->arrival = b;
			x->ssrc = 1234 + k;
			x->rtp_ts = 160 * b;
			x->seq = (uint16_t)b;
			x->pt = 0;
			x->leg = k & 1;
			x->channel = k & 1;
			x->len = 160;
			memcpy(x->payload, tone_u[b % 50], 160);
		}
		sink += flat[b & 31].payload[b & 127];
		uint64_t t2 = rte_rdtsc();
		fr->fork_cyc[b] = t1 - t0;
		fr->ref_cyc[b] = t2 - t1;
		if (fr->drain_inline) {
			unsigned n;
			while ((n = mg_rec_hub_drain(fr->hub, 0, out, 64)))
				mg_rec_hub_release(fr->hub, 0, out, n);
		} else {
			/* a worker's pace, not flat out: 32 recorded packets every 32 us
			 * (1 Mpps; a G.711 call is 100 pps, so 10,000 calls per worker) */
			uint64_t until = t0 + rte_get_tsc_hz() / 31250;
			while (rte_rdtsc() < until)
				rte_pause();
		}
	}
	__atomic_store_n(&fr->done, 1, __ATOMIC_RELEASE);
	return 0;
}

static double median_ns(uint64_t *cyc, unsigned n, double *p90)
{
	qsort(cyc, n, sizeof(uint64_t), cmp_u64);
	double hz = (double)rte_get_tsc_hz();
	*p90 = cyc[n * 9 / 10] * 1e9 / hz / FC_B;
	return cyc[n / 2] * 1e9 / hz / FC_B;
}

static void fork_cost(void)
{
	struct mg_rec_hub *hub;
	struct mg_rec_hub_config cfg = {.rings = 1,
					.ring_size = opt.ring_size,
					.max_contacts = 1024,
					.socket_id = -1,
					.name = "fc"};
	if (mg_rec_hub_create(&hub, &cfg) != 0)
		die("hub");
	struct fc_run fr = {.hub = hub,
			    .fork_cyc = malloc(FC_BURSTS * sizeof(uint64_t)),
			    .ref_cyc = malloc(FC_BURSTS * sizeof(uint64_t))};
	printf("fork cost per recorded packet, ring of %u and pool of %u records (bursts of %d, "
	       "median burst of %d; p90 in brackets):\n",
	       opt.ring_size, 2 * opt.ring_size, FC_B, FC_BURSTS);
	/* same core: records stay in this core's cache */
	fr.drain_inline = true;
	fc_produce(&fr);
	double p90f, p90r;
	double f1 = median_ns(fr.fork_cyc, FC_BURSTS, &p90f);
	double r1 = median_ns(fr.ref_cyc, FC_BURSTS, &p90r);
	printf("  same core:  fork %.1f ns [%.1f]; reference (same fields + 160 B memcpy into an "
	       "array) %.1f ns [%.1f]; ratio %.2f\n",
	       f1, p90f, r1, p90r, f1 / r1);
	/* across cores: the worker on lcore 1, the ship draining on lcore 0, as deployed */
	fr.drain_inline = false;
	fr.done = 0;
	if (rte_eal_remote_launch(fc_produce, &fr, 1) != 0)
		die("launch");
	struct mg_rec_record *out[64];
	for (;;) {
		bool done = __atomic_load_n(&fr.done, __ATOMIC_ACQUIRE);
		unsigned n = mg_rec_hub_drain(hub, 0, out, 64);
		/* the ship reads every record, as the aligner does */
		volatile uint32_t x = 0;
		for (unsigned i = 0; i < n; i++)
			x += out[i]->payload[0] + out[i]->payload[159];
		mg_rec_hub_release(hub, 0, out, n);
		if (done && n == 0)
			break;
	}
	rte_eal_wait_lcore(1);
	double f2 = median_ns(fr.fork_cyc, FC_BURSTS, &p90f);
	double r2 = median_ns(fr.ref_cyc, FC_BURSTS, &p90r);
	struct mg_rec_ring_stats st;
	mg_rec_hub_ring_stats(hub, 0, &st);
	printf("  cross core: fork %.1f ns [%.1f]; reference %.1f ns [%.1f]; ratio %.2f; ring "
	       "drops %llu\n",
	       f2, p90f, r2, p90r, f2 / r2,
	       (unsigned long long)(st.dropped_full + st.dropped_pool));
	free(fr.fork_cyc);
	free(fr.ref_cyc);
	mg_rec_hub_free(hub);
}

/* ---- P4 */

struct producer {
	struct mg_rec_hub *hub;
	unsigned calls, rings;
	uint64_t start, end; /* 8 kHz clock */
	uint32_t gen;
	/* results */
	uint64_t packets, due_left, max_lag, fork_cycles;
	double cpu_s; /* producer thread CPU time */
	volatile int done;
};

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int producer_main(void *arg)
{
	struct producer *p = arg;
	double cpu0 = thread_cpu();
	struct mg_rec_fork *f[16];
	for (unsigned r = 0; r < p->rings; r++)
		f[r] = mg_rec_hub_fork(p->hub, r);
	uint64_t g = 0, cyc = 0, max_lag = 0;
	const unsigned n = p->calls;
	for (;;) {
		uint64_t now = mg_rec_clock_now();
		if (now >= p->end)
			break;
		uint64_t t0 = rte_rdtsc();
		unsigned burst = 0;
		for (;;) {
			unsigned call = (unsigned)(g % n);
			uint64_t round = g / n;
			uint64_t due = p->start + round * 160 + (uint64_t)call * 160 / n;
			if (due > now || burst >= 64)
				break;
			if (now - due > max_lag)
				max_lag = now - due;
			struct mg_rec_fork *w = f[call % p->rings];
			uint32_t ts = (uint32_t)(round * 160);
			mg_rec_fork_add(w, call, p->gen, 0, MG_REC_CH_CUSTOMER, 2 * call + 1,
					ts + 12345, (uint16_t)round, MG_REC_PT_PCMU, now,
					tone_u[round % 50], 160);
			mg_rec_fork_add(w, call, p->gen, 1, MG_REC_CH_AGENT, 2 * call + 2, ts + 777,
					(uint16_t)(round + 9), MG_REC_PT_PCMA, now,
					tone_a[round % 50], 160);
			g++;
			burst++;
		}
		if (burst)
			for (unsigned r = 0; r < p->rings; r++)
				mg_rec_fork_flush(f[r]);
		cyc += rte_rdtsc() - t0;
		/* Nothing due: sleep instead of spinning, so the producer's CPU time is the
		 * fork work and, on a shared host, the ship keeps the CPU (at 10,000 calls a
		 * 200 us nap lets 200 records accumulate; the rings hold 16,384 each). */
		if (!burst)
			usleep(200);
	}
	for (unsigned r = 0; r < p->rings; r++)
		mg_rec_fork_flush(f[r]);
	uint64_t expected = (p->end - p->start) / 160 * n;
	p->packets = 2 * g;
	p->due_left = expected > g ? expected - g : 0;
	p->max_lag = max_lag;
	p->fork_cycles = cyc;
	p->cpu_s = thread_cpu() - cpu0;
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return 0;
}

struct call_out {
	int fd;
	struct mg_store_spool_file *spool;
	struct mg_envelope_writer *w;
};

static uint64_t null_bytes;
static int null_sink(void *arg, const void *b, size_t len)
{
	(void)arg;
	(void)b;
	null_bytes += len;
	return 0;
}
/* The spool's own write loop (mg_store_spool_sink uses mg_write_all too), without the
 * spool's bookkeeping. */
static int fd_sink(void *arg, const void *bytes, size_t len)
{
	struct call_out *c = arg;
	return mg_write_all(c->fd, bytes, len, NULL);
}

struct step_result {
	unsigned calls;
	uint64_t forked, dropped, packets, due_left;
	double lag_ms, busy, ship_ns_per_rec, fork_ns, sealed_mbs, plain_mbs;
	double ship_cpu, wall, prod_cpu; /* seconds */
	uint64_t recs;
	bool ok;
};

static struct mg_envelope_data_key dk;

struct calls {
	unsigned n;
	uint32_t gen;
	struct call_out *co;
	struct mg_store *store;
	char dir[700];
};

/* Opens n recordings on the ship (writer + sink per call) starting at start. */
static void calls_open(struct calls *cs, struct mg_rec_ship *ship, unsigned calls, uint32_t gen,
		       uint64_t start)
{
	memset(cs, 0, sizeof(*cs));
	cs->n = calls;
	cs->gen = gen;
	cs->co = calloc(calls, sizeof(*cs->co));
	snprintf(cs->dir, sizeof(cs->dir), "%s/step%u_%u", opt.dir, calls, gen);
	if (opt.sink != SINK_NULL && mkdir(cs->dir, 0700) != 0 && errno != EEXIST)
		die("mkdir");
	if (opt.sink == SINK_SPOOL) {
		char sp[800], ix[800];
		snprintf(sp, sizeof(sp), "%s/spool", cs->dir);
		snprintf(ix, sizeof(ix), "%s/index", cs->dir);
		struct mg_store_config sc = {
		    .spool_dir = sp, .index_dir = ix, .max_spool_bytes = 1ull << 40};
		if (mg_store_open(&cs->store, &sc) != MG_STORE_OK)
			die("store");
	}
	char contact[64], object_key[MG_STORE_KEY_MAX];
	time_t started = time(NULL);
	struct call_out *co = cs->co;
	for (unsigned i = 0; i < calls; i++) {
		snprintf(contact, sizeof(contact), "bench-%u-%u", gen, i);
		mg_store_object_key("bench", "acme", contact, started, object_key,
				    sizeof(object_key));
		struct mg_envelope_context ctx = {.account = "111122223333",
						  .instance = "inst-a",
						  .contact_id = contact,
						  .object_path = object_key,
						  .key_id = "mgk-bench",
						  .key_version = 1};
		mg_envelope_sink_fn sink = null_sink;
		void *arg = NULL;
		if (opt.sink == SINK_FILE) {
			char path[900];
			snprintf(path, sizeof(path), "%s/%s.wav.mgenc", cs->dir, contact);
			co[i].fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (co[i].fd < 0)
				die("open (raise ulimit -n?)");
			sink = fd_sink;
			arg = &co[i];
		} else if (opt.sink == SINK_SPOOL) {
			struct mg_store_record rec = {.key_version = 1, .started = started};
			snprintf(rec.account, sizeof(rec.account), "111122223333");
			snprintf(rec.instance, sizeof(rec.instance), "inst-a");
			snprintf(rec.alias, sizeof(rec.alias), "acme");
			snprintf(rec.contact_id, sizeof(rec.contact_id), "%s", contact);
			snprintf(rec.key_id, sizeof(rec.key_id), "mgk-bench");
			snprintf(rec.object_key, sizeof(rec.object_key), "%s", object_key);
			if (mg_store_spool_begin(cs->store, &rec, &co[i].spool) != MG_STORE_OK)
				die("spool begin");
			sink = mg_store_spool_sink;
			arg = co[i].spool;
		}
		if (mg_envelope_writer_open(&co[i].w, &ctx, &dk, 0, sink, arg) != MG_ENVELOPE_OK)
			die("writer");
		if (mg_rec_ship_open(ship, i, gen, start, co[i].w) != 0)
			die("ship open");
	}
}

/* Closes every recording at end; returns sealed bytes and plaintext bytes. */
static void calls_close(struct calls *cs, struct mg_rec_ship *ship, uint64_t end, uint64_t *sealed,
			uint64_t *plain)
{
	*sealed = *plain = 0;
	for (unsigned i = 0; i < cs->n; i++) {
		struct mg_rec_contact_stats st;
		mg_rec_ship_contact_stats(ship, i, &st);
		*plain += st.bytes_plain;
		*sealed += mg_envelope_writer_bytes_out(cs->co[i].w);
		bool partial;
		mg_rec_ship_close(ship, i, end, false, &partial);
		if (cs->co[i].fd > 0)
			close(cs->co[i].fd);
		if (cs->co[i].spool)
			mg_store_spool_commit(cs->co[i].spool, partial);
	}
	free(cs->co);
	if (cs->store)
		mg_store_close(cs->store);
	if (opt.sink != SINK_NULL) {
		char cmd[800];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cs->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed: %s\n", cs->dir);
	}
}

/* Ship CPU cost without a second thread: the same records (all calls, both sides, 20 ms
 * rounds on a simulated clock) produced in chunks that fit the rings, then drained; only
 * the ship's polls are timed (thread CPU time), so preemption by other processes does not
 * count. capacity = calls one fully available core carries at that cost. */
static void ship_cost(struct mg_rec_hub *hub, unsigned calls, uint32_t gen, double seconds,
		      double *ns_per_rec, double *plain_mbs_cpu)
{
	struct mg_rec_ship *ship;
	if (mg_rec_ship_create(&ship, hub, NULL) != 0)
		die("ship");
	const uint64_t v0 = 1000000;
	struct calls cs;
	calls_open(&cs, ship, calls, gen, v0);
	struct mg_rec_fork *f[16];
	for (unsigned r = 0; r < opt.rings; r++)
		f[r] = mg_rec_hub_fork(hub, r);
	unsigned chunk = (opt.ring_size - 1) * opt.rings / 4;
	if (chunk > calls)
		chunk = calls;
	unsigned rounds = (unsigned)(seconds * 50);
	double cpu = 0;
	uint64_t recs = 0;
	for (unsigned round = 0; round < rounds; round++) {
		for (unsigned c0 = 0; c0 < calls; c0 += chunk) {
			unsigned c1 = c0 + chunk < calls ? c0 + chunk : calls;
			uint64_t now = 0;
			for (unsigned call = c0; call < c1; call++) {
				now = v0 + (uint64_t)round * 160 + (uint64_t)call * 160 / calls;
				struct mg_rec_fork *w = f[call % opt.rings];
				uint32_t ts = round * 160;
				mg_rec_fork_add(w, call, gen, 0, MG_REC_CH_CUSTOMER, 2 * call + 1,
						ts + 12345, (uint16_t)round, MG_REC_PT_PCMU, now,
						tone_u[round % 50], 160);
				mg_rec_fork_add(w, call, gen, 1, MG_REC_CH_AGENT, 2 * call + 2,
						ts + 777, (uint16_t)(round + 9), MG_REC_PT_PCMA,
						now, tone_a[round % 50], 160);
			}
			for (unsigned r = 0; r < opt.rings; r++)
				mg_rec_fork_flush(f[r]);
			double t0 = thread_cpu();
			unsigned n;
			while ((n = mg_rec_ship_poll(ship, now, 4096)))
				recs += n;
			cpu += thread_cpu() - t0;
		}
	}
	uint64_t sealed, plain;
	uint64_t end = v0 + (uint64_t)rounds * 160;
	double t0 = thread_cpu();
	calls_close(&cs, ship, end, &sealed, &plain);
	double close_cpu = thread_cpu() - t0;
	(void)close_cpu;
	*ns_per_rec = recs ? cpu * 1e9 / (double)recs : 0;
	*plain_mbs_cpu = cpu > 0 ? plain / cpu / 1e6 : 0;
	mg_rec_ship_free(ship);
}

static struct step_result run_step(struct mg_rec_hub *hub, unsigned calls, uint32_t gen)
{
	struct step_result res = {.calls = calls};
	struct mg_rec_ship *ship;
	if (mg_rec_ship_create(&ship, hub, NULL) != 0)
		die("ship");
	null_bytes = 0;
	/* The sealed files must fit: refuse a step that would fill more than half of the free
	 * space of --dir (tmpfs is memory). */
	if (opt.sink != SINK_NULL) {
		struct statvfs vf;
		double need = (double)calls * (opt.seconds + 3) * 32000 * 1.05;
		if (statvfs(opt.dir, &vf) == 0 && need > 0.5 * (double)vf.f_bavail * vf.f_frsize) {
			fprintf(stderr, "step %u: %.1f GB of sealed files would not fit in %s\n",
				calls, need / 1e9, opt.dir);
			exit(1);
		}
	}
	uint64_t t_setup = mg_rec_clock_now();
	uint64_t start = t_setup + 8000 + (uint64_t)calls * 2; /* time to open the recordings */
	struct calls cs;
	calls_open(&cs, ship, calls, gen, start);
	if (mg_rec_clock_now() > start) {
		/* the recordings are anchored at start: the producer cannot begin earlier */
		fprintf(stderr, "step %u: setup took %.2f s, longer than planned\n", calls,
			(mg_rec_clock_now() - t_setup) / 8000.0);
	}
	struct mg_rec_ring_stats before[16], after[16];
	for (unsigned r = 0; r < opt.rings; r++)
		mg_rec_hub_ring_stats(hub, r, &before[r]);
	struct producer prod = {.hub = hub,
				.calls = calls,
				.rings = opt.rings,
				.start = start,
				.end = start + (uint64_t)(opt.seconds * 8000),
				.gen = gen};
	while (mg_rec_clock_now() < start)
		;
	prod.start = mg_rec_clock_now() > start ? mg_rec_clock_now() : start;
	prod.end = prod.start + (uint64_t)(opt.seconds * 8000);
	if (rte_eal_remote_launch(producer_main, &prod, 1) != 0)
		die("launch");
	uint64_t busy = 0, t_begin = rte_rdtsc(), recs = 0;
	double cpu0 = thread_cpu();
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	double busy_cpu = 0;
	for (;;) {
		bool done = __atomic_load_n(&prod.done, __ATOMIC_ACQUIRE);
		double c0 = thread_cpu();
		uint64_t t0 = rte_rdtsc();
		unsigned n = mg_rec_ship_poll(ship, mg_rec_clock_now(), 4096);
		uint64_t t1 = rte_rdtsc();
		recs += n;
		if (n || t1 - t0 > 3000) {
			busy += t1 - t0;
			busy_cpu += thread_cpu() - c0;
		}
		if (done && n == 0)
			break;
	}
	uint64_t t_end = rte_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &w1);
	res.ship_cpu = thread_cpu() - cpu0;
	res.wall = (w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
	rte_eal_wait_lcore(1);
	res.prod_cpu = prod.cpu_s;
	uint64_t end = mg_rec_clock_now();
	uint64_t sealed, plain;
	calls_close(&cs, ship, end, &sealed, &plain);
	for (unsigned r = 0; r < opt.rings; r++) {
		mg_rec_hub_ring_stats(hub, r, &after[r]);
		res.forked += after[r].forked - before[r].forked;
		res.dropped += (after[r].dropped_full - before[r].dropped_full) +
			       (after[r].dropped_pool - before[r].dropped_pool);
	}
	double hz = (double)rte_get_tsc_hz();
	double secs = (double)(t_end - t_begin) / hz;
	res.packets = prod.packets;
	res.due_left = prod.due_left;
	res.lag_ms = prod.max_lag / 8.0;
	res.busy = (double)busy / (double)(t_end - t_begin);
	res.ship_ns_per_rec = recs ? busy_cpu * 1e9 / (double)recs : 0;
	res.recs = recs;
	res.fork_ns = prod.packets ? prod.fork_cycles * 1e9 / hz / (double)prod.packets : 0;
	res.sealed_mbs = sealed / secs / 1e6;
	res.plain_mbs = plain / secs / 1e6;
	/* valid only if the producer kept real time (less than 1% of packets still due) */
	res.ok = res.dropped == 0 && res.due_left * 100 <= prod.packets / 2;
	mg_rec_ship_free(ship);
	return res;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"ramp", 1, 0, 'r'},
					   {"seconds", 1, 0, 's'},
					   {"runs", 1, 0, 'n'},
					   {"sink", 1, 0, 'k'},
					   {"dir", 1, 0, 'd'},
					   {"ring-size", 1, 0, 'z'},
					   {"rings", 1, 0, 'w'},
					   {"fork-cost-only", 0, 0, 'f'},
					   {"cost-calls", 1, 0, 'c'},
					   {"cost-only", 0, 0, 'o'},
					   {0, 0, 0, 0}};
	const char *ramp = "1000,2000,4000,6000,8000,10000,12000,14000,16000,20000,24000";
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			ramp = optarg;
			break;
		case 's':
			opt.seconds = atof(optarg);
			break;
		case 'n':
			opt.runs = (unsigned)atoi(optarg);
			break;
		case 'k':
			opt.sink = strcmp(optarg, "null") == 0	  ? SINK_NULL
				   : strcmp(optarg, "spool") == 0 ? SINK_SPOOL
								  : SINK_FILE;
			break;
		case 'd':
			snprintf(opt.dir, sizeof(opt.dir), "%s", optarg);
			break;
		case 'z':
			opt.ring_size = (unsigned)atoi(optarg);
			break;
		case 'w':
			opt.rings = (unsigned)atoi(optarg);
			break;
		case 'f':
			opt.fork_cost_only = true;
			break;
		case 'c':
			opt.cost_calls = (unsigned)atoi(optarg);
			break;
		case 'o':
			opt.cost_only = true;
			break;
		default:
			die("bad option (see the comment at the top of bench_rec.c)");
		}
	}
	for (char *s = strdup(ramp), *t = strtok(s, ","); t && opt.n_ramp < 64;
	     t = strtok(NULL, ","))
		opt.ramp[opt.n_ramp++] = (unsigned)atoi(t);
	if (opt.rings < 1 || opt.rings > 16)
		die("--rings 1..16");
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=benchrec%d", (int)getpid());
	char *eal[64];
	int ea = 0;
	eal[ea++] = argv[0];
	if (optind < argc) {
		for (int i = optind; i < argc && ea < 63; i++)
			eal[ea++] = argv[i];
	} else {
		static char *d[] = {"--no-huge",	"-m", "1024", "--no-pci",
				    "--no-shconf",	"-l", "0,1",  "--no-telemetry",
				    "--log-level=error"};
		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
			eal[ea++] = d[i];
		eal[ea++] = prefix;
	}
	eal[ea] = NULL;
	if (rte_eal_init(ea, eal) < 0)
		die("EAL init");
	if (!rte_lcore_is_enabled(1))
		die("needs lcores 0 (ship) and 1 (producer)");
	mg_rec_clock_init();
	make_tones();
	FILE *r = fopen("/dev/urandom", "rb");
	if (!r || fread(dk.key, 1, 32, r) != 32 || fread(dk.wrapped, 1, 60, r) != 60)
		die("urandom");
	fclose(r);
	dk.wrapped_len = 60;
	dk.wrap_info[0] = 1;
	dk.wrap_info_len = 1;
	double load[3] = {0};
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("bench_rec: tsc %.2f GHz, load average %.2f %.2f %.2f\n", rte_get_tsc_hz() / 1e9,
	       load[0], load[1], load[2]);
	fork_cost();
	if (opt.fork_cost_only)
		return 0;
	if (!opt.dir[0])
		snprintf(opt.dir, sizeof(opt.dir), "/dev/shm/mgrec-bench-%d", (int)getpid());
	if (opt.sink != SINK_NULL && mkdir(opt.dir, 0700) != 0 && errno != EEXIST)
		die("mkdir --dir");
	unsigned max_calls = opt.cost_calls;
	for (unsigned i = 0; i < opt.n_ramp; i++)
		max_calls = opt.ramp[i] > max_calls ? opt.ramp[i] : max_calls;
	struct mg_rec_hub *hub;
	struct mg_rec_hub_config hc = {.rings = opt.rings,
				       .ring_size = opt.ring_size,
				       .max_contacts = max_calls + 1,
				       .socket_id = -1,
				       .name = "p4"};
	if (mg_rec_hub_create(&hub, &hc) != 0)
		die("hub (ring size a power of two? memory?)");
	printf("P4: %u rings of %u, sink %s%s%s, %.1f s per step, %u runs\n", opt.rings,
	       opt.ring_size,
	       opt.sink == SINK_NULL	? "null"
	       : opt.sink == SINK_SPOOL ? "spool"
					: "file",
	       opt.sink == SINK_NULL ? "" : " in ", opt.sink == SINK_NULL ? "" : opt.dir,
	       opt.seconds, opt.runs);
	if (opt.cost_calls) {
		enum { CR = 5 };
		double ns[CR], mbs[CR];
		for (int i = 0; i < CR; i++)
			ship_cost(hub, opt.cost_calls, 100000 + i, 2.0, &ns[i], &mbs[i]);
		double sorted[CR];
		memcpy(sorted, ns, sizeof(ns));
		qsort(sorted, CR, sizeof(double), cmp_double);
		qsort(mbs, CR, sizeof(double), cmp_double);
		double med = sorted[CR / 2];
		printf(
		    "ship CPU cost, %u calls x 2 s simulated (thread CPU time, %d runs): %.1f ns "
		    "per record (min %.1f, max %.1f); plaintext WAV %.1f MB per CPU-second\n",
		    opt.cost_calls, CR, med, sorted[0], sorted[CR - 1], mbs[CR / 2]);
		printf("  -> one fully available ship core: %.0f concurrent recorded calls "
		       "(100 records/s per call)\n",
		       1e9 / (med * 100));
	}
	if (opt.cost_only) {
		if (opt.sink != SINK_NULL)
			rmdir(opt.dir);
		return 0;
	}
	printf("columns: calls; run; records/s forked; dropped; producer packets still due at the "
	       "end; producer max lag; ship busy share of wall time (TSC, includes preemption);\n"
	       "  ship CPU ns per record in busy polls (thread CPU time); ship thread CPU/wall; "
	       "producer thread CPU ns per record (whole loop); plaintext and sealed "
	       "MB/s; capacity = calls one fully available core would carry at that CPU cost\n");
	printf("%6s %3s %9s %8s %8s %7s %6s %7s %6s %8s %9s %8s %8s %9s\n", "calls", "run", "rec/s",
	       "dropped", "due_left", "lag_ms", "busy%", "ns/rec", "cpu%", "fork_ns", "plainMB/s",
	       "sealMB/s", "capacity", "zero-drop");
	uint64_t best[32] = {0};
	uint32_t gen = 1;
	for (unsigned run = 0; run < opt.runs && run < 32; run++) {
		unsigned fails = 0;
		for (unsigned i = 0; i < opt.n_ramp; i++) {
			struct step_result s = run_step(hub, opt.ramp[i], gen++);
			double cap = s.ship_ns_per_rec > 0 ? 1e9 / (s.ship_ns_per_rec * 100) : 0;
			double fork_cpu_ns = s.packets ? s.prod_cpu * 1e9 / (double)s.packets : 0;
			printf("%6u %3u %9.0f %8llu %8llu %7.1f %5.1f%% %7.1f %5.1f%% %8.1f %9.1f "
			       "%8.1f %8.0f %9s\n",
			       s.calls, run + 1, s.forked / opt.seconds,
			       (unsigned long long)s.dropped, (unsigned long long)s.due_left,
			       s.lag_ms, 100 * s.busy, s.ship_ns_per_rec, 100 * s.ship_cpu / s.wall,
			       fork_cpu_ns, s.plain_mbs, s.sealed_mbs, cap, s.ok ? "yes" : "NO");
			fflush(stdout);
			if (s.ok && s.calls > best[run])
				best[run] = s.calls;
			fails = s.ok ? 0 : fails + 1;
			if (fails >= 2)
				break;
		}
		printf("run %u: highest zero-drop N = %llu\n", run + 1,
		       (unsigned long long)best[run]);
	}
	qsort(best, opt.runs, sizeof(best[0]), cmp_u64);
	printf("P4 result: median highest zero-drop concurrent recorded calls per ship lcore = "
	       "%llu (runs:",
	       (unsigned long long)best[opt.runs / 2]);
	for (unsigned i = 0; i < opt.runs; i++)
		printf(" %llu", (unsigned long long)best[i]);
	printf(")\n");
	mg_rec_hub_free(hub);
	if (opt.sink != SINK_NULL)
		rmdir(opt.dir);
	rte_eal_cleanup();
	return 0;
}
