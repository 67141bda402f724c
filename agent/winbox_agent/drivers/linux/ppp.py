"""PPP on Linux: PPPoE clients (pppd with the rp-pppoe plugin), PPPoE
servers (``pppoe-server``), ``scan`` (``pppoe-discovery``), ``/ppp active``;
and what the host lacks for L2TP, PPTP and SSTP.

A PPPoE client is a ``pppd`` the agent starts in the foreground (detached),
its interface named as the item (``ifname``), its password in an options
file only root can read.  It needs the kernel's PPP support (``/dev/ppp``):
without it the client is flagged invalid with that reason.  A PPPoE server
is ``pppoe-server`` with the identity as its AC name, addresses from its
default profile (local-address, the first address of the remote-address
pool) and pppd options for the sessions; the users of /ppp secret (service
pppoe or any) go to pppd's chap-secrets and pap-secrets, in a block of
their own.  The server answers discovery without ``/dev/ppp`` (so ``scan``
finds it) but cannot carry sessions: that is reported as a notice.  ``scan`` runs one discovery
round (about a second) per sample.

L2TP, PPTP and SSTP clients are areas of their own (l2tp.py, pptp.py,
sstp.py).  L2TP, PPTP and SSTP servers and L2TP Ether are reported with
what is missing (``/dev/ppp``, xl2tpd, pptpd); on a host that has
everything they are reported as not supported by this driver yet.
"""

import hashlib
import os
import re
import threading
import time
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...store import write_atomic
from .area import Area, Pass
from .cmd import missing_command

PPPOE = "/interface/pppoe-client"
PPPOE_SERVER = "/interface/pppoe-server/server"
ACTIVE = "/ppp/active"
TUNNELS = {
    "/interface/l2tp-server/server": ("L2TP", ("xl2tpd", "pppd")),
    "/interface/pptp-server/server": ("PPTP", ("pptpd", "pppd")),
    "/interface/sstp-server/server": ("SSTP", ("pppd",)),
    "/interface/l2tp-ether": ("L2TPv3", ("ip",)),
}
PLUGINS = ("rp-pppoe.so", "pppoe.so")
BEGIN = "# winbox-agent: /ppp secret (begin; the agent rewrites this block)"
END = "# winbox-agent: /ppp secret (end)"


def no_ppp_device() -> Optional[str]:
    """Why the kernel cannot carry PPP here, or None."""
    if not os.path.exists("/dev/ppp"):
        return "the kernel has no PPP support here (/dev/ppp is missing)"
    return None


def pppoe_plugin() -> Optional[str]:
    for root in ("/usr/lib/pppd", "/usr/lib64/pppd", "/usr/lib/x86_64-linux-gnu/pppd"):
        if os.path.isdir(root):
            for version in sorted(os.listdir(root), reverse=True):
                for name in PLUGINS:
                    if os.path.exists(os.path.join(root, version, name)):
                        return name
    return None


def parse_discovery(text: str) -> List[Dict[str, str]]:
    """``pppoe-discovery`` output: one row per access concentrator."""
    rows, cur = [], {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if key == "Access-Concentrator":
            cur = {"ac-name": value, "service": "", "mac-address": ""}
            rows.append(cur)
        elif key == "Service-Name" and cur:
            cur["service"] = value
        elif key == "AC-Ethernet-Address" and cur:
            cur["mac-address"] = value.upper()
    return rows


class Ppp(Area):
    """PPPoE clients and servers; the other tunnel servers' missing pieces."""

    key = "ppp"
    paths = (PPPOE, PPPOE_SERVER, ACTIVE) + tuple(TUNNELS)

    def _missing(self, needs: tuple) -> Optional[str]:
        for cmd in needs:
            if self.host.which(cmd) is None:
                return missing_command(cmd).reason
        return None

    # -- reconciling -------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        procs = self.ledger.setdefault("procs", {})
        wanted: Dict[str, Dict[str, Any]] = {}
        for view in p.snap.enabled(PPPOE):
            spec = self._client_spec(p, view)
            if spec is not None:
                wanted[view[".id"]] = spec
        for view in p.snap.enabled(PPPOE_SERVER):
            spec = self._server_spec(p, view)
            if spec is not None:
                wanted[view[".id"]] = spec
        for path, (what, needs) in TUNNELS.items():
            for view in p.snap.rows(path):
                if view.get("disabled") or view.get("enabled") is False:
                    continue
                reason = (no_ppp_device() if "pppd" in needs else None) or self._missing(needs)
                if reason is None:
                    reason = "%s is not supported by the linux driver yet" % what
                p.problem(view[".id"], "%s cannot run: %s" % (what, reason))
        for item_id, rec in list(procs.items()):
            if wanted.get(item_id, {}).get("digest") != rec.get("digest") \
                    or not self.host.alive(rec.get("pid"), _program(rec)):
                self._stop(p, rec)
                del procs[item_id]
        serving = any(spec["kind"] == "pppoe-server" for spec in wanted.values())
        if serving or self.ledger.get("secrets"):
            self._secrets(p, serving)
            self.ledger["secrets"] = serving
        for item_id, spec in wanted.items():
            if item_id not in procs:
                procs[item_id] = self._start(p, item_id, spec)

    def _client_spec(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        item_id, name = view[".id"], view.get("name")
        reason = no_ppp_device() or self._missing(("pppd",))
        plugin = pppoe_plugin()
        if reason is None and plugin is None:
            reason = "pppd has no PPPoE plugin (rp-pppoe.so)"
        if reason:
            p.problem(item_id, "%s cannot dial: %s" % (name, reason))
            return None
        ifaces = [p.snap.ifname(i) for i in view.get("interface") or []]
        if len(ifaces) > 1:
            p.notice(item_id, "multilink PPPoE (MLPPP) is not supported by the linux driver: only %s is used"
                     % ifaces[0])
        if not ifaces or not ifaces[0] or self.system.link(ifaces[0]) is None:
            p.problem(item_id, "interface %s does not exist on this host" % (ifaces[0] if ifaces else ""))
            return None
        options = ["plugin %s" % plugin, "nic-%s" % ifaces[0], "ifname %s" % name, "linkname %s" % name,
                   "user \"%s\"" % _quote(view.get("user") or ""), "password \"%s\"" % _quote(view.get("password") or ""),
                   "noauth", "nodetach", "persist", "maxfail 0", "holdoff 5", "noipdefault",
                   "lcp-echo-interval %d" % max(1, int(view.get("keepalive-timeout") or 60) // 5),
                   "lcp-echo-failure 5"]
        mtu = view.get("max-mtu")
        mru = view.get("max-mru")
        if isinstance(mtu, int):
            options.append("mtu %d" % mtu)
        if isinstance(mru, int):
            options.append("mru %d" % mru)
        if view.get("service-name"):
            options.append("rp_pppoe_service \"%s\"" % _quote(view["service-name"]))
        if view.get("ac-name"):
            options.append("rp_pppoe_ac \"%s\"" % _quote(view["ac-name"]))
        if view.get("add-default-route"):
            options.append("defaultroute")
        if view.get("use-peer-dns"):
            options.append("usepeerdns")
        text = "\n".join(options) + "\n"
        return {"kind": "pppd", "text": text,
                "digest": hashlib.sha256(text.encode()).hexdigest(), "name": name}

    def _server_spec(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        item_id = view[".id"]
        reason = self._missing(("pppoe-server",))
        if reason:
            p.problem(item_id, "the PPPoE server cannot run: %s" % reason)
            return None
        iface = p.snap.ifname(view.get("interface"))
        if not iface or self.system.link(iface) is None:
            p.problem(item_id, "interface %s does not exist on this host" % iface)
            return None
        lacking = no_ppp_device()
        if lacking:
            p.notice(item_id, "clients can discover this server but cannot connect: %s" % lacking)
        identity = p.snap.single("/system/identity").get("name") or "MikroTik"
        profile = self._profile(p, view.get("default-profile"))
        local = profile.get("local-address")
        pool = profile.get("remote-address")
        remote = p.snap.pool_range(pool) if isinstance(pool, str) and pool.startswith("*") else (
            [pool, pool] if pool else None)
        opts = os.path.join(self.driver.run_dir(), "pppoe-server-%s.options" % item_id.lstrip("*"))
        text = self._server_options(view, profile)
        argv = ["pppoe-server", "-I", iface, "-C", identity, "-O", opts]
        if local and not str(local).startswith("*"):
            argv += ["-L", str(local)]
        if remote:
            argv += ["-R", remote[0]]
        if view.get("service-name"):
            argv += ["-S", view["service-name"]]
        if view.get("max-sessions"):
            argv += ["-N", str(view["max-sessions"])]
        if view.get("one-session-per-host"):
            argv += ["-x", "1"]
        return {"kind": "pppoe-server", "argv": argv, "options": (opts, text),
                "digest": hashlib.sha256((repr(argv) + text).encode()).hexdigest()}

    @staticmethod
    def _profile(p: Pass, ref: Any) -> Dict[str, Any]:
        """A PPP profile's view: the factory ones are referred to by name."""
        if isinstance(ref, str) and ref.startswith("*"):
            return p.snap.get(ref) or {}
        for v in p.snap.rows("/ppp/profile"):
            if v.get("name") == (ref or "default"):
                return v
        return {}

    @staticmethod
    def _server_options(view: Dict[str, Any], profile: Dict[str, Any]) -> str:
        """pppd options of the sessions a PPPoE server answers."""
        methods = {"pap": "require-pap", "chap": "require-chap", "mschap1": "require-mschap",
                   "mschap2": "require-mschap-v2"}
        lines = ["auth"] + [methods[a] for a in view.get("authentication") or [] if a in methods]
        lines += ["lcp-echo-interval %d" % max(1, int(view.get("keepalive-timeout") or 10)), "lcp-echo-failure 2",
                  "noipdefault", "nodefaultroute"]
        for opt in ("max-mtu", "max-mru"):
            if isinstance(view.get(opt), int):
                lines.append("%s %d" % (opt[4:], view[opt]))
        for dns in profile.get("dns-server") or []:
            lines.append("ms-dns %s" % dns)
        return "\n".join(lines) + "\n"

    def _secrets(self, p: Pass, serving: bool) -> None:
        """The users of /ppp secret (service pppoe or any) in pppd's secrets
        files, between the agent's markers, while a server runs; nothing else
        there is touched."""
        lines = []
        for v in p.snap.enabled("/ppp/secret") if serving else []:
            if v.get("service") not in ("any", "pppoe"):
                continue
            ip = v.get("remote-address") or "*"
            lines.append('"%s" * "%s" %s' % (_quote(v.get("name") or ""), _quote(v.get("password") or ""), ip))
        for name in ("chap-secrets", "pap-secrets"):
            path = self.host.etc(os.path.join("ppp", name))
            try:
                with open(path) as fh:
                    have = fh.read()
            except FileNotFoundError:
                have = None
            if have is None and not lines:
                continue
            kept = _without_block(have or "")
            text = kept + ("%s\n%s\n%s\n" % (BEGIN, "\n".join(lines), END) if lines else "")
            if text != (have or ""):
                p.journal.call("write %s" % path, lambda t=text, pa=path: _write(pa, t),
                               lambda h=have, pa=path: _write(pa, h))

    def _start(self, p: Pass, item_id: str, spec: Dict[str, Any]) -> Dict[str, Any]:
        run = self.driver.run_dir()
        tag = item_id.lstrip("*")
        log = os.path.join(run, "ppp-%s.log" % tag)
        if spec["kind"] == "pppd":
            opts = os.path.join(run, "ppp-%s.options" % tag)
            write_atomic(opts, spec["text"].encode(), 0o600)
            argv = ["pppd", "file", opts]
            pid = self.host.spawn(argv, log)
        else:
            opts, text = spec["options"]
            write_atomic(opts, text.encode(), 0o600)
            pidfile = os.path.join(run, "pppoe-server-%s.pid" % tag)
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            p.journal.run(spec["argv"] + ["-X", pidfile])     # it daemonizes and writes its pid
            pid = _read_pid(pidfile)
        rec = {"pid": pid, "digest": spec["digest"], "kind": spec["kind"], "since": time.time(),
               "name": spec.get("name")}
        p.journal.undo_with("stop %s" % spec["kind"], lambda: self.host.stop(pid, _program(rec)))
        return rec

    def _stop(self, p: Pass, rec: Dict[str, Any]) -> None:
        self.host.stop(rec.get("pid"), _program(rec))

    # -- live values -------------------------------------------------------------------
    def client_state(self, view: Dict[str, Any]) -> Dict[str, Any]:
        rec = self.ledger.get("procs", {}).get(view[".id"])
        if view.get("disabled") or rec is None or not self.host.alive(rec.get("pid"), _program(rec)):
            return {"status": "disconnected", "running": False}
        name = view.get("name")
        for a in self.system.addresses():
            if a["dev"] == name:
                return {"status": "connected", "running": True, "local-address": a["address"].split("/")[0],
                        "remote-address": a.get("peer", "").split("/")[0] if a.get("peer") else None,
                        "uptime": int(time.time() - rec.get("since", time.time())), "encoding": ""}
        return {"status": "dialing", "running": False}

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == PPPOE:
            return self.client_state(view)
        return {}

    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path == PPPOE and name == "scan":
            ifname = self.router.name_of(args["interface"]) if args.get("interface") else None
            if not ifname or self.system.link(ifname) is None:
                raise RouterError("interface: %s does not exist on this host" % ifname, "argument", "interface")
            return self._scan(ifname)
        if path in (PPPOE,) + tuple(TUNNELS) and name == "monitor":
            return self._monitor(path, item_id)
        return None

    def _scan(self, ifname: str) -> Iterator[Dict[str, str]]:
        """One discovery round, then the access concentrators that answered."""
        self.host.need("pppoe-discovery")
        self.host.run(["ip", "link", "set", "dev", ifname, "up"])
        done: Dict[str, Any] = {}

        def discover() -> None:
            try:
                done["result"] = self.host.try_run(["pppoe-discovery", "-I", ifname, "-t", "1", "-a", "1"],
                                                   timeout=10)
            except Exception as exc:  # handed to the caller below
                done["error"] = exc
        # the round takes about a second: run it beside the daemon's loop, not in it
        worker = threading.Thread(target=discover, name="pppoe-discovery", daemon=True)
        worker.start()
        while worker.is_alive():
            yield None
        if "error" in done:
            raise done["error"]
        for row in parse_discovery(done["result"].out):
            yield row

    def _monitor(self, path: str, item_id: Optional[str]) -> Iterator[Dict[str, str]]:
        while True:
            item = self.router.store.get(item_id or "")
            if item is None:
                raise RouterError("no such item (%s)" % item_id, "missing")
            view = self.router.view(self.router.schema[path], item, runtime=False)
            if path != PPPOE:
                yield {"status": "disconnected"}
                continue
            st = self.client_state(view)
            row = {"status": st["status"]}
            if st["status"] == "connected":
                row.update({"uptime": "%ds" % st["uptime"], "local-address": st["local-address"] or "",
                            "remote-address": st["remote-address"] or ""})
            yield row


def _program(rec: Dict[str, Any]) -> str:
    """The program a ledger record's pid must be (a pid is reused after a reboot)."""
    return "pppd" if rec.get("kind") == "pppd" else "pppoe-server"


def _quote(text: str) -> str:
    """A value for a pppd options file (inside double quotes)."""
    return re.sub(r'(["\\])', r"\\\1", text.replace("\n", " "))


def _without_block(text: str) -> str:
    """A secrets file without the agent's block."""
    out, inside = [], False
    for line in text.splitlines(True):
        if line.rstrip("\n") == BEGIN:
            inside = True
        elif line.rstrip("\n") == END:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def _write(path: str, text: Optional[str]) -> None:
    if text is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_atomic(path, text.encode(), 0o600)


def _read_pid(path: str, wait: float = 3.0) -> Optional[int]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with open(path) as fh:
                text = fh.read().strip()
            if text.isdigit():
                return int(text)
        except OSError:
            pass
        time.sleep(0.05)
    return None

