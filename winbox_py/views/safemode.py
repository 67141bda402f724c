"""Safe mode in the desktop: the banner, the rollback report, the questions.

- :class:`SafeModeBanner` says, while safe mode is on, that the changes are
  on probation, or who holds safe mode when another session does.
- :class:`RollbackReport` explains after a rollback what was undone and why
  (the agent's report, delivered when the desktop reconnects).
- :func:`confirm_impact` asks the agent whether a change may cut the
  connection to the router and, if so, asks the person before it is sent.
- :func:`ask_take_over` and :func:`ask_keep_on_close` are the two other
  questions safe mode raises.

Questions are shown without a nested event loop (``open()`` and a future):
the asyncio loop runs on Qt's, and a modal ``exec()`` inside a coroutine
would re-enter it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Sequence

from winbox_py.qt import QtWidgets, Qt

ON_STYLE = "background: #ef6c00; color: white; padding: 3px 8px; font-weight: bold;"
OTHER_STYLE = "background: #fff3e0; color: #5d4037; padding: 3px 8px;"


def _clock(wall: Any) -> str:
    try:
        return time.strftime("%H:%M:%S", time.localtime(float(wall)))
    except (TypeError, ValueError):
        return "?"


class SafeModeBanner(QtWidgets.QLabel):
    """The safe-mode line of the main window (hidden when safe mode is off).

    Attributes:
        status: the last status shown (the agent's ``safe-mode`` answer).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("safe-mode-banner")
        self.status: dict = {}
        self.setVisible(False)

    def show_status(self, status: dict) -> None:
        self.status = dict(status or {})
        holder = self.status.get("holder") or {}
        if self.status.get("on"):
            self.setText("SAFE MODE: changes are undone if the connection is lost; turn Safe Mode off to "
                         "keep them")
            self.setStyleSheet(ON_STYLE)
            self.setVisible(True)
        elif self.status.get("held"):
            self.setText("Safe Mode is held by %s (session %s, since %s): your changes are refused until it "
                         "is released" % (holder.get("user") or "?", holder.get("session") or "?",
                                          _clock(holder.get("since"))))
            self.setStyleSheet(OTHER_STYLE)
            self.setVisible(True)
        else:
            self.setVisible(False)


class RollbackReport(QtWidgets.QDialog):
    """What a safe-mode rollback undid, and why.

    Attributes:
        report: the agent's report (``reason``, ``undone``, ``failed``, ``time``...).
        undone: the list of undone changes, one line each.
    """

    def __init__(self, report: dict, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.report = dict(report or {})
        self.setWindowTitle("Safe Mode: changes undone")
        count = int(self.report.get("count") or 0)
        if self.report.get("restarted"):
            head = ("The router's agent stopped while Safe Mode was on, so the %d change%s made in Safe Mode "
                    "were not kept." % (count, "" if count == 1 else "s"))
        else:
            head = ("Safe Mode undid %d change%s at %s because %s." % (
                count, "" if count == 1 else "s", _clock(self.report.get("time")),
                self.report.get("reason") or "the session was lost"))
        self.summary = QtWidgets.QLabel(head, self)
        self.summary.setWordWrap(True)
        self.undone = QtWidgets.QListWidget(self)
        self.undone.setObjectName("undone")
        for line in self.report.get("undone") or []:
            self.undone.addItem(str(line))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QtWidgets.QLabel("Undone (the configuration is as it was before Safe Mode):", self))
        layout.addWidget(self.undone, 1)
        failed = self.report.get("failed") or []
        if failed:
            warn = QtWidgets.QLabel("These could not be undone:\n" + "\n".join(str(f) for f in failed), self)
            warn.setObjectName("failed")
            warn.setStyleSheet("color: #c01818;")
            warn.setWordWrap(True)
            layout.addWidget(warn)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok, self)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(560, 340)


async def ask(parent: QtWidgets.QWidget | None, title: str, text: str,
              buttons: Sequence[tuple[str, Any]], default: int = 0,
              icon: Any = QtWidgets.QMessageBox.Warning) -> Any:
    """Show a message box without blocking the loop; returns the value of
    the button pressed (the last button's when the box is closed)."""
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setAttribute(Qt.WA_DeleteOnClose)
    made = []
    for i, (label, _) in enumerate(buttons):
        role = QtWidgets.QMessageBox.RejectRole if i == len(buttons) - 1 else QtWidgets.QMessageBox.AcceptRole
        made.append(box.addButton(label, role))
    box.setDefaultButton(made[default])
    box.setEscapeButton(made[-1])
    answer: asyncio.Future = asyncio.get_running_loop().create_future()

    def done(*_: Any) -> None:
        if not answer.done():
            clicked = box.clickedButton()
            answer.set_result(buttons[made.index(clicked)][1] if clicked in made else buttons[-1][1])
    box.finished.connect(done)
    box.open()
    return await answer


ACTION_WORDS = {"add": "Add", "set": "Apply", "unset": "Apply", "remove": "Remove", "enable": "Enable",
                "disable": "Disable", "move": "Move"}


async def confirm_impact(parent: QtWidgets.QWidget | None, session: Any, path: str, action: str,
                         ids: Sequence[str] | str | None = None, values: dict[str, str] | None = None) -> bool:
    """True when the change may go ahead: it cannot cut the connection, or
    the person said so.  Errors while asking count as no warning (the change
    itself will say what is wrong)."""
    check = getattr(session, "check_impact", None)
    if check is None:
        return True
    try:
        warnings = await check(path, action, ids, values)
    except Exception:
        return True
    if not warnings:
        return True
    safe = getattr(session, "safe", {}) or {}
    advice = ("Safe Mode is on: if the connection is lost, this change is undone after a few seconds."
              if safe.get("on") else
              "Turn on Safe Mode first to have the change undone by itself if the connection is lost.")
    text = "%s\n\n%s\n\nContinue?" % ("\n".join(warnings), advice)
    word = ACTION_WORDS.get(action, "Continue")
    return bool(await ask(parent, "This change may cut your connection to the router", text,
                          [(word + " anyway", True), ("Cancel", False)], default=1))


async def ask_take_over(parent: QtWidgets.QWidget | None, holder: str) -> str | None:
    """Another session holds safe mode: take it over keeping or undoing its
    changes, or leave it (None)."""
    return await ask(parent, "Safe Mode is held by another session",
                     "%s\n\nTake Safe Mode over? Its changes can be kept or undone." % holder,
                     [("Take over, keep its changes", "keep"), ("Take over, undo its changes", "unroll"),
                      ("Cancel", None)], default=2, icon=QtWidgets.QMessageBox.Question)


async def ask_keep_on_close(parent: QtWidgets.QWidget | None, changes: int) -> bool | None:
    """Closing while safe mode is on: keep the changes (True), undo them
    (False), or do not close (None)."""
    return await ask(parent, "Safe Mode is on",
                     "Safe Mode is on with %d change%s on probation.\n\nKeep them before closing?" % (
                         changes, "" if changes == 1 else "s"),
                     [("Keep the changes", True), ("Undo them", False), ("Cancel", None)], default=0,
                     icon=QtWidgets.QMessageBox.Question)
