#include "rtp.h"

static const char *const class_names[MG_DEMUX_CLASS_COUNT] = {
    "rtp", "rtcp", "stun", "dtls", "zrtp", "turn_channel", "unknown",
};

const char *mg_demux_class_name(enum mg_demux_class c)
{
	return (unsigned)c < MG_DEMUX_CLASS_COUNT ? class_names[c] : "unknown";
}

static const char *const status_names[MG_RTP_STATUS_COUNT] = {
    "ok", "too_short", "bad_version", "bad_padding", "bad_length", "bad_type",
};

const char *mg_rtp_status_name(enum mg_rtp_status s)
{
	return (unsigned)s < MG_RTP_STATUS_COUNT ? status_names[s] : "unknown";
}

enum mg_demux_class mg_demux_classify(const uint8_t *p, size_t len)
{
	if (len == 0)
		return MG_DEMUX_UNKNOWN;
	uint8_t b = p[0];
	/* RFC 7983 section 7: the first byte decides. */
	if (b <= 3)
		return MG_DEMUX_STUN;
	if (b >= 16 && b <= 19)
		return MG_DEMUX_ZRTP;
	if (b >= 20 && b <= 63)
		return MG_DEMUX_DTLS;
	if (b >= 64 && b <= 79)
		return MG_DEMUX_TURN_CHANNEL;
	if (b >= 128 && b <= 191) {
		/* RFC 5761 section 4: RTCP packet types 192..223 occupy the RTP PT+M byte. */
		if (len >= 2 && p[1] >= 192 && p[1] <= 223)
			return MG_DEMUX_RTCP;
		return MG_DEMUX_RTP;
	}
	return MG_DEMUX_UNKNOWN;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum mg_rtp_status mg_rtp_parse(const uint8_t *p, size_t len, int check_padding,
				struct mg_rtp_hdr *h)
{
	if (len < 12)
		return MG_RTP_TOO_SHORT;
	if ((p[0] >> 6) != 2)
		return MG_RTP_BAD_VERSION;
	h->csrc_count = p[0] & 0x0f;
	h->has_extension = (p[0] >> 4) & 1;
	h->marker = p[1] >> 7;
	h->payload_type = p[1] & 0x7f;
	h->seq = rd16(p + 2);
	h->timestamp = rd32(p + 4);
	h->ssrc = rd32(p + 8);
	size_t hlen = 12 + (size_t)h->csrc_count * 4;
	if (hlen > len)
		return MG_RTP_TOO_SHORT;
	if (h->has_extension) {
		if (hlen + 4 > len)
			return MG_RTP_TOO_SHORT;
		hlen += 4 + (size_t)rd16(p + hlen + 2) * 4;
		if (hlen > len)
			return MG_RTP_TOO_SHORT;
	}
	size_t pad = 0;
	if (check_padding && (p[0] & 0x20)) {
		pad = p[len - 1];
		if (pad == 0 || pad > len - hlen)
			return MG_RTP_BAD_PADDING;
	}
	h->header_len = (uint16_t)hlen;
	h->padding_len = (uint8_t)pad;
	h->payload_len = (uint16_t)(len - hlen - pad);
	return MG_RTP_OK;
}

enum mg_rtp_status mg_rtcp_parse(const uint8_t *p, size_t len, int whole_compound,
				 struct mg_rtcp_hdr *h)
{
	if (len < 8)
		return MG_RTP_TOO_SHORT;
	size_t off = 0;
	int first = 1;
	do {
		if (len - off < 4)
			return MG_RTP_TOO_SHORT;
		const uint8_t *q = p + off;
		if ((q[0] >> 6) != 2)
			return MG_RTP_BAD_VERSION;
		if (q[1] < 192 || q[1] > 223)
			return MG_RTP_BAD_TYPE;
		size_t plen = ((size_t)rd16(q + 2) + 1) * 4;
		if (plen > len - off)
			return MG_RTP_BAD_LENGTH;
		if (first) {
			if (plen < 8)
				return MG_RTP_BAD_LENGTH;
			h->packet_type = q[1];
			h->count = q[0] & 0x1f;
			h->sender_ssrc = rd32(q + 4);
			h->first_len = (uint16_t)plen;
			first = 0;
		}
		off += plen;
	} while (whole_compound && off < len);
	return MG_RTP_OK;
}
