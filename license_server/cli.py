"""Command line of the account server (``winbox-license-server``, ``python3 -m license_server``).

::

    winbox-license-server --db FILE --key FILE [--listen HOST:PORT]   serve
    winbox-license-server keygen --key FILE [--force]                  make the signing key
    winbox-license-server public-key --key FILE                        print license-server-key
    winbox-license-server add-account --db FILE NAME [--password-stdin] [--iterations N]
    winbox-license-server set-password --db FILE NAME [--password-stdin]
    winbox-license-server upgrade --db FILE SYSTEM-ID LEVEL            buy a level for a system
    winbox-license-server list --db FILE [--account NAME]              the systems of accounts

``serve`` prints ``listening on HOST:PORT`` once it accepts connections
(``--listen 127.0.0.1:0`` picks a free port) and runs until SIGTERM or ^C.
"""

import argparse
import getpass
import signal
import socket
import sqlite3
import sys
import time
from typing import Any, List, Optional, Tuple

from . import __version__, signing
from .db import Database, DatabaseError
from .service import DEFAULT_ITERATIONS, LicenseService, ServiceError, check_account_name
from .web import Server

DEFAULT_LISTEN = "127.0.0.1:8729"


class UsageError(Exception):
    """A command line mistake, reported as ``error: ...`` with exit status 2."""


def parse_listen(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise UsageError("--listen %s is not HOST:PORT (like 127.0.0.1:8729 or [::1]:8729)" % text)
    return host.strip("[]"), int(port)


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    p.add_argument("--db", default=default, metavar="FILE", help="the accounts database (SQLite; made if missing)")
    p.add_argument("--key", default=default, metavar="FILE", help="the server's Ed25519 private key (PEM)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="winbox-license-server",
                                description="The license account server of winbox-py (see docs/license.md).")
    p.add_argument("--version", action="version", version="winbox-license-server %s" % __version__)
    _common(p, top=True)
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help="where to serve (default %s; port 0: any free port)" % DEFAULT_LISTEN)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("serve", help="serve renewals (the default)")
    _common(s, top=False)
    s.add_argument("--listen", default=argparse.SUPPRESS, metavar="HOST:PORT")
    s = sub.add_parser("keygen", help="make the server's signing key")
    _common(s, top=False)
    s.add_argument("--force", action="store_true", help="replace an existing key (routers must be told)")
    s = sub.add_parser("public-key", help="print the public key to set as license-server-key on routers")
    _common(s, top=False)
    for name, what in (("add-account", "add an account"), ("set-password", "change an account's password")):
        s = sub.add_parser(name, help=what)
        _common(s, top=False)
        s.add_argument("name", metavar="NAME")
        s.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
        s.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                       help="PBKDF2 iterations (default %d)" % DEFAULT_ITERATIONS)
    s = sub.add_parser("upgrade", help="buy a license level for a registered system ID")
    _common(s, top=False)
    s.add_argument("system_id", metavar="SYSTEM-ID")
    s.add_argument("level", metavar="LEVEL", help="p1, p10 or p-unlimited")
    s = sub.add_parser("list", help="list the systems registered to accounts")
    _common(s, top=False)
    s.add_argument("--account", default=None, metavar="NAME")
    return p


def _password(args: Any) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
    else:
        password = getpass.getpass("password for %s: " % args.name)
        if getpass.getpass("again: ") != password:
            raise UsageError("the passwords differ")
    if not password:
        raise UsageError("the password must not be empty")
    return password


def _service(args: Any, need_key: bool = True) -> LicenseService:
    db = Database(args.db)
    signer = signing.load(args.key) if need_key else None
    return LicenseService(db, signer)  # type: ignore[arg-type]


def _date(t: Optional[int]) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t else "-"


def cmd_keygen(args: Any) -> int:
    if not args.key:
        raise UsageError("keygen needs --key FILE")
    signer = signing.generate(args.key, force=args.force)
    print(signer.public_b64)
    sys.stderr.write("wrote %s; set license-server-key=%s on the routers\n" % (args.key, signer.public_b64))
    return 0


def cmd_public_key(args: Any) -> int:
    print(signing.load(args.key).public_b64)
    return 0


def cmd_account(args: Any) -> int:
    try:
        name = check_account_name(args.name)
        password = _password(args)
        creds = LicenseService.credentials(password, args.iterations)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    db = Database(args.db)
    try:
        if args.command == "add-account":
            try:
                db.add_account(name, *creds, now=int(time.time()))
            except sqlite3.IntegrityError:
                raise UsageError("account %s already exists (set-password changes its password)" % name) from None
            print("account %s added" % name)
        else:
            if not db.set_password(name, *creds):
                raise UsageError("no account %s" % name)
            print("password of %s changed" % name)
    finally:
        db.close()
    return 0


def cmd_upgrade(args: Any) -> int:
    svc = _service(args, need_key=False)
    row = svc.upgrade(args.system_id, args.level)
    print("system ID %s: %s license, paid; the router gets it at its next renewal" % (row["system_id"],
                                                                                     row["level"]))
    return 0


def cmd_list(args: Any) -> int:
    svc = _service(args, need_key=False)
    rows = svc.listing(args.account)
    print("%-12s %-20s %-12s %-6s %-19s %-19s %s" % ("SYSTEM-ID", "ACCOUNT", "LEVEL", "PAID", "REGISTERED",
                                                   "TRIAL-ENDS", "LAST-KEY"))
    for r in rows:
        print("%-12s %-20s %-12s %-6s %-19s %-19s %s" % (
            r["system_id"], r["account"], r["level"], "yes" if r["paid"] else "trial", _date(r["registered_at"]),
            "-" if r["paid"] else _date(r["trial_ends_at"]), _date(r["last_issued_at"])))
    return 0


def cmd_serve(args: Any) -> int:
    host, port = parse_listen(args.listen)
    svc = _service(args)
    server_class = Server
    if ":" in host:
        server_class = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    try:
        server = server_class((host, port), svc)
    except OSError as exc:
        raise UsageError("cannot listen on %s: %s" % (args.listen, exc.strerror or exc)) from None

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound = server.server_address
    shown = "[%s]" % bound[0] if ":" in bound[0] else bound[0]
    print("listening on %s:%d (key %s)" % (shown, bound[1], svc.signer.key_id), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        svc.db.close()
    return 0


COMMANDS = {
    "serve": cmd_serve, "keygen": cmd_keygen, "public-key": cmd_public_key, "add-account": cmd_account,
    "set-password": cmd_account, "upgrade": cmd_upgrade, "list": cmd_list,
}


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command or "serve"](args)
    except (UsageError, DatabaseError, signing.KeyFileError) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 2
    except ServiceError as exc:
        sys.stderr.write("error: %s\n" % exc.message)
        return 1
