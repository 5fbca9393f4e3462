#!/usr/bin/env bash
# P3 on the real worker (issue 8, not run in CI): conf_bench ramps the number of 3-party
# conferences on one worker lcore in real time and runs the same number of 2-party relayed
# calls on the same worker, side by side. Per step: tick overruns, the worker's busy time
# per 20 ms (all periods, and the periods in which its thread was never preempted), the
# longest tick round.
#
#   tests/perf/mix/conf_run.sh
#
# Environment: STEPS ("500 1000 2000 3000 4000"; at most 4900: 4 legs per conference in
# the bench's 40,000 ports), SECONDS_PER_STEP (3), MG_BUILD (build dir, default build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${MG_BUILD:-$root/build}
steps=${STEPS:-500 1000 2000 3000 4000}
secs=${SECONDS_PER_STEP:-3}
ninja -C "$build" tests/perf/mix/conf_bench >/dev/null
echo "== conferences on the worker lcore, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
echo "   CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| mode | N | tick rounds | overruns | busy per 20 ms (all) | busy per 20 ms (unpreempted periods) | per conference/call (unpreempted) | longest round | packets in/out | drops |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in $steps; do
	for mode in conf relay; do
		line=$("$build/tests/perf/mix/conf_bench" "$mode" "$n" "$secs" 2>&1 | grep '^RESULT') || { echo "| $mode | $n | failed |"; continue; }
		python3 - "$line" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split()[1:])
f = lambda k: float(kv[k])
n = int(kv["n"])
print("| %s | %d | %s | %s | %.2f ms | %.3f ms (%s periods) | %.2f us | %.2f ms | %s/%s | %s |" % (
    "3-party conferences" if kv["mode"] == "conf" else "2-party relay", n, kv["rounds"], kv["overruns"],
    f("busy_ms"), f("clean_busy_ms"), kv["clean"], 1000 * f("clean_busy_ms") / n, f("max_round_ms"),
    kv["in"], kv["out"], kv["drops"]))
PY
	done
done
echo
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
