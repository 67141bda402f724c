"""Where the desktop program keeps its files on this computer.

Everything lives in the user's XDG directories (``$XDG_CONFIG_HOME``, default
``~/.config``; ``$XDG_CACHE_HOME``, default ``~/.cache``) under ``winbox-py``:

- ``config_dir()/known_hosts``: SSH host keys the user accepted in winbox-py;
- ``config_dir()/addresses.json``: the saved routers (no secrets);
- ``cache_dir()/hosts.json``: what the last probe of each device found (which
  python3 to run, whether the agent is cached there), to connect faster.

No password is ever written to any of them (see credentials.py).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "winbox-py"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    base = Path(value) if value and os.path.isabs(value) else Path(os.path.expanduser(fallback))
    return base / APP


def config_dir() -> Path:
    """The program's configuration folder (not created here)."""
    return _xdg("XDG_CONFIG_HOME", "~/.config")


def cache_dir() -> Path:
    """The program's cache folder (not created here)."""
    return _xdg("XDG_CACHE_HOME", "~/.cache")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing, mode 0700 for the leaf."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, mode 0600 (write, fsync, rename)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
