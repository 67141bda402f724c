"""The configuration a reconciliation makes the system match.

``apply`` sees a revision before the store has it, so the driver builds a
:class:`Snapshot`: the stored items with the revision's changes applied, read
as views (defaults and derived values filled in).  Everything the areas want
to know about the desired state comes from here.
"""

import ipaddress
from typing import Any, Dict, Iterable, List, Optional

from ...store import Change

#: interface types whose items are links the driver itself creates or finds
ETHERNET = "/interface/ethernet"
BRIDGE = "/interface/bridge"
BRIDGE_PORT = "/interface/bridge/port"


class Snapshot:
    """Items of every menu after a list of changes, as views.

    Attributes:
        router: the Router (schema, views, names of stored items).
        links: the driver's link registry, for names of host interfaces that
            are not in the configuration (dynamic).
    """

    def __init__(self, router: Any, changes: Iterable[Change] = (), links: Any = None):
        self.router = router
        self.links = links
        self._changes: Dict[str, List[Change]] = {}
        self._paths: Dict[str, str] = {}
        for ch in changes:
            self._changes.setdefault(ch.path, []).append(ch)
            if ch.after is not None:
                self._paths[ch.id] = ch.path
        self._raw: Dict[str, List[dict]] = {}
        self._views: Dict[str, List[Dict[str, Any]]] = {}
        self._by_id: Dict[str, Dict[str, Any]] = {}

    # -- items ---------------------------------------------------------------------
    def raw(self, path: str) -> List[dict]:
        """Stored items of a menu after the changes (explicit values only)."""
        if path not in self._raw:
            items = [dict(it) for it in self.router.store.items(path)]
            for ch in self._changes.get(path, ()):
                pos = None
                if ch.before is not None:
                    pos = next((i for i, it in enumerate(items) if it[".id"] == ch.id), None)
                    if pos is not None:
                        del items[pos]
                if ch.after is not None:
                    item = dict(ch.after, **{".id": ch.id})
                    if ch.pos_after is not None:
                        pos = ch.pos_after
                    elif pos is None:
                        pos = len(items)
                    items.insert(min(pos, len(items)), item)
            self._raw[path] = items
        return self._raw[path]

    def rows(self, path: str) -> List[Dict[str, Any]]:
        """Views of a menu's items (defaults filled in, no live values)."""
        if path not in self._views:
            m = self.router.schema.get(path)
            if m is None:
                self._views[path] = []
            else:
                self._views[path] = [self.router.view(m, it, runtime=False) for it in self.raw(path)]
                for v in self._views[path]:
                    self._by_id[v[".id"]] = v
        return self._views[path]

    def enabled(self, path: str) -> List[Dict[str, Any]]:
        """Views of the items that are not disabled."""
        return [v for v in self.rows(path) if not v.get("disabled") and v.get("enabled", True) is not False]

    def single(self, path: str) -> Dict[str, Any]:
        rows = self.rows(path)
        return rows[0] if rows else {}

    def path_of(self, item_id: Optional[str]) -> Optional[str]:
        if not item_id:
            return None
        if item_id in self._paths:
            return self._paths[item_id]
        path = self.router.store.path_of(item_id)
        if path is not None and any(ch.id == item_id and ch.after is None for ch in self._changes.get(path, ())):
            return None
        return path

    def get(self, item_id: Optional[str]) -> Optional[Dict[str, Any]]:
        """The view of an item by id (None if it is not in this configuration)."""
        path = self.path_of(item_id)
        if path is None:
            return None
        self.rows(path)
        return self._by_id.get(item_id)

    # -- interfaces ------------------------------------------------------------------
    def interface_paths(self) -> List[str]:
        return [m.path for m in self.router.interface_menus()]

    def ifname(self, item_id: Optional[str]) -> Optional[str]:
        """The system name of an interface by id: a configured one's name, or a
        host interface the configuration does not know (dynamic)."""
        if not item_id or not isinstance(item_id, str):
            return None
        view = self.get(item_id)
        if view is not None:
            if self.links is not None and self.path_of(item_id) == "/zerotier/interface":
                name = self.links.system_name(item_id)
                if name:
                    return name
            name = view.get("name")
            if not name:
                m = self.router.schema.get(self.path_of(item_id) or "")
                name = self.router.name_of(item_id, view, m)
            return name
        if self.links is not None:
            return self.links.dynamic_name(item_id)
        return None

    def interface_up(self, item_id: Optional[str]) -> bool:
        """Whether the configuration has this interface enabled (dynamic ones count as up)."""
        view = self.get(item_id)
        if view is None:
            return self.ifname(item_id) is not None
        return not view.get("disabled")

    def list_members(self, list_id: Optional[str], seen: Optional[set] = None) -> List[str]:
        """Names of the interfaces in an /interface/list (builtin lists included)."""
        view = self.get(list_id)
        if view is None:
            return []
        builtin = view.get(".factory")
        names: List[str] = []
        if builtin in ("all", "static", "dynamic"):
            for path in self.interface_paths():
                for v in self.rows(path):
                    dyn = bool(v.get(".dynamic"))
                    if builtin == "all" or (builtin == "dynamic") == dyn:
                        names.append(self.ifname(v[".id"]) or "")
            if builtin in ("all", "dynamic") and self.links is not None:
                names.extend(self.links.dynamic_names())
            return [n for n in names if n]
        if builtin == "none":
            return []
        seen = seen or set()
        if list_id in seen:
            return []
        seen.add(list_id)
        for member in self.enabled("/interface/list/member"):
            if member.get("list") == list_id:
                n = self.ifname(member.get("interface"))
                if n:
                    names.append(n)
        for inc in view.get("include") or []:
            names.extend(self.list_members(inc, seen))
        excluded = set()
        for exc in view.get("exclude") or []:
            excluded.update(self.list_members(exc, seen))
        out = []
        for n in names:
            if n not in excluded and n not in out:
                out.append(n)
        return out

    # -- addresses -------------------------------------------------------------------
    def pool_range(self, pool_id: Optional[str]) -> Optional[List[str]]:
        """First and last address of an /ip/pool's first range."""
        view = self.get(pool_id)
        if view is None:
            return None
        ranges = view.get("ranges") or []
        if isinstance(ranges, str):
            ranges = [r for r in ranges.split(",") if r]
        if not ranges:
            return None
        first = ranges[0]
        if isinstance(first, (list, tuple)):
            return [str(first[0]), str(first[1])]
        if "-" in first:
            lo, hi = first.split("-", 1)
            return [lo.strip(), hi.strip()]
        if "/" in first:
            net = ipaddress.ip_network(first, strict=False)
            hosts = list(net.hosts()) if net.num_addresses > 2 else [net.network_address]
            return [str(hosts[0]), str(hosts[-1])]
        return [first, first]
