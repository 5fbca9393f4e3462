#!/usr/bin/python3
"""Writes pcap files of G.711 RTP for pktgen-dpdk to replay towards mediagate.

Input: the legs file that `loadgen --setup-only FILE` writes after creating the calls
through mediagate's ng port (one line per leg: side, SSRC, source address and port as the
SDP announced them, mediagate's address and port for that leg). Output: one pcap per side
(A: the offerer side, B: the answerer side), each holding `--packets` packets per leg
(default 50 = one second of 20 ms G.711), legs interleaved so that a replay at R packets/s
gives every leg R / legs packets/s. Frames: Ethernet / IPv4 / UDP / RTP (12-byte header,
payload type 0, 160 bytes of payload), correct IPv4 and UDP checksums (mediagate verifies
both in software where the NIC does not).

Plain RTP only: pktgen replays the same packets in a loop, so SRTP packets would be
dropped as replays (counted as srtp_replayed) after the first pass.

  rtp-pcap.py LEGS --a-src-mac MAC --a-dst-mac MAC --b-src-mac MAC --b-dst-mac MAC \
      [--packets 50] [--out-prefix rtp]      -> rtp-A.pcap, rtp-B.pcap
"""
import argparse
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s: str) -> bytes:
    b = bytes.fromhex(s.replace(":", ""))
    if len(b) != 6:
        raise SystemExit(f"bad MAC {s}")
    return b


def ip4(s: str) -> bytes:
    return bytes(int(x) for x in s.split("."))


def frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, ssrc, seq, ts):
    payload = bytes((ssrc * 7 + seq * 13 + i) & 0xFF for i in range(160))
    rtp = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload
    ulen = 8 + len(rtp)
    pseudo = ip4(src_ip) + ip4(dst_ip) + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + rtp
    uc = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + ulen, seq & 0xFFFF, 0x4000, 64, 17, 0,
                      ip4(src_ip), ip4(dst_ip))  # TOS 0xb8: EF, as for voice
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    return dst_mac + src_mac + b"\x08\x00" + iph + udp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("legs")
    for side in "ab":
        ap.add_argument(f"--{side}-src-mac", required=True)
        ap.add_argument(f"--{side}-dst-mac", required=True, help="mediagate's port MAC on that side")
    ap.add_argument("--packets", type=int, default=50)
    ap.add_argument("--out-prefix", default="rtp")
    a = ap.parse_args()
    legs = {"A": [], "B": []}
    for line in open(a.legs):
        if line.startswith("#") or not line.strip():
            continue
        side, ssrc, sip, sport, dip, dport = line.split()
        legs[side].append((int(ssrc, 16), sip, int(sport), dip, int(dport)))
    if not legs["A"] or not legs["B"]:
        raise SystemExit("legs file has no A or no B legs")
    for side in "AB":
        smac, dmac = mac(getattr(a, f"{side.lower()}_src_mac")), mac(getattr(a, f"{side.lower()}_dst_mac"))
        path = f"{a.out_prefix}-{side}.pcap"
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            n = 0
            for k in range(a.packets):
                for ssrc, sip, sport, dip, dport in legs[side]:
                    fr = frame(smac, dmac, sip, dip, sport, dport, ssrc, 1000 + k, 160 * k)
                    t_us = k * 20000
                    f.write(struct.pack("<IIII", t_us // 1000000, t_us % 1000000, len(fr), len(fr)))
                    f.write(fr)
                    n += 1
        print(f"{path}: {n} frames, {len(legs[side])} legs x {a.packets} packets, {len(fr)} bytes each")


if __name__ == "__main__":
    sys.exit(main())
