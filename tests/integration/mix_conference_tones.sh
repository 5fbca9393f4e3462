#!/usr/bin/env bash
# Conference mixing on the worker with real RTP on af_packet ports, driven through ng:
# a customer (400 Hz, PCMU) and an agent (700 Hz, PCMU) relayed; a supervisor (1100 Hz,
# PCMA, its own call with the contact's contact-id; it loses every 7th packet and swaps
# every 5th with the next) joins -> 3-party conference: each hears the two others and not
# itself (Goertzel on the decoded audio); a DTMF event of the customer reaches the others
# (RFC 4733, not mixed) and not the customer; the supervisor muted (nobody hears it, it
# still hears); the customer on hold (hears silence, is not heard); back; the supervisor
# leaves -> the two relay again. Telemetry: /mediagate/conferences and the totals.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init mxt
mg_lan_up "$id"
mg_start
source "$root/scripts/lib/mixtest.sh"
ok "mediagate up"

# customer (a:4000) <-> agent (b:5000); supervisor (a:4100) <-> nobody (b:5100, silent)
mix_call c1 cust ag1 10.91.0.2 4000 10.91.0.3 5000 K1 customer agent 0
cust_to=$to0 ag1_to=$to1
mix_call s1 sup sdummy 10.91.0.2 4100 10.91.0.3 5100 K1 third-party agent 8
sup_to=$to0
ok "calls c1 (customer-agent) and s1 (supervisor) set up"

start=$(python3 -c 'import time; print(time.time() + 3.0)')
dur=36 # long enough for slow steps (sanitizer builds, a loaded machine)
party cust a 10.91.0.2:4000 "$cust_to" --ssrc 0xc0000001 --law u --freq 400 \
	--start-at "$start" --duration $dur --dtmf-at 5.5:5
party ag1 b 10.91.0.3:5000 "$ag1_to" --ssrc 0xa0000001 --law u --freq 700 \
	--start-at "$start" --duration $dur
party sup a 10.91.0.2:4100 "$sup_to" --ssrc 0x50000001 --law a --freq 1100 \
	--start-at "$start" --duration $dur --loss-every 7 --reorder-every 5
at() { python3 -c "import time; time.sleep(max(0, $start + $1 - time.time()))"; }
after() { local v="t_$1"; python3 -c "import time; time.sleep(max(0, ${!v} + $2 - time.time()))"; }

# each mark is taken once the step's requests are answered (then it is in effect); each
# phase lasts 3 s from there
at 0.3; mark relay0
at 3.0; mark join_sent
a=$(ng_ok '{"command":"join conference","call-id":"s1","from-tag":"sup","contact-id":"K1"}')
echo "$a" | grep -q '"participants": 3' || fail "join answer: $a"
mark join
after join 3.5
tel /mediagate/conferences >"$work/conf.json" || fail "telemetry conferences"
tel /mediagate/stats >"$work/stats.json" || fail "telemetry stats"
mark mute_sent
ng_ok '{"command":"conference mute","call-id":"s1","from-tag":"sup"}' >/dev/null
mark mute
after mute 3; mark hold_sent
ng_ok '{"command":"conference unmute","call-id":"s1","from-tag":"sup"}' >/dev/null
ng_ok '{"command":"conference hold","call-id":"c1","from-tag":"cust"}' >/dev/null
mark hold
after hold 3; mark unhold_sent
ng_ok '{"command":"conference unhold","call-id":"c1","from-tag":"cust"}' >/dev/null
mark unhold
after unhold 3; mark leave_sent
a=$(ng_ok '{"command":"leave conference","call-id":"s1","from-tag":"sup"}')
echo "$a" | grep -q '"mode": "relay"' || fail "leave answer: $a"
mark leave
after leave 3; mark relay2
tel /mediagate/stats >"$work/stats2.json" || fail "telemetry stats"
mark end
python3 -c "import time; $start + $dur > time.time() + 0.5 or exit(1)" || fail "the steps took longer than the participants run"
wait "${mix_pids[@]}" || fail "a participant failed"

U=400 A=700 S=1100
hears cust relay0 join_sent --hear $A --not $U,$S
hears ag1 relay0 join_sent --hear $U --not $A,$S
ok "relay: customer and agent hear each other"
hears cust join mute_sent --hear $A,$S --not $U
hears ag1 join mute_sent --hear $U,$S --not $A
hears sup join mute_sent --hear $U,$A --not $S
ok "3-party conference: everyone hears the two others, not itself (supervisor input lossy and reordered)"
hears ag1 join mute_sent --events 5
hears sup join mute_sent --events 5
hears cust join mute_sent --events 0
ok "DTMF of the customer forwarded to agent and supervisor as RFC 4733 events, not back"
hears cust mute hold_sent --hear $A --not $U,$S
hears ag1 mute hold_sent --hear $U --not $A,$S
hears sup mute hold_sent --hear $U,$A --not $S
ok "supervisor muted: nobody hears it, it hears both"
hears cust hold unhold_sent --silent
hears ag1 hold unhold_sent --hear $S --not $U,$A
hears sup hold unhold_sent --hear $A --not $U,$S
ok "customer on hold: hears silence, is not heard"
hears cust unhold leave_sent --hear $A,$S --not $U
ok "customer back from hold"
hears cust leave relay2 --hear $A --not $U,$S
hears ag1 leave relay2 --hear $U --not $A,$S
hears sup leave relay2 --no-audio
ok "supervisor left: customer and agent relay again, the supervisor gets nothing"

python3 - "$work" <<'PY' || fail "telemetry check"
import json, sys, os
w = sys.argv[1]
conf = json.load(open(os.path.join(w, "conf.json")))["/mediagate/conferences"]
assert conf["conferences"] == 1, conf
k = conf["K1"]
assert k["participants"] == 3 and k["ticks"] >= 100, k
ports = {k["p%d_rtp_port" % i]: i for i in range(8) if "p%d_rtp_port" % i in k}
assert len(ports) == 3, k
lossy = [i for i in ports.values() if k["p%d_lost" % i] >= 5]
assert lossy, "the supervisor's lost frames are not counted: %s" % k
for i in ports.values():
    assert k["p%d_frames_out" % i] >= 100 and 1 <= k["p%d_jb_target" % i] <= 12, k
st = json.load(open(os.path.join(w, "stats.json")))["/mediagate/stats"]
assert st["conferences"] == 1 and st["conference_participants"] == 3, st
assert st["conference_ticks"] >= 100 and st["conference_packets_out"] >= 300, st
assert st["conference_lost_frames_active"] >= 5, st
assert st["conference_events_out"] >= 10, st
assert st["ng_join_conference"] == 1, st
st2 = json.load(open(os.path.join(w, "stats2.json")))["/mediagate/stats"]
assert st2["conferences"] == 0 and st2["conference_participants"] == 0, st2
print("telemetry ok: overruns", st2["conference_tick_overruns"], "of", st2["conference_rounds"], "rounds")
PY
ok "telemetry: /mediagate/conferences and totals"

# errors: clear answers, never a crash
a=$(ngj '{"command":"join conference","call-id":"nope","from-tag":"x","contact-id":"K1"}')
echo "$a" | grep -q 'Unknown call-id' || fail "unknown call: $a"
a=$(ngj '{"command":"leave conference","call-id":"c1"}')
echo "$a" | grep -q 'not in a conference' || fail "leave outside a conference: $a"
a=$(ngj '{"command":"join conference","call-id":"c1"}')
echo "$a" | grep -q '"result": "ok"' || fail "join of the contact's own call: $a"
echo "$a" | grep -q '"mode": "relay"' || fail "a 2-party conference must stay a relay: $a"
ok "bad requests answered with errors"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS mix_conference_tones"
