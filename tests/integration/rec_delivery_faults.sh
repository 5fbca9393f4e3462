#!/usr/bin/env bash
# Spool + S3 delivery under faults, through the SigV4-verifying front:
#  - a seal killed with SIGKILL mid-recording leaves only a .part file, never uploaded;
#  - the S3 server is killed (SIGKILL) and restarted while uploads are in flight;
#  - the delivery worker is killed with SIGKILL mid-upload, then restarted.
# Afterwards every finished recording is in the bucket exactly once (the set of object keys is
# exactly the set sealed), decrypts to the original WAV, and the partial one says so.
source "$MG_ROOT/scripts/rec/testenv.sh"
export MG_REC_PRINCIPAL=admin
start_s3
start_front
"$rec" keys create --account 111122223333 --instance inst-a >/dev/null

count=8
expected=$work/expected.txt
: >"$expected"
for i in $(seq 1 $count); do
	make_wav "$work/in-$i.wav" $((3 + i % 3))
	key=$("$rec" seal --instance inst-a --alias acme --contact "contact-$i" --ani "+1555000000$i" \
		--started $((1795000000 + i)) --in "$work/in-$i.wav")
	echo "$key" >>"$expected"
done
make_wav "$work/in-partial.wav" 2
key=$("$rec" seal --instance inst-a --alias acme --contact contact-partial --partial \
	--started 1795000100 --in "$work/in-partial.wav")
echo "${key% (partial)}" >>"$expected"
pass "sealed $count recordings + 1 marked partial into the spool"

# A recording whose sealing process dies mid-call: only <name>.mgenc.part remains.
make_wav "$work/in-crash.wav" 5
( cat "$work/in-crash.wav"; sleep 30 ) | "$rec" seal --instance inst-a --alias acme \
	--contact contact-crash --started 1795000200 >/dev/null 2>&1 &
seal_pid=$!
pids+=("$seal_pid")
sleep 1
kill -9 "$seal_pid"
wait "$seal_pid" 2>/dev/null || true
ls "$work/state/spool/"contact-crash_*.mgenc.part >/dev/null || fail "no .part from the killed seal"
pass "seal killed with SIGKILL mid-recording: .part left in the spool"

delivered() { ls "$work/state/index/" 2>/dev/null | grep -c '\.meta$' || true; }
start_worker() {
	"$rec" deliver --max-send-rate 60000 2>>"$work/deliver.log" &
	disown
	worker_pid=$!
	pids+=("$worker_pid")
}
wait_delivered() { # $1 at least this many, $2 seconds
	for _ in $(seq 1 $(($2 * 10))); do
		[ "$(delivered)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "only $(delivered) delivered after $2 s (wanted $1): $(tail -2 "$work/deliver.log")"
}

start_worker
wait_delivered 1 60
# Kill the S3 server while the next upload is in flight, keep it down, restart it.
sleep 0.5
stop_s3 KILL
pass "S3 server killed with SIGKILL mid-upload (after $(delivered) delivered)"
# Keep it down until an upload in flight has hit the dead server (the front answers 502).
for _ in $(seq 1 300); do
	grep -q "backend unavailable" "$work/front.log" && break
	sleep 0.1
done
grep -q "backend unavailable" "$work/front.log" || fail "no upload reached the dead S3 server"
pass "an upload in flight hit the dead S3 server: $(grep -m1 'backend unavailable' "$work/front.log" | cut -c1-90)..."
start_s3
pass "S3 server restarted"
before=$(delivered)
wait_delivered $((before + 2)) 90
sleep 0.7 # into the next upload
kill -9 "$worker_pid"
wait "$worker_pid" 2>/dev/null || true
for _ in $(seq 1 50); do
	grep -q "client closed mid-body" "$work/front.log" && break
	sleep 0.1
done
grep -q "client closed mid-body" "$work/front.log" || fail "the worker was not killed mid-upload"
pass "delivery worker killed with SIGKILL mid-upload (after $(delivered) delivered): $(grep -m1 -o 'client closed mid-body after [0-9]* of [0-9]* bytes' "$work/front.log")"
grep -q "retry in" "$work/deliver.log" || fail "the worker never retried during the outage"
pass "worker retried with backoff during the outage: $(grep -c 'retry in' "$work/deliver.log") retries"

"$rec" deliver --until-empty --timeout 120 >/dev/null || fail "final delivery failed"
pass "restarted delivery emptied the spool"

# Exactly the finished recordings, each once; the killed seal's recording never uploaded.
list_bucket | sort >"$work/bucket.txt"
sort "$expected" >"$work/expected.sorted"
if ! diff -u "$work/expected.sorted" "$work/bucket.txt"; then
	fail "bucket contents differ from the finished recordings"
fi
[ "$(sort -u "$work/bucket.txt" | wc -l)" -eq $((count + 1)) ] || fail "wrong object count"
grep -q contact-crash "$work/bucket.txt" && fail "the partial .part recording was uploaded"
pass "bucket holds exactly the $((count + 1)) finished recordings, each once; no .part uploaded"
ls "$work/state/spool/" | grep -E '\.(mgenc|meta)$' && fail "spool not empty"
ls "$work/state/spool/"contact-crash_*.mgenc.part >/dev/null || fail ".part vanished"

# Each one decrypts (downloaded from the bucket: the spool is empty) to the original WAV.
for i in $(seq 1 $count); do
	"$rec" get --instance inst-a --contact "contact-$i" --out "$work/out-$i.wav" 2>/dev/null ||
		fail "get contact-$i failed"
	cmp -s "$work/in-$i.wav" "$work/out-$i.wav" || fail "contact-$i differs from the original"
done
"$rec" get --instance inst-a --contact contact-partial --out "$work/out-partial.wav" 2>"$work/get.err" ||
	fail "get partial failed"
grep -q "marked partial" "$work/get.err" || fail "partial recording not reported as partial"
cmp -s "$work/in-partial.wav" "$work/out-partial.wav" || fail "partial recording differs"
soxi "$work/out-1.wav" >/dev/null 2>&1 || fail "output is not a playable WAV"
pass "all $((count + 1)) recordings fetched from the bucket, decrypted and equal to their sources"

# Recovery: the killed seal's .part is re-sealed from its authenticated prefix as a recording
# explicitly marked partial, then delivered like any other.
"$rec" recover >"$work/recover.out" 2>"$work/recover.err" || fail "recover: $(cat "$work/recover.err")"
grep -q "contact-crash_.*(partial, recovered" "$work/recover.out" || fail "recover output: $(cat "$work/recover.out")"
ls "$work/state/spool/" | grep -q '\.part$' && fail ".part still in the spool after recovery"
"$rec" deliver --until-empty --timeout 60 >/dev/null || fail "delivery after recovery failed"
crash_key=$(list_bucket | grep contact-crash) || fail "recovered recording not delivered"
"$rec" get --instance inst-a --contact contact-crash --out "$work/out-crash.wav" 2>"$work/get.err" ||
	fail "get recovered failed: $(cat "$work/get.err")"
grep -q "marked partial" "$work/get.err" || fail "recovered recording not marked partial"
size=$(stat -c %s "$work/out-crash.wav")
[ "$size" -gt 0 ] || fail "nothing salvaged"
cmp -s -n "$size" "$work/in-crash.wav" "$work/out-crash.wav" || fail "salvaged bytes differ from the source"
[ "$(list_bucket | wc -l)" -eq $((count + 2)) ] || fail "bucket count after recovery"
pass "killed seal recovered as partial ($size of $(stat -c %s "$work/in-crash.wav") bytes, an exact prefix) and delivered"

# Search by caller number and by date range.
n=$("$rec" search --instance inst-a --ani +15550000003 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || fail "search by caller number found $n"
n=$("$rec" search --instance inst-a --from 2026-11-18 --to 2026-11-18 2>/dev/null | wc -l)
[ "$n" -eq $((count + 2)) ] || fail "search by date found $n" # the recovered one too

n=$("$rec" search --instance inst-a --from 2026-11-19 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "search after the dates found $n"
grep -rq "+1555000000" "$work/state/index" "$work/state/spool" && fail "caller number in clear at rest"
pass "search by caller number (HMAC) and date range; no caller number in clear at rest"
"$rec" audit verify >/dev/null || fail "audit log broken"
echo "PASS rec_delivery_faults"
