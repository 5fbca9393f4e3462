/* The snapshot's links (lib/session/session_links.c): conference membership with mute/hold,
 * a relay pairing across calls (connect), each side's G.711/telephone-event payload types,
 * the worker placement and the recording policy state, encoded, the calls deleted, restored
 * from the blobs and the conference and pairing rebuilt. Real ng handler, session table and
 * data plane on a port made of rte_rings (workers not launched: commands apply at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "check.h"
#include "dataplane.h"
#include "ng.h"
#include "ng_conf.h"
#include "session.h"

static struct mg_sessions *sessions;
static struct mg_ng *ng;
static char answer[65536];

static size_t put_str(char *p, const char *s)
{
	return (size_t)sprintf(p, "%zu:%s", strlen(s), s);
}

/* keys/values alternate, NULL-terminated */
static bool ng_request(const char *const *kv)
{
	static char req[8192];
	static unsigned cookie;
	char *p = req;
	p += sprintf(p, "ck%u d", ++cookie);
	for (unsigned i = 0; kv[i]; i += 2) {
		p += put_str(p, kv[i]);
		p += put_str(p, kv[i + 1]);
	}
	*p++ = 'e';
	size_t n = mg_ng_handle(ng, req, (size_t)(p - req), answer, sizeof(answer) - 1);
	answer[n] = 0;
	bool ok = strstr(answer, "6:result2:ok") != NULL;
	if (!ok)
		fprintf(stderr, "ng refused: %s\n", answer);
	return ok;
}

static const char *sdp(const char *ip, int port, int codec)
{
	static char buf[2][512];
	static int k;
	char *b = buf[k++ & 1];
	snprintf(b, 512,
		 "v=0\r\no=x 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %d RTP/AVP %d %d\r\na=rtpmap:%d %s/8000\r\n"
		 "a=rtpmap:%d telephone-event/8000\r\n",
		 ip, ip, port, codec, codec == 0 ? 101 : 110, codec, codec == 0 ? "PCMU" : "PCMA",
		 codec == 0 ? 101 : 110);
	return b;
}

static bool call(const char *id, const char *from, const char *to, int codec, const char *r0,
		 const char *r1, int port)
{
	const char *o[] = {"command",  "offer", "call-id",    id,
			   "from-tag", from,	"contact-id", "K1",
			   "leg-role", r0,	"sdp",	      sdp("10.0.0.2", port, codec),
			   NULL};
	const char *a[] = {"command",	 "answer",
			   "call-id",	 id,
			   "from-tag",	 from,
			   "to-tag",	 to,
			   "contact-id", "K1",
			   "leg-role",	 r1,
			   "sdp",	 sdp("10.0.0.3", port + 1, codec),
			   NULL};
	return ng_request(o) && ng_request(a);
}

static struct mg_leg *leg_of(const char *call_id, const char *tag)
{
	struct mg_call *c = mg_call_find(sessions, call_id);
	int side = c ? mg_call_side_of(c, tag) : -1;
	return side >= 0 ? c->media[0].leg[side] : NULL;
}

#define N_CALLS 3
static const char *const ids[N_CALLS] = {"c1", "s1", "t1"};

int main(void)
{
	char *eal[] = {"test_session_links",
		       "--no-huge",
		       "-m",
		       "256",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-l",
		       "0",
		       "--log-level=error",
		       NULL};
	if (rte_eal_init(10, eal) < 0)
		return 77;
	struct rte_ring *rx[2], *tx[2];
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "sl_rx%d", i);
		rx[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sl_tx%d", i);
		tx[i] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (rte_eth_from_rings("sl", rx, 2, tx, 2, 0) < 0)
		return 1;
	struct mg_profile profile;
	mg_profile_defaults(&profile);
	struct mg_profile_error perr;
	const char *text = "[eal]\nargs = x\n[lcores]\ncontrol = 0\nworkers = 1\n"
			   "[interface.lan]\ndevice = net_ring_sl\naddress = 10.0.0.1/24\n"
			   "[media]\nport_min = 30000\nport_max = 30199\nmbufs = 2047\n";
	if (mg_profile_parse(&profile, text, strlen(text), &perr) < 0)
		return 1;
	char err[256];
	struct mg_dataplane *dp = mg_dp_create(&profile, err, sizeof(err));
	sessions = dp ? mg_sessions_create(dp, 64) : NULL;
	ng = sessions ? mg_ng_create(sessions, &profile) : NULL;
	if (!ng) {
		fprintf(stderr, "set-up failed: %s\n", dp ? "" : err);
		return 1;
	}

	CHECK(call("c1", "cust", "ag1", 0, "customer", "agent", 4000));
	CHECK(call("s1", "sup", "sdummy", 8, "third-party", "agent", 4100));
	CHECK(call("t1", "x", "y", 0, "agent", "customer", 4200));
	const char *join[] = {"command", "join conference", "call-id", "s1", "from-tag",
			      "sup",	 "contact-id",	    "K1",      NULL};
	CHECK(ng_request(join) && strstr(answer, "12:participantsi3e"));
	const char *mute[] = {"command", "conference mute", "call-id", "s1", "from-tag", "sup",
			      NULL};
	const char *hold[] = {"command", "conference hold", "call-id", "c1", "from-tag", "cust",
			      NULL};
	CHECK(ng_request(mute) && ng_request(hold));
	/* t1's x relays with s1's sdummy (a transfer across calls) */
	const char *connect[] = {"command",    "connect", "call-id", "t1",     "from-tag", "x",
				 "to-call-id", "s1",	  "to-tag",  "sdummy", NULL};
	CHECK(ng_request(connect));
	struct mg_call *c1 = mg_call_find(sessions, "c1");
	c1->rec = (struct mg_call_rec){
	    .set = true,
	    .mode = 3,
	    .state = 1,
	    .primary = 2,
	    .next_leg = 9,
	    .leg_id = {1, 2},
	    .role = {0, 1},
	    .flags = {MG_CALL_REC_PRESENT | MG_CALL_REC_CONNECTED | MG_CALL_REC_HOLD,
		      MG_CALL_REC_PRESENT | MG_CALL_REC_MUTED}};
	struct mg_call_rec rec_before = c1->rec;

	/* what each call carries before */
	int16_t g711[N_CALLS][2], te[N_CALLS][2];
	static char blobs[N_CALLS][32768];
	size_t len[N_CALLS];
	for (int k = 0; k < N_CALLS; k++) {
		struct mg_call *c = mg_call_find(sessions, ids[k]);
		for (int s = 0; s < 2; s++) {
			g711[k][s] = c->media[0].g711_pt[s];
			te[k][s] = c->media[0].te_pt[s];
		}
		len[k] = mg_call_encode(c, blobs[k], sizeof(blobs[k]));
		CHECK(len[k] > 0);
	}
	CHECK_EQ_INT(g711[0][0], 1);			     /* PCMU + 1 */
	CHECK_EQ_INT(g711[1][0], 9);			     /* PCMA + 1 */
	CHECK_EQ_INT(te[0][0], 102);			     /* 101 + 1 */
	CHECK_EQ_INT(te[1][1], 111);			     /* 110 + 1 */
	CHECK(memmem(blobs[1], len[1], "2:K1", 4));	     /* the conference's name */
	CHECK(memmem(blobs[2], len[2], "2:s16:sdummy", 12)); /* t1's partner */

	/* gone, conference released */
	for (int k = 0; k < N_CALLS; k++)
		mg_call_delete(sessions, mg_call_find(sessions, ids[k]));
	mg_ng_conf_tidy(sessions);
	CHECK_EQ_INT(mg_dp_conf_count(dp), 0);

	/* back from the blobs */
	for (int k = 0; k < N_CALLS; k++)
		CHECK_EQ_INT(mg_call_restore(sessions, blobs[k], len[k], err, sizeof(err)), 0);
	struct mg_links_report rep;
	mg_sessions_restore_links(sessions, &rep);
	CHECK_EQ_INT(rep.conferences, 1);
	CHECK_EQ_INT(rep.parties, 3);
	CHECK_EQ_INT(rep.pairings, 1);
	CHECK_EQ_INT(rep.failed, 0);
	struct mg_conf *conf = mg_dp_conf_find(dp, "K1");
	CHECK(conf && mg_dp_conf_legs(conf, NULL, 0) == 3);
	struct mg_leg *cust = leg_of("c1", "cust"), *ag1 = leg_of("c1", "ag1"),
		      *sup = leg_of("s1", "sup"), *sdummy = leg_of("s1", "sdummy"),
		      *x = leg_of("t1", "x"), *y = leg_of("t1", "y");
	CHECK(cust && ag1 && sup && sdummy && x && y);
	if (conf && cust && ag1 && sup && sdummy && x && y) {
		CHECK(cust->conf_ctl == conf && ag1->conf_ctl == conf && sup->conf_ctl == conf);
		CHECK(!sdummy->conf_ctl && !x->conf_ctl);
		bool m, h;
		mg_dp_conf_leg_state(sup, &m, &h);
		CHECK(m && !h);
		mg_dp_conf_leg_state(cust, &m, &h);
		CHECK(!m && h);
		mg_dp_conf_leg_state(ag1, &m, &h);
		CHECK(!m && !h);
		CHECK(mg_dp_leg_relay_partner(x) == sdummy);
		CHECK(mg_dp_leg_relay_partner(sdummy) == x);
		CHECK(mg_dp_leg_relay_partner(y) != x);
		CHECK_EQ_INT(mg_dp_conf_worker(conf), cust->worker);
	}
	for (int k = 0; k < N_CALLS; k++) {
		struct mg_call *c = mg_call_find(sessions, ids[k]);
		for (int s = 0; c && s < 2; s++) {
			CHECK_EQ_INT(c->media[0].g711_pt[s], g711[k][s]);
			CHECK_EQ_INT(c->media[0].te_pt[s], te[k][s]);
		}
		CHECK(c && !c->links);
		/* re-encoded, the same snapshot */
		static char again[32768];
		size_t n = c ? mg_call_encode(c, again, sizeof(again)) : 0;
		CHECK(n == len[k] && !memcmp(again, blobs[k], n));
		if (n != len[k] || memcmp(again, blobs[k], n))
			fprintf(stderr, "%s before: %.*s\n%s after:  %.*s\n", ids[k], (int)len[k],
				blobs[k], ids[k], (int)n, again);
	}
	c1 = mg_call_find(sessions, "c1");
	CHECK(c1 && !memcmp(&c1->rec, &rec_before, sizeof(rec_before)));
	struct mg_call *t1 = mg_call_find(sessions, "t1");
	CHECK(t1 && !t1->rec.set);

	/* out-of-range payload types in a snapshot: read as "none"; that party cannot be put
	 * back in its conference (G.711 only), which is counted, not a crash */
	static char odd[32768];
	char *pt = memmem(blobs[1], len[1], "lli9ei111e2:K1", 14);
	CHECK(pt != NULL);
	if (pt) {
		size_t head = (size_t)(pt - blobs[1]);
		memcpy(odd, blobs[1], head);
		memcpy(odd + head, "lli999ei-5e2:K1", 15);
		memcpy(odd + head + 15, pt + 14, len[1] - head - 14);
		mg_call_delete(sessions, mg_call_find(sessions, "s1"));
		CHECK_EQ_INT(mg_call_restore(sessions, odd, len[1] + 1, err, sizeof(err)), 0);
		struct mg_call *s1 = mg_call_find(sessions, "s1");
		CHECK(s1 && s1->media[0].g711_pt[0] == 0 && s1->media[0].te_pt[0] == 0);
		mg_sessions_restore_links(sessions, &rep);
		CHECK_EQ_INT(rep.parties, 0);
		CHECK_EQ_INT(rep.failed, 1);
		CHECK(strstr(rep.error, "'sup'") != NULL);
	}

	/* a malformed links list does not stop a restore: the call comes back plain */
	static char bad[32768];
	memcpy(bad, blobs[2], len[2]);
	char *l = memmem(bad, len[2], "5:linksl", 8);
	CHECK(l != NULL);
	if (l)
		l[7] = 'i'; /* "links" becomes an integer-ish garbage: decode must refuse or skip */
	mg_call_delete(sessions, mg_call_find(sessions, "t1"));
	int rc = mg_call_restore(sessions, bad, len[2], err, sizeof(err));
	CHECK(rc == -1 || mg_call_find(sessions, "t1"));
	mg_ng_destroy(ng);
	mg_sessions_destroy(sessions);
	while (mg_dp_control_poll(dp))
		;
	mg_dp_destroy(dp);
	return CHECK_DONE();
}
