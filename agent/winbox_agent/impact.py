"""Would a proposed change cut the desktop off from the router?

The agent knows where the desktop is (``SSH_CONNECTION``: its address and
the port it reached) and how the router reaches it: on the linux driver the
kernel says (``ip -j route get <client>``: device, gateway, source), on the
sim the configuration's addresses and routes say (longest prefix; connected
networks first).  :func:`check` looks at one proposed change (the same
fields as the change itself: menu, action, items, values) and returns a
warning for each way it may cut that path:

- an interface the path leaves by being disabled or removed;
- the address the router answers from (or the connected network that
  reaches the client or its gateway) removed, disabled, or changed;
- the route in use removed, disabled or changed, or a new, more specific
  route (or blackhole) for the client's address;
- a firewall rule that would drop or reject the SSH traffic (input or
  output chain, matching the client's address, the SSH port, the interface,
  and no accept rule before it lets that traffic through) added, enabled or
  changed; an accept rule for it disabled or removed while a later rule
  drops it.

It only warns: nothing is refused.  The desktop asks the person before it
sends the change (safe mode would undo it if the connection is then lost).
"""

import ipaddress
from typing import Any, Dict, List, Optional, Tuple

from .errors import RouterError

ACTIONS = ("add", "set", "unset", "remove", "enable", "disable", "move")
DROPPING = ("drop", "reject", "tarpit")
CUT = "This change may cut your connection to the router"


class Path:
    """How the router reaches the desktop.

    Attributes:
        client: the desktop's address; port: the SSH port it reached.
        interface: the interface item id the packets leave by (None: unknown).
        source: the router's address on that path; gateway: the next hop.
        address_id: the /ip/address item of the source or connected network.
        route_id: the /ip/route item in use (None: a connected network).
    """

    def __init__(self, client: str, port: Optional[int]):
        self.client = client
        self.port = port
        self.interface: Optional[str] = None
        self.source: Optional[str] = None
        self.gateway: Optional[str] = None
        self.address_id: Optional[str] = None
        self.route_id: Optional[str] = None

    def describe(self, router: Any) -> Dict[str, Any]:
        return {"client": self.client, "port": self.port,
                "interface": router.name_of(self.interface) if self.interface else None,
                "source": self.source, "gateway": self.gateway}


def _ip(text: Any) -> Optional[ipaddress.IPv4Address]:
    try:
        return ipaddress.IPv4Address(str(text).split("/")[0])
    except ValueError:
        return None


def _net(text: Any) -> Optional[ipaddress.IPv4Network]:
    try:
        return ipaddress.IPv4Network(str(text), strict=False)
    except ValueError:
        return None


def parse_ssh_connection(text: str) -> Tuple[Optional[str], Optional[int]]:
    """(client address, server port) from ``SSH_CONNECTION``."""
    parts = (text or "").split()
    if len(parts) < 4 or _ip(parts[0]) is None:
        return None, None
    try:
        return parts[0], int(parts[3])
    except ValueError:
        return parts[0], None


# -- the path --------------------------------------------------------------------------------

def _enabled(view: Dict[str, Any]) -> bool:
    return not view.get("disabled") and view.get("enabled", True) is not False


def _addresses(router: Any, items: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
    m = router.menu("/ip/address")
    rows = items if items is not None else [router.view(m, it, runtime=False) for it in router.store.items(m.path)]
    return [r for r in rows if _enabled(r) and _net(r.get("address")) is not None]


def _routes(router: Any, items: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
    m = router.menu("/ip/route")
    rows = items if items is not None else [router.view(m, it, runtime=False) for it in router.store.items(m.path)]
    return [r for r in rows if _enabled(r) and _net(r.get("dst-address")) is not None
            and str(r.get("routing-table") or "main") == "main"]


def _connected(addresses: List[Dict[str, Any]], target: ipaddress.IPv4Address) -> Optional[Dict[str, Any]]:
    best = None
    for a in addresses:
        net = _net(a["address"])
        if net is not None and target in net and (best is None or net.prefixlen > _net(best["address"]).prefixlen):
            best = a
    return best


def _best_route(routes: List[Dict[str, Any]], target: ipaddress.IPv4Address) -> Optional[Dict[str, Any]]:
    best = None
    for r in routes:
        net = _net(r["dst-address"])
        if net is None or target not in net:
            continue
        key = (net.prefixlen, -int(r.get("distance") or 1))
        if best is None or key > best[0]:
            best = (key, r)
    return best[1] if best else None


def configured_path(router: Any, client: str, port: Optional[int],
                    addresses: Optional[List[Dict[str, Any]]] = None,
                    routes: Optional[List[Dict[str, Any]]] = None) -> Optional[Path]:
    """The path as the configuration says (the sim, and what-if questions)."""
    target = _ip(client)
    if target is None:
        return None
    addrs = _addresses(router, addresses)
    path = Path(client, port)
    conn = _connected(addrs, target)
    route = _best_route(_routes(router, routes), target)
    if conn is not None and (route is None or _net(conn["address"]).prefixlen >= _net(route["dst-address"]).prefixlen):
        path.interface = conn.get("interface")
        path.source = str(_ip(conn["address"]))
        path.address_id = conn[".id"]
        return path
    if route is None:
        return None
    path.route_id = route[".id"]
    if route.get("blackhole"):
        return path
    gw = route.get("gateway")
    gw_ip = _ip(gw) if gw and not str(gw).startswith("*") else None
    if gw_ip is not None:
        path.gateway = str(gw_ip)
        near = _connected(addrs, gw_ip)
        if near is not None:
            path.interface = near.get("interface")
            path.source = str(_ip(near["address"]))
            path.address_id = near[".id"]
    elif gw:
        path.interface = str(gw)
        near = next((a for a in addrs if a.get("interface") == gw), None)
        if near is not None:
            path.source = str(_ip(near["address"]))
            path.address_id = near[".id"]
    return path


def kernel_path(router: Any, client: str, port: Optional[int]) -> Optional[Path]:
    """The path as the kernel says (``ip route get``), tied to the
    configuration's items where they match."""
    host = getattr(router.driver, "host", None)
    if host is None:
        return None
    try:
        got = host.json(["ip", "-j", "route", "get", client])
    except Exception:           # no route, no ip command: nothing to say
        return None
    if not got:
        return None
    r = got[0]
    path = configured_path(router, client, port) or Path(client, port)
    dev = r.get("dev")
    if dev:
        try:
            path.interface = router.resolve("interface", dev)
        except Exception:
            path.interface = None
    path.gateway = r.get("gateway") or None
    path.source = r.get("prefsrc") or path.source
    if path.source:
        for a in _addresses(router):
            if str(_ip(a["address"])) == path.source:
                path.address_id = a[".id"]
    return path


def find_path(router: Any, ssh_connection: str) -> Optional[Path]:
    client, port = parse_ssh_connection(ssh_connection)
    if client is None:
        return None
    if getattr(router.driver, "name", "") == "linux":
        return kernel_path(router, client, port)
    return configured_path(router, client, port)


# -- the proposed change ----------------------------------------------------------------------

def _proposed(router: Any, path: str, action: str, ids: List[str],
              values: Dict[str, str]) -> List[Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]]:
    """(view before, view after) of every item the change touches (None: absent)."""
    from .router import parse_value
    m = router.menu(path)
    parsed = {}
    for name, text in (values or {}).items():
        p = m.prop(name)
        if p is None:
            raise RouterError("unknown parameter %s" % name, "argument", name)
        parsed[name] = parse_value(p, text, router)
    if action == "add":
        item = dict(parsed)
        return [(None, router.view(m, dict(item, **{".id": "*new"}), runtime=False))]
    out = []
    for item_id in ids:
        stored = router.store.get(item_id)
        if stored is None:
            continue
        before = router.view(m, stored, runtime=False)
        if action == "remove":
            out.append((before, None))
            continue
        after_item = dict(stored)
        if action == "set":
            after_item.update(parsed)
        elif action == "unset":
            for name in values or {}:
                after_item.pop(name, None)
        elif action in ("enable", "disable"):
            key = "disabled" if m.prop("disabled") is not None else "enabled"
            after_item[key] = (action == "disable") if key == "disabled" else (action == "enable")
        out.append((before, router.view(m, after_item, runtime=False)))
    return out


def check(router: Any, ssh_connection: str, path: str, action: str, ids: List[str],
          values: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Warnings for one proposed change (see the module docstring)."""
    if action not in ACTIONS:
        raise RouterError("action: %s is not one of %s" % (action, ", ".join(ACTIONS)), "argument", "action")
    route = find_path(router, ssh_connection)
    out: Dict[str, Any] = {"warnings": [], "path": route.describe(router) if route else None}
    if route is None:
        return out
    m = router.menu(path)
    pairs = _proposed(router, path, action, ids, values or {})
    warnings: List[str] = out["warnings"]
    if m.interface_type or path == "/interface":
        warnings += _interfaces(router, route, pairs)
    elif path == "/ip/address":
        warnings += _address_changes(router, route, pairs)
    elif path == "/ip/route":
        warnings += _route_changes(router, route, pairs)
    elif path == "/ip/firewall/filter":
        warnings += _firewall(router, route, action, pairs, ids)
    return out


def _says(router: Any, route: Path, what: str) -> str:
    via = router.name_of(route.interface) if route.interface else "?"
    return "%s: %s (you are connected from %s through %s)." % (CUT, what, route.client, via)


def _interfaces(router: Any, route: Path, pairs: List[Tuple[Any, Any]]) -> List[str]:
    out = []
    for before, after in pairs:
        if before is None or before.get(".id") != route.interface:
            continue
        name = router.name_of(before[".id"])
        if after is None:
            out.append(_says(router, route, "it removes interface %s" % name))
        elif _enabled(before) and not _enabled(after):
            out.append(_says(router, route, "it disables interface %s" % name))
    return out


def _address_changes(router: Any, route: Path, pairs: List[Tuple[Any, Any]]) -> List[str]:
    out = []
    current = _addresses(router)
    for before, after in pairs:
        if before is None:
            # a new connected network holding the client or its gateway elsewhere
            if after is None or not _enabled(after):
                continue
            net = _net(after.get("address"))
            target = _ip(route.gateway or route.client)
            if net is not None and target in net and after.get("interface") != route.interface:
                out.append(_says(router, route, "the new address %s puts %s on interface %s" % (
                    after.get("address"), target, router.name_of(after.get("interface")))))
            continue
        others = [a for a in current if a[".id"] != before[".id"]]
        if after is not None and _enabled(after):
            others.append(after)
        then = configured_path(router, route.client, route.port, addresses=others)
        if before[".id"] == route.address_id and (after is None or not _enabled(after)
                                                   or str(_ip(after.get("address"))) != route.source
                                                   or after.get("interface") != route.interface):
            what = "removes" if after is None else ("disables" if not _enabled(after) else "changes")
            out.append(_says(router, route, "it %s address %s, which the router answers you from" % (
                what, before.get("address"))))
        elif then is None or then.interface != route.interface:
            out.append(_says(router, route, "without address %s the router has no way to you" %
                             before.get("address")))
    return out


def _route_changes(router: Any, route: Path, pairs: List[Tuple[Any, Any]]) -> List[str]:
    out = []
    current = _routes(router)
    for before, after in pairs:
        if before is not None and before.get(".id") == route.route_id:
            if after is None or not _enabled(after) or after.get("gateway") != before.get("gateway") \
                    or after.get("dst-address") != before.get("dst-address") or after.get("blackhole"):
                what = "removes" if after is None else ("disables" if not _enabled(after) else "changes")
                out.append(_says(router, route, "it %s the route to %s you are reached by" % (
                    what, before.get("dst-address"))))
            continue
        if after is None or not _enabled(after):
            continue
        others = [r for r in current if before is None or r[".id"] != before.get(".id")] + [after]
        then = configured_path(router, route.client, route.port, routes=others)
        if then is not None and then.route_id == after.get(".id"):
            if after.get("blackhole"):
                out.append(_says(router, route, "a blackhole route for %s covers your address" %
                                 after.get("dst-address")))
            elif then.gateway != route.gateway or then.interface != route.interface:
                out.append(_says(router, route, "route %s (gateway %s) would take your traffic elsewhere" % (
                    after.get("dst-address"), router.name_of(after["gateway"])
                    if str(after.get("gateway", "")).startswith("*") else after.get("gateway"))))
    return out


# -- firewall -----------------------------------------------------------------------------------

def _negated(value: Any) -> Tuple[bool, Any]:
    if isinstance(value, list) and len(value) == 2 and value[0] == "!":
        return True, value[1]
    return False, value


def _address_matches(value: Any, address: str) -> bool:
    if value in (None, ""):
        return True
    neg, inner = _negated(value)
    ip = _ip(address)
    text = str(inner)
    if "-" in text:
        lo, _, hi = text.partition("-")
        inside = ip is not None and _ip(lo) is not None and _ip(lo) <= ip <= _ip(hi)
    else:
        net = _net(text)
        inside = ip is not None and net is not None and ip in net
    return inside != neg


def _port_matches(value: Any, port: Optional[int]) -> bool:
    if value in (None, "") or port is None:
        return True
    neg, inner = _negated(value)
    inside = False
    for part in str(inner).split(","):
        lo, _, hi = part.partition("-")
        try:
            inside |= int(lo) <= port <= int(hi or lo)
        except ValueError:
            continue
    return inside != neg


def _plain_matches(value: Any, wanted: Any) -> bool:
    if value in (None, ""):
        return True
    neg, inner = _negated(value)
    return (inner == wanted) != neg


def _rule_matches(rule: Dict[str, Any], route: Path) -> bool:
    """Whether a filter rule can match the SSH traffic of the desktop."""
    chain = rule.get("chain")
    if chain not in ("input", "output") or not _enabled(rule):
        return False
    if not _plain_matches(rule.get("protocol"), "tcp"):
        return False
    states = rule.get("connection-state")
    if states not in (None, "", []):
        neg, inner = _negated(states)
        listed = set(inner if isinstance(inner, list) else str(inner).split(","))
        if ("established" in listed) == neg and ("new" in listed) == neg:
            return False
    if chain == "input":
        return (_address_matches(rule.get("src-address"), route.client)
                and _port_matches(rule.get("dst-port"), route.port)
                and _plain_matches(rule.get("in-interface"), route.interface))
    return (_address_matches(rule.get("dst-address"), route.client)
            and _port_matches(rule.get("src-port"), route.port)
            and _plain_matches(rule.get("out-interface"), route.interface))


def _firewall(router: Any, route: Path, action: str, pairs: List[Tuple[Any, Any]], ids: List[str]) -> List[str]:
    out = []
    m = router.menu("/ip/firewall/filter")
    rules = [router.view(m, it, runtime=False) for it in router.store.items(m.path)]
    for before, after in pairs:
        if after is not None and after.get("action") in DROPPING and _rule_matches(after, route):
            was = before is not None and before.get("action") in DROPPING and _rule_matches(before, route)
            at = _index(rules, before[".id"]) if before is not None else len(rules)
            accepted = any(r.get("action") == "accept" and _rule_matches(r, route) for r in rules[:at])
            if not accepted and (not was or action == "move"):
                out.append(_says(router, route, "firewall rule (chain %s, action %s) would %s your SSH traffic" % (
                    after.get("chain"), after.get("action"), "drop" if after.get("action") != "reject"
                    else "reject")))
        if before is not None and before.get("action") == "accept" and _rule_matches(before, route) and (
                after is None or not _enabled(after) or not _rule_matches(after, route)):
            later = [r for r in rules[_index(rules, before[".id"]) + 1:]
                     if r.get("action") in DROPPING and _rule_matches(r, route)]
            if later:
                out.append(_says(router, route, "without this accept rule a later rule (%s) drops your SSH "
                                                "traffic" % later[0].get("action")))
    return out


def _index(rules: List[Dict[str, Any]], item_id: str) -> int:
    for i, r in enumerate(rules):
        if r[".id"] == item_id:
            return i
    return len(rules)
