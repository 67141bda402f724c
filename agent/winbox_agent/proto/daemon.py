"""The per-device daemon: one Router, many connections, on a Unix socket.

The first connection starts it (:func:`spawn`: double fork and ``setsid``,
so it outlives the SSH session that started it); every connection's agent
process is then a thin :mod:`.bridge` between its stdio and the socket.  A
lock file in the state directory makes sure one daemon serves one state
directory.  It exits on SIGTERM, after ``idle_exit`` seconds without a
connection, or when a bridge of a different agent version finds it idle
(so the new version takes over).
"""

import asyncio
import errno
import fcntl
import os
import select
import signal
import socket
import sys
import time
import traceback
from typing import Any, Callable, Optional

from .rendezvous import (LOCK_NAME, LOG_NAME, PID_NAME, RESTART, agent_hash, parse_hello, private_dir,
                         socket_path)
from .server import Options, log

LOG_MAX = 1024 * 1024
HELLO_TIMEOUT = 10.0


class Daemon:
    """A daemon serving one state directory.

    Attributes:
        state_dir: the device's configuration directory.
        path: the socket's path.
        hub: the shared state (made once the Router is loaded).
        stopping: set to end the daemon.
    """

    def __init__(self, state_dir: str, driver: str, seed: Optional[int], options: Options):
        self.state_dir = os.path.abspath(state_dir)
        self.driver = driver
        self.seed = seed
        self.options = options
        self.path = socket_path(self.state_dir)
        self.hub: Any = None
        self.stopping: Optional[asyncio.Event] = None
        self.stop_reason = ""

    # -- the whole life -------------------------------------------------------------------
    def run(self, notify: Callable[[str], None]) -> int:
        """Lock, load, listen, serve; ``notify`` gets ``ready``, ``busy`` or ``error: ...``."""
        try:
            private_dir(self.state_dir)
            lock_fd = os.open(os.path.join(self.state_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            notify("error: cannot use %s as the state directory: %s" % (self.state_dir, exc.strerror or exc))
            return 1
        try:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    notify("busy")
                    return 0
                raise
            return self._locked(notify)
        finally:
            os.close(lock_fd)

    def _locked(self, notify: Callable[[str], None]) -> int:
        from ..errors import RouterError
        from ..router import Router
        try:
            router = Router(self.state_dir, driver=self.driver, seed=self.seed)
        except (RouterError, OSError, ValueError) as exc:
            notify("error: cannot load the configuration in %s: %s" % (self.state_dir, exc))
            return 1
        sock = None
        try:
            sock = self._listen()
            fd = os.open(os.path.join(self.state_dir, PID_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)            # whatever the umask: state files are the owner's only
            with os.fdopen(fd, "w") as fh:
                fh.write("%d\n" % os.getpid())
            notify("ready")
            asyncio.run(self._serve(router, sock))
            return 0
        except OSError as exc:
            notify("error: cannot listen on %s: %s" % (self.path, exc))
            return 1
        finally:
            self._forget(sock)
            router.close()

    def _listen(self) -> socket.socket:
        private_dir(os.path.dirname(self.path))
        try:
            os.unlink(self.path)         # a stale socket: we hold the lock
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(self.path)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(64)
        sock.setblocking(False)
        return sock

    def _forget(self, sock: Optional[socket.socket]) -> None:
        """Remove the socket and pid file (before the lock is released)."""
        if sock is not None:
            try:
                os.unlink(self.path)     # ours: no other daemon can bind before we unlock
            except OSError:
                pass
            sock.close()
        try:
            os.unlink(os.path.join(self.state_dir, PID_NAME))
        except OSError:
            pass

    # -- serving ------------------------------------------------------------------------------
    async def _serve(self, router: Any, sock: socket.socket) -> None:
        from .hub import Hub
        self.stopping = asyncio.Event()
        loop = asyncio.get_event_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, "signal %d" % sig)
        self.hub = Hub(router, self.options)
        tasks = set()

        async def accepted(reader: Any, writer: Any) -> None:
            task = asyncio.current_task()
            tasks.add(task)
            try:
                await self._connection(reader, writer)
            finally:
                tasks.discard(task)

        server = await asyncio.start_unix_server(accepted, sock=sock, limit=1 << 20)
        idle = asyncio.ensure_future(self._idle_watch())
        try:
            await self.stopping.wait()
        finally:
            idle.cancel()
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(idle, *tasks, return_exceptions=True)
            self.hub.close()
            log("daemon stopped: %s" % self.stop_reason)

    def stop(self, reason: str) -> None:
        if self.stopping is not None and not self.stopping.is_set():
            self.stop_reason = reason
            self.stopping.set()

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(1.0 if self.options.idle_exit >= 2 else self.options.idle_exit / 2 or 1.0)
            since = self.hub.idle_since
            if self.options.idle_exit and since is not None and time.monotonic() - since >= self.options.idle_exit:
                self.stop("idle for %.0f s" % (time.monotonic() - since))
                return

    async def _connection(self, reader: Any, writer: Any) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), HELLO_TIMEOUT)
        except (asyncio.TimeoutError, ValueError, ConnectionError):
            line = b""
        info = parse_hello(line)
        if info is None:
            writer.close()
            return
        theirs = info.get("agent_hash")
        if theirs and theirs != agent_hash() and not self.hub.connections:
            log("a bridge of agent %s found this daemon (%s) idle: handing over" % (
                str(theirs)[:12], agent_hash()[:12]))
            writer.write(RESTART)
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()
            self.stop("replaced by agent %s" % str(theirs)[:12])
            return
        conn = self.hub.connection(reader, writer, peer=info)
        await conn.run()


# -- starting it ------------------------------------------------------------------------------

def spawn(state_dir: str, driver: str, seed: Optional[int], options: Options, timeout: float = 30.0) -> str:
    """Start a detached daemon (double fork, setsid); wait until it listens.

    Returns ``ready``, ``busy`` (another daemon holds the lock: connect to it)
    or ``error: ...``.
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            _detach_stdio(state_dir, keep=w)

            def notify(text: str) -> None:
                try:
                    os.write(w, text.encode() + b"\n")
                except OSError:
                    pass
            code = Daemon(state_dir, driver, seed, options).run(notify)
        except BaseException:
            try:
                os.write(w, ("error: %s\n" % traceback.format_exc().strip().splitlines()[-1]).encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(w)
    try:
        os.waitpid(pid, 0)
        data = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                return "error: the daemon did not start within %.0f s" % timeout
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        text = data.decode("utf-8", "replace").strip()
        return text or "error: the daemon exited while starting (see %s)" % os.path.join(state_dir, LOG_NAME)
    finally:
        os.close(r)


def _detach_stdio(state_dir: str, keep: int) -> None:
    """Leave the caller's terminal, pipes and SSH channel: stdin and stdout
    from /dev/null, stderr to the daemon's log, every other descriptor closed."""
    os.chdir("/")
    os.umask(0o077)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    try:
        private_dir(state_dir)
        logpath = os.path.join(state_dir, LOG_NAME)
        try:
            if os.path.getsize(logpath) > LOG_MAX:
                os.replace(logpath, logpath + ".1")
        except OSError:
            pass
        err = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        err = null
    os.dup2(err, 2)
    for fd in _open_fds():
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = sys.stderr = open(2, "w", buffering=1, closefd=False)
    try:
        with open("/proc/self/comm", "w") as fh:
            fh.write("winbox-agentd")
    except OSError:
        pass
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _open_fds() -> list:
    try:
        return [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def run_foreground(state_dir: str, driver: str, seed: Optional[int], options: Options) -> int:
    """``winbox-agent daemon``: serve in this process until stopped."""
    def notify(text: str) -> None:
        if text == "ready":
            sys.stderr.write("winbox-agent daemon: listening on %s\n" % socket_path(state_dir))
        elif text == "busy":
            sys.stderr.write("winbox-agent daemon: already running for %s\n" % state_dir)
        else:
            sys.stderr.write("winbox-agent daemon: %s\n" % text)
        sys.stderr.flush()
    return Daemon(state_dir, driver, seed, options).run(notify)


def run_detached(state_dir: str, driver: str, seed: Optional[int], options: Options) -> int:
    """``winbox-agent daemon --detach``: start it in the background; report."""
    status = spawn(state_dir, driver, seed, options)
    if status == "ready":
        return 0
    if status == "busy":
        sys.stderr.write("winbox-agent daemon: already running for %s\n" % state_dir)
        return 0
    sys.stderr.write("winbox-agent daemon: %s\n" % status)
    return 1
