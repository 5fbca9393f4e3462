/* RTP/RTCP header parsing and RFC 7983 demultiplexing. */
#include "rtp.h"

#include <stdlib.h>
#include <string.h>

#include "../check.h"

static void test_demux(void)
{
	uint8_t p[4] = {0};
	/* every first-byte range of RFC 7983 section 7 */
	for (int b = 0; b < 256; b++) {
		p[0] = (uint8_t)b;
		p[1] = 0;
		enum mg_demux_class c = mg_demux_classify(p, 4);
		enum mg_demux_class want = b <= 3		  ? MG_DEMUX_STUN
					   : b >= 16 && b <= 19	  ? MG_DEMUX_ZRTP
					   : b >= 20 && b <= 63	  ? MG_DEMUX_DTLS
					   : b >= 64 && b <= 79	  ? MG_DEMUX_TURN_CHANNEL
					   : b >= 128 && b <= 191 ? MG_DEMUX_RTP
								  : MG_DEMUX_UNKNOWN;
		CHECK_EQ_INT(c, want);
	}
	p[0] = 0x80;
	for (int pt = 0; pt < 256; pt++) {
		p[1] = (uint8_t)pt;
		CHECK_EQ_INT(mg_demux_classify(p, 2),
			     pt >= 192 && pt <= 223 ? MG_DEMUX_RTCP : MG_DEMUX_RTP);
	}
	CHECK_EQ_INT(mg_demux_classify(p, 0), MG_DEMUX_UNKNOWN);
}

static void test_rtp(void)
{
	uint8_t p[64] = {0x80, 0x88, 0xff, 0xff, 0, 0, 0x01, 0x40, 0xde, 0xad, 0xbe, 0xef};
	struct mg_rtp_hdr h;
	memset(p + 12, 0xd5, 20);
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 1, &h), MG_RTP_OK);
	CHECK_EQ_INT(h.payload_type, 8);
	CHECK_EQ_INT(h.marker, 1);
	CHECK_EQ_INT(h.seq, 65535);
	CHECK_EQ_INT(h.timestamp, 320);
	CHECK_EQ_INT(h.ssrc, 0xdeadbeef);
	CHECK_EQ_INT(h.header_len, 12);
	CHECK_EQ_INT(h.payload_len, 20);
	/* two CSRCs and a one-word extension */
	uint8_t q[64] = {0x92, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
	q[20] = 0xbe, q[21] = 0xde, q[22] = 0, q[23] = 1;
	CHECK_EQ_INT(mg_rtp_parse(q, 40, 1, &h), MG_RTP_OK);
	CHECK_EQ_INT(h.csrc_count, 2);
	CHECK_EQ_INT(h.header_len, 12 + 8 + 8);
	CHECK_EQ_INT(h.payload_len, 40 - 28);
	CHECK_EQ_INT(mg_rtp_parse(q, 27, 1, &h), MG_RTP_TOO_SHORT);
	CHECK_EQ_INT(mg_rtp_parse(q, 23, 1, &h), MG_RTP_TOO_SHORT);
	/* padding */
	p[0] = 0xa0;
	p[31] = 4;
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 1, &h), MG_RTP_OK);
	CHECK_EQ_INT(h.payload_len, 16);
	CHECK_EQ_INT(h.padding_len, 4);
	p[31] = 0;
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 1, &h), MG_RTP_BAD_PADDING);
	p[31] = 21;
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 1, &h), MG_RTP_BAD_PADDING);
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 0, &h), MG_RTP_OK); /* SRTP: padding is encrypted */
	p[0] = 0x40;
	CHECK_EQ_INT(mg_rtp_parse(p, 32, 1, &h), MG_RTP_BAD_VERSION);
	for (size_t l = 0; l < 12; l++)
		CHECK_EQ_INT(mg_rtp_parse(p, l, 1, &h), MG_RTP_TOO_SHORT);
	CHECK_EQ_INT(mg_seq_diff(0, 65535), 1);
	CHECK_EQ_INT(mg_seq_diff(65535, 0), -1);
}

static void test_rtcp(void)
{
	/* compound: SR (no report blocks, 7 words) + SDES with one chunk (3 words) */
	uint8_t p[64] = {0};
	p[0] = 0x80, p[1] = 200, p[2] = 0, p[3] = 6;
	p[4] = 0x11, p[5] = 0x22, p[6] = 0x33, p[7] = 0x44;
	p[28] = 0x81, p[29] = 202, p[30] = 0, p[31] = 2;
	struct mg_rtcp_hdr h;
	CHECK_EQ_INT(mg_rtcp_parse(p, 40, 1, &h), MG_RTP_OK);
	CHECK_EQ_INT(h.packet_type, 200);
	CHECK_EQ_INT(h.sender_ssrc, 0x11223344);
	CHECK_EQ_INT(h.first_len, 28);
	CHECK_EQ_INT(mg_rtcp_parse(p, 36, 1, &h), MG_RTP_BAD_LENGTH);
	CHECK_EQ_INT(mg_rtcp_parse(p, 36, 0, &h), MG_RTP_OK); /* SRTCP: rest is ciphertext */
	p[29] = 180;
	CHECK_EQ_INT(mg_rtcp_parse(p, 40, 1, &h), MG_RTP_BAD_TYPE);
	p[29] = 202;
	p[3] = 20;
	CHECK_EQ_INT(mg_rtcp_parse(p, 40, 1, &h), MG_RTP_BAD_LENGTH);
	/* random input never crashes */
	srand(3);
	uint8_t r[80];
	for (int i = 0; i < 100000; i++) {
		size_t l = (size_t)(rand() % 80);
		for (size_t k = 0; k < l; k++)
			r[k] = (uint8_t)rand();
		r[0] = (uint8_t)(0x80 | (r[0] & 0x3f));
		(void)mg_rtcp_parse(r, l, 1, &h);
		struct mg_rtp_hdr rh;
		(void)mg_rtp_parse(r, l, 1, &rh);
	}
}

int main(void)
{
	test_demux();
	test_rtp();
	test_rtcp();
	return CHECK_DONE();
}
