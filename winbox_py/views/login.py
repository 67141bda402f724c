"""The login window: Connect To, Login, Password, Saved and Neighbors tabs.

Connect opens the SSH connection through ``backend.connect.connect`` (the
agent is pushed and the handshake run); an unknown host key is asked about
with its fingerprint; failures are said in plain words and nothing typed is
lost. "Open in new window" keeps the login window open for another router.
"""

from __future__ import annotations

from typing import Any, Callable

from winbox_py.backend.addressbook import AddressBook, Entry
from winbox_py.backend.credentials import Credentials
from winbox_py.qt import Qt, QtWidgets, Signal
from winbox_py.views import hostkey, icons, jobs
from winbox_py.views.errors import plain
from winbox_py.views.neighbors import NeighborsTab
from winbox_py.views.savedtab import SavedTab


class LoginWindow(QtWidgets.QWidget):
    """Where a session starts.

    Attributes:
        connector: ``async (address, user, password, keyfile, decide_host_key) -> Session``.

    Signals:
        connected(object, str, bool): a Session, the address, whether to keep
            this window open ("Open in new window").
    """

    connected = Signal(object, str, bool)

    def __init__(self, connector: Callable[..., Any] | None = None, book: AddressBook | None = None,
                 credentials: Credentials | None = None, listen_neighbors: bool = True, parent=None):
        super().__init__(parent)
        self.setWindowTitle("winbox-py - login")
        self.setWindowIcon(icons.icon("router"))
        self.connector = connector or default_connector
        self.book = book if book is not None else AddressBook()
        self.credentials = credentials if credentials is not None else Credentials()
        self._build()
        self._connect_signals()
        if listen_neighbors:
            self.neighbors.start()
        if not self.credentials.persistent:
            self.remember.setToolTip("Passwords are kept only until the program exits: %s" % self.credentials.reason)
        self.resize(760, 480)

    def _build(self) -> None:
        self.address = QtWidgets.QLineEdit(self)
        self.address.setPlaceholderText("192.168.88.1, host:port or [IPv6]")
        self.user = QtWidgets.QLineEdit("admin", self)
        self.password = QtWidgets.QLineEdit(self)
        self.password.setEchoMode(QtWidgets.QLineEdit.Password)
        self.keyfile = QtWidgets.QLineEdit(self)
        self.keyfile.setPlaceholderText("(optional) private key file")
        self.remember = QtWidgets.QCheckBox("Remember password", self)
        self.new_window = QtWidgets.QCheckBox("Open in new window", self)
        self.connect_button = QtWidgets.QPushButton("Connect", self)
        self.connect_button.setDefault(True)
        self.save_button = QtWidgets.QPushButton("Add/Set", self)
        form = QtWidgets.QFormLayout()
        form.addRow("Connect To:", self.address)
        form.addRow("Login:", self.user)
        form.addRow("Password:", self.password)
        form.addRow("Key file:", self.keyfile)
        checks = QtWidgets.QHBoxLayout()
        checks.addWidget(self.remember)
        checks.addWidget(self.new_window)
        checks.addStretch(1)
        form.addRow("", checks)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        top = QtWidgets.QHBoxLayout()
        top.addLayout(form, 1)
        top.addLayout(buttons)
        self.tabs = QtWidgets.QTabWidget(self)
        self.saved = SavedTab(self.book, self)
        self.neighbors = NeighborsTab(self)
        self.tabs.addTab(self.saved, "Saved")
        self.tabs.addTab(self.neighbors, "Neighbors")
        self.status = QtWidgets.QLabel(self)
        self.status.setWordWrap(True)
        self.status.setObjectName("status")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

    def _connect_signals(self) -> None:
        self.connect_button.clicked.connect(self.connect_clicked)
        self.password.returnPressed.connect(self.connect_clicked)
        self.address.returnPressed.connect(self.connect_clicked)
        self.save_button.clicked.connect(self.save_current)
        self.saved.chosen.connect(self.fill)
        self.saved.connect_requested.connect(lambda e: (self.fill(e), self.connect_clicked()))
        self.saved.message.connect(self.status.setText)
        self.neighbors.address_chosen.connect(self.address.setText)
        self.neighbors.connect_requested.connect(lambda a: (self.address.setText(a), self.password.setFocus()))

    def fill(self, entry: Entry) -> None:
        self.address.setText(entry.address)
        self.user.setText(entry.user or "admin")
        self.keyfile.setText(entry.keyfile)
        saved = self.credentials.get(entry.address, entry.user or "admin")
        self.password.setText(saved or "")
        self.remember.setChecked(saved is not None)

    def save_current(self) -> None:
        self.saved.edit(None, {"address": self.address.text().strip(), "user": self.user.text().strip(),
                               "keyfile": self.keyfile.text().strip()})

    def connect_clicked(self) -> None:
        address = self.address.text().strip()
        if not address:
            self.status.setText("Connect To: give the router's address, e.g. 192.168.88.1")
            self.address.setFocus()
            return
        self.connect_button.setEnabled(False)
        self.status.setText("Connecting to %s..." % address)
        jobs.spawn(self._connect(address), on_error=self._failed)

    async def _connect(self, address: str) -> None:
        user = self.user.text().strip() or "admin"
        password = self.password.text() or None
        session = await self.connector(address, user, password, self.keyfile.text().strip() or None,
                                       lambda host, fp: hostkey.ask(host, fp, self))
        if self.remember.isChecked() and password:
            stored = self.credentials.set(address, user, password)
            if not stored:
                self.status.setText("Connected. The password is remembered only until the program exits "
                                    "(no secure password store).")
        elif not self.remember.isChecked():
            self.credentials.delete(address, user)
        self.connect_button.setEnabled(True)
        if not self.status.text().startswith("Connected."):
            self.status.setText("Connected to %s" % address)
        self.connected.emit(session, address, self.new_window.isChecked())

    def _failed(self, exc: BaseException) -> None:
        self.connect_button.setEnabled(True)
        self.status.setText(plain(exc))

    def closeEvent(self, event) -> None:
        self.neighbors.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)


async def default_connector(address: str, user: str, password: str | None, keyfile: str | None, decide) -> Any:
    """Connect over SSH as the desktop does."""
    from winbox_py.backend.connect import ConnectTarget, connect
    target = ConnectTarget(host=address, user=user, keyfile=keyfile)
    return await connect(target, decide, password)
