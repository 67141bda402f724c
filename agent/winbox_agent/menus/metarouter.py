"""/metarouter (virtual routers on this router) and /metarouter/interface.

Reference: /work/shared/seeds/001_*.txt and 002_*.txt (the same MetaROUTER
page; 002_ has the printouts line by line).  The document's limits hold: at
most 8 virtual machines and 8 virtual interfaces on one host.

Each /metarouter/interface item is also an interface of the host (type
``vif``, named ``vif1``, ``vif2``...): the name is chosen when the item is
added (the lowest free ``vifN``) and never changes afterwards, so
``/ip address add interface=vif1`` and bridge ports keep pointing at it.  It
is exported (``name=vif2``) so that an export re-imports with the same names.
"""

import re
from typing import Any, Dict, Iterator, List, Optional

from ..errors import RouterError
from ..schema import FLAG_DISABLED, Command, Flag, Prop, comment_prop, disabled_prop, menu
from ..types import Enum, Int, Mac, Name, Ref, Str

MAX_MACHINES = 8
MAX_INTERFACES = 8
STATES = ("booting", "running", "rebooting", "shutting-down", "stopped", "disabled")


class Size(Int):
    """An integer amount with a unit that is printed with it (``32MiB``,
    ``32000kiB``) and may be typed with or without it."""

    def format(self, value, ctx=None):
        if isinstance(value, int):
            return "%d%s" % (value, self.unit)
        return super().format(value, ctx)


class ConsoleSession:
    """What a driver's ``/metarouter console`` returns: no rows, but the guest's router.

    The shell sees ``console_router`` and talks to that router until the user
    leaves (``/quit`` or Ctrl-A then Q), or runs ``command`` there and comes
    back at once.

    Attributes:
        console_router: the guest's Router.
        name: the virtual machine's name.
        command: commands to run in the guest (None: an interactive session).
        banner: lines the console prints when it connects.
    """

    def __init__(self, router: Any, name: str, command: Optional[str], banner: List[str]):
        self.console_router = router
        self.name = name
        self.command = command
        self.banner = banner

    def __iter__(self) -> Iterator[Dict[str, str]]:
        return iter(())


def free_vif_name(router, item):
    """The lowest ``vifN`` no interface of the router is named."""
    taken = set()
    for m in router.interface_menus():
        for it in router.store.items(m.path):
            taken.add(router.name_of(it[".id"], it, m))
    n = 1
    while "vif%d" % n in taken:
        n += 1
    return "vif%d" % n


def _machine_validate(router, view):
    others = [it for it in router.store.items("/metarouter") if it[".id"] != view[".id"]]
    if router.store.get(view[".id"]) is None and len(others) >= MAX_MACHINES:
        raise RouterError("cannot add more than %d virtual machines" % MAX_MACHINES, "conflict")


def _interface_validate(router, view):
    stored = router.store.get(view[".id"])
    name = view.get("name")
    if stored is not None and stored.get("name") != name:
        raise RouterError("name: the name of a virtual interface cannot be changed (it is %s)" % stored.get("name"),
                          "denied", "name")
    if not re.fullmatch(r"vif[1-9]\d*", name or ""):
        raise RouterError("name: %s is not vifN (vif1, vif2, ...)" % name, "argument", "name")
    others = [it for it in router.store.items("/metarouter/interface") if it[".id"] != view[".id"]]
    if stored is None and len(others) >= MAX_INTERFACES:
        raise RouterError("cannot add more than %d virtual interfaces" % MAX_INTERFACES, "conflict")
    if view.get("type") == "static" and view.get("static-interface") in (None, "none"):
        raise RouterError("static-interface: must be set for a static interface", "argument", "static-interface")


menu("/metarouter", [
    Prop("name", Name(), doc="Name of the virtual machine."),
    Prop("memory-size", Size(16, 256, unit="MiB"), default=16,
         doc="Amount of memory that will be allocated by virtual router (16..256 MiB)."),
    Prop("disk-size", Size(0, 4294967295, words=("unlimited",), unit="kiB"), default="unlimited",
         doc="Disk size that will be allocated by virtual router (unlimited: it grows as needed)."),
    disabled_prop(False),
    comment_prop(),
    Prop("used-disk", Size(unit="kiB"), readonly=True, tab="Status",
         doc="Currently used disk space by virtual router."),
    Prop("disk-reads", Int(), readonly=True, tab="Status", doc="Number of disk reads."),
    Prop("disk-writes", Int(), readonly=True, tab="Status", doc="Number of disk writes."),
    Prop("state", Enum(*STATES), readonly=True, tab="Status", doc="Current state of the virtual machine."),
], default_name="mr{n}", validate=_machine_validate,
    columns=["name", "memory-size", "disk-size", "used-disk", "state"], flags=[FLAG_DISABLED],
    commands=[
        Command("start", item=True, doc="Boot up the virtual machine."),
        Command("shut-down", item=True, doc="Shut down the virtual machine."),
        Command("reboot", item=True, doc="Reboot the virtual machine."),
        Command("console", item=True, args=[
            Prop("command", Str(),
                 doc="Run these commands in the virtual machine and come back (for scripts)."),
        ], doc="Connect to the virtual machine's console: the shell then talks to the guest router until "
               "/quit (or Ctrl-A then Q). With command=\"...\" the commands run in the guest and the "
               "shell stays on the host."),
        Command("import-image", args=[
            Prop("file-name", Str(), required=True, doc="The uploaded image (.tgz) to import."),
            Prop("virtual-machine", Ref("/metarouter"),
                 doc="The virtual machine that gets the image (needed when there are several)."),
        ], doc="Import a custom built image (such as OpenWRT) into a virtual machine."),
    ],
    title="MetaROUTER", group="MetaROUTER", doc="Virtual routers running on this router.")

menu("/metarouter/interface", [
    Prop("virtual-machine", Ref("/metarouter"), required=True,
         doc="The virtual machine this interface is bound to."),
    Prop("type", Enum("dynamic", "static"), default="dynamic",
         doc="dynamic: a vifN interface is made on the host; static: a host interface is given to the guest."),
    Prop("dynamic-bridge", Ref("/interface/bridge", words=("none",)), default="none",
         doc="Bridge the dynamic interface is made a port of."),
    Prop("dynamic-mac-address", Mac(), doc="MAC address of the host side (vifN) of a dynamic interface."),
    Prop("static-interface", Ref("interface", words=("none",)), default="none",
         doc="Host interface given to the guest by a static interface."),
    Prop("vm-mac-address", Mac(), doc="MAC address of the interface inside the virtual machine."),
    Prop("name", Str(max_len=16), default=free_vif_name,
         doc="The host interface's name: the lowest free vifN, chosen on add; it cannot be changed."),
    disabled_prop(False),
    comment_prop(),
], interface_type="vif", validate=_interface_validate,
    derive=lambda router, view: {".dynamic": view.get("type") == "dynamic"},
    columns=["virtual-machine", "type", "vm-mac-address"],
    flags=[FLAG_DISABLED, Flag("A", "active", lambda i: i.get("active") is True)],
    title="MetaROUTER Interfaces", group="MetaROUTER", doc="Virtual interfaces of the virtual machines.")
