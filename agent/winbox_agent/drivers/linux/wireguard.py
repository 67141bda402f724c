"""/interface wireguard and its peers, with the kernel module or wireguard-go.

An interface is a kernel WireGuard link (``ip link add NAME type
wireguard``) when the kernel has WireGuard, otherwise a ``wireguard-go``
process the agent starts (and stops) in the foreground.  Keys, the listen
port and the peers are set in one go with ``wg syncconf NAME /dev/stdin``
and read back with ``wg show NAME dump``.  With neither the kernel module
nor wireguard-go, or without ``wg``, each interface is flagged invalid with
the reason.

wireguard-go keeps its control socket in ``/run/wireguard/NAME.sock``,
which is per host, not per network namespace: two namespaced routers on one
host need their own ``/run/wireguard`` (the tests bind one per router).
"""

import os
import time
from typing import Any, Dict, List, Optional, Tuple

from ...errors import RouterError
from .area import Area, Pass
from .cmd import Host
from .links import check_ifname

IFACE = "/interface/wireguard"
PEERS = "/interface/wireguard/peers"
_KERNEL: Dict[str, bool] = {}
WIREGUARD_GO_START = 15.0   # seconds a wireguard-go start may take before it is given up


def kernel_has_wireguard(host: Host) -> bool:
    """Whether the kernel can make WireGuard links (tried once per process)."""
    if "ok" not in _KERNEL:
        if os.path.isdir("/sys/module/wireguard"):
            _KERNEL["ok"] = True
        else:
            probe = "wbprobe%d" % (os.getpid() % 100000)
            res = host.try_run(["ip", "link", "add", probe, "type", "wireguard"])
            if res.code == 0:
                host.try_run(["ip", "link", "del", probe])
            _KERNEL["ok"] = res.code == 0
    return _KERNEL["ok"]


def endpoint_text(address: str, port: int) -> str:
    host = address.split("@", 1)[0]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class WireGuard(Area):
    """WireGuard links, their keys and peers."""

    key = "wireguard"
    paths = (IFACE, PEERS)

    # -- desired configuration --------------------------------------------------------
    def _peers(self, p: Pass, iface_id: str) -> List[Dict[str, Any]]:
        out = []
        for view in p.snap.enabled(PEERS):
            if view.get("interface") != iface_id:
                continue
            peer = {"public": view.get("public-key"), "allowed": sorted(view.get("allowed-address") or []),
                    "keepalive": int(view.get("persistent-keepalive") or 0), "endpoint": None, "psk": None}
            psk = view.get("preshared-key")
            if psk and psk != "none":
                peer["psk"] = psk
            if view.get("endpoint-address") and not view.get("responder"):
                if not view.get("endpoint-port"):
                    p.notice(view[".id"], "endpoint-port: must be set with endpoint-address "
                                           "(the peer is used without an endpoint)")
                else:
                    peer["endpoint"] = endpoint_text(view["endpoint-address"], int(view["endpoint-port"]))
            out.append(peer)
        return out

    @staticmethod
    def conf_text(private: str, port: int, peers: List[Dict[str, Any]]) -> str:
        lines = ["[Interface]", "PrivateKey = %s" % private, "ListenPort = %d" % port]
        for peer in peers:
            lines += ["", "[Peer]", "PublicKey = %s" % peer["public"]]
            if peer.get("psk"):
                lines.append("PresharedKey = %s" % peer["psk"])
            if peer["allowed"]:
                lines.append("AllowedIPs = %s" % ", ".join(peer["allowed"]))
            if peer.get("endpoint"):
                lines.append("Endpoint = %s" % peer["endpoint"])
            if peer.get("keepalive"):
                lines.append("PersistentKeepalive = %d" % peer["keepalive"])
        return "\n".join(lines) + "\n"

    # -- reading --------------------------------------------------------------------------
    def dump(self, name: str) -> Optional[Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]]:
        """``wg show NAME dump``: the interface line and the peers by public key."""
        def read():
            res = self.host.try_run(["wg", "show", name, "dump"])
            if res.code != 0:
                return None
            lines = [ln.split("\t") for ln in res.out.splitlines() if ln.strip()]
            if not lines:
                return None
            head = lines[0]
            iface = {"private": head[0], "public": head[1], "port": int(head[2]) if head[2].isdigit() else 0}
            peers = {}
            for f in lines[1:]:
                if len(f) < 8:
                    continue
                allowed = sorted(a for a in f[3].split(",") if a and a != "(none)")
                peers[f[0]] = {"psk": None if f[1] == "(none)" else f[1],
                               "endpoint": None if f[2] == "(none)" else f[2], "allowed": allowed,
                               "handshake": int(f[4] or 0), "rx": int(f[5] or 0), "tx": int(f[6] or 0),
                               "keepalive": 0 if f[7] in ("off", "") else int(f[7])}
            return iface, peers
        if self.host.which("wg") is None:
            return None
        return self.system.cached("wg-" + name, read)

    def _matches(self, name: str, private: str, port: int, peers: List[Dict[str, Any]]) -> bool:
        got = self.dump(name)
        if got is None:
            return False
        iface, have = got
        if iface["private"] != private or iface["port"] != port or set(have) != {p["public"] for p in peers}:
            return False
        for peer in peers:
            h = have[peer["public"]]
            if h["psk"] != peer.get("psk") or h["allowed"] != peer["allowed"] or h["keepalive"] != peer["keepalive"]:
                return False
            if peer.get("endpoint") and not h["endpoint"]:
                return False
        return True

    # -- reconciling ---------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        ledger = self.ledger
        wanted = {v[".id"]: v for v in p.snap.rows(IFACE)}
        for item_id, rec in list(ledger.items()):
            view = wanted.get(item_id)
            if view is None or view.get("name") != rec["name"]:
                self._remove(p, rec)
                del ledger[item_id]
        for item_id, view in wanted.items():
            name = view.get("name")
            check_ifname(name)
            try:
                rec = self._ensure(p, item_id, name)
            except _Cannot as exc:
                p.problem(item_id, str(exc))
                for peer in p.snap.rows(PEERS):
                    if peer.get("interface") == item_id:
                        p.problem(peer[".id"], "its interface %s cannot run: %s" % (name, exc))
                continue
            ledger[item_id] = rec
            if self.host.which("wg") is None:
                p.problem(item_id, "the host has no wg command (Debian package wireguard-tools): "
                                   "keys and peers cannot be set")
                continue
            peers = self._peers(p, item_id)
            port = int(view.get("listen-port") or 13231)
            if not self._matches(name, view["private-key"], port, peers):
                before = self.host.try_run(["wg", "showconf", name])
                text = self.conf_text(view["private-key"], port, peers)
                p.journal.run(["wg", "syncconf", name, "/dev/stdin"], input=text,
                              undo=["wg", "syncconf", name, "/dev/stdin"] if before.code == 0 else None,
                              undo_input=before.out if before.code == 0 else None)
            self.driver.links.settle(p, item_id, name, mtu=view.get("mtu"), comment=view.get("comment"),
                                     up=not view.get("disabled"))

    def _ensure(self, p: Pass, item_id: str, name: str) -> Dict[str, Any]:
        """The link of an interface, made if need be: ``{"name", "pid"}``."""
        rec = dict(self.ledger.get(item_id) or {"name": name, "pid": None})
        link = self.system.link(name)
        if link is not None:
            if rec.get("pid") and not self.host.alive(rec["pid"], "wireguard-go"):
                rec["pid"] = None
            if link.get("link_type") != "none" and self.system.kind(link) != "wireguard":
                raise RouterError("name: %s is already the name of another interface of this host" % name,
                                  "conflict", "name")
            return rec
        if kernel_has_wireguard(self.host):
            p.journal.run(["ip", "link", "add", "dev", name, "type", "wireguard"], undo=["ip", "link", "del", "dev", name])
            return {"name": name, "pid": None}
        if self.host.which("wireguard-go") is None:
            raise _Cannot("the kernel has no WireGuard and wireguard-go is not installed "
                          "(Debian package wireguard-go)")
        log = os.path.join(self.driver.run_dir(), "wireguard-%s.log" % name)
        pid = self.host.spawn(["wireguard-go", "-f", name], log, env={"WG_PROCESS_FOREGROUND": "1"})
        p.journal.undo_with("wireguard-go %s" % name, lambda: self.host.stop(pid, "wireguard-go"))
        # a userspace start takes a moment, longer on a busy host: wait for both
        # the link and its control socket, and say which one never came
        deadline = time.monotonic() + WIREGUARD_GO_START
        missing = "its link"
        while time.monotonic() < deadline:
            self.system.invalidate()
            if self.system.link(name) is None:
                missing = "its link"
            elif self.dump(name) is None:
                missing = "its control socket (wg show %s)" % name
            else:
                return {"name": name, "pid": pid}
            if not self.host.alive(pid, "wireguard-go"):
                missing += "; wireguard-go exited"
                break
            time.sleep(0.05)
        self.host.stop(pid, "wireguard-go")
        tail = _tail(log)
        raise RouterError("wireguard-go could not make %s (no %s after %.0f s)%s" % (
            name, missing, WIREGUARD_GO_START, ": " + tail if tail else ""), "driver")

    def _remove(self, p: Pass, rec: Dict[str, Any]) -> None:
        name = rec["name"]
        if self.system.link(name) is not None:
            p.journal.run(["ip", "link", "del", "dev", name])
        if rec.get("pid"):
            self.host.stop(rec["pid"], "wireguard-go")

    # -- live values ----------------------------------------------------------------------------------
    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path != PEERS:
            return {}
        iface = self.router.store.get(view.get("interface") or "")
        got = self.dump(iface.get("name")) if iface else None
        peer = got[1].get(view.get("public-key")) if got else None
        if not peer:
            return {"last-handshake": None, "rx": 0, "tx": 0, "current-endpoint-address": None,
                    "current-endpoint-port": None}
        out: Dict[str, Any] = {"rx": peer["rx"], "tx": peer["tx"],
                               "last-handshake": max(0, int(time.time()) - peer["handshake"]) if peer["handshake"] else None}
        if peer["endpoint"]:
            addr, _, port = peer["endpoint"].rpartition(":")
            out["current-endpoint-address"] = addr.strip("[]")
            out["current-endpoint-port"] = int(port) if port.isdigit() else None
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]):
        if path != PEERS or name != "show-client-config":
            return None
        from ...menus.wireguard import client_config
        return iter([{"config": client_config(self.router, self.router.row(path, item_id))}])


class _Cannot(Exception):
    """This host cannot run a WireGuard interface (the reason)."""


def _tail(path: str) -> str:
    try:
        with open(path, errors="replace") as fh:
            lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip() and not ln.startswith(("│", "┌", "└"))]
        return lines[-1] if lines else ""
    except OSError:
        return ""
