"""The desktop program: Qt application, asyncio on the Qt loop, first window.

:func:`run` starts Qt with qasync (asyncio runs on Qt's event loop, so
nothing blocks it), then shows the login window, or with ``--demo`` connects
to the built-in demo router (a local agent on the simulated device) and opens
the main window directly. :func:`self_test` is the headless check the frozen
bundle runs: start the demo agent, connect, open a table, print it, exit 0.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any


STYLE = """
QMdiSubWindow { background: #f6f6f6; }
QTableView { gridline-color: #e0e0e0; selection-background-color: #2f6fc7; }
QHeaderView::section { padding: 2px 6px; }
QToolBar { spacing: 2px; }
"""


def demo_state_dir() -> str:
    """Where the demo router keeps its configuration between runs."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "winbox-py", "demo")


def make_app(argv: list[str] | None = None):
    """The QApplication and a qasync loop installed as asyncio's loop."""
    import qasync

    from winbox_py.qt import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or [sys.argv[0]])
    app.setApplicationName("winbox-py")
    app.setOrganizationName("winbox-py")
    app.setStyleSheet(STYLE)
    app.setQuitOnLastWindowClosed(False)  # the Desktop decides when the program ends
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return app, loop


async def open_demo(state_dir: str | None = None, seed: int | None = None, mode: str | None = None) -> Any:
    """The demo router: a local agent on the simulated device.

    A frozen build runs a private agent (``serve``): a shared daemon forked
    from a one-file bundle would outlive the files it was unpacked from."""
    from winbox_py.backend.session import Session
    state = state_dir or demo_state_dir()
    os.makedirs(state, exist_ok=True)
    if mode is None:
        mode = "serve" if getattr(sys, "frozen", False) else "bridge"
    return await Session.open_local(state_dir=state, driver="sim", seed=seed, mode=mode)


class Desktop:
    """The program's windows: the login window and one main window per router.

    Attributes:
        mains: the open main windows.
        login: the login window (None in demo mode until the main one closes).
        settings: the remembered layout.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        from winbox_py.backend.settings import Settings
        self.loop = loop
        self.settings = Settings()
        self.mains: list[Any] = []
        self.login: Any = None
        self.done = asyncio.Event()

    def show_login(self) -> None:
        from winbox_py.qt import Qt
        from winbox_py.views.login import LoginWindow
        self.login = LoginWindow()
        self.login.connected.connect(self.open_main)
        self.login.destroyed.connect(lambda *_: self._maybe_done())
        self.login.setAttribute(Qt.WA_DeleteOnClose)
        self.login.show()

    def open_main(self, session: Any, address: str, keep_login: bool = False):
        from winbox_py.qt import Qt
        from winbox_py.views.mainwindow import MainWindow
        key = "demo" if address == "demo" else None
        win = MainWindow(session, address, self.settings, key)
        win.setAttribute(Qt.WA_DeleteOnClose)
        win.closed.connect(lambda w=win: self._main_closed(w))
        self.mains.append(win)
        win.show()
        win.restore_layout()
        if self.login is not None and not keep_login:
            self.login.hide()
        return win

    def _main_closed(self, win: Any) -> None:
        if win in self.mains:
            self.mains.remove(win)
        if not self.mains:
            if self.login is not None and not self.login.isVisible():
                self.login.show()
            else:
                self._maybe_done()

    def _maybe_done(self) -> None:
        if not self.mains and (self.login is None or not self.login.isVisible()):
            self.done.set()


def run(demo: bool = False) -> int:
    """Run the desktop until its last window closes."""
    app, loop = make_app()
    desktop = Desktop(loop)

    async def main() -> int:
        if demo:
            try:
                session = await open_demo()
            except Exception as exc:
                from winbox_py.views.errors import plain
                print("winbox-py: the demo router did not start: %s" % plain(exc), file=sys.stderr)
                return 1
            desktop.open_main(session, "demo")
        else:
            desktop.show_login()
        app.lastWindowClosed.connect(desktop.done.set)
        await desktop.done.wait()
        return 0

    with loop:
        code = loop.run_until_complete(main())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=3))
    return code


def self_test(out=None) -> int:
    """Headless: demo agent, connect, open the Interfaces window, print its rows."""
    out = out or sys.stdout
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app, loop = make_app()

    async def check() -> int:
        from winbox_py.views.mainwindow import MainWindow
        with tempfile.TemporaryDirectory(prefix="winbox-self-test-") as state:
            session = await open_demo(state, seed=1, mode="serve")
            try:
                win = MainWindow(session, "demo")
                win.show()
                window = win.open_path("/interface")
                pane = window.pane("/interface")
                for _ in range(500):
                    if pane.model.loaded:
                        break
                    await asyncio.sleep(0.02)
                if not pane.model.loaded:
                    print("self-test: the /interface table did not load", file=sys.stderr)
                    return 1
                fields = pane.shown_columns()
                widths = [max(len(pane.model.columns[pane.model.column_of(f)].title), 6) for f in fields]
                rows = [[pane.model.value(i, f) for f in fields] for i in pane.model.ids()]
                for r in rows:
                    widths = [max(w, len(v)) for w, v in zip(widths, r)]
                titles = [pane.model.columns[pane.model.column_of(f)].title or "Flags" for f in fields]
                print("  ".join(t.ljust(w) for t, w in zip(titles, widths)), file=out)
                for r in rows:
                    print("  ".join(v.ljust(w) for v, w in zip(r, widths)), file=out)
                print("self-test: ok (%d interfaces, agent %s)" % (
                    len(rows), str(session.facts.get("agent_hash", "?"))[:12]), file=out)
                win.close()
                return 0 if rows else 1
            finally:
                await session.close()

    with loop:
        code = loop.run_until_complete(check())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=3))
    return code


