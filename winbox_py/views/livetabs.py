"""The live parts of an item dialog: Status (monitor), Traffic (graph), Scan.

:class:`LiveTabs` adds to an :class:`~winbox_py.views.itemdialog.ItemDialog`
what its menu's schema calls for:

- a Status tab fed by the menu's ``monitor`` command (any menu whose schema
  has a ``monitor`` stream command taking an item: the PPPoE, L2TP, PPTP,
  SSTP and OpenVPN clients), replacing the plain read-only Status tab;
- a Traffic tab with the interface's rates and graph for every interface
  menu (``/interface`` and the menus of an interface type);
- a Scan... button when the menu has a ``scan`` command (PPPoE client).

The streams run while the dialog is open and its item exists; :meth:`stop`
(the dialog closing) cancels them on the router.
"""

from __future__ import annotations

from typing import Any

from winbox_py.qt import QtWidgets
from winbox_py.views.scandialog import ScanDialog, scan_command
from winbox_py.views.statustab import StatusTab, monitor_command
from winbox_py.views.trafficgraph import TrafficPanel

STATUS = "Status"
TRAFFIC = "Traffic"


def is_interface_menu(menu: dict) -> bool:
    return menu.get("path") == "/interface" or bool(menu.get("interface_type"))


class LiveTabs:
    """Status / Traffic tabs and the Scan button of one item dialog.

    Attributes:
        status: the StatusTab, or None.
        traffic: the TrafficPanel, or None.
        scan_button: the Scan... button, or None.
        scan_dialog: the last ScanDialog opened from it.
    """

    def __init__(self, dialog: Any, buttons: QtWidgets.QBoxLayout | None = None):
        self.dialog = dialog
        session, menu = dialog.session, dialog.menu
        tabs: QtWidgets.QTabWidget = dialog.tabs
        self.status: StatusTab | None = None
        self.traffic: TrafficPanel | None = None
        self.scan_button: QtWidgets.QPushButton | None = None
        self.scan_dialog: ScanDialog | None = None
        if menu.get("single"):
            return
        if monitor_command(menu) is not None:
            self.status = StatusTab(session, menu["path"], tabs)
            old = _tab_index(tabs, STATUS)
            if old >= 0:  # the monitor reports what the read-only Status tab had, and more
                tabs.removeTab(old)
            tabs.addTab(self.status, STATUS)
        if is_interface_menu(menu):
            self.traffic = TrafficPanel(session, None, tabs)
            old = _tab_index(tabs, TRAFFIC)
            if old >= 0:  # counters already there: the rates and graph go under them
                page = tabs.widget(old)
                inner = page.widget() if isinstance(page, QtWidgets.QScrollArea) else page
                tabs.removeTab(old)
                holder = QtWidgets.QWidget(tabs)
                box = QtWidgets.QVBoxLayout(holder)
                box.setContentsMargins(0, 0, 0, 0)
                box.addWidget(inner)
                box.addWidget(self.traffic, 1)
                tabs.addTab(holder, TRAFFIC)
            else:
                tabs.addTab(self.traffic, TRAFFIC)
        if scan_command(menu) is not None and buttons is not None:
            self.scan_button = QtWidgets.QPushButton("Scan...", dialog)
            self.scan_button.setMinimumWidth(96)
            self.scan_button.clicked.connect(self.scan)
            buttons.insertWidget(max(0, buttons.count() - 1), self.scan_button)  # above the stretch

    def start(self, item_id: str | None) -> None:
        """Start the streams for the item (once it exists)."""
        if not item_id:
            return
        if self.status is not None and not self.status.feed.running:
            self.status.start(item_id)
        if self.traffic is not None and not self.traffic.feed.running:
            self.traffic.start(item_id)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
        if self.traffic is not None:
            self.traffic.stop()
        if self.scan_dialog is not None:
            self.scan_dialog.close()

    def scan(self) -> ScanDialog:
        editor = self.dialog.editors.get("interface")
        interface = editor.value() if editor is not None else ""
        dlg = ScanDialog(self.dialog.session, self.dialog.path, interface.split(",")[0], self.dialog)
        dlg.destroyed.connect(lambda _o=None: setattr(self, "scan_dialog", None))
        self.scan_dialog = dlg
        dlg.show()
        if interface:
            dlg.start()
        return dlg


def _tab_index(tabs: QtWidgets.QTabWidget, text: str) -> int:
    for i in range(tabs.count()):
        if tabs.tabText(i) == text:
            return i
    return -1
