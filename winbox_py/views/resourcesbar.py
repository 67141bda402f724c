"""The bar along the bottom of the main window: CPU, memory, uptime, live.

It follows ``/system/resource`` (one item, live values refreshed by the agent
every second) and shows ``CPU: 3%  Memory: 212.4 MiB / 1024.0 MiB  Uptime:
1d02:13:44`` plus the session's connection state.
"""

from __future__ import annotations

from typing import Any

from winbox_py.qt import QtWidgets
from winbox_py.views import jobs

PATH = "/system/resource"


_UNITS = {"": 1, "B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}


def parse_size(text: str) -> float | None:
    """``852.1MiB`` (as RouterOS prints sizes) or ``1073741824`` -> bytes."""
    t = text.strip()
    for unit in ("TiB", "GiB", "MiB", "KiB", "B", ""):
        if t.endswith(unit):
            try:
                return float(t[: len(t) - len(unit)] if unit else t) * _UNITS[unit]
            except ValueError:
                continue
    return None


def human_bytes(text: str) -> str:
    """``1073741824`` -> ``1024.0 MiB``; text that is not a number unchanged."""
    size = parse_size(text)
    if size is None:
        return text
    n = size
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return ("%.0f %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1024
    return text


class ResourcesBar(QtWidgets.QWidget):
    """Live CPU / memory / uptime.

    Attributes:
        values: the latest /system/resource row.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.values: dict[str, str] = {}
        self.cpu = QtWidgets.QLabel("CPU: -", self)
        self.memory = QtWidgets.QLabel("Memory: -", self)
        self.uptime = QtWidgets.QLabel("Uptime: -", self)
        self.state = QtWidgets.QLabel("", self)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        for w in (self.cpu, self.memory, self.uptime):
            layout.addWidget(w)
            layout.addSpacing(18)
        layout.addStretch(1)
        layout.addWidget(self.state)
        self._stream: Any = None

    def start(self, session: Any) -> None:
        self.stop()
        if PATH not in (session.schema or {}):
            self.cpu.setText("CPU: n/a")
            return
        self._stream = session.follow(PATH)
        jobs.spawn(self._pump(self._stream), on_error=lambda exc: self.state.setText(str(exc)))

    async def _pump(self, stream: Any) -> None:
        async for event in stream:
            op = event.get("op")
            if op == "rows" and event.get("rows"):
                self.show_values(event["rows"][0])
            elif op in ("add", "set"):
                self.show_values(event["row"])
            elif op in ("lost", "reset"):
                self.clear_values()

    def show_values(self, row: dict[str, str]) -> None:
        self.values.update(row)
        v = self.values
        if "cpu-load" in v:
            load = v["cpu-load"]
            self.cpu.setText("CPU: %s%s" % (load, "" if load.endswith("%") else "%"))
        if "free-memory" in v and "total-memory" in v:
            total, free = parse_size(v["total-memory"]), parse_size(v["free-memory"])
            if total is not None and free is not None:
                self.memory.setText("Memory: %s used / %s" % (human_bytes(str(total - free)),
                                                              human_bytes(v["total-memory"])))
            else:
                self.memory.setText("Memory: %s free" % v["free-memory"])
        if "uptime" in v:
            self.uptime.setText("Uptime: %s" % v["uptime"])

    def stop(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            jobs.spawn(stream.cancel(), on_error=lambda exc: None)

    def clear(self) -> None:
        self.stop()
        self.clear_values()

    def clear_values(self) -> None:
        """Forget the shown values (the connection dropped; the stream resumes)."""
        self.values = {}
        self.cpu.setText("CPU: -")
        self.memory.setText("Memory: -")
        self.uptime.setText("Uptime: -")
