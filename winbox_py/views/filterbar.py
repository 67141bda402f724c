"""The filter stack above a table: lines of column / operator / value.

Each line is ``column`` ``is | is not | contains | in`` ``value``; every line
must hold for a row to show. The bar says ``changed`` with the list of
:class:`~winbox_py.backend.tabledata.Rule` whenever a line changes.
"""

from __future__ import annotations

from winbox_py.backend.tabledata import OPS, Column, Rule
from winbox_py.qt import QtWidgets, Signal
from winbox_py.views import icons


class FilterLine(QtWidgets.QWidget):
    """One rule being edited.

    Signals:
        changed: any part of the rule changed.
        removed: the line's minus button was pressed.
    """

    changed = Signal()
    removed = Signal()

    def __init__(self, columns: list[Column], parent=None):
        super().__init__(parent)
        self.columns = [c for c in columns if c.title or c.field == ".flags"]
        self.column = QtWidgets.QComboBox(self)
        for c in self.columns:
            self.column.addItem(c.title or "Flags", c.index)
        self.op = QtWidgets.QComboBox(self)
        self.op.addItems(list(OPS))
        self.value = QtWidgets.QLineEdit(self)
        self.value.setPlaceholderText("value (in: a,b,c)")
        minus = QtWidgets.QToolButton(self)
        minus.setIcon(icons.icon("remove"))
        minus.setToolTip("Remove this filter line")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.column)
        layout.addWidget(self.op)
        layout.addWidget(self.value, 1)
        layout.addWidget(minus)
        self.column.activated.connect(lambda _i: self.changed.emit())
        self.op.activated.connect(lambda _i: self.changed.emit())
        self.value.textChanged.connect(lambda _t: self.changed.emit())
        minus.clicked.connect(self.removed.emit)

    def rule(self) -> Rule:
        return Rule(self.column.currentData(), self.op.currentText(), self.value.text())

    def set_rule(self, field_index: int, op: str, value: str) -> None:
        i = self.column.findData(field_index)
        if i >= 0:
            self.column.setCurrentIndex(i)
        self.op.setCurrentText(op)
        self.value.setText(value)


class FilterBar(QtWidgets.QWidget):
    """A stack of FilterLines with a plus button.

    Signals:
        changed(list): the rules now in force.
    """

    changed = Signal(list)

    def __init__(self, columns: list[Column], parent=None):
        super().__init__(parent)
        self.columns = columns
        self.lines: list[FilterLine] = []
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self._layout.setSpacing(2)
        plus = QtWidgets.QToolButton(self)
        plus.setIcon(icons.icon("add"))
        plus.setToolTip("Add a filter line")
        plus.clicked.connect(lambda: self.add_line())
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Filters (all must match):", self))
        top.addStretch(1)
        top.addWidget(plus)
        self._layout.addLayout(top)

    def add_line(self) -> FilterLine:
        line = FilterLine(self.columns, self)
        self.lines.append(line)
        self._layout.addWidget(line)
        line.changed.connect(self._emit)
        line.removed.connect(lambda l=line: self.remove_line(l))
        line.value.setFocus()
        return line

    def remove_line(self, line: FilterLine) -> None:
        self.lines.remove(line)
        line.setParent(None)
        line.deleteLater()
        self._emit()

    def rules(self) -> list[Rule]:
        return [l.rule() for l in self.lines if l.value.text() != "" or l.rule().op in ("is", "is not")]

    def _emit(self) -> None:
        self.changed.emit(self.rules())
