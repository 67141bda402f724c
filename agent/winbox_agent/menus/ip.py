"""/ip address, /ip pool."""

import ipaddress

from ..schema import FLAG_DISABLED, FLAG_DYNAMIC, FLAG_INVALID, Prop, comment_prop, disabled_prop, menu
from ..types import AddressRanges, Interface, IPv4, Name, Ref


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
