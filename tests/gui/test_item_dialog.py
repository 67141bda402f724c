"""Item dialogs against the real agent: add through the dialog, the agent's
refusal shown on its field, Apply sending only what changed, live Status."""

from __future__ import annotations

from tests.gui.conftest import main_window, until
from winbox_py.qt import QtWidgets, is_alive
from winbox_py.views.editors import BoolEditor, EnumEditor, IntEditor, RefEditor, SetEditor


def _type(editor, text: str) -> None:
    """Type into a line editor as a person would."""
    from winbox_py.qt import QtTest
    line = editor.focus_widget()
    line.setFocus()
    line.selectAll()
    QtTest.QTest.keyClicks(line, text)


def test_add_a_pppoe_client_through_its_dialog_and_see_it_in_the_table(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        window = win.open_path("/interface/pppoe-client")
        pane = window.pane("/interface/pppoe-client")
        await until(lambda: pane.model.loaded, what="the PPPoE client table")
        assert pane.model.rowCount() == 0
        pane.add_action.trigger()
        dialog = next(d for d in win.findChildren(QtWidgets.QDialog) if d.windowTitle().startswith("New "))
        # the dialog is built from the schema: tabs and typed editors
        tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
        assert tabs[:2] == ["General", "Dial Out"] and "Status" in tabs[2:]  # read-only values on Status
        assert isinstance(dialog.editors["max-mtu"], IntEditor)
        assert isinstance(dialog.editors["allow"], SetEditor)
        assert isinstance(dialog.editors["add-default-route"], BoolEditor)
        assert isinstance(dialog.editors["interface"], RefEditor)
        await until(lambda: "ether1" in dialog.editors["interface"].choices(), what="interface choices")
        _type(dialog.editors["name"], "pppoe-isp")
        dialog.editors["interface"].set_value("ether1")
        dialog.editors["interface"].changed.emit()
        _type(dialog.editors["user"], "MT-User")
        dialog.editors["allow"].boxes["pap"].click()  # untick pap
        dialog.ok_button.click()
        await until(lambda: pane.model.rowCount() == 1, what="the new client in the table")
        item = pane.model.ids()[0]
        assert pane.model.value(item, "name") == "pppoe-isp"
        assert pane.model.value(item, "interface") == "ether1"
        assert pane.model.value(item, "user") == "MT-User"
        got = await session.get("/interface/pppoe-client", item)
        assert got["allow"] == "mschap2,mschap1,chap"
        assert got["max-mtu"] == "1460"  # untouched defaults are not sent
        await until(lambda: not is_alive(dialog) or not dialog.isVisible(), what="OK to close the dialog")
        win.close()
    run(scenario())


def test_an_out_of_range_mtu_is_refused_with_the_agents_message_on_the_field(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await session.add("/interface/pppoe-client", {"name": "pppoe-out1", "interface": "ether1",
                                                            "user": "u1"})
        window = win.open_path("/interface/pppoe-client")
        pane = window.pane("/interface/pppoe-client")
        await until(lambda: pane.model.rowCount() == 1, what="the client row")
        pane.view.doubleClicked.emit(pane.model.index(0, 1))
        dialog = win.dialogs[("/interface/pppoe-client", item)]
        await until(lambda: dialog.editors["user"].value() == "u1", what="the item's values")
        dialog.tabs.setCurrentIndex(1)
        _type(dialog.editors["user"], "renamed-user")
        dialog.editors["max-mtu"].set_text("70000")
        dialog.apply_button.click()
        await until(lambda: dialog.editors["max-mtu"].error, what="the error on max-mtu")
        assert "70000" in dialog.editors["max-mtu"].error and "64..65535" in dialog.editors["max-mtu"].error
        assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "General"  # brought to the field's tab
        assert dialog.error_label.text() == dialog.editors["max-mtu"].error
        # nothing is lost: what was typed is still there, and nothing was saved
        assert dialog.editors["user"].value() == "renamed-user"
        assert "user" in dialog.dirty and "max-mtu" in dialog.dirty
        assert (await session.get("/interface/pppoe-client", item))["user"] == "u1"
        # fixing the value applies both changes
        dialog.editors["max-mtu"].set_text("1480")
        dialog.apply_button.click()
        await until(lambda: pane.model.value(item, "user") == "renamed-user", what="the applied change")
        got = await session.get("/interface/pppoe-client", item)
        assert got["max-mtu"] == "1480" and got["user"] == "renamed-user"
        assert dialog.editors["max-mtu"].error is None
        win.close()
    run(scenario())


def test_apply_sends_only_what_changed(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        item = await session.add("/interface/pppoe-client", {"name": "c1", "interface": "ether1", "user": "a"})
        dialog = win.open_item("/interface/pppoe-client", item)
        await until(lambda: dialog.original.get("user") == "a", what="loaded values")
        assert dialog.changes() == ({}, [])
        # another session changes the password meanwhile; our Apply must not undo it
        await session.set("/interface/pppoe-client", [item], {"password": "secret2", "user": "b"})
        _type(dialog.editors["service-name"], "isp")
        values, unset = dialog.changes()
        assert values == {"service-name": "isp"} and unset == []
        dialog.apply_button.click()
        await until(lambda: not dialog.dirty, what="apply")
        got = await session.get("/interface/pppoe-client", item, sensitive=True)
        assert got["service-name"] == "isp" and got["password"] == "secret2" and got["user"] == "b"
        win.close()
    run(scenario())


def test_settings_menus_open_straight_into_their_dialog(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        entry = win.tree.entry("System/Identity")
        assert entry is not None
        dialog = win.open_entry(entry)
        assert isinstance(dialog, QtWidgets.QDialog) and dialog.windowTitle() == "Identity"
        await until(lambda: dialog.editors["name"].value() == "MikroTik", what="identity")
        _type(dialog.editors["name"], "core-gw")
        dialog.ok_button.click()
        await until(lambda: not is_alive(dialog) or not dialog.isVisible(), what="OK")
        assert (await session.print("/system/identity"))[0]["name"] == "core-gw"
        win.close()
    run(scenario())


def test_enum_editor_offers_the_schema_choices(qapp):
    prop = {"name": "arp", "type": {"kind": "enum", "choices": ["disabled", "enabled", "proxy-arp"]},
            "default": "enabled"}
    e = EnumEditor(prop)
    assert [e.combo.itemText(i) for i in range(e.combo.count())] == ["disabled", "enabled", "proxy-arp"]
    e.set_value("proxy-arp")
    assert e.value() == "proxy-arp"


def test_int_editor_words_and_limits(qapp):
    prop = {"name": "mrru", "type": {"kind": "int", "min": 512, "max": 65535, "words": ["disabled"]}}
    e = IntEditor(prop)
    assert (e.spin.minimum(), e.spin.maximum()) == (512, 65535)
    e.set_value("disabled")
    assert e.value() == "disabled" and not e.spin.isEnabled()
    e.set_value("1600")
    assert e.value() == "1600" and e.spin.isEnabled()

