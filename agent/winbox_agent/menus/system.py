"""/system identity, resource and license, and /log.

References: /system/license follows the CHR document
(/work/shared/seeds/000_*.txt, "CHR Licensing", "Getting the License",
"License Update"); /system/resource lists what RouterOS reports for a CHR.
"""

import re
import time

from ..errors import ValueProblem
from ..schema import Command, Prop, menu
from ..types import Bool, Duration, Enum, Host, Int, Key, Name, Str, ValueType


class Bytes(Int):
    """A size in bytes, printed the RouterOS way (``889.2MiB``)."""

    kind = "size"

    def format(self, value, ctx=None):
        if not isinstance(value, int):
            return "" if value is None else str(value)
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value >= size:
                return "%.1f%s" % (value / size, unit)
        return "%dB" % value

    def allowed(self):
        return "size in bytes"


class Suffixed(Int):
    """An integer printed with a suffix (``3%``, ``2400MHz``); the suffix may be typed."""

    def __init__(self, suffix: str, lo=None, hi=None):
        super().__init__(lo, hi, unit=suffix)
        self.suffix = suffix

    def format(self, value, ctx=None):
        if value is None:
            return ""
        return "%s%s" % (value, self.suffix)


class Timestamp(ValueType):
    """A moment, kept as seconds since the epoch and printed in the router's
    local time as the CHR document does (``jan/10/2016 21:59:59``)."""

    kind = "time"
    _RE = re.compile(r"([a-z]{3})/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)")
    MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

    def parse(self, text, ctx=None):
        m = self._RE.fullmatch(text.strip().lower())
        if not m or m.group(1) not in self.MONTHS:
            raise ValueProblem("%s is not a date and time like jan/10/2016 21:59:59" % text)
        mon = self.MONTHS.index(m.group(1)) + 1
        fields = (int(m.group(3)), mon, int(m.group(2)), int(m.group(4)), int(m.group(5)), int(m.group(6)))
        return int(time.mktime(fields + (0, 0, -1)))

    def format(self, value, ctx=None):
        if value is None or value == "":
            return ""
        t = time.localtime(value)
        return "%s/%02d/%04d %02d:%02d:%02d" % (self.MONTHS[t.tm_mon - 1], t.tm_mday, t.tm_year,
                                                t.tm_hour, t.tm_min, t.tm_sec)

    def allowed(self):
        return "date and time (mon/dd/yyyy hh:mm:ss)"


class LogTime(Timestamp):
    """The time of a log line, printed as RouterOS v7 does (``2025-01-08 10:15:03``)."""

    def format(self, value, ctx=None):
        if value is None or value == "":
            return ""
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


class HostPort(ValueType):
    """``host:port`` (an address or a host name and a TCP port), or empty."""

    kind = "hostport"

    def parse(self, text, ctx=None):
        t = text.strip()
        if t == "":
            return ""
        host, sep, port = t.rpartition(":")
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueProblem("%s is not host:port (like licence.example.net:443)" % t)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        try:
            host = Host().parse(host)
        except ValueProblem:
            raise ValueProblem("%s is not host:port (like licence.example.net:443)" % t) from None
        return "%s:%d" % ("[%s]" % host if ":" in host else host, int(port))

    def allowed(self):
        return "host:port"


LEVELS = ("free", "p1", "p10", "p-unlimited")

menu("/system/identity", [
    Prop("name", Name(max_len=255), default="MikroTik", doc="Name of the router (shown in the prompt and to neighbors)."),
], single=True, title="Identity", group="System", doc="The router's name.")

menu("/system/resource", [
    Prop("uptime", Duration(), readonly=True, doc="Time since the router booted."),
    Prop("version", Str(), readonly=True, doc="RouterOS version."),
    Prop("build-time", Str(), readonly=True, doc="When this version was built."),
    Prop("factory-software", Str(), readonly=True, doc="The version the router left the factory with."),
    Prop("free-memory", Bytes(), readonly=True, doc="Memory not in use."),
    Prop("total-memory", Bytes(), readonly=True, doc="All the memory of the router."),
    Prop("cpu", Str(), readonly=True, doc="CPU model."),
    Prop("cpu-count", Int(), readonly=True, doc="Number of CPU cores."),
    Prop("cpu-frequency", Suffixed("MHz"), readonly=True, doc="CPU clock."),
    Prop("cpu-load", Suffixed("%", 0, 100), readonly=True, doc="CPU load over the last second."),
    Prop("free-hdd-space", Bytes(), readonly=True, doc="Free space on the system disk."),
    Prop("total-hdd-space", Bytes(), readonly=True, doc="Size of the system disk."),
    Prop("architecture-name", Str(), readonly=True, doc="CPU architecture."),
    Prop("board-name", Str(), readonly=True, doc="Board name (CHR for a Cloud Hosted Router)."),
    Prop("platform", Str(), readonly=True, doc="Platform (MikroTik)."),
], single=True, readonly=True, title="Resources", group="System",
    doc="Live figures of the router: uptime, memory, CPU and disk.")

menu("/system/license", [
    Prop("system-id", Str(), readonly=True,
         doc="The ID the account server knows this router by (000_ CHR: '6R1ZP/utuJ')."),
    Prop("level", Enum(*LEVELS), default="free", readonly=True,
         doc="License level: free (1Mbit), p1 (1Gbit), p10 (10Gbit) or p-unlimited."),
    Prop("next-renewal-at", Timestamp(), readonly=True,
         doc="When the router next contacts the account server (then hourly until it answers)."),
    Prop("deadline-at", Timestamp(), readonly=True,
         doc="If not renewed by then, the license is considered expired: no more upgrades."),
    Prop("limited-upgrades", Bool(), default=False, readonly=True,
         doc="The trial ended or the deadline passed: RouterOS can no longer be upgraded."),
    Prop("speed-limit", Str(), readonly=True,
         doc="Upload limit per interface at this level: 1Mbit (free), 1Gbit (p1), 10Gbit (p10), none "
             "(p-unlimited)."),
    Prop("license-server", HostPort(), default="", tab="Server",
         doc="host:port of the account server that renew talks to (empty: none configured)."),
    Prop("license-server-key", Key(), tab="Server",
         doc="The account server's Ed25519 public key (base64, `winbox-license-server public-key`): "
             "only keys it signed are taken."),
], single=True, title="License", group="System",
    commands=[
        Command("renew", args=[
            Prop("account", Str(max_len=255), required=True, doc="mikrotik.com account name."),
            Prop("password", Str(max_len=255), required=True, secret=True, doc="Password of the account."),
            Prop("level", Enum(*LEVELS[1:]), default="p1", doc="The level to obtain (a 60-day trial at first)."),
        ], stream=True,
            doc="Ask the account server for a license: status connecting, renewing, then done or ERROR: ... "
                "(the key must be signed by license-server-key and name this system-id)."),
        Command("generate-new-id",
                doc="Give the router a new system-id; only on the free level (a paid or trial key "
                    "could not be updated any more)."),
    ],
    doc="CHR license: system ID, level, renewal and deadline (000_ CHR document).")

menu("/log", [
    Prop("time", LogTime(), readonly=True, doc="When it happened."),
    Prop("topics", Str(), readonly=True, doc="Comma-separated topics (system,info)."),
    Prop("message", Str(), readonly=True, doc="What happened."),
], readonly=True, title="Log", group="Log", columns=["time", "topics", "message"],
    doc="The router's log, oldest first (the last 1000 lines).")
