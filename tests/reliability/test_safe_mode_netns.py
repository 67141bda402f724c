"""Safe mode on a real system: the daemon runs with the linux driver inside
a network namespace, the desktop connects through a bridge started in the
same namespace (as sshd would start it, with ``SSH_CONNECTION``), takes safe
mode, adds an address, a route and a firewall rule, and is cut off.  Within
15 seconds ``ip -j addr``, ``ip -j route`` and ``nft -j list ruleset`` are
back as they were: the rollback went through the driver.

- a killed desktop (its connection ends at once) is rolled back after the
  reclaim grace period (4 s);
- a frozen one (a blackhole: the connection stays open, nothing comes) is
  noticed by missed heartbeats (10 s) and rolled back 4 s later;
- ``check-impact`` asks the kernel (``ip route get``) which way the desktop
  is reached and flags a change of that interface or address.

The measured times are printed (``-s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.linux.netlab import Lab
from tests.support.skips import require_netns, require_root
from winbox_py.backend.session import Session
from winbox_py.backend.transport import ProcessTransport

pytestmark = [pytest.mark.root, pytest.mark.netns]

CLIENT = "10.9.0.2"
SSH = "%s 50022 10.9.0.1 22" % CLIENT
PROMISED = 15.0


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    require_root()
    require_netns()
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()


class Router:
    """The router namespace with its daemon (a foreground child of the test)."""

    def __init__(self, lab: Lab):
        self.host = lab.host("r")
        self.pc = lab.host("pc")
        lab.link(self.host, "eth1", self.pc, "eth1")
        self.host.cli("/ip address add address=10.9.0.1/24 interface=eth1")
        self.pc.run(["ip", "addr", "add", CLIENT + "/24", "dev", "eth1"])
        self.pc.run(["ip", "link", "set", "eth1", "up"])
        self.daemon = subprocess.Popen(self.host.agent_argv("daemon", "--idle-exit", "0"), env=self.host.agent_env(),
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (self.host.state / "agent.sock").exists():
            assert self.daemon.poll() is None, "the daemon exited"
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.05)

    async def desktop(self) -> tuple[Session, ProcessTransport]:
        """A desktop connected through a bridge in the namespace."""
        argv = self.host.wrap(["python3", "-m", "winbox_agent", "--driver", "linux", "--state-dir",
                               str(self.host.state), "bridge"])
        env = self.host.agent_env()
        env["SSH_CONNECTION"] = SSH
        transports = []

        async def reopen():
            transports.append(await ProcessTransport.run(argv, env))
            return transports[-1]
        session = await Session.over(await reopen(), reopen=reopen)
        return session, transports[0]

    def system(self) -> dict:
        """What the kernel has: addresses, routes, nftables rules (comparable)."""
        addrs = sorted((a["ifname"], i["local"], i["prefixlen"]) for a in self.host.addrs()
                       for i in a.get("addr_info", []) if i.get("family") == "inet")
        routes = sorted((r.get("dst"), r.get("gateway"), r.get("dev"))
                        for r in self.host.json(["ip", "-j", "route", "show"]))
        ruleset = self.host.json(["nft", "-j", "list", "ruleset"])
        rules = sorted(json.dumps(x["rule"].get("expr"), sort_keys=True) for x in ruleset.get("nftables", [])
                       if "rule" in x) if isinstance(ruleset, dict) else []
        return {"addresses": addrs, "routes": routes, "rules": rules}

    def stop(self) -> None:
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()


async def _changes_in_safe_mode(session: Session) -> None:
    await session.safe_mode(True)
    await session.add("/ip/address", {"address": "192.0.2.1/24", "interface": "eth1"})
    await session.add("/ip/route", {"dst-address": "198.51.100.0/24", "gateway": "10.9.0.2"})
    await session.add("/ip/firewall/filter", {"chain": "input", "action": "drop", "protocol": "udp",
                                              "dst-port": "9999"})


async def _wait_back(r: Router, before: dict, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if r.system() == before:
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError("the system was not rolled back within %.0f s: %s" % (limit, r.system()))


def _in_safe_mode(r: Router, before: dict) -> None:
    now = r.system()
    assert ("eth1", "192.0.2.1", 24) in now["addresses"]
    assert ("198.51.100.0/24", CLIENT, "eth1") in now["routes"]
    assert len(now["rules"]) > len(before["rules"])


def test_a_killed_desktop_in_safe_mode_is_rolled_back_on_the_system(lab, arun):
    r = Router(lab)
    try:
        async def go():
            session, transport = await r.desktop()
            before = r.system()
            await _changes_in_safe_mode(session)
            _in_safe_mode(r, before)
            transport.kill()                                # the desktop's connection dies
            took = await _wait_back(r, before, PROMISED)
            await transport.wait_closed()
            # the configuration says so too, and the desktop is told on reconnecting
            await session.reconnect()
            assert session.rollback is not None and session.rollback["count"] == 3
            rows = await session.print("/ip/address")
            assert [x["address"] for x in rows] == ["10.9.0.1/24"]
            await session.close()
            return took
        took = arun(go())
        print("\nnetns: a killed desktop's safe mode rolled back on the system in %.1f s" % took)
    finally:
        r.stop()


def test_a_silent_desktop_is_noticed_by_heartbeats_and_rolled_back_within_15_s(lab, arun):
    r = Router(lab)
    try:
        async def go():
            session, transport = await r.desktop()
            before = r.system()
            await _changes_in_safe_mode(session)
            _in_safe_mode(r, before)
            os.kill(transport.process.pid, signal.SIGSTOP)  # a blackhole: open, but nothing gets through
            try:
                took = await _wait_back(r, before, PROMISED)
            finally:
                transport.kill()
                os.kill(transport.process.pid, signal.SIGCONT)
            await transport.wait_closed()
            await session.close()
            return took
        took = arun(go())
        print("\nnetns: a silent desktop's safe mode rolled back on the system in %.1f s" % took)
        assert took > 9, "rolled back before the heartbeat could have been missed"
    finally:
        r.stop()


def test_check_impact_asks_the_kernel_which_way_the_desktop_comes_in(lab, arun):
    r = Router(lab)
    try:
        async def go():
            session, _ = await r.desktop()
            result = await session._call("check-impact", path="/interface/ethernet", action="disable",
                                         ids=["eth1"])
            assert result["path"]["interface"] == "eth1" and result["path"]["source"] == "10.9.0.1"
            assert len(result["warnings"]) == 1 and "eth1" in result["warnings"][0]
            addr = (await session.print("/ip/address"))[0][".id"]
            warnings = await session.check_impact("/ip/address", "remove", [addr])
            assert len(warnings) == 1 and "10.9.0.1/24" in warnings[0]
            assert await session.check_impact("/ip/route", "add", None, {"dst-address": "198.51.100.0/24",
                                                                          "gateway": CLIENT}) == []
            await session.close()
        arun(go())
    finally:
        r.stop()
