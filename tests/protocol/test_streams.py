"""Streams in-process: follow events, live values, monitors shared between
watchers, cancel (the agent's stream really stops), heartbeats."""

from __future__ import annotations

import asyncio
import time

from tests.protocol.conftest import start_agent
from tests.protocol.wire import Wire


async def _next_op(stream, op, timeout=10.0):
    """The next item of the stream whose op is ``op`` (others skipped)."""
    async def find():
        async for item in stream:
            if item.get("op") == op:
                return item
        raise AssertionError(f"stream ended before {op}")
    return await asyncio.wait_for(find(), timeout)


def test_follow_sends_rows_ready_then_changes(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        f = s.follow("/interface/ethernet", proplist=["name", "mtu"], interval=None)
        first = await f.__anext__()
        assert first["op"] == "rows" and [r["name"] for r in first["rows"]][:2] == ["ether1", "ether2"]
        assert (await f.__anext__()) == {"op": "ready"}
        await s.set("/interface/ethernet", "ether3", {"mtu": "1280"})
        ev = await _next_op(f, "set")
        assert ev["row"]["name"] == "ether3" and ev["row"]["mtu"] == "1280"
        # a rename shows in the row (names are references elsewhere)
        await s.set("/interface/ethernet", "ether3", {"name": "wan"})
        ev = await _next_op(f, "set")
        assert ev["row"]["name"] == "wan"
        # a change that does not touch the listed columns sends nothing
        await s.set("/interface/ethernet", "wan", {"comment": "x"})
        await s.set("/interface/ethernet", "wan", {"mtu": "1300"})
        ev = await _next_op(f, "set")
        assert ev["row"]["mtu"] == "1300"
        await f.cancel()
        assert f.closed and f.error is None
        stats = await s.stats()
        assert stats["feeds"] == []
        await s.close()
        await agent.stop()
    arun(go())


def test_follow_of_a_menu_with_adds_and_removes(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        path = "/ip/pool" if "/ip/pool" in s.schema else "/ip/address"
        values = {"name": "p1", "ranges": "10.9.0.2-10.9.0.9"} if path == "/ip/pool" else {
            "address": "10.9.0.1/24", "interface": "ether1"}
        f = s.follow(path, interval=None)
        await _next_op(f, "ready")
        new = await s.add(path, values)
        ev = await _next_op(f, "add")
        assert ev["row"][".id"] == new and ev["index"] == 0
        await s.remove(path, new)
        ev = await _next_op(f, "remove")
        assert ev["row"] == {".id": new}
        await f.cancel()
        await s.close()
        await agent.stop()
    arun(go())


def test_follow_polls_live_values_at_the_interval(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path, test_rows=5)
        s = await Session.over(agent.transport)
        f = s.follow("/system/test-rows", proplist=["name", "bytes"], interval=0.2)
        rows = (await f.__anext__())["rows"]
        assert [r["name"] for r in rows] == ["row%07d" % n for n in range(5)]
        started = time.monotonic()
        ev = await _next_op(f, "set", timeout=5)
        assert ev["row"]["name"] in ("row0000000", "row0000001", "row0000002")
        assert time.monotonic() - started < 2.5
        await f.cancel()
        # without an interval nothing live is sent
        g = s.follow("/system/test-rows", proplist=["name", "bytes"], interval=None)
        await _next_op(g, "ready")
        try:
            await asyncio.wait_for(g.__anext__(), 1.5)
        except asyncio.TimeoutError:
            pass
        else:
            raise AssertionError("an event without an interval or a change")
        await g.cancel()
        await s.close()
        await agent.stop()
    arun(go())


def test_a_slow_follower_gets_the_latest_state_not_a_backlog(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path, window=1500)      # a tiny window fills quickly
        s = await Session.over(agent.transport)
        f = s.follow("/interface/ethernet", proplist=["name", "mtu"], interval=None)
        await _next_op(f, "ready")
        for mtu in range(1400, 1460):                          # 60 changes nobody reads yet
            await s.set("/interface/ethernet", "ether1", {"mtu": str(mtu)})
        await asyncio.sleep(0.2)
        assert f.buffered <= 1500 + 200                        # the agent stopped at the window
        seen = []
        while not seen or seen[-1] != "1459":
            ev = await _next_op(f, "set", timeout=5)
            seen.append(ev["row"]["mtu"])
        assert seen == sorted(seen, key=int)                   # never older after newer
        assert len(seen) < 60, "every change was queued instead of the latest state"
        await f.cancel()
        await s.close()
        await agent.stop()
    arun(go())


def test_monitor_is_shared_and_cancel_stops_it_on_the_agent(arun, tmp_path):
    from winbox_agent.proto.testrows import STREAMS
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path, test_rows=3)
        hub_open = STREAMS["open"]
        s = await Session.over(agent.transport)
        one = s.command("/system/test-rows", "monitor", interval=0.1)
        first = await asyncio.wait_for(one.__anext__(), 5)
        assert first["sample"] == "0"
        two = s.command("/system/test-rows", "monitor", interval=0.1)
        await asyncio.wait_for(two.__anext__(), 5)
        stats = await s.stats()
        assert len(stats["monitors"]) == 1 and stats["monitors"][0]["watchers"] == 2
        assert STREAMS["open"] == hub_open + 1          # one driver stream for both
        later = [await asyncio.wait_for(one.__anext__(), 5) for _ in range(3)]
        assert [int(r["sample"]) for r in later] == sorted(int(r["sample"]) for r in later)
        await one.cancel()
        assert STREAMS["open"] == hub_open + 1          # still watched by two
        await two.cancel()
        assert STREAMS["open"] == hub_open              # the agent closed the stream
        assert (await s.stats())["monitors"] == []
        once = await s.command("/system/test-rows", "monitor", args={"once": "yes"}).collect()
        assert len(once) == 1
        await s.close()
        await agent.stop()
    arun(go())


def test_cancel_is_answered_interrupted_and_done_and_late_rows_are_tolerated(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path, test_rows=3)
        wire = Wire(agent.transport)
        await wire.start()
        await wire.send({"id": 3, "op": "command", "path": "/system/test-rows", "command": "monitor",
                         "interval": 0.05})
        data = await wire.recv()
        assert data["op"] == "data" and data["id"] == 3
        await asyncio.sleep(0.2)
        await wire.send({"op": "cancel", "id": 3})
        msgs = await wire.until_done(3)
        assert [m["op"] for m in msgs[-2:]] == ["trap", "done"]
        assert msgs[-2]["problem"] == "interrupted"
        assert all(m["op"] == "data" for m in msgs[:-2])   # rows in flight before the cancel
        await wire.send({"op": "cancel", "id": 3})          # cancelling again is harmless
        (done,) = await wire.request(id=4, op="get", path="/system/identity")
        assert done["op"] == "done"
        await wire.close()
        await agent.stop()
    arun(go())


def test_monitor_duration_ends_the_stream(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path, test_rows=3)
        s = await Session.over(agent.transport)
        started = time.monotonic()
        rows = await s.command("/system/test-rows", "monitor", args={"duration": "1s"}, interval=0.2).collect()
        assert 1.0 <= time.monotonic() - started < 3
        assert 3 <= len(rows) <= 7
        await s.close()
        await agent.stop()
    arun(go())


def test_agent_drops_a_desktop_that_stops_sending(arun, tmp_path):
    async def go():
        agent = await start_agent(tmp_path, heartbeat=0.1, dead_after=0.6)
        wire = Wire(agent.transport)
        await wire.start()
        started = time.monotonic()
        while True:           # read (pings) but never write
            msg = await wire.recv(timeout=5, pings=True)
            if msg is None:
                break
            assert msg["op"] == "ping"
        assert time.monotonic() - started < 3
        assert "no heartbeat" in await agent.stop()
    arun(go())


def test_session_notices_a_silent_agent(arun, tmp_path):
    from winbox_py.backend.rpc import encode
    from winbox_py.backend.session import Session
    from winbox_py.backend.transport import StreamTransport

    async def go():
        # an "agent" that completes the handshake, then says nothing at all
        async def silent(reader, writer):
            writer.write(b"\0WINBOXPY/1 abc\n" + encode({"op": "init", "protocol": 1, "facts": {}}))
            while await reader.read(65536):
                pass
            writer.close()
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        lost = asyncio.get_running_loop().create_future()
        try:
            await Session.over(StreamTransport(r, w), heartbeat=0.1, dead_after=0.5)
        except Exception as exc:   # describe never answers: the heartbeat gives up
            lost.set_result(str(exc))
        assert "heartbeat" in lost.result()
        server.close()
        await server.wait_closed()
    arun(go(), timeout=20)


def test_follow_tells_a_move_as_the_new_order(arun, tmp_path):
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        path = "/ip/firewall/filter"
        first = await s.add(path, {"chain": "input", "action": "accept"})
        second = await s.add(path, {"chain": "forward", "action": "drop"})
        f = s.follow(path, proplist=["chain"], interval=None, raw=True)
        rows = await f.__anext__()
        assert rows["columns"] == [".id", "chain", ".flags", ".dynamic"]
        assert [r[0] for r in rows["rows"]] == [first, second]
        await _next_op(f, "ready")
        await s.move(path, second, first)
        ev = await _next_op(f, "order")
        assert ev["ids"] == [second, first]
        third = await s.add(path, {"chain": "output"}, place_before=first)
        ev = await _next_op(f, "add")
        assert ev["row"][0] == third and ev["index"] == 1
        await f.cancel()
        await s.close()
        await agent.stop()
    arun(go())


def test_an_action_with_progress_is_not_shared_between_requests(arun, tmp_path):
    """Two scans (or renewals) asked for at once each run: the second is not
    handed the first one's samples, nor its end."""
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path)
        s = await Session.over(agent.transport)
        one = s.command("/interface/pppoe-client", "scan", args={"interface": "ether1"}, interval=0.1)
        await asyncio.wait_for(one.__anext__(), 5)
        two = s.command("/interface/pppoe-client", "scan", args={"interface": "ether1"}, interval=0.1)
        row = await asyncio.wait_for(two.__anext__(), 5)
        assert row["ac-name"] == "isp-ether1"
        stats = await s.stats()
        scans = [m for m in stats["monitors"] if m["command"] == "scan"]
        assert len(scans) == 2 and all(m["watchers"] == 1 for m in scans)
        await one.cancel()
        await two.cancel()
        await s.close()
        await agent.stop()
    arun(go())


def test_a_driver_still_working_sends_nothing_and_blocks_no_one(arun, tmp_path):
    """A stream whose driver answers "no sample yet" (a discovery round running
    in the driver's thread) sends no empty rows, and other requests are served
    meanwhile."""
    from winbox_py.backend.session import Session

    async def go():
        agent = await start_agent(tmp_path, test_rows=3)
        s = await Session.over(agent.transport)
        started = time.monotonic()
        slow = s.command("/system/test-rows", "monitor", args={"not-ready": "5"}, interval=0.1)
        # answered while the stream has nothing to say yet
        assert (await s.get("/system/identity", ""))["name"] == "MikroTik"
        first = await asyncio.wait_for(slow.__anext__(), 5)
        assert first["sample"] == "0"                       # no empty row came before it
        assert time.monotonic() - started >= 0.4           # five "not yet" answers, polled
        await slow.cancel()
        await s.close()
        await agent.stop()
    arun(go())
