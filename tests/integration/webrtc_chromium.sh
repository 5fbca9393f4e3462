#!/usr/bin/env bash
# A real browser calls through mediagate (issue 7): headless Chromium in namespace ${id}a
# makes a WebRTC offer (UDP/TLS/RTP/SAVPF, ICE, DTLS; PCMU only), mediagate's ng `offer`
# turns it into plain RTP/AVP for a carrier peer in ${id}b, the peer's answer goes back to the
# browser as ICE-lite + DTLS-SRTP. Checks: ICE connects to mediagate's af_packet port, DTLS
# completes (1.2, Chrome offers 1.3 first), the browser's 800 Hz tone reaches the carrier
# and decodes, the carrier's audio reaches the browser (inbound packetsReceived > 0), and the
# counters. Then: STUN with a bad MESSAGE-INTEGRITY is answered 401 and counted, DTLS from an
# address without an ICE check is dropped and counted, and a second call whose offer carries
# a wrong a=fingerprint fails its handshake: no media reaches the carrier, counted.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
modules=${MG_NODE_MODULES:-$root/build-deps/npm/node_modules}
[ -x /usr/bin/chromium ] && command -v node >/dev/null && [ -d "$modules/playwright-core" ] ||
	{ echo "SKIP: chromium, node or playwright-core ($modules) missing"; exit 77; }
mg_test_init w
mg_lan_up "$id"
mg_start
ok "mediagate up"
chmod 755 "$work"
NGPY=(ip netns exec "${id}core" timeout 5 python3 "$root/tests/tools/ng.py" "$ngport")
drv="$root/tests/integration/webrtc_chromium.js"
peer="$root/tests/integration/webrtc_peer.py"

# $1 call name, $2 carrier port, $3 optional sed program applied to the browser's offer
call() {
	local name=$1 cport=$2 munge=${3:-}
	ip netns exec "${id}a" env NODE_PATH="$modules" node "$drv" "$work" "$name" 5 \
		>"$work/$name.node.log" 2>&1 &
	eval "drv_$name=$!"
	for _ in $(seq 1 600); do [ -s "$work/$name.offer.sdp" ] && break; sleep 0.1; done
	[ -s "$work/$name.offer.sdp" ] || { cat "$work/$name.node.log"; fail "$name: no offer from Chromium"; }
	[ -z "$munge" ] || sed -i "$munge" "$work/$name.offer.sdp"
	python3 - "$work/$name.offer.sdp" "$name" >"$work/$name.offer.req" <<'PY'
import json, sys
print(json.dumps({"command": "offer", "call-id": sys.argv[2], "from-tag": "browser",
                  "sdp": open(sys.argv[1]).read(), "ICE": "remove", "DTLS": "passive",
                  "transport-protocol": "RTP/AVP", "flags": ["trust-address"],
                  "SDES": ["off"], "rtcp-mux": ["demux"]}))
PY
	"${NGPY[@]}" "$(cat "$work/$name.offer.req")" >"$work/$name.offer.json" || fail "$name: ng offer"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="ok", d; open(sys.argv[2],"w").write(d["sdp"])' \
		"$work/$name.offer.json" "$work/$name.carrier-offer.sdp" || fail "$name: offer refused: $(cat "$work/$name.offer.json")"
	local to
	to=$(grep -m1 -oP '^m=audio \K[0-9]+' "$work/$name.carrier-offer.sdp")
	ip netns exec "${id}b" python3 "$peer" --bind "10.91.0.3:$cport" --to "10.91.0.1:$to" \
		--seconds 14 --ready "$work/$name.peer.ready" >"$work/$name.peer.json" &
	eval "peer_$name=$!"
	local sdp_b=$'v=0\r\no=carrier 7 7 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio '"$cport"$' RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n'
	python3 - "$name" "$sdp_b" >"$work/$name.answer.req" <<'PY'
import json, sys
print(json.dumps({"command": "answer", "call-id": sys.argv[1], "from-tag": "browser",
                  "to-tag": "carrier", "sdp": sys.argv[2], "flags": ["trust-address"]}))
PY
	"${NGPY[@]}" "$(cat "$work/$name.answer.req")" >"$work/$name.answer.json" || fail "$name: ng answer"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="ok", d; open(sys.argv[2]+".tmp","w").write(d["sdp"])' \
		"$work/$name.answer.json" "$work/$name.answer.sdp" || fail "$name: answer refused: $(cat "$work/$name.answer.json")"
	mv "$work/$name.answer.sdp.tmp" "$work/$name.answer.sdp"
}

call c1 5000
off="$work/c1.carrier-offer.sdp" ans="$work/c1.answer.sdp"
grep -q "^m=audio [0-9]* RTP/AVP 0" "$off" || fail "carrier offer is not RTP/AVP PCMU: $(cat "$off")"
! grep -q "^a=\(fingerprint\|setup\|ice-\|candidate\|crypto\)" "$off" || fail "browser ICE/DTLS attributes leaked to the carrier"
ok "offer to the carrier: RTP/AVP, no ICE/DTLS/crypto attributes"
grep -q "^m=audio [0-9]* UDP/TLS/RTP/SAVPF 0" "$ans" || fail "answer to the browser is not UDP/TLS/RTP/SAVPF: $(cat "$ans")"
for a in "a=ice-lite" "a=ice-ufrag:" "a=ice-pwd:" "a=fingerprint:sha-256 " "a=setup:passive" "a=rtcp-mux" "a=candidate:1 1 UDP 2130706431 10.91.0.1 " "a=mid:0" "a=group:BUNDLE 0"; do
	grep -q "^$a" "$ans" || fail "answer lacks $a: $(cat "$ans")"
done
ok "answer to the browser: UDP/TLS/RTP/SAVPF, ice-lite, credentials, host candidate, sha-256 fingerprint, setup:passive, rtcp-mux, mid/BUNDLE"

wait "$drv_c1" || true
wait "$peer_c1" || true
cat "$work/c1.result.json"; echo; cat "$work/c1.peer.json"
python3 - "$work/c1.result.json" "$work/c1.peer.json" <<'PY' || fail "browser call c1"
import json, sys
b, p = (json.load(open(f)) for f in sys.argv[1:3])
assert b.get("setRemote") == "ok", b
assert "connected" in b["states"], ("never connected", b)
assert b["dtlsState"] == "connected" and b["tlsVersion"] == "FEFD", b
assert b["packetsReceived"] > 50, ("browser got too little audio from the carrier", b)
assert b["packetsSent"] > 50, b
assert p["received"] > 50, ("carrier got too little audio from the browser", p)
assert p["pts"] == {"0": p["received"]}, ("not all PCMU", p)
assert p["ssrcs"] == [b["ssrc"]], ("SSRC is not the browser's", p, b)
assert p["sources"] == [p["sources"][0]] and p["sources"][0].startswith("10.91.0.1:"), p
assert 700 <= p["tone_hz"] <= 900, ("the browser's 800 Hz tone did not decode", p)
assert p["rms"] > 1000, ("silence", p)
print("c1 media ok: browser %s, carrier heard %.0f Hz" % (b["srtpCipher"], p["tone_hz"]))
PY
ok "browser <-> mediagate: ICE + DTLS 1.2 connected; the browser's 800 Hz tone decoded at the carrier; carrier audio received by the browser"

# Bad STUN from the browser's host (the legit ufrag, a wrong password): 401 and counted;
# DTLS from an address that never passed an ICE check: dropped and counted.
ufrag=$(grep -m1 -oP '^a=ice-ufrag:\K\S+' "$ans")
bufrag=$(grep -m1 -oP '^a=ice-ufrag:\K\S+' "$work/c1.offer.sdp")
port=$(grep -m1 -oP '^m=audio \K[0-9]+' "$ans")
ip netns exec "${id}a" python3 - "$ufrag" "$port" "$bufrag" <<'PY' || fail "bad STUN / unchecked DTLS"
import hmac, hashlib, os, socket, struct, sys, zlib
ufrag, port, bufrag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
tid = os.urandom(12)
body = attr(0x0006, (ufrag + ":" + bufrag).encode()) + attr(0x0024, struct.pack("!I", 12345)) + \
       attr(0x802A, os.urandom(8))
hdr = lambda n: struct.pack("!HHI", 0x0001, n, 0x2112A442) + tid
mi = hmac.new(b"not-the-password-at-all", hdr(len(body) + 24) + body, hashlib.sha1).digest()
body += attr(0x0008, mi)
crc = (zlib.crc32(hdr(len(body) + 8) + body) ^ 0x5354554E) & 0xFFFFFFFF
msg = hdr(len(body) + 8) + body + attr(0x8028, struct.pack("!I", crc))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.91.0.2", 7777))
s.settimeout(3)
s.sendto(msg, ("10.91.0.1", port))
resp = s.recv(2048)
assert resp[:2] == b"\x01\x11" and resp[8:20] == tid, resp.hex()  # Binding error response
i = 20
code = None
while i + 4 <= len(resp):
    t, n = struct.unpack("!HH", resp[i:i + 4])
    if t == 0x0009:
        code = resp[i + 6] * 100 + resp[i + 7]
    i += 4 + n + (-n % 4)
assert code == 401, code
# a DTLS ClientHello-looking record from 10.91.0.2:7777, which passed no check
s.sendto(bytes([22, 0xFE, 0xFD]) + bytes(8) + struct.pack("!H", 0) , ("10.91.0.1", port))
print("401 for bad integrity")
PY
ok "STUN with bad MESSAGE-INTEGRITY answered 401"

# A second call whose offer names a fingerprint Chromium's certificate does not have.
call c2 5002 's/^a=fingerprint:sha-256 .*/a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF/'
wait "$drv_c2" || true
wait "$peer_c2" || true
cat "$work/c2.result.json"; echo; cat "$work/c2.peer.json"
python3 - "$work/c2.result.json" "$work/c2.peer.json" <<'PY' || fail "wrong fingerprint call c2"
import json, sys
b, p = (json.load(open(f)) for f in sys.argv[1:3])
assert b.get("dtlsState") != "connected", ("DTLS connected despite a wrong fingerprint", b)
assert p["received"] == 0, ("media reached the carrier without DTLS keys", p)
assert not b.get("packetsReceived"), ("the browser got media", b)
print("c2 refused: browser dtlsState %s, carrier received 0" % b.get("dtlsState"))
PY
ok "wrong a=fingerprint: handshake refused, no media either way"

# c1's browser has closed: no more checks, so its consent expires 30 s after the last one
# (RFC 7675) and mediagate stops sending to it.
for _ in $(seq 1 60); do
	tel /mediagate/stats | grep -q '"ice_consent_expired": [1-9]' && break
	sleep 1
done
tel /mediagate/stats >"$work/stats.json" || fail "telemetry"
python3 - "$work/stats.json" <<'PY' || fail "counters"
import json, sys
st = json.load(open(sys.argv[1]))["/mediagate/stats"]
show = {k: v for k, v in st.items() if k.startswith(("stun", "dtls", "ice", "webrtc")) and v}
print(show)
assert st["dtls_handshakes_ok"] == 1, st["dtls_handshakes_ok"]
assert st["dtls_keys_installed"] == 1
assert st["dtls_fingerprint_mismatch"] == 1 and st["dtls_fail_fingerprint_mismatch"] == 1
assert st["dtls_handshakes_failed"] == 1
assert st["stun_answered"] >= 2
assert st["stun_bad_integrity"] == 1 and st["stun_errors_sent"] >= 1
assert st["dtls_unchecked_source"] >= 1
assert st["ice_pairs_selected"] >= 2
assert st["webrtc_legs"] == 2
assert st["ice_consent_expired"] >= 1, "the closed browser's consent did not expire"
assert st["leg_drop_srtp_no_key"] > 0, "c2's carrier audio must be dropped, not sent in clear"
print("counters ok")
PY
ok "counters: 1 handshake ok, 1 fingerprint mismatch, 401 for bad integrity, unchecked DTLS dropped, no-key drops, consent expired after the browser left"
"${NGPY[@]}" '{"command": "delete", "call-id": "c1", "from-tag": "browser"}' >/dev/null
"${NGPY[@]}" '{"command": "delete", "call-id": "c2", "from-tag": "browser"}' >/dev/null
tel /mediagate/stats | grep -q '"webrtc_legs": 0' || fail "WebRTC legs not freed with their calls"
ok "delete frees the WebRTC legs"
