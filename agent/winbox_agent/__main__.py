"""Command line of the agent: ``winbox-agent [--driver] [--state-dir] COMMAND``."""

import argparse
import os
import sys
from typing import List, Optional


def default_state_dir() -> str:
    if os.geteuid() == 0:
        return "/var/lib/winbox-agent"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "winbox-agent")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="winbox-agent", description="The winbox-py device agent.")
    p.add_argument("--driver", choices=("sim", "linux"), default="sim",
                   help="sim: a simulated router; linux: apply to this Linux system (default: sim)")
    p.add_argument("--state-dir", default=None, help="where the configuration lives (default: %s)" % default_state_dir())
    p.add_argument("--seed", type=int, default=None, help="seed of the simulated router")
    sub = p.add_subparsers(dest="command")
    cli = sub.add_parser("cli", help="run RouterOS commands")
    cli.add_argument("-c", dest="script", default=None, help="a command (or several lines) to run")
    cli.add_argument("--json", action="store_true", help="print listings as JSON arrays")
    sub.add_parser("version", help="print the version")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "version":
        from . import __version__
        print("winbox-agent %s" % __version__)
        return 0
    if args.command is None:
        parser().print_help()
        return 2
    from .errors import RouterError
    from .router import Router
    state_dir = args.state_dir or default_state_dir()
    try:
        router = Router(state_dir, driver=args.driver, seed=args.seed)
    except RouterError as exc:
        sys.stderr.write("error: %s\n" % exc.message)
        return 1
    try:
        if args.command == "cli":
            from .cli.main import run
            return run(router, args.script, args.json)
    finally:
        router.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
