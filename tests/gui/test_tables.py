"""Table windows against the real agent: live updates from another session,
toolbar and keyboard actions, filter and sort, remembered columns, the menu
tree, the terminal, and a dropped connection."""

from __future__ import annotations

import pytest

from tests.gui.conftest import main_window, open_pane, until
from winbox_py.backend.settings import Settings
from winbox_py.backend.tabledata import Rule
from winbox_py.backend.models import STATE_ROLE
from winbox_py.qt import Qt, QtGui, QtTest, QtWidgets, is_alive


def _select(pane, item_id):
    from winbox_py.qt import QtCore
    row = pane.model.row_of(item_id)
    flags = QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows
    pane.view.selectionModel().select(pane.model.index(row, 0), flags)
    pane.view.setFocus()


def test_a_change_from_a_second_session_appears_live(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        pane = await open_pane(win, "/ip/address")
        before = pane.model.rowCount()
        other = await open_session()  # another desktop on the same router
        item = await other.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        await until(lambda: pane.model.has(item), what="the other session's address")
        assert pane.model.rowCount() == before + 1
        assert pane.model.value(item, "network") == "192.0.2.0"
        await other.set("/ip/address", [item], {"comment": "uplink"})
        await until(lambda: pane.model.value(item, "comment") == "uplink", what="the other session's comment")
        await other.remove("/ip/address", [item])
        await until(lambda: not pane.model.has(item), what="the removal")
        assert "items" in pane.status.text()
    run(scenario())


def test_enable_and_disable_from_the_toolbar_grey_the_row(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await session.add("/ip/address", {"address": "198.51.100.1/24", "interface": "ether3"})
        pane = await open_pane(win, "/ip/address")
        await until(lambda: pane.model.has(item), what="the address")
        _select(pane, item)
        pane.disable_action.trigger()
        await until(lambda: "X" in pane.model.value(item, ".flags"), what="the X flag")
        row = pane.model.row_of(item)
        option = QtWidgets.QStyleOptionViewItem()
        pane.view.itemDelegate().initStyleOption(option, pane.model.index(row, 1))
        assert option.palette.color(QtGui.QPalette.Text).name() == "#808080"  # greyed
        assert (await session.get("/ip/address", item))["disabled"] == "yes"
        _select(pane, item)
        QtTest.QTest.keyClick(pane.view, Qt.Key_E, Qt.ControlModifier)  # Ctrl+E
        await until(lambda: "X" not in pane.model.value(item, ".flags"), what="enabled again")
        assert pane.model.index(pane.model.row_of(item), 1).data(STATE_ROLE) is None
    run(scenario())


def test_keyboard_insert_delete_and_comment(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await session.add("/ip/pool", {"name": "lan", "ranges": "10.0.0.10-10.0.0.20"})
        pane = await open_pane(win, "/ip/pool")
        await until(lambda: pane.model.has(item), what="the pool")
        pane.view.setFocus()
        QtTest.QTest.keyClick(pane.view, Qt.Key_Insert)
        new = [d for d in win.findChildren(QtWidgets.QDialog) if is_alive(d) and d.windowTitle() == "New IP Pool"]
        assert new, [d.windowTitle() for d in win.findChildren(QtWidgets.QDialog)]
        new[0].close()
        _select(pane, item)
        QtTest.QTest.keyClick(pane.view, Qt.Key_M, Qt.ControlModifier)
        dlg = pane.comment_dialog
        dlg.edit.setPlainText("office LAN")
        dlg._ok()
        await until(lambda: pane.model.value(item, "comment") == "office LAN", what="the comment")
        win.activateWindow()  # back from the comment dialog
        await until(lambda: QtWidgets.QApplication.activeWindow() is win, what="the main window active")
        _select(pane, item)
        QtTest.QTest.keyClick(pane.view, Qt.Key_Delete)
        await until(lambda: not pane.model.has(item) or win.statusBar().currentMessage(),
                    what="the removal")
        assert not pane.model.has(item), win.statusBar().currentMessage()
        # the agent refuses to remove a factory item: said in the status bar
        eth = await open_pane(win, "/interface/ethernet")
        assert not eth.remove_action.isEnabled()  # ethernet ports cannot be removed at all
    run(scenario())


def test_filter_stack_quick_find_and_sort(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        for n, iface in ((1, "ether2"), (2, "ether3"), (3, "ether2"), (10, "ether4")):
            await session.add("/ip/address", {"address": "10.1.%d.1/24" % n, "interface": iface})
        pane = await open_pane(win, "/ip/address")
        await until(lambda: pane.model.total >= 4, what="the addresses")
        addr = pane.model.column_of("address")
        iface = pane.model.column_of("interface")
        # sort by clicking the Address header: numerically by octets, then the other way
        header = pane.view.horizontalHeader()
        QtTest.QTest.mouseClick(header.viewport(), Qt.LeftButton, pos=header.rect().topLeft()
                                + _section_center(header, addr))
        shown = [pane.model.value(i, "address") for i in pane.model.ids()]
        ours = [a for a in shown if a.startswith("10.1.")]
        assert ours == ["10.1.1.1/24", "10.1.2.1/24", "10.1.3.1/24", "10.1.10.1/24"]
        pane.view.sortByColumn(addr, Qt.DescendingOrder)
        ours = [a for a in (pane.model.value(i, "address") for i in pane.model.ids()) if a.startswith("10.1.")]
        assert ours == ["10.1.10.1/24", "10.1.3.1/24", "10.1.2.1/24", "10.1.1.1/24"]
        # the filter stack: interface is ether2
        pane.toggle_filters()
        line = pane.filters.lines[0]
        line.set_rule(iface, "is", "ether2")
        await until(lambda: pane.model.rowCount() == 2, what="the filter")
        assert {pane.model.value(i, "interface") for i in pane.model.ids()} == {"ether2"}
        assert "out of" in pane.status.text()
        line.set_rule(iface, "in", "ether3,ether4")
        await until(lambda: pane.model.rowCount() == 2, what="the 'in' filter")
        assert {pane.model.value(i, "interface") for i in pane.model.ids()} == {"ether3", "ether4"}
        pane.toggle_filters()  # hiding the bar drops its rules
        # quick find looks in the shown columns
        pane.find.setText("10.1.1")
        await until(lambda: pane.model.rowCount() == 2, what="quick find")  # 10.1.1.1 and 10.1.10.1
        pane.find.clear()
        assert pane.model.rowCount() == pane.model.total
        # a live add lands in sorted position
        item = await session.add("/ip/address", {"address": "10.1.5.1/24", "interface": "ether2"})
        await until(lambda: pane.model.has(item), what="the live add")
        ours = [a for a in (pane.model.value(i, "address") for i in pane.model.ids()) if a.startswith("10.1.")]
        assert ours == ["10.1.10.1/24", "10.1.5.1/24", "10.1.3.1/24", "10.1.2.1/24", "10.1.1.1/24"]
    run(scenario())


def _section_center(header, logical):
    from winbox_py.qt import QtCore
    x = header.sectionViewportPosition(logical) + header.sectionSize(logical) // 2
    return QtCore.QPoint(x, header.height() // 2)


def test_column_choices_are_remembered_per_router(run, open_session, qtbot, tmp_path):
    settings = Settings(tmp_path / "layout.json")

    async def scenario():
        session, win = await main_window(open_session, qtbot, settings, "admin@192.0.2.1")
        pane = await open_pane(win, "/ip/address")
        assert pane.shown_columns() == [".flags", "address", "network", "interface", "comment"]
        menu = pane.column_menu()
        broadcast = next(a for a in menu.actions() if a.text() == "Broadcast")
        broadcast.setChecked(True)
        network = next(a for a in menu.actions() if a.text() == "Network")
        network.setChecked(False)
        assert pane.shown_columns() == [".flags", "address", "interface", "comment", "broadcast"]
        win.close()
        again = Settings(tmp_path / "layout.json")
        assert again.columns("admin@192.0.2.1", "/ip/address") == [".flags", "address", "interface", "comment",
                                                                    "broadcast"]
        assert "/ip/address" in again.open_windows("admin@192.0.2.1")
        # a new main window for the same router reopens the window with those columns
        from winbox_py.views.mainwindow import MainWindow
        win2 = MainWindow(session, "demo", again, "admin@192.0.2.1")
        qtbot.addWidget(win2)
        win2.show()
        win2.restore_layout()
        reopened = win2.windows["/ip/address"].widget().pane("/ip/address")
        assert reopened.shown_columns() == [".flags", "address", "interface", "comment", "broadcast"]
    run(scenario())


def test_the_menu_tree_has_winbox_branches_and_search(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        labels = win.tree.labels()
        for expected in ["Interfaces", "WireGuard", "Bridge", "PPP", "IP", "IPv6", "System", "MetaROUTER",
                         "ZeroTier", "Log", "New Terminal"]:
            assert expected in labels
        order = [l for l in labels if l in ("Interfaces", "WireGuard", "Bridge", "PPP", "IP", "IPv6", "System",
                                            "MetaROUTER", "ZeroTier", "Log", "New Terminal")]
        assert order == ["Interfaces", "WireGuard", "Bridge", "PPP", "IP", "IPv6", "System", "MetaROUTER",
                         "ZeroTier", "Log", "New Terminal"]
        ip = next(n for n in win.tree.nodes if n.label == "IP")
        assert any("/ip/address" in e.paths for e in ip.children)
        assert any("/ip/firewall/filter" in e.paths and "/ip/firewall/nat" in e.paths for e in ip.children)
        ppp = win.tree.entry("PPP")
        assert "/ppp/secret" in ppp.paths and "/ppp/profile" in ppp.paths
        window = win.open_entry(ppp)
        assert window.tabs is not None and window.tabs.count() == len(ppp.paths)
        assert win.windowTitle() == "%s@demo (MikroTik) - winbox-py" % session.facts["user"]
        from winbox_py.views.mainwindow import NOT_AVAILABLE
        for action, cap in ((win.undo_action, "undo"), (win.redo_action, "redo"), (win.safe_action, "safe-mode")):
            if cap not in session.capabilities:  # a later agent may offer them
                assert not action.isEnabled() and NOT_AVAILABLE in action.toolTip()
        win.tree.search.setText("pool")
        visible = []
        for i in range(win.tree.tree.topLevelItemCount()):
            top = win.tree.tree.topLevelItem(i)
            if not top.isHidden():
                visible.append(top.text(0))
        assert any(v.startswith("IP") for v in visible) and "PPP" not in visible
    run(scenario())


def test_the_terminal_runs_router_commands(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        term = win.open_entry(win.tree.entry("New Terminal")).terminal
        await term.run("/system identity set name=lab-router")
        await term.run("/system identity print")
        assert "name: lab-router" in term.term.text().replace("  ", " ") or "lab-router" in term.term.text()
        await term.run("/ip address")
        assert term.prompt.endswith("/ip address> ")
        await term.run("add address=bogus interface=ether1")
        assert "failure" in term.term.text() or "not" in term.term.text()
        term.line = ""
        QtTest.QTest.keyClick(term, Qt.Key_Up)      # the device's shell recalls it (a round trip)
        await until(lambda: term.line == "add address=bogus interface=ether1", what="Up to recall the last line")
    run(scenario())


def test_a_dropped_connection_clears_the_tables_and_reconnects(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        pane = await open_pane(win, "/interface")
        assert pane.model.rowCount() >= 5
        transport = session._client.transport
        transport.kill()
        await until(lambda: not win.connected, what="the loss to be noticed", timeout=20)
        assert pane.model.rowCount() == 0 and win.banner.isVisible()
        await until(lambda: win.connected and pane.model.loaded and pane.model.rowCount() >= 5,
                    what="the reconnect and a fresh listing", timeout=30)
        assert not win.banner.isVisible()
    run(scenario(), timeout=90)


def test_a_monitor_command_streams_into_its_window_until_closed(run, open_session, qtbot):
    async def scenario():
        from winbox_py.views.commandwindow import CommandWindow
        session, win = await main_window(open_session, qtbot)
        item = await session.add("/interface/pppoe-client", {"name": "pppoe-out1", "interface": "ether1",
                                                            "user": "u", "disabled": "no"})
        pane = await open_pane(win, "/interface/pppoe-client")
        await until(lambda: pane.model.has(item), what="the client")
        _select(pane, item)
        pane.command_buttons["monitor"].click()
        monitor = next(w for w in win.findChildren(CommandWindow) if is_alive(w))
        assert monitor.windowTitle() == "Monitor <pppoe-out1>"
        await until(lambda: len(monitor.rows) >= 2, what="two monitor samples", timeout=15)
        keys = [monitor.table.item(r, 0).text() for r in range(monitor.table.rowCount())]
        assert "status" in keys
        stream = monitor.stream
        monitor.close()
        await until(lambda: stream.closed, what="the stream to stop")
    run(scenario())
