#!/usr/bin/env bash
# Every virtual-port profile starts: mediagate comes up on tap, memif, null and ring
# ports (af_packet is covered by the relay tests), answers ng and telemetry, and stops
# cleanly on SIGTERM. One run uses hugepages (2 MiB pages reserved here, EAL without
# --no-huge, --in-memory), the others run without. A broken profile is refused with the
# field named.
set -uo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MG_BUILD:-$root/build}
mg=$build/app/mediagate/mediagate
ns="mgp$$"
work=$(mktemp -d)
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work" /var/run/dpdk/mgprof$$*
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ip netns add "$ns"
ip -n "$ns" link set lo up

start_and_check() { # name, extra --set args...
	local name=$1
	shift
	local prefix="mgprof$$$name" port=$((21000 + RANDOM % 8000))
	ip netns exec "$ns" "$mg" --profile "$name" --set eal.file_prefix="$prefix" \
		--set control.ng_listen="127.0.0.1:$port" "$@" >"$work/$name.log" 2>&1 &
	local pid=$! up=0
	for i in $(seq 1 50); do
		if ip netns exec "$ns" python3 "$root/tests/tools/ng.py" "$port" '{"command":"ping"}' 2>/dev/null | grep -q pong; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ $up -eq 1 ] || { cat "$work/$name.log"; fail "$name: no ng answer"; }
	printf '/mediagate/interfaces\n' | dpdk-telemetry.py -f "$prefix" >"$work/$name.tel" ||
		fail "$name: telemetry"
	grep -q '"device"' "$work/$name.tel" || fail "$name: no interface in telemetry"
	kill -TERM $pid
	wait $pid || fail "$name: exit status $? after SIGTERM"
	grep -q "stopping" "$work/$name.log" || fail "$name: did not stop cleanly"
	echo "ok: profile $name $* up, answered ng and telemetry, stopped cleanly"
}

start_and_check null
start_and_check ring
start_and_check tap
start_and_check memif --set "eal.args=--no-huge -m 1024 --no-pci --vdev=net_memif0,role=server,id=0,socket=$work/memif.sock"

# hugepages: reserve 2 MiB pages and run without --no-huge
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
before=$(cat $hp)
want=$((before + 256))
echo $want >$hp
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
if [ "$(cat $hp)" -ge 128 ]; then
	start_and_check null --set "eal.args=--in-memory --no-pci --vdev=net_null0,copy=0"
	grep -q "No free 2048 kB hugepages\|--no-huge" "$work/null.log" && fail "did not use hugepages"
else
	echo "note: the kernel gave no 2 MiB hugepages; hugepage run skipped"
fi
echo $before >$hp

# R5: the ng socket answers only its allowlist, the telemetry socket is root-only
port=$((21000 + RANDOM % 8000))
ip netns exec "$ns" "$mg" --profile null --set eal.file_prefix="mgprof$$deny" \
	--set control.ng_listen="127.0.0.1:$port" --set control.ng_allow=10.0.0.0/8 >"$work/deny.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do [ -S "/var/run/dpdk/mgprof$$deny/dpdk_telemetry.v2" ] && break; sleep 0.1; done
sleep 0.5
ip netns exec "$ns" python3 "$root/tests/tools/ng.py" "$port" '{"command":"ping"}' >/dev/null 2>&1 &&
	fail "ng answered a source outside control.ng_allow"
printf '/mediagate/stats\n' | dpdk-telemetry.py -f "mgprof$$deny" | grep -q '"ng_denied": 1' ||
	fail "the refused ng request was not counted"
mode=$(stat -c %a "/var/run/dpdk/mgprof$$deny/dpdk_telemetry.v2")
[ "$mode" = 600 ] || fail "telemetry socket mode is $mode, not 600"
kill $pid; wait $pid
echo "ok: ng request from outside the allowlist not answered, counted; telemetry socket mode 600"

# a broken profile names its field
cat >"$work/bad.conf" <<'CONF'
[eal]
args = --no-huge --no-pci
[lcores]
workers = 1
[interface.lan]
device = net_null0
address = 10.0.0.1/33
CONF
"$mg" --profile "$work/bad.conf" >"$work/bad.log" 2>&1 && fail "bad profile accepted"
grep -q "line 7: interface.lan.address" "$work/bad.log" || { cat "$work/bad.log"; fail "bad profile error does not name line and field"; }
echo "ok: bad profile refused: $(grep -o "line 7.*" "$work/bad.log")"
echo "PASS profiles_start"
