#!/usr/bin/env python3
"""Carrier side of webrtc_chromium.sh: a plain RTP/AVP PCMU endpoint. Sends a 1000 Hz tone
(G.711 mu-law, 20 ms packets) to mediagate from one socket and receives on it (symmetric RTP);
decodes what arrives and reports JSON: packets, payload types, SSRCs, and the tone it heard
(frequency from zero crossings, RMS level)."""
import argparse
import json
import math
import os
import select
import socket
import struct
import time


def ulaw_decode(b):
    b = ~b & 0xFF
    sign, exp, mant = b & 0x80, (b >> 4) & 7, b & 0x0F
    s = (((mant << 3) + 0x84) << exp) - 0x84
    return -s if sign else s


def ulaw_encode(s):
    sign = 0x80 if s < 0 else 0
    s = min(abs(int(s)), 32635) + 0x84
    exp, mask = 7, 0x4000
    while exp > 0 and not s & mask:
        exp -= 1
        mask >>= 1
    return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0F)) & 0xFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--ready")
    ap.add_argument("--after", help="also count what arrives once this file exists")
    a = ap.parse_args()
    h, p = a.bind.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((h, int(p)))
    th, tp = a.to.rsplit(":", 1)
    dest = (th, int(tp))
    if a.ready:
        open(a.ready, "w").close()
    ssrc, seq, ts, n_sent = 0x0CA441E4, 1, 0, 0
    got = {"received": 0, "pts": {}, "ssrcs": [], "sources": []}
    samples, samples_after = [], []
    got_after = 0
    start = time.time()
    next_send = start
    while time.time() - start < a.seconds:
        now = time.time()
        if now >= next_send:
            pcm = [int(12000 * math.sin(2 * math.pi * 1000 * (ts + i) / 8000)) for i in range(160)]
            pkt = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            sock.sendto(pkt + bytes(ulaw_encode(v) for v in pcm), dest)
            seq, ts, n_sent = seq + 1, ts + 160, n_sent + 1
            next_send += 0.02
        r, _, _ = select.select([sock], [], [], max(0.0, next_send - time.time()))
        if not r:
            continue
        data, src = sock.recvfrom(2048)
        if len(data) < 12 or data[0] >> 6 != 2:
            continue
        pt = data[1] & 0x7F
        if 72 <= pt <= 79:  # RTCP (SR/RR) on the RTP port
            continue
        got["received"] += 1
        got["pts"][str(pt)] = got["pts"].get(str(pt), 0) + 1
        s = struct.unpack("!I", data[8:12])[0]
        if s not in got["ssrcs"]:
            got["ssrcs"].append(s)
        src = "%s:%d" % src
        if src not in got["sources"]:
            got["sources"].append(src)
        cc = data[0] & 0x0F
        off = 12 + 4 * cc
        if data[0] & 0x10 and len(data) >= off + 4:
            off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
        after = a.after and os.path.exists(a.after)
        got_after += bool(after)
        if pt == 0:
            samples.extend(ulaw_decode(b) for b in data[off:])
            if after:
                samples_after.extend(ulaw_decode(b) for b in data[off:])
    got["sent"] = n_sent
    if a.after:
        got["received_after"] = got_after
        body = samples_after[4000:] if len(samples_after) > 8000 else samples_after
        if body:
            crossings = sum(1 for i in range(1, len(body)) if (body[i - 1] < 0) != (body[i] < 0))
            got["tone_hz_after"] = crossings / 2 / (len(body) / 8000)
    # the tone: skip the first second (encoder start-up), then zero crossings and RMS
    body = samples[8000:] if len(samples) > 16000 else samples
    if body:
        crossings = sum(1 for i in range(1, len(body)) if (body[i - 1] < 0) != (body[i] < 0))
        got["tone_hz"] = crossings / 2 / (len(body) / 8000)
        got["rms"] = math.sqrt(sum(v * v for v in body) / len(body))
    print(json.dumps(got))


main()
