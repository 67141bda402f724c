"""The desktop's session with one device's agent: the API the GUI codes against.

A :class:`Session` runs the protocol (:mod:`.rpc`) over a transport, keeps
the agent's facts and schema, offers the RouterOS-API-like operations with
values as the strings RouterOS prints, and survives a lost connection:
:meth:`Session.reconnect` opens a new transport through the same factory and
resubscribes every live ``follow`` and monitor stream.

Streams (:class:`Stream`) are async iterators.  A ``follow`` gives
``{"op": "rows", "rows": [...]}`` batches, ``{"op": "ready"}``, then
``{"op": "add"|"set"|"remove", "row": {...}}`` (a removed row carries just
``.id``; an ``add`` has the row's ``index`` in the listing) and
``{"op": "order", "ids": [...]}`` when items were moved.  If the connection
drops, a live stream yields ``{"op": "lost", "reason": ...}``; after a
reconnect it yields ``{"op": "reset"}`` and starts over (rows, ready, ...).
Command streams give the command's rows (dicts of strings).

The consumer's pace is the flow control: a stream acknowledges bytes to the
agent only as its items are taken, so an unread stream stops the agent after
about one window (2 MiB) instead of filling memory.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .rpc import PROTOCOL, RpcClient, RpcError

__all__ = ["RpcError", "Session", "Stream", "TerminalStream", "PROTOCOL"]

log = logging.getLogger(__name__)

ACK_STEP = 256 * 1024
CANCEL_WAIT = 5.0

TransportFactory = Callable[[], Awaitable[Any]]
StateCallback = Callable[[str, str], None]


def _id_list(ids: str | Sequence[str] | None) -> list[str]:
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return list(ids)


class Stream:
    """A stream's items as an async iterator.

    Attributes:
        closed: no more items will come (ended, failed or cancelled).
        error: the RpcError that ended it, if any (iteration raises it too,
            unless the stream was cancelled from here).
        columns: the listing's columns (follow and print streams).
        kind: ``follow``, ``rows`` (a print) or ``command``.
    """

    def __init__(self, session: Session, op: str, fields: dict, kind: str, resumable: bool, raw: bool = False):
        self.session = session
        self.op = op
        self.fields = fields
        self.kind = kind
        self.resumable = resumable
        self.raw = raw
        self.closed = False
        self.error: RpcError | None = None
        self.columns: list[str] = []
        self._queue: deque = deque()
        self._wake = asyncio.Event()
        self._ended = asyncio.Event()
        self._finished = False
        self._cancelled = False
        self._client: RpcClient | None = None
        self._rid: int | None = None
        self._consumed = 0
        self._acked = 0
        self._ack_step = ACK_STEP
        self.buffered = 0          # bytes received and not yet taken by the consumer
        self.peak_buffered = 0

    # -- starting -------------------------------------------------------------------------
    def _start(self, client: RpcClient, again: bool = False) -> None:
        self._client = client
        self._consumed = self._acked = 0
        self.buffered = 0
        # acknowledge often enough for the agent's window (a quarter of it at most)
        window = client.init.get("limits", {}).get("window") or 0
        self._ack_step = min(ACK_STEP, max(1, window // 4)) if window else ACK_STEP
        self._ended.clear()
        if again:
            self._push({"op": "reset"}, 0)
        self._rid = client.stream(self.op, self.fields, self)

    # -- the Sink side (called by RpcClient) -------------------------------------------------
    def frame(self, msg: dict, size: int) -> None:
        if self.closed:
            return  # late frames after a cancel are tolerated
        items = self._convert(msg)
        self.buffered += size
        if self.buffered > self.peak_buffered:
            self.peak_buffered = self.buffered
        if not items:
            self._take(size)
            return
        for item in items[:-1]:
            self._queue.append((item, 0))
        self._queue.append((items[-1], size))
        self._wake.set()

    def trap(self, error: RpcError) -> None:
        self.error = error

    def done(self, error: RpcError | None) -> None:
        self.error = error
        self._finished = True
        self._client = None
        self.session._streams.discard(self)
        self._ended.set()
        self._wake.set()

    def lost(self, reason: str) -> None:
        self._client = None
        self._ended.set()
        if self.resumable and not self.closed and self.session.can_reconnect:
            self._push({"op": "lost", "reason": reason}, 0)
            return
        self.done(RpcError("disconnected", reason))

    def _push(self, item: dict, size: int) -> None:
        self._queue.append((item, size))
        self._wake.set()

    # -- frames to items ------------------------------------------------------------------------
    def _convert(self, msg: dict) -> list:
        op = msg.get("op")
        if op == "rows":
            if "columns" in msg:
                self.columns = msg["columns"]
            rows = msg.get("rows", [])
            if not self.raw:
                cols = self.columns
                rows = [dict(zip(cols, r)) for r in rows]
            item = {"op": "rows", "rows": rows}
            if self.raw:
                item["columns"] = self.columns
            return [item]
        if op == "ready":
            return [{"op": "ready"}]
        if op == "columns":
            self.columns = msg.get("columns", [])
            return []
        if op == "events":
            return [self._event(ev) for ev in msg.get("events", [])]
        if op == "data":
            return list(msg.get("rows", []))
        return []

    def _event(self, ev: list) -> dict:
        kind = ev[0]
        if kind == "remove":
            return {"op": "remove", "row": {".id": ev[1]}}
        if kind == "order":
            return {"op": "order", "ids": ev[1]}
        row = ev[1] if self.raw else dict(zip(self.columns, ev[1]))
        out = {"op": kind, "row": row}
        if kind == "add" and len(ev) > 2:
            out["index"] = ev[2]
        return out

    # -- the consumer side ------------------------------------------------------------------------
    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Any:
        while True:
            if self._queue:
                item, size = self._queue.popleft()
                if size:
                    self._take(size)
                return item
            if self._finished or self.closed:
                self.closed = True
                if self.error is not None and not self._cancelled:
                    raise self.error
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()

    def _take(self, size: int) -> None:
        self.buffered -= size
        self._consumed += size
        if self._consumed - self._acked >= self._ack_step and self._client is not None and self._rid is not None:
            self._acked = self._consumed
            self._client.ack(self._rid, self._consumed)

    async def cancel(self) -> None:
        """Stop it; returns once the agent confirmed (or after a few seconds)."""
        if self.closed:
            return
        self.closed = True
        self._cancelled = True
        self._queue.clear()
        self.buffered = 0
        self._wake.set()
        self.session._streams.discard(self)
        client, rid = self._client, self._rid
        if client is not None and rid is not None and not self._finished and not client.closed:
            client.cancel(rid)
            try:
                await asyncio.wait_for(self._ended.wait(), CANCEL_WAIT)
            except asyncio.TimeoutError:
                log.warning("the agent did not confirm cancelling stream %s", rid)
        if self.error is not None and self.error.problem == "interrupted":
            self.error = None

    async def collect(self) -> list:
        """Every item until the stream ends (finite streams)."""
        return [item async for item in self]


class TerminalStream:
    """A New Terminal on the device (op ``terminal``): the agent's command
    line on a pty.  Async iteration gives the bytes it writes (for a VT100
    screen); it ends when the shell exits, is cancelled, or the connection
    drops (not resumed: a new terminal is a new shell).

    Attributes:
        pid: the shell's process id on the device, once the agent said it.
        closed / error: as for :class:`Stream`.
    """

    INPUT_CHUNK = 4096

    def __init__(self, session: Session, cols: int, rows: int):
        self.session = session
        self.pid: int | None = None
        self._stream = session._stream("terminal", {"cols": int(cols), "rows": int(rows)}, "terminal", False)

    @property
    def closed(self) -> bool:
        return self._stream.closed

    @property
    def error(self) -> RpcError | None:
        return self._stream.error

    def __aiter__(self) -> TerminalStream:
        return self

    async def __anext__(self) -> bytes:
        while True:
            item = await self._stream.__anext__()
            if "pid" in item:
                self.pid = int(item["pid"])
            elif "data" in item:
                return base64.b64decode(item["data"])

    async def _request(self, op: str, **fields: Any) -> None:
        if self._stream.closed or self._stream._finished:
            raise RpcError("missing", "the terminal has ended")
        await self.session._call(op, stream=self._stream._rid, **fields)

    async def write(self, data: bytes) -> None:
        """Send keystrokes (bytes as a VT100 keyboard sends them)."""
        for at in range(0, len(data), self.INPUT_CHUNK):
            chunk = data[at:at + self.INPUT_CHUNK]
            await self._request("terminal-input", data=base64.b64encode(chunk).decode("ascii"))

    async def resize(self, cols: int, rows: int) -> None:
        """The window's size in characters changed."""
        await self._request("terminal-resize", cols=int(cols), rows=int(rows))

    async def cancel(self) -> None:
        """Close it: the agent kills the shell and closes the pty."""
        await self._stream.cancel()


class Session:
    """An open connection to a device's agent (see the module docstring).

    Attributes:
        facts: protocol, agent_hash, hostname, os, python, driver, identity,
            user (and uid, session, kernel) from the agent's init.
        schema: menu path -> menu description (``Menu.describe()``).
        capabilities: the operations and features the agent offers.
        state: ``connected``, ``lost`` or ``closed``.
        cli_path: the menu the ``cli`` interpreter is in (``/ip/address``).
        safe: the last safe-mode status the agent gave (``on``: this session
            holds it; ``held``; ``holder``; ``changes``; ``last-rollback``).
        rollback: the report of the rollback that undid this session's safe
            mode (set when the agent says so; None otherwise).
    """

    def __init__(self, reopen: TransportFactory | None = None, heartbeat: float = 3.0, dead_after: float = 10.0):
        self.facts: dict = {}
        self.schema: dict = {}
        self.capabilities: list[str] = []
        self.limits: dict = {}
        self.state = "closed"
        self.reason = ""
        self.cli_path = "/"
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self._reopen = reopen
        self._client: RpcClient | None = None
        self._streams: set[Stream] = set()
        self._callbacks: list[StateCallback] = []
        self._closed = False
        self.safe: dict = {}
        self.rollback: dict | None = None
        self._safe_token: str | None = None
        self._safe_callbacks: list[Callable[[dict], None]] = []

    # -- opening ------------------------------------------------------------------------------------
    @classmethod
    async def over(cls, transport: Any, reopen: TransportFactory | None = None,
                   heartbeat: float = 3.0, dead_after: float = 10.0) -> Session:
        """Run the handshake over ``transport``; ``reopen()`` makes a new one
        for :meth:`reconnect`."""
        session = cls(reopen, heartbeat, dead_after)
        await session._attach(transport)
        return session

    @classmethod
    async def open_local(cls, state_dir: str | None = None, driver: str = "sim", seed: int | None = None,
                         mode: str = "bridge", agent_args: Sequence[str] = ()) -> Session:
        """A session with an agent on this machine (the demo).

        ``mode`` ``bridge`` shares the device's daemon (other local sessions
        on the same state directory see the changes live); ``serve`` runs a
        private agent process."""
        from .local import local_opener
        reopen = local_opener(state_dir, driver, seed, mode, agent_args)
        transport = await reopen()
        return await cls.over(transport, reopen=reopen)

    async def _attach(self, transport: Any) -> None:
        client = RpcClient(transport, heartbeat=self.heartbeat, dead_after=self.dead_after)
        try:
            init = await client.start()
            self._client = client
            client.on_lost = self._lost
            client.on_notice = self._notice
            menus = await client.call("describe")
        except BaseException:
            self._client = None
            await client.close()
            raise
        self.facts = dict(init.get("facts", {}))
        self.facts.setdefault("protocol", init.get("protocol"))
        self.facts.setdefault("agent_hash", init.get("agent_hash"))
        self.capabilities = list(init.get("capabilities", []))
        self.limits = dict(init.get("limits", {}))
        self.schema = menus["menus"]
        for stream in list(self._streams):
            if not stream.closed:
                stream._start(client, again=True)
        await self._reclaim_safe_mode()
        self._set_state("connected", "")

    @property
    def can_reconnect(self) -> bool:
        return self._reopen is not None and not self._closed

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._client.closed

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """``callback(state, reason)`` on ``connected``, ``lost``, ``closed``;
        returns a function that unregisters it."""
        self._callbacks.append(callback)

        def forget() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
        return forget

    def _set_state(self, state: str, reason: str) -> None:
        self.state = state
        self.reason = reason
        for cb in list(self._callbacks):
            try:
                cb(state, reason)
            except Exception:
                log.exception("a session state callback failed")

    def _lost(self, reason: str) -> None:
        if not self._closed:
            self._set_state("lost", reason)

    async def reconnect(self) -> None:
        """Open a new transport through the same factory; resubscribe streams."""
        if self._closed:
            raise RpcError("disconnected", "the session is closed")
        if self._reopen is None:
            raise RpcError("disconnected", "this session cannot reconnect (it was opened on a single transport)")
        old, self._client = self._client, None
        if old is not None:
            old.on_lost = None
            await old.close()
        transport = await self._reopen()
        await self._attach(transport)

    async def close(self) -> None:
        """End the session and every stream."""
        if self._closed:
            return
        self._closed = True
        for stream in list(self._streams):
            stream.closed = True
            stream.done(None)
        client, self._client = self._client, None
        if client is not None:
            client.on_lost = None
            await client.close()
        self._set_state("closed", "closed")

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- plumbing --------------------------------------------------------------------------------------
    def _need(self) -> RpcClient:
        if self._client is None or self._client.closed:
            reason = self.reason or (self._client.reason if self._client else "") or "not connected"
            raise RpcError("disconnected", reason)
        return self._client

    async def _call(self, op: str, **fields: Any) -> Any:
        return await self._need().call(op, **{k: v for k, v in fields.items() if v is not None})

    def _stream(self, op: str, fields: dict, kind: str, resumable: bool, raw: bool = False) -> Stream:
        client = self._need()
        stream = Stream(self, op, {k: v for k, v in fields.items() if v is not None}, kind, resumable, raw)
        self._streams.add(stream)
        stream._start(client)
        return stream

    # -- reading -----------------------------------------------------------------------------------------
    async def describe(self, path: str | None = None) -> dict:
        """Menu descriptions (all, or one menu); refreshes :attr:`schema`."""
        menus = (await self._call("describe", path=path))["menus"]
        if path is None:
            self.schema = menus
        else:
            self.schema.update(menus)
        return menus

    def print_stream(self, path: str, proplist: Sequence[str] | None = None, where: dict | None = None,
                     sensitive: bool = False, raw: bool = False) -> Stream:
        """A listing as a stream of ``{"op": "rows", ...}`` batches (for big
        listings: memory stays bounded however slowly it is read)."""
        return self._stream("print", {"path": path, "proplist": list(proplist) if proplist else None,
                                      "where": where, "sensitive": sensitive or None}, "rows", False, raw)

    async def print(self, path: str, proplist: Sequence[str] | None = None, where: dict | None = None,
                    sensitive: bool = False) -> list[dict[str, str]]:
        """Every row of a menu (``where``: property -> value or list of values)."""
        rows: list[dict[str, str]] = []
        async for batch in self.print_stream(path, proplist, where, sensitive):
            rows.extend(batch["rows"])
        return rows

    def follow(self, path: str, proplist: Sequence[str] | None = None, sensitive: bool = False,
               interval: float | None = 1.0, where: dict | None = None, raw: bool = False,
               only_changes: bool = False) -> Stream:
        """The rows, ``ready``, then every change (see the module docstring);
        live values are polled every ``interval`` seconds (None: config only)."""
        fields = {"path": path, "proplist": list(proplist) if proplist else None, "where": where,
                  "sensitive": sensitive or None, "interval": interval,
                  "follow-only" if only_changes else "follow": True}
        return self._stream("print", fields, "follow", True, raw)

    async def get(self, path: str, item_id: str | None = None, sensitive: bool = False) -> dict[str, str]:
        """One item (by id or name; none for a settings menu)."""
        return await self._call("get", path=path, item=item_id or None, sensitive=sensitive or None)

    # -- changing -------------------------------------------------------------------------------------------
    async def add(self, path: str, values: dict[str, str], place_before: str | None = None,
                  copy_from: str | None = None) -> str:
        """Add an item; returns its id (``*1F``)."""
        return await self._call("add", path=path, values=dict(values), **{"place-before": place_before,
                                                                          "copy-from": copy_from})

    async def set(self, path: str, ids: str | Sequence[str] | None, values: dict[str, str],
                  expect: dict[str, str] | None = None) -> None:
        """Set properties.  ``expect``: the values the form was loaded with;
        if the item changed since, the agent refuses (problem ``conflict``)."""
        await self._call("set", path=path, ids=_id_list(ids), values=dict(values),
                         expect=dict(expect) if expect else None)

    async def unset(self, path: str, ids: str | Sequence[str] | None, names: Sequence[str],
                    expect: dict[str, str] | None = None) -> None:
        await self._call("unset", path=path, ids=_id_list(ids), names=list(names),
                         expect=dict(expect) if expect else None)

    async def remove(self, path: str, ids: str | Sequence[str]) -> None:
        await self._call("remove", path=path, ids=_id_list(ids))

    async def enable(self, path: str, ids: str | Sequence[str] | None) -> None:
        await self._call("enable", path=path, ids=_id_list(ids))

    async def disable(self, path: str, ids: str | Sequence[str] | None) -> None:
        await self._call("disable", path=path, ids=_id_list(ids))

    async def comment(self, path: str, ids: str | Sequence[str], text: str) -> None:
        await self._call("comment", path=path, ids=_id_list(ids), comment=text)

    async def move(self, path: str, ids: str | Sequence[str], destination: str | None = None) -> None:
        """Move items before ``destination`` (or to the end)."""
        await self._call("move", path=path, ids=_id_list(ids), destination=destination)

    # -- commands and scripts ----------------------------------------------------------------------------------
    def command(self, path: str, name: str, item: str | None = None, args: dict[str, str] | None = None,
                interval: float = 1.0) -> Stream:
        """Run a menu command; its rows arrive as the stream's items.  A stream
        command (``monitor``) goes on until cancelled unless ``args`` has
        ``once`` or ``duration``."""
        args = dict(args or {})
        menu = self.schema.get(path, {})
        spec = next((c for c in menu.get("commands", []) if c.get("name") == name), {})
        endless = bool(spec.get("stream")) and "once" not in args and "duration" not in args
        fields = {"path": path, "command": name, "item": item, "args": args, "interval": interval}
        return self._stream("command", fields, "command", endless)

    async def export(self, path: str | None = None, sensitive: bool = False) -> str:
        return await self._call("export", path=path, sensitive=sensitive or None)

    async def import_script(self, text: str) -> None:
        """Run a script (``/import``); stops at the first failing line (the
        error says which), keeping what the lines before it did."""
        await self._call("import", script=text)

    async def cli(self, line: str) -> str:
        """Run one line of the router command language; returns what it printed.
        The interpreter keeps its menu level between lines (:attr:`cli_path`)."""
        result = await self._call("cli", line=line)
        self.cli_path = result.get("path", self.cli_path)
        return result.get("output", "")

    def terminal(self, cols: int = 80, rows: int = 24) -> TerminalStream:
        """A New Terminal: the router's command line on a pty over this
        connection (needs the agent's ``terminal`` capability)."""
        if "terminal" not in self.capabilities:
            raise RpcError("missing", "this agent has no terminal (it is older); the line mode is used instead")
        return TerminalStream(self, cols, rows)

    async def stats(self) -> dict:
        """The agent's diagnostics: connections, buffers, feeds, monitors."""
        return await self._call("stats")

    # -- undo, redo, safe mode, impact -------------------------------------------------------------------------
    async def undo(self, mine: bool = False) -> int:
        """Undo the router's latest step (``mine``: this session's); returns the new revision."""
        return (await self._call("undo", mine=mine or None))["revision"]

    async def redo(self, mine: bool = False) -> int:
        """Do again the step undone last; returns the new revision."""
        return (await self._call("redo", mine=mine or None))["revision"]

    async def safe_mode(self, on: bool, take_over: str | None = None, unroll: bool = False) -> dict:
        """Turn safe mode on (``take_over``: ``keep`` or ``unroll`` the changes
        of a session that holds it) or off (keeping the changes; ``unroll``:
        undoing them).  While on, the agent undoes every change of this
        session if the connection is lost for longer than its grace period;
        :meth:`reconnect` reclaims it in time.  Returns the status."""
        if on:
            status = await self._call("safe-mode", on=True, **{"take-over": take_over})
            self._safe_token = status.pop("token", None)
            self.rollback = None
        else:
            status = await self._call("safe-mode", on=False, unroll=unroll or None)
            self._safe_token = None
            if status.get("report"):
                self.rollback = status["report"]
        self._safe_news({"event": "status", "status": status, "report": status.get("report")})
        return status

    async def safe_mode_status(self) -> dict:
        """Whether safe mode is on here, who holds it, the last rollback."""
        status = await self._call("safe-mode")
        self._safe_news({"event": "status", "status": status})
        return status

    def on_safe_mode(self, callback: Callable[[dict], None]) -> Callable[[], None]:
        """``callback(news)`` whenever safe mode's state changes: ``news`` has
        ``event`` (``status``, ``held``, ``released``, ``taken-over``,
        ``rolled-back``, ``reclaimed``), ``status``, and for a rollback of
        this session's changes ``report`` (what was undone, and why)."""
        self._safe_callbacks.append(callback)

        def forget() -> None:
            if callback in self._safe_callbacks:
                self._safe_callbacks.remove(callback)
        return forget

    def _safe_news(self, news: dict) -> None:
        status = news.get("status")
        if isinstance(status, dict):
            self.safe = status
        for cb in list(self._safe_callbacks):
            try:
                cb(news)
            except Exception:
                log.exception("a safe-mode callback failed")

    def _notice(self, msg: dict) -> None:
        if msg.get("kind") != "safe-mode":
            return
        event = msg.get("event")
        news = {"event": event, "status": msg.get("status") or {}, "message": msg.get("message", "")}
        if event in ("rolled-back", "taken-over") and self._safe_token is not None:
            self._safe_token = None     # it was ours
            if event == "rolled-back":
                self.rollback = msg.get("report")
                news["report"] = self.rollback
        self._safe_news(news)

    async def _reclaim_safe_mode(self) -> None:
        """After a reconnect: take safe mode back with its token, or learn
        that it was rolled back meanwhile (the report says what was undone)."""
        token = self._safe_token
        if token is None or "safe-mode" not in self.capabilities:
            return
        try:
            status = await self._need().call("safe-mode", reclaim=token)
        except RpcError as exc:
            log.warning("could not reclaim safe mode: %s", exc)
            return
        if status.get("reclaimed"):
            self._safe_news({"event": "reclaimed", "status": status})
            return
        self._safe_token = None
        self.rollback = status.get("report")
        self._safe_news({"event": "rolled-back", "status": status, "report": self.rollback,
                         "message": (self.rollback or {}).get("reason", "safe mode was lost")})

    async def check_impact(self, path: str, action: str, ids: str | Sequence[str] | None = None,
                           values: dict[str, str] | None = None) -> list[str]:
        """Warnings if this change may cut the connection to the router
        (an empty list when it does not, or the agent cannot tell)."""
        if "check-impact" not in self.capabilities:
            return []
        result = await self._call("check-impact", path=path, action=action, ids=_id_list(ids),
                                  values=dict(values or {}))
        return list(result.get("warnings", []))
