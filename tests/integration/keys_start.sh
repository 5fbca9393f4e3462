#!/usr/bin/env bash
# mediagate opens the customer-managed keys of its [keys] profile section from a real
# SoftHSM2 token at start; a wrong PIN is a clear error and media still works.
set -uo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init keys
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup acme

mg_start "${mg_keys_args[@]}"
key_id=$("$rec_cli" keys describe --instance acme | grep -oP '^key \K\S+')
[ -n "$key_id" ] || fail "no key id from mediagate-rec keys describe"
grep -q "keys: token 'mgtest' open, instance acme uses key $key_id" "$work/mg.log" ||
	fail "mediagate did not report the instance key"
ok "mediagate opened token mgtest, instance acme uses key $key_id"
grep -q 1234 "$work/mg.log" && fail "the PIN appears in the log"
kill "$mg_pid"; wait "$mg_pid" 2>/dev/null; mg_pid=""

printf '9999\n' >"$work/bad.pin"
mv "$work/mg.log" "$work/mg-good.log"
mg_start "${mg_keys_args[@]}" --set keys.pin_file="$work/bad.pin"
grep -q "keys: cannot open token 'mgtest'.*keys off" "$work/mg.log" ||
	fail "a wrong PIN was not reported clearly"
"${NG[@]}" ping >"$work/ping.out" 2>&1 && grep -q pong "$work/ping.out" ||
	fail "ng does not answer without keys"
ok "wrong PIN: clear error, mediagate still answers ng"
