"""/system resource and license, and /log, on the simulated device (a CHR).

Resources move deterministically with the clock: uptime counts from the sim's
boot, the CPU load wanders between samples drawn from the seed (plus what
running virtual machines add), memory and disk shrink with the virtual
machines.  The license starts at level free with a system-id drawn from the
seed; ``renew`` and the renewal schedule are the license client's
(:mod:`winbox_agent.license`), which talks to a real account server
(``license-server``) and checks its keys (``license-server-key``).
"""

import base64
import hashlib
import math
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...license import LicenseClient
from ...store import Change
from .behaviour import Behaviour

TOTAL_MEMORY = 1024 << 20          # the 1024 MiB the CHR document recommends
BASE_USED_MEMORY = 168 << 20
TOTAL_HDD = 128 << 20              # a CHR virtual disk
BASE_USED_HDD = 41 << 20
FACTS = {
    "version": "7.16.2 (stable)",
    "build-time": "2024-11-26 12:53:50",
    "factory-software": "7.1",
    "cpu": "QEMU Virtual CPU version 2.5+",
    "cpu-count": 2,
    "cpu-frequency": 2400,
    "architecture-name": "x86_64",
    "board-name": "CHR",
    "platform": "MikroTik",
    "total-memory": TOTAL_MEMORY,
    "total-hdd-space": TOTAL_HDD,
}
GENERATE_REFUSED = ("generate-new-id is allowed only on the free license level: this router has a %s license, and "
                    "with a new ID its key could not be updated any more")


def system_id(seed: Any, generation: int) -> str:
    """An 11-character ID like those the account server lists (``aBC/Giu1dPL``)."""
    digest = hashlib.sha256(("%s|system-id|%d" % (seed, generation)).encode()).digest()
    return base64.b64encode(digest[:9]).decode()[:11]


class System(Behaviour):
    """Resources, license and log of the simulated device."""

    paths = ("/system/resource", "/system/license", "/log")

    def __init__(self, sim: Any):
        super().__init__(sim)
        self.license = LicenseClient(sim)

    def factory(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path == "/system/license" and ch.after is not None:
                ch.after.setdefault("system-id", system_id(self.sim.seed, 0))

    # -- resources -----------------------------------------------------------------
    def _metarouter(self) -> Any:
        return next((b for b in self.sim.behaviours if hasattr(b, "running_memory_mib")), None)

    def cpu_load(self, now: float) -> int:
        """Percent: samples drawn per 5 s from the seed, eased between, plus the machines' share."""
        step = now / 5.0
        k = math.floor(step)
        a = self.sim.rand("cpu", k) % 9
        b = self.sim.rand("cpu", k + 1) % 9
        frac = step - k
        ease = (1 - math.cos(math.pi * frac)) / 2
        load = 1 + a + (b - a) * ease
        mr = self._metarouter()
        if mr is not None:
            load += mr.running_memory_mib() // 32
        return max(0, min(100, int(round(load))))

    def resource(self) -> Dict[str, Any]:
        now = self.sim.now()
        boot = self.sim.boot if self.sim.boot is not None else now
        out = dict(FACTS)
        mr = self._metarouter()
        vm_mem = (mr.running_memory_mib() << 20) if mr is not None else 0
        vm_disk = (mr.disk_kib() << 10) if mr is not None else 0
        wobble = (self.sim.rand("mem", int(now // 10)) % 4096) << 10
        out["uptime"] = int(max(0.0, now - boot))
        out["free-memory"] = max(0, TOTAL_MEMORY - BASE_USED_MEMORY - vm_mem - wobble)
        out["free-hdd-space"] = max(0, TOTAL_HDD - BASE_USED_HDD - vm_disk)
        out["cpu-load"] = self.cpu_load(now)
        return out

    # -- driver hooks ----------------------------------------------------------------
    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/system/resource":
            return self.resource()
        if path == "/system/license":
            return self.license.runtime(view)
        return {}

    def settle(self) -> None:
        self.license.settle()           # a renewal whose stream was closed early has ended

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path != "/log":
            return []
        return [{".id": "*%X" % e["id"], "time": e["time"], "topics": e["topics"], "message": e["message"],
                 ".dynamic": False} for e in self.sim.log_entries()]

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path != "/system/license":
            return None
        if name == "generate-new-id":
            return self._generate_new_id()
        if name == "renew":
            return self.license.renew(args)
        return None

    # -- license -----------------------------------------------------------------------
    def _license(self) -> Dict[str, Any]:
        m = self.router.menu("/system/license")
        return self.router.view(m, self.router.store.items(m.path)[0])

    def _generate_new_id(self) -> Iterator[Dict[str, str]]:
        lic = self._license()
        if lic.get("level") != "free":
            raise RouterError(GENERATE_REFUSED % lic.get("level"), "denied")
        notes = self.sim.notes.setdefault("license", {})
        notes["generation"] = notes.get("generation", 0) + 1
        new = system_id(self.sim.seed, notes["generation"])
        self.router.set_readonly("/system/license", lic[".id"], {"system-id": new}, note="generate new system id")
        self.sim.log("system,info", "license: new system-id %s" % new)
        return iter(())
