#!/usr/bin/env bash
# P1: SRTP protect/unprotect CPU time per packet, mediagate's burst engine vs libsrtp2
# (Debian's package, NSS backend) vs libsrtp2 built from Debian's source package against
# OpenSSL, side by side in one run: every configuration runs the three implementations one
# after the other, round after round (interleaved), pinned to one CPU with taskset.
#
# usage: tests/perf/srtp/run.sh [rounds=5] [reps=3] [seconds_per_rep=0.2]
# env:   CPU=1 (taskset CPU), BUILD=build-srtp, SKIP_DEBIAN_10K=0 (Debian's NSS build needs
#        ~0.3 ms/packet with 10,000 sessions; set 1 to skip those slow runs)
# output: raw RESULT lines in $BUILD/perf-srtp/raw.txt, then a table of medians and ratios.
set -euo pipefail
ROUNDS=${1:-5}
REPS=${2:-3}
SECS=${3:-0.2}
CPU=${CPU:-1}
SKIP_DEBIAN_10K=${SKIP_DEBIAN_10K:-0}
MG_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-$MG_ROOT/build-srtp}
cd "$MG_ROOT"

# the OpenSSL-backed reference, built once under build-deps/ (not committed)
bash tests/perf/srtp/build-libsrtp-openssl.sh
OSSL_LIB=$MG_ROOT/build-deps/libsrtp2-openssl/src/libsrtp2.so.1
DEB_LIB=$(ldconfig -p | awk '/libsrtp2\.so\.1 .*x86-64/ {p = $NF} END {print p}')
[ -n "$DEB_LIB" ] || DEB_LIB=/usr/lib/x86_64-linux-gnu/libsrtp2.so.1

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --werror >/dev/null
ninja -C "$BUILD" tests/perf/srtp/bench_srtp >/dev/null
BENCH="taskset -c $CPU $BUILD/tests/perf/srtp/bench_srtp"
OUT=$BUILD/perf-srtp
mkdir -p "$OUT"
RAW=$OUT/raw.txt
: >"$RAW"

{
	echo "# $(date -u +%FT%TZ) rounds=$ROUNDS reps=$REPS seconds=$SECS cpu=$CPU"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) vCPU"
	echo "# kernel: $(uname -r)"
	echo "# libsrtp2 Debian: $DEB_LIB ($(dpkg-query -W -f='${Version}' libsrtp2-1 2>/dev/null))"
	echo "# libsrtp2 OpenSSL: $OSSL_LIB (OpenSSL $(openssl version 2>/dev/null | awk '{print $2}'))"
	echo "# ipsec-mb: $(dpkg-query -W -f='${Version}' libipsec-mb1 2>/dev/null)"
} | tee -a "$RAW"
$BENCH mg cm 160 1 protect 1 0.01 | grep INFO | tee -a "$RAW"
$BENCH libsrtp-openssl:"$OSSL_LIB" cm 160 1 protect 1 0.01 | grep INFO | tee -a "$RAW"
$BENCH libsrtp-debian:"$DEB_LIB" cm 160 1 protect 1 0.01 | grep INFO | tee -a "$RAW"

for round in $(seq 1 "$ROUNDS"); do
	echo "round $round/$ROUNDS" >&2
	echo "# round $round load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
	for op in protect unprotect; do
		for streams in 1 10000; do
			for payload in 160 1200; do
				for suite in cm gcm; do
					$BENCH mg $suite $payload $streams $op "$REPS" "$SECS" | grep RESULT >>"$RAW"
					# the same engine with one burst of prefetch lookahead
					[ "$streams" = 1 ] ||
						$BENCH mg $suite $payload $streams $op "$REPS" "$SECS" auto lookahead |
						grep RESULT >>"$RAW"
					$BENCH libsrtp-openssl:"$OSSL_LIB" $suite $payload $streams $op "$REPS" "$SECS" |
						grep RESULT >>"$RAW"
					if [ "$streams" = 1 ] || [ "$SKIP_DEBIAN_10K" = 0 ]; then
						# 10,000 NSS sessions: one repetition is already ~1000 packets
						r=$REPS
						[ "$streams" = 1 ] || r=1
						$BENCH libsrtp-debian:"$DEB_LIB" $suite $payload $streams $op "$r" "$SECS" |
							grep RESULT >>"$RAW"
					fi
				done
			done
		done
	done
done

python3 - "$RAW" <<'PY' | tee "$OUT/summary.md"
import re, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"):
        continue
    f = dict(kv.split("=", 1) for kv in line.split()[1:])
    key = (f["op"], f["suite"], int(f["payload"]), int(f["streams"]))
    runs[key + (f["impl"],)].append(float(f["ns_per_pkt"]))
names = {"cm": "AES_CM_128_HMAC_SHA1_80", "gcm": "AEAD_AES_128_GCM"}
print("| op | suite | payload | streams | mediagate ns/pkt | libsrtp2+OpenSSL ns/pkt | "
      "libsrtp2 Debian (NSS) ns/pkt | x vs OpenSSL build | x vs Debian | "
      "mediagate with lookahead prefetch ns/pkt (x vs OpenSSL build) | samples |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
keys = sorted({k[:4] for k in runs}, key=lambda k: (k[0] != "protect", k[1], k[3], k[2]))
for k in keys:
    med = {}
    for impl in ("mg", "libsrtp-openssl", "libsrtp-debian", "mg-lookahead"):
        v = runs.get(k + (impl,))
        med[impl] = statistics.median(v) if v else None
    def fmt(x):
        return "-" if x is None else f"{x:.0f}"
    def ratio(x):
        return "-" if x is None or not med["mg"] else f"{x / med['mg']:.1f}x"
    n = "/".join(str(len(runs.get(k + (i,), []))) for i in ("mg", "libsrtp-openssl", "libsrtp-debian"))
    nolook = "-"
    if med["mg-lookahead"] and med["libsrtp-openssl"]:
        nolook = f"{med['mg-lookahead']:.0f} ({med['libsrtp-openssl'] / med['mg-lookahead']:.1f}x)"
    print(f"| {k[0]} | {names[k[1]]} | {k[2]} | {k[3]} | {fmt(med['mg'])} | "
          f"{fmt(med['libsrtp-openssl'])} | {fmt(med['libsrtp-debian'])} | "
          f"{ratio(med['libsrtp-openssl'])} | {ratio(med['libsrtp-debian'])} | "
          f"{nolook} | {n} |")
goal = [(op, s, 160, 10000) for op in ("protect", "unprotect") for s in ("cm", "gcm")]
print()
for k in goal:
    m = runs.get(k + ("mg",)); o = runs.get(k + ("libsrtp-openssl",))
    if m and o:
        r = statistics.median(o) / statistics.median(m)
        print(f"P1 goal {k[0]} {names[k[1]]} 160 B 10,000 streams: {r:.1f}x vs libsrtp2+OpenSSL "
              f"(goal >= 5x): {'MET' if r >= 5 else 'NOT MET'}")
# per-round ratios: both measured minutes apart at most, so they share the host's load
print()
rounds = defaultdict(lambda: defaultdict(list))
cur = 0
for line in open(sys.argv[1]):
    if line.startswith("# round"):
        cur = int(line.split()[2])
    if line.startswith("RESULT"):
        f = dict(kv.split("=", 1) for kv in line.split()[1:])
        if f["payload"] == "160" and f["streams"] == "10000":
            rounds[(f["op"], f["suite"])][(cur, f["impl"])].append(float(f["ns_per_pkt"]))
for k, v in sorted(rounds.items()):
    rs = []
    for r in sorted({c for c, _ in v}):
        m, o = v.get((r, "mg")), v.get((r, "libsrtp-openssl"))
        if m and o:
            rs.append(statistics.median(o) / statistics.median(m))
    if rs:
        print(f"per-round ratio {k[0]} {names[k[1]]} 160 B 10,000: "
              + " ".join(f"{x:.1f}" for x in rs) + f" (median {statistics.median(rs):.1f}x)")
PY
