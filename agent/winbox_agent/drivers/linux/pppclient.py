"""What the PPP tunnel clients on Linux share (L2TP, PPTP, SSTP).

Each enabled client gets a pppd options file of its own
(``STATE/linux/<kind>-<id>.options``, mode 0600): the interface named as
the item (``ifname``, ``linkname``, ``ipparam``), the user, ``remotename
winbox-<kind>-<id>``, MTU/MRU, keepalives, the authentication methods the
item allows, add-default-route, use-peer-dns and what its PPP profile says
(encryption, compression, idle and session timeouts, fixed addresses).
The password is never on a command line nor in the options file: it is a
line of pppd's chap-secrets and pap-secrets (for that user and that
remotename only), in a block of the client's own between the agent's
markers; nothing else in those files is touched.

What the host lacks is reported on the item (``.problem``, ``/log``): a
missing program first (so it can be installed), then the kernel's PPP
support (``/dev/ppp``).  Without ``/dev/ppp`` the files are still written
(the client is configured and can be inspected) but nothing dials.

Live values come from the pppd that carries the session (found by its
options file on its command line) and the link named as the item.
"""

import hashlib
import os
import re
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...errors import RouterError
from ...types import format_duration
from .area import Area, Pass
from .cmd import missing_command, write_file
from .links import check_ifname
from .ppp import no_ppp_device

MARK = "# winbox-agent: %s %s"
AUTH_REFUSE = {"pap": "refuse-pap", "chap": "refuse-chap", "mschap1": "refuse-mschap",
               "mschap2": "refuse-mschap-v2"}


def quote(text: str) -> str:
    """A value for a pppd options or secrets file (inside double quotes)."""
    return re.sub(r'(["\\])', r"\\\1", str(text).replace("\n", " "))


def host_of(connect_to: Any) -> str:
    """The address part of ``connect-to`` (``address@vrf``)."""
    return str(connect_to or "").split("@", 1)[0]


def strip_blocks(text: str, prefix: str) -> str:
    """A secrets file without the blocks whose begin marker starts with ``prefix``."""
    out, inside = [], False
    for line in text.splitlines(True):
        bare = line.rstrip("\n")
        if not inside and bare.startswith(prefix) and bare.endswith("(begin)"):
            inside = True
        elif inside and bare.startswith(prefix) and bare.endswith("(end)"):
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def process_start(pid: int) -> Optional[float]:
    """When a process started (seconds since the epoch)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as fh:
            boot = next(int(ln.split()[1]) for ln in fh if ln.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / float(os.sysconf("SC_CLK_TCK"))


def find_pppd(options_path: str) -> Optional[int]:
    """The pid of the pppd reading ``options_path`` (started by us or by xl2tpd)."""
    want = options_path.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as fh:
                args = fh.read().split(b"\0")
        except OSError:
            continue
        if args and os.path.basename(args[0]) == b"pppd" and want in args:
            return int(entry)
    return None


class PppClients(Area):
    """Base of the L2TP, PPTP and SSTP client areas.

    Subclasses set ``path``, ``key`` (also the files' prefix), ``what`` (the
    protocol's name), ``programs`` (what must be installed) and ``auth_prop``,
    and implement :meth:`extra_options` and :meth:`run`.

    Attributes:
        ledger: ``procs`` (item id -> pid, digest, since of what runs),
            ``files`` (item id -> options file written).
    """

    path = ""
    what = ""
    programs: Tuple[str, ...] = ("pppd",)
    auth_prop = "allow"
    persist = True

    # -- what each client wants ----------------------------------------------------------
    def options_path(self, item_id: str) -> str:
        return os.path.join(self.driver.run_dir(), "%s-%s.options" % (self.key, item_id.lstrip("*")))

    def remote_name(self, item_id: str) -> str:
        return "winbox-%s-%s" % (self.key, item_id.lstrip("*"))

    def check(self, p: Pass, view: Dict[str, Any]) -> Optional[str]:
        """Why this client cannot work here at all (besides programs and /dev/ppp), or None."""
        return None

    def extra_options(self, p: Pass, view: Dict[str, Any]) -> List[str]:
        """Options of this kind of tunnel (the pty command of PPTP and SSTP)."""
        return []

    def spec(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Files and settings of one enabled client, or None (problem reported)."""
        item_id, name = view[".id"], view.get("name") or ""
        check_ifname(name)
        for prog in self.programs:
            if self.host.which(prog) is None:
                p.problem(item_id, "%s cannot dial: %s" % (name, missing_command(prog).reason))
                return None
        reason = self.check(p, view)
        if reason:
            p.problem(item_id, "%s cannot dial: %s" % (name, reason))
            return None
        lacking = no_ppp_device()
        if lacking:
            p.problem(item_id, "%s cannot dial: %s" % (name, lacking))
        if view.get("dial-on-demand"):
            p.notice(item_id, "dial-on-demand is not supported by the linux driver: the client dials at once")
        text = "\n".join(self.options(p, view)) + "\n"
        remote = self.remote_name(item_id)
        secret = '"%s" %s "%s" *' % (quote(view.get("user") or ""), remote, quote(view.get("password") or ""))
        return {"name": name, "options": text, "secret": secret, "dial": lacking is None,
                "digest": hashlib.sha256((text + secret).encode()).hexdigest()}

    def options(self, p: Pass, view: Dict[str, Any]) -> List[str]:
        """The pppd options of a client (its password is in the secrets files)."""
        item_id, name = view[".id"], view.get("name") or ""
        lines = ['ifname "%s"' % quote(name), 'linkname "%s"' % quote(name), 'ipparam "%s"' % quote(name),
                 'user "%s"' % quote(view.get("user") or ""), "remotename %s" % self.remote_name(item_id),
                 "noauth", "noipdefault"]
        if self.persist:
            lines += ["nodetach", "persist", "maxfail 0", "holdoff 5"]
        keepalive = view.get("keepalive-timeout")
        if isinstance(keepalive, int) and keepalive > 0:
            lines += ["lcp-echo-interval %d" % max(1, keepalive // 5), "lcp-echo-failure 5"]
        for opt in ("max-mtu", "max-mru"):
            if isinstance(view.get(opt), int):
                lines.append("%s %d" % (opt[4:], view[opt]))
        allowed = view.get(self.auth_prop) or []
        lines += [refuse for method, refuse in AUTH_REFUSE.items() if method not in allowed]
        if view.get("add-default-route"):
            lines.append("defaultroute")
            if isinstance(view.get("default-route-distance"), int):
                lines.append("defaultroute-metric %d" % view["default-route-distance"])
        if view.get("use-peer-dns") in (True, "yes", "exclusively"):
            lines.append("usepeerdns")
        lines += self.profile_options(p, view.get("profile"))
        lines += self.extra_options(p, view)
        return lines

    @staticmethod
    def profile_options(p: Pass, ref: Any) -> List[str]:
        """What a client's PPP profile says, as pppd options."""
        from .ppp import Ppp
        prof = Ppp._profile(p, ref)
        lines = []
        enc = prof.get("use-encryption")
        if enc == "required":
            lines.append("require-mppe-128")
        elif enc == "no":
            lines.append("nomppe")
        if prof.get("use-compression") == "no":
            lines += ["nobsdcomp", "nodeflate"]
        for prop, opt in (("session-timeout", "maxconnect"), ("idle-timeout", "idle")):
            if isinstance(prof.get(prop), int) and prof[prop] > 0:
                lines.append("%s %d" % (opt, prof[prop]))
        local, remote = prof.get("local-address"), prof.get("remote-address")
        fixed = [a if isinstance(a, str) and not a.startswith("*") else "" for a in (local, remote)]
        if any(fixed):
            lines.append("%s:%s" % tuple(fixed))
        return lines

    # -- reconciling ---------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        specs: Dict[str, Dict[str, Any]] = {}
        for view in p.snap.enabled(self.path):
            spec = self.spec(p, view)
            if spec is not None:
                specs[view[".id"]] = spec
        self.write_secrets(p, specs)
        files = self.ledger.setdefault("files", {})
        for item_id in list(files):
            if item_id not in specs:
                self.remove_file(p, files.pop(item_id))
        for item_id, spec in specs.items():
            path = self.options_path(item_id)
            self.put_file(p, path, spec["options"])
            files[item_id] = path
        self.run(p, specs)

    def put_file(self, p: Pass, path: str, text: str) -> None:
        """Write a file the agent owns (undone when the change is refused)."""
        try:
            with open(path) as fh:
                have: Optional[str] = fh.read()
        except OSError:
            have = None
        if have != text:
            p.journal.call("write %s" % path, lambda: write_file(path, text), lambda: _restore(path, have))

    def remove_file(self, p: Pass, path: str) -> None:
        try:
            with open(path) as fh:
                have = fh.read()
        except OSError:
            return
        p.journal.call("remove %s" % path, lambda: _restore(path, None), lambda: _restore(path, have))

    def write_secrets(self, p: Pass, specs: Dict[str, Dict[str, Any]]) -> None:
        """One block per client in chap-secrets and pap-secrets."""
        kind = self.path.rsplit("/", 1)[-1]
        prefix = MARK % (kind, "")
        blocks = "".join("{0}(begin)\n{1}\n{0}(end)\n".format(MARK % (kind, item_id + " "), spec["secret"])
                         for item_id, spec in sorted(specs.items()))
        for fname in ("chap-secrets", "pap-secrets"):
            path = self.host.etc(os.path.join("ppp", fname))
            try:
                with open(path) as fh:
                    have: Optional[str] = fh.read()
            except FileNotFoundError:
                have = None
            if have is None and not blocks:
                continue
            text = strip_blocks(have or "", prefix) + blocks
            if text != (have or ""):
                p.journal.call("write %s" % path, lambda t=text, pa=path: _secrets_file(pa, t),
                               lambda h=have, pa=path: _restore(pa, h))

    def run(self, p: Pass, specs: Dict[str, Dict[str, Any]]) -> None:
        """Start and stop what carries the sessions (one pppd per client here)."""
        procs = self.ledger.setdefault("procs", {})
        for item_id, rec in list(procs.items()):
            spec = specs.get(item_id)
            if spec is None or not spec["dial"] or spec["digest"] != rec.get("digest") \
                    or not self.host.alive(rec.get("pid"), "pppd"):
                self.host.stop(rec.get("pid"), "pppd")
                del procs[item_id]
        for item_id, spec in specs.items():
            if spec["dial"] and item_id not in procs:
                log = os.path.join(self.driver.run_dir(), "%s-%s.log" % (self.key, item_id.lstrip("*")))
                pid = self.host.spawn(["pppd", "file", self.options_path(item_id)], log)
                procs[item_id] = {"pid": pid, "digest": spec["digest"], "since": time.time()}
                p.journal.undo_with("stop pppd of %s" % spec["name"],
                                    lambda pid=pid: self.host.stop(pid, "pppd"))


    # -- live values -----------------------------------------------------------------------------
    def dialing(self, item_id: str) -> bool:
        """Whether something is trying to bring this client's session up."""
        rec = self.ledger.get("procs", {}).get(item_id)
        return rec is not None and self.host.alive(rec.get("pid"), "pppd")

    def client_state(self, view: Dict[str, Any]) -> Dict[str, Any]:
        item_id, name = view[".id"], view.get("name")
        out: Dict[str, Any] = {"status": "disconnected", "running": False, "uptime": None,
                               "local-address": None, "remote-address": None, "encoding": None}
        if view.get("disabled") or not self.dialing(item_id):
            return out
        out["status"] = "dialing"
        pid = find_pppd(self.options_path(item_id))
        link = self.system.link(name)
        if pid is None or link is None:
            return out
        for a in self.system.addresses():
            if a["dev"] == name:
                start = process_start(pid) or time.time()
                out.update({"status": "connected", "running": True, "local-address": a["address"].split("/")[0],
                            "remote-address": a["peer"].split("/")[0] if a.get("peer") else None,
                            "uptime": max(0, int(time.time() - start)), "encoding": "",
                            "mtu": link.get("mtu"), "mru": link.get("mtu")})
                break
        return out

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        st = self.client_state(view)
        st.pop("mtu", None)
        st.pop("mru", None)
        return st

    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if name == "monitor":
            return self._monitor(path, item_id)
        return None

    def _monitor(self, path: str, item_id: Optional[str]) -> Iterator[Dict[str, str]]:
        while True:
            item = self.router.store.get(item_id or "")
            if item is None:
                raise RouterError("no such item (%s)" % item_id, "missing")
            view = self.router.view(self.router.schema[path], item, runtime=False)
            st = self.client_state(view)
            row = {"status": st["status"]}
            if st["status"] == "connected":
                row.update({"uptime": format_duration(st["uptime"]), "encoding": st["encoding"] or "",
                            "local-address": st["local-address"] or "", "remote-address": st["remote-address"] or "",
                            "mtu": str(st.get("mtu") or ""), "mru": str(st.get("mru") or "")})
            yield row


def _secrets_file(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    write_file(path, text, 0o600)


def _restore(path: str, text: Optional[str]) -> None:
    """Put a file back as it was (None: it did not exist)."""
    if text is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    write_file(path, text, 0o600)
