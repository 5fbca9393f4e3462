#!/usr/bin/env bash
# A call through mediagate on net_af_packet ports, driven by Debian's
# rtpengine-ng-client exactly as a SIP proxy would (offer, answer, query, list, delete),
# with real UDP RTP peers in two network namespaces. Checks both directions relayed
# with payloads intact, an unlatched source dropped and counted (R3), ARP and ICMP
# answered, bad ng input answered with errors, the figures on the telemetry socket
# (dpdk-telemetry.py), and the session gone after delete.
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init r
promport=$((ngport + 1))
mg_lan_up "$id"
mg_start --set control.prometheus_listen="127.0.0.1:$promport"
ok "ng ping answered"

# ARP + ICMP echo for mediagate's own address, from a real kernel peer
ip netns exec "${id}a" ping -c 2 -W 1 -q 10.91.0.1 >/dev/null || fail "no ICMP echo reply from 10.91.0.1"
ok "ARP resolved and ICMP echo answered"

sdp_a=$'v=0\r\no=alice 1 1 IN IP4 10.91.0.2\r\ns=call\r\nc=IN IP4 10.91.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n'
sdp_b=$'v=0\r\no=bob 7 7 IN IP4 10.91.0.3\r\ns=call\r\nc=IN IP4 10.91.0.3\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n'
"${NG[@]}" offer --call-id=call-1 --from-tag=tag-a --trust-address --replace-origin \
	--sdp="$sdp_a" >"$work/offer.txt" || fail "offer failed"
port_for_b=$(new_port "$work/offer.txt")
[ -n "$port_for_b" ] || fail "no port in the rewritten offer"
grep -q "^c=IN IP4 10.91.0.1" "$work/offer.txt" || fail "offer c= not rewritten"
grep -q "^o=alice 1 1 IN IP4 10.91.0.1" "$work/offer.txt" || fail "replace-origin not applied"
grep -q "^a=rtcp:$((port_for_b + 1))" "$work/offer.txt" || fail "offer a=rtcp missing"
grep -q "^m=audio $port_for_b RTP/AVP 0 8 101" "$work/offer.txt" || fail "codecs not kept"
grep -q "^a=fmtp:101 0-16" "$work/offer.txt" || fail "fmtp not kept"
ok "offer rewritten (c=, o=, m= port $port_for_b, a=rtcp, codecs kept)"
"${NG[@]}" answer --call-id=call-1 --from-tag=tag-a --to-tag=tag-b --trust-address \
	--sdp="$sdp_b" >"$work/answer.txt" || fail "answer failed"
port_for_a=$(new_port "$work/answer.txt")
[ -n "$port_for_a" ] && [ "$port_for_a" != "$port_for_b" ] || fail "bad answer port '$port_for_a'"
ok "answer rewritten (port $port_for_a)"

# Real RTP both ways, symmetric sockets; the receivers start first.
peer="$root/tests/tools/rtp_peer.py"
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4000 --to "10.91.0.1:$port_for_a" \
	--ssrc 0xa1a1a1a1 --expect-ssrc 0xb2b2b2b2 --count 100 --interval 0.01 --start-delay 0.1 \
	--linger 1.5 --rtcp-every 25 --ready "$work/a.ready" --wait "$work/b.ready" \
	--sent "$work/a.sent" >"$work/a.json" &
pa=$!
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$port_for_b" \
	--ssrc 0xb2b2b2b2 --expect-ssrc 0xa1a1a1a1 --count 100 --interval 0.01 --start-delay 0.1 \
	--linger 1.5 --ready "$work/b.ready" --wait "$work/a.ready" >"$work/b.json" &
pb=$!
# An attacker on A's host but another port, once the call has latched (R3).
ip netns exec "${id}a" python3 "$peer" --bind 10.91.0.2:4444 --to "10.91.0.1:$port_for_a" \
	--ssrc 0xdeadbeef --count 20 --interval 0.005 --linger 0.2 --wait "$work/a.sent" >"$work/attacker.json"
wait $pa $pb
cat "$work/a.json" "$work/b.json"
python3 - "$work/a.json" "$work/b.json" <<'PY' || fail "media check"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for name, r in (("A", a), ("B", b)):
    assert r["received"] >= 95, f"{name} received only {r['received']} of 100"
    assert r["intact"] == r["received"] and r["bad"] == 0, f"{name}: corrupted payloads"
    assert r["wrong_ssrc"] == 0, f"{name}: got packets of a foreign SSRC (bleed)"
    assert r["sources"] == [r["sources"][0]] and r["sources"][0].startswith("10.91.0.1:"), \
        f"{name}: media from {r['sources']}"
print("media ok")
PY
ok "both directions relayed, payloads intact, no foreign SSRC"

# ng query (rtpengine's format) and list
"${NG[@]}" query --call-id=call-1 >"$work/query.txt" || fail "query failed"
grep -q "'tag-b'\|tag-b =>" "$work/query.txt" || fail "query lacks tag-b"
grep -q "unlatched_source => '20'" "$work/query.txt" || fail "the 20 attacker packets were not counted as unlatched_source"
grep -q "'confirmed'" "$work/query.txt" || fail "no latched stream in query"
ok "query shows tags, latched streams and 20 unlatched_source drops"
"${NG[@]}" list >"$work/list.txt" || fail "list failed"
grep -q "'call-1'" "$work/list.txt" || fail "list lacks call-1"
ok "list shows call-1"

# telemetry through DPDK's own client
tel /mediagate/stats >"$work/stats.json" || fail "telemetry stats"
tel /mediagate/session,call-1 >"$work/session.json" || fail "telemetry session"
tel /mediagate/lcores >"$work/lcores.json" || fail "telemetry lcores"
tel /mediagate/version >"$work/version.json" || fail "telemetry version"
tel /mediagate/sessions >"$work/sessions.json" || fail "telemetry sessions"
python3 - "$work" <<'PY' || fail "telemetry check"
import json, sys, os
w = sys.argv[1]
j = lambda n: json.load(open(os.path.join(w, n)))
st = j("stats.json")["/mediagate/stats"]
assert st["sessions"] == 1, st["sessions"]
assert st["leg_drop_unlatched_source"] == 20, st["leg_drop_unlatched_source"]
assert st["relayed_rtp_packets_active_calls"] >= 200, st
assert st["icmp_echo_answered"] >= 2 and st["arp_requests_answered"] >= 1, st
assert st["ng_offer"] == 1 and st["ng_answer"] == 1, st
se = j("session.json")["/mediagate/session"]
assert se["offerer"]["rtp_in_packets"] == 100 and se["answerer"]["rtp_in_packets"] == 100, se
assert se["offerer"]["latched_rtp"] == "10.91.0.2:4000", se["offerer"]["latched_rtp"]
assert se["offerer"]["rtcp_in_packets"] == 4, se["offerer"]
assert se["answerer"]["rtp_out_packets"] >= 100, se["answerer"]
lc = j("lcores.json")["/mediagate/lcores"]
roles = sorted(v["role"] for v in lc.values())
assert roles == ["control", "worker"], roles
assert "call-1" in j("sessions.json")["/mediagate/sessions"]
assert j("version.json")["/mediagate/version"]["dpdk"].startswith("DPDK 22.11")
print("telemetry ok")
PY
ok "telemetry figures match (stats, session, lcores, sessions, version)"

# Prometheus exporter: the same figures over HTTP, parsed as Prometheus text
ip netns exec "${id}core" python3 - "$promport" "$work/stats.json" <<'PY' || fail "Prometheus check"
import json, re, sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
samples, types = {}, {}
for line in text.splitlines():
    m = re.match(r"# TYPE (\S+) (counter|gauge)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    m = re.match(r'([a-z][a-z0-9_]*)(\{[^}]*\})? (\d+)$', line)
    assert m, "not Prometheus text: %r" % line
    samples[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    assert m.group(1) in types, "no TYPE for " + m.group(1)
st = json.load(open(sys.argv[2]))["/mediagate/stats"]
# figures that did not move since the telemetry snapshot must be equal
for k in ("sessions", "legs"):
    assert samples["mediagate_" + k] == st[k], (k, samples["mediagate_" + k], st[k])
for k in ("ng_offer", "ng_answer"):
    assert samples["mediagate_%s_total" % k] == st[k], (k, samples["mediagate_%s_total" % k], st[k])
# counters that a kernel peer may still move (ARP refreshes): never below the snapshot
for k in ("icmp_echo_answered", "arp_requests_answered"):
    assert samples["mediagate_%s_total" % k] >= st[k] > 0, (k, samples["mediagate_%s_total" % k], st[k])
assert samples["mediagate_leg_drop_unlatched_source"] == st["leg_drop_unlatched_source"] == 20
assert samples['mediagate_worker_net_udp_total{worker="0",lcore="1"}'] >= st["net_udp"]
assert types["mediagate_worker_rx_packets_total"] == "counter" and types["mediagate_sessions"] == "gauge"
print("prometheus ok: %d samples" % len(samples))
PY
ok "Prometheus /metrics carries the same figures"

# bad input on the control socket: errors, never a crash
NGPY=(ip netns exec "${id}core" python3 "$root/tests/tools/ng.py" "$ngport")
"${NGPY[@]}" --raw 'd7:command' | grep -q '"result": "error"' || fail "bad bencode not refused"
"${NGPY[@]}" '{"command":"query","call-id":"no-such-call"}' | grep -q 'Unknown call-id' || fail "unknown call"
"${NGPY[@]}" '{"command":"offer","call-id":"x","from-tag":"y","sdp":"v=0\r\nm=audio x RTP/AVP 0\r\n"}' \
	| grep -q 'Failed to parse SDP' || fail "bad SDP not refused"
"${NGPY[@]}" '{"command":"frobnicate"}' | grep -q 'Unrecognized command' || fail "unknown command"
"${NGPY[@]}" '{"command":"ping"}' | grep -q pong || fail "mediagate stopped answering after bad input"
ok "bad bencode, bad SDP, unknown call and command answered with errors"

# delete: the session and its ports are gone
"${NG[@]}" delete --call-id=call-1 --from-tag=tag-a >"$work/delete.txt" || fail "delete failed"
"${NG[@]}" list >"$work/list2.txt"
grep -q "'call-1'" "$work/list2.txt" && fail "call-1 still listed after delete"
tel /mediagate/stats | python3 -c 'import json,sys; s=json.load(sys.stdin)["/mediagate/stats"]; assert s["sessions"]==0 and s["legs"]==0, s' \
	|| fail "session or legs remain after delete"
# media to the deleted call's port is no longer relayed
ip netns exec "${id}b" python3 "$peer" --bind 10.91.0.3:5000 --to "10.91.0.1:$port_for_b" \
	--ssrc 0xb2b2b2b2 --count 10 --interval 0.005 --linger 0.3 >/dev/null
tel /mediagate/stats | python3 -c 'import json,sys; s=json.load(sys.stdin)["/mediagate/stats"]; assert s["no_session"]>=10, s["no_session"]' \
	|| fail "packets to a deleted call not counted as no_session"
ok "delete removed the session; later packets counted as no_session"
kill -0 "$mg_pid" || fail "mediagate died"
echo "PASS relay_ng_af_packet"
