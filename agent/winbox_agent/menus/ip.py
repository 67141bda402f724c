"""/ip address, /ip pool, /ip route, /ip dns.

Connected routes (flags ``DAC``) are not stored: the driver lists them for
every enabled address (see drivers/sim/net.py).  ``allow-remote-request`` as
the MLPPP example writes it is an abbreviation of ``allow-remote-requests``.
"""

import ipaddress

from ..errors import RouterError
from ..schema import FLAG_DISABLED, FLAG_DYNAMIC, FLAG_INVALID, Flag, Prop, comment_prop, disabled_prop, menu
from ..types import (AddressRanges, Bool, Duration, Enum, Int, Interface, IPAny, IPv4, ListOf, Name, OneOf,
                     Prefix, Ref, Str)


def _address_derive(router, view):
    addr = view.get("address")
    if not addr:
        return {}
    iface = ipaddress.ip_interface(addr)
    net = iface.network
    out = {"network": str(net.network_address)}
    if net.version == 4:
        out["broadcast"] = str(net.broadcast_address)
    return out


menu("/ip/address", [
    Prop("address", Interface(4), required=True, doc="IP address with its prefix length."),
    Prop("network", IPv4(), readonly=True, doc="Network the address belongs to (derived)."),
    Prop("broadcast", IPv4(), readonly=True, doc="Broadcast address (derived)."),
    Prop("interface", Ref("interface"), required=True, doc="Interface the address is on."),
    disabled_prop(False),
    comment_prop(),
], derive=_address_derive, title="Address List", group="IP",
    columns=["address", "network", "interface"],
    flags=[FLAG_DISABLED, FLAG_INVALID, FLAG_DYNAMIC], doc="IPv4 addresses of the router.")

menu("/ip/pool", [
    Prop("name", Name(), required=True, doc="Name of the pool."),
    Prop("ranges", AddressRanges(), required=True, doc="Address ranges of the pool."),
    Prop("next-pool", Ref("/ip/pool", words=("none",)), default="none",
         doc="Pool to use when this one is exhausted."),
    comment_prop(),
], title="IP Pool", group="IP", columns=["name", "ranges", "next-pool"], doc="Address pools.")


# -- routes --------------------------------------------------------------------------

def _route_validate(router, view):
    if view.get("gateway") in (None, "") and not view.get("blackhole"):
        raise RouterError("gateway: must be set (an address or an interface), unless blackhole=yes",
                          "argument", "gateway")
    if view.get("gateway") not in (None, "") and view.get("blackhole"):
        raise RouterError("blackhole: a blackhole route has no gateway; unset gateway first",
                          "argument", "blackhole")


def _flag(key):
    return lambda i: bool(i.get(key))


ROUTE_FLAGS = [
    FLAG_DISABLED,
    Flag("A", "active", _flag("active")),
    FLAG_DYNAMIC,
    Flag("C", "connect", _flag(".connect")),
    Flag("S", "static", lambda i: not i.get(".dynamic")),
    Flag("B", "blackhole", _flag("blackhole")),
]

menu("/ip/route", [
    Prop("dst-address", Prefix(4), default="0.0.0.0/0",
         doc="Destination network; a bare address means that host (/32)."),
    Prop("gateway", OneOf(IPv4(), Ref("interface")),
         doc="Next hop: an address or an interface (`gateway=ovpn-client1`)."),
    Prop("immediate-gw", Str(), readonly=True, tab="Status",
         doc="The next hop and the interface packets leave by (address%interface)."),
    Prop("distance", Int(1, 255), default=1, doc="Preference among routes to the same destination (lower wins)."),
    Prop("scope", Int(0, 255), default=30, doc="Scope of the route, compared with target-scope of others."),
    Prop("target-scope", Int(0, 255), default=10, doc="Largest scope of a route through which the gateway is found."),
    Prop("routing-table", Str(max_len=63, pattern=r"[A-Za-z0-9_.-]+", what="a routing table name"),
         default="main", doc="Routing table the route belongs to."),
    Prop("pref-src", IPv4(), doc="Source address of packets the router itself sends by this route."),
    Prop("check-gateway", Enum("none", "arp", "ping", "bfd", "bfd-multihop"),
         doc="How the gateway's reachability is checked."),
    Prop("blackhole", Bool(), default=False, doc="Drop packets to the destination silently."),
    Prop("suppress-hw-offload", Bool(), default=False, doc="Keep the route out of hardware offloading."),
    disabled_prop(False),
    comment_prop(),
    Prop("active", Bool(), readonly=True, tab="Status", doc="Whether the route is used for forwarding."),
], validate=_route_validate, title="Route List", group="IP",
    columns=["dst-address", "gateway", "distance", "routing-table", "pref-src"],
    flags=ROUTE_FLAGS, doc="IPv4 routes: static ones, and connected ones for every address (dynamic).")


# -- DNS ---------------------------------------------------------------------------

menu("/ip/dns", [
    Prop("servers", ListOf(IPAny()), default=[], doc="DNS servers to ask (IPv4 or IPv6)."),
    Prop("dynamic-servers", ListOf(IPAny()), readonly=True,
         doc="Servers learned from DHCP or PPP (use-peer-dns)."),
    Prop("use-doh-server", Str(max_len=255), default="", tab="DoH", doc="URL of a DNS-over-HTTPS server."),
    Prop("verify-doh-cert", Bool(), default=False, tab="DoH", doc="Check the DoH server's certificate."),
    Prop("doh-max-server-connections", Int(1, 1000), default=5, tab="DoH",
         doc="Most connections to the DoH server."),
    Prop("doh-max-concurrent-queries", Int(1, 1000), default=50, tab="DoH",
         doc="Most DoH queries in flight."),
    Prop("doh-timeout", Duration(1, 3600), default=5, tab="DoH", doc="How long to wait for a DoH answer."),
    Prop("allow-remote-requests", Bool(), default=False,
         doc="Answer DNS queries from the network, not only the router's own."),
    Prop("max-udp-packet-size", Int(50, 65507), default=4096, doc="Largest UDP DNS packet."),
    Prop("query-server-timeout", Duration(0, 3600), default=2, doc="How long to wait for one server."),
    Prop("query-total-timeout", Duration(0, 3600), default=10, doc="How long to wait for an answer at all."),
    Prop("max-concurrent-queries", Int(1, 10000), default=100, doc="Most queries handled at once."),
    Prop("max-concurrent-tcp-sessions", Int(1, 1000), default=20, doc="Most TCP sessions at once."),
    Prop("cache-size", Int(64, 4294967295, unit="KiB"), default=2048, doc="Size of the cache in KiB."),
    Prop("cache-max-ttl", Duration(0), default=604800, doc="Longest time an answer is cached."),
    Prop("cache-used", Int(0, unit="KiB"), readonly=True, tab="Status", doc="Cache in use (KiB)."),
], single=True, title="DNS Settings", group="IP", doc="The router's DNS resolver and cache.")
