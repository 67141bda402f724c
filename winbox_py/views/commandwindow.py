"""A window that runs one menu command (monitor, scan, renew, start...).

Arguments, if the command takes any, are edited with the same editors as
item dialogs; Start runs the command through ``Session.command`` and the
rows it streams are shown: a monitor's latest row as name/value pairs (live),
other commands' rows in a list. Stop (or closing the window) cancels the stream.
"""

from __future__ import annotations

from typing import Any

from winbox_py.backend.tabledata import title
from winbox_py.qt import Qt, QtWidgets
from winbox_py.views import jobs
from winbox_py.views.editors import Editor, label_for, make_editor
from winbox_py.views.errors import plain
from winbox_py.views.layouts import buttons_beside, start_stop_close


class CommandWindow(QtWidgets.QDialog):
    """Runs a command and shows its rows.

    Attributes:
        stream: the running command's Stream, or None.
        rows: every row received (non-monitor commands).
    """

    def __init__(self, session: Any, menu: dict, command: dict, item: str | None, item_name: str = "", parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.menu = menu
        self.command = command
        self.item = item
        self.stream: Any = None
        self.rows: list[dict[str, str]] = []
        name = title(command["name"])
        self.setWindowTitle("%s %s" % (name, "<%s>" % item_name if item_name else menu.get("title", menu["path"])))
        self.editors: dict[str, Editor] = {}
        form = QtWidgets.QFormLayout()
        for arg in command.get("args", []):
            e = make_editor(arg, self)
            if arg.get("default"):
                e.set_value(str(arg["default"]))
            self.editors[arg["name"]] = e
            form.addRow(label_for(arg), e)
        self.table = QtWidgets.QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Property", "Value"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.start_button, self.stop_button, self.close_button = start_stop_close(self)
        self.status = QtWidgets.QLabel(self)
        self.status.setWordWrap(True)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.table, 1)
        buttons_beside(self, left, (self.start_button, self.stop_button, self.close_button), [self.status])
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.close)
        self.resize(440, 360)
        if not any(a.get("required") for a in command.get("args", [])):
            self.start()

    def start(self) -> None:
        self.stop()
        args = {}
        for n, e in self.editors.items():
            v = e.value()
            if v == "" or (e.kind == "bool" and v == "no"):
                continue  # not given: the command's own default
            args[n] = v
        self.rows = []
        self.stream = self.session.command(self.menu["path"], self.command["name"], item=self.item, args=args)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("running...")
        jobs.spawn(self._pump(self.stream), on_error=self._failed)

    async def _pump(self, stream: Any) -> None:
        async for row in stream:
            if stream is not self.stream:
                return
            if isinstance(row, dict) and row.get("op") in ("done", "ready"):
                continue
            row = row.get("row", row) if isinstance(row, dict) else {"value": str(row)}
            self.rows.append(row)
            self._show(row)
        if stream is self.stream:
            self.status.setText("done")
            self._stopped()

    def _show(self, row: dict[str, str]) -> None:
        items = [(k, v) for k, v in row.items() if not k.startswith(".")]
        self.table.setRowCount(len(items))
        for i, (k, v) in enumerate(items):
            for col, text in ((0, k), (1, str(v))):
                cell = self.table.item(i, col)
                if cell is None:
                    cell = QtWidgets.QTableWidgetItem(text)
                    self.table.setItem(i, col, cell)
                elif cell.text() != text:
                    cell.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(plain(exc))
        prop = getattr(exc, "property", None)
        if prop in self.editors:
            self.editors[prop].set_error(plain(exc))
        self._stopped()

    def _stopped(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def stop(self) -> None:
        if self.stream is not None:
            stream, self.stream = self.stream, None
            jobs.spawn(stream.cancel(), on_error=lambda exc: None)
            self.status.setText("stopped")
        self._stopped()

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
