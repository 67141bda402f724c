"""Undo and redo over the store's history of revisions (``/undo``, ``/redo``,
``/system history``).

Every ordinary change the router commits is recorded in the store's history
as a *step* (``kind: "do"``) with who made it and what it did in words.  An
undo is itself a new revision (``kind: "undo"``, ``target``: the step's
revision) that applies the step's inverse; a redo (``kind: "redo"``)
applies the step again.  Both go through :meth:`Router._commit`, so the rights
of the login are checked, the menus' rules hold and the driver makes the
system follow, exactly as for any change.

The stacks are not kept anywhere else: they are read back from the history
(:func:`stacks`), so they survive restarts and are the same for every
connection of one router.  Undo takes the step most recently done or redone;
redo the step most recently undone; a new ordinary step empties the redo
stack.  The history keeps the last ``store.HISTORY_KEEP`` (1000) revisions.

An undo (or redo) is worked out against the configuration as it is now, not
blindly replayed: a property it sets back must still have the value the step
gave it (other properties changed since are kept), an item it removes must be
as the step left it and nothing may refer to it now, an item it puts back
must not refer to an item that is gone.  Otherwise it is refused with a
"conflict" error naming the item, the property and both values (secrets are
never shown), and nothing changes.
"""

import contextlib
import copy
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import access
from .errors import RouterError
from .store import Change

DO, UNDO, REDO = "do", "undo", "redo"
ROLLBACK = "rollback"       # safe mode undid its journal (proto/safemode.py): ``targets`` are its revisions
_MISSING = object()
VERBS = {"add": "added", "remove": "removed", "set": "changed", "move": "moved"}


Unit = Tuple[int, ...]


def units(history: List[Dict[str, Any]]) -> Tuple[List[Unit], List[Unit]]:
    """(steps that can be undone, oldest first; steps that can be redone,
    the next one last).  A step is the revisions of its ``do`` entries: one,
    or several made by one command (``group``, see :meth:`History.group`).
    A safe-mode rollback puts both stacks back as they were before the first
    revision it undid."""
    applied: List[Unit] = []
    undone: List[Unit] = []
    groups: Dict[int, Any] = {}             # first revision of a step -> its command's group
    starts: Dict[int, Any] = {min(e["targets"]): None for e in history
                              if e.get("kind") == ROLLBACK and e.get("targets")}
    for e in history:
        kind = e.get("kind")
        if starts and e.get("rev") in starts:
            starts[e["rev"]] = (list(applied), list(undone), dict(groups))
        if kind == DO:
            group = e.get("group")
            if group is not None and applied and groups.get(applied[-1][0]) == group:
                applied[-1] = applied[-1] + (e["rev"],)
            else:
                applied.append((e["rev"],))
                groups[e["rev"]] = group
            undone = []
        elif kind in (UNDO, REDO):
            source, dest = (applied, undone) if kind == UNDO else (undone, applied)
            target = e.get("target")
            for i in range(len(source) - 1, -1, -1):    # nearly always the last one
                if source[i][0] == target:
                    dest.append(source.pop(i))
                    break
        elif kind == ROLLBACK and e.get("targets"):
            saved = starts.get(min(e["targets"]))
            if saved is not None:
                applied, undone, groups = list(saved[0]), list(saved[1]), dict(saved[2])
    return applied, undone


def stacks(history: List[Dict[str, Any]]) -> Tuple[List[int], List[int]]:
    """:func:`units` by their first revisions (what ``undo(revision=)`` takes)."""
    applied, undone = units(history)
    return [u[0] for u in applied], [u[0] for u in undone]


def _words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


def label(router: Any, path: str, item_id: str, item: Optional[Dict[str, Any]]) -> str:
    """How an item is called in the history: its name, else its first column
    (``10.0.0.1/24`` for an address), else its id; never a secret."""
    m = router.schema.get(path)
    if m is None or item is None:
        return item_id
    if m.single:
        return ""
    if item.get("name") not in (None, ""):
        return str(item["name"])
    for col in (m.columns or [p.name for p in m.props]):
        p = m.prop(col)
        if p is None or p.secret or p.readonly or item.get(col) in (None, "", []):
            continue
        try:
            return p.type.format(item[col], router)
        except Exception:       # a value of an older schema: fall back to the id
            break
    return item_id


def _one(router: Any, ch: Change) -> Tuple[str, str, str, str]:
    """(verb, menu words, label, changed properties) of one change."""
    item = ch.after if ch.after is not None else ch.before
    props = ""
    if ch.op == "set":
        before, after = ch.before or {}, ch.after or {}
        keys = [k for k in dict.fromkeys(list(before) + list(after))
                if not k.startswith(".") and before.get(k, _MISSING) != after.get(k, _MISSING)]
        props = ", ".join(keys)
    return VERBS[ch.op], _words(ch.path), label(router, ch.path, ch.id, item), props


def describe(router: Any, changes: List[Change]) -> str:
    """What a step did, in words: ``item added /ip address 10.0.0.1/24``."""
    groups: Dict[Tuple[str, str, str], List[Tuple[str, str]]] = {}
    for ch in changes:
        verb, where, name, props = _one(router, ch)
        groups.setdefault((verb, where, ch.path), []).append((name, props))
    parts = []
    for (verb, where, path), items in groups.items():
        names = [n for n, _ in items if n]
        props = sorted({p for _, ps in items for p in ps.split(", ") if p})
        m = router.schema.get(path)
        single = m is not None and m.single
        noun = "settings" if single else ("item" if len(items) == 1 else "%d items" % len(items))
        text = "%s %s %s" % (noun, verb, where)
        if names:
            shown = names[:3] + (["..."] if len(names) > 3 else [])
            text += " " + ", ".join(shown)
        if props and verb == "changed":
            text += " (%s)" % ", ".join(props)
        parts.append(text)
    return "; ".join(parts)


class _Conflict(Exception):
    """Why a step cannot be replayed now; becomes a RouterError "conflict"."""

    def __init__(self, message: str, prop: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.prop = prop


class History:
    """Undo, redo and the history list of one router.

    Attributes:
        router: the router whose store history this reads and extends.
    """

    def __init__(self, router: Any):
        self.router = router
        self._group: Optional[Dict[str, Any]] = None

    # -- recording -------------------------------------------------------------------
    def step_meta(self, changes: List[Change], session: str = "") -> Dict[str, Any]:
        """The history keys of an ordinary step (who, what, which command)."""
        meta = {"kind": DO, "user": self._who(session), "action": describe(self.router, changes)}
        if self._group is not None:
            meta["group"] = self._group["token"]
            meta["command"] = self._group["what"]
        return meta

    @contextlib.contextmanager
    def group(self, what: str) -> Iterator[None]:
        """Make the revisions committed inside one step for undo and redo
        (a command such as ``wg-import`` that adds several items)."""
        if self._group is not None:         # already in one: the outer command is the step
            yield
            return
        # the revision it starts at tells it from the groups before and after
        self._group = {"token": self.router.store.revision, "what": what}
        try:
            yield
        finally:
            self._group = None

    @staticmethod
    def _who(session: str) -> str:
        rights = access.current()
        return rights.user if rights is not None and rights.user else session

    # -- reading -----------------------------------------------------------------------
    def _entry(self, rev: int) -> Dict[str, Any]:
        for e in reversed(self.router.store.history):
            if e["rev"] == rev:
                return e
        raise RouterError("revision %d is no longer in the history" % rev, "missing")

    def undoable(self) -> List[int]:
        return stacks(self.router.store.history)[0]

    def redoable(self) -> List[int]:
        return stacks(self.router.store.history)[1]

    def rows(self) -> List[Dict[str, Any]]:
        """``/system history``: every recorded revision, newest first."""
        applied, undone = units(self.router.store.history)
        can_undo = {r for u in applied for r in u}
        can_redo = {r for u in undone for r in u}
        out = []
        for e in reversed(self.router.store.history):
            rev = e["rev"]
            action = e.get("action") or e.get("note") or ""
            out.append({".id": "*%X" % rev, "revision": rev, "time": e.get("time"), "action": action,
                        "by": e.get("user") or e.get("session") or "", "undoable": rev in can_undo,
                        "redoable": rev in can_redo})
        return out

    # -- undo and redo --------------------------------------------------------------------
    def undo(self, session: str = "", revision: Optional[int] = None, mine: bool = False) -> int:
        """Undo the latest step (or the step of ``revision``, or with ``mine``
        the latest step of ``session``); returns the new revision."""
        applied = self._of(self.undoable(), session if mine else None)
        if revision is None:
            if not applied:
                raise RouterError("nothing to undo" + (" of this session" if mine else ""), "missing")
            revision = applied[-1]
        elif revision not in applied:
            raise RouterError("revision %d is not a step that can be undone" % revision, "missing", "revision")
        return self._replay(revision, UNDO, session)

    def redo(self, session: str = "", mine: bool = False) -> int:
        """Do again the step undone last (with ``mine``: of ``session``); returns the new revision."""
        undone = self._of(self.redoable(), session if mine else None)
        if not undone:
            raise RouterError("nothing to redo" + (" of this session" if mine else ""), "missing")
        return self._replay(undone[-1], REDO, session)

    def _of(self, revs: List[int], session: Optional[str]) -> List[int]:
        """The steps among ``revs`` made by ``session`` (all when None)."""
        if session is None:
            return revs
        return [r for r in revs if self._entry(r).get("session") == session]

    def _unit(self, revision: int, kind: str) -> Unit:
        applied, undone = units(self.router.store.history)
        return next(u for u in (applied if kind == UNDO else undone) if u[0] == revision)

    def _replay(self, revision: int, kind: str, session: str) -> int:
        entries = [self._entry(r) for r in self._unit(revision, kind)]
        action = "; ".join(e.get("action") or e.get("note") or "revision %d" % e["rev"] for e in entries)
        if len(entries) > 1:
            action = "%s: %s" % (entries[0].get("command") or "command", action)
            if len(action) > 300:
                action = action[:297] + "..."
        what = "cannot %s revision %d (%s)" % (kind, revision, action)
        rights = access.current()
        if rights is not None and not rights.may("write"):
            raise RouterError("not enough rights: user %s (group %s) may not %s" % (
                rights.user, rights.group, kind), "denied")
        try:
            changes = self._changes(entries, forward=(kind == REDO))
        except _Conflict as exc:
            raise RouterError("%s: %s" % (what, exc.message), "conflict", exc.prop) from None
        meta = {"kind": kind, "target": revision, "user": self._who(session), "action": "%s: %s" % (kind, action)}
        try:
            return self.router._commit(changes, note="%s %d" % (kind, revision), session=session, meta=meta)
        except RouterError as exc:
            category = exc.category if exc.category in ("driver", "denied") else "conflict"
            raise RouterError("%s: %s" % (what, exc.message), category, exc.prop) from None

    # -- working out a replay -------------------------------------------------------------
    def _changes(self, entries: List[Dict[str, Any]], forward: bool) -> List[Change]:
        """The changes that take the configuration as it is now from the
        step's one side to the other; _Conflict when that is not possible."""
        store = self.router.store
        recorded = [Change.from_json(c) for e in entries for c in e["changes"]]
        seq = recorded if forward else [c.inverse() for c in reversed(recorded)]
        overlay: Dict[str, Optional[Dict[str, Any]]] = {}
        orders: Dict[str, List[str]] = {}
        removing = {c.id for c in seq if c.after is None}

        def current(c: Change) -> Optional[Dict[str, Any]]:
            if c.id in overlay:
                return overlay[c.id]
            it = store.get(c.id)
            if it is None or store.path_of(c.id) != c.path:
                return None
            return {k: v for k, v in it.items() if k != ".id"}

        def order(path: str) -> List[str]:
            if path not in orders:
                orders[path] = [it[".id"] for it in store.items(path)]
            return orders[path]

        out: List[Change] = []
        for c in seq:
            m = self.router.schema.get(c.path)
            if m is None:
                raise _Conflict("the menu %s no longer exists" % _words(c.path))
            cur = current(c)
            ids = order(c.path)
            if c.before is None:                                   # put an item (back)
                if cur is not None:
                    raise _Conflict("%s is there already" % self._name(c.path, c.id, cur))
                new = copy.deepcopy(c.after)
                self._references_exist(m, c.id, new, overlay)
                pos = c.pos_after
                ids.insert(len(ids) if pos is None else min(pos, len(ids)), c.id)
                out.append(Change(c.path, c.id, None, new, None, pos))
            elif c.after is None:                                  # take an item away
                if cur is None:
                    raise _Conflict("%s was removed since" % self._name(c.path, c.id, c.before))
                self._unchanged(m, c.id, c.before, cur)
                self._unused(c.id, cur, c.path, removing)
                pos = ids.index(c.id)
                ids.remove(c.id)
                out.append(Change(c.path, c.id, cur, None, pos, None))
            else:                                                  # set properties back, or move
                if cur is None:
                    raise _Conflict("%s was removed since" % self._name(c.path, c.id, c.before))
                new = dict(cur)
                for k in dict.fromkeys(list(c.before) + list(c.after)):
                    was, to = c.before.get(k, _MISSING), c.after.get(k, _MISSING)
                    if was == to:
                        continue
                    if cur.get(k, _MISSING) != was:
                        raise self._changed(m, c.id, cur, k, cur.get(k, _MISSING), was)
                    if to is _MISSING:
                        new.pop(k, None)
                    else:
                        new[k] = copy.deepcopy(to)
                self._references_exist(m, c.id, new, overlay)
                pos_b = pos_a = None
                if c.pos_before is not None and c.pos_after is not None and c.pos_before != c.pos_after:
                    pos_b = ids.index(c.id)
                    ids.remove(c.id)
                    pos_a = min(c.pos_after, len(ids))
                    ids.insert(pos_a, c.id)
                out.append(Change(c.path, c.id, cur, new, pos_b, pos_a))
            overlay[c.id] = out[-1].after
        return out

    def _name(self, path: str, item_id: str, item: Optional[Dict[str, Any]]) -> str:
        m = self.router.schema.get(path)
        if m is not None and m.single:
            return _words(path)
        return "%s %s" % (_words(path), label(self.router, path, item_id, item))

    def _show(self, m: Any, key: str, value: Any) -> str:
        if value is _MISSING:
            return "not set"
        p = m.prop(key)
        try:
            text = p.type.format(value, self.router) if p is not None else str(value)
        except Exception:
            text = str(value)
        return '"%s"' % text if text == "" or " " in text else text

    def _changed(self, m: Any, item_id: str, cur: Dict[str, Any], key: str, now: Any, expected: Any) -> _Conflict:
        name = self._name(m.path, item_id, cur)
        p = m.prop(key)
        if p is not None and p.secret:
            return _Conflict("%s of %s was changed since (values not shown: it is a secret)" % (key, name), key)
        return _Conflict("%s of %s was changed since: it is %s now, the step left it %s" % (
            key, name, self._show(m, key, now), self._show(m, key, expected)), key)

    def _unchanged(self, m: Any, item_id: str, expected: Dict[str, Any], cur: Dict[str, Any]) -> None:
        """An item about to be taken away must be as the step left it (else a
        later change would be lost with it); what the router records itself
        (read-only properties) does not count."""
        for k in dict.fromkeys(list(expected) + list(cur)):
            p = m.prop(k)
            if p is not None and p.readonly:
                continue
            if expected.get(k, _MISSING) != cur.get(k, _MISSING):
                raise self._changed(m, item_id, cur, k, cur.get(k, _MISSING), expected.get(k, _MISSING))

    def _unused(self, item_id: str, cur: Dict[str, Any], path: str, removing: set) -> None:
        for upath, uid, prop in self.router.users_of(item_id):
            if uid in removing:
                continue
            user = self.router.store.get(uid)
            raise _Conflict("%s is now used by %s (%s)" % (
                self._name(path, item_id, cur), self._name(upath, uid, user), prop), prop)

    def _references_exist(self, m: Any, item_id: str, item: Dict[str, Any],
                          overlay: Dict[str, Optional[Dict[str, Any]]]) -> None:
        for p in m.props:
            value = item.get(p.name)
            if value is None:
                continue
            for ref in p.type.references(value):
                gone = overlay.get(ref, _MISSING) is None
                if gone or (ref not in overlay and self.router.store.get(ref) is None
                            and self.router.driver.dynamic_name(ref) is None):
                    raise _Conflict("%s: %s refers to %s, which was removed since" % (
                        p.name, self._name(m.path, item_id, item), self._last_name(ref)), p.name)

    def _last_name(self, item_id: str) -> str:
        """The name an item that is gone had last, from the history (else its id)."""
        for e in reversed(self.router.store.history):
            for c in e.get("changes", ()):
                if c.get("id") == item_id:
                    for side in (c.get("before"), c.get("after")):
                        if side and side.get("name"):
                            return "%s %s" % (_words(c["path"]), side["name"])
        return item_id
