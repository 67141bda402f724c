"""MetaROUTER on the simulated device: virtual machines and their console.

A virtual machine boots when it is added enabled (``booting`` for 3 s, then
``running``); ``shut-down`` makes it ``shutting-down`` (2 s) then
``stopped``; ``reboot`` makes it ``rebooting`` (2 s), ``booting`` (3 s) and
``running`` again; ``start`` boots a stopped one.  Its disk fills slowly while
it runs (``used-disk``, ``disk-reads``, ``disk-writes``).  The state of each
machine is kept in the sim's notes so separate CLI runs agree.

Each machine is a nested simulated router with its own state directory
(``STATE/metarouter/<id>/``) whose ethernet ports are the machine's
``/metarouter interface`` items, in order, with their ``vm-mac-address``.
``console`` hands that router to the shell (see :class:`ConsoleSession`).
Removing a machine puts its directory aside (``<id>.removed``) so that undo
brings its disk back.
"""

import os
import shutil
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...menus.metarouter import ConsoleSession
from ...store import Change
from .behaviour import Behaviour

BOOT_SECONDS = 3.0
REBOOT_SECONDS = 2.0
SHUTDOWN_SECONDS = 2.0
FRESH_DISK_KIB = 180          # a fresh RouterOS guest
GROWTH_KIB = 4096             # how much more it writes over its life
UNITS = ("memory-size", "disk-size")


class MetaRouter(Behaviour):
    """Virtual machines: their state over time, commands, guests and vif interfaces.

    Attributes:
        guests: open guest routers by machine id (opened on first console).
    """

    paths = ("/metarouter", "/metarouter/interface", "/interface/bridge/port")

    def __init__(self, sim: Any):
        super().__init__(sim)
        self.guests: Dict[str, Any] = {}

    # -- persisted per-machine state -------------------------------------------
    def _vms(self) -> Dict[str, Dict[str, Any]]:
        return self.sim.notes.setdefault("metarouter", {})

    def _record(self, vm_id: str) -> Dict[str, Any]:
        rec = self._vms().get(vm_id)
        if rec is None:
            t = self.sim.since.get(vm_id, self.sim.boot if self.sim.boot is not None else self.sim.now())
            rec = {"mode": "up", "kind": "boot", "t": t, "acc": 0.0}
        return rec

    def _transition(self, vm_id: str, mode: str, kind: str) -> None:
        rec = dict(self._record(vm_id))
        now = self.sim.now()
        rec["acc"] = self._run_seconds(rec, now)
        rec.update({"mode": mode, "kind": kind, "t": now})
        self._vms()[vm_id] = rec

    @staticmethod
    def _run_seconds(rec: Dict[str, Any], now: float) -> float:
        return rec.get("acc", 0.0) + (max(0.0, now - rec["t"]) if rec["mode"] == "up" else 0.0)

    def state(self, view: Dict[str, Any]) -> str:
        if view.get("disabled"):
            return "disabled"
        rec = self._record(view[".id"])
        elapsed = self.sim.now() - rec["t"]
        if rec["mode"] == "down":
            return "shutting-down" if elapsed < SHUTDOWN_SECONDS else "stopped"
        if rec["kind"] == "reboot":
            if elapsed < REBOOT_SECONDS:
                return "rebooting"
            elapsed -= REBOOT_SECONDS
        return "booting" if elapsed < BOOT_SECONDS else "running"

    def used_disk(self, view: Dict[str, Any]) -> int:
        """kiB the machine's disk holds now."""
        rec = self._record(view[".id"])
        image = rec.get("image-kib")
        base = image if image is not None else FRESH_DISK_KIB + self.sim.rand("mr-disk", view[".id"]) % 200
        used = base + min(GROWTH_KIB, int(self._run_seconds(rec, self.sim.now()) / 20))
        size = view.get("disk-size")
        if isinstance(size, int) and size > 0:
            used = min(used, size)
        return used

    def running_memory_mib(self) -> int:
        """Memory the machines that are up take from the host."""
        total = 0
        for it in self.router.store.items("/metarouter"):
            view = self.router.view(self.router.menu("/metarouter"), it, runtime=False)
            if self.state(view) not in ("stopped", "disabled"):
                total += view.get("memory-size") or 16
        return total

    def disk_kib(self) -> int:
        """Host disk the machines' disks take."""
        m = self.router.menu("/metarouter")
        return sum(self.used_disk(self.router.view(m, it, runtime=False)) for it in self.router.store.items(m.path))

    # -- driver hooks ------------------------------------------------------------
    def apply(self, changes: List[Change]) -> None:
        touched = False
        for ch in changes:
            if ch.path == "/metarouter":
                touched |= self._apply_machine(ch)
            elif ch.path == "/metarouter/interface" and ch.after is not None:
                if getattr(self.sim, "host", None) is not None and ch.before is None:
                    raise RouterError("a virtual machine cannot run virtual machines of its own", "denied")
                if ch.before is None:
                    ch.after.setdefault("vm-mac-address", self.mac("vm-mac-address", ch.id, ch.after))
                    ch.after.setdefault("dynamic-mac-address", self.mac("dynamic-mac-address", ch.id, ch.after))
        if touched:
            self.sim.save()

    def mac(self, prop: str, item_id: str, item: Dict[str, Any]) -> str:
        """A MAC address of an interface: the one set, else the one drawn for it when it was made."""
        return item.get(prop) or self.sim.mac(prop, item_id)

    def _apply_machine(self, ch: Change) -> bool:
        if ch.after is None:
            self._vms().pop(ch.id, None)
            self._close_guest(ch.id)
            self._put_aside(ch.id)
            return True
        if ch.before is None:
            if getattr(self.sim, "host", None) is not None:
                raise RouterError("a virtual machine cannot run virtual machines of its own", "denied")
            self._bring_back(ch.id)
        m = self.router.menu("/metarouter")
        after = self.router.view(m, dict(ch.after, **{".id": ch.id}), runtime=False)
        if ch.before is None or ch.before.get("disabled") and not after.get("disabled"):
            self._vms()[ch.id] = {"mode": "up", "kind": "boot", "t": self.sim.now(),
                                  "acc": self._record(ch.id).get("acc", 0.0) if ch.before else 0.0}
            if ch.before is not None:
                self.sim.log("system,info", "metarouter %s started" % after.get("name"))
            return True
        size = after.get("disk-size")
        if isinstance(size, int) and size and ch.before.get("disk-size") != size:
            used = self.used_disk(dict(after, **{"disk-size": "unlimited"}))
            if size < used:
                raise RouterError("disk-size: %dkiB is less than the %dkiB the virtual machine uses" % (size, used),
                                  "argument", "disk-size")
        if not after.get("disabled") and any(ch.before.get(k) != ch.after.get(k) for k in UNITS) \
                and self.state(after) != "stopped":
            self._transition(ch.id, "up", "reboot")
            return True
        return False

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/metarouter":
            rec = self._record(view[".id"])
            run = self._run_seconds(rec, self.sim.now())
            return {"state": self.state(view), "used-disk": self.used_disk(view),
                    "disk-reads": 40 + int(run * 3), "disk-writes": 12 + int(run * 1.5)}
        if path != "/metarouter/interface":
            return {}
        active = self._vm_up(view.get("virtual-machine")) and not view.get("disabled")
        host_mac = self.mac("dynamic-mac-address", view[".id"], view)
        return {"active": active, "running": active and view.get("type") == "dynamic", "mtu": 1500,
                "mac-address": host_mac, "dynamic-mac-address": host_mac,
                "vm-mac-address": self.mac("vm-mac-address", view[".id"], view)}

    def _vm_up(self, vm_id: Any) -> bool:
        vm = self.router.store.get(vm_id) if isinstance(vm_id, str) else None
        if vm is None:
            return False
        return self.state(self.router.view(self.router.menu("/metarouter"), vm, runtime=False)) in (
            "booting", "running", "rebooting")

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        """A dynamic interface with a dynamic-bridge is a port of it while its machine is up."""
        if path != "/interface/bridge/port":
            return []
        out = []
        for it in self.router.store.items("/metarouter/interface"):
            bridge = it.get("dynamic-bridge")
            if it.get("type", "dynamic") == "dynamic" and bridge not in (None, "none") and not it.get("disabled") \
                    and self._vm_up(it.get("virtual-machine")):
                out.append({".id": "*%X" % (0x7C000000 | (self.sim.rand("mr-port", it[".id"]) & 0xFFFFFF)),
                            "interface": it[".id"], "bridge": bridge})
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path != "/metarouter":
            return None
        if name == "import-image":
            return self._import_image(args)
        m = self.router.menu(path)
        it = self.router.store.get(item_id or "")
        if it is None or self.router.store.path_of(item_id) != path:
            raise RouterError("no such virtual machine (%s)" % item_id, "missing")
        view = self.router.view(m, it, runtime=False)
        vm = view.get("name") or item_id
        state = self.state(view)
        if state == "disabled" and name != "console":
            raise RouterError("%s is disabled; enable it first" % vm, "conflict")
        if name == "start":
            if state not in ("stopped", "shutting-down"):
                raise RouterError("%s is already %s" % (vm, state), "conflict")
            self._transition(item_id, "up", "boot")
            self.sim.log("system,info", "metarouter %s started" % vm)
        elif name == "shut-down":
            if state in ("stopped", "shutting-down"):
                raise RouterError("%s is already %s" % (vm, state), "conflict")
            self._transition(item_id, "down", "shutdown")
            self.sim.log("system,info", "metarouter %s shut down" % vm)
        elif name == "reboot":
            if state in ("stopped", "shutting-down"):
                raise RouterError("%s is %s; use start" % (vm, state), "conflict")
            self._transition(item_id, "up", "reboot")
            self.sim.log("system,info", "metarouter %s rebooted" % vm)
        elif name == "console":
            return self._console(item_id, view, state, args.get("command"))
        else:
            return None
        self.sim.save()
        return iter(())

    # -- import-image --------------------------------------------------------------
    def _import_image(self, args: Dict[str, Any]) -> Iterator[Dict[str, str]]:
        vm_id = args.get("virtual-machine")
        if vm_id is None:
            vms = self.router.store.items("/metarouter")
            if len(vms) != 1:
                raise RouterError("virtual-machine: must be given (%s)" % (
                    "there are several virtual machines" if vms else "there is no virtual machine yet"),
                    "argument", "virtual-machine")
            vm_id = vms[0][".id"]
        fname = args["file-name"]
        path = self._file(fname)
        if path is None:
            raise RouterError("file-name: no such file (%s); upload the image first" % fname, "argument",
                              "file-name")
        if not (fname.endswith(".tgz") or fname.endswith(".tar.gz")):
            raise RouterError("file-name: %s is not an image (.tgz)" % fname, "argument", "file-name")
        self._transition(vm_id, "up", "reboot")
        rec = self._vms()[vm_id]
        rec["image"] = os.path.basename(fname)
        rec["image-kib"] = max(1, os.path.getsize(path) // 1024)
        rec["acc"] = 0.0
        self._close_guest(vm_id)
        self.sim.log("system,info", "metarouter %s: image %s imported" % (self.router.name_of(vm_id), fname))
        self.sim.save()
        return iter([{"imported": "100%"}])

    def _file(self, name: str) -> Optional[str]:
        """An uploaded file: under STATE/files/ (or an absolute path)."""
        if os.path.isabs(name):
            return name if os.path.isfile(name) else None
        base = self.router.state_dir
        if not base or ".." in name.split("/"):
            return None
        path = os.path.join(base, "files", name)
        return path if os.path.isfile(path) else None

    # -- guests ----------------------------------------------------------------------
    def _guest_dir(self, vm_id: str) -> Optional[str]:
        base = self.router.state_dir
        return os.path.join(base, "metarouter", vm_id.lstrip("*")) if base else None

    def _put_aside(self, vm_id: str) -> None:
        d = self._guest_dir(vm_id)
        if d and os.path.isdir(d):
            aside = d + ".removed"
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(d, aside)

    def _bring_back(self, vm_id: str) -> None:
        d = self._guest_dir(vm_id)
        if d and os.path.isdir(d + ".removed") and not os.path.exists(d):
            os.replace(d + ".removed", d)

    def _close_guest(self, vm_id: str) -> None:
        guest = self.guests.pop(vm_id, None)
        if guest is not None:
            guest.close()

    def guest(self, vm_id: str) -> Any:
        """The guest router of a machine, opened if need be, its ports in line with its interfaces."""
        guest = self.guests.get(vm_id)
        if guest is None:
            from ...router import Router
            guest = Router(self._guest_dir(vm_id), driver="sim", seed=self.sim.rand("guest", vm_id) & 0x7FFFFFFF,
                           clock=self.router.clock)
            guest.driver.host = self.sim
            self.guests[vm_id] = guest
        self._sync_ports(vm_id, guest)
        return guest

    def _sync_ports(self, vm_id: str, guest: Any) -> None:
        """The guest's ethernet ports are this machine's interfaces, in order."""
        ifaces = [it for it in self.router.store.items("/metarouter/interface") if it.get("virtual-machine") == vm_id]
        ethers = {it.get("default-name"): it for it in guest.store.items("/interface/ethernet")}
        names = {it.get("name") for it in guest.store.items("/interface/ethernet")}
        changes = []
        for n, it in enumerate(ifaces, 1):
            port = "ether%d" % n
            mac = self.mac("vm-mac-address", it[".id"], it)
            have = ethers.pop(port, None)
            if have is None:
                name = port if port not in names else "%s-vm" % port
                changes.append(Change("/interface/ethernet", guest.store.new_id(), None,
                                      {"name": name, "default-name": port, "mac-address": mac, ".factory": port}))
            elif have.get("mac-address") != mac:
                before = {k: v for k, v in have.items() if k != ".id"}
                changes.append(Change("/interface/ethernet", have[".id"], before, dict(before, **{"mac-address": mac})))
        for port, have in ethers.items():
            if not guest.users_of(have[".id"]):
                before = {k: v for k, v in have.items() if k != ".id"}
                pos = guest.store.position("/interface/ethernet", have[".id"])
                changes.append(Change("/interface/ethernet", have[".id"], before, None, pos, None))
        if changes:
            guest.store.apply(changes, note="metarouter ports", record=False)

    def _console(self, vm_id: str, view: Dict[str, Any], state: str, command: Optional[str]) -> ConsoleSession:
        vm = view.get("name") or vm_id
        if state in ("stopped", "shutting-down", "disabled"):
            raise RouterError("%s is %s; start it first" % (vm, state), "conflict")
        if self._record(vm_id).get("image"):
            raise RouterError("%s runs an imported image (%s); the simulator has a console only for RouterOS "
                              "guests" % (vm, self._record(vm_id)["image"]), "general")
        guest = self.guest(vm_id)
        banner = ["", "[Ctrl-A is the prefix key]"]
        if state != "running":
            banner += ["Starting...", "Starting services..."]
        banner += [""]
        return ConsoleSession(guest, vm, command, banner)

    def stop(self) -> None:
        for vm_id in list(self.guests):
            self._close_guest(vm_id)
