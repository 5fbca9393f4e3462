#!/usr/bin/env bash
# Fault: the spool's file system fills up while a call is recorded (a 160 KiB tmpfs under
# the spool; the call's stereo WAV needs about 320 KB). mediagate must keep relaying the
# call, report the failed writes (log and /mediagate/recordings), and what was sealed
# before the disk filled must stay in the spool, recoverable and marked partial once
# there is room again: never lost silently, never plaintext on disk.
set -uo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init diskfull
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup
spoolfs=$keys_state/spool # where mediagate and mediagate-rec --state look by default
mkdir -p "$spoolfs"
mount -t tmpfs -o size=160k,mode=700 mgspool "$spoolfs" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
mg_cleanup_extra() { umount "$spoolfs" 2>/dev/null; }
mg_start "${mg_keys_args[@]}" --set recording.enable=on

REC_SECONDS=10 ip netns exec "${id}core" timeout 40 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work" both >"$work/scen.log" 2>&1 &
scen=$!
for _ in $(seq 1 100); do [ -f "$work/go" ] && break; sleep 0.1; done
sleep 7
df -k "$spoolfs" | tail -1
stats=$(tel "/mediagate/session,c-both")
wait "$scen"
kill -0 "$mg_pid" 2>/dev/null || fail "mediagate died when the spool filled up"
echo "$stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["/mediagate/session"]
for side in ("offerer", "answerer"):
    assert s[side]["rtp_out_packets"] >= 250, (side, s[side])
print("relayed while the disk was full:", {k: s[k]["rtp_out_packets"] for k in ("offerer", "answerer")})' ||
	fail "the call was not relayed while the spool was full"
ok "spool file system full mid-recording: mediagate kept relaying the call"

tel /mediagate/recordings >"$work/recs.json"
grep -iE "no space|ENOSPC|write|failed" "$work/mg.log" | grep -i "K-both" | head -3 >"$work/err.txt"
[ -s "$work/err.txt" ] || fail "no log line reports the failed recording writes"
python3 - "$work/recs.json" <<'PY' || fail "telemetry does not report the failed writes"
import json, sys
r = json.load(open(sys.argv[1]))["/mediagate/recordings"]
flat = json.dumps(r)
errs = sum(v for k, v in r.items() if isinstance(v, int) and ("error" in k or "partial" in k))
assert errs >= 1, r
print("recordings telemetry:", {k: v for k, v in r.items() if isinstance(v, int) and ("error" in k or "partial" in k)})
PY
ok "failed writes reported: $(head -1 "$work/err.txt" | cut -c1-160)"

ls -la "$spoolfs" >"$work/spool.txt"
ls "$spoolfs"/K-both_* >/dev/null 2>&1 || fail "nothing of the recording is left in the spool: $(cat "$work/spool.txt")"
if grep -qa "RIFF" "$spoolfs"/K-both_* 2>/dev/null; then fail "plaintext WAV on the spool disk"; fi
ok "what was sealed before the disk filled is in the spool: $(ls "$spoolfs" | grep K-both | tr '\n' ' ')"

mount -o remount,size=8m "$spoolfs" || fail "cannot grow the tmpfs"
"$rec_cli" --spool-max 8000000 recover --instance default >"$work/recover.txt" 2>&1
cat "$work/recover.txt" | head -3
"$rec_cli" list --instance default --contact K-both >"$work/list.txt" 2>&1
grep -q "partial" "$work/list.txt" || fail "the recording is not marked partial: $(cat "$work/list.txt") / $(cat "$work/recover.txt")"
ok "after room was made: $(grep K-both "$work/list.txt" | head -1 | tr '\t' ' ')"
"$rec_cli" get --instance default --contact K-both --out "$work/k.wav" 2>"$work/get.err" ||
	fail "get from the spool: $(cat "$work/get.err")"
python3 "$root/tests/tools/rec_wav_check.py" "$work/k.wav" --left 0x10 --right 0x90 \
	--present L:0x10:0-1 --present R:0x90:0-1 >"$work/chk.txt" ||
	{ cat "$work/chk.txt"; fail "the recovered audio is not what was recorded"; }
ok "the recovered recording decrypts to the audio sealed before the disk filled: $(head -1 "$work/chk.txt")"
echo "PASS fault_spool_disk_full"
