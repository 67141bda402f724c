"""``winbox-agent serve``: the protocol on stdin/stdout, in this process.

No daemon: the Router lives in this process and ends with it.  Tests and the
local pipe use it; over SSH the ``bridge`` is normally preferred so that
several desktops share one daemon.  File descriptor 1 carries frames only:
anything else printed to stdout is sent to stderr instead.
"""

import asyncio
import os
import sys
from typing import Any, Optional

from .server import Options


class PipeWriter(asyncio.Protocol):
    """A StreamWriter-like writer over a write pipe (with flow control)."""

    def __init__(self) -> None:
        self.transport: Any = None
        self._paused = False
        self._drained: Optional["asyncio.Future[None]"] = None
        self._closed: "asyncio.Future[None]" = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if not self._closed.done():
            self._closed.set_result(None)
        self.resume_writing()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    async def drain(self) -> None:
        if self.transport.is_closing():
            raise ConnectionResetError("the output pipe is closed")
        if self._paused:
            self._drained = asyncio.get_event_loop().create_future()
            await self._drained

    def close(self) -> None:
        self.transport.close()

    async def wait_closed(self) -> None:
        await self._closed


async def open_pipes(in_fd: int, out_fd: int, limit: int = 1 << 20) -> Any:
    """(reader, writer) over two file descriptors (pipes, sockets or ttys)."""
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader(limit=limit)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(in_fd, "rb", 0))
    _, writer = await loop.connect_write_pipe(PipeWriter, os.fdopen(out_fd, "wb", 0))
    return reader, writer


async def serve_streams(router: Any, reader: Any, writer: Any, options: Optional[Options] = None) -> str:
    """Serve one connection on the given streams; returns why it ended."""
    from .hub import Hub
    from .rendezvous import hello_line, parse_hello
    hub = Hub(router, options)
    try:
        conn = hub.connection(reader, writer, peer=parse_hello(hello_line()))
        return await conn.run()
    finally:
        hub.close()


def run(router: Any, options: Options) -> int:
    """Serve the process's stdin/stdout until the desktop goes."""
    sys.stdout.flush()
    out_fd = os.dup(1)
    os.dup2(2, 1)            # stray prints must not corrupt the frames
    sys.stdout = sys.stderr
    in_fd = os.dup(0)

    async def main() -> str:
        reader, writer = await open_pipes(in_fd, out_fd)
        return await serve_streams(router, reader, writer, options)

    asyncio.run(main())
    return 0
