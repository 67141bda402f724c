"""The New Terminal window against the real sim agent: the device's shell on
a pty (prompt, output, history by the arrows, Ctrl-C, copy and paste), and
the line mode kept for an agent without the ``terminal`` capability."""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
import time

from tests.gui.conftest import main_window, until
from winbox_py.qt import QtGui, QtTest, QtWidgets, Qt


def _pty_size(pid: int) -> tuple[int, int]:
    """(rows, columns) of the terminal a process on this machine has as its stdin."""
    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY)
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    finally:
        os.close(fd)
    return rows, cols


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def _terminal(open_session, qtbot):
    session, win = await main_window(open_session, qtbot)
    window = win.open_entry(win.tree.entry("New Terminal"))
    term = window.terminal
    assert term.pty is not None, "the sim agent offers a real terminal"
    await until(term.at_prompt, what="the shell's prompt")
    return session, win, window, term


def test_the_terminal_shows_the_prompt_runs_a_command_and_recalls_history(run, open_session, qtbot):
    async def scenario():
        session, win, window, term = await _terminal(open_session, qtbot)
        login = session.facts["login"]
        assert term.prompt == f"[{login}@MikroTik] > "
        await until(lambda: term.toPlainText().rstrip().endswith(f"[{login}@MikroTik] >"), what="the prompt drawn")
        assert "winbox-py terminal" in term.toPlainText()
        QtTest.QTest.keyClicks(term, "/system identity print")
        await until(lambda: term.line == "/system identity print", what="the typed line echoed")
        QtTest.QTest.keyClick(term, Qt.Key_Return)
        await until(lambda: "name: MikroTik" in term.toPlainText(), what="the command's output")
        await until(term.at_prompt, what="the next prompt")
        # the menu level shows in the prompt
        await term.run("/ip address")
        assert term.prompt == f"[{login}@MikroTik] /ip address> "
        # Up recalls the earlier lines (readline's history in the pty), Down comes back
        QtTest.QTest.keyClick(term, Qt.Key_Up)
        await until(lambda: term.line == "/ip address", what="Up to recall the last line")
        QtTest.QTest.keyClick(term, Qt.Key_Up)
        await until(lambda: term.line == "/system identity print", what="Up again to recall the one before")
        QtTest.QTest.keyClick(term, Qt.Key_Down)
        await until(lambda: term.line == "/ip address", what="Down")
        # Home, then typed text lands at the start of the line; Ctrl-C drops the line
        QtTest.QTest.keyClick(term, Qt.Key_Home)
        QtTest.QTest.keyClicks(term, "x")
        await until(lambda: term.line == "x/ip address", what="Home then a letter")
        QtTest.QTest.keyClick(term, Qt.Key_C, Qt.ControlModifier)
        await until(lambda: term.at_prompt() and term.line == "", what="Ctrl-C to drop the line")
        window.parentWidget().close()
    run(scenario())


def test_ctrl_c_stops_a_monitor_and_paste_types_lines(run, open_session, qtbot):
    async def scenario():
        session, win, window, term = await _terminal(open_session, qtbot)
        QtTest.QTest.keyClicks(term, "/interface monitor-traffic ether1")
        QtTest.QTest.keyClick(term, Qt.Key_Return)
        await until(lambda: term.toPlainText().count("rx-bits-per-second") >= 2, what="two samples")
        QtTest.QTest.keyClick(term, Qt.Key_C, Qt.ControlModifier)
        await until(term.at_prompt, what="the prompt after Ctrl-C")
        # a pasted line runs as if typed (Ctrl+Shift+V)
        QtWidgets.QApplication.clipboard().setText("/ip pool add name=pasted ranges=10.9.0.1-10.9.0.9\n")
        QtTest.QTest.keyClick(term, Qt.Key_V, Qt.ControlModifier | Qt.ShiftModifier)
        await until(lambda: "pasted" in term.toPlainText(), what="the pasted line")
        rows = []
        for _ in range(100):
            rows = [r for r in await session.print("/ip/pool") if r["name"] == "pasted"]
            if rows:
                break
            await asyncio.sleep(0.05)
        assert rows and rows[0]["ranges"] == "10.9.0.1-10.9.0.9"
        # copy: the selection goes to the clipboard (Ctrl+Shift+C)
        term.selectAll()
        QtTest.QTest.keyClick(term, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
        assert "rx-bits-per-second" in QtWidgets.QApplication.clipboard().text()
        # closing the window ends the shell on the device
        pid = term.pty.pid
        assert pid and os.path.exists(f"/proc/{pid}")
        window.parentWidget().close()
        end = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert _gone(pid)
    run(scenario())


def test_resizing_the_window_resizes_the_terminal(run, open_session, qtbot):
    async def scenario():
        session, win, window, term = await _terminal(open_session, qtbot)
        window.parentWidget().resize(500, 300)
        await until(lambda: term.term.screen.columns == term._cells()[0], what="the screen to follow the window")
        small = term.term.screen.columns
        window.parentWidget().resize(900, 500)
        await until(lambda: term.term.screen.columns == term._cells()[0] > small, what="a wider screen")
        # the pty on the device has the window's size (what readline and the shell go by)
        await until(lambda: _pty_size(term.pty.pid) == (term.term.screen.lines, term.term.screen.columns),
                    what="the pty's size to follow")
        window.parentWidget().close()
    run(scenario())


def test_an_agent_without_a_terminal_gets_the_line_mode(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        session.capabilities = [c for c in session.capabilities if c != "terminal"]    # as an older agent
        term = win.open_entry(win.tree.entry("New Terminal")).terminal
        assert term.pty is None
        await term.run("/system identity print")
        assert "name: MikroTik" in term.toPlainText()
        await term.run("/ip address")
        assert term.prompt.endswith("/ip address> ")
        term.line = ""
        QtTest.QTest.keyClick(term, Qt.Key_Up)
        assert term.line == "/ip address"
    run(scenario())
