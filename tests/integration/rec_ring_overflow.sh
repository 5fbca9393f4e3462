#!/usr/bin/env bash
# Ring overflow (issue 6, M7/R4): a tiny fork ring (4 records) and a slow ship (2 records
# every 200 ms) on its own lcore, mapped onto CPU 0 next to the control lcore with EAL
# --lcores (this machine has 2 CPUs). A full ring never blocks the worker: the relay goes on,
# the dropped records are counted per ring (/mediagate/rings) and per contact
# (/mediagate/recordings), and the finished recording is marked partial in its metadata and
# in its sealed final frame; what was recorded still decrypts and holds only the right codes.
set -uo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/scripts/lib/mgtest.sh"
mg_test_init recovf
command -v softhsm2-util >/dev/null || bash "$root/scripts/deps.sh" >/dev/null
mg_lan_up "$id" || fail "cannot create namespaces"
mg_keys_setup
promport=$((ngport + 3))
mg_start "${mg_keys_args[@]}" --set control.prometheus_listen="127.0.0.1:$promport" \
	--set recording.enable=on --set recording.ring_size=4 \
	--set recording.ship_budget=2 --set recording.ship_pause_us=200000 --set lcores.ship=2 \
	--set eal.args="--no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=mg0,qpairs=2 --lcores=0@0,1@1,2@0"
grep -q "recording: on, ring 4 records per worker, ship on lcore 2" "$work/mg.log" ||
	fail "the ship did not start on lcore 2"
ok "ship on lcore 2 (mapped onto CPU 0), ring of 4 records"

REC_SECONDS=5 ip netns exec "${id}core" timeout 40 python3 "$root/tests/tools/rec_scenarios.py" \
	"$ngport" "${id}a" "${id}b" "$work" both >"$work/scen.log" 2>&1 &
scen=$!
# mid-call: the contact's own drop counter and partial mark
for _ in $(seq 1 100); do [ -f "$work/go" ] && break; sleep 0.1; done
sleep 3.5
tel /mediagate/recordings >"$work/mid.json"
python3 - "$work/mid.json" <<'PY' || fail "per-contact drops not visible during the call"
import json, sys
rec = json.load(open(sys.argv[1]))["/mediagate/recordings"]
c = rec["contact_K_both"]
assert rec["in_progress"] == 1 and c["open"] == 1, rec
assert c["ring_drops"] > 50 and c["partial"] == 1, c
print("mid-call: contact K-both ring_drops %d, partial" % c["ring_drops"])
PY
ok "mid-call /mediagate/recordings: per-contact drops counted, marked partial"
wait "$scen" || { cat "$work/scen.log"; fail "scenario"; }
for _ in $(seq 1 50); do
	tel /mediagate/recordings >"$work/recordings.json"
	grep -q '"finished": 1' "$work/recordings.json" && break
	sleep 0.2
done
tel /mediagate/rings >"$work/rings.json"
cat "$work/rings.json" "$work/recordings.json"
python3 - "$work/rings.json" "$work/recordings.json" <<'PY' || fail "drops not counted"
import json, sys
ring = json.load(open(sys.argv[1]))["/mediagate/rings"]["ring0"]
rec = json.load(open(sys.argv[2]))["/mediagate/recordings"]
assert ring["dropped"] > 100, ring
assert ring["forked"] + ring["dropped"] >= 300, ring
assert rec["finished"] == 1 and rec["partial"] == 1 and rec["ring_drops"] == ring["dropped"], rec
print("ring0 forked %d dropped %d; finished partial" % (ring["forked"], ring["dropped"]))
PY
ok "drops counted on /mediagate/rings, the finished recording counted partial"
ip netns exec "${id}core" curl -s "http://127.0.0.1:$promport/metrics" >"$work/metrics.txt" ||
	fail "no Prometheus metrics"
grep -E "^mediagate_recording_ring_drops_total(\{[^}]*\})? [1-9]" "$work/metrics.txt" >/dev/null &&
	grep -E "^mediagate_recordings_partial_total(\{[^}]*\})? 1$" "$work/metrics.txt" >/dev/null &&
	grep -E "^mediagate_spool_files(\{[^}]*\})? " "$work/metrics.txt" >/dev/null ||
	fail "recording figures missing from Prometheus: $(grep -i 'record\|spool' "$work/metrics.txt" | head)"
ok "Prometheus: $(grep -E "^mediagate_recording_ring_drops_total" "$work/metrics.txt")"
"$rec_cli" list --instance default --contact K-both >"$work/list.txt" || fail "list"
grep -q "partial" "$work/list.txt" || fail "index entry not partial: $(cat "$work/list.txt")"
"$rec_cli" get --instance default --contact K-both --out "$work/k.wav" 2>"$work/get.err" ||
	fail "get: $(cat "$work/get.err")"
grep -qi "partial" "$work/get.err" || fail "get does not report the sealed partial flag: $(cat "$work/get.err")"
python3 "$root/tests/tools/rec_wav_check.py" "$work/k.wav" --left 0x10 --right 0x90 \
	>"$work/chk.txt" || { cat "$work/chk.txt"; fail "recorded samples wrong"; }
ok "metadata and sealed frame say partial; the recorded part decrypts: $(head -1 "$work/chk.txt")"
# the relay itself was never held up by the full ring
grep -q '"received"' "$work/scen.log" || true
tel /mediagate/stats | python3 -c "
import json,sys; s=json.load(sys.stdin)['/mediagate/stats']
assert s['tx_packets'] >= 300, s['tx_packets']; print('relayed', s['tx_packets'])" ||
	fail "relay affected by the full ring"
ok "relay unaffected: every packet still sent"
