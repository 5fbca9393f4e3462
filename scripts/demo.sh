#!/usr/bin/env bash
# mediagate's main job on the embedded defaults, on one Debian 12 machine:
# installs what is missing, builds, creates network namespaces with a veth LAN, starts
# the local parts (redis-server for the session state, a SoftHSM2 token holding the
# tenant instance's customer-managed key, an S3-compatible server), starts mediagate on a
# net_af_packet port with all of them, places a recorded contact-center call through it
# with the ng protocol (as a SIP proxy would) and real RTP from two peers, then shows what
# happened: packets relayed each way, the call's state in Redis, the recording sealed and
# delivered to S3 and decrypted with mediagate-rec, and telemetry figures.
#
#   bash scripts/demo.sh [--seconds N] [--keep]   (--keep leaves mediagate running)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=5
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--seconds N] [--keep]"; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (network namespaces, DPDK)"; exit 1; }

echo "== installing what is missing"
bash scripts/deps.sh
echo "== building"
[ -f build/build.ninja ] || meson setup build --werror >/dev/null
ninja -C build >/dev/null

source scripts/lib/netns.sh
id=mgdemo
prefix=mgdemo
ngport=2223
work=$(mktemp -d)
mg_pid=""
cleanup() {
	if [ $keep -eq 0 ]; then
		[ -n "$mg_pid" ] && kill "$mg_pid" 2>/dev/null && wait "$mg_pid" 2>/dev/null
		[ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null
		[ -f "$work/s3.pid" ] && kill "$(cat "$work/s3.pid")" 2>/dev/null
		wait 2>/dev/null
		mg_lan_down "$id"
	fi
	[ $keep -eq 1 ] || rm -rf "$work"
}
trap cleanup EXIT

echo "== network: namespaces ${id}core (mediagate on veth mg0, 10.91.0.1), ${id}a (10.91.0.2), ${id}b (10.91.0.3)"
mg_lan_up "$id"
rport=6391
s3port=4569
RC=(ip netns exec "${id}core" redis-cli -p $rport)
echo "== local parts: redis-server 127.0.0.1:$rport, SoftHSM2 token, s3rver 127.0.0.1:$s3port (in ${id}core)"
ip netns exec "${id}core" redis-server --bind 127.0.0.1 --port $rport --dir "$work" --save '' \
	--appendonly yes --daemonize no >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 50); do "${RC[@]}" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
eval "export $(bash scripts/rec/softhsm-setup.sh "$work/hsm" mgdemo 1234)"
printf '1234\n' >"$work/token.pin"
chmod 600 "$work/token.pin"
export MG_REC_STATE=$work/state MG_REC_TOKEN=mgdemo MG_REC_PIN=1234 MG_REC_PRINCIPAL=mediagate
rec=build/app/mediagate-rec/mediagate-rec
$rec keys create --account 111122223333 --instance demo-instance | sed 's/^/   /'
ip netns exec "${id}core" bash scripts/rec/s3-start.sh "$work/s3" $s3port recordings "$work/s3.pid" >/dev/null
printf 'S3RVER\nS3RVER\n' >"$work/s3.cred"
chmod 600 "$work/s3.cred"

echo "== starting mediagate (profile pmd-config/af_packet.conf + the local parts)"
ip netns exec "${id}core" build/app/mediagate/mediagate --profile af_packet \
	--set eal.file_prefix=$prefix --set control.ng_listen=127.0.0.1:$ngport \
	--set state.redis=127.0.0.1:$rport --set state.prefix=mg:demo: \
	--set keys.state_dir="$work/state" --set keys.pin_file="$work/token.pin" \
	--set keys.token=mgdemo --set keys.instance=demo-instance --set recording.enable=on \
	--set recording.s3_endpoint=http://127.0.0.1:$s3port --set recording.s3_bucket=recordings \
	--set recording.s3_credentials_file="$work/s3.cred" >"$work/mg.log" 2>&1 &
mg_pid=$!
mg_wait_ng "${id}core" $ngport || { cat "$work/mg.log"; echo "mediagate did not start"; exit 1; }
grep "mediagate:" "$work/mg.log" | sed 's/^/   /'

NG=(ip netns exec "${id}core" rtpengine-ng-client --proxy-address=127.0.0.1 --proxy-port=$ngport)
ng() { ip netns exec "${id}core" python3 tests/tools/ng.py $ngport "$1"; }
sdp_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["sdp"], end="")'; }
echo "== ng offer from A, the customer (call-id demo-call, contact-id demo-contact)"
ng '{"command": "offer", "call-id": "demo-call", "from-tag": "customer-tag", "contact-id": "demo-contact", "instance": "demo-instance", "leg-role": "customer", "sdp": "v=0\r\no=customer 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"}' |
	sdp_of >"$work/offer.sdp"
sed 's/^/   /' "$work/offer.sdp"
port_b=$(grep -m1 -oP '^m=audio \K[0-9]+' "$work/offer.sdp")
echo "== ng answer from B, the agent"
ng '{"command": "answer", "call-id": "demo-call", "from-tag": "customer-tag", "to-tag": "agent-tag", "leg-role": "agent", "sdp": "v=0\r\no=agent 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"}' |
	sdp_of >"$work/answer.sdp"
sed 's/^/   /' "$work/answer.sdp"
port_a=$(grep -m1 -oP '^m=audio \K[0-9]+' "$work/answer.sdp")
echo "== ng start recording (both sides), the agent connected"
ng '{"command": "start recording", "call-id": "demo-call", "recording-channels": "both"}' >/dev/null
ng '{"command": "start recording", "call-id": "demo-call", "from-tag": "agent-tag", "agent": "connected"}' >/dev/null
grep "recording: contact" "$work/mg.log" | sed 's/^/   /'

count=$((seconds * 50))
echo "== real RTP for ${seconds}s: A 10.91.0.2:4000 <-> mediagate :$port_a/:$port_b <-> B 10.91.0.3:5000 (50 pps each way)"
ip netns exec "${id}a" python3 tests/tools/rtp_peer.py --bind 10.91.0.2:4000 --to 10.91.0.1:$port_a \
	--ssrc 0x11111111 --expect-ssrc 0x22222222 --count $count --start-delay 0.1 \
	--ready "$work/a.ready" --wait "$work/b.ready" >"$work/a.json" &
pa=$!
ip netns exec "${id}b" python3 tests/tools/rtp_peer.py --bind 10.91.0.3:5000 --to 10.91.0.1:$port_b \
	--ssrc 0x22222222 --expect-ssrc 0x11111111 --count $count --start-delay 0.1 \
	--ready "$work/b.ready" --wait "$work/a.ready" >"$work/b.json" &
pb=$!
wait $pa $pb
python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f"   A -> B: B received {b['received']} of {a['sent']} packets, {b['intact']} with intact payload")
print(f"   B -> A: A received {a['received']} of {b['sent']} packets, {a['intact']} with intact payload")
PY

echo "== ng stop recording: sealed under the instance key, spooled, delivered to S3"
ng '{"command": "stop recording", "call-id": "demo-call"}' >/dev/null
for _ in $(seq 1 100); do
	$rec list --instance demo-instance --contact demo-contact 2>/dev/null | grep -q delivered && break
	sleep 0.2
done
grep "recording: contact" "$work/mg.log" | tail -1 | sed 's/^/   /'
$rec list --instance demo-instance --contact demo-contact 2>&1 | sed 's/^/   /'
echo "== mediagate-rec get: fetched from S3, decrypted with the token, read by sox"
MG_S3_ENDPOINT=http://127.0.0.1:$s3port MG_S3_BUCKET=recordings MG_S3_ACCESS_KEY=S3RVER \
	MG_S3_SECRET_KEY=S3RVER ip netns exec "${id}core" $rec get --instance demo-instance \
	--contact demo-contact --out "$work/demo-contact.wav" 2>&1 | sed 's/^/   /'
soxi "$work/demo-contact.wav" | grep -E "Channels|Sample Rate|Duration|Encoding" | sed 's/^/   /'
echo "== the call's state in Redis (key mg:demo:call:demo-call; SRTP keys and personal data sealed)"
"${RC[@]}" --raw exists mg:demo:call:demo-call | sed 's/^/   exists: /'
echo "== ng query (rtpengine-ng-client, rtpengine's format, abridged)"
"${NG[@]}" query --call-id=demo-call | grep -E "packets|'confirmed'|local port" | head -8 | sed 's/^/   /'
echo "== telemetry (dpdk-telemetry.py -f $prefix)"
for cmd in /mediagate/version "/mediagate/session,demo-call" /mediagate/stats /mediagate/recordings /mediagate/spool; do
	echo "   $cmd"
	printf '%s\n' "$cmd" | dpdk-telemetry.py -f $prefix | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = next(iter(d.values()))
keys = ("version", "dpdk", "profile", "sessions", "legs", "rx_packets", "tx_packets", "net_udp",
        "net_drop_ipv6", "leg_drop_unlatched_source", "relayed_rtp_packets_active_calls",
        "arp_requests_answered", "ng_offer", "ng_answer", "finished", "bytes_sealed",
        "partial", "in_progress", "delivered", "files", "state_connected", "state_writes")
def show(prefix, obj):
    for k, x in obj.items():
        if isinstance(x, dict):
            show(prefix + k + ".", x)
        elif prefix or k in keys:
            if not prefix or k in ("local_rtp_port", "latched_rtp", "rtp_in_packets", "rtp_out_packets"):
                print("     %-40s %s" % (prefix + k, x))
show("", v)'
done
echo "== ng delete"
"${NG[@]}" delete --call-id=demo-call --from-tag=customer-tag >/dev/null && echo "   deleted"
if [ $keep -eq 1 ]; then
	echo "== mediagate keeps running (pid $mg_pid); stop: kill $mg_pid; source scripts/lib/netns.sh; mg_lan_down $id"
fi
echo "== done"
