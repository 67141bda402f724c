"""MNDP: real packets over UDP on loopback are heard and parsed; the parser
survives whatever bytes anyone on the LAN may send."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winbox_py.backend import mndp

ROUTER = mndp.Neighbor(
    mac="02:4A:11:22:33:44", identity="core-gw", version="7.18 (stable)", platform="MikroTik",
    board="CHR", software_id="ABCD-1234", interface="ether1", uptime=93784, unpack=0,
    ipv4="192.0.2.1", ipv6="2001:db8::1",
)


def test_a_packet_round_trips_every_field():
    assert mndp.parse(mndp.encode(ROUTER)) == ROUTER


def test_uptime_is_little_endian_and_other_lengths_big_endian():
    raw = b"\x00\x01\x00\x07" + struct.pack(">HH", 10, 4) + struct.pack("<I", 3600)
    assert mndp.parse(raw).uptime == 3600


def test_unknown_and_skippable_types_are_ignored():
    raw = (b"\x00\x01\x00\x00" + struct.pack(">HH", 2, 3) + b"abc" + struct.pack(">HH", 999, 0)
           + struct.pack(">HH", 5, 2) + b"r1")
    assert mndp.parse(raw).identity == "r1"


@pytest.mark.parametrize("raw, words", [
    (b"\x00\x01", "shorter than the 4-byte header"),
    (b"\x00\x01\x00\x00\x00\x05\x00\x09r1", "claims 9 bytes"),
    (b"\x00\x01\x00\x00\x00\x05", "truncated TLV header"),
    (b"\x00\x01\x00\x00" + struct.pack(">HH", 1, 5) + b"12345", "MAC address TLV of 5 bytes"),
    (b"\x00\x01\x00\x00" + struct.pack(">HH", 17, 3) + b"123", "IPv4 TLV of 3 bytes"),
    (b"\x00\x01\x00\x00" + struct.pack(">HH", 15, 4) + b"1234", "IPv6 TLV of 4 bytes"),
    (b"\x00\x01\x00\x00" + struct.pack(">HH", 10, 8) + b"12345678", "uptime TLV of 8 bytes"),
])
def test_malformed_packets_are_refused_with_the_reason(raw, words):
    with pytest.raises(mndp.MndpError, match=words):
        mndp.parse(raw)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=600))
def test_the_parser_never_fails_other_than_with_mndp_error(data):
    try:
        n = mndp.parse(data)
    except mndp.MndpError:
        return
    assert isinstance(n, mndp.Neighbor)


tlv = st.tuples(st.integers(0, 20), st.binary(max_size=40)).map(
    lambda t: struct.pack(">HH", t[0], len(t[1])) + t[1])


@settings(max_examples=2000, deadline=None)
@given(st.lists(tlv, max_size=12), st.binary(max_size=6))
def test_well_framed_tlvs_with_any_contents_never_crash(tlvs, tail):
    data = b"\x00\x01\x00\x00" + b"".join(tlvs) + tail
    try:
        mndp.parse(data)
    except mndp.MndpError:
        pass


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_the_listener_hears_real_packets_on_loopback_and_skips_junk():
    async def scenario():
        port = _free_udp_port()
        heard: list[mndp.Neighbor] = []
        listener = mndp.Listener(heard.append, port=port, host="127.0.0.1", discover_to="127.0.0.1")
        await listener.start()
        try:
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sender.sendto(b"\x00\x01\x00\x00\x00\x05\x00\x09r1", ("127.0.0.1", port))  # bad
            sender.sendto(mndp.encode(ROUTER, seq=1), ("127.0.0.1", port))
            other = mndp.Neighbor(mac="02:00:00:00:00:02", identity="edge", ipv6="fe80::2")
            sender.sendto(mndp.encode(other, seq=2), ("127.0.0.1", port))
            sender.close()
            for _ in range(200):
                if len(heard) >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            listener.close()
        return listener, heard

    listener, heard = asyncio.run(scenario())
    assert [n.identity for n in heard] == ["core-gw", "edge"]
    assert heard[0].version == "7.18 (stable)" and heard[0].board == "CHR"
    assert heard[0].address == "192.0.2.1" and heard[0].source == "127.0.0.1"
    assert heard[1].address == "[fe80::2]"
    assert listener.malformed == 1
    assert set(listener.neighbors) == {("core-gw", "02:4A:11:22:33:44"), ("edge", "02:00:00:00:00:02")}


def test_the_listener_hears_a_broadcast_on_the_mndp_port():
    """A packet sent to 255.255.255.255:5678 as routers do arrives at the bound socket."""
    async def scenario():
        heard: list[mndp.Neighbor] = []
        listener = mndp.Listener(heard.append)
        try:
            await listener.start()
        except OSError as exc:
            pytest.skip(f"UDP port {mndp.PORT} cannot be bound here ({exc})")
        try:
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sender.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            try:
                sender.sendto(mndp.encode(ROUTER), ("255.255.255.255", mndp.PORT))
            except OSError as exc:
                # no route for broadcast (no interface but lo): loopback is what there is
                sender.sendto(mndp.encode(ROUTER), ("127.0.0.1", mndp.PORT))
                del exc
            sender.close()
            for _ in range(200):
                if heard:
                    break
                await asyncio.sleep(0.01)
        finally:
            listener.close()
        return heard

    heard = asyncio.run(scenario())
    assert heard and heard[0].identity == "core-gw"
