#!/usr/bin/env bash
# Recording and conferences across kill -9 + restart, from the session state in a real
# redis-server (docs/state.md, "Conferences, pairings, recording"). One mediagate with
# [state], [keys] (SoftHSM2) and recording carries at once:
#  (a) a recorded call (contact K-both, customer 0x10 / agent 0x90, tests/tools/rec_scenarios.py):
#      after the restart the legs get their channels again and a new (second) recording of
#      the contact starts, which holds both sides (decrypted WAV checked sample by sample);
#      the one cut by the kill stays in the spool as a .part;
#  (b) a 3-party conference (customer 400 Hz PCMU, agent 700 Hz PCMU, supervisor 1100 Hz
#      PCMA): before the kill and again after the restart each party hears the two others
#      and not itself (tone_peer.py / tone_check.py), so the mixer was rebuilt on its worker;
#  (d) a cold transfer across calls (`connect` of t1's p with t2's s, contact K2): after each
#      restart p and s still hear each other and not their calls' other sides;
#  (c) then a takeover: that mediagate killed, a standby with another prefix takes the calls
#      over: the conference mixes again and a third recording holds both sides.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init src
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
rport=$((ngport + 1))
redis_pid=""
scen=""
mg_cleanup_extra() {
	[ -n "$scen" ] && kill "$scen" 2>/dev/null
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	wait 2>/dev/null
	true
}
mg_lan_up "$id"
mg_keys_setup
mg_redis_start
"${RC[@]}" ping 2>/dev/null | grep -q PONG || fail "redis did not start"
mg_args=("${mg_keys_args[@]}" --set recording.enable=on --set state.redis="127.0.0.1:$rport"
	 --set state.prefix="mg:rc:")
mg_start "${mg_args[@]}"
source "$root/scripts/lib/mixtest.sh"
ok "mediagate up with state, keys and recording"

# (b) the conference: customer (a:4500) <-> agent (b:5500); supervisor (a:4600), own call
mix_call c1 cust ag1 10.91.0.2 4500 10.91.0.3 5500 K1 customer agent 0
cust_to=$to0 ag1_to=$to1
mix_call s1 sup sdummy 10.91.0.2 4600 10.91.0.3 5600 K1 third-party agent 8
sup_to=$to0
start=$(python3 -c 'import time; print(time.time() + 2.0)')
dur=36
party cust a 10.91.0.2:4500 "$cust_to" --ssrc 0xc0000001 --law u --freq 400 --start-at "$start" --duration $dur
party ag1 b 10.91.0.3:5500 "$ag1_to" --ssrc 0xa0000001 --law u --freq 700 --start-at "$start" --duration $dur
party sup a 10.91.0.2:4600 "$sup_to" --ssrc 0x50000001 --law a --freq 1100 --start-at "$start" --duration $dur
a=$(ng_ok '{"command":"join conference","call-id":"s1","from-tag":"sup","contact-id":"K1"}')
echo "$a" | grep -q '"participants": 3' || fail "join answer: $a"
ok "3-party conference K1 set up"
# (d) t1: p (a:4700) <-> q (b:5700), t2: r (a:4800) <-> s (b:5800); p and s connected
mix_call t1 p q 10.91.0.2 4700 10.91.0.3 5700 K2 customer agent 0
p_to=$to0
mix_call t2 r s 10.91.0.2 4800 10.91.0.3 5800 K2 customer agent 0
s_to=$to1
ng_ok '{"command":"connect","call-id":"t1","from-tag":"p","to-call-id":"t2","to-tag":"s"}' >/dev/null
party p a 10.91.0.2:4700 "$p_to" --ssrc 0x0d000001 --law u --freq 500 --start-at "$start" --duration $dur
# q and r stay silent (a lighter load on a shared machine): without the pairing p and s
# would relay with them and hear nothing
party s b 10.91.0.3:5800 "$s_to" --ssrc 0x0d000004 --law u --freq 1700 --start-at "$start" --duration $dur
ok "t1's p connected with t2's s (cold transfer across calls)"

# (a) the recorded call: 24 s of known codes both ways, recording both sides
REC_SECONDS=24 ip netns exec "${id}core" timeout 60 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work" both >"$work/scen.log" 2>&1 &
scen=$!
for _ in $(seq 1 100); do [ -f "$work/go" ] && break; sleep 0.1; done
[ -f "$work/go" ] || fail "recording scenario did not start: $(cat "$work/scen.log")"

python3 -c "import time; time.sleep(max(0, $start + 1.0 - time.time()))"
mark conf1
# the snapshots carry the conference and the recording state (written within a second)
for _ in $(seq 1 30); do
	"${RC[@]}" get "mg:rc:call:c-both" | grep -q "3:rec" &&
		"${RC[@]}" get "mg:rc:call:s1" | grep -q "2:K1" &&
		"${RC[@]}" get "mg:rc:call:t1" | grep -q "2:t21:s" && break
	sleep 0.1
done
"${RC[@]}" get "mg:rc:call:c-both" | grep -q "3:rec" || fail "no recording state in the snapshot"
"${RC[@]}" get "mg:rc:call:s1" | grep -q "2:K1" || fail "no conference membership in the snapshot"
"${RC[@]}" get "mg:rc:call:t1" | grep -q "2:t21:s" || fail "no relay pairing in the snapshot"
sleep 3
mark conf1_end
# the kill comes after the customer's SSRC change at 3.5 s of the recorded call (tested in
# rec_policy.sh), so each recording here sees one SSRC per side
python3 -c "import time; time.sleep(max(0, $(cat "$work/go") + 5.0 - time.time()))"

kill -9 "$mg_pid"
wait "$mg_pid" 2>/dev/null || true
mg_pid=""
part=$(ls "$keys_state/spool/"K-both_*.mgenc.part 2>/dev/null | head -1)
[ -n "$part" ] || fail "no .part of the recording cut by the kill"
rm -rf "/var/run/dpdk/$prefix"
mv "$work/mg.log" "$work/mg-before-kill.log"
mg_start "${mg_args[@]}"
mark restored
grep -q "restored [0-9]* session(s) from mg:rc:" "$work/mg.log" || fail "calls not restored"
grep -q "1 conference(s) with 3 part(ies) and 1 relay pairing(s)" "$work/mg.log" || fail "conference or pairing not rebuilt"
grep -q "contact K-both: recording resumed" "$work/mg.log" || fail "recording not resumed"
ok "restarted: $(grep -o 'restored [0-9]* session(s)[^;]*' "$work/mg.log" | head -1); $(grep -o '[0-9]* conference(s).*' "$work/mg.log" | head -1)"
sleep 4.5
mark restored_end
rec2=$(grep -o 'recording [^ ]*K-both[^ ]* started' "$work/mg.log" | head -1 | cut -d' ' -f2)

# (c) takeover: killed again, a standby with its own prefix takes the calls over
kill -9 "$mg_pid"
wait "$mg_pid" 2>/dev/null || true
mg_pid=""
mark killed2
rm -rf "/var/run/dpdk/$prefix"
mv "$work/mg.log" "$work/mg-second.log"
mg_start "${mg_keys_args[@]}" --set recording.enable=on --set state.redis="127.0.0.1:$rport" \
	--set state.prefix="mg:rc2:" --set state.takeover="mg:rc:"
mark taken
grep -q "restored [1-9][0-9]* session(s) from mg:rc:" "$work/mg.log" || fail "standby did not take the calls over"
grep -q "1 conference(s) with 3 part(ies) and 1 relay pairing(s)" "$work/mg.log" || fail "conference or pairing not rebuilt on the standby"
grep -q "contact K-both: recording resumed" "$work/mg.log" || fail "recording not resumed on the standby"
for _ in $(seq 1 30); do "${RC[@]}" exists "mg:rc2:call:s1" | grep -q 1 && break; sleep 0.1; done
"${RC[@]}" exists "mg:rc2:call:s1" | grep -q 1 || fail "the conference's call is not under the standby's prefix"
ok "takeover: the standby restored the calls from mg:rc:, rebuilt the conference, resumed the recording"
sleep 4.5
mark taken_end
rec3=$(grep -o 'recording [^ ]*K-both[^ ]* started' "$work/mg.log" | head -1 | cut -d' ' -f2)
wait "${mix_pids[@]}" || fail "a participant failed"

U=400 A=700 S=1100
for w in "conf1 conf1_end before the kill" "restored restored_end after kill -9 + restart" \
	"taken taken_end after the takeover"; do
	set -- $w
	hears cust "$1" "$2" --hear $A,$S --not $U
	hears ag1 "$1" "$2" --hear $U,$S --not $A
	hears sup "$1" "$2" --hear $U,$A --not $S
	hears p "$1" "$2" --hear 1700 --not 500
	hears s "$1" "$2" --hear 500 --not 1700
	shift 2
	ok "$*: each party of the conference hears the two others, not itself; p and s (connected across calls) hear each other"
done

wait "$scen" || fail "recording scenario: $(tail -5 "$work/scen.log")"
scen=""
[ -n "$rec2" ] && [ -n "$rec3" ] && [ "$rec2" != "$rec3" ] || fail "recordings after restart/takeover: '$rec2' '$rec3'"
for _ in $(seq 1 50); do
	"$rec_cli" list --instance default --contact K-both >"$work/list.txt" 2>/dev/null
	grep -q "K-both" "$work/list.txt" && break
	sleep 0.2
done
[ "$(grep -c K-both "$work/list.txt")" = 1 ] || fail "expected the last recording only: $(cat "$work/list.txt")"
ls "$keys_state/spool/"K-both_*.part >"$work/parts.txt" 2>/dev/null
[ "$(wc -l <"$work/parts.txt")" = 2 ] || fail "expected the two cut recordings as .part: $(cat "$work/parts.txt")"
"$rec_cli" recover --instance default >"$work/recover.txt" 2>&1 || fail "recover: $(cat "$work/recover.txt")"
# the senders code their second into each sample (t0 in $work/go): each recording must hold
# both sides for the whole seconds it was open, and nothing from before the first kill; a
# recording cut by a kill loses what was not sealed yet (up to a second or so): margin 2 s
t0=$(cat "$work/go")
secs() { python3 -c "import math; print(math.ceil($1 - $t0) + 1, math.floor($2 - $t0) - $3)"; }
check_rec() { # name object-key from-time to-time description [end margin, s]
	local a b
	read -r a b <<<"$(secs "$3" "$4" "${6:-1}")"
	[ "$b" -ge "$a" ] || fail "$5: window $a-$b too short"
	"$rec_cli" get --instance default --object-key "$2" --out "$work/$1.wav" >"$work/$1.get" 2>&1 ||
		fail "$1: get: $(cat "$work/$1.get")"
	python3 "$root/tests/tools/rec_wav_check.py" "$work/$1.wav" --min-frac 0.6 --left 0x10 --right 0x90 \
		--present "L:0x10:$a-$b" --present "R:0x90:$a-$b" --absent L:0x10:0-2 --absent R:0x90:0-2 \
		>"$work/$1.chk" || { cat "$work/$1.chk"; fail "$5 does not hold both sides (seconds $a-$b)"; }
	ok "$5: both sides in seconds $a-$b ($(head -1 "$work/$1.chk"))"
}
check_rec rec2 "$rec2" "$t_restored" "$t_killed2" "second recording (after the restart, cut by the takeover)" 2
check_rec rec3 "$rec3" "$t_taken" "$(python3 -c "print($t0 + 24)")" "third recording (after the takeover)"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS state_rec_conf"
