"""``/interface ovpn-client import-ovpn-configuration``: an OpenVPN client
configuration file (``.ovpn``) turned into an ovpn-client interface.

Only what RouterOS's own client can do is taken from the file (remote, port,
proto, dev, cipher, auth, tls-version-min, route-nopull); the rest is
ignored, as RouterOS does.  Certificates inline in the file are not imported:
this router has no certificate store, so the interface keeps
``certificate=none``.  Files are read from the router's file area
(``<state dir>/files``) unless an absolute path is given.
"""

import os
import re
from typing import Any, Dict, List

from .errors import RouterError

CIPHERS = {"bf-cbc": "blowfish128", "aes-128-cbc": "aes128-cbc", "aes-192-cbc": "aes192-cbc",
           "aes-256-cbc": "aes256-cbc", "aes-128-gcm": "aes128-gcm", "aes-192-gcm": "aes192-gcm",
           "aes-256-gcm": "aes256-gcm", "none": "null"}
AUTHS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "none": "null"}


def parse(text: str) -> Dict[str, str]:
    """The ovpn-client values a configuration file gives (as the CLI would type them)."""
    values: Dict[str, str] = {}
    inline = None
    for raw in text.splitlines():
        line = raw.strip()
        if inline:
            if line.lower() == "</%s>" % inline:
                inline = None
            continue
        m = re.fullmatch(r"<([A-Za-z-]+)>", line)
        if m:
            inline = m.group(1).lower()
            continue
        if not line or line[0] in "#;":
            continue
        words = line.split()
        key, args = words[0].lower(), words[1:]
        if key == "remote" and args and "connect-to" not in values:
            values["connect-to"] = args[0]
            if len(args) > 1:
                values["port"] = args[1]
            if len(args) > 2:
                values["protocol"] = _proto(args[2])
        elif key in ("port", "rport") and args:
            values["port"] = args[0]
        elif key == "proto" and args:
            values["protocol"] = _proto(args[0])
        elif key == "dev" and args:
            values["mode"] = "ethernet" if args[0].lower().startswith("tap") else "ip"
        elif key in ("cipher", "data-ciphers") and args:
            cipher = CIPHERS.get(args[0].split(":")[0].lower())
            if cipher is None:
                raise RouterError("file-name: cipher %s is not supported (allowed: %s)" % (
                    args[0], ", ".join(sorted(CIPHERS))), "argument", "file-name")
            if key == "cipher" or "cipher" not in values:
                values["cipher"] = cipher
        elif key == "auth" and args:
            auth = AUTHS.get(args[0].lower())
            if auth is None:
                raise RouterError("file-name: auth %s is not supported (allowed: %s)" % (
                    args[0], ", ".join(sorted(AUTHS))), "argument", "file-name")
            values["auth"] = auth
        elif key == "tls-version-min" and args and args[0].startswith("1.2"):
            values["tls-version"] = "only-1.2"
        elif key == "route-nopull":
            values["route-nopull"] = "yes"
    if "connect-to" not in values:
        raise RouterError("file-name: the configuration has no remote", "argument", "file-name")
    return values


def _proto(word: str) -> str:
    return "udp" if word.lower().startswith("udp") else "tcp"


def file_path(router: Any, name: str) -> str:
    if os.path.isabs(name):
        return name
    base = os.path.join(router.state_dir, "files") if router.state_dir else os.getcwd()
    return os.path.join(base, name)


def import_configuration(router: Any, args: Dict[str, Any]) -> List[Dict[str, str]]:
    """Add an ovpn-client (enabled) from ``args["file-name"]``; its row names the new interface."""
    name = args["file-name"]
    try:
        with open(file_path(router, name)) as fh:
            text = fh.read()
    except OSError as exc:
        raise RouterError("file-name: cannot read %s (%s)" % (name, exc.strerror), "argument", "file-name") from None
    values = parse(text)
    for arg, prop in (("ovpn-user", "user"), ("ovpn-password", "password")):
        if args.get(arg):
            values[prop] = args[arg]
    values["name"] = _free(router, "ovpn-import")
    values["disabled"] = "no"
    router.add("/interface/ovpn-client", values)
    return [{"interface": values["name"]}]


def _free(router: Any, stem: str) -> str:
    taken = {r.get("name") for m in router.interface_menus() for r in router.rows(m.path, runtime=False)}
    n = 1
    while "%s%d" % (stem, n) in taken:
        n += 1
    return "%s%d" % (stem, n)
