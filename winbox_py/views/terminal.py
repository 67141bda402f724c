"""New Terminal: the router's command language in a VT100 screen.

With an agent that offers it (capability ``terminal``) the window is a real
terminal: the agent runs its command line on a pty over the same connection
(``Session.terminal``), the bytes it writes are fed to a pyte screen (with
scrollback history), and keystrokes go back as a VT100 keyboard sends them
(Enter, Backspace, Tab, arrows, Home/End, Delete, Ctrl-C, Ctrl-D...), so
line editing, history and Ctrl-C are the device's (readline in the pty).
Resizing the window resizes the pty.  An older agent gets the line mode:
each line typed runs with ``Session.cli`` and Up/Down recall earlier lines.

Either way the text can be selected and copied (Ctrl+Shift+C) and pasted
(Ctrl+Shift+V, Shift+Insert or the middle button); PageUp/PageDown scroll.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pyte

from winbox_py.qt import Qt, QtCore, QtGui, QtWidgets, Signal, is_alive
from winbox_py.views import jobs
from winbox_py.views.errors import plain

COLUMNS = 100
ROWS = 30
SCROLLBACK = 2000
REDRAW_MS = 25
RUN_TIMEOUT = 30.0

PROMPT_RE = re.compile(r"^(\[[^\]\n]*\] [^>\n]*> )(.*)$")

# what a VT100 keyboard sends for the keys that are not text
KEYS = {
    Qt.Key_Return: b"\r", Qt.Key_Enter: b"\r", Qt.Key_Backspace: b"\x7f", Qt.Key_Tab: b"\t",
    Qt.Key_Escape: b"\x1b", Qt.Key_Up: b"\x1b[A", Qt.Key_Down: b"\x1b[B", Qt.Key_Right: b"\x1b[C",
    Qt.Key_Left: b"\x1b[D", Qt.Key_Home: b"\x1b[H", Qt.Key_End: b"\x1b[F", Qt.Key_Delete: b"\x1b[3~",
}


def key_bytes(key: int, mods: Any, text: str) -> bytes:
    """The bytes a VT100 sends for a key press (b"" for none)."""
    if key in KEYS:
        return KEYS[key]
    if mods & Qt.ControlModifier and Qt.Key_A <= key <= Qt.Key_Z:
        return bytes([key - Qt.Key_A + 1])                   # Ctrl-C is 0x03, Ctrl-D 0x04...
    if text and (text.isprintable() or text in ("\x03", "\x04")):
        return text.encode("utf-8")
    return b""


class TerminalScreen:
    """A pyte screen with scrollback, fed text (line mode) or bytes (pty); no Qt.

    Attributes:
        screen: the pyte HistoryScreen.
    """

    def __init__(self, columns: int = COLUMNS, rows: int = ROWS):
        self.screen = pyte.HistoryScreen(columns, rows, history=SCROLLBACK, ratio=0.5)
        self.stream = pyte.Stream(self.screen)
        self.bytes = pyte.ByteStream(self.screen)

    def write(self, text: str) -> None:
        self.stream.feed(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    def feed(self, data: bytes) -> None:
        """Output of a pty, as it came (escape sequences and all)."""
        self.bytes.feed(data)

    def resize(self, columns: int, rows: int) -> None:
        """A new size; fewer rows drop blank rows under the cursor first, and
        rows that must leave the top go to the scrollback (pyte alone would
        drop the top rows)."""
        screen = self.screen
        if rows < screen.lines:
            leave = max(0, screen.cursor.y + 1 - rows)
            buffer = screen.buffer
            for y in range(leave):
                screen.history.top.append(buffer[y])
            kept = {y - leave: buffer[y] for y in range(leave, leave + rows) if y in buffer}
            buffer.clear()
            buffer.update(kept)
            screen.cursor.y -= leave
            screen.lines = rows
            screen.set_margins()
            screen.dirty.update(range(rows))
        screen.resize(rows, columns)

    def _history(self) -> list[str]:
        cols = self.screen.columns
        return ["".join(line[x].data for x in range(cols)).rstrip() for line in self.screen.history.top]

    def lines(self) -> list[str]:
        """Scrollback then the screen, trailing blanks trimmed."""
        shown = [line.rstrip() for line in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return self._history() + shown

    def text(self) -> str:
        return "\n".join(self.lines())

    def cursor_line(self) -> str:
        """The screen's row under the cursor: up to the cursor at least, trailing blanks past it trimmed."""
        row = self.screen.display[self.screen.cursor.y]
        return row[:max(self.screen.cursor.x, len(row.rstrip()))]

    def with_cursor(self) -> tuple[list[str], int, int]:
        """(lines, row, column): scrollback and screen down to the cursor's
        row at least, and where the cursor is among them."""
        history = self._history()
        shown = [line.rstrip() for line in self.screen.display]
        cy, cx = self.screen.cursor.y, self.screen.cursor.x
        last = max([cy] + [i for i, line in enumerate(shown) if line])
        shown = shown[:last + 1]
        if len(shown[cy]) < cx:
            shown[cy] = shown[cy].ljust(cx)
        return history + shown, len(history) + cy, cx


class Terminal(QtWidgets.QPlainTextEdit):
    """The terminal widget.

    Attributes:
        pty: the TerminalStream in pty mode; None in line mode.
        ended: the device's shell has gone (pty mode).
        history: commands typed, oldest first (line mode).
        busy: a command is running (line mode).

    Signals:
        ran(str): a command finished (its line).
        output(): the screen changed (pty mode).
    """

    ran = Signal(str)
    output = Signal()

    def __init__(self, session: Any, parent=None):
        super().__init__(parent)
        self.session = session
        self.term = TerminalScreen()
        self.history: list[str] = []
        self._history_pos = 0
        self._line = ""
        self.busy = False
        self.pty: Any = None
        self.ended = False
        self.received = 0
        self._pump: asyncio.Task | None = None
        self._last_prompt = ""
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        font.setPointSize(10)
        self.setFont(font)
        self.setStyleSheet("QPlainTextEdit { background: #101010; color: #d8d8d8; }")
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setFocusPolicy(Qt.StrongFocus)
        self._redraw = QtCore.QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._render)
        self._resize = QtCore.QTimer(self)
        self._resize.setSingleShot(True)
        self._resize.setInterval(150)
        self._resize.timeout.connect(self._fit)
        facts = getattr(session, "facts", {}) or {}
        self._who = "[%s@%s]" % (facts.get("login") or facts.get("user") or "admin",
                                 facts.get("identity") or "MikroTik")
        self._prompt_text = self._line_prompt()
        self.term.write("\n  winbox-py terminal: RouterOS commands run on %s\n\n" % facts.get("hostname", "the router"))
        if "terminal" in (getattr(session, "capabilities", None) or []):
            self._start_pty()
        self._render()

    # -- pty mode ----------------------------------------------------------------------------
    def _start_pty(self) -> None:
        self.pty = self.session.terminal(self.term.screen.columns, self.term.screen.lines)
        self._pump = jobs.spawn(self._read_pty(), on_error=self._pty_failed)

    async def _read_pty(self) -> None:
        pty = self.pty
        async for chunk in pty:
            if not is_alive(self):
                return
            self.term.feed(chunk)
            self.received += len(chunk)
            if not self._redraw.isActive():
                self._redraw.start()
        if is_alive(self) and not pty._stream._cancelled:
            self._ended("the terminal ended")

    def _pty_failed(self, exc: BaseException) -> None:
        if is_alive(self):
            self._ended("the terminal ended: %s" % plain(exc))

    def _ended(self, why: str) -> None:
        self.ended = True
        self.term.feed(("\r\n  %s\r\n" % why).encode())
        self._render()

    def send(self, data: bytes) -> None:
        """Keystrokes to the device's shell (pty mode)."""
        if self.pty is None or self.ended or not data:
            return
        jobs.spawn(self.pty.write(data), on_error=lambda exc: None if self.ended else jobs.report(exc))

    def close_pty(self) -> None:
        """The window closes: the agent ends the shell."""
        pty, self.pty = self.pty, None
        if pty is not None and not pty.closed:
            jobs.spawn(pty.cancel())

    def _cells(self) -> tuple[int, int]:
        metrics = QtGui.QFontMetricsF(self.font())
        area = self.viewport().size()
        cols = int((area.width() - 2 * self.document().documentMargin()) // max(1.0, metrics.horizontalAdvance("M")))
        rows = int((area.height() - 2 * self.document().documentMargin()) // max(1.0, metrics.lineSpacing()))
        return max(20, min(cols, 500)), max(5, min(rows, 300))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._resize.start()

    def _fit(self) -> None:
        cols, rows = self._cells()
        screen = self.term.screen
        if (cols, rows) == (screen.columns, screen.lines):
            return
        self.term.resize(cols, rows)
        if self.pty is not None and not self.ended:
            jobs.spawn(self.pty.resize(cols, rows), on_error=lambda exc: None)
        self._render()

    # -- what the screen says ---------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        """``[admin@MikroTik] /ip address> `` as RouterOS shows it."""
        if self.pty is None:
            return self._prompt_text
        match = PROMPT_RE.match(self.term.cursor_line())
        if match:
            self._last_prompt = match.group(1)
        return self._last_prompt

    @prompt.setter
    def prompt(self, text: str) -> None:
        self._prompt_text = text

    @property
    def line(self) -> str:
        """The line being typed (after the prompt)."""
        if self.pty is None:
            return self._line
        match = PROMPT_RE.match(self.term.cursor_line())
        return match.group(2) if match else ""

    @line.setter
    def line(self, text: str) -> None:
        if self.pty is None:
            self._line = text
            return
        self.send(b"\x05\x15" + text.encode("utf-8"))     # end of line, erase it, type the text

    def at_prompt(self) -> bool:
        """The shell waits for a command (the cursor right after a prompt)."""
        screen = self.term.screen
        row = screen.display[screen.cursor.y]
        return bool(PROMPT_RE.match(row[:screen.cursor.x])) and not row[screen.cursor.x:].strip()

    # -- drawing ------------------------------------------------------------------------
    def _render(self) -> None:
        self._redraw.stop()
        if self.pty is not None or self.ended:
            lines, row, col = self.term.with_cursor()
            self.setPlainText("\n".join(lines))
            block = self.document().findBlockByNumber(row)
            cursor = QtGui.QTextCursor(block)
            cursor.movePosition(QtGui.QTextCursor.Right, QtGui.QTextCursor.MoveAnchor, min(col, block.length() - 1))
            self.setTextCursor(cursor)
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())
            self.output.emit()
            return
        text = self.term.text()
        if not self.busy:
            text += ("\n" if text else "") + self.prompt + self._line
        self.setPlainText(text)
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        cursor = self.textCursor()
        cursor.movePosition(QtGui.QTextCursor.End)
        self.setTextCursor(cursor)

    # -- typing -----------------------------------------------------------------------------
    def event(self, event: QtCore.QEvent) -> bool:
        # Tab belongs to the shell (completion), not to focus changes
        if event.type() == QtCore.QEvent.KeyPress and event.key() in (Qt.Key_Tab, Qt.Key_Backtab):
            self.keyPressEvent(event)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl_shift = Qt.ControlModifier | Qt.ShiftModifier
        if mods & ctrl_shift == ctrl_shift and key == Qt.Key_C:
            self.copy()
            return
        if (mods & ctrl_shift == ctrl_shift and key == Qt.Key_V) or (mods & Qt.ShiftModifier and key == Qt.Key_Insert):
            self.paste_text(QtWidgets.QApplication.clipboard().text())
            return
        if key in (Qt.Key_PageUp, Qt.Key_PageDown):
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + (bar.pageStep() if key == Qt.Key_PageDown else -bar.pageStep()))
            return
        if self.pty is not None or self.ended:
            self.send(key_bytes(key, mods, event.text()))
            return
        self._line_key(event, key, mods)

    def paste_text(self, text: str) -> None:
        """Paste: each complete line runs in turn; the last part stays typed."""
        if self.pty is not None:
            self.send(text.replace("\r\n", "\n").replace("\n", "\r").encode("utf-8"))
            return
        parts = text.replace("\r\n", "\n").split("\n")
        self._line += parts[0]
        if len(parts) == 1:
            self._render()
            return
        lines = [self._line] + parts[1:-1]
        self._line = parts[-1]
        jobs.spawn(self._run_lines(lines))

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton:
            self.paste_text(QtWidgets.QApplication.clipboard().text(QtGui.QClipboard.Selection))
            return
        super().mouseReleaseEvent(event)

    # -- running ------------------------------------------------------------------------------
    async def run(self, line: str) -> None:
        """Run one line as if typed, and show its output (returns at the next
        prompt, or after RUN_TIMEOUT for a command that goes on)."""
        if self.pty is None:
            return await self._run_line(line)
        before = self.received
        self.send(b"\x05\x15" + line.encode("utf-8") + b"\r")
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline and not self.ended:
            await asyncio.sleep(0.02)
            if self.received > before + len(line) and self.at_prompt():
                break
        self._render()
        self.ran.emit(line)

    # -- line mode (an agent without ``terminal``) ---------------------------------------------
    def _line_prompt(self) -> str:
        path = getattr(self.session, "cli_path", "/") or "/"
        where = " ".join(w for w in path.split("/") if w)
        return "%s /%s> " % (self._who, where) if where else "%s > " % self._who

    def _line_key(self, event: QtGui.QKeyEvent, key: int, mods: Any) -> None:
        if self.busy:
            return
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.submit()
        elif key == Qt.Key_Backspace:
            self._line = self._line[:-1]
            self._render()
        elif key == Qt.Key_Up:
            self._recall(-1)
        elif key == Qt.Key_Down:
            self._recall(1)
        elif mods & Qt.ControlModifier and key == Qt.Key_C:
            self.term.write(self.prompt + self._line + "\n")
            self._line = ""
            self._render()
        elif mods & Qt.ControlModifier and key == Qt.Key_L:
            self.term.screen.reset()
            self._render()
        elif event.text() and event.text().isprintable():
            self._line += event.text()
            self._render()
        else:
            super().keyPressEvent(event)

    def _recall(self, step: int) -> None:
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history), self._history_pos + step))
        self._line = self.history[self._history_pos] if self._history_pos < len(self.history) else ""
        self._render()

    def submit(self) -> None:
        line, self._line = self._line, ""
        jobs.spawn(self._run_lines([line]))

    async def _run_lines(self, lines: list[str]) -> None:
        for line in lines:
            await self._run_line(line)

    async def _run_line(self, line: str) -> None:
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
            self.prompt = self._line_prompt()
            self._render()
            self.ran.emit(line)


class TerminalWindow(QtWidgets.QWidget):
    """The terminal as an MDI child window's content; closing it ends the
    device's shell."""

    def __init__(self, session: Any, parent=None):
        super().__init__(parent)
        self.terminal = Terminal(session, self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.terminal)
        self.setWindowTitle("Terminal")
        self.setFocusProxy(self.terminal)
        terminal = self.terminal
        self.destroyed.connect(lambda _obj=None: terminal.close_pty())     # closed without a closeEvent

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.terminal.close_pty()
        super().closeEvent(event)
