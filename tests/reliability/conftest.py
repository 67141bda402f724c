"""Fixtures of the reliability tests (safe mode, faults, load, hostile input).

- ``arun(coro)`` runs a coroutine on a fresh loop and fails the test if it
  leaves asyncio tasks behind.
- ``hub_agent`` gives an :class:`AgentHub`: the real agent's Hub (one Router,
  safe mode, feeds) in this process, which any number of desktops reach
  through socket pairs, as the daemon's bridges reach the daemon.  Its safe
  mode runs on a fake clock the test advances.
- ``daemon`` helpers start the real daemon (a child process) on a temporary
  state directory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from winbox_py.backend.local import stop_daemon
from winbox_py.backend.session import Session
from winbox_py.backend.transport import StreamTransport, agent_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def arun():
    """Run a coroutine to completion on a new loop; fail on leaked tasks."""
    leaks: list[str] = []

    def run(coro, timeout: float = 120.0):
        async def main():
            me = asyncio.current_task()
            try:
                return await asyncio.wait_for(coro, timeout)
            finally:
                for _ in range(40):
                    left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
                    if not left:
                        break
                    await asyncio.sleep(0.05)
                left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
                leaks.extend(repr(t.get_coro()) for t in left)
                for t in left:
                    t.cancel()
                await asyncio.gather(*left, return_exceptions=True)
        result = asyncio.run(main())
        if leaks:
            pytest.fail("asyncio tasks left pending:\n  " + "\n  ".join(leaks), pytrace=False)
        return result
    return run


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AgentHub:
    """The agent's shared state in this process, reached over socket pairs.

    Attributes:
        router: the Router; hub: the Hub; clock: safe mode's fake clock.
        conns: every server-side Connection made so far.
    """

    def __init__(self, state_dir: Path | None, options: Any = None, seed: int = 1, driver: str = "sim"):
        from winbox_agent.proto.hub import Hub
        from winbox_agent.proto.server import Options
        from winbox_agent.router import Router
        self.router = Router(str(state_dir) if state_dir else None, driver=driver, seed=seed)
        self.hub = Hub(self.router, options or Options())
        self.clock = FakeClock()
        self.hub.safemode.clock = self.clock
        self.conns: list[Any] = []
        self.tasks: list[asyncio.Task] = []
        self.transports: list[StreamTransport] = []

    async def transport(self, peer: dict | None = None) -> StreamTransport:
        """A new connection to the hub; ``peer`` is what a bridge would say."""
        ours, theirs = socket.socketpair()
        r1, w1 = await asyncio.open_connection(sock=theirs, limit=1 << 20)
        r2, w2 = await asyncio.open_connection(sock=ours, limit=1 << 20)
        info = {"user": "root", "uid": 0, "ssh_connection": ""}
        info.update(peer or {})
        conn = self.hub.connection(r1, w1, peer=info)
        self.conns.append(conn)
        self.tasks.append(asyncio.ensure_future(conn.run()))
        t = StreamTransport(r2, w2, "in-process hub")
        self.transports.append(t)
        return t

    async def session(self, peer: dict | None = None, reconnect: bool = True) -> Session:
        async def reopen():
            return await self.transport(peer)
        return await Session.over(await reopen(), reopen=reopen if reconnect else None)

    async def close(self) -> None:
        for t in self.transports:
            t.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.hub.close()
        self.router.close()


@pytest.fixture
def hub_agent(tmp_path):
    """``await hub_agent(options=...)`` -> AgentHub (closed by ``await h.close()``)."""
    made: list[AgentHub] = []

    async def make(options: Any = None, state_dir: Path | None = None, **kw: Any) -> AgentHub:
        h = AgentHub(state_dir or tmp_path / ("hub%d" % len(made)), options, **kw)
        made.append(h)
        return h
    return make


def agent_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "winbox_agent", *args]


class DaemonProcess:
    """``winbox-agent daemon`` in the foreground as this test's child.

    Attributes:
        state_dir: its configuration directory; process: the Popen.
    """

    def __init__(self, state_dir: Path, extra: list[str], env: dict[str, str] | None = None):
        self.state_dir = state_dir
        self.extra = extra
        self.env = env
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        env = agent_env(self.env)
        proc = subprocess.Popen(
            agent_command("--driver", "sim", "--state-dir", str(self.state_dir), "--seed", "1", "daemon",
                          "--idle-exit", "0", *self.extra),
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = self.state_dir / "agent.sock"
        pidfile = self.state_dir / "daemon.pid"
        deadline = time.monotonic() + 30
        while True:
            try:
                if sock.exists() and int(pidfile.read_text().split()[0]) == proc.pid:
                    return proc
            except (OSError, ValueError, IndexError):
                pass
            if proc.poll() is not None:
                raise RuntimeError("the daemon exited with %s" % proc.returncode)
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the daemon did not start listening")
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.process = self._start()

    def rss_kib(self) -> int:
        with open("/proc/%d/status" % self.process.pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_daemon(tmp_path) -> Iterator[Any]:
    """``start_daemon(*options)`` runs a foreground daemon (stopped afterwards)."""
    started: list[DaemonProcess] = []

    def start(*extra: str, state_dir: Path | None = None, env: dict[str, str] | None = None) -> DaemonProcess:
        path = state_dir or tmp_path / ("state%d" % len(started))
        path.mkdir(mode=0o700, exist_ok=True)
        d = DaemonProcess(path, list(extra), env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()
        stop_daemon(str(d.state_dir))


def bridge_opener(state_dir: Path, env: dict[str, str] | None = None):
    """A transport factory: a ``bridge`` subprocess to the daemon of ``state_dir``."""
    from winbox_py.backend.transport import LocalTransport

    async def reopen():
        return await LocalTransport.start(["--driver", "sim", "--state-dir", str(state_dir), "--seed", "1",
                                           "bridge"], env=env)
    return reopen


def read_config(state_dir: Path) -> dict:
    import json
    return json.loads((state_dir / "config.json").read_text())


def items_of(config: dict, path: str) -> list[dict]:
    return config["menus"].get(path, [])


def proc_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
