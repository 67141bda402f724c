"""Command-line entry point of the desktop program (`winbox-py`).

``winbox-py`` opens the login window; ``--demo`` connects to the built-in
demo router; ``--self-test`` runs headless (demo agent, connect, print a
table, exit 0) to check an installed or frozen build; ``--version`` prints
the version. ``winbox-py cli ...`` is the router command line
(:mod:`winbox_py.climain`), and ``winbox-py agent ...`` runs the bundled agent
itself (so a frozen build can start its own local agent).
"""

from __future__ import annotations

import argparse
import sys

from winbox_py import __version__


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "cli":
        from winbox_py.climain import main as cli_main
        return cli_main(argv[1:])
    if argv and argv[0] == "agent":
        from winbox_agent.__main__ import main as agent_main
        return agent_main(argv[1:])
    if argv[:2] == ["-m", "winbox_agent"]:  # a frozen build starting its own local agent
        from winbox_agent.__main__ import main as agent_main
        return agent_main(argv[2:])
    parser = argparse.ArgumentParser(
        prog="winbox-py",
        description="A WinBox-style configurator for routers, over SSH. "
                    "'winbox-py cli ...' runs the router command line instead.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--demo", action="store_true", help="connect to the built-in demo router")
    parser.add_argument("--self-test", action="store_true",
                        help="headless check: start the demo agent, connect, print a table, exit")
    args = parser.parse_args(argv)
    if args.version:
        print(f"winbox-py {__version__}")
        return 0
    if args.self_test:
        from winbox_py.app import self_test
        return self_test()
    from winbox_py.app import run
    return run(demo=args.demo)


if __name__ == "__main__":
    raise SystemExit(main())
