/* Ethernet/IPv4/UDP/ARP/ICMP parsing and building, against hand-made frames and the
 * checksum values of RFC 1071's worked example. */
#include "net.h"

#include <stdlib.h>
#include <string.h>

#include "../check.h"

static const struct mg_mac mac_a = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct mg_mac mac_b = {{0x02, 0, 0, 0, 0, 0x0b}};
#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0x0a000002u

static size_t make_udp(uint8_t *f, const char *payload, uint16_t plen)
{
	struct mg_udp_tuple t = {.src_mac = mac_a,
				 .dst_mac = mac_b,
				 .src_ip = IP_A,
				 .dst_ip = IP_B,
				 .src_port = 4000,
				 .dst_port = 30000,
				 .ttl = 64};
	memcpy(f + MG_ETH_IP_UDP_LEN, payload, plen);
	mg_net_build_udp(f, &t, plen, 7, false);
	return MG_ETH_IP_UDP_LEN + plen;
}

static bool only_b(uint32_t ip, void *arg)
{
	(void)arg;
	return ip == IP_B;
}

static void test_checksum(void)
{
	/* RFC 1071 section 3 example: words 0001 f203 f4f5 f6f7 sum to 0xddf2 (folded). */
	const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ_INT(mg_csum_fold(mg_csum_partial(data, sizeof(data), 0)), (uint16_t)~0xddf2);
	/* odd length pads with a zero byte */
	const uint8_t odd[] = {0x01, 0x02, 0x03};
	CHECK_EQ_INT(mg_csum_fold(mg_csum_partial(odd, 3, 0)), (uint16_t) ~(0x0102 + 0x0300));
}

static void test_udp_roundtrip(void)
{
	uint8_t f[256];
	size_t len = make_udp(f, "hello rtp", 9);
	struct mg_pkt_info info;
	CHECK_EQ_INT(mg_net_parse(f, len, MG_CSUM_VERIFY, MG_CSUM_VERIFY, only_b, NULL, &info),
		     MG_NET_UDP);
	CHECK_EQ_INT(info.src_ip, IP_A);
	CHECK_EQ_INT(info.dst_ip, IP_B);
	CHECK_EQ_INT(info.src_port, 4000);
	CHECK_EQ_INT(info.dst_port, 30000);
	CHECK_EQ_INT(info.payload_len, 9);
	CHECK(memcmp(f + info.payload_off, "hello rtp", 9) == 0);
	CHECK(memcmp(info.src_mac.b, mac_a.b, 6) == 0);
	/* Ethernet padding after the IP packet is accepted */
	CHECK_EQ_INT(mg_net_parse(f, len + 10, MG_CSUM_VERIFY, MG_CSUM_VERIFY, NULL, NULL, &info),
		     MG_NET_UDP);
	/* not for us */
	struct mg_pkt_info i2;
	CHECK_EQ_INT(mg_net_parse(f, len, MG_CSUM_VERIFY, MG_CSUM_VERIFY,
				  (bool (*)(uint32_t, void *))NULL, NULL, &i2),
		     MG_NET_UDP);
}

static void test_drops(void)
{
	uint8_t f[256], g[256];
	size_t len = make_udp(f, "abcdefgh", 8);
	struct mg_pkt_info info;
#define PARSE(buf, l) mg_net_parse(buf, l, MG_CSUM_VERIFY, MG_CSUM_VERIFY, only_b, NULL, &info)
	/* every truncation is a clean drop */
	for (size_t l = 0; l < len; l++)
		CHECK(PARSE(f, l) != MG_NET_UDP);
	memcpy(g, f, len);
	g[MG_ETH_HDR_LEN + 10] ^= 1; /* IP checksum */
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_IP_CSUM);
	memcpy(g, f, len);
	g[len - 1] ^= 0x40; /* payload byte: UDP checksum now wrong */
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_UDP_CSUM);
	/* a zero UDP checksum means "not computed" and is accepted */
	g[MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 6] = g[MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 7] = 0;
	CHECK_EQ_INT(PARSE(g, len), MG_NET_UDP);
	/* the NIC already checked: skipped */
	memcpy(g, f, len);
	g[len - 1] ^= 0x40;
	CHECK_EQ_INT(mg_net_parse(g, len, MG_CSUM_GOOD, MG_CSUM_GOOD, only_b, NULL, &info),
		     MG_NET_UDP);
	memcpy(g, f, len);
	g[12] = 0x86, g[13] = 0xdd;
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_IPV6);
	g[12] = 0x81, g[13] = 0x00;
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_ETHERTYPE);
	memcpy(g, f, len);
	g[MG_ETH_HDR_LEN] = 0x65; /* version 6 in an IPv4 ethertype */
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_IP_HDR);
	memcpy(g, f, len);
	g[MG_ETH_HDR_LEN + 6] = 0x20; /* MF */
	g[MG_ETH_HDR_LEN + 10] = g[MG_ETH_HDR_LEN + 11] = 0;
	uint16_t c = mg_ipv4_hdr_csum(g + MG_ETH_HDR_LEN);
	g[MG_ETH_HDR_LEN + 10] = c >> 8, g[MG_ETH_HDR_LEN + 11] = c & 0xff;
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_FRAGMENT);
	memcpy(g, f, len);
	g[MG_ETH_HDR_LEN + 9] = 6; /* TCP */
	g[MG_ETH_HDR_LEN + 10] = g[MG_ETH_HDR_LEN + 11] = 0;
	c = mg_ipv4_hdr_csum(g + MG_ETH_HDR_LEN);
	g[MG_ETH_HDR_LEN + 10] = c >> 8, g[MG_ETH_HDR_LEN + 11] = c & 0xff;
	CHECK_EQ_INT(PARSE(g, len), MG_NET_DROP_PROTO);
	memcpy(g, f, len);
	g[MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 5] = 200; /* UDP length beyond IP length */
	CHECK_EQ_INT(mg_net_parse(g, len, MG_CSUM_VERIFY, MG_CSUM_GOOD, only_b, NULL, &info),
		     MG_NET_DROP_UDP_HDR);
	/* destination is not one of ours */
	CHECK_EQ_INT(mg_net_parse(f, len, MG_CSUM_VERIFY, MG_CSUM_VERIFY, NULL, NULL, &info),
		     MG_NET_UDP);
	struct mg_udp_tuple t = {.src_mac = mac_a,
				 .dst_mac = mac_b,
				 .src_ip = IP_A,
				 .dst_ip = 0x0a000003,
				 .src_port = 1,
				 .dst_port = 2,
				 .ttl = 64};
	mg_net_build_udp(g, &t, 0, 1, false);
	CHECK_EQ_INT(PARSE(g, MG_ETH_IP_UDP_LEN), MG_NET_DROP_NOT_MINE);
	/* loopback and broadcast sources are never accepted (no latching onto them) */
	t.dst_ip = IP_B;
	t.src_ip = 0x7f000001;
	mg_net_build_udp(g, &t, 0, 1, false);
	CHECK_EQ_INT(PARSE(g, MG_ETH_IP_UDP_LEN), MG_NET_DROP_SRC);
	t.src_ip = IP_A;
	t.src_mac.b[0] = 1; /* multicast source MAC */
	mg_net_build_udp(g, &t, 0, 1, false);
	CHECK_EQ_INT(PARSE(g, MG_ETH_IP_UDP_LEN), MG_NET_DROP_SRC);
	/* random garbage of every length never crashes and is never accepted as ours */
	srand(1);
	for (int round = 0; round < 20000; round++) {
		size_t l = (size_t)(rand() % 120);
		for (size_t i = 0; i < l; i++)
			g[i] = (uint8_t)rand();
		if (l > 13 && (round & 1))
			g[12] = 0x08, g[13] = 0x00, g[14] = 0x45;
		(void)PARSE(g, l);
	}
#undef PARSE
	for (int v = 0; v < MG_NET_VERDICT_COUNT; v++)
		CHECK(strcmp(mg_net_verdict_name((enum mg_net_verdict)v), "unknown") != 0);
}

/* The incremental checksum equals a full recomputation for any payload and rewrite. */
static void test_csum_update(void)
{
	srand(11);
	for (int round = 0; round < 2000; round++) {
		uint8_t f[256], g[256];
		char payload[200];
		uint16_t plen = (uint16_t)(rand() % 200);
		for (int i = 0; i < plen; i++)
			payload[i] = (char)rand();
		struct mg_udp_tuple t = {.src_mac = mac_a,
					 .dst_mac = mac_b,
					 .ttl = 64,
					 .src_ip = (uint32_t)rand() << 1,
					 .dst_ip = (uint32_t)rand(),
					 .src_port = (uint16_t)rand(),
					 .dst_port = (uint16_t)rand()};
		memcpy(f + MG_ETH_IP_UDP_LEN, payload, plen);
		mg_net_build_udp(f, &t, plen, 1, false);
		const uint8_t *udp = f + MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN;
		uint16_t old = (uint16_t)(udp[6] << 8 | udp[7]);
		struct mg_udp_tuple u = t;
		u.src_ip = (uint32_t)rand() << 3;
		u.dst_ip = (uint32_t)rand() ^ 0x5a5a;
		u.src_port = (uint16_t)rand();
		u.dst_port = (uint16_t)rand();
		memcpy(g + MG_ETH_IP_UDP_LEN, payload, plen);
		mg_net_build_udp(g, &u, plen, 1, false);
		const uint8_t *udp2 = g + MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN;
		uint16_t want = (uint16_t)(udp2[6] << 8 | udp2[7]);
		uint16_t got = mg_udp_csum_update(old, t.src_ip, t.dst_ip, t.src_port, t.dst_port,
						  u.src_ip, u.dst_ip, u.src_port, u.dst_port);
		if (got != want)
			fprintf(stderr, "round %d: %04x != %04x\n", round, got, want);
		CHECK_EQ_INT(got, want);
	}
}

static void test_arp(void)
{
	uint8_t f[64];
	size_t n = mg_arp_build(f, MG_ARP_REQUEST, &mac_a, IP_A, NULL, IP_B);
	CHECK_EQ_INT(n, 60);
	CHECK(f[0] == 0xff && f[5] == 0xff);
	struct mg_arp arp;
	CHECK_EQ_INT(mg_arp_parse(f, n, &arp), 0);
	CHECK_EQ_INT(arp.op, MG_ARP_REQUEST);
	CHECK_EQ_INT(arp.spa, IP_A);
	CHECK_EQ_INT(arp.tpa, IP_B);
	CHECK(memcmp(arp.sha.b, mac_a.b, 6) == 0);
	struct mg_pkt_info info;
	CHECK_EQ_INT(mg_net_parse(f, n, MG_CSUM_VERIFY, MG_CSUM_VERIFY, NULL, NULL, &info),
		     MG_NET_ARP);
	n = mg_arp_build(f, MG_ARP_REPLY, &mac_b, IP_B, &mac_a, IP_A);
	CHECK_EQ_INT(mg_arp_parse(f, n, &arp), 0);
	CHECK_EQ_INT(arp.op, MG_ARP_REPLY);
	CHECK(memcmp(f, mac_a.b, 6) == 0);
	CHECK(memcmp(arp.tha.b, mac_a.b, 6) == 0);
	for (size_t l = 0; l < MG_ETH_HDR_LEN + MG_ARP_LEN; l++)
		CHECK_EQ_INT(mg_arp_parse(f, l, &arp), -1);
	f[MG_ETH_HDR_LEN + 7] = 9; /* unknown opcode */
	CHECK_EQ_INT(mg_arp_parse(f, n, &arp), -1);
}

static void test_icmp(void)
{
	uint8_t f[128];
	memset(f, 0, sizeof(f));
	/* build an echo request by hand: reuse the UDP builder for L2/L3, then patch */
	struct mg_udp_tuple t = {
	    .src_mac = mac_a, .dst_mac = mac_b, .src_ip = IP_A, .dst_ip = IP_B, .ttl = 64};
	mg_net_build_udp(f, &t, 8, 9, true); /* 8 + 8 bytes of L4 */
	uint8_t *ip = f + MG_ETH_HDR_LEN;
	ip[9] = MG_IPPROTO_ICMP;
	ip[10] = ip[11] = 0;
	uint16_t c = mg_ipv4_hdr_csum(ip);
	ip[10] = c >> 8, ip[11] = c & 0xff;
	uint8_t *icmp = ip + MG_IPV4_HDR_LEN;
	memset(icmp, 0, 16);
	icmp[0] = 8;
	icmp[4] = 0x12, icmp[5] = 0x34, icmp[7] = 1;
	memcpy(icmp + 8, "pingdata", 8);
	c = mg_csum_fold(mg_csum_partial(icmp, 16, 0));
	icmp[2] = c >> 8, icmp[3] = c & 0xff;
	size_t len = MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + 16;
	struct mg_pkt_info info;
	CHECK_EQ_INT(mg_net_parse(f, len, MG_CSUM_VERIFY, MG_CSUM_VERIFY, only_b, NULL, &info),
		     MG_NET_ICMP);
	CHECK_EQ_INT(mg_icmp_echo_reply_in_place(f, len, &info), 0);
	CHECK_EQ_INT(icmp[0], 0);
	CHECK(memcmp(f, mac_a.b, 6) == 0);
	CHECK_EQ_INT(mg_csum_fold(mg_csum_partial(icmp, 16, 0)), 0);
	CHECK_EQ_INT(mg_csum_fold(mg_csum_partial(ip, 20, 0)), 0);
	/* the reply parses as an ICMP packet addressed to A */
	CHECK_EQ_INT(mg_net_parse(f, len, MG_CSUM_VERIFY, MG_CSUM_VERIFY, NULL, NULL, &info),
		     MG_NET_ICMP);
	CHECK_EQ_INT(info.dst_ip, IP_A);
	/* a reply is not answered again, and a corrupted request is refused */
	CHECK_EQ_INT(mg_icmp_echo_reply_in_place(f, len, &info), -1);
}

static void test_text(void)
{
	uint32_t ip;
	char buf[16];
	CHECK_EQ_INT(mg_ipv4_parse("192.168.10.254", &ip), 0);
	CHECK_EQ_INT(ip, 0xc0a80afe);
	CHECK(strcmp(mg_ipv4_str(ip, buf), "192.168.10.254") == 0);
	CHECK_EQ_INT(mg_ipv4_parse("256.1.1.1", &ip), -1);
	CHECK_EQ_INT(mg_ipv4_parse("1.2.3", &ip), -1);
	CHECK_EQ_INT(mg_ipv4_parse("1.2.3.4x", &ip), -1);
	CHECK_EQ_INT(mg_ipv4_parse("", &ip), -1);
	struct mg_mac m;
	CHECK_EQ_INT(mg_mac_parse("02:00:0a:0b:0c:ff", &m), 0);
	CHECK(m.b[0] == 2 && m.b[5] == 0xff);
	CHECK_EQ_INT(mg_mac_parse("02:00:0a:0b:0c", &m), -1);
}

int main(void)
{
	test_checksum();
	test_udp_roundtrip();
	test_drops();
	test_csum_update();
	test_arp();
	test_icmp();
	test_text();
	return CHECK_DONE();
}
