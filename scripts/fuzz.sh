#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one.
#   --short        every target for $MG_FUZZ_SECONDS (default 20) seconds (the test command)
#   --long [N]     every target for N executions (default 10,000,000); results into
#                  docs/fuzzing-results.md
# Seed corpora are tests/fuzz/<lib>/corpus/<target>/ (checked in); new inputs found during
# a run go to a scratch directory, crashes into build-fuzz/crashes/.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:---short}
runs=${2:-10000000}
seconds=${MG_FUZZ_SECONDS:-20}
command -v clang >/dev/null || bash scripts/deps.sh
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true --werror -Dbuildtype=debugoptimized >/dev/null ||
		{ echo "fuzz: meson setup failed"; exit 1; }
fi
ninja -C build-fuzz >/dev/null || { ninja -C build-fuzz | tail -20; echo "fuzz: build failed"; exit 1; }
mkdir -p build-fuzz/crashes
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
results=()
for exe in build-fuzz/tests/fuzz/*/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=$(basename "$exe")
	lib=$(basename "$(dirname "$exe")")
	seeds=tests/fuzz/$lib/corpus/$name
	if [ ! -d "$seeds" ]; then
		# one corpus directory per library is also accepted
		seeds=$(find "tests/fuzz/$lib/corpus" -mindepth 1 -maxdepth 1 -type d | head -1)
	fi
	mkdir -p "$scratch/$name"
	opts=(-artifact_prefix="build-fuzz/crashes/$name-" -print_final_stats=1 -rss_limit_mb=4096)
	if [ "$mode" = "--long" ]; then opts+=(-runs="$runs"); else opts+=(-max_total_time="$seconds"); fi
	start=$(date +%s)
	"$exe" "${opts[@]}" "$scratch/$name" ${seeds:+"$seeds"} >"$scratch/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$scratch/$name.log" | tail -1)
	cov=$(grep -oP 'cov: \K[0-9]+' "$scratch/$name.log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz: $name ok: ${execs:-?} executions in ${secs}s, coverage ${cov:-?}"
		results+=("| $name | ${execs:-?} | ${secs} | ${cov:-?} | none |")
	else
		echo "fuzz: $name FAILED (rc=$rc); crash inputs in build-fuzz/crashes/"
		grep -m5 -E "ERROR|SUMMARY|runtime error" "$scratch/$name.log"
		results+=("| $name | ${execs:-?} | ${secs} | ${cov:-?} | FAILED, see build-fuzz/crashes |")
		status=1
	fi
done
if [ "$mode" = "--long" ]; then
	{
		echo "# Fuzzing results"
		echo
		echo "Run by \`bash scripts/fuzz.sh --long $runs\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
		echo "libFuzzer with ASan and UBSan; seed corpora in tests/fuzz/<lib>/corpus/."
		echo
		echo "| target | executions | seconds | coverage (edges) | crashes |"
		echo "|---|---|---|---|---|"
		printf '%s\n' "${results[@]}"
	} >docs/fuzzing-results.md
	echo "fuzz: results written to docs/fuzzing-results.md"
fi
exit $status
