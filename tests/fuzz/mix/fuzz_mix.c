/* libFuzzer target for lib/mix: the input is a script of operations on one conference
 * (join with a fuzzed configuration, leave, mute, hold, push a packet built from the
 * input, tick, drain events). Checks invariants after every step; any crash, sanitizer
 * report or abort() is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"

static struct mg_mix *m;

struct rd {
	const uint8_t *p;
	size_t n;
};

static int take(struct rd *r, void *out, size_t k)
{
	if (r->n < k)
		return 0;
	memcpy(out, r->p, k);
	r->p += k;
	r->n -= k;
	return 1;
}

static void check_pkt(const struct mg_mix_pkt *o)
{
	if (o->to >= MG_MIX_MAX_PARTICIPANTS || o->len < MG_MIX_RTP_HDR ||
	    o->len > MG_MIX_PKT_MAX || o->data[0] != 0x80)
		abort();
	if (!o->is_event && o->len != MG_MIX_PKT_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!m)
		m = mg_mix_create();
	else
		mg_mix_init(m, mg_mix_footprint());
	struct rd r = {data, size};
	uint8_t op;
	uint8_t pkt[256];
	uint16_t seq[MG_MIX_MAX_PARTICIPANTS] = {0};
	uint32_t ts[MG_MIX_MAX_PARTICIPANTS] = {0};
	while (take(&r, &op, 1)) {
		uint8_t id = (uint8_t)((op >> 4) & 7);
		switch (op & 0xF) {
		case 0: { /* join */
			uint8_t c[8];
			if (!take(&r, c, sizeof(c)))
				return 0;
			struct mg_mix_participant_cfg cfg = {
			    .law = (enum mg_g711_law)(c[0] & 3),
			    .pt = c[1] & 0x7F,
			    .te_pt = (int16_t)((c[2] & 0x80) ? -1 : c[2]),
			    .out_ssrc = c[3],
			    .out_seq = (uint16_t)(c[4] << 8),
			    .out_ts = (uint32_t)c[5] << 24,
			    .jb_min = c[6] & 15,
			    .jb_max = c[7] & 15,
			    .muted = c[6] >> 7,
			    .on_hold = c[7] >> 7};
			mg_mix_join(m, &cfg);
			break;
		}
		case 1:
			mg_mix_leave(m, id);
			break;
		case 2:
			mg_mix_set_muted(m, id, op & 0x80);
			break;
		case 3:
			mg_mix_set_hold(m, id, op & 0x80);
			break;
		case 4: { /* raw packet: length byte + bytes */
			uint8_t len;
			if (!take(&r, &len, 1) || !take(&r, pkt, len))
				return 0;
			mg_mix_push(m, id, pkt, len);
			break;
		}
		case 5:
		case 6: { /* plausible audio (5) or event (6) packet: pt, seq step, ts step */
			uint8_t c[4];
			if (!take(&r, c, sizeof(c)))
				return 0;
			seq[id] = (uint16_t)(seq[id] + (int8_t)c[1]);
			ts[id] += (uint32_t)(int8_t)c[2] * 160u + (c[3] & 0x80 ? c[3] : 0);
			memset(pkt, c[3], sizeof(pkt));
			pkt[0] = 0x80;
			pkt[1] = c[0];
			pkt[2] = (uint8_t)(seq[id] >> 8), pkt[3] = (uint8_t)seq[id];
			pkt[4] = (uint8_t)(ts[id] >> 24), pkt[5] = (uint8_t)(ts[id] >> 16);
			pkt[6] = (uint8_t)(ts[id] >> 8), pkt[7] = (uint8_t)ts[id];
			pkt[8] = pkt[9] = pkt[10] = 0, pkt[11] = (uint8_t)(c[3] & 1);
			mg_mix_push(m, id, pkt, (op & 0xF) == 5 ? 172 : 16 + (c[3] & 0x1F));
			break;
		}
		case 7: { /* tick(s) */
			const struct mg_mix_pkt *out;
			unsigned n = mg_mix_tick(m, op & 0x80, &out);
			if (n > mg_mix_stats(m)->participants)
				abort();
			for (unsigned i = 0; i < n; i++)
				check_pkt(&out[i]);
			break;
		}
		case 8: {
			const struct mg_mix_pkt *ev;
			unsigned n = mg_mix_events(m, &ev);
			if (n > MG_MIX_EVENT_QUEUE)
				abort();
			for (unsigned i = 0; i < n; i++)
				check_pkt(&ev[i]);
			mg_mix_events_clear(m);
			break;
		}
		default: {
			const struct mg_mix_pstats *ps = mg_mix_pstats(m, id);
			if (ps && (ps->jb_target < 1 || ps->jb_target > MG_MIX_JB_MAX_DEPTH ||
				   ps->jb_depth > 64))
				abort();
			break;
		}
		}
	}
	return 0;
}
