#!/usr/bin/env bash
# Call-center flows through ng with real RTP on af_packet ports, one ng request per step:
#   relay     customer (400 Hz) <-> agent 1 (700 Hz)
#   consult   "join conference" of agent 2's call (1100 Hz) with hold-role=customer:
#             agent 1 and agent 2 talk, the customer hears silence and is not heard
#   warm      "conference unhold" of the customer: the three talk
#             "leave conference" of agent 1: back to a 2-party relay customer <-> agent 2
#   cold      rtpengine's "connect" customer -> agent 3 (1700 Hz): relay, agent 2 cut off
#   replaces  "join conference" of agent 4 (2300 Hz) replacing agent 3: a cold transfer
#             by join, which ends as a relay customer <-> agent 4
# Each participant checks what it hears by Goertzel power (tests/tools/tone_check.py).
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init mxf
mg_lan_up "$id"
mg_start
source "$root/scripts/lib/mixtest.sh"
ok "mediagate up"

# the contact's call, then one call per further agent (towards a silent far side)
mix_call c1 cust ag1 10.91.0.2 4000 10.91.0.3 5000 K2 customer agent 0
cust_to=$to0 ag1_to=$to1
mix_call c2 ag2 x2 10.91.0.3 5200 10.91.0.2 4200 K2 agent agent 8
ag2_to=$to0
mix_call c3 ag3 x3 10.91.0.3 5300 10.91.0.2 4300 K2 agent agent 0
ag3_to=$to0
mix_call c4 ag4 x4 10.91.0.3 5400 10.91.0.2 4400 K2 agent agent 0
ag4_to=$to0
ok "calls set up (agent 2 on PCMA)"

start=$(python3 -c 'import time; print(time.time() + 3.0)')
dur=30 # long enough for slow steps (sanitizer builds, a loaded machine)
party cust a 10.91.0.2:4000 "$cust_to" --ssrc 0xc0000001 --law u --freq 400 --start-at "$start" --duration $dur
party ag1 b 10.91.0.3:5000 "$ag1_to" --ssrc 0xa0000001 --law u --freq 700 --start-at "$start" --duration $dur
party ag2 b 10.91.0.3:5200 "$ag2_to" --ssrc 0xa0000002 --law a --freq 1100 --start-at "$start" --duration $dur
party ag3 b 10.91.0.3:5300 "$ag3_to" --ssrc 0xa0000003 --law u --freq 1700 --start-at "$start" --duration $dur
party ag4 b 10.91.0.3:5400 "$ag4_to" --ssrc 0xa0000004 --law u --freq 2300 --start-at "$start" --duration $dur
at() { python3 -c "import time; time.sleep(max(0, $start + $1 - time.time()))"; }
step() { # mark_before request expected-mode mark_after
	mark "$1"
	local a
	a=$(ng_ok "$2")
	echo "$a" | grep -q "\"mode\": \"$3\"" || fail "$2 -> $a (expected mode $3)"
	mark "$4"
}

after() { local v="t_$1"; python3 -c "import time; time.sleep(max(0, ${!v} + $2 - time.time()))"; }
at 0.3; mark relay
at 3.0; step consult_sent '{"command":"join conference","call-id":"c2","from-tag":"ag2","contact-id":"K2","hold-role":"customer"}' conference consult
after consult 3; step warm_sent '{"command":"conference unhold","call-id":"c1","from-tag":"cust"}' conference warm
after warm 3; step leave_sent '{"command":"leave conference","call-id":"c1","from-tag":"ag1"}' relay relay2
after relay2 3; step cold_sent '{"command":"connect","call-id":"c1","from-tag":"cust","to-call-id":"c3","to-tag":"ag3"}' relay cold
after cold 3; step repl_sent '{"command":"join conference","call-id":"c4","from-tag":"ag4","conference":"K2","replaces":"ag3"}' relay repl
after repl 3; mark end
python3 -c "import time; $start + $dur > time.time() + 0.5 or exit(1)" || fail "the steps took longer than the participants run"
wait "${mix_pids[@]}" || fail "a participant failed"

hears cust relay consult_sent --hear 700 --not 400,1100,1700
hears ag1 relay consult_sent --hear 400 --not 700,1100
ok "relay: customer <-> agent 1"
hears cust consult warm_sent --silent
hears ag1 consult warm_sent --hear 1100 --not 400,700
hears ag2 consult warm_sent --hear 700 --not 400,1100
ok "consult: agent 1 and agent 2 talk, the customer is on hold (silence, not heard)"
hears cust warm leave_sent --hear 700,1100 --not 400
hears ag1 warm leave_sent --hear 400,1100 --not 700
hears ag2 warm leave_sent --hear 400,700 --not 1100
ok "warm transfer, step 1: the three talk"
hears cust relay2 cold_sent --hear 1100 --not 400,700
hears ag2 relay2 cold_sent --hear 400 --not 700,1100
hears ag1 relay2 cold_sent --no-audio
ok "warm transfer, step 2: agent 1 left, customer <-> agent 2 relayed"
hears cust cold repl_sent --hear 1700 --not 400,700,1100
hears ag3 cold repl_sent --hear 400 --not 1700
hears ag2 cold repl_sent --no-audio
ok "cold transfer (connect): customer <-> agent 3, agent 2 cut off"
hears cust repl end --hear 2300 --not 400,1700
hears ag4 repl end --hear 400 --not 2300
hears ag3 repl end --no-audio
ok "cold transfer by join with replaces: customer <-> agent 4, agent 3 cut off"

tel /mediagate/stats >"$work/stats.json" || fail "telemetry stats"
python3 - "$work/stats.json" <<'PY' || fail "telemetry check"
import json, sys
st = json.load(open(sys.argv[1]))["/mediagate/stats"]
assert st["conferences"] == 0 and st["conference_participants"] == 0, st
assert st["conference_ticks"] >= 200, st
assert st["leg_drop_peer_in_conference"] >= 0, st
print("ok", {k: st[k] for k in ("conference_ticks", "conference_tick_overruns", "conference_packets_out")})
PY
ok "no conference left after the transfers"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS mix_transfer_flows"
