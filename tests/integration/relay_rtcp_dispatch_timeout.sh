#!/usr/bin/env bash
# mediagate with two worker lcores on af_packet (three queue pairs, so the kernel's
# fanout delivers packets to workers that do not own the call and the software
# dispatch must hand them over), two calls: one with rtcp-mux on both sides, one with
# RTCP on port+1. Checks RTP and RTCP relayed both ways for both calls, calls placed
# on different workers, packets dispatched between workers, STUN handed to the
# control lcore and counted, and sessions removed after media.timeout without media.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init d
mg_lan_up "$id"
# Three lcores on however many CPUs there are: the two workers may share one.
cpus=$(nproc)
w2cpu=$((cpus > 2 ? 2 : cpus - 1))
mg_start --set "eal.args=--no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=mg0,qpairs=3 --lcores=0@0,1@$((cpus - 1)),2@$w2cpu" \
	--set "lcores.workers=1,2" --set media.timeout=10
ok "mediagate up with 2 workers"

sdp() { # ip port mux
	local s=$'v=0\r\no=- 1 1 IN IP4 '$1$'\r\ns=-\r\nc=IN IP4 '$1$'\r\nt=0 0\r\nm=audio '$2$' RTP/AVP 0\r\n'
	[ "$3" = mux ] && s+=$'a=rtcp-mux\r\n'
	printf '%s' "$s"
}

# call 1: rtcp-mux both sides; call 2: RTCP on port+1
"${NG[@]}" offer --call-id=mux --from-tag=a1 --sdp="$(sdp 10.91.0.2 4000 mux)" >"$work/o1" || fail offer1
grep -q "^a=rtcp-mux" "$work/o1" || fail "offered rtcp-mux not kept"
"${NG[@]}" answer --call-id=mux --from-tag=a1 --to-tag=b1 --sdp="$(sdp 10.91.0.3 5000 mux)" >"$work/a1" || fail answer1
"${NG[@]}" offer --call-id=plain --from-tag=a2 --sdp="$(sdp 10.91.0.2 4002 no)" >"$work/o2" || fail offer2
"${NG[@]}" answer --call-id=plain --from-tag=a2 --to-tag=b2 --sdp="$(sdp 10.91.0.3 5002 no)" >"$work/a2" || fail answer2
pb1=$(new_port "$work/o1"); pa1=$(new_port "$work/a1")
pb2=$(new_port "$work/o2"); pa2=$(new_port "$work/a2")
ok "two calls set up: mux ($pa1/$pb1), plain ($pa2/$pb2)"

peer="$root/tests/tools/rtp_peer.py"
common=(--count 100 --interval 0.01 --start-delay 0.1 --linger 1.5 --rtcp-every 10)
for n in a1 b1 a2 b2; do rm -f "$work/$n.ready"; done
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4000 --to "10.91.0.1:$pa1" --ssrc 0xa1 --expect-ssrc 0xb1 "${common[@]}" --ready "$work/a1.ready" --wait "$work/b1.ready" >"$work/a1.json" &
p1=$!
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$pb1" --ssrc 0xb1 --expect-ssrc 0xa1 "${common[@]}" --ready "$work/b1.ready" --wait "$work/a1.ready" >"$work/b1.json" &
p2=$!
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4002 --to "10.91.0.1:$pa2" --rtcp-to "10.91.0.1:$((pa2 + 1))" --ssrc 0xa2 --expect-ssrc 0xb2 "${common[@]}" --ready "$work/a2.ready" --wait "$work/b2.ready" >"$work/a2.json" &
p3=$!
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5002 --to "10.91.0.1:$pb2" --rtcp-to "10.91.0.1:$((pb2 + 1))" --ssrc 0xb2 --expect-ssrc 0xa2 "${common[@]}" --ready "$work/b2.ready" --wait "$work/a2.ready" >"$work/b2.json" &
p4=$!
wait $p1 $p2 $p3 $p4
python3 - "$work" <<'PY' || fail "media check"
import json, os, sys
w = sys.argv[1]
for n in ("a1", "b1", "a2", "b2"):
    r = json.load(open(os.path.join(w, n + ".json")))
    print(n, {k: r[k] for k in ("received", "intact", "rtcp", "wrong_ssrc", "sources")})
    assert r["received"] >= 95 and r["intact"] == r["received"], (n, r)
    assert r["wrong_ssrc"] == 0, (n, r)
    assert r["rtcp"] >= 9, (n, "RTCP not relayed", r["rtcp"])
# without rtcp-mux RTCP comes from mediagate's RTP port + 1, with it from the RTP port
for n, want in (("a1", 1), ("b1", 1), ("a2", 2), ("b2", 2)):
    ports = sorted(int(s.split(":")[1]) for s in json.load(open(os.path.join(w, n + ".json")))["sources"])
    assert len(ports) == want and ports[-1] - ports[0] == want - 1, (n, ports)
PY
ok "RTP and RTCP relayed both ways, muxed and on port+1"

# STUN to a media port goes to the control lcore and is counted
ip netns exec "${id}a" python3 -c '
import socket, struct, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + os.urandom(12), ("10.91.0.1", '"$pa1"'))'
sleep 0.3
tel /mediagate/stats >"$work/stats.json"
tel /mediagate/lcores >"$work/lcores.json"
tel /mediagate/session,mux >"$work/s1.json"
tel /mediagate/session,plain >"$work/s2.json"
python3 - "$work" <<'PY' || fail "telemetry check"
import json, os, sys
w = sys.argv[1]
j = lambda n: next(iter(json.load(open(os.path.join(w, n))).values()))
st = j("stats.json")
assert st["stun_received"] == 1 and st["demux_stun"] == 1, (st["stun_received"], st["demux_stun"])
assert st["demux_rtcp"] >= 40, st["demux_rtcp"]
workers = [v for v in j("lcores.json").values() if v["role"] == "worker"]
assert len(workers) == 2, workers
moved = sum(v["dispatched_out"] for v in workers)
print("dispatched between workers:", moved, "per worker rx:", [v["rx_packets"] for v in workers])
assert moved > 0, "no packet was dispatched between workers"
assert sum(v["dispatched_in"] for v in workers) == moved
s1, s2 = j("s1.json"), j("s2.json")
assert {s1["offerer"]["worker"], s2["offerer"]["worker"]} == {0, 1}, "calls not spread over workers"
assert s2["offerer"]["rtcp_in_packets"] >= 10 and s2["answerer"]["rtcp_out_packets"] >= 10, s2
PY
ok "calls on both workers, packets dispatched to their owner, STUN counted"

# No media for media.timeout (10 s): both sessions go
for i in $(seq 1 100); do
	n=$(tel /mediagate/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["/mediagate/stats"]["sessions"])')
	[ "$n" = 0 ] && break
	sleep 0.25
done
[ "$n" = 0 ] || fail "sessions not removed after the media timeout ($n left)"
grep -q "removed 2 session(s) without media" "$work/mg.log" || grep -q "removed 1 session(s) without media" "$work/mg.log" || fail "no expiry in the log"
tel /mediagate/stats | python3 -c 'import json,sys; s=json.load(sys.stdin)["/mediagate/stats"]; assert s["legs"]==0, s["legs"]' || fail "legs left"
ok "idle sessions removed after media.timeout"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS relay_rtcp_dispatch_timeout"
