#!/usr/bin/env bash
# A WebRTC call survives kill -9 of mediagate (issue 9, docs/ice-dtls.md "Restart and
# takeover"): headless Chromium calls a plain RTP carrier through mediagate (as in
# webrtc_chromium.sh) with the session state in a real redis-server and the instance key in a
# real SoftHSM2 token. While both ends send, mediagate is killed with SIGKILL and started
# again with the same Redis. Checks:
#  - then a takeover: kill -9 again, a standby with another prefix takes the call over, the
#    browser keeps receiving;
#  - the first start stores its DTLS certificate sealed in Redis (<prefix>dtls:cert, no PEM
#    key in clear), the second loads it: the same a=fingerprint;
#  - the stored call holds neither the ICE password nor anything like a PEM key in clear;
#  - after the restart the browser keeps receiving (inbound packetsReceived grows by more
#    than 100 packets), without a new DTLS handshake (dtls_handshakes_ok stays 0 on the
#    restarted mediagate), its consent checks are answered again (stun_answered grows), and
#    the carrier keeps receiving the browser's 800 Hz tone (counted after the restart).
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
modules=${MG_NODE_MODULES:-$root/build-deps/npm/node_modules}
[ -x /usr/bin/chromium ] && command -v node >/dev/null && [ -d "$modules/playwright-core" ] ||
	{ echo "SKIP: chromium, node or playwright-core ($modules) missing"; exit 77; }
command -v redis-server >/dev/null && command -v softhsm2-util >/dev/null ||
	bash "$root/scripts/deps.sh" >/dev/null
mg_test_init wr
rport=$((ngport + 1))
redis_pid=""
mg_cleanup_extra() {
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf /var/run/dpdk/mgwr$$*
}
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup acme
chmod 755 "$work"
mg_redis_start
start_mg() { # log name [prefix [takeover prefix]]
	ip netns exec "${id}core" "$build/app/mediagate/mediagate" --profile af_packet \
		--set eal.file_prefix="mgwr$$$1" --set control.ng_listen="127.0.0.1:$ngport" \
		--set control.prometheus_listen=off --set state.redis="127.0.0.1:$rport" \
		--set state.prefix="${2:-mg:w:}" ${3:+--set state.takeover="$3"} \
		"${mg_keys_args[@]}" >"$work/mg-$1.log" 2>&1 &
	mg_pid=$!
	mg_wait_ng "${id}core" "$ngport" || fail "mediagate ($1) did not answer ng"
}
tel_of() { printf '%s\n' "$2" | timeout 5 dpdk-telemetry.py -f "mgwr$$$1"; }
NGPY=(ip netns exec "${id}core" timeout 5 python3 "$root/tests/tools/ng.py" "$ngport")
drv="$root/tests/integration/webrtc_chromium.js"
peer="$root/tests/integration/webrtc_peer.py"

start_mg first
grep -q "webrtc: new DTLS certificate stored in Redis, sealed" "$work/mg-first.log" ||
	fail "the DTLS certificate was not stored: $(grep webrtc: "$work/mg-first.log")"
fp1=$(grep -m1 -oP 'webrtc: new DTLS certificate stored in Redis, sealed \(a=fingerprint \K[^)]+' "$work/mg-first.log")
"${RC[@]}" --raw get "mg:w:dtls:cert" >"$work/cert.stored"
grep -q '^mgs1:' "$work/cert.stored" || fail "mg:w:dtls:cert is not sealed: $(head -c 80 "$work/cert.stored")"
! grep -q "PRIVATE KEY\|BEGIN" "$work/cert.stored" || fail "PEM text in clear in Redis"
ok "DTLS certificate sealed in Redis under mg:w:dtls:cert ($fp1)"

# the call: 40 s of media once connected, the browser reports its figures as it goes
name=c1
ip netns exec "${id}a" env NODE_PATH="$modules" node "$drv" "$work" "$name" 50 progress \
	>"$work/$name.node.log" 2>&1 &
drv_pid=$!
for _ in $(seq 1 600); do [ -s "$work/$name.offer.sdp" ] && break; sleep 0.1; done
[ -s "$work/$name.offer.sdp" ] || { cat "$work/$name.node.log"; fail "no offer from Chromium"; }
python3 - "$work/$name.offer.sdp" "$name" >"$work/$name.offer.req" <<'PY'
import json, sys
print(json.dumps({"command": "offer", "call-id": sys.argv[2], "from-tag": "browser",
                  "sdp": open(sys.argv[1]).read(), "ICE": "remove", "DTLS": "passive",
                  "transport-protocol": "RTP/AVP", "flags": ["trust-address"],
                  "SDES": ["off"], "rtcp-mux": ["demux"]}))
PY
"${NGPY[@]}" "$(cat "$work/$name.offer.req")" >"$work/$name.offer.json" || fail "ng offer"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="ok", d; open(sys.argv[2],"w").write(d["sdp"])' \
	"$work/$name.offer.json" "$work/$name.carrier-offer.sdp" || fail "offer refused: $(cat "$work/$name.offer.json")"
to=$(grep -m1 -oP '^m=audio \K[0-9]+' "$work/$name.carrier-offer.sdp")
ip netns exec "${id}b" python3 "$peer" --bind "10.91.0.3:5000" --to "10.91.0.1:$to" \
	--seconds 90 --ready "$work/$name.peer.ready" --after "$work/restarted" >"$work/$name.peer.json" &
peer_pid=$!
sdp_b=$'v=0\r\no=carrier 7 7 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n'
python3 - "$name" "$sdp_b" >"$work/$name.answer.req" <<'PY'
import json, sys
print(json.dumps({"command": "answer", "call-id": sys.argv[1], "from-tag": "browser",
                  "to-tag": "carrier", "sdp": sys.argv[2], "flags": ["trust-address"]}))
PY
"${NGPY[@]}" "$(cat "$work/$name.answer.req")" >"$work/$name.answer.json" || fail "ng answer"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="ok", d; open(sys.argv[2]+".tmp","w").write(d["sdp"])' \
	"$work/$name.answer.json" "$work/$name.answer.sdp" || fail "answer refused: $(cat "$work/$name.answer.json")"
mv "$work/$name.answer.sdp.tmp" "$work/$name.answer.sdp"
ans_fp=$(grep -m1 -oP '^a=fingerprint:\K.*' "$work/$name.answer.sdp" | tr -d '\r')
[ "$ans_fp" = "$fp1" ] || fail "answer's a=fingerprint '$ans_fp' is not the stored certificate's '$fp1'"
pwd=$(grep -m1 -oP '^a=ice-pwd:\K\S+' "$work/$name.answer.sdp" | tr -d '\r')

# connected, media both ways for a while (the checkpoint stores the call with its keys)
progress() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2]) or 0)' "$work/$name.progress.json" "$1" 2>/dev/null || echo 0; }
for _ in $(seq 1 200); do [ "$(progress packetsReceived)" -gt 150 ] && break; sleep 0.1; done
[ "$(progress packetsReceived)" -gt 150 ] || { cat "$work/$name.progress.json" "$work/$name.node.log" 2>/dev/null; fail "the browser receives nothing before the restart"; }
sleep 3
tel_of first /mediagate/stats >"$work/stats1.json"
grep -q '"dtls_handshakes_ok": 1' "$work/stats1.json" || fail "no DTLS handshake before the restart"
"${RC[@]}" --raw get "mg:w:call:$name" >"$work/call.stored"
grep -q "6:sealed" "$work/call.stored" || fail "the call is stored without a sealed field"
! grep -qF "$pwd" "$work/call.stored" || fail "the ICE password is in Redis in clear"
ok "call connected (DTLS 1.2), media both ways, stored in Redis with a sealed field, ICE password not in clear"

# kill -9, restart with the same Redis
before=$(progress packetsReceived)
kill -9 "$mg_pid"; wait "$mg_pid" 2>/dev/null || true
t_kill=$(date +%s.%N)
start_mg second
touch "$work/restarted"
t_up=$(date +%s.%N)
grep -q "restored 1 session(s) from mg:w:" "$work/mg-second.log" || fail "call not restored: $(grep state: "$work/mg-second.log")"
grep -q "WITHOUT their SRTP keys" "$work/mg-second.log" && fail "keys not restored"
grep -qF "webrtc: DTLS certificate restored from Redis (a=fingerprint $fp1)" "$work/mg-second.log" ||
	fail "the restarted mediagate does not use the stored certificate: $(grep webrtc: "$work/mg-second.log")"
ok "restarted after $(python3 -c "print('%.1f' % ($t_up - $t_kill))") s: call restored, same a=fingerprint"
for _ in $(seq 1 150); do [ "$(progress packetsReceived)" -gt $((before + 150)) ] && break; sleep 0.1; done
after=$(progress packetsReceived)
tel_of second /mediagate/stats >"$work/stats2.json"
cat "$work/$name.progress.json"; echo
python3 - "$work/stats2.json" "$before" "$after" <<'PY' || fail "after the restart"
import json, sys
st = json.load(open(sys.argv[1]))["/mediagate/stats"]
before, after = int(sys.argv[2]), int(sys.argv[3])
print({k: v for k, v in st.items() if k.startswith(("stun", "dtls", "ice", "webrtc")) and v})
assert after - before > 100, ("the browser does not receive after the restart", before, after)
assert st["webrtc_legs"] == 1, st["webrtc_legs"]
assert st["dtls_handshakes_ok"] == 0 and st["dtls_handshakes_started"] == 0, "a new handshake"
assert st["stun_answered"] >= 1, "the browser's consent checks are not answered"
assert st["stun_bad_integrity"] == 0
print("browser inbound packets: %d before the kill, %d now" % (before, after))
PY
ok "after the restart the browser keeps receiving (no new DTLS handshake, consent checks answered)"

# takeover: kill -9 again, a standby with its own prefix (and its own certificate) takes the
# call over from mg:w:
sleep 2
before=$(progress packetsReceived)
kill -9 "$mg_pid"; wait "$mg_pid" 2>/dev/null || true
start_mg standby "mg:x:" "mg:w:"
grep -q "restored 1 session(s) from mg:w:" "$work/mg-standby.log" || fail "standby did not take the call over: $(grep state: "$work/mg-standby.log")"
grep -q "WITHOUT their SRTP keys" "$work/mg-standby.log" && fail "keys not restored by the standby"
for _ in $(seq 1 150); do [ "$(progress packetsReceived)" -gt $((before + 150)) ] && break; sleep 0.1; done
after=$(progress packetsReceived)
tel_of standby /mediagate/stats >"$work/stats3.json"
python3 - "$work/stats3.json" "$before" "$after" <<'PY' || fail "after the takeover"
import json, sys
st = json.load(open(sys.argv[1]))["/mediagate/stats"]
before, after = int(sys.argv[2]), int(sys.argv[3])
assert after - before > 100, ("the browser does not receive after the takeover", before, after)
assert st["webrtc_legs"] == 1 and st["dtls_handshakes_started"] == 0, st
assert st["stun_answered"] >= 1, "consent checks not answered by the standby"
print("browser inbound packets: %d before the takeover, %d now" % (before, after))
PY
"${RC[@]}" exists "mg:x:call:$name" | grep -q 1 || fail "the standby did not store the call under its prefix"
ok "takeover by a standby (own prefix): the browser keeps receiving with the restored keys, consent answered"
wait "$drv_pid" || true
wait "$peer_pid" || true
cat "$work/$name.result.json"; echo; cat "$work/$name.peer.json"; echo
python3 - "$work/$name.result.json" "$work/$name.peer.json" <<'PY' || fail "end of the call"
import json, sys
b, p = (json.load(open(f)) for f in sys.argv[1:3])
assert b.get("dtlsState") == "connected", b
assert p["received_after"] > 250, ("the carrier got too little from the browser after the restart", p)
assert 700 <= p.get("tone_hz_after", 0) <= 900, ("the browser's tone did not decode after the restart", p)
print("carrier after the restart: %d packets, %.0f Hz" % (p["received_after"], p["tone_hz_after"]))
PY
ok "the carrier keeps receiving the browser's 800 Hz tone after the restart and the takeover"
"${NGPY[@]}" '{"command": "delete", "call-id": "c1", "from-tag": "browser"}' >/dev/null
tel_of standby /mediagate/stats | grep -q '"webrtc_legs": 0' || fail "WebRTC leg not freed with its call"
ok "delete frees the restored WebRTC leg"
