"""Transports: asyncio byte streams to an agent process's stdin/stdout.

A transport is anything with

- ``reader``: StreamReader-like (``async read(n)``, ``readexactly(n)``,
  ``readuntil(sep)``, ``readline()``);
- ``writer``: ``write(bytes)``, ``async drain()``, ``close()``;
- ``async wait_closed()``: until the far end is gone and resources are freed;
- ``close()``: start closing; ``describe()``: a short human name;
- ``diagnostics()``: text the agent printed on stderr (shown when it fails).

:class:`LocalTransport` runs the agent as a subprocess on this machine (the
demo, tests), :class:`ProcessTransport` any local command, and
:class:`StreamTransport` wraps a connected socket; the SSH transport
(``transport_ssh.SSHTransport``) runs the agent over an exec channel.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

READ_LIMIT = 1 << 20
STDERR_KEEP = 8192


@runtime_checkable
class Transport(Protocol):
    """Byte streams to one agent process (see the module docstring)."""

    reader: Any
    writer: Any

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...

    def describe(self) -> str: ...

    def diagnostics(self) -> str: ...


class StreamTransport:
    """A transport over an existing (reader, writer) pair, such as a socket.

    Attributes:
        reader / writer: the asyncio streams.
        name: what :meth:`describe` says.
    """

    def __init__(self, reader: Any, writer: Any, name: str = "stream"):
        self.reader = reader
        self.writer = writer
        self.name = name

    def close(self) -> None:
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass

    async def wait_closed(self) -> None:
        try:
            await self.writer.wait_closed()
        except (OSError, ConnectionError):
            pass

    def describe(self) -> str:
        return self.name

    def diagnostics(self) -> str:
        return ""

    def stderr_lines(self) -> list[str]:
        return []


def agent_dir() -> str | None:
    """The source tree's ``agent/`` folder, if this is a checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.normpath(os.path.join(here, "..", "..", "agent"))
    return candidate if os.path.isfile(os.path.join(candidate, "winbox_agent", "__main__.py")) else None


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a local agent process: PYTHONPATH reaching agent/."""
    env = dict(os.environ)
    path = agent_dir()
    if path:
        env["PYTHONPATH"] = path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


class ProcessTransport:
    """Pipes to the stdio of a local process (any command that ends up
    running the agent).

    Attributes:
        argv: the command line; process: the asyncio subprocess.
    """

    def __init__(self, process: asyncio.subprocess.Process, argv: Sequence[str]):
        self.process = process
        self.argv = list(argv)
        self.reader = process.stdout
        self.writer = process.stdin
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._collect_stderr())

    @classmethod
    async def run(cls, argv: Sequence[str], env: dict[str, str] | None = None) -> ProcessTransport:
        """Start ``argv`` with pipes to its stdin, stdout and stderr."""
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, limit=READ_LIMIT, close_fds=True)
        return cls(process, argv)

    async def _collect_stderr(self) -> None:
        assert self.process.stderr is not None
        while True:
            chunk = await self.process.stderr.read(4096)
            if not chunk:
                return
            self._stderr += chunk
            del self._stderr[:-STDERR_KEEP]

    def close(self) -> None:
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait for the agent to exit after its stdin closed (kill it if it
        does not), and for its pipes to be released."""
        self.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), timeout)
        except asyncio.TimeoutError:
            if self.process.returncode is None:
                self.process.kill()
            await self.process.wait()
        try:
            await asyncio.wait_for(self._stderr_task, 2.0)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._stderr_task.cancel()
        try:
            await self.writer.wait_closed()
        except (OSError, ConnectionError):
            pass

    def kill(self) -> None:
        """End the agent process at once (tests: a connection that dies)."""
        if self.process.returncode is None:
            self.process.kill()

    def describe(self) -> str:
        return "local process (%s)" % " ".join(self.argv)

    def diagnostics(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()

    def stderr_lines(self) -> list[str]:
        return self.diagnostics().splitlines()


class LocalTransport(ProcessTransport):
    """The agent as a subprocess of this program (``python3 -m winbox_agent``),
    with PYTHONPATH reaching the source tree's agent/ when run from a checkout.

    Attributes:
        agent_argv: the agent's arguments (``["--driver", "sim", "--state-dir", D, "bridge"]``).
    """

    agent_argv: list[str] = []

    @classmethod
    async def start(cls, argv: Sequence[str], python: str | None = None,
                    env: dict[str, str] | None = None) -> LocalTransport:
        """Run ``python -m winbox_agent ARGV`` with pipes to its stdio."""
        transport = await cls.run([python or sys.executable, "-m", "winbox_agent", *argv], agent_env(env))
        assert isinstance(transport, LocalTransport)
        transport.agent_argv = list(argv)
        return transport

    def describe(self) -> str:
        return "local agent (%s)" % " ".join(self.agent_argv)
