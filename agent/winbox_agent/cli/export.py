"""``export``: the configuration as a script that, run on a factory device,
reproduces it.  Only what differs from the factory state is written."""

import heapq
import time
from typing import Any, Dict, List, Optional, Tuple

from ..schema import Menu
from .lexer import quote


def menu_words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


def _factory_selector(m: Menu, name: str) -> str:
    key = m.factory_key or "name"
    return "[ find %s=%s ]" % (key, quote(name))


class _Exporter:
    """Writes items in export order, each only after the items it refers to.

    Items go in menu order (and in their order within a menu) unless an item
    refers to one not written yet (a PPPoE client on a later kind of
    interface): then it waits, with the rest of its menu, until that one is
    written, switching menu lines as needed.  A cycle (two pools each other's
    next-pool) is broken by leaving an optional reference out of the first
    item's line and setting it at the end.
    """

    def __init__(self, router: Any, menus: List[Menu], sensitive: bool, verbose: bool):
        self.router = router
        self.menus = menus
        self.sensitive = sensitive
        self.verbose = verbose
        self.lines: List[str] = []
        self.current: Optional[str] = None
        self.started: set = set()

    def run(self) -> List[str]:
        order: List[Tuple[Menu, Dict[str, Any]]] = []
        for m in self.menus:
            order.extend((m, it) for it in self.router.store.items(m.path))
        index = {it[".id"]: n for n, (_, it) in enumerate(order)}
        values = [self._values(m, it) for m, it in order]
        waits: List[Dict[str, Optional[str]]] = []    # item -> {id it waits for: prop (None: menu order)}
        for n, (m, it) in enumerate(order):
            w: Dict[str, Optional[str]] = {}
            if n and order[n - 1][0] is m:
                w[order[n - 1][1][".id"]] = None
            for p, value in values[n][0]:
                for ref in p.type.references(value):
                    if ref in index and ref != it[".id"]:
                        w.setdefault(ref, p.name)
            waits.append(w)
        waiters: Dict[str, List[int]] = {}
        for n, w in enumerate(waits):
            for ref in w:
                waiters.setdefault(ref, []).append(n)
        ready = [n for n, w in enumerate(waits) if not w]
        heapq.heapify(ready)
        done = [False] * len(order)
        skipped: List[set] = [set() for _ in order]
        deferred: List[Tuple[Menu, str, List[str]]] = []
        first = 0
        for _ in range(len(order)):
            if not ready:                       # a cycle: loosen the first item left
                while done[first]:
                    first += 1
                self._loosen(order[first][0], order[first][1], waits[first], values[first][0], skipped[first])
                heapq.heappush(ready, first)
            n = heapq.heappop(ready)
            m, it = order[n]
            later = self._write(m, it, values[n], skipped[n])
            if later:
                deferred.append((m, self._selector(m, it) or "", later))
            done[n] = True
            for k in waiters.get(it[".id"], ()):
                if it[".id"] in waits[k]:
                    del waits[k][it[".id"]]
                    if not waits[k] and not done[k]:
                        heapq.heappush(ready, k)
        for m in self.menus:                    # menus whose factory items were all removed
            self._start(m)
        for m, selector, vals in deferred:
            self._line(m, ("set %s %s" % (selector, " ".join(vals))).replace("set  ", "set "))
        return self.lines

    def _loosen(self, m: Menu, it: Dict[str, Any], waits: Dict[str, Optional[str]],
                values: List[Tuple[Any, Any]], skipped: set) -> None:
        """Let an item in a cycle be written now: set its optional references
        at the end, or else write it out of menu order."""
        optional = {p.name for p, _ in values if not p.required}
        for ref, prop in list(waits.items()):
            if prop is not None and prop in optional and self._selector(m, it) is not None:
                skipped.add(prop)
                del waits[ref]
        for ref, prop in list(waits.items()):
            del waits[ref]                      # menu order, or a cycle of required references

    def _line(self, m: Menu, text: str) -> None:
        self._start(m)
        if self.current != m.path:
            self.lines.append(menu_words(m.path))
            self.current = m.path
        self.lines.append(text)

    def _start(self, m: Menu) -> None:
        """Removals of factory items come before anything else of their menu."""
        if m.path in self.started:
            return
        self.started.add(m.path)
        if m.single:
            return
        present = {it.get(".factory") for it in self.router.store.items(m.path) if it.get(".factory")}
        for f in m.factory:
            fname = f.get(m.factory_key or "name") or f.get("name")
            if fname not in present:
                self._line(m, "remove " + _factory_selector(m, fname))

    def _values(self, m: Menu, it: Dict[str, Any]) -> Tuple[List[Tuple[Any, Any]], List[str]]:
        """(prop, value) pairs to write, and names to unset (factory items)."""
        out, unset = [], []
        factory = None
        if it.get(".factory") and not m.single:
            factory = next((f for f in m.factory
                            if (f.get(m.factory_key or "name") or f.get("name")) == it[".factory"]), {})
        for p in m.props:
            if p.readonly or (p.secret and not self.sensitive):
                continue
            if factory is not None:
                if p.name in it and factory.get(p.name, _MISSING) != it[p.name]:
                    out.append((p, it[p.name]))
                elif p.name not in it and p.name in factory:
                    unset.append(p.name)
                continue
            if p.name not in it:
                continue
            if not self.verbose and not callable(p.default) and it[p.name] == p.default:
                continue
            out.append((p, it[p.name]))
        return out, unset

    def _selector(self, m: Menu, it: Dict[str, Any]) -> Optional[str]:
        """How a later ``set`` finds the item; None when nothing names it."""
        if m.single:
            return ""
        if it.get(".factory"):
            return _factory_selector(m, it[".factory"])
        name = m.prop("name")
        if name is None or name.readonly:
            return None
        return "[ find name=%s ]" % quote(it["name"]) if it.get("name") else None

    def _write(self, m: Menu, it: Dict[str, Any], values: Tuple[List[Tuple[Any, Any]], List[str]],
               skipped: set) -> List[str]:
        """Write the item's line; returns the values left for the end."""
        pairs, unset = values
        now, later = [], []
        for p, value in pairs:
            text = "%s=%s" % (p.name, quote(p.type.format(value, self.router)))
            (later if p.name in skipped else now).append(text)
        if m.single:
            if now:
                self._line(m, "set " + " ".join(now))
        elif it.get(".factory"):
            selector = _factory_selector(m, it[".factory"])
            if now:
                self._line(m, "set %s %s" % (selector, " ".join(now)))
            if unset:
                self._line(m, "unset %s %s" % (selector, ",".join(unset)))
        else:
            self._line(m, "add " + " ".join(now) if now else "add")
        return later


def export_menu(router: Any, m: Menu, sensitive: bool = False, verbose: bool = False) -> List[str]:
    """One menu's part of the export (items it refers to elsewhere are assumed present)."""
    if m.readonly or m.source is not None:
        return []
    return _Exporter(router, [m], sensitive, verbose).run()


_MISSING = object()


def export(router: Any, path: Optional[str] = None, sensitive: bool = False, verbose: bool = False,
           header: bool = True) -> str:
    """The whole configuration (or one menu and those below it) as a script."""
    lines: List[str] = []
    if header:
        lines.append("# %s by winbox-agent" % time.strftime("%Y-%m-%d %H:%M:%S"))
        if not sensitive:
            lines.append("# secrets are not included; use show-sensitive to include them")
    chosen = [m for m in router.schema.values() if not m.readonly and m.source is None
              and (not path or m.path == path or m.path.startswith(path.rstrip("/") + "/"))]
    lines.extend(_Exporter(router, chosen, sensitive, verbose).run())
    return "\n".join(lines) + "\n"
