"""New Terminal: the router's command language in a VT100 screen.

Each line typed is run with ``Session.cli`` over the same connection and its
output written to a pyte screen (with scrollback history), which the widget
draws as text. Up/Down recall earlier commands; the text can be selected and
copied (Ctrl+Shift+C) and pasted (Ctrl+Shift+V, or the middle button).
"""

from __future__ import annotations

from typing import Any

import pyte

from winbox_py.qt import Qt, QtGui, QtWidgets, Signal
from winbox_py.views import jobs
from winbox_py.views.errors import plain

COLUMNS = 100
ROWS = 30
SCROLLBACK = 2000


class TerminalScreen:
    """A pyte screen with scrollback, fed text; no Qt.

    Attributes:
        screen: the pyte HistoryScreen.
    """

    def __init__(self, columns: int = COLUMNS, rows: int = ROWS):
        self.screen = pyte.HistoryScreen(columns, rows, history=SCROLLBACK, ratio=0.5)
        self.stream = pyte.Stream(self.screen)

    def write(self, text: str) -> None:
        self.stream.feed(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    def lines(self) -> list[str]:
        """Scrollback then the screen, trailing blanks trimmed."""
        cols = self.screen.columns
        history = ["".join(line[x].data for x in range(cols)).rstrip() for line in self.screen.history.top]
        shown = [line.rstrip() for line in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return history + shown

    def text(self) -> str:
        return "\n".join(self.lines())


class Terminal(QtWidgets.QPlainTextEdit):
    """The terminal widget.

    Attributes:
        history: commands typed, oldest first.
        busy: a command is running.

    Signals:
        ran(str): a command finished (its line).
    """

    ran = Signal(str)

    def __init__(self, session: Any, parent=None):
        super().__init__(parent)
        self.session = session
        self.term = TerminalScreen()
        self.history: list[str] = []
        self._history_pos = 0
        self.line = ""
        self.busy = False
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setStyleSheet("QPlainTextEdit { background: #101010; color: #d8d8d8; }")
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setFocusPolicy(Qt.StrongFocus)
        facts = getattr(session, "facts", {}) or {}
        self._who = "[%s@%s]" % (facts.get("user") or "admin", facts.get("identity") or "MikroTik")
        self.prompt = self._prompt()
        self.term.write("\n  winbox-py terminal: RouterOS commands run on %s\n\n" % facts.get("hostname", "the router"))
        self._render()

    def _prompt(self) -> str:
        """``[admin@MikroTik] /ip address> `` as RouterOS shows it."""
        path = getattr(self.session, "cli_path", "/") or "/"
        where = " ".join(w for w in path.split("/") if w)
        return "%s /%s> " % (self._who, where) if where else "%s > " % self._who

    # -- drawing ------------------------------------------------------------------------
    def _render(self) -> None:
        text = self.term.text()
        if not self.busy:
            text += ("\n" if text else "") + self.prompt + self.line
        self.setPlainText(text)
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        cursor = self.textCursor()
        cursor.movePosition(QtGui.QTextCursor.End)
        self.setTextCursor(cursor)

    # -- typing -----------------------------------------------------------------------------
    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl_shift = Qt.ControlModifier | Qt.ShiftModifier
        if mods & ctrl_shift == ctrl_shift and key == Qt.Key_C:
            self.copy()
            return
        if (mods & ctrl_shift == ctrl_shift and key == Qt.Key_V) or (mods & Qt.ShiftModifier and key == Qt.Key_Insert):
            self.paste_text(QtWidgets.QApplication.clipboard().text())
            return
        if self.busy:
            return
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.submit()
        elif key == Qt.Key_Backspace:
            self.line = self.line[:-1]
            self._render()
        elif key == Qt.Key_Up:
            self._recall(-1)
        elif key == Qt.Key_Down:
            self._recall(1)
        elif mods & Qt.ControlModifier and key == Qt.Key_C:
            self.term.write(self.prompt + self.line + "\n")
            self.line = ""
            self._render()
        elif mods & Qt.ControlModifier and key == Qt.Key_L:
            self.term.screen.reset()
            self._render()
        elif event.text() and event.text().isprintable():
            self.line += event.text()
            self._render()
        else:
            super().keyPressEvent(event)

    def paste_text(self, text: str) -> None:
        """Paste: each complete line runs in turn; the last part stays typed."""
        parts = text.replace("\r\n", "\n").split("\n")
        self.line += parts[0]
        if len(parts) == 1:
            self._render()
            return
        lines = [self.line] + parts[1:-1]
        self.line = parts[-1]
        jobs.spawn(self._run_lines(lines))

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton:
            self.paste_text(QtWidgets.QApplication.clipboard().text(QtGui.QClipboard.Selection))
            return
        super().mouseReleaseEvent(event)

    def _recall(self, step: int) -> None:
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history), self._history_pos + step))
        self.line = self.history[self._history_pos] if self._history_pos < len(self.history) else ""
        self._render()

    # -- running ------------------------------------------------------------------------------
    def submit(self) -> None:
        line, self.line = self.line, ""
        jobs.spawn(self._run_lines([line]))

    async def _run_lines(self, lines: list[str]) -> None:
        for line in lines:
            await self.run(line)

    async def run(self, line: str) -> None:
        """Run one line as if typed, and show its output."""
        self.term.write(self.prompt + line + "\n")
        if line.strip():
            self.history.append(line)
        self._history_pos = len(self.history)
        self.busy = True
        self._render()
        try:
            if line.strip():
                out = await self.session.cli(line)
                if out:
                    self.term.write(out if out.endswith("\n") else out + "\n")
                if "identity" in line:  # the prompt shows the router's name
                    rows = await self.session.print("/system/identity")
                    if rows and rows[0].get("name"):
                        self._who = "%s@%s]" % (self._who.split("@")[0], rows[0]["name"])
        except Exception as exc:  # the agent's words, as RouterOS shows them
            self.term.write("failure: %s\n" % plain(exc))
        finally:
            self.busy = False
            self.prompt = self._prompt()
            self._render()
            self.ran.emit(line)


class TerminalWindow(QtWidgets.QWidget):
    """The terminal as an MDI child window's content."""

    def __init__(self, session: Any, parent=None):
        super().__init__(parent)
        self.terminal = Terminal(session, self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.terminal)
        self.setWindowTitle("Terminal")
        self.setFocusProxy(self.terminal)
