/* Ethernet / IPv4 / UDP / ARP / ICMP parsing and building on plain byte buffers.
 *
 * Everything here works on (pointer, length) so the same code runs on mbuf data in
 * the workers, in unit tests and under the fuzzer. Parsers never read past `len`
 * and report why they rejected a frame, so every drop has a named counter. */
#ifndef MG_NET_H
#define MG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_ETHER_ADDR_LEN 6
#define MG_ETHERTYPE_IPV4 0x0800
#define MG_ETHERTYPE_ARP  0x0806
#define MG_ETHERTYPE_IPV6 0x86dd
#define MG_ETHERTYPE_VLAN 0x8100
#define MG_IPPROTO_ICMP	  1
#define MG_IPPROTO_UDP	  17
#define MG_ETH_HDR_LEN	  14
#define MG_IPV4_HDR_LEN	  20
#define MG_UDP_HDR_LEN	  8
#define MG_ARP_LEN	  28
#define MG_ETH_IP_UDP_LEN (MG_ETH_HDR_LEN + MG_IPV4_HDR_LEN + MG_UDP_HDR_LEN)

struct mg_mac {
	uint8_t b[MG_ETHER_ADDR_LEN];
};

/* Why a frame was not accepted by mg_net_parse(); each value is a drop counter. */
enum mg_net_verdict {
	MG_NET_UDP = 0,	       /* IPv4/UDP addressed to us: payload is valid */
	MG_NET_ARP,	       /* ARP packet (parsed separately with mg_arp_parse) */
	MG_NET_ICMP,	       /* ICMP for one of our addresses */
	MG_NET_DROP_RUNT,      /* shorter than the headers it claims */
	MG_NET_DROP_ETHERTYPE, /* VLAN, LLDP, anything but IPv4/ARP/IPv6 */
	MG_NET_DROP_IPV6,      /* IPv6 is not served yet */
	MG_NET_DROP_IP_HDR,    /* bad version, IHL, total length */
	MG_NET_DROP_IP_CSUM,   /* IPv4 header checksum wrong */
	MG_NET_DROP_FRAGMENT,  /* fragments are not reassembled */
	MG_NET_DROP_TTL,       /* TTL 0 */
	MG_NET_DROP_PROTO,     /* neither UDP nor ICMP */
	MG_NET_DROP_UDP_HDR,   /* UDP length inconsistent with IP length */
	MG_NET_DROP_UDP_CSUM,  /* UDP checksum wrong */
	MG_NET_DROP_NOT_MINE,  /* not addressed to one of our MACs/addresses */
	MG_NET_DROP_SRC,       /* source is broadcast/multicast/zero/loopback: never latch it */
	MG_NET_VERDICT_COUNT
};

const char *mg_net_verdict_name(enum mg_net_verdict v);

/* Offsets and addresses of a parsed frame; addresses and ports in host byte order. */
struct mg_pkt_info {
	uint16_t l3_off;      /* offset of the IPv4 header */
	uint16_t l4_off;      /* offset of the UDP/ICMP header */
	uint16_t payload_off; /* offset of the UDP payload */
	uint16_t payload_len; /* UDP payload length */
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
	uint8_t ttl;
	struct mg_mac src_mac;
};

/* Checksum verification options: hardware may have checked already. */
enum mg_csum_mode {
	MG_CSUM_VERIFY = 0, /* compute in software */
	MG_CSUM_GOOD,	    /* the NIC said good: skip */
};

/* Parses an Ethernet frame. `is_local_ip` decides whether an IPv4 destination is
 * ours (NULL: accept any). Returns the verdict and fills `info` for UDP/ICMP. */
enum mg_net_verdict mg_net_parse(const uint8_t *frame, size_t len, enum mg_csum_mode ip_csum,
				 enum mg_csum_mode l4_csum,
				 bool (*is_local_ip)(uint32_t ip, void *arg), void *arg,
				 struct mg_pkt_info *info);

/* Internet checksum helpers (RFC 1071). */
uint32_t mg_csum_partial(const void *data, size_t len, uint32_t sum);
uint16_t mg_csum_fold(uint32_t sum);
uint16_t mg_ipv4_hdr_csum(const uint8_t *ip_hdr);
/* UDP checksum over pseudo header + UDP header + payload (udp points at the UDP header,
 * udp_len includes it); returns the value to store (0 is sent as 0xffff). */
uint16_t mg_udp_csum(uint32_t src_ip, uint32_t dst_ip, const uint8_t *udp, size_t udp_len);

/* A UDP checksum after only the addresses and ports changed (relaying an unchanged
 * payload), from the old checksum, without reading the payload (RFC 1624). The old
 * checksum must not be 0 ("none"). */
uint16_t mg_udp_csum_update(uint16_t old_csum, uint32_t old_src, uint32_t old_dst,
			    uint16_t old_sport, uint16_t old_dport, uint32_t new_src,
			    uint32_t new_dst, uint16_t new_sport, uint16_t new_dport);

/* Writes Ethernet + IPv4 + UDP headers in front of a payload that already sits at
 * frame + MG_ETH_IP_UDP_LEN; computes both checksums unless udp_csum_offload. */
struct mg_udp_tuple {
	struct mg_mac src_mac, dst_mac;
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
	uint8_t ttl, tos;
};
void mg_net_build_udp(uint8_t *frame, const struct mg_udp_tuple *t, uint16_t payload_len,
		      uint16_t ip_id, bool udp_csum_offload);

/* ARP (IPv4 over Ethernet only). */
enum mg_arp_op { MG_ARP_REQUEST = 1, MG_ARP_REPLY = 2 };
struct mg_arp {
	uint16_t op;
	struct mg_mac sha, tha;
	uint32_t spa, tpa; /* host order */
};
/* Returns 0 and fills `arp`, or -1 for anything that is not Ethernet/IPv4 ARP. */
int mg_arp_parse(const uint8_t *frame, size_t len, struct mg_arp *arp);
/* Builds a complete ARP frame (request when op is MG_ARP_REQUEST: broadcast, tha zero).
 * Returns its length (60, padded to the Ethernet minimum). frame must hold 60 bytes. */
size_t mg_arp_build(uint8_t *frame, uint16_t op, const struct mg_mac *sha, uint32_t spa,
		    const struct mg_mac *tha, uint32_t tpa);

/* ICMP echo: turns a valid echo request (already parsed as MG_NET_ICMP) into the
 * reply in place: swaps MACs and addresses, fixes checksums. Returns 0, or -1 when the
 * ICMP message is not an echo request or is malformed (bad ICMP checksum included). */
int mg_icmp_echo_reply_in_place(uint8_t *frame, size_t len, const struct mg_pkt_info *info);

static inline bool mg_mac_is_zero(const struct mg_mac *m)
{
	return !(m->b[0] | m->b[1] | m->b[2] | m->b[3] | m->b[4] | m->b[5]);
}
static inline bool mg_mac_is_multicast(const struct mg_mac *m)
{
	return m->b[0] & 1;
}

/* "a.b.c.d" <-> host-order address; parse returns 0 or -1. */
int mg_ipv4_parse(const char *s, uint32_t *ip);
const char *mg_ipv4_str(uint32_t ip, char buf[16]);
int mg_mac_parse(const char *s, struct mg_mac *mac);

#endif
