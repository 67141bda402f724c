"""The license key: its text format, its levels, and what makes a key acceptable.

A key is a short text the account server signs (Ed25519) and the router
keeps in ``license.key`` beside its configuration::

    -----BEGIN WINBOX-PY LICENSE KEY-----
    system-id: aBC/Giu1dPL
    level: p1
    trial: yes
    serial: 1
    issued-at: 2015-12-11T21:59:59Z
    next-renewal-at: 2016-01-10T21:59:59Z
    deadline-at: 2016-02-09T21:59:59Z
    signer: 3q2+7wAAAAAA
    signature: <base64 of 64 bytes>
    -----END WINBOX-PY LICENSE KEY-----

The fields come in exactly this order, once each; times are UTC.  The
signature covers :data:`DOMAIN` followed by the field lines before it as
``name: value\\n`` (values stripped), so a key survives being re-indented or
pasted into a mail, but changing any value breaks it.  ``signer`` names the
server key that signed it (the first 9 bytes of the SHA-256 of its public
key, base64), so a key from another server is told apart from an altered one.

The account server builds keys with :func:`signed_text` (it brings its own
signing function); the agent accepts one only through :func:`check`.
"""

import base64
import binascii
import calendar
import hashlib
import re
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from . import ed25519

BEGIN = "-----BEGIN WINBOX-PY LICENSE KEY-----"
END = "-----END WINBOX-PY LICENSE KEY-----"
DOMAIN = b"winbox-py license key 1\n"
FIELDS = ("system-id", "level", "trial", "serial", "issued-at", "next-renewal-at", "deadline-at", "signer")

LEVELS = ("free", "p1", "p10", "p-unlimited")
PAID_LEVELS = LEVELS[1:]
# upload per interface (CHR document: free 1Mbit, p1 1Gbit, p10 10Gbit, p-unlimited none)
SPEED_LIMITS: Dict[str, Optional[int]] = {"free": 10 ** 6, "p1": 10 ** 9, "p10": 10 ** 10, "p-unlimited": None}
SPEED_TEXT = {"free": "1Mbit", "p1": "1Gbit", "p10": "10Gbit", "p-unlimited": "unlimited"}

SYSTEM_ID_RE = re.compile(r"[A-Za-z0-9+/=_-]{4,64}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class KeyRefused(Exception):
    """A key the router must not take, and why (a sentence for the user)."""


class LicenseKey(NamedTuple):
    """A parsed key (times as seconds since the epoch)."""

    system_id: str
    level: str
    trial: bool
    serial: int
    issued_at: int
    next_renewal_at: int
    deadline_at: int
    signer: str
    signature: bytes
    message: bytes


def speed_limit(level: Optional[str]) -> str:
    """The upload limit per interface of a level, as the License window shows it."""
    return SPEED_TEXT.get(level or "free", SPEED_TEXT["free"])


def key_id(public_key: bytes) -> str:
    """The short name of a server key that keys carry in ``signer``."""
    return base64.b64encode(hashlib.sha256(public_key).digest()[:9]).decode()


def public_key_bytes(text: str) -> bytes:
    """The 32 bytes of a base64 Ed25519 public key (``license-server-key``)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != ed25519.PUBLIC_KEY_SIZE:
        raise KeyRefused("license-server-key is not a base64 Ed25519 public key (32 bytes)")
    return raw


def format_time(t: int) -> str:
    return time.strftime(_TIME_FORMAT, time.gmtime(t))


def parse_time(text: str) -> int:
    return calendar.timegm(time.strptime(text, _TIME_FORMAT))


def _message(pairs: List[Tuple[str, str]]) -> bytes:
    return DOMAIN + "".join("%s: %s\n" % (k, v) for k, v in pairs).encode("utf-8")


def signed_text(system_id: str, level: str, trial: bool, serial: int, issued_at: int, next_renewal_at: int,
                deadline_at: int, public_key: bytes, sign: Callable[[bytes], bytes]) -> str:
    """A key's text; ``sign`` turns the message into the 64-byte signature."""
    pairs = [("system-id", system_id), ("level", level), ("trial", "yes" if trial else "no"),
             ("serial", str(serial)), ("issued-at", format_time(issued_at)),
             ("next-renewal-at", format_time(next_renewal_at)), ("deadline-at", format_time(deadline_at)),
             ("signer", key_id(public_key))]
    signature = base64.b64encode(sign(_message(pairs))).decode()
    body = "".join("%s: %s\n" % (k, v) for k, v in pairs + [("signature", signature)])
    return "%s\n%s%s\n" % (BEGIN, body, END)


def parse(text: str) -> LicenseKey:
    """The fields of a key's text, checked for form only (see :func:`check`)."""
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    try:
        start = lines.index(BEGIN)
        stop = lines.index(END, start)
    except ValueError:
        raise KeyRefused("it is not a license key (no %s ... %s block)" % (BEGIN, END)) from None
    pairs: List[Tuple[str, str]] = []
    for ln in lines[start + 1:stop]:
        if not ln:
            continue
        name, sep, value = ln.partition(":")
        if not sep:
            raise KeyRefused("it is malformed: %r is not a 'name: value' line" % ln[:40])
        pairs.append((name.strip(), value.strip()))
    names = [k for k, _ in pairs]
    if names != list(FIELDS) + ["signature"]:
        raise KeyRefused("it is malformed: its fields must be %s, signature" % ", ".join(FIELDS))
    v = dict(pairs)
    if not SYSTEM_ID_RE.fullmatch(v["system-id"]):
        raise KeyRefused("it is malformed: system-id %r is not a system ID" % v["system-id"][:40])
    if v["level"] not in PAID_LEVELS:
        raise KeyRefused("it is malformed: level %r is not one of %s" % (v["level"][:20], ", ".join(PAID_LEVELS)))
    if v["trial"] not in ("yes", "no"):
        raise KeyRefused("it is malformed: trial must be yes or no")
    if not v["serial"].isdigit() or not 0 < int(v["serial"]) < 2 ** 63:
        raise KeyRefused("it is malformed: serial must be a positive number")
    times = {}
    for name in ("issued-at", "next-renewal-at", "deadline-at"):
        try:
            times[name] = parse_time(v[name])
        except (ValueError, OverflowError):
            raise KeyRefused("it is malformed: %s %r is not a time like 2016-01-10T21:59:59Z" % (
                name, v[name][:30])) from None
    if not times["issued-at"] <= times["next-renewal-at"] <= times["deadline-at"]:
        raise KeyRefused("it is malformed: issued-at, next-renewal-at and deadline-at are out of order")
    try:
        signature = base64.b64decode(v["signature"], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != ed25519.SIGNATURE_SIZE:
        raise KeyRefused("it is malformed: signature is not 64 bytes of base64")
    return LicenseKey(v["system-id"], v["level"], v["trial"] == "yes", int(v["serial"]), times["issued-at"],
                      times["next-renewal-at"], times["deadline-at"], v["signer"], signature,
                      _message(pairs[:-1]))


def check(text: str, server_key: bytes, system_id: str, not_before: Optional[int] = None) -> LicenseKey:
    """The key, if this router may take it: well formed, signed by the server
    key it trusts, for its own system ID, and not older than the key it has
    (``not_before``: that key's issued-at).  Otherwise :class:`KeyRefused`."""
    key = parse(text)
    if key.signer != key_id(server_key):
        raise KeyRefused("it was signed by another server (key %s), not by license-server-key (key %s)" % (
            key.signer[:20], key_id(server_key)))
    if not ed25519.verify(server_key, key.message, key.signature):
        raise KeyRefused("its signature does not match: the key was altered")
    if key.system_id != system_id:
        raise KeyRefused("it is for system ID %s, and this router's is %s" % (key.system_id, system_id))
    if not_before is not None and key.issued_at < not_before:
        raise KeyRefused("it is older than the key this router has (issued %s, before %s)" % (
            format_time(key.issued_at), format_time(not_before)))
    return key
