"""``winbox-agent cli`` while a daemon serves the same state directory.

The daemon holds the configuration in memory and writes it; a second process
writing ``config.json`` beside it would lose one side's changes.  So when the
daemon's lock is taken, the command line talks to the daemon through its
socket (the protocol's ``cli`` operation, one logical line at a time) instead
of loading the configuration itself.  Plain blocking sockets.

A New Terminal (proto/terminal.py) starts this on a pty with an inherited
link to the agent (``WINBOX_AGENT_LINK_FD``) instead of the socket; on a
terminal it is an interactive shell: the RouterOS prompt the agent's
interpreter gives (``[admin@MikroTik] /ip address> ``), line editing and
history through ``readline`` where it exists, Ctrl-C cancels the line (or
stops a running command), Ctrl-D or ``/quit`` leaves.  Stream commands
(``monitor`` without ``once``) go through the ``command`` operation and
print their samples until Ctrl-C cancels them.
"""

import json
import os
import socket
import sys
from typing import Any, Dict, List, Optional, Tuple

from ..proto.framing import MARKER_PREFIX, encode
from ..proto.rendezvous import HELLO, socket_path
from .lexer import logical_lines

LINK_ENV = "WINBOX_AGENT_LINK_FD"


class RemoteError(Exception):
    """The daemon could not be reached or broke the protocol."""


class DaemonLine:
    """A blocking protocol client good for running CLI lines.

    Attributes:
        sock: the connected Unix socket.
        cwd: the interpreter's menu level after the last line.
    """

    def __init__(self, state_dir: str, user: Optional[str] = None, link: Optional[int] = None):
        self.buf = b""
        self.next_id = 0
        self.cwd = "/"
        self.last_size = 0
        if link is not None:
            # a terminal's link: the agent already knows who this is (the connection that opened it)
            try:
                self.sock = socket.socket(fileno=link)
            except OSError as exc:
                raise RemoteError("the terminal's link to the agent (fd %d) is not usable: %s" % (
                    link, exc.strerror or exc)) from None
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(socket_path(state_dir))
            except OSError as exc:
                self.sock.close()
                raise RemoteError("cannot reach the agent's daemon for %s: %s" % (
                    state_dir, exc.strerror or exc)) from None
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
        self.last_size = n
        msg = json.loads(payload.decode("utf-8"))
        if not isinstance(msg, dict):
            raise RemoteError("bad message from the daemon")
        return msg

    def _send(self, req: Dict[str, Any]) -> int:
        self.next_id += 1
        req["id"] = self.next_id
        self.sock.sendall(encode(req))
        return self.next_id

    def _reply(self, rid: int) -> Dict[str, Any]:
        """The next frame of request ``rid`` (pings answered, others skipped)."""
        while True:
            msg = self._frame()
            op = msg.get("op")
            if op == "ping":
                self.sock.sendall(encode({"op": "ping"}))
                continue
            if op == "fatal":
                raise RemoteError(msg.get("message", "the daemon ended the connection"))
            if msg.get("id") == rid:
                return msg

    def run(self, line: str, json_mode: bool, **extra: Any) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """(result, trap) of one line (``extra``: ``prompt``, ``streams``)."""
        req: Dict[str, Any] = {"op": "cli", "line": line}
        if json_mode:
            req["json"] = True
        req.update(extra)
        rid = self._send(req)
        trap = None
        while True:
            msg = self._reply(rid)
            if msg.get("op") == "trap":
                trap = msg
            elif msg.get("op") == "done":
                return msg.get("result"), trap

    def describe(self) -> Dict[str, Any]:
        """Every menu's description (for completion); empty if refused."""
        rid = self._send({"op": "describe"})
        menus: Dict[str, Any] = {}
        while True:
            msg = self._reply(rid)
            if msg.get("op") == "done":
                return dict((msg.get("result") or {}).get("menus") or menus)

    def watch(self, spec: Dict[str, Any], show: Any) -> Tuple[Optional[str], bool]:
        """Run a stream command (op ``command``), giving each row to ``show``,
        until it ends or Ctrl-C cancels it; returns (its error message, if
        any; whether it was cancelled)."""
        req = {"op": "command", "path": spec["path"], "command": spec["command"], "args": spec.get("args") or {}}
        if spec.get("item"):
            req["item"] = spec["item"]
        rid = self._send(req)
        received = 0
        error = None
        cancelled = False
        while True:
            try:
                msg = self._reply(rid)
            except KeyboardInterrupt:
                if not cancelled:
                    cancelled = True
                    self.sock.sendall(encode({"op": "cancel", "id": rid}))
                continue
            op = msg.get("op")
            if op == "data":
                received += self.last_size
                self.sock.sendall(encode({"op": "ack", "id": rid, "bytes": received}))
                if not cancelled:
                    for row in msg.get("rows", []):
                        show(row)
            elif op == "trap":
                if msg.get("problem") != "interrupted":
                    error = msg.get("message", "failed")
            elif op == "done":
                return error, cancelled

    def close(self) -> None:
        self.sock.close()


def _login_name() -> str:
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())


def _link() -> Optional[int]:
    value = os.environ.pop(LINK_ENV, "")
    return int(value) if value.isdigit() else None


def run(state_dir: str, command: Optional[str], json_mode: bool, user: Optional[str] = None,
        stdin: Any = None) -> int:
    """Run a script (``-c`` or stdin) through the daemon, or an interactive
    shell on a terminal; same exit codes as the local CLI."""
    stdin = stdin or sys.stdin
    try:
        client = DaemonLine(state_dir, user, link=_link())
    except (RemoteError, OSError) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1
    if command is None and stdin.isatty() and not json_mode:
        try:
            return interactive(client)
        except (RemoteError, OSError) as exc:
            sys.stderr.write("\nerror: %s\n" % exc)
            return 1
        finally:
            client.close()
    try:
        text = command if command is not None else stdin.read()
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


# -- the interactive shell -----------------------------------------------------------------------

VERBS = ("add", "comment", "disable", "enable", "export", "get", "move", "print", "remove", "set", "unset")


class Completer:
    """Tab completion of menu words and commands (``/ip add<Tab>``), from
    the menus the agent describes.

    Attributes:
        menus: menu path -> its description; cwd: the interpreter's level.
    """

    def __init__(self, menus: Dict[str, Any]):
        self.menus = menus
        self.cwd = "/"
        self._matches: List[str] = []

    def words(self, line: str) -> List[str]:
        """What may come next after the words of ``line`` before the cursor."""
        parts = line.split()
        base = "/" if parts and parts[0].startswith("/") else self.cwd
        for word in parts:
            for seg in word.split("/"):
                if seg == "..":
                    base = base.rsplit("/", 1)[0] or "/"
                elif seg:
                    nxt = base.rstrip("/") + "/" + seg
                    if not any(p == nxt or p.startswith(nxt + "/") for p in self.menus):
                        return []       # past the menu words: arguments are not completed
                    base = nxt
        prefix = base.rstrip("/") + "/"
        found = {p[len(prefix):].split("/", 1)[0] for p in self.menus if p.startswith(prefix)}
        menu = self.menus.get(base)
        if menu is not None:
            found.update(VERBS)
            found.update(c.get("name", "") for c in menu.get("commands", []))
        return sorted(w for w in found if w)

    def complete(self, text: str, state: int) -> Optional[str]:
        if state == 0:
            import readline
            line = readline.get_line_buffer()[:readline.get_begidx()]
            lead = "/" if text.startswith("/") else ""
            before = line + lead if lead else line
            self._matches = [lead + w + " " for w in self.words(before) if w.startswith(text[len(lead):])]
        return self._matches[state] if state < len(self._matches) else None


def _line_editing(completer: Optional[Completer] = None) -> None:
    try:
        import readline
    except ImportError:
        return
    # Ctrl-A then Q leaves a MetaROUTER console at once: it enters the line "\x01q"
    for key in ("q", "Q"):
        readline.parse_and_bind(r'"\C-a%s": "\C-e\C-u\C-v\C-aq\n"' % key)
    readline.set_completer_delims(" \t\n=")
    readline.parse_and_bind("tab: complete")
    readline.set_completer(completer.complete if completer is not None else (lambda text, state: None))


def _show_sample(row: Dict[str, str], last: List[Any]) -> None:
    """A stream's sample as ``name: value`` lines (an unchanged one again says nothing)."""
    from .printer import settings
    shown = {k: v for k, v in row.items() if not k.startswith(".")}
    if last and last[0] == shown:
        return
    last[:] = [shown]
    sys.stdout.write(settings(shown, list(shown)) + "\n\n")
    sys.stdout.flush()


def interactive(client: DaemonLine) -> int:
    """The shell a New Terminal shows (module docstring)."""
    completer = Completer(client.describe())
    _line_editing(completer)
    result, _ = client.run("", False, prompt=True)
    prompt = (result or {}).get("prompt") or "> "
    while True:
        try:
            line = input(prompt)
        except EOFError:
            sys.stdout.write("\n")
            return 0
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            continue
        if not line.strip():
            continue
        try:
            result, trap = client.run(line, False, prompt=True, streams=True)
            if trap is not None:
                sys.stdout.write("failure: %s\n" % trap.get("message", "failed"))
                result, _ = client.run("", False, prompt=True)
            output = (result or {}).get("output", "")
            if output:
                sys.stdout.write(output + "\n")
            sys.stdout.flush()
            if (result or {}).get("quit"):
                return 0
            spec = (result or {}).get("stream")
            if spec:
                last: List[Any] = []
                error, cancelled = client.watch(spec, lambda row: _show_sample(row, last))
                if cancelled:
                    sys.stdout.write("\n")
                if error:
                    sys.stdout.write("failure: %s\n" % error)
            prompt = (result or {}).get("prompt") or prompt
            completer.cwd = (result or {}).get("path") or completer.cwd
        except KeyboardInterrupt:
            sys.stdout.write("\n")
