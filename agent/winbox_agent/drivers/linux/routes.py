"""/ip route with ``ip route``.

Static routes are added with their own protocol number (:data:`PROTO`), so
the kernel's table tells the agent's routes from everyone else's; those
others (connected routes of every address, routes other software added) are
listed as dynamic items (connected ones flagged ``C``).  ``distance`` is the
kernel metric.  A route whose gateway is not reachable yet is not an error:
it stays inactive, as in RouterOS, and is tried again at the next
reconciliation.  Routing tables other than ``main`` become kernel tables
numbered from their name.
"""

import zlib
from typing import Any, Dict, List, Optional

from ...errors import RouterError
from .area import Area, Pass, dynamic_id
from .cmd import CommandFailed

PATH = "/ip/route"
PROTO = "245"
#: kernel answers meaning "the gateway cannot be reached now", not a failure
UNREACHABLE = ("Nexthop has invalid gateway", "Network is unreachable", "No such device",
               "Cannot find device", "invalid gateway", "No route to host")


def table_of(name: Optional[str]) -> str:
    if not name or name == "main":
        return "main"
    return str(1000 + zlib.crc32(name.encode()) % 2000000000)


def dst_key(dst: str) -> str:
    if dst == "default":
        return "0.0.0.0/0"
    return dst if "/" in dst else dst + "/32"


class Routes(Area):
    """Static routes of the configuration and the kernel's other routes."""

    key = "routes"
    paths = (PATH,)

    def __init__(self, driver: Any):
        super().__init__(driver)
        self.inactive: Dict[str, str] = {}

    def _spec(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        dst = view.get("dst-address") or "0.0.0.0/0"
        spec: Dict[str, Any] = {"dst": dst, "table": table_of(view.get("routing-table")),
                                "metric": int(view.get("distance") or 1)}
        gw = view.get("gateway")
        if view.get("blackhole"):
            spec["type"] = "blackhole"
        elif isinstance(gw, str) and gw.startswith("*"):
            dev = p.snap.ifname(gw)
            if not dev:
                p.problem(view[".id"], "gateway: interface %s does not exist" % gw)
                return None
            spec["dev"] = dev
        elif gw:
            spec["via"] = gw
        else:
            return None
        if view.get("pref-src"):
            spec["src"] = view["pref-src"]
        if view.get("check-gateway") not in (None, "", "none"):
            p.notice(view[".id"], "check-gateway=%s is not supported by the linux driver (the route is used "
                                   "without checking its gateway)" % view.get("check-gateway"))
        return spec

    @staticmethod
    def _args(spec: Dict[str, Any]) -> List[str]:
        args = ([spec["type"]] if spec.get("type") else []) + [spec["dst"]]
        if spec.get("via"):
            args += ["via", spec["via"]]
        if spec.get("dev"):
            args += ["dev", spec["dev"]]
        if spec.get("src"):
            args += ["src", spec["src"]]
        return args + ["table", spec["table"], "metric", str(spec["metric"]), "proto", PROTO]

    def _present(self, spec: Dict[str, Any]) -> bool:
        for r in self.system.routes(spec["table"]):
            if str(r.get("protocol")) != PROTO or dst_key(r.get("dst", "")) != spec["dst"]:
                continue
            if int(r.get("metric", 0)) != spec["metric"]:
                continue
            if spec.get("type") == "blackhole":
                return r.get("type") == "blackhole"
            if spec.get("via") and r.get("gateway") != spec["via"]:
                continue
            if spec.get("dev") and r.get("dev") != spec["dev"]:
                continue
            if r.get("prefsrc") != spec.get("src"):
                continue
            return True
        return False

    def reconcile(self, p: Pass) -> None:
        forwarding = self.host.read_sysctl("net.ipv4.ip_forward")
        if forwarding is not None and forwarding != "1":   # a router forwards
            p.journal.call("net.ipv4.ip_forward=1", lambda: self.host.sysctl("net.ipv4.ip_forward", "1"),
                           lambda: self.host.sysctl("net.ipv4.ip_forward", forwarding))
        wanted: Dict[str, Dict[str, Any]] = {}
        for view in p.snap.enabled(PATH):
            spec = self._spec(p, view)
            if spec is not None:
                wanted[view[".id"]] = spec
        ledger = self.ledger
        for item_id, spec in list(ledger.items()):
            if wanted.get(item_id) != spec or not self._present(spec):
                if self._present(spec) and spec not in [w for k, w in wanted.items() if k != item_id]:
                    p.journal.run(["ip", "route", "del"] + self._args(spec),
                                  undo=["ip", "route", "add"] + self._args(spec))
                del ledger[item_id]
        self.inactive = {}
        for item_id, spec in wanted.items():
            if self._present(spec):
                ledger[item_id] = spec
                continue
            try:
                p.journal.run(["ip", "route", "add"] + self._args(spec), undo=["ip", "route", "del"] + self._args(spec))
            except CommandFailed as exc:
                if any(u in exc.stderr for u in UNREACHABLE):
                    self.inactive[item_id] = exc.stderr.strip()
                    continue
                if "File exists" in exc.stderr:
                    p.problem(item_id, "the host already has another route to %s with distance %d" % (
                        spec["dst"], spec["metric"]))
                    continue
                raise RouterError(exc.message, "driver")
            ledger[item_id] = spec

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        spec = self.ledger.get(view[".id"])
        if view.get("disabled") or spec is None or not self._present(spec):
            return {"active": False}
        gw = spec.get("via")
        dev = spec.get("dev")
        if gw and not dev:
            for r in self.system.routes(spec["table"]):
                if str(r.get("protocol")) == PROTO and dst_key(r.get("dst", "")) == spec["dst"]:
                    dev = r.get("dev")
                    break
        return {"active": True, "immediate-gw": ("%s%%%s" % (gw, dev) if gw else dev) or ""}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        out = []
        links = self.driver.links
        for r in self.system.routes("main"):
            if str(r.get("protocol")) == PROTO or r.get("type") not in (None, "unicast", "blackhole"):
                continue
            dst = dst_key(r.get("dst", ""))
            dev = r.get("dev")
            connected = r.get("protocol") == "kernel" and r.get("scope") == "link"
            row: Dict[str, Any] = {".id": dynamic_id("route", "%s|%s|%s" % (dst, dev, r.get("metric", 0))),
                                   "dst-address": dst, "distance": 0 if connected else int(r.get("metric", 0)),
                                   "routing-table": "main", "active": True, ".dynamic": True,
                                   "scope": 10 if connected else 30, "target-scope": 5 if connected else 10}
            if r.get("type") == "blackhole":
                row["blackhole"] = True
            elif r.get("gateway"):
                row["gateway"] = r["gateway"]
                row["immediate-gw"] = "%s%%%s" % (r["gateway"], dev)
            elif dev:
                row["gateway"] = links.interface_id(dev)
                row["immediate-gw"] = dev
            if r.get("prefsrc"):
                row["pref-src"] = r["prefsrc"]
            if connected:
                row[".connect"] = True
            out.append(row)
        return out
