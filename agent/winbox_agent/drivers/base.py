"""The interface every driver implements."""

from typing import Any, Dict, Iterator, List, Optional

from ..errors import RouterError
from ..store import Change


class Driver:
    """Reconciles desired state onto a system.

    ``apply`` receives the changes of one revision before it is committed; it
    either makes the system match all of them or raises :class:`RouterError`
    having put the system back as it was.  Items in changes are stored items
    (explicit values only); ``router.view`` gives defaults and derived values.
    """

    name = "base"

    def __init__(self, router: Any):
        self.router = router

    def start(self) -> None:
        """Called once the configuration is loaded: bring the system in line."""

    def stop(self) -> None:
        """Release resources."""

    def factory(self, changes: List[Change]) -> None:
        """Add driver-specific values to the factory configuration (MACs, ids)."""

    def apply(self, changes: List[Change]) -> None:
        """Make the system match; raise RouterError (system unchanged) to refuse."""

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        """Live read-only values of one item (running, counters, state)."""
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        """Items the system creates itself (connected routes, active sessions)."""
        return []

    def dynamic_name(self, item_id: str) -> Optional[str]:
        """The name of an item the system made (a host interface the
        configuration does not know), so references to it work; None if
        ``item_id`` is no such item."""
        return None

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """Rows of a menu command.  ``next()`` never blocks: it gives the current
        sample at once, or ``None`` while slow work (a discovery round) runs in
        the driver's own thread; the caller paces and polls."""
        raise RouterError("%s is not supported by the %s driver" % (name, self.name), "missing")
