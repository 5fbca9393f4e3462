#!/usr/bin/env python3
"""RTP sender for the recording tests: 20 ms PCMU packets whose 160 payload bytes are all
one mu-law code, base + (seconds since the start), so the decoded WAV tells sample by
sample which side spoke and in which second of the call (tests/tools/rec_wav_check.py).
Drains whatever the other side relays to it.

  rec_sender.py --bind 10.91.0.2:4000 --to 10.91.0.1:30002 --ssrc 0x1111 --base 0x10 \
                --seconds 6 [--wait FILE] [--ready FILE] [--started FILE]
"""
import argparse
import os
import select
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--ssrc", type=lambda v: int(v, 0), required=True)
    ap.add_argument("--base", type=lambda v: int(v, 0), required=True)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--pt", type=int, default=0)
    ap.add_argument("--ready", help="create once bound")
    ap.add_argument("--wait", action="append", default=[], help="start once these exist")
    ap.add_argument("--started", help="write the start time (epoch seconds) here")
    ap.add_argument("--dtmf-every", type=int, default=0,
                    help="also send an RFC 4733 telephone-event packet (pt 101) every N packets")
    ap.add_argument("--new-ssrc-at", type=float, default=0,
                    help="seconds: switch to another SSRC, sequence and timestamp base")
    a = ap.parse_args()
    host, port = a.bind.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    th, tp = a.to.rsplit(":", 1)
    dest = (th, int(tp))
    if a.ready:
        open(a.ready, "w").close()
    limit = time.monotonic() + 30
    while any(not os.path.exists(f) for f in a.wait) and time.monotonic() < limit:
        time.sleep(0.01)
    # The start is an absolute time (epoch) in the first --wait file when it holds one, so
    # every sender and the driver's events share one timeline even on a loaded machine.
    start = time.time()
    for f in a.wait:
        try:
            start = float(open(f).read().strip() or start)
        except ValueError:
            pass
    if a.started:
        with open(a.started + ".tmp", "w") as f:
            f.write("%.3f\n" % start)
        os.rename(a.started + ".tmp", a.started)
    n = int(a.seconds * 50)
    seq0, ts0 = 7000, 0xFFFFFFFF - 16000  # the RTP timestamp wraps 2 s into the call
    ssrc = a.ssrc
    for i in range(n):
        due = start + i * 0.02
        while True:
            now = time.time()
            if now >= due:
                break
            r, _, _ = select.select([sock], [], [], due - now)
            if r:
                sock.recvfrom(2048)
        if time.time() - due > 0.06:
            continue  # starved: a lost packet, never a code sent in the wrong second
        if a.new_ssrc_at and i == int(a.new_ssrc_at * 50):
            # a new source (say a re-INVITE to another phone): unrelated numbering
            ssrc, seq0, ts0 = ssrc ^ 0x5A5A5A5A, (seq0 + 30000) & 0xFFFF, ts0 + 123456789
        code = (a.base + i // 50) & 0xFF
        hdr = struct.pack("!BBHII", 0x80, a.pt, (seq0 + i) & 0xFFFF,
                          (ts0 + 160 * i) & 0xFFFFFFFF, ssrc)
        sock.sendto(hdr + bytes([code]) * 160, dest)
        if a.dtmf_every and i % a.dtmf_every == 0:
            ev = struct.pack("!BBHII", 0x80, 101, (seq0 + i) & 0xFFFF,
                             (ts0 + 160 * i) & 0xFFFFFFFF, ssrc) + bytes([5, 0x0A, 0, 160])
            sock.sendto(ev, dest)  # not audio: must not reach the recording


if __name__ == "__main__":
    main()
