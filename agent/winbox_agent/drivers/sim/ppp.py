"""PPP on the simulated router: clients dialing out, the router's own servers'
sessions, and DHCPv6 prefix delegation over them.

The world outside the router:

- every Ethernet port ``etherN`` (by default-name) has an access concentrator
  upstream named ``isp-etherN`` offering the service ``internet`` from a MAC
  derived from the seed, with its end of the link at ``100.64.0.N``; it also
  delegates an IPv6 /56 to DHCPv6 clients;
- every connect-to address of an L2TP, PPTP, SSTP or OVPN client answers as a
  server of that kind.

A link's life is computed, never stored: it starts when the link or what it
runs on was last enabled or changed (``sim.since``), dials for a second,
verifies the password for a second and is connected, or fails with a reason.
So separate CLI runs agree, and a Router with a stepped clock sees every
stage.  What happened is written to the log (``sim.log``) by a
:class:`~.ppp_journal.Journal`, stamped with the time it happened.
"""

import ipaddress
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...errors import RouterError
from ...ovpnconf import import_configuration
from ...store import Change
from ...types import format_duration
from .behaviour import Behaviour
from .ppp_journal import Event, Journal, Link

PPPOE = "/interface/pppoe-client"
TUNNELS = {"/interface/l2tp-client": "l2tp", "/interface/pptp-client": "pptp",
           "/interface/sstp-client": "sstp", "/interface/ovpn-client": "ovpn"}
SERVERS = {"pppoe": "/interface/pppoe-server/server", "l2tp": "/interface/l2tp-server/server",
           "pptp": "/interface/pptp-server/server", "sstp": "/interface/sstp-server/server",
           "ovpn": "/interface/ovpn-server/server"}
BINDINGS = {"/interface/%s-server" % svc: svc for svc in SERVERS}
ACTIVE = "/ppp/active"
DHCP6 = "/ipv6/dhcp-client"
POOL6 = "/ipv6/pool"

DIAL_TIME = 1.0          # dialing / connecting...
AUTH_TIME = 1.0          # verifying password...
BIND_TIME = 1.0          # DHCPv6 searching...
LEASE = 86400            # delegated prefixes' lifetime, renewed at half
UPSTREAM_MTU = {"pppoe": 1480, "l2tp": 1450, "pptp": 1450, "sstp": 1500, "ovpn": 1500}
DYNAMIC_BASE = {ACTIVE: 0x80000000, POOL6: 0x90000000}
DYNAMIC_BASE.update({path: 0xA0000000 + 0x1000000 * n for n, path in enumerate(sorted(BINDINGS))})


class Plan:
    """How one link goes from ``start``: its statuses, then connected or failed.

    Attributes:
        phases: ``[(status, seconds)]`` gone through before the outcome.
        reason: why it failed (None: it connects).
        connected_at / failed_at: when the outcome is reached.
        info: values shown while connected (addresses, mtu, encoding...).
    """

    def __init__(self, start: float, phases: List[Tuple[str, float]], reason: Optional[str] = None,
                 info: Optional[Dict[str, Any]] = None):
        self.start = start
        self.phases = phases
        self.reason = reason
        self.info = info or {}
        end = start + sum(d for _, d in phases)
        self.connected_at = end if reason is None else None
        self.failed_at = end if reason is not None else None

    def status(self, now: float) -> str:
        t = self.start
        for status, seconds in self.phases:
            if now < t + seconds:
                return status
            t += seconds
        return "connected" if self.reason is None else "disconnected"

    def connected(self, now: float) -> bool:
        return self.connected_at is not None and now >= self.connected_at

    def phase(self, now: float) -> int:
        """How many phases are over."""
        t, n = self.start, 0
        for _, seconds in self.phases:
            if now < t + seconds:
                break
            t += seconds
            n += 1
        return n


class Ppp(Behaviour):
    """PPPoE/L2TP/PPTP/SSTP/OVPN clients, /ppp active sessions, DHCPv6 PD."""

    paths = (PPPOE,) + tuple(TUNNELS) + (ACTIVE, DHCP6, POOL6) + tuple(BINDINGS)

    def __init__(self, sim: Any):
        super().__init__(sim)
        self.journal = Journal(sim, "ppp", self.link, self.every_link, self._allocate)
        self._cache: Dict[Any, Any] = {}
        self._cache_rev = -1
        self._addresses: Dict[str, str] = {}
        self._marks: Tuple[Any, Dict[str, int]] = (None, {})
        self.router.listeners.append(self._committed)

    def _cached(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per configuration revision."""
        if self._cache_rev != self.router.store.revision:
            self._cache = {}
            self._cache_rev = self.router.store.revision
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # -- small helpers -----------------------------------------------------------------------------
    def _now(self) -> float:
        return self.sim.now()

    def _boot(self) -> float:
        return self.sim.boot if self.sim.boot is not None else 0.0

    def _up_since(self, *item_ids: str) -> float:
        return max([self.sim.since.get(i, self._boot()) for i in item_ids] + [self._boot()])

    def _view(self, item_id: str) -> Optional[Dict[str, Any]]:
        item = self.router.store.get(item_id)
        if item is None:
            return None
        m = self.router.schema[self.router.store.path_of(item_id)]
        return self.router.view(m, item, runtime=False)

    def _views(self, path: str) -> List[Dict[str, Any]]:
        if path not in self.router.schema:
            return []
        m = self.router.schema[path]
        return [self.router.view(m, it, runtime=False) for it in self.router.store.items(path)]

    def _name(self, item_id: str) -> str:
        return self.router.name_of(item_id)

    def _enabled(self, view: Optional[Dict[str, Any]]) -> bool:
        return view is not None and not view.get("disabled", False) and view.get("enabled", True) is not False

    def _address(self, item_id: str) -> str:
        """A client's address in 100.65.0.0-100.127.255.255 (shared address space)."""
        if item_id not in self._addresses:
            base = int(ipaddress.IPv4Address("100.65.0.0"))
            span = int(ipaddress.IPv4Address("100.128.0.0")) - base
            n = base + self.sim.rand("ppp-address", item_id) % span
            if n & 0xFF in (0, 255):
                n ^= 1
            self._addresses[item_id] = str(ipaddress.IPv4Address(n))
        return self._addresses[item_id]

    def _profile(self, ref: Any) -> Dict[str, Any]:
        """The view of a profile reference (a factory profile's name or an id)."""
        def index() -> Dict[str, Dict[str, Any]]:
            out = {}
            for view in self._views("/ppp/profile"):
                out[view[".id"]] = view
                if view.get(".factory"):
                    out[view.get("name")] = view
            return out
        return self._cached("profiles", index).get(ref, {})

    def _profile_value(self, ref: Any, prop: str) -> Any:
        """A profile's value where ``default`` means the default profile's."""
        value = self._profile(ref).get(prop)
        if value == "default":
            value = self._profile("default").get(prop)
        return "no" if value in (None, "default") else value

    def _encoding(self, proto: str, view: Dict[str, Any]) -> str:
        if proto == "sstp":
            return "AES256-GCM-SHA384" if "aes256-gcm-sha384" in (view.get("ciphers") or []) else "AES256-SHA"
        if proto == "ovpn":
            cipher = str(view.get("cipher", ""))
            if cipher == "blowfish128":
                cipher = "BF-128-CBC"
            elif cipher.startswith("aes"):
                cipher = "AES-%s-%s" % (cipher[3:6], cipher[7:].upper())
            return "%s/%s" % (cipher.upper(), str(view.get("auth", "")).upper())
        if self._profile_value(view.get("profile"), "use-encryption") in ("yes", "required"):
            return "MPPE128 stateless"
        return ""

    # -- the upstream on the Ethernet ports -----------------------------------------------------------
    def upstream(self, iface_id: str) -> Optional[Dict[str, str]]:
        """The access concentrator on an enabled Ethernet port, or None."""
        return self._cached(("upstream", iface_id), lambda: self._upstream(iface_id))

    def _upstream(self, iface_id: str) -> Optional[Dict[str, str]]:
        if self.router.store.path_of(iface_id) != "/interface/ethernet":
            return None
        view = self._view(iface_id)
        if not self._enabled(view):
            return None
        port = view.get("default-name") or view.get("name")
        digits = re.sub(r"\D", "", port) or "1"
        return {"service": "internet", "ac-name": "isp-" + port, "mac-address": self.sim.mac("isp", port),
                "gateway": "100.64.0.%d" % (int(digits) % 254 or 254)}

    # -- plans of the links --------------------------------------------------------------------------
    def pppoe_plan(self, view: Dict[str, Any]) -> Optional[Plan]:
        if not self._enabled(view):
            return None
        ifaces = list(view.get("interface") or [])
        up = [i for i in ifaces if self._enabled(self._view(i))]
        if not up:
            return Plan(self._up_since(view[".id"]), [],
                        "interface %s is disabled" % ", ".join(self._name(i) for i in ifaces))
        start = self._up_since(view[".id"], *up)
        dialing = [("dialing", DIAL_TIME)]
        service, ac_name = view.get("service-name") or "", view.get("ac-name") or ""
        acs = []
        for i in up:
            ac = self.upstream(i)
            if ac and service in ("", ac["service"]) and ac_name in ("", ac["ac-name"]):
                acs.append(ac)
        if not acs:
            wanted = " ".join("%s=%s" % (k, v) for k, v in (("service-name", service), ("ac-name", ac_name)) if v)
            return Plan(start, dialing, "no access concentrator answered" + (" for " + wanted if wanted else ""))
        ac = acs[0]
        info = {
            "active-links": len(acs), "encoding": self._encoding("pppoe", view),
            "service-name": ac["service"], "ac-name": ac["ac-name"], "ac-mac": ac["mac-address"],
            "mtu": self._mtu(view.get("max-mtu"), "pppoe"), "mru": self._mtu(view.get("max-mru"), "pppoe"),
            "local-address": self._address(view[".id"]), "remote-address": ac["gateway"],
        }
        phases = dialing + [("verifying password...", AUTH_TIME)]
        if not view.get("user") or not view.get("password") or not view.get("allow"):
            return Plan(start, phases, "authentication failed", info)
        return Plan(start, phases, None, info)

    @staticmethod
    def _mtu(value: Any, proto: str) -> int:
        top = UPSTREAM_MTU[proto]
        return min(value, top) if isinstance(value, int) else top

    def tunnel_plan(self, proto: str, view: Dict[str, Any]) -> Optional[Plan]:
        if not self._enabled(view):
            return None
        start = self._up_since(view[".id"])
        connecting = [("connecting...", DIAL_TIME)]
        if proto in ("sstp", "ovpn") and view.get("verify-server-certificate"):
            return Plan(start, connecting, "unable to get issuer certificate locally")
        if proto == "l2tp" and view.get("use-ipsec") and not view.get("ipsec-secret"):
            return Plan(start, connecting, "IPsec: ipsec-secret is empty")
        phases = connecting + [("verifying password...", AUTH_TIME)]
        if not view.get("user") or not view.get("password") or view.get("allow", ["pap"]) == [] \
                or view.get("authentication", ["pap"]) == []:
            return Plan(start, phases, "authentication failed")
        server = str(view.get("connect-to", "")).split("@")[0]
        info = {
            "encoding": self._encoding(proto, view),
            "mtu": self._mtu(view.get("max-mtu"), proto),
            "mru": self._mtu(view.get("max-mru", view.get("max-mtu")), proto),
            "local-address": self._address(view[".id"]),
            "remote-address": "100.64.1.%d" % (self.sim.rand("tunnel-server", proto, server) % 254 + 1),
        }
        return Plan(start, phases, None, info)

    def client_plan(self, path: str, view: Dict[str, Any]) -> Optional[Plan]:
        if path == PPPOE:
            return self.pppoe_plan(view)
        return self.tunnel_plan(TUNNELS[path], view)

    def clients(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
        for path in (PPPOE,) + tuple(TUNNELS):
            for view in self._views(path):
                yield path, view

    # -- the router's own servers --------------------------------------------------------------------
    def _server(self, service: str) -> Optional[Tuple[str, str, List[str]]]:
        """(service, server id, ids it depends on) of the first enabled server of a service."""
        return self._cached(("server", service), lambda: self._find_server(service))

    def _find_server(self, service: str) -> Optional[Tuple[str, str, List[str]]]:
        services = ("pppoe", "l2tp", "pptp", "sstp", "ovpn") if service == "any" else (service,)
        for svc in services:
            path = SERVERS.get(svc)
            for view in self._views(path) if path else []:
                if not self._enabled(view):
                    continue
                deps = [view[".id"]]
                if svc == "pppoe":
                    if not self._enabled(self._view(view.get("interface") or "")):
                        continue
                    deps.append(view["interface"])
                return svc, view[".id"], deps
        return None

    def session(self, secret: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The session of a secret when one of the router's servers takes it, or None."""
        if not self._enabled(secret):
            return None
        found = self._server(secret.get("service", "any"))
        if found is None:
            return None
        svc, server_id, deps = found
        start = self._up_since(secret[".id"], *deps)
        profile = secret.get("profile") or "default"
        if svc == "pppoe":
            caller = secret.get("caller-id") or self.sim.mac("ppp-peer", secret[".id"])
        else:
            caller = secret.get("caller-id") or "198.51.100.%d" % (self.sim.rand("peer", secret[".id"]) % 254 + 1)
        if svc == "sstp":
            encoding = "AES256-GCM-SHA384"
        elif svc == "ovpn":
            server = self._view(server_id) or {}
            encoding = self._encoding("ovpn", {"cipher": (server.get("cipher") or ["aes128-cbc"])[0],
                                               "auth": (server.get("auth") or ["sha1"])[0]})
        else:
            encoding = "MPPE128 stateless" if self._profile_value(profile, "use-encryption") in (
                "yes", "required") else ""
        mtu = (self._view(server_id) or {}).get("max-mtu")
        return {"secret": secret, "service": svc, "start": start, "connected_at": start + DIAL_TIME + AUTH_TIME,
                "caller-id": caller, "encoding": encoding, "mtu": self._mtu(mtu, svc),
                "pool": secret.get("remote-address") or self._profile(profile).get("remote-address") or "",
                "session-id": "0x%08X" % (0x81000000 + self.sim.rand("session", secret[".id"], start) % 0xFFFFFF)
                if svc == "pppoe" else ""}

    # -- pools --------------------------------------------------------------------------------------
    def _pool_ranges(self, pool_id: str) -> List[Tuple[int, int]]:
        """The addresses of a pool and the pools after it (next-pool), as integer ranges."""
        def compute() -> List[Tuple[int, int]]:
            out: List[Tuple[int, int]] = []
            seen, current = set(), pool_id
            while current and current.startswith("*") and current not in seen:
                seen.add(current)
                pool = self._view(current)
                if pool is None:
                    break
                for part in pool.get("ranges") or []:
                    if "-" in part:
                        lo, hi = (int(ipaddress.ip_address(p)) for p in part.split("-"))
                    else:
                        net = ipaddress.ip_network(part)
                        lo, hi = int(net.network_address), int(net.broadcast_address)
                        if net.num_addresses > 2:
                            lo, hi = lo + 1, hi - 1
                    out.append((lo, hi))
                current = pool.get("next-pool")
            return out
        return self._cached(("pool", pool_id), compute)

    def _allocate(self, pool_id: str, taken: set) -> Optional[str]:
        """The lowest address of the pool (or its next pools) nobody holds."""
        ranges = self._pool_ranges(pool_id)
        if self._marks[0] != self.journal.freed:
            self._marks = (self.journal.freed, {})
        mark = self._marks[1].get(pool_id)
        skip = mark[1] if mark and mark[0] == ranges else 0     # addresses before this index are taken
        index = 0
        for lo, hi in ranges:
            size = hi - lo + 1
            if skip >= index + size:
                index += size
                continue
            for n in range(lo + max(0, skip - index), hi + 1):
                address = str(ipaddress.ip_address(n))
                if address not in taken:
                    self._marks[1][pool_id] = (ranges, index + (n - lo) + 1)
                    return address
            index += size
        self._marks[1][pool_id] = (ranges, index)
        return None

    # -- DHCPv6 prefix delegation -----------------------------------------------------------------------
    def dhcp_plan(self, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if not self._enabled(view):
            return None
        iface = view.get("interface")
        path = self.router.store.path_of(iface) if iface else None
        link_up: Optional[float] = None
        if path == PPPOE:
            plan = self.pppoe_plan(self._view(iface) or {})
            link_up = plan.connected_at if plan else None
        elif path == "/interface/ethernet" and self._enabled(self._view(iface)):
            link_up = self._up_since(iface)
        renewed = self.sim.notes.get("ppp-dhcp6-renew", {}).get(view[".id"], 0.0)
        start = max(self._up_since(view[".id"]), link_up or 0.0, renewed)
        r = self.sim.rand("pd", iface)
        prefix = "2001:db8:%x:%x00::/56" % (r & 0xFFFF or 1, (r >> 16) & 0xFF)
        plan = {"start": start, "link": link_up is not None, "bound_at": start + BIND_TIME, "prefix": prefix,
                "server": "fe80::%x:%xff:fe00:1" % ((r >> 24) & 0xFFFF, (r >> 40) & 0xFF),
                "error": None}
        if view.get("pool-prefix-length", 64) < 56 and "prefix" in (view.get("request") or []):
            plan["error"] = "pool-prefix-length %d is shorter than the delegated /56" % view["pool-prefix-length"]
        if "address" in (view.get("request") or []):
            plan["address"] = "2001:db8:%x::%x/128" % (r & 0xFFFF or 1, (r >> 48) & 0xFFF or 2)
        return plan

    def dhcp_status(self, plan: Optional[Dict[str, Any]], now: float) -> str:
        if plan is None:
            return "stopped"
        if not plan["link"] or now < plan["bound_at"]:
            return "searching..."
        return "error" if plan["error"] else "bound"

    # -- the log: one Link per client, session and DHCPv6 binding ------------------------------------------------
    def link(self, lid: str) -> Optional[Link]:
        kind, _, item_id = lid.partition(":")
        view = self._view(item_id)
        if view is None:
            return None
        path = self.router.store.path_of(item_id)
        if kind == "client" and (path == PPPOE or path in TUNNELS):
            return self._client_link(path, view)
        if kind == "active" and path == "/ppp/secret":
            return self._session_link(view)
        if kind == "dhcp6" and path == DHCP6:
            return self._dhcp_link(view)
        return None

    def _client_link(self, path: str, view: Dict[str, Any]) -> Optional[Link]:
        plan = self.client_plan(path, view)
        if plan is None:
            return None
        proto = "pppoe" if path == PPPOE else TUNNELS[path]
        name = view.get("name") or view[".id"]
        info, error = "%s,ppp,info" % proto, "%s,ppp,error" % proto
        events = []
        if plan.phases:
            events += [Event(plan.start, info, "%s: initializing..." % name, True),
                       Event(plan.start, info, "%s: connecting..." % name)]
        if plan.reason is None:
            events += [Event(plan.connected_at, info, "%s: authenticated" % name),
                       Event(plan.connected_at, info, "%s: connected" % name)]
        else:
            events.append(Event(plan.failed_at, error, "%s: disconnected <%s>" % (name, plan.reason), False))
        return Link(repr((plan.start, plan.reason, name)), events, (info, "%s: disconnected" % name))

    def _session_link(self, secret: Dict[str, Any]) -> Optional[Link]:
        s = self.session(secret)
        if s is None:
            return None
        info = "%s,ppp,info" % s["service"]
        login = "%s logged in{address} from %s" % (secret["name"], s["caller-id"])
        return Link(repr((s["start"], s["service"], secret["name"], s["pool"])),
                    [Event(s["connected_at"], info, login, True)], (info, "%s logged out" % secret["name"]), s["pool"])

    def _dhcp_link(self, view: Dict[str, Any]) -> Optional[Link]:
        plan = self.dhcp_plan(view)
        if plan is None or not plan["link"]:
            return None
        iface = self._name(view["interface"])
        if plan["error"]:
            event = Event(plan["bound_at"], "dhcp,error", "dhcp6 client on %s: %s" % (iface, plan["error"]))
        else:
            event = Event(plan["bound_at"], "dhcp,info", "dhcp6 client on %s got prefix %s" % (iface, plan["prefix"]),
                          True)
        return Link(repr((plan["start"], plan["prefix"], plan["error"])), [event],
                    ("dhcp,info", "dhcp6 client on %s released prefix %s" % (iface, plan["prefix"])))

    def every_link(self) -> List[str]:
        store = self.router.store
        lids = ["client:" + it[".id"] for path in (PPPOE,) + tuple(TUNNELS) for it in store.items(path)]
        lids += ["active:" + it[".id"] for it in store.items("/ppp/secret")]
        lids += ["dhcp6:" + it[".id"] for it in store.items(DHCP6)]
        return lids

    def _touched(self, changes: List[Change]) -> set:
        """The links a revision may have changed."""
        store = self.router.store
        touched = set()
        all_sessions = False
        for ch in changes:
            if ch.path == PPPOE or ch.path in TUNNELS:
                touched.add("client:" + ch.id)
                touched |= self._dhcp_on(ch.id)
            elif ch.path == "/interface/ethernet":
                for it in store.items(PPPOE):
                    if ch.id in (it.get("interface") or []):
                        touched.add("client:" + it[".id"])
                        touched |= self._dhcp_on(it[".id"])
                touched |= self._dhcp_on(ch.id)
                all_sessions = True     # a PPPoE server may run on the port
            elif ch.path == "/ppp/secret":
                touched.add("active:" + ch.id)
            elif ch.path in SERVERS.values() or ch.path in ("/ppp/profile", "/ip/pool"):
                all_sessions = True
            elif ch.path == DHCP6:
                touched.add("dhcp6:" + ch.id)
        if all_sessions:
            touched |= {"active:" + it[".id"] for it in store.items("/ppp/secret")}
            touched |= {lid for lid in self.sim.notes.get("ppp", {}).get("links", {}) if lid.startswith("active:")}
        return touched

    def _dhcp_on(self, iface_id: str) -> set:
        return {"dhcp6:" + it[".id"] for it in self.router.store.items(DHCP6) if it.get("interface") == iface_id}

    def _committed(self, revision: int, changes: List[Change]) -> None:
        self.journal.settle(self._touched(changes), revision)

    def settle(self) -> None:
        """Write the log lines of what happened by now (links coming up, failing)."""
        self.journal.settle(revision=self.router.store.revision)

    def _session_address(self, secret_id: str) -> Optional[str]:
        rec = self.journal.record("active:" + secret_id)
        return rec.get("address") if rec else None

    # -- Behaviour interface ----------------------------------------------------------------------------
    def apply(self, changes: List[Change]) -> None:
        self.settle()       # what happened before this revision, under the configuration it happened with

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        self.settle()
        now = self._now()
        if path == DHCP6:
            return self._dhcp_runtime(view, now)
        if path in BINDINGS:
            return self._binding_runtime(path, view, now)
        if path not in TUNNELS and path != PPPOE:
            return {}
        plan = self.client_plan(path, view)
        out: Dict[str, Any] = {"running": False, "status": None, "uptime": None, "encoding": None,
                               "local-address": None, "remote-address": None}
        if path == PPPOE:
            out["ac-mac"] = None
            out["invalid"] = bool(view.get("interface")) and not any(
                self._enabled(self._view(i)) for i in view.get("interface") or [])
        if plan is None:
            return out
        out["status"] = plan.status(now)
        if plan.connected(now):
            out.update({"running": True, "uptime": int(now - plan.connected_at),
                        "encoding": plan.info["encoding"], "local-address": plan.info["local-address"],
                        "remote-address": plan.info["remote-address"], "actual-mtu": plan.info["mtu"]})
            if path == PPPOE:
                out["ac-mac"] = plan.info["ac-mac"]
        return out

    def _connected_sessions(self, service: str, now: float) -> Dict[str, Dict[str, Any]]:
        """User name -> session of the users connected to a service's server now."""
        out = {}
        for secret in self._views("/ppp/secret"):
            s = self.session(secret)
            if s is not None and s["service"] == service and now >= s["connected_at"] \
                    and self._session_address(secret[".id"]) is not None:
                out.setdefault(secret["name"], s)
        return out

    def _binding_values(self, path: str, s: Dict[str, Any], now: float) -> Dict[str, Any]:
        peer = "remote-address" if BINDINGS[path] == "pppoe" else "client-address"
        return {"running": True, peer: s["caller-id"], "mtu": s["mtu"], "uptime": int(now - s["connected_at"]),
                "encoding": s["encoding"]}

    def _binding_runtime(self, path: str, view: Dict[str, Any], now: float) -> Dict[str, Any]:
        s = self._connected_sessions(BINDINGS[path], now).get(view.get("user")) if self._enabled(view) else None
        if s is None:
            return {"running": False}
        return self._binding_values(path, s, now)

    def _dhcp_runtime(self, view: Dict[str, Any], now: float) -> Dict[str, Any]:
        plan = self.dhcp_plan(view)
        status = self.dhcp_status(plan, now)
        iface = self._view(view.get("interface") or "")
        out: Dict[str, Any] = {"status": status, "prefix": None, "address": None, "dhcp-server-v6": None,
                               "expires-after": None, "invalid": iface is not None and not self._enabled(iface)}
        if status == "bound":
            held = now - plan["bound_at"]
            out.update({"prefix": plan["prefix"] if "prefix" in (view.get("request") or []) else None,
                        "address": plan.get("address"), "dhcp-server-v6": plan["server"],
                        "expires-after": int(LEASE - held % (LEASE / 2))})
        return out

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        self.settle()
        now = self._now()
        out = []
        if path == ACTIVE:
            for secret in self._views("/ppp/secret"):
                s = self.session(secret)
                if s is None or now < s["connected_at"]:
                    continue
                address = self._session_address(secret[".id"])
                if address is None:
                    continue
                out.append({".id": self._dynamic_id(path, secret[".id"]), "name": secret["name"],
                            "service": s["service"], "caller-id": s["caller-id"], "address": address or None,
                            "uptime": int(now - s["connected_at"]), "encoding": s["encoding"],
                            "session-id": s["session-id"], "limit-bytes-in": secret.get("limit-bytes-in", 0),
                            "limit-bytes-out": secret.get("limit-bytes-out", 0), "radius": False})
        elif path in BINDINGS:
            bound = {v.get("user") for v in self._views(path) if self._enabled(v)}
            for user, s in self._connected_sessions(BINDINGS[path], now).items():
                if user in bound:
                    continue
                row = {".id": self._dynamic_id(path, s["secret"][".id"]), "name": "<%s-%s>" % (BINDINGS[path], user),
                       "user": user, "disabled": False}
                row.update(self._binding_values(path, s, now))
                out.append(row)
        elif path == POOL6:
            for view in self._views(DHCP6):
                plan = self.dhcp_plan(view)
                if self.dhcp_status(plan, now) != "bound" or "prefix" not in (view.get("request") or []) \
                        or not view.get("pool-name"):
                    continue
                out.append({".id": self._dynamic_id(path, view[".id"]), "name": view["pool-name"],
                            "prefix": plan["prefix"], "prefix-length": view.get("pool-prefix-length", 64)})
        return out

    @staticmethod
    def _dynamic_id(path: str, item_id: str) -> str:
        return "*%X" % (DYNAMIC_BASE[path] + int(item_id[1:], 16))

    # -- commands -------------------------------------------------------------------------------------
    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if name == "monitor" and (path == PPPOE or path in TUNNELS):
            return self._monitor(path, self._item(path, item_id))
        if name == "import-ovpn-configuration" and path == "/interface/ovpn-client":
            return iter(import_configuration(self.router, args))
        if name == "scan" and path == PPPOE:
            return self._scan(args.get("interface"))
        if name in ("renew", "release") and path == DHCP6:
            item = self._item(path, item_id)
            self.sim.notes.setdefault("ppp-dhcp6-renew", {})[item] = self._now()
            self.journal.settle({"dhcp6:" + item}, self.router.store.revision)
            return iter(())
        return None

    def _item(self, path: str, item_id: Optional[str]) -> str:
        if item_id and self.router.store.path_of(item_id) == path:
            return item_id
        return self.router.find(path, item_id or "")

    def _monitor(self, path: str, item_id: str) -> Iterator[Dict[str, str]]:
        while True:
            view = self._view(item_id)
            if view is None:
                raise RouterError("no such item (%s)" % item_id, "missing")
            yield self.monitor_row(path, view)

    def monitor_row(self, path: str, view: Dict[str, Any]) -> Dict[str, str]:
        """One sample of ``monitor``: the documented fields that mean something now."""
        self.settle()
        now = self._now()
        plan = self.client_plan(path, view)
        if plan is None:
            return {"status": "disconnected"}
        row = {"status": plan.status(now)}
        info = plan.info
        up = plan.connected(now)
        if up:
            row["uptime"] = format_duration(int(now - plan.connected_at))
            if path == PPPOE:
                row["active-links"] = str(info["active-links"])
            row.update({"encoding": info["encoding"], "local-address": info["local-address"],
                        "remote-address": info["remote-address"]})
        if path == PPPOE and info and plan.phase(now) >= 1 and row["status"] != "disconnected":
            row.update({"ac-mac": info["ac-mac"], "ac-name": info["ac-name"], "service-name": info["service-name"]})
        if up:
            row.update({"mtu": str(info["mtu"]), "mru": str(info["mru"])})
        return row

    def _scan(self, iface_id: Optional[str]) -> Iterator[Dict[str, str]]:
        ac = self.upstream(iface_id) if iface_id else None
        if ac is not None:
            yield {"service": ac["service"], "mac-address": ac["mac-address"], "ac-name": ac["ac-name"]}
