"""Logins, outdated forms and private files, through the real daemon and
bridges (one process per connection, as over SSH).

- The bridge tells the daemon who logged in (``SUDO_USER`` when it runs
  through sudo); a login that is a ``/user`` of group ``read`` can print,
  get, export and monitor over the protocol, and every change is refused.
- Two desktops editing the same item: the later write of a form loaded
  before the first write is refused as a conflict naming the property, both
  values and who changed it; nothing is overwritten.
- After a session with safe mode, every file of the state directory and the
  socket are readable by their owner only, whatever the umask.
"""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from tests.reliability.conftest import bridge_opener
from winbox_py.backend.session import RpcError, Session


async def _open(state_dir, login: str = "") -> Session:
    # an empty SUDO_USER: the bridge's own account (root here), not a sudo login
    reopen = bridge_opener(state_dir, env={"SUDO_USER": login})
    return await Session.over(await reopen(), reopen=reopen)


def test_a_read_user_prints_and_monitors_over_the_protocol_and_every_change_is_refused(arun, start_daemon):
    d = start_daemon()

    async def go():
        admin = await _open(d.state_dir)
        assert admin.facts["group"] == "full"
        await admin.add("/user", {"name": "viewer", "group": "read"})
        await admin.add("/ppp/secret", {"name": "u1", "password": "Sekr3t-pw"})
        viewer = await _open(d.state_dir, login="viewer")
        assert viewer.facts["login"] == "viewer" and viewer.facts["group"] == "read"
        assert "write" not in viewer.facts["policies"]
        # reading works
        assert [r["name"] for r in await viewer.print("/interface/ethernet")][:2] == ["ether1", "ether2"]
        assert (await viewer.get("/interface/ethernet", "ether1"))["name"] == "ether1"
        exported = await viewer.export()
        assert "add name=viewer group=read" in exported and "Sekr3t-pw" not in exported
        sample = await viewer.command("/interface", "monitor-traffic", item="ether1",
                                      args={"once": ""}).collect()
        assert sample and "rx-bits-per-second" in sample[0]
        secret = (await viewer.print("/ppp/secret"))[0]
        assert "password" not in secret
        # every change is refused, whatever way it is asked for
        attempts = [
            viewer.set("/interface/ethernet", "ether1", {"mtu": "1400"}),
            viewer.add("/ip/pool", {"name": "p", "ranges": "10.0.0.1-10.0.0.9"}),
            viewer.remove("/ppp/secret", ["u1"]),
            viewer.disable("/interface/ethernet", ["ether2"]),
            viewer.comment("/interface/ethernet", ["ether2"], "x"),
            viewer.cli("/system identity set name=hacked"),
            viewer.import_script("/ip pool add name=q ranges=10.0.1.1-10.0.1.9\n"),
            viewer.undo(),
            viewer.safe_mode(True),
            viewer.print("/ppp/secret", sensitive=True),
            viewer.export(sensitive=True),
        ]
        for attempt in attempts:
            with pytest.raises(RpcError) as err:
                await attempt
            assert err.value.problem == "denied" and "not enough rights" in err.value.message, err.value
            assert "viewer" in err.value.message
        assert (await admin.get("/system/identity"))["name"] != "hacked"
        assert await admin.print("/ip/pool") == []
        users = {r["name"]: r for r in await admin.print("/user")}
        assert users["viewer"]["last-logged-in"] not in ("", None)
        # a disabled user cannot connect at all
        await admin.disable("/user", ["viewer"])
        with pytest.raises(RpcError) as err:
            await _open(d.state_dir, login="viewer")
        assert err.value.problem == "denied" and "user viewer is disabled" in err.value.message
        await viewer.close()
        await admin.close()
    arun(go())


def test_the_later_write_of_an_outdated_form_is_refused_as_a_conflict(arun, start_daemon):
    d = start_daemon()

    async def go():
        a = await _open(d.state_dir)
        b = await _open(d.state_dir)
        # both desktops open ether2's dialog
        form_a = await a.get("/interface/ethernet", "ether2")
        form_b = await b.get("/interface/ethernet", "ether2")
        await a.set("/interface/ethernet", "ether2", {"mtu": "1400"}, expect={"mtu": form_a["mtu"]})
        with pytest.raises(RpcError) as err:
            await b.set("/interface/ethernet", "ether2", {"mtu": "1300"}, expect={"mtu": form_b["mtu"]})
        e = err.value
        assert e.problem == "conflict" and e.property == "mtu"
        assert "1400" in e.message and "1500" in e.message and "reload" not in e.message or "form" in e.message
        assert (await b.get("/interface/ethernet", "ether2"))["mtu"] == "1400"      # nothing overwritten
        # a property nobody else touched goes through with the same kind of form
        await b.set("/interface/ethernet", "ether2", {"comment": "b's"}, expect={"comment": form_b["comment"]})
        # unset is checked the same way
        with pytest.raises(RpcError) as err:
            await b.unset("/interface/ethernet", "ether2", ["comment"], expect={"comment": ""})
        assert err.value.problem == "conflict"
        await a.close()
        await b.close()
    arun(go())


def _mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_after_a_safe_mode_session_every_state_file_and_the_socket_are_private(arun, tmp_path, start_daemon):
    old = os.umask(0o022)
    try:
        d = start_daemon()
    finally:
        os.umask(old)

    async def go():
        s = await _open(d.state_dir)
        await s.add("/ppp/secret", {"name": "u1", "password": "Sekr3t-pw"})
        await s.safe_mode(True)
        await s.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        assert (d.state_dir / "safemode.journal").exists()
        found = {p.name: _mode(p) for p in [d.state_dir, *d.state_dir.rglob("*")]}
        await s.safe_mode(False)
        await s.close()
        return found
    found = arun(go())
    assert found["agent.sock"] & 0o077 == 0 and stat.S_ISSOCK((d.state_dir / "agent.sock").lstat().st_mode)
    assert {"config.json", "safemode.journal", "daemon.pid"} <= set(found)
    open_to_others = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert open_to_others == {}
    assert _mode(d.state_dir) == 0o700


def test_a_refused_login_gets_a_clear_message_and_the_daemon_serves_the_next(arun, start_daemon):
    d = start_daemon()

    async def go():
        admin = await _open(d.state_dir)
        await admin.add("/user", {"name": "remote", "group": "write", "address": "192.0.2.0/24"})
        reopen = bridge_opener(d.state_dir, env={"SUDO_USER": "remote",
                                                 "SSH_CONNECTION": "198.51.100.7 50000 10.0.0.1 22"})
        with pytest.raises(RpcError) as err:
            await Session.over(await reopen())
        assert "may not log in from 198.51.100.7" in err.value.message
        reopen = bridge_opener(d.state_dir, env={"SUDO_USER": "remote",
                                                 "SSH_CONNECTION": "192.0.2.7 50000 10.0.0.1 22"})
        ok = await Session.over(await reopen())
        assert ok.facts["group"] == "write"
        await ok.set("/system/identity", [], {"name": "by-remote"})
        with pytest.raises(RpcError) as err:
            await ok.add("/user", {"name": "x", "group": "full"})
        assert "policy" in err.value.message
        await asyncio.gather(ok.close(), admin.close())
    arun(go())
