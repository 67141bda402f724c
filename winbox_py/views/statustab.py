"""The Status tab of a dialog whose menu has a ``monitor`` command.

While the dialog is open its item is monitored (``/interface pppoe-client
monitor pppoe-out1``, once a second) and every field the monitor reports is
shown: status (dialing, verifying password..., connected, disconnected),
uptime, active-links, encoding, local-address, remote-address, ac-mac,
ac-name, service-name, mtu, mru for PPPoE; the same without the access
concentrator for the L2TP, PPTP, SSTP and OpenVPN clients. A field the
current sample lacks (uptime while dialing) is blank. When the stream
stops, the values are greyed and a line says why. Closing the dialog stops
the monitor on the router.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.livestats import LIVE, LiveFeed
from winbox_py.backend.tabledata import title
from winbox_py.qt import Qt, QtWidgets
from winbox_py.views.livestate import LiveStateLabel, grey

MONITOR = "monitor"

# the fields of each kind of client's monitor, in the documents' order
PPPOE_FIELDS = ("status", "uptime", "active-links", "encoding", "local-address", "remote-address",
                "ac-mac", "ac-name", "service-name", "mtu", "mru")
TUNNEL_FIELDS = ("status", "uptime", "encoding", "local-address", "remote-address", "mtu", "mru")
FIELDS = {"/interface/pppoe-client": PPPOE_FIELDS}


def monitor_command(menu: dict) -> dict | None:
    """The menu's ``monitor`` command if it is a stream of one item's status."""
    for cmd in menu.get("commands", []):
        if cmd.get("name") == MONITOR and cmd.get("stream") and cmd.get("item"):
            return cmd
    return None


def fields_for(path: str) -> tuple[str, ...]:
    return FIELDS.get(path, TUNNEL_FIELDS)


class StatusTab(QtWidgets.QWidget):
    """A monitor's latest values as a form.

    Attributes:
        path: the menu; item_id: the item monitored (None until it exists).
        feed: the LiveFeed running the monitor.
        labels: field name -> the QLabel showing its value.
        state_label: the LiveStateLabel (stopped, waiting...).
    """

    def __init__(self, session: Any, path: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.path = path
        self.item_id: str | None = None
        self.labels: dict[str, QtWidgets.QLabel] = {}
        self._form = QtWidgets.QFormLayout()
        self._form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self._form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
        self.state_label = LiveStateLabel(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addStretch(1)
        layout.addWidget(self.state_label)
        for name in fields_for(path):
            self._add_field(name)
        self.feed = LiveFeed(self._open, parent=self)
        self.state_label.follow(self.feed)
        self.feed.sample.connect(self.show_sample)
        self.feed.state_changed.connect(self._state)
        self.state_label.setVisible(False)  # nothing to say until the item exists and is monitored

    def _add_field(self, name: str) -> QtWidgets.QLabel:
        value = QtWidgets.QLabel(self)
        value.setObjectName("status-" + name)
        value.setTextInteractionFlags(Qt.TextSelectableByMouse)
        value.setMinimumWidth(160)
        value.setFrameShape(QtWidgets.QFrame.StyledPanel)
        value.setFrameShadow(QtWidgets.QFrame.Sunken)
        self._form.addRow(title(name) + ":", value)
        self.labels[name] = value
        return value

    def _open(self) -> Any:
        return self.session.command(self.path, MONITOR, item=self.item_id)

    def start(self, item_id: str) -> None:
        """Monitor ``item_id`` (again after it was stopped)."""
        self.item_id = item_id
        self.feed.start()

    def stop(self) -> None:
        self.feed.stop("the dialog was closed")

    def show_sample(self, row: dict) -> None:
        for name, text in row.items():
            if name.startswith("."):
                continue
            label = self.labels.get(name) or self._add_field(name)
            if label.text() != text:
                label.setText(text)
        for name, label in self.labels.items():
            if name not in row and label.text():
                label.clear()

    def _state(self, state: str, _reason: str) -> None:
        grey(self.labels.values(), state != LIVE)

    def value(self, name: str) -> str:
        label = self.labels.get(name)
        return label.text() if label is not None else ""

    @property
    def live(self) -> bool:
        return self.feed.state == LIVE
