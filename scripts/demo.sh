#!/usr/bin/env bash
# mediagate's main job on the embedded defaults, on one Debian 12 machine:
# installs what is missing, builds, creates network namespaces with a veth LAN,
# starts mediagate on a net_af_packet port, places a call through it with the ng
# protocol (Debian's rtpengine-ng-client, as a SIP proxy would) and real RTP from two
# peers, then shows what happened: packets relayed each way and telemetry figures.
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
		mg_lan_down "$id"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== network: namespaces ${id}core (mediagate on veth mg0, 10.91.0.1), ${id}a (10.91.0.2), ${id}b (10.91.0.3)"
mg_lan_up "$id"
echo "== starting mediagate (profile pmd-config/af_packet.conf)"
ip netns exec "${id}core" build/app/mediagate/mediagate --profile af_packet \
	--set eal.file_prefix=$prefix --set control.ng_listen=127.0.0.1:$ngport >"$work/mg.log" 2>&1 &
mg_pid=$!
mg_wait_ng "${id}core" $ngport || { cat "$work/mg.log"; echo "mediagate did not start"; exit 1; }
grep "mediagate:" "$work/mg.log" | sed 's/^/   /'

NG=(ip netns exec "${id}core" rtpengine-ng-client --proxy-address=127.0.0.1 --proxy-port=$ngport)
echo "== ng offer from A (call-id demo-call)"
"${NG[@]}" offer --call-id=demo-call --from-tag=customer-tag --sdp=$'v=0\r\no=customer 1 1 IN IP4 10.91.0.2\r\ns=-\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n' >"$work/offer.txt"
sed -n '/^New SDP/,/^----->8/p' "$work/offer.txt" | sed 's/^/   /'
port_b=$(sed -n '/^New SDP/,/^----->8/p' "$work/offer.txt" | grep -m1 -oP '^m=audio \K[0-9]+')
echo "== ng answer from B"
"${NG[@]}" answer --call-id=demo-call --from-tag=customer-tag --to-tag=agent-tag --sdp=$'v=0\r\no=agent 1 1 IN IP4 10.91.0.3\r\ns=-\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n' >"$work/answer.txt"
sed -n '/^New SDP/,/^----->8/p' "$work/answer.txt" | sed 's/^/   /'
port_a=$(sed -n '/^New SDP/,/^----->8/p' "$work/answer.txt" | grep -m1 -oP '^m=audio \K[0-9]+')

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

echo "== ng query (rtpengine's format, abridged)"
"${NG[@]}" query --call-id=demo-call | grep -E "packets|'confirmed'|local port" | head -8 | sed 's/^/   /'
echo "== telemetry (dpdk-telemetry.py -f $prefix)"
for cmd in /mediagate/version "/mediagate/session,demo-call" /mediagate/stats; do
	echo "   $cmd"
	printf '%s\n' "$cmd" | dpdk-telemetry.py -f $prefix | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = next(iter(d.values()))
keys = ("version", "dpdk", "profile", "sessions", "legs", "rx_packets", "tx_packets", "net_udp",
        "net_drop_ipv6", "leg_drop_unlatched_source", "relayed_rtp_packets_active_calls",
        "arp_requests_answered", "ng_offer", "ng_answer")
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
