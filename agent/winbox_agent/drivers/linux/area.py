"""Base of the linux driver's areas (links, addresses, routes, firewall...).

Each area makes one part of the system match the configuration
(``reconcile``), reports live values (``runtime``), lists what the system
has that the configuration does not (``dynamic``) and runs menu commands.
What an area put on the system is remembered in its ledger (persisted with
the driver's state), so that what the configuration no longer wants can be
taken away again, even after a restart, without touching anything the
agent did not create.
"""

import zlib
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...store import Change
from .config import Snapshot
from .journal import Journal


def dynamic_id(kind: str, key: str) -> str:
    """A stable id for an item the system has and the configuration does not
    (never one the store hands out: those count up from ``*1``)."""
    return "*%X" % (0xD0000000 | (zlib.crc32(("%s|%s" % (kind, key)).encode()) & 0x0FFFFFFF))


class Pass:
    """One reconciliation of the system with a configuration.

    Attributes:
        snap: the configuration to reach.
        journal: undo log of what this pass changed.
        strict: a failure refuses the change (apply) rather than being
            logged and skipped (start).
        problems: item id -> why the host cannot do what the item asks (the
            item does not work: flagged invalid).
        notices: item id -> how the item works differently here than asked
            (it works; the difference is reported).
        failures: what failed in a lenient pass (area, message).
    """

    def __init__(self, snap: Snapshot, journal: Journal, strict: bool):
        self.snap = snap
        self.journal = journal
        self.strict = strict
        self.problems: Dict[str, str] = {}
        self.notices: Dict[str, str] = {}
        self.failures: List[Tuple[str, str]] = []

    def problem(self, item_id: str, reason: str) -> None:
        if item_id not in self.problems:
            self.problems[item_id] = reason

    def notice(self, item_id: str, reason: str) -> None:
        if item_id not in self.notices:
            self.notices[item_id] = reason


class Area:
    """One area of the system.

    Attributes:
        driver: the LinuxDriver (host, system state, ledger, log).
        paths: menus this area answers for (runtime, dynamic, commands).
        key: the name of its ledger.
    """

    paths: Tuple[str, ...] = ()
    key = ""

    def __init__(self, driver: Any):
        self.driver = driver
        self.router = driver.router
        self.host = driver.host
        self.system = driver.system

    @property
    def ledger(self) -> Dict[str, Any]:
        """What this area put on the system, by item id (or other key)."""
        return self.driver.ledger(self.key or type(self).__name__.lower())

    def factory(self, changes: List[Change]) -> None:
        """Fill in host-specific factory values."""

    def prepare(self, changes: List[Change]) -> None:
        """Fill in values the system chooses (MAC addresses) in a revision's new items."""

    def reconcile(self, p: Pass) -> None:
        """Make the system match ``p.snap``; record undo steps in ``p.journal``."""

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        return []

    def command(self, path: str, name: str, item_id: Optional[str],
                args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        return None

    def system_names(self) -> Dict[str, str]:
        """Item id -> system interface name, for interfaces whose system name
        is not their configured name (a ZeroTier network's device)."""
        return {}

    def internal_links(self) -> List[str]:
        """Links this area made that are not interfaces of the configuration."""
        return []

    def stop(self) -> None:
        """Release what this process holds (not what runs on the system)."""
