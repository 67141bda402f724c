"""Transcripts through the real agent, in-process (``serve`` on a socket pair).

Each test speaks the protocol by hand (tests/protocol/wire.py) or through
the Session, and checks what a desktop would notice: what comes back, what
is refused and why, and that one bad request never spoils the others.
"""

from __future__ import annotations

import asyncio

from tests.protocol.conftest import start_agent
from tests.protocol.wire import Wire


def test_agent_starts_with_marker_and_init_carrying_the_device_facts(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        init = await wire.start()
        assert wire.marker.startswith("1 ") and len(wire.marker) > 4  # version and nonce
        assert init["op"] == "init" and init["protocol"] == 1
        facts = init["facts"]
        for key in ("hostname", "os", "python", "driver", "identity", "user", "uid", "agent_hash", "protocol"):
            assert key in facts, key
        assert facts["driver"] == "sim" and facts["identity"] == "MikroTik"
        assert len(init["agent_hash"]) == 64
        assert {"describe", "print", "set", "command", "cli"} <= set(init["capabilities"])
        assert init["limits"]["window"] == 2 * 1024 * 1024
        await wire.close()
        assert await agent.stop() == "the desktop closed the connection"
    arun(go())


def test_requests_before_init_are_refused_then_served_after_it(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        await wire.start(send_init=False)
        trap, done = await wire.request(id=1, op="get", path="/system/identity")
        assert trap["op"] == "trap" and trap["problem"] == "protocol" and "init" in trap["message"]
        assert done == {"op": "done", "id": 1}
        await wire.send({"op": "init", "protocol": 1})
        (done,) = await wire.request(id=2, op="get", path="/system/identity")
        assert done["result"]["name"] == "MikroTik"
        await wire.close()
        await agent.stop()
    arun(go())


def test_a_desktop_of_another_protocol_version_is_told_and_disconnected(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        await wire.start(send_init=False)
        await wire.send({"op": "init", "protocol": 99})
        fatal = await wire.recv()
        assert fatal["op"] == "fatal" and "99" in fatal["message"] and "1" in fatal["message"]
        assert await wire.recv() is None
        assert "protocol version" in await agent.stop()
    arun(go())


def test_describe_lists_every_menu_with_props_and_hides_test_rows(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        await wire.start()
        (done,) = await wire.request(id=1, op="describe")
        menus = done["result"]["menus"]
        eth = menus["/interface/ethernet"]
        assert eth["interface_type"] == "ether"
        mtu = next(p for p in eth["props"] if p["name"] == "mtu")
        assert mtu["type"]["kind"] == "int" and mtu["default"] == "1500"
        assert "/system/test-rows" not in menus
        (one,) = await wire.request(id=2, op="describe", path="/system/identity")
        assert list(one["result"]["menus"]) == ["/system/identity"]
        await wire.close()
        await agent.stop()

        agent = await start_agent(tmp_path / "b", test_rows=5)
        wire = Wire(agent.transport)
        await wire.start()
        (done,) = await wire.request(id=1, op="describe")
        assert "/system/test-rows" in done["result"]["menus"]
        await wire.close()
        await agent.stop()
    arun(go())


def test_print_sends_columns_once_then_positional_rows(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path, batch_rows=2)
        wire = Wire(agent.transport)
        await wire.start()
        msgs = await wire.request(id=7, op="print", path="/interface/ethernet", proplist=["name", "mtu"])
        rows = [m for m in msgs if m["op"] == "rows"]
        assert rows[0]["columns"] == [".id", "name", "mtu", ".flags", ".dynamic"]
        assert all("columns" not in m for m in rows[1:])
        assert [len(m["rows"]) for m in rows] == [2, 2, 1]
        assert rows[0]["rows"][0][1:] == ["ether1", "1500", "R", ""]
        assert msgs[-1] == {"op": "done", "id": 7, "result": {"count": 5}}
        filtered = await wire.request(id=8, op="print", path="/interface/ethernet", proplist=["name"],
                                      where={"name": ["ether2", "ether4"]})
        assert [r[1] for r in filtered[0]["rows"]] == ["ether2", "ether4"]
        trap, done = await wire.request(id=9, op="print", path="/interface/ethernet", proplist=["nmae"])
        assert trap["problem"] == "argument" and "nmae" in trap["message"] and trap["property"] == "nmae"
        await wire.close()
        await agent.stop()
    arun(go())


def test_changes_and_their_errors_name_the_property(arun, tmp_path):
    from winbox_py.backend.session import RpcError, Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        await s.set("/interface/ethernet", "ether1", {"mtu": "1400", "comment": "uplink"})
        row = await s.get("/interface/ethernet", "ether1")
        assert row["mtu"] == "1400" and row["comment"] == "uplink"
        for call, problem, prop, words in [
            (s.set("/interface/ethernet", "ether1", {"mtu": "70000"}), "argument", "mtu", ["70000", "0..65535"]),
            (s.set("/interface/ethernet", "ether9", {"mtu": "1400"}), "missing", None, ["ether9"]),
            (s.set("/interface/ethernet", "ether1", {"colour": "red"}), "argument", "colour", ["colour"]),
            (s.remove("/interface/ethernet", "ether1"), "denied", None, ["removed"]),
            (s.get("/no/such/menu", "x"), "missing", None, ["/no/such/menu"]),
        ]:
            try:
                await call
            except RpcError as exc:
                assert exc.problem == problem, exc
                assert exc.property == prop, exc
                for w in words:
                    assert w in exc.message, exc
            else:
                raise AssertionError(f"no error for {words}")
        # nothing already saved was lost
        assert (await s.get("/interface/ethernet", "ether1"))["mtu"] == "1400"
        await s.unset("/interface/ethernet", "ether1", ["comment"])
        await s.disable("/interface/ethernet", ["ether2", "ether3"])
        await s.comment("/interface/ethernet", "ether2", "spare")
        rows = {r["name"]: r for r in await s.print("/interface/ethernet")}
        assert rows["ether1"]["comment"] == "" and rows["ether2"]["comment"] == "spare"
        assert rows["ether2"]["disabled"] == "yes" and "X" in rows["ether2"][".flags"]
        await s.enable("/interface/ethernet", "ether2")
        assert (await s.get("/interface/ethernet", "ether2"))["disabled"] == "no"
        await s.set("/system/identity", [], {"name": "edge"})
        assert (await s.get("/system/identity"))["name"] == "edge"
        await s.close()
        await agent.stop()
    arun(go())


def test_add_move_remove_and_copy_through_the_session(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        menus = [p for p, m in s.schema.items() if m["ordered"] and m["can_add"] and not m["readonly"]]
        pool = "/ip/pool" if "/ip/pool" in s.schema else None
        if pool:
            a = await s.add(pool, {"name": "a", "ranges": "10.0.0.2-10.0.0.9"})
            assert a.startswith("*")
            b = await s.add(pool, {"name": "b", "ranges": "10.0.1.2-10.0.1.9"})
            await s.remove(pool, [a, "b"])
            assert [r["name"] for r in await s.print(pool)] == []
        ordered = next((p for p in menus if p.startswith("/ip/firewall")), None)
        if ordered:
            first = await s.add(ordered, {"chain": "input", "action": "accept"})
            second = await s.add(ordered, {"chain": "forward", "action": "drop"})
            await s.move(ordered, second, first)
            assert [r[".id"] for r in await s.print(ordered)] == [second, first]
        assert pool or ordered, "no menu to add to (the menus under test are missing)"
        await s.close()
        await agent.stop()
    arun(go())


def test_a_bad_message_fails_only_itself(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        await wire.start()
        trap, done = await wire.request(id=1, op="set", path="/interface/ethernet", ids=["ether1"],
                                        values={"mtu": 1400})
        assert trap["problem"] == "protocol" and trap["property"] == "values.mtu"
        trap, _ = await wire.request(id=2, op="print", path=5)
        assert trap["property"] == "path" and "string" in trap["message"]
        trap, _ = await wire.request(id=3, op="frobnicate")
        assert trap["problem"] == "missing" and "frobnicate" in trap["message"]
        # not JSON at all: answered with an unattributed trap, connection still up
        await wire.send_raw(b"9\n{not json")
        msg = await wire.recv()
        assert msg["op"] == "trap" and msg["id"] is None and msg["problem"] == "protocol"
        await wire.send({"op": "get", "path": "/system/identity"})   # no id
        msg = await wire.recv()
        assert msg["id"] is None and "id" in msg["message"]
        (done,) = await wire.request(id=4, op="get", path="/system/identity")
        assert done["result"]["name"] == "MikroTik"
        await wire.close()
        await agent.stop()
    arun(go())


def test_a_framing_error_closes_the_connection(arun, tmp_path):
    async def go():
        for junk in (b"hello\n", b"12x\n{}", b"99999999999\n", b"17000000\n"):
            agent = await start_agent(tmp_path / str(len(junk)))
            wire = Wire(agent.transport)
            await wire.start()
            await wire.send_raw(junk)
            fatal = await wire.recv()
            assert fatal["op"] == "fatal" and fatal["problem"] == "protocol", junk
            assert await wire.recv() is None
            reason = await agent.stop()
            assert reason.startswith("framing error"), (junk, reason)
    arun(go())


def test_an_id_in_use_by_a_running_stream_is_refused(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path)
        wire = Wire(agent.transport)
        await wire.start()
        await wire.send({"id": 5, "op": "print", "path": "/interface/ethernet", "follow": True})
        trap, done = await wire.request(id=5, op="get", path="/system/identity")
        assert trap["problem"] == "protocol" and "in use" in trap["message"]
        await wire.send({"op": "cancel", "id": 5})
        msgs = await wire.until_done(5)
        assert msgs[-2]["op"] == "trap" and msgs[-2]["problem"] == "interrupted"
        await wire.close()
        await agent.stop()
    arun(go())


def test_export_import_and_cli(arun, tmp_path):
    from winbox_py.backend.session import RpcError, Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        await s.import_script("/system identity set name=imported\n/interface ethernet set ether2 mtu=1400\n")
        assert (await s.get("/system/identity"))["name"] == "imported"
        text = await s.export()
        assert "name=imported" in text and "mtu=1400" in text
        assert "/interface/ethernet" not in (await s.export("/system"))
        try:
            await s.import_script("/system identity set name=x\n/interface ethernet set ether2 mtu=abc\n")
        except RpcError as exc:
            assert "line 2" in exc.message and "abc" in exc.message and exc.problem == "argument"
        else:
            raise AssertionError("a bad script was accepted")
        assert (await s.get("/system/identity"))["name"] == "x"   # lines before the bad one stay
        assert "name: x" in await s.cli("/system identity print")
        await s.cli("/interface ethernet")
        assert s.cli_path == "/interface/ethernet"
        out = await s.cli("print")
        assert "ether1" in out and "ether5" in out
        try:
            await s.cli("set ether1 mtu=nope")
        except RpcError as exc:
            assert "nope" in exc.message
        else:
            raise AssertionError("a bad cli line was accepted")
        await s.close()
        await agent.stop()
    arun(go())


def test_session_reports_agent_errors_and_lost_connection(arun, tmp_path):
    from winbox_py.backend.session import RpcError, Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        states = []
        s.on_state(lambda state, reason: states.append((state, reason)))
        follow = s.follow("/interface/ethernet")
        assert (await follow.__anext__())["op"] == "rows"
        agent.task.cancel()           # the agent goes away under us
        await asyncio.gather(agent.task, return_exceptions=True)
        agent.router.close()
        items = [item async for item in _drain(follow)]
        assert follow.closed and follow.error is not None and follow.error.problem == "disconnected"
        assert items == [{"op": "ready"}] or items == []
        for _ in range(50):
            if states:
                break
            await asyncio.sleep(0.02)
        assert states and states[0][0] == "lost"
        try:
            await s.get("/system/identity")
        except RpcError as exc:
            assert exc.problem == "disconnected"
        else:
            raise AssertionError("a request on a lost session succeeded")
        try:
            await s.reconnect()
        except RpcError as exc:
            assert "cannot reconnect" in exc.message
        await s.close()
        assert states[-1][0] == "closed"
    arun(go())


async def _drain(stream):
    try:
        async for item in stream:
            yield item
    except Exception:
        return
