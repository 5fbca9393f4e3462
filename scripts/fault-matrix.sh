#!/usr/bin/env bash
# R4 fault-injection matrix: runs each fault scenario (each one a test with real parts
# that injects the fault and asserts what must hold afterwards) and writes the table of
# outcomes to docs/fault-injection.md. Usage: bash scripts/fault-matrix.sh [build-dir]
# The scenarios also run one by one inside `bash scripts/test.sh`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-$root/build}
[ -x "$build/app/mediagate/mediagate" ] || { echo "fault-matrix: build first (meson setup build && ninja -C build)"; exit 1; }

# fault | what is injected | scenario script
matrix=(
	"kill -9 mid-call|SIGKILL to mediagate with RTP flowing both ways, restart; then a standby takes over|tests/integration/state_restart_takeover.sh"
	"kill -9 mid-call, SRTP|SIGKILL with SDES-SRTP media flowing (libsrtp2 peers), restart and takeover: same keys and ROC from the sealed state|tests/integration/state_srtp_keys.sh"
	"kill -9 while recording|SIGKILL mid-call while the call is recorded; restart; also SIGTERM mid-call|tests/integration/rec_kill.sh"
	"Redis restart|redis-server killed (SIGKILL) during a call and during an ng offer, then restarted|tests/integration/state_restart_takeover.sh"
	"S3 outage|S3 server killed mid-upload and restarted; delivery process killed mid-upload|tests/integration/rec_delivery_faults.sh"
	"spool bound reached|bucket unreachable until the spool is full|tests/integration/rec_spool_bound.sh"
	"disk full for the spool|the spool's file system (a 160 KiB tmpfs) fills up while a call is recorded|tests/integration/fault_spool_disk_full.sh"
	"ring overflow|a 4-record fork ring and a slow ship lcore while a call is recorded|tests/integration/rec_ring_overflow.sh"
	"worker lcore stalled|a SCHED_FIFO hog on the worker's CPU for 5 s|tests/integration/fault_worker_stall.sh"
)
for extra in tests/integration/fault_*.sh; do
	[ -f "$extra" ] || continue
	case " ${matrix[*]} " in *"$extra"*) continue ;; esac
	desc=$(sed -n '2s/^# *//p' "$extra")
	matrix+=("$(basename "$extra" .sh)|$desc|$extra")
done

declare -A done_rc done_log done_secs
out=docs/fault-injection.md
rows=()
status=0
for row in "${matrix[@]}"; do
	IFS='|' read -r fault what script <<<"$row"
	if [ -z "${done_rc[$script]:-}" ]; then
		log=$(mktemp)
		start=$(date +%s)
		MG_BUILD=$build MG_ROOT=$root timeout 600 bash "$script" >"$log" 2>&1
		done_rc[$script]=$?
		done_secs[$script]=$(($(date +%s) - start))
		done_log[$script]=$log
	fi
	rc=${done_rc[$script]}
	checks=$(grep -E '^(ok|pass): ' "${done_log[$script]}" | sed 's/^[a-z]*: //' | paste -sd ';' | sed 's/;/<br>/g; s/|/\\|/g')
	if [ "$rc" -eq 0 ]; then result=pass; else result="**FAIL** (rc=$rc)"; status=1; fi
	echo "fault-matrix: $fault: $result (${done_secs[$script]} s, $script)"
	[ "$rc" -eq 0 ] || grep -m3 FAIL "${done_log[$script]}"
	rows+=("| $fault | $what | \`$script\` | $result | ${checks:-none} |")
done
{
	echo "# Fault injection (R4)"
	echo
	echo "Written by \`bash scripts/fault-matrix.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "$(nproc) cores. Each scenario is a test that injects the fault into a running system made of"
	echo "real parts (mediagate on af_packet ports in network namespaces, redis-server, s3rver behind"
	echo "a SigV4-verifying front, SoftHSM2) and asserts what must hold afterwards: media resumes,"
	echo "every recording is complete or explicitly marked partial, nothing is lost silently."
	echo "The \"checked\" column lists the assertions that passed, as the test printed them."
	echo
	echo "| fault | injected | scenario | result | checked |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$out"
for l in "${done_log[@]}"; do rm -f "$l"; done
echo "fault-matrix: table written to $out"
exit $status
