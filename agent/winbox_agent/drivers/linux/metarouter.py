"""MetaROUTER on Linux: each virtual machine is a network namespace running
a guest router (the agent's own Router with this driver inside the
namespace), each dynamic /metarouter interface a veth pair: ``vifN`` on the
host (``dynamic-mac-address``; a port of ``dynamic-bridge`` if set) and
``etherK`` in the guest (``vm-mac-address``), K counting the machine's
interfaces in order.  A static interface moves a host interface into the
guest as ``etherK`` (and back when the machine stops).

A machine runs while it is enabled and not shut down: ``start``,
``shut-down`` and ``reboot`` make and delete its namespace.  The guest's
configuration lives in ``STATE/metarouter/<id>/`` and is applied when the
machine boots; ``console`` opens the guest's router in the shell.  Memory
and disk sizes are not enforced (a namespace shares the host's memory and
disk); ``used-disk`` is the size of the guest's directory.  Images
(``import-image``) cannot run here: a machine is always a guest router.
"""

import hashlib
import os
import secrets
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...menus.metarouter import ConsoleSession
from ...store import Change
from .area import Area, Pass
from .links import check_ifname

VM = "/metarouter"
VIF = "/metarouter/interface"
ETHERNET = "/interface/ethernet"


def _mac() -> str:
    octets = [0x02] + list(secrets.token_bytes(5))
    return ":".join("%02X" % o for o in octets)


class MetaRouter(Area):
    """Virtual machines as network namespaces, their vif interfaces and guests.

    Attributes:
        guests: open guest routers by machine id.
    """

    key = "metarouter"
    paths = (VM, VIF)

    def __init__(self, driver: Any):
        super().__init__(driver)
        self.guests: Dict[str, Any] = {}
        self._unplugged: Dict[str, Any] = {}

    # -- names -------------------------------------------------------------------------
    def netns_of(self, vm_id: str) -> str:
        tag = hashlib.sha1((self.router.state_dir or "").encode()).hexdigest()[:6]
        return "wbmr-%s-%s" % (tag, vm_id.lstrip("*").lower())

    def _guest_dir(self, vm_id: str) -> str:
        return os.path.join(self.router.state_dir or "/run/winbox-agent", "metarouter", vm_id.lstrip("*"))

    def _stopped(self) -> List[str]:
        return self.driver.notes("metarouter").setdefault("stopped", [])

    def _netns_exists(self, ns: str) -> bool:
        return os.path.exists(os.path.join("/run/netns", ns))

    # -- values the system chooses ---------------------------------------------------------
    def prepare(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path not in (VM, VIF) or ch.after is None:
                continue
            if self.driver.guest_of is not None and ch.before is None:
                raise RouterError("a virtual machine cannot run virtual machines of its own", "denied")
            if ch.path == VIF:
                ch.after.setdefault("vm-mac-address", _mac())
                ch.after.setdefault("dynamic-mac-address", _mac())

    # -- reconciling ------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        ledger = self.ledger
        vms = ledger.setdefault("vms", {})
        vifs = ledger.setdefault("vifs", {})
        stopped = set(self._stopped())
        running = {v[".id"]: v for v in p.snap.rows(VM) if not v.get("disabled") and v[".id"] not in stopped}
        # interfaces of each running machine, in order: (view, guest name)
        wanted: Dict[str, Dict[str, Any]] = {}
        for vm_id in running:
            k = 0
            for view in p.snap.rows(VIF):
                if view.get("virtual-machine") != vm_id:
                    continue
                k += 1
                if not view.get("disabled"):
                    wanted[view[".id"]] = {"view": view, "guest": "ether%d" % k, "vm": vm_id}
        # take down what is no longer wanted
        for vif_id, rec in list(vifs.items()):
            w = wanted.get(vif_id)
            if w is None or w["guest"] != rec["guest"] or rec["vm"] not in running \
                    or (w["view"].get("name") != rec["name"]):
                self._unplug(p, rec)
                self._unplugged[vif_id] = rec
                del vifs[vif_id]
        for vm_id, rec in list(vms.items()):
            if vm_id not in running:
                self._halt(p, vm_id, rec["netns"])
                del vms[vm_id]
        # bring up what is wanted
        booted = []
        for vm_id, view in running.items():
            ns = self.netns_of(vm_id)
            if not self._netns_exists(ns):
                p.journal.run(["ip", "netns", "add", ns], undo=["ip", "netns", "del", ns])
                p.journal.run(["ip", "-n", ns, "link", "set", "lo", "up"])
                booted.append(vm_id)
            vms[vm_id] = {"netns": ns}
        touched = set(booted)
        for vif_id, w in wanted.items():
            if vif_id not in vifs:
                touched.add(w["vm"])
            self._plug(p, vif_id, w, vifs)
        touched.update(rec["vm"] for vif_id, rec in list(self._unplugged.items()))
        self._unplugged = {}
        for vm_id in running:
            if vm_id in touched:
                self._open_guest(p, vm_id, vm_id in booted, wanted)

    def _plug(self, p: Pass, vif_id: str, w: Dict[str, Any], vifs: Dict[str, Any]) -> None:
        view, guest, vm_id = w["view"], w["guest"], w["vm"]
        ns = self.netns_of(vm_id)
        name = view.get("name")
        rec = {"name": name, "guest": guest, "vm": vm_id, "netns": ns, "type": view.get("type")}
        if view.get("type") == "static":
            host_if = p.snap.ifname(view.get("static-interface"))
            if not host_if:
                p.problem(vif_id, "static-interface does not exist on this host")
                return
            rec["host"] = host_if
            if self.system.link(host_if) is not None:
                p.journal.run(["ip", "link", "set", "dev", host_if, "netns", ns, "name", guest],
                              undo=["ip", "-n", ns, "link", "set", "dev", guest, "netns", str(os.getpid()),
                                    "name", host_if])
                p.journal.run(["ip", "-n", ns, "link", "set", "dev", guest, "up"])
            vifs[vif_id] = rec
            return
        check_ifname(name)
        if self.system.link(name) is None:
            args = ["ip", "link", "add", "name", name]
            if view.get("dynamic-mac-address"):
                args += ["address", view["dynamic-mac-address"].lower()]
            args += ["type", "veth", "peer", "name", guest]
            if view.get("vm-mac-address"):
                args += ["address", view["vm-mac-address"].lower()]
            args += ["netns", ns]
            p.journal.run(args, undo=["ip", "link", "del", "dev", name])
            p.journal.run(["ip", "-n", ns, "link", "set", "dev", guest, "up"])
        vifs[vif_id] = rec
        link = self.system.link(name) or {}
        bridge = p.snap.get(view.get("dynamic-bridge")) if view.get("dynamic-bridge") not in (None, "none") else None
        master = bridge.get("name") if bridge and not bridge.get("disabled") else None
        if link.get("master") != master:
            back = ["ip", "link", "set", "dev", name] + (["master", link["master"]] if link.get("master")
                                                        else ["nomaster"])
            p.journal.run(["ip", "link", "set", "dev", name] + (["master", master] if master else ["nomaster"]),
                          undo=back)
        self.driver.links.settle(p, vif_id, name, comment=view.get("comment"), up=True)

    def _unplug(self, p: Pass, rec: Dict[str, Any]) -> None:
        ns = rec["netns"]
        if rec.get("type") == "static":
            if self._netns_exists(ns) and rec.get("host"):
                res = self.host.try_run(["ip", "-n", ns, "link", "set", "dev", rec["guest"], "netns",
                                         str(os.getpid()), "name", rec["host"]])
                if res.code == 0:
                    self.system.invalidate()
            return
        if self.system.link(rec["name"]) is not None:
            p.journal.run(["ip", "link", "del", "dev", rec["name"]])

    def _halt(self, p: Pass, vm_id: str, ns: str) -> None:
        guest = self.guests.pop(vm_id, None)
        if guest is not None:
            guest.close()
        if not self._netns_exists(ns):
            return
        for pid in self.host.try_run(["ip", "netns", "pids", ns]).out.split():
            if pid.isdigit():
                self.host.stop(int(pid))
        p.journal.run(["ip", "netns", "del", ns])
        self.driver.log("system,info", "metarouter %s stopped" % self.router.name_of(vm_id))

    def _open_guest(self, p: Pass, vm_id: str, booted: bool, wanted: Dict[str, Dict[str, Any]]) -> None:
        """A machine booted or got other ports: its guest's ethernet ports follow
        and the guest applies its configuration."""
        if booted:
            old = self.guests.pop(vm_id, None)
            if old is not None:
                old.close()
        fresh = vm_id not in self.guests
        guest = self.guest(vm_id)
        ports = [(w["guest"], w["view"]) for w in wanted.values() if w["vm"] == vm_id]
        if self._sync_ports(guest, ports) or not fresh:
            guest.driver.reconcile()
        if booted:
            self.driver.log("system,info", "metarouter %s started" % (p.snap.get(vm_id) or {}).get("name", vm_id))

    @staticmethod
    def _sync_ports(guest: Any, ports: List[Any]) -> bool:
        """The guest's ethernet items are the machine's interfaces (etherK), so
        the guest can name and use them; returns whether anything changed."""
        ethers = {it.get("default-name"): it for it in guest.store.items(ETHERNET)}
        names = {it.get("name") for it in guest.store.items(ETHERNET)}
        changes = []
        for port, view in sorted(ports, key=lambda x: int(x[0][5:])):
            if port in ethers:
                continue
            name = port if port not in names else "%s-vm" % port
            after = {"name": name, "default-name": port, ".factory": port}
            if view.get("type") != "static" and view.get("vm-mac-address"):
                after["mac-address"] = view["vm-mac-address"]
            changes.append(Change(ETHERNET, guest.store.new_id(), None, after))
        if changes:
            guest.store.apply(changes, note="metarouter ports", record=False)
        return bool(changes)

    def guest(self, vm_id: str) -> Any:
        """The guest router of a running machine (its driver works in the namespace)."""
        guest = self.guests.get(vm_id)
        if guest is None:
            from ...router import Router
            guest = Router(self._guest_dir(vm_id), driver="linux",
                           driver_options={"netns": self.netns_of(vm_id), "guest_of": self.driver},
                           clock=self.router.clock)
            self.guests[vm_id] = guest
        return guest

    def stop(self) -> None:
        for guest in self.guests.values():
            guest.close()
        self.guests.clear()

    # -- live values -----------------------------------------------------------------------------
    def _used_kib(self, vm_id: str) -> int:
        total = 0
        for root, _, files in os.walk(self._guest_dir(vm_id)):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(root, f))
                except OSError:
                    pass
        return total // 1024

    def state(self, view: Dict[str, Any]) -> str:
        if view.get("disabled"):
            return "disabled"
        if view[".id"] in self._stopped() or not self._netns_exists(self.netns_of(view[".id"])):
            return "stopped"
        return "running"

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == VM:
            return {"state": self.state(view), "used-disk": self._used_kib(view[".id"]), "disk-reads": 0,
                    "disk-writes": 0}
        vm = self.router.store.get(view.get("virtual-machine") or "")
        up = vm is not None and self.state(dict(vm)) == "running" and not view.get("disabled")
        link = self.system.link(view.get("name")) if view.get("type") != "static" else None
        return {"active": up, "running": up and self.system.is_running(link),
                "mac-address": (link or {}).get("address", "").upper() or view.get("dynamic-mac-address"),
                "mtu": (link or {}).get("mtu")}

    # -- commands --------------------------------------------------------------------------------
    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path != VM:
            return None
        if name == "import-image":
            raise RouterError("import-image is not supported by the linux driver: a virtual machine here is a "
                              "network namespace running a guest router, not an image", "missing")
        it = self.router.store.get(item_id or "")
        if it is None or self.router.store.path_of(item_id) != VM:
            raise RouterError("no such virtual machine (%s)" % item_id, "missing")
        view = self.router.view(self.router.menu(VM), it, runtime=False)
        vm = view.get("name") or item_id
        state = self.state(view)
        stopped = self._stopped()
        if state == "disabled":
            raise RouterError("%s is disabled; enable it first" % vm, "conflict")
        if name == "start":
            if state == "running":
                raise RouterError("%s is already running" % vm, "conflict")
            if item_id in stopped:
                stopped.remove(item_id)
            self.driver.reconcile()
        elif name == "shut-down":
            if state == "stopped":
                raise RouterError("%s is already stopped" % vm, "conflict")
            stopped.append(item_id)
            self.driver.reconcile()
        elif name == "reboot":
            if state == "stopped":
                raise RouterError("%s is stopped; use start" % vm, "conflict")
            stopped.append(item_id)
            self.driver.reconcile()
            stopped.remove(item_id)
            self.driver.reconcile()
        elif name == "console":
            if state != "running":
                raise RouterError("%s is not running; start it first" % vm, "conflict")
            return ConsoleSession(self.guest(item_id), vm, args.get("command"),
                                  ["", "[Ctrl-A is the prefix key]", ""])
        else:
            return None
        self.driver.save()
        return iter(())
