"""An interface's traffic: a graph of the last minutes, drawn with QPainter.

:class:`TrafficGraph` draws the transmit (blue) and receive (red) rates of
a :class:`~winbox_py.backend.livestats.History` against a scale that grows
and shrinks with the traffic, with the scale's figures on the left.
:class:`TrafficPanel` feeds one from ``/interface monitor-traffic <id>``
once a second and shows the current Tx/Rx bits and packets per second above
it; it is the Traffic tab of an interface's dialog and the body of
:class:`TrafficWindow`, the separate graph window opened from a table's
context menu. When the stream stops, the graph and figures turn grey and a
line says why.
"""

from __future__ import annotations

import time
from typing import Any

from winbox_py.backend.livestats import LIVE, History, LiveFeed, format_bps, format_pps, parse_rate
from winbox_py.qt import QtCore, QtGui, QtWidgets, Qt
from winbox_py.views.livestate import LiveStateLabel, grey

MONITOR_TRAFFIC = "monitor-traffic"
MINUTES = 5
MIN_SPAN = 60.0          # seconds shown at least: a new graph fills the width within a minute
SERIES = ("tx-bits-per-second", "rx-bits-per-second", "tx-packets-per-second", "rx-packets-per-second")
TX_COLOR = QtGui.QColor(30, 90, 200)
RX_COLOR = QtGui.QColor(205, 40, 40)
GREY = QtGui.QColor(160, 160, 160)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1 kbps)."""
    top = max(value, 1000.0)
    power = 1.0
    while power * 10 <= top:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= top:
            return step * power
    return 10 * power


class TrafficGraph(QtWidgets.QWidget):
    """Two lines (Tx, Rx bits per second) over the kept history.

    Attributes:
        history: the samples drawn (tx/rx bits and packets per second).
        live: False draws everything grey (the figures stopped).
    """

    def __init__(self, history: History, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.history = history
        self.live = True
        self.setMinimumSize(320, 140)
        self.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Expanding)

    def set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            self.update()

    def span(self) -> float:
        """Seconds across the plot: what is kept, at least a minute, at most the history's capacity."""
        samples = self.history.samples()
        kept = samples[-1][0] - samples[0][0] if len(samples) >= 2 else 0.0
        return min(float(self.history.capacity), max(MIN_SPAN, kept))

    def scale(self) -> float:
        """The top of the vertical axis in bits per second."""
        samples = self.history.samples()
        peak = max((max(v[0], v[1]) for _t, v in samples), default=0.0)
        return nice_ceiling(peak * 1.1)

    def paintEvent(self, _event) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        rect = self.rect()
        p.fillRect(rect, QtGui.QColor(255, 255, 255) if self.live else QtGui.QColor(245, 245, 245))
        metrics = p.fontMetrics()
        top_value = self.scale()
        left = metrics.horizontalAdvance(format_bps(top_value)) + 10
        plot = QtCore.QRectF(left, 8, max(10.0, rect.width() - left - 8), max(10.0, rect.height() - 16))
        # grid and scale: steps of a quarter, or of a fifth for a 5 x 10^n top
        steps = 5 if f"{top_value:e}".startswith("5") else 4
        p.setPen(QtGui.QPen(QtGui.QColor(225, 225, 225), 1))
        for i in range(steps + 1):
            y = plot.top() + plot.height() * i / steps
            p.drawLine(QtCore.QPointF(plot.left(), y), QtCore.QPointF(plot.right(), y))
        samples = self.history.samples()
        span = self.span()
        step = 15.0 if span <= MIN_SPAN else 60.0
        ago = 0.0
        while ago <= span + 0.001:
            x = plot.right() - plot.width() * ago / span
            p.drawLine(QtCore.QPointF(x, plot.top()), QtCore.QPointF(x, plot.bottom()))
            ago += step
        p.setPen(QtGui.QColor(90, 90, 90) if self.live else GREY)
        for i in range(steps + 1):
            value = top_value * (steps - i) / steps
            y = plot.top() + plot.height() * i / steps
            text = format_bps(value)
            p.drawText(QtCore.QRectF(0, y - 8, left - 4, 16), int(Qt.AlignRight | Qt.AlignVCenter), text)
        p.setPen(QtGui.QPen(QtGui.QColor(150, 150, 150), 1))
        p.drawRect(plot)
        # the lines: the newest sample at the right edge
        if len(samples) >= 2:
            newest = samples[-1][0]
            for index, color in ((0, TX_COLOR), (1, RX_COLOR)):
                path = QtGui.QPainterPath()
                for n, (t, values) in enumerate(samples):
                    x = plot.right() - plot.width() * min(1.0, (newest - t) / span)
                    y = plot.bottom() - plot.height() * min(1.0, values[index] / top_value)
                    if n == 0:
                        path.moveTo(x, y)
                    else:
                        path.lineTo(x, y)
                p.setPen(QtGui.QPen(color if self.live else GREY, 1.6))
                p.drawPath(path)
        p.end()


class TrafficPanel(QtWidgets.QWidget):
    """Current rates and the graph of one interface.

    Attributes:
        item_id: the interface's id; name: its name (shown in titles).
        feed: the LiveFeed running monitor-traffic.
        history: the samples of the last MINUTES minutes.
        figures: tx/rx bits and packets per second -> the QLabel showing it.
    """

    def __init__(self, session: Any, item_id: str | None = None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.item_id = item_id
        self.history = History(SERIES, capacity=MINUTES * 60)
        self.graph = TrafficGraph(self.history, self)
        self.figures: dict[str, QtWidgets.QLabel] = {}
        grid = QtWidgets.QGridLayout()
        captions = {"tx-bits-per-second": "Tx:", "rx-bits-per-second": "Rx:",
                    "tx-packets-per-second": "Tx Packets:", "rx-packets-per-second": "Rx Packets:"}
        for n, name in enumerate(SERIES):
            caption = QtWidgets.QLabel(captions[name], self)
            color = TX_COLOR if name.startswith("tx") else RX_COLOR
            caption.setStyleSheet("color: %s; font-weight: bold;" % color.name())
            value = QtWidgets.QLabel("", self)
            value.setObjectName("traffic-" + name)
            value.setMinimumWidth(110)
            grid.addWidget(caption, n // 2, (n % 2) * 2, Qt.AlignRight)
            grid.addWidget(value, n // 2, (n % 2) * 2 + 1)
            self.figures[name] = value
        grid.setColumnStretch(4, 1)
        self.state_label = LiveStateLabel(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.graph, 1)
        layout.addWidget(self.state_label)
        self.feed = LiveFeed(self._open, parent=self)
        self.state_label.follow(self.feed)
        self.state_label.setVisible(False)
        self.feed.sample.connect(self.add_sample)
        self.feed.state_changed.connect(self._state)

    def _open(self) -> Any:
        return self.session.command("/interface", MONITOR_TRAFFIC, item=self.item_id)

    def start(self, item_id: str | None = None) -> None:
        if item_id is not None:
            self.item_id = item_id
        if self.item_id is not None:
            self.feed.start()

    def stop(self) -> None:
        self.feed.stop("the window was closed")

    def add_sample(self, row: dict) -> None:
        values = []
        for name in SERIES:
            v = parse_rate(row.get(name, ""))
            values.append(v if v is not None else 0.0)
        self.history.add(time.monotonic(), values)
        for name, v in zip(SERIES, values):
            self.figures[name].setText(format_bps(v) if "bits" in name else format_pps(v))
        self.graph.update()

    def _state(self, state: str, _reason: str) -> None:
        live = state == LIVE
        self.graph.set_live(live or state == "waiting")
        grey(self.figures.values(), not live)


class TrafficWindow(QtWidgets.QDialog):
    """A separate window with one interface's traffic graph."""

    def __init__(self, session: Any, item_id: str, name: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.setWindowTitle("Traffic <%s>" % name)
        self.panel = TrafficPanel(session, item_id, self)
        close = QtWidgets.QPushButton("Close", self)
        close.clicked.connect(self.close)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addLayout(row)
        self.resize(560, 320)
        self.panel.start()

    def closeEvent(self, event) -> None:
        self.panel.stop()
        super().closeEvent(event)
