/* libFuzzer: one Ethernet frame through every parser a worker applies to it:
 * L2/L3/UDP (with checksums), ARP, ICMP echo, RFC 7983 demux, RTP and RTCP. */
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "rtp.h"

static bool ours(uint32_t ip, void *arg)
{
	(void)arg;
	return ip == 0x0a5b0001; /* 10.91.0.1 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* work on a copy the exact size of the input so ASan sees any over-read */
	uint8_t *f = malloc(size ? size : 1);
	memcpy(f, data, size);
	struct mg_pkt_info info;
	enum mg_net_verdict v =
	    mg_net_parse(f, size, MG_CSUM_VERIFY, MG_CSUM_VERIFY, ours, NULL, &info);
	if (v == MG_NET_ARP) {
		struct mg_arp arp;
		(void)mg_arp_parse(f, size, &arp);
	} else if (v == MG_NET_ICMP) {
		(void)mg_icmp_echo_reply_in_place(f, size, &info);
	} else if (v == MG_NET_UDP) {
		const uint8_t *p = f + info.payload_off;
		if ((size_t)info.payload_off + info.payload_len > size)
			abort(); /* the parser promised a payload inside the frame */
		enum mg_demux_class c = mg_demux_classify(p, info.payload_len);
		struct mg_rtp_hdr rh;
		struct mg_rtcp_hdr ch;
		if (c == MG_DEMUX_RTP && mg_rtp_parse(p, info.payload_len, 1, &rh) == MG_RTP_OK &&
		    rh.header_len + rh.payload_len + rh.padding_len != info.payload_len)
			abort();
		if (c == MG_DEMUX_RTCP)
			(void)mg_rtcp_parse(p, info.payload_len, 1, &ch);
	}
	free(f);
	return 0;
}
