"""Base of the sim's per-area behaviours (PPP, ZeroTier, MetaROUTER, system...)."""

from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...store import Change


class Behaviour:
    """One area of the simulated device.

    Attributes:
        sim: the SimDriver (clock, seed, helpers, persisted sim state).
        paths: the menu paths this behaviour answers for (runtime, dynamic, commands).
    """

    paths: Tuple[str, ...] = ()

    def __init__(self, sim: Any):
        self.sim = sim
        self.router = sim.router

    def factory(self, changes: List[Change]) -> None:
        """Fill in device-specific factory values."""

    def apply(self, changes: List[Change]) -> None:
        """See a revision before it is committed; raise RouterError to refuse it."""

    def settle(self) -> None:
        """Record what happened by time passing alone (log lines of links coming up)."""

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        return []

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        """Rows of formatted strings, or None when this behaviour does not know the command."""
        return None
