/* mg_ng_conf_note_sdp: the G.711 payload type (PCMU 0 / PCMA 8, the first one listed) and
 * the telephone-event payload type each side of a call uses in a conference, from the
 * SDP of its offer or answer; an answer's first codec applies to both sides. */
#include <string.h>

#include "check.h"
#include "ng_conf.h"

static struct mg_sdp sdp;

static void note(struct mg_media *m, int side, bool answer, const char *formats, const char *extra)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		 "m=audio 4000 RTP/AVP %s\r\n%s",
		 formats, extra);
	CHECK(mg_sdp_parse(&sdp, text, strlen(text)) == MG_SDP_OK);
	mg_ng_conf_note_sdp(&sdp, 0, m, side, answer);
}

int main(void)
{
	struct mg_media m;
	/* offer: PCMU first, telephone-event 101 */
	memset(&m, 0, sizeof(m));
	note(&m, 0, false, "0 8 101",
	     "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 "
	     "telephone-event/8000\r\n");
	CHECK_EQ_INT(m.g711_pt[0], 0 + 1);
	CHECK_EQ_INT(m.te_pt[0], 101 + 1);
	CHECK_EQ_INT(m.g711_pt[1], 0); /* the other side is unknown until it speaks */
	/* answer with PCMA first and another telephone-event number: both sides use PCMA */
	note(&m, 1, true, "8 0 96", "a=rtpmap:96 telephone-event/8000\r\n");
	CHECK_EQ_INT(m.g711_pt[1], 8 + 1);
	CHECK_EQ_INT(m.g711_pt[0], 8 + 1);
	CHECK_EQ_INT(m.te_pt[1], 96 + 1);
	CHECK_EQ_INT(m.te_pt[0], 101 + 1); /* its own, from its own SDP */
	/* a wideband codec first, G.711 later: G.711 is what the mixer can use */
	memset(&m, 0, sizeof(m));
	note(&m, 0, false, "9 111 8", "a=rtpmap:111 opus/48000/2\r\n");
	CHECK_EQ_INT(m.g711_pt[0], 8 + 1);
	CHECK_EQ_INT(m.te_pt[0], 0);
	/* no G.711 at all; telephone-event at 16 kHz does not count */
	memset(&m, 0, sizeof(m));
	note(&m, 0, false, "9 101", "a=rtpmap:101 telephone-event/16000\r\n");
	CHECK_EQ_INT(m.g711_pt[0], 0);
	CHECK_EQ_INT(m.te_pt[0], 0);
	/* a static number whose rtpmap says something else is not taken for G.711 */
	memset(&m, 0, sizeof(m));
	note(&m, 0, false, "0 8", "a=rtpmap:0 PCMA/8000\r\n");
	CHECK_EQ_INT(m.g711_pt[0], 8 + 1);
	/* case-insensitive encoding names */
	memset(&m, 0, sizeof(m));
	note(&m, 0, false, "0 101",
	     "a=rtpmap:0 pcmu/8000\r\na=rtpmap:101 TELEPHONE-EVENT/8000\r\n");
	CHECK_EQ_INT(m.g711_pt[0], 0 + 1);
	CHECK_EQ_INT(m.te_pt[0], 101 + 1);
	return CHECK_DONE();
}
