"""A hidden, test-only menu: ``/system/test-rows``.

Enabled only by the daemon option ``--test-rows N`` (or the environment
variable ``WINBOX_AGENT_TEST_ROWS=N``) and only for that Router, it lists N
computed rows (the flow-control tests and benchmarks print a million of them
without keeping them in memory) and has a stream command ``monitor`` whose
open iterators are counted, so tests can see on the agent's side that a
cancelled stream really stopped (``not-ready=N`` makes it answer "no sample
yet" N times first, as a driver doing slow work in its own thread does).
``describe`` lists it only when enabled.
"""

import itertools
from typing import Any, Dict, Iterator, Optional

from ..schema import FLAG_DISABLED, FLAG_RUNNING, Command, Menu, Prop
from ..types import Bool, Int, Str

PATH = "/system/test-rows"

# how many ``monitor`` iterators are open right now, and were ever opened
STREAMS = {"open": 0, "opened": 0}


def _rows(count: int, router: Any) -> Iterator[Dict[str, Any]]:
    tick = int(router.clock())
    for n in range(count):
        a, b, c = n >> 16 & 255, n >> 8 & 255, n & 255
        yield {
            ".id": "*T%X" % n,
            "name": "row%07d" % n,
            "address": "10.%d.%d.%d/24" % (a, b, c),
            "mac-address": "02:00:00:%02X:%02X:%02X" % (a, b, c),
            "mtu": 1500 - (n & 63),
            "bytes": n * 1000 + (tick if n < 3 else 0),
            "running": n % 3 != 0,
            "disabled": n % 7 == 0,
            "comment": "" if n % 10 else "test row %d" % n,
        }


def _monitor(item: Optional[str], not_ready: int = 0) -> Iterator[Optional[Dict[str, str]]]:
    STREAMS["open"] += 1
    STREAMS["opened"] += 1
    try:
        for _ in range(not_ready):     # a driver still working on its first answer
            yield None
        for n in itertools.count():
            yield {"sample": str(n), "item": item or ""}
    finally:
        STREAMS["open"] -= 1


def make_menu(count: int) -> Menu:
    return Menu(path=PATH, props=[
        Prop("name", Str(), readonly=True),
        Prop("address", Str(), readonly=True),
        Prop("mac-address", Str(), readonly=True),
        Prop("mtu", Int(), readonly=True),
        Prop("bytes", Int(), readonly=True),
        Prop("running", Bool(), readonly=True),
        Prop("disabled", Bool(), readonly=True),
        Prop("comment", Str(), readonly=True),
    ], readonly=True, source=lambda router: _rows(count, router), title="Test rows", group="System",
        flags=[FLAG_DISABLED, FLAG_RUNNING],
        commands=[Command("monitor", args=[Prop("once", Bool()), Prop("interval", Str()), Prop("duration", Str()),
                                           Prop("not-ready", Int(0, 1000))],
                          item=False, stream=True, doc="Count samples (tests).")],
        doc="Test-only computed rows.")


def enable(router: Any, count: int = 1000000) -> None:
    """Give this router (only) the hidden menu and its stream command."""
    router.schema = dict(router.schema)
    router.schema[PATH] = make_menu(int(count))
    driver = router.driver
    plain = driver.command

    def command(path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        if path == PATH and name == "monitor":
            return _monitor(item_id, int(args.get("not-ready") or 0))
        return plain(path, name, item_id, args)
    driver.command = command
