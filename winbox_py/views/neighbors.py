"""The login window's Neighbors tab: routers heard over MNDP.

A table of identity, version, platform, board, MAC, IPv4, IPv6 and
interface, filled by :class:`winbox_py.backend.mndp.Listener`. Clicking a
row puts its address in Connect To; Refresh asks every device to answer now.
"""

from __future__ import annotations

from winbox_py.backend import mndp
from winbox_py.qt import QtWidgets, Signal
from winbox_py.views import jobs

COLUMNS = ["MAC Address", "IP Address", "IPv6 Address", "Identity", "Version", "Platform", "Board", "Interface",
           "Uptime"]


class NeighborsTab(QtWidgets.QWidget):
    """Neighbors heard on the LAN.

    Signals:
        address_chosen(str): a row was clicked (its address).
        connect_requested(str): a row was double-clicked.
    """

    address_chosen = Signal(str)
    connect_requested = Signal(str)

    def __init__(self, parent=None, port: int = mndp.PORT, host: str = "0.0.0.0",
                 discover_to: str = "255.255.255.255"):
        super().__init__(parent)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QtWidgets.QPushButton("Refresh", self)
        self.status = QtWidgets.QLabel(self)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.status, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.rows: dict[tuple[str, str], int] = {}
        self.addresses: list[str] = []
        self.listener = mndp.Listener(self.add_neighbor, port=port, host=host, discover_to=discover_to)
        self.refresh_button.clicked.connect(self.listener.discover)
        self.table.cellClicked.connect(lambda r, _c: self.address_chosen.emit(self.addresses[r]))
        self.table.cellDoubleClicked.connect(lambda r, _c: self.connect_requested.emit(self.addresses[r]))

    def start(self) -> None:
        async def go() -> None:
            await self.listener.start()
            self.status.setText("listening on UDP %d" % self.listener.port_bound)
        jobs.spawn(go(), on_error=lambda exc: self.status.setText("cannot listen for neighbors: %s" % exc))

    def stop(self) -> None:
        self.listener.close()

    def add_neighbor(self, n: mndp.Neighbor) -> None:
        row = self.rows.get(n.key)
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.rows[n.key] = row
            self.addresses.append(n.address)
        self.addresses[row] = n.address
        uptime = "" if n.uptime is None else _uptime(n.uptime)
        for col, text in enumerate([n.mac, n.ipv4, n.ipv6, n.identity, n.version, n.platform, n.board,
                                    n.interface, uptime]):
            item = self.table.item(row, col)
            if item is None:
                self.table.setItem(row, col, QtWidgets.QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)
        self.status.setText("%d neighbor%s" % (len(self.rows), "" if len(self.rows) == 1 else "s"))


def _uptime(seconds: int) -> str:
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return ("%dd" % d if d else "") + "%02d:%02d:%02d" % (h, m, s)
