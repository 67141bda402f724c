"""Live figures for the views: rates from counters, history, stream liveness (QtCore only).

- :func:`parse_rate` / :func:`format_bps` read and write rates as RouterOS
  prints them (``288.5kbps``, ``1.9Mbps``);
- :class:`History` keeps the last minutes of samples (a ring buffer) for a
  traffic graph;
- :class:`RateTracker` turns an item's byte and packet counters into bits
  and packets per second from the deltas between two readings;
  :class:`RateStream` wraps a ``follow`` stream of ``/interface`` so that
  every row carries those rates as extra fields (and rates fall to zero
  for an interface whose counters stop moving);
- :class:`LiveFeed` runs one live stream (a ``monitor`` command or a
  ``follow``) for a window, hands each sample on by signal, and says when
  the figures stop being live: the connection was lost, the monitor ended or
  failed, or no sample came for a while.  Stopping it (closing the window)
  cancels the stream on the agent.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

# (rate field, title, counter field, factor): bytes -> bits, packets -> packets
RATE_COLUMNS = (
    ("tx-rate", "Tx", "tx-byte", 8),
    ("rx-rate", "Rx", "rx-byte", 8),
    ("tx-packet-rate", "Tx Packet (p/s)", "tx-packet", 1),
    ("rx-packet-rate", "Rx Packet (p/s)", "rx-packet", 1),
)
RATE_FIELDS = tuple(c[0] for c in RATE_COLUMNS)
COUNTER_FIELDS = tuple(c[2] for c in RATE_COLUMNS)
IDLE_AFTER = 2.5          # seconds without a counter change: the rate is zero

_RATE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kMGT]?)(?:bps|bit/s|b/s)?\s*$")
_SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def parse_rate(text: str) -> float | None:
    """``288.5kbps`` -> 288500.0; ``737`` -> 737.0; anything else -> None."""
    m = _RATE.match(text or "")
    if not m:
        return None
    return float(m.group(1)) * _SCALE[m.group(2)]


def format_bps(bits: float) -> str:
    """Bits per second as the Interfaces table shows them: ``950 bps``, ``12.4 kbps``."""
    for unit, size in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if bits >= size:
            return "%.1f %s" % (bits / size, unit)
    return "%d bps" % int(round(bits))


def format_pps(packets: float) -> str:
    return "%d" % int(round(packets))


def has_counters(menu: dict) -> bool:
    """Whether a menu's rows carry the byte and packet counters rates come from."""
    names = {p["name"] for p in menu.get("props", [])}
    return all(c in names for c in COUNTER_FIELDS)


class History:
    """The last ``capacity`` samples of a few series (a ring buffer).

    Attributes:
        capacity: how many samples are kept (older ones fall off).
        series: the names of the values of each sample.
    """

    def __init__(self, series: Sequence[str], capacity: int = 300):
        self.series = tuple(series)
        self.capacity = capacity
        self._samples: deque = deque(maxlen=capacity)

    def add(self, t: float, values: Sequence[float]) -> None:
        if len(values) != len(self.series):
            raise ValueError("a sample needs %d values (%s)" % (len(self.series), ", ".join(self.series)))
        self._samples.append((t, tuple(float(v) for v in values)))

    def __len__(self) -> int:
        return len(self._samples)

    def samples(self) -> list[tuple[float, tuple[float, ...]]]:
        return list(self._samples)

    def values(self, name: str) -> list[float]:
        i = self.series.index(name)
        return [v[i] for _t, v in self._samples]

    def last(self) -> tuple[float, tuple[float, ...]] | None:
        return self._samples[-1] if self._samples else None

    def peak(self) -> float:
        """The largest value of any series (0 when empty)."""
        return max((max(v) for _t, v in self._samples if v), default=0.0)

    def clear(self) -> None:
        self._samples.clear()


def _number(text: Any) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


class RateTracker:
    """Rates from successive counter readings, per item.

    ``update(item_id, row, t)`` returns the rate fields for the row: empty
    strings at the first reading (no rate known yet), then the deltas over
    the time between readings.  A counter that goes down (the interface was
    re-enabled, the router rebooted) starts over.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, tuple[int | None, ...]]] = {}
        self._rates: dict[str, dict[str, str]] = {}

    def update(self, item_id: str, row: dict, t: float) -> dict[str, str]:
        counters = tuple(_number(row.get(c)) for c in COUNTER_FIELDS)
        before = self._last.get(item_id)
        if before is not None and before[1] == counters:
            return self._rates.get(item_id) or self._blank()  # nothing new: keep what is shown
        self._last[item_id] = (t, counters)
        if before is None:
            rates = self._blank()
        else:
            t0, old = before
            dt = t - t0
            rates = {}
            for (field, _title, _counter, factor), now, was in zip(RATE_COLUMNS, counters, old):
                if now == 0:  # down (disabled, not running): nothing flows
                    rates[field] = format_bps(0) if factor == 8 else format_pps(0)
                elif now is None or was is None or now < was or dt <= 0:
                    rates[field] = ""
                else:
                    value = (now - was) * factor / dt
                    rates[field] = format_bps(value) if factor == 8 else format_pps(value)
        self._rates[item_id] = rates
        return rates

    def idle(self, item_id: str, t: float) -> dict[str, str] | None:
        """Zero rates for an item whose counters have not moved for IDLE_AFTER
        seconds (None while they may still be moving, or already zero)."""
        before = self._last.get(item_id)
        if before is None or t - before[0] < IDLE_AFTER:
            return None
        zero = {f: (format_bps(0) if factor == 8 else format_pps(0))
                for f, _t, _c, factor in RATE_COLUMNS}
        if self._rates.get(item_id) == zero:
            return None
        self._rates[item_id] = zero
        return zero

    def forget(self, item_id: str | None = None) -> None:
        """Drop one item's readings (it went away), or every item's."""
        if item_id is None:
            self._last.clear()
            self._rates.clear()
        else:
            self._last.pop(item_id, None)
            self._rates.pop(item_id, None)

    def known(self) -> list[str]:
        return list(self._last)

    @staticmethod
    def _blank() -> dict[str, str]:
        return {f: "" for f in RATE_FIELDS}


class RateStream:
    """A ``follow`` stream whose rows carry rates (see :class:`RateTracker`).

    It iterates like the stream it wraps (``rows``, ``ready``, ``add``,
    ``set``, ``remove``, ``lost``, ``reset``...), adding the rate fields to
    every row, and every ``tick`` seconds gives a ``set`` with zero rates for
    an item whose counters stopped changing (the agent sends nothing for a
    row that did not change).

    Attributes:
        stream: the wrapped Stream.
        tracker: the RateTracker.
    """

    def __init__(self, stream: Any, tracker: RateTracker | None = None, tick: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.tracker = tracker or RateTracker()
        self.tick = tick
        self.clock = clock
        self._rows: dict[str, dict] = {}
        self._out: deque = deque()
        self._next: asyncio.Future | None = None
        self._idle_at = clock()

    # the Stream's attributes
    @property
    def closed(self) -> bool:
        return self.stream.closed

    @property
    def error(self) -> Any:
        return self.stream.error

    @property
    def columns(self) -> list[str]:
        return list(getattr(self.stream, "columns", [])) + list(RATE_FIELDS)

    def __aiter__(self) -> RateStream:
        return self

    async def __anext__(self) -> dict:
        while not self._out:
            if self.clock() - self._idle_at >= self.tick:
                self._idle()  # also while other rows keep changing
                if self._out:
                    break
            if self._next is None:
                self._next = asyncio.ensure_future(self.stream.__anext__())
            done, _pending = await asyncio.wait({self._next}, timeout=self.tick)
            if done:
                fut, self._next = self._next, None
                self._take(fut.result())  # StopAsyncIteration and errors end us too
        return self._out.popleft()

    def _take(self, event: dict) -> None:
        op = event.get("op")
        now = self.clock()
        if op == "rows":
            rows = [self._with_rates(r, now) for r in event.get("rows", ())]
            self._out.append(dict(event, rows=rows))
        elif op in ("add", "set"):
            self._out.append(dict(event, row=self._with_rates(event["row"], now)))
        elif op == "remove":
            item_id = event["row"].get(".id", "")
            self._rows.pop(item_id, None)
            self.tracker.forget(item_id)
            self._out.append(event)
        else:
            if op in ("lost", "reset"):
                self._rows.clear()
                self.tracker.forget()
            self._out.append(event)

    def _with_rates(self, row: dict, now: float) -> dict:
        item_id = row.get(".id", "")
        out = dict(row)
        out.update(self.tracker.update(item_id, row, now))
        self._rows[item_id] = out
        return out

    def _idle(self) -> None:
        now = self._idle_at = self.clock()
        for item_id, row in self._rows.items():
            zero = self.tracker.idle(item_id, now)
            if zero is not None:
                row.update(zero)
                self._out.append({"op": "set", "row": dict(row)})

    async def cancel(self) -> None:
        if self._next is not None and not self._next.done():
            self._next.cancel()
        await self.stream.cancel()


# -- a live stream for a window --------------------------------------------------------------

WAITING, LIVE, STALE, STOPPED = "waiting", "live", "stale", "stopped"


class LiveFeed(QObject):
    """One live stream of a window, and whether what it shows is live.

    ``open_stream()`` starts the stream (``session.command(..., "monitor",
    ...)`` or ``session.follow(...)``); ``convert(item)`` turns each item into
    a sample dict (None: nothing to show), by default: monitor rows as they
    are, follow ``rows``/``add``/``set`` events as their row.

    States: ``waiting`` (started, no sample yet), ``live``, ``stale`` (no
    sample for ``stale_after`` seconds: the figures are old; None for a
    ``follow`` of values that change only now and then), ``stopped``
    (the stream ended; :attr:`reason` says why: ``connection lost``, ``the
    monitor ended``, the agent's error, ``stopped``).  After a lost
    connection the session resumes the stream by itself: ``waiting`` again,
    then ``live``.

    Attributes:
        state, reason: as above.
        last: the newest sample; samples: how many came.

    Signals:
        sample(dict): a new sample.
        state_changed(str, str): state, reason.
    """

    sample = Signal(dict)
    state_changed = Signal(str, str)

    def __init__(self, open_stream: Callable[[], Any], convert: Callable[[Any], dict | None] | None = None,
                 stale_after: float | None = 3.5, parent: QObject | None = None):
        super().__init__(parent)
        self.open_stream = open_stream
        self.convert = convert or sample_of
        self.stale_after = stale_after
        self.state = STOPPED
        self.reason = "not started"
        self.last: dict = {}
        self.samples = 0
        self.stream: Any = None
        self._task: asyncio.Task | None = None
        self._last_at = 0.0
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(500)
        self._watchdog.timeout.connect(self._check)

    def start(self) -> None:
        """(Re)start the stream."""
        self.stop()
        try:
            stream = self.open_stream()
        except Exception as exc:
            self._set(STOPPED, _message(exc))
            return
        self.stream = stream
        self._last_at = time.monotonic()
        self._set(WAITING, "")
        if self.stale_after is not None:
            self._watchdog.start()
        self._task = asyncio.ensure_future(self._pump(stream))

    def stop(self, reason: str = "stopped") -> asyncio.Future | None:
        """Cancel the stream (on the agent too); returns the cancelling task."""
        stream, self.stream = self.stream, None
        task, self._task = self._task, None
        self._watchdog.stop()
        if task is not None and not task.done():
            task.cancel()
        if stream is None:
            return None
        if self.state != STOPPED:
            self._set(STOPPED, reason)
        return asyncio.ensure_future(_quietly(stream.cancel()))

    @property
    def running(self) -> bool:
        return self.stream is not None

    async def _pump(self, stream: Any) -> None:
        reason = "the monitor ended"
        try:
            async for item in stream:
                if stream is not self.stream:
                    return
                if isinstance(item, dict) and item.get("op") == "lost":
                    self._set(STOPPED, "connection lost")
                    continue
                if isinstance(item, dict) and item.get("op") == "reset":
                    self._last_at = time.monotonic()
                    self._set(WAITING, "")
                    continue
                values = self.convert(item)
                if values is None:
                    continue
                self.last = dict(self.last, **values) if self._merges(item) else dict(values)
                self.samples += 1
                self._last_at = time.monotonic()
                if self.state != LIVE:
                    self._set(LIVE, "")
                self.sample.emit(self.last)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = _message(exc)
        if stream is self.stream:
            self.stream = None
            self._watchdog.stop()
            state = getattr(getattr(stream, "session", None), "state", "connected")
            if reason == "the monitor ended" and state != "connected":
                reason = "connection closed" if state == "closed" else "connection lost"
            self._set(STOPPED, reason)

    @staticmethod
    def _merges(item: Any) -> bool:
        return isinstance(item, dict) and item.get("op") == "set"

    def _check(self) -> None:
        if self.stale_after is None:
            return
        if self.state in (LIVE, WAITING) and time.monotonic() - self._last_at > self.stale_after:
            self._set(STALE, "no data from the router for %d s" % int(time.monotonic() - self._last_at))
        elif self.state == STALE:
            self.reason = "no data from the router for %d s" % int(time.monotonic() - self._last_at)
            self.state_changed.emit(self.state, self.reason)

    def _set(self, state: str, reason: str) -> None:
        if state == self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        self.state_changed.emit(state, reason)


def sample_of(item: Any) -> dict | None:
    """A monitor row as it is; a follow event's row (the first of a listing)."""
    if not isinstance(item, dict):
        return None
    op = item.get("op")
    if op is None:
        return item
    if op == "rows":
        rows = item.get("rows") or []
        return rows[0] if rows else None
    if op in ("add", "set"):
        return item.get("row")
    return None


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


async def _quietly(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:  # the connection may be gone already: nothing to cancel
        log.debug("cancelling a live stream: %s", exc)
