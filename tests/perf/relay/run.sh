#!/usr/bin/env bash
# Relay benchmarks: mediagate's data plane vs Debian's rtpengine, side by side in one run,
# repetitions interleaved (mediagate, rtpengine, mediagate, ...).
#  - "plain" (issue 3): plain RTP relay.
#  - "p2" (issue 4, P2): SRTP-to-SRTP re-keying (relay_bench --srtp, rtpengine_load --srtp).
#
#   tests/perf/relay/run.sh                  # both blocks
#   BLOCKS=p2 tests/perf/relay/run.sh        # only P2
#
# Environment: ROUNDS (5), CALLS ("1000 10000"), SCALE ("1 100": mediagate-only points of
# the scaling curve), RATE (rtpengine offered pps, 80000), MG_SECONDS (2, per mediagate
# repetition), RE_SECONDS (5, per rtpengine repetition), OVERLOAD (1.5; 0 = skip),
# PERF (1: perf record on the worker thread during one extra mediagate run),
# RELAY_CPU (CPU for the relay under test: mediagate's worker lcore 1 and rtpengine; the
# generator / load tool get the other one; default "auto": the less busy CPU over one
# second, because on this shared 2-core machine other jobs pin themselves to one core),
# MG_BUILD (build dir, default build-perf), BLOCKS ("plain p2").
# P2: P2_CALLS ("1000 10000"), P2_ROUNDS ($ROUNDS), P2_SUITES (mediagate's suites,
# "AES_CM_128_HMAC_SHA1_80 AEAD_AES_128_GCM"; rtpengine is measured with AES-CM only),
# P2_RATE (rtpengine offered pps, 60000), P2_PERF (1: perf record on the worker, 10,000
# SRTP calls), P2_SCALE ("100": mediagate-only SRTP points, first suite of P2_SUITES).
#
# mediagate: relay_bench, EAL --no-huge -m 2048 --no-pci --no-shconf with lcores 0 and 1
# (worker on lcore 1, generator + control on the main lcore 0; --lcores maps them to
# CPUs), ring port from rte_eth_from_rings().
# rtpengine: userspace only (--table=-1), one core (taskset -c $RELAY_CPU,
# --num-threads=1 --media-num-threads=1), loopback; rtpengine_load pinned to the other.
# Not part of CI. Stops by itself; kills rtpengine and removes EAL runtime files.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${MG_BUILD:-$root/build-perf}
rounds=${ROUNDS:-5}
calls_list=${CALLS:-"1000 10000"}
scale_list=${SCALE:-"1 100"}
rate=${RATE:-80000}
mg_seconds=${MG_SECONDS:-2}
re_seconds=${RE_SECONDS:-5}
overload=${OVERLOAD:-1.5}
do_perf=${PERF:-1}
blocks=${BLOCKS:-"plain p2"}
p2_calls=${P2_CALLS:-"1000 10000"}
p2_rounds=${P2_ROUNDS:-$rounds}
p2_suites=${P2_SUITES:-"AES_CM_128_HMAC_SHA1_80 AEAD_AES_128_GCM"}
p2_rate=${P2_RATE:-60000}
p2_perf=${P2_PERF:-1}
p2_scale=${P2_SCALE:-"100"}
has_block() { case " $blocks " in *" $1 "*) return 0 ;; esac; return 1; }

bash "$root/scripts/deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" --werror >/dev/null
ninja -C "$build" tests/perf/relay/relay_bench tests/perf/relay/rtpengine_load >/dev/null

work=$(mktemp -d /tmp/relay-perf.XXXXXX)
tag="relaybench-run$$"
rtpe_pid=""
load_srtp_lib=""
cleanup() {
	if [ -n "$rtpe_pid" ] && kill -0 "$rtpe_pid" 2>/dev/null; then
		kill "$rtpe_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$rtpe_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$rtpe_pid" 2>/dev/null || true
	fi
	rm -rf /var/run/dpdk/"$tag"-* 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Which CPU is quieter right now?
cpu_busy() { awk -v c="cpu$1" '$1==c {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
relay_cpu=${RELAY_CPU:-auto}
if [ "$relay_cpu" = auto ]; then
	a0=$(cpu_busy 0); a1=$(cpu_busy 1); sleep 1; b0=$(cpu_busy 0); b1=$(cpu_busy 1)
	if [ $((b1 - a1)) -le $((b0 - a0)) ]; then relay_cpu=1; else relay_cpu=0; fi
	echo "   busy ticks over 1 s: cpu0 $((b0 - a0)), cpu1 $((b1 - a1)) (of ~$(getconf CLK_TCK))"
fi
gen_cpu=$((1 - relay_cpu))
echo "   relay under test on cpu $relay_cpu, generator / load tool on cpu $gen_cpu"
eal_cpus="--lcores 0@$gen_cpu,1@$relay_cpu"

results=$work/results
: >"$results"
ngport=$((22500 + $$ % 400))

mg_run() { # label calls reps seconds [extra relay_bench options...]
	local label=$1 calls=$2 reps=$3 secs=$4 n
	shift 4
	n=$((${n_mg:-0} + 1)); n_mg=$n
	timeout 300 "$build/tests/perf/relay/relay_bench" --calls "$calls" --reps "$reps" \
		--seconds "$secs" "$@" -- --no-huge -m 2048 --no-pci --no-shconf $eal_cpus \
		--no-telemetry --log-level lib.eal:warning --file-prefix "$tag-$n" >"$work/mg.out" 2>&1 ||
		{ cat "$work/mg.out"; echo "run.sh: relay_bench failed" >&2; exit 1; }
	rm -rf /var/run/dpdk/"$tag-$n"
	grep -E '^(rep|  clean|median|overload|per stream|totals|srtp:|relay_bench: ok)' "$work/mg.out" | sed 's/^/    mg: /'
	grep -E '^(REP|SUMMARY|OVERLOAD) ' "$work/mg.out" | sed "s/^/$label /" >>"$results"
}

rtpe_start() {
	# rtpengine holds 4 sockets per call (RTP + RTCP per side, even with rtcp-mux).
	(cd "$work" && ulimit -n "$(ulimit -Hn)" && exec taskset -c "$relay_cpu" rtpengine --interface=127.0.0.1 \
		--listen-ng=127.0.0.1:$ngport --table=-1 --foreground --log-stderr \
		--port-min=10000 --port-max=60000 --num-threads=1 --media-num-threads=1 \
		--log-level=4 >"$work/rtpengine.log" 2>&1) &
	rtpe_pid=$!
	for _ in $(seq 100); do
		ss -lun | grep -q "127.0.0.1:$ngport " && return 0
		kill -0 "$rtpe_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/rtpengine.log"
	echo "run.sh: rtpengine did not start" >&2
	exit 1
}

rtpe_stop() {
	kill "$rtpe_pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$rtpe_pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$rtpe_pid" 2>/dev/null || true
	wait "$rtpe_pid" 2>/dev/null || true
	rtpe_pid=""
}

re_run() { # calls round [label rate extra rtpengine_load options...]
	local calls=$1 round=$2 label=${3:-main} r=${4:-$rate}
	shift 2; shift $(($# < 2 ? $# : 2))
	LD_LIBRARY_PATH=$load_srtp_lib timeout 300 "$build/tests/perf/relay/rtpengine_load" --ng "127.0.0.1:$ngport" \
		--calls "$calls" --rate "$r" --seconds "$re_seconds" --warmup 1 --reps 1 \
		--pid "$rtpe_pid" --cpu "$gen_cpu" --prefix "$label-r$round-c$calls" "$@" >"$work/re.out" 2>&1 ||
		{ cat "$work/re.out"; echo "run.sh: rtpengine_load failed" >&2; exit 1; }
	grep -E '^(rep|totals)' "$work/re.out" | sed 's/^/    re: /'
	grep -E '^(REP|SUMMARY) ' "$work/re.out" | sed "s/^/$label /" >>"$results"
}

perf_worker() { # title [relay_bench options...]: perf record on the worker thread
	local title=$1
	shift
	command -v perf >/dev/null || return 0
	echo "== perf record (cpu-clock) on the worker thread, $title"
	"$build/tests/perf/relay/relay_bench" --reps 3 --seconds 2 "$@" -- --no-huge -m 2048 \
		--no-pci --no-shconf $eal_cpus --no-telemetry --log-level lib.eal:warning \
		--file-prefix "$tag-perf" >"$work/perf-mg.out" 2>&1 &
	local bpid=$! wtid="" t
	sleep 2.5
	for t in /proc/$bpid/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ] && wtid=${t##*/}
	done
	if [ -n "$wtid" ]; then
		perf record -e cpu-clock -t "$wtid" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1 || true
	fi
	wait "$bpid" || true
	rm -rf /var/run/dpdk/"$tag-perf"
	grep -E '^(median|relay_bench: ok|relay_bench: FAILED)' "$work/perf-mg.out" | sed 's/^/    mg: /'
	perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -20 | sed 's/^/    perf: /' || true
	# per object: IPsec-MB's internal functions have no symbols (perf names the nearest
	# exported one), so its share is clearer per library
	perf report -i "$work/perf.data" --no-children --sort dso --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -6 | sed 's/^/    perf dso: /' || true
	rm -f "$work/perf.data"
}

echo "== relay benchmark $(date -u +%FT%TZ) on $(nproc) cores: $(lscpu | sed -n 's/^Model name: *//p')"
if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
	echo "   source: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" status --porcelain lib app | grep -q . && echo ' + uncommitted changes in lib/ or app/')"
elif [ -f "$root/.source-commit" ]; then
	echo "   source: export of $(cat "$root/.source-commit")"
fi
echo "   rtpengine: $(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null), DPDK $(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# rtpengine needs 4 descriptors per call; where the hard RLIMIT_NOFILE cannot hold the
# calls (a container's limit cannot be raised), it gets as many calls as fit.
fd_limit=$(ulimit -Hn)
re_max=1000000
[ "$fd_limit" = unlimited ] || re_max=$(( (fd_limit - 400) / 4 / 100 * 100 ))
re_calls_for() { # calls -> what rtpengine gets (descriptor limit)
	if [ "$1" -gt "$re_max" ]; then echo "$re_max"; else echo "$1"; fi
}
if has_block plain; then
for calls in $calls_list; do
	re_calls=$calls
	if [ "$calls" -gt "$re_max" ]; then
		re_calls=$re_max
		echo "NOTE: rtpengine gets $re_calls calls, not $calls: it needs 4 descriptors per call and" \
			"the hard open-files limit here is $fd_limit (not raisable in this container)"
	fi
	echo "$re_calls" >"$work/recalls-$calls"
	echo "== $calls calls (rtpengine: $re_calls): $rounds rounds, interleaved"
	rtpe_start
	for r in $(seq "$rounds"); do
		echo "  round $r"
		mg_run main "$calls" 2 "$mg_seconds"
		re_run "$re_calls" "$r"
	done
	grep -c "Too many packets" "$work/rtpengine.log" | sed 's/^/    rtpengine "Too many packets in UDP receive queue" log lines: /' || true
	rtpe_stop
done

for calls in $scale_list; do
	echo "== scaling point: mediagate, $calls calls"
	mg_run scale "$calls" 3 "$mg_seconds"
done

if [ "$overload" != 0 ]; then
	echo "== overload: mediagate, 1000 calls, offered ${overload}x its measured capacity"
	mg_run overload 1000 3 "$mg_seconds" --overload "$overload"
fi

if [ "$do_perf" = 1 ]; then
	perf_worker "10000 calls" --calls 10000
fi
fi # plain

if has_block p2; then
	# The load tool's own SRTP (libsrtp2, protect + unprotect of every packet) should not
	# limit the offered rate: use libsrtp2 built against OpenSSL (as P1 does) when it can
	# be built, Debian's otherwise. rtpengine itself does not use libsrtp2.
	bash "$root/tests/perf/srtp/build-libsrtp-openssl.sh" >/dev/null 2>&1 || true
	if [ -f "$root/build-deps/libsrtp2-openssl/src/libsrtp2.so.1" ]; then
		load_srtp_lib=$root/build-deps/libsrtp2-openssl/src
		echo "   rtpengine_load SRTP: libsrtp2 + OpenSSL from $load_srtp_lib"
	else
		echo "   rtpengine_load SRTP: Debian's libsrtp2"
	fi
	for calls in $p2_calls; do
		re_calls=$(re_calls_for "$calls")
		[ "$re_calls" = "$calls" ] || echo "NOTE: rtpengine gets $re_calls calls, not $calls (4 descriptors per call, hard open-files limit $fd_limit)"
		echo "$re_calls" >"$work/p2recalls-$calls"
		echo "== P2 SRTP-to-SRTP, $calls calls (rtpengine: $re_calls): $p2_rounds rounds, interleaved"
		rtpe_start
		for r in $(seq "$p2_rounds"); do
			echo "  round $r"
			for suite in $p2_suites; do
				echo "    mediagate $suite"
				mg_run "p2-$suite" "$calls" 2 "$mg_seconds" --srtp="$suite"
			done
			echo "    rtpengine AES_CM_128_HMAC_SHA1_80 / _32"
			re_run "$re_calls" "$r" p2re "$p2_rate" --srtp
		done
		grep -c "Too many packets" "$work/rtpengine.log" | sed 's/^/    rtpengine "Too many packets in UDP receive queue" log lines: /' || true
		rtpe_stop
	done
	p2_first=${p2_suites%% *}
	for calls in $p2_scale; do
		echo "== P2 scaling point: mediagate, $calls SRTP-to-SRTP calls ($p2_first)"
		mg_run p2scale "$calls" 3 "$mg_seconds" --srtp="$p2_first"
	done
	if [ "$p2_perf" = 1 ]; then
		perf_worker "10000 SRTP-to-SRTP calls (AES_CM_128_HMAC_SHA1_80)" --calls 10000 --srtp
	fi
fi

# Medians over all repetitions of every round.
median() { sort -g | awk '{v[NR]=$1} END{if(NR==0){print "nan"; exit} if(NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
minmax() { sort -g | awk 'NR==1{mn=$1} {mx=$1} END{printf "%s-%s", mn, mx}'; }
field() { # label kind calls key
	grep "^$1 REP $2 calls=$3 " "$results" | tr ' ' '\n' | sed -n "s/^$4=//p"
}
if has_block plain; then
echo
echo "== results: medians of all repetitions (range min-max). busy-core-s: relayed packets per"
echo "   second of worker busy cycles (mg_worker_stats, TSC); CPU-s: per second of CPU time the"
echo "   relay actually got (schedstat run time: the worker thread; all rtpengine threads);"
echo "   clean-window: busy-core-s over the 10 ms windows in which the worker never waited"
echo "   for its CPU (median of the repetitions that had such windows)"
printf '%-10s | %-24s | %-24s | %-22s | %-26s | %-8s | %-9s | %s\n' calls \
	"mg Mpps/busy-core-s" "mg Mpps/CPU-s" "mg Mpps/clean-window" "rtpengine kpps/CPU-s" \
	"re loss" "preempted" "ratio (busy, CPU-s, clean)"
for calls in $calls_list; do
	mg=$(field main mediagate "$calls" per_core_pps | median)
	mgr=$(field main mediagate "$calls" per_core_pps | awk '{printf "%.2f\n", $1/1e6}' | minmax)
	mgc=$(field main mediagate "$calls" per_cpu_pps | median)
	mgcr=$(field main mediagate "$calls" per_cpu_pps | awk '{printf "%.2f\n", $1/1e6}' | minmax)
	mgp=$(field main mediagate "$calls" preempted | median)
	mgw=$(field main mediagate "$calls" clean_pps | awk '$1>0' | median)
	mgwr=$(field main mediagate "$calls" clean_pps | awk '$1>0 {printf "%.2f\n", $1/1e6}' | minmax)
	rc=$(cat "$work/recalls-$calls")
	re=$(field main rtpengine "$rc" per_core_pps | median)
	rer=$(field main rtpengine "$rc" per_core_pps | awk '{printf "%.1f\n", $1/1e3}' | minmax)
	loss=$(field main rtpengine "$rc" loss | median)
	rep_=$(field main rtpengine "$rc" preempted | median)
	[ "$rc" = "$calls" ] || calls="$calls/$rc"
	awk -v c="$calls" -v mg="$mg" -v mgr="$mgr" -v mgc="$mgc" -v mgcr="$mgcr" -v re="$re" \
		-v rer="$rer" -v l="$loss" -v p1="$mgp" -v p2="$rep_" -v mgw="$mgw" -v mgwr="$mgwr" 'BEGIN{
		printf "%-10s | %-24s | %-24s | %-22s | %-26s | %-8s | %-9s | %.1fx, %.1fx, %.1fx\n", c,
			sprintf("%.3f (%s)", mg/1e6, mgr), sprintf("%.3f (%s)", mgc/1e6, mgcr),
			sprintf("%.3f (%s)", mgw/1e6, mgwr),
			sprintf("%.1f (%s)", re/1e3, rer), sprintf("%.2f%%", 100*l),
			sprintf("%.0f%%/%.0f%%", 100*p1, 100*p2),
			(re>0 ? mg/re : 0), (re>0 ? mgc/re : 0), (re>0 ? mgw/re : 0) }'
done
for calls in $scale_list; do
	mg=$(field scale mediagate "$calls" per_core_pps | median)
	mgc=$(field scale mediagate "$calls" per_cpu_pps | median)
	mgw=$(field scale mediagate "$calls" clean_pps | awk '$1>0' | median)
	awk -v c="$calls" -v mg="$mg" -v mgc="$mgc" -v mgw="$mgw" 'BEGIN{printf "%-10s | %-24.3f | %-24.3f | %-22.3f | (mediagate only: scaling curve)\n", c, mg/1e6, mgc/1e6, mgw/1e6}'
done
echo "(calls a/b: mediagate a calls, rtpengine b calls; preempted: share of the wall time the"
echo " worker / rtpengine threads were runnable but not running: other load on the machine)"
grep '^overload OVERLOAD ' "$results" | sed 's/^overload /overload: /' || true
echo
echo "goal: >= 5 Mpps per worker core-second and >= 50x rtpengine per core"
fi # plain

if has_block p2; then
echo
echo "== P2 results: SRTP-to-SRTP re-keyed packets (every packet unprotected with the ingress"
echo "   leg's key and protected with the egress leg's key), medians of all repetitions (range"
echo "   min-max); columns as above. rtpengine: userspace, one core, AES_CM_128_HMAC_SHA1_80 on A,"
echo "   _32 on B (its only way to re-key both directions, see rtpengine_load.c); the ratios"
echo "   compare every mediagate suite with that rtpengine figure"
printf '%-12s | %-23s | %-24s | %-24s | %-22s | %-26s | %-8s | %-9s | %s\n' calls suite \
	"mg Mpps/busy-core-s" "mg Mpps/CPU-s" "mg Mpps/clean-window" "rtpengine kpps/CPU-s" \
	"re loss" "preempted" "ratio (busy, CPU-s, clean)"
for calls in $p2_calls; do
	rc=$(cat "$work/p2recalls-$calls")
	re=$(field p2re rtpengine "$rc" per_core_pps | median)
	rer=$(field p2re rtpengine "$rc" per_core_pps | awk '{printf "%.1f\n", $1/1e3}' | minmax)
	loss=$(field p2re rtpengine "$rc" loss | median)
	rep_=$(field p2re rtpengine "$rc" preempted | median)
	cl=$calls
	[ "$rc" = "$calls" ] || cl="$calls/$rc"
	for suite in $p2_suites; do
		lb="p2-$suite"
		mg=$(field "$lb" mediagate "$calls" per_core_pps | median)
		mgr=$(field "$lb" mediagate "$calls" per_core_pps | awk '{printf "%.2f\n", $1/1e6}' | minmax)
		mgc=$(field "$lb" mediagate "$calls" per_cpu_pps | median)
		mgcr=$(field "$lb" mediagate "$calls" per_cpu_pps | awk '{printf "%.2f\n", $1/1e6}' | minmax)
		mgp=$(field "$lb" mediagate "$calls" preempted | median)
		mgw=$(field "$lb" mediagate "$calls" clean_pps | awk '$1>0' | median)
		mgwr=$(field "$lb" mediagate "$calls" clean_pps | awk '$1>0 {printf "%.2f\n", $1/1e6}' | minmax)
		awk -v c="$cl" -v s="$suite" -v mg="$mg" -v mgr="$mgr" -v mgc="$mgc" -v mgcr="$mgcr" -v re="$re" \
			-v rer="$rer" -v l="$loss" -v p1="$mgp" -v p2="$rep_" -v mgw="$mgw" -v mgwr="$mgwr" 'BEGIN{
			printf "%-12s | %-23s | %-24s | %-24s | %-22s | %-26s | %-8s | %-9s | %.1fx, %.1fx, %.1fx\n", c, s,
				sprintf("%.3f (%s)", mg/1e6, mgr), sprintf("%.3f (%s)", mgc/1e6, mgcr),
				sprintf("%.3f (%s)", mgw/1e6, mgwr),
				sprintf("%.1f (%s)", re/1e3, rer), sprintf("%.2f%%", 100*l),
				sprintf("%.0f%%/%.0f%%", 100*p1, 100*p2),
				(re>0 ? mg/re : 0), (re>0 ? mgc/re : 0), (re>0 ? mgw/re : 0) }'
	done
done
for calls in $p2_scale; do
	mg=$(field p2scale mediagate "$calls" per_core_pps | median)
	mgc=$(field p2scale mediagate "$calls" per_cpu_pps | median)
	mgw=$(field p2scale mediagate "$calls" clean_pps | awk '$1>0' | median)
	awk -v c="$calls" -v s="$p2_first" -v mg="$mg" -v mgc="$mgc" -v mgw="$mgw" 'BEGIN{printf "%-12s | %-23s | %-24.3f | %-24.3f | %-22.3f | (mediagate only: scaling curve)\n", c, s, mg/1e6, mgc/1e6, mgw/1e6}'
done
echo "goal (P2): >= 1 Mpps per worker lcore with 10,000 G.711 SRTP-to-SRTP calls and >= 15x"
echo "rtpengine per core"
fi # p2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw lines:"
sed 's/^/  /' "$results"
