"""A child window of the main window for one menu entry.

One menu: its table. Several (PPP's Interface, Secrets, Profiles...): a tab
per menu, as WinBox's windows have. The window follows its menus while open
and stops following when closed.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.settings import Settings
from winbox_py.qt import QtWidgets, Signal
from winbox_py.views.menutree import Entry, tab_title
from winbox_py.views.tablewindow import TablePane


class MenuWindow(QtWidgets.QWidget):
    """The content of an MDI child for a menu-tree entry.

    Attributes:
        entry: the tree entry.
        panes: path -> TablePane.
        tabs: the tab widget, or None for a single menu.

    Signals:
        open_item(str, object, object): path, item id (None: new), initial values.
        message(str): a status line.
    """

    open_item = Signal(str, object, object)
    message = Signal(str)

    def __init__(self, session: Any, entry: Entry, settings: Settings | None, router_key: str, parent=None):
        super().__init__(parent)
        self.entry = entry
        self.panes: dict[str, TablePane] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs: QtWidgets.QTabWidget | None = None
        if len(entry.paths) > 1:
            self.tabs = QtWidgets.QTabWidget(self)
            self.tabs.setDocumentMode(True)
            layout.addWidget(self.tabs)
        for path in entry.paths:
            menu = session.schema[path]
            pane = TablePane(session, menu, settings, router_key, self)
            pane.open_item.connect(lambda item, initial, p=path: self.open_item.emit(p, item, initial))
            pane.message.connect(self.message.emit)
            self.panes[path] = pane
            if self.tabs is not None:
                self.tabs.addTab(pane, tab_title(path, session.schema))
            else:
                layout.addWidget(pane)
        self.setWindowTitle(entry.label if len(entry.paths) > 1 else
                            (session.schema[entry.paths[0]].get("title") or entry.label))

    def start(self) -> None:
        for pane in self.panes.values():
            pane.start()

    def stop(self) -> None:
        for pane in self.panes.values():
            pane.stop()

    def restart(self) -> None:
        for pane in self.panes.values():
            pane.restart()

    def connection_lost(self) -> None:
        for pane in self.panes.values():
            pane.connection_lost()

    def connection_back(self) -> None:
        for pane in self.panes.values():
            pane.connection_back()

    def pane(self, path: str | None = None) -> TablePane:
        if path is None:
            if self.tabs is not None:
                return self.tabs.currentWidget()
            return next(iter(self.panes.values()))
        if self.tabs is not None:
            self.tabs.setCurrentWidget(self.panes[path])
        return self.panes[path]

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
