#!/usr/bin/env bash
# P3 on the real worker (issue 8, not run in CI): conf_bench ramps the number of 3-party
# conferences on one worker lcore in real time and runs the same number of 2-party relayed
# calls on the same worker, side by side. Per step: tick overruns, the longest tick round,
# the worker's busy time per 20 ms (mean over the run, and median/p10/p90 over the 20 ms
# periods: on a shared machine a preempted loop counts the preemption as busy time, which
# inflates the mean; the median is the usual cost of a period).
#
#   tests/perf/mix/conf_run.sh
#
# Environment: STEPS ("500 1000 2000 3000"; at most 4900: 4 legs per conference in
# the bench's 40,000 ports), SECONDS_PER_STEP (3), MG_BUILD (build dir, default build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${MG_BUILD:-$root/build}
steps=${STEPS:-500 1000 2000 3000}
secs=${SECONDS_PER_STEP:-3}
ninja -C "$build" tests/perf/mix/conf_bench >/dev/null
costs=$(mktemp)
trap 'rm -f "$costs"' EXIT
echo "== conferences on the worker lcore, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
echo "   CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| mode | N | tick rounds | overruns | longest round | worker busy per 20 ms: mean | median | p10 | p90 | median per conference/call | packets in/out | worker drops | not injected |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $steps; do
	for mode in conf relay; do
		out=$("$build/tests/perf/mix/conf_bench" "$mode" "$n" "$secs" 2>&1) || { echo "| $mode | $n | failed |"; continue; }
		line=$(echo "$out" | grep '^RESULT')
		echo "$out" | grep '^COST' >>"$costs"
		python3 - "$line" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split()[1:])
f = lambda k: float(kv[k])
n = int(kv["n"])
conf = kv["mode"] == "conf"
print("| %s | %d | %s | %s | %s | %.2f ms | %.3f ms | %.3f ms | %.3f ms | %.2f us | %s/%s | %s | %s |" % (
    "3-party conferences" if conf else "2-party relay", n, kv["rounds"] if conf else "-",
    kv["overruns"] if conf else "-", ("%.2f ms" % f("max_round_ms")) if conf else "-",
    f("busy_ms"), f("med_ms"), f("p10_ms"), f("p90_ms"), 1000 * f("med_ms") / n,
    kv["in"], kv["out"], kv["drops"], kv["gen_fail"]))
PY
	done
done
echo
echo "Cost model (preemption-robust, see conf_bench.c): input cost per received packet, tick round cost per conference, and per conference (3 packets in + its round) or relayed call (2 packets in and out) per 20 ms; p10 and median over the 20 ms periods"
echo
echo "| mode | N | input per packet p10 / median | tick round per conference p10 / median | per conference/call per 20 ms p10 / median | per core by CPU time (median) |"
echo "|---|---|---|---|---|---|"
python3 - "$costs" <<'PY'
import sys
for line in open(sys.argv[1]):
    kv = dict(x.split("=") for x in line.split()[1:])
    f = lambda k: float(kv[k])
    conf = kv["mode"] == "conf"
    print("| %s | %s | %.0f / %.0f ns | %s | %.2f / %.2f us | %s |" % (
        "3-party conferences" if conf else "2-party relay", kv["n"], f("pkt10_ns"), f("pkt50_ns"),
        ("%.0f / %.0f ns" % (f("round10_ns"), f("round50_ns"))) if conf else "-",
        f("unit10_us"), f("unit50_us"), "{:,.0f}".format(20000 / f("unit50_us")) if f("unit50_us") else "-"))
PY
echo
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
