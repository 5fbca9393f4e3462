#!/usr/bin/python3
"""Plots of how mediagate's costs grow with the number of sessions, from the benchmark
output kept in docs/perf-runs/ (and the mixing ramp printed in docs/performance-mixing.md).

    /usr/bin/python3 scripts/perf-plots.py [--check]

Writes docs/perf-plots/*.png and prints every plotted point with its source, so the
figures in docs/performance.md can be checked against them. --check only prints.
Needs Debian's python3-matplotlib (scripts/deps.d/perf.apt).
"""
import glob
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = os.path.join(ROOT, "docs", "perf-runs")
OUT = os.path.join(ROOT, "docs", "perf-plots")


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def latest(pattern):
    files = sorted(glob.glob(os.path.join(RUNS, pattern)))
    return files[-1] if files else None


def relay_series(path):
    """Median over REP lines of per_core_pps (busy-core-s, as the relay report's tables)."""
    reps = {}
    for line in open(path):
        m = re.match(r"\s*(\S+) REP (mediagate|rtpengine) (.*)", line)
        if not m:
            continue
        block, who, rest = m.groups()
        f = kv(rest)
        if who == "rtpengine":
            label = "rtpengine SRTP re-keying" if block == "p2re" else "rtpengine plain relay"
        elif block in ("main", "scale"):
            label = "mediagate plain relay"
        elif block.startswith("p2-") or block == "p2scale":
            label = "mediagate SRTP re-keying " + f.get("mode", block[3:])
        else:
            continue
        reps.setdefault(label, {}).setdefault(int(f["calls"]), []).append(float(f["per_core_pps"]))
    return {l: {c: statistics.median(v) for c, v in pts.items()} for l, pts in reps.items()}


def relay_cpu_series(path):
    """The short scaling run on a contended host: Mpps per CPU-second (schedstat run time)."""
    reps = {}
    for line in open(path):
        m = re.match(r"series-(plain|srtp) REP mediagate (.*)", line)
        if m:
            f = kv(m.group(2))
            label = ("plain relay" if m.group(1) == "plain" else "SRTP re-keying " + f["mode"]) + \
                ", contended run, per CPU-second"
            reps.setdefault(label, {}).setdefault(int(f["calls"]), []).append(float(f["per_cpu_pps"]) / 1e6)
    return {l: {c: statistics.median(v) for c, v in pts.items()} for l, pts in reps.items()}


def srtp_series(path):
    vals = {}
    for line in open(path):
        if line.startswith("RESULT "):
            f = kv(line)
            vals.setdefault(f["impl"], {}).setdefault(int(f["streams"]), []).append(float(f["ns_per_pkt"]))
    names = {"mg": "mediagate (IPsec-MB, bursts of 32)", "libsrtp-openssl": "libsrtp2 2.5 + OpenSSL",
             "libsrtp-debian": "libsrtp2 2.5, Debian package (NSS)"}
    return {names.get(i, i): {n: statistics.median(v) for n, v in pts.items()} for i, pts in vals.items()}


def restore_series(path):
    wall, cpu = {}, {}
    for line in open(path):
        if line.startswith("SUMMARY restore"):
            f = kv(line)
            wall[int(f["calls"])] = float(f["median_wall_s"])
            cpu[int(f["calls"])] = float(f["median_cpu_s"])
    return {"restore wall time": wall, "restore CPU time (mediagate)": cpu}


def mixing_ramp(path):
    pts = {}
    for line in open(path):
        m = re.search(r"real time, PCMU:\s+(\d+) conferences, .*CPU per tick mean ([\d.]+) ms", line)
        if m:
            pts[int(m.group(1))] = float(m.group(2))
    return {"CPU per 20 ms tick (PCMU, AVX-512)": pts}


def mixing_series(path):
    names = {"full_ns": "mediagate 3-party conference, full period (with prefetch)",
             "full_nopf_ns": "same without mg_mix_prefetch",
             "relay_ns": "relay anchor: 2-party call, 2 x copy + header rewrite"}
    vals = {}
    for line in open(path):
        if line.startswith("RESULT "):
            f = kv(line)
            for k, label in names.items():
                vals.setdefault(label, {}).setdefault(int(f["confs"]), []).append(float(f[k]))
    return {l: {n: statistics.median(v) for n, v in pts.items()} for l, pts in vals.items()}


def loadgen_series(path):
    rows = {}
    for line in open(path):
        if line.startswith("RESULT "):
            f = kv(line)
            box = "testpmd io-fwd" if f["mode"] == "forward" else "mediagate"
            srtp = "plain RTP" if f["srtp"] == "off" else "SRTP"
            for q in ("lat_median_us", "lat_p99_us"):
                rows.setdefault((box, srtp, q), {}).setdefault(int(f["calls"]), []).append(float(f[q]))
    return {f"{b}, {s}, {'median' if q == 'lat_median_us' else 'p99'}": {c: statistics.median(v) for c, v in pts.items()}
            for (b, s, q), pts in rows.items()}


def show(title, source, series, unit):
    print(f"== {title}  [{os.path.relpath(source, ROOT)}]")
    for label, pts in sorted(series.items()):
        print(f"   {label}: " + ", ".join(f"{n:,}: {v:.4g} {unit}" for n, v in sorted(pts.items())))


def plot(name, title, xlabel, ylabel, series, source, logy=True):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    for label, pts in sorted(series.items()):
        xs = sorted(pts)
        ax.plot(xs, [pts[x] for x in xs], marker="o", label=label)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlim(0.7, 150000)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, "source: " + os.path.relpath(source, ROOT), fontsize=6, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    os.makedirs(OUT, exist_ok=True)
    fig.savefig(os.path.join(OUT, name))
    plt.close(fig)
    print(f"   -> docs/perf-plots/{name}")


def main():
    only_check = "--check" in sys.argv
    jobs = []
    src = latest("relay-2*.txt")
    if src:
        s = relay_series(src)
        # packets per second -> Mpps
        s = {l: {c: v / 1e6 for c, v in pts.items()} for l, pts in s.items()}
        jobs.append(("relay-vs-calls.png", "P2: relayed packets per worker core-second vs concurrent calls",
                     "concurrent G.711 calls", "Mpps per core-second (busy cycles; rtpengine: CPU time)", s, src, "Mpps"))
    src2 = latest("relay-series-*.txt")
    if src2:
        s = relay_cpu_series(src2)
        jobs.append(("relay-vs-calls-contended.png",
                     "P2 shape: mediagate Mpps per CPU-second vs calls, one short run on a busy host",
                     "concurrent G.711 calls", "Mpps per CPU-second of the worker", s, src2, "Mpps"))
    src = latest("srtp-series-*.txt")
    if src:
        jobs.append(("srtp-vs-streams.png", "P1: SRTP protect CPU time per packet vs streams (AES_CM_128_HMAC_SHA1_80, 160 B)",
                     "streams (each with its own key)", "ns per packet (CPU time)", srtp_series(src), src, "ns"))
    src = latest("restore-series-*.txt")
    if src:
        jobs.append(("restore-vs-sessions.png", "P6: restore from Redis vs sessions",
                     "calls restored", "seconds (median of repetitions)", restore_series(src), src, "s"))
    src = latest("mix-series-*.txt")
    if src:
        jobs.append(("mixing-vs-conferences.png", "P3: CPU per conference per 20 ms vs concurrent 3-party conferences (PCMU)",
                     "concurrent 3-party conferences", "ns of CPU per conference per 20 ms", mixing_series(src), src, "ns"))
    src = os.path.join(ROOT, "docs", "performance-mixing.md")
    if os.path.exists(src):
        jobs.append(("mixing-ramp.png", "P3: mixer CPU per 20 ms tick vs 3-party conferences (real-time ramp)",
                     "concurrent 3-party conferences", "ms of CPU per 20 ms tick", mixing_ramp(src), src, "ms"))
    src = latest("loadgen-*.txt")
    if src:
        jobs.append(("latency-vs-calls.png", "P5: added latency per packet vs calls (af_packet veths, shared 2-vCPU host)",
                     "concurrent G.711 calls (50 pps per leg)", "microseconds (send -> socket at the sink)",
                     loadgen_series(src), src, "us"))
    for name, title, xl, yl, series, source, unit in jobs:
        show(title, source, series, unit)
        if not only_check:
            plot(name, title, xl, yl, series, source)


if __name__ == "__main__":
    main()
