"""L2TP clients on Linux: one xl2tpd per agent, a ``lac`` section per client.

The agent runs its own xl2tpd (``xl2tpd -D``, detached from the agent),
with its configuration, tunnel secrets file, control pipe and pid file in
``STATE/linux/`` (``xl2tpd.conf``, ``l2tp-secrets``, ``xl2tpd.control``,
``xl2tpd.pid``), so it never touches a system xl2tpd's files.  Each enabled
client is a section ``[lac wb-<id>]``: ``lns`` is its connect-to,
``pppoptfile`` its pppd options file (see :mod:`.pppclient`: the ppp
interface is named as the item, the password is in pppd's secrets files),
redial every 5 s, and ``autodial`` when the kernel can carry PPP: xl2tpd
then starts the pppd of the session.  Without ``/dev/ppp`` xl2tpd still
runs with the sections (so the configuration can be seen) and the client
is flagged with the reason.

Any change to a client restarts xl2tpd with the new configuration; when no
client is enabled it is stopped and its files are removed.  L2TPv3 and
IPsec are not done by xl2tpd: such a client is flagged.
"""

import hashlib
import os
import time
from typing import Any, Dict, Optional

from .area import Pass
from .pppclient import PppClients, host_of

PATH = "/interface/l2tp-client"
PORT = 1701


class L2tpClients(PppClients):
    """/interface l2tp-client: lac sections of the agent's xl2tpd."""

    key = "l2tp"
    path = PATH
    paths = (PATH,)
    what = "L2TP"
    programs = ("pppd", "xl2tpd")
    persist = False             # xl2tpd redials

    def file(self, name: str) -> str:
        return os.path.join(self.driver.run_dir(), name)

    def check(self, p: Pass, view: Dict[str, Any]) -> Optional[str]:
        if view.get("l2tp-proto-version") not in (None, "l2tpv2"):
            return "xl2tpd speaks L2TPv2 only (l2tp-proto-version=%s)" % view["l2tp-proto-version"]
        if view.get("use-ipsec"):
            return "use-ipsec is not supported by the linux driver (the tunnel would not be encrypted)"
        if view.get("src-address"):
            p.notice(view[".id"], "src-address is not used: the kernel chooses the tunnel's source address")
        return None

    def spec(self, p: Pass, view: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        spec = PppClients.spec(self, p, view)
        if spec is not None:
            spec["lac"] = ("[lac wb-%s]\nlns = %s\npppoptfile = %s\nrequire authentication = no\n"
                           "redial = yes\nredial timeout = 5\nautodial = %s\nlength bit = yes\n"
                           % (view[".id"].lstrip("*"), host_of(view.get("connect-to")),
                              self.options_path(view[".id"]), "yes" if spec["dial"] else "no"))
        return spec

    def config(self, specs: Dict[str, Dict[str, Any]]) -> str:
        """xl2tpd.conf of the agent's instance."""
        head = "; written by winbox-agent: rewritten on every change\n[global]\nport = %d\nauth file = %s\n" \
               "access control = no\n" % (PORT, self.file("l2tp-secrets"))
        return head + "".join("\n" + specs[i]["lac"] for i in sorted(specs))

    def run(self, p: Pass, specs: Dict[str, Dict[str, Any]]) -> None:
        rec = self.ledger.get("daemon")
        files = [self.file(n) for n in ("xl2tpd.conf", "l2tp-secrets")]
        text = self.config(specs)
        digest = hashlib.sha256((text + "".join(specs[i]["digest"] for i in sorted(specs))).encode()).hexdigest()
        if rec and (not specs or rec.get("digest") != digest or not self.host.alive(rec.get("pid"), "xl2tpd")):
            self.host.stop(rec.get("pid"), "xl2tpd")
            self.ledger.pop("daemon", None)
            rec = None
        self.ledger["dialing"] = sorted(i for i, s in specs.items() if s["dial"])
        if not specs:
            for path in files:
                self.remove_file(p, path)
            for path in (self.file("xl2tpd.control"), self.file("xl2tpd.pid")):
                if os.path.exists(path):
                    os.unlink(path)
            return
        self.put_file(p, files[0], text)
        self.put_file(p, files[1], "# tunnel secrets of the agent's xl2tpd (none: tunnels are not authenticated)\n")
        if rec is None:
            pidfile = self.file("xl2tpd.pid")
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            argv = ["xl2tpd", "-D", "-c", files[0], "-s", files[1], "-p", pidfile, "-C", self.file("xl2tpd.control")]
            pid = self.host.spawn(argv, self.file("xl2tpd.log"))
            self.ledger["daemon"] = {"pid": pid, "digest": digest, "since": time.time()}
            p.journal.undo_with("stop xl2tpd", lambda: self.host.stop(pid, "xl2tpd"))


    def dialing(self, item_id: str) -> bool:
        rec = self.ledger.get("daemon") or {}
        return item_id in self.ledger.get("dialing", []) and self.host.alive(rec.get("pid"), "xl2tpd")
