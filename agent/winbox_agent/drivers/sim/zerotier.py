"""ZeroTier on the simulated device: instances, joined networks, peers, controller.

Rules of the simulation (deterministic for a seed and a clock):

- An instance gets an identity drawn from the seed when it is made.  Once
  enabled it is ``starting`` for 1 s, then ``running``; two enabled instances
  on one UDP port: the later one is in ``port-error`` (its interfaces report
  PORT_ERROR).
- A running instance knows the four PLANET roots after 2 s, with latencies
  that wander over time, and a LEAF peer for every other member of each
  network it has joined (for a network of another controller: that
  controller and up to two members).
- A joined network (``/zerotier interface``) is REQUESTING_CONFIGURATION for
  3 s after the interface or its instance came up; then:
  a network of this router's own controller is OK when the controller is
  public or this instance is an authorized member (ACCESS_DENIED otherwise;
  joining adds the member, unauthorized, as the controller would see it ask),
  and NOT_FOUND when the controller does not exist; any other network is OK,
  except that a network id ending in ``dead`` is ACCESS_DENIED and one ending
  in ``0404`` is NOT_FOUND.
- An OK network with allow-managed gets a dynamic /ip/address: from its own
  controller the member's ip-address (or one picked from ip-range, with the
  prefix length of the route that covers it), elsewhere 192.168.192.x/24.
"""

import hashlib
import ipaddress
import math
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...menus.zerotier import Millis, zt_mac
from ...store import Change
from .behaviour import Behaviour

ROOTS = (  # the PLANET roots as the document's peer listing shows them
    ("61d294b9cb", "50.7.73.34", 186),
    ("62f865ae71", "50.7.252.138", 270),
    ("778cde7190", "103.195.103.66", 132),
    ("992fcf1db7", "195.181.173.159", 34),
)
START_SECONDS = 1.0
ROOTS_AFTER = 2.0
CONFIG_SECONDS = 3.0
DEFAULT_MTU = 2800
LEAF_VERSION = "1.14.2"
ADJECTIVES = ("modest", "brave", "clever", "eager", "gentle", "happy", "jolly", "lucid", "quirky", "serene",
              "vibrant", "zealous", "nifty", "sharp", "sleepy", "trusting")
NAMES = ("metcalfe", "hopper", "lovelace", "turing", "cerf", "kahn", "postel", "baran", "davies", "ritchie",
         "thompson", "liskov", "knuth", "dijkstra", "perlman", "hamilton")


def make_identity(seed: Any, key: Any) -> str:
    """A full identity ``address:0:public:private`` drawn from the seed."""
    private = hashlib.sha512(("%s|zt-private|%s" % (seed, key)).encode()).digest()
    public = hashlib.sha512(b"public|" + private).digest()
    addr = bytearray(hashlib.sha512(public).digest()[:5])
    if addr[0] == 0xFF or not any(addr):
        addr[0] = 0x7E
    return "%s:0:%s:%s" % (addr.hex(), public.hex(), private.hex())


class ZeroTier(Behaviour):
    """Instances, networks, peers and the controller of the simulated device."""

    paths = ("/zerotier", "/zerotier/interface", "/zerotier/peer", "/zerotier/controller",
             "/zerotier/controller/member", "/ip/address", "/ip/route")

    # -- helpers ------------------------------------------------------------------
    def _view(self, path: str, item: Dict[str, Any]) -> Dict[str, Any]:
        return self.router.view(self.router.menu(path), item, runtime=False)

    def _views(self, path: str) -> List[Dict[str, Any]]:
        return [self._view(path, it) for it in self.router.store.items(path)]

    def _wave(self, key: Any, period: float) -> float:
        """A value in 0..1 that wanders smoothly with the clock."""
        step = self.sim.now() / period
        k = math.floor(step)
        a = (self.sim.rand("wave", key, k) % 1000) / 999.0
        b = (self.sim.rand("wave", key, k + 1) % 1000) / 999.0
        ease = (1 - math.cos(math.pi * (step - k))) / 2
        return a + (b - a) * ease

    def identity(self, view: Dict[str, Any]) -> str:
        """The instance's identity: the one set, else the one drawn for it when it was made."""
        return view.get("identity") or make_identity(self.sim.seed, view[".id"])

    def address(self, view: Optional[Dict[str, Any]]) -> Optional[str]:
        return self.identity(view).split(":", 1)[0] if view else None

    def instance_state(self, view: Dict[str, Any]) -> str:
        if view.get("disabled"):
            return "disabled"
        for other in self._views("/zerotier"):
            if other[".id"] == view[".id"]:
                break
            if not other.get("disabled") and other.get("port") == view.get("port"):
                return "port-error"
        up = self.sim.uptime(view[".id"])
        return "running" if up is not None and up >= START_SECONDS else "starting"

    def _instance(self, instance_id: Any) -> Optional[Dict[str, Any]]:
        it = self.router.store.get(instance_id) if isinstance(instance_id, str) else None
        return self._view("/zerotier", it) if it is not None else None

    def controller_of(self, network: str) -> Optional[Dict[str, Any]]:
        for c in self._views("/zerotier/controller"):
            if c.get("network") == network:
                return c
        return None

    def _own_addresses(self) -> Dict[str, str]:
        return {self.address(v): v[".id"] for v in self._views("/zerotier") if self.address(v)}

    def _members(self, ctrl_id: str) -> List[Dict[str, Any]]:
        return [m for m in self._views("/zerotier/controller/member") if m.get("network") == ctrl_id]

    # -- networks ---------------------------------------------------------------------
    def status(self, view: Dict[str, Any]) -> Optional[str]:
        """The join status of a /zerotier/interface item (None while it cannot run)."""
        if view.get("disabled"):
            return None
        inst = self._instance(view.get("instance"))
        if inst is None:
            return None
        state = self.instance_state(inst)
        if state == "disabled":
            return None
        if state == "port-error":
            return "PORT_ERROR"
        ups = [self.sim.uptime(view[".id"]), self.sim.uptime(inst[".id"])]
        if any(u is None or u < CONFIG_SECONDS for u in ups):
            return "REQUESTING_CONFIGURATION"
        nwid = view.get("network") or ""
        own = self._own_addresses()
        if nwid[:10] in own:
            ctrl = self.controller_of(nwid)
            if ctrl is None:
                return "NOT_FOUND"
            host = self._instance(ctrl.get("instance"))
            if ctrl.get("disabled") or host is None or self.instance_state(host) != "running":
                return "REQUESTING_CONFIGURATION"
            if not ctrl.get("private"):
                return "OK"
            me = self.address(inst)
            ok = any(m.get("zt-address") == me and m.get("authorized") and not m.get("disabled")
                     for m in self._members(ctrl[".id"]))
            return "OK" if ok else "ACCESS_DENIED"
        if nwid.endswith("dead"):
            return "ACCESS_DENIED"
        if nwid.endswith("0404"):
            return "NOT_FOUND"
        return "OK"

    def network_name(self, nwid: str) -> str:
        ctrl = self.controller_of(nwid)
        if ctrl is not None:
            return ctrl.get("name") or ""
        n = self.sim.rand("zt-name", nwid)
        return "%s_%s" % (ADJECTIVES[n % len(ADJECTIVES)], NAMES[(n >> 8) % len(NAMES)])

    def assignments(self, ctrl: Dict[str, Any]) -> Dict[str, str]:
        """Member id -> address picked from the controller's ip-range for members without one."""
        rng = ctrl.get("ip-range")
        if not rng:
            return {}
        lo, hi = (int(ipaddress.ip_address(a)) for a in rng.split("-"))
        size = hi - lo + 1
        members = [m for m in self._members(ctrl[".id"]) if not m.get("disabled")]
        taken = {ip for m in members for ip in (m.get("ip-address") or [])}
        out = {}
        for m in members:
            if m.get("ip-address"):
                continue
            start = self.sim.rand("zt-ip", ctrl.get("network"), m.get("zt-address")) % size
            for k in range(min(size, 4096)):
                ip = str(ipaddress.ip_address(lo + (start + k) % size))
                if ip not in taken:
                    taken.add(ip)
                    out[m[".id"]] = ip
                    break
        return out

    def managed_address(self, view: Dict[str, Any]) -> Optional[str]:
        """The address (with prefix length) the network gives this interface, if any."""
        inst = self._instance(view.get("instance"))
        me = self.address(inst)
        nwid = view.get("network") or ""
        ctrl = self.controller_of(nwid)
        if ctrl is None:
            return "192.168.192.%d/24" % (1 + self.sim.rand("zt-ext-ip", nwid, me) % 254)
        member = next((m for m in self._members(ctrl[".id"]) if m.get("zt-address") == me), None)
        if member is None:
            return None
        ips = member.get("ip-address") or []
        ip = ips[0] if ips else self.assignments(ctrl).get(member[".id"])
        if ip is None or ipaddress.ip_address(ip).version != 4:
            return None
        plen = ipaddress.ip_address(ip).max_prefixlen
        for r in ctrl.get("routes") or []:
            net = ipaddress.ip_network(r.split("@")[0])
            if "@" not in r and ipaddress.ip_address(ip) in net:
                plen = net.prefixlen
                break
        return "%s/%d" % (ip, plen)

    # -- peers ----------------------------------------------------------------------------
    def _path(self, key: Any, endpoint: str) -> str:
        now_ms = int(self.sim.now() * 1000)
        recvd = (now_ms + self.sim.rand("zt-recvd", key)) % 5000 + 200
        sent = (now_ms + self.sim.rand("zt-sent", key)) % 10000 + 200
        return "active,preferred,%s,recvd:%s,sent:%s" % (endpoint, Millis().format(recvd), Millis().format(sent))

    def _leaf_endpoint(self, addr: str) -> str:
        n = self.sim.rand("zt-leaf-ip", addr)
        return "203.0.113.%d/%d" % (1 + n % 254, 20000 + (n >> 8) % 40000)

    def peers(self) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for inst in self._views("/zerotier"):
            if self.instance_state(inst) != "running" or (self.sim.uptime(inst[".id"]) or 0) < ROOTS_AFTER:
                continue
            found: List[Tuple[str, str, int, str, str]] = []
            for addr, ip, base in ROOTS:
                found.append((addr, "PLANET", base, "%s/9993" % ip, ""))
            me = self.address(inst)
            seen = {me} | {r[0] for r in ROOTS}
            for iface in self._views("/zerotier/interface"):
                if iface.get("instance") != inst[".id"] or self.status(iface) != "OK":
                    continue
                for addr in self._leaves(iface.get("network") or ""):
                    if addr not in seen:
                        seen.add(addr)
                        base = 8 + self.sim.rand("zt-leaf-latency", addr) % 120
                        found.append((addr, "LEAF", base, self._leaf_endpoint(addr), LEAF_VERSION))
            for addr, role, base, endpoint, version in found:
                key = (inst[".id"], addr)
                latency = int(base * (0.85 + 0.3 * self._wave(key, 7.0)))
                out.append({".id": "*%X" % (0x7E000000 | (self.sim.rand("zt-peer", *key) & 0xFFFFFF)),
                            "instance": inst[".id"], "zt-address": addr, "latency": latency, "role": role,
                            "path": self._path(key, endpoint), "version": version, ".dynamic": False})
        return out

    def _leaves(self, nwid: str) -> List[str]:
        ctrl = self.controller_of(nwid)
        if ctrl is not None:
            return [m["zt-address"] for m in self._members(ctrl[".id"])
                    if m.get("authorized") and not m.get("disabled") and m.get("zt-address")]
        n = self.sim.rand("zt-members", nwid)
        extra = ["%010x" % (self.sim.rand("zt-member", nwid, k) & 0xFEFFFFFFFF) for k in range(n % 3)]
        return [nwid[:10]] + extra

    # -- driver hooks -------------------------------------------------------------------------
    def factory(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path == "/zerotier" and ch.after is not None:
                ch.after.setdefault("identity", make_identity(self.sim.seed, ch.id))

    def apply(self, changes: List[Change]) -> None:
        for ch in list(changes):
            if ch.after is None:
                continue
            if ch.path == "/zerotier":
                if ch.before is None and not ch.after.get("identity"):
                    ch.after["identity"] = make_identity(self.sim.seed, ch.id)
                was = (ch.before or {}).get("disabled", False)
                now = ch.after.get("disabled", False)
                if ch.before is not None and was != now:
                    self.sim.log("zerotier,info", "%s: instance %s" % (ch.after.get("name"),
                                                                      "stopped" if now else "started"))
            elif ch.path == "/zerotier/controller":
                self._fill_network(ch, changes)
            elif ch.path == "/zerotier/interface":
                self._join_own(ch, changes)

    def _fill_network(self, ch: Change, changes: List[Change]) -> None:
        addr = self.address(self._instance(ch.after.get("instance")))
        if addr is None:
            return
        net = ch.after.get("network")
        if net and net.startswith(addr):
            return
        taken = {c.get("network") for c in self._views("/zerotier/controller") if c[".id"] != ch.id}
        taken |= {c.after.get("network") for c in changes if c.path == ch.path and c.after and c.id != ch.id}
        suffix = net[10:] if net else "%06x" % (self.sim.rand("zt-nwid", ch.id) & 0xFFFFFF)
        while addr + suffix in taken:
            suffix = "%06x" % ((int(suffix, 16) + 1) & 0xFFFFFF)
        ch.after["network"] = addr + suffix

    def _join_own(self, ch: Change, changes: List[Change]) -> None:
        """Joining a network of our own controller: the controller sees us ask (a new member)."""
        nwid = ch.after.get("network")
        if not nwid or (ch.before or {}).get("network") == nwid and (ch.before or {}).get("instance") == \
                ch.after.get("instance"):
            return
        ctrl = self.controller_of(nwid)
        me = self.address(self._instance(ch.after.get("instance")))
        if ctrl is None or me is None:
            return
        if any(m.get("zt-address") == me for m in self._members(ctrl[".id"])):
            return
        if any(c.path == "/zerotier/controller/member" and c.after and c.after.get("network") == ctrl[".id"]
               and c.after.get("zt-address") == me for c in changes):
            return
        changes.append(Change("/zerotier/controller/member", self.router.store.new_id(), None,
                              {"network": ctrl[".id"], "zt-address": me}))

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/zerotier":
            state = self.instance_state(view)
            out = {"state": state, "running": state == "running"}
            if not view.get("identity"):  # unset: the identity drawn when it was made
                ident = self.identity(view)
                out.update({"identity": ident, "identity.public": ":".join(ident.split(":")[:3])})
            return out
        if path == "/zerotier/interface":
            status = self.status(view)
            nwid = view.get("network") or ""
            inst = self._instance(view.get("instance"))
            me = self.address(inst)
            ctrl = self.controller_of(nwid)
            out: Dict[str, Any] = {"status": status, "mac-address": zt_mac(me, nwid) if me and nwid else None,
                                   "mtu": (ctrl or {}).get("mtu") or DEFAULT_MTU,
                                   "network-name": self.network_name(nwid) if status == "OK" else ""}
            forced = view.get("disable-running-check") and status not in (None, "PORT_ERROR")
            out["running"] = status == "OK" or bool(forced)
            return out
        if path == "/zerotier/controller/member":
            out = {}
            ctrl_item = self.router.store.get(view.get("network") or "")
            if ctrl_item is not None and not view.get("ip-address"):
                ip = self.assignments(self._view("/zerotier/controller", ctrl_item)).get(view[".id"])
                if ip:
                    out["ip-address"] = [ip]
            if not view.get("disabled") and ctrl_item is not None:
                host = self._instance(ctrl_item.get("instance"))
                if host is not None and self.instance_state(host) == "running":
                    out["last-seen"] = (int(self.sim.now() * 1000) + self.sim.rand("zt-seen", view[".id"])) % 9000
            return out
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path == "/zerotier/peer":
            return self.peers()
        if path in ("/ip/address", "/ip/route"):
            out = []
            for iface in self._views("/zerotier/interface"):
                if not iface.get("allow-managed") or self.status(iface) != "OK":
                    continue
                if path == "/ip/address":
                    addr = self.managed_address(iface)
                    if addr:
                        out.append({".id": self._dyn_id("zt-addr", iface[".id"]), "address": addr,
                                    "interface": iface[".id"]})
                else:
                    out.extend(self.pushed_routes(iface))
            return out
        return []

    def _dyn_id(self, *key: Any) -> str:
        return "*%X" % (0x7D000000 | (self.sim.rand(*key) & 0xFFFFFF))

    def pushed_routes(self, iface: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Routes via a gateway that our own controller pushes on a network (``Dst@Gw``)."""
        ctrl = self.controller_of(iface.get("network") or "")
        mine = self.managed_address(iface) if ctrl is not None else None
        subnet = ipaddress.ip_interface(mine).network if mine else None
        out = []
        for r in (ctrl or {}).get("routes") or []:
            dst, _, gw = r.partition("@")
            if gw and ipaddress.ip_network(dst).version == 4:
                if ipaddress.ip_network(dst).prefixlen == 0 and not iface.get("allow-default"):
                    continue
                out.append({".id": self._dyn_id("zt-route", iface[".id"], r), "dst-address": dst,
                            "gateway": gw, "distance": 1,
                            "active": subnet is not None and ipaddress.ip_address(gw) in subnet})
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        return None
