#!/usr/bin/env python3
"""Checks what a tone_peer.py participant heard in a time window (plain Python).

  tone_check.py OUT.json T0 T1 --hear 700,1100 --not 400 [--silent] [--events N]
                [--codes 0x80 --min-fraction 0.9]

Decodes the G.711 audio packets that arrived between wall-clock times T0 and T1 (in
sequence order) and measures the power of each tone with the Goertzel algorithm, in dB
relative to a full-scale sine. --hear tones must be at least -35 dBFS, --not tones at
least 25 dB below the weakest heard tone (or below -50 dBFS when nothing is to be heard);
--silent: no tone and no sample beyond the quantisation noise. --events N: at least N
telephone-event packets (PT --te-pt) arrived in the window, none when N is 0."""
import argparse
import base64
import json
import math
import sys


def ulaw2lin(c):
    c = ~c & 0xFF
    t = (((c & 0x0F) << 3) + 0x84) << ((c & 0x70) >> 4)
    return (0x84 - t) if c & 0x80 else (t - 0x84)


def alaw2lin(c):
    c ^= 0x55
    t = (c & 0x0F) << 4
    seg = (c & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if c & 0x80 else -t


def goertzel_db(samples, freq):
    n = len(samples)
    if n == 0:
        return -200.0
    w = 2 * math.pi * freq / 8000.0
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    amp = 2 * math.sqrt(max(power, 0.0)) / n  # amplitude of a sine at freq
    return 20 * math.log10(max(amp / 32767.0, 1e-10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("t0", type=float)
    ap.add_argument("t1", type=float)
    ap.add_argument("--name", default="")
    ap.add_argument("--hear", default="")
    ap.add_argument("--not", dest="absent", default="")
    ap.add_argument("--silent", action="store_true")
    ap.add_argument("--no-audio", action="store_true", help="nothing (or almost) arrives")
    ap.add_argument("--events", type=int)
    ap.add_argument("--te-pt", type=int, default=101)
    ap.add_argument("--codes", default="", help="G.711 bytes the audio must consist of")
    ap.add_argument("--min-fraction", type=float, default=0.9)
    a = ap.parse_args()
    d = json.load(open(a.file))
    pkts = [p for p in d["packets"] if a.t0 <= p[0] <= a.t1]
    audio = sorted((p for p in pkts if p[1] in (0, 8)), key=lambda p: p[0])
    # each packet decoded with the law of its payload type (a relay passes the other
    # party's codec through; the mixer sends the listener's)
    raw = b""
    samples = []
    for p in audio:
        payload = base64.b64decode(p[6])
        raw += payload
        law_dec = ulaw2lin if p[1] == 0 else alaw2lin
        samples.extend(law_dec(c) for c in payload)
    name = a.name or a.file
    report = {"name": name, "window": [a.t0, a.t1], "audio_packets": len(audio)}
    ok = True
    msgs = []
    if a.no_audio:
        if len(audio) > 0.05 * (a.t1 - a.t0) / 0.02:
            ok = False
            msgs.append("%d audio packets arrived, none expected" % len(audio))
    elif len(audio) < 0.5 * (a.t1 - a.t0) / 0.02:
        ok = False
        msgs.append("only %d audio packets in %.1f s" % (len(audio), a.t1 - a.t0))
    hear = [float(f) for f in a.hear.split(",") if f]
    absent = [float(f) for f in a.absent.split(",") if f]
    levels = {}
    for f in hear + absent:
        levels[f] = goertzel_db(samples, f)
    report["dBFS"] = {str(int(f)): round(v, 1) for f, v in levels.items()}
    weakest = min((levels[f] for f in hear), default=None)
    for f in hear:
        if levels[f] < -35:
            ok = False
            msgs.append("%d Hz not heard (%.1f dBFS)" % (f, levels[f]))
    limit = weakest - 25 if weakest is not None else -50
    for f in absent:
        if levels[f] > limit:
            ok = False
            msgs.append("%d Hz heard (%.1f dBFS, limit %.1f)" % (f, levels[f], limit))
    if a.silent:
        peak = max((abs(s) for s in samples), default=0)
        report["peak"] = peak
        if peak > 64:
            ok = False
            msgs.append("not silent: peak sample %d" % peak)
    if a.codes:
        want = {int(c, 0) for c in a.codes.split(",")}
        frac = sum(1 for c in raw if c in want) / max(len(raw), 1)
        report["code_fraction"] = round(frac, 3)
        if frac < a.min_fraction:
            ok = False
            msgs.append("only %.1f%% of the bytes are %s" % (100 * frac, a.codes))
    if a.events is not None:
        ev = [p for p in pkts if p[1] == a.te_pt]
        report["events"] = len(ev)
        if (a.events == 0 and ev) or (a.events > 0 and len(ev) < a.events):
            ok = False
            msgs.append("%d telephone-event packets (expected %s)" %
                        (len(ev), a.events if a.events else "none"))
    report["ok"] = ok
    if msgs:
        report["problems"] = msgs
    print(json.dumps(report))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
