"""Safe mode: changes on probation until the desktop that made them keeps them.

One connection at a time holds safe mode (op ``safe-mode``).  While it does:

- every change it commits is *journalled* (the revision, its changes with
  their inverses, and what it did in words); the journal holds
  :data:`JOURNAL_MAX` changes and the next change is then refused with a
  clear error (it never silently stops protecting);
- changes from every other connection are refused, naming the holder; another
  connection may *take over* explicitly, keeping (``keep``) or undoing
  (``unroll``) the holder's changes, as RouterOS offers;
- the store is held (``Store.batch``): changes reach the running system at
  once, but the saved configuration is written only when safe mode is turned
  off (kept).  A daemon killed during safe mode therefore comes back with the
  configuration from before safe mode, and the linux driver reconciles the
  system to it at start; a small marker file (``safemode.journal``) lets the
  restarted daemon tell the desktop what was not kept.

When the holder's connection ends without turning safe mode off (closed,
killed, or silent for ``dead_after`` seconds: missed heartbeats), the holder
has :data:`RECLAIM_GRACE` seconds to reconnect and present the token it was
given (``reclaim``); after that every journalled change is rolled back as one
revision through the driver (so the system follows), and a report of what
was undone and why is kept for the desktop to show when it comes back.  A
silent connection is therefore rolled back within ``dead_after`` +
``RECLAIM_GRACE`` seconds (10 + 4), a closed one within ``RECLAIM_GRACE``.
"""

import contextlib
import copy
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import RouterError
from ..store import Change

JOURNAL_MAX = 1000
RECLAIM_GRACE = 4.0
TICK = 0.25
MARKER_FILE = "safemode.journal"
TAKE_OVER = ("keep", "unroll")
_MISSING = object()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clock_text(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


class Holder:
    """The connection holding safe mode and its journal.

    Attributes:
        conn: the connection holding it now (None while its desktop is away).
        token_hash: sha256 of the token the desktop reclaims it with.
        user / session: who took it (login, first connection's name).
        sessions: names of every connection it was held through (its changes).
        since: wall-clock time it was taken.
        journal: (revision, changes, what it did) of every journalled commit.
        lost_at: clock time its connection was found gone (None: connected).
        lost_reason: why.
    """

    def __init__(self, conn: Any, token: str, user: str, since: float):
        self.conn = conn
        self.token_hash = _hash(token)
        self.user = user
        self.session = conn.name
        self.sessions = {conn.name}
        self.since = since
        self.journal: List[Tuple[int, List[Change], str]] = []
        self.lost_at: Optional[float] = None
        self.lost_reason = ""

    @property
    def changes(self) -> int:
        return sum(len(chs) for _, chs, _ in self.journal)

    def who(self) -> str:
        return "%s (session %s, since %s)" % (self.user or "?", self.session, _clock_text(self.since))

    def describe(self) -> Dict[str, Any]:
        return {"user": self.user, "session": self.session, "since": self.since,
                "connected": self.conn is not None}


class SafeMode:
    """The device's safe mode (one per Hub; see the module docstring).

    Attributes:
        hub: the Hub (router, connections).
        holder: who holds it, or None.
        last_report: what the last rollback undid, and why (None: none yet).
        limit: changes the journal holds; grace: seconds to reclaim.
        clock: monotonic seconds (tests give a fake one).
        rollbacks: how many rollbacks this daemon did (diagnostics).
    """

    def __init__(self, hub: Any, clock: Optional[Callable[[], float]] = None, limit: int = JOURNAL_MAX,
                 grace: float = RECLAIM_GRACE):
        self.hub = hub
        self.router = hub.router
        self.clock = clock or time.monotonic
        self.limit = limit
        self.grace = grace
        self.holder: Optional[Holder] = None
        self.last_report: Optional[Dict[str, Any]] = None
        self.rollbacks = 0
        self._hold: Optional[contextlib.ExitStack] = None
        self._timer: Any = None
        self._report_token = ""
        self.router.listeners.append(self._committed)
        self._recover()

    # -- files ---------------------------------------------------------------------------
    def _marker(self) -> Optional[str]:
        state = getattr(self.router, "state_dir", None)
        return os.path.join(state, MARKER_FILE) if state else None

    def _mark(self, line: Dict[str, Any], first: bool = False) -> None:
        path = self._marker()
        if path is None:
            return
        try:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if first else os.O_APPEND)
            fd = os.open(path, flags, 0o600)
            try:
                os.write(fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
                if first:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass                # the report is a courtesy; safety does not depend on it

    def _unmark(self) -> None:
        path = self._marker()
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _recover(self) -> None:
        """A daemon that died while safe mode was on left its marker: the
        configuration came back from before safe mode; say what was not kept."""
        path = self._marker()
        if path is None or not os.path.exists(path):
            return
        head: Dict[str, Any] = {}
        actions: List[str] = []
        try:
            with open(path, "rb") as fh:
                for n, raw in enumerate(fh):
                    try:
                        line = json.loads(raw.decode("utf-8"))
                    except ValueError:
                        continue        # a line torn by the crash
                    if n == 0 and isinstance(line, dict):
                        head = line
                    elif isinstance(line, dict) and isinstance(line.get("action"), str):
                        actions.append(line["action"])
        except OSError:
            return
        self._unmark()
        self._report_token = str(head.get("token") or "")
        self.last_report = {
            "time": time.time(), "user": head.get("user", ""), "session": head.get("session", ""),
            "since": head.get("since"), "reason": "the agent stopped while safe mode was on; "
            "the configuration from before safe mode was loaded again",
            "undone": actions, "count": len(actions), "revision": self.router.store.revision,
            "failed": [], "restarted": True,
        }

    # -- state ------------------------------------------------------------------------------
    def held_by(self, conn: Any) -> bool:
        return self.holder is not None and self.holder.conn is conn

    def status(self, conn: Any) -> Dict[str, Any]:
        """What ``conn`` may know: whether it holds safe mode, and who does."""
        h = self.holder
        out: Dict[str, Any] = {"on": self.held_by(conn), "held": h is not None, "limit": self.limit,
                               "grace": self.grace}
        if h is not None:
            out["holder"] = h.describe()
            out["changes"] = h.changes
        if self.last_report is not None:
            out["last-rollback"] = self._public_report()
        return out

    def _public_report(self) -> Dict[str, Any]:
        return dict(self.last_report or {})

    # -- the guard (GuardedRights.check_change calls it for every change) ---------------------
    def check_write(self, conn: Any, path: str) -> None:
        """Refuse a change from ``conn`` that safe mode does not allow."""
        h = self.holder
        if h is None:
            return
        if h.conn is not conn:
            raise RouterError("safe mode is held by %s: changes from other sessions are refused until it is "
                              "turned off; take it over to change anything" % h.who(), "denied")
        if h.changes >= self.limit:
            raise RouterError("safe mode: the journal is full (%d changes); turn safe mode off to keep the changes "
                              "made so far (or undo them) before making more" % self.limit, "denied")

    def _committed(self, revision: int, changes: List[Change]) -> None:
        h = self.holder
        if h is None or not changes:
            return
        hist = self.router.store.history
        entry = hist[-1] if hist and hist[-1].get("rev") == revision else None
        # the holder's, by its session or (a command that commits on its own,
        # such as wg-import) made while the holder's rights are in force
        from .. import access
        acting = getattr(access.current(), "conn", None)
        if entry is None or (entry.get("session") not in h.sessions and (acting is None or acting is not h.conn)):
            return              # the router's own bookkeeping (license state, logins)
        action = str(entry.get("action") or entry.get("note") or "revision %d" % revision)
        h.journal.append((revision, [Change(c.path, c.id, copy.deepcopy(c.before), copy.deepcopy(c.after),
                                            c.pos_before, c.pos_after) for c in changes], action))
        self._mark({"rev": revision, "action": action})

    # -- taking and leaving ------------------------------------------------------------------------
    def take(self, conn: Any, take_over: Optional[str] = None) -> Dict[str, Any]:
        """Turn safe mode on for ``conn``; returns the status with the token."""
        if take_over is not None and take_over not in TAKE_OVER:
            raise RouterError("take-over: %s is not one of %s" % (take_over, ", ".join(TAKE_OVER)), "argument",
                              "take-over")
        h = self.holder
        if h is not None and h.conn is conn:
            raise RouterError("safe mode is on already for this session", "conflict")
        if h is not None:
            if take_over is None:
                raise RouterError("safe mode is held by %s; take it over (keeping or undoing its %d changes) or "
                                  "wait until it is turned off" % (h.who(), h.changes), "conflict")
            previous = h.conn
            if take_over == "unroll":
                self._rollback("taken over by %s, who chose to undo the changes" % self._login(conn))
            else:
                self._release()
            if previous is not None and previous is not conn:
                self._notify(previous, "taken-over", "safe mode was taken over by %s" % self._login(conn))
        token = secrets.token_hex(16)
        self.holder = Holder(conn, token, self._login(conn), time.time())
        self._hold = contextlib.ExitStack()
        self._hold.enter_context(self.router.store.batch())
        self._mark({"token": _hash(token), "user": self.holder.user, "session": conn.name,
                    "since": self.holder.since}, first=True)
        self._schedule()
        self._broadcast(conn)
        out = self.status(conn)
        out["token"] = token
        return out

    def release(self, conn: Any, unroll: bool = False) -> Dict[str, Any]:
        """Turn safe mode off: keep the changes (write them), or undo them."""
        h = self.holder
        if h is None:
            return self.status(conn)
        if h.conn is not conn:
            raise RouterError("safe mode is held by %s, not by this session" % h.who(), "denied")
        out: Dict[str, Any] = {}
        if unroll:
            out["report"] = self._rollback("undone on request")
        else:
            self._release()
            self._broadcast(conn)
        out.update(self.status(conn))
        return out

    def reclaim(self, conn: Any, token: str) -> Dict[str, Any]:
        """A reconnected desktop presents its token: it holds safe mode again
        if it was still held for it; otherwise it learns what happened."""
        h = self.holder
        digest = _hash(token)
        if h is not None and hmac.compare_digest(h.token_hash, digest):
            old = h.conn
            h.conn = conn
            h.sessions.add(conn.name)
            h.lost_at = None
            h.lost_reason = ""
            if old is not None and old is not conn:
                self._notify(old, "taken-over", "safe mode was reclaimed by a newer connection (%s)" % conn.name)
            self._broadcast(conn)
            out = self.status(conn)
            out["reclaimed"] = True
            return out
        out = self.status(conn)
        out["reclaimed"] = False
        if self.last_report is not None and hmac.compare_digest(self._report_token, digest):
            out["report"] = self._public_report()
        return out

    def _release(self) -> None:
        """Safe mode ends keeping the changes: the store writes them now."""
        self.holder = None
        self._unhold()
        self._unmark()
        self._cancel_timer()

    def _unhold(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.close()            # the outermost batch ends: the store is written

    @staticmethod
    def _login(conn: Any) -> str:
        rights = getattr(conn, "rights", None)
        return getattr(rights, "user", "") or conn.peer.get("user", "") or conn.name

    # -- the holder's connection ---------------------------------------------------------------------
    def connection_ended(self, conn: Any) -> None:
        """Called when any connection ends; the holder's starts the grace period."""
        h = self.holder
        if h is None or h.conn is not conn:
            return
        h.conn = None
        h.lost_at = self.clock()
        h.lost_reason = "the connection of %s ended (%s)" % (h.user or h.session, conn.reason or "closed")
        self._schedule()

    def tick(self) -> None:
        """Check the holder: silent too long (missed heartbeats) or away past
        the grace period -> roll back.  The Hub calls it every :data:`TICK`."""
        h = self.holder
        if h is None:
            return
        conn = h.conn
        if conn is not None:
            silent = conn.loop.time() - conn.last_seen
            dead_after = conn.options.dead_after
            if silent > dead_after:
                h.conn = None
                h.lost_at = self.clock() - (silent - dead_after)
                h.lost_reason = "no heartbeat from %s for %.0f s" % (h.user or h.session, silent)
        if h.conn is None and h.lost_at is not None and self.clock() - h.lost_at >= self.grace:
            self._rollback(h.lost_reason + "; it did not come back within %.0f s" % self.grace)

    def _schedule(self) -> None:
        if self._timer is not None or self.holder is None:
            return
        import asyncio
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return              # no loop (a test driving tick() itself)

        def fire() -> None:
            self._timer = None
            try:
                self.tick()
            finally:
                self._schedule()
        self._timer = loop.call_later(TICK, fire)

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    # -- rolling back -----------------------------------------------------------------------------------
    def _rollback(self, reason: str) -> Dict[str, Any]:
        """Undo every journalled change as one revision (through the driver);
        keep and return the report."""
        h = self.holder
        assert h is not None
        self.holder = None
        self._cancel_timer()
        undone: List[str] = []
        failed: List[str] = []
        steps = list(h.journal)
        revision = self.router.store.revision
        try:
            changes = inverse_changes(self.router.store, [chs for _, chs, _ in steps])
            revision = self._commit(changes, "safe mode rollback: %d step%s undone (%s)" % (
                len(steps), "" if len(steps) == 1 else "s", reason), h, [rev for rev, _, _ in steps])
            undone = [a for _, _, a in steps]
        except RouterError as exc:
            # the whole did not apply: undo step by step, newest first, as far as possible
            for rev, chs, action in reversed(steps):
                try:
                    revision = self._commit(inverse_changes(self.router.store, [chs]),
                                            "safe mode rollback of revision %d (%s)" % (rev, reason), h, [rev])
                    undone.append(action)
                except RouterError as step_exc:
                    failed.append("%s: %s" % (action, step_exc.message))
            if not failed and not undone:
                failed.append(exc.message)
        self._unhold()
        self._unmark()
        self.rollbacks += 1
        self.last_report = {"time": time.time(), "user": h.user, "session": h.session, "since": h.since,
                            "reason": reason, "undone": undone, "count": len(undone), "failed": failed,
                            "revision": revision, "restarted": False}
        self._report_token = h.token_hash
        from .server import log
        log("safe mode of %s rolled back (%s): %d step(s) undone%s" % (
            h.user or h.session, reason, len(undone), ", %d failed" % len(failed) if failed else ""))
        for conn in list(self.hub.connections):
            self._notify(conn, "rolled-back", reason, report=True)
        return self._public_report()

    def _commit(self, changes: List[Change], note: str, h: Holder, targets: List[int]) -> int:
        """Apply ``changes`` as one revision: the driver first (the system
        follows, or nothing changes), then the store, then the listeners.
        The state they restore was valid when it was committed, so the checks
        a new value gets are not repeated (they would see half the revision).
        The history records it as a ``rollback`` of ``targets``: undo and redo
        then stand where they stood before safe mode (history.units)."""
        from .. import access
        router = self.router
        if not changes:
            return router.store.revision
        with access.acting(None):
            router.driver.apply(changes)
            meta = {"kind": "rollback", "user": h.user, "action": note, "targets": targets}
            rev = router.store.apply(changes, note=note, session="", meta=meta)
            for fn in list(router.listeners):
                fn(rev, changes)
        return rev

    def close(self, reason: str = "the agent stopped") -> None:
        """The daemon is stopping: safe mode still held ends as a lost session."""
        if self.holder is not None:
            self._rollback(reason)
        self._cancel_timer()
        if self._committed in self.router.listeners:
            self.router.listeners.remove(self._committed)

    # -- telling the desktops -------------------------------------------------------------------------------
    def _notify(self, conn: Any, event: str, message: str, report: bool = False) -> None:
        msg: Dict[str, Any] = {"op": "notice", "kind": "safe-mode", "event": event, "message": message,
                               "status": self.status(conn)}
        if report and self.last_report is not None:
            msg["report"] = self._public_report()
        try:
            conn.send(msg)
        except Exception:       # a connection on its way out
            pass

    def _broadcast(self, actor: Any) -> None:
        h = self.holder
        for conn in list(self.hub.connections):
            if conn is actor:
                continue
            if h is None:
                self._notify(conn, "released", "safe mode was turned off")
            else:
                self._notify(conn, "held", "safe mode is held by %s" % h.who())

    def stats(self) -> Dict[str, Any]:
        h = self.holder
        return {"held": h is not None, "changes": h.changes if h else 0, "rollbacks": self.rollbacks,
                "connected": bool(h and h.conn is not None)}


def inverse_changes(store: Any, steps: List[List[Change]]) -> List[Change]:
    """The changes that take the store from now back to before ``steps``
    (the journalled commits, oldest first), one net change per item.

    Each step's inverse is replayed newest first onto an overlay of the
    current items: properties a step changed get their old values back
    (properties the router recorded itself since are kept), items it added
    go, items it removed come back where they were, moves are undone.  The
    result has removals first, then, menu by menu, additions, changes and
    moves in the order of their final place: applied one after the other
    (:meth:`Store.apply`), they leave every menu in exactly that order.
    """
    overlay: Dict[str, Optional[Dict[str, Any]]] = {}
    originals: Dict[str, Tuple[str, Optional[Dict[str, Any]]]] = {}
    orders: Dict[str, List[str]] = {}
    first_orders: Dict[str, List[str]] = {}

    def current(path: str, item_id: str) -> Optional[Dict[str, Any]]:
        if item_id in overlay:
            return overlay[item_id]
        it = store.get(item_id)
        if it is None or store.path_of(item_id) != path:
            return None
        return {k: v for k, v in it.items() if k != ".id"}

    def order(path: str) -> List[str]:
        if path not in orders:
            orders[path] = [it[".id"] for it in store.items(path)]
            first_orders[path] = list(orders[path])
        return orders[path]

    for step in reversed(steps):
        for c in reversed(step):
            inv = c.inverse()
            ids = order(c.path)
            cur = current(c.path, c.id)
            if c.id not in originals:
                originals[c.id] = (c.path, copy.deepcopy(cur))
            new: Optional[Dict[str, Any]]
            if inv.after is None:                                 # the step added it
                new = None
                if c.id in ids:
                    ids.remove(c.id)
            elif inv.before is None or cur is None:               # it removed it (or it is gone)
                new = copy.deepcopy(inv.after)
                if c.id not in ids:
                    pos = inv.pos_after
                    ids.insert(len(ids) if pos is None else min(pos, len(ids)), c.id)
            else:                                                 # it changed or moved it
                new = dict(cur)
                for k in dict.fromkeys(list(inv.before) + list(inv.after)):
                    was, to = inv.before.get(k, _MISSING), inv.after.get(k, _MISSING)
                    if was == to:
                        continue
                    if to is _MISSING:
                        new.pop(k, None)
                    else:
                        new[k] = copy.deepcopy(to)
                if (inv.pos_before is not None and inv.pos_after is not None and inv.pos_before != inv.pos_after
                        and c.id in ids):
                    ids.remove(c.id)
                    ids.insert(min(inv.pos_after, len(ids)), c.id)
            overlay[c.id] = new

    removals: List[Change] = []
    for item_id, (path, before) in originals.items():
        if before is not None and overlay[item_id] is None:
            removals.append(Change(path, item_id, before, None, None, None))
    out: List[Change] = []
    for path in sorted(orders):
        lst = [i for i in first_orders[path] if not (i in overlay and overlay[i] is None)]
        # removals are applied one after the other: record where each finds its item
        seq = list(first_orders[path])
        for ch in removals:
            if ch.path == path:
                ch.pos_before = seq.index(ch.id)
                seq.remove(ch.id)
        # then every item takes its final place in ascending order: after the
        # k-th, the first k+1 places hold the first k+1 items of the final order
        for k, item_id in enumerate(orders[path]):
            after = overlay.get(item_id, _MISSING)
            before = originals[item_id][1] if item_id in originals else _MISSING
            changed = after is not _MISSING and after != before
            if item_id not in lst:
                out.append(Change(path, item_id, None, after, None, k))
                lst.insert(k, item_id)
                continue
            at = lst.index(item_id)
            if at == k:
                if changed:
                    out.append(Change(path, item_id, before, after))
                continue
            item = after if after is not _MISSING else _bare(store.get(item_id))
            was = before if before is not _MISSING else item
            out.append(Change(path, item_id, was, item, at, k))
            lst.remove(item_id)
            lst.insert(k, item_id)
    return removals + out


def _bare(item: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return {k: v for k, v in (item or {}).items() if k != ".id"}


# -- the operations ------------------------------------------------------------------------------

def op_safe_mode(conn: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    """``safe-mode``: ``on: true`` takes it (``take-over``: ``keep`` or
    ``unroll`` when another session holds it), ``on: false`` turns it off
    keeping the changes (``unroll: true`` undoes them), ``reclaim: TOKEN``
    takes it back after a reconnect; no field: the status."""
    from .messages import bad, get_bool, get_str
    sm = conn.hub.safemode
    token = get_str(msg, "reclaim", None)
    if token is not None:
        return sm.reclaim(conn, token)
    on = msg.get("on")
    if on is None:
        return sm.status(conn)
    if not isinstance(on, bool):
        raise bad("on", "must be true or false")
    if on:
        rights = getattr(conn, "rights", None)
        if rights is not None and not rights.may("write"):
            raise RouterError("not enough rights: user %s (group %s) may not take safe mode (it needs the write "
                              "policy)" % (rights.user, rights.group), "denied")
        return sm.take(conn, get_str(msg, "take-over", None))
    return sm.release(conn, unroll=get_bool(msg, "unroll"))


def op_check_impact(conn: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    """``check-impact``: would this change (``path``, ``action``, ``ids``,
    ``values``) cut the desktop's connection?  ``{"warnings": [...], "path": ...}``."""
    from ..impact import check
    from .messages import get_str, get_str_dict, get_str_list
    router = getattr(conn, "router", None) or conn.hub.router
    path = get_str(msg, "path")
    action = get_str(msg, "action")
    m = router.menu(path)
    words = get_str_list(msg, "ids", [])
    ids = [router.single_id(m)] if m.single else [router.find(path, w) for w in words]
    values = get_str_dict(msg, "values")
    return check(router, str(conn.peer.get("ssh_connection") or ""), path, action, ids, values)


OPS = {
    "safe-mode": (op_safe_mode, False),
    "check-impact": (op_check_impact, False),
}
