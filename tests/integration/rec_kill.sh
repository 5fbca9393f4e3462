#!/usr/bin/env bash
# mediagate killed with SIGKILL mid-call while recording (issue 6, R4): what was sealed so far
# stays in the spool as a .part, never silently lost; `mediagate-rec recover` re-seals it
# marked partial; the restarted mediagate's delivery uploads it to a real S3 server (s3rver)
# and the delivered object decrypts to the audio recorded before the kill. A SIGTERM
# mid-call finishes the open recording, marked partial.
set -uo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init reckill
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup
s3port=$((ngport + 7))
mg_cleanup_extra() { [ -f "$work/s3.pid" ] && kill "$(cat "$work/s3.pid")" 2>/dev/null; }
ip netns exec "${id}core" bash "$root/scripts/rec/s3-start.sh" "$work/s3" "$s3port" mgrec \
	"$work/s3.pid" >/dev/null || fail "s3rver did not start"
printf 'S3RVER\nS3RVER\n' >"$work/s3.cred"
chmod 600 "$work/s3.cred"
rec_args=(--set recording.enable=on --set recording.s3_endpoint="http://127.0.0.1:$s3port"
	  --set recording.s3_bucket=mgrec --set recording.s3_credentials_file="$work/s3.cred")
mg_start "${mg_keys_args[@]}" "${rec_args[@]}"
ok "mediagate recording into the spool, delivering to s3rver"

REC_SECONDS=10 ip netns exec "${id}core" timeout 40 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work" both >"$work/scen.log" 2>&1 &
scen=$!
for _ in $(seq 1 100); do [ -f "$work/go" ] && break; sleep 0.1; done
sleep 3.2
kill -9 "$mg_pid"
wait "$mg_pid" 2>/dev/null
mg_pid=""
wait "$scen" 2>/dev/null
part=$(ls "$keys_state/spool/"K-both_*.mgenc.part 2>/dev/null | head -1)
[ -n "$part" ] && [ -s "$part" ] || fail "no .part in the spool after kill -9: $(ls -la "$keys_state/spool")"
ok "killed mid-call: $(stat -c %s "$part") sealed bytes wait in the spool as $(basename "$part")"

"$rec_cli" recover --instance default >"$work/recover.txt" 2>&1 || fail "recover: $(cat "$work/recover.txt")"
grep -q "K-both.*partial" "$work/recover.txt" || fail "recover did not salvage it: $(cat "$work/recover.txt")"
ok "recovered: $(head -1 "$work/recover.txt")"

rm -rf "/var/run/dpdk/$prefix"
mv "$work/mg.log" "$work/mg-before-kill.log"
mg_start "${mg_keys_args[@]}" "${rec_args[@]}"
for _ in $(seq 1 100); do
	"$rec_cli" list --instance default --contact K-both >"$work/list.txt" 2>/dev/null
	grep -q "delivered" "$work/list.txt" && break
	sleep 0.2
done
grep -q "delivered.*partial\|partial.*delivered" "$work/list.txt" ||
	fail "not delivered as partial after restart: $(cat "$work/list.txt")"
find "$work/s3" -path "*K-both*" | grep -q . || fail "no K-both object in the s3rver data"
ok "restarted mediagate delivered it to s3rver: $(grep K-both "$work/list.txt" | head -1)"

export MG_S3_ENDPOINT="http://127.0.0.1:$s3port" MG_S3_BUCKET=mgrec MG_S3_ACCESS_KEY=S3RVER \
	MG_S3_SECRET_KEY=S3RVER
ip netns exec "${id}core" "$rec_cli" get --instance default --contact K-both --out "$work/k.wav" \
	2>"$work/get.err" || fail "get from the bucket: $(cat "$work/get.err")"
grep -qi partial "$work/get.err" || fail "get does not say partial: $(cat "$work/get.err")"
# recorded before the kill (3.2 s into the call): at least seconds 0-1 of both sides
python3 "$root/tests/tools/rec_wav_check.py" "$work/k.wav" --left 0x10 --right 0x90 \
	--present L:0x10:0-1 --present R:0x90:0-1 >"$work/chk.txt" ||
	{ cat "$work/chk.txt"; fail "the delivered audio is not what was recorded"; }
ok "delivered object decrypts (partial) to the audio before the kill: $(head -1 "$work/chk.txt")"

# A clean stop (SIGTERM) mid-call: the open recording is finished, marked partial, committed.
mkdir -p "$work/term"
REC_SECONDS=6 ip netns exec "${id}core" timeout 40 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work/term" agent >"$work/scen2.log" 2>&1 &
scen=$!
for _ in $(seq 1 100); do [ -f "$work/term/go" ] && break; sleep 0.1; done
sleep 2
kill -TERM "$mg_pid"
wait "$mg_pid" 2>/dev/null
mg_pid=""
wait "$scen" 2>/dev/null
grep -q "K-agent.*finished (partial)" "$work/mg.log" || fail "SIGTERM: open recording not finished as partial"
"$rec_cli" list --instance default --contact K-agent >"$work/list2.txt" 2>/dev/null
grep -q "partial" "$work/list2.txt" || fail "SIGTERM: not in the spool/index as partial: $(cat "$work/list2.txt")"
ls "$keys_state/spool/"K-agent_*.part >/dev/null 2>&1 && fail "SIGTERM left a .part behind"
ok "SIGTERM mid-call: recording committed as partial ($(grep K-agent "$work/list2.txt" | cut -f3,4 | tr '\t' ' '))"
