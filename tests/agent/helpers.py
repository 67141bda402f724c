"""What the agent tests share: a clock moved by hand, a CLI on a simulated
router that collects what it prints, and the error a router call raises.
(The ``clock`` and ``router`` fixtures are in conftest.py.)"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, List, Optional

import pytest

from winbox_agent.cli.shell import CliError, Interpreter
from winbox_agent.errors import RouterError
from winbox_agent.router import Router

T0 = 1_750_000_000.0

# document 004's LNS example, as written
LNS_EXAMPLE = """
/interface l2tp-server server
set enabled=yes
/ppp l2tp-secret
add address=10.155.101.216/32 secret=tunnelpass
/ip pool
add name=pool0 ranges=192.168.99.2-192.168.99.99
/ppp profile
set default local-address=192.168.99.1 remote-address=pool0
/ppp secret
add name=good_worker@mt.lv password=strongpass
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def at(self, offset: float) -> None:
        """Set the clock to ``offset`` seconds after T0."""
        self.t = T0 + offset


class Shell:
    """A CLI on a router in a state directory (None: in memory), collecting what
    it prints. ``SEED`` is the router's seed unless one is given; the clock is
    the wall clock unless one is given."""

    SEED = 7

    def __init__(self, state: Optional[Path], clock: Callable[[], float] = time.time,
                 seed: Optional[int] = None):
        self.state, self.clock = state, clock
        self.seed = self.SEED if seed is None else seed
        self.open()

    def open(self) -> None:
        self.router = Router(None if self.state is None else str(self.state), seed=self.seed, clock=self.clock)
        self.lines: List[str] = []
        self.interp = Interpreter(self.router, out=self.lines.append)

    def reopen(self) -> None:
        self.router.close()
        self.open()

    def __call__(self, script: str) -> str:
        self.lines.clear()
        self.interp.run_script(script)
        return "\n".join(self.lines)

    def json(self, command: str) -> list:
        """What ``command`` prints in JSON mode, decoded."""
        self.interp.json_mode = True
        try:
            return json.loads(self(command))
        finally:
            self.interp.json_mode = False

    def rows(self, command: str) -> list:
        return self.json(command)

    def row(self, command: str, **match: str) -> dict:
        hits = [r for r in self.json(command) if all(r.get(k) == v for k, v in match.items())]
        assert len(hits) == 1, (match, self.json(command))
        return hits[0]

    def error(self, script: str) -> str:
        with pytest.raises(CliError) as info:
            self.interp.run_script(script)
        return info.value.message


def refused(fn, *args, **kw) -> RouterError:
    """The RouterError that ``fn(*args, **kw)`` raises."""
    with pytest.raises(RouterError) as info:
        fn(*args, **kw)
    return info.value
