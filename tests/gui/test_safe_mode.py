"""Safe mode, warnings, conflicts and lost connections in the desktop, against
the real agent (a daemon reached through bridges, as over SSH).

- The toolbar's Safe Mode button takes safe mode; the banner says so; turning
  it off keeps the changes.
- A desktop cut off for longer than the grace period finds its changes
  undone when it comes back, and a dialog lists them; one that comes back in
  time keeps safe mode.
- A change that may cut the connection (disabling the interface the desktop
  comes in by, changing the address it reaches) is asked about first.
- The later save of an outdated form is refused and shown on the field, with
  Reload.
- The agent dying, the connection dropping and the router being away for a
  while (a reboot) are said in the window, Reconnect now is offered, and every
  open table window shows the router as it is once back.
"""

from __future__ import annotations

import asyncio
import os
import signal

from tests.gui.conftest import until
from winbox_py.qt import QtWidgets, is_alive


async def _main(session, qtbot):
    from winbox_py.views.mainwindow import MainWindow
    win = MainWindow(session, "demo")
    qtbot.addWidget(win)
    win.show()
    return win


async def _pane(win, path):
    window = win.open_path(path)
    pane = window.pane(path)
    await until(lambda: pane.model.loaded, what="the %s table" % path)
    return pane


def _select(pane, item_id):
    from winbox_py.qt import QtCore
    row = pane.model.ids().index(item_id)
    pane.view.selectionModel().select(pane.model.index(row, 0),
                                      QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows)


def _named(pane, name: str) -> str:
    """The id of the row called ``name`` in ``pane``."""
    return next(i for i in pane.model.ids() if pane.model.value(i, "name") == name)


def _type(dialog, field: str, value: str) -> None:
    """Types ``value`` into the dialog's ``field``, as a user editing it would."""
    dialog.editors[field].set_value(value)
    dialog.editors[field].changed.emit()


async def _safe_mode_on(win, session) -> None:
    win.safe_action.trigger()
    await until(lambda: session.safe.get("on"), what="safe mode")


def _unreachable(session) -> dict:
    """Makes the session's reconnects fail (the router away) until the returned ``["on"]`` is set False."""
    real = session._reopen
    away = {"on": True}

    async def unreachable():
        if away["on"]:
            raise ConnectionRefusedError(111, "Connection refused")
        return await real()
    session._reopen = unreachable
    return away


async def _ether2_dialog(win):
    """The ethernet table, ether2's id in it and ether2's item dialog, loaded."""
    pane = await _pane(win, "/interface/ethernet")
    ether2 = _named(pane, "ether2")
    dialog = win.open_item("/interface/ethernet", ether2)
    await until(lambda: dialog.original.get("mtu") == "1500", what="the dialog")
    return pane, ether2, dialog


def _boxes(title_part: str = "") -> list[QtWidgets.QMessageBox]:
    return [w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, QtWidgets.QMessageBox) and is_alive(w) and w.isVisible()
            and title_part in w.windowTitle()]


def _press(box: QtWidgets.QMessageBox, text_part: str) -> None:
    button = next(b for b in box.buttons() if text_part in b.text())
    button.click()


async def _answer(title_part: str, button: str) -> str:
    await until(lambda: _boxes(title_part), what="the question %r" % title_part)
    box = _boxes(title_part)[0]
    text = box.text()
    _press(box, button)
    return text


async def _ssh_session(state_dir, ssh_connection: str):
    """A session whose bridge believes it was started by sshd for ``ssh_connection``."""
    from winbox_py.backend.session import Session
    from winbox_py.backend.transport import LocalTransport
    argv = ["--driver", "sim", "--state-dir", str(state_dir), "--seed", "7", "bridge"]

    async def reopen():
        return await LocalTransport.start(argv, env={"SSH_CONNECTION": ssh_connection})
    return await Session.over(await reopen(), reopen=reopen)


def test_the_safe_mode_button_takes_it_and_turning_it_off_keeps_the_changes(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        win = await _main(session, qtbot)
        assert win.safe_action.isEnabled() and win.undo_action.isEnabled()
        await _safe_mode_on(win, session)
        await until(lambda: win.safe_banner.isVisible(), what="the banner")
        assert "SAFE MODE" in win.safe_banner.text() and win.safe_action.isChecked()
        # a second desktop is told who holds it, and its toolbar button is not pressed
        other = await open_session()
        win2 = await _main(other, qtbot)
        await until(lambda: win2.safe_banner.isVisible(), what="the other desktop's banner")
        assert "held by" in win2.safe_banner.text() and not win2.safe_action.isChecked()
        await session.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        win.safe_action.trigger()                                  # off: keep
        await until(lambda: not session.safe.get("on") and not win.safe_banner.isVisible(), what="safe mode off")
        await until(lambda: not win2.safe_banner.isVisible(), what="the other banner to go")
        assert "192.0.2.1/24" in [r["address"] for r in await other.print("/ip/address")]
        win2.close()
    run(scenario())


def test_changes_are_undone_after_a_long_disconnection_and_the_desktop_says_what(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        win = await _main(session, qtbot)
        pane = await _pane(win, "/ip/address")
        await _safe_mode_on(win, session)
        await session.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        await session.set("/system/identity", [], {"name": "probation"})
        await until(lambda: pane.model.rowCount() == 1, what="the new address in the table")
        # the router is out of reach longer than the agent waits (its grace period)
        away = _unreachable(session)
        session._client.transport.kill()
        await until(lambda: not win.connected, what="the loss to show")
        assert win.banner.isVisible() and win.reconnect_button.isVisible()
        await until(lambda: "retrying" in win.banner.text(), what="the retry message")
        await asyncio.sleep(5.0)                                   # past the agent's 4 s grace period
        away["on"] = False
        win.reconnect_button.click()
        await until(lambda: win.connected, what="the reconnect", timeout=20)
        await until(lambda: win.rollback_reports, what="the rollback report", timeout=10)
        dialog = win.rollback_reports[-1]
        undone = [dialog.undone.item(i).text() for i in range(dialog.undone.count())]
        assert len(undone) == 2 and any("192.0.2.1/24" in line for line in undone)
        assert "undid 2 changes" in dialog.summary.text() and "did not come back" in dialog.summary.text()
        assert not win.safe_action.isChecked() and not win.safe_banner.isVisible()
        await until(lambda: pane.model.loaded and pane.model.rowCount() == 0, what="the address gone from the table")
        assert "probation" not in win.windowTitle()
        dialog.accept()
    run(scenario(), timeout=90)


def test_a_desktop_back_in_time_keeps_safe_mode(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        win = await _main(session, qtbot)
        await _safe_mode_on(win, session)
        await session.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        session._client.transport.kill()                      # a blip: the window reconnects at once
        await until(lambda: not win.connected, what="the loss")
        await until(lambda: win.connected, what="the reconnect", timeout=20)
        await asyncio.sleep(5.0)                              # longer than the grace period
        status = await session.safe_mode_status()
        assert status["on"] and status["changes"] == 1
        assert win.safe_action.isChecked() and win.safe_banner.isVisible() and not win.rollback_reports
        win.safe_action.trigger()
        await until(lambda: not session.safe.get("on"), what="safe mode off")
        assert "192.0.2.1/24" in [r["address"] for r in await session.print("/ip/address")]
    run(scenario(), timeout=90)


def test_a_change_that_may_cut_the_connection_is_asked_about_first(run, open_session, qtbot):
    async def scenario():
        admin = await open_session()
        await admin.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1"})
        session = await _ssh_session(open_session.state_dir, "10.0.0.7 50022 10.0.0.1 22")
        try:
            win = await _main(session, qtbot)
            pane = await _pane(win, "/interface/ethernet")
            ether1 = _named(pane, "ether1")
            _select(pane, ether1)
            pane.disable_action.trigger()
            text = await _answer("may cut your connection", "Cancel")
            assert "disables interface ether1" in text and "Turn on Safe Mode" in text
            await asyncio.sleep(0.3)
            assert (await admin.get("/interface/ethernet", "ether1"))["disabled"] == "no"
            pane.disable_action.trigger()
            await _answer("may cut your connection", "Disable anyway")
            await until(lambda: "X" in pane.model.value(ether1, ".flags"), what="ether1 disabled")
            await admin.enable("/interface/ethernet", ["ether1"])
            # the item dialog asks too, and keeps the form when the answer is no
            addr = (await session.print("/ip/address"))[0][".id"]
            dialog = win.open_item("/ip/address", addr)
            await until(lambda: dialog.original.get("address") == "10.0.0.1/24", what="the address dialog")
            _type(dialog, "address", "10.0.0.2/24")
            dialog.ok_button.click()
            text = await _answer("may cut your connection", "Cancel")
            assert "10.0.0.1/24" in text
            await asyncio.sleep(0.3)
            assert is_alive(dialog) and dialog.isVisible() and dialog.editors["address"].value() == "10.0.0.2/24"
            assert (await admin.get("/ip/address", addr))["address"] == "10.0.0.1/24"
            # a harmless change is not asked about
            dialog.editors["address"].set_value("10.0.0.1/24")
            dialog.dirty.clear()
            dialog.close()
            ether3 = _named(pane, "ether3")
            _select(pane, ether3)
            pane.disable_action.trigger()
            await until(lambda: "X" in pane.model.value(ether3, ".flags"), what="ether3 disabled")
            assert not _boxes("may cut")
            win.close()
        finally:
            await session.close()
    run(scenario())


def test_an_outdated_form_is_refused_on_its_field_and_can_be_reloaded(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        other = await open_session()
        win = await _main(session, qtbot)
        pane, ether2, dialog = await _ether2_dialog(win)
        _type(dialog, "mtu", "1400")
        await other.set("/interface/ethernet", "ether2", {"mtu": "1300"})      # someone else, meanwhile
        await until(lambda: pane.model.value(ether2, "mtu") == "1300", what="the other change in the table")
        assert dialog.editors["mtu"].value() == "1400"                          # what was typed stays
        dialog.apply_button.click()
        await until(lambda: dialog.reload_button.isVisible(), what="the conflict")
        assert "changed since the form was loaded" in dialog.error_label.text()
        assert "1300" in dialog.error_label.text()
        assert "changed since" in (dialog.editors["mtu"]._error or "")            # on the field itself
        assert (await other.get("/interface/ethernet", "ether2"))["mtu"] == "1300"   # nothing overwritten
        dialog.reload_button.click()
        await until(lambda: dialog.editors["mtu"].value() == "1300", what="the reload")
        assert not dialog.reload_button.isVisible() and dialog.error_label.text() == ""
        # now the form is current: the same change goes through
        _type(dialog, "mtu", "1400")
        dialog.apply_button.click()
        await until(lambda: pane.model.value(ether2, "mtu") == "1400", what="the change applied")
        dialog.close()
    run(scenario())


def _daemon_pid(state_dir) -> int:
    return int((state_dir / "daemon.pid").read_text().split()[0])


def test_the_desktop_survives_the_agent_dying_the_link_dropping_and_a_reboot(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        other = await open_session()
        win = await _main(session, qtbot)
        ifaces = await _pane(win, "/interface/ethernet")
        pools = await _pane(win, "/ip/pool")
        state = open_session.state_dir

        async def resynced(change, what):
            await until(lambda: win.connected and ifaces.model.loaded and pools.model.loaded, timeout=30,
                        what="the windows back after " + what)
            await change()
            await until(lambda: any(pools.model.value(i, "name") == what.split()[0] for i in pools.model.ids()),
                        what="a change made after %s shown live" % what, timeout=15)

        # 1. the agent dies (its daemon is killed): the window says so and a new agent takes over
        os.kill(_daemon_pid(state), signal.SIGKILL)
        await until(lambda: not win.connected, what="the agent's death noticed")
        assert win.banner.isVisible() and "Disconnected" in win.banner.text()
        assert ifaces.model.rowCount() == 0 and not ifaces.view.isEnabled()
        await until(lambda: win.connected, what="reconnected to a new agent", timeout=30)
        await other.reconnect()
        await resynced(lambda: other.add("/ip/pool", {"name": "agent", "ranges": "10.0.0.1-10.0.0.9"}), "agent death")

        # 2. the connection drops (the bridge is killed)
        session._client.transport.kill()
        await until(lambda: not win.connected, what="the drop noticed")
        await resynced(lambda: other.add("/ip/pool", {"name": "link", "ranges": "10.0.1.1-10.0.1.9"}), "link drop")

        # 3. the router reboots: away for a while, then back with its configuration
        away = _unreachable(session)
        os.kill(_daemon_pid(state), signal.SIGKILL)
        await until(lambda: not win.connected, what="the reboot noticed")
        await until(lambda: "retrying" in win.banner.text(), what="the retries shown", timeout=15)
        assert win.reconnect_button.isVisible()
        away["on"] = False
        win.reconnect_button.click()
        await until(lambda: win.connected, what="back after the reboot", timeout=20)
        await other.reconnect()
        await resynced(lambda: other.add("/ip/pool", {"name": "reboot", "ranges": "10.0.2.1-10.0.2.9"}), "reboot")
        names = {pools.model.value(i, "name") for i in pools.model.ids()}
        assert names == {"agent", "link", "reboot"}
        assert not win.banner.isVisible() and not win.reconnect_button.isVisible()
    run(scenario(), timeout=120)


def test_closing_in_safe_mode_asks_whether_to_keep_the_changes(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        other = await open_session()
        win = await _main(session, qtbot)
        await _safe_mode_on(win, session)
        await session.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        win.close()
        text = await _answer("Safe Mode is on", "Cancel")
        assert "1 change on probation" in text
        await asyncio.sleep(0.2)
        assert win.isVisible() and session.safe.get("on")            # nothing happened
        win.close()
        await _answer("Safe Mode is on", "Undo them")
        await until(lambda: not win.isVisible(), what="the window to close")
        assert [r["address"] for r in await other.print("/ip/address")] == []
    run(scenario())


def test_an_open_item_dialog_shows_what_changed_while_the_connection_was_down(run, open_session, qtbot):
    async def scenario():
        session = await open_session()
        other = await open_session()
        win = await _main(session, qtbot)
        pane, ether2, dialog = await _ether2_dialog(win)
        _type(dialog, "name", "lan2")                 # being edited: kept
        away = _unreachable(session)
        session._client.transport.kill()
        await until(lambda: not win.connected, what="the loss")
        await other.set("/interface/ethernet", "ether2", {"mtu": "1300"})     # meanwhile
        away["on"] = False
        win.reconnect_button.click()
        await until(lambda: win.connected, what="the reconnect", timeout=20)
        await until(lambda: dialog.editors["mtu"].value() == "1300", what="the dialog brought up to date")
        assert dialog.original["mtu"] == "1300" and dialog.editors["name"].value() == "lan2"
        assert dialog.ok_button.isEnabled() and dialog.error_label.text() == ""
        dialog.ok_button.click()                                  # the typed change goes through
        await until(lambda: pane.model.has(ether2) and pane.model.value(ether2, "name") == "lan2",
                    what="the rename")
        assert (await other.get("/interface/ethernet", "lan2"))["mtu"] == "1300"
    run(scenario(), timeout=90)
