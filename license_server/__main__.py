"""``python3 -m license_server``: see :mod:`license_server.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
