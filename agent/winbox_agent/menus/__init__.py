"""Every menu of the device, declared once (see :mod:`winbox_agent.schema`).

Importing this package declares them all.  :data:`EXPORT_ORDER` fixes the
order of ``export``: an item is exported after every menu it may refer to, so
the script runs on a factory device.  Menus not named there follow in
declaration order (``tests`` check every declared menu is named).
"""

from ..schema import REGISTRY
from . import interfaces, ip, ipv6, ppp, tunnels, wireguard, zerotier, metarouter, firewall, system, users  # noqa: F401,E501

EXPORT_ORDER = [
    "/system/identity",
    "/user/group",
    "/user",
    "/interface",
    "/interface/ethernet",
    "/interface/bridge",
    "/metarouter",
    "/metarouter/interface",
    "/interface/list",
    "/ip/pool",
    "/ipv6/pool",
    "/ppp/profile",
    "/ppp/secret",
    "/ppp/l2tp-secret",
    "/ppp/active",
    "/interface/pppoe-client",
    "/interface/l2tp-client",
    "/interface/l2tp-server/server",
    "/interface/l2tp-ether",
    "/interface/ovpn-client",
    "/interface/ovpn-server/server",
    "/interface/pptp-client",
    "/interface/pptp-server/server",
    "/interface/sstp-client",
    "/interface/sstp-server/server",
    "/interface/pppoe-server",
    "/interface/l2tp-server",
    "/interface/pptp-server",
    "/interface/sstp-server",
    "/interface/ovpn-server",
    "/interface/wireguard",
    "/interface/wireguard/peers",
    "/zerotier",
    "/zerotier/interface",
    "/zerotier/controller",
    "/zerotier/controller/member",
    "/zerotier/peer",
    "/interface/pppoe-server/server",
    "/interface/bridge/port",
    "/interface/list/member",
    "/ip/address",
    "/ip/route",
    "/ip/dns",
    "/ip/firewall/filter",
    "/ip/firewall/nat",
    "/ipv6/dhcp-client",
    "/system/resource",
    "/system/license",
    "/log",
    "/system/history",
]


def _reorder() -> None:
    first = [p for p in EXPORT_ORDER if p in REGISTRY]
    rest = [p for p in REGISTRY if p not in first]
    ordered = {p: REGISTRY[p] for p in first + rest}
    REGISTRY.clear()
    REGISTRY.update(ordered)


_reorder()
