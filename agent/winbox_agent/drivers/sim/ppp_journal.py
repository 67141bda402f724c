"""The log of simulated links: each line written once, stamped with the time
its event happened, whichever process notices it first.

A link (a PPP client, a session of one of the router's servers, a DHCPv6
binding) is described by a :class:`Link`: a key that changes whenever the
link restarts, the events it goes through and the line it writes when it
ends while up.  The :class:`Journal` keeps one record per live link in the
sim's persisted notes (how many events are written, when the next one is
due, the address it was given from a pool) and, on :meth:`Journal.settle`,
writes what became due and reconciles the links a commit touched.  Work per
commit is proportional to what it touched, so importing thousands of
secrets stays linear.
"""

from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple


class Event:
    """A log line a link writes at ``time``; ``opens`` says whether the link is
    up (or on its way) after it (True), down (False) or unchanged (None)."""

    __slots__ = ("time", "topics", "message", "opens")

    def __init__(self, time: float, topics: str, message: str, opens: Optional[bool] = None):
        self.time, self.topics, self.message, self.opens = time, topics, message, opens


class Link:
    """What the journal needs to know about one live link.

    Attributes:
        key: changes whenever the link restarts (a new dial, a new session).
        events: its log lines in time order; ``{address}`` in a message is
            replaced by the address the record was given.
        close: (topics, message) written when it ends while up.
        pool: for sessions, where their address comes from: an /ip pool id
            (``*5``), a fixed address, "" for none; None for other links.
    """

    __slots__ = ("key", "events", "close", "pool")

    def __init__(self, key: str, events: List[Event], close: Tuple[str, str], pool: Optional[str] = None):
        self.key, self.events, self.close, self.pool = key, events, close, pool


class Journal:
    """Records of live links in ``sim.notes[name]`` and the log they write.

    Attributes:
        link: ``(link id) -> Link or None`` (None: the link is not alive).
        every: ``() -> link ids`` of every link alive now (for a full check).
        allocate: ``(pool id, taken addresses) -> address or None``.
    """

    def __init__(self, sim: Any, name: str, link: Callable[[str], Optional[Link]],
                 every: Callable[[], Iterable[str]], allocate: Callable[[str, Set[str]], Optional[str]]):
        self.sim = sim
        self.name = name
        self.link = link
        self.every = every
        self.allocate = allocate
        self._next_due: Optional[float] = None
        self._taken: Optional[Set[str]] = None
        #: how many addresses went back to their pools (allocators may cache what is free)
        self.freed = 0

    @property
    def _notes(self) -> Dict[str, Any]:
        notes = self.sim.notes.setdefault(self.name, {})
        notes.setdefault("links", {})
        return notes

    def record(self, lid: str) -> Optional[Dict[str, Any]]:
        return self._notes["links"].get(lid)

    def settle(self, touched: Optional[Set[str]] = None, revision: Optional[int] = None) -> None:
        """Write what became due by now; reconcile the links in ``touched``
        (all of them when the notes are older than ``revision``)."""
        now = self.sim.now()
        notes = self._notes
        recs = notes["links"]
        lids: Set[str] = set(touched or ())
        if revision is not None and notes.get("rev") != revision:
            if touched is None or notes.get("rev") != revision - 1:
                lids = set(self.every()) | set(recs)    # changes this process did not see
                self._next_due = None
        if self._next_due is None or now >= self._next_due:
            lids |= {lid for lid, r in recs.items() if r.get("due") is not None and r["due"] <= now}
            self._next_due = None
        if not lids:
            if notes.get("rev") != revision and revision is not None:
                notes["rev"] = revision
                self.sim.save()
            return
        lines: List[Tuple[float, int, str, str]] = []
        for lid in sorted(lids, key=_order):
            link = self.link(lid)
            rec = recs.get(lid)
            if rec is not None and (link is None or link.key != rec["key"]):
                first = link.events[0] if link is not None and link.events else None
                replaced_by_failure = first is not None and first.opens is False and first.time <= now
                if rec.get("open") and not replaced_by_failure:
                    lines.append((now, len(lines), rec["close"][0], rec["close"][1]))
                self._forget(lid)
                rec = None
            if link is None:
                continue
            if rec is None:
                rec = recs[lid] = {"key": link.key, "seen": now, "done": 0, "open": False, "close": list(link.close)}
                if link.pool is not None:
                    taken = self.taken()
                    rec["address"] = self.allocate(link.pool, taken) if link.pool.startswith("*") else link.pool
                    if rec["address"]:
                        taken.add(rec["address"])
            for ev in link.events[rec["done"]:]:
                if ev.time > now:
                    break
                if "{address}" in ev.message:
                    ev = _with_address(ev, rec.get("address"))
                lines.append((max(ev.time, rec["seen"]), len(lines), ev.topics, ev.message))
                rec["done"] += 1
                if ev.opens is not None:
                    rec["open"] = ev.opens
            rec["due"] = link.events[rec["done"]].time if rec["done"] < len(link.events) else None
            if rec["due"] is not None and self._next_due is not None:
                self._next_due = min(self._next_due, rec["due"])
        if self._next_due is None:
            self._next_due = min((r["due"] for r in recs.values() if r.get("due") is not None), default=float("inf"))
        if revision is not None:
            notes["rev"] = revision
        with self.sim.router.store.batch():                 # one write of the sim state for all the lines
            for when, _, topics, message in sorted(lines):
                self.sim.log(topics, message, when=when)
        self.sim.save()

    def taken(self) -> Set[str]:
        """Addresses the live records hold (kept in step with them)."""
        if self._taken is None:
            self._taken = {r["address"] for r in self._notes["links"].values() if r.get("address")}
        return self._taken

    def _forget(self, lid: str) -> None:
        rec = self._notes["links"].pop(lid)
        if rec.get("address") and self._taken is not None:
            self._taken.discard(rec["address"])
            self.freed += 1


def _order(lid: str) -> Tuple[str, int]:
    """Links in a stable order: by kind, then by item id (creation order)."""
    kind, _, item_id = lid.partition(":")
    try:
        return kind, int(item_id.lstrip("*"), 16)
    except ValueError:
        return kind, 0


def _with_address(ev: Event, address: Optional[str]) -> Event:
    """A session's log-in line with its address (None: the pool had none left)."""
    if address is None:
        return Event(ev.time, ev.topics.replace(",info", ",error"),
                     ev.message.split(" logged in")[0] + ": could not assign an address, the pool is full", False)
    return Event(ev.time, ev.topics, ev.message.replace("{address}", ", " + address if address else ""), ev.opens)
