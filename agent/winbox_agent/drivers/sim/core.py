"""The simulated router (a CHR-like device): the demo's and the tests' device.

It keeps nothing of the host.  Live state is derived from the configuration,
the time each item last came up (kept in ``sim.json`` beside the
configuration, so separate CLI runs agree) and a seed, so it is deterministic
when seeded.
"""

import hashlib
import os
from typing import Any, Dict, Iterator, List, Optional

from ...errors import RouterError
from ...store import Change, load_json, write_atomic
from ..base import Driver
from .behaviour import Behaviour

SIM_FILE = "sim.json"
LOG_KEEP = 1000


class SimDriver(Driver):
    """A simulated device.

    Attributes:
        seed: makes MACs, system id and counters reproducible.
        since: item id -> time it was last enabled (its uptime starts there).
        logs: the device log (``/log``), oldest first, at most LOG_KEEP entries
            ``{"id": n, "time": t, "topics": "pppoe,ppp,info", "message": "..."}``.
        notes: behaviours' own persisted state, one key per behaviour (JSON values).
    """

    name = "sim"

    def __init__(self, router: Any, seed: Optional[int] = None):
        super().__init__(router)
        self.seed = seed if seed is not None else (router.seed if router.seed is not None else 0)
        self.path = os.path.join(router.state_dir, SIM_FILE) if router.state_dir else None
        state = load_json(self.path, {}) if self.path else {}
        self.since: Dict[str, float] = state.get("since", {})
        self.boot = state.get("boot")
        self.logs: List[Dict[str, Any]] = state.get("log", [])
        self.log_seq: int = state.get("log_seq", len(self.logs))
        self.notes: Dict[str, Any] = state.get("notes", {})
        self._unsaved = False
        self.behaviours: List[Behaviour] = [cls(self) for cls in behaviour_classes()]

    # -- helpers -------------------------------------------------------------------
    def now(self) -> float:
        return self.router.clock()

    def rand(self, *parts: Any) -> int:
        h = hashlib.sha256(("%s|" % self.seed + "|".join(map(str, parts))).encode()).digest()
        return int.from_bytes(h[:8], "big")

    def mac(self, *parts: Any) -> str:
        n = self.rand("mac", *parts)
        octets = [0x02] + [(n >> (8 * i)) & 0xFF for i in range(5)]
        return ":".join("%02X" % o for o in octets)

    def _save(self) -> None:
        self._unsaved = False
        if self.path:
            import json
            write_atomic(self.path, json.dumps({"since": self.since, "boot": self.boot, "log": self.logs,
                                                "log_seq": self.log_seq, "notes": self.notes}).encode())

    def save(self) -> None:
        """Persist the sim state (``since``, log, notes) beside the configuration;
        while the store batches a script's commits, once at the end (:meth:`stop`
        or the next save after the batch)."""
        if self.router.store.batching:
            self._unsaved = True
        else:
            self._save()

    def log(self, topics: str, message: str, when: Optional[float] = None) -> None:
        """Append a line to the device log (``when`` defaults to now)."""
        self.log_seq += 1
        self.logs.append({"id": self.log_seq, "time": self.now() if when is None else when,
                          "topics": topics, "message": message})
        if len(self.logs) > LOG_KEEP:
            del self.logs[: len(self.logs) - LOG_KEEP]
        self.save()

    def log_entries(self) -> List[Dict[str, Any]]:
        """The log as it stands now: behaviours first record what happened as time passed."""
        for b in self.behaviours:
            b.settle()
        return list(self.logs)

    def uptime(self, item_id: str) -> Optional[float]:
        t = self.since.get(item_id)
        return None if t is None else max(0.0, self.now() - t)

    # -- driver interface -------------------------------------------------------------
    def start(self) -> None:
        if self.boot is None:
            self.boot = self.now()
            self._save()

    def stop(self) -> None:
        if self._unsaved:
            self._save()

    def factory(self, changes: List[Change]) -> None:
        for b in self.behaviours:
            b.factory(changes)

    def apply(self, changes: List[Change]) -> None:
        for b in self.behaviours:
            b.apply(changes)
        touched = False
        for ch in changes:
            if ch.after is None:
                touched |= self.since.pop(ch.id, None) is not None
                continue
            m = self.router.schema[ch.path]
            view = self.router.view(m, dict(ch.after, **{".id": ch.id}), runtime=False)
            up = not view.get("disabled", False) and view.get("enabled", True) is not False
            was = ch.id in self.since
            if up and (not was or (ch.before or {}) != ch.after):
                self.since[ch.id] = self.now()
                touched = True
            elif not up and was:
                del self.since[ch.id]
                touched = True
        if touched:
            self.save()

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        m = self.router.schema[path]
        out: Dict[str, Any] = {}
        if m.prop("running") is not None:
            out["running"] = not view.get("disabled", False)
        for b in self.behaviours:
            if path in b.paths:
                out.update(b.runtime(path, view))
        return out

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for b in self.behaviours:
            if path in b.paths:
                out.extend(b.dynamic(path))
        return out

    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Iterator[Dict[str, str]]:
        for b in self.behaviours:
            if path in b.paths:
                rows = b.command(path, name, item_id, args)
                if rows is not None:
                    return rows
        raise RouterError("%s is not supported by the simulated router" % name, "missing")


def behaviour_classes() -> list:
    """Every behaviour of the simulated device, in the order they are asked."""
    from .interfaces import Interfaces
    from .metarouter import MetaRouter
    from .net import Bridges, Dns, Firewall, Routes, Traffic, WireGuard
    from .ppp import Ppp
    from .system import System
    from .zerotier import ZeroTier
    # Traffic first: a later behaviour with its own counters for a path wins
    return [Traffic, Interfaces, MetaRouter, Bridges, Routes, Firewall, Dns, WireGuard, ZeroTier, System, Ppp]
