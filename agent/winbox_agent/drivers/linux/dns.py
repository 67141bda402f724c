"""/ip dns: the resolver file (``/etc/resolv.conf``).

When ``servers`` is set the agent writes the resolver file with those
servers (keeping what was there before in its ledger); when it is emptied
the previous file comes back.  A host in a network namespace (a MetaROUTER
guest) has its file under ``/etc/netns/NAME/``, which ``ip netns exec``
puts in place.  The router does not answer DNS queries itself: with
``allow-remote-requests=yes`` (or a DoH server) the setting is flagged with
the reason.
"""

import errno
import os
from typing import Any, Dict, Optional

from ...store import write_atomic
from .area import Area, Pass

PATH = "/ip/dns"
HEADER = "# written by winbox-agent from /ip dns servers; emptying them brings the previous file back\n"


def read_file(path: str) -> Optional[Dict[str, Any]]:
    """What is at ``path``: a symlink's target, a file's text, or None."""
    if os.path.islink(path):
        return {"symlink": os.readlink(path)}
    try:
        with open(path) as fh:
            return {"text": fh.read()}
    except FileNotFoundError:
        return None


def put_file(path: str, content: Optional[Dict[str, Any]]) -> None:
    """Make ``path`` hold ``content`` (as :func:`read_file` returns it)."""
    if content is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if "symlink" in content:
        tmp = path + ".winbox-link"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(content["symlink"], tmp)
        os.replace(tmp, path)
        return
    try:
        write_atomic(path, content["text"].encode(), 0o644)
    except OSError as exc:
        # a file bind-mounted into place (ip netns exec) cannot be renamed over
        if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM):
            raise
        with open(path, "w") as fh:
            fh.write(content["text"])


class Dns(Area):
    """The resolver file from /ip dns servers."""

    key = "dns"
    paths = (PATH,)

    def reconcile(self, p: Pass) -> None:
        view = p.snap.single(PATH)
        if not view:
            return
        if view.get("allow-remote-requests"):
            p.notice(view[".id"], "allow-remote-requests: the linux driver runs no DNS server; "
                                   "only the router itself uses these servers")
        elif view.get("use-doh-server"):
            p.notice(view[".id"], "use-doh-server is not supported by the linux driver")
        path = self.host.etc("resolv.conf")
        servers = [str(s) for s in view.get("servers") or []]
        ledger = self.ledger
        have = read_file(path)
        if servers:
            text = HEADER + "".join("nameserver %s\n" % s for s in servers)
            if have == {"text": text}:
                return
            if "original" not in ledger:
                ledger["original"] = have
            p.journal.call("write %s" % path, lambda: put_file(path, {"text": text}),
                           lambda: put_file(path, have))
        elif "original" in ledger:
            original = ledger.pop("original")
            if have != original:
                p.journal.call("restore %s" % path, lambda: put_file(path, original),
                               lambda: put_file(path, have))
