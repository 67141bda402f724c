"""System > License and Renew License end to end: the real dialogs, the real
sim agent, the real account server (``python3 -m license_server``) on
loopback. Free to a p1 trial and a renewal; a wrong password; the server
down; a tampered key; an unknown level; a second renewal while one runs;
Generate New ID asking first and refused once the level is not free."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.gui.conftest import main_window, until
from tests.license.conftest import LicenseServer, RogueServer, Servers
from winbox_py.qt import QtWidgets, is_alive
from winbox_py.views.license import LicenseWindow
from winbox_py.views.renewdialog import RenewDialog

LICENSE = "/system/license"


@pytest.fixture
def account_server(tmp_path):
    """``account_server()``: a running account server with alice / wonderland (or ``accounts``)."""
    servers = Servers(tmp_path / "servers")

    def start(accounts: dict[str, str] | None = None) -> LicenseServer:
        return servers.start(accounts or {"alice": "wonderland"}, name="server%d" % len(servers.started))
    yield start
    servers.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _license_window(win) -> LicenseWindow:
    lic = win.open_path(LICENSE)
    assert isinstance(lic, LicenseWindow)
    await until(lambda: lic.value("system-id"), what="the license values")
    return lic


async def _license_window_using(server, open_session, qtbot):
    """(session, main window, License window) on a router set to renew at ``server``."""
    session, win = await main_window(open_session, qtbot)
    await _use_server(session, server.address, server.public_key)
    return session, win, await _license_window(win)


async def _use_server(session, address: str, public_key: str) -> None:
    await session.set(LICENSE, None, {"license-server": address, "license-server-key": public_key})


async def _renew(lic: LicenseWindow, account: str, password: str, level: str = "p1",
                 timeout: float = 40) -> RenewDialog:
    dialog = lic.renew()
    dialog.account.setText(account)
    dialog.password.setText(password)
    dialog.level.setEditText(level)
    await _start(dialog, "the renewal to end", timeout)
    return dialog


async def _start(dialog: RenewDialog, what: str, timeout: float = 40) -> None:
    """Start pressed in the Renew dialog, and until its renewal has an outcome."""
    dialog.start_button.click()
    await until(lambda: dialog.outcome, what=what, timeout=timeout)


async def _take_trial(lic: LicenseWindow) -> None:
    """A renewal to the p1 trial as alice, through, and until the License window shows it."""
    assert (await _renew(lic, "alice", "wonderland")).outcome == "done"
    await until(lambda: lic.value("level") == "p1", what="the trial")


def test_free_to_a_p1_trial_then_a_renewal_through_the_dialogs(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        session, win = await main_window(open_session, qtbot)
        lic = await _license_window(win)
        assert lic.value("level") == "free" and not lic.value("next-renewal-at")
        assert lic.speed.text() == "Speed limit: 1 Mbit/s upload per interface"
        assert not lic.limited.isChecked()
        assert [b.text() for b in (lic.ok_button, lic.generate_button, lic.renew_button)] == \
            ["OK", "Generate New ID", "Renew License"]
        system_id = lic.value("system-id")
        # the account server is set in the menu's own dialog, opened by Server...
        lic.server_button.click()
        settings = win.dialogs[(LICENSE, None)]
        await until(lambda: "license-server" in settings.original, what="the settings dialog")
        settings.editors["license-server"].set_value(server.address)
        settings.editors["license-server"].changed.emit()
        settings.editors["license-server-key"].set_value(server.public_key)
        settings.editors["license-server-key"].changed.emit()
        settings.ok_button.click()
        await until(lambda: not is_alive(settings) or not settings.isVisible(), what="the settings to apply")
        assert (await session.get(LICENSE))["license-server"] == server.address

        dialog = await _renew(lic, "alice", "wonderland", "p1")
        assert dialog.outcome == "done", dialog.status_text()
        assert dialog.statuses[0] == "connecting" and dialog.statuses[-1] == "done"
        assert "renewing" in dialog.statuses
        assert dialog.status_text() == "done"
        await until(lambda: lic.value("level") == "p1", what="the License window to show the trial")
        assert lic.value("system-id") == system_id
        assert lic.value("next-renewal-at") and lic.value("deadline-at")
        assert lic.speed.text() == "Speed limit: 1 Gbit/s upload per interface"
        # a renewal of the trial: a new key, the same level
        await _start(dialog, "the second renewal")
        assert dialog.outcome == "done" and dialog.statuses[-1] == "done"
        assert lic.value("level") == "p1" and lic.value("next-renewal-at")
        logs = [r["message"] for r in await session.print("/log")]
        assert sum(m.startswith("license renewed: level p1 (trial)") for m in logs) == 2
        # many seconds without a license change: still shown as live, not greyed as stale
        assert lic.feed.state == "live" and lic.fields["level"].isEnabled() and not lic.state_label.isVisible()
        dialog.close()
        lic.ok_button.click()
        await until(lambda: not is_alive(lic) or not lic.isVisible(), what="OK to close the window")
        win.close()
    run(scenario(), timeout=120)


def test_a_wrong_password_and_a_server_that_is_down_change_nothing(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        session, win, lic = await _license_window_using(server, open_session, qtbot)
        dialog = await _renew(lic, "alice", "not-the-password")
        assert dialog.outcome == "error" and dialog.status_text() == "ERROR: Unauthorized"
        assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
        assert lic.value("level") == "free"
        # the server goes away
        port = _free_port()
        await _use_server(session, "127.0.0.1:%d" % port, server.public_key)
        dialog.password.setText("wonderland")
        await _start(dialog, "the renewal to fail")
        assert dialog.status_text() == \
            "ERROR: cannot reach the license server 127.0.0.1:%d: connection refused" % port
        assert (await session.get(LICENSE))["level"] == "free" and lic.value("level") == "free"
        win.close()
    run(scenario(), timeout=120)


def test_a_tampered_key_is_refused_and_the_license_stays(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        session, win, lic = await _license_window_using(server, open_session, qtbot)
        await _take_trial(lic)
        before = {k: lic.value(k) for k in ("level", "next-renewal-at", "deadline-at")}
        key_file = next(Path(open_session.state_dir).rglob("license.key"))
        kept = key_file.read_text()
        # someone edits the key the router keeps: the level is the router's record, not the file's
        key_file.write_text(kept.replace("level: p1", "level: p-unlimited"))
        lic.close()
        lic = await _license_window(win)
        assert lic.value("level") == "p1"
        # and a server that hands out an altered key is refused
        impostor = RogueServer(kept.replace("level: p1", "level: p-unlimited"))
        try:
            await _use_server(session, impostor.address, server.public_key)
            dialog = await _renew(lic, "alice", "wonderland", "p-unlimited")
        finally:
            impostor.stop()
        assert dialog.outcome == "error"
        assert dialog.status_text() == "ERROR: key refused: its signature does not match: the key was altered"
        assert {k: lic.value(k) for k in before} == before
        assert lic.speed.text() == "Speed limit: 1 Gbit/s upload per interface"
        win.close()
    run(scenario(), timeout=120)


def test_an_unknown_level_and_missing_fields_are_named(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        session, win, lic = await _license_window_using(server, open_session, qtbot)
        dialog = lic.renew()
        assert [dialog.level.itemText(i) for i in range(dialog.level.count())] == ["p1", "p10", "p-unlimited"]
        dialog.start_button.click()
        assert dialog.status_text() == "account: enter the account name" and dialog.stream is None
        dialog.account.setText("alice")
        dialog.start_button.click()
        assert dialog.status_text() == "password: enter the account's password"
        dialog.password.setText("wonderland")
        dialog.level.setEditText("p5")
        dialog.start_button.click()
        await until(lambda: dialog.outcome, what="the agent's answer")
        assert dialog.outcome == "error"
        assert dialog.status_text() == "level: p5 is not one of p1 | p10 | p-unlimited"
        assert "#d02020" in dialog.level.styleSheet() and dialog.level.toolTip() == dialog.status_text()
        assert lic.value("level") == "free"
        assert dialog.start_button.isEnabled()
        win.close()
    run(scenario())


def test_a_second_renewal_while_one_runs_is_refused(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        silent = socket.socket()  # accepts connections and never answers: the first renewal waits
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        try:
            session, win = await main_window(open_session, qtbot)
            await _use_server(session, "127.0.0.1:%d" % silent.getsockname()[1], server.public_key)
            lic = await _license_window(win)
            first = lic.renew()
            first.account.setText("alice")
            first.password.setText("wonderland")
            first.start_button.click()
            await until(lambda: first.statuses == ["connecting"], what="the first renewal to run")
            assert not first.start_button.isEnabled() and first.stop_button.isEnabled()
            # a second desktop on the same router
            other, win2 = await main_window(open_session, qtbot, session=await open_session())
            lic2 = await _license_window(win2)
            second = await _renew(lic2, "alice", "wonderland", "p10")
            assert second.outcome == "error"
            assert second.status_text() == "ERROR: another renewal is already running"
            assert first.outcome == ""  # still waiting for its server
            first.stop_button.click()
            assert first.outcome == "stopped" and first.start_button.isEnabled()
            assert first.status_text().startswith("stopped \u2014 the router still takes the server's answer")
            assert lic.value("level") == "free"
            win2.close()
            win.close()
        finally:
            silent.close()
    run(scenario(), timeout=120)


def test_generate_new_id_asks_first_and_is_refused_unless_free(run, open_session, qtbot, account_server):
    async def scenario():
        server = account_server()
        session, win, lic = await _license_window_using(server, open_session, qtbot)
        old = lic.value("system-id")
        lic.generate_button.click()
        assert lic.confirm is not None and lic.confirm.isVisible()
        assert "new system ID" in lic.confirm.text()
        lic.confirm.button(QtWidgets.QMessageBox.No).click()
        await until(lambda: lic.confirm is None, what="the question to go")
        assert (await session.get(LICENSE))["system-id"] == old  # No changes nothing
        lic.generate_button.click()
        lic.confirm.button(QtWidgets.QMessageBox.Yes).click()
        await until(lambda: lic.value("system-id") != old, what="a new system ID")
        new = lic.value("system-id")
        assert lic.message.text() == "New system ID: %s" % new
        assert (await session.get(LICENSE))["system-id"] == new
        # with a trial the router refuses, and the window says why
        await _take_trial(lic)
        lic.generate_button.click()
        lic.confirm.button(QtWidgets.QMessageBox.Yes).click()
        await until(lambda: lic.message.text(), what="the refusal")
        assert lic.message.text().startswith("generate-new-id is allowed only on the free license level: "
                                             "this router has a p1 license")
        assert lic.value("system-id") == new
        win.close()
    run(scenario(), timeout=120)


def test_remember_password_keeps_it_only_after_a_renewal_that_went_through(run, open_session, qtbot,
                                                                           account_server):
    async def scenario():
        import keyring.backends.fail
        from winbox_py.backend.credentials import Credentials
        from winbox_py.views.renewdialog import credential_address
        server = account_server()
        session, win = await main_window(open_session, qtbot)
        await _use_server(session, server.address, server.public_key)
        credentials = Credentials(keyring.backends.fail.Keyring())  # no secure store here: this session only
        lic = LicenseWindow(session, credentials, parent=win)
        lic.show()
        await until(lambda: lic.value("system-id"), what="the license")
        dialog = lic.renew()
        assert dialog.remember.isEnabled() and "no secure password store" in dialog.remember.toolTip()
        dialog.account.setText("alice")
        dialog.password.setText("wrong")
        dialog.remember.setChecked(True)
        await _start(dialog, "the refusal")
        assert dialog.outcome == "error"
        assert credentials.get(credential_address(server.address), "alice") is None  # a wrong one is not kept
        dialog.password.setText("wonderland")
        await _start(dialog, "the renewal")
        assert dialog.outcome == "done"
        assert credentials.get(credential_address(server.address), "alice") == "wonderland"
        dialog.close()
        await until(lambda: lic.renew_dialog is None, what="the dialog to go")
        again = lic.renew()
        assert again is not dialog and again.password.text() == ""
        again.account.setText("alice")
        again.account.editingFinished.emit()  # leaving the field fills the password from the store
        assert again.password.text() == "wonderland" and again.remember.isChecked()
        lic.close()
        win.close()
    run(scenario(), timeout=120)
