"""License levels as egress limits, measured by a transfer between two
namespaces (bounded in time)."""

from __future__ import annotations

import subprocess

import pytest

from tests.linux.netlab import router_and_plain_host

pytestmark = [pytest.mark.root, pytest.mark.netns, pytest.mark.slow]

SINK = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); s.settimeout(20)
print("ready", flush=True)
c, _ = s.accept(); c.settimeout(10)
total, first, last = 0, None, None
while True:
    try:
        data = c.recv(1 << 16)
    except socket.timeout:
        break
    if not data:
        break
    now = time.monotonic()
    first = first or now
    last = now
    total += len(data)
print(total, (last or 0) - (first or 0), flush=True)
"""

BLAST = r"""
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5201), timeout=5)
buf = b"x" * 65536
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    c.sendall(buf)
c.close()
"""

SET_LEVEL = r"""
import sys
from winbox_agent.router import Router
r = Router(sys.argv[1], driver="linux")
lic = r.store.items("/system/license")[0]
r.set_readonly("/system/license", lic[".id"], {"level": "%s"}, note="test: license level")
r.close()
"""


def _rate(sender, receiver, seconds):
    """Bits per second from sender to receiver over a transfer of ``seconds``."""
    sink = receiver.popen(["python3", "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        sender.run(["timeout", str(seconds + 15), "python3", "-c", BLAST, "10.9.0.2", str(seconds)],
                   timeout=seconds + 30)
        out, _ = sink.communicate(timeout=30)
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.communicate()
    total, span = out.split()
    return 8 * int(total) / max(float(span), 0.5)


def test_license_levels_limit_egress_per_interface(lab):
    a, b = router_and_plain_host(lab, ("a", "b"))
    assert a.wait_ping("10.9.0.2")

    # free: 1 Mbit/s
    qdisc = [q for q in a.json(["tc", "-j", "qdisc", "show", "dev", "eth1"]) if q.get("root")][0]
    assert qdisc["kind"] == "tbf" and qdisc["options"]["rate"] * 8 == 1000000
    free = _rate(a, b, 3)
    print("free: %.2f Mbit/s" % (free / 1e6))
    assert 0.5e6 < free < 1.5e6, "free level moved %.2f Mbit/s" % (free / 1e6)

    # p-unlimited: the limit goes (the change of level is seen without a restart)
    a.python(SET_LEVEL % "p-unlimited")
    roots = [q for q in a.json(["tc", "-j", "qdisc", "show", "dev", "eth1"]) if q.get("root")]
    assert all(q.get("handle") != "7762:" for q in roots)
    unlimited = _rate(a, b, 2)
    print("p-unlimited: %.1f Mbit/s" % (unlimited / 1e6))
    assert unlimited > 20 * free

    # p1: 1 Gbit/s
    a.python(SET_LEVEL % "p1")
    qdisc = [q for q in a.json(["tc", "-j", "qdisc", "show", "dev", "eth1"]) if q.get("root")][0]
    assert qdisc["kind"] == "tbf" and qdisc["options"]["rate"] * 8 == 1000000000
    p1 = _rate(a, b, 2)
    print("p1: %.1f Mbit/s" % (p1 / 1e6))
    assert p1 < 1.2e9
