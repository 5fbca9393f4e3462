/* Stereo WAV aligner: G.711 expansion against sox, the header, and alignment checked sample
 * by sample against an expectation built independently from the packets the test sends
 * (gaps, reordering, duplicates, late packets, SSRC change, timestamp and sequence wrap,
 * timestamp jump, two legs mixed into one channel, sink failure). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rec.h"

static int16_t ref_ulaw[256], ref_alaw[256];
static bool have_sox_ref;

/* Reference expansion: sox's own G.711 decoder on all 256 byte values. */
static bool sox_table(const char *type, int16_t out[256])
{
	char dir[] = "/tmp/recwavXXXXXX";
	if (!mkdtemp(dir))
		return false;
	char in[128], outp[128], cmd[512];
	snprintf(in, sizeof(in), "%s/in.raw", dir);
	snprintf(outp, sizeof(outp), "%s/out.raw", dir);
	FILE *f = fopen(in, "wb");
	for (int i = 0; i < 256; i++)
		fputc(i, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "sox -t %s -r 8000 -c 1 %s -t raw -e signed-integer -b 16 -L %s 2>/dev/null", type,
		 in, outp);
	bool ok = system(cmd) == 0;
	f = ok ? fopen(outp, "rb") : NULL;
	uint8_t b[512];
	ok = f && fread(b, 1, sizeof(b), f) == sizeof(b);
	if (f)
		fclose(f);
	for (int i = 0; ok && i < 256; i++)
		out[i] = (int16_t)(b[2 * i] | b[2 * i + 1] << 8);
	unlink(in);
	unlink(outp);
	rmdir(dir);
	return ok;
}

static void test_g711(void)
{
	puts("G.711 expansion: all 256 mu-law and A-law values against sox, plus published values");
	have_sox_ref = sox_table("ul", ref_ulaw) && sox_table("al", ref_alaw);
	if (!have_sox_ref) {
		puts("  sox not available: published values only");
	} else {
		int bad = 0;
		for (int i = 0; i < 256; i++) {
			bad += mg_rec_g711_decode(MG_REC_PT_PCMU, (uint8_t)i) != ref_ulaw[i];
			bad += mg_rec_g711_decode(MG_REC_PT_PCMA, (uint8_t)i) != ref_alaw[i];
		}
		CHECK_EQ_INT(bad, 0);
	}
	/* ITU-T G.711 table values (mu-law 0x00 = -32124, 0x80 = +32124, 0xFF/0x7F = 0;
	 * A-law 0xD5 = +8, 0x55 = -8, 0xAA = +32256, 0x2A = -32256) */
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMU, 0x00), -32124);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMU, 0x80), 32124);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMU, 0xFF), 0);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMU, 0x7F), 0);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMA, 0xD5), 8);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMA, 0x55), -8);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMA, 0xAA), 32256);
	CHECK_EQ_INT(mg_rec_g711_decode(MG_REC_PT_PCMA, 0x2A), -32256);
	if (!have_sox_ref)
		for (int i = 0; i < 256; i++) {
			ref_ulaw[i] = mg_rec_g711_decode(MG_REC_PT_PCMU, (uint8_t)i);
			ref_alaw[i] = mg_rec_g711_decode(MG_REC_PT_PCMA, (uint8_t)i);
		}
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void test_header(void)
{
	puts("WAV header: canonical 44 bytes, 8 kHz stereo 16-bit PCM; streaming sizes; fix-up");
	uint8_t h[MG_REC_WAV_HEADER_LEN];
	mg_rec_wav_header(h, 32000);
	CHECK(memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVEfmt ", 8) == 0);
	CHECK_EQ_INT(rd32(h + 4), 32036);
	CHECK_EQ_INT(rd32(h + 16), 16);
	CHECK_EQ_INT(rd16(h + 20), 1);
	CHECK_EQ_INT(rd16(h + 22), 2);
	CHECK_EQ_INT(rd32(h + 24), 8000);
	CHECK_EQ_INT(rd32(h + 28), 32000);
	CHECK_EQ_INT(rd16(h + 32), 4);
	CHECK_EQ_INT(rd16(h + 34), 16);
	CHECK(memcmp(h + 36, "data", 4) == 0);
	CHECK_EQ_INT(rd32(h + 40), 32000);
	mg_rec_wav_header(h, UINT32_MAX);
	CHECK_EQ_INT(rd32(h + 4), 0xFFFFFFFFu);
	CHECK_EQ_INT(rd32(h + 40), 0xFFFFFFFFu);
	CHECK_EQ_INT(mg_rec_wav_fix_header(h, sizeof(h), 44 + 6400), 1);
	CHECK_EQ_INT(rd32(h + 4), 36 + 6400);
	CHECK_EQ_INT(rd32(h + 40), 6400);
	uint8_t other[MG_REC_WAV_HEADER_LEN];
	memcpy(other, h, sizeof(other));
	other[22] = 1; /* mono: not our header */
	CHECK_EQ_INT(mg_rec_wav_fix_header(other, sizeof(other), 100), 0);
	CHECK_EQ_INT(mg_rec_wav_fix_header(h, 10, 100), 0);
	CHECK_EQ_INT(mg_rec_wav_fix_header(h, sizeof(h), 20), -1);
	CHECK_EQ_INT(mg_rec_wav_fix_header(h, sizeof(h), 1ull << 33), -1);
}

/* ---- alignment */

struct buf {
	uint8_t *p;
	size_t len, cap;
	int fail_after; /* sink refuses once len would exceed this (0 = never) */
};

static int buf_sink(void *arg, const void *bytes, size_t len)
{
	struct buf *b = arg;
	if (b->fail_after && b->len + len > (size_t)b->fail_after)
		return -42;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, bytes, len);
	b->len += len;
	return 0;
}

#define S0    100000ull /* recording start on the 8 kHz clock */
#define TOTAL 7040	/* samples expected (end rounded up to 20 ms) */

struct pkt {
	struct mg_rec_record r;
	bool expect; /* lands in the output */
	int64_t pos; /* where (samples from the start), when expected */
};

static int16_t expect[2][TOTAL];

static int cmp_arrival(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;
	return x->r.arrival < y->r.arrival ? -1 : x->r.arrival > y->r.arrival;
}

static void test_alignment(void)
{
	puts("alignment: customer (mu-law) and agent (A-law) sample by sample: loss, reorder, "
	     "duplicate, late packet, SSRC change, 32-bit timestamp wrap, sequence wrap, jump");
	static struct pkt pk[200];
	int n = 0;
	/* Customer, leg 0: timestamps wrap 2^32 between packets 4 and 5, sequence numbers
	 * wrap between 5 and 6. First packet arrives 40 samples after the start. */
	uint32_t ts0 = (uint32_t)(0x100000000ull - 5 * 160);
	for (int k = 0; k < 40; k++) {
		if (k == 7 || k == 8)
			continue; /* lost */
		struct pkt *p = &pk[n++];
		memset(p, 0, sizeof(*p));
		p->r = (struct mg_rec_record){.contact = 1,
					      .ssrc = 0x1111,
					      .rtp_ts = ts0 + 160u * k,
					      .seq = (uint16_t)(65530 + k),
					      .pt = MG_REC_PT_PCMU,
					      .leg = 0,
					      .channel = MG_REC_CH_CUSTOMER,
					      .len = 160};
		p->r.arrival = S0 + 40 + 160ull * k + (k ? (uint64_t)(k * 7) % 25 : 0);
		for (int i = 0; i < 160; i++)
			p->r.payload[i] = (uint8_t)(0x01 + (k * 31 + i * 7) % 0x7e);
		p->expect = true;
		p->pos = 40 + 160 * k;
		if (k == 12)
			p->r.arrival += 200; /* after packet 13: reordered, still in time */
		if (k == 20) {
			p->r.arrival = S0 + 40 + 160 * 30 + 1; /* 200 ms late: dropped */
			p->expect = false;
		}
		if (k == 15) { /* duplicate with different bytes: must not be mixed in */
			struct pkt *d = &pk[n++];
			*d = *p;
			d->r.arrival += 3;
			for (int i = 0; i < 160; i++)
				d->r.payload[i] ^= 0x55;
			d->expect = false;
		}
	}
	/* Agent, leg 1: SSRC 0x2222 from 1000 samples in; at packet 20 a new SSRC with an
	 * unrelated timestamp base arrives 77 samples after the old stream's end; from packet
	 * 30 its timestamps jump by 5 s (re-anchored on the arrival clock). */
	for (int j = 0; j < 36; j++) {
		struct pkt *p = &pk[n++];
		memset(p, 0, sizeof(*p));
		bool second = j >= 20;
		p->r = (struct mg_rec_record){.contact = 1,
					      .pt = MG_REC_PT_PCMA,
					      .leg = 1,
					      .channel = MG_REC_CH_AGENT,
					      .len = 160};
		p->r.ssrc = second ? 0x3333 : 0x2222;
		p->r.rtp_ts = second ? 0x80000000u + 160u * (j - 20) : 5000u + 160u * j;
		if (j >= 30)
			p->r.rtp_ts += 40000;
		p->r.seq = (uint16_t)(second ? 7 + j : 100 + j);
		p->pos = second ? 1000 + 160 * 20 + 77 + 160 * (j - 20) : 1000 + 160 * j;
		p->r.arrival =
		    S0 + (uint64_t)p->pos + (uint64_t)((j * 11) % 30) * (j != 0 && j != 20);
		for (int i = 0; i < 160; i++)
			p->r.payload[i] = (uint8_t)(j * 17 + i * 3);
		p->expect = true;
	}
	qsort(pk, (size_t)n, sizeof(pk[0]), cmp_arrival);

	memset(expect, 0, sizeof(expect));
	for (int i = 0; i < n; i++) {
		if (!pk[i].expect)
			continue;
		const struct mg_rec_record *r = &pk[i].r;
		for (int s = 0; s < r->len; s++)
			expect[r->channel][pk[i].pos + s] = r->pt == MG_REC_PT_PCMA
								? ref_alaw[r->payload[s]]
								: ref_ulaw[r->payload[s]];
	}

	struct buf out = {0};
	struct mg_rec_wav *w;
	CHECK(mg_rec_wav_create(&w, NULL, S0, buf_sink, &out) == 0);
	CHECK_EQ_INT(out.len, MG_REC_WAV_HEADER_LEN); /* header written at once */
	for (int i = 0; i < n; i++) {
		int rc = mg_rec_wav_put(w, &pk[i].r);
		CHECK_EQ_INT(rc, pk[i].expect ? 0 : -1);
		/* streaming: output never runs ahead of arrival minus the holdback */
		int64_t emitted = (int64_t)(out.len - MG_REC_WAV_HEADER_LEN) / 4;
		int64_t bound = (int64_t)(pk[i].r.arrival - S0) - 640;
		CHECK(emitted <= (bound > 0 ? bound : 0));
	}
	CHECK(out.len > MG_REC_WAV_HEADER_LEN + 4 * 4000); /* most of it out before finish */
	CHECK_EQ_INT(mg_rec_wav_finish(w, S0 + 7000), 0);
	struct mg_rec_wav_stats st;
	mg_rec_wav_get_stats(w, &st);
	CHECK_EQ_INT(st.duplicates, 1);
	CHECK_EQ_INT(st.late, 1);
	CHECK_EQ_INT(st.anchors, 4); /* customer, agent, new SSRC, timestamp jump */
	CHECK_EQ_INT(st.packets, 73);
	CHECK_EQ_INT(st.samples_out, TOTAL);
	CHECK_EQ_INT(st.bytes_out, MG_REC_WAV_HEADER_LEN + 4 * TOTAL);
	CHECK_EQ_INT(out.len, MG_REC_WAV_HEADER_LEN + 4 * TOTAL);
	CHECK_EQ_INT(rd32(out.p + 40), 0xFFFFFFFFu);
	int mismatches = 0, first = -1;
	for (int s = 0; s < TOTAL && out.len >= MG_REC_WAV_HEADER_LEN + 4 * TOTAL; s++)
		for (int ch = 0; ch < 2; ch++) {
			int16_t v = (int16_t)rd16(out.p + MG_REC_WAV_HEADER_LEN + 4 * s + 2 * ch);
			if (v != expect[ch][s]) {
				if (first < 0) {
					first = s;
					fprintf(stderr,
						"  first mismatch at sample %d ch %d: %d != %d\n",
						s, ch, v, expect[ch][s]);
				}
				mismatches++;
			}
		}
	CHECK_EQ_INT(mismatches, 0);
	/* silence where packets were lost and where the late packet belonged */
	CHECK(expect[0][40 + 160 * 7] == 0 && expect[0][40 + 160 * 20 + 5] == 0);
	CHECK(mg_rec_wav_put(w, &pk[0].r) == -1); /* finished */
	mg_rec_wav_free(w);
	free(out.p);
}

static void test_mix_and_edges(void)
{
	puts("two legs on one channel are summed with saturation; packets far ahead push the "
	     "output on; bad records refused; sink failure reported");
	struct buf out = {0};
	struct mg_rec_wav *w;
	CHECK(mg_rec_wav_create(&w, NULL, 0, buf_sink, &out) == 0);
	struct mg_rec_record a = {.ssrc = 1,
				  .rtp_ts = 0,
				  .seq = 1,
				  .pt = MG_REC_PT_PCMU,
				  .leg = 0,
				  .channel = MG_REC_CH_CUSTOMER,
				  .len = 160,
				  .arrival = 0};
	struct mg_rec_record b = a;
	b.leg = 2;
	b.ssrc = 2;
	memset(a.payload, 0x80, 160); /* +32124 */
	memset(b.payload, 0x8f, 160); /* positive, large */
	CHECK(mg_rec_wav_put(w, &a) == 0);
	CHECK(mg_rec_wav_put(w, &b) == 0);
	struct mg_rec_record c = a;
	c.leg = 3;
	c.ssrc = 3;
	memset(c.payload, 0xa0, 160);
	c.rtp_ts = 0;
	c.arrival = 160;
	CHECK(mg_rec_wav_put(w, &c) == 0);
	/* bad records */
	struct mg_rec_record bad = a;
	bad.pt = 101;
	CHECK(mg_rec_wav_put(w, &bad) == -1);
	bad = a;
	bad.leg = MG_REC_WAV_SOURCES;
	CHECK(mg_rec_wav_put(w, &bad) == -1);
	bad = a;
	bad.channel = MG_REC_CH_NONE;
	CHECK(mg_rec_wav_put(w, &bad) == -1);
	bad = a;
	bad.len = 0;
	CHECK(mg_rec_wav_put(w, &bad) == -1);
	CHECK(mg_rec_wav_finish(w, 320) == 0);
	struct mg_rec_wav_stats st;
	mg_rec_wav_get_stats(w, &st);
	CHECK_EQ_INT(st.bad, 4);
	CHECK_EQ_INT(out.len, MG_REC_WAV_HEADER_LEN + 4 * 320);
	int16_t s0 = (int16_t)rd16(out.p + MG_REC_WAV_HEADER_LEN);
	int16_t s1 = (int16_t)rd16(out.p + MG_REC_WAV_HEADER_LEN + 2);
	int sum = ref_ulaw[0x80] + ref_ulaw[0x8f];
	CHECK_EQ_INT(s0, sum > 32767 ? 32767 : sum);
	CHECK_EQ_INT(s1, 0);
	int16_t s160 = (int16_t)rd16(out.p + MG_REC_WAV_HEADER_LEN + 4 * 160);
	CHECK_EQ_INT(s160, ref_ulaw[0xa0]); /* leg 3 anchored at its arrival, 160 */
	mg_rec_wav_free(w);
	free(out.p);

	/* a packet 2 s ahead of the cursor (same arrival clock): output pushed on, no crash */
	out = (struct buf){0};
	CHECK(mg_rec_wav_create(&w, NULL, 0, buf_sink, &out) == 0);
	a.arrival = 0;
	a.leg = 0;
	CHECK(mg_rec_wav_put(w, &a) == 0);
	struct mg_rec_record far = a;
	far.rtp_ts = 15000; /* within the 2 s resync bound, beyond the 320 ms ring */
	far.seq = 2;
	CHECK(mg_rec_wav_put(w, &far) == 0);
	CHECK(out.len >= MG_REC_WAV_HEADER_LEN + 4 * (15000 + 160 - 16 * 160));
	CHECK(mg_rec_wav_finish(w, 15160) == 0);
	CHECK_EQ_INT(out.len, MG_REC_WAV_HEADER_LEN + 4 * 15200);
	CHECK_EQ_INT((int16_t)rd16(out.p + MG_REC_WAV_HEADER_LEN + 4 * 15000), ref_ulaw[0x80]);
	mg_rec_wav_free(w);
	free(out.p);

	/* the sink fails after 1000 bytes: reported by advance and finish, no further writes */
	out = (struct buf){.fail_after = 1000};
	CHECK(mg_rec_wav_create(&w, NULL, 0, buf_sink, &out) == 0);
	CHECK_EQ_INT(mg_rec_wav_advance(w, 8000), -42);
	CHECK_EQ_INT(mg_rec_wav_finish(w, 16000), -42);
	CHECK(out.len <= 1000);
	mg_rec_wav_free(w);
	free(out.p);
	/* holdback larger than the ring allows is refused */
	struct mg_rec_wav_config cfg = {.holdback = MG_REC_WAV_RING * 160};
	CHECK(mg_rec_wav_create(&w, &cfg, 0, buf_sink, &out) == -1);
}

int main(void)
{
	test_g711();
	test_header();
	test_alignment();
	test_mix_and_edges();
	return CHECK_DONE();
}
