"""MNDP, MikroTik's neighbor discovery (UDP 5678), for the login window.

:func:`parse` turns one datagram into a :class:`Neighbor`, bounds-checking
every TLV (the packets come from anyone on the LAN); :func:`encode` builds one
(used by tests and by anything that announces); :class:`Listener` binds port
5678 on asyncio, asks every device to answer now (a 4-byte all-zero packet)
and reports each neighbor it hears through a callback. No Qt here: the login
window wraps the callback into its own table.

Packet layout (PROTOCOLS.md section 4): byte 0 header (0), byte 1 TTL,
bytes 2-3 sequence, then TLVs of 2-byte type, 2-byte length (big-endian) and
the value. Uptime (type 10) is the one little-endian field.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass, field, replace
from typing import Callable

PORT = 5678
HEADER_LEN = 4
MAX_PACKET = 65535
DISCOVER = b"\x00\x00\x00\x00"

T_MAC = 1
T_IDENTITY = 5
T_VERSION = 7
T_PLATFORM = 8
T_UPTIME = 10
T_SOFTWARE_ID = 11
T_BOARD = 12
T_UNPACK = 14
T_IPV6 = 15
T_INTERFACE = 16
T_IPV4 = 17

_STRINGS = {
    T_IDENTITY: "identity",
    T_VERSION: "version",
    T_PLATFORM: "platform",
    T_SOFTWARE_ID: "software_id",
    T_BOARD: "board",
    T_INTERFACE: "interface",
}


class MndpError(ValueError):
    """A datagram that is not a well-formed MNDP packet."""


@dataclass(frozen=True)
class Neighbor:
    """What one device said about itself.

    Attributes:
        mac: ``AA:BB:CC:DD:EE:FF`` or "".
        identity, version, platform, board, software_id, interface: strings
            as sent ("" when absent).
        uptime: seconds, or None.
        ipv4, ipv6: addresses as text, or "".
        source: the address the packet came from (filled in by the listener).
        seen: time.monotonic() when heard (filled in by the listener).
    """

    mac: str = ""
    identity: str = ""
    version: str = ""
    platform: str = ""
    board: str = ""
    software_id: str = ""
    interface: str = ""
    uptime: int | None = None
    unpack: int | None = None
    ipv4: str = ""
    ipv6: str = ""
    source: str = ""
    seen: float = field(default=0.0, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """Neighbors are grouped by identity and MAC (one packet per interface)."""
        return (self.identity, self.mac)

    @property
    def address(self) -> str:
        """The address to connect to: IPv4, else IPv6, else where it came from."""
        if self.ipv4:
            return self.ipv4
        if self.ipv6:
            return "[%s]" % self.ipv6
        return self.source


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace").replace("\x00", "")


def parse(data: bytes) -> Neighbor:
    """One datagram as a Neighbor; raises MndpError when it is malformed.

    Unknown TLV types are skipped; a TLV whose length runs past the end, or a
    fixed-size field of the wrong size, is an error.
    """
    if len(data) < HEADER_LEN:
        raise MndpError("packet of %d bytes is shorter than the 4-byte header" % len(data))
    if len(data) > MAX_PACKET:
        raise MndpError("packet of %d bytes is too long" % len(data))
    values: dict[str, object] = {}
    pos = HEADER_LEN
    end = len(data)
    while pos < end:
        if end - pos < 4:
            raise MndpError("truncated TLV header at byte %d" % pos)
        kind, length = struct.unpack_from(">HH", data, pos)
        pos += 4
        if length > end - pos:
            raise MndpError("TLV type %d at byte %d claims %d bytes, %d left" % (kind, pos - 4, length, end - pos))
        value = data[pos:pos + length]
        pos += length
        if kind in _STRINGS:
            values[_STRINGS[kind]] = _text(value)
        elif kind == T_MAC:
            if length != 6:
                raise MndpError("MAC address TLV of %d bytes (6 expected)" % length)
            values["mac"] = ":".join("%02X" % b for b in value)
        elif kind == T_UPTIME:
            if length != 4:
                raise MndpError("uptime TLV of %d bytes (4 expected)" % length)
            values["uptime"] = struct.unpack("<I", value)[0]
        elif kind == T_UNPACK:
            if length != 1:
                raise MndpError("unpack TLV of %d bytes (1 expected)" % length)
            values["unpack"] = value[0]
        elif kind == T_IPV4:
            if length != 4:
                raise MndpError("IPv4 TLV of %d bytes (4 expected)" % length)
            values["ipv4"] = str(ipaddress.IPv4Address(value))
        elif kind == T_IPV6:
            if length != 16:
                raise MndpError("IPv6 TLV of %d bytes (16 expected)" % length)
            values["ipv6"] = str(ipaddress.IPv6Address(value))
        # other types (2, 3, 6, 9, unknown) are skipped
    return Neighbor(**values)  # type: ignore[arg-type]


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">HH", kind, len(value)) + value


def encode(n: Neighbor, seq: int = 0, ttl: int = 1) -> bytes:
    """A packet announcing ``n`` (absent fields are left out)."""
    out = [struct.pack(">BBH", 0, ttl, seq & 0xFFFF)]
    if n.mac:
        out.append(_tlv(T_MAC, bytes(int(x, 16) for x in n.mac.split(":"))))
    for kind, name in _STRINGS.items():
        value = getattr(n, name)
        if value:
            out.append(_tlv(kind, value.encode("utf-8")))
    if n.uptime is not None:
        out.append(_tlv(T_UPTIME, struct.pack("<I", n.uptime)))
    if n.unpack is not None:
        out.append(_tlv(T_UNPACK, bytes([n.unpack])))
    if n.ipv6:
        out.append(_tlv(T_IPV6, ipaddress.IPv6Address(n.ipv6).packed))
    if n.ipv4:
        out.append(_tlv(T_IPV4, ipaddress.IPv4Address(n.ipv4).packed))
    return b"".join(out)


def open_socket(port: int = PORT, host: str = "0.0.0.0") -> socket.socket:
    """A UDP socket bound for MNDP: reuse address/port, broadcast allowed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError:
            pass
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


class _Protocol(asyncio.DatagramProtocol):
    """Feeds datagrams to its Listener."""

    def __init__(self, listener: "Listener"):
        self.listener = listener

    def datagram_received(self, data: bytes, addr) -> None:
        self.listener.received(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP errors: nothing to do
        self.listener.errors += 1


class Listener:
    """Hears MNDP neighbors on UDP 5678.

    Attributes:
        neighbors: key (identity, MAC) -> latest Neighbor.
        malformed: how many packets failed to parse.
        errors: socket errors reported.
        on_neighbor: callback(Neighbor) for every good packet.

    Our own 4-byte discovery requests are ignored (a datagram with no TLVs
    is a request, not an announcement).
    """

    def __init__(self, on_neighbor: Callable[[Neighbor], None] | None = None,
                 port: int = PORT, host: str = "0.0.0.0", discover_to: str = "255.255.255.255"):
        self.on_neighbor = on_neighbor
        self.port = port
        self.host = host
        self.discover_to = discover_to
        self.neighbors: dict[tuple[str, str], Neighbor] = {}
        self.malformed = 0
        self.errors = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        """Bind and send one discovery request; raises OSError if the port cannot be had."""
        loop = asyncio.get_running_loop()
        sock = open_socket(self.port, self.host)
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self.discover()

    @property
    def port_bound(self) -> int:
        if self._transport is None:
            return 0
        return self._transport.get_extra_info("sockname")[1]

    def discover(self) -> None:
        """Ask every device on the link to announce itself now."""
        if self._transport is not None:
            try:
                self._transport.sendto(DISCOVER, (self.discover_to, self.port))
            except OSError:
                self.errors += 1

    def received(self, data: bytes, addr) -> None:
        if len(data) <= HEADER_LEN:
            return  # a discovery request (ours or someone else's)
        try:
            n = parse(data)
        except MndpError:
            self.malformed += 1
            return
        n = replace(n, source=addr[0], seen=time.monotonic())
        self.neighbors[n.key] = n
        if self.on_neighbor is not None:
            self.on_neighbor(n)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
