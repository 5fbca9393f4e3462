# Network namespaces for mediagate's functional tests and the demo (source this file).
#
#   mg_lan_up ID      creates namespaces ${ID}core (mediagate, DPDK port on veth mg0),
#                     ${ID}lan (a bridge), ${ID}a and ${ID}b (two SIP/RTP peers):
#                       mediagate 10.91.0.1  (set in pmd-config/af_packet.conf)
#                       peer A    10.91.0.2   peer B 10.91.0.3   (one /24 LAN)
#   mg_lan_down ID    removes them.
#
# The peers' veths get "ethtool -K ... tx off": otherwise the kernel leaves partial UDP
# checksums on packets that leave through a veth, and mediagate (which verifies UDP
# checksums) would drop them as drop_udp_checksum.

mg_lan_up() {
	local id=$1
	mg_lan_down "$id" 2>/dev/null
	ip netns add "${id}core"
	ip netns add "${id}lan"
	ip netns add "${id}a"
	ip netns add "${id}b"
	ip -n "${id}lan" link add br0 type bridge
	ip -n "${id}lan" link set br0 up
	# mediagate's port
	ip link add mg0 netns "${id}core" type veth peer name vmg netns "${id}lan"
	# peers
	ip link add pa netns "${id}a" type veth peer name va netns "${id}lan"
	ip link add pb netns "${id}b" type veth peer name vb netns "${id}lan"
	local v
	for v in vmg va vb; do
		ip -n "${id}lan" link set "$v" master br0
		ip -n "${id}lan" link set "$v" up
	done
	ip -n "${id}core" link set mg0 up
	ip -n "${id}core" link set lo up
	ip -n "${id}a" addr add 10.91.0.2/24 dev pa
	ip -n "${id}b" addr add 10.91.0.3/24 dev pb
	local p
	for p in a b; do
		ip -n "${id}$p" link set "p$p" up
		ip -n "${id}$p" link set lo up
		ip netns exec "${id}$p" ethtool -K "p$p" tx off >/dev/null
	done
	# mediagate's own veth: no offloads the DPDK side would have to complete
	ip netns exec "${id}core" ethtool -K mg0 tx off rx off >/dev/null 2>&1 || true
}

mg_lan_down() {
	local id=$1 n
	for n in core lan a b; do
		ip netns del "${id}$n" 2>/dev/null || true
	done
}

# Waits until mediagate answers an ng ping on 127.0.0.1:$2 inside namespace $1.
mg_wait_ng() {
	local ns=$1 port=$2 i
	for i in $(seq 1 100); do
		if ip netns exec "$ns" timeout 2 rtpengine-ng-client --proxy-address=127.0.0.1 \
			--proxy-port="$port" ping 2>/dev/null | grep -q pong; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# mg_sip_up ID      (after mg_lan_up ID) adds namespace ${ID}sip for a SIP proxy, deployed
#                   as operators do: its SIP side on the LAN, its ng side on a private link
#                   to mediagate's control plane (the ng socket is a kernel UDP socket in
#                   ${ID}core, whose kernel has no address on the LAN: 10.91.0.1 is DPDK's):
#                     proxy  10.91.0.10/24 on veth ps, bridged into the LAN
#                     ng link  ${ID}core ngc 10.99.0.1/30 <-> ${ID}sip ngp 10.99.0.2/30
#                   so mediagate runs with control.ng_listen=10.99.0.1:PORT and
#                   control.ng_allow=10.99.0.2/32.
# mg_sip_down ID    removes ${ID}sip (the links go with it).
mg_sip_up() {
	local id=$1
	mg_sip_down "$id" 2>/dev/null
	ip netns add "${id}sip"
	ip link add ps netns "${id}sip" type veth peer name vs netns "${id}lan"
	ip -n "${id}lan" link set vs master br0
	ip -n "${id}lan" link set vs up
	ip -n "${id}sip" addr add 10.91.0.10/24 dev ps
	ip link add ngp netns "${id}sip" type veth peer name ngc netns "${id}core"
	ip -n "${id}sip" addr add 10.99.0.2/30 dev ngp
	ip -n "${id}core" addr add 10.99.0.1/30 dev ngc
	ip -n "${id}sip" link set lo up
	ip -n "${id}sip" link set ps up
	ip -n "${id}sip" link set ngp up
	ip -n "${id}core" link set ngc up
	# same checksum rule as the peers' veths (see the top of this file)
	ip netns exec "${id}sip" ethtool -K ps tx off >/dev/null
	ip netns exec "${id}sip" ethtool -K ngp tx off >/dev/null
}

mg_sip_down() {
	ip netns del "${1}sip" 2>/dev/null || true
}
