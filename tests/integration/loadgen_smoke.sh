#!/usr/bin/env bash
# The load generator itself (tests/perf/loadgen, M17) in CI: 20 calls for 3 s through
# mediagate (pmd-config/af_packet-2if.conf on veths, generator and sink in their own
# namespaces), plain RTP and SDES-SRTP (libsrtp2 at both ends, mediagate's own key per
# leg), then once through dpdk-testpmd io forwarding (the P5 anchor). Each run must
# deliver every counted packet (zero loss), intact, with a finite latency; mediagate's
# counters must agree with the generator's. Two negative checks show the generator
# notices loss: with nothing forwarding, and with one call's media blocked via ng.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MG_BUILD:-$root/build}
source "$root/scripts/lib/netns.sh"
source "$root/tests/perf/loadgen/lgnet.sh"
id="lgs$$"
prefix="mglgsmoke$$"
ngport=$((20000 + ($$ + 4321) % 10000))
work=$(mktemp -d)
middle_pid=""
cleanup() { lg_middle_stop; lg_net_down; rm -rf "$work"; }
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	tail -20 "$work"/*.log 2>/dev/null | grep -v "^EAL" || true
	exit 1
}
ok() { echo "ok: $*"; }
result() { grep -oP "(?<= $2=)[^ ]+" "$1"; } # file key -> value from the RESULT line

lg_net_up
lg_mediagate_start || fail "mediagate start"
NG=(ip netns exec "${id}mid" timeout 5 rtpengine-ng-client --proxy-address=127.0.0.1 --proxy-port="$ngport")
tel() { printf '%s\n' "$1" | timeout 5 dpdk-telemetry.py -f "$prefix"; }

for srtp in off AES_CM_128_HMAC_SHA1_80; do
	args=(--calls 20 --seconds 3 --warmup 0.5 --linger 0.5 --max-loss 0
	      --direction carrier,agents --ng "127.0.0.1:$ngport" --prefix "smoke-$srtp")
	[ "$srtp" = off ] || args+=(--srtp --suite "$srtp")
	tel /mediagate/stats >"$work/before.json"
	"${LG[@]}" "${args[@]}" >"$work/out" || { cat "$work/out"; fail "loadgen through mediagate (srtp $srtp)"; }
	cat "$work/out"
	tel /mediagate/stats >"$work/after.json"
	sent=$(result "$work/out" sent)
	# 20 calls x 2 legs x 50 packets/s x 3 s = 6000 counted packets (a busy machine may
	# starve the generator: at least half proves the pacing)
	[ "$sent" -ge 3000 ] || fail "only $sent packets counted as sent"
	[ "$(result "$work/out" received)" = "$sent" ] || fail "loss through mediagate"
	[ "$(result "$work/out" silent)" = 0 ] || fail "silent streams"
	med=$(result "$work/out" lat_median_us); p99=$(result "$work/out" lat_p99_us)
	[ "$med" -gt 0 ] && [ "$p99" -ge "$med" ] && [ "$p99" -lt 1000000 ] || fail "latency not finite: $med / $p99 us"
	python3 - "$work/before.json" "$work/after.json" "$(result "$work/out" all_sent)" "$(result "$work/out" all_received)" <<'PY' || fail "mediagate counters"
import json, sys
def flat(d, out, path=""):
    for k, v in d.items():
        if isinstance(v, dict): flat(v, out, path + k + ".")
        elif isinstance(v, (int, float)): out[path + k] = v
    return out
b, a = (flat(json.load(open(p)), {}) for p in sys.argv[1:3])
sent, received = int(sys.argv[3]), int(sys.argv[4])
d = {k: a[k] - b.get(k, 0) for k in a}
rx = [v for k, v in d.items() if k.endswith("rx_packets") or k.endswith("rx_pkts")]
tx = [v for k, v in d.items() if k.endswith("tx_packets") or k.endswith("tx_pkts")]
# IPv6 (kernel neighbour discovery on the veths) is not the generator's traffic
drops = {k: v for k, v in d.items() if "drop" in k and "ipv6" not in k and v}
print("mediagate: rx", max(rx) if rx else None, "tx", max(tx) if tx else None, "drops", drops)
# what the generator's sinks received went through mediagate: sent by a worker, or held
# for ARP and sent by the control lcore; warm-up packets that reached a port before its call
# existed count as no_session and never arrive
relayed = (max(tx) if tx else 0) + d.get("/mediagate/stats.neighbor_held_sent", 0)
assert rx and max(rx) >= received, ("mediagate received fewer than the generator's sinks", d)
assert relayed >= received, ("mediagate relayed fewer than the generator's sinks received", d)
assert received >= sent - d.get("/mediagate/stats.no_session", 0), ("lost", sent, received, d)
assert not drops, drops
PY
	ok "mediagate, srtp $srtp: $sent packets, zero loss, latency median $med us, p99 $p99 us"
done

# The pktgen path (tests/perf/pktgen, docs/pktgen.md): calls set up with
# loadgen --setup-only, pcaps written by rtp-pcap.py, A's frames put raw on the generator's
# veth (as pktgen would put them on a NIC): B must receive every one of them, relayed.
"${LG[@]}" --calls 3 --direction carrier,agents --ng "127.0.0.1:$ngport" --prefix pcap \
	--setup-only "$work/legs" >"$work/setup.out" 2>&1 || { cat "$work/setup.out"; fail "loadgen --setup-only"; }
[ "$(grep -c '^A ' "$work/legs")" = 3 ] || fail "legs file"
python3 "$root/tests/perf/pktgen/rtp-pcap.py" "$work/legs" --packets 10 --out-prefix "$work/rtp" \
	--a-src-mac "$(lg_mac "${id}gen" pgen)" --a-dst-mac "$(lg_mac "${id}mid" mgc)" \
	--b-src-mac "$(lg_mac "${id}sink" psink)" --b-dst-mac "$(lg_mac "${id}mid" mga)" || fail "rtp-pcap.py"
ip netns exec "${id}sink" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.92.2.2", 5000)); s.settimeout(2)
open(sys.argv[1], "w").close(); n = 0
try:
    while True:
        d = s.recv(2048); n += len(d) == 172 and d[0] == 0x80
except socket.timeout: pass
print(n)' "$work/sink.ready" >"$work/sink.count" &
sink=$!
for i in $(seq 1 50); do [ -e "$work/sink.ready" ] && break; sleep 0.1; done
ip netns exec "${id}gen" python3 -c '
import socket, struct, sys
f = open(sys.argv[1], "rb"); f.read(24)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("pgen", 0))
while True:
    h = f.read(16)
    if len(h) < 16: break
    s.send(f.read(struct.unpack("<IIII", h)[2]))' "$work/rtp-A.pcap" || fail "raw send"
wait $sink
[ "$(cat "$work/sink.count")" = 30 ] || fail "pcap frames relayed to B: $(cat "$work/sink.count") of 30"
"${LG[@]}" --calls 3 --ng "127.0.0.1:$ngport" --prefix pcap --delete-only >/dev/null || fail "--delete-only"
ok "pktgen pcap (3 legs x 10 frames): all 30 relayed to B; calls deleted"

# Negative check: block one call's A side mid-run; the generator must see the loss.
"${LG[@]}" --calls 20 --seconds 3 --warmup 0.3 --linger 0.3 --max-loss 0 --direction carrier,agents \
	--ng "127.0.0.1:$ngport" --prefix blk >"$work/out" &
lg=$!
sleep 1.2
"${NG[@]}" "block media" --call-id=blk-3 --from-tag=a3 >/dev/null || fail "block media"
set +e; wait $lg; rc=$?; set -e
cat "$work/out"
[ "$rc" = 2 ] || fail "loadgen did not fail on a blocked call (exit $rc)"
[ "$(result "$work/out" lost)" -ge 20 ] || fail "blocked call's loss not counted"
ok "blocked call: loss seen and the run failed (exit 2)"
lg_middle_stop

# The P5 anchor: dpdk-testpmd io forwarding on the same ports, SRTP end to end.
lg_testpmd_start || fail "testpmd start"
"${LG[@]}" --mode forward --calls 20 --seconds 3 --warmup 0.5 --linger 0.5 --max-loss 0 \
	--srtp >"$work/out" || { cat "$work/out"; fail "loadgen through testpmd"; }
cat "$work/out"
[ "$(result "$work/out" received)" -ge 3000 ] || fail "too few packets through testpmd"
ok "testpmd io forwarding: zero loss, latency median $(result "$work/out" lat_median_us) us"
lg_middle_stop

# Nothing in the middle: every packet lost, and the generator says so.
set +e
"${LG[@]}" --mode forward --calls 5 --seconds 1 --warmup 0.2 --linger 0.3 --max-loss 0 >"$work/out"
rc=$?
set -e
grep RESULT "$work/out"
[ "$rc" = 2 ] && [ "$(result "$work/out" received)" = 0 ] || fail "no forwarder, but no loss reported"
ok "no forwarder: 100 % loss reported, exit 2"
echo "PASS loadgen_smoke"
