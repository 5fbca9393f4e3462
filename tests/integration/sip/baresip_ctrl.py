#!/usr/bin/env python3
"""Drives one baresip through its ctrl_tcp module (JSON in netstrings, baresip 1.0).

    baresip_ctrl.py [--addr 127.0.0.1:4444] call URI SECONDS
        dials URI, waits for CALL_ESTABLISHED, keeps the call SECONDS, hangs up and
        waits for CALL_CLOSED.
    baresip_ctrl.py [--addr ...] wait-closed TIMEOUT
        waits until a call on this UA has been established and then closed.

Prints every event and response it sees as one JSON line; exits non-zero if the
call did not establish or did not close in time."""
import argparse, json, socket, sys, time


class Ctrl:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                self.s = socket.create_connection((host, int(port)), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.n = 0

    def send(self, command, params=""):
        self.n += 1
        msg = json.dumps({"command": command, "params": params, "token": f"t{self.n}"}).encode()
        self.s.sendall(b"%d:%s," % (len(msg), msg))

    def recv(self, timeout):
        """Next message as a dict, or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                size = int(self.buf[:colon])
                if len(self.buf) >= colon + 1 + size + 1:
                    body = self.buf[colon + 1:colon + 1 + size]
                    self.buf = self.buf[colon + 1 + size + 1:]
                    m = json.loads(body)
                    print(json.dumps(m), flush=True)
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise SystemExit("ctrl_tcp connection closed")
            self.buf += data

    def wait_event(self, types, timeout):
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv(max(0.0, deadline - time.monotonic()))
            if m is None:
                return None
            if m.get("event") and m.get("type") in types:
                return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.1:4444")
    ap.add_argument("action", choices=["call", "wait-closed"])
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    c = Ctrl(a.addr)
    if a.action == "call":
        uri, seconds = a.args[0], float(a.args[1])
        c.send("dial", uri)
        m = c.wait_event({"CALL_ESTABLISHED", "CALL_CLOSED"}, 10)
        if not m or m["type"] != "CALL_ESTABLISHED":
            sys.exit("call not established")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = c.recv(end - time.monotonic())
            if m and m.get("event") and m.get("type") == "CALL_CLOSED":
                sys.exit("call closed early")
        c.send("hangup")
        if not c.wait_event({"CALL_CLOSED"}, 5):
            sys.exit("no CALL_CLOSED after hangup")
    else:
        timeout = float(a.args[0])
        deadline = time.monotonic() + timeout
        if not c.wait_event({"CALL_ESTABLISHED"}, timeout):
            sys.exit("no call established")
        if not c.wait_event({"CALL_CLOSED"}, max(0.0, deadline - time.monotonic())):
            sys.exit("call not closed")


if __name__ == "__main__":
    main()
