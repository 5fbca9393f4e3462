#!/usr/bin/env bash
# Builds mediagate and runs every test: unit tests (plain and ASan/UBSan builds),
# integration tests with real peers (tests/integration/*.sh) and short fuzz runs.
# Ends with one line "N passed, N failed".
# Environment: MG_TEST_FILTER=regex runs only matching integration tests.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/deps.sh || { echo "deps: install failed"; exit 1; }

passed=0; failed=0; skipped=0; failures=()
note() { printf '\n==== %s\n' "$*"; }
count_meson() { # $1 build dir, $2 label
	local log="$1/meson-logs/testlog.json" p f
	[ -f "$log" ] || { failed=$((failed + 1)); failures+=("$2: no test log"); return; }
	local k
	read -r p f k < <(python3 - "$log" <<'PY'
import json, sys
p = f = k = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"): p += 1
    elif r["result"] == "SKIP":
        k += 1
        print("skipped:", r["name"], file=sys.stderr)
    else:
        f += 1
        print("failed:", r["name"], file=sys.stderr)
print(p, f, k)
PY
)
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
	[ "$f" -eq 0 ] || failures+=("$2: $f unit test(s)")
}

note "build (warnings are errors)"
if [ ! -f build/build.ninja ]; then
	meson setup build --werror >/dev/null || { echo "meson setup failed"; exit 1; }
fi
ninja -C build || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

note "unit tests"
meson test -C build --print-errorlogs --num-processes 2
count_meson build unit

note "unit tests under ASan+UBSan"
if [ ! -f build-san/build.ninja ]; then
	meson setup build-san --werror -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >/dev/null || { echo "sanitizer setup failed"; exit 1; }
fi
if ninja -C build-san; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-san --print-errorlogs --num-processes 2 --no-suite perf
	count_meson build-san sanitizer
else
	failed=$((failed + 1)); failures+=("sanitizer build")
fi

note "integration tests"
export MG_BUILD=$root/build MG_ROOT=$root
for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ -n "${MG_TEST_FILTER:-}" ] && ! [[ $name =~ $MG_TEST_FILTER ]]; then continue; fi
	echo "---- $name"
	start=$(date +%s)
	timeout -k 10 900 bash "$t"
	rc=$?
	echo "---- $name: rc=$rc ($(($(date +%s) - start)) s)"
	if [ $rc -eq 0 ]; then passed=$((passed + 1))
	elif [ $rc -eq 77 ]; then skipped=$((skipped + 1))
	else failed=$((failed + 1)); failures+=("integration: $name (rc=$rc)"); fi
done

if [ -x scripts/fuzz.sh ]; then
	note "fuzz targets, short bounded runs"
	if bash scripts/fuzz.sh --short; then passed=$((passed + 1))
	else failed=$((failed + 1)); failures+=("fuzz"); fi
fi

note "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
