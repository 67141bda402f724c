"""System > License: the CHR license window, as WinBox shows it.

System ID, Level, Next Renewal At, Deadline At and Limited Upgrades (a
read-only check box), followed live from ``/system/license`` so a renewal
shows at once; the level's speed limit (upload per interface: free 1 Mbit/s,
p1 1 Gbit/s, p10 10 Gbit/s, p-unlimited none). Buttons OK, Generate New ID
(asks first, and shows the agent's refusal when the level is not free),
Renew License (opens :class:`~winbox_py.views.renewdialog.RenewDialog`) and
Server... (the license server settings, in the menu's ordinary dialog).
"""

from __future__ import annotations

from typing import Any, Callable

from winbox_py.backend.livestats import LIVE, LiveFeed
from winbox_py.qt import Qt, QtWidgets
from winbox_py.views import jobs
from winbox_py.views.errors import plain
from winbox_py.views.layouts import buttons_beside
from winbox_py.views.livestate import LiveStateLabel, grey
from winbox_py.views.renewdialog import RenewDialog

PATH = "/system/license"
FIELDS = (("system-id", "System ID:"), ("level", "Level:"), ("next-renewal-at", "Next Renewal At:"),
          ("deadline-at", "Deadline At:"))
SPEED = {"free": "1 Mbit/s", "p1": "1 Gbit/s", "p10": "10 Gbit/s", "p-unlimited": "none"}
CONFIRM = ("Give this router a new system ID?\n\nOnly do this on the free level, before asking for a trial: "
           "a router with a trial or paid license could not update its key any more.")


def speed_text(level: str, agent_text: str = "") -> str:
    """The upload limit per interface of a level, for people."""
    if level in SPEED:
        limit = SPEED[level]
    elif agent_text:
        limit = agent_text
    else:
        return ""
    return "Speed limit: none" if limit in ("none", "unlimited") else \
        "Speed limit: %s upload per interface" % limit


class LicenseWindow(QtWidgets.QDialog):
    """The License window.

    Attributes:
        fields: property -> the read-only QLineEdit showing it.
        limited: the Limited Upgrades check box (read-only).
        speed: the speed limit line.
        message: errors and results of Generate New ID.
        values: the latest /system/license row.
        renew_dialog: the Renew License dialog opened from here, if any.
        confirm: the question Generate New ID asks, while it is shown.
    """

    def __init__(self, session: Any, credentials: Any = None,
                 open_settings: Callable[[], Any] | None = None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.credentials = credentials
        self.open_settings = open_settings
        self.values: dict[str, str] = {}
        self.renew_dialog: RenewDialog | None = None
        self.confirm: QtWidgets.QMessageBox | None = None
        self.setWindowTitle("License")
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.fields: dict[str, QtWidgets.QLineEdit] = {}
        for name, caption in FIELDS:
            edit = QtWidgets.QLineEdit(self)
            edit.setObjectName("license-" + name)
            edit.setReadOnly(True)
            edit.setMinimumWidth(200)
            form.addRow(caption, edit)
            self.fields[name] = edit
        self.limited = QtWidgets.QCheckBox("Limited Upgrades", self)
        self.limited.setObjectName("license-limited-upgrades")
        self.limited.setAttribute(Qt.WA_TransparentForMouseEvents)  # read-only, but not greyed
        self.limited.setFocusPolicy(Qt.NoFocus)
        form.addRow("", self.limited)
        self.speed = QtWidgets.QLabel(self)
        self.speed.setObjectName("license-speed")
        form.addRow("", self.speed)
        self.ok_button = QtWidgets.QPushButton("OK", self)
        self.ok_button.setDefault(True)
        self.generate_button = QtWidgets.QPushButton("Generate New ID", self)
        self.renew_button = QtWidgets.QPushButton("Renew License", self)
        self.server_button = QtWidgets.QPushButton("Server...", self)
        self.server_button.setToolTip("The account server renewals talk to (license-server, license-server-key)")
        self.server_button.setVisible(open_settings is not None)
        self.message = QtWidgets.QLabel(self)
        self.message.setObjectName("license-message")
        self.message.setWordWrap(True)
        self.state_label = LiveStateLabel(self)
        buttons_beside(self, form, (self.ok_button, self.generate_button, self.renew_button, self.server_button),
                       [self.message, self.state_label], min_width=120)
        # the license changes now and then, not every second: silence is not staleness
        self.feed = LiveFeed(lambda: session.follow(PATH), stale_after=None, parent=self)
        self.state_label.follow(self.feed)
        self._connect_signals()
        self.resize(470, 230)
        self.feed.start()

    def _connect_signals(self) -> None:
        self.ok_button.clicked.connect(self.close)
        self.generate_button.clicked.connect(self.generate_new_id)
        self.renew_button.clicked.connect(self.renew)
        if self.open_settings is not None:
            self.server_button.clicked.connect(lambda: self.open_settings())
        self.feed.sample.connect(self.show_values)
        self.feed.state_changed.connect(lambda state, _r: grey(
            list(self.fields.values()) + [self.limited, self.speed], state != LIVE))

    def show_values(self, row: dict) -> None:
        self.values.update(row)
        for name, edit in self.fields.items():
            if name in row and edit.text() != row[name]:
                edit.setText(row[name])
        self.limited.setChecked(self.values.get("limited-upgrades") == "yes")
        self.speed.setText(speed_text(self.values.get("level", ""), self.values.get("speed-limit", "")))

    def value(self, name: str) -> str:
        return self.fields[name].text() if name in self.fields else self.values.get(name, "")

    # -- Generate New ID ----------------------------------------------------------------------
    def generate_new_id(self) -> None:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, "Generate New ID", CONFIRM,
                                    QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No, self)
        box.setDefaultButton(QtWidgets.QMessageBox.No)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda result: self._confirmed(result == QtWidgets.QMessageBox.Yes))
        self.confirm = box
        box.open()

    def _confirmed(self, yes: bool) -> None:
        self.confirm = None
        if not yes:
            return
        self._say("")
        jobs.spawn(self._generate(), on_error=lambda exc: self._say(plain(exc), error=True))

    async def _generate(self) -> None:
        before = self.values.get("system-id", "")
        await self.session.command(PATH, "generate-new-id").collect()
        row = await self.session.get(PATH)
        self.show_values(row)
        if row.get("system-id") and row.get("system-id") != before:
            self._say("New system ID: %s" % row["system-id"])

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c01818;" if error else "")

    # -- Renew License ---------------------------------------------------------------------------
    def renew(self) -> RenewDialog:
        if self.renew_dialog is not None:
            self.renew_dialog.raise_()
            self.renew_dialog.activateWindow()
            return self.renew_dialog
        level = self.values.get("level", "")
        dialog = RenewDialog(self.session, self.credentials, server=self.values.get("license-server", ""),
                             level=level if level != "free" else "p1", parent=self)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "renew_dialog", None))
        self.renew_dialog = dialog
        dialog.show()
        return dialog

    def closeEvent(self, event) -> None:
        self.feed.stop("the window was closed")
        if self.renew_dialog is not None:
            self.renew_dialog.close()  # its renewal stops with it
        if self.confirm is not None:
            self.confirm.close()
        super().closeEvent(event)
