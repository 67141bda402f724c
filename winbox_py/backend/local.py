"""The agent on this machine: the demo's local pipe, and an in-process agent.

:func:`local_opener` makes the transport factory a local Session uses (and
reuses to reconnect): a ``python3 -m winbox_agent ... bridge`` subprocess
(sharing the device's daemon, so two local windows see each other's changes)
or ``serve`` (a private agent process).  :func:`inprocess` runs the real agent
inside this process on a socket pair, for tests and tools that want no child
process at all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .transport import LocalTransport, StreamTransport, agent_dir

MODES = ("bridge", "serve")


def agent_argv(state_dir: str | None, driver: str = "sim", seed: int | None = None, mode: str = "bridge",
               agent_args: Sequence[str] = ()) -> list[str]:
    """The agent's command line for a local connection."""
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    argv = ["--driver", driver]
    if state_dir is not None:
        argv += ["--state-dir", str(state_dir)]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return argv + [mode] + list(agent_args)


def local_opener(state_dir: str | None = None, driver: str = "sim", seed: int | None = None,
                 mode: str = "bridge", agent_args: Sequence[str] = ()) -> Callable[[], Awaitable[LocalTransport]]:
    """A factory of transports to a local agent (called again to reconnect)."""
    argv = agent_argv(state_dir, driver, seed, mode, agent_args)

    async def reopen() -> LocalTransport:
        return await LocalTransport.start(argv)
    return reopen


class InProcessAgent:
    """The real agent serving one connection inside this process.

    Attributes:
        router: the agent's Router (tests look at it directly).
        transport: the desktop's end (a StreamTransport on a socket pair).
        task: the agent's serving task; reason: why it ended.
    """

    def __init__(self, router: Any, transport: StreamTransport, task: asyncio.Task):
        self.router = router
        self.transport = transport
        self.task = task

    async def stop(self) -> str:
        """Close the desktop's end and wait for the agent to finish."""
        self.transport.close()
        try:
            return await asyncio.wait_for(self.task, 15)
        finally:
            self.router.close()


async def inprocess(state_dir: str | None = None, driver: str = "sim", seed: int | None = None,
                    options: Any = None, router: Any = None) -> InProcessAgent:
    """Start the agent's ``serve`` on one end of a socket pair in this loop."""
    _importable()
    from winbox_agent.proto.serve import serve_streams
    from winbox_agent.router import Router
    if router is None:
        router = Router(state_dir, driver=driver, seed=seed)
    ours, theirs = socket.socketpair()
    r1, w1 = await asyncio.open_connection(sock=theirs, limit=1 << 20)
    r2, w2 = await asyncio.open_connection(sock=ours, limit=1 << 20)
    task = asyncio.ensure_future(serve_streams(router, r1, w1, options))
    return InProcessAgent(router, StreamTransport(r2, w2, "in-process agent"), task)


def _importable() -> None:
    try:
        import winbox_agent  # noqa: F401
    except ImportError:
        path = agent_dir()
        if path is None:
            raise
        sys.path.insert(0, path)


def daemon_pid(state_dir: str) -> int | None:
    """The pid of the daemon serving ``state_dir``, if one is running."""
    try:
        with open(os.path.join(state_dir, "daemon.pid")) as fh:
            pid = int(fh.read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stop_daemon(state_dir: str, timeout: float = 10.0) -> bool:
    """Stop the daemon of ``state_dir`` (SIGTERM, then SIGKILL); True if one
    was running.  Tests that open bridge sessions call this when done: the
    daemon is detached, so it is nobody's child and would outlive them."""
    pid = daemon_pid(state_dir)
    if pid is None:
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.02)
    return True


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
