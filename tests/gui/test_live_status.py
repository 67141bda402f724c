"""Live status in item dialogs against the real sim agent: the PPPoE client's
Status tab (monitor) from dialing to connected, the same for an L2TP client,
the monitor cancelled on the agent when the dialog closes, PPPoE Scan."""

from __future__ import annotations

from tests.gui.conftest import main_window, poll, until, uptime_seconds
from winbox_py.qt import QtWidgets, is_alive
from winbox_py.views.scandialog import ScanDialog
from winbox_py.views.statustab import StatusTab

PPPOE = "/interface/pppoe-client"


async def _add_client(session, interface: str, **more: str) -> str:
    """A PPPoE client "pppoe-out1" on ``interface`` for user "u" (``more``: further values) added; its id."""
    return await session.add(PPPOE, {"name": "pppoe-out1", "interface": interface, "user": "u", **more})


async def _live_pppoe_status(session, win):
    """An enabled PPPoE client added, its dialog open on a live Status tab: (item, status tab)."""
    item = await _add_client(session, "ether1", password="p", disabled="no")
    dialog = win.open_item(PPPOE, item)
    status = dialog.live.status
    dialog.tabs.setCurrentWidget(status)
    await until(lambda: status.live, what="the first sample")
    return item, status


async def _live_again(status: StatusTab, what: str, timeout: float) -> None:
    """Until the Status tab is live again, then: its values no longer greyed, no state shown."""
    await until(lambda: status.live, what=what, timeout=timeout)
    assert status.labels["status"].isEnabled() and not status.state_label.isVisible()


async def _monitors(session, path: str) -> list[dict]:
    """The monitors the agent's daemon is running for ``path`` (its own bookkeeping)."""
    stats = await session.stats()
    return [m for m in stats["monitors"] if m["path"] == path and m["command"] == "monitor"]


def test_the_pppoe_status_tab_goes_from_dialing_to_connected_and_uptime_counts(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await session.add(PPPOE, {"name": "pppoe-isp", "interface": "ether1", "user": "MT-User",
                                        "password": "StrongPass", "disabled": "no"})
        dialog = win.open_item(PPPOE, item)
        tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
        assert tabs[-2:] == ["Status", "Traffic"]  # a PPPoE client is an interface too
        status: StatusTab = dialog.live.status
        dialog.tabs.setCurrentWidget(status)
        seen: list[str] = []
        status.feed.sample.connect(lambda row: seen.append(row.get("status", "")))
        await until(lambda: "connected" in seen, what="the link to connect", timeout=15)
        # the stages the document lists, in order, as they happened
        stages = [s for n, s in enumerate(seen) if n == 0 or seen[n - 1] != s]
        assert stages[-1] == "connected"
        assert set(stages) <= {"dialing", "verifying password...", "connected"}
        assert "dialing" in stages or "verifying password..." in stages, stages
        assert status.value("status") == "connected"
        assert status.value("ac-name") == "isp-ether1" and status.value("service-name") == "internet"
        assert status.value("active-links") == "1" and "encoding" in status.labels
        assert status.value("remote-address").startswith("100.64.0.")
        assert status.value("local-address")
        assert int(status.value("mtu")) <= 1480 and int(status.value("mru")) <= 1480
        assert status.value("ac-mac").count(":") == 5
        first = uptime_seconds(status.value("uptime"))
        await until(lambda: uptime_seconds(status.value("uptime")) >= first + 2, what="the uptime to count", timeout=10)
        assert status.live and not status.state_label.isVisible()
        win.close()
    run(scenario())


def test_closing_the_dialog_cancels_the_monitor_on_the_agent(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        watcher = await open_session()  # a second desktop asking the daemon what it runs
        item = await _add_client(session, "ether1", password="p", disabled="no")
        dialog = win.open_item(PPPOE, item)
        await until(lambda: dialog.live.status.feed.samples >= 2, what="monitor samples")
        running = await _monitors(watcher, PPPOE)
        assert [(m["item"], m["watchers"]) for m in running] == [(item, 1)]
        dialog.close()
        await poll(lambda: _monitors(watcher, PPPOE), lambda monitors: not monitors)
        assert await _monitors(watcher, PPPOE) == []
        traffic = [m for m in (await watcher.stats())["monitors"] if m["command"] == "monitor-traffic"]
        assert traffic == []  # the Traffic tab's stream went with it
        win.close()
    run(scenario())


def test_a_new_client_is_monitored_once_added_and_an_l2tp_client_has_the_same_tab(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        window = win.open_path("/interface/l2tp-client")
        pane = window.pane("/interface/l2tp-client")
        await until(lambda: pane.model.loaded, what="the L2TP client table")
        pane.add_action.trigger()
        dialog = next(d for d in win.findChildren(QtWidgets.QDialog)
                      if is_alive(d) and d.windowTitle().startswith("New "))
        status = dialog.live.status
        assert status is not None and not status.feed.running  # nothing to monitor yet
        for name, value in (("name", "l2tp-hq"), ("connect-to", "198.51.100.7"), ("user", "branch"),
                            ("password", "secret")):
            dialog.editors[name].set_value(value)
            dialog.editors[name].changed.emit()
        dialog.apply_button.click()  # added disabled, as RouterOS adds a new client
        await until(lambda: dialog.item_id is not None, what="the add")
        await until(lambda: status.value("status") == "disconnected", what="the disabled client's status")
        dialog.toggle_button.click()  # Enable
        await until(lambda: status.value("status") == "connected", what="the L2TP link to connect", timeout=15)
        assert status.value("remote-address") and status.value("local-address")
        assert "ac-name" not in status.labels  # PPPoE's access concentrator fields only where they belong
        dialog.close()
        win.close()
    run(scenario())


def test_a_stopped_monitor_is_shown_stopped_with_the_values_greyed(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item, status = await _live_pppoe_status(session, win)
        assert not status.state_label.isVisible()
        assert status.labels["status"].isEnabled()
        await session.remove(PPPOE, [item])  # the monitored item goes away: the agent ends the monitor
        await until(lambda: status.feed.state == "stopped", what="the monitor to end", timeout=10)
        assert status.state_label.isVisible()
        assert status.state_label.text().startswith("stopped \u2014 ")
        assert not status.labels["status"].isEnabled()  # greyed: not live any more
        win.close()
    run(scenario())


def test_the_status_tab_says_connection_lost_and_comes_back_live(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item, status = await _live_pppoe_status(session, win)
        assert not status.state_label.isVisible()
        session._client.transport.kill()
        await until(lambda: status.state_label.text() == "stopped \u2014 connection lost",
                    what="the loss to show", timeout=20)
        assert not status.labels["status"].isEnabled()
        await _live_again(status, what="the monitor to resume after the reconnect", timeout=30)
        win.close()
    run(scenario(), timeout=90)


def test_scan_lists_the_access_concentrators_of_the_dialogs_interface(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await _add_client(session, "ether2")
        dialog = win.open_item(PPPOE, item)
        await until(lambda: dialog.editors["interface"].value() == "ether2", what="the item's values")
        dialog.live.scan_button.click()
        scan: ScanDialog = dialog.live.scan_dialog
        await until(lambda: scan.rows(), what="an access concentrator", timeout=10)
        assert scan.rows() == [{"service": "internet", "mac-address": scan.rows()[0]["mac-address"],
                                "ac-name": "isp-ether2"}]
        assert scan.table.item(0, 2).text() == "isp-ether2"
        headers = [scan.table.horizontalHeaderItem(i).text() for i in range(3)]
        assert headers == ["Service", "MAC Address", "AC Name"]
        # the same concentrator the client would dial
        await until(lambda: "done" in scan.status.text(), what="the scan to end", timeout=10)
        scan.interface.setEditText("nonexistent0")
        scan.start_button.click()
        await until(lambda: "nonexistent0" in scan.status.text() and scan.start_button.isEnabled(),
                    what="the refusal", timeout=10)
        assert scan.rows() == []
        dialog.close()
        win.close()
    run(scenario())


def test_a_monitor_whose_samples_stop_coming_is_marked_stale(run, open_session, qtbot):
    async def scenario():
        import os
        import signal
        session, win = await main_window(open_session, qtbot)
        item, status = await _live_pppoe_status(session, win)
        pidfile = next(open_session.state_dir.rglob("daemon.pid"))
        daemon = int(pidfile.read_text().split()[0])
        os.kill(daemon, signal.SIGSTOP)  # the router's agent hangs: no more samples, the connection stays
        try:
            await until(lambda: status.feed.state == "stale", what="the figures to be marked stale", timeout=10)
            assert status.state_label.text().startswith("stale \u2014 no data from the router for ")
            assert not status.labels["status"].isEnabled()
        finally:
            os.kill(daemon, signal.SIGCONT)
        await _live_again(status, what="samples again", timeout=20)
        win.close()
    run(scenario(), timeout=90)


def test_the_tables_scan_button_lists_what_answers_on_the_selected_clients_interface(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await _add_client(session, "ether3")
        window = win.open_path(PPPOE)
        pane = window.pane(PPPOE)
        await until(lambda: pane.model.has(item), what="the client row")
        pane.view.selectRow(pane.model.row_of(item))
        pane.command_buttons["scan"].click()
        scan = next(w for w in win.findChildren(ScanDialog) if is_alive(w))
        assert scan.interface.currentText() == "ether3"
        await until(lambda: scan.rows(), what="the access concentrator on ether3", timeout=10)
        assert [r["ac-name"] for r in scan.rows()] == ["isp-ether3"]
        scan.close()
        win.close()
    run(scenario())
