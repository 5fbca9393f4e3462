/* Sealing throughput per core vs OpenSSL's raw AES-256-GCM on the same buffers, and token
 * calls per 1,000 recordings with and without the bucket key.
 * Usage: bench_envelope [SOFTHSM_SETUP_SCRIPT]   (without it, the token part is skipped)
 * CPU time of the calling thread; median of repeated runs; ratios printed. */
#include "envelope.h"
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define RUNS 9

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare_double);
	return v[n / 2];
}

static uint8_t *out_buf;
static size_t out_pos;

/* Copies sealed bytes to a buffer, as a spool write would move them out of the writer. */
static int buffer_sink(void *arg, const void *bytes, size_t len)
{
	(void)arg;
	memcpy(out_buf + out_pos, bytes, len);
	out_pos += len;
	return 0;
}

/* Takes the sealed bytes where the writer left them, as write(2) to a spool file would: the
 * same position the raw reference is in (ciphertext in a buffer, ready to be written). */
static int null_sink(void *arg, const void *bytes, size_t len)
{
	(void)arg;
	(void)bytes;
	out_pos += len;
	return 0;
}

static const struct mg_envelope_context context = {
    .account = "111122223333",
    .instance = "inst-a",
    .contact_id = "c0ffee00-1111-2222-3333-444455556666",
    .object_path = "rec/connect/acme/CallRecordings/2026/11/23/c0ffee_20261123T101010Z.wav.mgenc",
    .key_id = "mgk-inst-a",
    .key_version = 1,
};

/* Raw GCM over the buffer in chunk-sized pieces (one IV per chunk), the reference. */
static double raw_gcm(const uint8_t *key, const uint8_t *in, size_t len, size_t chunk)
{
	uint8_t iv[12] = {0}, tag[16];
	int outl;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, NULL);
	double t0 = cpu_seconds();
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		iv[11]++;
		EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv);
		EVP_EncryptUpdate(c, out_buf + off, &outl, in + off, (int)n);
		EVP_EncryptFinal_ex(c, out_buf + off + n, &outl);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
	}
	double t = cpu_seconds() - t0;
	EVP_CIPHER_CTX_free(c);
	return t;
}

/* Seals len bytes as recordings of recording_len bytes each, written in write_len pieces. */
static double seal(const struct mg_envelope_data_key *dk, const uint8_t *in, size_t len,
		   size_t recording_len, size_t write_len, uint32_t frame_len,
		   mg_envelope_sink_fn sink)
{
	double t0 = cpu_seconds();
	out_pos = 0;
	for (size_t rec = 0; rec < len; rec += recording_len) {
		struct mg_envelope_writer *w;
		if (mg_envelope_writer_open(&w, &context, dk, frame_len, sink, NULL) != 0)
			abort();
		size_t end = rec + recording_len < len ? rec + recording_len : len;
		for (size_t off = rec; off < end; off += write_len)
			mg_envelope_writer_write(w, in + off,
						 end - off < write_len ? end - off : write_len);
		if (mg_envelope_writer_finish(w, 0) != 0)
			abort();
	}
	return cpu_seconds() - t0;
}

static void throughput(void)
{
	const size_t len = 64u << 20;
	uint8_t *in = malloc(len);
	out_buf = malloc(len + (len / 1024) + (1 << 20));
	RAND_bytes(in, (int)len);
	struct mg_envelope_data_key dk = {.wrapped_len = 60};
	RAND_bytes(dk.key, 32);
	struct {
		const char *name;
		size_t recording_len, write_len;
		uint32_t frame_len;
		mg_envelope_sink_fn sink;
	} cases[] = {
	    {"64 MiB recording, 16 KiB frames, 64 KiB writes", len, 65536, 16384, null_sink},
	    {"64 MiB recording, 64 KiB frames, 64 KiB writes", len, 65536, 65536, null_sink},
	    {"64 MiB recording, 4 KiB frames, 64 KiB writes", len, 65536, 4096, null_sink},
	    {"64 MiB recording, 16 KiB frames, 160-byte writes (20 ms G.711 stereo)", len, 160,
	     16384, null_sink},
	    {"1 MiB recordings (64), 16 KiB frames, 64 KiB writes (HKDF per recording)", 1u << 20,
	     65536, 16384, null_sink},
	    {"64 MiB recording, 16 KiB frames, sink copies every byte (memcpy)", len, 65536, 16384,
	     buffer_sink},
	};
	/* The machine is shared: every run measures the reference and the sealed case back to
	 * back, and the ratio is taken per pair before the median, so load changes between runs
	 * cancel out. */
	double mb = (double)len / 1e6;
	double raw[RUNS], raw_16k[RUNS];
	for (int r = 0; r < RUNS; r++) {
		raw[r] = raw_gcm(dk.key, in, len, len);
		raw_16k[r] = raw_gcm(dk.key, in, len, 16384);
	}
	printf("Sealing throughput, one core, CPU time, median of %d runs over %.0f MB:\n", RUNS,
	       mb);
	printf("  %-74s %8.0f MB/s\n", "OpenSSL raw AES-256-GCM, whole buffer, one IV (reference)",
	       mb / median(raw, RUNS));
	printf("  %-74s %8.0f MB/s\n", "OpenSSL raw AES-256-GCM, 16 KiB pieces, one IV each",
	       mb / median(raw_16k, RUNS));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double v[RUNS], ratio[RUNS], ratio_16k[RUNS];
		for (int r = 0; r < RUNS; r++) {
			double ref = raw_gcm(dk.key, in, len, len);
			v[r] = seal(&dk, in, len, cases[c].recording_len, cases[c].write_len,
				    cases[c].frame_len, cases[c].sink);
			double ref_16k = raw_gcm(dk.key, in, len, 16384);
			ratio[r] = v[r] / ref;
			ratio_16k[r] = v[r] / ref_16k;
		}
		printf("  %-74s %8.0f MB/s  sealed/raw CPU time %.2fx (vs 16 KiB pieces %.2fx)\n",
		       cases[c].name, mb / median(v, RUNS), median(ratio, RUNS),
		       median(ratio_16k, RUNS));
	}
	free(in);
	free(out_buf);
}

static time_t fixed_now(void *arg)
{
	(void)arg;
	return 1800000000;
}

static void token_calls(const char *setup_script)
{
	char tmp[] = "/tmp/mg-bench.XXXXXX", cmd[1200], conf[700], state[700];
	if (!mkdtemp(tmp))
		return;
	snprintf(cmd, sizeof(cmd), "bash %s %s/hsm bench 4321 87654321 >/dev/null", setup_script,
		 tmp);
	if (system(cmd) != 0) {
		printf("token setup failed\n");
		return;
	}
	snprintf(conf, sizeof(conf), "%s/hsm/softhsm2.conf", tmp);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(state, sizeof(state), "%s/state", tmp);
	printf("\nToken (SoftHSM2) calls per 1,000 recordings (data key generation, median of %d "
	       "runs):\n",
	       RUNS);
	for (int bucket = 0; bucket <= 1; bucket++) {
		struct mg_keys_config cfg = {.state_dir = state,
					     .token_label = "bench",
					     .pin = "4321",
					     .bucket_key_period = bucket ? 3600 : 0};
		double times[RUNS], cpu[RUNS];
		uint64_t calls = 0;
		for (int r = 0; r < RUNS; r++) {
			struct mg_keys *k;
			if (mg_keys_open(&k, &cfg) != MG_KEYS_OK) {
				printf("token open failed\n");
				return;
			}
			mg_keys_set_clock(k, fixed_now, NULL);
			char kid[MG_KEYS_ID_MAX];
			if (r == 0 && bucket == 0)
				mg_keys_create(k, "admin", "111122223333", "inst-a", 0, kid);
			uint64_t before = mg_keys_token_calls(k);
			double t0 = wall_seconds(), c0 = cpu_seconds();
			for (int i = 0; i < 1000; i++) {
				struct mg_envelope_context c = context;
				struct mg_envelope_data_key dk;
				if (mg_keys_generate_data_key(k, "admin", &c, &dk) != MG_KEYS_OK)
					abort();
			}
			times[r] = wall_seconds() - t0;
			cpu[r] = cpu_seconds() - c0;
			calls = mg_keys_token_calls(k) - before;
			mg_keys_close(k);
		}
		printf("  %-38s %5llu token calls; per data key: %4.0f us CPU, %5.0f us wall "
		       "(wall includes the fsync'ed audit entry)\n",
		       bucket ? "bucket key (period 1 h)" : "no bucket key (token wraps each key)",
		       (unsigned long long)calls, median(cpu, RUNS) * 1000,
		       median(times, RUNS) * 1000);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmp);
}

int main(int argc, char **argv)
{
	throughput();
	if (argc > 1)
		token_calls(argv[1]);
	return 0;
}
