"""The protocol over SSH: connect(), describe/print/set, junk before the
marker, a connection killed mid-stream, reconnecting to the same daemon."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from winbox_py.backend.connect import connect
from winbox_py.backend.session import Session

from tests.ssh.sshd import Client, SSHUser, require_junk_user

pytestmark = pytest.mark.sshd


async def accept(host: str, fingerprint: str) -> bool:
    return True


def _processes(uid: int) -> dict[int, tuple[str, int, str]]:
    """pid -> (comm, parent pid, cmdline) of the processes of ``uid``."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if d.stat().st_uid != uid:
                continue
            comm = (d / "comm").read_text().strip()
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] in ("Z", "X"):  # exited, not reaped (pid 1 here may not reap)
                continue
            ppid = int(fields[1])
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        found[int(d.name)] = (comm, ppid, cmdline)
    return found


def _sshd_sessions(user: SSHUser) -> list[int]:
    return [pid for pid, (comm, _, cmd) in _processes(user.uid).items() if comm == "sshd" or cmd.startswith("sshd")]


def _agents(user: SSHUser) -> dict[int, tuple[str, int, str]]:
    """The connections' agents (``winbox-agent``) and the daemon (``winbox-agentd``)."""
    return {pid: p for pid, p in _processes(user.uid).items() if p[0] in ("winbox-agent", "winbox-agentd")}


def _daemons(user: SSHUser) -> set[int]:
    return {pid for pid, p in _agents(user).items() if p[0] == "winbox-agentd"}


def test_connect_describe_print_set_and_a_second_desktop_sees_it(client: Client):
    async def main():
        first = await connect(client.target(), accept)
        second = await connect(client.target(), accept)
        try:
            assert first.facts["driver"] == "sim"
            assert first.facts["agent_hash"] and first.facts["agent_hash"] == second.facts["agent_hash"]
            assert "/system/identity" in first.schema and "/interface/pppoe-client" in first.schema
            rows = await first.print("/system/identity")
            assert rows[0]["name"] == "MikroTik"
            follow = second.follow("/system/identity")
            events = []
            async for ev in follow:
                events.append(ev)
                if ev["op"] == "ready":
                    break
            await first.set("/system/identity", [], {"name": "over-ssh"})
            async for ev in follow:
                if ev["op"] == "set":
                    assert ev["row"]["name"] == "over-ssh"
                    break
            await follow.cancel()
            assert (await second.print("/system/identity"))[0]["name"] == "over-ssh"
            with pytest.raises(Exception) as info:
                await first.add("/ip/address", {"address": "10.0.0.300/24", "interface": "ether1"})
            assert "address" in str(info.value)
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())
    assert _daemons(client.server.plain), "the daemon did not outlive the connections"


def test_the_agent_process_is_named_winbox_agent_and_runs_as_the_user(client: Client):
    async def main():
        session = await connect(client.target(), accept)
        try:
            names = sorted(comm for comm, _, _ in _agents(client.server.plain).values())
            assert names == ["winbox-agent", "winbox-agentd"], names  # the bridge and the daemon
            assert session.facts["user"] == client.server.plain.name
        finally:
            await session.close()

    asyncio.run(main())


def test_motd_junk_on_stdout_before_the_marker_is_discarded(client: Client):
    junk = require_junk_user(client.server)

    async def main():
        session = await connect(client.target(junk, host=f"{junk.name}@{client.server.address}",
                                              state_dir=str(junk.home / client.state_name),
                                              agent_cache=str(junk.home / "agent-cache")), accept)
        try:
            rows = await session.print("/interface")
            assert any(r["name"] == "ether1" for r in rows)
        finally:
            await session.close()

    asyncio.run(main())


def test_connection_killed_mid_stream_is_reported_and_the_daemon_lives_on(client: Client):
    user = client.server.plain

    async def main():
        session = await connect(client.target(), accept)
        states = []
        session.on_state(lambda state, reason: states.append((state, reason)))
        try:
            await session.set("/system/identity", [], {"name": "before-the-cut"})
            stream = session.command("/interface", "monitor-traffic", item="ether1",
                                     interval=0.1)
            first = await asyncio.wait_for(stream.__anext__(), 20)
            assert first
            daemons_before = _daemons(user)
            # the network dies: the SSH server's process for this connection is killed
            for pid in _sshd_sessions(user):
                os.kill(pid, 9)
            lost = None
            async for ev in _with_timeout(stream, 30):
                if isinstance(ev, dict) and ev.get("op") == "lost":
                    lost = ev
                    break
            assert lost is not None, "the stream did not report the lost connection"
            for _ in range(100):
                if any(s == "lost" for s, _ in states):
                    break
                await asyncio.sleep(0.05)
            assert any(s == "lost" for s, _ in states), states
            assert not session.connected
            # the daemon outlived the connection and serves the next one
            assert daemons_before and daemons_before == _daemons(user)
            await session.reconnect()
            assert session.connected
            assert (await session.print("/system/identity"))[0]["name"] == "before-the-cut"
            await stream.cancel()
        finally:
            await session.close()

    asyncio.run(main())


async def _with_timeout(stream, seconds: float):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return
        try:
            yield await asyncio.wait_for(stream.__anext__(), left)
        except (StopAsyncIteration, asyncio.TimeoutError):
            return


def test_session_type(client: Client):
    async def main():
        session = await connect(client.target(), accept)
        try:
            assert isinstance(session, Session)
            assert session.can_reconnect
        finally:
            await session.close()

    asyncio.run(main())
