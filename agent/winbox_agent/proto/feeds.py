"""Live listings (``print follow``) shared by every connection watching them.

A :class:`Feed` holds the current rows of one listing (menu, property list,
sensitivity, filter).  After every committed change that may concern it, and
every ``interval`` for live values (running, counters), it recomputes the rows
and tells each subscriber what was added, changed or removed.

A :class:`Subscriber` sends its connection the rows first (in batches), then
``ready``, then the changes.  Changes wait in a dict keyed by row id, so a
desktop that reads slowly gets the latest state of each row rather than an
ever growing backlog: what the daemon keeps for it is bounded by the size of
the listing, and what is on the wire by the flow-control window.
"""

import asyncio
from typing import Any, Dict, List, Optional, Tuple

from .listing import Listing


class Feed:
    """The current rows of one listing and who watches them.

    Attributes:
        key: (path, columns, sensitive, filter) identifying it in the hub.
        order: row ids in listing order; rows: id -> positional row.
        subscribers: the Subscribers fed from it.
        volatile: other menus' changes may change its rows.
    """

    def __init__(self, hub: Any, key: Tuple[Any, ...], listing: Listing):
        self.hub = hub
        self.key = key
        self.listing = listing
        self.path = listing.path
        self.volatile = listing.volatile()
        self.subscribers: List["Subscriber"] = []
        self.order: List[str] = []
        self.rows: Dict[str, List[Any]] = {}
        self.dirty = False
        self.refreshes = 0
        self._poller: Optional["asyncio.Future[Any]"] = None
        self.refresh()

    def concerns(self, paths: Any) -> bool:
        return self.volatile or self.path in paths

    def refresh(self) -> None:
        """Recompute the rows; tell subscribers what changed."""
        self.dirty = False
        self.refreshes += 1
        new_rows: Dict[str, List[Any]] = {}
        new_order: List[str] = []
        for row in self.listing.rows():
            new_rows[row[0]] = row
            new_order.append(row[0])
        old_rows = self.rows
        events: List[Tuple[Any, ...]] = []
        for rid in self.order:
            if rid not in new_rows:
                events.append(("remove", rid))
        for i, rid in enumerate(new_order):
            row = new_rows[rid]
            old = old_rows.get(rid)
            if old is None:
                events.append(("add", row, i))
            elif old != row:
                events.append(("set", row))
        survivors = [rid for rid in self.order if rid in new_rows]
        if survivors != [rid for rid in new_order if rid in old_rows]:
            events.append(("order", new_order))
        self.rows, self.order = new_rows, new_order
        if events:
            for sub in list(self.subscribers):
                sub.push(events)

    # -- live values -------------------------------------------------------------
    def interval(self) -> Optional[float]:
        times = [s.interval for s in self.subscribers if s.interval]
        return min(times) if times else None

    def retime(self) -> None:
        """(Re)start or stop polling to match the subscribers' intervals."""
        if self.interval() is None:
            if self._poller is not None:
                self._poller.cancel()
                self._poller = None
        elif self._poller is None:
            self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        while True:
            every = self.interval()
            if every is None:
                self._poller = None
                return
            await asyncio.sleep(every)
            try:
                self.refresh()
            except Exception as exc:  # keep polling: the next round may work
                from .server import log
                log("polling %s failed: %r" % (self.path, exc))

    def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None


class Subscriber:
    """One connection's ``follow`` of a feed.

    Attributes:
        out: the request it answers.
        interval: how often it wants live values (None: config changes only).
        pending: row id -> the change not yet sent (coalesced); ``order``
            under the key None.
        ready: the initial rows have been sent.
    """

    def __init__(self, feed: Feed, out: Any, interval: Optional[float]):
        self.feed = feed
        self.out = out
        self.interval = interval
        self.pending: Dict[Any, Tuple[Any, ...]] = {}
        self.ready = False
        self._wake = asyncio.Event()

    def push(self, events: List[Tuple[Any, ...]]) -> None:
        pending = self.pending
        for ev in events:
            op = ev[0]
            if op == "order":
                pending.pop(None, None)
                pending[None] = ev
                continue
            rid = ev[1] if op == "remove" else ev[1][0]
            before = pending.pop(rid, None)
            prev = before[0] if before is not None else None
            if op == "add":
                pending[rid] = ("set", ev[1]) if prev == "remove" else ev
            elif op == "set":
                pending[rid] = ("add", ev[1], before[2]) if prev == "add" else ev
            elif prev != "add":      # remove: an add not yet sent just vanishes
                pending[rid] = ev
        if pending:
            self._wake.set()

    async def run(self, only_changes: bool) -> None:
        """Send the rows, ``ready``, then changes until cancelled."""
        feed, out = self.feed, self.out
        order, rows = list(feed.order), feed.rows
        if not only_changes:
            await send_rows(out, feed.listing.columns, (rows[r] for r in order), feed.hub.options)
        else:
            out.send({"op": "columns", "columns": feed.listing.columns})
        out.send({"op": "ready"})
        self.ready = True
        while True:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
            await out.wait_room()
            await self._flush()

    async def _flush(self) -> None:
        limit = self.feed.hub.options.batch_rows
        while self.pending:
            batch: List[List[Any]] = []
            pending = self.pending
            while pending and len(batch) < limit:
                key = next(iter(pending))
                ev = pending.pop(key)
                if ev[0] == "remove":
                    batch.append(["remove", ev[1]])
                elif ev[0] == "add":
                    batch.append(["add", ev[1], ev[2]])
                elif ev[0] == "set":
                    batch.append(["set", ev[1]])
                else:
                    batch.append(["order", ev[1]])
            await self.out.send_data({"op": "events", "events": batch})


async def send_rows(out: Any, columns: List[str], rows: Any, options: Any) -> int:
    """Send rows in batches (``columns`` with the first); returns the count."""
    first = True
    count = 0
    size = max(1, options.batch_rows)
    batch: List[List[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            msg: Dict[str, Any] = {"op": "rows", "rows": batch}
            if first:
                msg["columns"] = columns
                first = False
            before = out.sent
            await out.send_data(msg)
            count += len(batch)
            nbytes = out.sent - before
            if nbytes > options.batch_bytes and size > 16:
                size = max(16, size * options.batch_bytes // nbytes)
            batch = []
            await asyncio.sleep(0)
    if batch or first:
        msg = {"op": "rows", "rows": batch}
        if first:
            msg["columns"] = columns
        await out.send_data(msg)
        count += len(batch)
    return count
