/* Stereo WAV aligner: places each leg's G.711 frames by RTP timestamp, emits 8 kHz 16-bit
 * PCM stereo in 20 ms frames (docs/recording.md). */
#include <stdlib.h>
#include <string.h>

#include "g711.h"
#include "rec.h"

/* ---- G.711 expansion: lib/g711's decode tables (G.191, identical to the tables this file
 * used to carry for all 256 codes of both laws). */

int16_t mg_rec_g711_decode(uint8_t pt, uint8_t byte)
{
	return pt == MG_REC_PT_PCMA ? mg_g711_alaw_decode(byte) : mg_g711_ulaw_decode(byte);
}

/* ---- WAV header */

void mg_rec_wav_header(uint8_t h[MG_REC_WAV_HEADER_LEN], uint32_t data_bytes)
{
	uint32_t riff = data_bytes == UINT32_MAX ? UINT32_MAX : data_bytes + 36;
	/* little-endian fields */
#define LE32(p, v)                                                                                 \
	do {                                                                                       \
		(p)[0] = (uint8_t)(v);                                                             \
		(p)[1] = (uint8_t)((v) >> 8);                                                      \
		(p)[2] = (uint8_t)((v) >> 16);                                                     \
		(p)[3] = (uint8_t)((v) >> 24);                                                     \
	} while (0)
#define LE16(p, v)                                                                                 \
	do {                                                                                       \
		(p)[0] = (uint8_t)(v);                                                             \
		(p)[1] = (uint8_t)((v) >> 8);                                                      \
	} while (0)
	memcpy(h, "RIFF", 4);
	LE32(h + 4, riff);
	memcpy(h + 8, "WAVEfmt ", 8);
	LE32(h + 16, 16u);	 /* fmt chunk size */
	LE16(h + 20, 1u);	 /* WAVE_FORMAT_PCM */
	LE16(h + 22, 2u);	 /* channels: 0 = customer side, 1 = agent */
	LE32(h + 24, 8000u);	 /* sample rate */
	LE32(h + 28, 8000u * 4); /* byte rate */
	LE16(h + 32, 4u);	 /* block align */
	LE16(h + 34, 16u);	 /* bits per sample */
	memcpy(h + 36, "data", 4);
	LE32(h + 40, data_bytes);
}

int mg_rec_wav_fix_header(uint8_t *buf, size_t len, uint64_t total)
{
	uint8_t ref[MG_REC_WAV_HEADER_LEN];
	mg_rec_wav_header(ref, UINT32_MAX);
	if (!buf || len < MG_REC_WAV_HEADER_LEN || memcmp(buf, ref, 4) != 0 ||
	    memcmp(buf + 8, ref + 8, 32) != 0)
		return 0;
	if (total < MG_REC_WAV_HEADER_LEN || total - MG_REC_WAV_HEADER_LEN >= UINT32_MAX - 36)
		return -1;
	uint32_t data = (uint32_t)(total - MG_REC_WAV_HEADER_LEN);
	LE32(buf + 4, data + 36);
	LE32(buf + 40, data);
	return 1;
}

/* ---- aligner */

#define FRAME	  MG_REC_FRAME_SAMPLES
#define RING_SMPL (MG_REC_WAV_RING * FRAME)

struct source {
	bool active, have_seq;
	uint32_t ssrc;
	uint32_t anchor_ts;
	int64_t anchor_pos;
	uint16_t max_seq;
	uint64_t seen[8]; /* per chunk index: bit k = sequence max_seq - k placed */
};

struct mg_rec_wav {
	uint64_t start;
	int64_t cursor; /* next sample to emit (multiple of FRAME) */
	uint32_t holdback, resync;
	bool finished;
	mg_rec_wav_sink_fn sink;
	void *sink_arg;
	struct mg_rec_wav_stats st;
	struct source src[MG_REC_WAV_SOURCES];
	int64_t hw[2]; /* per channel: end of the furthest write since start; the ring from
			  here to cursor + RING_SMPL is still zero */
	int16_t ring[2][RING_SMPL] __attribute__((aligned(64))); /* planar per channel */
};

/* Interleaving buffer shared by all recordings of the thread: stays in L1. */
static _Thread_local int16_t frame_buf[FRAME][2] __attribute__((aligned(64)));

static void write_out(struct mg_rec_wav *w, const void *bytes, size_t len)
{
	if (w->st.sink_error)
		return;
	int rc = w->sink(w->sink_arg, bytes, len);
	if (rc)
		w->st.sink_error = rc;
	else
		w->st.bytes_out += len;
}

int mg_rec_wav_create(struct mg_rec_wav **out, const struct mg_rec_wav_config *cfg, uint64_t start,
		      mg_rec_wav_sink_fn sink, void *sink_arg)
{
	if (!out || !sink)
		return -1;
	*out = NULL;
	uint32_t holdback = cfg && cfg->holdback ? cfg->holdback : 4 * FRAME;
	if (holdback > (MG_REC_WAV_RING - 2) * FRAME)
		return -1;
	struct mg_rec_wav *w = aligned_alloc(64, (sizeof(*w) + 63) & ~(size_t)63);
	if (!w)
		return -1;
	memset(w, 0, sizeof(*w));
	w->start = start;
	w->holdback = holdback;
	w->resync = cfg && cfg->resync ? cfg->resync : 16000;
	w->sink = sink;
	w->sink_arg = sink_arg;
	uint8_t h[MG_REC_WAV_HEADER_LEN];
	mg_rec_wav_header(h, UINT32_MAX);
	write_out(w, h, sizeof(h));
	*out = w;
	return 0;
}

void mg_rec_wav_free(struct mg_rec_wav *w)
{
	free(w);
}

static void emit_frame(struct mg_rec_wav *w)
{
	size_t at = (size_t)(w->cursor % RING_SMPL);
	int16_t *c = &w->ring[0][at], *a = &w->ring[1][at];
	for (unsigned i = 0; i < FRAME; i++) {
		frame_buf[i][0] = c[i];
		frame_buf[i][1] = a[i];
	}
	/* Host order is little-endian (x86, arm64): the samples are already WAV's layout. */
	write_out(w, frame_buf, sizeof(frame_buf));
	memset(c, 0, FRAME * sizeof(int16_t));
	memset(a, 0, FRAME * sizeof(int16_t));
	w->cursor += FRAME;
	w->st.samples_out += FRAME;
}

static void emit_until(struct mg_rec_wav *w, int64_t target)
{
	while (w->cursor + FRAME <= target)
		emit_frame(w);
}

static void anchor(struct source *s, const struct mg_rec_record *r, int64_t arrival_pos)
{
	s->active = true;
	s->ssrc = r->ssrc;
	s->anchor_ts = r->rtp_ts;
	s->anchor_pos = arrival_pos;
}

/* dst[i] = saturate(dst[i] + src[i]): several legs mixed into one channel (conference). */
static void add_sat(int16_t *restrict dst, const int16_t *restrict src, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int v = dst[i] + src[i];
		dst[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
}

int mg_rec_wav_put(struct mg_rec_wav *w, const struct mg_rec_record *r)
{
	if (w->finished)
		return -1;
	if (r->leg >= MG_REC_WAV_SOURCES || r->channel > MG_REC_CH_AGENT || r->len == 0 ||
	    r->len > MG_REC_PAYLOAD_MAX || (r->pt != MG_REC_PT_PCMU && r->pt != MG_REC_PT_PCMA)) {
		w->st.bad++;
		return -1;
	}
	int64_t arrival_pos = (int64_t)(r->arrival - w->start);
	if (arrival_pos > w->cursor + (int64_t)w->holdback + 60 * 8000) {
		/* a clock a minute ahead of the output is not a packet we can place */
		w->st.bad++;
		return -1;
	}
	struct source *s = &w->src[r->leg];
	/* A new SSRC (or the first packet) is anchored by its arrival time. */
	if (!s->active || s->ssrc != r->ssrc) {
		anchor(s, r, arrival_pos);
		s->have_seq = false;
		w->st.anchors++;
	}
	/* Signed 32-bit difference: correct across timestamp wrap. */
	int64_t pos = s->anchor_pos + (int32_t)(r->rtp_ts - s->anchor_ts);
	int64_t stray = pos - arrival_pos;
	if (stray > (int64_t)w->resync || stray < -(int64_t)w->resync) {
		/* Timestamps jumped without an SSRC change: trust the arrival clock again. */
		anchor(s, r, arrival_pos);
		pos = arrival_pos;
		s->have_seq = false;
		w->st.anchors++;
	}
	/* Duplicates: same sequence number (and chunk of a split packet) within 64 packets. */
	unsigned chunk = r->flags & 7;
	if (!s->have_seq) {
		s->have_seq = true;
		s->max_seq = r->seq;
		memset(s->seen, 0, sizeof(s->seen));
	}
	int d = (int16_t)(uint16_t)(r->seq - s->max_seq);
	if (d > 0) {
		for (int k = 0; k < 8; k++)
			s->seen[k] = d >= 64 ? 0 : s->seen[k] << d;
		s->max_seq = r->seq;
		d = 0;
	}
	if (-d >= 64) { /* sequence discontinuity: restart the window here */
		s->max_seq = r->seq;
		memset(s->seen, 0, sizeof(s->seen));
		d = 0;
	}
	uint64_t bit = 1ull << (-d);
	if (s->seen[chunk] & bit) {
		w->st.duplicates++;
		return -1;
	}
	int64_t end = pos + r->len;
	if (end <= w->cursor) {
		w->st.late++;
		return -1;
	}
	s->seen[chunk] |= bit;
	/* Linear mapping: keep the anchor close so the 32-bit difference never overflows. */
	s->anchor_ts = r->rtp_ts;
	s->anchor_pos = pos;
	/* Too far ahead for the ring: emit (and give up waiting for) the oldest frames. */
	if (end > w->cursor + RING_SMPL)
		emit_until(w, end - RING_SMPL + FRAME - 1);
	unsigned first = 0;
	if (pos < w->cursor) {
		first = (unsigned)(w->cursor - pos);
		w->st.clipped += first;
	}
	const int16_t *table = r->pt == MG_REC_PT_PCMA ? mg_g711_alaw_dec : mg_g711_ulaw_dec;
	int16_t pcm[MG_REC_PAYLOAD_MAX];
	unsigned n = r->len - first;
	for (unsigned k = 0; k < n; k++)
		pcm[k] = table[r->payload[first + k]];
	unsigned ch = r->channel;
	int16_t *dst = w->ring[ch];
	size_t idx = (size_t)((uint64_t)(pos + first) % RING_SMPL);
	unsigned part = n <= RING_SMPL - idx ? n : (unsigned)(RING_SMPL - idx);
	if (pos + first >= w->hw[ch]) {
		/* In order past everything written on this channel: the ring there is zero, so
		 * store without reading it (no load misses on the hot path). */
		memcpy(dst + idx, pcm, part * sizeof(int16_t));
		if (part < n)
			memcpy(dst, pcm + part, (n - part) * sizeof(int16_t));
	} else {
		/* reordered packet, or several legs mixed into the channel */
		add_sat(dst + idx, pcm, part);
		if (part < n)
			add_sat(dst, pcm + part, n - part);
	}
	if (end > w->hw[ch])
		w->hw[ch] = end;
	w->st.packets++;
	emit_until(w, arrival_pos - (int64_t)w->holdback);
	return 0;
}

void mg_rec_wav_prefetch(const struct mg_rec_wav *w, const struct mg_rec_record *r)
{
	__builtin_prefetch(w);
	if (r->leg < MG_REC_WAV_SOURCES)
		__builtin_prefetch(&w->src[r->leg]);
	/* the frame the next emission reads (320 bytes per channel) */
	size_t at = (size_t)(w->cursor % RING_SMPL);
	for (unsigned b = 0; b < FRAME * sizeof(int16_t); b += 64) {
		__builtin_prefetch((const char *)&w->ring[0][at] + b);
		__builtin_prefetch((const char *)&w->ring[1][at] + b);
	}
}

int mg_rec_wav_advance(struct mg_rec_wav *w, uint64_t now)
{
	if (!w->finished)
		emit_until(w, (int64_t)(now - w->start) - (int64_t)w->holdback);
	return w->st.sink_error;
}

int mg_rec_wav_finish(struct mg_rec_wav *w, uint64_t end)
{
	if (!w->finished) {
		int64_t e = (int64_t)(end - w->start);
		while (w->cursor < e)
			emit_frame(w);
		w->finished = true;
	}
	return w->st.sink_error;
}

void mg_rec_wav_get_stats(const struct mg_rec_wav *w, struct mg_rec_wav_stats *st)
{
	*st = w->st;
}
