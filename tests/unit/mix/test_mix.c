/* Conference mixer tests: tones per participant checked with the Goertzel algorithm,
 * exact N-1 mixes recomputed here from the inputs, saturation, joins and leaves, loss,
 * reordering, late and duplicate packets, RFC 4733 passthrough, mute and hold, and the
 * continuity of every output stream (sequence numbers and timestamps). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "mix.h"

#define F     MG_MIX_FRAME_SAMPLES
#define MAXT  1200
#define TE_PT 101

/* ---- a sending participant: a tone, frame n deterministic ---- */
struct sender {
	enum mg_g711_law law;
	uint8_t pt;
	uint32_t ssrc;
	uint16_t seq0;
	uint32_t ts0;
	double freq, amp;
	int square; /* full-scale square wave instead of a sine */
};

static void gen_pcm(const struct sender *s, unsigned n, int16_t *pcm)
{
	for (unsigned i = 0; i < F; i++) {
		double t = (double)(n * F + i) / 8000.0;
		double v = s->square ? (sin(2 * M_PI * s->freq * t) >= 0 ? s->amp : -s->amp)
				     : s->amp * sin(2 * M_PI * s->freq * t);
		pcm[i] = (int16_t)lrint(v);
	}
}

static size_t gen_pkt(const struct sender *s, unsigned n, uint8_t *pkt)
{
	int16_t pcm[F];
	gen_pcm(s, n, pcm);
	uint16_t seq = (uint16_t)(s->seq0 + n);
	uint32_t ts = s->ts0 + n * F, ssrc = s->ssrc;
	pkt[0] = 0x80;
	pkt[1] = s->pt;
	pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16), pkt[6] = (uint8_t)(ts >> 8),
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(ssrc >> 24), pkt[9] = (uint8_t)(ssrc >> 16),
	pkt[10] = (uint8_t)(ssrc >> 8), pkt[11] = (uint8_t)ssrc;
	mg_g711_encode_burst(s->law, pkt + 12, pcm, F);
	return 12 + F;
}

/* what the mixer decodes from frame n of s */
static void decoded(const struct sender *s, unsigned n, int16_t *pcm)
{
	uint8_t pkt[12 + F];
	gen_pkt(s, n, pkt);
	mg_g711_decode_burst(s->law, pcm, pkt + 12, F);
}

/* ---- a receiving participant: checks its stream, keeps decoded audio per tick ---- */
struct rx {
	enum mg_g711_law law;
	uint8_t pt, te_pt;
	uint32_t ssrc;
	int have;
	uint16_t seq;
	uint32_t ts;
	unsigned frames, events, marker_count, bad_hdr, seq_gaps, ts_gaps;
	int16_t pcm[MAXT][F];
	uint8_t raw[MAXT][F];
	unsigned tick_of[MAXT];
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rx_packet(struct rx *r, const struct mg_mix_pkt *o, unsigned tick)
{
	const uint8_t *d = o->data;
	uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
	uint32_t ts = be32(d + 4);
	if (d[0] != 0x80 || be32(d + 8) != r->ssrc)
		r->bad_hdr++;
	if (r->have && seq != (uint16_t)(r->seq + 1))
		r->seq_gaps++;
	r->seq = seq;
	if (o->is_event) {
		if ((d[1] & 0x7F) != r->te_pt || !r->have)
			r->bad_hdr++;
		r->events++;
		return;
	}
	if ((d[1] & 0x7F) != r->pt || o->len != 12 + F)
		r->bad_hdr++;
	if (d[1] & 0x80)
		r->marker_count++;
	if (r->have && ts != r->ts + F)
		r->ts_gaps++;
	r->have = 1;
	r->ts = ts;
	if (r->frames < MAXT) {
		memcpy(r->raw[r->frames], d + 12, F);
		mg_g711_decode_burst(r->law, r->pcm[r->frames], d + 12, F);
		r->tick_of[r->frames] = tick;
		r->frames++;
	}
}

static double goertzel(const int16_t *x, size_t n, double f)
{
	double w = 2 * M_PI * f / 8000.0, c = 2 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

/* power (dB re full-scale sine-ish) of f in r's frames [a, b) */
static double tone_db(const struct rx *r, unsigned a, unsigned b, double f)
{
	if (b > r->frames)
		b = r->frames;
	if (b <= a)
		return -999;
	double p = goertzel(&r->pcm[a][0], (size_t)(b - a) * F, f);
	return 10 * log10(p + 1e-9);
}

/* ---- a conference driver ---- */
static struct mg_mix *m;
static struct sender snd[MG_MIX_MAX_PARTICIPANTS];
static struct rx *rxs[MG_MIX_MAX_PARTICIPANTS];
static unsigned tick_no;

static int join(enum mg_g711_law law, double freq, int16_t te_pt, uint32_t out_ssrc)
{
	struct mg_mix_participant_cfg c = {.law = law,
					   .pt = law == MG_G711_ALAW ? 8 : 0,
					   .te_pt = te_pt,
					   .out_ssrc = out_ssrc,
					   .out_seq = (uint16_t)(out_ssrc * 7),
					   .out_ts = out_ssrc * 13};
	int id = mg_mix_join(m, &c);
	if (id < 0)
		return id;
	snd[id] = (struct sender){.law = law,
				  .pt = c.pt,
				  .ssrc = 0x1000 + out_ssrc,
				  .seq0 = (uint16_t)(40000 + 1000 * id),
				  .ts0 = 0xFFFFF000u + 77 * id,
				  .freq = freq,
				  .amp = 6000};
	if (!rxs[id])
		rxs[id] = calloc(1, sizeof(struct rx));
	memset(rxs[id], 0, sizeof(struct rx));
	rxs[id]->law = law;
	rxs[id]->pt = c.pt;
	rxs[id]->te_pt = (uint8_t)te_pt;
	rxs[id]->ssrc = out_ssrc;
	return id;
}

static void drain_events(void)
{
	const struct mg_mix_pkt *ev;
	unsigned n = mg_mix_events(m, &ev);
	for (unsigned i = 0; i < n; i++)
		rx_packet(rxs[ev[i].to], &ev[i], tick_no);
	mg_mix_events_clear(m);
}

static void do_tick(void)
{
	const struct mg_mix_pkt *out;
	drain_events();
	unsigned n = mg_mix_tick(m, 0, &out);
	for (unsigned i = 0; i < n; i++)
		rx_packet(rxs[out[i].to], &out[i], tick_no);
	tick_no++;
}

static void push_frame(int id, unsigned n)
{
	uint8_t pkt[12 + F];
	size_t len = gen_pkt(&snd[id], n, pkt);
	mg_mix_push(m, (unsigned)id, pkt, len);
}

static void reset(void)
{
	if (m)
		mg_mix_destroy(m);
	m = mg_mix_create();
	tick_no = 0;
}

static int stream_ok(const struct rx *r)
{
	return r->bad_hdr == 0 && r->seq_gaps == 0 && r->ts_gaps == 0 && r->marker_count == 1;
}

/* expected output bytes for listener `me` at a tick where every other sender's frame n_j is
 * played (jframe[j] < 0: not heard) */
static void expect_mix(int me, const int *jframe, int nparts, uint8_t *out)
{
	int32_t sum[F] = {0};
	int16_t pcm[F];
	int any = 0;
	for (int j = 0; j < nparts; j++) {
		if (j == me || jframe[j] < 0)
			continue;
		decoded(&snd[j], (unsigned)jframe[j], pcm);
		for (int i = 0; i < F; i++)
			sum[i] += pcm[i];
		any = 1;
	}
	for (int i = 0; i < F; i++) {
		int32_t v = sum[i] > 32767 ? 32767 : sum[i] < -32768 ? -32768 : sum[i];
		out[i] =
		    any ? mg_g711_encode(rxs[me]->law, (int16_t)v) : mg_g711_silence(rxs[me]->law);
	}
}

/* ---- tests ---- */

static void test_tones(void)
{
	printf("-- three tones, N-1 --\n");
	reset();
	double fr[3] = {400, 700, 1100};
	int id[3];
	id[0] = join(MG_G711_ULAW, fr[0], TE_PT, 11);
	id[1] = join(MG_G711_ALAW, fr[1], TE_PT, 12);
	id[2] = join(MG_G711_ULAW, fr[2], TE_PT, 13);
	CHECK(id[0] == 0 && id[1] == 1 && id[2] == 2);
	for (unsigned n = 0; n < 100; n++) {
		for (int j = 0; j < 3; j++)
			push_frame(id[j], n);
		do_tick();
	}
	int exact_bad = 0;
	for (int j = 0; j < 3; j++) {
		struct rx *r = rxs[id[j]];
		CHECK_EQ_INT(r->frames, 100);
		CHECK(stream_ok(r));
		for (int k = 0; k < 3; k++) {
			double db = tone_db(r, 10, 100, fr[k]);
			printf("participant %d (%.0f Hz) hears %4.0f Hz at %6.1f dB\n", j, fr[j],
			       fr[k], db);
			if (k == j) /* G.711 quantisation noise only: ~50 dB below the others */
				CHECK(db < 35);
			else
				CHECK(db > 60);
		}
		/* default depth 2 (prefill 1): frame n plays at tick n + 1; bytes exact */
		for (unsigned t = 1; t < 100; t++) {
			int jf[3] = {(int)t - 1, (int)t - 1, (int)t - 1};
			uint8_t want[F];
			expect_mix(j, jf, 3, want);
			exact_bad += memcmp(want, r->raw[t], F) != 0;
		}
		/* tick 0 is prefill: silence */
		int sil = 1;
		for (int i = 0; i < F; i++)
			sil &= r->raw[0][i] == mg_g711_silence(r->law);
		CHECK(sil);
		const struct mg_mix_pstats *ps = mg_mix_pstats(m, (unsigned)id[j]);
		CHECK_EQ_INT(ps->played, 99);
		CHECK_EQ_INT(ps->lost, 0);
		CHECK_EQ_INT(ps->concealed, 0);
		CHECK_EQ_INT(ps->late, 0);
		CHECK_EQ_INT(ps->frames_out, 100);
		CHECK_EQ_INT(ps->jb_target, 2);
	}
	printf("exact N-1 mix (sum of the others, saturated, re-encoded): %d frames differ\n",
	       exact_bad);
	CHECK_EQ_INT(exact_bad, 0);
	CHECK_EQ_INT(mg_mix_stats(m)->ticks, 100);
	CHECK_EQ_INT(mg_mix_stats(m)->tick_overruns, 0);
	CHECK_EQ_INT(mg_mix_stats(m)->participants, 3);
}

static void test_saturation(void)
{
	printf("-- saturation --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 21), b = join(MG_G711_ULAW, 400, -1, 22),
	    c = join(MG_G711_ALAW, 0, -1, 23);
	snd[a].square = snd[b].square = 1;
	snd[a].amp = snd[b].amp = 32767; /* full scale, same phase: sum 2 x 32124 */
	for (unsigned n = 0; n < 20; n++) {
		push_frame(a, n);
		push_frame(b, n);
		/* c sends nothing */
		do_tick();
	}
	struct rx *r = rxs[c];
	int clipped_pos = 0, clipped_neg = 0, wrong_sign = 0;
	int16_t in[F];
	for (unsigned t = 1; t < 20; t++) {
		gen_pcm(&snd[a], t - 1, in);
		for (int i = 0; i < F; i++) {
			int16_t o = r->pcm[t][i];
			if (in[i] > 0) {
				clipped_pos +=
				    o == mg_g711_alaw_decode(0xAA); /* +32256, A-law max */
				wrong_sign += o <= 0;
			} else {
				clipped_neg += o == mg_g711_alaw_decode(0x2A);
				wrong_sign += o >= 0;
			}
		}
	}
	printf("two full-scale inputs: %d samples at +max, %d at -max, %d wrapped\n", clipped_pos,
	       clipped_neg, wrong_sign);
	CHECK_EQ_INT(clipped_pos + clipped_neg, 19 * F);
	CHECK_EQ_INT(wrong_sign, 0);
	CHECK(clipped_pos > 0 && clipped_neg > 0);
	/* a and b hear each other unclipped: mu-law in, mu-law out, bytes identical */
	uint8_t pkt[12 + F];
	gen_pkt(&snd[b], 5, pkt);
	CHECK(memcmp(rxs[a]->raw[6], pkt + 12, F) == 0);
}

static void test_join_leave(void)
{
	printf("-- join and leave mid-call --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 31), b = join(MG_G711_ULAW, 700, -1, 32), c = -1;
	unsigned nb = 0, nc = 0;
	for (unsigned t = 0; t < 150; t++) {
		push_frame(a, t);
		if (t < 100)
			push_frame(b, nb++);
		if (t == 100)
			CHECK_EQ_INT(mg_mix_leave(m, (unsigned)b), 0);
		if (t == 50) {
			c = join(MG_G711_ALAW, 1100, -1, 33);
			CHECK_EQ_INT(c, 2);
		}
		if (c >= 0)
			push_frame(c, nc++);
		do_tick();
	}
	struct rx *r = rxs[a];
	CHECK(stream_ok(r));
	CHECK_EQ_INT(r->frames, 150);
	double b1 = tone_db(r, 5, 50, 700), c1 = tone_db(r, 5, 50, 1100);
	double b2 = tone_db(r, 55, 100, 700), c2 = tone_db(r, 55, 100, 1100);
	double b3 = tone_db(r, 105, 150, 700), c3 = tone_db(r, 105, 150, 1100);
	printf("A hears 700/1100 Hz: before join %.0f/%.0f dB, three %.0f/%.0f dB, after leave "
	       "%.0f/%.0f dB\n",
	       b1, c1, b2, c2, b3, c3);
	CHECK(b1 > 60 && c1 < 35);
	CHECK(b2 > 60 && c2 > 60);
	CHECK(b3 < 35 && c3 > 60);
	CHECK(stream_ok(rxs[c]));
	CHECK_EQ_INT(rxs[c]->frames, 100);
	CHECK_EQ_INT(rxs[c]->tick_of[0], 50);
	CHECK(mg_mix_pstats(m, (unsigned)b) == NULL);
	CHECK_EQ_INT(mg_mix_stats(m)->participants, 2);
	/* out state continues the stream */
	uint32_t ssrc, ts;
	uint16_t seq;
	CHECK_EQ_INT(mg_mix_out_state(m, (unsigned)a, &ssrc, &seq, &ts), 0);
	CHECK_EQ_INT(ssrc, 31);
	CHECK_EQ_INT(seq, (uint16_t)(r->seq + 1));
	CHECK_EQ_INT(ts, r->ts + F);
	CHECK_EQ_INT(mg_mix_out_state(m, (unsigned)b, &ssrc, &seq, &ts), -1);
	/* the freed slot is reused, its counters start at zero */
	int d = join(MG_G711_ULAW, 300, -1, 34);
	CHECK_EQ_INT(d, b);
	CHECK_EQ_INT(mg_mix_pstats(m, (unsigned)d)->packets, 0);
}

static void test_loss_reorder(void)
{
	printf("-- loss and reordering on one input --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 41), b = join(MG_G711_ULAW, 700, -1, 42);
	/* b: frame 10 lost; frames 20/21 swapped; frames 30..34 lost (burst) */
	for (unsigned t = 0; t < 60; t++) {
		push_frame(a, t);
		if (t == 10 || (t >= 30 && t <= 34)) {
		} else if (t == 20) {
			push_frame(b, 21);
		} else if (t == 21) {
			push_frame(b, 20);
		} else {
			push_frame(b, t);
		}
		do_tick();
	}
	const struct mg_mix_pstats *ps = mg_mix_pstats(m, (unsigned)b);
	printf("b: played %llu lost %llu concealed %llu late %llu dup %llu\n",
	       (unsigned long long)ps->played, (unsigned long long)ps->lost,
	       (unsigned long long)ps->concealed, (unsigned long long)ps->late,
	       (unsigned long long)ps->duplicates);
	CHECK_EQ_INT(ps->lost, 6);
	CHECK_EQ_INT(ps->concealed, 6);
	CHECK_EQ_INT(ps->late, 0);
	CHECK_EQ_INT(ps->played, 59 - 6);
	struct rx *r = rxs[a];
	CHECK(stream_ok(r));
	/* frame n plays at tick n+1: reordered frames 20, 21 play in order */
	uint8_t pkt[12 + F];
	int order_ok = 1;
	for (unsigned n = 18; n < 24; n++) {
		gen_pkt(&snd[b], n, pkt);
		order_ok &= memcmp(r->raw[n + 1], pkt + 12, F) == 0;
	}
	CHECK(order_ok);
	/* frame 10 concealed at tick 11: 3/4 of frame 9 */
	int16_t prev[F];
	uint8_t want[F];
	decoded(&snd[b], 9, prev);
	for (int i = 0; i < F; i++)
		want[i] = mg_g711_ulaw_encode((int16_t)(prev[i] * 3 / 4));
	CHECK(memcmp(r->raw[11], want, F) == 0);
	/* burst 30..34 at ticks 31..35: 3/4, 2/4, 1/4 of frame 29, then silence */
	decoded(&snd[b], 29, prev);
	for (int k = 1; k <= 5; k++) {
		for (int i = 0; i < F; i++)
			want[i] =
			    k <= 3 ? mg_g711_ulaw_encode((int16_t)(prev[i] * (4 - k) / 4)) : 0xFF;
		CHECK(memcmp(r->raw[30 + k], want, F) == 0);
	}
	gen_pkt(&snd[b], 35, pkt);
	CHECK(memcmp(r->raw[36], pkt + 12, F) == 0);
}

static void test_late_dup(void)
{
	printf("-- late and duplicate packets, depth adaptation --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 51), b = join(MG_G711_ULAW, 700, -1, 52);
	enum mg_mix_push_status st_late = MG_MIX_PUSH_QUEUED, st_dup = MG_MIX_PUSH_QUEUED,
				st_dup_old = MG_MIX_PUSH_QUEUED;
	for (unsigned t = 0; t < 30; t++) {
		push_frame(a, t);
		if (t != 10)
			push_frame(b, t);
		if (t == 12) { /* frame 10 arrives two ticks late: it played (concealed) at 11 */
			uint8_t pkt[12 + F];
			gen_pkt(&snd[b], 10, pkt);
			st_late = mg_mix_push(m, (unsigned)b, pkt, sizeof(pkt));
		}
		if (t == 15) {
			uint8_t pkt[12 + F];
			gen_pkt(&snd[b], 15, pkt);
			st_dup = mg_mix_push(m, (unsigned)b, pkt, sizeof(pkt)); /* still buffered */
			gen_pkt(&snd[b], 13, pkt);
			st_dup_old =
			    mg_mix_push(m, (unsigned)b, pkt, sizeof(pkt)); /* already played */
		}
		do_tick();
	}
	const struct mg_mix_pstats *ps = mg_mix_pstats(m, (unsigned)b);
	printf("late: %s, duplicate buffered: %s, duplicate played: %s; late %llu dup %llu "
	       "target %llu grown %llu\n",
	       mg_mix_push_status_name(st_late), mg_mix_push_status_name(st_dup),
	       mg_mix_push_status_name(st_dup_old), (unsigned long long)ps->late,
	       (unsigned long long)ps->duplicates, (unsigned long long)ps->jb_target,
	       (unsigned long long)ps->grown);
	CHECK_EQ_INT(st_late, MG_MIX_PUSH_LATE);
	CHECK_EQ_INT(st_dup, MG_MIX_PUSH_DUPLICATE);
	CHECK_EQ_INT(st_dup_old, MG_MIX_PUSH_DUPLICATE);
	CHECK_EQ_INT(ps->late, 1);
	CHECK_EQ_INT(ps->lost, 1);
	CHECK_EQ_INT(ps->duplicates, 2);
	CHECK_EQ_INT(ps->jb_target, 3);
	CHECK_EQ_INT(ps->grown, 1);
	CHECK(stream_ok(rxs[a]));
	/* after the growth frame (tick 13), frame n plays at tick n + 2 */
	uint8_t pkt[12 + F];
	gen_pkt(&snd[b], 20, pkt);
	CHECK(memcmp(rxs[a]->raw[22], pkt + 12, F) == 0);
	/* a quiet adaptation window brings the target back to the minimum, one frame dropped */
	for (unsigned t = 30; t < 600; t++) {
		push_frame(a, t);
		push_frame(b, t);
		do_tick();
	}
	printf("after 570 quiet ticks: target %llu, shrunk %llu, depth %llu\n",
	       (unsigned long long)ps->jb_target, (unsigned long long)ps->shrunk,
	       (unsigned long long)ps->jb_depth);
	CHECK_EQ_INT(ps->jb_target, 2);
	CHECK_EQ_INT(ps->shrunk, 1);
	CHECK_EQ_INT(ps->jb_depth, 2);
	gen_pkt(&snd[b], 590, pkt);
	CHECK(memcmp(rxs[a]->raw[591], pkt + 12, F) == 0);
	CHECK(stream_ok(rxs[a]));
	CHECK_EQ_INT(ps->late, 1);
	/* a far-ahead burst (sender clock jump within the window) overruns the buffer */
	uint8_t p2[12 + F];
	gen_pkt(&snd[b], 600 + 30, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_OVERRUN);
	CHECK_EQ_INT(ps->overruns, 1);
}

static size_t ev_pkt(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc, int marker,
		     uint8_t event, int end, uint16_t dur)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | TE_PT);
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8),
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
	p[11] = (uint8_t)ssrc;
	p[12] = event;
	p[13] = (uint8_t)((end ? 0x80 : 0) | 10); /* volume -10 dBm0 */
	p[14] = (uint8_t)(dur >> 8), p[15] = (uint8_t)dur;
	return 16;
}

static void test_dtmf(void)
{
	printf("-- RFC 4733 telephone-event passthrough --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, TE_PT, 61);
	/* b negotiated another telephone-event payload type, c none, d is on hold */
	struct mg_mix_participant_cfg cb = {.law = MG_G711_ALAW,
					    .pt = 8,
					    .te_pt = 96,
					    .out_ssrc = 62,
					    .out_seq = 65530,
					    .out_ts = 5};
	int b = mg_mix_join(m, &cb);
	snd[b] =
	    (struct sender){.law = MG_G711_ALAW, .pt = 8, .ssrc = 0x2062, .freq = 700, .amp = 6000};
	rxs[b] = rxs[b] ? rxs[b] : calloc(1, sizeof(struct rx));
	memset(rxs[b], 0, sizeof(struct rx));
	*rxs[b] = (struct rx){.law = MG_G711_ALAW, .pt = 8, .te_pt = 96, .ssrc = 62};
	int c = join(MG_G711_ULAW, 1100, -1, 63);
	int d = join(MG_G711_ULAW, 1300, TE_PT, 64);
	mg_mix_set_hold(m, (unsigned)d, 1);
	uint8_t p[16];
	uint16_t es = 50000;
	uint32_t ets = 0xFFFFF000u + 10 * F; /* the event starts at a's frame 10 */
	unsigned b_events_ts_bad = 0, n_ev_total = 0;
	uint32_t b_ev_ts = 0;
	int first_ev = 1;
	for (unsigned t = 0; t < 40; t++) {
		push_frame(a, t);
		push_frame(b, t);
		push_frame(c, t);
		push_frame(d, t);
		if (t >= 10 && t < 16) { /* digit 5 for 6 packets, the last three are "end" */
			int end = t >= 13;
			size_t len = ev_pkt(p, es, ets, snd[a].ssrc, t == 10, 5, end,
					    (uint16_t)((t - 10 + 1) * F));
			/* give a's audio and event packets a common sequence space */
			enum mg_mix_push_status s = mg_mix_push(m, (unsigned)a, p, len);
			CHECK_EQ_INT(s, MG_MIX_PUSH_EVENT);
			if (t == 12) /* a duplicate of the same packet is dropped */
				CHECK_EQ_INT(mg_mix_push(m, (unsigned)a, p, len),
					     MG_MIX_PUSH_DUPLICATE);
			es++;
			const struct mg_mix_pkt *ev;
			unsigned n = mg_mix_events(m, &ev);
			n_ev_total += n;
			CHECK_EQ_INT(n, 1); /* only b: c has no telephone-event, d on hold */
			if (n == 1) {
				CHECK_EQ_INT(ev[0].to, b);
				CHECK_EQ_INT(ev[0].is_event, 1);
				CHECK_EQ_INT(ev[0].len, 16);
				CHECK_EQ_INT(ev[0].data[1] & 0x7F, 96);
				CHECK_EQ_INT(ev[0].data[1] >> 7, t == 10);
				CHECK(memcmp(ev[0].data + 12, p + 12, 4) == 0);
				uint32_t ts = be32(ev[0].data + 4);
				if (first_ev)
					b_ev_ts = ts, first_ev = 0;
				b_events_ts_bad += ts != b_ev_ts;
			}
		}
		do_tick();
	}
	printf("events forwarded %u; b's stream: %u audio + %u events, seq gaps %u\n", n_ev_total,
	       rxs[b]->frames, rxs[b]->events, rxs[b]->seq_gaps);
	CHECK_EQ_INT(n_ev_total, 6);
	CHECK_EQ_INT(rxs[b]->events, 6);
	CHECK_EQ_INT(rxs[c]->events, 0);
	CHECK_EQ_INT(rxs[d]->events, 0);
	CHECK_EQ_INT(rxs[a]->events, 0);
	CHECK_EQ_INT(b_events_ts_bad, 0);
	/* the event's timestamp is b's audio timestamp when the event started (tick 10) */
	CHECK_EQ_INT(b_ev_ts, (uint32_t)(5 + 10 * F));
	CHECK(stream_ok(rxs[b])); /* seq continuous through events and the 16-bit wrap */
	CHECK(stream_ok(rxs[a]) && stream_ok(rxs[c]));
	const struct mg_mix_pstats *pa = mg_mix_pstats(m, (unsigned)a);
	CHECK_EQ_INT(pa->events_in, 7);
	CHECK_EQ_INT(pa->duplicates, 1);
	CHECK_EQ_INT(pa->packets, 40); /* events never entered the jitter buffer */
	CHECK_EQ_INT(mg_mix_pstats(m, (unsigned)b)->events_out, 6);
	/* not mixed: b hears a's tone only, bytes exact around the event */
	CHECK(tone_db(rxs[b], 5, 40, 400) > 60);
	/* events from a participant on hold are not forwarded */
	ev_pkt(p, es++, ets + 8000, snd[d].ssrc, 1, 1, 0, 160);
	p[1] = (uint8_t)(0x80 | TE_PT);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)d, p, 16), MG_MIX_PUSH_IGNORED);
	CHECK_EQ_INT(mg_mix_events(m, NULL), 0);
	/* events still queued for a participant who leaves are discarded */
	ev_pkt(p, es++, ets + 16000, snd[a].ssrc, 1, 2, 0, 160);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)a, p, 16), MG_MIX_PUSH_EVENT);
	CHECK_EQ_INT(mg_mix_events(m, NULL), 1);
	mg_mix_leave(m, (unsigned)b);
	CHECK_EQ_INT(mg_mix_events(m, NULL), 0);
}

static void test_mute_hold(void)
{
	printf("-- mute and hold --\n");
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 71), b = join(MG_G711_ALAW, 700, -1, 72),
	    c = join(MG_G711_ULAW, 1100, -1, 73);
	for (unsigned t = 0; t < 200; t++) {
		if (t == 50)
			mg_mix_set_muted(m, (unsigned)a, 1);
		if (t == 100) {
			mg_mix_set_muted(m, (unsigned)a, 0);
			mg_mix_set_hold(m, (unsigned)b, 1);
		}
		if (t == 150)
			mg_mix_set_hold(m, (unsigned)b, 0);
		push_frame(a, t);
		push_frame(b, t);
		push_frame(c, t);
		do_tick();
	}
	/* windows clear of the switching ticks */
	struct {
		int who;
		unsigned from, to;
		double f;
		int heard;
	} exp[] = {
	    {b, 5, 50, 400, 1},	    {c, 5, 50, 400, 1},	   /* normal */
	    {b, 52, 100, 400, 0},   {c, 52, 100, 400, 0},  /* a muted: not heard */
	    {a, 52, 100, 700, 1},   {a, 52, 100, 1100, 1}, /* ... but a still hears */
	    {a, 102, 150, 700, 0},  {c, 102, 150, 700, 0}, /* b on hold: not heard */
	    {a, 102, 150, 1100, 1}, {c, 102, 150, 400, 1},
	    {b, 152, 200, 400, 1},  {a, 152, 200, 700, 1}, /* back */
	};
	for (unsigned k = 0; k < sizeof(exp) / sizeof(exp[0]); k++) {
		double db = tone_db(rxs[exp[k].who], exp[k].from, exp[k].to, exp[k].f);
		printf("participant %d, ticks %u-%u, %.0f Hz: %.1f dB (%s)\n", exp[k].who,
		       exp[k].from, exp[k].to, exp[k].f, db, exp[k].heard ? "heard" : "not heard");
		CHECK(exp[k].heard ? db > 60 : db < 35);
	}
	/* b hears digital silence while on hold, and its stream continues */
	int sil = 1;
	for (unsigned t = 101; t < 150; t++)
		for (int i = 0; i < F; i++)
			sil &= rxs[b]->raw[t][i] == 0xD5;
	CHECK(sil);
	for (int j = 0; j < 3; j++)
		CHECK(stream_ok(rxs[j]));
	CHECK_EQ_INT(mg_mix_set_hold(m, 7, 1), -1);
	CHECK_EQ_INT(mg_mix_set_muted(m, 7, 1), -1);
}

static void test_misc(void)
{
	printf("-- bad input, limits, resync, counters --\n");
	reset();
	struct mg_mix_participant_cfg bad = {.law = 5, .te_pt = -1};
	CHECK_EQ_INT(mg_mix_join(m, &bad), -2);
	bad = (struct mg_mix_participant_cfg){.law = MG_G711_ULAW, .pt = 0, .te_pt = 0};
	CHECK_EQ_INT(mg_mix_join(m, &bad), -2); /* te_pt == pt */
	bad.te_pt = -1, bad.jb_min = 5, bad.jb_max = 3;
	CHECK_EQ_INT(mg_mix_join(m, &bad), -2);
	bad.jb_min = 1, bad.jb_max = MG_MIX_JB_MAX_DEPTH + 1;
	CHECK_EQ_INT(mg_mix_join(m, &bad), -2);
	for (int i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++)
		CHECK_EQ_INT(join(MG_G711_ULAW, 300 + 100 * i, -1, 80 + i), i);
	CHECK_EQ_INT(join(MG_G711_ULAW, 200, -1, 99), -1);
	uint8_t pkt[12 + F + 8];
	gen_pkt(&snd[0], 0, pkt);
	CHECK_EQ_INT(mg_mix_push(m, 0, pkt, 11), MG_MIX_PUSH_MALFORMED);
	CHECK_EQ_INT(mg_mix_push(m, 0, pkt, 12 + 80), MG_MIX_PUSH_MALFORMED); /* 10 ms */
	CHECK_EQ_INT(mg_mix_push(m, 0, NULL, 0), MG_MIX_PUSH_MALFORMED);
	CHECK_EQ_INT(mg_mix_push(m, 9, pkt, 12 + F), MG_MIX_PUSH_BAD_ID);
	pkt[1] = 13; /* comfort noise */
	CHECK_EQ_INT(mg_mix_push(m, 0, pkt, 12 + F), MG_MIX_PUSH_IGNORED);
	pkt[0] = 0x40;
	CHECK_EQ_INT(mg_mix_push(m, 0, pkt, 12 + F), MG_MIX_PUSH_MALFORMED);
	const struct mg_mix_pstats *ps = mg_mix_pstats(m, 0);
	CHECK_EQ_INT(ps->malformed, 4);
	CHECK_EQ_INT(ps->ignored, 1);
	/* with a CSRC and padding: parsed by lib/rtp, payload found */
	gen_pkt(&snd[0], 0, pkt);
	memmove(pkt + 16, pkt + 12, F);
	pkt[0] = 0x80 | 0x20 | 1; /* padding, CC = 1 */
	memset(pkt + 12, 0xAB, 4);
	memset(pkt + 16 + F, 0, 3);
	pkt[16 + F + 3] = 4;
	CHECK_EQ_INT(mg_mix_push(m, 0, pkt, 16 + F + 4), MG_MIX_PUSH_QUEUED);

	mg_mix_prefetch(m); /* no effect on state */
	/* late ticks are counted */
	mg_mix_tick(m, 1, NULL);
	mg_mix_tick(m, 0, NULL);
	CHECK_EQ_INT(mg_mix_stats(m)->tick_overruns, 1);
	CHECK_EQ_INT(mg_mix_stats(m)->ticks, 2);

	/* a new SSRC restarts playout at once; a far timestamp jump with the next sequence
	 * number too; stray far packets are discarded until three in a row */
	reset();
	int a = join(MG_G711_ULAW, 400, -1, 91), b = join(MG_G711_ULAW, 700, -1, 92);
	for (unsigned t = 0; t < 10; t++) {
		push_frame(a, t);
		push_frame(b, t);
		do_tick();
	}
	snd[b].ssrc ^= 1;
	uint8_t p2[12 + F];
	gen_pkt(&snd[b], 10, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_RESYNC);
	do_tick();
	gen_pkt(&snd[b], 11, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_QUEUED);
	do_tick();
	snd[b].ts0 += 8000 * 60; /* one minute ahead, continuing sequence: resync */
	gen_pkt(&snd[b], 12, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_RESYNC);
	do_tick();
	snd[b].ts0 -= 8000 * 120; /* stray: not the next sequence number */
	gen_pkt(&snd[b], 20, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_DISCARDED);
	gen_pkt(&snd[b], 22, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_DISCARDED);
	gen_pkt(&snd[b], 24, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_RESYNC);
	ps = mg_mix_pstats(m, (unsigned)b);
	CHECK_EQ_INT(ps->resyncs, 3);
	CHECK_EQ_INT(ps->discarded, 2);
	/* a silent participant goes idle after a second: no more loss counted, resumes */
	for (unsigned t = 0; t < 120; t++) {
		push_frame(a, 30 + t);
		do_tick();
	}
	uint64_t lost = ps->lost;
	printf("b silent 120 ticks: lost %llu (counted until idle), depth %llu\n",
	       (unsigned long long)lost, (unsigned long long)ps->jb_depth);
	CHECK(lost >= 45 && lost <= 55);
	for (unsigned t = 0; t < 10; t++)
		do_tick();
	CHECK_EQ_INT(ps->lost, lost);
	gen_pkt(&snd[b], 200, p2);
	CHECK_EQ_INT(mg_mix_push(m, (unsigned)b, p2, sizeof(p2)), MG_MIX_PUSH_RESYNC);
	CHECK_EQ_INT(ps->resyncs, 4);
	CHECK(stream_ok(rxs[a]) && stream_ok(rxs[b]));

	/* init on caller memory */
	static uint8_t mem[1 << 20] __attribute__((aligned(64)));
	CHECK(mg_mix_footprint() <= sizeof(mem));
	CHECK(mg_mix_init(mem + 8, sizeof(mem) - 8) == NULL);
	CHECK(mg_mix_init(mem, 100) == NULL);
	struct mg_mix *mm = mg_mix_init(mem, sizeof(mem));
	CHECK(mm != NULL);
	CHECK_EQ_INT(mg_mix_tick(mm, 0, NULL), 0);
	printf("conference footprint: %zu bytes\n", mg_mix_footprint());
}

int main(void)
{
	test_tones();
	test_saturation();
	test_join_leave();
	test_loss_reorder();
	test_late_dup();
	test_dtmf();
	test_mute_hold();
	test_misc();
	mg_mix_destroy(m);
	for (int i = 0; i < MG_MIX_MAX_PARTICIPANTS; i++)
		free(rxs[i]);
	return CHECK_DONE();
}
