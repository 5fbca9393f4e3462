/* P3 benchmark (not run in CI): CPU cost of one 20 ms tick of 3-party G.711 conferences
 * on one core, and the implied number of conferences per core in real time; next to a
 * rough 2-party plain relay anchor measured in the same run.
 *
 *   bench_mix [conferences=3000] [rounds=41] [realtime_seconds=0]
 *
 * Figures (CPU time of this thread, CLOCK_THREAD_CPUTIME_ID; medians of `rounds` rounds,
 * each round = one 20 ms period of every conference):
 *  - tick:   mg_mix_tick only (jitter-buffer playout, decode 3, N-1 mix, encode 3,
 *            RTP headers);
 *  - full:   what a worker does per conference per 20 ms: 3 x mg_mix_push (RTP parse,
 *            jitter-buffer store) + tick + copying the 3 output packets out (as into
 *            mbufs); with mg_mix_prefetch of conference k+2 while doing conference k
 *            (tick and full), and once without it;
 *  - 2-party: the same for a 2-party call through the mixer;
 *  - relay:  2-party relay anchor: per call and 20 ms, 2 packets of 214 bytes
 *            (Ethernet + IPv4 + UDP + RTP + 160) copied and their headers rewritten
 *            (MACs, IPs, ports, IPv4 checksum recomputed, RTP SSRC/seq/ts).
 *  Cold working set: `conferences` distinct conferences (and as many relay calls), so the
 *  caches hold what they would in production; "hot" repeats one conference.
 * With realtime_seconds > 0 (conferences and rounds then only set the first part) a
 * real-time ramp follows: 3,000, 6,000, ... 3-party PCMU conferences, each step run for
 * realtime_seconds against a 20 ms wall clock; a step fails when a tick's CPU time exceeds
 * 20 ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "mix.h"

#define F     MG_MIX_FRAME_SAMPLES
#define NPART 3
#define NFR   50 /* distinct input frames per participant (1 s of tones) */

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* input packets: per participant NFR frames of a tone (speech-level, 3 different tones) */
static uint8_t in_pkt[NPART][NFR][12 + F];

static void make_inputs(enum mg_g711_law law)
{
	double fr[NPART] = {400, 700, 1100};
	for (int p = 0; p < NPART; p++)
		for (int n = 0; n < NFR; n++) {
			uint8_t *k = in_pkt[p][n];
			k[0] = 0x80;
			k[1] = law == MG_G711_ALAW ? 8 : 0;
			int16_t pcm[F];
			for (int i = 0; i < F; i++)
				pcm[i] = (int16_t)lrint(
				    8000 * sin(2 * M_PI * fr[p] * (n * F + i) / 8000.0));
			mg_g711_encode_burst(law, k + 12, pcm, F);
		}
}

/* writes seq/ts/ssrc of frame n of participant p into a scratch copy and pushes it */
static inline void push(struct mg_mix *m, unsigned p, uint32_t n, uint32_t ssrc)
{
	uint8_t *k = in_pkt[p][n % NFR];
	uint16_t seq = (uint16_t)n;
	uint32_t ts = n * F;
	k[2] = (uint8_t)(seq >> 8), k[3] = (uint8_t)seq;
	k[4] = (uint8_t)(ts >> 24), k[5] = (uint8_t)(ts >> 16), k[6] = (uint8_t)(ts >> 8),
	k[7] = (uint8_t)ts;
	k[8] = (uint8_t)(ssrc >> 24), k[9] = (uint8_t)(ssrc >> 16), k[10] = (uint8_t)(ssrc >> 8),
	k[11] = (uint8_t)ssrc;
	mg_mix_push(m, p, k, 12 + F);
}

struct conf {
	struct mg_mix *m;
	uint8_t *txbuf; /* where outputs are copied ("mbufs") */
};

static struct conf *make_confs(unsigned n, unsigned np, enum mg_g711_law law)
{
	struct conf *c = calloc(n, sizeof(*c));
	for (unsigned i = 0; i < n; i++) {
		c[i].m = mg_mix_create();
		c[i].txbuf = aligned_alloc(64, NPART * 256);
		if (!c[i].m || !c[i].txbuf) {
			fprintf(stderr, "out of memory at conference %u\n", i);
			exit(1);
		}
		for (unsigned p = 0; p < np; p++) {
			struct mg_mix_participant_cfg cfg = {.law = law,
							     .pt = law == MG_G711_ALAW ? 8 : 0,
							     .te_pt = 101,
							     .out_ssrc = i * 8 + p + 1,
							     .out_seq = (uint16_t)(i * 3 + p),
							     .out_ts = i * 1000u};
			if (mg_mix_join(c[i].m, &cfg) != (int)p)
				exit(1);
		}
	}
	return c;
}

static uint64_t sink;
static int use_prefetch = 1;

/* one 20 ms period of conference c at frame n */
static inline void period(struct conf *c, unsigned np, uint32_t n, int tick_only)
{
	const struct mg_mix_pkt *out;
	if (!tick_only)
		for (unsigned p = 0; p < np; p++)
			push(c->m, p, n, 0x100 + p);
	unsigned k = mg_mix_tick(c->m, 0, &out);
	if (tick_only) {
		sink += out[k - 1].data[20];
		return;
	}
	for (unsigned i = 0; i < k; i++)
		memcpy(c->txbuf + i * 256, out[i].data, out[i].len);
	sink += c->txbuf[20];
}

/* the relay anchor: one call = 2 legs; per 20 ms each leg's packet is copied to a tx
 * buffer and its headers rewritten */
struct relay_call {
	uint8_t rx[2][256];
	uint8_t tx[2][256];
	uint32_t ssrc[2];
	uint16_t seq[2];
};

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

static inline void relay_leg(struct relay_call *c, int leg)
{
	uint8_t *d = c->tx[leg];
	memcpy(d, c->rx[leg], 214);
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	memcpy(d, mac, 12);				  /* Ethernet dst/src */
	d[14 + 12] = 10, d[14 + 15] = (uint8_t)leg;	  /* IPv4 src */
	d[14 + 16] = 10, d[14 + 19] = (uint8_t)(leg + 2); /* IPv4 dst */
	d[14 + 10] = d[14 + 11] = 0;
	uint16_t cs = ip_csum(d + 14);
	d[14 + 10] = (uint8_t)(cs >> 8), d[14 + 11] = (uint8_t)cs;
	d[34] = 0x9c, d[35] = (uint8_t)(leg * 2); /* UDP ports */
	d[36] = 0x9c, d[37] = (uint8_t)(leg * 2 + 1);
	d[40] = d[41] = 0; /* UDP checksum: none */
	uint16_t s = c->seq[leg]++;
	d[42 + 2] = (uint8_t)(s >> 8), d[42 + 3] = (uint8_t)s;
	uint32_t x = c->ssrc[leg];
	d[42 + 8] = (uint8_t)(x >> 24), d[42 + 9] = (uint8_t)(x >> 16),
	       d[42 + 10] = (uint8_t)(x >> 8), d[42 + 11] = (uint8_t)x;
	sink += d[60];
}

/* median over `rounds` samples of the CPU time per conference-period; one sample runs
 * `reps` periods of all n conferences (reps > 1 for few conferences, so that the clock's
 * own cost, a system call, disappears). tick_only: pushes are done outside the timing
 * (only with reps == 1). */
static double bench_confs(struct conf *c, unsigned n, unsigned np, int rounds, unsigned reps,
			  int tick_only, uint32_t *frame)
{
	double *v = malloc(sizeof(double) * (size_t)rounds);
	for (int w = 0; w < 5; w++, (*frame)++) /* warm up, fill the jitter buffers */
		for (unsigned i = 0; i < n; i++)
			period(&c[i], np, *frame, 0);
	for (int r = 0; r < rounds; r++) {
		if (tick_only)
			for (unsigned i = 0; i < n; i++)
				for (unsigned p = 0; p < np; p++)
					push(c[i].m, p, *frame, 0x100 + p);
		double t0 = cpu_now();
		for (unsigned k = 0; k < reps; k++, (*frame)++)
			for (unsigned i = 0; i < n; i++) {
				if (use_prefetch && i + 2 < n)
					mg_mix_prefetch(c[i + 2].m);
				period(&c[i], np, *frame, tick_only);
			}
		v[r] = (cpu_now() - t0) / ((double)n * reps);
	}
	double med = median(v, rounds);
	free(v);
	return med;
}

static double bench_relay(struct relay_call *rc, unsigned n, int rounds)
{
	double *v = malloc(sizeof(double) * (size_t)rounds);
	for (int r = -5; r < rounds; r++) {
		double t0 = cpu_now();
		for (unsigned i = 0; i < n; i++) {
			relay_leg(&rc[i], 0);
			relay_leg(&rc[i], 1);
		}
		if (r >= 0)
			v[r] = (cpu_now() - t0) / n;
	}
	double med = median(v, rounds);
	free(v);
	return med;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
	int rounds = argc > 2 ? atoi(argv[2]) : 41;
	double rt_secs = argc > 3 ? atof(argv[3]) : 0;
	if (n < 1 || rounds < 1)
		return 2;

	printf("mediagate mix benchmark: %u conferences of %d participants, %d rounds, "
	       "conference footprint %zu bytes, G.711 encode: %s\n",
	       n, NPART, rounds, mg_mix_footprint(),
	       MG_G711_ENCODE_COMPUTED ? "computed (AVX-512 vplzcntd)" : "tables (no AVX-512)");

	struct relay_call *rc = aligned_alloc(64, sizeof(*rc) * n);
	memset(rc, 0, sizeof(*rc) * n);
	for (unsigned i = 0; i < n; i++)
		for (int l = 0; l < 2; l++) {
			rc[i].rx[l][12] = 0x08, rc[i].rx[l][14] = 0x45;
			rc[i].rx[l][42] = 0x80;
			rc[i].ssrc[l] = i * 2 + (unsigned)l;
		}

	const char *lawname[2] = {"PCMU", "PCMA"};
	double relay = bench_relay(rc, n, rounds);
	for (int law = 0; law < 2; law++) {
		make_inputs((enum mg_g711_law)law);
		struct conf *c = make_confs(n, NPART, (enum mg_g711_law)law);
		uint32_t frame = 0;
		double tick = bench_confs(c, n, NPART, rounds, 1, 1, &frame);
		double full = bench_confs(c, n, NPART, rounds, 1, 0, &frame);
		double hot = bench_confs(c, 1, NPART, rounds, 2000, 0, &frame);
		use_prefetch = 0;
		double full_nopf = bench_confs(c, n, NPART, rounds, 1, 0, &frame);
		use_prefetch = 1;
		for (unsigned i = 0; i < n; i++) {
			mg_mix_destroy(c[i].m);
			free(c[i].txbuf);
		}
		free(c);
		c = make_confs(n, 2, (enum mg_g711_law)law);
		frame = 0;
		double two = bench_confs(c, n, 2, rounds, 1, 0, &frame);
		printf("%s 3-party, %u conferences: tick %.0f ns, full (3 push + tick + 3 copies) "
		       "%.0f ns per conference per 20 ms -> %.0f conferences per core "
		       "(tick only: %.0f); one hot conference: full %.0f ns\n",
		       lawname[law], n, tick * 1e9, full * 1e9, 0.020 / full, 0.020 / tick,
		       hot * 1e9);
		printf("%s 2-party call through the mixer: full %.0f ns per 20 ms; "
		       "relay anchor (2 x 214-byte copy + header rewrite): %.0f ns per call per 20 "
		       "ms; "
		       "3-party conference / relay anchor = %.0f\n",
		       lawname[law], two * 1e9, relay * 1e9, full / relay);
		printf("RESULT law=%s tick_ns=%.1f full_ns=%.1f full_nopf_ns=%.1f hot_full_ns=%.1f "
		       "two_party_ns=%.1f relay_ns=%.1f\n",
		       lawname[law], tick * 1e9, full * 1e9, full_nopf * 1e9, hot * 1e9, two * 1e9,
		       relay * 1e9);
		for (unsigned i = 0; i < n; i++) {
			mg_mix_destroy(c[i].m);
			free(c[i].txbuf);
		}
		free(c);
	}

	if (rt_secs > 0) {
		/* real-time ramp (PCMU): every 20 ms of wall time, one period of every conference,
		 * for rt_secs per step, from 3,000 conferences up by 3,000. A tick overruns when
		 * its CPU time exceeds 20 ms (the work does not fit the period); ticks that took
		 * more than 20 ms of wall time are reported too (on a shared machine that includes
		 * time the thread was not running; a late tick starts the next period at once).
		 * The ramp stops at the first step with an overrun. */
		make_inputs(MG_G711_ULAW);
		unsigned best = 0;
		for (unsigned nc = 3000; nc <= 60000; nc += 3000) {
			struct conf *c = make_confs(nc, NPART, MG_G711_ULAW);
			unsigned ticks = (unsigned)(rt_secs * 50), missed = 0, over = 0;
			double worst = 0, worst_cpu = 0, cpu = 0;
			for (unsigned w = 0; w < 5; w++)
				for (unsigned i = 0; i < nc; i++)
					period(&c[i], NPART, w, 0);
			double deadline = wall_now();
			for (unsigned t = 0; t < ticks; t++) {
				double t0 = wall_now(), c0 = cpu_now();
				deadline = (deadline + 0.020 > t0 ? deadline : t0) + 0.020;
				for (unsigned i = 0; i < nc; i++) {
					if (i + 2 < nc)
						mg_mix_prefetch(c[i + 2].m);
					period(&c[i], NPART, t + 5, 0);
				}
				double t1 = wall_now(), dc = cpu_now() - c0;
				cpu += dc;
				if (t1 - t0 > worst)
					worst = t1 - t0;
				if (dc > worst_cpu)
					worst_cpu = dc;
				over += dc > 0.020;
				missed += t1 - t0 > 0.020;
				while (wall_now() < deadline)
					;
			}
			printf(
			    "real time, PCMU: %5u conferences, %u ticks: CPU per tick mean %.2f ms "
			    "(%.0f%% of the core), max %.2f ms, %u overruns; wall: longest %.2f "
			    "ms, "
			    "%u longer than 20 ms\n",
			    nc, ticks, cpu / ticks * 1e3, cpu / ticks / 0.020 * 100,
			    worst_cpu * 1e3, over, worst * 1e3, missed);
			for (unsigned i = 0; i < nc; i++) {
				mg_mix_destroy(c[i].m);
				free(c[i].txbuf);
			}
			free(c);
			if (over)
				break;
			best = nc;
		}
		printf("real-time ramp: %u 3-party PCMU conferences per core without a tick "
		       "overrun\n",
		       best);
		printf("RESULT ramp=%u\n", best);
	}
	printf("(sink %llu)\n", (unsigned long long)(sink & 1));
	return 0;
}
