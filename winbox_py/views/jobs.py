"""Running back-end coroutines from Qt slots.

A slot cannot await, so it hands its coroutine to :func:`spawn`, which keeps a
reference to the task (asyncio keeps only weak ones), and reports an
exception to the callback given (or to :func:`report`, which shows it in the
main window's status bar) instead of losing it. Everything the views do with
the session goes through here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

_tasks: set[asyncio.Task] = set()
_reporter: list[Callable[[BaseException], None]] = []


def set_reporter(fn: Callable[[BaseException], None] | None) -> None:
    """Where errors without their own handler go (the main window sets this)."""
    _reporter.clear()
    if fn is not None:
        _reporter.append(fn)


def report(exc: BaseException) -> None:
    if _reporter:
        _reporter[0](exc)
    else:
        log.error("unhandled error: %s", exc)


def spawn(coro: Awaitable[Any], on_error: Callable[[BaseException], None] | None = None,
          on_done: Callable[[Any], None] | None = None) -> asyncio.Task:
    """Run ``coro`` on the event loop; call ``on_done(result)`` or ``on_error(exc)``."""
    task = asyncio.ensure_future(coro)
    _tasks.add(task)

    def finished(t: asyncio.Task) -> None:
        _tasks.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is not None:
            (on_error or report)(exc)
        elif on_done is not None:
            on_done(t.result())

    task.add_done_callback(finished)
    return task


def pending() -> int:
    """How many spawned tasks are still running (tests wait for zero)."""
    return len(_tasks)


async def settle(timeout: float = 5.0) -> None:
    """Wait until every spawned task has finished (tests)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while _tasks and loop.time() < end:
        await asyncio.sleep(0.01)


def cancel_all() -> None:
    for t in list(_tasks):
        t.cancel()
