"""Smoke: the main window opens on the demo agent and a table loads."""
from __future__ import annotations

from tests.gui.conftest import until


def test_main_window_opens_and_interfaces_load(run, open_session, qtbot):
    from winbox_py.views.mainwindow import MainWindow

    async def scenario():
        session = await open_session()
        win = MainWindow(session, "demo")
        qtbot.addWidget(win)
        win.show()
        window = win.open_path("/interface")
        pane = window.pane("/interface")
        await until(lambda: pane.model.loaded, what="the interface list")
        names = [pane.model.value(i, "name") for i in pane.model.ids()]
        assert "ether1" in names
        print(win.windowTitle(), names, win.tree.labels())
        win.close()
    run(scenario())
