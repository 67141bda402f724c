"""/interface and the interfaces every router has: ethernet, bridge, lists.

Defaults follow RouterOS v7.  The MetaROUTER document (001_) prints a v3
bridge (``protocol-mode=none``, ``mtu=1500``, ``admin-mac=00:00:00:00:00:00``
and an empty bridge shown running); here ``protocol-mode`` defaults to
``rstp``, ``mtu`` to ``auto`` (``actual-mtu`` shows what is used),
``admin-mac`` is empty until set, and a bridge runs only while one of its
ports does.
"""

from ..errors import RouterError
from ..schema import (FLAG_DISABLED, FLAG_DYNAMIC, FLAG_RUNNING, Command, Flag, Prop, comment_prop,
                      disabled_prop, menu, running_prop)
from ..types import Bool, Duration, Enum, Int, Mac, Name, Ref, Str

TRAFFIC = ("rx-byte", "tx-byte", "rx-packet", "tx-packet")
FLAG_SLAVE = Flag("S", "slave", lambda i: bool(i.get("slave")))

# interface types that carry IP only and so cannot be bridge ports
L3_ONLY = ("wireguard",)


def traffic_props():
    """Read-only counters of an interface (the Traffic tab)."""
    return [Prop(name, Int(0), readonly=True, tab="Traffic",
                 doc="Total %s %s since the interface came up." % (
                     "received" if name.startswith("rx") else "transmitted",
                     "bytes" if name.endswith("byte") else "packets"))
            for name in TRAFFIC]


def _interface_rows(router):
    """The /interface listing: every interface of every type."""
    rows = []
    for m in router.interface_menus():
        for view in router.rows(m.path):
            mtu = view.get("mtu")
            if not isinstance(mtu, int):
                mtu = view.get("actual-mtu") or view.get("max-mtu")
            row = {
                ".id": view[".id"], "name": router.name_of(view[".id"], view, m),
                "type": m.interface_type, "mtu": mtu if isinstance(mtu, int) else None,
                "mac-address": view.get("mac-address"), "running": bool(view.get("running")),
                "disabled": bool(view.get("disabled")), "comment": view.get("comment", ""),
                ".dynamic": bool(view.get(".dynamic")), "slave": bool(view.get("slave")),
            }
            for name in TRAFFIC:
                row[name] = view.get(name) or 0
            rows.append(row)
    return rows


MONITOR_ARGS = [
    Prop("once", Bool(), doc="Print one sample and stop."),
    Prop("interval", Duration(1), doc="Time between samples (default 1s)."),
    Prop("duration", Duration(1), doc="Stop after this long."),
]

menu("/interface", [
    Prop("name", Name(), readonly=True),
    Prop("type", Str(), readonly=True),
    Prop("mtu", Int(), readonly=True),
    Prop("mac-address", Mac(), readonly=True),
    Prop("running", Bool(), readonly=True),
    Prop("disabled", Bool(), readonly=True),
    Prop("comment", Str(), readonly=True),
] + traffic_props(), readonly=True, source=_interface_rows, title="Interfaces", group="Interfaces",
    columns=["name", "type", "mtu", "mac-address", "rx-byte", "tx-byte"],
    flags=[FLAG_DYNAMIC, FLAG_DISABLED, FLAG_RUNNING, FLAG_SLAVE],
    commands=[Command("monitor-traffic", MONITOR_ARGS, item=True, stream=True,
                      doc="Live rates of an interface: rx/tx bits and packets per second.")],
    doc="Every interface of the router, whatever its type.")

menu("/interface/ethernet", [
    Prop("name", Name(), doc="Name of the interface."),
    Prop("default-name", Name(), readonly=True, doc="The name the port had on a factory device."),
    Prop("mtu", Int(0, 65535), default=1500, doc="Layer 3 maximum transmission unit."),
    Prop("mac-address", Mac(), readonly=True, doc="MAC address of the port."),
    Prop("arp", Enum("disabled", "enabled", "local-proxy-arp", "proxy-arp", "reply-only"), default="enabled",
         tab="General", doc="Address Resolution Protocol mode."),
    disabled_prop(False),
    comment_prop(),
    running_prop(),
] + traffic_props(), interface_type="ether", can_add=False, can_remove=False, factory_key="default-name",
    factory=[{"name": "ether%d" % n, "default-name": "ether%d" % n} for n in range(1, 6)],
    title="Ethernet", group="Interfaces", columns=["name", "mtu", "mac-address", "arp"],
    flags=[FLAG_DISABLED, FLAG_RUNNING, FLAG_SLAVE],
    doc="Ethernet ports of the router.")


# -- bridge ----------------------------------------------------------------------

def _bridge_validate(router, view):
    if view.get("auto-mac") is False and not view.get("admin-mac"):
        raise RouterError("admin-mac: must be set when auto-mac is no", "argument", "admin-mac")


menu("/interface/bridge", [
    Prop("name", Name(), doc="Name of the bridge."),
    Prop("mtu", Int(68, 65535, words=("auto",)), default="auto",
         doc="Layer 3 MTU; auto takes the smallest MTU of the ports."),
    Prop("actual-mtu", Int(), readonly=True, tab="Status", doc="The MTU in use."),
    Prop("arp", Enum("disabled", "enabled", "local-proxy-arp", "proxy-arp", "reply-only"), default="enabled",
         doc="Address Resolution Protocol mode."),
    Prop("arp-timeout", Duration(0, words=("auto",)), default="auto", doc="How long ARP entries are kept."),
    Prop("mac-address", Mac(), readonly=True, doc="MAC address of the bridge."),
    Prop("admin-mac", Mac(), doc="Static MAC address of the bridge, used when auto-mac is no."),
    Prop("auto-mac", Bool(), default=True,
         doc="Take the MAC address of the first port instead of admin-mac."),
    Prop("fast-forward", Bool(), default=True, doc="Forward between two ports without the bridge's processing."),
    Prop("protocol-mode", Enum("none", "rstp", "stp", "mstp"), default="rstp", tab="STP",
         doc="Spanning tree protocol (RouterOS v7 default rstp)."),
    Prop("priority", Int(0, 65535, hex_format=True), default=0x8000, tab="STP",
         doc="Bridge priority used by STP to elect the root bridge."),
    Prop("max-message-age", Duration(6, 40), default=20, tab="STP",
         doc="How long received STP information is kept."),
    Prop("forward-delay", Duration(4, 30), default=15, tab="STP",
         doc="Time spent listening and learning before forwarding."),
    Prop("transmit-hold-count", Int(1, 10), default=6, tab="STP",
         doc="Most BPDUs sent per second."),
    Prop("ageing-time", Duration(10, 1000000), default=300, tab="STP",
         doc="How long a learned host is remembered."),
    Prop("vlan-filtering", Bool(), default=False, tab="VLAN", doc="Filter frames by the ports' VLAN settings."),
    Prop("pvid", Int(1, 4094), default=1, tab="VLAN", doc="VLAN id of untagged frames of the bridge itself."),
    Prop("ether-type", Enum("0x8100", "0x88a8", "0x9100"), default="0x8100", tab="VLAN",
         doc="EtherType of the VLAN tag."),
    Prop("frame-types", Enum("admit-all", "admit-only-untagged-and-priority-tagged", "admit-only-vlan-tagged"),
         default="admit-all", tab="VLAN", doc="Frames the bridge interface accepts."),
    Prop("igmp-snooping", Bool(), default=False, tab="IGMP Snooping",
         doc="Forward multicast only to ports that asked for it."),
    Prop("dhcp-snooping", Bool(), default=False, tab="General", doc="Watch DHCP on the bridge."),
    disabled_prop(False),
    comment_prop(),
    running_prop(),
] + traffic_props(), interface_type="bridge", default_name="bridge{n}", validate=_bridge_validate,
    title="Bridge", group="Bridge", columns=["name", "mtu", "actual-mtu", "mac-address", "protocol-mode"],
    flags=[FLAG_DISABLED, FLAG_RUNNING], doc="Software bridges joining interfaces into one layer-2 domain.")


def _port_derive(router, view):
    """A port is known by its interface (``remove`` errors name it)."""
    iface = view.get("interface")
    return {"name": router.name_of(iface)} if iface else {}


def _port_validate(router, view):
    iface, bridge = view.get("interface"), view.get("bridge")
    if iface == bridge:
        raise RouterError("interface: a bridge cannot be a port of itself", "argument", "interface")
    path = router.store.path_of(iface) or ""
    if path == "/interface/bridge":
        raise RouterError("interface: %s is a bridge; a bridge cannot be a port of another bridge"
                          % router.name_of(iface), "argument", "interface")
    m = router.schema.get(path)
    if m is not None and m.interface_type in L3_ONLY:
        raise RouterError("interface: %s is a %s interface (layer 3 only) and cannot be a bridge port"
                          % (router.name_of(iface), m.interface_type), "argument", "interface")
    for other in router.store.items("/interface/bridge/port"):
        if other[".id"] != view[".id"] and other.get("interface") == iface:
            raise RouterError("interface: %s is already a port of %s" % (
                router.name_of(iface), router.name_of(other.get("bridge"))), "conflict", "interface")


menu("/interface/bridge/port", [
    Prop("interface", Ref("interface"), required=True, doc="Interface to put in the bridge."),
    Prop("bridge", Ref("/interface/bridge"), required=True, doc="The bridge the interface joins."),
    Prop("priority", Int(0, 240, hex_format=True), default=0x80, tab="STP",
         doc="Port priority used by STP."),
    Prop("path-cost", Int(1, 200000000), default=10, tab="STP", doc="Cost of the path through this port."),
    Prop("internal-path-cost", Int(1, 200000000), default=10, tab="STP",
         doc="Cost of the path to the root inside the region (MSTP)."),
    Prop("horizon", Int(0, 429496729, words=("none",)), default="none",
         doc="Ports with the same horizon do not forward to each other."),
    Prop("edge", Enum("auto", "no", "no-discover", "yes", "yes-discover"), default="auto", tab="STP",
         doc="Whether the port leads to hosts only."),
    Prop("point-to-point", Enum("auto", "no", "yes"), default="auto", tab="STP",
         doc="Whether the port is a point-to-point link."),
    Prop("learn", Enum("auto", "no", "yes"), default="auto", doc="Learn source MAC addresses on this port."),
    Prop("pvid", Int(1, 4094), default=1, tab="VLAN", doc="VLAN id given to untagged ingress frames."),
    Prop("frame-types", Enum("admit-all", "admit-only-untagged-and-priority-tagged", "admit-only-vlan-tagged"),
         default="admit-all", tab="VLAN", doc="Frames accepted on ingress when vlan-filtering is on."),
    Prop("ingress-filtering", Bool(), default=True, tab="VLAN",
         doc="Drop frames whose VLAN is not allowed on the port."),
    Prop("unknown-unicast-flood", Bool(), default=True, doc="Flood frames for unknown MACs to this port."),
    Prop("broadcast-flood", Bool(), default=True, doc="Flood broadcasts to this port."),
    Prop("trusted", Bool(), default=False, doc="Trust DHCP servers behind this port (dhcp-snooping)."),
    Prop("hw", Bool(), default=True, doc="Offload switching to hardware where possible."),
    disabled_prop(False),
    comment_prop(),
    Prop("status", Enum("in-bridge", "inactive", "disabled"), readonly=True, tab="Status",
         doc="Whether the port takes part in the bridge."),
    Prop("role", Enum("disabled-port", "root-port", "designated-port", "alternate-port", "backup-port"),
         readonly=True, tab="Status", doc="STP role of the port."),
    Prop("forwarding", Bool(), readonly=True, tab="Status", doc="Whether the port forwards frames."),
    Prop("learning", Bool(), readonly=True, tab="Status", doc="Whether the port learns MAC addresses."),
], derive=_port_derive, validate=_port_validate, title="Bridge Ports", group="Bridge",
    columns=["interface", "bridge", "priority", "path-cost", "horizon"],
    flags=[FLAG_DISABLED, Flag("I", "inactive", lambda i: bool(i.get("inactive"))), FLAG_DYNAMIC],
    doc="Interfaces joined to bridges: `add interface=vif2 bridge=bridge1`.")


# -- interface lists ----------------------------------------------------------------

BUILTIN_LISTS = ("all", "none", "dynamic", "static")


def _list_validate(router, view):
    builtin = view.get(".factory")
    if builtin:
        if view.get("name") != builtin:
            raise RouterError("name: %s is a builtin list and cannot be renamed" % builtin, "denied", "name")
        for prop in ("include", "exclude"):
            if view.get(prop):
                raise RouterError("%s: %s is a builtin list; its members are fixed" % (prop, builtin),
                                  "denied", prop)
    # include/exclude must not lead back to this list
    seen, todo = set(), [r for p in ("include", "exclude") for r in (view.get(p) or [])]
    while todo:
        lid = todo.pop()
        if lid == view[".id"]:
            raise RouterError("include: %s would contain itself" % view.get("name"), "argument", "include")
        if lid in seen:
            continue
        seen.add(lid)
        other = router.store.get(lid) or {}
        todo.extend(r for p in ("include", "exclude") for r in (other.get(p) or []))


menu("/interface/list", [
    Prop("name", Name(), required=True, doc="Name of the list."),
    Prop("include", Ref("/interface/list", multiple=True), doc="Lists whose members belong to this one too."),
    Prop("exclude", Ref("/interface/list", multiple=True), doc="Lists whose members are left out of this one."),
    comment_prop(),
], factory=[{"name": n} for n in BUILTIN_LISTS], factory_key="name", validate=_list_validate,
    title="Interface List", group="Interfaces", columns=["name", "include", "exclude"],
    flags=[Flag("*", "builtin", lambda i: bool(i.get(".factory"))), FLAG_DYNAMIC],
    doc="Named groups of interfaces for firewall rules and services; all, none, dynamic and static are builtin.")


def _member_derive(router, view):
    iface = view.get("interface")
    return {"name": router.name_of(iface)} if iface else {}


def _member_validate(router, view):
    lst = router.store.get(view.get("list")) or {}
    if lst.get(".factory"):
        raise RouterError("list: %s is a builtin list; its members are computed" % lst.get("name"),
                          "denied", "list")
    for other in router.store.items("/interface/list/member"):
        if other[".id"] != view[".id"] and other.get("list") == view.get("list") \
                and other.get("interface") == view.get("interface"):
            raise RouterError("interface: %s is already a member of %s" % (
                router.name_of(view.get("interface")), lst.get("name")), "conflict", "interface")


menu("/interface/list/member", [
    Prop("list", Ref("/interface/list"), required=True, doc="The list."),
    Prop("interface", Ref("interface"), required=True, doc="The interface that belongs to it."),
    disabled_prop(False),
    comment_prop(),
], derive=_member_derive, validate=_member_validate, title="Interface List Members", group="Interfaces",
    columns=["list", "interface"], flags=[FLAG_DISABLED, FLAG_DYNAMIC],
    doc="Which interfaces are in which list: `add interface=wireguard1 list=LAN`.")
