#!/usr/bin/env bash
# A SIP call through mediagate exactly as operators deploy it: Debian's Kamailio (its
# rtpengine module, rtpengine_manage() with the usual flags) drives mediagate over the
# ng protocol, and two real SIP user agents (Debian's baresip) call each other through
# Kamailio. mediagate runs on a net_af_packet port (10.91.0.1) on a veth LAN.
#
#   ${id}a   baresip alice 10.91.0.2  sends a 440 Hz tone (aufile), records what it hears (sndfile)
#   ${id}b   baresip bob   10.91.0.3  auto-answers, sends 1000 Hz, records what it hears
#   ${id}sip Kamailio      10.91.0.10 on the LAN; ng link 10.99.0.2 -> mediagate 10.99.0.1
#   ${id}core mediagate    10.91.0.1 (DPDK af_packet on mg0); ng socket on 10.99.0.1
#
# Both UAs register with Kamailio (in-memory usrloc), alice dials bob, the call runs a
# few seconds, alice hangs up. Checks: the SDP each UA received (captured on its veth)
# names 10.91.0.1 and the ports mediagate allocated; mediagate relayed RTP both ways
# (telemetry /mediagate/session,<call-id> and /mediagate/stats during the call, latched
# to the UAs' addresses); each UA heard the other's tone (WAV non-silent, at the other
# side's frequency, sox stat); after the BYE the session is gone (ng list empty,
# /mediagate/sessions empty, no legs); Kamailio logged no rtpengine error.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MG_BUILD:-$root/build}
source "$root/scripts/lib/netns.sh"
id="mgk$$"
prefix="mgtest$$"
ngport=$((20000 + $$ % 10000))
call_seconds=6
work=$(mktemp -d)
pids=()        # everything we start, stopped in reverse order on exit
mg_pid=""

for tool in kamailio baresip sox tcpdump rtpengine-ng-client dpdk-telemetry.py; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/deps.sh)"; exit 1; }
done
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ] ||
	{ echo "FAIL: kamailio's rtpengine module missing"; exit 1; }

stop_pid() { # TERM, then KILL after 3 s; reaps our own children
	local p=$1 i
	kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
	kill -TERM "$p" 2>/dev/null || true
	for i in $(seq 1 30); do
		kill -0 "$p" 2>/dev/null || break
		# an exited child stays a zombie until we wait for it
		[ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = Z ] && break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local i p
	set +e
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${pids[$i]}"
	done
	# Kamailio's children (recorded by pid when it started) exit with their parent;
	# make sure none is left behind.
	for p in $(cat "$work/kamailio.children" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	mg_sip_down "$id"
	mg_lan_down "$id"
	rm -rf "$work" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "FAIL: $*"
	local f
	for f in mg.log kamailio.log a.log b.log a.events b.events; do
		[ -s "$work/$f" ] || continue
		echo "--- $f (tail)"
		tail -25 "$work/$f" | tr -d '\r' | cut -c1-300
	done
	exit 1
}
ok() { echo "ok: $*"; }
wait_for() { # FILE REGEX TIMEOUT_S
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
tel() { printf '%s\n' "$1" | timeout 5 dpdk-telemetry.py -f "$prefix"; }
NG=(ip netns exec "${id}sip" timeout 5 rtpengine-ng-client --proxy-address=10.99.0.1 --proxy-port="$ngport")

# --- network: the LAN (mediagate, alice, bob) plus the proxy's namespace
mg_lan_up "$id"
mg_sip_up "$id"

# --- mediagate, ng only on the link to the proxy
ip netns exec "${id}core" "$build/app/mediagate/mediagate" --profile af_packet \
	--set eal.file_prefix="$prefix" --set control.ng_listen="10.99.0.1:$ngport" \
	--set control.ng_allow=10.99.0.2/32 >"$work/mg.log" 2>&1 &
mg_pid=$!
pids+=("$mg_pid")
for i in $(seq 1 100); do
	"${NG[@]}" ping 2>/dev/null | grep -q pong && break
	kill -0 "$mg_pid" 2>/dev/null || fail "mediagate exited"
	[ "$i" -eq 100 ] && fail "mediagate did not answer ng ping on 10.99.0.1:$ngport"
	sleep 0.1
done
ok "mediagate answers ng on 10.99.0.1:$ngport from the proxy's namespace"

# --- Kamailio: the test's config, private runtime dir, foreground
rtpe_flags="replace-origin replace-session-connection ICE=remove"
sed -e "s/@SIP_ADDR@/10.91.0.10/g" -e "s/@NG_SOCK@/udp:10.99.0.1:$ngport/" \
	-e "s/@RTPE_FLAGS@/$rtpe_flags/" "$root/tests/integration/sip/kamailio.cfg" >"$work/kamailio.cfg"
mkdir -p "$work/krun"
ip netns exec "${id}sip" kamailio -c -f "$work/kamailio.cfg" -Y "$work/krun" >"$work/kamailio-check.log" 2>&1 ||
	{ cat "$work/kamailio-check.log"; fail "kamailio -c refused the config"; }
ip netns exec "${id}sip" kamailio -DD -E -f "$work/kamailio.cfg" -Y "$work/krun" \
	-P "$work/krun/kamailio.pid" -m 32 -M 4 >"$work/kamailio.log" 2>&1 &
k_pid=$!
pids+=("$k_pid")
wait_for "$work/kamailio.log" "rtpengine instance <udp:10.99.0.1:$ngport> found" 10 ||
	fail "Kamailio's rtpengine module did not find mediagate"
pgrep -P "$k_pid" >"$work/kamailio.children" || true
ok "Kamailio running (pid $k_pid, $(wc -l <"$work/kamailio.children") children), rtpengine module found mediagate"

# --- SDP as the UAs receive it: capture SIP from the proxy on each UA's veth
for p in a b; do
	ip netns exec "${id}$p" tcpdump -i "p$p" -n -U -s 0 -w "$work/sip-$p.pcap" \
		"udp port 5060 and src host 10.91.0.10" >"$work/tcpdump-$p.log" 2>&1 &
	pids+=("$!")
done
for p in a b; do
	wait_for "$work/tcpdump-$p.log" "listening on" 5 || fail "tcpdump on p$p did not start"
done

# --- baresip alice and bob: no sound card (aufile source, no player), G.711, sndfile records
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$work/tone-a.wav" synth 30 sine 440 vol 0.5
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$work/tone-b.wav" synth 30 sine 1000 vol 0.5
mk_ua() { # side user addr iface answermode
	local d="$work/ua-$1"
	mkdir -p "$d/rec"
	sed -e "s|@ADDR@|$3|" -e "s|@IFACE@|$4|" -e "s|@TONE@|$work/tone-$1.wav|" \
		-e "s|@REC@|$d/rec|" "$root/tests/integration/sip/baresip.config" >"$d/config"
	echo "<sip:$2@10.91.0.10>;regint=60;answermode=$5;audio_codecs=pcmu;ptime=20" >"$d/accounts"
}
mk_ua a alice 10.91.0.2 pa manual
mk_ua b bob 10.91.0.3 pb auto
for p in b a; do
	ip netns exec "${id}$p" baresip -f "$work/ua-$p" >"$work/$p.log" 2>&1 &
	pids+=("$!")
done
wait_for "$work/b.log" "bob@10.91.0.10: .*200 OK" 10 || fail "bob did not register with Kamailio"
wait_for "$work/a.log" "alice@10.91.0.10: .*200 OK" 10 || fail "alice did not register with Kamailio"
ok "alice (10.91.0.2) and bob (10.91.0.3) registered with Kamailio (10.91.0.10)"

# --- the call: bob waits for it, alice dials, keeps it ${call_seconds}s, hangs up
ctrl="$root/tests/integration/sip/baresip_ctrl.py"
ip netns exec "${id}b" timeout 30 python3 "$ctrl" wait-closed 25 >"$work/b.events" 2>&1 &
b_ctrl=$!
pids+=("$b_ctrl")
sleep 0.3
ip netns exec "${id}a" timeout 30 python3 "$ctrl" call sip:bob@10.91.0.10 "$call_seconds" \
	>"$work/a.events" 2>&1 &
a_ctrl=$!
pids+=("$a_ctrl")
wait_for "$work/a.events" '"CALL_ESTABLISHED"' 10 || fail "call not established"
ok "alice called bob through Kamailio; bob auto-answered"
# Snapshot mediagate mid-call in one go (ng list + one telemetry connection), and make
# sure the call was still up afterwards: on an overloaded machine a late snapshot
# would see no session and say nothing about the relay.
sleep 1.5
call_id=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == "CALL_ESTABLISHED":
        print(m["id"]); break' "$work/a.events")
[ -n "$call_id" ] || fail "no call id in alice's events"
"${NG[@]}" list >"$work/list-during.txt" || fail "ng list"
printf '/mediagate/sessions\n/mediagate/session,%s\n/mediagate/stats\n' "$call_id" |
	timeout 5 dpdk-telemetry.py -f "$prefix" >"$work/during.jsonl" || fail "telemetry during the call"
grep -q '"CALL_CLOSED"' "$work/a.events" && fail "the call ended before mediagate could be inspected (machine overloaded?)"
grep -q "'$call_id'" "$work/list-during.txt" || { cat "$work/list-during.txt"; fail "ng list lacks $call_id during the call"; }
wait "$a_ctrl" || fail "alice: call did not run and hang up cleanly"
wait "$b_ctrl" || fail "bob: did not see the call established and closed"
ok "alice hung up after ${call_seconds}s; bob saw the call close (call-id $call_id)"
sleep 0.5 # the BYE's delete and sndfile closing its WAVs

# --- what mediagate did during the call
python3 - "$work" "$call_id" <<'PY' || fail "telemetry during the call"
import json, os, sys
w, call_id = sys.argv[1], sys.argv[2]
during = {}
for line in open(os.path.join(w, "during.jsonl")):
    if line.strip():
        during.update(json.loads(line))
assert during["/mediagate/sessions"] == [call_id], during["/mediagate/sessions"]
se = during["/mediagate/session"]
assert se["call_id"] == call_id and se["answered"] == 1, se
for side, addr in (("offerer", "10.91.0.2"), ("answerer", "10.91.0.3")):
    leg = se[side]
    print(f"   {side}: port {leg['local_rtp_port']} latched {leg['latched_rtp']} "
          f"rtp in {leg['rtp_in_packets']} out {leg['rtp_out_packets']} rtcp in {leg['rtcp_in_packets']}")
    assert leg["latched_rtp"].startswith(addr + ":"), (side, leg["latched_rtp"])
    assert leg["sdp_remote"].startswith(addr + ":"), (side, leg["sdp_remote"])
    assert leg["rtp_in_packets"] >= 50, (side, "rtp in", leg["rtp_in_packets"])   # >= 1 s at 50 pps
    assert leg["rtp_out_packets"] >= 50, (side, "rtp out", leg["rtp_out_packets"])
    drops = {k: v for k, v in leg.items() if k.startswith("drop_") and v}
    # No packet may be lost, not even at the start of the call: commands are applied
    # before the packets that follow them, and packets to a next hop still being
    # resolved are held, not dropped.
    assert not drops, (side, drops)
st = during["/mediagate/stats"]
print(f"   stats: sessions {st['sessions']} legs {st['legs']} relayed_rtp {st['relayed_rtp_packets_active_calls']}"
      f" ng offer/answer {st['ng_offer']}/{st['ng_answer']} errors {st['ng_errors']}")
assert st["sessions"] == 1 and st["relayed_rtp_packets_active_calls"] >= 100, st
assert st["ng_offer"] == 1 and st["ng_answer"] == 1, st
assert st["ng_errors"] == 0 and st["ng_malformed"] == 0 and st["ng_denied"] == 0, st
assert st["net_drop_udp_checksum"] == 0, st
ports = {"offerer": se["offerer"]["local_rtp_port"], "answerer": se["answerer"]["local_rtp_port"]}
json.dump(ports, open(os.path.join(w, "ports.json"), "w"))
PY
ok "mediagate relayed RTP both ways, latched to alice's and bob's addresses"

# --- the SDP each UA received names mediagate (alice: in the 200 OK, bob: in the INVITE)
for p in a b; do
	tcpdump -r "$work/sip-$p.pcap" -n -A 2>/dev/null | tr -d '\r' >"$work/sip-$p.txt" ||
		fail "cannot read the capture on p$p"
done
python3 - "$work" <<'PY' || fail "SDP received by the UAs"
import json, os, re, sys
w = sys.argv[1]
ports = json.load(open(os.path.join(w, "ports.json")))
# Each UA is told the local port of its own leg in mediagate: bob (the answerer) sends
# to the port in the INVITE it received, alice (the offerer) to the one in the 200 OK.
want = {"b": ("INVITE sip:", ports["answerer"]), "a": ("SIP/2.0 200 OK", ports["offerer"])}
for p, (first, port) in want.items():
    text = open(os.path.join(w, f"sip-{p}.txt")).read()
    i = text.find(first)
    assert i >= 0, f"{p}: no '{first}' captured"
    sdp = text[i:text.find("\n\n", text.find("v=0", i))]
    c = re.findall(r"^c=IN IP4 (\S+)", sdp, re.M)
    o = re.findall(r"^o=.* IN IP4 (\S+)", sdp, re.M)
    m = re.findall(r"^m=audio (\d+) RTP/AVP ([0-9 ]+)", sdp, re.M)
    rtcp = re.findall(r"^a=rtcp:(\d+)", sdp, re.M)
    print(f"   {p} received ({first.split()[0]}): c={c} o={o} m={m} a=rtcp={rtcp}")
    assert c and set(c) == {"10.91.0.1"}, c
    assert o == ["10.91.0.1"], o  # replace-origin
    assert m and int(m[0][0]) == port and m[0][1].split()[0] == "0", (m, port)
    assert rtcp == [str(port + 1)], rtcp
    assert "a=candidate" not in sdp and "a=ice-" not in sdp
PY
grep -q "receiving from 10.91.0.1:" "$work/a.log" || fail "alice's RTP did not come from 10.91.0.1"
grep -q "receiving from 10.91.0.1:" "$work/b.log" || fail "bob's RTP did not come from 10.91.0.1"
ok "the SDP alice and bob received names 10.91.0.1 and mediagate's ports; both receive RTP from 10.91.0.1"

# --- audio: each side heard the other's tone
check_wav() { # side expected_hz
	local f
	f=$(ls "$work/ua-$1/rec/"*-dec.wav 2>/dev/null | head -1)
	[ -n "$f" ] || fail "$1: no recording of received audio"
	sox "$f" -n stat 2>"$work/stat-$1.txt" || fail "$1: sox stat failed"
	python3 - "$work/stat-$1.txt" "$2" "$1" <<'PY' || fail "$1: received audio wrong"
import re, sys
t = open(sys.argv[1]).read()
v = lambda k: float(re.search(rf"^{k}:\s+(\S+)", t, re.M).group(1))
length, rms, freq = v(r"Length \(seconds\)"), v(r"RMS\s+amplitude"), v(r"Rough\s+frequency")
want = float(sys.argv[2])
print(f"   {sys.argv[3]} heard {length:.2f} s, RMS amplitude {rms:.3f}, ~{freq:.0f} Hz (sent {want:.0f} Hz)")
assert length >= 3.0, length
assert rms >= 0.2, rms            # a 0.5 full-scale sine has RMS ~0.35; silence ~0
assert abs(freq - want) <= 0.1 * want, freq
PY
}
check_wav b 440
check_wav a 1000
ok "bob heard alice's 440 Hz and alice heard bob's 1000 Hz (non-silent WAVs)"

# --- after the BYE: Kamailio's delete removed the session
wait_for "$work/kamailio.log" "rtpengine delete call-id $call_id" 5 || fail "Kamailio did not delete on BYE"
"${NG[@]}" list >"$work/list-after.txt" || fail "ng list after BYE"
grep -q "'$call_id'" "$work/list-after.txt" && fail "$call_id still listed after the BYE"
tel /mediagate/sessions >"$work/sessions-after.json" || fail "telemetry sessions after BYE"
tel /mediagate/stats >"$work/stats-after.json" || fail "telemetry stats after BYE"
python3 - "$work" <<'PY' || fail "session left after the BYE"
import json, os, sys
w = sys.argv[1]
j = lambda n: json.load(open(os.path.join(w, n)))
assert j("sessions-after.json")["/mediagate/sessions"] == [], j("sessions-after.json")
st = j("stats-after.json")["/mediagate/stats"]
assert st["sessions"] == 0 and st["legs"] == 0, st
assert st["ng_delete"] >= 1 and st["ng_errors"] == 0, st
PY
ok "after the BYE: ng list and /mediagate/sessions empty, no legs left"

if grep -E "ERROR|CRITICAL" "$work/kamailio.log" >"$work/kamailio-errors.txt"; then
	cat "$work/kamailio-errors.txt"
	fail "Kamailio logged errors"
fi
kill -0 "$mg_pid" 2>/dev/null || fail "mediagate died"
ok "Kamailio logged no errors; mediagate still running"
echo "PASS relay_kamailio_baresip"
