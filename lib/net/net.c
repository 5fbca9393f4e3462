#include "net.h"

#include <stdio.h>
#include <string.h>

static const char *const verdict_names[MG_NET_VERDICT_COUNT] = {
    [MG_NET_UDP] = "udp",
    [MG_NET_ARP] = "arp",
    [MG_NET_ICMP] = "icmp",
    [MG_NET_DROP_RUNT] = "drop_runt",
    [MG_NET_DROP_ETHERTYPE] = "drop_ethertype",
    [MG_NET_DROP_IPV6] = "drop_ipv6",
    [MG_NET_DROP_IP_HDR] = "drop_ip_header",
    [MG_NET_DROP_IP_CSUM] = "drop_ip_checksum",
    [MG_NET_DROP_FRAGMENT] = "drop_ip_fragment",
    [MG_NET_DROP_TTL] = "drop_ttl",
    [MG_NET_DROP_PROTO] = "drop_ip_protocol",
    [MG_NET_DROP_UDP_HDR] = "drop_udp_header",
    [MG_NET_DROP_UDP_CSUM] = "drop_udp_checksum",
    [MG_NET_DROP_NOT_MINE] = "drop_not_mine",
    [MG_NET_DROP_SRC] = "drop_bad_source",
};

const char *mg_net_verdict_name(enum mg_net_verdict v)
{
	return (unsigned)v < MG_NET_VERDICT_COUNT ? verdict_names[v] : "unknown";
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

uint32_t mg_csum_partial(const void *data, size_t len, uint32_t sum)
{
	/* RFC 1071: the one's complement sum does not depend on byte order, so add the
	 * data as native 32-bit words into a 64-bit accumulator and swap the folded
	 * 16-bit result once at the end (x86 is little-endian). */
	const uint8_t *p = data;
	uint64_t acc = 0;
	while (len >= 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len)
		acc += *p; /* the odd byte is the high byte of a big-endian word: low in native */
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint32_t be = (uint32_t)(((acc & 0xff) << 8) | (acc >> 8));
	uint64_t total = (uint64_t)be + sum;
	while (total >> 32)
		total = (total & 0xffffffff) + (total >> 32);
	return (uint32_t)total;
}

uint16_t mg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t mg_ipv4_hdr_csum(const uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint32_t sum = mg_csum_partial(ip, 10, 0);
	sum = mg_csum_partial(ip + 12, ihl - 12, sum);
	return mg_csum_fold(sum);
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

uint16_t mg_udp_csum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len)
{
	uint32_t sum = pseudo_sum(src_ip, dst_ip, MG_IPPROTO_UDP, (uint16_t)udp_len);
	sum = mg_csum_partial(udp, 6, sum); /* skip the checksum field itself */
	sum = mg_csum_partial(udp + 8, udp_len - 8, sum);
	uint16_t c = mg_csum_fold(sum);
	return c == 0 ? 0xffff : c;
}

static bool src_ip_is_bogus(uint32_t ip)
{
	uint8_t first = ip >> 24;
	return ip == 0 || ip == 0xffffffff || first == 127 || (first >= 224);
}

enum mg_net_verdict mg_net_parse(const uint8_t *f, size_t len, enum mg_csum_mode ip_csum,
				 enum mg_csum_mode l4_csum, bool (*is_local_ip)(uint32_t, void *),
				 void *arg, struct mg_pkt_info *info)
{
	if (len < MG_ETH_HDR_LEN)
		return MG_NET_DROP_RUNT;
	uint16_t ethertype = rd16(f + 12);
	if (ethertype == MG_ETHERTYPE_ARP)
		return MG_NET_ARP;
	if (ethertype == MG_ETHERTYPE_IPV6)
		return MG_NET_DROP_IPV6;
	if (ethertype != MG_ETHERTYPE_IPV4)
		return MG_NET_DROP_ETHERTYPE;

	const uint8_t *ip = f + MG_ETH_HDR_LEN;
	size_t avail = len - MG_ETH_HDR_LEN;
	if (avail < MG_IPV4_HDR_LEN)
		return MG_NET_DROP_RUNT;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < MG_IPV4_HDR_LEN || tot < ihl)
		return MG_NET_DROP_IP_HDR;
	if (tot > avail)
		return MG_NET_DROP_RUNT; /* trailing Ethernet padding is fine, missing bytes are not
					  */
	if (ip_csum == MG_CSUM_VERIFY && mg_csum_fold(mg_csum_partial(ip, ihl, 0)) != 0)
		return MG_NET_DROP_IP_CSUM;
	if (rd16(ip + 6) & 0x3fff) /* MF flag or a fragment offset */
		return MG_NET_DROP_FRAGMENT;
	if (ip[8] == 0)
		return MG_NET_DROP_TTL;

	memcpy(info->src_mac.b, f + 6, MG_ETHER_ADDR_LEN);
	info->l3_off = MG_ETH_HDR_LEN;
	info->l4_off = (uint16_t)(MG_ETH_HDR_LEN + ihl);
	info->src_ip = rd32(ip + 12);
	info->dst_ip = rd32(ip + 16);
	info->ttl = ip[8];
	if (is_local_ip && !is_local_ip(info->dst_ip, arg))
		return MG_NET_DROP_NOT_MINE;
	if (src_ip_is_bogus(info->src_ip) || mg_mac_is_multicast(&info->src_mac))
		return MG_NET_DROP_SRC;

	const uint8_t *l4 = ip + ihl;
	size_t l4_len = tot - ihl;
	if (ip[9] == MG_IPPROTO_ICMP) {
		if (l4_len < 8)
			return MG_NET_DROP_RUNT;
		info->payload_off = info->l4_off;
		info->payload_len = (uint16_t)l4_len;
		info->src_port = info->dst_port = 0;
		return MG_NET_ICMP;
	}
	if (ip[9] != MG_IPPROTO_UDP)
		return MG_NET_DROP_PROTO;
	if (l4_len < MG_UDP_HDR_LEN)
		return MG_NET_DROP_RUNT;
	size_t udp_len = rd16(l4 + 4);
	if (udp_len < MG_UDP_HDR_LEN || udp_len > l4_len)
		return MG_NET_DROP_UDP_HDR;
	uint16_t sent = rd16(l4 + 6);
	if (l4_csum == MG_CSUM_VERIFY && sent != 0 &&
	    mg_udp_csum(info->src_ip, info->dst_ip, l4, udp_len) != sent)
		return MG_NET_DROP_UDP_CSUM;
	info->src_port = rd16(l4);
	info->dst_port = rd16(l4 + 2);
	info->payload_off = (uint16_t)(info->l4_off + MG_UDP_HDR_LEN);
	info->payload_len = (uint16_t)(udp_len - MG_UDP_HDR_LEN);
	return MG_NET_UDP;
}

void mg_net_build_udp(uint8_t *f, const struct mg_udp_tuple *t, uint16_t payload_len,
		      uint16_t ip_id, bool udp_csum_offload)
{
	memcpy(f, t->dst_mac.b, 6);
	memcpy(f + 6, t->src_mac.b, 6);
	wr16(f + 12, MG_ETHERTYPE_IPV4);
	uint8_t *ip = f + MG_ETH_HDR_LEN;
	uint16_t udp_len = (uint16_t)(payload_len + MG_UDP_HDR_LEN);
	ip[0] = 0x45;
	ip[1] = t->tos;
	wr16(ip + 2, (uint16_t)(udp_len + MG_IPV4_HDR_LEN));
	wr16(ip + 4, ip_id);
	wr16(ip + 6, 0x4000); /* DF: RTP is never fragmented by us */
	ip[8] = t->ttl;
	ip[9] = MG_IPPROTO_UDP;
	wr32(ip + 12, t->src_ip);
	wr32(ip + 16, t->dst_ip);
	wr16(ip + 10, 0);
	wr16(ip + 10, mg_ipv4_hdr_csum(ip));
	uint8_t *udp = ip + MG_IPV4_HDR_LEN;
	wr16(udp, t->src_port);
	wr16(udp + 2, t->dst_port);
	wr16(udp + 4, udp_len);
	wr16(udp + 6, 0);
	if (!udp_csum_offload)
		wr16(udp + 6, mg_udp_csum(t->src_ip, t->dst_ip, udp, udp_len));
}

uint16_t mg_udp_csum_update(uint16_t old_csum, uint32_t old_src, uint32_t old_dst,
			    uint16_t old_sport, uint16_t old_dport, uint32_t new_src,
			    uint32_t new_dst, uint16_t new_sport, uint16_t new_dport)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over each changed 16-bit word */
	uint32_t sum = (uint16_t)~old_csum;
	const uint16_t old_w[6] = {old_src >> 16,    old_src & 0xffff, old_dst >> 16,
				   old_dst & 0xffff, old_sport,	       old_dport};
	const uint16_t new_w[6] = {new_src >> 16,    new_src & 0xffff, new_dst >> 16,
				   new_dst & 0xffff, new_sport,	       new_dport};
	for (int i = 0; i < 6; i++)
		sum += (uint16_t)~old_w[i] + (uint32_t)new_w[i];
	uint16_t c = mg_csum_fold(sum);
	return c == 0 ? 0xffff : c;
}

int mg_arp_parse(const uint8_t *f, size_t len, struct mg_arp *arp)
{
	if (len < MG_ETH_HDR_LEN + MG_ARP_LEN || rd16(f + 12) != MG_ETHERTYPE_ARP)
		return -1;
	const uint8_t *a = f + MG_ETH_HDR_LEN;
	/* Ethernet hardware, IPv4 protocol, 6/4 address lengths */
	if (rd16(a) != 1 || rd16(a + 2) != MG_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return -1;
	arp->op = rd16(a + 6);
	if (arp->op != MG_ARP_REQUEST && arp->op != MG_ARP_REPLY)
		return -1;
	memcpy(arp->sha.b, a + 8, 6);
	arp->spa = rd32(a + 14);
	memcpy(arp->tha.b, a + 18, 6);
	arp->tpa = rd32(a + 24);
	return 0;
}

size_t mg_arp_build(uint8_t *f, uint16_t op, const struct mg_mac *sha, uint32_t spa,
		    const struct mg_mac *tha, uint32_t tpa)
{
	static const struct mg_mac broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	const struct mg_mac zero = {{0}};
	bool request = op == MG_ARP_REQUEST;
	memset(f, 0, 60);
	memcpy(f, request ? broadcast.b : tha->b, 6);
	memcpy(f + 6, sha->b, 6);
	wr16(f + 12, MG_ETHERTYPE_ARP);
	uint8_t *a = f + MG_ETH_HDR_LEN;
	wr16(a, 1);
	wr16(a + 2, MG_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha->b, 6);
	wr32(a + 14, spa);
	memcpy(a + 18, request ? zero.b : tha->b, 6);
	wr32(a + 24, tpa);
	return 60;
}

int mg_icmp_echo_reply_in_place(uint8_t *f, size_t len, const struct mg_pkt_info *info)
{
	uint8_t *ip = f + info->l3_off;
	uint8_t *icmp = f + info->l4_off;
	size_t icmp_len = info->payload_len;
	if ((size_t)info->l4_off + icmp_len > len || icmp_len < 8 || icmp[0] != 8 || icmp[1] != 0)
		return -1;
	if (mg_csum_fold(mg_csum_partial(icmp, icmp_len, 0)) != 0)
		return -1;
	uint8_t mac[6];
	memcpy(mac, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	uint8_t addr[4];
	memcpy(addr, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, addr, 4);
	ip[8] = 64;
	wr16(ip + 10, 0);
	wr16(ip + 10, mg_ipv4_hdr_csum(ip));
	icmp[0] = 0; /* echo reply */
	wr16(icmp + 2, 0);
	wr16(icmp + 2, mg_csum_fold(mg_csum_partial(icmp, icmp_len, 0)));
	return 0;
}

int mg_ipv4_parse(const char *s, uint32_t *ip)
{
	unsigned a, b, c, d;
	char tail;
	if (!s || sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return -1;
	if (a > 255 || b > 255 || c > 255 || d > 255)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

const char *mg_ipv4_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

int mg_mac_parse(const char *s, struct mg_mac *mac)
{
	unsigned v[6];
	char tail;
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac->b[i] = (uint8_t)v[i];
	return 0;
}
