"""Where a bridge finds its daemon, and the line it says first.

Kept tiny (``os``, ``hashlib``, ``json``): the per-connection bridge imports
only this and :mod:`.bridge`, so a connection to a running daemon compiles
almost nothing.

The daemon listens on ``<state dir>/agent.sock`` (mode 0600, the directory
0700).  When that path is too long for a Unix socket it listens on
``$XDG_RUNTIME_DIR/winbox-agent-<uid>/<hash of the state dir>.sock`` (or under
``/tmp``), in a 0700 directory owned by the user.
"""

import hashlib
import json
import os
import sys
from typing import Any, Dict, Optional

SOCKET_NAME = "agent.sock"
LOCK_NAME = "daemon.lock"
PID_NAME = "daemon.pid"
LOG_NAME = "daemon.log"
HELLO = b"WINBOXPY-CONNECT 1 "
RESTART = b"WINBOXPY-RESTART\n"
SUN_PATH_MAX = 100

_HASH: Optional[str] = None


def socket_path(state_dir: str) -> str:
    state_dir = os.path.abspath(state_dir)
    path = os.path.join(state_dir, SOCKET_NAME)
    if len(path.encode()) <= SUN_PATH_MAX:
        return path
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    digest = hashlib.sha256(state_dir.encode()).hexdigest()[:20]
    return os.path.join(base, "winbox-agent-%d" % os.getuid(), digest + ".sock")


def private_dir(path: str) -> None:
    """Make ``path`` a directory only its owner (this user) can enter."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.lstat(path)
    import stat
    if not stat.S_ISDIR(st.st_mode):
        raise OSError("%s is not a directory" % path)
    if st.st_uid != os.getuid():
        raise OSError("%s belongs to another user (uid %d)" % (path, st.st_uid))
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)


def agent_hash() -> str:
    """The agent's version: the sha256 of its packed source.

    The loader that pushes the agent over SSH knows it and passes it in
    ``WINBOX_AGENT_HASH`` (or sets ``winbox_agent.AGENT_HASH``); an agent run
    from files hashes its ``.py`` files (sorted paths and contents).
    """
    global _HASH
    if _HASH is None:
        pkg = sys.modules.get("winbox_agent")
        _HASH = (os.environ.get("WINBOX_AGENT_HASH") or getattr(pkg, "AGENT_HASH", None)
                 or _hash_files(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return _HASH


def _hash_files(root: str) -> str:
    h = hashlib.sha256()
    found = False
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(base, name)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            found = True
            h.update(os.path.relpath(path, root).replace(os.sep, "/").encode() + b"\0")
            h.update(data + b"\0")
    return h.hexdigest() if found else "unknown"


def hello_line() -> bytes:
    """What a bridge tells the daemon about its connection."""
    uid = os.getuid()
    try:
        import pwd
        user = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        user = str(uid)
    info = {"agent_hash": agent_hash(), "user": user, "uid": uid, "pid": os.getpid(),
            "ssh_connection": os.environ.get("SSH_CONNECTION", "")}
    if uid == 0 and os.environ.get("SUDO_USER"):
        info["login"] = os.environ["SUDO_USER"]      # the person behind sudo (their /user group applies)
    return HELLO + json.dumps(info, separators=(",", ":")).encode() + b"\n"


def parse_hello(line: bytes) -> Optional[Dict[str, Any]]:
    if not line.startswith(HELLO) or not line.endswith(b"\n"):
        return None
    try:
        info = json.loads(line[len(HELLO):].decode())
    except ValueError:
        return None
    return info if isinstance(info, dict) else None
