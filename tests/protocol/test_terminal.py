"""New Terminal through a real daemon: the agent's command line on a pty,
typed into and read from over the protocol (op ``terminal``).

What a user at the terminal would notice: the RouterOS prompt and the output
of what they type, changes that reach the configuration, Ctrl-C stopping a
running monitor, closing the window ending the shell on the device, and a
``read`` login's terminal refusing changes.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
import time

import pytest

from tests.support.skips import require_root
from winbox_py.backend.session import RpcError, Session
from winbox_py.backend.transport import LocalTransport


class Screen:
    """What a terminal printed so far (read by a background task)."""

    def __init__(self, term):
        self.term = term
        self.data = b""
        self.task = asyncio.ensure_future(self._read())

    async def _read(self):
        async for chunk in self.term:
            self.data += chunk

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace").replace("\r\n", "\n")

    async def wait_for(self, needle: str, after: int = 0, timeout: float = 15.0) -> int:
        """Until ``needle`` shows up past character ``after``; returns where it ends."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.text.find(needle, after)
            if at >= 0:
                return at + len(needle)
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} did not appear; the terminal shows:\n{self.text[after:]}")
            if self.task.done():
                raise AssertionError(f"the terminal ended before {needle!r}; it showed:\n{self.text}")
            await asyncio.sleep(0.02)

    async def type(self, keys: str | bytes) -> None:
        await self.term.write(keys.encode() if isinstance(keys, str) else keys)

    async def send(self, keys: str | bytes, needle: str, after: int = 0) -> int:
        """Types ``keys``, then waits for ``needle`` past ``after``; returns where it ends."""
        await self.type(keys)
        return await self.wait_for(needle, after)

    async def close(self):
        await self.term.cancel()
        await asyncio.wait_for(self.task, 10)


def _pty_size(pid: int) -> tuple[int, int]:
    """(rows, columns) of the terminal a process on this machine has as its stdin."""
    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY)
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    finally:
        os.close(fd)
    return rows, cols


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


async def _open(state_dir, login: str = "") -> Session:
    """A desktop through a bridge; ``login``: the person behind sudo (SUDO_USER as root)."""
    async def reopen():
        return await LocalTransport.start(["--driver", "sim", "--state-dir", str(state_dir), "--seed", "1",
                                           "bridge"], env={"SUDO_USER": login})
    return await Session.over(await reopen(), reopen=reopen)


async def _open_terminal(state_dir, cols: int, rows: int) -> tuple[Session, Screen]:
    """A desktop (as ``_open``) with a terminal of ``cols`` x ``rows`` open on it."""
    s = await _open(state_dir)
    return s, Screen(s.terminal(cols, rows))


def test_the_terminal_shows_the_prompt_and_runs_commands(arun, start_daemon):
    d = start_daemon()

    async def go():
        s = await _open(d.state_dir)
        assert "terminal" in s.capabilities
        login = s.facts["login"]
        screen = Screen(s.terminal(80, 24))
        end = await screen.wait_for(f"[{login}@MikroTik] > ")
        end = await screen.send("/system identity print\r", "name: MikroTik", end)
        await screen.send("/ip pool add name=t ranges=10.0.0.1-10.0.0.2\r", f"[{login}@MikroTik] > ", end)
        for _ in range(100):
            pools = await s.print("/ip/pool")
            if any(p["name"] == "t" for p in pools):
                break
            await asyncio.sleep(0.05)
        assert [p["ranges"] for p in pools if p["name"] == "t"] == ["10.0.0.1-10.0.0.2"]
        # the menu level shows in the prompt; a bad line says why and the shell goes on
        end = await screen.send("/ip address\r", f"[{login}@MikroTik] /ip address> ", end)
        end = await screen.send("add address=bogus interface=ether1\r", "failure: ", end)
        await screen.wait_for("address", end)
        await screen.close()
        await s.close()
    arun(go())


def test_tab_completes_menu_words_and_commands(arun, start_daemon):
    d = start_daemon()

    async def go():
        s, screen = await _open_terminal(d.state_dir, 100, 24)
        end = await screen.wait_for("] > ")
        end = await screen.send("/ip addr\t", "/ip address ", end)
        end = await screen.send("pri\t", "print ", end)
        await screen.send("\r", "Columns:", end)
        await screen.close()
        await s.close()
    arun(go())


def test_ctrl_c_stops_a_running_monitor_and_the_shell_goes_on(arun, start_daemon):
    d = start_daemon()

    async def go():
        s, screen = await _open_terminal(d.state_dir, 100, 30)
        end = await screen.wait_for("> ")
        end = await screen.send("/interface monitor-traffic ether1\r", "rx-bits-per-second", end)
        end = await screen.wait_for("rx-bits-per-second", end)      # a second sample: it keeps going
        assert (await s.stats())["monitors"], "the monitor runs in the agent while the terminal shows it"
        end = await screen.send(b"\x03", "] > ", end)
        stopped = len(screen.text)
        for _ in range(100):
            if not (await s.stats())["monitors"]:
                break
            await asyncio.sleep(0.05)
        assert (await s.stats())["monitors"] == []
        await asyncio.sleep(1.5)                  # no sample after the prompt came back
        assert "rx-bits-per-second" not in screen.text[stopped:]
        await screen.send("/system identity print\r", "name: MikroTik", stopped)
        await screen.close()
        await s.close()
    arun(go())


def test_closing_the_terminal_kills_the_shell_on_the_device(arun, start_daemon):
    d = start_daemon()

    async def go():
        s = await _open(d.state_dir)
        term = s.terminal(80, 24)
        screen = Screen(term)
        await screen.wait_for("> ")
        pid = term.pid
        assert pid and os.path.exists(f"/proc/{pid}")
        await screen.close()
        assert _gone(pid), f"the terminal's process {pid} still runs after the window closed"
        with pytest.raises(RpcError):
            await term.write(b"/system identity print\r")
        for _ in range(100):                           # the terminal's link to the agent goes too
            if len((await s.stats())["connections"]) == 1:
                break
            await asyncio.sleep(0.05)
        assert len((await s.stats())["connections"]) == 1
        await s.close()
    arun(go())


def test_quit_ends_the_terminal_and_resize_names_the_stream(arun, start_daemon):
    d = start_daemon()

    async def go():
        s = await _open(d.state_dir)
        term = s.terminal(80, 24)
        screen = Screen(term)
        await screen.wait_for("> ")
        assert _pty_size(term.pid) == (24, 80)
        await term.resize(120, 40)
        assert _pty_size(term.pid) == (40, 120)
        with pytest.raises(RpcError) as err:
            await s._call("terminal-resize", stream=9999, cols=80, rows=24)
        assert err.value.property == "stream"
        with pytest.raises(RpcError) as err:
            await s._call("terminal-input", stream=term._stream._rid, data="not base64!")
        assert err.value.property == "data"
        pid = term.pid
        await screen.type("/quit\r")
        await asyncio.wait_for(screen.task, 10)      # the shell's end ends the stream
        assert term.closed and term.error is None and _gone(pid)
        await s.close()
    arun(go())


def test_a_read_logins_terminal_refuses_changes(arun, start_daemon):
    require_root()          # the bridge takes the login from SUDO_USER only when it runs as root
    d = start_daemon()

    async def go():
        admin = await _open(d.state_dir)
        await admin.add("/user", {"name": "viewer", "group": "read"})
        reader = await _open(d.state_dir, login="viewer")
        assert reader.facts["group"] == "read"
        screen = Screen(reader.terminal(100, 24))
        end = await screen.wait_for("[viewer@MikroTik] > ")
        end = await screen.send("/ip pool add name=t ranges=10.0.0.1-10.0.0.2\r", "failure: ", end)
        await screen.wait_for("> ", end)
        assert "not enough rights: user viewer (group read) may not change /ip pool" in screen.text[end - 10:]
        assert not [p for p in await admin.print("/ip/pool") if p["name"] == "t"]
        await screen.send("/system identity print\r", "name: MikroTik", end)    # reading is allowed
        await screen.close()
        await reader.close()
        await admin.close()
    arun(go())


def test_an_agent_pushed_as_a_packed_payload_opens_a_terminal_too(arun, tmp_path):
    """Over SSH the agent runs from the packed payload (no winbox_agent on the
    device's disk): the terminal's shell starts from that payload as well."""
    import sys

    from winbox_py.backend import bootstrap
    from winbox_py.backend.transport import ProcessTransport

    payload = bootstrap.build_payload()
    argv = [sys.executable, "-I", "-S", "-u", "-c", bootstrap.LOADER, str(len(payload.blob)), payload.sha256, "-",
            "--driver", "sim", "--state-dir", str(tmp_path / "state"), "--seed", "1", "serve"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}   # no PYTHONPATH to agent/

    async def go():
        transport = await ProcessTransport.run(argv, env=env)
        transport.writer.write(payload.blob)
        s = await Session.over(transport)
        screen = Screen(s.terminal(80, 24))
        end = await screen.wait_for("@MikroTik] > ")
        await screen.send("/system identity print\r", "name: MikroTik", end)
        pid = screen.term.pid
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            assert b"-m\0winbox_agent" not in fh.read()       # started from the payload, not from files
        await screen.close()
        assert _gone(pid)
        await s.close()
        await transport.wait_closed()
    arun(go())
