"""What a table shows and how it orders and filters rows (no Qt here).

:class:`Column` describes one column of a menu's table from the schema;
:func:`sort_key` gives a fast key for a column's values (numbers as numbers,
addresses by their octets, ids by their hex value); :class:`Rule` and
:func:`predicate` turn the filter stack and quick find into one function over
row tuples. Rows are tuples of display strings in the order of the table's
fields, so every function here works on plain Python tuples and sorts or
filters a million rows in well under a second.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

FLAGS = ".flags"
ID = ".id"
COMMENT = "comment"

# words kept upper case in column titles
_ACRONYMS = {
    "mtu", "mru", "mrru", "mac", "ip", "id", "dns", "ppp", "l2", "tx", "rx", "cpu", "ipv4", "ipv6",
    "tcp", "udp", "vpn", "arp", "nat", "dhcp", "ttl", "ca", "wg", "pd", "dh", "ike", "psk", "lcp",
    "rip", "ospf", "bgp", "vlan", "nas", "mpls", "hw", "tls", "udp", "zt", "mss", "bfd", "pppoe",
    "l2tp", "pptp", "sstp", "ovpn", "hdd", "ram", "hmac", "ac", "lns", "lac", "ipsec", "mtu", "ike2",
}

NUMERIC_KINDS = ("int",)
DURATION_KINDS = ("duration",)
ADDRESS_KINDS = ("ipv4", "ipv6", "ip", "prefix", "address", "host")
RATE_KINDS = ("rate",)      # 12.4 kbps, 1.9 Mbps (the Interfaces table's rate columns)


def title(name: str) -> str:
    """A column title the WinBox way: ``max-mtu`` -> ``Max MTU``."""
    if name == FLAGS:
        return ""
    if name == ID:
        return "#"
    words = name.split("-")
    return " ".join(w.upper() if w.lower() in _ACRONYMS else w.capitalize() for w in words)


@dataclass(frozen=True)
class Column:
    """One column of a table window.

    Attributes:
        field: the property name (``.flags`` for the flags column).
        title: the header text.
        kind: the value type's kind from the schema (``int``, ``ipv4``...).
        index: position of the field in a row tuple.
    """

    field: str
    title: str
    kind: str
    index: int


def columns_for(menu: dict) -> list[Column]:
    """Every column a menu's table can show: flags, then each non-secret property."""
    out = [Column(FLAGS, "", "flags", 0)]
    for p in menu.get("props", []):
        if p.get("secret"):
            continue
        out.append(Column(p["name"], title(p["name"]), (p.get("type") or {}).get("kind", "string"), len(out)))
    return out


def default_columns(menu: dict) -> list[str]:
    """Fields shown until the user picks others: flags, the schema's columns, comment."""
    names = [FLAGS] + [c for c in menu.get("columns", []) if c not in (FLAGS, COMMENT)]
    if any(p["name"] == COMMENT for p in menu.get("props", [])):
        names.append(COMMENT)
    return names


def row_tuple(fields: Sequence[str], row: dict) -> tuple:
    """A row dict from the agent as a tuple in ``fields`` order ("" when absent).

    The id is always the last element, so it is never confused with a value.
    """
    get = row.get
    return tuple([get(f, "") for f in fields] + [get(ID, "")])


_NUM = re.compile(r"-?\d+")
_inet_aton = socket.inet_aton
_inet_pton = socket.inet_pton
_AF_INET6 = socket.AF_INET6
_DUR = re.compile(r"(\d+)(w|d|h|ms|m|s)")
_DUR_SCALE = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def _int_key(v: str) -> tuple:
    if v and (v.isdigit() or _NUM.fullmatch(v)):
        return (0, int(v), "")
    return (1, 0, v)


def _duration_key(v: str) -> tuple:
    total = 0.0
    found = False
    for m in _DUR.finditer(v):
        total += int(m.group(1)) * _DUR_SCALE[m.group(2)]
        found = True
    if found:
        return (0, total, "")
    if ":" in v:
        parts = [p for p in v.split(":") if p.isdigit()]
        if parts:
            n = 0
            for p in parts:
                n = n * 60 + int(p)
            return (0, float(n), "")
    return (1, 0.0, v)


def _address_key(v: str) -> tuple:
    head, _, tail = v.partition("/")
    try:
        return (0, _inet_aton(head), tail.zfill(3), "")
    except OSError:
        pass
    if not v:
        return (2, b"", "", "")
    try:
        return (1, _inet_pton(_AF_INET6, head.split("%")[0]), tail.zfill(3), "")
    except (OSError, ValueError):
        return (3, b"", "", v)


_RATE = re.compile(r"([0-9.]+)\s*([kMGT]?)")
_RATE_SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def _rate_key(v: str) -> tuple:
    m = _RATE.match(v)
    if m:
        try:
            return (0, float(m.group(1)) * _RATE_SCALE[m.group(2)])
        except ValueError:
            pass
    return (1, 0.0)


def _id_key(v: str) -> int:
    try:
        return int(v[1:], 16)
    except ValueError:
        return 0


def sort_key(column: Column, index: int | None = None) -> Callable[[tuple], Any]:
    """A key function over row tuples for sorting by ``column``."""
    i = column.index if index is None else index
    if column.field == ID:
        return lambda r: _id_key(r[i])
    if column.kind in NUMERIC_KINDS:
        return lambda r: _int_key(r[i])
    if column.kind in DURATION_KINDS:
        return lambda r: _duration_key(r[i])
    if column.kind in ADDRESS_KINDS:
        return lambda r: _address_key(r[i])
    if column.kind in RATE_KINDS:
        return lambda r: _rate_key(r[i])
    return lambda r: r[i].casefold()


OPS = ("is", "is not", "contains", "in")


@dataclass(frozen=True)
class Rule:
    """One line of the filter stack: ``column`` ``op`` ``value``.

    ``in`` takes a comma-separated list; ``contains`` ignores case; ``is`` and
    ``is not`` compare whole values.
    """

    index: int
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError("filter operator %r is not one of %s" % (self.op, ", ".join(OPS)))

    def test(self) -> Callable[[tuple], bool]:
        i, v = self.index, self.value
        if self.op == "is":
            return lambda r: r[i] == v
        if self.op == "is not":
            return lambda r: r[i] != v
        if self.op == "contains":
            low = v.casefold()
            return lambda r: low in r[i].casefold()
        choices = frozenset(x.strip() for x in v.split(",") if x.strip())
        return lambda r: r[i] in choices


def predicate(rules: Iterable[Rule], find: str = "", find_in: Sequence[int] = ()) -> Callable[[tuple], bool] | None:
    """One test for the whole filter stack plus quick find, or None when
    nothing filters (every row shows)."""
    tests = [r.test() for r in rules]
    needle = find.strip().casefold()
    if needle:
        idx = tuple(find_in)
        tests.append(lambda r: any(needle in r[i].casefold() for i in idx))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda r: all(t(r) for t in tests)
