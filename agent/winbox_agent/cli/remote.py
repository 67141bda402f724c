"""``winbox-agent cli`` while a daemon serves the same state directory.

The daemon holds the configuration in memory and writes it; a second process
writing ``config.json`` beside it would lose one side's changes.  So when the
daemon's lock is taken, the command line talks to the daemon through its
socket (the protocol's ``cli`` operation, one logical line at a time) instead
of loading the configuration itself.  Plain blocking sockets: this runs once
and exits.
"""

import json
import os
import socket
import sys
from typing import Any, Dict, Optional, Tuple

from ..proto.framing import MARKER_PREFIX, encode
from ..proto.rendezvous import HELLO, socket_path
from .lexer import logical_lines


class RemoteError(Exception):
    """The daemon could not be reached or broke the protocol."""


class DaemonLine:
    """A blocking protocol client good for running CLI lines.

    Attributes:
        sock: the connected Unix socket.
        cwd: the interpreter's menu level after the last line.
    """

    def __init__(self, state_dir: str, user: Optional[str] = None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(socket_path(state_dir))
        except OSError as exc:
            self.sock.close()
            raise RemoteError("cannot reach the agent's daemon for %s: %s" % (state_dir, exc.strerror or exc)) from None
        self.buf = b""
        self.next_id = 0
        self.cwd = "/"
        # no agent_hash: a command line uses the daemon that runs, whatever its version
        info: Dict[str, Any] = {"uid": os.getuid(), "pid": os.getpid(),
                                "user": _login_name(), "ssh_connection": os.environ.get("SSH_CONNECTION", "")}
        if user:
            info["login"] = user
        self.sock.sendall(HELLO + json.dumps(info, separators=(",", ":")).encode() + b"\n")
        self._skip_marker()
        first = self._frame()
        if first.get("op") == "fatal":
            raise RemoteError(first.get("message", "the daemon refused the connection"))
        self.sock.sendall(encode({"op": "init", "protocol": first.get("protocol", 1), "client": "winbox-agent cli",
                                  "capabilities": []}))

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RemoteError("the agent's daemon closed the connection")
        self.buf += chunk

    def _skip_marker(self) -> None:
        while True:
            at = self.buf.find(MARKER_PREFIX)
            if at >= 0 and b"\n" in self.buf[at:]:
                self.buf = self.buf[self.buf.index(b"\n", at) + 1:]
                return
            if len(self.buf) > 1 << 20:
                raise RemoteError("no protocol marker from the daemon")
            self._fill()

    def _frame(self) -> Dict[str, Any]:
        while b"\n" not in self.buf:
            self._fill()
        head, _, rest = self.buf.partition(b"\n")
        if not head.isdigit():
            raise RemoteError("bad frame from the daemon")
        n = int(head)
        self.buf = rest
        while len(self.buf) < n:
            self._fill()
        payload, self.buf = self.buf[:n], self.buf[n:]
        msg = json.loads(payload.decode("utf-8"))
        if not isinstance(msg, dict):
            raise RemoteError("bad message from the daemon")
        return msg

    def run(self, line: str, json_mode: bool) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """(result, trap) of one line."""
        self.next_id += 1
        rid = self.next_id
        req = {"id": rid, "op": "cli", "line": line}
        if json_mode:
            req["json"] = True
        self.sock.sendall(encode(req))
        trap = None
        while True:
            msg = self._frame()
            op = msg.get("op")
            if op == "ping":
                self.sock.sendall(encode({"op": "ping"}))
                continue
            if op == "fatal":
                raise RemoteError(msg.get("message", "the daemon ended the connection"))
            if msg.get("id") != rid:
                continue
            if op == "trap":
                trap = msg
            elif op == "done":
                return msg.get("result"), trap

    def close(self) -> None:
        self.sock.close()


def _login_name() -> str:
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())


def run(state_dir: str, command: Optional[str], json_mode: bool, user: Optional[str] = None,
        stdin: Any = None) -> int:
    """Run a script (``-c`` or stdin) through the daemon; same exit codes as the local CLI."""
    stdin = stdin or sys.stdin
    if command is None and stdin.isatty():
        sys.stderr.write("error: an interactive shell is not available while the daemon runs; "
                         "use -c or a script on stdin, or connect with winbox-py cli\n")
        return 2
    text = command if command is not None else stdin.read()
    try:
        client = DaemonLine(state_dir, user)
    except (RemoteError, OSError) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1
    try:
        for number, line in logical_lines(text):
            result, trap = client.run(line, json_mode)
            if trap is not None:
                message = trap.get("message", "failed")
                if json_mode:
                    sys.stderr.write(json.dumps({"error": message, "line": number}) + "\n")
                sys.stderr.write("error: line %d: %s\n  in: %s\n" % (number, message, line))
                return 1
            output = (result or {}).get("output", "")
            if output:
                sys.stdout.write(output + "\n")
                sys.stdout.flush()
            if (result or {}).get("quit"):
                break
    except (RemoteError, OSError) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1
    finally:
        client.close()
    return 0
