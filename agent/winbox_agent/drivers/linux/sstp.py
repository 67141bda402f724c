"""SSTP clients on Linux: a pppd per client whose pty is ``sstpc`` (Debian
package sstp-client), with sstpc's pppd plugin for the MPPE keys.

``pppd file STATE/linux/sstp-<id>.options``; the options (see
:mod:`.pppclient`) end with ``pty "sstpc --nolaunchpppd ... SERVER:PORT"``
and ``plugin sstp-pppd-plugin.so`` (pppd runs the pty command with ``sh
-c``: every word is shell-quoted).  The server's certificate is checked
against ``STATE/certificates/ca.crt`` when verify-server-certificate is on
(the client is flagged while that file is missing), else only warned
about (``--cert-warn``).  What sstpc cannot do (a client certificate, a
choice of TLS version, ciphers or PFS) is reported as a notice.
"""

import os
import shlex
from typing import Any, Dict, List, Optional

from .area import Pass
from .pppclient import PppClients, host_of, quote

PATH = "/interface/sstp-client"
PLUGIN = "sstp-pppd-plugin.so"


class SstpClients(PppClients):
    """/interface sstp-client: pppd with sstpc as its pty."""

    key = "sstp"
    path = PATH
    paths = (PATH,)
    what = "SSTP"
    programs = ("pppd", "sstpc")
    auth_prop = "authentication"

    def ca_file(self) -> str:
        return os.path.join(self.router.state_dir or "/run/winbox-agent", "certificates", "ca.crt")

    def check(self, p: Pass, view: Dict[str, Any]) -> Optional[str]:
        if view.get("verify-server-certificate") and not os.path.exists(self.ca_file()):
            return "verify-server-certificate needs the authorities to trust: put them in %s" % self.ca_file()
        ignored = []
        if view.get("certificate") not in (None, "", "none"):
            ignored.append("a client certificate")
        if view.get("tls-version") not in (None, "any"):
            ignored.append("tls-version")
        if view.get("pfs") not in (None, "no"):
            ignored.append("pfs")
        if ignored:
            p.notice(view[".id"], "sstpc cannot be told %s: it uses its own TLS settings" % ", ".join(ignored))
        return None

    def extra_options(self, p: Pass, view: Dict[str, Any]) -> List[str]:
        name = view.get("name") or ""
        argv = ["sstpc", "--nolaunchpppd", "--ipparam", name]
        if view.get("verify-server-certificate"):
            argv += ["--ca-cert", self.ca_file()]
        else:
            argv.append("--cert-warn")
        if view.get("add-sni"):
            argv.append("--tls-ext")
        if view.get("http-proxy"):
            argv += ["--proxy", "http://%s:%d" % (host_of(view["http-proxy"]), int(view.get("proxy-port") or 443))]
        argv.append("%s:%d" % (host_of(view.get("connect-to")), int(view.get("port") or 443)))
        return ['pty "%s"' % quote(" ".join(shlex.quote(a) for a in argv)), "plugin %s" % PLUGIN,
                'sstp-sock "/var/run/sstpc/sstpc-%s"' % quote(name)]
