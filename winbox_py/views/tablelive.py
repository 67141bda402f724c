"""Live behaviour of table windows beyond following rows.

:class:`TableLive` gives a :class:`~winbox_py.views.tablewindow.TablePane`:

- rate columns for menus whose rows carry traffic counters (``/interface``,
  ``/interface/ethernet``...): Tx, Rx (bits per second) and Tx/Rx Packet
  (p/s), computed from the counters' deltas as the follow stream brings them
  every second (:class:`~winbox_py.backend.livestats.RateStream`);
- Authorize / Deauthorize on the toolbar and in the row menu of a menu whose
  items have a writable ``authorized`` (``/zerotier/controller/member``);
- the toolbar's Scan (PPPoE client) opens the scanner's list
  (:class:`~winbox_py.views.scandialog.ScanDialog`) rather than the generic
  command window;
- a row context menu: Open, the toolbar's actions, and for interfaces
  Traffic..., a separate graph window
  (:class:`~winbox_py.views.trafficgraph.TrafficWindow`);
- a table whose stream stopped (an error from the agent) turns grey and
  says ``stopped — <reason>`` instead of showing old rows as if live.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.livestats import COUNTER_FIELDS, RATE_COLUMNS, RateStream, has_counters
from winbox_py.backend.tabledata import COMMENT, Column, default_columns
from winbox_py.qt import QtCore, QtGui, QtWidgets, Qt
from winbox_py.views import icons
from winbox_py.views.errors import plain
from winbox_py.views.livestate import DASH, STOPPED_STYLE
from winbox_py.views.livetabs import is_interface_menu
from winbox_py.views.scandialog import SCAN, ScanDialog
from winbox_py.views.trafficgraph import TrafficWindow

RATE_KIND = "rate"
AUTHORIZED = "authorized"


def with_rate_columns(menu: dict, columns: list[Column]) -> list[Column]:
    """The table's columns plus the rate columns when its rows have counters."""
    if not has_counters(menu):
        return columns
    out = list(columns)
    for field, caption, _counter, _factor in RATE_COLUMNS:
        out.append(Column(field, caption, RATE_KIND, len(out)))
    return out


def live_default_columns(menu: dict) -> list[str]:
    """The default columns with the rates where the counters were (WinBox's Interface
    list shows Tx, Rx and packets per second; the counters stay in the column chooser)."""
    names = default_columns(menu)
    if not has_counters(menu):
        return names
    rates = [c[0] for c in RATE_COLUMNS]
    out: list[str] = []
    for n in names:
        if n in COUNTER_FIELDS:
            if rates[0] not in out:
                out.extend(rates)
            continue
        out.append(n)
    if rates[0] not in out:
        at = out.index(COMMENT) if COMMENT in out else len(out)
        out[at:at] = rates
    return out


def can_authorize(menu: dict) -> bool:
    for p in menu.get("props", []):
        if p["name"] == AUTHORIZED and not p.get("readonly") and (p.get("type") or {}).get("kind") == "bool":
            return not menu.get("readonly")
    return False


class TableLive:
    """The live extras of one table pane (see the module docstring).

    Attributes:
        rates: whether the table shows rate columns.
        authorize_action, deauthorize_action: QActions, or None.
        traffic_windows: the graph windows opened from this table.
        stopped: why the table's stream stopped ("" while it runs).
    """

    def __init__(self, pane: Any):
        self.pane = pane
        menu = pane.menu
        self.rates = has_counters(menu)
        self.interfaces = is_interface_menu(menu)
        self.traffic_windows: list[TrafficWindow] = []
        self.stopped = ""
        self.authorize_action: QtGui.QAction | None = None
        self.deauthorize_action: QtGui.QAction | None = None
        if can_authorize(menu):
            self.authorize_action = self._toolbar_action("enable", "Authorize", lambda: self.authorize(True))
            self.deauthorize_action = self._toolbar_action("disable", "Deauthorize", lambda: self.authorize(False))
        scan = pane.command_buttons.get(SCAN)
        if scan is not None:
            scan.clicked.disconnect()
            scan.clicked.connect(self.scan)
        view: QtWidgets.QTableView = pane.view
        view.setContextMenuPolicy(Qt.CustomContextMenu)
        view.customContextMenuRequested.connect(self._row_menu)

    def _toolbar_action(self, icon_name: str, text: str, slot: Any) -> QtGui.QAction:
        pane = self.pane
        action = QtGui.QAction(icons.icon(icon_name), text, pane)
        action.triggered.connect(slot)
        toolbar: QtWidgets.QToolBar = pane.toolbar
        actions = toolbar.actions()
        find = next((i for i, a in enumerate(actions) if toolbar.widgetForAction(a) is pane.find), None)
        before = actions[find - 1] if find else None  # the spacer before Find
        if before is not None:
            toolbar.insertAction(before, action)
        else:
            toolbar.addAction(action)
        button = toolbar.widgetForAction(action)
        if isinstance(button, QtWidgets.QToolButton):
            button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        return action

    # -- the stream --------------------------------------------------------------------------
    def wrap(self, stream: Any) -> Any:
        """The follow stream the model reads (with rates where the table has them)."""
        self.clear_stopped()
        return RateStream(stream) if self.rates else stream

    def feed_ended(self, feed: Any) -> None:
        if feed is not self.pane.feed or feed.error is None:
            return
        self.stopped = plain(feed.error)
        self.pane.view.setEnabled(False)
        self.pane.status.setText("stopped %s %s" % (DASH, self.stopped))
        self.pane.status.setStyleSheet(STOPPED_STYLE)

    def clear_stopped(self) -> None:
        if self.stopped:
            self.stopped = ""
            self.pane.view.setEnabled(True)
            self.pane.status.setStyleSheet("")

    def default_columns(self) -> list[str]:
        return live_default_columns(self.pane.menu)

    # -- actions ---------------------------------------------------------------------------------
    def authorize(self, on: bool) -> None:
        ids = self.pane.selected_ids()
        if ids:
            self.pane._run(self.pane.session.set(self.pane.path, ids, {AUTHORIZED: "yes" if on else "no"}))

    def traffic(self, item_id: str) -> TrafficWindow:
        name = self.pane.model.value(item_id, "name") or item_id
        win = TrafficWindow(self.pane.session, item_id, name, self.pane.window())
        self.traffic_windows.append(win)
        win.destroyed.connect(lambda _o=None, w=win: self._forget(w))
        win.show()
        return win

    def scan(self) -> ScanDialog:
        """Scan for access concentrators on the selected client's interface (or one to choose)."""
        ids = self.pane.selected_ids()
        interface = self.pane.model.value(ids[0], "interface").split(",")[0] if ids else ""
        dlg = ScanDialog(self.pane.session, self.pane.path, interface, self.pane.window())
        dlg.show()
        if interface:
            dlg.start()
        return dlg

    def _forget(self, win: TrafficWindow) -> None:
        if win in self.traffic_windows:
            self.traffic_windows.remove(win)

    def row_menu(self, item_id: str | None) -> QtWidgets.QMenu:
        """The context menu of a row (or of the empty table when None)."""
        pane = self.pane
        menu = QtWidgets.QMenu(pane)
        if item_id is not None:
            menu.addAction("Open", lambda: pane.open_item.emit(item_id, None))
            if self.interfaces:
                menu.addAction("Traffic...", lambda: self.traffic(item_id))
            menu.addSeparator()
        for action in (pane.add_action, pane.remove_action, pane.enable_action, pane.disable_action,
                       pane.comment_action, pane.copy_action, self.authorize_action, self.deauthorize_action):
            if action is not None and action.isEnabled():
                menu.addAction(action)
        return menu

    def _row_menu(self, pos: QtCore.QPoint) -> None:
        index = self.pane.view.indexAt(pos)
        item_id = self.pane.model.item_id(index.row()) if index.isValid() else None
        if item_id is not None and item_id not in self.pane.selected_ids():
            self.pane.view.selectRow(index.row())
        self.row_menu(item_id).exec(self.pane.view.viewport().mapToGlobal(pos))
