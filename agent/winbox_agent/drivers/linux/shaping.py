"""License levels as egress limits: a ``tbf`` root qdisc on every interface
of the configuration (free 1 Mbit/s, p1 1 Gbit/s, p10 10 Gbit/s,
p-unlimited none), as the CHR document limits upload per interface.

The agent's qdiscs have their own handle (:data:`HANDLE`); removing one
(level p-unlimited, interface gone) brings back the kernel's default
queueing.  Interfaces the configuration does not know are not limited.
"""

from typing import Any, Dict, List, Optional

from .area import Area, Pass

LICENSE = "/system/license"
HANDLE = "7762:"
RATES = {"free": 1000000, "p1": 1000000000, "p10": 10000000000, "p-unlimited": None}
LATENCY = "50ms"


def rate_of(level: Optional[str]) -> Optional[int]:
    """Bits per second of a license level (None: unlimited)."""
    return RATES.get(level or "free", RATES["free"])


def burst_of(bits: int) -> int:
    """Bytes a tbf may send at once: 10 ms worth, at least 16 KiB."""
    return max(16384, bits // 8 // 100)


class Shaping(Area):
    """Egress limits per interface from /system/license level."""

    key = "shaping"
    paths = ()

    def _qdiscs(self) -> Dict[str, Dict[str, Any]]:
        rows = self.host.json(["tc", "-j", "qdisc", "show"])
        return {r.get("dev"): r for r in rows if r.get("root")}

    def _args(self, dev: str, bits: int) -> List[str]:
        return ["tc", "qdisc", "replace", "dev", dev, "root", "handle", HANDLE, "tbf", "rate", "%dbit" % bits,
                "burst", str(burst_of(bits)), "latency", LATENCY]

    def reconcile(self, p: Pass) -> None:
        if self.driver.guest_of is not None:
            return      # a MetaROUTER guest is limited by its host's interfaces
        bits = rate_of(p.snap.single(LICENSE).get("level"))
        names = []
        for path in p.snap.interface_paths():
            for view in p.snap.rows(path):
                name = p.snap.ifname(view[".id"])
                if name and self.system.link(name) is not None:
                    names.append(name)
        ledger = self.ledger
        shaped = set(ledger.get("devs", []))
        if not names and not shaped:
            return
        if self.host.which("tc") is None:
            return
        qdiscs = self._qdiscs()
        for dev in set(names) | shaped:
            if self.system.link(dev) is None:
                continue
            root = qdiscs.get(dev) or {}
            ours = root.get("handle") == HANDLE and root.get("kind") == "tbf"
            have = int((root.get("options") or {}).get("rate", 0)) * 8 if ours else None
            want = bits if dev in names else None
            if want == have:
                continue
            back = self._args(dev, have) if ours and have else ["tc", "qdisc", "del", "dev", dev, "root"]
            if want is None:
                if ours:
                    p.journal.run(["tc", "qdisc", "del", "dev", dev, "root"], undo=back)
            else:
                p.journal.run(self._args(dev, want), undo=back if ours else ["tc", "qdisc", "del", "dev", dev, "root"])
        ledger["devs"] = sorted(names) if bits is not None else []
