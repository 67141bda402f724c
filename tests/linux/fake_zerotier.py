"""A small stand-in for the ZeroTier One service, following its published
local service API (JSON over HTTP on 127.0.0.1:<port>, ``X-ZT1-Auth``
token from ``authtoken.secret`` in its home directory):

- ``GET /status``; ``GET /network``, ``GET|POST|DELETE /network/{id}`` (join
  with allowManaged/allowGlobal/allowDefault, leave); ``GET /peer``,
  ``GET /peer/{address}``;
- the controller: ``GET /controller``, ``GET /controller/network``,
  ``GET|POST|DELETE /controller/network/{id}``,
  ``GET /controller/network/{id}/member``,
  ``GET|POST|DELETE /controller/network/{id}/member/{address}``.

ZeroTier itself is not packaged for this machine; this follows the
documented API closely enough for the agent's driver.  A joined network of
its own controller is OK when its member is authorized (ACCESS_DENIED when
not, on a private network); any other network asks for its configuration
for a moment, then is OK — except ids ending in ``dead`` (ACCESS_DENIED)
and ``0404`` (NOT_FOUND).  It has four planet roots as peers, plus a leaf
for the controller of each joined network.

Run: ``python3 fake_zerotier.py --port 9993 --home DIR --address 10HEX``
(writes DIR/authtoken.secret if missing; prints ``ready`` when listening).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = "1.14.2"
ROOTS = [("cafe04eba9", "84.17.53.155/9993", 91), ("cafe9efeb9", "104.194.8.134/9993", 36),
         ("cafefd6717", "79.127.159.187/9993", 152), ("cafe80ed74", "185.152.67.145/9993", 187)]
CONFIG_SECONDS = 1.0


def mac_of(address: str, nwid: str) -> str:
    """The Ethernet address a node has on a network, as ZeroTier derives it."""
    n = int(nwid, 16)
    first = (n & 0xFE) | 0x02
    if first == 0x52:
        first = 0x32
    octets = [first] + list(int(address, 16).to_bytes(5, "big"))
    for i in range(1, 6):
        octets[i] ^= (n >> (8 * i)) & 0xFF
    return ":".join("%02x" % o for o in octets)


class Node:
    """The service's state: its identity, joined networks, controller."""

    def __init__(self, address: str, port: int):
        self.address = address
        self.port = port
        self.public = "%s:0:%s" % (address, secrets.token_hex(64))
        self.started = time.time()
        self.networks: dict[str, dict[str, Any]] = {}
        self.controller: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.lock = threading.Lock()

    def clock(self) -> int:
        return int(time.time() * 1000)

    def status(self) -> dict[str, Any]:
        return {"address": self.address, "publicIdentity": self.public, "online": True, "tcpFallbackActive": False,
                "version": VERSION, "versionMajor": 1, "versionMinor": 14, "versionRev": 2, "clock": self.clock(),
                "planetWorldId": 149604618, "planetWorldTimestamp": 1738848951118,
                "config": {"settings": {"primaryPort": self.port, "allowTcpFallbackRelay": True}}}

    def network(self, nwid: str) -> dict[str, Any]:
        net = self.networks[nwid]
        age = time.time() - net["joined"]
        out = {"id": nwid, "nwid": nwid, "mac": mac_of(self.address, nwid), "name": "", "status":
               "REQUESTING_CONFIGURATION", "type": "PRIVATE", "mtu": 2800, "dhcp": False, "bridge": False,
               "broadcastEnabled": True, "portError": 0, "netconfRevision": 0, "assignedAddresses": [],
               "routes": [], "portDeviceName": "zt" + nwid[:8], "allowManaged": net["allowManaged"],
               "allowGlobal": net["allowGlobal"], "allowDefault": net["allowDefault"], "allowDNS": False}
        if nwid[:10] == self.address:                      # a network of this node's own controller
            conf = self.controller.get(nwid)
            if conf is None:
                out["status"] = "NOT_FOUND"
                return out
            member = self.members.get(nwid, {}).get(self.address, {})
            out.update(name=conf["name"], mtu=conf["mtu"], type="PRIVATE" if conf["private"] else "PUBLIC")
            if conf["private"] and not member.get("authorized"):
                out["status"] = "ACCESS_DENIED"
                return out
            out.update(status="OK", netconfRevision=1, assignedAddresses=list(member.get("ipAssignments", [])),
                       routes=[{"target": r["target"], "via": r.get("via"), "flags": 0, "metric": 0}
                               for r in conf["routes"]])
            return out
        if age < CONFIG_SECONDS:
            return out
        if nwid.endswith("dead"):
            out["status"] = "ACCESS_DENIED"
        elif nwid.endswith("0404"):
            out["status"] = "NOT_FOUND"
        else:
            out.update(status="OK", name="net-%s" % nwid[-6:], netconfRevision=3, type="PUBLIC")
        return out

    def peers(self) -> list[dict[str, Any]]:
        out = []
        now = self.clock()
        for addr, path, latency in ROOTS:
            out.append({"address": addr, "isBonded": False, "latency": latency, "role": "PLANET",
                        "version": "-1.-1.-1", "versionMajor": -1, "versionMinor": -1, "versionRev": -1,
                        "paths": [{"active": True, "address": path, "expired": False, "lastReceive": now - 1200,
                                   "lastSend": now - 1100, "preferred": True, "trustedPathId": 0}]})
        for nwid in self.networks:
            ctl = nwid[:10]
            if ctl != self.address:
                out.append({"address": ctl, "isBonded": False, "latency": 23, "role": "LEAF", "version": VERSION,
                            "versionMajor": 1, "versionMinor": 14, "versionRev": 2,
                            "paths": [{"active": True, "address": "198.51.100.7/9993", "expired": False,
                                       "lastReceive": now - 800, "lastSend": now - 700, "preferred": True,
                                       "trustedPathId": 0}]})
        return out

    def member(self, nwid: str, address: str) -> dict[str, Any]:
        m = self.members[nwid][address]
        return {"id": address, "address": address, "nwid": nwid, "authorized": m["authorized"],
                "activeBridge": False, "ipAssignments": m["ipAssignments"], "name": m.get("name", ""),
                "revision": m["revision"], "lastAuthorizedTime": m.get("lastAuthorizedTime", 0),
                "lastSeen": self.clock() - 5000 if address == self.address and nwid in self.networks else 0,
                "noAutoAssignIps": False, "vMajor": 1, "vMinor": 14, "vRev": 2}


CONTROLLER_KEYS = {"name": "", "private": True, "enableBroadcast": True, "mtu": 2800, "multicastLimit": 32,
                   "ipAssignmentPools": [], "routes": [], "v4AssignMode": {"zt": False},
                   "v6AssignMode": {"6plane": False, "rfc4193": False, "zt": False}}


def make_handler(node: Node, token: str):
    class Handler(BaseHTTPRequestHandler):
        """One request to the local API."""

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            given = self.headers.get("X-ZT1-Auth")
            if given is None and "auth=" in self.path:
                given = self.path.split("auth=", 1)[1].split("&")[0]
            if given != token:
                self._send(401, {"error": "unauthorized"})
                return False
            return True

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}") if n else {}

        def _parts(self) -> list[str]:
            return [p for p in self.path.split("?")[0].split("/") if p]

        def do_GET(self) -> None:
            if not self._authorized():
                return
            parts = self._parts()
            with node.lock:
                if parts == ["status"]:
                    return self._send(200, node.status())
                if parts == ["network"]:
                    return self._send(200, [node.network(n) for n in node.networks])
                if len(parts) == 2 and parts[0] == "network":
                    if parts[1] in node.networks:
                        return self._send(200, node.network(parts[1]))
                    return self._send(404, {})
                if parts == ["peer"]:
                    return self._send(200, node.peers())
                if len(parts) == 2 and parts[0] == "peer":
                    found = [p for p in node.peers() if p["address"] == parts[1]]
                    return self._send(200 if found else 404, found[0] if found else {})
                if parts == ["controller"]:
                    return self._send(200, {"controller": True, "apiVersion": 4, "clock": node.clock()})
                if parts == ["controller", "network"]:
                    return self._send(200, sorted(node.controller))
                if len(parts) >= 3 and parts[:2] == ["controller", "network"]:
                    nwid = parts[2]
                    if nwid not in node.controller:
                        return self._send(404, {})
                    if len(parts) == 3:
                        return self._send(200, dict(node.controller[nwid], id=nwid, nwid=nwid))
                    if len(parts) == 4 and parts[3] == "member":
                        return self._send(200, {a: m["revision"] for a, m in node.members[nwid].items()})
                    if len(parts) == 5 and parts[3] == "member":
                        if parts[4] in node.members[nwid]:
                            return self._send(200, node.member(nwid, parts[4]))
                        return self._send(404, {})
            self._send(404, {})

        def do_POST(self) -> None:
            if not self._authorized():
                return
            parts = self._parts()
            body = self._body()
            with node.lock:
                if len(parts) == 2 and parts[0] == "network":
                    nwid = parts[1]
                    net = node.networks.setdefault(nwid, {"joined": time.time(), "allowManaged": True,
                                                          "allowGlobal": False, "allowDefault": False})
                    for k in ("allowManaged", "allowGlobal", "allowDefault"):
                        if k in body:
                            net[k] = bool(body[k])
                    if nwid[:10] == node.address and nwid in node.members:
                        node.members[nwid].setdefault(node.address, {"authorized": False, "ipAssignments": [],
                                                                     "revision": 1})
                    return self._send(200, node.network(nwid))
                if len(parts) == 3 and parts[:2] == ["controller", "network"]:
                    nwid = parts[2]
                    if nwid.endswith("______"):
                        nwid = nwid[:10] + secrets.token_hex(3)
                    if nwid[:10] != node.address:
                        return self._send(400, {"error": "network id does not belong to this controller"})
                    conf = node.controller.setdefault(nwid, dict(CONTROLLER_KEYS))
                    conf.update({k: v for k, v in body.items() if k in CONTROLLER_KEYS})
                    node.members.setdefault(nwid, {})
                    return self._send(200, dict(conf, id=nwid, nwid=nwid))
                if len(parts) == 5 and parts[:2] == ["controller", "network"] and parts[3] == "member":
                    nwid, addr = parts[2], parts[4]
                    if nwid not in node.controller:
                        return self._send(404, {})
                    m = node.members[nwid].setdefault(addr, {"authorized": False, "ipAssignments": [],
                                                             "revision": 0})
                    for k in ("authorized", "ipAssignments", "name"):
                        if k in body:
                            m[k] = body[k]
                    if body.get("authorized"):
                        m["lastAuthorizedTime"] = node.clock()
                    m["revision"] += 1
                    return self._send(200, node.member(nwid, addr))
            self._send(404, {})

        def do_DELETE(self) -> None:
            if not self._authorized():
                return
            parts = self._parts()
            with node.lock:
                if len(parts) == 2 and parts[0] == "network" and parts[1] in node.networks:
                    del node.networks[parts[1]]
                    return self._send(200, {"result": True})
                if len(parts) == 3 and parts[:2] == ["controller", "network"] and parts[2] in node.controller:
                    del node.controller[parts[2]]
                    node.members.pop(parts[2], None)
                    return self._send(200, {"result": True})
                if len(parts) == 5 and parts[:2] == ["controller", "network"] and parts[3] == "member":
                    if node.members.get(parts[2], {}).pop(parts[4], None) is not None:
                        return self._send(200, {"result": True})
            self._send(404, {})

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9993)
    ap.add_argument("--home", required=True)
    ap.add_argument("--address", default=None)
    args = ap.parse_args()
    os.makedirs(args.home, exist_ok=True)
    token_file = os.path.join(args.home, "authtoken.secret")
    if not os.path.exists(token_file):
        with open(token_file, "w") as fh:
            fh.write(secrets.token_hex(12))
        os.chmod(token_file, 0o600)
    with open(token_file) as fh:
        token = fh.read().strip()
    node = Node(args.address or secrets.token_hex(5), args.port)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(node, token))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
