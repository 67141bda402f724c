"""/interface and the interfaces every router has: ethernet, bridge, lists."""

from ..schema import (FLAG_DISABLED, FLAG_DYNAMIC, FLAG_RUNNING, Flag, Prop, comment_prop, disabled_prop,
                      menu, running_prop)
from ..types import Bool, Enum, Int, Mac, Name, Str


def _interface_rows(router):
    """The /interface listing: every interface of every type."""
    rows = []
    for m in router.interface_menus():
        for view in router.rows(m.path):
            mtu = view.get("mtu")
            if not isinstance(mtu, int):
                mtu = view.get("actual-mtu") or view.get("max-mtu")
            rows.append({
                ".id": view[".id"], "name": router.name_of(view[".id"], view, m),
                "type": m.interface_type, "mtu": mtu if isinstance(mtu, int) else None,
                "mac-address": view.get("mac-address"), "running": bool(view.get("running")),
                "disabled": bool(view.get("disabled")), "comment": view.get("comment", ""),
                ".dynamic": bool(view.get(".dynamic")),
            })
    return rows


menu("/interface", [
    Prop("name", Name(), readonly=True),
    Prop("type", Str(), readonly=True),
    Prop("mtu", Int(), readonly=True),
    Prop("mac-address", Mac(), readonly=True),
    Prop("running", Bool(), readonly=True),
    Prop("disabled", Bool(), readonly=True),
    Prop("comment", Str(), readonly=True),
], readonly=True, source=_interface_rows, title="Interfaces", group="Interfaces",
    columns=["name", "type", "mtu", "mac-address"],
    flags=[FLAG_DYNAMIC, FLAG_DISABLED, FLAG_RUNNING, Flag("S", "slave", lambda i: bool(i.get("slave")))],
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
], interface_type="ether", can_add=False, can_remove=False, factory_key="default-name",
    factory=[{"name": "ether%d" % n, "default-name": "ether%d" % n} for n in range(1, 6)],
    title="Ethernet", group="Interfaces", columns=["name", "mtu", "mac-address", "arp"],
    flags=[FLAG_DISABLED, FLAG_RUNNING, Flag("S", "slave", lambda i: bool(i.get("slave")))],
    doc="Ethernet ports of the router.")
