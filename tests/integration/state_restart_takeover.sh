#!/usr/bin/env bash
# Session state in a real redis-server: a call with RTP flowing survives
#  1. mediagate killed with SIGKILL and started again (same prefix): the call is restored
#     on the same ports with its latched addresses and media resumes both ways;
#  2. a takeover: that instance killed, a standby with another key prefix takes the
#     call over (state.takeover), media resumes, the keys move to the standby's prefix;
#  3. Redis killed and restarted during the call and during ng offers: media and ng keep
#     working, and the new call reaches Redis once it is back.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init t
rport=$((ngport + 1))
redis_pid=""
mg_cleanup_extra() {
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf /var/run/dpdk/mgst$$*
}
mg_lan_up "$id"
start_mg() { # log-name prefix [takeover]
	ip netns exec "${id}core" "$build/app/mediagate/mediagate" --profile af_packet \
		--set eal.file_prefix="mgst$$$1" --set control.ng_listen="127.0.0.1:$ngport" \
		--set control.prometheus_listen=off --set state.redis="127.0.0.1:$rport" \
		--set state.prefix="$2" ${3:+--set state.takeover="$3"} >"$work/mg-$1.log" 2>&1 &
	mg_pid=$!
	mg_wait_ng "${id}core" "$ngport" || fail "mediagate ($1) did not answer ng"
}
tel_of() { printf '%s\n' "$2" | timeout 5 dpdk-telemetry.py -f "mgst$$$1"; }

mg_redis_start
start_mg first "mg:a:"
"${NG[@]}" offer --call-id=keep --from-tag=a --sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' >"$work/o" || fail offer
"${NG[@]}" answer --call-id=keep --from-tag=a --to-tag=b --sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n' >"$work/a" || fail answer
pb=$(new_port "$work/o"); pa=$(new_port "$work/a")
for i in $(seq 1 30); do "${RC[@]}" exists "mg:a:call:keep" | grep -q 1 && break; sleep 0.1; done
"${RC[@]}" exists "mg:a:call:keep" | grep -q 1 || fail "the call never reached Redis"
ok "call in Redis under mg:a: (ports $pa/$pb)"

# 14 s of RTP both ways, through everything below
peer="$root/tests/tools/rtp_peer.py"
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4000 --to "10.91.0.1:$pa" --ssrc 0xa --expect-ssrc 0xb \
	--count 700 --interval 0.02 --linger 1 --ready "$work/a.ready" --wait "$work/b.ready" >"$work/a.json" &
p1=$!
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$pb" --ssrc 0xb --expect-ssrc 0xa \
	--count 700 --interval 0.02 --linger 1 --ready "$work/b.ready" --wait "$work/a.ready" >"$work/b.json" &
p2=$!
sleep 2.5
tel_of first "/mediagate/session,keep" >"$work/s0.json"

# 1. kill -9 and restart
kill -9 "$mg_pid"; wait "$mg_pid" 2>/dev/null || true
start_mg second "mg:a:"
grep -q "restored 1 session(s) from mg:a:" "$work/mg-second.log" || fail "call not restored after kill -9"
tel_of second "/mediagate/session,keep" >"$work/s1.json"
sleep 1.5
tel_of second "/mediagate/session,keep" >"$work/s2.json"
python3 - "$work" <<'PY' || fail "restart check"
import json, os, sys
w = sys.argv[1]
j = lambda n: json.load(open(os.path.join(w, n)))["/mediagate/session"]
before, restored, later = j("s0.json"), j("s1.json"), j("s2.json")
for side in ("offerer", "answerer"):
    assert restored[side]["local_rtp_port"] == before[side]["local_rtp_port"], side
    assert restored[side]["latched_rtp"] == before[side]["latched_rtp"] != "none", (side, restored[side])
    assert later[side]["rtp_in_packets"] >= 40 and later[side]["rtp_out_packets"] >= 40, (side, later[side])
    assert later[side]["drop_unlatched_source"] == 0, later[side]
print("restored on the same ports, latched, media resumed:",
      {s: later[s]["rtp_in_packets"] for s in ("offerer", "answerer")})
PY
ok "kill -9 + restart: call restored on the same ports with its latches; media resumed both ways"

# 2. takeover by a standby with its own prefix
kill -9 "$mg_pid"; wait "$mg_pid" 2>/dev/null || true
start_mg standby "mg:b:" "mg:a:"
grep -q "restored 1 session(s) from mg:a:" "$work/mg-standby.log" || fail "standby did not take the call over"
for i in $(seq 1 30); do "${RC[@]}" exists "mg:b:call:keep" | grep -q 1 && break; sleep 0.1; done
"${RC[@]}" exists "mg:b:call:keep" | grep -q 1 || fail "the call is not under the standby's prefix"
"${RC[@]}" exists "mg:a:call:keep" | grep -q 0 || fail "the failed appliance's key was not removed"
sleep 1.5
tel_of standby "/mediagate/session,keep" | python3 -c '
import json, sys
s = json.load(sys.stdin)["/mediagate/session"]
for side in ("offerer", "answerer"):
    assert s[side]["rtp_in_packets"] >= 40 and s[side]["rtp_out_packets"] >= 40, (side, s[side])' \
	|| fail "media did not resume on the standby"
ok "takeover: the standby restored the call from mg:a:, moved it to mg:b:, media resumed"

# 3. Redis down during the call and during an offer
kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
redis_pid=""
"${NG[@]}" offer --call-id=while-down --from-tag=x --sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4100 RTP/AVP 0\r\n' >/dev/null \
	|| fail "ng offer failed while Redis is down"
sleep 1
tel_of standby "/mediagate/session,keep" >"$work/s3.json"
sleep 1
tel_of standby "/mediagate/session,keep" >"$work/s4.json"
python3 - "$work" <<'PY' || fail "media stopped while Redis was down"
import json, os, sys
w = sys.argv[1]
j = lambda n: json.load(open(os.path.join(w, n)))["/mediagate/session"]
a, b = j("s3.json"), j("s4.json")
for side in ("offerer", "answerer"):
    assert b[side]["rtp_out_packets"] - a[side]["rtp_out_packets"] >= 30, (side, a[side], b[side])
PY
tel_of standby /mediagate/stats | python3 -c '
import json, sys
s = json.load(sys.stdin)["/mediagate/stats"]
assert s["state_connected"] == 0 and s["state_pending"] >= 1, s' || fail "telemetry does not show Redis down with writes pending"
mg_redis_start
for i in $(seq 1 50); do "${RC[@]}" exists "mg:b:call:while-down" | grep -q 1 && break; sleep 0.1; done
"${RC[@]}" exists "mg:b:call:while-down" | grep -q 1 || fail "the offer made while Redis was down never reached Redis"
"${RC[@]}" exists "mg:b:call:keep" | grep -q 1 || fail "an acknowledged call was lost across the Redis restart"
ok "Redis killed: media and ng kept working; the queued state was written when it came back"

wait $p1 $p2
python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "end-to-end media"
import json, sys
for p in sys.argv[1:]:
    r = json.load(open(p))
    print({k: r[k] for k in ("sent", "received", "intact", "wrong_ssrc")})
    # two process restarts cost a few seconds of the 14; everything else arrives intact
    assert r["received"] >= 450 and r["intact"] == r["received"] and r["wrong_ssrc"] == 0, r
PY
ok "peers received their media intact across both restarts"
echo "PASS state_restart_takeover"
