"""/ppp profile, secret, active and l2tp-secret.

Document 004 has no property tables for these menus; names, types and
defaults follow RouterOS 7 as its examples use them (``/ppp profile add
local-address=10.0.0.1 remote-address=pppoe-pool``, ``/ppp secret add ...
service=pppoe``, ``/ppp l2tp-secret add address=10.155.101.216/32
secret=tunnelpass``, the ``/ppp active`` print of the LAC/LNS example).

The two factory profiles ``default`` and ``default-encryption`` can be
neither removed nor renamed, so a reference to them is kept by name (the
words of :data:`PROFILE_REF`) and every other profile by id.  That keeps the
usual ``profile=default`` out of ``export`` as RouterOS does.
"""

from ..errors import RouterError, ValueProblem
from ..schema import FLAG_DISABLED, Flag, Prop, comment_prop, disabled_prop, menu
from ..types import Bool, Duration, Enum, Int, IPv4, ListOf, Name, OneOf, Prefix, Ref, Str

FACTORY_PROFILES = ("default", "default-encryption")



class ProfileRef(Ref):
    """A reference to a PPP profile: the factory ones by name, the others by
    id; an unknown name is refused with the list of profiles there are."""

    def __init__(self):
        super().__init__("/ppp/profile", words=FACTORY_PROFILES)

    def parse(self, text, ctx=None):
        try:
            return super().parse(text, ctx)
        except ValueProblem:
            rows = ctx.rows(self.target, runtime=False) if hasattr(ctx, "rows") else []
            names = [r.get("name") for r in rows if r.get("name")] or list(FACTORY_PROFILES)
            raise ValueProblem("no such profile %s (the profiles are %s)" % (text.strip(), ", ".join(names))) from None


PROFILE_REF = ProfileRef()

#: A client address or pool: ``10.0.0.1`` or the name of an /ip pool.
ADDRESS_OR_POOL = OneOf(IPv4(), Ref("/ip/pool"))

SERVICES = ("any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp")

_RATE = r"\d+[kKmMgG]?(?:/\d+[kKmMgG]?)?"
RATE_LIMIT = Str(pattern=r"(?:%s(?:\s+%s){0,5})?" % (_RATE, _RATE),
                 what="a rate limit rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate] [rx-burst-threshold"
                      "[/tx-burst-threshold] [rx-burst-time[/tx-burst-time] [priority] [rx-rate-min[/tx-rate-min]]]]]"
                      " (like 2M/4M)")

_DEFAULT_NO_YES = ("default", "no", "yes")
_DEFAULT_NO_REQUIRED_YES = ("default", "no", "required", "yes")


def _profile_validate(router, view):
    factory = view.get(".factory")
    if factory and view.get("name") != factory:
        raise RouterError("name: the default profile %s cannot be renamed" % factory, "denied", "name")
    for prop in ("dns-server", "wins-server"):
        if len(view.get(prop) or []) > 2:
            raise RouterError("%s: at most 2 addresses are allowed" % prop, "argument", prop)


menu("/ppp/profile", [
    Prop("name", Name(), required=True, doc="Name of the profile."),
    Prop("local-address", ADDRESS_OR_POOL,
         doc="Address of the router's end of the tunnel, or an IP pool to take it from."),
    Prop("remote-address", ADDRESS_OR_POOL,
         doc="Address given to the client, or an IP pool to take it from."),
    Prop("remote-ipv6-prefix-pool", Ref("/ipv6/pool", words=("none",)), default="none",
         doc="IPv6 pool the client's /64 prefix is taken from."),
    Prop("dhcpv6-pd-pool", Ref("/ipv6/pool", words=("none",)), default="none",
         doc="IPv6 pool a dynamic DHCPv6-PD server delegates prefixes from (IPv6 PD over PPP)."),
    Prop("bridge", Ref("/interface/bridge", words=("none",)),
         doc="Bridge the tunnel is added to as a port (BCP)."),
    Prop("bridge-port-priority", Int(0, 240, hex_format=True), default=0x80,
         doc="Priority of the dynamic bridge port."),
    Prop("bridge-path-cost", Int(1, 200000000), default=10, doc="Path cost of the dynamic bridge port."),
    Prop("bridge-horizon", Int(0, 429496729, words=("none",)), default="none",
         doc="Split horizon of the dynamic bridge port."),
    Prop("bridge-learning", Enum(*_DEFAULT_NO_YES), default="default",
         doc="Whether the dynamic bridge port learns MAC addresses."),
    Prop("incoming-filter", Str(max_len=64), default="", doc="Firewall chain incoming packets are passed to."),
    Prop("outgoing-filter", Str(max_len=64), default="", doc="Firewall chain outgoing packets are passed to."),
    Prop("address-list", Str(max_len=255), default="",
         doc="Address list the client's address is added to while connected."),
    Prop("interface-list", Ref("/interface/list", words=("none",)),
         doc="Interface list the tunnel is added to while connected."),
    Prop("dns-server", ListOf(IPv4()), doc="DNS servers given to the client (at most 2)."),
    Prop("wins-server", ListOf(IPv4()), doc="WINS servers given to Windows clients (at most 2)."),
    Prop("change-tcp-mss", Enum(*_DEFAULT_NO_YES), default="default",
         doc="Adjust the TCP MSS of connections through the tunnel to its MTU."),
    Prop("use-upnp", Enum(*_DEFAULT_NO_YES), default="default", doc="Whether the tunnel may use UPnP."),
    Prop("use-ipv6", Enum(*_DEFAULT_NO_REQUIRED_YES), default="yes", tab="Protocols",
         doc="Whether IPv6 is negotiated on the tunnel."),
    Prop("use-mpls", Enum(*_DEFAULT_NO_REQUIRED_YES), default="default", tab="Protocols",
         doc="Whether MPLS is used on the tunnel."),
    Prop("use-compression", Enum(*_DEFAULT_NO_YES), default="default", tab="Protocols",
         doc="Whether data compression is used."),
    Prop("use-encryption", Enum(*_DEFAULT_NO_REQUIRED_YES), default="default", tab="Protocols",
         doc="Whether MPPE encryption is used (required: refuse peers that do not encrypt)."),
    Prop("session-timeout", Duration(), tab="Limits", doc="Longest time a session may last."),
    Prop("idle-timeout", Duration(), tab="Limits", doc="A session without traffic this long is closed."),
    Prop("rate-limit", RATE_LIMIT, default="", tab="Limits",
         doc="Simple queue for the client: rx-rate[/tx-rate] [bursts...]."),
    Prop("only-one", Enum(*_DEFAULT_NO_YES), default="default", tab="Limits",
         doc="Allow only one session per user name."),
    Prop("insert-queue-before", Str(max_len=64), default="", tab="Queue",
         doc="Place the dynamic queue before this one (first, bottom or a queue name)."),
    Prop("parent-queue", Str(max_len=64), default="", tab="Queue", doc="Parent of the dynamic queue."),
    Prop("queue-type", Str(max_len=64), default="", tab="Queue", doc="Queue type of the dynamic queue."),
    Prop("on-up", Str(max_len=4096), default="", tab="Scripts", doc="Script run when a session comes up."),
    Prop("on-down", Str(max_len=4096), default="", tab="Scripts", doc="Script run when a session goes down."),
    comment_prop(),
], factory=[
    {"name": "default", "change-tcp-mss": "yes"},
    {"name": "default-encryption", "change-tcp-mss": "yes", "use-encryption": "yes"},
], factory_key="name", validate=_profile_validate, title="PPP Profiles", group="PPP",
    columns=["name", "local-address", "remote-address", "bridge", "rate-limit", "only-one"],
    flags=[Flag("*", "default", lambda i: bool(i.get(".factory")))],
    doc="Settings shared by PPP sessions: addresses, pools, DNS, encryption, limits.")

menu("/ppp/secret", [
    Prop("name", Name(), required=True, doc="User name the client authenticates with."),
    Prop("password", Str(max_len=1000), default="", secret=True, doc="Password of the user."),
    Prop("service", Enum(*SERVICES), default="any", doc="Which service the user may connect with."),
    Prop("caller-id", Str(max_len=255), default="",
         doc="Only accept the user from this caller id (PPPoE: the client's MAC; tunnels: its address)."),
    Prop("profile", PROFILE_REF, default="default", doc="PPP profile of the user."),
    Prop("local-address", IPv4(), doc="Router's end of this user's tunnel (overrides the profile)."),
    Prop("remote-address", IPv4(), doc="Address given to this user (overrides the profile)."),
    Prop("remote-ipv6-prefix", Prefix(6), doc="IPv6 prefix given to this user."),
    Prop("routes", Str(max_len=4096), default="",
         doc="Routes added while the user is connected: dst-address gateway metric, comma-separated."),
    Prop("ipv6-routes", Str(max_len=4096), default="", doc="IPv6 routes added while the user is connected."),
    Prop("limit-bytes-in", Int(0, 18446744073709551615), default=0,
         doc="Bytes the user may send before being disconnected (0: no limit)."),
    Prop("limit-bytes-out", Int(0, 18446744073709551615), default=0,
         doc="Bytes the user may receive before being disconnected (0: no limit)."),
    disabled_prop(False),
    comment_prop(),
], title="PPP Secrets", group="PPP", flags=[FLAG_DISABLED],
    columns=["name", "service", "caller-id", "profile", "local-address", "remote-address"],
    doc="Users of the router's PPP servers (local authentication).")

menu("/ppp/active", [
    Prop("name", Str(), readonly=True, doc="User name of the session."),
    Prop("service", Enum(*SERVICES), readonly=True, doc="Service the user connected with."),
    Prop("caller-id", Str(), readonly=True, doc="MAC address (PPPoE) or address (tunnels) of the client."),
    Prop("address", IPv4(), readonly=True, doc="Address given to the client."),
    Prop("uptime", Duration(), readonly=True, doc="How long the session has been up."),
    Prop("encoding", Str(), readonly=True, doc="Encryption and encoding of the session."),
    Prop("session-id", Str(), readonly=True, doc="Session id (PPPoE)."),
    Prop("limit-bytes-in", Int(0), readonly=True, doc="Byte limit from the secret."),
    Prop("limit-bytes-out", Int(0), readonly=True, doc="Byte limit from the secret."),
    Prop("radius", Bool(), readonly=True, doc="Whether the user was authenticated by RADIUS."),
], readonly=True, title="Active Connections", group="PPP",
    columns=["name", "service", "caller-id", "address", "uptime", "encoding"],
    flags=[Flag("R", "radius", lambda i: i.get("radius") is True)],
    doc="Sessions connected to the router's PPP servers.")

menu("/ppp/l2tp-secret", [
    Prop("address", Prefix(None), default="0.0.0.0/0", doc="Addresses of the LACs this secret is for."),
    Prop("secret", Str(max_len=255), default="", secret=True, doc="Tunnel secret shared with the LAC."),
    comment_prop(),
], title="L2TP Secrets", group="PPP", columns=["address", "comment"],
    doc="Tunnel secrets of L2TP access concentrators (LAC/LNS).")
