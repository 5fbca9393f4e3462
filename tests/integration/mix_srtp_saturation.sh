#!/usr/bin/env bash
# Two conferences at once on one worker, real RTP/SRTP on af_packet ports:
#  K1: an SDES-SRTP customer (400 Hz; SRTP done by tone_peer.py with Python's
#      `cryptography`, independent of mediagate's engine) with a plain agent (700 Hz),
#      then a plain supervisor (1100 Hz) joins: the customer's mixed output is encrypted
#      with its own key (every packet authenticates, it hears 700 + 1100 and not 400), and
#      its decrypted audio reaches the others.
#  K2: saturation: two PCMU parties sending full scale (+32124, code 0x80) and a PCMA
#      listener: the listener gets +32767 clipped (A-law 0xAA), never a wrapped sum, and
#      each sender hears the other at full scale (0x80).
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init mxs
mg_lan_up "$id"
mg_start
source "$root/scripts/lib/mixtest.sh"
ok "mediagate up"

key=$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(30)).decode())')
sdp_cust=$(printf 'v=0\r\no=cust 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\na=ptime:20\r\n' "$key" |
	python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
sdp_ag=$(mix_sdp 10.91.0.3 5000 ag1 0 | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
a=$(ng_ok "{\"command\":\"offer\",\"call-id\":\"c1\",\"from-tag\":\"cust\",\"contact-id\":\"K1\",\"transport-protocol\":\"RTP/AVP\",\"sdp\":$sdp_cust}")
ag1_to=$(echo "$a" | python3 -c 'import json,re,sys; print(re.search(r"m=audio (\d+) RTP/AVP ", json.load(sys.stdin)["sdp"]).group(1))')
a=$(ng_ok "{\"command\":\"answer\",\"call-id\":\"c1\",\"from-tag\":\"cust\",\"to-tag\":\"ag1\",\"sdp\":$sdp_ag}")
read -r cust_to mg_key < <(echo "$a" | python3 -c '
import json,re,sys
s = json.load(sys.stdin)["sdp"]
print(re.search(r"m=audio (\d+) RTP/SAVP ", s).group(1), re.search(r"a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)", s).group(1))')
[ -n "$mg_key" ] || fail "no a=crypto in the answer to the SRTP customer"
mix_call s1 sup sdummy 10.91.0.2 4100 10.91.0.3 5100 K1 third-party agent 0
sup_to=$to0
ok "K1: SDES-SRTP customer, plain agent and supervisor"
mix_call d1 x1 x2 10.91.0.2 4500 10.91.0.3 5500 K2 customer agent 0
x1_to=$to0 x2_to=$to1
mix_call d2 x3 xd 10.91.0.2 4600 10.91.0.3 5600 K2 third-party agent 8
x3_to=$to0
ok "K2: two full-scale PCMU senders, one PCMA listener"

start=$(python3 -c 'import time; print(time.time() + 3.0)')
dur=11
party cust a 10.91.0.2:4000 "$cust_to" --ssrc 0xc0000001 --law u --freq 400 --start-at "$start" \
	--duration $dur --srtp-send-key "$key" --srtp-recv-key "$mg_key"
party ag1 b 10.91.0.3:5000 "$ag1_to" --ssrc 0xa0000001 --law u --freq 700 --start-at "$start" --duration $dur
party sup a 10.91.0.2:4100 "$sup_to" --ssrc 0x50000001 --law u --freq 1100 --start-at "$start" --duration $dur
party x1 a 10.91.0.2:4500 "$x1_to" --ssrc 0x10000001 --law u --code 0x80 --start-at "$start" --duration $dur
party x2 b 10.91.0.3:5500 "$x2_to" --ssrc 0x10000002 --law u --code 0x80 --start-at "$start" --duration $dur
party x3 a 10.91.0.2:4600 "$x3_to" --ssrc 0x10000003 --law a --code 0xD5 --start-at "$start" --duration $dur
at() { python3 -c "import time; time.sleep(max(0, $start + $1 - time.time()))"; }

at 0.3; mark relay
at 3.0; mark join_sent
ng_ok '{"command":"join conference","call-id":"s1","from-tag":"sup","contact-id":"K1"}' | grep -q '"participants": 3' || fail "K1 join"
ng_ok '{"command":"join conference","call-id":"d2","from-tag":"x3","contact-id":"K2"}' | grep -q '"participants": 3' || fail "K2 join"
mark join
at 10.5; mark end
tel /mediagate/stats >"$work/stats.json" || fail "telemetry stats"
wait "${mix_pids[@]}" || fail "a participant failed"

python3 - "$work/cust.json" <<'PY' || fail "SRTP check"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["srtp_auth_failures"] == 0, "%d packets to the SRTP customer did not authenticate" % d["srtp_auth_failures"]
assert len(d["packets"]) >= 300, "the SRTP customer got only %d packets" % len(d["packets"])
print("SRTP customer: %d packets, all authenticated" % len(d["packets"]))
PY
hears cust relay join_sent --hear 700 --not 400,1100
hears ag1 relay join_sent --hear 400 --not 700,1100
ok "relay with SRTP re-keying both ways"
hears cust join end --hear 700,1100 --not 400
hears ag1 join end --hear 400,1100 --not 700
hears sup join end --hear 400,700 --not 1100
ok "3-party conference with an SRTP participant: mixed output encrypted with its own key"
hears x3 join end --codes 0xAA --min-fraction 0.95
hears x1 join end --codes 0x80 --min-fraction 0.95
hears x2 join end --codes 0x80 --min-fraction 0.95
hears x3 relay join_sent --no-audio
ok "saturation: two full-scale inputs clip to the A-law maximum, never wrap"
python3 - "$work/stats.json" <<'PY' || fail "telemetry"
import json, sys
st = json.load(open(sys.argv[1]))["/mediagate/stats"]
assert st["conferences"] == 2 and st["conference_participants"] == 6, st
assert st["leg_drop_srtp_auth_failed"] == 0 and st["leg_drop_srtp_no_key"] == 0, st
print("telemetry ok: 2 conferences, 6 participants, overruns %d of %d rounds"
      % (st["conference_tick_overruns"], st["conference_rounds"]))
PY
ok "telemetry: two conferences, no SRTP failure"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS mix_srtp_saturation"
