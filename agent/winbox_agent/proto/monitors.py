"""Stream commands (``monitor``, ``monitor-traffic``...) run once however
many desktops watch them.

A :class:`Monitor` owns one driver stream per (menu, command, item, arguments,
interval): it takes a sample every interval and hands it to each
:class:`Watcher`.  A watcher whose desktop reads slowly keeps only the newest
sample (samples are snapshots; older ones are worth nothing).  When the last
watcher leaves, the driver's iterator is closed.
"""

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

from ..errors import RouterError
from .server import log

NOT_READY_POLL = 0.1


def printed(row: Dict[str, Any]) -> Dict[str, str]:
    """A command row as strings (drivers normally give strings already)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, str):
            out[k] = v
        elif v is None:
            out[k] = ""
        elif isinstance(v, bool):
            out[k] = "yes" if v else "no"
        else:
            out[k] = str(v)
    return out


class Monitor:
    """One driver stream and its watchers.

    Attributes:
        key: (path, command, item, sorted args, interval).
        rows: the driver's iterator (``next`` never blocks; ``None`` means no
            sample yet, the driver is working on it in its own thread).
        last: the newest sample, given at once to a watcher that joins late.
        samples: how many samples were taken (tests read it).
    """

    def __init__(self, hub: Any, key: Tuple[Any, ...], rows: Any, interval: float):
        self.hub = hub
        self.key = key
        self.rows = rows
        self.interval = interval
        self.watchers: List["Watcher"] = []
        self.last: Optional[Dict[str, str]] = None
        self.samples = 0
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while self.watchers:
                try:
                    row = next(self.rows)
                except StopIteration:
                    for w in list(self.watchers):
                        w.end(None)
                    return
                except RouterError as exc:
                    for w in list(self.watchers):
                        w.end(exc)
                    return
                if row is None:
                    # the driver is still working on its first answer (in its own
                    # thread): look again soon, without a sample to hand out
                    await asyncio.sleep(min(self.interval, NOT_READY_POLL))
                    continue
                self.samples += 1
                self.last = printed(row)
                for w in list(self.watchers):
                    w.offer(self.last)
                await asyncio.sleep(self.interval)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a driver bug must not take the daemon down
            log("monitor %r failed: %r" % (self.key, exc))
            for w in list(self.watchers):
                w.end(RouterError("the monitor failed: %s" % exc, "driver"))
        finally:
            self.close()

    def close(self) -> None:
        self.hub.monitors.pop(self.key, None)
        if not self.task.done() and self.task is not asyncio.current_task():
            self.task.cancel()
        closer = getattr(self.rows, "close", None)
        self.rows = iter(())
        if closer is not None:
            try:
                closer()
            except Exception as exc:
                log("closing monitor %r failed: %r" % (self.key, exc))

    def leave(self, watcher: "Watcher") -> None:
        if watcher in self.watchers:
            self.watchers.remove(watcher)
        if not self.watchers:
            self.close()


class Watcher:
    """One connection's view of a monitor.

    Attributes:
        newest: the sample not yet sent (only the newest is kept).
        deadline: ``duration=`` ends the watch at this monotonic time.
    """

    def __init__(self, monitor: Monitor, out: Any, deadline: Optional[float]):
        self.monitor = monitor
        self.out = out
        self.deadline = deadline
        self.newest: Optional[Dict[str, str]] = None
        self.result: Optional[Tuple[Optional[RouterError]]] = None
        self._wake = asyncio.Event()

    def offer(self, row: Dict[str, str]) -> None:
        self.newest = row
        self._wake.set()

    def end(self, error: Optional[RouterError]) -> None:
        self.result = (error,)
        self._wake.set()

    async def run(self) -> None:
        if self.monitor.last is not None:
            self.newest = self.monitor.last
        while True:
            if self.newest is None and self.result is None:
                self._wake.clear()
                timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.TimeoutError:
                    return
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return
            if self.newest is not None:
                await self.out.wait_room()
                row, self.newest = self.newest, None
                if row is not None:
                    await self.out.send_data({"op": "data", "rows": [row]})
                continue
            if self.result is not None:
                if self.result[0] is not None:
                    raise self.result[0]
                return
