"""Ed25519 signature verification (RFC 8032, section 5.1.7), standard library only.

The agent uses it to check the license keys the account server signs.  It
only verifies: signing happens on the server with a constant-time library,
so nothing here touches a secret and plain Python integers are good enough
(a verification takes about 10 ms).

Points are kept in extended coordinates ``(X, Y, Z, T)`` with ``x = X/Z``,
``y = Y/Z`` and ``x*y = T/Z`` on the twisted Edwards curve
``-x^2 + y^2 = 1 + d x^2 y^2`` over GF(2^255 - 19) (RFC 8032, 5.1).
"""

import hashlib
from typing import Optional, Tuple

Point = Tuple[int, int, int, int]

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493   # order of the base point
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)                         # a square root of -1
IDENTITY: Point = (0, 1, 1, 0)

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def _x_from_y(y: int, sign: int) -> Optional[int]:
    """The x of the point with this y and x's low bit ``sign`` (RFC 8032 5.1.3 steps 2-4)."""
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vxx = v * x * x % P
    if vxx == (-u) % P:
        x = x * SQRT_M1 % P
    elif vxx != u:
        return None                       # y is not on the curve
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x


def decode_point(data: bytes) -> Optional[Point]:
    """The point a 32-byte encoding stands for, or None if it is not one."""
    if len(data) != 32:
        return None
    n = int.from_bytes(data, "little")
    y = n & ((1 << 255) - 1)
    x = _x_from_y(y, n >> 255)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def encode_point(pt: Point) -> bytes:
    """The 32-byte encoding of a point (RFC 8032 5.1.2)."""
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def add(p1: Point, p2: Point) -> Point:
    """Point addition (RFC 8032 5.1.4, the formulas for a = -1)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def double(p1: Point) -> Point:
    """Point doubling (RFC 8032 5.1.4, dedicated formulas)."""
    x1, y1, z1, _ = p1
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def multiply(k: int, pt: Point) -> Point:
    """``[k]pt`` by double-and-add from the top bit (not constant time: public data only)."""
    out = IDENTITY
    for bit in reversed(range(k.bit_length())):
        out = double(out)
        if (k >> bit) & 1:
            out = add(out, pt)
    return out


def same_point(p1: Point, p2: Point) -> bool:
    """Equality of two points in projective coordinates."""
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


_BY = 4 * pow(5, P - 2, P) % P
_BX = _x_from_y(_BY, 0)
assert _BX is not None
BASE: Point = (_BX, _BY, 1, _BX * _BY % P)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by
    ``public_key`` (both as the 32 and 64 bytes RFC 8032 defines).

    Non-canonical encodings of A and R and an S not below L are refused; the
    group equation is checked with the cofactor, ``[8][S]B = [8]R + [8][k]A``,
    as section 5.1.7 recommends.
    """
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    a = decode_point(public_key)
    r = decode_point(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % L
    left = multiply(s, BASE)
    right = add(r, multiply(k, a))
    for _ in range(3):                      # times the cofactor 8
        left, right = double(left), double(right)
    return same_point(left, right)
