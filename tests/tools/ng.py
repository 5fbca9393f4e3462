#!/usr/bin/env python3
"""Minimal ng client for tests: sends one bencoded (or raw) request and prints the
answer as JSON. Independent of mediagate's own bencode code.

  ng.py PORT '{"command": "query", "call-id": "c1"}'
  ng.py PORT --raw 'd7:command'      # sends bytes as they are, after a cookie
"""
import json
import os
import socket
import sys


def benc(v):
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l" or c == b"d":
        i += 1
        items = []
        while b[i:i + 1] != b"e":
            x, i = bdec(b, i)
            items.append(x)
        if c == b"l":
            return items, i + 1
        return {items[k]: items[k + 1] for k in range(0, len(items), 2)}, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    s = b[j + 1:j + 1 + n]
    try:
        s = s.decode()
    except UnicodeDecodeError:
        s = s.decode("latin-1")
    return s, j + 1 + n


def main():
    port = int(sys.argv[1])
    cookie = "t%d" % os.getpid()
    if sys.argv[2] == "--raw":
        body = sys.argv[3].encode()
    else:
        body = benc(json.loads(sys.argv[2]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(cookie.encode() + b" " + body, ("127.0.0.1", port))
    data, _ = s.recvfrom(65536)
    c, _, rest = data.partition(b" ")
    assert c.decode() == cookie, "cookie mismatch"
    val, end = bdec(rest)
    assert end == len(rest), "trailing bytes in answer"
    print(json.dumps(val))


if __name__ == "__main__":
    main()
