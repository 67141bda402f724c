"""Ethernet ports of the simulated device."""

from typing import List

from ...store import Change
from .behaviour import Behaviour


class Interfaces(Behaviour):
    """Gives every factory ethernet port a MAC address drawn from the seed."""

    paths = ("/interface/ethernet",)

    def factory(self, changes: List[Change]) -> None:
        for ch in changes:
            if ch.path == "/interface/ethernet" and ch.after is not None:
                ch.after.setdefault("mac-address", self.sim.mac(ch.after.get("default-name")))
