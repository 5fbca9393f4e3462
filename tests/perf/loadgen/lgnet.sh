# Network set-up for the load generator (source this file; needs $build, $id, $work).
#
#   lg_net_up        namespaces ${id}gen (A side, 10.92.1.2 on veth pgen), ${id}sink
#                    (B side, 10.92.2.2 on veth psink) and ${id}mid (the box under test,
#                    veths mgc and mga: pmd-config/af_packet-2if.conf's ports, mediagate's
#                    "carrier" 10.92.1.1 and "agents" 10.92.2.1 sides)
#   lg_net_down      removes them
#   lg_point_at_mediagate / lg_point_at_forwarder
#                    static neighbour entries: towards mediagate's port MACs, or (for
#                    testpmd io forwarding, which passes frames unchanged) straight to
#                    the other end's MAC through a route via the middle box
#   lg_mediagate_start / lg_testpmd_start / lg_middle_stop   the box in ${id}mid
#   LG=(...)         the loadgen command with the namespaces and addresses filled in,
#                    pinned to CPU $GEN_CPU (default 0)
#
# The end veths get "ethtool -K ... tx off" (test-environment.md: otherwise the kernel
# leaves partial UDP checksums that a checksum-verifying receiver drops).

lg_net_up() {
	lg_net_down 2>/dev/null
	ip netns add "${id}gen"
	ip netns add "${id}mid"
	ip netns add "${id}sink"
	ip link add mgc netns "${id}mid" type veth peer name pgen netns "${id}gen"
	ip link add mga netns "${id}mid" type veth peer name psink netns "${id}sink"
	ip -n "${id}gen" addr add 10.92.1.2/24 dev pgen
	ip -n "${id}sink" addr add 10.92.2.2/24 dev psink
	local ns dev
	for ns in gen mid sink; do ip -n "${id}$ns" link set lo up; done
	for dev in mgc mga; do
		ip netns exec "${id}mid" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		ip -n "${id}mid" link set "$dev" up
		ip netns exec "${id}mid" ethtool -K "$dev" tx off rx off >/dev/null 2>&1 || true
	done
	# no IPv6 neighbour discovery noise on the measured ports
	ip netns exec "${id}gen" sysctl -qw net.ipv6.conf.pgen.disable_ipv6=1
	ip netns exec "${id}sink" sysctl -qw net.ipv6.conf.psink.disable_ipv6=1
	ip -n "${id}gen" link set pgen up
	ip -n "${id}sink" link set psink up
	ip netns exec "${id}gen" ethtool -K pgen tx off >/dev/null
	ip netns exec "${id}sink" ethtool -K psink tx off >/dev/null
	# routes to the other side through the middle box (used by the forwarding anchor)
	ip -n "${id}gen" route add 10.92.2.0/24 via 10.92.1.1
	ip -n "${id}sink" route add 10.92.1.0/24 via 10.92.2.1
	LG=(taskset -c "${GEN_CPU:-0}" "$build/tests/perf/loadgen/loadgen" --a-ns "${id}gen" --b-ns "${id}sink"
	    --ng-ns "${id}mid" --a-addr 10.92.1.2 --b-addr 10.92.2.2)
}

lg_net_down() {
	local ns
	for ns in gen mid sink; do ip netns del "${id}$ns" 2>/dev/null || true; done
}

lg_mac() { ip -n "$1" -o link show "$2" | grep -oP 'link/ether \K[0-9a-f:]+'; }

lg_point_at_mediagate() {
	ip -n "${id}gen" neigh replace 10.92.1.1 lladdr "$(lg_mac "${id}mid" mgc)" dev pgen nud permanent
	ip -n "${id}sink" neigh replace 10.92.2.1 lladdr "$(lg_mac "${id}mid" mga)" dev psink nud permanent
}

lg_point_at_forwarder() {
	ip -n "${id}gen" neigh replace 10.92.1.1 lladdr "$(lg_mac "${id}sink" psink)" dev pgen nud permanent
	ip -n "${id}sink" neigh replace 10.92.2.1 lladdr "$(lg_mac "${id}gen" pgen)" dev psink nud permanent
}

# mediagate on pmd-config/af_packet-2if.conf: control lcore 0 on CPU 0, the worker lcore
# on CPU $MID_CPU (default 1)
lg_mediagate_start() {
	local eal
	eal=$(grep -m1 -oP '^args\s*=\s*\K.*' "$root/pmd-config/af_packet-2if.conf")
	ip netns exec "${id}mid" "$build/app/mediagate/mediagate" --profile af_packet-2if \
		--set "eal.args=$eal --lcores 0@0,1@${MID_CPU:-1}" \
		--set eal.file_prefix="$prefix" --set control.ng_listen="127.0.0.1:$ngport" \
		--set control.prometheus_listen=off "$@" >>"$work/mg.log" 2>&1 &
	middle_pid=$!
	mg_wait_ng "${id}mid" "$ngport" || { echo "mediagate did not answer ng"; tail -20 "$work/mg.log"; return 1; }
	lg_point_at_mediagate
}

# dpdk-testpmd io forwarding between the same two veths (port 0 <-> port 1), the
# forwarding lcore on CPU $MID_CPU like mediagate's worker
lg_testpmd_start() {
	ip netns exec "${id}mid" dpdk-testpmd --lcores "0@0,1@${MID_CPU:-1}" --no-huge -m 512 --no-pci \
		--file-prefix="${prefix}tp" --vdev=net_af_packet0,iface=mgc \
		--vdev=net_af_packet1,iface=mga -- --forward-mode=io --total-num-mbufs=16384 \
		--nb-cores=1 --stats-period=3600 >>"$work/testpmd.log" 2>&1 &
	middle_pid=$!
	lg_point_at_forwarder
	# forwarding is up when a probe call gets through (testpmd's start-up takes seconds on
	# a busy host and prints nothing reliable when it is done)
	local i
	for i in $(seq 1 40); do
		kill -0 "$middle_pid" 2>/dev/null || { echo "testpmd exited"; tail -20 "$work/testpmd.log"; return 1; }
		"${LG[@]}" --mode forward --calls 1 --seconds 0.2 --warmup 0 --linger 0.2 \
			--max-loss 0 >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	echo "testpmd does not forward"; tail -20 "$work/testpmd.log"; return 1
}

lg_middle_stop() {
	if [ -n "${middle_pid:-}" ]; then
		kill -INT "$middle_pid" 2>/dev/null || true
		local i
		for i in $(seq 1 50); do kill -0 "$middle_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$middle_pid" 2>/dev/null || true
		wait "$middle_pid" 2>/dev/null || true
		middle_pid=""
	fi
	rm -rf "/var/run/dpdk/$prefix" "/var/run/dpdk/${prefix}tp"
}
