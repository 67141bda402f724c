"""The router: menus + store + driver, and the operations on items.

Every change, whatever it came from (CLI, protocol, import), goes through
:class:`Router`: values are parsed by the schema's types, checked (required,
unique, references, cross-property rules), handed to the driver to apply to
the system, and only then committed to the store as one revision.  Listeners
(the daemon's ``follow`` streams) are told about every committed revision.
"""

import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from . import access
from . import menus as _menus  # noqa: F401  (declares every menu)
from .conflicts import check_expected
from .errors import RouterError, ValueProblem
from .history import History
from .schema import REGISTRY, Menu, Prop
from .store import Change, Store
from .types import Context


class Router(Context):
    """One device's configuration.

    Attributes:
        store: the persisted configuration.
        driver: applies it to the system and reports live state.
        listeners: callables ``(revision, changes)`` told after each commit.
    """

    def __init__(self, state_dir: Optional[str] = None, driver: str = "sim",
                 seed: Optional[int] = None, clock: Callable[[], float] = time.time,
                 driver_options: Optional[Dict[str, Any]] = None):
        from .drivers import make_driver
        self.state_dir = state_dir
        self.clock = clock
        self.seed = seed
        self.schema = REGISTRY
        self.store = Store(state_dir)
        self.listeners: List[Callable[[int, List[Change]], None]] = []
        self.history = History(self)
        self._adding: set = set()
        self.driver = make_driver(driver, self, **(driver_options or {}))
        if not self.store.loaded:
            self._factory()
        self.driver.start()

    # -- schema ----------------------------------------------------------------
    def menu(self, path: str) -> Menu:
        m = self.schema.get(path)
        if m is None:
            raise RouterError("no such menu %s" % path, "missing")
        return m

    def interface_menus(self) -> List[Menu]:
        return [m for m in self.schema.values() if m.interface_type]

    # -- factory state ---------------------------------------------------------
    def _factory(self) -> None:
        changes = []
        for m in self.schema.values():
            rows = list(m.factory)
            if m.single and not rows:
                rows = [{}]
            for values in rows:
                item = dict(values)
                for p in m.props:
                    if callable(p.default) and p.name not in item:
                        item[p.name] = p.default(self, item)
                if m.factory and not m.single:
                    item[".factory"] = values.get(m.factory_key or "name") or values.get("name")
                changes.append(Change(m.path, self.store.new_id(), None, item))
        self.driver.factory(changes)
        self.store.apply(changes, note="factory configuration", record=False)

    # -- Context for value types -------------------------------------------
    def resolve(self, target: str, word: str) -> str:
        for m in self._target_menus(target):
            for it in self.rows(m.path, runtime=False):
                if it[".id"] == word or self.name_of(it[".id"], it, m) == word:
                    return it[".id"]
        what = "interface" if target == "interface" else target.rsplit("/", 1)[-1].replace("-", " ")
        raise ValueProblem("no such %s (%s)" % (what, word))

    def _target_menus(self, target: str) -> List[Menu]:
        if target == "interface":
            return self.interface_menus()
        return [self.menu(target)]

    def name_of(self, item_id: str, item: Optional[dict] = None, m: Optional[Menu] = None) -> str:
        if item is None:
            item = self.store.get(item_id)
            if item is None:
                return self.driver.dynamic_name(item_id) or item_id
            m = self.schema[self.store.path_of(item_id)]
        if "name" in item:
            return item["name"]
        if m is not None and m.derive:
            name = m.derive(self, item).get("name")
            if name:
                return name
        return item_id

    # -- reading -----------------------------------------------------------------
    def view(self, m: Menu, item: dict, runtime: bool = True) -> Dict[str, Any]:
        """An item with defaults, derived and live values filled in (canonical)."""
        out: Dict[str, Any] = {".id": item[".id"]}
        for p in m.props:
            if p.name in item:
                out[p.name] = item[p.name]
            elif not callable(p.default):
                out[p.name] = p.default
        for k, v in item.items():
            if k.startswith(".") and k != ".id":
                out[k] = v
        if m.derive:
            out.update(m.derive(self, out))
        if runtime:
            out.update(self.driver.runtime(m.path, out))
        return out

    def rows(self, path: str, runtime: bool = True) -> List[Dict[str, Any]]:
        """Every item of a menu as views: stored ones, then dynamic ones."""
        m = self.menu(path)
        if m.source is not None:
            return m.source(self)
        out = [self.view(m, it, runtime) for it in self.store.items(path)]
        for it in self.driver.dynamic(path):
            it = dict(it)
            it.setdefault(".dynamic", True)
            out.append(self.view(m, it, runtime=False) if runtime else it)
        return out

    def row(self, path: str, item_id: str) -> Dict[str, Any]:
        for r in self.rows(path):
            if r[".id"] == item_id:
                return r
        raise RouterError("no such item (%s)" % item_id, "missing")

    def format_row(self, m: Menu, view: Dict[str, Any], sensitive: bool = False,
                   proplist: Optional[Iterable[str]] = None) -> Dict[str, str]:
        """A view as the strings RouterOS prints."""
        out = {".id": view[".id"]}
        names = list(proplist) if proplist else [p.name for p in m.props]
        for name in names:
            p = m.prop(name)
            if p is None:
                continue
            if p.secret and not sensitive:
                continue
            out[name] = p.type.format(view.get(name), self)
        if view.get(".dynamic"):
            out[".dynamic"] = "yes"
        for key in (".problem", ".notice"):     # what the driver says of the item (the host cannot...)
            if view.get(key):
                out[key] = str(view[key])
        out[".flags"] = self.flags(m, view)
        return out

    def flags(self, m: Menu, view: Dict[str, Any]) -> str:
        return "".join(f.letter for f in m.flags if f.test(view))

    def single_id(self, m: Menu) -> str:
        items = self.store.items(m.path)
        if not items:
            raise RouterError("%s has no settings item" % m.path, "general")
        return items[0][".id"]

    def find(self, path: str, word: str) -> str:
        """An item of ``path`` by id or name."""
        m = self.menu(path)
        for it in self.rows(path, runtime=False):
            if it[".id"] == word or self.name_of(it[".id"], it, m) == word:
                return it[".id"]
        raise RouterError("no such item (%s)" % word, "missing")

    # -- changing ----------------------------------------------------------------
    def _parse(self, m: Menu, values: Dict[str, str], adding: bool) -> Dict[str, Any]:
        out = {}
        for name, text in values.items():
            p = m.prop(name)
            if p is None:
                raise RouterError("unknown parameter %s" % name, "argument", name)
            if p.readonly:
                raise RouterError("%s is read-only" % name, "denied", name)
            out[name] = parse_value(p, text, self)
        return out

    def _check(self, m: Menu, item_id: str, item: Dict[str, Any]) -> None:
        view = self.view(m, dict(item, **{".id": item_id}), runtime=False)
        for p in m.props:
            if p.required and view.get(p.name) in (None, "", []):
                raise RouterError("%s: must be set" % p.name, "argument", p.name)
        # names are unique in their menu, interface names across all interfaces
        # (a name a menu derives, like an interface list member's, is not its own)
        name_prop = m.prop("name")
        if name_prop is not None and not name_prop.readonly and view.get("name") not in (None, ""):
            wanted = view["name"]
            menus = self.interface_menus() if m.interface_type else [m]
            for om in menus:
                for other in self.store.items(om.path):
                    # the stored name when there is one (fast: imports check thousands)
                    name = other.get("name")
                    if name is None:
                        name = self.name_of(other[".id"], other, om)
                    if name == wanted and other[".id"] != item_id:
                        raise RouterError("name: %s already exists" % wanted, "conflict", "name")
        for p in m.props:
            if p.unique and p.name != "name" and view.get(p.name) not in (None, ""):
                for other in self.store.items(m.path):
                    if other[".id"] != item_id and other.get(p.name) == view[p.name]:
                        shown = "the value" if p.secret else p.type.format(view[p.name], self)
                        raise RouterError("%s: %s is already used by another item" % (p.name, shown),
                                          "conflict", p.name)
        for p in m.props:
            for ref in p.type.references(view.get(p.name)) if view.get(p.name) is not None else ():
                if ref == item_id:
                    raise RouterError("%s: an item cannot refer to itself" % p.name, "argument", p.name)
                if self.store.get(ref) is None and ref not in self._adding and self.driver.dynamic_name(ref) is None:
                    raise RouterError("%s: no such item (%s)" % (p.name, ref), "argument", p.name)
        if m.validate:
            m.validate(self, view)

    def _commit(self, changes: List[Change], note: str, session: str = "",
                meta: Optional[Dict[str, Any]] = None) -> int:
        """Check, apply through the driver and store one revision.  ``meta``
        (undo and redo give it) is recorded even when nothing changes."""
        # setting what is already there changes nothing: no revision, no event
        changes = [c for c in changes if c.before != c.after or c.pos_before != c.pos_after]
        if not changes and meta is None:
            return self.store.revision
        rights = access.current()
        # items added by this revision may refer to each other (a redo of wg-import)
        self._adding = {c.id for c in changes if c.before is None}
        try:
            for ch in changes:
                if rights is not None:
                    rights.check_change(ch.path)
                m = self.schema[ch.path]
                if ch.after is not None and ch.before != ch.after:
                    self._check(m, ch.id, ch.after)
        finally:
            self._adding = set()
        if meta is None:
            meta = self.history.step_meta(changes, session)
        self.driver.apply(changes)
        rev = self.store.apply(changes, note=note, session=session, meta=meta)
        for fn in list(self.listeners):
            fn(rev, changes)
        return rev

    def _writable(self, m: Menu) -> None:
        if m.readonly:
            raise RouterError("%s is read-only" % m.path, "denied")
        rights = access.current()
        if rights is not None:
            rights.check_change(m.path)

    def _stored(self, m: Menu, item_id: str) -> dict:
        it = self.store.get(item_id)
        if it is None or self.store.path_of(item_id) != m.path:
            if any(d[".id"] == item_id for d in self.driver.dynamic(m.path)):
                raise RouterError("cannot change dynamic item (%s)" % item_id, "denied")
            raise RouterError("no such item (%s)" % item_id, "missing")
        return it

    def add(self, path: str, values: Dict[str, str], session: str = "",
            place_before: Optional[str] = None, copy_from: Optional[str] = None) -> str:
        m = self.menu(path)
        self._writable(m)
        if not m.can_add:
            raise RouterError("%s: items cannot be added here" % path, "denied")
        item: Dict[str, Any] = {}
        if copy_from:
            src = self._stored(m, copy_from)
            item = {k: v for k, v in src.items() if not k.startswith(".")}
            item.pop("name", None)
        item.update(self._parse(m, values, adding=True))
        for p in m.props:
            if p.name not in item and callable(p.default):
                item[p.name] = p.default(self, item)
        if m.default_name and "name" not in item:
            item["name"] = self._free_name(m.default_name)
        new_id = self.store.new_id()
        pos = None
        if place_before is not None:
            pos = self.store.position(path, self.find(path, place_before))
        self._commit([Change(path, new_id, None, item, None, pos)], note="add %s" % path, session=session)
        return new_id

    def _free_name(self, pattern: str) -> str:
        taken = {self.name_of(it[".id"], it, im) for im in self.interface_menus()
                 for it in self.store.items(im.path)}
        for m in self.schema.values():
            for it in self.store.items(m.path):
                if "name" in it:
                    taken.add(it["name"])
        n = 1
        while pattern.format(n=n) in taken:
            n += 1
        return pattern.format(n=n)

    def set(self, path: str, ids: List[str], values: Dict[str, str], session: str = "",
            expect: Optional[Dict[str, str]] = None) -> int:
        """Set properties of items.  ``expect``: the values the writer's form
        was loaded with; refused as a conflict if they changed since
        (see conflicts.py)."""
        m = self.menu(path)
        self._writable(m)
        if m.single and not ids:
            ids = [self.single_id(m)]
        parsed = self._parse(m, values, adding=False)
        changes = []
        for item_id in ids:
            before = self._stored(m, item_id)
            if expect:
                check_expected(self, m, item_id, expect)
            after = {k: v for k, v in before.items() if k != ".id"}
            after.update(parsed)
            changes.append(Change(path, item_id, self._bare(before), after))
        return self._commit(changes, note="set %s" % path, session=session)

    def unset(self, path: str, ids: List[str], names: List[str], session: str = "",
              expect: Optional[Dict[str, str]] = None) -> int:
        m = self.menu(path)
        self._writable(m)
        if m.single and not ids:
            ids = [self.single_id(m)]
        for n in names:
            p = m.prop(n)
            if p is None:
                raise RouterError("unknown parameter %s" % n, "argument", n)
            if p.readonly:
                raise RouterError("%s is read-only" % n, "denied", n)
            if p.required:
                raise RouterError("%s: cannot be unset, it is required" % n, "argument", n)
        changes = []
        for item_id in ids:
            before = self._stored(m, item_id)
            if expect:
                check_expected(self, m, item_id, expect)
            after = {k: v for k, v in before.items() if k != ".id" and k not in names}
            changes.append(Change(path, item_id, self._bare(before), after))
        return self._commit(changes, note="unset %s" % path, session=session)

    @staticmethod
    def _bare(item: dict) -> dict:
        return {k: v for k, v in item.items() if k != ".id"}

    def remove(self, path: str, ids: List[str], session: str = "") -> int:
        m = self.menu(path)
        self._writable(m)
        if not m.can_remove:
            raise RouterError("%s: items cannot be removed" % path, "denied")
        changes = []
        ids = list(dict.fromkeys(ids))      # "remove 0,0" removes it once
        gone = set(ids)
        # positions as each removal finds the list, so the inverse (re-adding
        # in reverse order) puts every item back where it was
        order = [it[".id"] for it in self.store.items(path)]
        for item_id in ids:
            before = self._stored(m, item_id)
            if before.get(".factory") and not m.factory_removable:
                raise RouterError("%s is a default item and cannot be removed" % self.name_of(item_id), "denied")
            users = [u for u in self.users_of(item_id) if u[1] not in gone]
            if users:
                upath, uid, prop = users[0]
                raise RouterError("%s is in use by %s %s (%s) and cannot be removed" % (
                    self.name_of(item_id), self._menu_words(upath), self.name_of(uid), prop), "conflict")
            changes.append(Change(path, item_id, self._bare(before), None, order.index(item_id), None))
            order.remove(item_id)
        return self._commit(changes, note="remove %s" % path, session=session)

    @staticmethod
    def _menu_words(path: str) -> str:
        return "/" + " ".join(w for w in path.split("/") if w)

    def users_of(self, item_id: str) -> List[Tuple[str, str, str]]:
        """(menu, item id, property) of every stored item that refers to ``item_id``."""
        out = []
        for m in self.schema.values():
            for it in self.store.items(m.path):
                for p in m.props:
                    v = it.get(p.name)
                    if v is not None and item_id in p.type.references(v):
                        out.append((m.path, it[".id"], p.name))
        return out

    def enable(self, path: str, ids: List[str], session: str = "") -> int:
        return self._toggle(path, ids, False, session)

    def disable(self, path: str, ids: List[str], session: str = "") -> int:
        return self._toggle(path, ids, True, session)

    def _toggle(self, path: str, ids: List[str], disabled: bool, session: str) -> int:
        m = self.menu(path)
        if m.prop("disabled") is None:
            if m.prop("enabled") is not None:
                return self.set(path, ids, {"enabled": "no" if disabled else "yes"}, session)
            raise RouterError("%s items cannot be disabled" % path, "denied")
        return self.set(path, ids, {"disabled": "yes" if disabled else "no"}, session)

    def comment(self, path: str, ids: List[str], text: str, session: str = "") -> int:
        m = self.menu(path)
        if m.prop("comment") is None:
            raise RouterError("%s items have no comment" % path, "denied")
        return self.set(path, ids, {"comment": text}, session)

    def move(self, path: str, ids: List[str], destination: Optional[str], session: str = "") -> int:
        """Move items before ``destination`` (or to the end), keeping their order."""
        m = self.menu(path)
        self._writable(m)
        for item_id in ids:
            self._stored(m, item_id)
        if destination is not None:
            self._stored(m, destination)
        order = [it[".id"] for it in self.store.items(path)]
        changes = []
        for item_id in ids:
            if item_id == destination:
                continue
            old = order.index(item_id)
            order.remove(item_id)
            new = order.index(destination) if destination is not None else len(order)
            order.insert(new, item_id)
            if new != old:
                item = self._bare(self.store.get(item_id))
                changes.append(Change(path, item_id, item, item, old, new))
        return self._commit(changes, note="move %s" % path, session=session)

    def set_readonly(self, path: str, item_id: str, values: Dict[str, Any], note: str) -> int:
        """Let the router itself record values a person may not set (license state)."""
        before = self._bare(self._stored(self.menu(path), item_id))
        after = dict(before, **values)
        if after == before:
            return self.store.revision
        ch = Change(path, item_id, before, after)
        rev = self.store.apply([ch], note=note)
        for fn in list(self.listeners):
            fn(rev, [ch])
        return rev

    # -- commands ------------------------------------------------------------------
    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, str]) -> Iterator[Dict[str, Any]]:
        """Run a menu command; yields rows of canonical values."""
        m = self.menu(path)
        cmd = m.command(name)
        if cmd is None:
            raise RouterError("no such command %s in %s" % (name, self._menu_words(path)), "missing")
        rights = access.current()
        if rights is not None:
            rights.check_command(path, name)
        parsed = {}
        for k, text in args.items():
            p = next((a for a in cmd.args if a.name == k), None)
            if p is None:
                raise RouterError("unknown parameter %s" % k, "argument", k)
            parsed[k] = parse_value(p, text, self)
        for a in cmd.args:
            if a.required and a.name not in parsed:
                raise RouterError("%s: must be given" % a.name, "argument", a.name)
        if cmd.item and item_id is None:
            raise RouterError("%s needs an item" % name, "argument")
        # what a command changes is one step for undo
        with self.history.group("%s %s" % (self._menu_words(path), name)):
            return self.driver.command(path, name, item_id, parsed)

    # -- undo, redo, users ----------------------------------------------------------------
    def undo(self, session: str = "", revision: Optional[int] = None, mine: bool = False) -> int:
        """Undo the latest step (or the step of ``revision``; ``mine``: the
        latest of ``session``) as a new revision (history.py)."""
        return self.history.undo(session, revision, mine)

    def redo(self, session: str = "", mine: bool = False) -> int:
        """Do again the step undone last (``mine``: of ``session``) (history.py)."""
        return self.history.redo(session, mine)

    def as_user(self, login: str, address: Optional[str] = None) -> "access.UserRouter":
        """This router as ``login`` sees it: its changes checked against its rights (access.py)."""
        return access.UserRouter(self, access.rights_for(self, login, address))

    def login(self, login: str, address: Optional[str] = None) -> "access.UserRouter":
        """:meth:`as_user`, noting the time on the login's /user item (last-logged-in)."""
        user = self.as_user(login, address)
        for it in self.store.items("/user"):
            if it.get("name") == login:
                before = self._bare(it)
                ch = Change("/user", it[".id"], before, dict(before, **{"last-logged-in": int(self.clock())}))
                rev = self.store.apply([ch], note="login %s" % login, record=False)
                for fn in list(self.listeners):
                    fn(rev, [ch])
        return user

    def close(self) -> None:
        self.driver.stop()
        self.store.flush()


def parse_value(p: Prop, text: str, ctx: Any) -> Any:
    """A property's text as a value; RouterError naming the property and what
    is allowed.  A secret's text is never repeated in the message."""
    try:
        return p.type.parse(text, ctx)
    except ValueProblem as exc:
        message = str(exc)
        if p.secret and _echoes(message, text):
            message = "the value given is not valid (allowed: %s)" % p.type.allowed()
        raise RouterError("%s: %s" % (p.name, message), "argument", p.name) from None


def _echoes(message: str, text: str) -> bool:
    """Whether ``message`` repeats ``text`` or a piece of it."""
    import re
    pieces = [t for t in re.split(r"[\s,:;=\"']+", text) if len(t) >= 3]
    return any(t in message for t in pieces) or (text.strip() != "" and text.strip() in message)
