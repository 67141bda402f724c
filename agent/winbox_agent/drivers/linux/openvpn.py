"""OpenVPN clients and servers, each an ``openvpn`` process the agent starts
(detached, in the foreground) and stops.

Certificates are files: ``STATE/certificates/NAME.crt`` and ``NAME.key``
for ``certificate=NAME``, and ``STATE/certificates/ca.crt``, the
authorities a client trusts and a server checks client certificates
against (RouterOS keeps them in /certificate, which this project has not).
OpenVPN always checks the server's certificate, so a client needs
``ca.crt`` whatever ``verify-server-certificate`` says.

A server (``/interface ovpn-server server``) runs in TLS server mode with
``topology subnet`` on a device of its own (``ovpn-NAME``): its address is
the ``local-address`` of its default profile (or of its users' profile),
clients get addresses from that profile's ``remote-address`` pool, or their
secret's own ``remote-address``.  Users and passwords are /ppp secret items
(service ovpn or any), checked by a small script the agent writes.
``/ppp active`` lists the connected clients from the server's management interface.
A cipher the host's OpenSSL lacks (Blowfish, RouterOS's client default, is
gone from OpenSSL 3) is reported on the item.
"""

import hashlib
import ipaddress
import json
import os
import socket
import sys
import time
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...store import write_atomic
from .area import Area, Pass, dynamic_id

CLIENT = "/interface/ovpn-client"
SERVER = "/interface/ovpn-server/server"
ACTIVE = "/ppp/active"
CIPHERS = {"null": "none", "aes128-cbc": "AES-128-CBC", "aes128-gcm": "AES-128-GCM", "aes192-cbc": "AES-192-CBC",
           "aes192-gcm": "AES-192-GCM", "aes256-cbc": "AES-256-CBC", "aes256-gcm": "AES-256-GCM",
           "blowfish128": "BF-CBC"}
AUTHS = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512", "null": "none"}

AUTH_SCRIPT = '''#!%(python)s
"""Checks an OpenVPN user against the agent's /ppp secret list (written by winbox-agent)."""
import json, sys
try:
    with open(sys.argv[1]) as fh:
        user, password = fh.read().split("\\n")[:2]
    with open(%(users)r) as fh:
        users = json.load(fh)
except (OSError, ValueError):
    sys.exit(1)
sys.exit(0 if user in users and users[user] == password else 1)
'''


class OpenVpn(Area):
    """OVPN clients and servers as openvpn processes."""

    key = "openvpn"
    paths = (CLIENT, SERVER, ACTIVE)

    def __init__(self, driver: Any):
        super().__init__(driver)
        self._ciphers: Optional[set] = None

    # -- files ---------------------------------------------------------------------------
    def certs(self) -> str:
        return os.path.join(self.router.state_dir or "/run/winbox-agent", "certificates")

    def _cert(self, name: str) -> Optional[List[str]]:
        crt = os.path.join(self.certs(), name + ".crt")
        key = os.path.join(self.certs(), name + ".key")
        return [crt, key] if os.path.exists(crt) and os.path.exists(key) else None

    def available_ciphers(self) -> set:
        if self._ciphers is None:
            res = self.host.try_run(["openvpn", "--show-ciphers"])
            self._ciphers = {ln.split()[0] for ln in res.out.splitlines() if ln.strip() and ln[0].isupper()
                             and " bit " in ln} | {"none"}
        return self._ciphers

    def _cipher(self, p: Pass, item_id: str, name: str) -> Optional[str]:
        c = CIPHERS.get(name, name)
        if c not in self.available_ciphers():
            p.problem(item_id, "cipher %s (%s) is not available in this host's OpenSSL; choose another "
                               "(aes128-cbc, aes256-gcm, ...)" % (name, c))
            return None
        return c

    @staticmethod
    def device_of(name: str) -> str:
        dev = "ovpn-" + name
        if len(dev) > 15:
            dev = "ovpn-" + hashlib.sha1(name.encode()).hexdigest()[:10]
        return dev

    # -- specs ------------------------------------------------------------------------------
    def _client(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        item_id, name = view[".id"], view.get("name")
        ca = os.path.join(self.certs(), "ca.crt")
        if not os.path.exists(ca):
            p.problem(item_id, "the server's CA certificate is needed: put it in %s" % ca)
            return None
        cipher = self._cipher(p, item_id, view.get("cipher") or "blowfish128")
        if cipher is None:
            return None
        run = self.driver.run_dir()
        tag = item_id.lstrip("*")
        auth_file = os.path.join(run, "ovpn-%s.auth" % tag)
        argv = ["openvpn", "--client", "--dev", name, "--dev-type", "tap" if view.get("mode") == "ethernet" else "tun",
                "--remote", str(view["connect-to"]).split("@")[0], str(view.get("port") or 1194),
                "--proto", "tcp-client" if view.get("protocol", "tcp") == "tcp" else "udp", "--nobind",
                "--ca", ca, "--data-ciphers", cipher, "--data-ciphers-fallback", cipher,
                "--auth", AUTHS.get(view.get("auth") or "sha1", "SHA1"), "--auth-nocache",
                "--auth-retry", "nointeract",
                "--connect-retry", "2", "5", "--disable-dco", "--verb", "3",
                "--management", os.path.join(run, "ovpn-%s.mgmt" % tag), "unix"]
        if view.get("user"):
            argv += ["--auth-user-pass", auth_file]
        if view.get("certificate") not in (None, "", "none"):
            pair = self._cert(view["certificate"])
            if pair is None:
                p.problem(item_id, "certificate %s: no %s.crt and %s.key in %s" % (
                    view["certificate"], view["certificate"], view["certificate"], self.certs()))
                return None
            argv += ["--cert", pair[0], "--key", pair[1]]
        if view.get("verify-server-certificate"):
            argv += ["--verify-x509-name", str(view["connect-to"]).split("@")[0], "name"]
        if view.get("tls-version") == "only-1.2":
            argv += ["--tls-version-min", "1.2", "--tls-version-max", "1.2"]
        if view.get("route-nopull"):
            argv += ["--route-nopull"]
        if view.get("add-default-route"):
            argv += ["--redirect-gateway", "def1"]
        if isinstance(view.get("max-mtu"), int):
            argv += ["--tun-mtu", str(view["max-mtu"])]
        if view.get("use-peer-dns"):
            p.notice(item_id, "use-peer-dns is not supported by the linux driver: the servers' DNS is not used")
        files = {auth_file: "%s\n%s\n" % (view.get("user") or "", view.get("password") or "")}
        return {"argv": argv, "files": files, "mgmt": os.path.join(run, "ovpn-%s.mgmt" % tag), "dev": name}

    def _server(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        item_id, name = view[".id"], view.get("name") or "ovpn-server"
        if view.get("certificate") in (None, "", "none"):
            p.problem(item_id, "certificate: an OVPN server needs one (certificate=NAME with NAME.crt and NAME.key "
                               "in %s)" % self.certs())
            return None
        pair = self._cert(view["certificate"])
        ca = os.path.join(self.certs(), "ca.crt")
        if pair is None or not os.path.exists(ca):
            p.problem(item_id, "certificate %s: %s.crt, %s.key and ca.crt are needed in %s" % (
                view["certificate"], view["certificate"], view["certificate"], self.certs()))
            return None
        ciphers = [CIPHERS.get(c, c) for c in view.get("cipher") or ["aes128-cbc"]]
        usable = [c for c in ciphers if c in self.available_ciphers()]
        if not usable:
            p.problem(item_id, "none of the ciphers %s is available in this host's OpenSSL" % ",".join(ciphers))
            return None
        if len(usable) < len(ciphers):
            p.notice(item_id, "ciphers %s are not available in this host's OpenSSL and are not offered"
                     % ",".join(c for c in ciphers if c not in usable))
        auths = view.get("auth") or ["sha1"]
        auth = "sha1" if "sha1" in auths else auths[0]
        users, ccd, profile = self._users(p, view)
        local = profile.get("local-address") if profile else None
        if not local or str(local).startswith("*"):
            p.problem(item_id, "the server needs an address: set local-address on its default profile or "
                               "its users' profile")
            return None
        mask = str(ipaddress.IPv4Network("0.0.0.0/%d" % int(view.get("netmask") or 24)).netmask)
        run = self.driver.run_dir()
        tag = item_id.lstrip("*")
        users_file = os.path.join(run, "ovpn-users-%s.json" % tag)
        script = os.path.join(run, "ovpn-auth-%s" % tag)
        ccd_dir = os.path.join(run, "ovpn-ccd-%s" % tag)
        if " " in script:
            p.problem(item_id, "the state directory's path has a space, which openvpn's script option cannot take")
            return None
        dev = self.device_of(name)
        argv = ["openvpn", "--mode", "server", "--tls-server", "--dev", dev,
                "--dev-type", "tap" if view.get("mode") == "ethernet" else "tun", "--topology", "subnet",
                "--port", str(view.get("port") or 1194),
                "--proto", "tcp-server" if view.get("protocol", "tcp") == "tcp" else "udp",
                "--ca", ca, "--cert", pair[0], "--key", pair[1], "--dh", "none",
                "--ifconfig", str(local), mask, "--push", "topology subnet", "--push", "route-gateway %s" % local,
                "--data-ciphers", ":".join(usable), "--data-ciphers-fallback", usable[0],
                "--auth", AUTHS.get(auth, "SHA1"), "--disable-dco", "--verb", "3",
                "--verify-client-cert", "require" if view.get("require-client-certificate") else "none",
                "--username-as-common-name", "--script-security", "2",
                "--auth-user-pass-verify", script, "via-file", "--client-config-dir", ccd_dir,
                "--management", os.path.join(run, "ovpn-%s.mgmt" % tag), "unix"]
        pool = profile.get("remote-address") if profile else None
        rng = p.snap.pool_range(pool) if isinstance(pool, str) and pool.startswith("*") else None
        if rng:
            argv += ["--ifconfig-pool", rng[0], rng[1], mask]
        keepalive = view.get("keepalive-timeout")
        if isinstance(keepalive, int) and keepalive > 0:
            argv += ["--keepalive", str(max(1, keepalive // 2)), str(keepalive)]
        for route in [r.strip() for r in (view.get("push-routes") or "").split(",") if r.strip()]:
            argv += ["--push", "route %s" % route]
        redirect = [f for f in view.get("redirect-gateway") or [] if f != "disabled"]
        if redirect:
            argv += ["--push", "redirect-gateway %s" % " ".join(redirect)]
        files = {users_file: json.dumps(users, sort_keys=True),
                 script: AUTH_SCRIPT % {"python": sys.executable or "/usr/bin/python3", "users": users_file}}
        for user, text in ccd.items():
            files[os.path.join(ccd_dir, user)] = text
        return {"argv": argv, "files": files, "mgmt": os.path.join(run, "ovpn-%s.mgmt" % tag), "dev": dev,
                "executable": [script], "ccd": ccd_dir}

    def _users(self, p: Pass, server: Dict[str, Any]) -> Any:
        """Passwords by user, per-user addresses (client-config-dir files) and
        the profile that gives the server its address."""
        from .ppp import Ppp
        users, ccd = {}, {}
        profile = Ppp._profile(p, server.get("default-profile"))
        chosen = profile if profile.get("local-address") else None
        for v in p.snap.enabled("/ppp/secret"):
            if v.get("service") not in ("any", "ovpn"):
                continue
            users[v["name"]] = v.get("password") or ""
            prof = Ppp._profile(p, v.get("profile"))
            if chosen is None and prof.get("local-address"):
                chosen = prof
            if v.get("remote-address"):
                mask = str(ipaddress.IPv4Network("0.0.0.0/%d" % int(server.get("netmask") or 24)).netmask)
                ccd[v["name"]] = "ifconfig-push %s %s\n" % (v["remote-address"], mask)
        return users, ccd, chosen or profile

    # -- reconciling -----------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        procs = self.ledger.setdefault("procs", {})
        wanted: Dict[str, Dict[str, Any]] = {}
        rows = [(CLIENT, v) for v in p.snap.enabled(CLIENT)] + [(SERVER, v) for v in p.snap.enabled(SERVER)]
        if rows and self.host.which("openvpn") is None:
            for _, v in rows:
                p.problem(v[".id"], "the host has no openvpn command (Debian package openvpn)")
            rows = []
        for path, view in rows:
            spec = self._client(p, view) if path == CLIENT else self._server(p, view)
            if spec is not None:
                spec["digest"] = hashlib.sha256(json.dumps([spec["argv"], spec["files"]], sort_keys=True)
                                                .encode()).hexdigest()
                wanted[view[".id"]] = spec
        for item_id, rec in list(procs.items()):
            if wanted.get(item_id, {}).get("digest") != rec.get("digest") or not self.host.alive(rec.get("pid"),
                                                                                                "openvpn"):
                self.host.stop(rec.get("pid"), "openvpn")     # a refused change restarts it (restore)
                del procs[item_id]
        for item_id, spec in wanted.items():
            if item_id in procs:
                continue
            for path, text in spec["files"].items():
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
                write_atomic(path, text.encode(), 0o700 if path in spec.get("executable", []) else 0o600)
            if spec.get("ccd"):
                os.makedirs(spec["ccd"], mode=0o700, exist_ok=True)
            log = os.path.join(self.driver.run_dir(), "ovpn-%s.log" % item_id.lstrip("*"))
            start = os.path.getsize(log) if os.path.exists(log) else 0
            pid = self.host.spawn(spec["argv"], log)
            p.journal.undo_with("start openvpn", lambda pid=pid: self.host.stop(pid, "openvpn"))
            time.sleep(0.2)
            if not self.host.alive(pid, "openvpn"):
                said = _tail(log, start)
                if "Options error" in said or "Usage:" in said:
                    raise RouterError("openvpn refused its options: %s" % said, "driver")
            procs[item_id] = {"pid": pid, "digest": spec["digest"], "since": time.time(), "mgmt": spec["mgmt"],
                              "dev": spec["dev"]}

    def internal_links(self) -> List[str]:
        return [rec["dev"] for item_id, rec in self.ledger.get("procs", {}).items()
                if self.router.store.path_of(item_id) == SERVER]

    # -- live values ----------------------------------------------------------------------------------
    def _ask(self, rec: Dict[str, Any], command: str) -> List[str]:
        """Lines a management interface answers ``command`` with (cached briefly)."""
        def ask():
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(1.0)
                s.connect(rec["mgmt"])
                s.sendall(command.encode() + b"\n")
                data = b""
                while b"\nEND" not in data and len(data) < 1 << 20:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                s.close()
            except OSError:
                return []
            return [ln for ln in data.decode(errors="replace").splitlines() if ln and not ln.startswith(">")]
        return self.system.cached("ovpn-%s-%s" % (command, rec["mgmt"]), ask)

    def _state(self, rec: Dict[str, Any]) -> Optional[List[str]]:
        """The management interface's ``state``: [time, state, desc, local ip, remote ip, ...]."""
        for line in self._ask(rec, "state"):
            if line[0].isdigit() and "," in line:
                return line.split(",")
        return None

    def client_state(self, view: Dict[str, Any]) -> Dict[str, Any]:
        rec = self.ledger.get("procs", {}).get(view[".id"])
        if view.get("disabled") or rec is None or not self.host.alive(rec.get("pid"), "openvpn"):
            return {"status": "disconnected", "running": False}
        st = self._state(rec)
        if st and len(st) > 3 and st[1] == "CONNECTED":
            out = {"status": "connected", "running": True, "local-address": st[3] or None,
                   "uptime": max(0, int(time.time()) - int(st[0])), "encoding": ""}
            for a in self.system.addresses():
                if a["dev"] == view.get("name"):
                    out["local-address"] = a["address"].split("/")[0]
            return out
        return {"status": "connecting", "running": False}

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == CLIENT:
            return self.client_state(view)
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path != ACTIVE:
            return []
        out = []
        for item_id, rec in self.ledger.get("procs", {}).items():
            if self.router.store.path_of(item_id) != SERVER or not self.host.alive(rec.get("pid"), "openvpn"):
                continue
            for line in self._ask(rec, "status 2"):
                f = line.split(",")
                if f[0] != "CLIENT_LIST" or len(f) < 9 or not f[8].isdigit():
                    continue
                out.append({".id": dynamic_id("ovpn", "%s|%s" % (f[1], f[2])), "name": f[9] if len(f) > 9
                            and f[9] != "UNDEF" else f[1], "service": "ovpn", "caller-id": f[2].rsplit(":", 1)[0],
                            "address": f[3] or None, "uptime": max(0, int(time.time()) - int(f[8])),
                            "encoding": f[12] if len(f) > 12 else "", ".dynamic": True})
        return out

    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path == CLIENT and name == "monitor":
            return self._monitor(item_id)
        return None

    def _monitor(self, item_id: Optional[str]) -> Iterator[Dict[str, str]]:
        while True:
            item = self.router.store.get(item_id or "")
            if item is None:
                raise RouterError("no such item (%s)" % item_id, "missing")
            st = self.client_state(dict(item, **{".id": item_id}))
            row = {"status": st["status"]}
            if st["status"] == "connected":
                row.update({"uptime": "%ds" % st["uptime"], "local-address": st.get("local-address") or ""})
            yield row


def _tail(path: str, start: int = 0) -> str:
    """The last line a program wrote to its log since ``start``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Options error" in ln:
            return ln
    return lines[-1] if lines else "(no output)"
