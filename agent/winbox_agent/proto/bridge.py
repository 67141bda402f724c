"""``winbox-agent bridge``: one connection's thin agent process.

It copies bytes between its stdin/stdout (the SSH channel or the local pipe)
and the daemon's Unix socket, starting the daemon first if none is listening.
It imports almost nothing (see :mod:`.rendezvous`), so a connection to a
running daemon costs no compile time on the device.

Before the copying starts it sends the daemon a hello line (agent version,
user, ``SSH_CONNECTION``) and reads the daemon's first line: the protocol's
sync marker, or ``WINBOXPY-RESTART`` when an idle daemon of another agent
version hands over to this one.  If no daemon can be started, the bridge
writes the marker and a ``fatal`` frame saying why, so the desktop shows the
reason.
"""

import os
import socket
import sys
import time
from typing import Any, Callable, Optional

from .rendezvous import RESTART, hello_line, socket_path

START_TIMEOUT = 30.0
CHUNK = 256 * 1024


def _connect(path: str) -> Optional[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def _first_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < 4096:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def report_fatal(message: str) -> int:
    """Tell the desktop (marker + ``fatal`` frame) and stderr why we stop."""
    from .framing import encode, marker
    try:
        os.write(1, marker("0") + encode({"op": "fatal", "problem": "general", "message": message}))
    except OSError:
        pass
    sys.stderr.write("winbox-agent bridge: %s\n" % message)
    return 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def run(state_dir: str, start: Callable[[], str]) -> int:
    """Connect stdio to the daemon of ``state_dir``; ``start()`` spawns one
    (returns ``ready``, ``busy`` or ``error: ...``)."""
    path = socket_path(state_dir)
    deadline = time.monotonic() + START_TIMEOUT
    handed_over = False
    status = ""
    while True:
        sock = _connect(path)
        if sock is None:
            if time.monotonic() > deadline:
                return report_fatal("the agent's daemon did not start for %s (%s)" % (state_dir, status or "no answer"))
            status = start()
            if status.startswith("error"):
                return report_fatal(status[len("error: "):] if status.startswith("error: ") else status)
            if status != "ready":
                time.sleep(0.05)
            continue
        try:
            sock.sendall(hello_line())
            first = _first_line(sock)
        except OSError:
            first = b""
        if first.startswith(RESTART) and not handed_over:
            handed_over = True
            sock.close()
            time.sleep(0.05)
            continue
        if not first:
            sock.close()
            if time.monotonic() > deadline:
                return report_fatal("the agent's daemon closed the connection at once")
            time.sleep(0.05)
            continue
        try:
            _write_all(1, first)
        except OSError:
            return 0
        return _pump(sock)


def _pump(sock: socket.socket) -> int:
    """Copy stdin -> socket and socket -> stdout until the daemon's side ends.

    One thread and ``poll``: both peers read all the time (flow control is
    done with acknowledgements, not by leaving bytes unread), so a blocking
    write here never waits long, and no thread hand-over adds latency."""
    import select
    poller = select.poll()
    sfd = sock.fileno()
    poller.register(0, select.POLLIN)
    poller.register(sfd, select.POLLIN)
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == sfd:
                    data = sock.recv(CHUNK)
                    if not data:
                        return 0
                    _write_all(1, data)
                else:
                    data = os.read(0, CHUNK)
                    if data:
                        sock.sendall(data)
                    else:          # the desktop is gone: let the daemon finish
                        poller.unregister(0)
                        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return 0
    finally:
        sock.close()


def main(state_dir: str, driver: str, seed: Optional[int], options: Callable[[], Any]) -> int:
    """``options()`` makes the daemon's Options (only when one must start)."""
    def start() -> str:
        from .daemon import spawn
        return spawn(state_dir, driver, seed, options())
    return run(state_dir, start)

