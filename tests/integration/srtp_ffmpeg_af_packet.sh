#!/usr/bin/env bash
# Real SRTP endpoints on both sides of mediagate: ffmpeg's SRTP output (its own libavformat
# SRTP code) sends a 440 Hz G.711 tone with key KA; mediagate decrypts and re-encrypts
# with the key it gave the other leg in its SDP; a second ffmpeg receives with that key
# (from the SDP, a=crypto) and writes a WAV. The tone must arrive intact: 2 s, about
# 440 Hz, the lavfi sine's level.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init f
mg_lan_up "$id"
mg_start
suite=AES_CM_128_HMAC_SHA1_80
ka=$(head -c 30 /dev/urandom | base64 -w0)
kb=$(head -c 30 /dev/urandom | base64 -w0)
"${NG[@]}" offer --call-id=ff --from-tag=a --sdp="$(printf 'v=0\r\no=- 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 %s inline:%s\r\n' $suite "$ka")" >"$work/o" || fail offer
"${NG[@]}" answer --call-id=ff --from-tag=a --to-tag=b --sdp="$(printf 'v=0\r\no=- 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/SAVP 0\r\na=crypto:1 %s inline:%s\r\n' $suite "$kb")" >"$work/a" || fail answer
pa=$(new_sdp "$work/a" | grep -m1 -oP '^m=audio \K[0-9]+')
k_mb=$(new_sdp "$work/o" | grep -m1 -oP "^a=crypto:1 $suite inline:\K\S+")
[ -n "$pa" ] && [ -n "$k_mb" ] || fail "no port or key in mediagate's SDP"

# B: ffmpeg receives SRTP described by an SDP carrying mediagate's key for B
printf 'v=0\r\no=- 0 0 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 %s inline:%s\r\n' $suite "$k_mb" >"$work/b.sdp"
ip netns exec "${id}b" timeout 20 ffmpeg -hide_banner -nostdin -loglevel info -y \
	-protocol_whitelist file,udp,rtp,srtp -i "$work/b.sdp" -t 2 -ac 1 "$work/b.wav" >"$work/rx.log" 2>&1 &
rx=$!
sleep 1
# A: ffmpeg sends SRTP with its own key, G.711 in 20 ms packets, from the SDP's port
ip netns exec "${id}a" timeout 20 ffmpeg -hide_banner -nostdin -loglevel warning -re -f lavfi \
	-i sine=frequency=440:sample_rate=8000 -t 4 -ac 1 -c:a pcm_mulaw -payload_type 0 -pkt_size 172 \
	-f rtp -srtp_out_suite $suite -srtp_out_params "$ka" "srtp://10.91.0.1:$pa?localport=4000" \
	>"$work/tx.log" 2>&1 || fail "ffmpeg sender failed: $(tail -3 "$work/tx.log")"
wait $rx || fail "ffmpeg receiver failed"
[ -s "$work/b.wav" ] || fail "no WAV received"
sox "$work/b.wav" -n stat 2>"$work/stat.txt" || fail "sox cannot read the WAV"
cat "$work/stat.txt" | grep -E "Length|RMS +amplitude|Rough"
python3 - "$work/stat.txt" <<'PY' || fail "the tone did not arrive intact"
import re, sys
t = open(sys.argv[1]).read()
g = lambda k: float(re.search(k + r":\s+(-?[0-9.]+)", t).group(1))
assert g(r"Length \(seconds\)") >= 1.9, "too short"
assert abs(g(r"Rough\s+frequency") - 440) < 20, "wrong frequency"
assert 0.07 < g(r"RMS\s+amplitude") < 0.11, "wrong level (lavfi sine is 1/8 full scale)"
PY
ok "ffmpeg SRTP -> mediagate (re-keyed) -> ffmpeg SRTP: 440 Hz tone intact"
echo "PASS srtp_ffmpeg_af_packet"
