"""Simulated networking: bridges, connected routes, firewall counters,
WireGuard handshakes and per-interface traffic.

Everything here is computed from the configuration, the time items came up
(``sim.since``) and the seed, so two runs with the same clock agree.
"""

import ipaddress
import math
import os
import zlib
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...errors import RouterError
from ...store import Change
from .behaviour import Behaviour

REKEY_SECONDS = 120  # WireGuard renews its session about every two minutes


def interface_view(router: Any, item_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The live view (runtime included) of an interface by id, or None."""
    if not item_id:
        return None
    path = router.store.path_of(item_id)
    item = router.store.get(item_id)
    if path is None or item is None:
        return None
    return router.view(router.schema[path], item)


def _running(router: Any, item_id: Optional[str]) -> bool:
    view = interface_view(router, item_id)
    return bool(view and view.get("running") and not view.get("disabled"))


def _up_since(sim: Any, *ids: str) -> Optional[float]:
    """When all of ``ids`` were last up (the latest of their start times);
    factory items that were never changed have been up since boot."""
    times = []
    for i in ids:
        t = sim.since.get(i)
        if t is None:
            item = sim.router.store.get(i) or {}
            if not item.get(".factory") or item.get("disabled"):
                return None
            t = sim.boot if sim.boot is not None else sim.now()
        times.append(t)
    return max(times) if times else None


# -- bridges -----------------------------------------------------------------------

class Bridges(Behaviour):
    """Bridges run while one of their ports does; ports of a disabled or
    stopped interface are inactive; a bridge's MAC is its first port's."""

    paths = ("/interface/bridge", "/interface/bridge/port")

    def apply(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path == "/interface/bridge" and ch.before is None and ch.after is not None:
                # from the name it was made with, so an exported and re-imported bridge keeps it
                ch.after.setdefault(".mac", self.sim.mac("bridge", ch.after.get("name")))

    def _ports(self, bridge_id: str) -> List[Dict[str, Any]]:
        return [p for p in self.router.store.items("/interface/bridge/port") if p.get("bridge") == bridge_id]

    def _port_state(self, port: Dict[str, Any]) -> str:
        if port.get("disabled"):
            return "disabled"
        bridge = self.router.store.get(port.get("bridge")) or {}
        if bridge.get("disabled") or not _running(self.router, port.get("interface")):
            return "inactive"
        return "in-bridge"

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/interface/bridge/port":
            state = self._port_state(view)
            active = state == "in-bridge"
            return {"status": state, "inactive": state == "inactive", "forwarding": active, "learning": active,
                    "role": "designated-port" if active else "disabled-port"}
        ports = self._ports(view[".id"])
        active = [p for p in ports if self._port_state(p) == "in-bridge"]
        ifaces = [interface_view(self.router, p.get("interface")) for p in ports]
        ifaces = [i for i in ifaces if i]
        mac = view.get(".mac")
        if view.get("auto-mac") is False and view.get("admin-mac"):
            mac = view["admin-mac"]
        elif ifaces and ifaces[0].get("mac-address"):
            mac = ifaces[0]["mac-address"]
        mtu = view.get("mtu")
        if not isinstance(mtu, int):
            mtus = [i.get("mtu") if isinstance(i.get("mtu"), int) else i.get("actual-mtu") for i in ifaces]
            mtus = [m for m in mtus if isinstance(m, int) and m > 0]
            mtu = min(mtus) if mtus else 1500
        return {"running": not view.get("disabled") and bool(active), "mac-address": mac, "actual-mtu": mtu}


def is_slave(router: Any, item_id: str) -> bool:
    """Whether an interface is an enabled port of an enabled bridge."""
    for p in router.store.items("/interface/bridge/port"):
        if p.get("interface") == item_id and not p.get("disabled"):
            bridge = router.store.get(p.get("bridge")) or {}
            return not bridge.get("disabled")
    return False


# -- routes ----------------------------------------------------------------------------

def connected_route_id(address_id: str) -> str:
    """A stable id for the connected route of an address (never a stored id)."""
    return "*%X" % (0xC0000000 | (zlib.crc32(address_id.encode()) & 0x3FFFFFFF))


class Routes(Behaviour):
    """Connected routes (``DAC``) for every enabled address; a static route is
    active when its gateway is reachable and it is the best (lowest distance)
    route to its destination in its table."""

    paths = ("/ip/route",)

    def __init__(self, sim: Any):
        super().__init__(sim)
        self._cache: Tuple[Any, Dict[str, Any]] = (None, {})

    def _table(self) -> Dict[str, Any]:
        key = (self.router.store.revision, int(self.sim.now()))
        if self._cache[0] == key:
            return self._cache[1]
        connected: List[Dict[str, Any]] = []
        seen = set()
        running: Dict[str, bool] = {}
        for addr in self.router.rows("/ip/address", runtime=False):
            if addr.get("disabled") or not addr.get("address") or not addr.get("interface"):
                continue
            iface_id = addr["interface"]
            if iface_id not in running:
                running[iface_id] = _running(self.router, iface_id)
            ip = ipaddress.ip_interface(addr["address"])
            if ip.version != 4 or (str(ip.network), iface_id) in seen:
                continue
            seen.add((str(ip.network), iface_id))
            name = self.router.name_of(iface_id)
            connected.append({
                ".id": connected_route_id(addr[".id"]), "dst-address": str(ip.network), "gateway": iface_id,
                "immediate-gw": name, "distance": 0, "scope": 10, "target-scope": 5, "routing-table": "main",
                "pref-src": str(ip.ip), "active": running[iface_id], ".dynamic": True, ".connect": True,
            })
        # reachable networks by prefix length: {length: {network number: interface name}}
        nets: Dict[int, Dict[int, str]] = {}
        for c in connected:
            if c["active"]:
                net = ipaddress.IPv4Network(c["dst-address"])
                nets.setdefault(net.prefixlen, {}).setdefault(
                    int(net.network_address) >> (32 - net.prefixlen), c["immediate-gw"])
        static: Dict[str, Dict[str, Any]] = {}
        best: Dict[Tuple[str, str], Tuple[int, int, str]] = {}
        for r in connected:
            if r["active"]:
                best.setdefault(("main", r["dst-address"]), (0, -1, r[".id"]))
        m = self.router.menu("/ip/route")
        for n, item in enumerate(self.router.store.items("/ip/route")):
            view = self.router.view(m, item, runtime=False)
            reach, gw = self._reach(view, nets, running)
            static[item[".id"]] = {"immediate-gw": gw}
            if view.get("disabled") or not reach:
                continue
            dest = (view.get("routing-table") or "main", view.get("dst-address"))
            cand = (view.get("distance") or 1, n, item[".id"])
            if dest not in best or cand < best[dest]:
                best[dest] = cand
        winners = {b[2] for b in best.values()}
        for rid, st in static.items():
            st["active"] = rid in winners
        table = {"connected": connected, "static": static}
        self._cache = (key, table)
        return table

    def _reach(self, view: Dict[str, Any], nets: Dict[int, Dict[int, str]],
               running: Dict[str, bool]) -> Tuple[bool, Optional[str]]:
        if view.get("blackhole"):
            return True, None
        gw = view.get("gateway")
        if not gw:
            return False, None
        if isinstance(gw, str) and gw.startswith("*"):
            if gw not in running:
                running[gw] = _running(self.router, gw)
            return running[gw], self.router.name_of(gw)
        try:
            addr = int(ipaddress.IPv4Address(gw))
        except ValueError:
            return False, None
        for length in sorted(nets, reverse=True):  # the longest matching prefix
            iface = nets[length].get(addr >> (32 - length))
            if iface is not None:
                return True, "%s%%%s" % (gw, iface)
        return False, None

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        st = self._table()["static"].get(view[".id"])
        if st is None:
            return {"active": False}
        return dict(st)

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        return [dict(r) for r in self._table()["connected"]]


# -- firewall ---------------------------------------------------------------------------

class Firewall(Behaviour):
    """Counters of enabled rules grow with the time since the rule came up;
    rules of a custom chain nothing jumps to see no packets."""

    paths = ("/ip/firewall/filter", "/ip/firewall/nat")
    BUILTIN = {"/ip/firewall/filter": ("input", "forward", "output"), "/ip/firewall/nat": ("srcnat", "dstnat")}

    def __init__(self, sim: Any):
        super().__init__(sim)
        self._cache: Dict[str, Tuple[int, set]] = {}

    def _reached(self, path: str) -> set:
        cached = self._cache.get(path)
        if cached and cached[0] == self.router.store.revision:
            return cached[1]
        reached = self._chains(path)
        self._cache[path] = (self.router.store.revision, reached)
        return reached

    def _chains(self, path: str) -> set:
        rules = [r for r in self.router.store.items(path) if not r.get("disabled")]
        reached = set(self.BUILTIN[path])
        grew = True
        while grew:
            grew = False
            for r in rules:
                if r.get("chain") in reached and r.get("action") == "jump" and r.get("jump-target") not in reached:
                    reached.add(r["jump-target"])
                    grew = True
        return reached

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        up = self.sim.uptime(view[".id"])
        if view.get("disabled") or up is None or view.get("chain") not in self._reached(path):
            return {"bytes": 0, "packets": 0}
        n = self.sim.rand("fw", view[".id"])
        pps = 0.2 + (n % 400) / 20.0
        size = 60 + (n >> 16) % 1400
        packets = int(pps * up)
        return {"bytes": packets * size, "packets": packets}


# -- DNS ---------------------------------------------------------------------------------

class Dns(Behaviour):
    """The resolver's cache fills slowly while the router runs (more so when
    it answers the network), up to cache-size."""

    paths = ("/ip/dns",)

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        boot = self.sim.boot if self.sim.boot is not None else self.sim.now()
        minutes = max(0.0, self.sim.now() - boot) / 60.0
        rate = 12 if view.get("allow-remote-requests") else 2
        size = view.get("cache-size") if isinstance(view.get("cache-size"), int) else 2048
        return {"cache-used": min(size, 9 + int(minutes * rate))}


# -- WireGuard -------------------------------------------------------------------------

class WireGuard(Behaviour):
    """Peers with an endpoint handshake a moment after they and their
    interface come up, then every two minutes, and move traffic."""

    paths = ("/interface/wireguard", "/interface/wireguard/peers")

    def peer_state(self, view: Dict[str, Any]) -> Dict[str, Any]:
        idle = {"last-handshake": None, "rx": 0, "tx": 0, "current-endpoint-address": None,
                "current-endpoint-port": None}
        iface = self.router.store.get(view.get("interface")) or {}
        if view.get("disabled") or iface.get("disabled") or not view.get("endpoint-address"):
            return idle
        start = _up_since(self.sim, view[".id"], view["interface"])
        if start is None:
            return idle
        delay = 1 + self.sim.rand("wg", view[".id"], view.get("public-key")) % 3
        up = self.sim.now() - start - delay
        if up < 0:
            return idle
        endpoint = view["endpoint-address"]
        try:
            ipaddress.ip_address(endpoint.split("@")[0])
            current = endpoint.split("@")[0]
        except ValueError:  # a host name: "resolve" it to a documentation address
            current = "203.0.113.%d" % (1 + self.sim.rand("dns", endpoint) % 254)
        rx_rate, tx_rate = self.rates(view)
        return {
            "last-handshake": int(up) % REKEY_SECONDS,
            "rx": int(rx_rate * up) + 92, "tx": int(tx_rate * up) + 148,  # + the handshake itself
            "current-endpoint-address": current,
            "current-endpoint-port": view.get("endpoint-port") or 13231,
        }

    def rates(self, view: Dict[str, Any]) -> Tuple[int, int]:
        """Bytes per second received from and sent to a connected peer."""
        n = self.sim.rand("wg", view[".id"], view.get("public-key"))
        return 100 + (n >> 8) % 5000, 100 + (n >> 24) % 5000

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        return self.peer_state(view) if path == "/interface/wireguard/peers" else {}

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]):
        from ...menus import wireguard
        if name == "show-client-config":
            view = self.router.row(path, item_id)
            return iter([{"config": wireguard.client_config(self.router, view)}])
        if name == "wg-import":
            return iter([wireguard.wg_import(self.router, *_import_text(args))])
        return None

    def interface_totals(self, iface_id: str) -> Tuple[int, int, int, int]:
        """Bytes received and sent by the peers of an interface, and the
        bytes per second they move now."""
        m = self.router.menu("/interface/wireguard/peers")
        rx = tx = rx_rate = tx_rate = 0
        for p in self.router.store.items(m.path):
            if p.get("interface") != iface_id:
                continue
            view = self.router.view(m, p, runtime=False)
            st = self.peer_state(view)
            if st["last-handshake"] is None:
                continue
            rx += st["rx"]
            tx += st["tx"]
            r, t = self.rates(view)
            rx_rate += r
            tx_rate += t
        return rx, tx, rx_rate, tx_rate


# -- interface traffic --------------------------------------------------------------------

def format_bps(bits: float) -> str:
    """A rate as RouterOS prints it: 950bps, 12.4kbps, 1.2Mbps, 2.0Gbps."""
    for unit, size in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if bits >= size:
            return "%.1f%s" % (bits / size, unit)
    return "%dbps" % int(bits)


class Traffic(Behaviour):
    """Byte and packet counters of running interfaces and ``monitor-traffic``.

    Each interface has a base rate and a slow swell from the seed; the
    counters are the exact integral of the rate, so they agree with what
    ``monitor-traffic`` reports.  WireGuard interfaces carry their peers'
    traffic only.
    """

    def __init__(self, sim: Any):
        super().__init__(sim)
        self.paths = tuple(m.path for m in self.router.interface_menus()) + ("/interface",)

    def _params(self, item_id: str, direction: str) -> Tuple[float, float, float, int]:
        n = self.sim.rand("traffic", item_id, direction)
        base = 8000 + n % (2000000 if direction == "rx" else 600000)   # bits per second
        period = 60 + (n >> 20) % 240
        phase = ((n >> 32) % 628) / 100.0
        size = 200 + (n >> 40) % 1200                                     # bytes per packet
        return float(base), float(period), phase, size

    def _running(self, path: str, view: Dict[str, Any]) -> bool:
        """Running as the interface's own view says (without asking this behaviour)."""
        has_prop = self.router.schema[path].prop("running") is not None
        state = {"running": has_prop and not view.get("disabled")}
        for b in self.sim.behaviours:
            if b is not self and path in b.paths:
                r = b.runtime(path, view)
                if "running" in r:
                    state["running"] = r["running"]
        return bool(state["running"]) and not view.get("disabled")

    def apply(self, changes: List[Change]) -> None:
        """Counting starts when an interface is added or enabled; a rename or
        an MTU change keeps the counters (kept in the sim's notes)."""
        notes = self.sim.notes.setdefault("traffic", {})
        for ch in changes:
            if ch.path not in self.paths:
                continue
            now_up = ch.after is not None and not ch.after.get("disabled")
            was_up = ch.before is not None and not ch.before.get("disabled")
            if now_up and not was_up:
                notes[ch.id] = self.sim.now()
            elif now_up and ch.id not in notes:  # changed while up: keep counting from before
                notes[ch.id] = self._start(ch.id)
            elif not now_up:
                notes.pop(ch.id, None)

    def _start(self, item_id: str) -> float:
        start = self.sim.notes.get("traffic", {}).get(item_id)
        if start is None:
            start = _up_since(self.sim, item_id)
        if start is None:
            start = self.sim.boot if self.sim.boot is not None else self.sim.now()
        return start

    def _uptime(self, item_id: str) -> float:
        return max(0.0, self.sim.now() - self._start(item_id))

    def _bytes(self, item_id: str, direction: str, t: float) -> int:
        base, period, phase, _ = self._params(item_id, direction)
        w = 2 * math.pi / period
        bits = base * (t + 0.6 / w * (math.cos(phase) - math.cos(w * t + phase)))
        return int(bits / 8)

    def _rate(self, item_id: str, direction: str, t: float) -> float:
        base, period, phase, _ = self._params(item_id, direction)
        return base * (1 + 0.6 * math.sin(2 * math.pi / period * t + phase))

    def counters(self, path: str, view: Dict[str, Any]) -> Dict[str, int]:
        iid = view[".id"]
        if not self._running(path, view):
            return {"rx-byte": 0, "tx-byte": 0, "rx-packet": 0, "tx-packet": 0}
        if path == "/interface/wireguard":
            rx, tx, _, _ = self._wireguard().interface_totals(iid)
            return {"rx-byte": rx, "tx-byte": tx, "rx-packet": rx // 180, "tx-packet": tx // 180}
        t = self._uptime(iid)
        out = {}
        for d in ("rx", "tx"):
            b = self._bytes(iid, d, t)
            out["%s-byte" % d] = b
            out["%s-packet" % d] = b // self._params(iid, d)[3]
        return out

    def _wireguard(self) -> "WireGuard":
        return next(b for b in self.sim.behaviours if isinstance(b, WireGuard))

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/interface":
            return {}
        out: Dict[str, Any] = dict(self.counters(path, view))
        out["slave"] = is_slave(self.router, view[".id"])
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]):
        if name != "monitor-traffic" or path != "/interface":
            return None
        return self._monitor(item_id)

    def _monitor(self, item_id: str) -> Iterator[Dict[str, str]]:
        while True:
            ipath = self.router.store.path_of(item_id)
            item = self.router.store.get(item_id)
            if ipath is None or item is None:
                return
            m = self.router.schema[ipath]
            view = self.router.view(m, item, runtime=False)
            row = {"name": self.router.name_of(item_id)}
            if not self._running(ipath, view):
                rates = {"rx": 0.0, "tx": 0.0}
                sizes = {"rx": 1, "tx": 1}
            elif ipath == "/interface/wireguard":
                _, _, rx_rate, tx_rate = self._wireguard().interface_totals(item_id)
                rates = {"rx": 8.0 * rx_rate, "tx": 8.0 * tx_rate}
                sizes = {"rx": 180, "tx": 180}
            else:
                t = self._uptime(item_id)
                rates = {d: self._rate(item_id, d, t) for d in ("rx", "tx")}
                sizes = {d: self._params(item_id, d)[3] for d in ("rx", "tx")}
            for d in ("rx", "tx"):
                row["%s-packets-per-second" % d] = str(int(rates[d] / 8 / sizes[d]))
                row["%s-bits-per-second" % d] = format_bps(rates[d])
            yield {k: row[k] for k in ("name", "rx-packets-per-second", "rx-bits-per-second",
                                       "tx-packets-per-second", "tx-bits-per-second")}


def _import_text(args: Dict[str, Any]) -> Tuple[str, str]:
    """The configuration text of wg-import and the argument it came from."""
    if args.get("config-string"):
        return args["config-string"], "config-string"
    if args.get("file"):
        try:
            with open(os.path.abspath(args["file"])) as fh:
                return fh.read(), "file"
        except OSError as exc:
            raise RouterError("file: cannot read %s (%s)" % (args["file"], exc.strerror), "argument", "file") from None
    raise RouterError("config-string: wg-import needs config-string= or file=", "argument", "config-string")
