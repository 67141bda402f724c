"""A raw protocol peer for transcript tests: frames in, frames out, no Session."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from winbox_py.backend.rpc import encode, read_frame, skip_to_marker


class Wire:
    """The desktop's end of a connection, spoken by hand.

    Attributes:
        marker: the rest of the agent's marker line; init: its init message.
    """

    def __init__(self, transport: Any):
        self.reader = transport.reader
        self.writer = transport.writer
        self.marker = ""
        self.init: dict = {}

    async def start(self, send_init: bool = True) -> dict:
        self.marker = await skip_to_marker(self.reader)
        self.init = await self.recv()
        if send_init:
            await self.send({"op": "init", "protocol": 1, "capabilities": []})
        return self.init

    async def send(self, obj: dict) -> None:
        self.writer.write(encode(obj))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 10.0, pings: bool = False) -> dict | None:
        """The next message (pings skipped unless asked for); None at the end."""
        while True:
            payload = await asyncio.wait_for(read_frame(self.reader), timeout)
            if payload is None:
                return None
            msg = json.loads(payload)
            if pings or msg.get("op") != "ping":
                return msg

    async def until_done(self, rid: Any, timeout: float = 10.0) -> list[dict]:
        """Every message of request ``rid`` up to its ``done`` (others dropped)."""
        out = []
        while True:
            msg = await self.recv(timeout)
            assert msg is not None, f"connection ended before request {rid} was done: {out}"
            if msg.get("id") != rid:
                continue
            out.append(msg)
            if msg["op"] == "done":
                return out

    async def request(self, **msg: Any) -> list[dict]:
        await self.send(msg)
        return await self.until_done(msg["id"])

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
