/* libFuzzer target for lib/rec's policy and WAV aligner (no DPDK: rec_policy.c and rec_wav.c
 * are compiled in). The first byte picks the part:
 *  - even: policy. Every 6 bytes are one event (type, leg, role, mode); after each one the
 *    answers must be consistent: nothing recorded unless ACTIVE with a mode, the IVR never,
 *    a refused event changes nothing.
 *  - odd: aligner. Every 40 bytes are one record header (+ payload derived from it) or a
 *    clock step; the output must always be the header + 4 bytes per emitted sample, in
 *    order, whatever the records say.
 * Built from tests/unit/rec/meson.build when -Dfuzz=true (see the note there). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

static size_t out_len;
static int count_sink(void *arg, const void *b, size_t len)
{
	(void)arg;
	(void)b;
	out_len += len;
	return 0;
}

static void fuzz_policy(const uint8_t *d, size_t n)
{
	struct mg_rec_policy p;
	mg_rec_policy_init(&p, (enum mg_rec_mode)(d[0] % 5));
	for (size_t i = 0; i + 6 <= n; i += 6) {
		struct mg_rec_event e = {.type = (enum mg_rec_event_type)(d[i] % 15),
					 .leg = d[i + 1] % 12,
					 .role = (enum mg_rec_role)(d[i + 2] % 5),
					 .mode = (enum mg_rec_mode)(d[i + 3] % 5)};
		struct mg_rec_policy before = p;
		int r = mg_rec_policy_apply(&p, &e);
		if (r < 0 && memcmp(&before, &p, sizeof(p)) != 0)
			abort();
		if (before.state == MG_REC_STATE_ENDED && p.state != MG_REC_STATE_ENDED)
			abort();
		for (uint32_t leg = 0; leg < 12; leg++) {
			enum mg_rec_channel ch = mg_rec_policy_channel(&p, leg);
			if (ch == MG_REC_CH_NONE)
				continue;
			if (p.state != MG_REC_STATE_ACTIVE || p.mode == MG_REC_MODE_NONE)
				abort();
			for (int k = 0; k < p.n_legs; k++)
				if (p.legs[k].present && p.legs[k].id == leg &&
				    (p.legs[k].role == MG_REC_ROLE_IVR || p.legs[k].muted ||
				     p.legs[k].on_hold))
					abort();
			if (ch == MG_REC_CH_AGENT && !(p.mode & MG_REC_MODE_AGENT))
				abort();
		}
	}
}

static void fuzz_wav(const uint8_t *d, size_t n)
{
	struct mg_rec_wav *w;
	struct mg_rec_wav_config cfg = {.holdback = (uint32_t)(d[0] >> 1) * 16 % 2240};
	uint64_t start = 1000000;
	out_len = 0;
	if (mg_rec_wav_create(&w, &cfg, start, count_sink, NULL) != 0)
		return;
	uint64_t now = start;
	for (size_t i = 1; i + 40 <= n; i += 40) {
		const uint8_t *h = d + i;
		if (h[0] == 0xff) { /* clock step: up to 0.5 s, past the 320 ms ring either way;
				     * longer steps only write more silence and slow the run */
			now += (uint64_t)(h[1] | (h[2] & 0x0f) << 8);
			mg_rec_wav_advance(w, now);
			continue;
		}
		struct mg_rec_record r;
		memset(&r, 0, sizeof(r));
		memcpy(&r, h, 32);
		r.arrival = now + (r.arrival % 4000) - 2000; /* near the clock, either side */
		for (unsigned k = 0; k < MG_REC_PAYLOAD_MAX; k++)
			r.payload[k] = h[32 + k % 8] ^ (uint8_t)k;
		mg_rec_wav_put(w, &r);
	}
	mg_rec_wav_finish(w, now + 160);
	struct mg_rec_wav_stats st;
	mg_rec_wav_get_stats(w, &st);
	if (out_len != MG_REC_WAV_HEADER_LEN + 4 * st.samples_out || out_len != st.bytes_out)
		abort();
	mg_rec_wav_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_wav(data, size);
	else
		fuzz_policy(data, size);
	return 0;
}
