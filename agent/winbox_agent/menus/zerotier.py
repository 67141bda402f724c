"""/zerotier: instances, interfaces (joined networks), peers, the controller and its members.

Reference: the ZeroTier section of /work/shared/seeds/004_*.txt (its
"Parameters" tables and the Home/Office controller example).  Where the brief
and the document differ the document's table wins: the instance's list of
discovery interfaces is ``interface`` (the table's name).

Network ids are 16 hex digits, the first 10 being the controller's ZeroTier
address; a controller's network id is its instance's address followed by six
digits the device picks (and keeps).
"""

import ipaddress
import re

from ..errors import RouterError, ValueProblem
from ..schema import FLAG_DISABLED, FLAG_RUNNING, Flag, Prop, comment_prop, disabled_prop, menu, running_prop
from ..types import Bool, Duration, Enum, Int, IPAny, ListOf, Mac, Name, Ref, Str, ValueType

FACTORY_COMMENT = "ZeroTier Central controller - https://my.zerotier.com/"
STATUSES = ("OK", "REQUESTING_CONFIGURATION", "ACCESS_DENIED", "NOT_FOUND", "PORT_ERROR", "CLIENT_TOO_OLD",
            "AUTHENTICATION_REQUIRED")


class Hex(ValueType):
    """A fixed number of hex digits (a ZeroTier address or network id), kept lower-case."""

    kind = "hex"

    def __init__(self, digits: int, what: str):
        self.digits = digits
        self.what = what

    def parse(self, text, ctx=None):
        t = text.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{%d}" % self.digits, t):
            raise ValueProblem("%s is not a %s (%d hex digits)" % (text or '""', self.what, self.digits))
        return t

    def allowed(self):
        return "%s (%d hex digits)" % (self.what, self.digits)


class Identity(ValueType):
    """A ZeroTier identity: ``address:0:public-key[:private-key]`` (keys as 128 hex digits)."""

    kind = "string"

    def parse(self, text, ctx=None):
        t = text.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{10}:0:[0-9a-f]{128}(:[0-9a-f]{128})?", t) or t.startswith("ff"):
            raise ValueProblem("is not a ZeroTier identity (address:0:public-key[:private-key] in hex)")
        return t

    def allowed(self):
        return "ZeroTier identity (address:0:public[:private])"


class Millis(ValueType):
    """A short time in milliseconds, printed as RouterOS does (``186ms``, ``4s526ms``)."""

    kind = "duration"

    def parse(self, text, ctx=None):
        t = text.strip()
        m = re.fullmatch(r"(?:(\d+)s)?(?:(\d+)ms)?", t)
        if not t or not m:
            raise ValueProblem("%s is not a time like 4s526ms" % t)
        return int(m.group(1) or 0) * 1000 + int(m.group(2) or 0)

    def format(self, value, ctx=None):
        if value is None or value == "":
            return ""
        value = int(value)
        secs, ms = divmod(value, 1000)
        out = ""
        if secs:
            mins, s = divmod(secs, 60)
            out = ("%dm" % mins if mins else "") + ("%ds" % s if s else "")
        if ms or not out:
            out += "%dms" % ms
        return out

    def allowed(self):
        return "time (like 4s526ms)"


class IPRange(ValueType):
    """One address range ``first-last`` (``172.16.16.1-172.16.16.254``)."""

    kind = "range"

    def __init__(self, version: int):
        self.version = version

    def parse(self, text, ctx=None):
        t = text.strip()
        a, sep, b = t.partition("-")
        try:
            lo = ipaddress.ip_address(a.strip())
            hi = ipaddress.ip_address(b.strip()) if sep else lo
        except ValueError:
            raise ValueProblem("%s is not an IPv%d range (first-last)" % (t, self.version)) from None
        if lo.version != self.version or hi.version != self.version:
            raise ValueProblem("%s is not an IPv%d range (first-last)" % (t, self.version))
        if lo > hi:
            raise ValueProblem("%s: the first address is above the last" % t)
        return "%s-%s" % (lo, hi)

    def allowed(self):
        return "IPv%d range (first-last)" % self.version


class Route(ValueType):
    """A pushed route ``Dst[@Gw]`` (``172.27.27.0/24``, ``10.0.0.0/8@172.27.27.1``)."""

    kind = "route"

    def parse(self, text, ctx=None):
        t = text.strip()
        dst, sep, gw = t.partition("@")
        try:
            net = ipaddress.ip_network(dst, strict=False)
            gwa = ipaddress.ip_address(gw) if sep else None
        except ValueError:
            raise ValueProblem("%s is not a route (Dst[@Gw], like 10.0.0.0/8@172.27.27.1)" % t) from None
        if gwa is not None and gwa.version != net.version:
            raise ValueProblem("%s: gateway and destination are of different IP versions" % t)
        return str(net) + ("@%s" % gwa if gwa is not None else "")

    def allowed(self):
        return "Dst[@Gw]"


def first_instance(router, item):
    """The default instance (``zt1``): the first one there is."""
    items = router.store.items("/zerotier")
    return items[0][".id"] if items else None


def instance_address(router, instance_id):
    """The 10-digit ZeroTier address of an instance (from its identity), or None."""
    it = router.store.get(instance_id) if isinstance(instance_id, str) else None
    ident = (it or {}).get("identity")
    return ident.split(":", 1)[0] if ident else None


def zt_mac(address: str, network: str) -> str:
    """The Ethernet address a member has on a network, as ZeroTier derives it:
    the first octet comes from the network id's last byte (made locally
    administered and unicast, 0x52 avoided), the other five are the member's
    address with bytes of the network id mixed in."""
    nwid = int(network, 16)
    first = (nwid & 0xFE) | 0x02
    if first == 0x52:
        first = 0x32
    octets = [first] + list(int(address, 16).to_bytes(5, "big"))
    for i in range(1, 6):
        octets[i] ^= (nwid >> (8 * i)) & 0xFF
    return ":".join("%02X" % o for o in octets)


def _instance_derive(router, view):
    ident = view.get("identity")
    if not ident:
        return {}
    return {"identity.public": ":".join(ident.split(":")[:3])}


def _instance_validate(router, view):
    for ref in view.get("interface") or []:
        if router.store.path_of(ref) == "/zerotier/interface":
            raise RouterError("interface: %s is a ZeroTier interface; peers are discovered over the others"
                              % router.name_of(ref), "argument", "interface")


def _interface_validate(router, view):
    for other in router.store.items("/zerotier/interface"):
        if other[".id"] != view[".id"] and other.get("network") == view.get("network") \
                and (other.get("instance") or first_instance(router, other)) == view.get("instance"):
            raise RouterError("network: %s is already joined as %s" % (view["network"], other.get("name")),
                              "conflict", "network")


def _controller_derive(router, view):
    net = view.get("network")
    addr = instance_address(router, view.get("instance"))
    if net and addr and not net.startswith(addr):
        return {"network": addr + net[10:]}
    return {}


def _controller_validate(router, view):
    lo_hi = view.get("ip-range")
    if lo_hi:
        lo, hi = (ipaddress.ip_address(a) for a in lo_hi.split("-"))
        if int(hi) - int(lo) > 1 << 20:
            raise RouterError("ip-range: %s is too large (at most %d addresses)" % (lo_hi, 1 << 20),
                              "argument", "ip-range")


def _member_validate(router, view):
    for other in router.store.items("/zerotier/controller/member"):
        if other[".id"] != view[".id"] and other.get("network") == view.get("network") \
                and other.get("zt-address") == view.get("zt-address"):
            raise RouterError("zt-address: %s is already a member of %s" % (
                view["zt-address"], router.name_of(view["network"])), "conflict", "zt-address")


menu("/zerotier", [
    Prop("name", Name(), doc="Instance name."),
    Prop("identity", Identity(), secret=True, tab="General",
         doc="The instance's identity (its 40-bit address and key pair); generated when the instance is made."),
    Prop("identity.public", Str(), readonly=True, doc="The public part of the identity (address:0:public-key)."),
    Prop("interface", Ref("/interface", words=("all",), multiple=True), default=["all"],
         doc="Interfaces used to discover ZeroTier peers (ARP and IP connections); not ZeroTier ones."),
    Prop("port", Int(0, 65535), default=9993, doc="UDP port the instance listens to."),
    Prop("route-distance", Int(1, 255), default=1, doc="Distance of routes obtained from planet/moon servers."),
    disabled_prop(False),
    comment_prop(),
    Prop("state", Enum("disabled", "starting", "running", "port-error"), readonly=True, tab="Status",
         doc="Whether the instance is running (port-error: its UDP port is taken)."),
    running_prop(),
], default_name="zt{n}", derive=_instance_derive, validate=_instance_validate, factory_key="name",
    factory=[{"name": "zt1", "disabled": True, "comment": FACTORY_COMMENT}],
    columns=["name", "port", "identity.public"], flags=[FLAG_DISABLED, FLAG_RUNNING],
    title="ZeroTier", group="ZeroTier", doc="ZeroTier instances (VL1 nodes); zt1 is the official one.")

menu("/zerotier/interface", [
    Prop("name", Name(), doc="A short name (zerotier1 ...)."),
    Prop("instance", Ref("/zerotier"), default=first_instance, required=True, doc="ZeroTier instance name."),
    Prop("network", Hex(16, "network ID"), required=True,
         doc="16-digit network ID. In the simulator a network ending in dead is refused (ACCESS_DENIED) "
             "and one ending in 0404 does not exist (NOT_FOUND)."),
    Prop("allow-default", Bool(), default=False, doc="A network can override the system's default route (VPN mode)."),
    Prop("allow-global", Bool(), default=False, doc="ZeroTier IP addresses and routes can overlap public IP space."),
    Prop("allow-managed", Bool(), default=True, doc="ZeroTier managed IP addresses and routes are assigned."),
    Prop("arp-timeout", Duration(words=("auto",)), default="auto", doc="ARP timeout."),
    Prop("disable-running-check", Bool(), default=False, doc="Force the interface into the running state."),
    disabled_prop(False),
    comment_prop(),
    Prop("mac-address", Mac(), readonly=True, tab="Status", doc="Ethernet address on the network."),
    Prop("mtu", Int(), readonly=True, tab="Status", doc="MTU the network's controller gives."),
    Prop("network-name", Str(), readonly=True, tab="Status", doc="Name of the network (from its controller)."),
    Prop("status", Enum(*STATUSES), readonly=True, tab="Status", doc="State of the network join."),
    running_prop(),
], interface_type="zerotier", default_name="zerotier{n}", validate=_interface_validate,
    columns=["name", "mac-address", "network", "network-name", "status"], flags=[FLAG_DISABLED, FLAG_RUNNING],
    title="ZeroTier Interfaces", group="ZeroTier", doc="Networks this router joins (one interface each).")

menu("/zerotier/peer", [
    Prop("instance", Ref("/zerotier"), readonly=True, doc="Instance that knows the peer."),
    Prop("zt-address", Hex(10, "ZeroTier address"), readonly=True, doc="The peer's ZeroTier address."),
    Prop("latency", Millis(), readonly=True, doc="Round-trip time to the peer."),
    Prop("role", Enum("PLANET", "MOON", "LEAF"), readonly=True, doc="PLANET/MOON: root servers; LEAF: a node."),
    Prop("path", Str(), readonly=True, doc="Paths to the peer (active, preferred, address/port, last packets)."),
    Prop("version", Str(), readonly=True, doc="ZeroTier version of the peer."),
], readonly=True, columns=["instance", "zt-address", "latency", "role", "path"],
    title="ZeroTier Peers", group="ZeroTier", doc="Nodes this router's instances know about (informative).")

menu("/zerotier/controller", [
    Prop("name", Name(), required=True, doc="A short name for this controller's network."),
    Prop("instance", Ref("/zerotier"), default=first_instance, required=True, doc="ZeroTier instance name."),
    Prop("network", Hex(16, "network ID"), readonly=True,
         doc="16-digit network ID: the instance's address and six digits of its own."),
    Prop("ip-range", IPRange(4), doc="Addresses given to members (172.16.16.1-172.16.16.254)."),
    Prop("ip6-6plane", Bool(), default=False, tab="IPv6", doc="Give every member a /80 within a /40 (6plane)."),
    Prop("ip6-rfc4193", Bool(), default=False, tab="IPv6", doc="Give every member a /128 on a /88 (RFC 4193)."),
    Prop("ip6-range", IPRange(6), tab="IPv6", doc="IPv6 addresses given to members."),
    Prop("mtu", Int(1280, 10000), default=2800, doc="Network MTU."),
    Prop("multicast-limit", Int(0, 4294967295), default=32, doc="Maximum recipients of a multicast packet."),
    Prop("private", Bool(), default=True, doc="Access control: members must be authorized."),
    Prop("broadcast", Bool(), default=True, doc="Allow receiving broadcast (FF:FF:FF:FF:FF:FF) packets."),
    Prop("routes", ListOf(Route()), default=[], doc="Routes pushed to members: Dst[@Gw], comma-separated."),
    disabled_prop(False),
    comment_prop(),
], derive=_controller_derive, validate=_controller_validate, columns=["instance", "name", "network", "private"],
    flags=[FLAG_DISABLED], title="ZeroTier Controllers", group="ZeroTier",
    doc="Networks hosted by this router's own controller (VL2).")

menu("/zerotier/controller/member", [
    Prop("network", Ref("/zerotier/controller"), required=True, doc="The controller network."),
    Prop("zt-address", Hex(10, "ZeroTier address"), required=True, doc="The member's ZeroTier address."),
    Prop("authorized", Bool(), default=False, doc="The member may join (private networks)."),
    Prop("ip-address", ListOf(IPAny()), default=[],
         doc="Addresses given to the member (empty: one from the network's ip-range)."),
    Prop("name", Str(max_len=64), doc="A name for the member."),
    disabled_prop(False),
    comment_prop(),
    Prop("last-seen", Millis(), readonly=True, tab="Status", doc="Time since the member was last heard from."),
], validate=_member_validate, columns=["network", "zt-address", "ip-address", "last-seen"],
    flags=[FLAG_DISABLED, Flag("A", "authorized", lambda i: i.get("authorized") is True)],
    title="ZeroTier Members", group="ZeroTier", doc="Members of this router's controller networks.")
