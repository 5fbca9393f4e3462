#!/usr/bin/env bash
# An unreachable bucket only grows the spool up to its bound, then raises the alarm (log line,
# status flag, refusal with a clear error); nothing already sealed is lost, and once the
# bucket is back delivery drains the spool and new recordings are accepted again.
source "$MG_ROOT/scripts/rec/testenv.sh"
export MG_REC_PRINCIPAL=admin
"$rec" keys create --account 111122223333 --instance inst-a >/dev/null
make_wav "$work/one.wav" 1 # 32 kB
bound=200000
sealed=0
refused=""
for i in $(seq 1 20); do
	set +e
	"$rec" --spool-max $bound seal --instance inst-a --alias acme --contact "c-$i" \
		--in "$work/one.wav" >/dev/null 2>"$work/err"
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		refused=$i
		break
	fi
	sealed=$((sealed + 1))
	# The bucket is unreachable (nothing listens yet): each attempt fails and keeps the files.
	"$rec" deliver --until-empty --timeout 1 >/dev/null 2>&1 && fail "delivered with no bucket"
done
[ -n "$refused" ] || fail "the spool never refused a recording"
grep -q "ALARM spool full" "$work/err" || fail "no alarm in the log: $(cat "$work/err")"
grep -q "spool full" "$work/err" || fail "no clear error"
[ "$rc" -eq 6 ] || fail "refusal exit code $rc"
set +e
"$rec" --spool-max $bound status >"$work/status"
src=$?
set -e
[ $src -eq 11 ] && grep -q "spool_full_alarm 1" "$work/status" || fail "status: rc $src $(cat "$work/status")"
bytes=$(awk '/spool_bytes/ {print $2}' "$work/status")
[ "$bytes" -ge $bound ] && [ "$bytes" -lt $((bound + 40000)) ] || fail "spool grew past its bound: $bytes"
pass "spool bounded at $bytes bytes ($sealed recordings); recording $refused refused with alarm (exit $rc, status exit 11)"

start_s3
start_front
"$rec" deliver --until-empty --timeout 60 >/dev/null || fail "delivery after the outage"
[ "$(list_bucket | wc -l)" -eq "$sealed" ] || fail "not every spooled recording arrived"
"$rec" --spool-max $bound status | grep -q "spool_full_alarm 0" || fail "alarm not cleared"
"$rec" --spool-max $bound seal --instance inst-a --alias acme --contact c-after --in "$work/one.wav" >/dev/null ||
	fail "new recording refused after the spool drained"
pass "bucket back: all $sealed delivered, alarm cleared, new recordings accepted"
echo "PASS rec_spool_bound"
