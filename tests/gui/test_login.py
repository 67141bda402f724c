"""The login window: connecting, errors in plain words, the address book,
MNDP neighbors (real packets on loopback), the host key question."""

from __future__ import annotations

import asyncio
import socket

import keyring.backends.fail

from tests.gui.conftest import until
from winbox_py.backend import mndp
from winbox_py.backend.addressbook import AddressBook
from winbox_py.backend.credentials import Credentials
from winbox_py.backend.ssh import ConnectError

from winbox_py.views import hostkey
from winbox_py.views.login import LoginWindow


def _login(tmp_path, connector, qtbot, listen=False) -> LoginWindow:
    book = AddressBook(tmp_path / "addresses.json")
    creds = Credentials(keyring.backends.fail.Keyring())  # no secure store here: memory only
    w = LoginWindow(connector, book, creds, listen_neighbors=listen)
    qtbot.addWidget(w)
    w.show()
    return w


def test_connect_opens_a_session_and_remembers_the_password_for_the_session(run, open_session, qtbot, tmp_path):
    calls = []

    async def connector(address, user, password, keyfile, decide):
        calls.append((address, user, password, keyfile))
        return await open_session()

    async def scenario():
        w = _login(tmp_path, connector, qtbot)
        got = []
        w.connected.connect(lambda s, a, keep: got.append((s, a, keep)))
        w.address.setText("192.0.2.1:2222")
        w.user.setText("ops")
        w.password.setText("s3cret")
        w.remember.setChecked(True)
        w.new_window.setChecked(True)
        w.connect_button.click()
        await until(lambda: got, what="the connection")
        session, address, keep = got[0]
        assert calls == [("192.0.2.1:2222", "ops", "s3cret", None)]
        assert address == "192.0.2.1:2222" and keep is True and session.schema
        assert "only until the program exits" in w.status.text()  # no secure store: said plainly
        assert w.credentials.get("192.0.2.1:2222", "ops") == "s3cret"
    run(scenario())


def test_a_refused_login_is_said_in_plain_words_and_nothing_typed_is_lost(run, qtbot, tmp_path):
    async def connector(address, user, password, keyfile, decide):
        raise ConnectError("auth-refused", "%s: authentication failed" % address)

    async def scenario():
        w = _login(tmp_path, connector, qtbot)
        w.address.setText("192.0.2.9")
        w.password.setText("wrong")
        w.connect_button.click()
        await until(lambda: "refused the login" in w.status.text(), what="the error")
        assert w.address.text() == "192.0.2.9" and w.password.text() == "wrong"
        assert w.connect_button.isEnabled()
        w.address.clear()
        w.connect_button.click()
        assert "Connect To" in w.status.text()
    run(scenario())


def test_saved_routers_fill_the_form_and_survive_a_restart(run, qtbot, tmp_path):
    async def connector(*args):
        raise AssertionError("not connecting in this test")

    async def scenario():
        w = _login(tmp_path, connector, qtbot)
        w.address.setText("192.0.2.7")
        w.user.setText("ops")
        w.save_current()
        dlg = w.saved.dialog
        dlg.group.setEditText("lab")
        dlg.comment.setText("test CHR")
        dlg._ok()
        assert w.saved.table.rowCount() == 1
        again = AddressBook(tmp_path / "addresses.json")
        assert [(e.address, e.user, e.group, e.comment) for e in again.entries] == [
            ("192.0.2.7", "ops", "lab", "test CHR")]
        w.address.clear()
        w.saved.table.cellClicked.emit(0, 0)
        assert w.address.text() == "192.0.2.7" and w.user.text() == "ops"
        # a bad address is refused in the dialog, naming the field
        w.saved.edit(None, {"address": "not an address!"})
        bad = w.saved.dialog
        bad._ok()
        assert "address" in bad.error.text()
        bad.reject()
        w.saved.table.selectRow(0)
        w.saved.remove_current()
        assert w.saved.table.rowCount() == 0
        # export and import
        w.book.put({"address": "198.51.100.5", "user": "admin"})
        w.book.export_to(tmp_path / "export.json")
        w.book.remove("198.51.100.5", "admin")
        added, problems = w.book.import_from(tmp_path / "export.json")
        w.saved.reload()
        assert added == 1 and w.saved.table.rowCount() == 1
    run(scenario())


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_neighbors_heard_over_mndp_fill_connect_to(run, qtbot, tmp_path):
    port = _free_udp_port()

    async def connector(*args):
        raise AssertionError("not connecting in this test")

    async def scenario():
        from winbox_py.views.neighbors import NeighborsTab
        w = _login(tmp_path, connector, qtbot)
        tab = NeighborsTab(port=port, host="127.0.0.1", discover_to="127.0.0.1")
        qtbot.addWidget(tab)
        tab.address_chosen.connect(w.address.setText)
        tab.start()
        await until(lambda: tab.listener.port_bound, what="the listener")
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(mndp.encode(mndp.Neighbor(mac="02:00:00:00:00:09", identity="edge-1", version="7.18",
                                                board="CHR", ipv4="192.0.2.44", interface="ether1")),
                      ("127.0.0.1", port))
        sender.sendto(b"\x00\x01\x00\x00\xff", ("127.0.0.1", port))  # junk from the LAN
        sender.close()
        await until(lambda: tab.table.rowCount() == 1, what="the neighbor")
        cells = [tab.table.item(0, c).text() for c in range(tab.table.columnCount())]
        assert cells[:5] == ["02:00:00:00:00:09", "192.0.2.44", "", "edge-1", "7.18"]
        tab.table.cellClicked.emit(0, 3)
        assert w.address.text() == "192.0.2.44"
        tab.stop()
    run(scenario())


def test_the_host_key_question_shows_the_fingerprint(run, qtbot):
    async def scenario():
        task = asyncio.ensure_future(hostkey.ask("192.0.2.1", "SHA256:abcdEFGH1234"))
        await until(lambda: getattr(hostkey.ask, "last_box", None) is not None and
                    hostkey.ask.last_box.isVisible(), what="the question")
        box = hostkey.ask.last_box
        assert "SHA256:abcdEFGH1234" in box.text() and "192.0.2.1" in box.text()
        box.accept_button.click()
        assert await task is True
        task = asyncio.ensure_future(hostkey.ask("192.0.2.1", "SHA256:other"))
        await until(lambda: hostkey.ask.last_box is not box and hostkey.ask.last_box.isVisible(), what="again")
        hostkey.ask.last_box.refuse_button.click()
        assert await task is False
    run(scenario())

