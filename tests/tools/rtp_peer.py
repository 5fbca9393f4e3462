#!/usr/bin/env python3
"""A real RTP endpoint for tests: sends G.711-sized RTP packets from one UDP socket and
receives on the same socket (symmetric RTP), then reports what arrived as JSON.

Payload bytes are a function of (ssrc, seq), so the receiver can check that every
relayed payload is intact without knowing anything else about the sender."""
import argparse
import json
import os
import select
import socket
import struct
import time


def payload(ssrc, seq, size):
    seed = (ssrc * 2654435761 + seq * 40503) & 0xFFFFFFFF
    out = bytearray(size)
    for i in range(size):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (seed >> 16) & 0xFF
    return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True, help="addr:port to send from and receive on")
    ap.add_argument("--to", required=True, help="addr:port to send to")
    ap.add_argument("--ssrc", type=lambda v: int(v, 0), required=True)
    ap.add_argument("--expect-ssrc", type=lambda v: int(v, 0), help="SSRC of the other side")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--pt", type=int, default=0)
    ap.add_argument("--start-delay", type=float, default=0.0)
    ap.add_argument("--linger", type=float, default=1.0, help="seconds to keep receiving")
    ap.add_argument("--rtcp-every", type=int, default=0, help="send an RTCP SR every N packets")
    ap.add_argument("--rtcp-to", help="addr:port for RTCP (default: RTP destination)")
    ap.add_argument("--ready", help="create this file once the sockets are bound")
    ap.add_argument("--sent", help="create this file once 10 packets have been sent")
    ap.add_argument("--wait", action="append", default=[],
                    help="before sending, wait (up to 20 s) until this file exists")
    a = ap.parse_args()

    host, port = a.bind.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    th, tp = a.to.rsplit(":", 1)
    dest = (th, int(tp))
    rtcp_dest = dest
    if a.rtcp_to:
        rh, rp = a.rtcp_to.rsplit(":", 1)
        rtcp_dest = (rh, int(rp))
    rtcp_sock = None
    if a.rtcp_to:
        rtcp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp_sock.bind((host, int(port) + 1))

    if a.ready:
        open(a.ready, "w").close()
    got = {"received": 0, "intact": 0, "bad": 0, "rtcp": 0, "wrong_ssrc": 0, "seqs": [],
           "sources": []}

    def receive(timeout):
        socks = [sock] + ([rtcp_sock] if rtcp_sock else [])
        r, _, _ = select.select(socks, [], [], max(timeout, 0))
        for s in r:
            data, src = s.recvfrom(2048)
            srcs = "%s:%d" % src
            if srcs not in got["sources"]:
                got["sources"].append(srcs)
            if len(data) >= 2 and 192 <= data[1] <= 223:
                got["rtcp"] += 1
                continue
            if len(data) < 12 or data[0] >> 6 != 2:
                got["bad"] += 1
                continue
            _, _, seq, _, ssrc = struct.unpack("!BBHII", data[:12])
            got["received"] += 1
            if a.expect_ssrc is not None and ssrc != a.expect_ssrc:
                got["wrong_ssrc"] += 1
                continue
            got["seqs"].append(seq)
            if data[12:] == payload(ssrc, seq, len(data) - 12):
                got["intact"] += 1
            else:
                got["bad"] += 1

    limit = time.monotonic() + 20
    while any(not os.path.exists(f) for f in a.wait) and time.monotonic() < limit:
        receive(0.02)
    deadline = time.monotonic() + a.start_delay
    while time.monotonic() < deadline:
        receive(deadline - time.monotonic())
    seq0, ts0 = 1000, 5000
    next_send = time.monotonic()
    for i in range(a.count):
        while True:
            now = time.monotonic()
            if now >= next_send:
                break
            receive(next_send - now)
        seq = (seq0 + i) & 0xFFFF
        hdr = struct.pack("!BBHII", 0x80, a.pt, seq, (ts0 + 160 * i) & 0xFFFFFFFF, a.ssrc)
        sock.sendto(hdr + payload(a.ssrc, seq, a.size), dest)
        if a.rtcp_every and i % a.rtcp_every == 0:
            sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, a.ssrc, 0, 0, ts0 + 160 * i, i, i * a.size)
            (rtcp_sock or sock).sendto(sr, rtcp_dest)
        next_send += a.interval
        if a.sent and i == min(9, a.count - 1):
            open(a.sent, "w").close()
    end = time.monotonic() + a.linger
    while time.monotonic() < end:
        receive(end - time.monotonic())
    got["sent"] = a.count
    got["seqs"] = got["seqs"][:5] + (["..."] if len(got["seqs"]) > 5 else [])
    print(json.dumps(got))


if __name__ == "__main__":
    main()
