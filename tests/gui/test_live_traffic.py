"""Interface traffic against the real sim agent: the Interfaces table's rate
columns move every second and agree with monitor-traffic, an interface's
dialog has a Traffic tab with a graph, the table's context menu opens a graph
window whose stream ends on the agent when it closes, and a stream that stops
is shown stopped (grey) until it is live again."""

from __future__ import annotations

import asyncio

from tests.gui.conftest import main_window, poll, until
from winbox_py.backend.livestats import parse_rate
from winbox_py.qt import Qt, is_alive
from winbox_py.views.trafficgraph import RX_COLOR, TX_COLOR, TrafficWindow


async def _interfaces(win):
    window = win.open_path("/interface")
    pane = window.pane("/interface")
    await until(lambda: pane.model.loaded and pane.model.rowCount() >= 5, what="the interfaces")
    return pane


def _id_of(pane, name: str) -> str:
    return next(i for i in pane.model.ids() if pane.model.value(i, "name") == name)


async def _desktop_on(open_session, qtbot, name: str):
    """A main window with the Interfaces table loaded: (session, window, table pane, ``name``'s id)."""
    session, win = await main_window(open_session, qtbot)
    pane = await _interfaces(win)
    return session, win, pane, _id_of(pane, name)


async def _traffic_monitors(session) -> list[dict]:
    return [m for m in (await session.stats())["monitors"] if m["command"] == "monitor-traffic"]


def _colour_pixels(widget, colour) -> int:
    """How many pixels of ``colour`` (give or take antialiasing) the widget shows."""
    image = widget.grab().toImage()
    n = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if abs(c.red() - colour.red()) < 40 and abs(c.green() - colour.green()) < 40 \
                    and abs(c.blue() - colour.blue()) < 40:
                n += 1
    return n


def test_rate_columns_move_every_second_and_agree_with_monitor_traffic(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        pane = await _interfaces(win)
        shown = pane.shown_columns()
        for field in ("tx-rate", "rx-rate", "tx-packet-rate", "rx-packet-rate"):
            assert field in shown
        titles = [pane.model.headerData(pane.model.column_of(f), Qt.Horizontal, Qt.DisplayRole)
                  for f in ("tx-rate", "rx-rate", "tx-packet-rate", "rx-packet-rate")]
        assert titles == ["Tx", "Rx", "Tx Packet (p/s)", "Rx Packet (p/s)"]
        ether1 = _id_of(pane, "ether1")
        await until(lambda: pane.model.value(ether1, "rx-rate"), what="a first rate", timeout=10)
        seen = set()
        for _ in range(4):
            seen.add((pane.model.value(ether1, "rx-rate"), pane.model.value(ether1, "tx-packet-rate")))
            await asyncio.sleep(1.1)
        assert len(seen) >= 2, "the rates did not move: %s" % seen
        assert pane.model.value(ether1, "rx-rate").endswith("bps")
        # the same traffic monitor-traffic reports (the sim's counters are its integral)
        rows = await session.command("/interface", "monitor-traffic", item=ether1, args={"once": "yes"}).collect()
        reported = parse_rate(rows[0]["rx-bits-per-second"])
        shown_rate = parse_rate(pane.model.value(ether1, "rx-rate").replace(" ", ""))
        assert reported and shown_rate
        assert 0.6 < shown_rate / reported < 1.6, (pane.model.value(ether1, "rx-rate"), rows[0])
        win.close()
    run(scenario())


def test_a_disabled_interface_falls_to_zero_and_rates_sort_as_numbers(run, open_session, qtbot):
    async def scenario():
        session, win, pane, ether5 = await _desktop_on(open_session, qtbot, "ether5")
        await until(lambda: pane.model.value(ether5, "tx-rate") not in ("", "0 bps"), what="ether5's traffic")
        await session.disable("/interface/ethernet", [ether5])
        await until(lambda: pane.model.value(ether5, "tx-rate") == "0 bps", what="the rate to fall to zero",
                    timeout=10)
        assert pane.model.value(ether5, "rx-packet-rate") == "0"
        await until(lambda: all(pane.model.value(i, "rx-rate") for i in pane.model.ids()), what="every rate")
        column = pane.model.column_of("rx-rate")
        pane.view.sortByColumn(column, Qt.DescendingOrder)  # descending, as a click on the header twice
        values = [parse_rate(pane.model.value(i, "rx-rate").replace(" ", "")) for i in pane.model.ids()]
        assert values == sorted(values, reverse=True) and values[-1] == 0
        win.close()
    run(scenario())


def test_an_interface_dialog_has_a_traffic_tab_with_a_drawn_graph(run, open_session, qtbot):
    async def scenario():
        session, win, pane, ether1 = await _desktop_on(open_session, qtbot, "ether1")
        dialog = win.open_item("/interface/ethernet", ether1)
        tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
        assert tabs.count("Traffic") == 1 and tabs[-1] == "Traffic"
        dialog.tabs.setCurrentIndex(tabs.index("Traffic"))
        panel = dialog.live.traffic
        await until(lambda: len(panel.history) >= 5, what="five traffic samples", timeout=15)
        assert panel.figures["rx-bits-per-second"].text().endswith("bps")
        assert int(panel.figures["rx-packets-per-second"].text()) > 0
        assert "rx-byte" in dialog.status_fields  # the counters stay on the same tab, above the graph
        assert _colour_pixels(panel.graph, TX_COLOR) > 5 and _colour_pixels(panel.graph, RX_COLOR) > 5
        dialog.close()
        win.close()
    run(scenario())


def test_the_graph_window_from_the_context_menu_ends_its_stream_when_closed(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        watcher = await open_session()
        pane = await _interfaces(win)
        ether2 = _id_of(pane, "ether2")
        menu = pane.live.row_menu(ether2)
        labels = [a.text() for a in menu.actions()]
        assert labels[:2] == ["Open", "Traffic..."]
        next(a for a in menu.actions() if a.text() == "Traffic...").trigger()
        graph = next(w for w in win.findChildren(TrafficWindow) if is_alive(w))
        assert graph.windowTitle() == "Traffic <ether2>"
        await until(lambda: len(graph.panel.history) >= 2, what="samples in the graph window", timeout=10)
        assert [(m["item"], m["watchers"]) for m in await _traffic_monitors(watcher)] == [(ether2, 1)]
        graph.close()
        await poll(lambda: _traffic_monitors(watcher), lambda monitors: not monitors)
        assert await _traffic_monitors(watcher) == []
        win.close()
    run(scenario())


def test_a_stopped_graph_is_grey_and_says_so_until_the_connection_is_back(run, open_session, qtbot):
    async def scenario():
        session, win, pane, ether1 = await _desktop_on(open_session, qtbot, "ether1")
        graph = pane.live.traffic(ether1)
        panel = graph.panel
        await until(lambda: panel.feed.state == "live", what="the graph to be live", timeout=10)
        await until(lambda: len(panel.history) >= 3, what="a line to draw", timeout=10)
        assert panel.graph.live and not panel.state_label.isVisible()
        assert panel.figures["tx-bits-per-second"].isEnabled()
        live_blue = _colour_pixels(panel.graph, TX_COLOR)
        assert live_blue > 0
        session._client.transport.kill()
        await until(lambda: panel.state_label.text() == "stopped \u2014 connection lost", what="the loss",
                    timeout=20)
        assert panel.state_label.isVisible() and not panel.graph.live
        assert not panel.figures["tx-bits-per-second"].isEnabled()
        assert _colour_pixels(panel.graph, TX_COLOR) == 0  # the old line is drawn grey, not as if live
        await until(lambda: panel.feed.state == "live", what="live again after the reconnect", timeout=30)
        assert panel.graph.live and not panel.state_label.isVisible()
        graph.close()
        win.close()
    run(scenario(), timeout=90)
