"""The login window's Saved tab: the address book.

Saved routers (address, user, group, comment) in a table; Add, Edit, Remove,
Import and Export; clicking a row fills the login form, double-clicking
connects. Passwords are never in the address book (see credentials.py).
"""

from __future__ import annotations

from winbox_py.backend.addressbook import AddressBook, AddressBookError, Entry
from winbox_py.qt import QtWidgets, Signal

COLUMNS = ["Address", "User", "Group", "Comment"]


class EntryDialog(QtWidgets.QDialog):
    """Add or edit one saved router (non-modal; calls back on OK)."""

    def __init__(self, entry: Entry | None, groups: list[str], on_ok, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Saved router" if entry else "New saved router")
        self._on_ok = on_ok
        self.address = QtWidgets.QLineEdit(entry.address if entry else "", self)
        self.user = QtWidgets.QLineEdit(entry.user if entry else "", self)
        self.group = QtWidgets.QComboBox(self)
        self.group.setEditable(True)
        self.group.addItems([""] + groups)
        self.group.setEditText(entry.group if entry else "")
        self.comment = QtWidgets.QLineEdit(entry.comment if entry else "", self)
        self.keyfile = QtWidgets.QLineEdit(entry.keyfile if entry else "", self)
        self.error = QtWidgets.QLabel(self)
        self.error.setStyleSheet("color: #c01818;")
        form = QtWidgets.QFormLayout()
        form.addRow("Address:", self.address)
        form.addRow("User:", self.user)
        form.addRow("Group:", self.group)
        form.addRow("Comment:", self.comment)
        form.addRow("Key file:", self.keyfile)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def values(self) -> dict[str, str]:
        return {"address": self.address.text().strip(), "user": self.user.text().strip(),
                "group": self.group.currentText().strip(), "comment": self.comment.text(),
                "keyfile": self.keyfile.text().strip()}

    def _ok(self) -> None:
        try:
            self._on_ok(self.values())
        except AddressBookError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class SavedTab(QtWidgets.QWidget):
    """The address book as a table with its buttons.

    Signals:
        chosen(object): an Entry was clicked (fill the form).
        connect_requested(object): an Entry was double-clicked.
        message(str): a line for the login window's status.
    """

    chosen = Signal(object)
    connect_requested = Signal(object)
    message = Signal(str)

    def __init__(self, book: AddressBook, parent=None):
        super().__init__(parent)
        self.book = book
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.add_button = QtWidgets.QPushButton("Add", self)
        self.edit_button = QtWidgets.QPushButton("Edit", self)
        self.remove_button = QtWidgets.QPushButton("Remove", self)
        self.import_button = QtWidgets.QPushButton("Import...", self)
        self.export_button = QtWidgets.QPushButton("Export...", self)
        bar = QtWidgets.QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.remove_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.import_button)
        bar.addWidget(self.export_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.add_button.clicked.connect(lambda: self.edit(None))
        self.edit_button.clicked.connect(lambda: self.edit(self.current()))
        self.remove_button.clicked.connect(self.remove_current)
        self.import_button.clicked.connect(self.import_file)
        self.export_button.clicked.connect(self.export_file)
        self.table.cellClicked.connect(lambda r, _c: self._emit(self.chosen, r))
        self.table.cellDoubleClicked.connect(lambda r, _c: self._emit(self.connect_requested, r))
        self.reload()
        if book.warning:
            self.message.emit(book.warning)

    def reload(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.book.entries))
        for r, e in enumerate(self.book.entries):
            for c, text in enumerate([e.address, e.user, e.group, e.comment]):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(0x0100, e)  # Qt.UserRole
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)

    def _emit(self, signal, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            signal.emit(item.data(0x0100))

    def current(self) -> Entry | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.data(0x0100) if item is not None else None

    def edit(self, entry: Entry | None, prefill: dict[str, str] | None = None) -> EntryDialog:
        def ok(values: dict[str, str]) -> None:
            if entry is None:
                self.book.put(values)
            else:
                self.book.update(entry, **values)
                self.book.save()
            self.reload()

        dlg = EntryDialog(entry, self.book.groups(), ok, self)
        if prefill:
            for name, value in prefill.items():
                w = getattr(dlg, name, None)
                if isinstance(w, QtWidgets.QLineEdit):
                    w.setText(value)
        dlg.open()
        self.dialog = dlg
        return dlg

    def remove_current(self) -> None:
        e = self.current()
        if e is not None:
            self.book.remove(e.address, e.user)
            self.reload()

    def import_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import saved routers", "", "JSON (*.json);;All (*)")
        if path:
            try:
                added, problems = self.book.import_from(path)
            except (AddressBookError, OSError) as exc:
                self.message.emit("Import failed: %s" % exc)
                return
            self.reload()
            self.message.emit("Imported %d router%s%s" % (added, "" if added == 1 else "s",
                                                          "; skipped: " + "; ".join(problems) if problems else ""))

    def export_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export saved routers", "routers.json", "JSON (*.json)")
        if path:
            try:
                n = self.book.export_to(path)
            except OSError as exc:
                self.message.emit("Export failed: %s" % exc)
                return
            self.message.emit("Exported %d router%s to %s" % (n, "" if n == 1 else "s", path))
