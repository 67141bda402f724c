"""ZeroTier against the real sim agent: the Peers table updates by itself,
joined networks show their status, and a private network's member is
authorized (and deauthorized) from the controller's member table."""

from __future__ import annotations

import asyncio

from tests.gui.conftest import main_window, open_pane, until

PEERS = "/zerotier/peer"
MEMBERS = "/zerotier/controller/member"
IFACES = "/zerotier/interface"


def _select(pane, item_id: str) -> None:
    pane.view.clearSelection()
    pane.view.selectRow(pane.model.row_of(item_id))


def test_the_peers_table_updates_without_user_action(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        pane = await open_pane(win, PEERS)
        assert pane.model.rowCount() == 0  # the instance is disabled on a new router
        assert pane.shown_columns()[1:6] == ["instance", "zt-address", "latency", "role", "path"]
        await session.enable("/zerotier", ["zt1"])
        await until(lambda: pane.model.rowCount() == 4, what="the four PLANET roots", timeout=15)
        ids = pane.model.ids()
        assert {pane.model.value(i, "role") for i in ids} == {"PLANET"}
        assert all(pane.model.value(i, "latency").endswith("ms") for i in ids)
        before = {i: (pane.model.value(i, "latency"), pane.model.value(i, "path")) for i in ids}
        await until(lambda: any((pane.model.value(i, "latency"), pane.model.value(i, "path")) != before[i]
                                for i in ids), what="a peer's latency or path to change", timeout=10)
        # the path's "recvd:" age moves every second: the table is live, not a snapshot
        seen = {pane.model.value(ids[0], "path")}
        for _ in range(3):
            await asyncio.sleep(1.1)
            seen.add(pane.model.value(ids[0], "path"))
        assert len(seen) >= 3
        win.close()
    run(scenario())


def test_members_are_authorized_from_the_table_and_the_network_status_follows(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        await session.enable("/zerotier", ["zt1"])
        ctrl = await session.add("/zerotier/controller", {"instance": "zt1", "name": "home", "private": "yes",
                                                          "ip-range": "172.27.27.10-172.27.27.20",
                                                          "routes": "172.27.27.0/24"})
        network = (await session.get("/zerotier/controller", ctrl))["network"]
        ifaces = await open_pane(win, IFACES)
        members = await open_pane(win, MEMBERS)
        assert members.live.authorize_action is not None and members.live.deauthorize_action is not None
        assert ifaces.live.authorize_action is None  # only where items can be authorized
        toolbar = [a.text() for a in members.toolbar.actions()]
        assert "Authorize" in toolbar and "Deauthorize" in toolbar
        joined = await session.add(IFACES, {"instance": "zt1", "network": network, "name": "zt-home"})
        await until(lambda: ifaces.model.value(joined, "status") == "ACCESS_DENIED",
                    what="a private network to deny the unauthorized member", timeout=15)
        await until(lambda: members.model.rowCount() == 1, what="the member asking to join")
        member = members.model.ids()[0]
        assert "A" not in members.model.value(member, ".flags")
        _select(members, member)
        members.live.authorize_action.trigger()
        await until(lambda: "A" in members.model.value(member, ".flags"), what="the member authorized")
        await until(lambda: ifaces.model.value(joined, "status") == "OK", what="the network to be OK", timeout=15)
        assert (await session.get(MEMBERS, member))["authorized"] == "yes"
        # and back, from the row's context menu this time
        _select(members, member)
        menu = members.live.row_menu(member)
        next(a for a in menu.actions() if a.text() == "Deauthorize").trigger()
        await until(lambda: ifaces.model.value(joined, "status") == "ACCESS_DENIED",
                    what="access denied again", timeout=15)
        assert (await session.get(MEMBERS, member))["authorized"] == "no"
        win.close()
    run(scenario(), timeout=90)


def test_a_table_whose_stream_fails_is_shown_stopped(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        pane = await open_pane(win, PEERS)
        assert pane.view.isEnabled()
        # the agent ends the listing with an error: here it is told to by a cancel the table did not send
        stream = pane.feed.stream
        session._client.cancel(stream._rid)
        await until(lambda: pane.live.stopped, what="the table to stop")
        assert stream.error is not None and stream.error.problem == "interrupted"
        assert not pane.view.isEnabled()
        assert pane.status.text() == "stopped \u2014 " + stream.error.message
        pane.restart()  # F5 follows again
        await until(lambda: pane.model.loaded and pane.view.isEnabled(), what="a live table again")
        assert not pane.live.stopped and not pane.status.text().startswith("stopped")
        win.close()
    run(scenario())
