#!/usr/bin/env bash
# P6: restore time of 10,000 and 100,000 sessions from Redis (goal: 100,000 in < 2 s),
# and Redis round trips per ng request. Starts its own redis-server (private dir, port).
# Three kinds of calls: plain RTP, SDES-SRTP without [keys] (keys not stored), and
# SDES-SRTP with the keys and SRTP state sealed under an instance key in a private
# SoftHSM2 token (docs/state.md).
#   bash tests/perf/state/run.sh [reps]
set -euo pipefail
cd "$(dirname "$0")/../../.."
reps=${1:-5}
bash scripts/deps.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build tests/perf/state/restore_bench app/mediagate-rec/mediagate-rec >/dev/null
work=$(mktemp -d)
port=$((40000 + $$ % 20000))
redis-server --bind 127.0.0.1 --port $port --dir "$work" --save '' --appendonly no \
	--daemonize no >"$work/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for i in $(seq 1 50); do redis-cli -p $port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
eval "export $(bash scripts/rec/softhsm-setup.sh "$work/hsm" bench 1234)"
MG_REC_PIN=1234 MG_REC_TOKEN=bench MG_REC_STATE=$work/keys MG_REC_PRINCIPAL=mediagate \
	build/app/mediagate-rec/mediagate-rec keys create --account bench --instance bench >/dev/null
for n in 10000 100000; do
	for kind in "" "--srtp" "--srtp --keys-state $work/keys --token bench --pin 1234 --instance bench"; do
		# shellcheck disable=SC2086
		taskset -c 1 build/tests/perf/state/restore_bench --redis 127.0.0.1:$port --calls $n \
			--reps "$reps" $kind | grep -E "^(SETUP|REP|SUMMARY)"
	done
done
