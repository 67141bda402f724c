"""New Terminal: the agent's command line in a pseudo-terminal, over the
connection that asked for it.

Op ``terminal`` (a stream; ``cols``, ``rows``) opens a pty and starts
``winbox-agent cli --user <login>`` on its slave side (TERM=vt100, the
window size set, a new session with the pty as its controlling terminal, so
Ctrl-C reaches it as SIGINT).  The master's output goes to the desktop as
``{"op": "data", "rows": [{"data": <base64 of the bytes>}]}`` frames, flow
controlled like every stream: a desktop that stops reading stops the reads
from the pty, and the child then blocks on its writes.  ``terminal-input``
(``stream``: the terminal's request id, ``data``: base64 bytes) writes
keystrokes; ``terminal-resize`` (``stream``, ``cols``, ``rows``) resizes.
Cancelling the stream kills the child and closes the pty; the child exiting
ends the stream with ``done`` (result ``{"exit": status}``).

The child does not load the configuration: it talks to this agent through a
socket pair inherited as ``WINBOX_AGENT_LINK_FD`` (cli/remote.py).  The
agent serves that link as a connection *of the same login*: it has the very
rights (and the safe-mode standing, and the session name) of the connection
that opened the terminal, so what is typed there is refused or journalled
exactly as if the desktop had sent it.
"""

import asyncio
import base64
import binascii
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
from typing import Any, Dict, List, Optional

from ..errors import RouterError
from .messages import get_number, get_str
from .server import Connection, Options, log

LINK_ENV = "WINBOX_AGENT_LINK_FD"
READ_SIZE = 16384
INPUT_MAX = 64 * 1024
KILL_WAIT = 2.0


class _LinkHub:
    """The hub as the link of a terminal sees it: admitted as the connection
    that opened the terminal, and never dropped for missing heartbeats (the
    child does not answer pings while it waits for a keystroke; the link ends
    with the child instead)."""

    def __init__(self, hub: Any, parent: Connection):
        self._hub = hub
        self._parent = parent
        opts = hub.options
        self.options = Options(window=opts.window, batch_rows=opts.batch_rows, batch_bytes=opts.batch_bytes,
                               heartbeat=86400.0, dead_after=10 * 86400.0, test_rows=opts.test_rows)

    def admit(self, conn: Connection) -> Optional[str]:
        conn.rights = self._parent.rights
        conn.router = self._parent.router
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _login(conn: Any) -> str:
    rights = getattr(conn, "rights", None)
    user = getattr(rights, "user", "") if rights is not None else ""
    return str(user or conn.peer.get("login") or conn.peer.get("user") or "admin")


def _packed_source() -> Optional[bytes]:
    """The packed agent this process was started from (pushed over SSH), or
    None when ``winbox_agent`` is importable from files."""
    import winbox_agent
    if os.path.isfile(getattr(winbox_agent, "__file__", "") or ""):
        return None
    for finder in sys.meta_path:
        source = getattr(type(finder), "get_source", None)
        payload = getattr(source, "__globals__", {}).get("_PAYLOAD") if source else None
        if isinstance(payload, bytes):
            return payload
    return None


# Starts the agent from a packed payload read from an inherited descriptor
# (as bootstrap's loader does): argv is [fd, agent arguments...].
_BOOT = ("import os,sys;f=os.fdopen(int(sys.argv[1]),'rb');s=f.read();f.close();i=s.index(b'\\0');"
         "exec(compile(s[:i],'<winbox-agent payload>','exec'),{'__name__':'winbox_agent_payload',"
         "'_PAYLOAD':s,'_START':i+1});v=sys.argv[2:];sys.argv=['winbox-agent']+v;"
         "from winbox_agent.__main__ import main;sys.exit(main(v))")


class Terminal:
    """One pty and the ``cli`` process on it.

    Attributes:
        master: the pty's master descriptor (-1 once closed).
        proc: the child (a Popen); pid: its process id.
        link: the connection serving the child's requests.
    """

    def __init__(self, conn: Any, cols: int, rows: int):
        self.conn = conn
        self.master = -1
        self.proc: Any = None
        self.link: Optional[Connection] = None
        self._link_task: Optional["asyncio.Future[Any]"] = None
        self._readable: Optional["asyncio.Future[None]"] = None
        self._open(cols, rows)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def _argv(self, passed: List[int]) -> List[str]:
        router = self.conn.hub.router
        args = ["--driver", router.driver.name]
        if router.state_dir:
            args += ["--state-dir", os.path.abspath(router.state_dir)]
        args += ["cli", "--user", _login(self.conn)]
        payload = _packed_source()
        if payload is None:
            return [sys.executable, "-m", "winbox_agent"] + args
        holder = tempfile.TemporaryFile()
        holder.write(payload)
        holder.seek(0)
        fd = os.dup(holder.fileno())
        holder.close()
        passed.append(fd)
        return [sys.executable, "-c", _BOOT, str(fd)] + args

    def _env(self, link_fd: int) -> Dict[str, str]:
        import winbox_agent
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "COLUMNS", "LINES")}
        env.update({"TERM": "vt100", LINK_ENV: str(link_fd), "PYTHONUNBUFFERED": "1",
                    "PYTHONIOENCODING": "utf-8:backslashreplace"})
        env.setdefault("LANG", "C.UTF-8")
        pkg_file = getattr(winbox_agent, "__file__", "") or ""
        if os.path.isfile(pkg_file):
            root = os.path.dirname(os.path.dirname(os.path.abspath(pkg_file)))
            env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                          if p])
        ssh = self.conn.peer.get("ssh_connection")
        if ssh:
            env["SSH_CONNECTION"] = str(ssh)
        return env

    def _open(self, cols: int, rows: int) -> None:
        master, slave = os.openpty()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        passed = [theirs.fileno()]
        try:
            set_size(slave, cols, rows)
            argv = self._argv(passed)
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=self._env(theirs.fileno()),
                pass_fds=tuple(passed), close_fds=True, start_new_session=True, preexec_fn=_take_tty,
                cwd="/")
        except BaseException:
            os.close(master)
            ours.close()
            raise
        finally:
            os.close(slave)
            theirs.close()
            for fd in passed[1:]:
                os.close(fd)
        self.master = master
        os.set_blocking(master, False)
        self._link_task = asyncio.ensure_future(self._serve_link(ours))

    async def _serve_link(self, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
        link = Connection(_LinkHub(self.conn.hub, self.conn), reader, writer, self.conn.name,
                          peer=dict(self.conn.peer))
        self.link = link
        await link.run()

    # -- output ------------------------------------------------------------------------------
    async def read(self) -> bytes:
        """The next bytes the child wrote; b"" once it has gone (pty closed)."""
        loop = asyncio.get_event_loop()
        while self.master >= 0:
            try:
                return os.read(self.master, READ_SIZE) or b""
            except BlockingIOError:
                pass
            except OSError:          # EIO: every slave descriptor is closed (the child ended)
                return b""
            fut = loop.create_future()
            self._readable = fut
            fd = self.master
            loop.add_reader(fd, lambda: fut.done() or fut.set_result(None))
            try:
                await fut
            finally:
                loop.remove_reader(fd)
                self._readable = None
        return b""

    # -- input ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.master < 0:
            raise RouterError("the terminal has ended", "missing", "stream")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                raise RouterError("the terminal is not reading its input (%d bytes not written)" % len(view),
                                  "general", "data") from None
            except OSError as exc:
                raise RouterError("the terminal has ended (%s)" % exc.strerror, "missing", "stream") from None
            view = view[n:]

    def resize(self, cols: int, rows: int) -> None:
        if self.master >= 0:
            set_size(self.master, cols, rows)

    # -- the end ---------------------------------------------------------------------------------
    def exit_status(self) -> Optional[int]:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(KILL_WAIT)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """Kill the child (its whole session), reap it, close the pty and the link."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for send in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
                try:
                    send()
                except OSError:
                    pass
            try:
                proc.wait(KILL_WAIT)
            except subprocess.TimeoutExpired:
                log("the terminal's process %d did not end after SIGKILL" % proc.pid)
        self.proc = proc
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)
        if self.master >= 0:
            fd, self.master = self.master, -1
            try:
                asyncio.get_event_loop().remove_reader(fd)
            except (RuntimeError, ValueError):
                pass
            os.close(fd)
        link = self.link
        if link is not None and not link.writer.is_closing():
            link.writer.close()
        if self._link_task is not None and not self._link_task.done():
            self._link_task.cancel()


def _take_tty() -> None:
    """In the child, after setsid: the pty (its stdin) becomes its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _size(msg: Dict[str, Any]) -> Any:
    cols = int(get_number(msg, "cols", 80, 10, 1000))
    rows = int(get_number(msg, "rows", 24, 2, 1000))
    return cols, rows


def _terminal_of(conn: Any, msg: Dict[str, Any]) -> Terminal:
    rid = msg.get("stream")
    out = conn.active.get(rid) if isinstance(rid, (int, str)) and not isinstance(rid, bool) else None
    term = getattr(out, "terminal", None)
    if term is None:
        raise RouterError("stream: %r is not an open terminal of this connection" % (rid,), "missing", "stream")
    return term


# -- the operations ------------------------------------------------------------------------------

async def op_terminal(conn: Any, out: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    cols, rows = _size(msg)
    try:
        term = Terminal(conn, cols, rows)
    except OSError as exc:
        raise RouterError("cannot open a terminal: %s" % (exc.strerror or exc), "general") from None
    out.terminal = term
    out.on_stop.append(term.close)
    await out.send_data({"op": "data", "rows": [{"pid": str(term.pid)}]})
    try:
        while True:
            chunk = await term.read()
            if not chunk:
                break
            await out.send_data({"op": "data", "rows": [{"data": base64.b64encode(chunk).decode("ascii")}]})
        status = term.exit_status()
    finally:
        term.close()
    return {"exit": status}


def op_terminal_input(conn: Any, msg: Dict[str, Any]) -> None:
    term = _terminal_of(conn, msg)
    text = get_str(msg, "data")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise RouterError("data: must be the keystrokes' bytes in base64", "protocol", "data") from None
    if len(data) > INPUT_MAX:
        raise RouterError("data: at most %d bytes at a time (got %d)" % (INPUT_MAX, len(data)), "argument", "data")
    term.write(data)
    return None


def op_terminal_resize(conn: Any, msg: Dict[str, Any]) -> None:
    term = _terminal_of(conn, msg)
    cols, rows = _size(msg)
    term.resize(cols, rows)
    return None


OPS = {
    "terminal": (op_terminal, True),
    "terminal-input": (op_terminal_input, False),
    "terminal-resize": (op_terminal_resize, False),
}
