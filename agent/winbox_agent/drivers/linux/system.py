"""/system resource, /system license and /log on a Linux host.

Resources are the host's own (``/proc``, ``os.statvfs``, ``uname``).  The
license's system-id is drawn from ``/etc/machine-id`` at factory time;
``renew`` and the renewal schedule are the license client's
(:mod:`winbox_agent.license`).  ``/log`` is the driver's device log.
"""

import base64
import hashlib
import os
import platform
import secrets
from typing import Any, Dict, Iterator, List, Optional

from ... import __version__
from ...errors import RouterError
from ...license import LicenseClient
from ...store import Change
from .area import Area

LICENSE = "/system/license"
GENERATE_REFUSED = ("generate-new-id is allowed only on the free license level: this router has a %s license, and "
                    "with a new ID its key could not be updated any more")


def _meminfo() -> Dict[str, int]:
    out = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[key] = int(parts[0]) * 1024
    except OSError:
        pass
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_mhz() -> Optional[int]:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":", 1)[1]))
    except (OSError, ValueError):
        pass
    return None


def system_id(seed: str) -> str:
    """An 11-character ID like those the account server lists."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()[:9]).decode()[:11]


class System(Area):
    """The host's resources, the license record and the device log."""

    key = "system"
    paths = ("/system/resource", LICENSE, "/log")

    def __init__(self, driver: Any):
        super().__init__(driver)
        self._cpu_sample: Optional[tuple] = None
        self.license = LicenseClient(driver)

    def factory(self, changes: List[Change]) -> None:
        try:
            with open("/etc/machine-id") as fh:
                seed = fh.read().strip()
        except OSError:
            seed = secrets.token_hex(16)
        seed += "|" + (self.router.state_dir or "")
        for ch in changes:
            if ch.path == LICENSE and ch.after is not None:
                ch.after.setdefault("system-id", system_id(seed))

    def _cpu_load(self) -> int:
        try:
            with open("/proc/stat") as fh:
                fields = [int(x) for x in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return 0
        idle, total = fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields)
        last, self._cpu_sample = self._cpu_sample, (idle, total)
        if last is None or total == last[1]:
            try:
                return min(100, int(os.getloadavg()[0] * 100 / (os.cpu_count() or 1)))
            except OSError:
                return 0
        return max(0, min(100, int(100 * (1 - (idle - last[0]) / (total - last[1])))))

    def resource(self) -> Dict[str, Any]:
        mem = _meminfo()
        out: Dict[str, Any] = {
            "version": "winbox-agent %s (linux)" % __version__, "build-time": "", "factory-software": __version__,
            "cpu": _cpu_model(), "cpu-count": os.cpu_count() or 1, "cpu-frequency": _cpu_mhz(),
            "cpu-load": self._cpu_load(), "architecture-name": platform.machine(),
            "board-name": platform.node() or "Linux", "platform": "Linux",
            "total-memory": mem.get("MemTotal"), "free-memory": mem.get("MemAvailable", mem.get("MemFree")),
        }
        try:
            with open("/proc/uptime") as fh:
                out["uptime"] = int(float(fh.read().split()[0]))
        except (OSError, ValueError):
            pass
        try:
            st = os.statvfs(self.router.state_dir or "/")
            out["total-hdd-space"] = st.f_blocks * st.f_frsize
            out["free-hdd-space"] = st.f_bavail * st.f_frsize
        except OSError:
            pass
        return out

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if path == "/system/resource":
            return self.resource()
        if path == LICENSE:
            return self.license.runtime(view)
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path != "/log":
            return []
        self.license.settle()           # a renewal whose stream was closed early has ended
        return [{".id": "*%X" % e["id"], "time": e["time"], "topics": e["topics"], "message": e["message"],
                 ".dynamic": False} for e in self.driver.log_entries()]

    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path != LICENSE:
            return None
        m = self.router.menu(LICENSE)
        lic = self.router.view(m, self.router.store.items(LICENSE)[0], runtime=False)
        if name == "generate-new-id":
            if lic.get("level") != "free":
                raise RouterError(GENERATE_REFUSED % lic.get("level"), "denied")
            new = system_id(secrets.token_hex(16))
            self.router.set_readonly(LICENSE, lic[".id"], {"system-id": new}, note="generate new system id")
            self.driver.log("system,info", "license: new system-id %s" % new)
            return iter(())
        if name == "renew":
            return self.license.renew(args)
        return None
