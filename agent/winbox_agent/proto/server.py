"""One protocol connection over a pair of asyncio streams.

The connection writes the sync marker and its ``init``, then reads frames.
Every request carries an id chosen by the desktop; simple operations answer
with one ``done`` frame, streams (print, follow, command) send data frames
and end with ``done`` (after a ``trap`` when they fail or are cancelled).
A malformed message fails only its own request; a framing error, a peer
that stops sending heartbeats, or the end of the stream close the
connection and stop everything it started.
"""

import asyncio
import binascii
import json
import os
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional

from ..errors import RouterError
from . import framing
from .messages import get_str_list, request_id


class Options:
    """Knobs of the agent side of the protocol (tests shrink the timings).

    Attributes:
        window: bytes a stream may be ahead of the desktop's acknowledgements.
        batch_rows / batch_bytes: the size of one listing frame.
        heartbeat: seconds between pings; dead_after: silence that ends a peer.
        test_rows: rows of the hidden ``/system/test-rows`` menu (0: no such menu).
        idle_exit: a daemon with no connection for this long exits (0: never).
        safe_mode_grace: seconds a lost safe-mode holder has to reclaim it.
        safe_mode_limit: changes the safe-mode journal holds.
    """

    def __init__(self, window: int = 2 * 1024 * 1024, batch_rows: int = 1000, batch_bytes: int = 128 * 1024,
                 heartbeat: float = 3.0, dead_after: float = 10.0, test_rows: int = 0,
                 idle_exit: float = 900.0, safe_mode_grace: float = 4.0, safe_mode_limit: int = 1000):
        self.window = window
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.test_rows = test_rows
        self.idle_exit = idle_exit
        self.safe_mode_grace = safe_mode_grace
        self.safe_mode_limit = safe_mode_limit


def log(text: str) -> None:
    try:
        sys.stderr.write("winbox-agent[%d]: %s\n" % (os.getpid(), text))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


NORMAL_END = "the desktop closed the connection"


class ConnectionGone(Exception):
    """The peer went away while a stream was writing to it."""


class Outgoing:
    """The agent's side of one stream request: its replies and its window.

    Attributes:
        sent / acked: payload bytes sent for this request, and the desktop's
            cumulative acknowledgement of them.
        closed: no more frames may be sent for it.
        task: the coroutine producing it, if any.
        on_stop: callbacks run once when it ends (unsubscribe, close iterators).
    """

    def __init__(self, conn: "Connection", rid: Any):
        self.conn = conn
        self.id = rid
        self.sent = 0
        self.acked = 0
        self.peak = 0
        self.closed = False
        self.task: Optional["asyncio.Future[Any]"] = None
        self.on_stop: List[Callable[[], None]] = []
        self._room = asyncio.Event()

    # -- sending ---------------------------------------------------------------
    def send(self, obj: Dict[str, Any]) -> None:
        if self.closed:
            return
        obj["id"] = self.id
        self.sent += self.conn.send(obj)
        ahead = self.sent - self.acked
        if ahead > self.peak:
            self.peak = ahead
        self.conn.hub.note_buffer(self.conn)

    def has_room(self) -> bool:
        return self.sent - self.acked < self.conn.options.window

    async def wait_room(self) -> None:
        while not self.closed and not self.has_room():
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise asyncio.CancelledError()

    async def send_data(self, obj: Dict[str, Any]) -> None:
        """Send a frame of stream data once the window allows, then let the
        transport's buffer drain."""
        await self.wait_room()
        self.send(obj)
        await self.conn.drain()

    def ack(self, total: int) -> None:
        if total > self.acked:
            self.acked = min(total, self.sent)
            self._room.set()

    # -- ending ------------------------------------------------------------------
    def finish(self, error: Optional[RouterError] = None, result: Any = None) -> None:
        """End the request: ``trap`` (if an error), then ``done``."""
        if self.closed:
            return
        if error is not None:
            self.send(dict({"op": "trap"}, **error.to_wire()))
        done: Dict[str, Any] = {"op": "done"}
        if result is not None:
            done["result"] = result
        self.send(done)
        self.stop()

    def stop(self) -> None:
        """Stop producing (without sending anything)."""
        if self.closed:
            return
        self.closed = True
        self._room.set()
        if self.conn.active.get(self.id) is self:
            del self.conn.active[self.id]
        if self.task is not None and not self.task.done() and self.task is not _current_task():
            self.task.cancel()
        callbacks, self.on_stop = self.on_stop, []
        for fn in callbacks:
            try:
                fn()
            except Exception:  # a failing cleanup must not stop the others
                log("cleanup of request %r failed:\n%s" % (self.id, traceback.format_exc()))

    def cancel(self) -> None:
        """The desktop cancelled it: ``trap`` interrupted, ``done``."""
        self.finish(RouterError("interrupted", "interrupted"))


def _current_task() -> Optional["asyncio.Future[Any]"]:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


class Connection:
    """One desktop connected to the device.

    Attributes:
        name: ``c1``, ``c2``...: recorded as the session of its changes.
        peer: what the bridge told about the connection (user, SSH address).
        active: request id -> Outgoing of every unfinished stream.
        initialised: the desktop's ``init`` has arrived.
        reason: why the connection ended.
        rights / router: the login's rights and the Router seen through them
            (proto/logins.py; set when the connection is admitted).
    """

    def __init__(self, hub: Any, reader: Any, writer: Any, name: str, peer: Optional[Dict[str, Any]] = None):
        self.hub = hub
        self.options: Options = hub.options
        self.reader = reader
        self.writer = writer
        self.name = name
        self.peer = peer or {}
        self.active: Dict[Any, Outgoing] = {}
        self.initialised = False
        self.client: Dict[str, Any] = {}
        self.closed = False
        self.reason = ""
        self.interp: Any = None
        self.rights: Any = None
        self.router: Any = None
        self.loop = asyncio.get_event_loop()
        self.last_seen = self.loop.time()
        self._reading: Optional["asyncio.Future[Any]"] = None

    # -- life ----------------------------------------------------------------------
    async def run(self) -> str:
        """Serve until the peer goes; returns why it ended."""
        self.hub.attach(self)
        heartbeat = asyncio.ensure_future(self._heartbeat())
        try:
            nonce = binascii.hexlify(os.urandom(8)).decode()
            self._write(framing.marker(nonce))
            refused = self.hub.admit(self)
            if refused:
                self.reason = "refused: %s" % refused
                self.send({"op": "fatal", "problem": "denied", "message": refused})
                return self.reason
            self.send(self.hub.init_message(self, nonce))
            self._reading = asyncio.ensure_future(self._read_loop())
            try:
                await self._reading
            except asyncio.CancelledError:
                if not self.reason:
                    raise
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self._teardown()
            self.hub.detach(self)
            await self._close_writer()
        return self.reason

    async def _read_loop(self) -> None:
        try:
            while True:
                payload = await framing.read_frame(self.reader)
                if payload is None:
                    self.reason = self.reason or NORMAL_END
                    return
                self.last_seen = self.loop.time()
                try:
                    self.handle(payload)
                except Exception as exc:        # a bug must cost one message, not the connection
                    log("a message could not be handled:\n%s" % traceback.format_exc())
                    self._trap_none("the message could not be handled (internal error: %s)" % exc)
        except framing.FramingError as exc:
            self.reason = "framing error: %s" % exc
            self.send({"op": "fatal", "problem": "protocol", "message": str(exc)})
        except (ConnectionError, OSError) as exc:
            self.reason = "connection lost (%s)" % exc

    async def _heartbeat(self) -> None:
        opts = self.options
        while True:
            await asyncio.sleep(min(opts.heartbeat, opts.dead_after / 2))
            silent = self.loop.time() - self.last_seen
            if silent > opts.dead_after:
                self.reason = "no heartbeat from the desktop for %.0f s" % silent
                if self._reading is not None:
                    self._reading.cancel()
                return
            self.send({"op": "ping"})

    def _teardown(self) -> None:
        self.closed = True
        for out in list(self.active.values()):
            out.stop()
        self.active.clear()

    async def _close_writer(self) -> None:
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass

    # -- writing ---------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(data)

    def send(self, obj: Dict[str, Any]) -> int:
        """Write one message; returns its payload size.  A message over the
        frame limit is refused (RouterError) instead of being sent."""
        payload = framing.encode_payload(obj)
        if len(payload) > framing.FRAME_MAX:
            raise RouterError("the answer is too large to send (%d bytes; the limit is %d)" % (
                len(payload), framing.FRAME_MAX), "general")
        self._write(framing.frame(payload))
        return len(payload)

    def buffered(self) -> int:
        transport = getattr(self.writer, "transport", None)
        try:
            return transport.get_write_buffer_size() if transport is not None else 0
        except (AttributeError, RuntimeError):
            return 0

    async def drain(self) -> None:
        if self.closed or self.writer.is_closing():
            raise ConnectionGone()
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            raise ConnectionGone() from None

    # -- reading ---------------------------------------------------------------------
    def handle(self, payload: bytes) -> None:
        try:
            msg = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            self.send({"op": "trap", "id": None, "problem": "protocol",
                       "message": "a message that is not JSON was ignored (%s)" % exc})
            return
        except RecursionError:
            self._trap_none("a message nested too deeply was ignored")
            return
        if not isinstance(msg, dict):
            self.send({"op": "trap", "id": None, "problem": "protocol",
                       "message": "a message that is not a JSON object was ignored"})
            return
        op = msg.get("op")
        if op == "ping":
            return
        if op == "ack":
            out = self.active.get(request_id(msg))
            total = msg.get("bytes")
            if out is not None and isinstance(total, int):
                out.ack(total)
            return
        if op == "cancel":
            out = self.active.get(request_id(msg))
            if out is not None:
                out.cancel()
            return
        if op == "init":
            self._init(msg)
            return
        rid = request_id(msg)
        if rid is None:
            self.send({"op": "trap", "id": None, "problem": "protocol",
                       "message": "a request without a valid id was ignored (op %r)" % (op,)})
            return
        if rid in self.active:
            self._fail(rid, RouterError("id %r is already in use by an unfinished request" % (rid,), "protocol", "id"))
            return
        if not self.initialised:
            self._fail(rid, RouterError("send init before any request", "protocol"))
            return
        from .ops import OPS
        entry = OPS.get(op) if isinstance(op, str) else None
        if entry is None:
            self._fail(rid, RouterError("unknown operation %r" % (op,), "missing", "op"))
            return
        fn, streaming = entry
        if streaming:
            out = Outgoing(self, rid)
            self.active[rid] = out
            out.task = asyncio.ensure_future(self._stream(out, fn, msg))
            return
        try:
            result = fn(self, msg)
        except RouterError as exc:
            self._fail(rid, exc)
        except Exception as exc:
            self._fail(rid, self._internal(op, exc))
        else:
            done: Dict[str, Any] = {"op": "done", "id": rid}
            if result is not None:
                done["result"] = result
            try:
                self.send(done)
            except RouterError as exc:
                self._fail(rid, exc)

    def _init(self, msg: Dict[str, Any]) -> None:
        version = msg.get("protocol")
        if version != framing.PROTOCOL:
            self.send({"op": "fatal", "problem": "protocol",
                       "message": "protocol version %r is not spoken here (the agent speaks %d)" % (
                           version, framing.PROTOCOL)})
            self.reason = "incompatible protocol version %r" % (version,)
            if self._reading is not None:
                self._reading.cancel()
            return
        try:
            caps = get_str_list(msg, "capabilities", [])
        except RouterError as exc:
            self.send({"op": "trap", "id": None, "problem": "protocol", "message": "init: " + exc.message})
            caps = []
        self.client = {"capabilities": caps, "client": msg.get("client")}
        self.initialised = True

    def _trap_none(self, message: str) -> None:
        try:
            self.send({"op": "trap", "id": None, "problem": "protocol", "message": message})
        except Exception:
            pass

    def _fail(self, rid: Any, error: RouterError) -> None:
        self.send(dict({"op": "trap", "id": rid}, **error.to_wire()))
        self.send({"op": "done", "id": rid})

    def _internal(self, op: Any, exc: BaseException) -> RouterError:
        log("operation %r failed:\n%s" % (op, traceback.format_exc()))
        return RouterError("internal error in %s: %s" % (op, exc), "general")

    async def _stream(self, out: Outgoing, fn: Callable[..., Any], msg: Dict[str, Any]) -> None:
        try:
            result = await fn(self, out, msg)
        except RouterError as exc:
            out.finish(exc)
        except (asyncio.CancelledError, ConnectionGone):
            out.stop()
        except Exception as exc:
            out.finish(self._internal(msg.get("op"), exc))
        else:
            out.finish(result=result)
