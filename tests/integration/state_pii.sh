#!/usr/bin/env bash
# Personal data of calls (ng ani, dnis, external-number, contact-attributes; docs/state.md,
# docs/ng-protocol.md) with the instance key in a real SoftHSM2 token and a real Redis:
#  1. Redis holds none of them in clear: only the sealed field and the ANI's keyed hash,
#     with an index key <prefix>ani:<hash>:<call-id>;
#  2. ng query shows them only with the personal-data flag and only to a client in
#     control.ng_pii_allow; query by ani finds the call, only for such a client;
#  3. after kill -9 and a restart the data is back (opened from the sealed field) and the
#     ANI lookup still works;
#  4. nothing mediagate printed or exported (log, telemetry, Prometheus) holds them.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init pii
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
rport=$((ngport + 1))
promport=$((ngport + 2))
redis_pid=""
mg_cleanup_extra() {
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf /var/run/dpdk/mgpi$$*
}
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup acme
mg_redis_start
start_mg() { # name
	ip netns exec "${id}core" "$build/app/mediagate/mediagate" --profile af_packet \
		--set eal.file_prefix="mgpi$$$1" --set control.ng_listen="127.0.0.1:$ngport" \
		--set control.prometheus_listen="127.0.0.1:$promport" \
		--set control.ng_pii_allow=127.0.0.2/32 \
		--set state.redis="127.0.0.1:$rport" --set state.prefix="mg:a:" \
		"${mg_keys_args[@]}" >"$work/mg-$1.log" 2>&1 &
	mg_pid=$!
	mg_wait_ng "${id}core" "$ngport" || fail "mediagate ($1) did not answer ng"
}
tel_of() { printf '%s\n' "$2" | timeout 5 dpdk-telemetry.py -f "mgpi$$$1"; }

# a tiny ng client that can choose its source address (rtpengine-ng-client cannot)
cat >"$work/ng.py" <<'PY'
import json, os, socket, sys
def enc(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(enc(x) for x in v) + b"e"
    return b"d" + b"".join(enc(k) + enc(v[k]) for k in sorted(v)) + b"e"
def dec(b, i=0):
    c = b[i:i+1]
    if c == b"i":
        j = b.index(b"e", i); return int(b[i+1:j]), j + 1
    if c in (b"l", b"d"):
        out, i = [], i + 1
        while b[i:i+1] != b"e":
            v, i = dec(b, i); out.append(v)
        return (out if c == b"l" else dict(zip(out[::2], out[1::2]))), i + 1
    j = b.index(b":", i); n = int(b[i:j])
    return b[j+1:j+1+n].decode(errors="replace"), j + 1 + n
src, port, msg = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0)); s.settimeout(5)
cookie = os.urandom(4).hex()
s.sendto(cookie.encode() + b" " + enc(msg), ("127.0.0.1", port))
data = s.recv(65536)
print(json.dumps(dec(data.split(b" ", 1)[1])[0]))
PY
ng() { ip netns exec "${id}core" python3 "$work/ng.py" "$1" "$ngport" "$2"; }
ANI=+15551234567; DNIS=+18005550100; EXT=+442071234567; ACC=ACC-998877-ZEBRA
sdp_a=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n'
sdp_b=$'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n'
req() { python3 -c 'import json,sys; print(json.dumps(dict(json.loads(sys.argv[1]))))' "$1"; }

start_mg first
ng 127.0.0.1 "$(python3 -c 'import json,sys; print(json.dumps({"command":"offer","call-id":"pii","from-tag":"a","sdp":sys.argv[1],"ani":sys.argv[2],"dnis":sys.argv[3],"external-number":sys.argv[4],"contact-attributes":{"account":sys.argv[5],"tier":"gold"}}))' "$sdp_a" "$ANI" "$DNIS" "$EXT" "$ACC")" >"$work/o.json"
grep -q '"result": "ok"' "$work/o.json" || fail "offer with personal data: $(cat "$work/o.json")"
ng 127.0.0.1 "$(python3 -c 'import json,sys; print(json.dumps({"command":"answer","call-id":"pii","from-tag":"a","to-tag":"b","sdp":sys.argv[1]}))' "$sdp_b")" >"$work/a.json"
grep -q '"result": "ok"' "$work/a.json" || fail "answer"
ng 127.0.0.1 '{"command":"offer","call-id":"other","from-tag":"x","sdp":"'"${sdp_a//$'\r\n'/\\r\\n}"'","ani":"+15550000000"}' >/dev/null
bad=$(ng 127.0.0.1 '{"command":"offer","call-id":"bad","from-tag":"x","sdp":"'"${sdp_a//$'\r\n'/\\r\\n}"'","contact-attributes":"not a dict"}')
grep -q "contact-attributes must be a dictionary" <<<"$bad" || fail "a bad contact-attributes was not refused: $bad"
for i in $(seq 1 30); do "${RC[@]}" exists "mg:a:call:pii" | grep -q 1 && break; sleep 0.1; done

# 1. Redis
"${RC[@]}" --raw get "mg:a:call:pii" >"$work/blob.bin"
grep -q "6:sealed" "$work/blob.bin" || fail "no sealed field"
hash=$(grep -aoP '8:ani-hash64:\K[0-9a-f]{64}' "$work/blob.bin") || fail "no ANI hash in the stored call"
"${RC[@]}" exists "mg:a:ani:$hash:pii" | grep -q 1 || fail "no index key mg:a:ani:<hash>:pii"
ok "Redis: sealed personal data, ANI index key mg:a:ani:${hash:0:12}...:pii"

# 2. query: nothing by default, refused without the allowlist, shown with it
ng 127.0.0.1 '{"command":"query","call-id":"pii"}' >"$work/q0.json"
grep -q '"result": "ok"' "$work/q0.json" || fail "plain query"
ng 127.0.0.1 '{"command":"query","call-id":"pii","flags":["personal-data"]}' >"$work/q1.json"
grep -q "not available to this address" "$work/q1.json" || fail "personal data answered outside the allowlist"
ng 127.0.0.1 "{\"command\":\"query\",\"ani\":\"$ANI\"}" >"$work/q2.json"
grep -q "not allowed from this address" "$work/q2.json" || fail "ANI search outside the allowlist"
ng 127.0.0.2 '{"command":"query","call-id":"pii"}' >"$work/q3.json"
ng 127.0.0.2 '{"command":"query","call-id":"pii","flags":["personal-data"]}' >"$work/q4.json"
python3 - "$work" "$ANI" "$DNIS" "$EXT" "$ACC" <<'PY' || fail "query answers"
import json, os, sys
w, ani, dnis, ext, acc = sys.argv[1:]
for f in ("q0.json", "q3.json"):
    t = open(os.path.join(w, f)).read()
    assert ani not in t and dnis not in t and acc not in t, f
q = json.load(open(os.path.join(w, "q4.json")))
assert q["ani"] == ani and q["dnis"] == dnis and q["external-number"] == ext, q
assert q["contact-attributes"] == {"account": acc, "tier": "gold"}, q
PY
find_ani() { # source ani -> call ids
	ng "$1" "{\"command\":\"query\",\"ani\":\"$2\",\"instance\":\"\"}" |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(",".join(r["calls"]) if r["result"]=="ok" else "ERR "+r.get("error-reason",""))'
}
[ "$(find_ani 127.0.0.2 "$ANI")" = pii ] || fail "query by ani did not find the call"
[ "$(find_ani 127.0.0.2 +15559999999)" = "" ] || fail "query by an unknown ani found something"
ok "query: personal data only with the flag and only to control.ng_pii_allow; query by ani finds the call"

# 3. kill -9, restart: the data comes back from the sealed field
tel_of first /mediagate/keys >>"$work/exported.txt"
tel_of first "/mediagate/session,pii" >>"$work/exported.txt"
ip netns exec "${id}core" curl -s "http://127.0.0.1:$promport/metrics" >>"$work/exported.txt"
kill -9 "$mg_pid"; wait "$mg_pid" 2>/dev/null || true
start_mg second
grep -q "restored 2 session(s) from mg:a:" "$work/mg-second.log" || fail "calls not restored"
[ "$(find_ani 127.0.0.2 "$ANI")" = pii ] || fail "ANI lookup after the restart"
ng 127.0.0.2 '{"command":"query","call-id":"pii","flags":["personal-data"]}' >"$work/q5.json"
python3 -c 'import json,sys; q=json.load(open(sys.argv[1])); assert q["ani"]==sys.argv[2] and q["contact-attributes"]["account"]==sys.argv[3], q' \
	"$work/q5.json" "$ANI" "$ACC" || fail "personal data after the restart"
sleep 1.5
"${RC[@]}" exists "mg:a:ani:$hash:pii" | grep -q 1 || fail "index key gone after the restart"
ng 127.0.0.1 '{"command":"delete","call-id":"pii"}' >/dev/null
sleep 1.5
"${RC[@]}" exists "mg:a:ani:$hash:pii" | grep -q 0 || fail "index key left after delete"
ok "kill -9 + restart: personal data restored from the sealed field, lookup works; delete removes the index key"

# 4. nothing in clear anywhere
for k in $("${RC[@]}" --scan); do "${RC[@]}" --raw get "$k" >>"$work/redis.bin"; echo "$k" >>"$work/redis.bin"; done
tel_of second /mediagate/keys >>"$work/exported.txt"
tel_of second /mediagate/stats >>"$work/exported.txt"
tel_of second /mediagate/sessions >>"$work/exported.txt"
ip netns exec "${id}core" curl -s "http://127.0.0.1:$promport/metrics" >>"$work/exported.txt"
cat "$work"/mg-*.log >>"$work/exported.txt"
for v in "$ANI" "${ANI#+}" "$DNIS" "${DNIS#+}" "$EXT" "${EXT#+}" "$ACC" 15550000000; do
	grep -qaF -- "$v" "$work/redis.bin" && fail "$v in clear in Redis"
	grep -qaF -- "$v" "$work/exported.txt" && fail "$v in a log or export"
done
grep -q "mediagate_keys_state_sealed_total" "$work/exported.txt" || fail "exports missing"
ok "no ANI, DNIS, external number or attribute in Redis, logs, telemetry or Prometheus"
echo "PASS state_pii"
