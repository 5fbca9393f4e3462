#!/usr/bin/env bash
# DTLS handshake benchmark pinned to one core. Usage: tests/perf/dtls/run.sh [build dir]
# [handshakes per run] [runs]. Builds bench_dtls in the given build dir (default build-perf,
# release build) and prints its table; copy the figures into docs/performance-dtls.md.
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build-perf}
n=${2:-300}
runs=${3:-9}
cpu=${MG_BENCH_CPU:-1}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --werror -Dbuildtype=release >/dev/null
fi
ninja -C "$build" tests/perf/dtls/bench_dtls >/dev/null || { ninja -C "$build" tests/perf/dtls/bench_dtls | tail -20; exit 1; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(git rev-parse --short HEAD) cpu $cpu:" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "$cpu" "$build/tests/perf/dtls/bench_dtls" "$n" "$runs"
