"""The SSH transport: asyncio byte streams over a paramiko exec channel.

paramiko is blocking, so each direction has its own thread and the event
loop only ever sees ``call_soon_threadsafe`` hand-offs:

- a reader thread ``recv()``s stdout and feeds an :class:`asyncio.StreamReader`;
  when the reader holds more than twice its limit, asyncio pauses us (through
  the small :class:`_Pauser` set as its transport), the thread stops reading,
  paramiko stops opening the SSH window and the device's agent blocks: a slow
  consumer never buffers without bound;
- a writer thread ``sendall()``s what :class:`ChannelWriter` queued;
  ``drain()`` waits while more than :data:`HIGH_WATER` bytes are queued;
- a third thread keeps stderr drained (an unread stderr would fill the shared
  SSH window and stall stdout) and keeps its last lines for error reports.

The bytes are passed through untouched (exec channel, no PTY). Closing the
writer closes the channel and the SSH connection under it.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import Callable

import paramiko

READ_CHUNK = 64 * 1024
READER_LIMIT = 256 * 1024          # StreamReader pauses us at twice this
HIGH_WATER = 1024 * 1024           # drain() waits above this many queued bytes
LOW_WATER = 256 * 1024             # ... until the queue is down to this
STDERR_LINES = 50
CLOSE_GRACE = 3.0                  # seconds close() waits for queued data before forcing
EXIT_STATUS_WAIT = 2.0             # seconds the reader waits for the exit status after EOF
_EOF = b"\0end-of-input"  # a queue entry (compared by identity) meaning "shut down writing"


class _Pauser:
    """What asyncio.StreamReader calls to pause and resume the reader thread."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.running.set()
        self.closed = False

    def pause_reading(self) -> None:
        self.running.clear()

    def resume_reading(self) -> None:
        self.running.set()

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True
        self.running.set()

    def get_extra_info(self, name: str, default=None):
        return default


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable, *args) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop is closed: nobody is listening any more
        pass


class ChannelWriter:
    """The writing half: ``write()`` queues, a thread sends, ``drain()`` waits.

    Attributes:
        error: the exception that stopped sending, if any.
    """

    def __init__(self, channel: paramiko.Channel, loop: asyncio.AbstractEventLoop,
                 on_closed: Callable[[], None]):
        self._channel = channel
        self._loop = loop
        self._on_closed = on_closed
        self._queue: collections.deque[bytes] = collections.deque()
        self._pending = 0
        self._cond = threading.Condition()
        self._closing = False
        self._waiters: list[asyncio.Future] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ssh-writer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Bytes queued and not yet handed to paramiko."""
        return self._pending

    def write(self, data: bytes) -> None:
        if not data or self._closing:
            return
        with self._cond:
            self._queue.append(data if data is _EOF else bytes(data))
            self._pending += len(data)
            self._cond.notify()

    def writelines(self, chunks) -> None:
        for chunk in chunks:
            self.write(chunk)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """After what is queued, tell the remote process its stdin ended."""
        self.write(_EOF)

    def is_closing(self) -> bool:
        return self._closing

    async def drain(self) -> None:
        while True:
            if self.error is not None:
                raise ConnectionResetError(f"SSH channel closed: {self.error}")
            if self._closing and self._pending and not self._thread.is_alive():
                raise ConnectionResetError("SSH channel closed")
            with self._cond:  # the sender thread checks for waiters under this lock
                if self._pending <= HIGH_WATER:
                    return
                waiter = self._loop.create_future()
                self._waiters.append(waiter)
            await waiter

    def close(self) -> None:
        """Send what is queued, then close the channel (and the connection)."""
        with self._cond:
            self._closing = True
            self._cond.notify()

    def _wake(self) -> None:
        with self._cond:
            waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._cond.wait()
                    if not self._queue:
                        break
                    chunk = self._queue.popleft()
                if self.error is None:
                    try:
                        if chunk is _EOF:
                            self._channel.shutdown_write()
                        else:
                            self._channel.sendall(chunk)
                    except Exception as exc:  # socket.error, EOFError, SSHException
                        self.error = exc
                with self._cond:
                    self._pending -= len(chunk)
                    wake = bool(self._waiters) and (self._pending <= LOW_WATER or self.error is not None)
                if wake:
                    _call_soon(self._loop, self._wake)
        finally:
            _call_soon(self._loop, self._wake)
            self._on_closed()


class SSHTransport:
    """A :class:`~winbox_py.backend.transport.Transport` over an SSH exec channel.

    Attributes:
        reader: asyncio.StreamReader fed with the agent's stdout.
        writer: :class:`ChannelWriter` to the agent's stdin.
        connection: the paramiko Transport under the channel (closed with us).
        description: ``user@host:port``, for messages.
    """

    def __init__(self, channel: paramiko.Channel, connection: paramiko.Transport | None = None,
                 description: str = "", *, loop: asyncio.AbstractEventLoop | None = None):
        self._loop = loop or asyncio.get_running_loop()
        self._channel = channel
        self.connection = connection
        self.description = description
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._exit_status: int | None = None
        self._force_handle: asyncio.TimerHandle | None = None
        self._pauser = _Pauser()
        self.reader = asyncio.StreamReader(limit=READER_LIMIT, loop=self._loop)
        self.reader.set_transport(self._pauser)  # type: ignore[arg-type]
        self._done = self._loop.create_future()
        self._open_threads = 3
        self._lock = threading.Lock()
        self.writer = ChannelWriter(channel, self._loop, self._writer_done)
        threading.Thread(target=self._read_stdout, name="ssh-reader", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="ssh-stderr", daemon=True).start()

    def adopt_connection(self, connection: paramiko.Transport) -> None:
        """Close ``connection`` together with this transport (now, if already closed)."""
        with self._lock:
            done = self._open_threads == 0
            if not done:
                self.connection = connection
        if done:
            connection.close()

    # --- what the session uses ------------------------------------------------

    async def wait_closed(self) -> None:
        """Until both directions and the SSH connection are closed."""
        await asyncio.shield(self._done)

    def close(self) -> None:
        """Send what is queued, then close; forced after :data:`CLOSE_GRACE`
        seconds (a peer that stopped reading must not hold us open)."""
        self.writer.close()
        if self._force_handle is None and not self._done.done():
            self._force_handle = self._loop.call_later(CLOSE_GRACE, self._force_close)

    def _force_close(self) -> None:
        if self._done.done():
            return
        self._pauser.close()
        for thing in (self._channel, self.connection):
            try:
                if thing is not None:
                    thing.close()
            except Exception:
                pass

    @property
    def closed(self) -> bool:
        return self._done.done()

    @property
    def exit_status(self) -> int | None:
        """The remote process's exit status once stdout ended (None: unknown)."""
        return self._exit_status

    def describe(self) -> str:
        return f"{self.description} over SSH" if self.description else "SSH"

    def diagnostics(self) -> str:
        """What the remote process wrote on stderr (its last lines)."""
        return "\n".join(self.stderr_lines()).strip()

    def stderr_lines(self) -> list[str]:
        """The last lines the remote process wrote to stderr."""
        with self._lock:
            return list(self._stderr)

    async def wait_exit_status(self, timeout: float = 5.0) -> int | None:
        """The exit status, once the process ended (waits for the channel to close)."""
        try:
            await asyncio.wait_for(self.wait_closed(), timeout)
        except asyncio.TimeoutError:
            pass
        return self._exit_status

    # --- threads ------------------------------------------------------------------

    def _read_stdout(self) -> None:
        try:
            while True:
                self._pauser.running.wait()
                if self._pauser.closed:
                    break
                try:
                    data = self._channel.recv(READ_CHUNK)
                except Exception:  # the connection died under us
                    break
                if not data:
                    break
                _call_soon(self._loop, self._feed, data)
        finally:
            # the exit status follows stdout's end closely: keep it before closing
            event = getattr(self._channel, "status_event", None)
            if event is not None:
                event.wait(EXIT_STATUS_WAIT)
            if self._channel.exit_status_ready():
                self._exit_status = self._channel.recv_exit_status()
            _call_soon(self._loop, self._feed_eof)
            # the remote process is gone: stop the writer too
            self.writer.close()
            self._thread_done()

    def _feed(self, data: bytes) -> None:
        if not self.reader.at_eof():
            self.reader.feed_data(data)

    def _feed_eof(self) -> None:
        self.reader.feed_eof()

    def _read_stderr(self) -> None:
        partial = b""
        try:
            while True:
                try:
                    data = self._channel.recv_stderr(READ_CHUNK)
                except Exception:
                    break
                if not data:
                    break
                partial += data
                *lines, partial = partial.split(b"\n")
                with self._lock:
                    for line in lines:
                        self._stderr.append(line.decode("utf-8", "replace"))
                if len(partial) > READ_CHUNK:
                    partial = partial[-READ_CHUNK:]
        finally:
            if partial:
                with self._lock:
                    self._stderr.append(partial.decode("utf-8", "replace"))
            self._thread_done()

    def _writer_done(self) -> None:
        # nothing more will be sent: close the channel, which also ends the
        # reader (even a paused one) and the stderr thread
        self._pauser.close()
        try:
            self._channel.close()
        except Exception:
            pass
        self._thread_done()

    def _thread_done(self) -> None:
        with self._lock:
            self._open_threads -= 1
            last = self._open_threads == 0
            connection = self.connection
        if last:
            if connection is not None:
                try:
                    connection.close()
                except Exception:
                    pass
            _call_soon(self._loop, self._set_done)

    def _set_done(self) -> None:
        if self._force_handle is not None:
            self._force_handle.cancel()
        if not self._done.done():
            self._done.set_result(None)
