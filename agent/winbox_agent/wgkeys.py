"""WireGuard keys: X25519 (RFC 7748) in pure Python.

A WireGuard private key is 32 random bytes clamped as RFC 7748 section 5
says; its public key is the X25519 function of the private key and the base
point u=9.  Keys travel as standard base64 (44 characters), as ``wg genkey`` /
``wg pubkey`` and RouterOS print them.

Python integers are not constant-time: this is fine for showing the public
key of a configured private key and for generating keys on a simulated
device; a real router may prefer ``wg genkey`` when wireguard-tools is there.
"""

import base64
import binascii
import functools
import os
from typing import Optional

P = 2 ** 255 - 19
A24 = 121665
BASE_POINT = (9).to_bytes(32, "little")
KEY_BYTES = 32


def _decode_u(u: bytes) -> int:
    """A u-coordinate: little-endian, the top bit ignored (RFC 7748 5)."""
    raw = bytearray(u)
    raw[31] &= 0x7F
    return int.from_bytes(bytes(raw), "little")


def _decode_scalar(k: bytes) -> int:
    """A scalar clamped: low 3 bits cleared, bit 255 cleared, bit 254 set."""
    raw = bytearray(k)
    raw[0] &= 248
    raw[31] &= 127
    raw[31] |= 64
    return int.from_bytes(bytes(raw), "little")


def x25519(k: bytes, u: bytes) -> bytes:
    """The X25519 function of RFC 7748: scalar ``k`` times point ``u``."""
    if len(k) != KEY_BYTES or len(u) != KEY_BYTES:
        raise ValueError("X25519 needs a 32-byte scalar and a 32-byte u-coordinate")
    scalar = _decode_scalar(k)
    x1 = _decode_u(u) % P
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = (x2 + z2) % P
        aa = a * a % P
        b = (x2 - z2) % P
        bb = b * b % P
        e = (aa - bb) % P
        c = (x3 + z3) % P
        d = (x3 - z3) % P
        da = d * a % P
        cb = c * b % P
        x3 = (da + cb) % P
        x3 = x3 * x3 % P
        z3 = (da - cb) % P
        z3 = x1 * (z3 * z3 % P) % P
        x2 = aa * bb % P
        z2 = e * (aa + A24 * e) % P
    if swap:
        x2, x3 = x3, x2
        z2, z3 = z3, z2
    result = x2 * pow(z2, P - 2, P) % P
    return result.to_bytes(32, "little")


def decode_key(text: str) -> Optional[bytes]:
    """The 32 bytes of a base64 key, or None when ``text`` is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def encode_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@functools.lru_cache(maxsize=1024)
def public_key(private_b64: str) -> str:
    """The base64 public key of a base64 private key (``wg pubkey``)."""
    raw = decode_key(private_b64)
    if raw is None:
        raise ValueError("not a base64 key of 32 bytes")
    return encode_key(x25519(raw, BASE_POINT))


def clamp(raw: bytes) -> bytes:
    """A private key as ``wg genkey`` writes it: already clamped."""
    out = bytearray(raw)
    out[0] &= 248
    out[31] &= 127
    out[31] |= 64
    return bytes(out)


def generate_private(random: Optional[bytes] = None) -> str:
    """A new base64 private key (``wg genkey``); ``random`` for tests."""
    raw = random if random is not None else os.urandom(KEY_BYTES)
    if len(raw) != KEY_BYTES:
        raise ValueError("a private key needs 32 random bytes")
    return encode_key(clamp(raw))


def generate_preshared() -> str:
    """A new base64 preshared key (``wg genpsk``): 32 random bytes."""
    return encode_key(os.urandom(KEY_BYTES))
