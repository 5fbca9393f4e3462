#!/usr/bin/env python3
"""Drives the recording-policy scenarios of tests/integration/rec_policy.sh against a running
mediagate: ng requests (offer/answer with contact-center keys, start/stop recording, block
media) at fixed times while tests/tools/rec_sender.py peers in the two namespaces send known
mu-law codes per side. Writes, per scenario, the rec_wav_check.py arguments that say what
the decrypted recording must (not) hold.

  rec_scenarios.py NGPORT NS_A NS_B WORKDIR [SCENARIO...]
"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng import benc, bdec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NGPORT, NS_A, NS_B, WORK = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ONLY = sys.argv[5:]
A_IP, B_IP, MG_IP = "10.91.0.2", "10.91.0.3", "10.91.0.1"
SECONDS = float(os.environ.get("REC_SECONDS", "6"))
cookie = [0]


def ng(req):
    cookie[0] += 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    c = "s%d_%d" % (os.getpid(), cookie[0])
    s.sendto(c.encode() + b" " + benc(req), ("127.0.0.1", NGPORT))
    data, _ = s.recvfrom(65536)
    val, _ = bdec(data.partition(b" ")[2])
    if val.get("result") != "ok":
        raise SystemExit("ng %s failed: %s" % (req.get("command"), val))
    return val


def sdp(ip, port):
    return ("v=0\r\no=x 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % (ip, ip, port))


def port_of(answer):
    for line in answer["sdp"].split("\r\n"):
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise SystemExit("no m=audio in %r" % answer)


def call(cid, contact, pa, pb, role_a, role_b, answer_extra=None, answer=True):
    """Offer from A (customer side), answer from B; returns (port B sends to, port A sends
    to or None)."""
    o = ng({"command": "offer", "call-id": cid, "from-tag": cid + "-a", "contact-id": contact,
            "leg-role": role_a, "sdp": sdp(A_IP, pa)})
    if not answer:
        return port_of(o), None
    req = {"command": "answer", "call-id": cid, "from-tag": cid + "-a", "to-tag": cid + "-b",
           "leg-role": role_b, "sdp": sdp(B_IP, pb)}
    req.update(answer_extra or {})
    a = ng(req)
    return port_of(o), port_of(a)


def answer(cid, pb, role_b, extra):
    req = {"command": "answer", "call-id": cid, "from-tag": cid + "-a", "to-tag": cid + "-b",
           "leg-role": role_b, "sdp": sdp(B_IP, pb)}
    req.update(extra)
    return ng(req)


def start(cid, tag_side, **keys):
    req = {"command": "start recording", "call-id": cid, "from-tag": cid + "-" + tag_side}
    req.update({k.replace("_", "-"): v for k, v in keys.items()})
    return ng(req)


senders = []


def sender(ns, ip, port, to_port, ssrc, base, extra=()):
    ready = os.path.join(WORK, "ready-%d-%d" % (port, len(senders)))
    cmd = ["ip", "netns", "exec", ns, "python3", os.path.join(HERE, "rec_sender.py"),
           "--bind", "%s:%d" % (ip, port), "--to", "%s:%d" % (MG_IP, to_port),
           "--ssrc", hex(ssrc), "--base", hex(base), "--seconds", str(SECONDS),
           "--wait", os.path.join(WORK, "go"), "--ready", ready] + list(extra)
    senders.append((subprocess.Popen(cmd), ready))


CUST, AGENT, AGENT2, EXT = 0x10, 0x90, 0xA0, 0xB0
# name -> (setup(t=-x), timed events [(t, fn)], checker args)
scen = {}


def add(name, setup, events, check):
    if not ONLY or name in ONLY:
        scen[name] = (setup, events, check)


def plain(name, mode, customer_extra=()):
    k = "K-" + name
    c = "c-" + name
    base_port = 4000 + 10 * len(scen)

    def setup():
        pb, pa = call(c, k, base_port, base_port + 1000, "customer", "agent")
        sender(NS_A, A_IP, base_port, pa, 0x1000 + base_port, CUST, customer_extra)
        sender(NS_B, B_IP, base_port + 1000, pb, 0x2000 + base_port, AGENT)
        start(c, "a", recording_channels=mode)
        start(c, "b", agent="connected")
    return k, c, setup


def both():
    # every sender's RTP timestamp wraps 2 s in; here the customer also changes SSRC at 3.5 s
    k, c, setup = plain("both", "both", ("--new-ssrc-at", "3.5"))
    add("both", setup, [], ["--left", hex(CUST), "--right", hex(AGENT),
                            "--present", "L:%#x:1-5" % CUST, "--present", "R:%#x:1-5" % AGENT])


def agent_only():
    k, c, setup = plain("agent", "agent")
    add("agent", setup, [], ["--left", hex(CUST), "--right", hex(AGENT), "--silent", "L",
                             "--present", "R:%#x:1-5" % AGENT])


def customer_only():
    # the customer also sends telephone-events: counted, never in the recording
    k, c, setup = plain("customer", "customer", ("--dtmf-every", "10"))
    add("customer", setup, [], ["--left", hex(CUST), "--right", hex(AGENT), "--silent", "R",
                                "--present", "L:%#x:1-5" % CUST])


IVR = 0xC0


def ivr():
    # customer in the IVR/flow until t=2.7: the agent leg exists but is not connected, and
    # an IVR leg of the contact (second call, leg-role ivr) speaks all along: never recorded
    name = "ivr"
    k, c, c2 = "K-" + name, "c-" + name, "c-" + name + "2"
    port = 4000 + 10 * len(scen)

    def setup():
        pb, pa = call(c, k, port, port + 1000, "customer", "agent")
        sender(NS_A, A_IP, port, pa, 0x1000 + port, CUST)
        sender(NS_B, B_IP, port + 1000, pb, 0x2000 + port, AGENT)
        pb2, _ = call(c2, k, port + 2, port + 1002, "customer", "ivr")
        sender(NS_B, B_IP, port + 1002, pb2, 0x3000 + port, IVR)
        start(c, "a", recording_channels="both")
    add(name, setup, [(2.7, lambda: start(c, "b", agent="connected"))],
        ["--left", hex(CUST), "--right", hex(AGENT), "--absent", "L:%#x:0-1" % CUST,
         "--absent", "R:%#x:0-1" % AGENT, "--present", "L:%#x:3-5" % CUST,
         "--present", "R:%#x:3-5" % AGENT])


def disconnect():
    k, c, setup = plain("disconnect", "both")
    add("disconnect", setup, [(3.3, lambda: start(c, "b", agent="disconnected"))],
        ["--left", hex(CUST), "--right", hex(AGENT), "--present", "L:%#x:1-2" % CUST,
         "--present", "R:%#x:1-2" % AGENT, "--absent", "L:%#x:4-5" % CUST,
         "--absent", "R:%#x:4-5" % AGENT])


def hold():
    k, c, setup = plain("hold", "both")
    add("hold", setup, [(1.7, lambda: start(c, "a", hold="hold")),
                        (4.3, lambda: start(c, "a", hold="unhold"))],
        ["--left", hex(CUST), "--right", hex(AGENT), "--absent", "L:%#x:2-3" % CUST,
         "--present", "L:%#x:0-0" % CUST, "--present", "L:%#x:5-5" % CUST,
         "--present", "R:%#x:1-5" % AGENT])


def mute():
    k, c, setup = plain("mute", "both")
    block = {"command": "block media", "call-id": c, "from-tag": c + "-b"}
    unblock = dict(block, command="unblock media")
    add("mute", setup, [(1.7, lambda: ng(block)), (4.3, lambda: ng(unblock))],
        ["--left", hex(CUST), "--right", hex(AGENT), "--absent", "R:%#x:2-3" % AGENT,
         "--present", "R:%#x:0-0" % AGENT, "--present", "R:%#x:5-5" % AGENT,
         "--present", "L:%#x:1-5" % CUST])


def consult_setup(name):
    """customer <-> agent1 recorded on call c; agent2 on a second call c2 of the same
    contact, not answered yet. Returns the names, agent2's port and the set-up."""
    k, c, c2 = "K-" + name, "c-" + name, "c-" + name + "2"
    port = 4000 + 10 * len(scen)

    def setup():
        pb, pa = call(c, k, port, port + 1000, "customer", "agent")
        sender(NS_A, A_IP, port, pa, 0x1000 + port, CUST)
        sender(NS_B, B_IP, port + 1000, pb, 0x2000 + port, AGENT)
        start(c, "a", recording_channels="both")
        start(c, "b", agent="connected")
        pb2, _ = call(c2, k, port + 2, port + 1002, "agent", "agent", answer=False)
        sender(NS_B, B_IP, port + 1002, pb2, 0x3000 + port, AGENT2)
    return k, c, c2, port + 1002, setup


# a consult from 1.5 s: the customer held (not recorded after it), agent2 recorded on the
# customer channel, agent1 all along
CONSULT_CHECK = ["--left", hex(CUST), "--left", hex(AGENT2), "--right", hex(AGENT),
                 "--present", "L:%#x:3-5" % AGENT2, "--absent", "L:%#x:0-0" % AGENT2,
                 "--absent", "L:%#x:2-5" % CUST, "--present", "L:%#x:0-0" % CUST,
                 "--present", "R:%#x:1-5" % AGENT]


def transfer_agent():
    # at 1.5 the customer is held and agent1 consults agent2 on the second call, answered
    # with transfer: agent
    k, c, c2, port2, setup = consult_setup("transfer")

    def consult():
        start(c, "a", hold="hold")
        answer(c2, port2, "agent", {"transfer": "agent"})
    add("transfer", setup, [(1.5, consult)], CONSULT_CHECK)


def external_after_agent_left():
    name = "external"
    k, c, c2 = "K-" + name, "c-" + name, "c-" + name + "2"
    port = 4000 + 10 * len(scen)

    def setup():
        pb, pa = call(c, k, port, port + 1000, "customer", "agent")
        sender(NS_A, A_IP, port, pa, 0x1000 + port, CUST)
        sender(NS_B, B_IP, port + 1000, pb, 0x2000 + port, AGENT)
        start(c, "a", recording_channels="both")
        start(c, "b", agent="connected")
        pb2, _ = call(c2, k, port + 2, port + 1002, "customer", "third-party", answer=False)
        sender(NS_B, B_IP, port + 1002, pb2, 0x3000 + port, EXT)
    add(name, setup, [(1.7, lambda: start(c, "b", agent="disconnected")),
                      (2.7, lambda: answer(c2, port + 1002, "third-party",
                                           {"transfer": "external"}))],
        ["--left", hex(CUST), "--left", hex(EXT), "--right", hex(AGENT),
         "--present", "L:%#x:0-0" % CUST, "--absent", "L:%#x:2-5" % CUST,
         "--absent", "L:%#x:0-5" % EXT, "--absent", "R:%#x:2-5" % AGENT])


def consult_conference():
    # the same consult as a 3-party conference on the worker (issue 8's flow): at 1.5 s
    # agent2's call is answered with transfer: agent and joins the contact's conference with
    # hold-role: customer; the conference command itself moves the policy
    k, c, c2, port2, setup = consult_setup("conference")

    def consult():
        answer(c2, port2, "agent", {"transfer": "agent"})
        r = ng({"command": "join conference", "call-id": c2, "from-tag": c2 + "-b",
                "contact-id": k, "hold-role": "customer"})
        if r.get("result") != "ok" or r.get("mode") != "conference" or "warning" in r:
            raise SystemExit("join conference: %r" % r)
    add("conference", setup, [(1.5, consult)], CONSULT_CHECK)


for f in (both, agent_only, customer_only, ivr, disconnect, hold, mute, transfer_agent,
          external_after_agent_left, consult_conference):
    f()
for name, (setup, _, _) in scen.items():
    setup()
limit = time.time() + 20
while any(not os.path.exists(r) for _, r in senders) and time.time() < limit:
    time.sleep(0.05)
# one absolute timeline for every sender and event
t0 = time.time() + 0.5
with open(os.path.join(WORK, "go.tmp"), "w") as f:
    f.write("%.6f\n" % t0)
os.rename(os.path.join(WORK, "go.tmp"), os.path.join(WORK, "go"))
events = sorted((t, name, fn) for name, (_, evs, _) in scen.items() for t, fn in evs)
for t, name, fn in events:
    delay = t0 + t - time.time()
    if delay > 0:
        time.sleep(delay)
    late = time.time() - (t0 + t)
    fn()
    print("event %s at %.2f s (%.0f ms late)" % (name, t, late * 1000), flush=True)
for p, _ in senders:
    p.wait()
# end of the calls: recordings stop, calls go
for name in scen:
    ng({"command": "stop recording", "call-id": "c-" + name})
for name in scen:
    for cid in ("c-" + name, "c-" + name + "2"):
        try:
            ng({"command": "delete", "call-id": cid})
        except SystemExit:
            pass
with open(os.path.join(WORK, "checks.json"), "w") as f:
    json.dump({"K-" + n: chk for n, (_, _, chk) in scen.items()}, f)
print("scenarios done: %s" % " ".join(scen))
