/* Recording fork on the worker (issue 6, docs/recording.md): after SRTP unprotect and the
 * acceptance checks, the G.711 payload of a leg the policy records is copied into this
 * worker's single-producer ring (lib/rec). No locks, no syscalls, no allocation: the
 * records come from the ring's preallocated pool, and a full ring or empty pool drops the
 * record and counts it (per ring and per contact), never waits. */
#include <rte_branch_prediction.h>

#include "dp_internal.h"
#include "rec.h"

int mg_dp_attach_recording(struct mg_dataplane *dp, struct mg_rec_hub *hub)
{
	if (!dp || !hub || dp->started || mg_rec_hub_rings(hub) < dp->n_workers)
		return -1;
	for (unsigned i = 0; i < dp->n_workers; i++)
		dp->workers[i].rec_fork = mg_rec_hub_fork(hub, i);
	return 0;
}

uint64_t mg_worker_rec_clock(void)
{
	return mg_rec_clock_now();
}

void mg_worker_rec_fork(struct mg_worker *w, const struct mg_leg *leg, const uint8_t *rtp,
			uint32_t len, uint64_t rec_now)
{
	struct mg_rtp_hdr h;
	if (unlikely(!w->rec_fork))
		return;
	/* Accepted packets were parsed already; this reads the fields the record needs.
	 * Telephone-event, comfort noise and other codecs are not forked: the aligner
	 * places 8 kHz G.711 only (the other side's silence stays silence). */
	if (unlikely(mg_rtp_parse(rtp, len, 1, &h) != MG_RTP_OK) ||
	    (h.payload_type != MG_REC_PT_PCMU && h.payload_type != MG_REC_PT_PCMA) ||
	    h.payload_len == 0) {
		w->stats.rec_not_g711++;
		return;
	}
	mg_rec_fork_add(w->rec_fork, leg->cfg.rec_contact, leg->cfg.rec_generation,
			leg->cfg.rec_leg, leg->cfg.rec_channel, h.ssrc, h.timestamp, h.seq,
			h.payload_type, rec_now, rtp + h.header_len, h.payload_len);
}

void mg_worker_rec_flush(struct mg_worker *w)
{
	if (w->rec_fork)
		mg_rec_fork_flush(w->rec_fork);
}
