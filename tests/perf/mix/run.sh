#!/usr/bin/env bash
# P3 mixing benchmark (issue 8, not run in CI): bench_mix (AVX-512 build, this machine's
# -march=native) and bench_mix_avx2 (the same code without AVX-512), repetitions
# interleaved; prints the median of each figure over the repetitions, then one real-time
# ramp. Every figure inside a repetition is itself a median of ROUNDS rounds of CPU time
# (CLOCK_THREAD_CPUTIME_ID).
#
#   tests/perf/mix/run.sh
#
# Environment: REPS (5), CONFS (3000), ROUNDS (41), RAMP_SECONDS (2; 0 = no ramp),
# MG_BUILD (build dir, default build-perf), MIX_CPU (CPU to pin to; default: the less busy
# one over one second, as this 2-core machine is shared).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${MG_BUILD:-$root/build-perf}
reps=${REPS:-5}
confs=${CONFS:-3000}
rounds=${ROUNDS:-41}
ramp=${RAMP_SECONDS:-2}

[ -f "$build/build.ninja" ] || meson setup "$build" --werror >/dev/null
ninja -C "$build" tests/perf/mix/bench_mix tests/perf/mix/bench_mix_avx2 >/dev/null

cpu_busy() { awk -v c="cpu$1" '$1==c {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
cpu=${MIX_CPU:-auto}
if [ "$cpu" = auto ]; then
	a0=$(cpu_busy 0); a1=$(cpu_busy 1); sleep 1; b0=$(cpu_busy 0); b1=$(cpu_busy 1)
	if [ $((b1 - a1)) -le $((b0 - a0)) ]; then cpu=1; else cpu=0; fi
fi

work=$(mktemp -d /tmp/mix-perf.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== mediagate mixing benchmark, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
echo "   CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), pinned to cpu$cpu;" \
	"load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $confs conferences, $rounds rounds per figure, $reps repetitions (interleaved)"
for r in $(seq "$reps"); do
	for v in bench_mix bench_mix_avx2; do
		taskset -c "$cpu" "$build/tests/perf/mix/$v" "$confs" "$rounds" >"$work/$v.$r.log"
		[ "$r" = 1 ] && sed -n 1p "$work/$v.$r.log"
	done
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work" "$reps" <<'PY'
import sys, glob, statistics, re
work, reps = sys.argv[1], int(sys.argv[2])
rows = {}
for v in ("bench_mix", "bench_mix_avx2"):
    for f in glob.glob(f"{work}/{v}.*.log"):
        for line in open(f):
            if line.startswith("RESULT law="):
                kv = dict(x.split("=") for x in line.split()[1:])
                key = (v, kv.pop("law"))
                for k, val in kv.items():
                    rows.setdefault(key, {}).setdefault(k, []).append(float(val))
print()
print("| build | law | tick (ns) | full period (ns) | conferences per core (20 ms / full) | full without prefetch (ns) | one hot conference (ns) | 2-party through the mixer (ns) | relay anchor per call (ns) | conference / relay anchor |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (v, law), d in sorted(rows.items()):
    m = {k: statistics.median(x) for k, x in d.items()}
    build = "AVX-512 (native)" if v == "bench_mix" else "AVX2 only"
    print(f"| {build} | {law} | {m['tick_ns']:.0f} | {m['full_ns']:.0f} | {20e6 / m['full_ns']:,.0f} | "
          f"{m['full_nopf_ns']:.0f} | {m['hot_full_ns']:.0f} | {m['two_party_ns']:.0f} | "
          f"{m['relay_ns']:.0f} | {m['full_ns'] / m['relay_ns']:.0f} |")
spread = []
for (v, law), d in sorted(rows.items()):
    x = d["full_ns"]
    spread.append(f"{v} {law} full: min {min(x):.0f} max {max(x):.0f} over {len(x)} reps")
print()
print("spread: " + "; ".join(spread))
PY

if [ "$ramp" != 0 ]; then
	echo
	echo "== real-time ramp (AVX-512 build, PCMU, $ramp s per step, cpu$cpu)"
	taskset -c "$cpu" "$build/tests/perf/mix/bench_mix" 1 3 "$ramp" | grep -E "^real"
	echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
