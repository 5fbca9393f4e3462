#!/usr/bin/env bash
# Recording and conferences across kill -9 + restart, from the session state in a real
# redis-server (docs/state.md, "Conferences, pairings, recording"). One mediagate with
# [state], [keys] (SoftHSM2) and recording carries at once:
#  (a) a recorded call (contact K-both, customer 0x10 / agent 0x90, tests/tools/rec_scenarios.py):
#      after the restart the legs get their channels again and a new recording of the
#      contact starts, which holds both sides (decrypted WAV checked sample by sample); the
#      one cut by the kill stays in the spool as a .part;
#  (b) a 3-party conference (customer 400 Hz PCMU, agent 700 Hz PCMU, supervisor 1100 Hz
#      PCMA): before the kill and again after the restart each party hears the two others
#      and not itself (tone_peer.py / tone_check.py), so the mixer was rebuilt on its worker.
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
ip netns exec "${id}core" redis-server --bind 127.0.0.1 --port "$rport" --dir "$work" \
	--save '' --appendonly yes --appendfsync always --daemonize no >"$work/redis.log" 2>&1 &
redis_pid=$!
RC=(ip netns exec "${id}core" redis-cli -p "$rport")
for _ in $(seq 1 50); do "${RC[@]}" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
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
dur=30
party cust a 10.91.0.2:4500 "$cust_to" --ssrc 0xc0000001 --law u --freq 400 --start-at "$start" --duration $dur
party ag1 b 10.91.0.3:5500 "$ag1_to" --ssrc 0xa0000001 --law u --freq 700 --start-at "$start" --duration $dur
party sup a 10.91.0.2:4600 "$sup_to" --ssrc 0x50000001 --law a --freq 1100 --start-at "$start" --duration $dur
a=$(ng_ok '{"command":"join conference","call-id":"s1","from-tag":"sup","contact-id":"K1"}')
echo "$a" | grep -q '"participants": 3' || fail "join answer: $a"
ok "3-party conference K1 set up"

# (a) the recorded call: 18 s of known codes both ways, recording both sides
REC_SECONDS=18 ip netns exec "${id}core" timeout 60 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work" both >"$work/scen.log" 2>&1 &
scen=$!
for _ in $(seq 1 100); do [ -f "$work/go" ] && break; sleep 0.1; done
[ -f "$work/go" ] || fail "recording scenario did not start: $(cat "$work/scen.log")"

python3 -c "import time; time.sleep(max(0, $start + 1.0 - time.time()))"
mark conf1
# the snapshots carry the conference and the recording state (written within a second)
for _ in $(seq 1 30); do
	"${RC[@]}" get "mg:rc:call:c-both" | grep -q "3:rec" &&
		"${RC[@]}" get "mg:rc:call:s1" | grep -q "2:K1" && break
	sleep 0.1
done
"${RC[@]}" get "mg:rc:call:c-both" | grep -q "3:rec" || fail "no recording state in the snapshot"
"${RC[@]}" get "mg:rc:call:s1" | grep -q "2:K1" || fail "no conference membership in the snapshot"
sleep 3
mark conf1_end

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
grep -q "1 conference(s) with 3 part(ies)" "$work/mg.log" || fail "conference not rebuilt"
grep -q "contact K-both: recording resumed" "$work/mg.log" || fail "recording not resumed"
ok "restarted: $(grep -o 'restored [0-9]* session(s)[^;]*' "$work/mg.log" | head -1); $(grep -o '[0-9]* conference(s).*' "$work/mg.log" | head -1)"
sleep 4.5
mark restored_end
wait "${mix_pids[@]}" || fail "a participant failed"

U=400 A=700 S=1100
hears cust conf1 conf1_end --hear $A,$S --not $U
hears ag1 conf1 conf1_end --hear $U,$S --not $A
hears sup conf1 conf1_end --hear $U,$A --not $S
ok "before the kill: each party hears the two others, not itself"
hears cust restored restored_end --hear $A,$S --not $U
hears ag1 restored restored_end --hear $U,$S --not $A
hears sup restored restored_end --hear $U,$A --not $S
ok "after kill -9 + restart: the conference mixes again, each hears the two others, not itself"

wait "$scen" || fail "recording scenario: $(tail -5 "$work/scen.log")"
scen=""
for _ in $(seq 1 50); do
	"$rec_cli" list --instance default --contact K-both >"$work/list.txt" 2>/dev/null
	grep -q "K-both" "$work/list.txt" && break
	sleep 0.2
done
[ "$(grep -c K-both "$work/list.txt")" = 1 ] || fail "expected the resumed recording: $(cat "$work/list.txt")"
"$rec_cli" get --instance default --contact K-both --out "$work/k.wav" >"$work/get.txt" 2>&1 ||
	fail "get: $(cat "$work/get.txt")"
# the senders code their second into each sample; the new recording starts at the restart
# (~6 s into the 18 s call): it holds both sides from then on, nothing from before the kill
python3 "$root/tests/tools/rec_wav_check.py" "$work/k.wav" --min-frac 0.6 --left 0x10 --right 0x90 \
	--present L:0x10:9-15 --present R:0x90:9-15 --absent L:0x10:0-2 --absent R:0x90:0-2 \
	>"$work/chk.txt" ||
	{ cat "$work/chk.txt"; fail "the recording after the restart does not hold both sides"; }
ok "recording after the restart: both sides present ($(head -1 "$work/chk.txt")); the cut one waits as $(basename "$part")"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS state_rec_conf"
