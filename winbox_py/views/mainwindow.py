"""The main window: menu tree, child windows, toolbar, resources bar.

Title ``user@address (identity) - winbox-py``. The menu tree on the left
opens child windows (several at once, in a QMdiArea) for menus; settings
menus open straight into their dialog. The toolbar holds Undo, Redo and Safe
Mode (disabled with a tooltip when the agent does not offer them) and the
session's address. When the connection drops every window forgets its rows
and the program tries to reconnect (Reconnect now tries at once); once back,
each window follows again. Safe Mode's banner, the report of a rollback and
the question whether to keep its changes on closing come from
views/safemode.py. Which windows were open, and where, is remembered per
router.
"""

from __future__ import annotations

import asyncio
from typing import Any

from winbox_py.backend.settings import Settings
from winbox_py.qt import QtCore, QtGui, QtWidgets, Qt, Signal, is_alive
from winbox_py.views import icons, jobs, livewindows
from winbox_py.views.errors import plain
from winbox_py.views.itemdialog import ItemDialog
from winbox_py.views.menutree import Entry, MenuTree
from winbox_py.views.menuwindow import MenuWindow
from winbox_py.views.resourcesbar import ResourcesBar
from winbox_py.views.safemode import RollbackReport, SafeModeBanner, ask_keep_on_close, ask_take_over
from winbox_py.views.terminal import TerminalWindow

RECONNECT_SECONDS = 3.0
NOT_AVAILABLE = "not available on this agent"


def capabilities(session: Any) -> set[str]:
    """What the agent offers (from its init), e.g. ``undo``, ``safe-mode``."""
    caps = getattr(session, "capabilities", None) or (getattr(session, "facts", {}) or {}).get("capabilities") or []
    return set(caps)


class MainWindow(QtWidgets.QMainWindow):
    """One router's window.

    Attributes:
        session: the back end's Session.
        address: what the user connected to (shown in the title).
        router_key: the key of this router's remembered layout.
        windows: entry key -> QMdiSubWindow.
        dialogs: (path, item id) -> ItemDialog.

    Signals:
        closed: the window closed (the session is closed too).
    """

    closed = Signal()

    def __init__(self, session: Any, address: str, settings: Settings | None = None,
                 router_key: str | None = None, parent=None):
        super().__init__(parent)
        self.session = session
        self.address = address
        self.settings = settings
        facts = session.facts or {}
        self.router_key = router_key or "%s@%s" % (facts.get("user", ""), address)
        self.windows: dict[str, QtWidgets.QMdiSubWindow] = {}
        self.dialogs: dict[tuple[str, str | None], ItemDialog] = {}
        self.connected = True
        self._closing = False
        self._reconnecting = False
        self._safe_syncing = False
        self._retry_now = asyncio.Event()
        self._close_decided = False
        self.rollback_reports: list[RollbackReport] = []
        self._build()
        self._connect_signals()
        self.tree.populate(session.schema)
        self._update_title()
        self.resources.start(session)
        self._identity_stream = None
        self._follow_identity()
        jobs.set_reporter(lambda exc: self.show_message(plain(exc)))
        if hasattr(session, "on_state"):
            session.on_state(self._session_state)
        if hasattr(session, "on_safe_mode"):
            session.on_safe_mode(self._safe_news)
            if "safe-mode" in capabilities(session):
                jobs.spawn(session.safe_mode_status(), on_error=lambda exc: None)

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.setWindowIcon(icons.icon("router"))
        self.toolbar = QtWidgets.QToolBar("Session", self)
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QtCore.QSize(18, 18))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.TopToolBarArea, self.toolbar)
        caps = capabilities(self.session)
        self.undo_action = self._session_action("undo", "Undo", "undo", caps, QtGui.QKeySequence.Undo)
        self.redo_action = self._session_action("redo", "Redo", "redo", caps, QtGui.QKeySequence.Redo)
        self.safe_action = self._session_action("safe", "Safe Mode", "safe-mode", caps, None)
        self.safe_action.setCheckable(True)
        spacer = QtWidgets.QWidget(self)
        spacer.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Preferred)
        self.toolbar.addWidget(spacer)
        self.session_label = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.session_label)

        self.tree = MenuTree(self)
        dock = QtWidgets.QDockWidget("Menu", self)
        dock.setObjectName("menu")
        dock.setFeatures(QtWidgets.QDockWidget.NoDockWidgetFeatures)
        dock.setTitleBarWidget(QtWidgets.QWidget(dock))
        dock.setWidget(self.tree)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)

        self.mdi = QtWidgets.QMdiArea(self)
        self.mdi.setBackground(QtGui.QBrush(QtGui.QColor(236, 238, 242)))
        self.mdi.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.mdi.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setCentralWidget(self.mdi)

        self.banner = QtWidgets.QLabel(self)
        self.banner.setStyleSheet("background: #c62828; color: white; padding: 4px;")
        self.banner.setVisible(False)
        self.resources = ResourcesBar(self)
        self.statusBar().addWidget(self.resources, 1)
        self.statusBar().addPermanentWidget(self.banner)
        self.reconnect_button = QtWidgets.QPushButton("Reconnect now", self)
        self.reconnect_button.setVisible(False)
        self.statusBar().addPermanentWidget(self.reconnect_button)
        self.safe_banner = SafeModeBanner(self)
        self.statusBar().addPermanentWidget(self.safe_banner)
        self.resize(1100, 720)

    def _session_action(self, icon_name: str, text: str, method: str, caps: set[str],
                        key: QtGui.QKeySequence | None) -> QtGui.QAction:
        action = QtGui.QAction(icons.icon(icon_name), text, self)
        available = method in caps and hasattr(self.session, method.replace("-", "_"))
        action.setEnabled(available)
        action.setToolTip(text if available else "%s: %s" % (text, NOT_AVAILABLE))
        if key is not None and available:
            action.setShortcut(key)
        self.toolbar.addAction(action)
        return action

    def _connect_signals(self) -> None:
        # menu tree
        self.tree.chosen.connect(self.open_entry)
        # toolbar
        self.undo_action.triggered.connect(lambda: self._call("undo"))
        self.redo_action.triggered.connect(lambda: self._call("redo"))
        self.safe_action.toggled.connect(self._safe_mode)
        self.reconnect_button.clicked.connect(self.reconnect_now)

    def _call(self, method: str) -> None:
        fn = getattr(self.session, method, None)
        if fn is not None:
            jobs.spawn(fn(), on_error=lambda exc: self.show_message(plain(exc)))

    # -- safe mode (views/safemode.py) ------------------------------------------------------------
    def _safe_mode(self, on: bool) -> None:
        if self._safe_syncing:
            return
        fn = getattr(self.session, "safe_mode", None)
        if fn is not None:
            jobs.spawn(self._toggle_safe_mode(on), on_error=lambda exc: self.show_message(plain(exc)))

    async def _toggle_safe_mode(self, on: bool) -> None:
        try:
            await self.session.safe_mode(on)
        except Exception as exc:
            if on and getattr(exc, "problem", None) == "conflict" and "held by" in plain(exc):
                choice = await ask_take_over(self, plain(exc))
                if choice is not None:
                    await self.session.safe_mode(True, take_over=choice)
                    return
            else:
                self.show_message(plain(exc))
            self._show_safe(getattr(self.session, "safe", {}) or {})

    def _safe_news(self, news: dict) -> None:
        """The session's safe-mode news: banner, toolbar, and after a
        rollback of this desktop's changes, the report of what was undone."""
        self._show_safe(news.get("status") or {})
        if news.get("event") == "rolled-back" and news.get("report"):
            self.show_rollback(news["report"])
        elif news.get("event") == "taken-over":
            self.show_message(news.get("message") or "Safe Mode was taken over by another session")

    def _show_safe(self, status: dict) -> None:
        self.safe_banner.show_status(status)
        self._safe_syncing = True
        try:
            self.safe_action.setChecked(bool(status.get("on")))
        finally:
            self._safe_syncing = False

    def show_rollback(self, report: dict) -> RollbackReport:
        dialog = RollbackReport(report, self)
        self.rollback_reports.append(dialog)
        dialog.finished.connect(lambda *_: self.rollback_reports.remove(dialog)
                                if dialog in self.rollback_reports else None)
        dialog.open()
        return dialog

    def _update_title(self) -> None:
        facts = self.session.facts or {}
        user = facts.get("user") or ""
        identity = facts.get("identity") or ""
        who = "%s@%s" % (user, self.address) if user else self.address
        self.setWindowTitle("%s (%s) - winbox-py" % (who, identity) if identity else "%s - winbox-py" % who)
        self.session_label.setText("Session: %s  " % self.address)

    def _follow_identity(self) -> None:
        """Keep the title's identity current when the router is renamed."""
        if "/system/identity" not in (self.session.schema or {}):
            return
        stream = self.session.follow("/system/identity", interval=None)
        self._identity_stream = stream

        async def pump() -> None:
            async for event in stream:
                rows = event.get("rows") or ([event["row"]] if "row" in event else [])
                for row in rows:
                    if row.get("name"):
                        self.session.facts["identity"] = row["name"]
                        self._update_title()
        jobs.spawn(pump(), on_error=lambda exc: None)

    def show_message(self, text: str, ms: int = 8000) -> None:
        self.statusBar().showMessage(text, ms)

    # -- child windows ---------------------------------------------------------------------------
    def open_path(self, path: str) -> QtWidgets.QWidget | None:
        """Open the window that shows ``path`` (tests, restored layouts)."""
        entry = self.tree.entry_for_path(path)
        if entry is None:
            return None
        widget = self.open_entry(entry)
        if isinstance(widget, MenuWindow) and path in widget.panes:
            widget.pane(path)
        return widget

    def open_entry(self, entry: Entry) -> QtWidgets.QWidget | None:
        schema = self.session.schema
        if entry.key == "terminal":
            win = TerminalWindow(self.session)
            key = "terminal-%x" % id(win)
            sub = self._add_subwindow(win, key, (640, 420))
            sub.destroyed.connect(lambda _o=None, k=key: self.windows.pop(k, None))  # closed: forget it
            win.terminal.setFocus()
            return win
        if len(entry.paths) == 1 and entry.paths[0] in livewindows.WINDOWS:
            return self.open_live_window(entry.paths[0])
        if len(entry.paths) == 1 and schema[entry.paths[0]].get("single"):
            return self.open_item(entry.paths[0], None, None)
        existing = self.windows.get(entry.key)
        if existing is not None:
            self.mdi.setActiveSubWindow(existing)
            existing.showNormal()
            return existing.widget()
        win = MenuWindow(self.session, entry, self.settings, self.router_key)
        win.open_item.connect(self.open_item)
        win.message.connect(self.show_message)
        sub = self._add_subwindow(win, entry.key, (720, 360))
        sub.destroyed.connect(lambda _o=None, k=entry.key: self.windows.pop(k, None))
        win.start()
        return win

    def _add_subwindow(self, widget: QtWidgets.QWidget, key: str, size: tuple[int, int]) -> QtWidgets.QMdiSubWindow:
        sub = self.mdi.addSubWindow(widget)
        sub.setAttribute(Qt.WA_DeleteOnClose)
        sub.setWindowTitle(widget.windowTitle())
        sub.setWindowIcon(icons.icon("terminal" if key.startswith("terminal") else "window"))
        geometry = None
        if self.settings is not None and not key.startswith("terminal"):
            geometry = self.settings.window(self.router_key, key).get("geometry")
        if isinstance(geometry, list) and len(geometry) == 4:
            sub.setGeometry(*[int(x) for x in geometry])
        else:
            n = len(self.windows)
            sub.setGeometry(20 + 28 * (n % 8), 12 + 24 * (n % 8), size[0], size[1])
        self.windows[key] = sub
        sub.show()
        return sub

    def open_item(self, path: str, item_id: str | None, initial: dict | None = None) -> ItemDialog:
        """Open (or bring forward) the dialog of an item; None: a new item."""
        key = (path, item_id)
        if item_id is not None or self.session.schema[path].get("single"):
            existing = self.dialogs.get(key)
            if existing is not None:
                existing.raise_()
                existing.activateWindow()
                return existing
        model = None
        for sub in self.windows.values():
            w = sub.widget()
            if isinstance(w, MenuWindow) and path in w.panes:
                model = w.panes[path].model
        dialog = ItemDialog(self.session, self.session.schema[path], item_id, model, initial, self,
                            open_dialog=lambda i, initial=None, p=path: self.open_item(p, i, initial))
        if item_id is not None or self.session.schema[path].get("single"):
            self.dialogs[key] = dialog
        dialog.closed.connect(lambda d=dialog: self._forget_dialog(d))
        dialog.applied.connect(lambda new_id, d=dialog, p=path: self._dialog_applied(p, d, new_id))
        dialog.show()
        return dialog

    def open_live_window(self, path: str) -> QtWidgets.QDialog:
        """License, Resources: hand-made windows of live figures (one each)."""
        key = ("live", path)  # (path, None) is the menu's ordinary dialog (Server... opens it)
        existing = self.dialogs.get(key)
        if existing is not None and is_alive(existing) and existing.isVisible():
            existing.raise_()
            existing.activateWindow()
            return existing
        win = livewindows.make(path, self.session, self, open_settings=lambda p=path: self.open_item(p, None))
        self.dialogs[key] = win
        win.destroyed.connect(lambda _o=None, k=key, w=win: self.dialogs.get(k) is w and self.dialogs.pop(k))
        win.show()
        return win

    def _forget_dialog(self, dialog: ItemDialog) -> None:
        for k in [k for k, d in self.dialogs.items() if d is dialog]:
            del self.dialogs[k]

    def _dialog_applied(self, path: str, dialog: ItemDialog, item_id: str) -> None:
        if item_id and (path, item_id) not in self.dialogs:
            self.dialogs[(path, item_id)] = dialog

    def menu_windows(self) -> list[MenuWindow]:
        return [s.widget() for s in self.windows.values() if isinstance(s.widget(), MenuWindow)]

    # -- the connection ----------------------------------------------------------------------------
    def _session_state(self, state: str, reason: str = "") -> None:
        if state == "lost":
            self.connection_lost(reason)
        elif state == "connected":
            self.connection_back()
        elif state == "closed" and not self._closing:
            self.connection_lost(reason or "the session was closed")

    def connection_lost(self, reason: str = "") -> None:
        if not self.connected:
            return
        self.connected = False
        for w in self.menu_windows():
            w.connection_lost()
        self.resources.clear_values()
        self.banner.setText("Disconnected%s - reconnecting..." % (": " + reason if reason else ""))
        self.banner.setVisible(True)
        self.reconnect_button.setVisible(self._can_reconnect())
        self.tree.setEnabled(False)
        if self._can_reconnect() and not self._reconnecting:
            jobs.spawn(self._reconnect_loop(), on_error=lambda exc: None)

    def _can_reconnect(self) -> bool:
        return bool(getattr(self.session, "can_reconnect", hasattr(self.session, "reconnect")))

    def reconnect_now(self) -> None:
        """The Reconnect now button: try at once instead of at the next retry."""
        if self.connected:
            return
        self._retry_now.set()
        if not self._reconnecting and self._can_reconnect():
            jobs.spawn(self._reconnect_loop(), on_error=lambda exc: None)

    async def _reconnect_loop(self) -> None:
        self._reconnecting = True
        try:
            while not self.connected and not self._closing:
                if getattr(self.session, "state", "") == "connected":
                    self.connection_back()
                    break
                try:
                    await self.session.reconnect()
                except Exception as exc:
                    self.banner.setText("Disconnected: %s - retrying..." % plain(exc))
                    self._retry_now.clear()
                    try:
                        await asyncio.wait_for(self._retry_now.wait(), RECONNECT_SECONDS)
                    except asyncio.TimeoutError:
                        pass
                    continue
                self.connection_back()
        finally:
            self._reconnecting = False

    def connection_back(self) -> None:
        if self.connected:
            return
        self.connected = True
        self.banner.setVisible(False)
        self.reconnect_button.setVisible(False)
        self.tree.setEnabled(True)
        self.tree.populate(self.session.schema)
        self._update_title()
        for w in self.menu_windows():  # the session resubscribed their streams
            w.connection_back()
        for d in list(self.dialogs.values()):  # and item dialogs show what changed meanwhile
            if is_alive(d):
                d.connection_back()
        self.show_message("Reconnected")

    # -- layout memory -------------------------------------------------------------------------------
    def restore_layout(self) -> None:
        if self.settings is None:
            return
        layout = self.settings.router(self.router_key)
        geometry = layout.get("main")
        if isinstance(geometry, list) and len(geometry) == 4:
            self.setGeometry(*[int(x) for x in geometry])
        for key in self.settings.open_windows(self.router_key):
            if key in self.session.schema:
                self.open_path(key)

    async def _close_in_safe_mode(self) -> None:
        status = await self.session.safe_mode_status()
        keep = await ask_keep_on_close(self, int(status.get("changes") or 0)) if status.get("on") else True
        if keep is None:
            return
        await self.session.safe_mode(False, unroll=not keep)
        self._close_decided = True
        self.close()

    def save_layout(self) -> None:
        if self.settings is None:
            return
        self.settings.set_open_windows(self.router_key, [k for k in self.windows if not k.startswith("terminal")])
        for key, sub in self.windows.items():
            if not key.startswith("terminal"):
                g = sub.geometry()
                self.settings.window(self.router_key, key)["geometry"] = [g.x(), g.y(), g.width(), g.height()]
        g = self.geometry()
        self.settings.router(self.router_key)["main"] = [g.x(), g.y(), g.width(), g.height()]
        try:
            self.settings.save()
        except OSError as exc:
            self.show_message("could not save the window layout: %s" % exc)

    def closeEvent(self, event) -> None:
        safe = getattr(self.session, "safe", None) or {}
        if safe.get("on") and self.connected and not self._close_decided:
            event.ignore()          # ask first: keep or undo what was done in Safe Mode
            jobs.spawn(self._close_in_safe_mode(), on_error=lambda exc: self.show_message(plain(exc)))
            return
        self._closing = True
        self.save_layout()
        for w in self.menu_windows():
            w.stop()
        self.resources.stop()
        if self._identity_stream is not None:
            jobs.spawn(self._identity_stream.cancel(), on_error=lambda exc: None)
        for d in list(self.dialogs.values()):
            if is_alive(d):
                d.close()
        jobs.spawn(self.session.close(), on_error=lambda exc: None)
        self.closed.emit()
        super().closeEvent(event)
