/* Fork rings and the ship side with real rte_rings (EAL --no-huge):
 *  - forced overflow of a tiny ring and an empty pool: every drop counted per ring and per
 *    contact, nothing blocks;
 *  - a slow consumer thread against a producer thread: drops counted, recording partial;
 *  - end to end: two workers' rings -> ship -> aligner -> envelope writer -> spool file;
 *    the sealed file decrypted with the envelope reader, checked sample by sample, and read
 *    by sox and ffprobe (duration, channels, rate); no plaintext in the spool. */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "check.h"
#include "envelope.h"
#include "rec.h"
#include "store.h"

static char tmpdir[] = "/tmp/rec_ship_XXXXXX";
static struct mg_store *store;

static void fill(uint8_t *p, unsigned n, unsigned k, unsigned salt)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(salt + k * 13 + i * 5);
}

static void test_overflow(void)
{
	puts("overflow: tiny ring (16), no consumer: drops counted per ring and per contact");
	struct mg_rec_hub *hub;
	struct mg_rec_hub_config cfg = {.rings = 1,
					.ring_size = 16,
					.pool_size = 64,
					.max_contacts = 8,
					.socket_id = -1,
					.name = "ovf"};
	CHECK(mg_rec_hub_create(&hub, &cfg) == 0);
	struct mg_rec_fork *f = mg_rec_hub_fork(hub, 0);
	CHECK(f != NULL);
	CHECK(mg_rec_hub_fork(hub, 1) == NULL);
	uint8_t pl[160];
	for (unsigned k = 0; k < 100; k++) {
		fill(pl, 160, k, 0);
		mg_rec_fork_add(f, 3, 1, 0, MG_REC_CH_CUSTOMER, 0xabc, 160 * k, (uint16_t)k,
				MG_REC_PT_PCMU, k, pl, 160);
	}
	mg_rec_fork_flush(f);
	struct mg_rec_ring_stats st;
	mg_rec_hub_ring_stats(hub, 0, &st);
	CHECK_EQ_INT(st.forked, 15); /* usable size of a 16-slot ring */
	CHECK_EQ_INT(st.dropped_full, 85);
	CHECK_EQ_INT(st.dropped_pool, 0);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 3), 85);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 2), 0);
	struct mg_rec_record *out[64];
	unsigned n = mg_rec_hub_drain(hub, 0, out, 64);
	CHECK_EQ_INT(n, 15);
	int bad = 0;
	for (unsigned i = 0; i < n; i++) {
		fill(pl, 160, i, 0);
		bad += out[i]->seq != i || out[i]->rtp_ts != 160 * i || out[i]->contact != 3 ||
		       out[i]->len != 160 || memcmp(out[i]->payload, pl, 160) != 0;
	}
	CHECK_EQ_INT(bad, 0);
	mg_rec_hub_release(hub, 0, out, n);
	mg_rec_hub_ring_stats(hub, 0, &st);
	CHECK_EQ_INT(st.drained, 15);
	/* after draining, forking works again (refused records were kept for reuse) */
	for (unsigned k = 0; k < 10; k++)
		mg_rec_fork_add(f, 4, 1, 0, MG_REC_CH_AGENT, 1, 0, (uint16_t)k, MG_REC_PT_PCMA, 0,
				pl, 160);
	CHECK_EQ_INT(mg_rec_fork_flush(f), 10);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 4), 0);
	n = mg_rec_hub_drain(hub, 0, out, 64);
	CHECK_EQ_INT(n, 10);
	mg_rec_hub_release(hub, 0, out, n);
	/* a 30 ms packet (240 bytes) is split into two records, timestamps advanced */
	uint8_t big[240];
	for (int i = 0; i < 240; i++)
		big[i] = (uint8_t)i;
	CHECK_EQ_INT(mg_rec_fork_add(f, 5, 1, 0, 0, 9, 1000, 77, 0, 0, big, 240), 2);
	CHECK_EQ_INT(mg_rec_fork_add(f, 5, 1, 0, 0, 9, 1000, 77, 0, 0, big, 0), 0);
	mg_rec_fork_flush(f);
	n = mg_rec_hub_drain(hub, 0, out, 64);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK(out[0]->len == 160 && out[0]->rtp_ts == 1000 && out[0]->flags == 0);
		CHECK(out[1]->len == 80 && out[1]->rtp_ts == 1160 && out[1]->flags == 1 &&
		      out[1]->payload[0] == 160);
	}
	mg_rec_hub_release(hub, 0, out, n);
	mg_rec_hub_contact_reset(hub, 3);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 3), 0);
	mg_rec_hub_free(hub);

	puts("overflow: empty record pool (8 records, ring 256): drops counted, never blocks");
	cfg = (struct mg_rec_hub_config){.rings = 1,
					 .ring_size = 256,
					 .pool_size = 8,
					 .max_contacts = 8,
					 .socket_id = -1,
					 .name = "pool"};
	CHECK(mg_rec_hub_create(&hub, &cfg) == 0);
	f = mg_rec_hub_fork(hub, 0);
	for (unsigned k = 0; k < 20; k++)
		mg_rec_fork_add(f, 6, 1, 0, 0, 1, 0, (uint16_t)k, 0, 0, pl, 160);
	mg_rec_fork_flush(f);
	mg_rec_hub_ring_stats(hub, 0, &st);
	CHECK_EQ_INT(st.forked, 8);
	CHECK_EQ_INT(st.dropped_pool, 12);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 6), 12);
	mg_rec_hub_free(hub);
	/* bad configurations */
	cfg.ring_size = 100;
	CHECK(mg_rec_hub_create(&hub, &cfg) == -1);
	cfg.ring_size = 256;
	cfg.rings = 0;
	CHECK(mg_rec_hub_create(&hub, &cfg) == -1);
}

/* ---- sealing helpers */

struct sealed {
	struct mg_store_record rec;
	struct mg_store_spool_file *file;
	struct mg_envelope_context ctx;
	struct mg_envelope_data_key dk;
	struct mg_envelope_writer *writer;
};

static void seal_begin(struct sealed *s, const char *contact)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->rec.account, sizeof(s->rec.account), "111122223333");
	snprintf(s->rec.instance, sizeof(s->rec.instance), "inst-a");
	snprintf(s->rec.alias, sizeof(s->rec.alias), "acme");
	snprintf(s->rec.contact_id, sizeof(s->rec.contact_id), "%s", contact);
	snprintf(s->rec.key_id, sizeof(s->rec.key_id), "mgk-test");
	s->rec.key_version = 1;
	s->rec.started = time(NULL);
	mg_store_object_key("rec", "acme", contact, s->rec.started, s->rec.object_key,
			    sizeof(s->rec.object_key));
	CHECK(mg_store_spool_begin(store, &s->rec, &s->file) == MG_STORE_OK);
	s->ctx = (struct mg_envelope_context){.account = s->rec.account,
					      .instance = s->rec.instance,
					      .contact_id = s->rec.contact_id,
					      .object_path = s->rec.object_key,
					      .key_id = s->rec.key_id,
					      .key_version = 1};
	FILE *r = fopen("/dev/urandom", "rb");
	CHECK(r && fread(s->dk.key, 1, sizeof(s->dk.key), r) == sizeof(s->dk.key));
	CHECK(r && fread(s->dk.wrapped, 1, 60, r) == 60);
	if (r)
		fclose(r);
	s->dk.wrapped_len = 60; /* stands in for lib/keys' wrapped form: opaque here */
	s->dk.wrap_info[0] = 1;
	s->dk.wrap_info_len = 1;
	CHECK(mg_envelope_writer_open(&s->writer, &s->ctx, &s->dk, 0, mg_store_spool_sink,
				      s->file) == MG_ENVELOPE_OK);
}

static long file_source(void *arg, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, arg);
	return ferror((FILE *)arg) ? -1 : (long)n;
}

/* Decrypts the committed recording; returns the plaintext (malloc) and its flags. */
static uint8_t *unseal(struct sealed *s, size_t *len, uint8_t *flags)
{
	char path[1400];
	snprintf(path, sizeof(path), "%s/spool/%s" MG_STORE_SUFFIX, tmpdir, s->rec.name);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return NULL;
	struct mg_envelope_reader *rd;
	CHECK(mg_envelope_reader_open(&rd, file_source, f) == MG_ENVELOPE_OK);
	CHECK(mg_envelope_reader_set_key(rd, s->dk.key, &s->ctx) == MG_ENVELOPE_OK);
	size_t cap = 1 << 20, n = 0;
	uint8_t *p = malloc(cap);
	long r;
	while ((r = mg_envelope_reader_read(rd, p + n, cap - n)) > 0) {
		n += (size_t)r;
		if (cap - n < 65536)
			p = realloc(p, cap *= 2);
	}
	CHECK_EQ_INT(r, 0);
	*flags = mg_envelope_reader_flags(rd);
	mg_envelope_reader_free(rd);
	fclose(f);
	*len = n;
	return p;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Runs a command, returns its first line of output in out. */
static bool run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	return pclose(p) == 0 && n > 0;
}

static bool have(const char *tool)
{
	char cmd[128], out[256];
	snprintf(cmd, sizeof(cmd), "command -v %s", tool);
	return run(cmd, out, sizeof(out));
}

static void test_end_to_end(void)
{
	puts("end to end: 2 worker rings -> ship -> WAV -> envelope -> spool; decrypted and "
	     "checked sample by sample, by soxi and ffprobe");
	struct mg_rec_hub *hub;
	struct mg_rec_hub_config cfg = {
	    .rings = 2, .ring_size = 1024, .max_contacts = 16, .socket_id = -1, .name = "e2e"};
	CHECK(mg_rec_hub_create(&hub, &cfg) == 0);
	struct mg_rec_ship *ship;
	CHECK(mg_rec_ship_create(&ship, hub, NULL) == 0);
	struct sealed s;
	seal_begin(&s, "c-e2e-1");
	const uint64_t S = 5000000;
	const uint32_t slot = 5, gen = 9;
	CHECK(mg_rec_ship_open(ship, slot, gen, S, s.writer) == 0);
	CHECK(mg_rec_ship_open(ship, slot, gen, S, s.writer) == -1); /* already open */
	struct mg_rec_fork *w0 = mg_rec_hub_fork(hub, 0), *w1 = mg_rec_hub_fork(hub, 1);
	/* 3 s: customer on worker 0 (mu-law), agent on worker 1 (A-law) arriving 80 samples
	 * later; the agent is muted for packets 50..99 (the policy says not recorded, so the
	 * worker forks nothing); stale records of an older recording on the same slot. */
	uint8_t pl[160];
	for (unsigned k = 0; k < 150; k++) {
		uint64_t t = S + 160ull * k;
		fill(pl, 160, k, 1);
		mg_rec_fork_add(w0, slot, gen, 0, MG_REC_CH_CUSTOMER, 0x1234, 7777 + 160 * k,
				(uint16_t)k, MG_REC_PT_PCMU, t, pl, 160);
		if (k < 50 || k >= 100) {
			fill(pl, 160, k, 2);
			mg_rec_fork_add(w1, slot, gen, 1, MG_REC_CH_AGENT, 0x5678, 99 + 160 * k,
					(uint16_t)(k + 1000), MG_REC_PT_PCMA, t + 80, pl, 160);
		}
		if (k == 70)
			mg_rec_fork_add(w1, slot, gen - 1, 1, MG_REC_CH_AGENT, 0x5678, 0, 1,
					MG_REC_PT_PCMA, t, pl, 160);
		mg_rec_fork_flush(w0);
		mg_rec_fork_flush(w1);
		if (k % 4 == 3)
			mg_rec_ship_poll(ship, t, 1024);
	}
	mg_rec_ship_poll(ship, S + 24000, 1024);
	struct mg_rec_contact_stats cs;
	CHECK(mg_rec_ship_contact_stats(ship, slot, &cs) == 0);
	CHECK(cs.open && !cs.partial);
	CHECK_EQ_INT(cs.records, 250);
	CHECK_EQ_INT(cs.stale, 1);
	CHECK(cs.bytes_plain > 44 + 4 * 20000); /* streamed while the call ran */
	bool partial = true;
	CHECK_EQ_INT(mg_rec_ship_close(ship, slot, S + 24000, false, &partial), 0);
	CHECK(!partial);
	CHECK(mg_rec_ship_close(ship, slot, S + 24000, false, &partial) != 0); /* not open */
	CHECK(mg_store_spool_commit(s.file, partial) == MG_STORE_OK);
	struct mg_rec_ship_stats ss;
	mg_rec_ship_get_stats(ship, &ss);
	CHECK_EQ_INT(ss.records, 251);
	CHECK_EQ_INT(ss.stale, 1);
	CHECK_EQ_INT(ss.opened, 1);
	CHECK_EQ_INT(ss.closed, 1);
	CHECK_EQ_INT(ss.partial, 0);

	/* Plaintext never touched disk: no RIFF/WAVE bytes in any spool file. */
	char cmd[3000], out[4096];
	snprintf(cmd, sizeof(cmd), "grep -rlc -e RIFF -e WAVEfmt %s/spool | wc -l", tmpdir);
	CHECK(run(cmd, out, sizeof(out)) && atoi(out) == 0);

	size_t len = 0;
	uint8_t flags = 0xff;
	uint8_t *wav = unseal(&s, &len, &flags);
	CHECK_EQ_INT(flags, 0);
	CHECK_EQ_INT(len, 44 + 4 * 24000);
	if (!wav || len != 44 + 4 * 24000)
		goto out;
	CHECK_EQ_INT(rd32(wav + 40), 0xFFFFFFFFu); /* streaming header as sealed */
	int mism = 0;
	for (unsigned k = 0; k < 150; k++) {
		uint8_t c[160], a[160];
		fill(c, 160, k, 1);
		fill(a, 160, k, 2);
		for (unsigned i = 0; i < 160; i++) {
			size_t sc = 160 * k + i, sa = 160 * k + 80 + i;
			int16_t vc = (int16_t)(wav[44 + 4 * sc] | wav[44 + 4 * sc + 1] << 8);
			mism += vc != mg_rec_g711_decode(MG_REC_PT_PCMU, c[i]);
			if (sa < 24000) {
				int16_t va =
				    (int16_t)(wav[44 + 4 * sa + 2] | wav[44 + 4 * sa + 3] << 8);
				int16_t ea = (k >= 50 && k < 100)
						 ? 0
						 : mg_rec_g711_decode(MG_REC_PT_PCMA, a[i]);
				mism += va != ea;
			}
		}
	}
	for (size_t sa = 0; sa < 80; sa++) /* agent side silent before its first packet */
		mism += wav[44 + 4 * sa + 2] != 0 || wav[44 + 4 * sa + 3] != 0;
	CHECK_EQ_INT(mism, 0);

	/* Standard tools. The sealed stream's header carries 0xFFFFFFFF sizes (unknown while
	 * streaming); readers that know the length fix them (mg_rec_wav_fix_header). */
	if (have("ffprobe") && have("soxi")) {
		char raw[700], fixed[700];
		snprintf(raw, sizeof(raw), "%s/raw.wav", tmpdir);
		snprintf(fixed, sizeof(fixed), "%s/fixed.wav", tmpdir);
		FILE *f = fopen(raw, "wb");
		fwrite(wav, 1, len, f);
		fclose(f);
		CHECK_EQ_INT(mg_rec_wav_fix_header(wav, len, len), 1);
		f = fopen(fixed, "wb");
		fwrite(wav, 1, len, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "ffprobe -v error -show_entries stream=codec_name,channels,sample_rate,"
			 "duration -of compact=p=0:nk=0 %s",
			 fixed);
		CHECK(run(cmd, out, sizeof(out)));
		printf("  ffprobe: %s", out);
		CHECK(strstr(out, "codec_name=pcm_s16le") && strstr(out, "channels=2") &&
		      strstr(out, "sample_rate=8000") && strstr(out, "duration=3.000000"));
		snprintf(cmd, sizeof(cmd), "soxi -D %s && soxi -c %s && soxi -r %s", fixed, fixed,
			 fixed);
		CHECK(run(cmd, out, sizeof(out)));
		printf("  soxi -D/-c/-r: %.40s\n", out);
		double dur = 0;
		int ch = 0, rate = 0;
		CHECK(sscanf(out, "%lf %d %d", &dur, &ch, &rate) == 3 && dur == 3.0 && ch == 2 &&
		      rate == 8000);
		/* sox decodes every sample */
		snprintf(cmd, sizeof(cmd), "sox %s -n stat 2>&1 | grep 'Samples read'", fixed);
		CHECK(run(cmd, out, sizeof(out)) && strstr(out, "48000"));
		/* the unfixed stream: ffprobe reads to the end and gets the duration right */
		snprintf(cmd, sizeof(cmd),
			 "ffprobe -v error -show_entries stream=channels,duration -of "
			 "compact=p=0:nk=0 %s 2>/dev/null",
			 raw);
		CHECK(run(cmd, out, sizeof(out)) && strstr(out, "channels=2") &&
		      strstr(out, "duration=3.000000"));
		unlink(raw);
		unlink(fixed);
	} else {
		puts("  sox/ffprobe not installed: tool checks skipped");
	}
out:
	free(wav);
	mg_rec_ship_free(ship);
	mg_rec_hub_free(hub);
}

/* ---- slow consumer thread */

struct producer {
	struct mg_rec_fork *f;
	uint32_t slot, gen;
	unsigned packets;
	uint64_t start;
	volatile bool done;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint8_t pl[160];
	for (unsigned k = 0; k < p->packets; k++) {
		fill(pl, 160, k, 3);
		mg_rec_fork_add(p->f, p->slot, p->gen, 0, MG_REC_CH_CUSTOMER, 42, 160 * k,
				(uint16_t)k, MG_REC_PT_PCMU, p->start + 160ull * k, pl, 160);
		mg_rec_fork_flush(p->f);
		if (k % 8 == 7)
			usleep(100);
	}
	p->done = true;
	return NULL;
}

static void test_slow_consumer(void)
{
	puts("slow ship thread vs producer thread (ring 32): drops counted, recording sealed "
	     "and marked partial");
	struct mg_rec_hub *hub;
	struct mg_rec_hub_config cfg = {
	    .rings = 1, .ring_size = 32, .max_contacts = 4, .socket_id = -1, .name = "slow"};
	CHECK(mg_rec_hub_create(&hub, &cfg) == 0);
	struct mg_rec_ship *ship;
	CHECK(mg_rec_ship_create(&ship, hub, NULL) == 0);
	struct sealed s;
	seal_begin(&s, "c-slow-1");
	const uint64_t S = 1000;
	CHECK(mg_rec_ship_open(ship, 2, 1, S, s.writer) == 0);
	struct producer p = {
	    .f = mg_rec_hub_fork(hub, 0), .slot = 2, .gen = 1, .packets = 3000, .start = S};
	pthread_t th;
	pthread_create(&th, NULL, produce, &p);
	unsigned got = 0;
	while (!p.done) {
		got += mg_rec_ship_poll(ship, S, 8); /* 8 records per 2 ms: too slow */
		usleep(2000);
	}
	pthread_join(th, NULL);
	while (mg_rec_ship_poll(ship, S, 64))
		;
	struct mg_rec_ring_stats st;
	mg_rec_hub_ring_stats(hub, 0, &st);
	printf("  forked %llu, dropped %llu\n", (unsigned long long)st.forked,
	       (unsigned long long)st.dropped_full);
	CHECK(st.dropped_full > 0);
	CHECK_EQ_INT(st.forked + st.dropped_full + st.dropped_pool, 3000);
	CHECK_EQ_INT(mg_rec_hub_contact_drops(hub, 2), st.dropped_full + st.dropped_pool);
	struct mg_rec_contact_stats cs;
	mg_rec_ship_contact_stats(ship, 2, &cs);
	CHECK_EQ_INT(cs.records, st.forked);
	CHECK(cs.partial);
	bool partial = false;
	CHECK_EQ_INT(mg_rec_ship_close(ship, 2, S + 160 * 3000, false, &partial), 0);
	CHECK(partial);
	CHECK(mg_store_spool_commit(s.file, partial) == MG_STORE_OK);
	size_t len;
	uint8_t flags = 0;
	uint8_t *wav = unseal(&s, &len, &flags);
	CHECK(flags & MG_ENVELOPE_FLAG_PARTIAL);
	CHECK_EQ_INT(len, 44 + 4 * 160 * 3000);
	free(wav);
	/* the store's index entry says partial too */
	char path[1400], line[256];
	snprintf(path, sizeof(path), "%s/spool/%s.meta", tmpdir, s.rec.name);
	FILE *m = fopen(path, "r");
	bool meta_partial = false;
	while (m && fgets(line, sizeof(line), m))
		meta_partial |=
		    strncmp(line, "partial 1", 9) == 0 || strncmp(line, "partial true", 12) == 0;
	if (m)
		fclose(m);
	CHECK(meta_partial);
	/* a forced partial (writer stopped early) with no drops */
	struct sealed s2;
	seal_begin(&s2, "c-slow-2");
	CHECK(mg_rec_ship_open(ship, 3, 1, S, s2.writer) == 0);
	CHECK_EQ_INT(mg_rec_ship_close(ship, 3, S + 800, true, &partial), 0);
	CHECK(partial);
	mg_store_spool_commit(s2.file, partial);
	mg_rec_ship_free(ship);
	mg_rec_hub_free(hub);
}

int main(int argc, char **argv)
{
	(void)argc;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=rec%d", (int)getpid());
	char *eal[] = {argv[0],
		       "--no-huge",
		       "-m",
		       "256",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-l",
		       "0",
		       "--log-level=error",
		       prefix,
		       NULL};
	if (rte_eal_init(11, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	mg_rec_clock_init();
	uint64_t a = mg_rec_clock_now();
	usleep(50000);
	uint64_t b = mg_rec_clock_now();
	printf("8 kHz clock: %llu ticks in 50 ms\n", (unsigned long long)(b - a));
	CHECK(b - a >= 380 && b - a < 8000); /* sleeps overshoot on a loaded host */
	if (!mkdtemp(tmpdir))
		return 1;
	char spool[700], index[700];
	snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
	snprintf(index, sizeof(index), "%s/index", tmpdir);
	struct mg_store_config sc = {.spool_dir = spool, .index_dir = index};
	CHECK(mg_store_open(&store, &sc) == MG_STORE_OK);
	test_overflow();
	test_end_to_end();
	test_slow_consumer();
	mg_store_close(store);
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	rte_eal_cleanup();
	return CHECK_DONE();
}
