"""GUI test fixtures: real widgets, offscreen, against the real sim agent.

Tests run their scenario as a coroutine on a qasync loop (asyncio on the Qt
event loop, as the program runs): ``run(scenario())``. ``open_session``
starts the agent through ``Session.open_local`` on a fresh state directory
(bridge mode, so a second session on the same directory shares the daemon
and sees changes live); the daemon is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from winbox_py.views import jobs

pytestmark = pytest.mark.gui

T = TypeVar("T")


@pytest.fixture
def loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    import qasync
    qapp.setQuitOnLastWindowClosed(False)  # closing a window must not stop the loop
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    try:
        loop.run_until_complete(jobs.settle(10))  # let closing windows close their streams
        jobs.cancel_all()
        loop.run_until_complete(asyncio.sleep(0.05))
    finally:
        jobs.set_reporter(None)
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def run(loop) -> Callable:
    """Run a coroutine to its end on the Qt loop (with a time limit)."""
    async def whole(coro, timeout: float):
        try:
            return await asyncio.wait_for(coro, timeout)
        except BaseException:
            traceback.print_exc()  # shown even if Qt takes the process down while cleaning up
            sys.stderr.flush()
            raise
        finally:
            # close every window while the loop runs, then let what they started
            # while closing (stream cancels, session.close) finish; qasync runs a
            # last round of events outside the loop after this, so leave nothing for it
            from winbox_py.qt import QtWidgets
            for w in QtWidgets.QApplication.topLevelWidgets():
                if w.isVisible():
                    w.close()
            await jobs.settle(10)
            await asyncio.sleep(0.05)

    def runner(coro, timeout: float = 60.0):
        return loop.run_until_complete(whole(coro, timeout))
    return runner


async def until(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Let the loop run until ``condition()`` is true."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        await asyncio.sleep(0.02)


async def poll(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], tries: int = 100,
               pause: float = 0.05) -> None:
    """Ask ``await fetch()`` until ``done`` says yes of its answer, at most ``tries`` times
    (the caller asserts on what it wants afterwards)."""
    for _ in range(tries):
        if done(await fetch()):
            break
        await asyncio.sleep(pause)


async def main_window(open_session, qtbot, settings=None, key=None, session=None):
    """(session, MainWindow) shown on a new session to the sim agent (or on ``session``)."""
    from winbox_py.views.mainwindow import MainWindow
    session = session or await open_session()
    win = MainWindow(session, "demo", settings, key)
    qtbot.addWidget(win)
    win.show()
    return session, win


async def open_pane(win, path: str):
    """The table pane of ``path`` in its window, once its rows are loaded."""
    window = win.open_path(path)
    pane = window.pane(path)
    await until(lambda: pane.model.loaded, what="the %s table" % path)
    return pane


def uptime_seconds(uptime: str) -> int:
    """``1m5s`` -> 65."""
    total, number = 0, ""
    for ch in uptime:
        if ch.isdigit():
            number += ch
            continue
        total += int(number or 0) * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}.get(ch, 0)
        number = ""
    return total


def _stop_daemons(state_dirs: list[Path]) -> None:
    for state in state_dirs:
        for pidfile in state.rglob("daemon.pid"):
            try:
                pid = int(pidfile.read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
            except (ValueError, OSError, IndexError):
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.02)


@pytest.fixture
def open_session(tmp_path, run):
    """``await open_session()``: a Session to the sim agent in this test's state dir."""
    from winbox_py.backend.session import Session
    sessions = []
    state = tmp_path / "router"
    state.mkdir()

    async def opener(seed: int = 7):
        s = await Session.open_local(state_dir=str(state), driver="sim", seed=seed)
        sessions.append(s)
        return s

    opener.state_dir = state  # type: ignore[attr-defined]
    yield opener

    async def close_all():
        for s in sessions:
            await s.close()
    try:
        run(close_all(), timeout=20)
    finally:
        _stop_daemons([state])
