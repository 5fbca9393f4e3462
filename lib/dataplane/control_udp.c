/* The control lcore's UDP side for lib/webrtc: STUN/DTLS datagrams from the slow-path ring
 * go to a registered handler, and its answers leave on the control lcore's own tx queue. */
#include <string.h>

#include "dp_internal.h"

void mg_dp_set_slow_udp_handler(struct mg_dataplane *dp,
				void (*on_udp)(void *arg, const struct mg_dp_slow_udp *pkt),
				unsigned (*tick)(void *arg), void *arg)
{
	dp->slow_udp = on_udp;
	dp->slow_tick = tick;
	dp->slow_arg = arg;
}

int mg_dp_control_send_udp(struct mg_dataplane *dp, unsigned iface, uint16_t src_port,
			   uint32_t dst_ip, uint16_t dst_port, const struct mg_mac *dst_mac,
			   const uint8_t *payload, uint16_t len)
{
	static uint16_t ip_id;
	if (iface >= dp->n_ifaces || !dst_mac) {
		dp->control.tx_drops++;
		return -1;
	}
	const struct mg_iface *ifc = &dp->ifaces[iface];
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint8_t *frame =
	    m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(MG_ETH_IP_UDP_LEN + len)) : NULL;
	if (!frame) {
		rte_pktmbuf_free(m);
		dp->control.tx_drops++;
		return -1;
	}
	memcpy(frame + MG_ETH_IP_UDP_LEN, payload, len);
	struct mg_udp_tuple t = {.dst_mac = *dst_mac,
				 .src_ip = ifc->cfg.address,
				 .dst_ip = dst_ip,
				 .src_port = src_port,
				 .dst_port = dst_port,
				 .ttl = 64,
				 .tos = 0xb8};
	memcpy(t.src_mac.b, ifc->mac.addr_bytes, 6);
	mg_net_build_udp(frame, &t, len, ip_id++, false);
	if (rte_eth_tx_burst(ifc->port_id, dp->control_txq, &m, 1) != 1) {
		dp->control.tx_drops++;
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}
