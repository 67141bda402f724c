"""ZeroTier through the ZeroTier One service's local HTTP API.

Each enabled /zerotier instance is the service listening on
``127.0.0.1:<port>``, authenticated by the ``X-ZT1-Auth`` token from
``authtoken.secret`` in the service's home (``/var/lib/zerotier-one``, or
``$WINBOX_ZEROTIER_HOME``).  The instance's identity is the service's own
(``GET /status``).  A /zerotier interface joins its network (``POST
/network/ID`` with allowManaged/allowGlobal/allowDefault) and leaves it when
disabled or removed (``DELETE``); its status, name, MAC and MTU come from
``GET /network/ID``, and its system interface is the service's device
(``portDeviceName``).  Controller networks and members are
``/controller/network/ID`` and ``.../member/ADDRESS``.  Peers are ``GET
/peer``.  A service that does not answer makes the instance (and what
depends on it) invalid with the reason.
"""

import json
import os
import secrets
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

from ...errors import RouterError
from ...store import Change
from .area import Area, Pass, dynamic_id

INSTANCE = "/zerotier"
IFACE = "/zerotier/interface"
PEER = "/zerotier/peer"
CONTROLLER = "/zerotier/controller"
MEMBER = "/zerotier/controller/member"
HOME = "/var/lib/zerotier-one"
TIMEOUT = 3.0


class ServiceDown(Exception):
    """The ZeroTier service cannot be reached (the reason)."""


class Service:
    """A ZeroTier One service's local API.

    Attributes:
        port: TCP port on 127.0.0.1; home: where authtoken.secret is.
    """

    def __init__(self, port: int, home: str):
        self.port = port
        self.home = home
        self._token: Optional[str] = None

    def token(self) -> str:
        if self._token is None:
            path = os.path.join(self.home, "authtoken.secret")
            try:
                with open(path) as fh:
                    self._token = fh.read().strip()
            except OSError as exc:
                raise ServiceDown("cannot read the ZeroTier service's auth token %s: %s" % (
                    path, exc.strerror or exc)) from None
        return self._token

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method,
                                     headers={"X-ZT1-Auth": self.token(), "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise ServiceDown("the ZeroTier service on port %d refused the auth token" % self.port) from None
            if exc.code == 404:
                return None
            raise RouterError("ZeroTier service: %s %s failed: HTTP %d" % (method, path, exc.code), "driver") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServiceDown("the ZeroTier service does not answer on 127.0.0.1:%d (%s): is zerotier-one "
                              "installed and running?" % (self.port, reason)) from None
        return json.loads(text) if text.strip() else None


class ZeroTier(Area):
    """Instances, joined networks, the controller and peers via the local API."""

    key = "zerotier"
    paths = (INSTANCE, IFACE, PEER, CONTROLLER, MEMBER)

    def __init__(self, driver: Any):
        super().__init__(driver)
        self._services: Dict[int, Service] = {}

    def home(self) -> str:
        return os.environ.get("WINBOX_ZEROTIER_HOME") or HOME

    def service(self, instance: Optional[Dict[str, Any]]) -> Service:
        port = int((instance or {}).get("port") or 9993)
        if port not in self._services:
            self._services[port] = Service(port, self.home())
        return self._services[port]

    def _cached(self, key: str, fn: Callable[[], Any]) -> Any:
        return self.system.cached("zt-" + key, fn)

    # -- values the service decides -------------------------------------------------------
    def prepare(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path != CONTROLLER or ch.after is None or ch.after.get("network"):
                continue
            inst = self.router.store.get(ch.after.get("instance") or "")
            try:
                status = self.service(inst).call("GET", "/status") or {}
            except ServiceDown:
                continue            # flagged by reconcile; the id comes when the service answers
            if status.get("address"):
                ch.after["network"] = status["address"] + secrets.token_hex(3)

    # -- reconciling ------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        ledger = self.ledger
        joined = ledger.setdefault("joined", {})
        nets = ledger.setdefault("controller", {})
        members = ledger.setdefault("members", {})
        down: Dict[str, str] = {}
        for inst in p.snap.rows(INSTANCE):
            if inst.get("disabled"):
                continue
            try:
                self.service(inst).call("GET", "/status")
            except ServiceDown as exc:
                down[inst[".id"]] = str(exc)
                p.problem(inst[".id"], str(exc))

        def instance_of(view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
            return p.snap.get(view.get("instance"))

        def usable(view: Dict[str, Any]) -> bool:
            inst = instance_of(view)
            if inst is None or inst.get("disabled"):
                return False
            if inst[".id"] in down:
                p.problem(view[".id"], "its instance %s is not running: %s" % (inst.get("name"), down[inst[".id"]]))
                return False
            return True

        # joined networks
        wanted = {}
        for v in p.snap.enabled(IFACE):
            if usable(v):
                wanted[v[".id"]] = {"network": v["network"], "port": int(instance_of(v).get("port") or 9993),
                                    "settings": {"allowManaged": bool(v.get("allow-managed")),
                                                 "allowGlobal": bool(v.get("allow-global")),
                                                 "allowDefault": bool(v.get("allow-default"))}}
        for item_id, rec in list(joined.items()):
            if wanted.get(item_id, {}).get("network") != rec["network"] or wanted[item_id]["port"] != rec["port"]:
                self._leave(p, rec)
                del joined[item_id]
        for item_id, rec in wanted.items():
            self._join(p, rec)
            joined[item_id] = rec
        # controller networks and members
        wanted_nets = {}
        for v in p.snap.enabled(CONTROLLER):
            if not usable(v):
                continue
            if not v.get("network"):
                p.problem(v[".id"], "network: no id yet (the ZeroTier service did not answer when it was added)")
                continue
            wanted_nets[v[".id"]] = {"network": v["network"], "port": int(instance_of(v).get("port") or 9993),
                                     "config": self._net_config(v)}
        wanted_members = {}
        for m in p.snap.enabled(MEMBER):
            net = wanted_nets.get(m.get("network"))
            if net is None:
                continue
            wanted_members[m[".id"]] = {"network": net["network"], "port": net["port"], "address": m["zt-address"],
                                        "config": {"authorized": bool(m.get("authorized")),
                                                   "ipAssignments": [str(a) for a in m.get("ip-address") or []],
                                                   "name": m.get("name") or ""}}
        for item_id, rec in list(members.items()):
            if wanted_members.get(item_id, {}).get("address") != rec["address"] \
                    or wanted_members[item_id]["network"] != rec["network"]:
                self._delete(p, rec["port"], "/controller/network/%s/member/%s" % (rec["network"], rec["address"]))
                del members[item_id]
        for item_id, rec in list(nets.items()):
            if wanted_nets.get(item_id, {}).get("network") != rec["network"]:
                self._delete(p, rec["port"], "/controller/network/%s" % rec["network"])
                del nets[item_id]
        for item_id, rec in wanted_nets.items():
            self._post(p, rec["port"], "/controller/network/%s" % rec["network"], rec["config"])
            nets[item_id] = {"network": rec["network"], "port": rec["port"]}
        for item_id, rec in wanted_members.items():
            self._post(p, rec["port"], "/controller/network/%s/member/%s" % (rec["network"], rec["address"]),
                       rec["config"])
            members[item_id] = {"network": rec["network"], "port": rec["port"], "address": rec["address"]}

    @staticmethod
    def _net_config(v: Dict[str, Any]) -> Dict[str, Any]:
        pools = []
        if v.get("ip-range"):
            lo, hi = v["ip-range"].split("-")
            pools.append({"ipRangeStart": lo, "ipRangeEnd": hi})
        if v.get("ip6-range"):
            lo, hi = v["ip6-range"].split("-")
            pools.append({"ipRangeStart": lo, "ipRangeEnd": hi})
        routes = []
        for r in v.get("routes") or []:
            target, _, via = r.partition("@")
            routes.append({"target": target, "via": via or None})
        return {"name": v.get("name") or "", "private": bool(v.get("private")),
                "enableBroadcast": bool(v.get("broadcast")), "mtu": int(v.get("mtu") or 2800),
                "multicastLimit": int(v.get("multicast-limit") or 32), "ipAssignmentPools": pools,
                "routes": routes, "v4AssignMode": {"zt": bool(pools)},
                "v6AssignMode": {"6plane": bool(v.get("ip6-6plane")), "rfc4193": bool(v.get("ip6-rfc4193")),
                                 "zt": bool(v.get("ip6-range"))}}

    # -- API steps with their undo ----------------------------------------------------------------
    def _svc(self, port: int) -> Service:
        return self.service({"port": port})

    def _join(self, p: Pass, rec: Dict[str, Any]) -> None:
        self._post(p, rec["port"], "/network/%s" % rec["network"], rec["settings"],
                   "zerotier join %s" % rec["network"])

    def _leave(self, p: Pass, rec: Dict[str, Any]) -> None:
        self._delete(p, rec["port"], "/network/%s" % rec["network"], "zerotier leave %s" % rec["network"],
                     keep=rec.get("settings", {}))

    def _post(self, p: Pass, port: int, path: str, config: Dict[str, Any], what: str = "") -> None:
        """POST ``config`` to ``path`` unless it is there already; undone by posting
        back what was there (or deleting what was not)."""
        svc = self._svc(port)
        have = svc.call("GET", path)
        if have is not None and all(have.get(k) == v for k, v in config.items()):
            return
        back = {k: have.get(k) for k in config} if have is not None else None
        p.journal.call(what or "zerotier POST %s" % path, lambda: svc.call("POST", path, config),
                       (lambda: svc.call("POST", path, back)) if back is not None
                       else (lambda: svc.call("DELETE", path)))

    def _delete(self, p: Pass, port: int, path: str, what: str = "",
                keep: Optional[Dict[str, Any]] = None) -> None:
        """DELETE ``path`` if it is there (and the service up); undone by posting it
        back (only the ``keep`` keys of it when given)."""
        svc = self._svc(port)
        try:
            have = svc.call("GET", path)
        except ServiceDown:
            return
        if have is None:
            return
        back = have if keep is None else {k: have.get(k) for k in keep}
        p.journal.call(what or "zerotier DELETE %s" % path, lambda: svc.call("DELETE", path),
                       lambda: svc.call("POST", path, back))

    # -- live values -----------------------------------------------------------------------------
    def _get(self, inst: Optional[Dict[str, Any]], path: str) -> Any:
        svc = self.service(inst)

        def read():
            try:
                return svc.call("GET", path)
            except (ServiceDown, RouterError):
                return None
        return self._cached("%d%s" % (svc.port, path), read)

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == INSTANCE:
            if view.get("disabled"):
                return {"state": "disabled", "running": False}
            status = self._get(view, "/status")
            if not status:
                return {"state": "starting", "running": False}
            out = {"state": "running" if status.get("online", True) else "starting",
                   "running": bool(status.get("online", True))}
            if status.get("publicIdentity"):
                out["identity.public"] = status["publicIdentity"]
            return out
        inst = self.router.store.get(view.get("instance") or "")
        if path == IFACE:
            net = self._get(inst, "/network/%s" % view.get("network")) if not view.get("disabled") else None
            if not net:
                return {"status": None, "running": False}
            return {"status": net.get("status"), "network-name": net.get("name") or "",
                    "mac-address": (net.get("mac") or "").upper() or None, "mtu": net.get("mtu"),
                    "running": net.get("status") == "OK" or bool(view.get("disable-running-check"))}
        if path == MEMBER:
            ctrl = self.router.store.get(view.get("network") or "")
            inst = self.router.store.get((ctrl or {}).get("instance") or "")
            if ctrl is None or not ctrl.get("network"):
                return {}
            m = self._get(inst, "/controller/network/%s/member/%s" % (ctrl["network"], view.get("zt-address")))
            if not m or not m.get("lastSeen"):
                return {}
            status = self._get(inst, "/status") or {}
            clock = status.get("clock")
            return {"last-seen": max(0, int(clock - m["lastSeen"])) if clock else None}
        return {}

    def system_names(self) -> Dict[str, str]:
        """Item id of each joined network -> the service's device for it."""
        out = {}
        for item_id in self.ledger.get("joined", {}):
            item = self.router.store.get(item_id)
            if item is None:
                continue
            inst = self.router.store.get(item.get("instance") or "")
            net = self._get(inst, "/network/%s" % item.get("network"))
            if net and net.get("portDeviceName"):
                out[item_id] = net["portDeviceName"]
        return out

    def internal_links(self) -> List[str]:
        return list(self.system_names().values())

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path != PEER:
            return []
        out = []
        m = self.router.menu(INSTANCE)
        for item in self.router.store.items(INSTANCE):
            inst = self.router.view(m, item, runtime=False)
            if inst.get("disabled"):
                continue
            for peer in self._get(inst, "/peer") or []:
                paths = []
                for pa in peer.get("paths") or []:
                    flags = [f for f in ("active", "preferred") if pa.get(f)] or ["inactive"]
                    paths.append(",".join(flags + [pa.get("address", "")]))
                out.append({".id": dynamic_id("ztpeer", "%s|%s" % (inst[".id"], peer.get("address"))),
                            "instance": inst[".id"], "zt-address": peer.get("address"),
                            "latency": peer.get("latency") if isinstance(peer.get("latency"), int)
                            and peer.get("latency") >= 0 else None,
                            "role": peer.get("role"), "path": "; ".join(paths), "version": peer.get("version"),
                            ".dynamic": True})
        return out
