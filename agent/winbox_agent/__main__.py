"""Command line of the agent: ``winbox-agent [--driver] [--state-dir] COMMAND``.

Commands: ``cli`` (the RouterOS command language), ``serve`` (the protocol on
stdin/stdout in this process), ``bridge`` (stdin/stdout to the device's
daemon, started if needed: what each desktop connection runs), ``daemon``
(the daemon in the foreground, or ``--detach``\\ed), ``version``.

``bridge`` runs on every connection, so it imports only the few modules it
needs before connecting.
"""

import argparse
import os
import sys
from typing import Any, List, Optional


def default_state_dir(driver: str = "sim") -> str:
    """Where a device's configuration lives when ``--state-dir`` is not given.

    The real device (``linux`` as root) keeps it in ``/var/lib/winbox-agent``;
    anything else is per user, under ``$XDG_STATE_HOME`` (``~/.local/state``),
    one directory per driver so the simulated router never shares a
    configuration with a real one.
    """
    if driver == "linux" and os.geteuid() == 0:
        return "/var/lib/winbox-agent"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "winbox-agent", driver)


def _daemon_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--idle-exit", type=float, default=900.0, metavar="SECONDS",
                   help="a daemon with no connection for this long exits; 0: never (default: 900)")
    p.add_argument("--heartbeat", type=float, default=3.0, metavar="SECONDS",
                   help="seconds between pings to each desktop (default: 3)")
    p.add_argument("--dead-after", type=float, default=10.0, metavar="SECONDS",
                   help="a desktop silent for this long is disconnected (default: 10)")
    p.add_argument("--test-rows", type=int, default=None, metavar="N",
                   help=argparse.SUPPRESS)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="winbox-agent", description="The winbox-py device agent.")
    p.add_argument("--driver", choices=("sim", "linux"), default="sim",
                   help="sim: a simulated router; linux: apply to this Linux system (default: sim)")
    p.add_argument("--state-dir", default=None,
                   help="where the configuration lives (default: %s)" % default_state_dir())
    p.add_argument("--seed", type=int, default=None, help="seed of the simulated router")
    p.add_argument("--ssh-connection", default=None, metavar="TEXT",
                   help="the SSH_CONNECTION of the login (passed when sudo cleared the environment)")
    sub = p.add_subparsers(dest="command")
    cli = sub.add_parser("cli", help="run RouterOS commands")
    cli.add_argument("-c", dest="script", default=None, help="a command (or several lines) to run")
    cli.add_argument("--json", action="store_true", help="print listings as JSON arrays")
    cli.add_argument("--user", default=None, metavar="NAME",
                     help="run with the rights of this login (its /user group; default: this account, full)")
    serve = sub.add_parser("serve", help="speak the protocol on stdin/stdout in this process (no daemon)")
    _daemon_options(serve)
    bridge = sub.add_parser("bridge", help="connect stdin/stdout to the device's daemon, starting it if needed")
    _daemon_options(bridge)
    daemon = sub.add_parser("daemon", help="run the device's daemon")
    daemon.add_argument("--detach", action="store_true", help="run in the background (double fork, setsid)")
    _daemon_options(daemon)
    sub.add_parser("version", help="print the version")
    inst = sub.add_parser("install", help="install the agent and a systemd unit that runs its daemon at boot "
                                          "(--driver linux; see winbox_agent/install.py)")
    inst.add_argument("--prefix", default=None, help="where the agent's files go (/usr/local/lib/winbox-agent)")
    inst.add_argument("--unit-dir", default=None, help="where the systemd unit goes (/etc/systemd/system)")
    inst.add_argument("--python", default=None, help="the Python the unit runs (default: this one)")
    inst.add_argument("--root", default="/", help="install into this directory tree (no systemd)")
    inst.add_argument("--no-start", action="store_true", help="do not enable and start the unit")
    return p


def _options(args: Any) -> Any:
    from .proto.server import Options
    rows = args.test_rows
    if rows is None and os.environ.get("WINBOX_AGENT_TEST_ROWS", "").isdigit():
        rows = int(os.environ["WINBOX_AGENT_TEST_ROWS"])
    return Options(heartbeat=args.heartbeat, dead_after=args.dead_after, test_rows=rows or 0,
                   idle_exit=args.idle_exit)


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.ssh_connection and not os.environ.get("SSH_CONNECTION"):
        os.environ["SSH_CONNECTION"] = args.ssh_connection
    if args.command == "version":
        from . import __version__
        print("winbox-agent %s" % __version__)
        return 0
    if args.command is None:
        parser().print_help()
        return 2
    if args.command == "install":
        from . import install
        return install.main(args, args.state_dir)
    state_dir = os.path.abspath(args.state_dir or default_state_dir(args.driver))
    if args.command == "cli" and os.environ.get("WINBOX_AGENT_LINK_FD"):
        # a New Terminal of a running agent (proto/terminal.py): through its link, never beside it
        from .cli import remote
        return remote.run(state_dir, args.script, args.json, user=args.user)
    if args.command == "bridge":
        from .proto import bridge
        return bridge.main(state_dir, args.driver, args.seed, lambda: _options(args))
    if args.command == "daemon":
        from .proto import daemon
        run = daemon.run_detached if args.detach else daemon.run_foreground
        return run(state_dir, args.driver, args.seed, _options(args))
    lock = _exclusive(state_dir) if args.command in ("cli", "serve") else None
    if lock is False:
        # a daemon serves this state directory: go through it, never beside it
        if args.command == "cli":
            from .cli import remote
            return remote.run(state_dir, args.script, args.json, user=args.user)
        from .proto import bridge
        return bridge.main(state_dir, args.driver, args.seed, lambda: _options(args))
    from .errors import RouterError
    from .router import Router
    try:
        router = Router(state_dir, driver=args.driver, seed=args.seed)
    except (RouterError, OSError) as exc:
        sys.stderr.write("error: %s\n" % getattr(exc, "message", exc))
        if args.command == "serve":
            from .proto.bridge import report_fatal
            report_fatal("cannot load the configuration in %s: %s" % (state_dir, getattr(exc, "message", exc)))
        return 1
    try:
        if args.command == "cli":
            from .cli.main import run as run_cli
            return run_cli(router, args.script, args.json, user=args.user)
        if args.command == "serve":
            from .proto import serve
            return serve.run(router, _options(args))
    finally:
        router.close()
        if lock is not None:
            os.close(lock)
    return 2


def _exclusive(state_dir: str):
    """Take the daemon's lock for a run in this process: the lock's fd, False
    when a daemon holds it, None when the state dir cannot be locked."""
    import errno
    import fcntl
    from .proto.rendezvous import LOCK_NAME, private_dir
    try:
        private_dir(state_dir)
        fd = os.open(os.path.join(state_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        return None
    return fd


if __name__ == "__main__":
    sys.exit(main())
