"""/ipv6 pool and /ipv6 dhcp-client, as document 004's "IPv6 PD over PPP"
example uses them (``/ipv6 pool add name=myPool prefix=2001:db8:7501:ff00::/60
prefix-length=62``, ``/ipv6 dhcp-client add interface=client-test
pool-name=ppp-test pool-prefix-length=64``)."""

import ipaddress

from ..errors import RouterError
from ..schema import FLAG_DISABLED, FLAG_DYNAMIC, FLAG_INVALID, Command, Prop, comment_prop, disabled_prop, menu
from ..types import Bool, Duration, Flags, Int, IPv6, Name, Prefix, Ref, Str


def _pool_validate(router, view):
    prefix, length = view.get("prefix"), view.get("prefix-length")
    if prefix and isinstance(length, int):
        net = ipaddress.ip_network(prefix)
        if length < net.prefixlen:
            raise RouterError("prefix-length: %d is shorter than the pool's prefix %s" % (length, prefix),
                              "argument", "prefix-length")


menu("/ipv6/pool", [
    Prop("name", Name(), required=True, doc="Name of the pool."),
    Prop("prefix", Prefix(6), required=True, doc="The prefix the pool hands out parts of."),
    Prop("prefix-length", Int(1, 128), required=True, doc="Length of each prefix handed out."),
    comment_prop(),
], validate=_pool_validate, title="IPv6 Pool", group="IPv6", flags=[FLAG_DYNAMIC],
    columns=["name", "prefix", "prefix-length"],
    doc="IPv6 prefix pools (dynamic ones come from DHCPv6 clients' pool-name).")


def _client_validate(router, view):
    if "prefix" in (view.get("request") or []) and not view.get("pool-name"):
        raise RouterError("pool-name: must be set when request includes prefix", "argument", "pool-name")


def _client_derive(router, view):
    """A client is named by its interface (one client per interface), so
    ``renew client-test`` works as in RouterOS."""
    iface = view.get("interface")
    return {"name": router.name_of(iface)} if iface else {}


menu("/ipv6/dhcp-client", [
    Prop("interface", Ref("interface"), required=True, unique=True, doc="Interface the client runs on."),
    Prop("request", Flags("address", "prefix", allow_empty=False), default=["prefix"],
         doc="What to ask the server for: an address, a delegated prefix, or both."),
    Prop("pool-name", Str(max_len=64), default="", doc="Name of the dynamic IPv6 pool made from the prefix."),
    Prop("pool-prefix-length", Int(1, 128), default=64, doc="prefix-length of that pool."),
    Prop("prefix-hint", Prefix(6), default="::/0", doc="Prefix (length) to ask the server for."),
    Prop("add-default-route", Bool(), default=False, doc="Add a default route to the server."),
    Prop("use-peer-dns", Bool(), default=True, doc="Use the DNS servers the server offers."),
    Prop("rapid-commit", Bool(), default=True, doc="Use the two-message exchange."),
    disabled_prop(False),
    comment_prop(),
    Prop("status", Str(), readonly=True, tab="Status",
         doc="stopped, searching..., requesting..., bound, error."),
    Prop("prefix", Prefix(6), readonly=True, tab="Status", doc="The delegated prefix."),
    Prop("address", Prefix(6), readonly=True, tab="Status", doc="The address received (request=address)."),
    Prop("dhcp-server-v6", IPv6(), readonly=True, tab="Status", doc="The server's link-local address."),
    Prop("expires-after", Duration(), readonly=True, tab="Status", doc="Time until the binding expires."),
], validate=_client_validate, derive=_client_derive, title="DHCPv6 Client", group="IPv6",
    flags=[FLAG_DYNAMIC, FLAG_DISABLED, FLAG_INVALID], columns=["interface", "status", "prefix", "expires-after"],
    commands=[Command("renew", item=True, doc="Renew the binding now."),
              Command("release", item=True, doc="Release the binding and ask again.")],
    doc="DHCPv6 clients: addresses and delegated prefixes from upstream.")
