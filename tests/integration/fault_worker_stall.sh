#!/usr/bin/env bash
# Fault: a worker lcore stalled from outside (a SCHED_FIFO hog pinned on the worker's CPU
# for 5 s, as a noisy neighbour or a firmware stall would do). mediagate must survive it,
# the stall must be visible (the worker's poll loop stops advancing), and media must
# resume both ways as soon as the CPU is back, with everything that is delivered intact.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init stall
hog=""
mg_cleanup_extra() { [ -n "$hog" ] && kill "$hog" 2>/dev/null; wait 2>/dev/null || true; }
mg_lan_up "$id" || fail "cannot create namespaces"
mg_start
"${NG[@]}" offer --call-id=stall --from-tag=a --sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' >"$work/o" || fail offer
"${NG[@]}" answer --call-id=stall --from-tag=a --to-tag=b --sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n' >"$work/a" || fail answer
pb=$(new_port "$work/o"); pa=$(new_port "$work/a")

# the worker thread and its CPU
tid=""
for t in /proc/"$mg_pid"/task/*; do
	grep -q "worker" "$t/comm" 2>/dev/null && tid=$(basename "$t") && break
done
[ -n "$tid" ] || fail "no worker thread found in /proc/$mg_pid/task"
cpu=$(taskset -pc "$tid" | grep -oP 'list: \K[0-9]+$') || fail "worker thread $tid is not pinned to one CPU"

peer="$root/tests/tools/rtp_peer.py"
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4000 --to "10.91.0.1:$pa" --ssrc 0xa --expect-ssrc 0xb \
	--count 600 --interval 0.02 --linger 1 --ready "$work/a.ready" --wait "$work/b.ready" >"$work/a.json" &
p1=$!
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$pb" --ssrc 0xb --expect-ssrc 0xa \
	--count 600 --interval 0.02 --linger 1 --ready "$work/b.ready" --wait "$work/a.ready" >"$work/b.json" &
p2=$!
sleep 2
loops() { tel /mediagate/lcores | python3 -c '
import json, sys
d = json.load(sys.stdin)["/mediagate/lcores"]
print(sum(v["loops"] for v in d.values() if v.get("role") == "worker"))'; }
out_pkts() { tel "/mediagate/session,stall" | python3 -c '
import json, sys
s = json.load(sys.stdin)["/mediagate/session"]
print(s["offerer"]["rtp_out_packets"], s["answerer"]["rtp_out_packets"])'; }

# loops per second of the worker, measured over about 1 s
rate() {
	local t0 t1 a b
	t0=$(date +%s%N); a=$(loops); sleep 1; t1=$(date +%s%N); b=$(loops)
	echo $(((b - a) * 1000000000 / (t1 - t0)))
}
r_before=$(rate)
timeout 5 chrt -f 99 taskset -c "$cpu" sh -c 'while :; do :; done' &
hog=$!
sleep 0.3
r_stall=$(rate)
wait "$hog" 2>/dev/null || true
hog=""
kill -0 "$mg_pid" 2>/dev/null || fail "mediagate died during the stall"
read -r o0 a0 < <(out_pkts)
sleep 1.5
read -r o1 a1 < <(out_pkts)
r_after=$(rate)
echo "worker $tid on CPU $cpu: poll loops per second before $r_before, stalled $r_stall, after $r_after"
echo "packets sent to the offerer / answerer in the 1.5 s after the stall: $((o1 - o0)) / $((a1 - a0))"
[ "$r_stall" -lt $((r_before / 4)) ] && [ "$r_after" -gt $((4 * r_stall)) ] || fail "the stall was not real (the worker kept polling) or it never recovered"
[ $((o1 - o0)) -ge 30 ] && [ $((a1 - a0)) -ge 30 ] || fail "media did not resume both ways after the stall"
ok "worker stalled for 5 s, then media resumed both ways"

wait $p1 $p2
python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "end-to-end media"
import json, sys
for p in sys.argv[1:]:
    r = json.load(open(p))
    print({k: r[k] for k in ("sent", "received", "intact", "wrong_ssrc")})
    # 12 s of media; about 5 s of it met the stalled worker (queued or dropped in the kernel)
    assert r["received"] >= 300 and r["intact"] == r["received"] and r["wrong_ssrc"] == 0, r
PY
ok "peers received the media intact, minus what the stall cost"
echo "PASS fault_worker_stall"
