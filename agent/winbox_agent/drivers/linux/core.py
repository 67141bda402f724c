"""The linux driver: the configuration applied to a real Linux router.

Every revision is reconciled onto the system before it is committed: each
area (links, addresses, routes, firewall, tunnels...) compares what the new
configuration asks for with what the system has and changes only the
difference, recording how to undo every step.  If a step fails, the steps
already done are undone, the system is reconciled back to the configuration
that is still committed, and the change is refused with the reason.  At
start the saved configuration is reconciled onto the system the same way.

What the host cannot do (a missing program or kernel feature) does not
refuse a change: the items concerned are flagged invalid with the reason
(``.problem``) and the reason goes to ``/log``.

The driver keeps its own state in ``STATE/linux.json``: the ledgers of what
each area put on the system, the device log, and notes.
"""

import copy
import json
import os
import time
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...store import Change, load_json, write_atomic
from ..base import Driver
from .area import Area, Pass
from .cmd import Host, Missing
from .config import Snapshot
from .journal import Journal
from .sysstate import SystemState

STATE_FILE = "linux.json"
LOG_KEEP = 1000
RESETTLE_SECONDS = 30.0


class LinuxDriver(Driver):
    """Applies the configuration to this Linux system (or a network namespace).

    Attributes:
        host: runs the commands (in ``netns`` for a MetaROUTER guest).
        system: cached readings of the system's links, addresses, routes.
        areas: the areas, in the order a reconciliation visits them.
        problems: item id -> why the host cannot do what the item asks.
        state: persisted ledgers, log and notes.
        guest_of: the host's driver when this one runs a MetaROUTER guest.
    """

    name = "linux"

    def __init__(self, router: Any, netns: Optional[str] = None, guest_of: Any = None):
        super().__init__(router)
        self.host = Host(netns)
        self.netns = netns
        self.guest_of = guest_of
        self.system = SystemState(self.host)
        self.path = os.path.join(router.state_dir, STATE_FILE) if router.state_dir else None
        self.state: Dict[str, Any] = load_json(self.path, {}) if self.path else {}
        for key, empty in (("ledger", {}), ("log", []), ("notes", {}), ("names", {})):
            self.state.setdefault(key, empty)
        self.state.setdefault("log_seq", len(self.state["log"]))
        self.problems: Dict[str, str] = {}
        self.notices: Dict[str, str] = {}
        self._reported: Dict[str, str] = dict(self.state.get("reported", {}))
        self._last_applied: Optional[List[Change]] = None
        self._settled = time.monotonic()
        self._settling = False
        self.areas: List[Area] = [cls(self) for cls in area_classes()]
        self.links = self.area("links")
        router.listeners.append(self._committed)

    # -- helpers -------------------------------------------------------------------
    def area(self, key: str) -> Any:
        return next(a for a in self.areas if a.key == key)

    def ledger(self, key: str) -> Dict[str, Any]:
        return self.state["ledger"].setdefault(key, {})

    def notes(self, key: str) -> Dict[str, Any]:
        return self.state["notes"].setdefault(key, {})

    def run_dir(self) -> str:
        """Where daemons' configuration, pid and log files go (STATE/linux/)."""
        base = self.router.state_dir or "/run/winbox-agent"
        d = os.path.join(base, "linux")
        os.makedirs(d, mode=0o700, exist_ok=True)
        return d

    def save(self) -> None:
        if self.path:
            self.state["reported"] = self._reported
            write_atomic(self.path, json.dumps(self.state, sort_keys=True).encode())

    def now(self) -> float:
        return self.router.clock()

    def log(self, topics: str, message: str) -> None:
        """Append a line to the device log (``/log``)."""
        self.state["log_seq"] += 1
        self.state["log"].append({"id": self.state["log_seq"], "time": self.now(), "topics": topics,
                                  "message": message})
        if len(self.state["log"]) > LOG_KEEP:
            del self.state["log"][: len(self.state["log"]) - LOG_KEEP]
        self.save()

    def log_entries(self) -> List[Dict[str, Any]]:
        return list(self.state["log"])

    def dynamic_name(self, item_id: str) -> Optional[str]:
        """The name of a host interface the configuration does not know (by its dynamic id)."""
        return self.links.dynamic_name(item_id)

    # -- reconciling ------------------------------------------------------------------
    def _pass(self, snap: Snapshot, strict: bool) -> Pass:
        journal = Journal(self.host, on_change=self.system.invalidate)
        p = Pass(snap, journal, strict)
        ledger_before = copy.deepcopy(self.state["ledger"])
        self.system.invalidate()
        for area in self.areas:
            try:
                area.reconcile(p)
            except Missing as exc:
                p.failures.append((area.key, exc.reason))
            except RouterError as exc:
                if strict:
                    undone = journal.rollback()
                    self.state["ledger"] = ledger_before
                    self.system.invalidate()
                    self._restore()
                    msg = exc.message
                    if undone:
                        msg += " (and could not undo everything: %s)" % "; ".join(undone)
                    raise RouterError(msg, "driver", exc.prop) from None
                p.failures.append((area.key, exc.message))
        return p

    def _restore(self) -> None:
        """After a refused change: the system as the committed configuration says."""
        try:
            self._pass(Snapshot(self.router, links=self.links), strict=False)
        except RouterError:
            pass

    def _finish(self, p: Pass) -> None:
        self.problems = p.problems
        self.notices = p.notices
        reported = {}
        for topics, found in (("system,error", p.problems), ("system,warning", p.notices)):
            for item_id, reason in found.items():
                key = "%s|%s" % (topics, item_id)
                reported[key] = reason
                if self._reported.get(key) != reason:
                    self.log(topics, "%s: %s" % (self._item_words(p, item_id), reason))
        for area, message in p.failures:
            key = "failure|%s" % area
            reported[key] = message
            if self._reported.get(key) != message:
                self.log("system,error", "%s: %s" % (area, message))
        self._reported = reported
        self._settled = time.monotonic()
        self.save()

    def _resettle(self) -> None:
        """A long-running agent (the daemon) reconciles now and then by itself:
        routes whose gateway became reachable, daemons that died."""
        if time.monotonic() - self._settled > RESETTLE_SECONDS and not self._settling:
            self._settling = True
            try:
                self.start()
            finally:
                self._settling = False

    def _item_words(self, p: Pass, item_id: str) -> str:
        """An item as a person names it: its menu's words and its name."""
        path = p.snap.path_of(item_id) or self.router.store.path_of(item_id)
        if path is None:
            return item_id
        words = " ".join(w for w in path.split("/") if w)
        m = self.router.schema[path]
        if m.single:
            return words
        view = p.snap.get(item_id)
        name = self.router.name_of(item_id, view, m) if view is not None else self.router.name_of(item_id)
        return "%s %s" % (words, name)

    def start(self) -> None:
        self._finish(self._pass(Snapshot(self.router, links=self.links), strict=False))

    def reconcile(self) -> None:
        """Bring the system in line with the committed configuration again."""
        self.start()

    def apply(self, changes: List[Change]) -> None:
        for area in self.areas:
            area.prepare(changes)
        snap = Snapshot(self.router, changes, links=self.links)
        p = self._pass(snap, strict=True)
        self._last_applied = changes
        self._finish(p)

    def _committed(self, revision: int, changes: List[Change]) -> None:
        """Values the router records itself (license level) bypass ``apply``."""
        if changes is self._last_applied:
            return
        self._finish(self._pass(Snapshot(self.router, links=self.links), strict=False))

    def factory(self, changes: List[Change]) -> None:
        for area in self.areas:
            area.factory(changes)

    def stop(self) -> None:
        for area in self.areas:
            area.stop()
        if self._committed in self.router.listeners:
            self.router.listeners.remove(self._committed)

    # -- reading ------------------------------------------------------------------------
    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        self._resettle()
        m = self.router.schema[path]
        out: Dict[str, Any] = {}
        try:
            if m.interface_type:
                out.update(self.links.interface_runtime(path, view))
            for area in self.areas:
                if path in area.paths:
                    out.update(area.runtime(path, view))
        except Missing:
            pass
        except RouterError as exc:
            out.setdefault(".problem", exc.message)
        notice = self.notices.get(view.get(".id", ""))
        if notice:
            out[".notice"] = notice
        problem = self.problems.get(view.get(".id", ""))
        if problem:
            out["invalid"] = True
            out[".problem"] = problem
            if m.interface_type or m.prop("running") is not None:
                out["running"] = False
        return out

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        self._resettle()
        out: List[Dict[str, Any]] = []
        for area in self.areas:
            if path in area.paths:
                try:
                    out.extend(area.dynamic(path))
                except (Missing, RouterError):
                    pass
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        for area in self.areas:
            if path in area.paths:
                try:
                    rows = area.command(path, name, item_id, args)
                except Missing as exc:
                    raise RouterError("%s: %s" % (name, exc.reason), "driver") from None
                if rows is not None:
                    return rows
        raise RouterError("%s is not supported by the linux driver" % name, "missing")


def area_classes() -> list:
    """Every area, in the order a reconciliation visits them: links first,
    then what is made on them, addresses, routes, then the firewall."""
    from .addresses import Addresses
    from .dns import Dns
    from .firewall import Firewall
    from .l2tp import L2tpClients
    from .links import Links, Ports
    from .metarouter import MetaRouter
    from .openvpn import OpenVpn
    from .ppp import Ppp
    from .pptp import PptpClients
    from .routes import Routes
    from .shaping import Shaping
    from .sstp import SstpClients
    from .system import System
    from .wireguard import WireGuard
    from .zerotier import ZeroTier
    return [Links, WireGuard, MetaRouter, OpenVpn, Ppp, L2tpClients, PptpClients, SstpClients, ZeroTier, Ports,
            Addresses, Routes, Firewall, Dns, Shaping, System]
