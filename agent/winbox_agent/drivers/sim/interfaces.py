"""Ethernet ports and generic interface state of the simulated device."""

from typing import Any, Dict, List

from ...store import Change
from .behaviour import Behaviour


class Interfaces(Behaviour):
    paths = ("/interface/ethernet",)

    def factory(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path == "/interface/ethernet" and ch.after is not None:
                ch.after.setdefault("mac-address", self.sim.mac(ch.after.get("default-name")))


class MetaRouter(Behaviour):
    paths = ("/metarouter",)

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        up = self.sim.uptime(view[".id"])
        if view.get("disabled"):
            return {"state": "disabled"}
        if up is None or up < 3:
            return {"state": "booting"}
        return {"state": "running"}
