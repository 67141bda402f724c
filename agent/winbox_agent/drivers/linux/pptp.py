"""PPTP clients on Linux: a pppd per client whose pty is the ``pptp``
program (Debian package pptp-linux) talking to the server.

``pppd file STATE/linux/pptp-<id>.options`` runs in the foreground
(detached from the agent); its options (see :mod:`.pppclient`) end with
``pty "pptp SERVER --nolaunchpppd"`` (pppd runs it with ``sh -c``: every
word is shell-quoted).  Disabling or removing the client
stops that pppd, which ends its pptp.
"""

import shlex
from typing import Any, Dict, List

from .area import Pass
from .pppclient import PppClients, host_of, quote

PATH = "/interface/pptp-client"


class PptpClients(PppClients):
    """/interface pptp-client: pppd with pptp as its pty."""

    key = "pptp"
    path = PATH
    paths = (PATH,)
    what = "PPTP"
    programs = ("pppd", "pptp")

    def extra_options(self, p: Pass, view: Dict[str, Any]) -> List[str]:
        command = "pptp %s --nolaunchpppd" % shlex.quote(host_of(view.get("connect-to")))
        return ['pty "%s"' % quote(command)]
