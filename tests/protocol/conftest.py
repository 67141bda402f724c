"""Fixtures of the protocol tests.

- ``arun(coro)`` runs a coroutine on a fresh event loop; the autouse
  ``no_leaks`` fixture fails a test that leaves asyncio tasks pending or a
  daemon running (daemons are detached, so the session-wide check for child
  processes in tests/conftest.py, which also applies here, cannot see them).
- ``daemon`` starts ``winbox-agent daemon`` in the foreground as a child
  process on a temporary state directory, and stops it afterwards.
- ``agent`` starts the real agent in this process (``serve`` on a socket
  pair) and gives its Router for direct checks.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from winbox_py.backend.local import InProcessAgent, inprocess, stop_daemon
from winbox_py.backend.transport import agent_env

REPO = Path(__file__).resolve().parents[2]

_leaks: list[str] = []


def _pending_tasks(loop: asyncio.AbstractEventLoop, me: asyncio.Task | None) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks(loop) if t is not me and not t.done()]


@pytest.fixture
def arun():
    """Run a coroutine to completion on a new loop; note leaked tasks."""

    def run(coro, timeout: float = 120.0):
        async def main():
            me = asyncio.current_task()
            try:
                return await asyncio.wait_for(coro, timeout)
            finally:
                for _ in range(20):  # let callbacks scheduled by the test finish
                    if not _pending_tasks(asyncio.get_running_loop(), me):
                        break
                    await asyncio.sleep(0.05)
                left = _pending_tasks(asyncio.get_running_loop(), me)
                if left:
                    _leaks.extend(repr(t.get_coro()) for t in left)
                    for t in left:
                        t.cancel()
                    await asyncio.gather(*left, return_exceptions=True)
        return asyncio.run(main())

    return run


def _daemons_under(base: str) -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() != "winbox-agentd":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    continue
        except OSError:
            continue
        if base in argv:
            found[int(entry)] = argv
    return found


@pytest.fixture(autouse=True)
def no_leaks(tmp_path_factory) -> Iterator[None]:
    """Fail a test that leaks asyncio tasks or leaves a detached daemon running."""
    base = str(tmp_path_factory.getbasetemp())
    before = set(_daemons_under(base))
    _leaks.clear()
    yield
    problems = []
    if _leaks:
        problems.append("asyncio tasks left pending:\n  " + "\n  ".join(_leaks))
        _leaks.clear()
    deadline = time.monotonic() + 3
    leaked = {}
    while time.monotonic() < deadline:
        leaked = {p: a for p, a in _daemons_under(base).items() if p not in before}
        if not leaked:
            break
        time.sleep(0.05)
    for pid in leaked:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if leaked:
        problems.append("daemons left running:\n  " + "\n  ".join(f"{p}: {a}" for p, a in leaked.items()))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def agent_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "winbox_agent", *args]


class DaemonProcess:
    """A daemon run in the foreground as this test's child.

    Attributes:
        state_dir: its configuration directory; process: the Popen.
    """

    def __init__(self, state_dir: Path, extra: list[str]):
        self.state_dir = state_dir
        self.process = subprocess.Popen(
            agent_command("--driver", "sim", "--state-dir", str(state_dir), "--seed", "1", "daemon", *extra),
            env=agent_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.wait_listening()

    def wait_listening(self, timeout: float = 30.0) -> None:
        sock = self.state_dir / "agent.sock"
        deadline = time.monotonic() + timeout
        while not sock.exists():
            if self.process.poll() is not None:
                raise RuntimeError("the daemon exited: " + self.process.stderr.read().decode())
            if time.monotonic() > deadline:
                raise RuntimeError("the daemon did not start listening")
            time.sleep(0.02)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()


@pytest.fixture
def start_daemon(tmp_path):
    """``start_daemon(*options)`` runs a foreground daemon (stopped afterwards)."""
    started: list[DaemonProcess] = []

    def start(*extra: str, state_dir: Path | None = None) -> DaemonProcess:
        d = DaemonProcess(state_dir or tmp_path / f"state{len(started)}", list(extra))
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()
        stop_daemon(str(d.state_dir))


@pytest.fixture
def state_dir(tmp_path) -> Iterator[Path]:
    """A state directory whose detached daemon (if a bridge started one) is
    stopped afterwards."""
    path = tmp_path / "state"
    yield path
    stop_daemon(str(path))


async def start_agent(tmp_path: Path, **options) -> InProcessAgent:
    from winbox_agent.proto.server import Options
    return await inprocess(str(tmp_path / "inproc"), seed=1, options=Options(**options))
