/* RTP and RTCP header parsing and RFC 7983 demultiplexing.
 *
 * Works on plain byte buffers. Parsers never read past `len`; every rejection has its
 * own status so the caller can count it. */
#ifndef MG_RTP_H
#define MG_RTP_H

#include <stddef.h>
#include <stdint.h>

/* What arrived on a media port, told apart by the first bytes (RFC 7983, RFC 5761). */
enum mg_demux_class {
	MG_DEMUX_RTP = 0,
	MG_DEMUX_RTCP,
	MG_DEMUX_STUN,
	MG_DEMUX_DTLS,
	MG_DEMUX_ZRTP,
	MG_DEMUX_TURN_CHANNEL,
	MG_DEMUX_UNKNOWN, /* empty or a first byte no protocol claims */
	MG_DEMUX_CLASS_COUNT
};

enum mg_demux_class mg_demux_classify(const uint8_t *p, size_t len);
const char *mg_demux_class_name(enum mg_demux_class c);

enum mg_rtp_status {
	MG_RTP_OK = 0,
	MG_RTP_TOO_SHORT,   /* less than the fixed header, or CSRCs/extension cut off */
	MG_RTP_BAD_VERSION, /* version is not 2 */
	MG_RTP_BAD_PADDING, /* padding count is zero or exceeds the payload */
	MG_RTP_BAD_LENGTH,  /* RTCP length field disagrees with the datagram */
	MG_RTP_BAD_TYPE,    /* RTCP packet type outside 192..223 */
	MG_RTP_STATUS_COUNT
};
const char *mg_rtp_status_name(enum mg_rtp_status s);

struct mg_rtp_hdr {
	uint8_t payload_type;
	uint8_t marker;
	uint8_t csrc_count;
	uint8_t has_extension;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	uint16_t header_len;  /* fixed header + CSRCs + extension */
	uint16_t payload_len; /* without padding */
	uint8_t padding_len;
};

/* Parses an RTP header. With check_padding = 0 (SRTP before decryption, where the
 * padding byte is still encrypted) the padding bit is not interpreted. */
enum mg_rtp_status mg_rtp_parse(const uint8_t *p, size_t len, int check_padding,
				struct mg_rtp_hdr *h);

struct mg_rtcp_hdr {
	uint8_t packet_type; /* of the first packet of the compound */
	uint8_t count;
	uint32_t sender_ssrc;
	uint16_t first_len; /* bytes of the first RTCP packet */
};

/* Parses the first RTCP packet of a compound and checks its length field. When
 * `whole_compound` is set every following packet's header and length is checked too
 * (plain RTCP; for SRTCP only the first header is in clear text). */
enum mg_rtp_status mg_rtcp_parse(const uint8_t *p, size_t len, int whole_compound,
				 struct mg_rtcp_hdr *h);

/* Sequence number helpers: signed distance a - b on the 16-bit circle. */
static inline int16_t mg_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

#endif
