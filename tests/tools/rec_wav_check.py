#!/usr/bin/env python3
"""Checks a decrypted recording (stereo 8 kHz 16-bit WAV, left = customer, right = agent)
sample by sample against what tests/tools/rec_sender.py sent: every sample of a channel is
either silence (0) or the decoded mu-law code base+k of a sender that belongs on that channel
(k = the second of the call it was sent in). Prints per channel and sender the samples seen
per second, and checks expectations:

  rec_wav_check.py FILE --left 0x10 --right 0x90 [--present L:0x10:1-3] [--absent R:0x90:4-5]
      [--silent L] [--min-frac 0.8]

--left/--right: bases allowed on that channel (repeatable); --present CH:BASE:A-B: seconds
A..B of that sender hold at least min-frac of 8000 samples each; --absent: at most 80
samples (10 ms: an edge packet) in each of those seconds; --silent CH: the channel is all 0.
Where two legs of one channel overlap (a hand-over, an SSRC change) the aligner sums them:
such samples must be the exact sum of two allowed codes, at most --max-mixed per channel.
"""
import argparse
import struct
import sys


def ulaw(b):
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if (b & 0x80) else (t - 0x84)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav")
    ap.add_argument("--left", action="append", default=[], type=lambda v: int(v, 0))
    ap.add_argument("--right", action="append", default=[], type=lambda v: int(v, 0))
    ap.add_argument("--present", action="append", default=[])
    ap.add_argument("--absent", action="append", default=[])
    ap.add_argument("--silent", action="append", default=[])
    ap.add_argument("--min-frac", type=float, default=0.8)
    ap.add_argument("--max-mixed", type=int, default=640, help="overlap samples per channel")
    a = ap.parse_args()
    data = open(a.wav, "rb").read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        sys.exit("not a WAV file")
    ch, rate, bits = struct.unpack("<HI", data[22:28])[0], struct.unpack("<I", data[24:28])[0], \
        struct.unpack("<H", data[34:36])[0]
    if (ch, rate, bits) != (2, 8000, 16):
        sys.exit("expected stereo 8 kHz 16-bit, got %d ch %d Hz %d bit" % (ch, rate, bits))
    pcm = data[44:]
    n = len(pcm) // 4
    samples = struct.unpack("<%dh" % (2 * n), pcm[:4 * n])
    allowed = {"L": a.left, "R": a.right}
    value_of = {}  # (channel, value) -> (base, k)
    for c, bases in allowed.items():
        for base in bases:
            for k in range(32):
                value_of[(c, ulaw((base + k) & 0xFF))] = (base, k)
    # Two legs on one channel are summed (saturated) by the aligner where they overlap: at a
    # hand-over (hold + transfer) or an SSRC change a packet or two may overlap. Such a sample
    # must be the exact sum of two allowed codes; at most --max-mixed of them per channel.
    sums = {}
    for c in ("L", "R"):
        vals = sorted({v for (cc, v) in value_of if cc == c})
        for i, x in enumerate(vals):
            for y in vals[i:]:
                sums[(c, max(-32768, min(32767, x + y)))] = True
    mixed = {"L": 0, "R": 0}
    counts = {}
    bad = {"L": 0, "R": 0}
    for i in range(n):
        for c, v in (("L", samples[2 * i]), ("R", samples[2 * i + 1])):
            if v == 0:
                continue
            key = value_of.get((c, v))
            if key is None:
                if (c, v) in sums:
                    mixed[c] += 1
                else:
                    bad[c] += 1
                continue
            counts[(c, key[0], key[1])] = counts.get((c, key[0], key[1]), 0) + 1
    print("samples %d (%.2f s), overlap sums L %d R %d" % (n, n / 8000.0, mixed["L"], mixed["R"]))
    for key in sorted(counts):
        print("  %s base 0x%02x second %2d: %d samples" % (key[0], key[1], key[2], counts[key]))
    errors = []
    for c in ("L", "R"):
        if bad[c]:
            errors.append("%s: %d samples that no allowed sender sent there" % (c, bad[c]))
        if mixed[c] > a.max_mixed:
            errors.append("%s: %d samples are sums of two legs (> %d)" % (c, mixed[c], a.max_mixed))
    for c in a.silent:
        got = sum(v for k, v in counts.items() if k[0] == c)
        if got:
            errors.append("%s should be silent, has %d samples" % (c, got))

    def spec(s):
        c, base, rng = s.split(":")
        lo, hi = rng.split("-")
        return c, int(base, 0), range(int(lo), int(hi) + 1)
    for s in a.present:
        c, base, secs = spec(s)
        for k in secs:
            got = counts.get((c, base, k), 0)
            if got < a.min_frac * 8000:
                errors.append("%s 0x%02x second %d: %d samples, expected ~8000" % (c, base, k, got))
    for s in a.absent:
        c, base, secs = spec(s)
        for k in secs:
            got = counts.get((c, base, k), 0)
            if got > 80:
                errors.append("%s 0x%02x second %d: %d samples, expected none" % (c, base, k, got))
    if errors:
        print("\n".join("ERROR: " + e for e in errors))
        sys.exit(1)
    print("wav ok")


if __name__ == "__main__":
    main()
