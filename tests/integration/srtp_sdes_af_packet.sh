#!/usr/bin/env bash
# SDES-SRTP through mediagate on af_packet, driven by rtpengine-ng-client, with
# libsrtp2-based peers (tests/tools/srtp_peer, independent of mediagate's engine):
#  1. SRTP <-> SRTP (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM): mediagate decrypts
#     with each side's key and encrypts with fresh keys of its own, one per leg.
#  2. SRTP <-> RTP (transport-protocol RTP/AVP towards B), and RTP <-> SRTP (RTP/SAVP towards B).
#  3. R2: forged and replayed packets dropped and counted per leg; an SRTP leg whose
#     keys were never negotiated gets nothing, never plaintext.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init s
mg_lan_up "$id"
mg_start
crypto_key() { # file tag -> base64 key||salt of that a=crypto line in the new SDP
	new_sdp "$1" | grep -m1 -oP "^a=crypto:$2 \S+ inline:\K[A-Za-z0-9+/=]+"
}
key() { head -c "$1" /dev/urandom | base64 -w0; }
peer=$build/tests/tools/srtp_peer

sdp_srtp() { # ip port suite key (rtcp-mux: the peers send and expect SRTCP on the RTP port)
	printf 'v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/SAVP 0\r\na=rtcp-mux\r\na=crypto:1 %s inline:%s\r\n' "$1" "$1" "$2" "$3" "$4"
}

# --- 1. SRTP <-> SRTP, two suites ---
for suite in AES_CM_128_HMAC_SHA1_80 AEAD_AES_128_GCM; do
	case $suite in AEAD_AES_128_GCM) klen=28 ;; *) klen=30 ;; esac
	ka=$(key $klen); kb=$(key $klen)
	call="s2s-$suite"
	"${NG[@]}" offer --call-id="$call" --from-tag=a --sdp="$(sdp_srtp 10.91.0.2 4000 $suite "$ka")" >"$work/o" || fail "offer $suite"
	grep -q "^m=audio [0-9]* RTP/SAVP" <(new_sdp "$work/o") || fail "offer to B is not RTP/SAVP"
	tag=$(new_sdp "$work/o" | grep -m1 -oP "^a=crypto:\K[0-9]+(?= $suite )") || fail "no $suite line offered to B"
	k_mb=$(crypto_key "$work/o" "$tag")
	[ "$k_mb" != "$ka" ] || fail "mediagate passed A's key through instead of its own"
	"${NG[@]}" answer --call-id="$call" --from-tag=a --to-tag=b \
		--sdp="$(printf 'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/SAVP 0\r\na=rtcp-mux\r\na=crypto:%s %s inline:%s\r\n' "$tag" $suite "$kb")" >"$work/a" || fail "answer $suite"
	k_ma=$(crypto_key "$work/a" 1)
	[ -n "$k_ma" ] && [ "$k_ma" != "$kb" ] && [ "$k_ma" != "$k_mb" ] || fail "keys not fresh per leg"
	pa=$(new_port "$work/a"); pb=$(new_port "$work/o")
	ip netns exec "${id}a" "$peer" --bind 10.91.0.2:4000 --to "10.91.0.1:$pa" --suite $suite \
		--send-key "$ka" --recv-key "$k_ma" --ssrc 0xa1 --expect-ssrc 0xb1 --count 100 \
		--interval 0.01 --start-delay 0.1 --linger 1 --rtcp-every 10 \
		--ready "$work/$suite.a.ready" --wait "$work/$suite.b.ready" >"$work/a.json" &
	p1=$!
	ip netns exec "${id}b" "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$pb" --suite $suite \
		--send-key "$kb" --recv-key "$k_mb" --ssrc 0xb1 --expect-ssrc 0xa1 --count 100 \
		--interval 0.01 --start-delay 0.1 --linger 1 --rtcp-every 10 \
		--ready "$work/$suite.b.ready" --wait "$work/$suite.a.ready" >"$work/b.json" &
	p2=$!
	wait $p1 $p2
	cat "$work/a.json" "$work/b.json"
	python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "SRTP media ($suite)"
import json, sys
for p in sys.argv[1:]:
    r = json.load(open(p))
    assert r["received"] >= 95 and r["intact"] == r["received"], r
    assert r["unprotect_failed"] == 0 and r["rtcp"] >= 9 and r["rtcp_failed"] == 0, r
PY
	ok "SRTP<->SRTP $suite: both ways intact, SRTCP too, fresh keys per leg"
	"${NG[@]}" delete --call-id="$call" >/dev/null
done

# --- 2. SRTP (A) <-> RTP (B) ---
ka=$(key 30)
"${NG[@]}" offer --call-id=s2r --from-tag=a --protocol=RTP/AVP \
	--sdp="$(sdp_srtp 10.91.0.2 4002 AES_CM_128_HMAC_SHA1_80 "$ka")" >"$work/o" || fail "offer s2r"
new_sdp "$work/o" | grep -q "^m=audio [0-9]* RTP/AVP 0" || fail "offer to B not converted to RTP/AVP"
new_sdp "$work/o" | grep -q "^a=crypto" && fail "a=crypto leaked to the plain side"
"${NG[@]}" answer --call-id=s2r --from-tag=a --to-tag=b \
	--sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5002 RTP/AVP 0\r\n' >"$work/a" || fail "answer s2r"
new_sdp "$work/a" | grep -q "^m=audio [0-9]* RTP/SAVP 0" || fail "answer to A not RTP/SAVP"
k_ma=$(crypto_key "$work/a" 1)
[ -n "$k_ma" ] || fail "no key for A in the answer"
pa=$(new_port "$work/a"); pb=$(new_port "$work/o")
ip netns exec "${id}a" "$peer" --bind 10.91.0.2:4002 --to "10.91.0.1:$pa" --send-key "$ka" \
	--recv-key "$k_ma" --ssrc 0xa2 --expect-ssrc 0xb2 --count 100 --interval 0.01 \
	--start-delay 0.1 --linger 1 --forge 7 --replay 5 --ready "$work/s2r.a.ready" \
	--wait "$work/s2r.b.ready" >"$work/a.json" &
p1=$!
ip netns exec "${id}b" python3 "$root/tests/tools/rtp_peer.py" --bind 10.91.0.3:5002 --to "10.91.0.1:$pb" \
	--ssrc 0xb2 --expect-ssrc 0xa2 --count 100 --interval 0.01 --start-delay 0.1 --linger 1.2 \
	--ready "$work/s2r.b.ready" --wait "$work/s2r.a.ready" >"$work/b.json" &
p2=$!
wait $p1 $p2
cat "$work/a.json" "$work/b.json"
python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "SRTP<->RTP media"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["received"] >= 95 and a["intact"] == a["received"] and a["unprotect_failed"] == 0, a
# B (plain) gets exactly the 100 genuine packets: no forged or replayed one
assert b["received"] == 100 and b["intact"] == 100 and b["bad"] == 0, b
PY
tel /mediagate/session,s2r >"$work/s.json"
python3 - "$work/s.json" <<'PY' || fail "R2 counters"
import json, sys
s = json.load(open(sys.argv[1]))["/mediagate/session"]["offerer"]
print({k: v for k, v in s.items() if k.startswith("drop_srtp")})
assert s["drop_srtp_auth_failed"] == 7, s
assert s["drop_srtp_replayed"] == 5, s
assert s["rtp_in_packets"] == 100, s
PY
ok "SRTP<->RTP both ways; 7 forged and 5 replayed packets dropped and counted on A's leg"

# --- 2b. RTP (A) <-> SRTP (B): mediagate offers its own SDES keys to B ---
"${NG[@]}" offer --call-id=r2s --from-tag=a --protocol=RTP/SAVP \
	--sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4006 RTP/AVP 0\r\na=rtcp-mux\r\n' >"$work/o" || fail "offer r2s"
new_sdp "$work/o" | grep -q "^m=audio [0-9]* RTP/SAVP 0" || fail "offer to B not converted to RTP/SAVP"
tag=$(new_sdp "$work/o" | grep -m1 -oP "^a=crypto:\K[0-9]+(?= AES_CM_128_HMAC_SHA1_80 )") || fail "no AES_CM_128_HMAC_SHA1_80 offered to B"
k_mb=$(crypto_key "$work/o" "$tag")
kb=$(key 30)
"${NG[@]}" answer --call-id=r2s --from-tag=a --to-tag=b \
	--sdp="$(printf 'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5006 RTP/SAVP 0\r\na=rtcp-mux\r\na=crypto:%s AES_CM_128_HMAC_SHA1_80 inline:%s\r\n' "$tag" "$kb")" >"$work/a" || fail "answer r2s"
new_sdp "$work/a" | grep -q "^m=audio [0-9]* RTP/AVP 0" || fail "answer to A not restored to RTP/AVP"
new_sdp "$work/a" | grep -q "^a=crypto" && fail "a=crypto leaked to the plain side"
pa=$(new_port "$work/a"); pb=$(new_port "$work/o")
ip netns exec "${id}a" python3 "$root/tests/tools/rtp_peer.py" --bind 10.91.0.2:4006 --to "10.91.0.1:$pa" \
	--ssrc 0xa4 --expect-ssrc 0xb4 --count 100 --interval 0.01 --start-delay 0.1 --linger 1.2 \
	--ready "$work/r2s.a.ready" --wait "$work/r2s.b.ready" >"$work/a.json" &
p1=$!
ip netns exec "${id}b" "$peer" --bind 10.91.0.3:5006 --to "10.91.0.1:$pb" --send-key "$kb" \
	--recv-key "$k_mb" --ssrc 0xb4 --expect-ssrc 0xa4 --count 100 --interval 0.01 \
	--start-delay 0.1 --linger 1 --ready "$work/r2s.b.ready" --wait "$work/r2s.a.ready" >"$work/b.json" &
p2=$!
wait $p1 $p2
cat "$work/a.json" "$work/b.json"
python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "RTP<->SRTP media"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["received"] >= 95 and a["intact"] == a["received"], a          # plaintext to A
assert b["received"] >= 95 and b["intact"] == b["received"] and b["unprotect_failed"] == 0, b
PY
ok "RTP<->SRTP: A plain, B SRTP with mediagate's key, both ways intact"

# --- 3. an SRTP leg without negotiated keys never gets plaintext ---
"${NG[@]}" offer --call-id=nokey --from-tag=a --protocol=RTP/SAVP \
	--sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4004 RTP/AVP 0\r\n' >"$work/o" || fail "offer nokey"
pb=$(new_port "$work/o")
# B's answer claims SRTP but carries no key: refused with a clear error
"${NG[@]}" answer --call-id=nokey --from-tag=a --to-tag=b \
	--sdp=$'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5004 RTP/SAVP 0\r\n' >"$work/a" 2>&1 \
	&& fail "an SRTP answer without a=crypto was accepted"
grep -q "matches no line" "$work/a" || fail "no clear error for the crypto-less answer"
# Now try to push plaintext at the SRTP leg from both ends: A sends plain RTP into its
# own (plain) leg, which relays towards B's SRTP leg; B sends plain RTP into its leg.
pa=$(tel /mediagate/session,nokey | python3 -c 'import json,sys; print(json.load(sys.stdin)["/mediagate/session"]["offerer"]["local_rtp_port"])')
ip netns exec "${id}b" python3 "$root/tests/tools/rtp_peer.py" --bind 10.91.0.3:5004 --to "10.91.0.1:$pb" \
	--ssrc 0xb3 --count 20 --interval 0.005 --start-delay 0.2 --linger 0.8 >"$work/b.json" &
p2=$!
ip netns exec "${id}a" python3 "$root/tests/tools/rtp_peer.py" --bind 10.91.0.2:4004 --to "10.91.0.1:$pa" \
	--ssrc 0xa3 --count 10 --interval 0.005 --start-delay 0.3 --linger 0.3 >/dev/null
wait $p2
tel /mediagate/session,nokey >"$work/s.json"
python3 - "$work/s.json" "$work/b.json" <<'PY' || fail "plaintext check"
import json, sys
s = json.load(open(sys.argv[1]))["/mediagate/session"]
b = json.load(open(sys.argv[2]))
ans = s["answerer"]
print({k: v for k, v in ans.items() if "srtp" in k or "packets" in k})
assert ans["rtp_out_packets"] == 0, "something was sent to the SRTP leg"
# B's own 20 (cannot be authenticated) and A's 10 (cannot be protected for B)
assert ans["drop_srtp_no_key"] == 30, ans
assert s["offerer"]["rtp_in_packets"] == 10, s["offerer"]
assert b["received"] == 0, b
PY
ok "no key on an SRTP leg: every packet dropped (srtp_no_key), nothing sent in plaintext"
# R5: no key material in anything mediagate printed or exports (its log, every telemetry
# command, ng query answers), only in the SDP it hands out
for c in /mediagate/stats /mediagate/lcores /mediagate/sessions /mediagate/interfaces \
	/mediagate/session,s2r /mediagate/session,nokey /mediagate/version; do
	tel "$c" >>"$work/exported.txt"
done
"${NG[@]}" query --call-id=s2r >>"$work/exported.txt"
cat "$work/mg.log" >>"$work/exported.txt"
for k in "$ka" "$k_ma"; do
	# the base64 text and the key bytes in hex
	hex=$(printf '%s' "$k" | base64 -d | od -An -tx1 | tr -d ' \n')
	grep -qF "$k" "$work/exported.txt" && fail "a key appears in logs or telemetry"
	grep -qiF "${hex:0:32}" "$work/exported.txt" && fail "key bytes appear in logs or telemetry"
done
ok "no SRTP key in mediagate's log, telemetry or query answers"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS srtp_sdes_af_packet"
