"""PPPoE Scan: the access concentrators answering on an interface.

Runs ``/interface pppoe-client scan <interface>`` and lists what answers:
Service, MAC Address, AC Name (one line per concentrator and service, as the
document's scanner prints them). Start, Stop and Close as in WinBox; closing
the window stops the scan on the router.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.tabledata import title
from winbox_py.qt import Qt, QtWidgets
from winbox_py.views import jobs
from winbox_py.views.errors import plain
from winbox_py.views.layouts import buttons_beside, start_stop_close
from winbox_py.views.livestate import DASH

SCAN = "scan"
COLUMNS = ("service", "mac-address", "ac-name")


def scan_command(menu: dict) -> dict | None:
    for cmd in menu.get("commands", []):
        if cmd.get("name") == SCAN:
            return cmd
    return None


class ScanDialog(QtWidgets.QDialog):
    """Scans for access concentrators.

    Attributes:
        path: the menu whose ``scan`` runs (``/interface/pppoe-client``).
        stream: the running scan, or None.
        found: (mac-address, service) -> row.
    """

    def __init__(self, session: Any, path: str, interface: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.path = path
        self.stream: Any = None
        self.found: dict[tuple[str, str], dict[str, str]] = {}
        self.setWindowTitle("PPPoE Scan")
        self.interface = QtWidgets.QComboBox(self)
        self.interface.setEditable(True)
        self.interface.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.interface.setEditText(interface)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([title(c) for c in COLUMNS])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.start_button, self.stop_button, self.close_button = start_stop_close(self)
        self.status = QtWidgets.QLabel(self)
        self.status.setObjectName("scan-status")
        self.status.setWordWrap(True)
        form = QtWidgets.QFormLayout()
        form.addRow("Interface:", self.interface)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.table, 1)
        buttons_beside(self, left, (self.start_button, self.stop_button, self.close_button), [self.status],
                       min_width=90)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.close)
        self.resize(520, 280)
        jobs.spawn(self._load_interfaces(), on_error=lambda exc: None)

    async def _load_interfaces(self) -> None:
        rows = await self.session.print("/interface")
        current = self.interface.currentText()
        self.interface.clear()
        self.interface.addItems([r["name"] for r in rows if r.get("name") and r.get("type") == "ether"]
                                or [r["name"] for r in rows if r.get("name")])
        self.interface.setEditText(current)

    def start(self) -> None:
        self.stop()
        name = self.interface.currentText().strip()
        if not name:
            self._show("interface: choose the interface to scan on", error=True)
            return
        self.found.clear()
        self.table.setRowCount(0)
        try:
            stream = self.session.command(self.path, SCAN, args={"interface": name})
        except Exception as exc:
            self._show(plain(exc), error=True)
            return
        self.stream = stream
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._show("scanning on %s..." % name)
        jobs.spawn(self._pump(stream), on_error=lambda exc, s=stream: self._ended(s, plain(exc), True))

    async def _pump(self, stream: Any) -> None:
        async for row in stream:
            if stream is not self.stream:
                return
            if row.get("op") == "lost":
                await stream.cancel()  # a scan is not worth resuming: say so and let the user start again
                self._ended(stream, "stopped %s connection lost" % DASH, False)
                return
            if row.get("op"):
                continue
            self._add(row)
        n = len(self.found)
        self._ended(stream, "done: %d access concentrator%s found" % (n, "" if n == 1 else "s"), False)

    def _add(self, row: dict[str, str]) -> None:
        key = (row.get("mac-address", ""), row.get("service", ""))
        if key not in self.found:
            self.table.insertRow(self.table.rowCount())
        self.found[key] = row
        r = list(self.found).index(key)
        for c, name in enumerate(COLUMNS):
            self.table.setItem(r, c, QtWidgets.QTableWidgetItem(row.get(name, "")))

    def _ended(self, stream: Any, text: str, error: bool) -> None:
        if stream is not self.stream:
            return
        self.stream = None
        self._show(text, error)
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _show(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c01818;" if error else "")

    def rows(self) -> list[dict[str, str]]:
        return list(self.found.values())

    def stop(self) -> None:
        if self.stream is not None:
            stream, self.stream = self.stream, None
            jobs.spawn(stream.cancel(), on_error=lambda exc: None)
            self._show("stopped")
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
