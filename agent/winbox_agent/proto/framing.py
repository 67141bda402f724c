"""Bytes on the wire: the sync marker, then frames.

The agent first writes a marker line ``\\0WINBOXPY/<protocol> <nonce>\\n``; the
desktop discards everything before it (login banners and MOTDs print junk on
stdout).  After it, in both directions, every message is one frame::

    <payload length in decimal ASCII>\\n<payload: one JSON object, UTF-8>

A frame longer than :data:`FRAME_MAX` or a header that is not a short decimal
number is a framing error: the connection is closed, because nothing after it
can be trusted.  A payload that is not a JSON object fails only itself.
"""

import asyncio
import json
from typing import Any, Optional

PROTOCOL = 1
MARKER_PREFIX = b"\0WINBOXPY/"
FRAME_MAX = 16 * 1024 * 1024
HEADER_MAX = len(str(FRAME_MAX)) + 1
MARKER_SEARCH_MAX = 1024 * 1024

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class FramingError(Exception):
    """The byte stream is not frames any more; the connection must close."""


def marker(nonce: str) -> bytes:
    return MARKER_PREFIX + ("%d %s\n" % (PROTOCOL, nonce)).encode("ascii")


def encode_payload(obj: Any) -> bytes:
    # a lone surrogate (from a request's \\ud800 escape, echoed in an error)
    # cannot be UTF-8: it is sent as U+FFFD rather than failing the message
    return _dumps(obj).encode("utf-8", "replace")


def frame(payload: bytes) -> bytes:
    if len(payload) > FRAME_MAX:
        raise FramingError("frame of %d bytes exceeds the %d byte limit" % (len(payload), FRAME_MAX))
    return b"%d\n" % len(payload) + payload


def encode(obj: Any) -> bytes:
    """One message as a complete frame."""
    return frame(encode_payload(obj))


def parse_header(line: bytes) -> int:
    """The payload length from a header line (with its newline)."""
    digits = line[:-1]
    if not digits or len(digits) >= HEADER_MAX or not digits.isdigit():
        shown = line[:24].decode("ascii", "replace").encode("unicode_escape").decode("ascii")
        raise FramingError("bad frame header %r (expected a decimal length and a newline)" % shown)
    n = int(digits)
    if n > FRAME_MAX:
        raise FramingError("frame of %d bytes exceeds the %d byte limit" % (n, FRAME_MAX))
    return n


async def read_frame(reader: Any) -> Optional[bytes]:
    """The next payload, or None at a clean end of stream (between frames)."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise FramingError("stream ended inside a frame header") from None
    except asyncio.LimitOverrunError:
        raise FramingError("frame header too long") from None
    n = parse_header(line)
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise FramingError("stream ended inside a frame (%d of %d bytes)" % (len(exc.partial), n)) from None


async def skip_to_marker(reader: Any, limit: int = MARKER_SEARCH_MAX) -> str:
    """Discard bytes up to and including the marker line; return its rest
    (``"1 <nonce>"``).  Raises FramingError if no marker comes in ``limit`` bytes."""
    seen = 0
    while True:
        try:
            await reader.readuntil(MARKER_PREFIX)
        except asyncio.IncompleteReadError as exc:
            junk = exc.partial[-200:].decode("utf-8", "replace").strip()
            raise FramingError("the agent ended before its sync marker" +
                               (" (it printed: %s)" % junk if junk else "")) from None
        except asyncio.LimitOverrunError as exc:
            # no marker in the buffer yet: drop what cannot be the start of one
            drop = max(1, exc.consumed)
            await reader.readexactly(drop)
            seen += drop
        else:
            break
        if seen > limit:
            raise FramingError("no sync marker in the first %d bytes from the agent" % limit)
    try:
        rest = await reader.readuntil(b"\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise FramingError("broken sync marker") from None
    return rest[:-1].decode("ascii", "replace")
