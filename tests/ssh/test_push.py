"""Pushing the agent over a real sshd: probe, upload, device cache, loader errors.

The agent is started with its ``version`` or ``cli`` subcommand here, so these
tests exercise the push on its own; test_session.py runs the protocol on top.
"""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import replace

import pytest

from winbox_py.backend import bootstrap
from winbox_py.backend.connect import open_agent
from winbox_py.backend.ssh import ConnectError

from tests.ssh.sshd import Client, require_junk_user

pytestmark = pytest.mark.sshd


def accept(host: str, fingerprint: str) -> bool:
    return True


async def _run_agent(client: Client, **overrides) -> tuple[bootstrap.Started, bytes]:
    """Start the agent with a one-shot subcommand; its whole stdout."""
    opened = await open_agent(client.target(**overrides), accept)
    out = await asyncio.wait_for(opened.transport.reader.read(), 30)
    await asyncio.wait_for(opened.transport.wait_closed(), 10)
    return opened.started, out


def test_cold_connect_uploads_and_caches_then_warm_connect_sends_only_the_hash(client: Client):
    async def main():
        first, out = await _run_agent(client, agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0"
        assert first.uploaded and first.probe is not None
        assert first.probe.facts["user"] == client.server.plain.name
        second, out = await _run_agent(client, agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0"
        assert not second.uploaded, "the cached agent was uploaded again"
        assert second.probe is None, "the remembered python was probed again"
        return first

    first = asyncio.run(main())
    payload = bootstrap.build_payload()
    cache = client.server.plain.home / "agent-cache"
    entry = cache / payload.sha256
    st_dir, st_file = cache.stat(), entry.stat()
    assert stat.S_IMODE(st_dir.st_mode) == 0o700 and st_dir.st_uid == client.server.plain.uid
    assert stat.S_IMODE(st_file.st_mode) == 0o600 and st_file.st_uid == client.server.plain.uid
    assert entry.read_bytes() == payload.blob
    assert first.python.startswith("/")


def test_cache_lost_on_the_device_is_filled_again_on_request(client: Client):
    async def main():
        await _run_agent(client, agent_command="version")
        for f in (client.server.plain.home / "agent-cache").iterdir():
            f.unlink()  # e.g. the device rebooted and its tmpfs was emptied
        started, out = await _run_agent(client, agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0"
        assert started.uploaded, "the loader should have asked for the payload"

    asyncio.run(main())
    assert (client.server.plain.home / "agent-cache" / bootstrap.build_payload().sha256).exists()


def test_cache_off_writes_nothing_on_the_device(client: Client):
    async def main():
        for _ in range(2):
            started, out = await _run_agent(client, agent_command="version", agent_cache="off")
            assert out.decode().strip() == "winbox-agent 0.1.0"
            assert started.uploaded

    asyncio.run(main())
    assert not (client.server.plain.home / "agent-cache").exists()


def test_agent_runs_router_commands_through_the_push(client: Client):
    async def with_script():
        opened = await open_agent(client.target(agent_command="cli"), accept)
        t = opened.transport
        t.writer.write(b"/system identity set name=pushed\n/system identity print\n")
        t.writer.write_eof()  # end of the script
        out = await asyncio.wait_for(t.reader.read(), 30)
        await asyncio.wait_for(t.wait_closed(), 10)
        return out.decode()

    text = asyncio.run(with_script())
    assert "name: pushed" in text


def test_junk_on_stdout_before_the_agent_is_skipped(client: Client):
    junk = require_junk_user(client.server)

    async def main():
        started, out = await _run_agent(client, user=None, host=f"{junk.name}@{client.server.address}",
                                        state_dir=str(junk.home / client.state_name),
                                        agent_cache=str(junk.home / "agent-cache"), agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0"
        assert started.probe is not None and started.probe.facts["user"] == junk.name
        started, out = await _run_agent(client, user=None, host=f"{junk.name}@{client.server.address}",
                                        state_dir=str(junk.home / client.state_name),
                                        agent_cache=str(junk.home / "agent-cache"), agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0" and not started.uploaded

    asyncio.run(main())


def _no_python_bin(client: Client) -> str:
    """A PATH with the shell tools the probe uses but no python."""
    bindir = client.server.root / "bin-without-python"
    if not bindir.exists():
        bindir.mkdir()
        for tool in ("sh", "uname", "id", "readlink", "cat"):
            real = next(p for p in (f"/usr/bin/{tool}", f"/bin/{tool}") if os.path.exists(p))
            os.symlink(real, bindir / tool)
    return str(bindir)


def test_no_python_on_the_device_is_reported(client: Client):
    prefix = f"PATH={_no_python_bin(client)}; export PATH; "

    async def main():
        with pytest.raises(ConnectError) as info:
            await open_agent(client.target(command_prefix=prefix, agent_command="version"), accept)
        return info.value

    error = asyncio.run(main())
    assert error.kind == "no-python"
    assert "no python3 found" in error.message and "3.9" in error.message


def test_a_remembered_python_that_vanished_is_probed_again(client: Client):
    async def main():
        await _run_agent(client, agent_command="version")
        key = next(iter(client.memory._load()))
        entry = client.memory.get(key)
        client.memory.put(key, dict(entry, python="/usr/bin/python3-gone"))
        started, out = await _run_agent(client, agent_command="version")
        assert out.decode().strip() == "winbox-agent 0.1.0"
        assert started.probe is not None and started.python != "/usr/bin/python3-gone"
        assert client.memory.get(key)["python"] == started.python

    asyncio.run(main())


def test_a_corrupted_payload_is_refused_by_the_loader(client: Client):
    good = bootstrap.build_payload()
    bad = replace(good, blob=good.blob[:-8] + b"garbage!")

    async def main():
        target = client.target(agent_command="version", agent_cache="off")
        from winbox_py.backend import ssh

        endpoint = target.endpoint()
        loop = asyncio.get_running_loop()
        conn = await loop.run_in_executor(None, lambda: ssh.open_transport(
            endpoint, accept, known_hosts=target.known_hosts, timeout=20))
        try:
            with pytest.raises(ConnectError) as info:
                await bootstrap.start_agent(conn, endpoint, bootstrap.AgentOptions(
                    agent_args=target.agent_args(), cache="off"), client.memory, payload=bad)
        finally:
            conn.close()
        return info.value

    error = asyncio.run(main())
    assert error.kind == "agent-failed"
    assert "hash-mismatch" in error.message and good.sha256 in error.message
