"""Test hosts for the linux driver: network namespaces joined by veth links,
each running the real agent (``python3 -m winbox_agent --driver linux``)
inside its namespace.

Every host gets its own state directory, its own resolver file
(``/etc/netns/NS/resolv.conf``), its own pppd configuration (a copy of
/etc/ppp) and its own ``/run/wireguard``, all bound in place for each agent
command, because wireguard-go keeps its control
sockets there and two hosts on one machine must not share them.  :meth:`Lab.close` stops every process left in the
namespaces (by pid) and deletes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.skips import require_netns, require_root

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "agent"
# Each agent command runs in the host's network namespace (nsenter) and a
# mount namespace of its own that shares /run/netns with the machine (so the
# namespaces the agent makes for MetaROUTER guests outlive the command), with
# the host's own resolver file and /run/wireguard bound in place.
WRAP = ('mount --make-private / && { mount --make-private /run 2>/dev/null; true; } && '
        'mount --bind "$0/resolv.conf" /etc/resolv.conf && mount --bind "$0/ppp" /etc/ppp && '
        'mount --bind "$1" /run/wireguard && shift && exec "$@"')


class CommandError(AssertionError):
    """A command in a test host failed (the message has its stderr)."""


class TestHost:
    """One router under test: a namespace, a state dir, the agent.

    Attributes:
        name: short name in the test (``a``, ``office1``).
        ns: the network namespace.
        state: the agent's state directory.
        env: extra environment for the agent.
    """

    def __init__(self, lab: "Lab", name: str):
        self.lab = lab
        self.name = name
        self.ns = "%s-%s" % (lab.prefix, name)
        self.dir = lab.base / name
        self.state = self.dir / "state"
        self.wgrun = self.dir / "run-wireguard"
        self.resolv = Path("/etc/netns") / self.ns / "resolv.conf"
        self.env: dict[str, str] = {}
        self.wgrun.mkdir(parents=True)
        self.state.mkdir(mode=0o700)

    # -- plain commands in the namespace ------------------------------------------------
    def run(self, argv: list[str], check: bool = True, timeout: float = 60, input: str | None = None,
            ) -> subprocess.CompletedProcess:
        res = subprocess.run(["ip", "netns", "exec", self.ns] + list(argv), capture_output=True, text=True,
                             timeout=timeout, input=input)
        if check and res.returncode != 0:
            raise CommandError("%s on %s failed (%d): %s" % (" ".join(argv), self.name, res.returncode,
                                                            res.stderr.strip()))
        return res

    def json(self, argv: list[str]) -> Any:
        return json.loads(self.run(argv).stdout or "[]")

    def popen(self, argv: list[str], **kw: Any) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.ns] + list(argv), **kw)

    # -- the agent -------------------------------------------------------------------------
    def agent_argv(self, *args: str) -> list[str]:
        return self.wrap(["python3", "-m", "winbox_agent", "--driver", "linux", "--state-dir", str(self.state)]
                         + list(args))

    def wrap(self, argv: list[str]) -> list[str]:
        """A command as the agent runs: in this host's namespace, with its files."""
        return ["nsenter", "--net=/run/netns/%s" % self.ns, "--", "unshare", "--mount", "--propagation",
                "unchanged", "--", "sh", "-c", WRAP, str(self.resolv.parent), str(self.wgrun)] + list(argv)

    def agent_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(AGENT)
        env.update(self.env)
        return env

    def cli(self, script: str, check: bool = True, as_json: bool = False, timeout: float = 120,
            ) -> subprocess.CompletedProcess:
        """Run RouterOS commands through ``winbox-agent cli -c``."""
        args = ["cli"] + (["--json"] if as_json else []) + ["-c", script]
        res = subprocess.run(self.agent_argv(*args), capture_output=True, text=True, timeout=timeout,
                             env=self.agent_env())
        if check and res.returncode != 0:
            raise CommandError("agent on %s: %s\nstdout: %s\nstderr: %s" % (
                self.name, script, res.stdout.strip(), res.stderr.strip()))
        return res

    def rows(self, menu: str, extra: str = "") -> list[dict[str, str]]:
        """``print`` of a menu as JSON rows (every property, show-sensitive)."""
        out = self.cli("%s print show-sensitive %s" % (menu, extra), as_json=True).stdout
        lines = [ln for ln in out.splitlines() if ln.startswith("[")]
        return json.loads(lines[-1]) if lines else []

    def python(self, code: str, check: bool = True) -> subprocess.CompletedProcess:
        """Python with the agent importable, in the namespace (for Router-level steps)."""
        res = subprocess.run(self.wrap(["python3", "-c", code, str(self.state)]),
                             capture_output=True, text=True, timeout=120, env=self.agent_env())
        if check and res.returncode != 0:
            raise CommandError("python on %s failed: %s" % (self.name, res.stderr.strip()))
        return res

    # -- reading the system -----------------------------------------------------------------
    def links(self) -> dict[str, dict[str, Any]]:
        return {r["ifname"]: r for r in self.json(["ip", "-j", "-d", "link", "show"])}

    def addrs(self) -> list[dict[str, Any]]:
        return self.json(["ip", "-j", "addr", "show"])

    def ping(self, address: str, count: int = 1, wait: float = 2, source: str | None = None) -> bool:
        argv = ["ping", "-n", "-c", str(count), "-W", str(wait)]
        if source:
            argv += ["-I", source]
        return self.run(argv + [address], check=False).returncode == 0

    def wait_ping(self, address: str, timeout: float = 15, source: str | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping(address, wait=1, source=source):
                return True
        return False


class Lab:
    """The namespaces and links of one test.

    Attributes:
        prefix: unique prefix of this lab's namespace names.
        hosts: by name.
    """

    def __init__(self, base: Path):
        self.base = base
        self.prefix = "wbt" + secrets.token_hex(3)
        self.hosts: dict[str, TestHost] = {}
        self.extra_ns: list[str] = []
        Path("/run/wireguard").mkdir(parents=True, exist_ok=True)

    def host(self, name: str) -> TestHost:
        h = TestHost(self, name)
        subprocess.run(["ip", "netns", "add", h.ns], check=True, capture_output=True)
        self.hosts[name] = h
        etc = Path("/etc/netns") / h.ns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("# %s before the agent\nnameserver 192.0.2.53\n" % h.ns)
        # its own pppd configuration (secrets files), bound on /etc/ppp for the agent
        if Path("/etc/ppp").is_dir():
            shutil.copytree("/etc/ppp", etc / "ppp", symlinks=True)
        else:
            (etc / "ppp").mkdir()
        h.run(["ip", "link", "set", "lo", "up"])
        return h

    def link(self, a: TestHost, a_if: str, b: TestHost, b_if: str) -> None:
        """A veth pair: ``a_if`` in ``a``, ``b_if`` in ``b`` (both down, as new NICs are)."""
        subprocess.run(["ip", "link", "add", a_if, "netns", a.ns, "type", "veth", "peer", "name", b_if,
                        "netns", b.ns], check=True, capture_output=True)

    def pids(self, ns: str) -> list[int]:
        res = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        return [int(p) for p in res.stdout.split() if p.isdigit()]

    def close(self) -> None:
        names = [h.ns for h in self.hosts.values()] + self.extra_ns
        # namespaces the agents made for MetaROUTER guests: wbmr-<tag of the state dir>-<id>
        tags = {hashlib.sha1(str(h.state).encode()).hexdigest()[:6] for h in self.hosts.values()}
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in listed.splitlines():
            ns = line.split()[0] if line.split() else ""
            if ns.startswith("wbmr-") and ns.split("-")[1] in tags:
                names.insert(0, ns)
        for ns in names:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                pids = self.pids(ns)
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 2
                while pids and time.monotonic() < deadline and self.pids(ns):
                    time.sleep(0.05)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
try:
    while True:
        c, peer = s.accept()
        print(peer[0], flush=True)
        c.close()
except socket.timeout:
    pass
"""

CONNECT = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
    print("connected")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, OSError) as exc:
    print("timeout" if isinstance(exc, socket.timeout) else "error %s" % exc)
"""


class Listener:
    """A TCP listener in a test host that records the source address of
    every connection (what NAT made of it)."""

    def __init__(self, host: TestHost, port: int, lifetime: float = 20):
        self.proc = host.popen(["python3", "-c", LISTENER, str(port), str(lifetime)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def peers(self) -> list[str]:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return [ln.strip() for ln in out.splitlines() if ln.strip()]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)


def connect(host: TestHost, address: str, port: int, timeout: float = 2) -> str:
    """connected | refused | timeout: how a TCP connection from ``host`` went."""
    return host.run(["python3", "-c", CONNECT, address, str(port), str(timeout)]).stdout.strip()


@contextlib.contextmanager
def open_lab(base: Path) -> Iterator[Lab]:
    """A lab in ``base`` (the test is skipped without root or network
    namespaces), closed with every process left in it at the end."""
    require_root()
    require_netns()
    lab = Lab(base)
    try:
        yield lab
    finally:
        lab.close()


def three_hosts(lab: Lab, names: tuple[str, str, str] = ("a", "r", "b")) -> tuple[TestHost, TestHost, TestHost]:
    """a -- r -- b through their agents, each link its own /24: a 10.1.0.2 and
    r 10.1.0.1 on eth1, r 10.2.0.1 on eth2 and b 10.2.0.2 on eth1 (no routes)."""
    a, r, b = (lab.host(name) for name in names)
    lab.link(a, "eth1", r, "eth1")
    lab.link(r, "eth2", b, "eth1")
    a.cli("/ip address add address=10.1.0.2/24 interface=eth1")
    r.cli("/ip address add address=10.1.0.1/24 interface=eth1\n"
          "/ip address add address=10.2.0.1/24 interface=eth2")
    b.cli("/ip address add address=10.2.0.2/24 interface=eth1")
    return a, r, b


def router_and_plain_host(lab: Lab, names: tuple[str, str]) -> tuple[TestHost, TestHost]:
    """A router (10.9.0.1 on eth1, set through its agent) linked to a host
    configured with ip(8) only (10.9.0.2 on eth1)."""
    router, other = lab.host(names[0]), lab.host(names[1])
    lab.link(router, "eth1", other, "eth1")
    router.cli("/ip address add address=10.9.0.1/24 interface=eth1")
    other.run(["ip", "link", "set", "eth1", "up"])
    other.run(["ip", "addr", "add", "10.9.0.2/24", "dev", "eth1"])
    return router, other
