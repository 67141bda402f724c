"""System > Resources: the router's live figures in a window, as WinBox has.

Uptime, version, build time, factory software, free and total memory, CPU,
CPU count, frequency and load, free and total HDD space, architecture,
board and platform, followed live from ``/system/resource`` (the agent
refreshes them every second), with bars for the CPU load and the memory
and disk in use. When the stream stops, the figures turn grey and a line
says why.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.livestats import LIVE, LiveFeed
from winbox_py.backend.tabledata import title
from winbox_py.qt import Qt, QtWidgets
from winbox_py.views.livestate import LiveStateLabel, grey
from winbox_py.views.resourcesbar import human_bytes, parse_size

PATH = "/system/resource"
TITLES = {"cpu-load": "CPU Load", "free-hdd-space": "Free HDD Space", "total-hdd-space": "Total HDD Space",
          "cpu-frequency": "CPU Frequency", "cpu-count": "CPU Count"}
SIZES = ("free-memory", "total-memory", "free-hdd-space", "total-hdd-space")


def _percent(text: str) -> int | None:
    try:
        return max(0, min(100, int(float(text.rstrip("%").strip()))))
    except ValueError:
        return None


def _used_percent(free: str, total: str) -> int | None:
    f, t = parse_size(free), parse_size(total)
    if f is None or not t:
        return None
    return max(0, min(100, int(round(100 * (t - f) / t))))


class ResourceWindow(QtWidgets.QDialog):
    """The Resources window.

    Attributes:
        labels: property -> the QLabel showing its value.
        bars: ``cpu``, ``memory``, ``hdd`` -> QProgressBar.
        feed: the LiveFeed following /system/resource.
    """

    def __init__(self, session: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.setWindowTitle("Resources")
        menu = session.schema.get(PATH, {})
        names = [p["name"] for p in menu.get("props", [])]
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.labels: dict[str, QtWidgets.QLabel] = {}
        for name in names:
            value = QtWidgets.QLabel(self)
            value.setObjectName("resource-" + name)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setFrameShape(QtWidgets.QFrame.StyledPanel)
            value.setFrameShadow(QtWidgets.QFrame.Sunken)
            value.setMinimumWidth(220)
            form.addRow(TITLES.get(name, title(name)) + ":", value)
            self.labels[name] = value
        self.bars: dict[str, QtWidgets.QProgressBar] = {}
        bars = QtWidgets.QFormLayout()
        for key, caption in (("cpu", "CPU:"), ("memory", "Memory used:"), ("hdd", "HDD used:")):
            bar = QtWidgets.QProgressBar(self)
            bar.setRange(0, 100)
            bar.setValue(0)
            bar.setFormat("%p%")
            bars.addRow(caption, bar)
            self.bars[key] = bar
        self.ok_button = QtWidgets.QPushButton("OK", self)
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.close)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.ok_button)
        buttons.addStretch(1)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        left.addSpacing(6)
        left.addLayout(bars)
        body = QtWidgets.QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(buttons)
        self.state_label = LiveStateLabel(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.state_label)
        self.feed = LiveFeed(lambda: session.follow(PATH), parent=self)
        self.state_label.follow(self.feed)
        self.feed.sample.connect(self.show_values)
        self.feed.state_changed.connect(self._state)
        self.feed.start()

    def show_values(self, row: dict) -> None:
        for name, label in self.labels.items():
            if name in row:
                text = row[name]
                if name in SIZES:
                    text = human_bytes(text)
                if label.text() != text:
                    label.setText(text)
        cpu = _percent(row.get("cpu-load", ""))
        if cpu is not None:
            self.bars["cpu"].setValue(cpu)
        for key, free, total in (("memory", "free-memory", "total-memory"),
                                 ("hdd", "free-hdd-space", "total-hdd-space")):
            used = _used_percent(row.get(free, ""), row.get(total, ""))
            if used is not None:
                self.bars[key].setValue(used)

    def _state(self, state: str, _reason: str) -> None:
        grey(list(self.labels.values()) + list(self.bars.values()), state != LIVE)

    def value(self, name: str) -> str:
        return self.labels[name].text() if name in self.labels else ""

    def closeEvent(self, event) -> None:
        self.feed.stop("the window was closed")
        super().closeEvent(event)
