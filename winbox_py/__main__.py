"""Command-line entry point of the desktop program (`winbox-py`)."""

from __future__ import annotations

import argparse

from winbox_py import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="winbox-py")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--demo", action="store_true", help="connect to the built-in demo router")
    args = parser.parse_args(argv)
    if args.version:
        print(f"winbox-py {__version__}")
        return 0
    print("desktop not built yet")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
