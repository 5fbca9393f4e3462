#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one.
#   --short        every target for $MG_FUZZ_SECONDS (default 20) seconds (the test command)
#   --long [N [TARGET...]]  each target (or only the TARGETs named) for N executions
#                  (default 10,000,000); its row in docs/fuzzing-results.md is replaced
#                  (rows of targets not run are kept, each row names its commit)
# Seed corpora are tests/fuzz/<lib>/corpus/<target>/ (checked in); new inputs found during
# a run go to a scratch directory, crashes into build-fuzz/crashes/.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:---short}
runs=${2:-10000000}
only=" ${*:3} "
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
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
for exe in build-fuzz/tests/fuzz/*/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=$(basename "$exe")
	lib=$(basename "$(dirname "$exe")")
	[ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || continue
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
		results+=("| $name | ${execs:-?} | ${secs} | ${cov:-?} | none | $commit |")
	else
		echo "fuzz: $name FAILED (rc=$rc); crash inputs in build-fuzz/crashes/"
		grep -m5 -E "ERROR|SUMMARY|runtime error" "$scratch/$name.log"
		results+=("| $name | ${execs:-?} | ${secs} | ${cov:-?} | FAILED, see build-fuzz/crashes | $commit |")
		status=1
	fi
done
if [ "$mode" = "--long" ]; then
	out=docs/fuzzing-results.md
	# rows of targets not run this time are kept
	kept=()
	if [ -f "$out" ]; then
		while IFS= read -r row; do
			t=$(printf '%s' "$row" | cut -d'|' -f2 | tr -d ' ')
			printf '%s\n' "${results[@]}" | grep -q "^| $t |" || kept+=("$row")
		done < <(grep '^| fuzz_' "$out")
	fi
	{
		echo "# Fuzzing results"
		echo
		echo "Written by \`bash scripts/fuzz.sh --long N [TARGET...]\` ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'));"
		echo "last run $(date -u +%Y-%m-%d). libFuzzer with ASan and UBSan, seed corpora in tests/fuzz/<lib>/corpus/;"
		echo "each row is one run of N executions of a target at the commit it names. Runs that"
		echo "found a crash are fixed and the input kept in the seed corpus as a regression."
		echo
		echo "| target | executions | seconds | coverage (edges) | crashes | commit |"
		echo "|---|---|---|---|---|---|"
		printf '%s\n' "${kept[@]}" "${results[@]}" | grep . | sort
	} >"$out"
	echo "fuzz: results written to $out"
fi
exit $status
