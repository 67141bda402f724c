"""Renew License: ask the account server for a license, as WinBox's dialog does.

Account, Password and Level (p1, p10, p-unlimited); Start, Stop and Close;
and a status line that shows the agent's ``/system license renew`` progress
as it streams: ``connecting``, ``renewing``, then ``done`` or the error
(``ERROR: ...``: a wrong password, a server that cannot be reached, a key
that does not check out, another renewal already running). An argument the
agent refuses (an unknown level) is shown with its field named. Nothing of
the license changes unless the agent says ``done``.

The password can come from the system keyring (:mod:`winbox_py.backend.credentials`)
when "Remember password" was ticked for that account and server; it is only
stored there after a renewal that went through.
"""

from __future__ import annotations

from typing import Any

from winbox_py.qt import Qt, QtWidgets, Signal
from winbox_py.views import jobs
from winbox_py.views.errors import plain
from winbox_py.views.layouts import buttons_beside, start_stop_close
from winbox_py.views.livestate import DASH

PATH = "/system/license"
LEVELS = ("p1", "p10", "p-unlimited")
RENEW_INTERVAL = 0.25          # how often the agent reports the renewal's progress
DONE = "done"
ERROR_STYLE = "color: #c01818;"
DONE_STYLE = "color: #1b7a2e; font-weight: bold;"
FIELD_ERROR_STYLE = "border: 1px solid #d02020; background: #fff0f0;"


def credential_address(server: str) -> str:
    """Where the account's password is filed in the keyring (per account server)."""
    return "license:%s" % (server or "account-server")


class RenewDialog(QtWidgets.QDialog):
    """The Renew License dialog.

    Attributes:
        stream: the running renewal, or None.
        statuses: every distinct status the agent reported for the last Start.
        outcome: ``done``, ``error`` or ``stopped`` once the last Start ended
            (``""`` before and while running).

    Signals:
        renewed: the agent answered ``done``.
    """

    renewed = Signal()

    def __init__(self, session: Any, credentials: Any = None, server: str = "", level: str = "p1",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.credentials = credentials
        self.server = server
        self.stream: Any = None
        self.statuses: list[str] = []
        self.outcome = ""
        self.setWindowTitle("Renew License")
        self.account = QtWidgets.QLineEdit(self)
        self.account.setObjectName("account")
        self.password = QtWidgets.QLineEdit(self)
        self.password.setObjectName("password")
        self.password.setEchoMode(QtWidgets.QLineEdit.Password)
        self.remember = QtWidgets.QCheckBox("Remember password", self)
        if credentials is None:
            self.remember.setEnabled(False)
            self.remember.setToolTip("no password store in this session")
        elif not getattr(credentials, "persistent", True):
            self.remember.setToolTip(getattr(credentials, "reason", "") or "kept until the program exits")
        self.level = QtWidgets.QComboBox(self)
        self.level.setObjectName("level")
        self.level.setEditable(True)
        self.level.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.level.addItems(LEVELS)
        self.level.setEditText(level if level in LEVELS else LEVELS[0])
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.addRow("Account:", self.account)
        form.addRow("Password:", self.password)
        form.addRow("", self.remember)
        form.addRow("Level:", self.level)
        self.start_button, self.stop_button, self.close_button = start_stop_close(self)
        self.start_button.setDefault(True)
        self.status = QtWidgets.QLabel(self)
        self.status.setObjectName("renew-status")
        self.status.setWordWrap(True)
        self.status.setFrameShape(QtWidgets.QFrame.StyledPanel)
        self.status.setFrameShadow(QtWidgets.QFrame.Sunken)
        self.status.setMinimumHeight(24)
        buttons_beside(self, form, (self.start_button, self.stop_button, self.close_button), [self.status],
                       min_width=90)
        self._connect_signals()
        self.resize(420, 190)

    def _connect_signals(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.close)
        self.account.editingFinished.connect(self._fill_password)

    # -- the keyring --------------------------------------------------------------------
    def _fill_password(self) -> None:
        if self.credentials is None or self.password.text() or not self.account.text().strip():
            return
        saved = self.credentials.get(credential_address(self.server), self.account.text().strip())
        if saved:
            self.password.setText(saved)
            self.remember.setChecked(True)

    def _keep_password(self) -> None:
        if self.credentials is None:
            return
        account = self.account.text().strip()
        if self.remember.isChecked():
            self.credentials.set(credential_address(self.server), account, self.password.text())
        else:
            self.credentials.delete(credential_address(self.server), account)

    # -- running --------------------------------------------------------------------------
    def start(self) -> None:
        if self.stream is not None:
            return
        account = self.account.text().strip()
        level = self.level.currentText().strip()
        if not account:
            self._show("account: enter the account name", ERROR_STYLE)
            self.account.setFocus()
            return
        if not self.password.text():
            self._fill_password()
        if not self.password.text():
            self._show("password: enter the account's password", ERROR_STYLE)
            self.password.setFocus()
            return
        for w in (self.account, self.password, self.level):
            w.setStyleSheet("")
            w.setToolTip("")
        args = {"account": account, "password": self.password.text(), "level": level}
        self.statuses = []
        self.outcome = ""
        try:
            stream = self.session.command(PATH, "renew", args=args, interval=RENEW_INTERVAL)
        except Exception as exc:
            self._ended(None, "error", plain(exc))
            return
        self.stream = stream
        self._running(True)
        self._show("starting...", "")
        jobs.spawn(self._pump(stream), on_error=lambda exc, s=stream: self._failed(s, exc))

    async def _pump(self, stream: Any) -> None:
        async for row in stream:
            if stream is not self.stream:
                return
            if row.get("op") == "lost":
                # never resume a renewal by itself after a reconnect: say what is known
                await stream.cancel()
                self._ended(stream, "stopped", "stopped %s connection lost; whether the license was renewed is "
                                               "not known: see the License window" % DASH)
                return
            status = row.get("status")
            if not status:
                continue
            if not self.statuses or self.statuses[-1] != status:
                self.statuses.append(status)
            if status == DONE:
                self._keep_password()
                self._ended(stream, "done", DONE)
                self.renewed.emit()
                return
            if status.startswith("ERROR"):
                self._ended(stream, "error", status)
                return
            self._show(status, "")
        self._ended(stream, "stopped", "stopped %s the router ended the renewal without an answer" % DASH)

    def _failed(self, stream: Any, exc: BaseException) -> None:
        """The agent refused the request (``level: p5 is not one of ...``): mark the field."""
        self._ended(stream, "error", plain(exc))
        field = {"account": self.account, "password": self.password, "level": self.level}.get(
            getattr(exc, "property", None) or "")
        if field is not None and self.outcome == "error":
            field.setStyleSheet(FIELD_ERROR_STYLE)
            field.setToolTip(plain(exc))
            field.setFocus()

    def _ended(self, stream: Any, outcome: str, text: str) -> None:
        if stream is not None and stream is not self.stream:
            return
        if stream is not None and not stream.closed:
            # leave the agent's renew stream now: it keeps its last status for a moment, and the
            # next Start must begin a renewal of its own, not be shown this one's answer
            jobs.spawn(stream.cancel(), on_error=lambda exc: None)
        self.stream = None
        self.outcome = outcome
        self._show(text, DONE_STYLE if outcome == "done" else ERROR_STYLE if outcome == "error" else "")
        self._running(False)

    def stop(self) -> None:
        """Stop following the renewal. The router still takes the server's
        answer if one comes (the server may have acted already)."""
        if self.stream is None:
            return
        stream, self.stream = self.stream, None
        jobs.spawn(stream.cancel(), on_error=lambda exc: None)
        self.outcome = "stopped"
        self._show("stopped %s the router still takes the server's answer if one comes: see the License window"
                   % DASH, "")
        self._running(False)

    def _running(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.stop_button.setEnabled(on)
        for w in (self.account, self.password, self.level, self.remember):
            w.setEnabled(not on)
        if self.credentials is None:
            self.remember.setEnabled(False)

    def _show(self, text: str, style: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def status_text(self) -> str:
        return self.status.text()

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
