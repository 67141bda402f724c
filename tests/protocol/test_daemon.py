"""The real daemon in a temporary state directory, reached through bridges.

Two desktops see each other's changes live; a connection killed mid-stream
is reported to its desktop while the daemon goes on serving; the first
bridge starts a detached daemon with a private socket; one daemon per state
directory; a newer agent takes over an idle older daemon.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from tests.protocol.conftest import agent_command
from winbox_py.backend.local import daemon_pid, local_opener
from winbox_py.backend.session import RpcError, Session
from winbox_py.backend.transport import LocalTransport, ProcessTransport, agent_env


async def _next_op(stream, op, timeout=10.0):
    async def find():
        async for item in stream:
            if item.get("op") == op:
                return item
        raise AssertionError(f"stream ended before {op}")
    return await asyncio.wait_for(find(), timeout)


def test_two_desktops_see_each_others_changes_live(arun, start_daemon):
    d = start_daemon()

    async def go():
        a = await Session.open_local(str(d.state_dir), seed=1)
        b = await Session.open_local(str(d.state_dir), seed=1)
        assert a.facts["pid"] == b.facts["pid"]            # one daemon serves both
        assert a.facts["session"] != b.facts["session"]
        follow = a.follow("/interface/ethernet", proplist=["name", "mtu", "comment"], interval=None)
        await _next_op(follow, "ready")
        await b.set("/interface/ethernet", "ether2", {"mtu": "1492"})
        ev = await _next_op(follow, "set")
        assert ev["row"]["name"] == "ether2" and ev["row"]["mtu"] == "1492"
        await b.cli("/interface ethernet set ether4 comment=\"from b's terminal\"")
        ev = await _next_op(follow, "set")
        assert ev["row"]["comment"] == "from b's terminal"
        await follow.cancel()
        await a.close()
        await b.close()
    arun(go())


def test_a_killed_connection_is_reported_and_the_daemon_serves_the_next(arun, start_daemon):
    d = start_daemon("--test-rows", "10")

    async def go():
        opener = local_opener(str(d.state_dir), seed=1)
        transports = []

        async def reopen():
            transports.append(await opener())
            return transports[-1]

        s = await Session.over(await reopen(), reopen=reopen)
        states = []
        s.on_state(lambda state, reason: states.append((state, reason)))
        follow = s.follow("/interface/ethernet", proplist=["name", "mtu"], interval=None)
        monitor = s.command("/system/test-rows", "monitor", interval=0.1)
        await _next_op(follow, "ready")
        await asyncio.wait_for(monitor.__anext__(), 10)
        transports[0].kill()                    # the bridge process dies mid-stream
        lost = await _next_op(follow, "lost")
        assert lost["reason"]
        for _ in range(100):
            if states:
                break
            await asyncio.sleep(0.02)
        assert states[0][0] == "lost"
        try:
            await s.get("/system/identity")
        except RpcError as exc:
            assert exc.problem == "disconnected"
        else:
            raise AssertionError("a request on a lost connection succeeded")
        assert d.alive
        # another desktop is served, and the dead connection's streams are gone
        other = await Session.open_local(str(d.state_dir), seed=1)
        for _ in range(100):
            stats = await other.stats()
            if len(stats["connections"]) == 1 and not stats["monitors"]:
                break
            await asyncio.sleep(0.05)
        assert len(stats["connections"]) == 1 and stats["monitors"] == [] and stats["feeds"] == []
        # reconnecting resubscribes the live streams
        await s.reconnect()
        assert states[-1][0] == "connected"
        assert (await _next_op(follow, "reset")) == {"op": "reset"}
        rows = await _next_op(follow, "rows")
        assert len(rows["rows"]) == 5
        await _next_op(follow, "ready")
        await other.set("/interface/ethernet", "ether1", {"mtu": "1400"})
        assert (await _next_op(follow, "set"))["row"]["mtu"] == "1400"
        sample = await asyncio.wait_for(monitor.__anext__(), 10)
        while "sample" not in sample:
            sample = await asyncio.wait_for(monitor.__anext__(), 10)
        await follow.cancel()
        await monitor.cancel()
        await other.close()
        await s.close()
    arun(go())


def test_the_first_bridge_starts_a_detached_daemon_with_a_private_socket(arun, state_dir):
    async def go():
        s = await Session.open_local(str(state_dir), seed=1)
        await s.set("/system/identity", [], {"name": "kept"})
        pid = s.facts["pid"]
        await s.close()
        return pid

    pid = arun(go())
    assert daemon_pid(str(state_dir)) == pid
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ppid, sid = int(fields[1]), int(fields[3])
    assert ppid != os.getpid() and sid != os.getsid(0)      # detached: not ours, its own session
    with open(f"/proc/{pid}/comm") as fh:
        assert fh.read().strip() == "winbox-agentd"
    sock = state_dir / "agent.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    for fd in os.listdir(f"/proc/{pid}/fd"):     # it holds none of the bridge's pipes
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        assert not target.startswith("pipe:") or int(fd) > 2, target

    async def again():
        s = await Session.open_local(str(state_dir), seed=1)   # the bridge that started it is gone
        assert s.facts["pid"] == pid and s.facts["identity"] == "kept"
        await s.close()
    arun(again())


def test_one_daemon_per_state_directory(start_daemon):
    d = start_daemon()
    second = subprocess.run(agent_command("--state-dir", str(d.state_dir), "daemon"), env=agent_env(),
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0 and "already running" in second.stderr
    assert d.alive


def test_an_idle_daemon_exits_after_idle_exit(arun, start_daemon):
    d = start_daemon("--idle-exit", "1")

    async def go():
        s = await Session.open_local(str(d.state_dir), seed=1)
        await asyncio.sleep(1.5)             # a connection keeps it alive
        assert d.alive
        await s.close()
    arun(go())
    d.process.wait(10)
    assert d.process.returncode == 0
    assert not (d.state_dir / "agent.sock").exists()


def test_a_newer_agent_takes_over_an_idle_older_daemon(arun, state_dir):
    argv = ["--state-dir", str(state_dir), "--seed", "1", "bridge"]

    async def session(version):
        transport = await LocalTransport.start(argv, env={"WINBOX_AGENT_HASH": version})
        return await Session.over(transport)

    async def go():
        old = await session("a" * 64)
        old_pid = old.facts["pid"]
        assert old.facts["agent_hash"] == "a" * 64
        busy = await session("b" * 64)          # the old daemon is in use: it goes on serving
        assert busy.facts["pid"] == old_pid and busy.facts["agent_hash"] == "a" * 64
        await busy.close()
        await old.close()
        new = await session("b" * 64)           # idle now: it hands over
        assert new.facts["pid"] != old_pid and new.facts["agent_hash"] == "b" * 64
        await new.close()
        return old_pid

    old_pid = arun(go())
    for _ in range(100):
        if not os.path.exists(f"/proc/{old_pid}"):
            break
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{old_pid}")


def test_a_daemon_that_cannot_start_is_explained_to_the_desktop(arun, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    async def go():
        try:
            await Session.open_local(str(blocker), seed=1)
        except RpcError as exc:
            return exc
        raise AssertionError("a session opened on a file as state directory")
    exc = arun(go())
    assert str(blocker) in exc.message


def test_motd_junk_before_the_marker_is_skipped(arun, tmp_path):
    # a banner, 200 kB of noise, and near-misses of the marker
    script = ("printf 'Welcome to the router!\\nLast login: yesterday\\n'; head -c 200000 /dev/zero | tr '\\0' x; "
              "printf 'WINBOXPY/1 not a marker\\n\\0WINBOXP\\n'; exec \"$@\"")

    async def go():
        cmd = ["sh", "-c", script, "sh", *agent_command("--state-dir", str(tmp_path / "s"), "serve")]
        transport = await ProcessTransport.run(cmd, agent_env())
        s = await Session.over(transport)
        assert s.facts["identity"] == "MikroTik"
        assert len(await s.print("/interface/ethernet")) == 5
        await s.close()
    arun(go())


def test_an_agent_that_prints_no_marker_is_reported_with_what_it_said(arun):
    async def go():
        transport = await ProcessTransport.run(["sh", "-c", "echo 'python3: not found' >&2; echo motd; exit 127"])
        try:
            await Session.over(transport)
        except RpcError as exc:
            return exc
        raise AssertionError("a session over a program that is not the agent")
    exc = arun(go())
    assert exc.problem == "protocol" and "marker" in exc.message and "not found" in exc.message


def test_serve_keeps_stray_prints_off_the_frames(tmp_path):
    code = ("import sys, runpy; sys.argv = ['winbox_agent', '--state-dir', %r, 'serve'];"
            "print('stray'); runpy.run_module('winbox_agent', run_name='__main__')" % str(tmp_path / "s"))
    out = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, env=agent_env(), timeout=60)
    start = out.stdout.index(b"\0WINBOXPY/1 ")
    assert out.stdout[:start] == b"stray\n"          # before serve: shown as junk, skipped by the desktop
    header, rest = out.stdout[start:].split(b"\n", 1)[1].split(b"\n", 1)
    assert rest[:int(header)].startswith(b'{"op":"init"')


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_the_agent_serves_on_the_oldest_and_a_newer_python(arun, state_dir, version):
    python = _find_python(version)
    if python is None:
        pytest.skip(f"no working python{version} here (looked on PATH, /usr/bin, /usr/local/bin, ~/.pyenv)")

    async def go():
        for mode in ("serve", "bridge"):
            t = await LocalTransport.start(["--state-dir", str(state_dir), "--seed", "1", mode, "--test-rows", "3"],
                                           python=python)
            s = await Session.over(t)
            assert s.facts["python"].startswith(version + ".")
            follow = s.follow("/interface/ethernet", interval=None)
            await _next_op(follow, "ready")
            await s.set("/interface/ethernet", "ether1", {"comment": mode})
            assert (await _next_op(follow, "set"))["row"]["comment"] == mode
            monitor = s.command("/system/test-rows", "monitor", interval=0.05)
            assert "sample" in await asyncio.wait_for(monitor.__anext__(), 10)
            await monitor.cancel()
            await follow.cancel()
            await s.close()
    arun(go())


def _find_python(version: str) -> str | None:
    """A python of that version that runs (pyenv shims on PATH may not)."""
    import glob
    candidates = [shutil.which(f"python{version}"), f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for python in candidates:
        if not python or not os.path.exists(python):
            continue
        probe = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=30)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return python
    return None


def test_daemon_detach_returns_once_listening_and_leaves_it_running(state_dir):
    out = subprocess.run(agent_command("--state-dir", str(state_dir), "daemon", "--detach"), env=agent_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = daemon_pid(str(state_dir))
    assert pid is not None and (state_dir / "agent.sock").exists()
    with open(f"/proc/{pid}/stat") as fh:
        assert int(fh.read().rsplit(")", 1)[1].split()[1]) != os.getpid()
    again = subprocess.run(agent_command("--state-dir", str(state_dir), "daemon", "--detach"), env=agent_env(),
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "already running" in again.stderr
    assert daemon_pid(str(state_dir)) == pid
