#!/usr/bin/env bash
# Keys and access through the CLI with the real SoftHSM2 token: the CMK is a non-extractable
# token object; rotation (old recordings still open), disable / enable, schedule-deletion /
# cancel, grants with context constraints and revoke, cross-instance refusal (keys, grants,
# a sealed file moved to another instance), every access audited (denied ones too), and
# `audit verify` catching an edited log.
source "$MG_ROOT/scripts/rec/testenv.sh"
export MG_REC_PRINCIPAL=admin
expect_rc() { # $1 wanted exit code, $2 label, rest: command
	local want=$1 label=$2
	shift 2
	set +e
	"$@" >"$work/out" 2>"$work/err"
	local rc=$?
	set -e
	[ $rc -eq "$want" ] || fail "$label: exit $rc, expected $want: $(cat "$work/err")"
}
"$rec" keys create --account 111122223333 --instance inst-a >/dev/null
"$rec" --as admin-b keys create --account 444455556666 --instance inst-b >/dev/null
# The CMK lives in the token, sensitive and never extractable.
pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label mgtest --login --pin 1234 \
	--list-objects --type secrkey 2>/dev/null >"$work/objects"
grep -q "mgk-inst-a/v1" "$work/objects" || fail "CMK not in the token"
grep -A8 "mgk-inst-a/v1" "$work/objects" | grep -qi "never extractable" ||
	fail "CMK is not marked never-extractable: $(cat "$work/objects")"
grep -A8 "mgk-inst-a/v1" "$work/objects" | grep -qi "sensitive" || fail "CMK not sensitive"
pass "CMK is a sensitive, never-extractable AES key in the token"
grep -rqi "value" "$work/state/keys" && fail "key metadata mentions key values"

make_wav "$work/a1.wav" 1
make_wav "$work/a2.wav" 1
make_wav "$work/b1.wav" 1
"$rec" seal --instance inst-a --alias acme --contact a-1 --in "$work/a1.wav" >/dev/null
"$rec" --as admin-b seal --instance inst-b --alias beta --contact b-1 --in "$work/b1.wav" >/dev/null

# Rotation: new recordings use version 2, version 1 still opens.
"$rec" keys rotate --instance inst-a | grep -q "versions=2" || fail "rotate"
"$rec" seal --instance inst-a --alias acme --contact a-2 --in "$work/a2.wav" >/dev/null
"$rec" search --instance inst-a --contact a-2 2>/dev/null | grep -q "mgk-inst-a/v2" || fail "a-2 not under v2"
"$rec" get --instance inst-a --contact a-1 --out "$work/o.wav" 2>/dev/null && cmp -s "$work/a1.wav" "$work/o.wav" ||
	fail "v1 recording unreadable after rotation"
expect_rc 5 "rotation period 89 days" "$rec" keys set-rotation --instance inst-a --rotation-days 89
"$rec" keys set-rotation --instance inst-a --rotation-days 90 | grep -q "rotation_days=90" || fail "set-rotation"
pass "rotation: new recordings under v2, v1 recordings still decrypt, period range enforced"

# Disable / enable.
"$rec" keys disable --instance inst-a >/dev/null
expect_rc 5 "get with disabled key" "$rec" get --instance inst-a --contact a-1 --out "$work/o.wav"
grep -q "disabled" "$work/err" || fail "no clear message: $(cat "$work/err")"
[ -e "$work/o.wav.part" ] && fail "partial output left behind"
expect_rc 5 "seal with disabled key" "$rec" seal --instance inst-a --alias acme --contact a-3 --in "$work/a1.wav"
"$rec" keys enable --instance inst-a >/dev/null
"$rec" get --instance inst-a --contact a-1 --out "$work/o.wav" 2>/dev/null || fail "enable did not restore"
pass "disable makes recordings unreadable ('$(cat "$work/err" | head -1 | cut -c1-60)'), enable restores"

# Schedule deletion / cancel.
expect_rc 5 "deletion waiting period 3 days" "$rec" keys schedule-deletion --instance inst-a --days 3
"$rec" keys schedule-deletion --instance inst-a --days 7 | grep -q "pending-deletion" || fail "schedule"
expect_rc 5 "get pending deletion" "$rec" get --instance inst-a --contact a-1 --out "$work/o.wav"
grep -q "pending deletion" "$work/err" || fail "message: $(cat "$work/err")"
"$rec" keys cancel-deletion --instance inst-a | grep -q "state=disabled" || fail "cancel leaves it disabled"
"$rec" keys enable --instance inst-a >/dev/null
"$rec" get --instance inst-a --contact a-1 --out "$work/o.wav" 2>/dev/null || fail "cancel + enable did not restore"
pass "schedule-deletion blocks, cancel + enable restores"

# Grants: agent-7 may decrypt only contact a-1 of inst-a.
expect_rc 4 "ungranted principal" "$rec" --as agent-7 get --instance inst-a --contact a-1 --out "$work/o.wav"
grep -q "access denied" "$work/err" || fail "message: $(cat "$work/err")"
expect_rc 4 "non-owner grants" "$rec" --as agent-7 keys grant --instance inst-a --grantee agent-7 --ops decrypt
grant=$("$rec" keys grant --instance inst-a --grantee agent-7 --ops decrypt --constraint contact_id=a-1)
"$rec" --as agent-7 get --instance inst-a --contact a-1 --out "$work/o.wav" 2>/dev/null || fail "grant not honoured"
expect_rc 4 "grant outside its constraint" "$rec" --as agent-7 get --instance inst-a --contact a-2 --out "$work/o.wav"
"$rec" keys revoke --instance inst-a --grant "$grant" >/dev/null
expect_rc 4 "revoked grant" "$rec" --as agent-7 get --instance inst-a --contact a-1 --out "$work/o.wav"
pass "grant with context constraint honoured, refused outside it, revoke stops it"

# Cross-instance: B's admin, B's grants and B's key never open A's recordings.
expect_rc 4 "B's admin reads A" "$rec" --as admin-b get --instance inst-a --contact a-1 --out "$work/o.wav"
"$rec" --as admin-b keys grant --instance inst-b --grantee agent-7 --ops decrypt >/dev/null
expect_rc 4 "B's grant used on A" "$rec" --as agent-7 get --instance inst-a --contact a-1 --out "$work/o.wav"
# Move A's sealed file into B's index under B's names: the header still names A's key and
# context, so B's key service and the envelope refuse it.
a_meta=$(ls "$work/state/spool/"a-1_*.meta)
a_name=$(basename "$a_meta" .meta)
cp "$work/state/spool/$a_name.mgenc" "$work/state/spool/b-evil_$a_name.mgenc"
sed -e "s/^name .*/name b-evil_$a_name/" -e "s/^instance .*/instance inst-b/" \
	-e "s/^contact_id .*/contact_id b-evil/" -e "s/^key_id .*/key_id mgk-inst-b/" \
	-e "s/^account .*/account 444455556666/" "$a_meta" >"$work/state/spool/b-evil_$a_name.meta"
set +e
"$rec" --as admin-b get --instance inst-b --contact b-evil --out "$work/o.wav" >/dev/null 2>"$work/err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "A's recording decrypted as instance B"
[ -e "$work/o.wav.part" ] && fail "output left behind"
rm "$work/state/spool/b-evil_"*
pass "cross-instance decrypt refused (exit $rc: $(head -1 "$work/err" | cut -c1-70))"
"$rec" --as admin-b get --instance inst-b --contact b-1 --out "$work/o.wav" 2>/dev/null && cmp -s "$work/b1.wav" "$work/o.wav" ||
	fail "B reads its own"

# A sealed file tampered with at rest (one byte in the last frame): refused, nothing written.
b_file=$(ls "$work/state/spool/"b-1_*.mgenc)
cp "$b_file" "$work/b.bak"
size=$(stat -c %s "$b_file")
printf '\x00' | dd of="$b_file" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
cmp -s "$b_file" "$work/b.bak" && printf '\x01' | dd of="$b_file" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
rm -f "$work/t.wav"
expect_rc 10 "tampered recording" "$rec" --as admin-b get --instance inst-b --contact b-1 --out "$work/t.wav"
grep -q "authentication failed" "$work/err" || fail "message: $(cat "$work/err")"
[ -e "$work/t.wav" ] || [ -e "$work/t.wav.part" ] && fail "output written for a tampered recording"
head -c $((size - 100)) "$work/b.bak" >"$b_file"
expect_rc 10 "truncated recording" "$rec" --as admin-b get --instance inst-b --contact b-1 --out "$work/t.wav"
grep -q "truncated" "$work/err" || fail "message: $(cat "$work/err")"
cp "$work/b.bak" "$b_file"
pass "tampered and truncated recordings refused (exit 10), no output file"

# Audit: denied accesses recorded, no secrets, verify catches an edit.
log=$work/state/audit.log
grep -q "principal=agent-7 op=recording.get .*result=denied" "$log" || fail "denied get not audited"
grep -q "principal=admin-b op=key.decrypt .*instance=inst-a .*result=denied" "$log" || fail "cross-instance attempt not audited"
grep -q "op=key.rotate" "$log" && grep -q "op=key.grant" "$log" && grep -q "op=key.revoke" "$log" || fail "key ops not audited"
grep -q "$MG_REC_PIN " "$log" && fail "PIN in the audit log"
"$rec" audit verify >/dev/null || fail "verify on an intact log"
cp "$log" "$work/audit.bak"
sed -i '3s/principal=admin/principal=admim/' "$log"
expect_rc 12 "verify after an edit" "$rec" audit verify
grep -q "entry 3" "$work/err" || fail "verify did not locate the edit: $(cat "$work/err")"
cp "$work/audit.bak" "$log"
sed -i '5d' "$log"
expect_rc 12 "verify after a removal" "$rec" audit verify
cp "$work/audit.bak" "$log"
"$rec" audit verify >/dev/null || fail "restored log"
pass "audit: $(wc -l <"$log") entries, denials recorded, edit and removal detected"
echo "PASS rec_keys_access"
