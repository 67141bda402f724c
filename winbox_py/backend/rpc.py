"""The desktop's side of the protocol over one transport (docs/protocol.md).

:class:`RpcClient` finds the agent's sync marker, exchanges ``init``, then
reads frames in one task and routes them by request id: a call's ``done``
resolves its future, a stream's frames go to its sink.  It sends heartbeat
pings and notices a silent agent; it acknowledges stream bytes only when the
sink says its consumer took them, which is what keeps a million-row listing
from piling up on either side.  Everything above it (reconnecting,
resubscribing, the public API) is :mod:`winbox_py.backend.session`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

import orjson

PROTOCOL = 1
MARKER_PREFIX = b"\0WINBOXPY/"
FRAME_MAX = 16 * 1024 * 1024
HEADER_MAX = len(str(FRAME_MAX)) + 1
MARKER_SEARCH_MAX = 1024 * 1024
CLIENT_NAME = "winbox-py"

log = logging.getLogger(__name__)

# The agent's problem categories, plus what only the desktop can tell.
PROBLEMS = ("missing", "argument", "conflict", "denied", "interrupted", "driver", "protocol", "general",
            "disconnected", "timeout")


class RpcError(Exception):
    """An error from the agent (or about the connection to it).

    Attributes:
        problem: a category (see :data:`PROBLEMS`).
        message: the sentence to show; names the field concerned.
        property: the property the error is about, if any.
    """

    def __init__(self, problem: str, message: str, property: str | None = None):
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.property = property

    @classmethod
    def from_wire(cls, msg: dict) -> RpcError:
        return cls(str(msg.get("problem") or "general"), str(msg.get("message") or "unknown error"),
                   msg.get("property"))

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"RpcError({self.problem!r}, {self.message!r}, {self.property!r})"


class FramingError(Exception):
    """The agent's byte stream is not frames (the connection must close)."""


async def skip_to_marker(reader: Any, limit: int = MARKER_SEARCH_MAX) -> str:
    """Discard banner/MOTD junk up to the agent's marker line; return the
    rest of that line (``"1 <nonce>"``)."""
    seen = 0
    while True:
        try:
            await reader.readuntil(MARKER_PREFIX)
            break
        except asyncio.IncompleteReadError as exc:
            junk = exc.partial[-300:].decode("utf-8", "replace").strip()
            raise FramingError("the agent ended before its sync marker"
                               + (f" (it printed: {junk})" if junk else "")) from None
        except asyncio.LimitOverrunError as exc:
            drop = max(1, exc.consumed)
            await reader.readexactly(drop)
            seen += drop
            if seen > limit:
                raise FramingError(f"no sync marker in the first {limit} bytes from the agent") from None
    try:
        rest = await reader.readuntil(b"\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise FramingError("broken sync marker") from None
    return rest[:-1].decode("ascii", "replace")


async def read_frame(reader: Any) -> bytes | None:
    """The next payload, or None at a clean end of stream."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise FramingError("stream ended inside a frame header") from None
    except asyncio.LimitOverrunError:
        raise FramingError("frame header too long") from None
    digits = line[:-1]
    if not digits or len(digits) >= HEADER_MAX or not digits.isdigit():
        raise FramingError(f"bad frame header {line[:24]!r}")
    n = int(digits)
    if n > FRAME_MAX:
        raise FramingError(f"frame of {n} bytes exceeds the {FRAME_MAX} byte limit")
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise FramingError(f"stream ended inside a frame ({len(exc.partial)} of {n} bytes)") from None


def encode(obj: Any) -> bytes:
    payload = orjson.dumps(obj)
    if len(payload) > FRAME_MAX:
        raise RpcError("argument", f"the request is too large to send ({len(payload)} bytes; "
                                   f"the limit is {FRAME_MAX})")
    return b"%d\n" % len(payload) + payload


class Sink:
    """Where a stream request's frames go (implemented by the session's Stream).

    ``frame(msg, size)`` gets every data frame with its payload size;
    ``trap(error)`` an error the agent reported (``done`` follows);
    ``done(error)`` ends it; ``lost(reason)`` tells the connection died.
    """

    def frame(self, msg: dict, size: int) -> None: ...

    def trap(self, error: RpcError) -> None: ...

    def done(self, error: RpcError | None) -> None: ...

    def lost(self, reason: str) -> None: ...


class RpcClient:
    """One protocol connection to an agent.

    Attributes:
        transport: the byte streams.
        init: the agent's ``init`` message (facts, capabilities, limits).
        closed: the connection is over; reason: why.
        on_lost: called once with the reason when it ends without close().
        on_notice: called with every ``notice`` frame (no id: safe mode's news).
        received: payload bytes read so far.
    """

    def __init__(self, transport: Any, heartbeat: float = 3.0, dead_after: float = 10.0,
                 handshake_timeout: float = 60.0):
        self.transport = transport
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.handshake_timeout = handshake_timeout
        self.init: dict = {}
        self.closed = False
        self.reason = ""
        self.on_lost: Callable[[str], None] | None = None
        self.on_notice: Callable[[dict], None] | None = None
        self.received = 0
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future] = {}
        self._errors: dict[int, RpcError] = {}
        self._sinks: dict[int, Sink] = {}
        self._tasks: list[asyncio.Task] = []
        self._loop = asyncio.get_running_loop()
        self._last_seen = self._loop.time()
        self._closing = False

    # -- life -------------------------------------------------------------------------
    async def start(self) -> dict:
        """Skip to the marker, exchange init; returns the agent's init."""
        reader = self.transport.reader
        try:
            await asyncio.wait_for(self._handshake(reader), self.handshake_timeout)
        except asyncio.TimeoutError:
            raise RpcError("timeout", f"the agent did not answer within {self.handshake_timeout:.0f} s") from None
        except FramingError as exc:
            raise RpcError("protocol", self._with_diagnostics(str(exc))) from None
        except (ConnectionError, OSError) as exc:
            raise RpcError("disconnected", self._with_diagnostics(f"connection to the agent failed: {exc}")) from None
        self._last_seen = self._loop.time()
        self._tasks = [asyncio.ensure_future(self._read_loop()), asyncio.ensure_future(self._pinger())]
        return self.init

    async def _handshake(self, reader: Any) -> None:
        rest = await skip_to_marker(reader)
        version = rest.split(" ", 1)[0]
        if version != str(PROTOCOL):
            raise FramingError(f"the agent speaks protocol {version}, this desktop speaks {PROTOCOL}")
        self._send({"op": "init", "protocol": PROTOCOL, "client": CLIENT_NAME,
                    "capabilities": ["flow-control", "heartbeat"], "heartbeat": self.heartbeat})
        payload = await read_frame(reader)
        if payload is None:
            raise FramingError("the agent closed the connection before its init")
        msg = self._decode(payload)
        if msg.get("op") == "fatal":
            raise RpcError.from_wire(msg)
        if msg.get("op") != "init" or msg.get("protocol") != PROTOCOL:
            raise FramingError(f"expected the agent's init, got {str(msg)[:200]}")
        self.init = msg

    def _with_diagnostics(self, text: str) -> str:
        diag = getattr(self.transport, "diagnostics", lambda: "")()
        if diag:
            text += "; the agent said: " + " | ".join(diag.splitlines()[-5:])
        return text

    async def close(self) -> None:
        """Close the connection (no ``on_lost``); pending calls fail."""
        self._closing = True
        self._end("the session was closed", notify=False)
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.transport.close()
        try:
            await asyncio.wait_for(self.transport.wait_closed(), 10)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            pass

    def _end(self, reason: str, notify: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        self.reason = reason
        error = RpcError("disconnected", reason)
        calls, self._calls = self._calls, {}
        for fut in calls.values():
            if not fut.done():
                fut.set_exception(error)
        sinks, self._sinks = self._sinks, {}
        for sink in sinks.values():
            try:
                sink.lost(reason)
            except Exception:
                log.exception("a stream failed to take the connection loss")
        if notify and self.on_lost is not None:
            self.on_lost(reason)

    async def _read_loop(self) -> None:
        reader = self.transport.reader
        reason = "the agent closed the connection"
        try:
            while True:
                payload = await read_frame(reader)
                if payload is None:
                    break
                self._last_seen = self._loop.time()
                self.received += len(payload)
                self._dispatch(self._decode(payload), len(payload))
        except FramingError as exc:
            reason = f"the agent sent garbage: {exc}"
        except (ConnectionError, OSError) as exc:
            reason = f"the connection to the agent broke: {exc}"
        except asyncio.CancelledError:
            if self._closing:
                raise
            reason = self.reason or "no heartbeat from the agent"
        diag = getattr(self.transport, "diagnostics", lambda: "")()
        if diag and not self._closing and "Traceback" in diag:
            reason += "; the agent said: " + " | ".join(diag.splitlines()[-3:])
        self._end(reason)
        self.transport.close()

    async def _pinger(self) -> None:
        while not self.closed:
            await asyncio.sleep(min(self.heartbeat, self.dead_after / 2))
            silent = self._loop.time() - self._last_seen
            if silent > self.dead_after:
                self.reason = f"no heartbeat from the agent for {silent:.0f} s"
                for t in self._tasks:
                    if t is not asyncio.current_task():
                        t.cancel()
                return
            self._send({"op": "ping"})

    # -- frames ---------------------------------------------------------------------------
    @staticmethod
    def _decode(payload: bytes) -> dict:
        try:
            msg = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise FramingError(f"a frame that is not JSON ({exc})") from None
        if not isinstance(msg, dict):
            raise FramingError("a frame that is not a JSON object")
        return msg

    def _send(self, obj: dict) -> None:
        self._write(encode(obj))

    def _write(self, data: bytes) -> None:
        writer = self.transport.writer
        if self.closed or writer.is_closing():
            return
        writer.write(data)

    def _dispatch(self, msg: dict, size: int) -> None:
        op = msg.get("op")
        rid = msg.get("id")
        if rid is None:
            if op == "fatal":
                self.reason = f"the agent gave up: {msg.get('message')}"
            elif op == "trap":
                log.warning("agent: %s", msg.get("message"))
            elif op == "notice" and self.on_notice is not None:
                try:
                    self.on_notice(msg)
                except Exception:
                    log.exception("a notice handler failed")
            return
        sink = self._sinks.get(rid)
        if sink is not None:
            if op == "trap":
                error = RpcError.from_wire(msg)
                self._errors[rid] = error
                sink.trap(error)
            elif op == "done":
                del self._sinks[rid]
                sink.done(self._errors.pop(rid, None))
            else:
                sink.frame(msg, size)
            return
        fut = self._calls.get(rid)
        if fut is None:
            return  # a late frame of a cancelled stream
        if op == "trap":
            self._errors[rid] = RpcError.from_wire(msg)
        elif op == "done":
            del self._calls[rid]
            error = self._errors.pop(rid, None)
            if not fut.done():
                if error is not None:
                    fut.set_exception(error)
                else:
                    fut.set_result(msg.get("result"))

    # -- requests ---------------------------------------------------------------------------
    async def call(self, op: str, **fields: Any) -> Any:
        """Send one request; return its result or raise RpcError."""
        if self.closed:
            raise RpcError("disconnected", self.reason or "not connected")
        rid = next(self._ids)
        fields["op"] = op
        fields["id"] = rid
        data = encode(fields)
        fut = self._loop.create_future()
        self._calls[rid] = fut
        self._write(data)
        try:
            await self.transport.writer.drain()
        except (ConnectionError, OSError):
            pass
        return await fut

    def stream(self, op: str, fields: dict, sink: Sink) -> int:
        """Start a stream request; its frames go to ``sink``; returns its id."""
        if self.closed:
            raise RpcError("disconnected", self.reason or "not connected")
        rid = next(self._ids)
        data = encode(dict(fields, op=op, id=rid))
        self._sinks[rid] = sink
        self._write(data)
        return rid

    def ack(self, rid: int, total: int) -> None:
        self._send({"op": "ack", "id": rid, "bytes": total})

    def cancel(self, rid: int) -> None:
        self._send({"op": "cancel", "id": rid})

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (tests: malformed frames)."""
        self.transport.writer.write(data)

    @property
    def capabilities(self) -> list[str]:
        return list(self.init.get("capabilities", []))
