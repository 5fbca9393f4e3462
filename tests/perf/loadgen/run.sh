#!/usr/bin/env bash
# P5: added latency per packet (median and p99), loss and jitter of G.711 calls relayed by
# mediagate, measured with tests/perf/loadgen, next to dpdk-testpmd io forwarding on the
# SAME two af_packet ports in the same run (the anchor: what the ports and the kernel
# path cost with a forwarder that does nothing).
#
#   namespace ${id}gen  (A side, 10.92.1.2) --veth-- ${id}mid --veth-- ${id}sink (B side, 10.92.2.2)
#   ${id}mid runs mediagate (pmd-config/af_packet-2if.conf) or dpdk-testpmd --forward-mode=io
#   on net_af_packet0,iface=mgc + net_af_packet1,iface=mga; the generator (one process,
#   sockets in gen and sink) is pinned to CPU $GEN_CPU, the middle box's forwarding lcore
#   to CPU $MID_CPU.
#
# Rounds interleave the two middle boxes; each round runs every call count, plain RTP and
# SRTP ($SUITE, libsrtp2 at both ends). The summary gives medians over the rounds and the
# ratio mediagate / testpmd. The generator uses the libsrtp2 built against OpenSSL by
# tests/perf/srtp/build-libsrtp-openssl.sh when it exists (4-5x less CPU per packet than
# Debian's NSS build, so a busy host starves the generator less), else Debian's.
# Settings: ROUNDS (3), CALLS ("1 20 100"), RUN_SECONDS (4),
# SUITE (AES_CM_128_HMAC_SHA1_80), GEN_CPU (0), MID_CPU (1), MG_BUILD, OUT (raw output file).
set -euo pipefail
root=${MG_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${MG_BUILD:-$root/build}
ROUNDS=${ROUNDS:-3}
CALLS=${CALLS:-"1 20 100"}
RUN_SECONDS=${RUN_SECONDS:-4}
SUITE=${SUITE:-AES_CM_128_HMAC_SHA1_80}
OUT=${OUT:-$(mktemp /tmp/loadgen-run.XXXXXX)}
if [ ! -x "$build/tests/perf/loadgen/loadgen" ] || [ ! -x "$build/app/mediagate/mediagate" ]; then
	[ -d "$build" ] || meson setup "$build" "$root"
	ninja -C "$build" tests/perf/loadgen/loadgen app/mediagate/mediagate
fi
command -v dpdk-testpmd >/dev/null || apt-get install -y dpdk
source "$root/scripts/lib/netns.sh"
source "$root/tests/perf/loadgen/lgnet.sh"
ossl_srtp=$root/build-deps/libsrtp2-openssl/src/libsrtp2.so.1
if [ -e "$ossl_srtp" ]; then
	export LD_LIBRARY_PATH=$(dirname "$ossl_srtp")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	srtp_lib="libsrtp2 built against OpenSSL ($ossl_srtp)"
else
	srtp_lib="Debian's libsrtp2 (NSS)"
fi
id="lgr$$"
prefix="mglgrun$$"
ngport=$((20000 + ($$ + 777) % 10000))
work=$(mktemp -d)
middle_pid=""
cleanup() { lg_middle_stop; lg_net_down; rm -rf "$work"; }
trap cleanup EXIT

{
	echo "== loadgen P5 run $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "== rounds=$ROUNDS calls='$CALLS' seconds=$RUN_SECONDS suite=$SUITE gen_cpu=${GEN_CPU:-0} mid_cpu=${MID_CPU:-1}"
	echo "== generator SRTP: $srtp_lib"
	echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"

lg_net_up
run_points() { # mode
	local mode=$1 c s args
	for c in $CALLS; do
		for s in off "$SUITE"; do
			args=(--mode "$mode" --calls "$c" --seconds "$RUN_SECONDS" --warmup 0.5 --linger 0.5
			      --prefix "r$round-$c-$s")
			[ "$mode" = forward ] || args+=(--direction carrier,agents --ng "127.0.0.1:$ngport")
			[ "$s" = off ] || args+=(--srtp --suite "$s")
			"${LG[@]}" "${args[@]}" >"$work/out" 2>&1 || true
			sed "s/^RESULT /RESULT round=$round /" "$work/out" | tee -a "$OUT" | grep -v "^  "
		done
	done
}
for round in $(seq 1 "$ROUNDS"); do
	lg_mediagate_start
	run_points mediagate
	printf '/mediagate/stats\n' | timeout 5 dpdk-telemetry.py -f "$prefix" >"$work/stats.json" 2>/dev/null || true
	python3 - "$work/stats.json" <<'PY' | tee -a "$OUT"
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception as e:
    print("STATS unavailable", e); sys.exit(0)
def flat(d, out, path=""):
    for k, v in d.items():
        if isinstance(v, dict): flat(v, out, path + k + ".")
        elif isinstance(v, (int, float)): out[path + k] = v
    return out
f = flat(s, {})
short = {k.split(".")[-1]: v for k, v in f.items()}
print("STATS mediagate rx_packets", short.get("rx_packets"), "tx_packets", short.get("tx_packets"),
      "nic_rx_missed", short.get("nic_rx_missed"),
      "drops (nonzero):", {k: v for k, v in short.items() if "drop" in k and v} or "none")
PY
	lg_middle_stop
	lg_testpmd_start
	run_points forward
	lg_middle_stop
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"

python3 - "$OUT" <<'PY' | tee -a "$OUT"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "):
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    key = (int(kv["calls"]), kv["srtp"], kv["mode"])
    rows.setdefault(key, []).append(kv)
def med(key, field):
    v = [float(r[field]) for r in rows.get(key, [])]
    return statistics.median(v) if v else float("nan")
print()
print("== P5 results: medians over rounds (latency = send() -> kernel receive timestamp at the")
print("   sink, payload-stamped; jitter = RFC 3550 estimator over send times; loss over counted")
print("   packets after a 0.5 s warm-up). mediagate and testpmd io-fwd on the same af_packet ports.")
hdr = f"{'calls':>6} {'srtp':<24} {'box':<9} {'rounds':>6} {'pkts':>8} {'pps/leg':>7} {'loss':>9} {'lat med us':>10} {'lat p99 us':>10} {'jitter ms':>9} {'gen CPU s':>9}"
print(hdr)
for calls in sorted({k[0] for k in rows}):
    for srtp in sorted({k[1] for k in rows if k[0] == calls}):
        for mode in ("mediagate", "forward"):
            k = (calls, srtp, mode)
            if k not in rows:
                continue
            print(f"{calls:>6} {srtp:<24} {'testpmd' if mode == 'forward' else mode:<9} {len(rows[k]):>6} "
                  f"{med(k, 'sent'):>8.0f} {med(k, 'offered_pps_per_leg'):>7.1f} {100 * med(k, 'loss'):>8.3f}% {med(k, 'lat_median_us'):>10.0f} "
                  f"{med(k, 'lat_p99_us'):>10.0f} {med(k, 'jitter_ms'):>9.3f} {med(k, 'gen_cpu_s'):>9.2f}")
        m, t = (calls, srtp, "mediagate"), (calls, srtp, "forward")
        if m in rows and t in rows:
            print(f"{'':>6} {'':<24} ratio mediagate/testpmd: median {med(m, 'lat_median_us') / max(med(t, 'lat_median_us'), 1):.2f}x, "
                  f"p99 {med(m, 'lat_p99_us') / max(med(t, 'lat_p99_us'), 1):.2f}x; "
                  f"added by mediagate: {med(m, 'lat_median_us') - med(t, 'lat_median_us'):+.0f} us median")
PY
echo "raw output: $OUT"
