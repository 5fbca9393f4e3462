#!/usr/bin/env python3
"""A conference participant for tests: sends a G.711 tone (or a constant code) as 20 ms RTP
packets from one UDP socket, receives on the same socket (symmetric RTP), and writes what
arrived (time, RTP header fields, payload) as JSON for tone_check.py.

Options make its own input imperfect (loss, reordering) or add RFC 4733 events. G.711 is
encoded here from the ITU-T rules (independent of mediagate's lib/g711)."""
import argparse
import base64
import hashlib
import hmac
import json
import math
import select
import socket
import struct
import time


def lin2ulaw(x):
    # G.711 mu-law of a 16-bit sample (bias 0x84, 8 segments; G.191 folds with ~x)
    sign = 0x80 if x >= 0 else 0x00
    mag = x if x >= 0 else ~x
    mag = min(mag >> 2, 8158) + 33  # 14-bit magnitude plus bias 33
    seg = max(0, mag.bit_length() - 6)
    code = (seg << 4) | ((mag >> (seg + 1)) & 0x0F)
    return (sign | code) ^ 0x7F


def lin2alaw(x):
    sign = 0x80 if x >= 0 else 0x00
    mag = (x if x >= 0 else ~x) >> 3  # 13-bit magnitude
    if mag < 32:
        code = mag >> 1
    else:
        seg = mag.bit_length() - 5
        code = (seg << 4) | ((mag >> seg) & 0x0F)
    return (sign | code) ^ 0x55


class Srtp:
    """SRTP AES_CM_128_HMAC_SHA1_80 (RFC 3711) with the `cryptography` package's AES:
    an implementation independent of mediagate's (and of libsrtp)."""

    def __init__(self, key_salt_b64):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        self._cipher = lambda key: Cipher(algorithms.AES(key), modes.ECB())
        ks = base64.b64decode(key_salt_b64)
        mkey, msalt = ks[:16], ks[16:30]
        self.key = self._derive(mkey, msalt, 0, 16)
        self.auth = self._derive(mkey, msalt, 1, 20)
        self.salt = self._derive(mkey, msalt, 2, 14)
        self.roc = {}
        self.last = {}

    def _stream(self, key, iv, n):
        enc = self._cipher(key).encryptor()
        base = int.from_bytes(iv, "big")
        blocks = b"".join(((base + i) % (1 << 128)).to_bytes(16, "big") for i in range((n + 15) // 16))
        return enc.update(blocks)[:n]

    def _derive(self, mkey, msalt, label, n):
        x = int.from_bytes(msalt, "big") ^ (label << 48)
        return self._stream(mkey, (x << 16).to_bytes(16, "big"), n)

    def _iv(self, ssrc, index):
        v = (int.from_bytes(self.salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
        return v.to_bytes(16, "big")

    def protect(self, pkt, roc):
        ssrc = struct.unpack("!I", pkt[8:12])[0]
        seq = struct.unpack("!H", pkt[2:4])[0]
        ks = self._stream(self.key, self._iv(ssrc, (roc << 16) | seq), len(pkt) - 12)
        body = pkt[:12] + bytes(a ^ b for a, b in zip(pkt[12:], ks))
        tag = hmac.new(self.auth, body + struct.pack("!I", roc), hashlib.sha1).digest()[:10]
        return body + tag

    def unprotect(self, pkt):
        """Plaintext RTP, or None when it does not authenticate."""
        if len(pkt) < 22:
            return None
        ssrc = struct.unpack("!I", pkt[8:12])[0]
        seq = struct.unpack("!H", pkt[2:4])[0]
        roc = self.roc.get(ssrc, 0)
        last = self.last.get(ssrc)
        guess = roc
        if last is not None:  # RFC 3711 3.3.1 index estimate
            if last < 32768 and seq - last > 32768:
                guess = roc - 1
            elif last >= 32768 and last - 32768 > seq:
                guess = roc + 1
        body, tag = pkt[:-10], pkt[-10:]
        if hmac.new(self.auth, body + struct.pack("!I", guess % (1 << 32)), hashlib.sha1).digest()[:10] != tag:
            return None
        if guess >= roc:
            self.roc[ssrc] = guess
            if guess > roc or last is None or seq > last:
                self.last[ssrc] = seq
        ks = self._stream(self.key, self._iv(ssrc, (guess << 16) | seq), len(body) - 12)
        return body[:12] + bytes(a ^ b for a, b in zip(body[12:], ks))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--ssrc", type=lambda v: int(v, 0), required=True)
    ap.add_argument("--law", choices=["u", "a"], default="u")
    ap.add_argument("--freq", type=float, default=0.0, help="tone in Hz (0: silence)")
    ap.add_argument("--amp", type=float, default=0.3, help="tone amplitude, 1.0 = full scale")
    ap.add_argument("--code", type=lambda v: int(v, 0), help="send this G.711 byte constantly")
    ap.add_argument("--start-at", type=float, required=True, help="wall-clock start time")
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--loss-every", type=int, default=0, help="drop every Nth packet")
    ap.add_argument("--reorder-every", type=int, default=0, help="swap every Nth packet with the next")
    ap.add_argument("--te-pt", type=int, default=101)
    ap.add_argument("--dtmf-at", action="append", default=[],
                    help="T:EVENT  send an RFC 4733 event T seconds after the start")
    ap.add_argument("--srtp-send-key", help="AES_CM_128_HMAC_SHA1_80 key||salt (base64) to send with")
    ap.add_argument("--srtp-recv-key", help="... and the key mediagate sends with")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    host, port = a.bind.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sock.bind((host, int(port)))
    th, tp = a.to.rsplit(":", 1)
    dest = (th, int(tp))
    pt = 0 if a.law == "u" else 8
    enc = lin2ulaw if a.law == "u" else lin2alaw
    received = []
    errors = []
    tx_srtp = Srtp(a.srtp_send_key) if a.srtp_send_key else None
    rx_srtp = Srtp(a.srtp_recv_key) if a.srtp_recv_key else None
    auth_failures = [0]

    def send(pkt):
        if tx_srtp:
            pkt = tx_srtp.protect(pkt, 0)  # our sequence numbers never wrap in a test
        sock.sendto(pkt, dest)

    def receive(timeout):
        r, _, _ = select.select([sock], [], [], max(timeout, 0))
        while r:
            data, _ = sock.recvfrom(2048)
            if rx_srtp and len(data) >= 12 and data[0] >> 6 == 2:
                plain = rx_srtp.unprotect(data)
                if plain is None:
                    auth_failures[0] += 1
                    r, _, _ = select.select([sock], [], [], 0)
                    continue
                data = plain
            if len(data) < 12 or data[0] >> 6 != 2:
                errors.append(len(data))
            else:
                b1, rpt, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
                received.append([time.time(), rpt & 0x7F, rpt >> 7, seq, ts, ssrc,
                                 base64.b64encode(data[12:]).decode()])
            r, _, _ = select.select([sock], [], [], 0)

    dtmf = []
    for spec in a.dtmf_at:
        t, ev = spec.split(":")
        dtmf.append((float(t), int(ev)))
    while time.time() < a.start_at:
        receive(min(0.02, a.start_at - time.time()))
    t0 = time.monotonic()
    n_frames = int(a.duration / 0.02)
    seq, ts, phase = 1000, 0xFFFFF000, 0.0
    step = 2 * math.pi * a.freq / 8000.0
    held = None
    sent = 0
    for i in range(n_frames):
        due = t0 + i * 0.02
        while True:
            now = time.monotonic()
            if now >= due:
                break
            receive(due - now)
        if a.code is not None:
            payload = bytes([a.code]) * 160
        else:
            samples = []
            for _ in range(160):
                samples.append(int(round(a.amp * 32767 * math.sin(phase))))
                phase += step
            payload = bytes(enc(s) for s in samples)
        pkt = struct.pack("!BBHII", 0x80, pt | (0x80 if i == 0 else 0), seq & 0xFFFF,
                          ts & 0xFFFFFFFF, a.ssrc) + payload
        seq += 1
        ts += 160
        # RFC 4733: one event of 100 ms as 5 packets (last three with E), one timestamp
        for t, ev in dtmf:
            if abs(i * 0.02 - t) < 0.01:
                ev_ts = ts - 160
                for k in range(5):
                    end = 0x80 if k >= 2 else 0
                    body = struct.pack("!BBH", ev, end | 10, min(800, 160 * (k + 1)))
                    hdr = struct.pack("!BBHII", 0x80, a.te_pt | (0x80 if k == 0 else 0),
                                      seq & 0xFFFF, ev_ts & 0xFFFFFFFF, a.ssrc)
                    seq += 1
                    send(hdr + body)
        if a.loss_every and i % a.loss_every == a.loss_every - 1:
            continue
        if a.reorder_every and i % a.reorder_every == 0 and held is None:
            held = pkt  # goes out after the next packet
            continue
        send(pkt)
        sent += 1
        if held is not None:
            send(held)
            sent += 1
            held = None
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        receive(end - time.monotonic())
    json.dump({"law": a.law, "sent": sent, "errors": len(errors), "packets": received,
               "srtp_auth_failures": auth_failures[0]},
              open(a.out, "w"))


if __name__ == "__main__":
    main()
