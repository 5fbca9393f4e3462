/* P1 benchmark: CPU time per packet of SRTP protect/unprotect, mediagate's burst engine vs
 * libsrtp2 (any build, loaded with dlopen so the same binary measures Debian's NSS build and
 * the OpenSSL build from Debian's source package side by side).
 *
 *   bench_srtp mg <cm|gcm> <payload> <streams> <protect|unprotect> [reps] [seconds] [arch]
 *              [pipeline]
 *      pipeline = none (default): bursts of 32, nothing else;
 *                 lookahead: bursts of 32, mg_srtp_prefetch_burst() of burst k+1 before burst
 *                 k is processed (what a worker holding the next rx burst could do);
 *                 section: one call with all 256 packets (the engine pipelines its chunks);
 *                 warm: like none, but the section's context lines are read untimed just
 *                 before the timed part (a diagnostic: the cost without context misses)
 *   bench_srtp <label>:<path to libsrtp2.so> <cm|gcm> <payload> <streams> <op> [reps] [seconds]
 *              (e.g. libsrtp-nss:/usr/lib/x86_64-linux-gnu/libsrtp2.so.1)
 *
 * Method (same for every implementation): N streams, each with its own master key (one
 * mg_srtp_ctx, or one libsrtp session, per stream); packets go to the streams in a random
 * permutation, round robin; 256 packets (8 bursts of 32) are prepared untimed, then
 * processed timed with CLOCK_THREAD_CPUTIME_ID (the host is shared); repeated until
 * [seconds] of CPU time per repetition. Every packet's result is checked. One RESULT line per
 * repetition: run.sh takes medians over repetitions and rounds. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "srtp.h"

#define BURST	   32
#define SECTION	   256 /* packets per timed section */
#define HEADER_LEN 12
#define BUF_SIZE   1536

struct stream {
	uint8_t key_salt[46];
	uint32_t ssrc;
	uint16_t next_seq;
};

static double thread_cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Large tables on transparent huge pages, as DPDK's hugepage memory would hold them. */
static void *alloc_table(size_t size)
{
	size = (size + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *p = aligned_alloc(2u << 20, size);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	madvise(p, size, MADV_HUGEPAGE);
	memset(p, 0, size);
	return p;
}

/* ---------------------------------------------------------------- libsrtp via dlopen */

struct libsrtp_api {
	__typeof__(srtp_init) *init;
	__typeof__(srtp_create) *create;
	__typeof__(srtp_protect) *protect;
	__typeof__(srtp_unprotect) *unprotect;
	__typeof__(srtp_crypto_policy_set_rtp_default) *policy_cm;
	__typeof__(srtp_crypto_policy_set_aes_gcm_128_16_auth) *policy_gcm;
	__typeof__(srtp_get_version_string) *version;
};

static void *must_dlsym(void *handle, const char *name)
{
	void *sym = dlsym(handle, name);
	if (!sym) {
		fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
		exit(1);
	}
	return sym;
}

static struct libsrtp_api load_libsrtp(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		exit(1);
	}
	struct libsrtp_api api = {
	    .init = must_dlsym(h, "srtp_init"),
	    .create = must_dlsym(h, "srtp_create"),
	    .protect = must_dlsym(h, "srtp_protect"),
	    .unprotect = must_dlsym(h, "srtp_unprotect"),
	    .policy_cm = must_dlsym(h, "srtp_crypto_policy_set_rtp_default"),
	    .policy_gcm = must_dlsym(h, "srtp_crypto_policy_set_aes_gcm_128_16_auth"),
	    .version = must_dlsym(h, "srtp_get_version_string"),
	};
	return api;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr,
			"usage: %s mg|libsrtp:<so> cm|gcm <payload> <streams> "
			"protect|unprotect [reps=5] [seconds=0.3] [arch]\n",
			argv[0]);
		return 2;
	}
	const char *impl = argv[1];
	const bool is_gcm = !strcmp(argv[2], "gcm");
	const unsigned payload = (unsigned)atoi(argv[3]);
	const unsigned n_streams = (unsigned)atoi(argv[4]);
	const bool do_protect = !strcmp(argv[5], "protect");
	const int reps = argc > 6 ? atoi(argv[6]) : 5;
	const double seconds = argc > 7 ? atof(argv[7]) : 0.3;
	const char *arch_name = argc > 8 ? argv[8] : "auto";
	const char *pipeline = argc > 9 ? argv[9] : "none";
	const bool lookahead = !strcmp(pipeline, "lookahead");
	const unsigned call_size = !strcmp(pipeline, "section") ? SECTION : BURST;
	const bool is_mg = !strcmp(impl, "mg");
	const bool warm_contexts = is_mg && !strcmp(pipeline, "warm");
	char label[64] = "mg";
	const char *library_path = NULL;
	if (!is_mg && strchr(impl, ':')) {
		size_t n = (size_t)(strchr(impl, ':') - impl);
		snprintf(label, sizeof(label), "%.*s", (int)(n < 63 ? n : 63), impl);
		library_path = impl + n + 1;
	}
	if (is_mg && strcmp(pipeline, "none"))
		snprintf(label, sizeof(label), "mg-%s", pipeline);
	const enum mg_srtp_suite suite =
	    is_gcm ? MG_SRTP_AEAD_AES_128_GCM : MG_SRTP_AES_CM_128_HMAC_SHA1_80;
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	if (payload + HEADER_LEN + 64 > BUF_SIZE || n_streams == 0 ||
	    (!is_mg && !strchr(impl, ':'))) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}

	struct stream *streams = alloc_table(sizeof(*streams) * n_streams);
	uint32_t *order = alloc_table(sizeof(*order) * n_streams);
	for (unsigned i = 0; i < n_streams; i++) {
		for (unsigned k = 0; k < sizeof(streams[i].key_salt); k++)
			streams[i].key_salt[k] = (uint8_t)next_random();
		streams[i].ssrc = 0x10000000u + i;
		streams[i].next_seq = (uint16_t)next_random();
		order[i] = i;
	}
	for (unsigned i = n_streams; i > 1; i--) { /* Fisher-Yates */
		unsigned j = next_random() % i, t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}

	/* the sender used to produce packets for unprotect runs (untimed), and the engine */
	enum mg_srtp_arch arch = MG_SRTP_ARCH_AUTO;
	if (!strcmp(arch_name, "sse"))
		arch = MG_SRTP_ARCH_SSE;
	else if (!strcmp(arch_name, "avx2"))
		arch = MG_SRTP_ARCH_AVX2;
	else if (!strcmp(arch_name, "avx512"))
		arch = MG_SRTP_ARCH_AVX512;
	mg_srtp_engine *engine = mg_srtp_engine_create(arch);
	if (!engine) {
		fprintf(stderr, "engine (%s) not available\n", arch_name);
		return 1;
	}
	mg_srtp_ctx *senders = NULL, *contexts = NULL;
	srtp_t *sessions = NULL;
	struct libsrtp_api api = {0};
	char description[256];

	struct mg_srtp_key_params kp = {.suite = suite};
	if (!do_protect) {
		senders = alloc_table(sizeof(*senders) * n_streams);
		for (unsigned i = 0; i < n_streams; i++) {
			kp.master_key = streams[i].key_salt;
			kp.master_salt = streams[i].key_salt + info->key_len;
			mg_srtp_ctx_init(&senders[i], engine, &kp);
		}
	}
	if (is_mg) {
		contexts = alloc_table(sizeof(*contexts) * n_streams);
		for (unsigned i = 0; i < n_streams; i++) {
			kp.master_key = streams[i].key_salt;
			kp.master_salt = streams[i].key_salt + info->key_len;
			if (mg_srtp_ctx_init(&contexts[i], engine, &kp)) {
				fprintf(stderr, "ctx init failed\n");
				return 1;
			}
		}
		snprintf(description, sizeof(description), "mediagate burst (%s), %s, ctx %zu B",
			 pipeline, mg_srtp_engine_describe(engine), sizeof(mg_srtp_ctx));
	} else {
		api = load_libsrtp(library_path);
		if (api.init() != srtp_err_status_ok) {
			fprintf(stderr, "srtp_init failed\n");
			return 1;
		}
		sessions = calloc(n_streams, sizeof(*sessions));
		for (unsigned i = 0; i < n_streams; i++) {
			srtp_policy_t policy;
			memset(&policy, 0, sizeof(policy));
			if (is_gcm) {
				api.policy_gcm(&policy.rtp);
				api.policy_gcm(&policy.rtcp);
			} else {
				api.policy_cm(&policy.rtp);
				api.policy_cm(&policy.rtcp);
			}
			policy.ssrc.type = ssrc_specific;
			policy.ssrc.value = streams[i].ssrc;
			policy.key = streams[i].key_salt;
			policy.window_size = 128;
			if (api.create(&sessions[i], &policy) != srtp_err_status_ok) {
				fprintf(stderr, "srtp_create failed\n");
				return 1;
			}
		}
		snprintf(description, sizeof(description), "%s (%s), one session per stream",
			 api.version(), library_path);
	}
	printf("INFO impl=%s desc=\"%s\"\n", label, description);

	uint8_t *buffers = alloc_table((size_t)SECTION * BUF_SIZE);
	static uint8_t plain_payload[BUF_SIZE];
	for (unsigned i = 0; i < payload; i++)
		plain_payload[i] = (uint8_t)next_random();
	static struct mg_srtp_pkt pkts[SECTION];
	static uint32_t pkt_stream[SECTION];
	static uint8_t status[SECTION];
	unsigned cursor = 0;
	unsigned long failures = 0;

	for (int rep = -1; rep < reps; rep++) { /* rep -1 warms up */
		double cpu = 0;
		unsigned long packets = 0;
		double target = rep < 0 ? seconds / 3 : seconds;
		while (cpu < target) {
			/* untimed: build the section's packets */
			for (unsigned i = 0; i < SECTION; i++) {
				unsigned s = order[cursor];
				cursor = cursor + 1 == n_streams ? 0 : cursor + 1;
				uint8_t *b = buffers + (size_t)i * BUF_SIZE;
				b[0] = 0x80;
				b[1] = 0;
				uint16_t seq = streams[s].next_seq++;
				b[2] = (uint8_t)(seq >> 8);
				b[3] = (uint8_t)seq;
				memset(b + 4, 0, 4);
				uint32_t ssrc = streams[s].ssrc;
				b[8] = (uint8_t)(ssrc >> 24);
				b[9] = (uint8_t)(ssrc >> 16);
				b[10] = (uint8_t)(ssrc >> 8);
				b[11] = (uint8_t)ssrc;
				memcpy(b + HEADER_LEN, plain_payload, payload);
				pkts[i] = (struct mg_srtp_pkt){.data = b,
							       .len = HEADER_LEN + payload,
							       .capacity = BUF_SIZE,
							       .ctx = senders ? &senders[s] : NULL};
				pkt_stream[i] = s;
			}
			if (!do_protect) {
				if (mg_srtp_protect_burst(engine, pkts, SECTION, status) !=
				    SECTION) {
					fprintf(stderr, "sender failed\n");
					return 1;
				}
			}
			if (is_mg)
				for (unsigned i = 0; i < SECTION; i++)
					pkts[i].ctx = &contexts[pkt_stream[i]];

			if (warm_contexts) {
				/* diagnostic only: demand-load line 0 and the key lines untimed */
				uint64_t sum = 0;
				for (unsigned i = 0; i < SECTION; i++) {
					const uint8_t *c = (const uint8_t *)pkts[i].ctx;
					for (unsigned off = 0; off < offsetof(mg_srtp_ctx, srtcp);
					     off += 64)
						sum += *(const volatile uint8_t *)(c + off);
				}
				__asm__ volatile("" : : "r"(sum));
			}

			/* timed */
			double t0 = thread_cpu_seconds();
			if (is_mg) {
				if (lookahead)
					mg_srtp_prefetch_burst(pkts, BURST);
				for (unsigned i = 0; i < SECTION; i += call_size) {
					if (lookahead && i + BURST < SECTION)
						mg_srtp_prefetch_burst(pkts + i + BURST, BURST);
					unsigned ok =
					    do_protect
						? mg_srtp_protect_burst(engine, pkts + i, call_size,
									status + i)
						: mg_srtp_unprotect_burst(engine, pkts + i,
									  call_size, status + i);
					failures += call_size - ok;
				}
			} else {
				for (unsigned i = 0; i < SECTION; i++) {
					int len = (int)pkts[i].len;
					srtp_err_status_t st =
					    do_protect ? api.protect(sessions[pkt_stream[i]],
								     pkts[i].data, &len)
						       : api.unprotect(sessions[pkt_stream[i]],
								       pkts[i].data, &len);
					failures += st != srtp_err_status_ok;
					pkts[i].len = (uint32_t)len;
				}
			}
			cpu += thread_cpu_seconds() - t0;
			packets += SECTION;

			/* untimed: spot-check the result of the section */
			uint32_t want = do_protect ? HEADER_LEN + payload + info->srtp_tag_len
						   : HEADER_LEN + payload;
			if (pkts[SECTION - 1].len != want ||
			    (!do_protect &&
			     memcmp(pkts[SECTION - 1].data + HEADER_LEN, plain_payload, payload))) {
				fprintf(stderr, "wrong output\n");
				return 1;
			}
		}
		if (failures) {
			fprintf(stderr, "%lu packets failed\n", failures);
			return 1;
		}
		if (rep >= 0)
			printf("RESULT impl=%s suite=%s payload=%u streams=%u op=%s rep=%d "
			       "ns_per_pkt=%.1f packets=%lu\n",
			       label, is_gcm ? "gcm" : "cm", payload, n_streams,
			       do_protect ? "protect" : "unprotect", rep,
			       cpu * 1e9 / (double)packets, packets);
	}
	return 0;
}
