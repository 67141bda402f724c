"""Entry script of the frozen program (PyInstaller needs a file, not a module)."""

import sys

from winbox_py.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
