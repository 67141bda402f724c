"""Value types of menu properties.

Each type turns the text a person types (``1450``, ``mschap2,chap``,
``10.5.8.20``) into a canonical value kept in the store, and back into the text
RouterOS prints.  Parsers raise :class:`ValueProblem` with a sentence saying
what is allowed; the caller prefixes the property name.

Canonical values are JSON-friendly: ``int``, ``str``, ``bool`` or lists of them.
References to other items are stored as item ids (``*1F``) so renaming an item
renames it everywhere it is used.
"""

import ipaddress
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .errors import ValueProblem


class Context:
    """What a type needs from the router: turning names into ids and back."""

    def resolve(self, target: str, word: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def name_of(self, item_id: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class ValueType:
    """Base of all types.  ``kind`` names the editor the GUI should use."""

    kind = "string"

    def parse(self, text: str, ctx: Optional[Context] = None) -> Any:
        raise NotImplementedError

    def format(self, value: Any, ctx: Optional[Context] = None) -> str:
        if value is None:
            return ""
        return str(value)

    def allowed(self) -> str:
        """A short description of what is allowed, for error messages and docs."""
        return self.kind

    def describe(self) -> Dict[str, Any]:
        return {"kind": self.kind, "allowed": self.allowed()}

    def references(self, value: Any) -> List[str]:
        """Item ids this value refers to."""
        return []


def _problem(text: str, what: str) -> ValueProblem:
    return ValueProblem("%s is not %s" % (_quote(text), what))


def _quote(text: str) -> str:
    if text == "":
        return '""'
    if re.search(r'[\s"]', text):
        return '"%s"' % text.replace('"', '\\"')
    return text


class Str(ValueType):
    kind = "string"

    def __init__(self, max_len: Optional[int] = None, pattern: Optional[str] = None,
                 what: str = ""):
        self.max_len = max_len
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    def parse(self, text, ctx=None):
        if "\x00" in text:
            raise ValueProblem("must not contain NUL characters")
        if any("\ud800" <= c <= "\udfff" for c in text):
            raise ValueProblem("must be valid text (it holds a lone surrogate: bytes that were not UTF-8)")
        if self.max_len is not None and len(text) > self.max_len:
            raise ValueProblem("is longer than %d characters" % self.max_len)
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise _problem(text, self.what or "in the expected format")
        return text

    def allowed(self):
        if self.what:
            return self.what
        return "string" + (" of at most %d characters" % self.max_len if self.max_len else "")


class Name(Str):
    """An item name: non-empty, no control characters."""

    kind = "name"

    def __init__(self, max_len: int = 64):
        super().__init__(max_len=max_len)

    def parse(self, text, ctx=None):
        text = super().parse(text, ctx)
        if text == "":
            raise ValueProblem("must not be empty")
        if any(ord(c) < 32 for c in text):
            raise ValueProblem("must not contain control characters")
        return text

    def allowed(self):
        return "name (1..%d characters)" % self.max_len


class Bool(ValueType):
    kind = "bool"
    TRUE = ("yes", "true", "on")
    FALSE = ("no", "false", "off")

    def parse(self, text, ctx=None):
        low = text.strip().lower()
        if low in self.TRUE:
            return True
        if low in self.FALSE:
            return False
        raise ValueProblem("%s is not yes or no" % _quote(text))

    def format(self, value, ctx=None):
        if value is None:
            return ""
        return "yes" if value else "no"

    def allowed(self):
        return "yes | no"


_UNITS = {"": 1, "k": 1024, "K": 1024, "kib": 1, "KiB": 1, "kiB": 1, "MiB": 1, "B": 1}


class Int(ValueType):
    """An integer in ``lo..hi``, optionally with special words (``disabled``,
    ``unlimited``, ``auto``) and a unit suffix people may type (``16MiB``)."""

    kind = "int"

    def __init__(self, lo: Optional[int] = None, hi: Optional[int] = None,
                 words: Sequence[str] = (), unit: str = "", hex_format: bool = False):
        self.lo, self.hi = lo, hi
        self.words = tuple(words)
        self.unit = unit
        self.hex_format = hex_format

    def parse(self, text, ctx=None):
        raw = text.strip()
        low = raw.lower()
        for w in self.words:
            if low == w.lower():
                return w
        num = raw
        if self.unit and num.endswith(self.unit):
            num = num[: -len(self.unit)]
        elif self.unit and num.lower().endswith(self.unit.lower()):
            num = num[: -len(self.unit)]
        # ASCII digits only: Python's int() would also take "1_000" and "١٢"
        if not re.fullmatch(r"[+-]?(?:[0-9]+|0[xX][0-9A-Fa-f]+)", num):
            raise ValueProblem("%s is not %s" % (_quote(text), self._what()))
        value = int(num, 16) if num.lower().lstrip("+-").startswith("0x") else int(num)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ValueProblem("%s is out of range %s" % (_quote(text), self._range()))
        return value

    def _range(self) -> str:
        lo = "" if self.lo is None else str(self.lo)
        hi = "" if self.hi is None else str(self.hi)
        return "%s..%s" % (lo, hi)

    def _what(self) -> str:
        what = "an integer"
        if self.lo is not None or self.hi is not None:
            what += " in " + self._range()
        if self.words:
            what += " or " + " | ".join(self.words)
        return what

    def format(self, value, ctx=None):
        if value is None:
            return ""
        if isinstance(value, int) and self.hex_format:
            return "0x%X" % value
        return str(value)

    def allowed(self):
        parts = list(self.words)
        parts.append(("integer " + self._range()) if (self.lo is not None or self.hi is not None) else "integer")
        text = " | ".join(parts)
        return text + ("[%s]" % self.unit if self.unit else "")

    def describe(self):
        d = super().describe()
        d.update({"min": self.lo, "max": self.hi, "words": list(self.words), "unit": self.unit})
        return d


class Enum(ValueType):
    kind = "enum"

    def __init__(self, *choices: str):
        self.choices = tuple(choices)

    def parse(self, text, ctx=None):
        low = text.strip().lower()
        for c in self.choices:
            if c.lower() == low:
                return c
        raise ValueProblem("%s is not one of %s" % (_quote(text), self.allowed()))

    def allowed(self):
        return " | ".join(self.choices)

    def describe(self):
        d = super().describe()
        d["choices"] = list(self.choices)
        return d


class Flags(ValueType):
    """A multi-choice set such as ``allow=mschap2,chap``; kept in choice order."""

    kind = "set"

    def __init__(self, *choices: str, allow_empty: bool = True):
        self.choices = tuple(choices)
        self.allow_empty = allow_empty

    def parse(self, text, ctx=None):
        words = [w.strip() for w in text.split(",") if w.strip()]
        if not words and not self.allow_empty:
            raise ValueProblem("must name at least one of %s" % ", ".join(self.choices))
        chosen = set()
        for w in words:
            match = [c for c in self.choices if c.lower() == w.lower()]
            if not match:
                raise ValueProblem("%s is not one of %s" % (_quote(w), ", ".join(self.choices)))
            chosen.add(match[0])
        return [c for c in self.choices if c in chosen]

    def format(self, value, ctx=None):
        if value is None:
            return ""
        return ",".join(value)

    def allowed(self):
        return "comma-separated list of " + ", ".join(self.choices)

    def describe(self):
        d = super().describe()
        d["choices"] = list(self.choices)
        return d


_DUR = re.compile(r"(\d+)(w|d|h|ms|m|s)")


class Duration(ValueType):
    """A time interval: ``30s``, ``1h30m``, ``00:05:00``, ``90`` (seconds).
    Kept as seconds (an int, or a float when milliseconds were given:
    ``1s500ms`` is 1.5); printed the RouterOS way (``1h30m``, ``1s500ms``)."""

    kind = "duration"

    def __init__(self, lo: int = 0, hi: Optional[int] = None, words: Sequence[str] = ()):
        self.lo, self.hi = lo, hi
        self.words = tuple(words)

    def parse(self, text, ctx=None):
        raw = text.strip()
        for w in self.words:
            if raw.lower() == w:
                return w
        secs = parse_duration(raw)
        if secs is None:
            raise ValueProblem("%s is not a time interval (like 30s, 5m, 1h30m or 00:05:00)" % _quote(text))
        if secs < self.lo or (self.hi is not None and secs > self.hi):
            raise ValueProblem("%s is out of range %s..%s" % (_quote(text), format_duration(self.lo),
                                                             "" if self.hi is None else format_duration(self.hi)))
        return secs

    def format(self, value, ctx=None):
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return format_duration(value)

    def allowed(self):
        words = " | ".join(self.words)
        return (words + " | " if words else "") + "time interval"


def parse_duration(text: str) -> Optional[float]:
    """Seconds in ``text`` (int when whole), or None if it is not a time interval."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    m = re.fullmatch(r"(?:(\d+)d\s*)?(\d+):(\d\d):(\d\d)", text)
    if m:
        d, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return ((d * 24 + h) * 60 + mi) * 60 + s
    pos, total = 0, 0.0
    scale = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    for m in _DUR.finditer(text):
        if m.start() != pos:
            return None
        total += int(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        return None
    total = round(total, 3)
    return int(total) if total == int(total) else total


def format_duration(secs: float) -> str:
    millis = int(round(secs * 1000))
    if millis == 0:
        return "0s"
    whole, millis = divmod(millis, 1000)
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            out.append("%d%s" % (whole // size, unit))
            whole %= size
    if millis:
        out.append("%dms" % millis)
    return "".join(out)


class IPv4(ValueType):
    kind = "ipv4"

    def parse(self, text, ctx=None):
        try:
            return str(ipaddress.IPv4Address(text.strip()))
        except ValueError:
            raise _problem(text, "a valid IPv4 address (A.B.C.D)") from None

    def allowed(self):
        return "IPv4 address"


class IPv6(ValueType):
    kind = "ipv6"

    def parse(self, text, ctx=None):
        try:
            return str(ipaddress.IPv6Address(text.strip()))
        except ValueError:
            raise _problem(text, "a valid IPv6 address") from None

    def allowed(self):
        return "IPv6 address"


class IPAny(ValueType):
    """IPv4 or IPv6 address."""

    kind = "ip"

    def parse(self, text, ctx=None):
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise _problem(text, "a valid IPv4 or IPv6 address") from None

    def allowed(self):
        return "IPv4 | IPv6 address"


class Host(ValueType):
    """An address or a host name (endpoint-address, connect-to)."""

    kind = "host"
    _NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?")

    def parse(self, text, ctx=None):
        t = text.strip()
        try:
            return str(ipaddress.ip_address(t))
        except ValueError:
            pass
        if "@" in t:  # address@vrf as in the L2TP document
            addr, vrf = t.split("@", 1)
            return "%s@%s" % (self.parse(addr), vrf)
        if self._NAME.fullmatch(t) and not re.fullmatch(r"[\d.]+", t):
            return t
        raise _problem(text, "an IP address or host name")

    def allowed(self):
        return "IP | IPv6 | host name"


class Prefix(ValueType):
    """A network prefix; host bits are cleared and a bare address gets /32
    (or /128): ``10.5.8.20`` as a route destination is ``10.5.8.20/32``."""

    kind = "prefix"

    def __init__(self, version: Optional[int] = 4):
        self.version = version

    def parse(self, text, ctx=None):
        t = text.strip()
        try:
            net = ipaddress.ip_network(t, strict=False)
        except ValueError:
            raise _problem(text, "a valid %s prefix (address/length)" % self._fam()) from None
        if self.version and net.version != self.version:
            raise _problem(text, "an %s prefix" % self._fam())
        return str(net)

    def _fam(self):
        return {4: "IPv4", 6: "IPv6"}.get(self.version, "IP")

    def allowed(self):
        return "%s prefix (A.B.C.D/N)" % self._fam() if self.version == 4 else "%s prefix" % self._fam()


class Interface(ValueType):
    """An address with its prefix length, host bits kept (``10.0.2.1/24``)."""

    kind = "address"

    def __init__(self, version: int = 4):
        self.version = version

    def parse(self, text, ctx=None):
        t = text.strip()
        try:
            iface = ipaddress.ip_interface(t)
        except ValueError:
            raise _problem(text, "a valid IPv%d address with prefix length (like 192.168.88.1/24)" % self.version) from None
        if iface.version != self.version:
            raise _problem(text, "an IPv%d address" % self.version)
        return str(iface)

    def allowed(self):
        return "IPv%d address/prefix-length" % self.version


class AddressRanges(ValueType):
    """IP pool ranges: ``10.0.0.2-10.0.0.5,10.0.1.0/24``."""

    kind = "ranges"

    def parse(self, text, ctx=None):
        out = []
        for part in [p.strip() for p in text.split(",") if p.strip()]:
            if "-" in part:
                a, b = part.split("-", 1)
                try:
                    lo, hi = ipaddress.ip_address(a.strip()), ipaddress.ip_address(b.strip())
                except ValueError:
                    raise _problem(part, "an address range (A.B.C.D-E.F.G.H)") from None
                if lo.version != hi.version:
                    raise ValueProblem("%s mixes IPv4 and IPv6 addresses" % _quote(part))
                if lo > hi:
                    raise ValueProblem("%s is not a valid range: its first address is above its last" % _quote(part))
                out.append("%s-%s" % (lo, hi))
            else:
                try:
                    out.append(str(ipaddress.ip_network(part, strict=False)))
                except ValueError:
                    raise _problem(part, "an address range (A.B.C.D-E.F.G.H) or prefix") from None
        if not out:
            raise ValueProblem("must name at least one range")
        return out

    def format(self, value, ctx=None):
        return "" if value is None else ",".join(value)

    def allowed(self):
        return "comma-separated address ranges (A.B.C.D-E.F.G.H) or prefixes"


class Mac(ValueType):
    kind = "mac"
    _RE = re.compile(r"[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")

    def parse(self, text, ctx=None):
        t = text.strip()
        if not self._RE.fullmatch(t):
            raise _problem(text, "a MAC address (like 02:00:00:AA:BB:CC)")
        digits = re.sub(r"[:-]", "", t).upper()
        return ":".join(digits[i:i + 2] for i in range(0, 12, 2))

    def allowed(self):
        return "MAC address"


class Ports(ValueType):
    """Firewall port list: ``80,443,1000-2000``."""

    kind = "ports"

    def parse(self, text, ctx=None):
        out = []
        for part in [p.strip() for p in text.split(",") if p.strip()]:
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not m:
                raise _problem(part, "a port or port range (0..65535)")
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            if hi > 65535:
                raise ValueProblem("%s is out of range 0..65535" % part)
            if lo > hi:
                raise ValueProblem("%s is not a valid port range: its first port is above its last" % part)
            out.append(str(lo) if lo == hi else "%d-%d" % (lo, hi))
        if not out:
            raise ValueProblem("must name a port")
        return ",".join(out)

    def allowed(self):
        return "port | port-port, comma-separated (0..65535)"


class Ref(ValueType):
    """A reference to another item by name; stored as its id.

    Attributes:
        target: a menu path (``/ppp/profile``) or ``interface`` for any interface.
        words: special values allowed instead of a reference (``none``, ``all``).
        multiple: a comma-separated list of references.
    """

    kind = "ref"

    def __init__(self, target: str, words: Sequence[str] = (), multiple: bool = False):
        self.target = target
        self.words = tuple(words)
        self.multiple = multiple

    def parse(self, text, ctx=None):
        t = text.strip()
        if self.multiple:
            parts = [p.strip() for p in t.split(",") if p.strip()]
            if not parts:
                raise ValueProblem("must name at least one %s" % self._what())
            return [self._one(p, ctx) for p in parts]
        return self._one(t, ctx)

    def _one(self, t, ctx):
        for w in self.words:
            if t.lower() == w.lower():
                return w
        if ctx is None:
            raise ValueProblem("cannot be resolved without a router")
        return ctx.resolve(self.target, t)

    def _what(self):
        return "interface" if self.target == "interface" else "item of " + self.target

    def format(self, value, ctx=None):
        if value is None:
            return ""
        if isinstance(value, list):
            return ",".join(self._fmt_one(v, ctx) for v in value)
        return self._fmt_one(value, ctx)

    def _fmt_one(self, v, ctx):
        if isinstance(v, str) and v.startswith("*") and ctx is not None:
            return ctx.name_of(v)
        return str(v)

    def references(self, value):
        vals = value if isinstance(value, list) else [value]
        return [v for v in vals if isinstance(v, str) and v.startswith("*")]

    def allowed(self):
        base = "name of an existing %s" % self._what()
        if self.words:
            base = " | ".join(self.words) + " | " + base
        return base

    def describe(self):
        d = super().describe()
        d.update({"target": self.target, "words": list(self.words), "multiple": self.multiple})
        return d


class OneOf(ValueType):
    """The first of several types that accepts the text (``gateway`` is an
    address or an interface; a PPP profile's remote-address is an address or
    a pool)."""

    kind = "oneof"

    def __init__(self, *types: ValueType):
        self.types = types

    def parse(self, text, ctx=None):
        problems = []
        for t in self.types:
            try:
                return t.parse(text, ctx)
            except ValueProblem as exc:
                problems.append(str(exc))
        raise ValueProblem("%s is not %s" % (_quote(text), self.allowed()))

    def format(self, value, ctx=None):
        for t in self.types:
            if isinstance(t, Ref) and t.references(value):
                return t.format(value, ctx)
        # the text of the first type that reads it back to the same value
        # (300 seconds is "5m", not "300" as an address type would print it)
        for t in self.types:
            try:
                text = t.format(value, ctx)
                if t.parse(text, ctx) == value and self.parse(text, ctx) == value:
                    return text
            except (ValueProblem, TypeError, ValueError, AttributeError):
                continue
        return self.types[0].format(value, ctx) if not isinstance(value, list) else ",".join(map(str, value))

    def references(self, value):
        out = []
        for t in self.types:
            if isinstance(t, Ref):
                out.extend(t.references(value))
        return out

    def allowed(self):
        return " | ".join(t.allowed() for t in self.types)

    def describe(self):
        d = super().describe()
        d["types"] = [t.describe() for t in self.types]
        return d


class Negatable(ValueType):
    """A firewall matcher that may be negated with ``!`` (``in-interface=!ether1``)."""

    def __init__(self, inner: ValueType):
        self.inner = inner
        self.kind = inner.kind

    def parse(self, text, ctx=None):
        t = text.strip()
        if t.startswith("!"):
            inner = self.inner.parse(t[1:], ctx)
            return ["!", inner]
        return self.inner.parse(t, ctx)

    def format(self, value, ctx=None):
        if isinstance(value, list) and value and value[0] == "!":
            return "!" + self.inner.format(value[1], ctx)
        return self.inner.format(value, ctx)

    def references(self, value):
        if isinstance(value, list) and value and value[0] == "!":
            value = value[1]
        return self.inner.references(value)

    def allowed(self):
        return "[!]" + self.inner.allowed()

    def describe(self):
        d = self.inner.describe()
        d["negatable"] = True
        return d


class ListOf(ValueType):
    """A comma-separated list of another type (``allowed-address``)."""

    def __init__(self, inner: ValueType):
        self.inner = inner
        self.kind = "list"

    def parse(self, text, ctx=None):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return [self.inner.parse(p, ctx) for p in parts]

    def format(self, value, ctx=None):
        if value is None:
            return ""
        return ",".join(self.inner.format(v, ctx) for v in value)

    def references(self, value):
        out = []
        for v in value or []:
            out.extend(self.inner.references(v))
        return out

    def allowed(self):
        return "comma-separated list of " + self.inner.allowed()

    def describe(self):
        d = super().describe()
        d["item"] = self.inner.describe()
        return d


class Key(Str):
    """A base64 WireGuard key (32 bytes)."""

    kind = "key"

    def parse(self, text, ctx=None):
        import base64
        import binascii
        t = text.strip()
        try:
            raw = base64.b64decode(t, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise _problem(text, "a base64 key of 32 bytes")
        return t

    def allowed(self):
        return "base64 key (32 bytes)"


def split_words(value: str) -> List[str]:
    return [w for w in value.split(",") if w]


def pairs(text: str) -> Tuple[str, str]:
    name, _, value = text.partition("=")
    return name, value
