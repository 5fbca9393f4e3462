/* Session-state export/import of SRTP contexts (restart and takeover, docs/state.md): a
 * context rebuilt from the same key and the exported state carries on with a peer that
 * kept its own context, in both directions, for all six suites: right after the snapshot,
 * after a gap, and across a sequence-number wrap (ROC + 1) that happened during the gap;
 * SRTCP indexes resume past the saved one; the key lifetime budget carries over. */
#include <errno.h>
#include <stdlib.h>

#include "srtp.h"
#include "test_util.h"

#define BUF 1600

static mg_srtp_engine *engine;

static mg_srtp_ctx *new_ctx(enum mg_srtp_suite suite, const uint8_t *key_salt, uint64_t lifetime)
{
	const struct mg_srtp_suite_info *info = mg_srtp_suite_info(suite);
	struct mg_srtp_key_params kp = {.suite = suite,
					.master_key = key_salt,
					.master_salt = key_salt + info->key_len,
					.lifetime = lifetime};
	mg_srtp_ctx *ctx = aligned_alloc(64, sizeof(*ctx));
	CHECK(mg_srtp_ctx_init(ctx, engine, &kp) == 0, "ctx init");
	return ctx;
}

/* tx protects seq, rx must accept it; returns the status of rx. */
static enum mg_srtp_status send_one(mg_srtp_ctx *tx, mg_srtp_ctx *rx, uint16_t seq, uint32_t ssrc)
{
	uint8_t p[BUF];
	uint32_t len = test_make_rtp(p, seq, seq * 160u, ssrc, 0, 160);
	if (mg_srtp_protect(engine, tx, p, &len, BUF) != MG_SRTP_OK)
		return MG_SRTP_ERR_INTERNAL;
	return rx ? mg_srtp_unprotect(engine, rx, p, &len) : MG_SRTP_OK;
}

static enum mg_srtp_status send_rtcp(mg_srtp_ctx *tx, mg_srtp_ctx *rx, uint32_t ssrc)
{
	uint8_t p[BUF];
	uint32_t len = test_make_rtcp(p, ssrc, 60);
	if (mg_srtcp_protect(engine, tx, p, &len, BUF) != MG_SRTP_OK)
		return MG_SRTP_ERR_INTERNAL;
	return mg_srtcp_unprotect(engine, rx, p, &len);
}

static mg_srtp_ctx *restored(enum mg_srtp_suite suite, const uint8_t *key, const mg_srtp_ctx *old,
			     uint32_t srtcp_margin)
{
	struct mg_srtp_ctx_state st;
	CHECK(mg_srtp_ctx_export_state(old, &st) == 0, "export");
	for (unsigned i = 0; i < st.n_ssrc; i++)
		if (st.ssrc[i].rtcp_started)
			st.ssrc[i].srtcp_index += srtcp_margin;
	mg_srtp_ctx *ctx = new_ctx(suite, key, 0);
	CHECK(mg_srtp_ctx_import_state(ctx, &st) == 0, "import");
	return ctx;
}

static void test_suite(enum mg_srtp_suite suite)
{
	const char *name = mg_srtp_suite_info(suite)->name;
	uint8_t key[46];
	test_fill_random(key, sizeof(key));
	const uint32_t ssrc = 0x11223344;
	for (int gap_wraps = 0; gap_wraps <= 1; gap_wraps++) {
		/* "us" = mediagate's contexts; "peer" = the libsrtp-like peer that survives */
		mg_srtp_ctx *us_tx = new_ctx(suite, key, 0), *peer_rx = new_ctx(suite, key, 0);
		mg_srtp_ctx *peer_tx = new_ctx(suite, key, 0), *us_rx = new_ctx(suite, key, 0);
		uint16_t seq = 60000; /* a wrap comes soon */
		int bad = 0;
		for (int i = 0; i < 200; i++, seq++) {
			bad += send_one(us_tx, peer_rx, seq, ssrc) != MG_SRTP_OK;
			bad += send_one(peer_tx, us_rx, seq, ssrc) != MG_SRTP_OK;
		}
		for (int i = 0; i < 5; i++) {
			bad += send_rtcp(us_tx, peer_rx, ssrc) != MG_SRTP_OK;
			bad += send_rtcp(peer_tx, us_rx, ssrc) != MG_SRTP_OK;
		}
		CHECK(bad == 0, "%s: %d failures before the snapshot", name, bad);
		struct mg_srtp_ctx_state snap;
		CHECK(mg_srtp_ctx_export_state(us_rx, &snap) == 0 && snap.n_ssrc == 1 &&
			  snap.ssrc[0].ssrc == ssrc && snap.ssrc[0].roc == 0 &&
			  snap.ssrc[0].highest_seq == (uint16_t)(seq - 1) &&
			  snap.ssrc[0].srtcp_index == 5 && snap.srtp_used == 200,
		      "%s: exported state (roc %u seq %u idx %u used %llu)", name, snap.ssrc[0].roc,
		      snap.ssrc[0].highest_seq, snap.ssrc[0].srtcp_index,
		      (unsigned long long)snap.srtp_used);
		mg_srtp_ctx *new_tx = restored(suite, key, us_tx, 256);
		mg_srtp_ctx *new_rx = restored(suite, key, us_rx, 0);
		/* outage: the peer keeps sending (lost); with gap_wraps the sequence wraps */
		int lost = gap_wraps ? 9000 : 300;
		for (int i = 0; i < lost; i++, seq++)
			send_one(peer_tx, NULL, seq, ssrc);
		/* mediagate's source keeps numbering too: what it relays after the restart
		 * continues past the gap */
		uint16_t our_seq = (uint16_t)(seq);
		bad = 0;
		for (int i = 0; i < 100; i++, seq++, our_seq++) {
			bad += send_one(new_tx, peer_rx, our_seq, ssrc) != MG_SRTP_OK;
			bad += send_one(peer_tx, new_rx, seq, ssrc) != MG_SRTP_OK;
		}
		for (int i = 0; i < 3; i++) {
			bad += send_rtcp(new_tx, peer_rx, ssrc) != MG_SRTP_OK;
			bad += send_rtcp(peer_tx, new_rx, ssrc) != MG_SRTP_OK;
		}
		uint32_t roc = 99;
		CHECK(bad == 0, "%s gap %d packets: %d failures after the restore", name, lost,
		      bad);
		CHECK(mg_srtp_ctx_get_roc(new_rx, ssrc, &roc) == 0 && roc == (gap_wraps ? 1u : 0u),
		      "%s: ROC after the gap %u", name, roc);
		/* without the state the peer would refuse: a fresh sender restarts SRTCP at 1 */
		mg_srtp_ctx *fresh = new_ctx(suite, key, 0);
		enum mg_srtp_status again = send_rtcp(fresh, peer_rx, ssrc);
		CHECK(again == MG_SRTP_ERR_TOO_OLD || again == MG_SRTP_ERR_REPLAY,
		      "%s: SRTCP index 1 again is refused by the peer (%s)", name,
		      mg_srtp_status_str(again));
		free(fresh);
		free(us_tx);
		free(us_rx);
		free(peer_tx);
		free(peer_rx);
		free(new_tx);
		free(new_rx);
	}
	/* key lifetime carries over: 300 packets allowed, 200 used before the restart */
	mg_srtp_ctx *tx = new_ctx(suite, key, 300);
	for (uint16_t s = 1; s <= 200; s++)
		send_one(tx, NULL, s, ssrc);
	struct mg_srtp_ctx_state st;
	mg_srtp_ctx_export_state(tx, &st);
	mg_srtp_ctx *tx2 = new_ctx(suite, key, 300);
	mg_srtp_ctx_import_state(tx2, &st);
	int ok = 0;
	for (uint16_t s = 201; s <= 400; s++)
		ok += send_one(tx2, NULL, s, ssrc) == MG_SRTP_OK;
	CHECK(ok == 100, "%s: %d packets after restore with 100 left of the lifetime", name, ok);
	free(tx);
	free(tx2);
}

int main(int argc, char **argv)
{
	engine = mg_srtp_engine_create((enum mg_srtp_arch)test_arch_from_args(argc, argv));
	if (!engine) {
		printf("SKIP: arch not available\n");
		return argc > 1 ? 77 : 1;
	}
	for (int s = MG_SRTP_SUITE_NONE + 1; s < MG_SRTP_SUITE_COUNT; s++)
		test_suite((enum mg_srtp_suite)s);
	struct mg_srtp_ctx_state st;
	CHECK(mg_srtp_ctx_export_state(NULL, &st) == -EINVAL, "export of NULL");
	mg_srtp_engine_destroy(engine);
	return test_report("srtp-state");
}
