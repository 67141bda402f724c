"""Load, sort and filter 100,000 and 1,000,000 rows through the real table
model and view (Qt offscreen), reporting the longest event-loop stall.

The reference, measured in the same run, is the raw decode rate: the same rows
as JSON batches of positional rows (as the protocol carries listings) decoded
with orjson into dicts, with no Qt at all. The load through the model is
reported as a ratio to it, so figures compare across machines.

    QT_QPA_PLATFORM=offscreen python bench/bench_table.py [--rows 100000 1000000]

Stalls are measured by a 5 ms QTimer: the largest gap between its ticks while
the work runs is the longest time the window could not repaint.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from winbox_py.app import make_app  # noqa: E402
from winbox_py.backend.models import Feed, TableModel  # noqa: E402
from winbox_py.backend.tabledata import Rule, columns_for  # noqa: E402
from winbox_py.qt import Qt, QtCore, QtWidgets  # noqa: E402
from winbox_py.views.tablewindow import configure_view  # noqa: E402

MENU = {
    "path": "/ip/firewall/address-list",
    "columns": ["list", "address", "timeout", "creation-time"],
    "props": [{"name": n, "type": {"kind": k}} for n, k in (
        ("list", "string"), ("address", "address"), ("timeout", "duration"), ("creation-time", "string"),
        ("dynamic", "bool"), ("disabled", "bool"), ("comment", "string"))],
}
COLUMNS = [".id", ".flags", "list", "address", "timeout", "creation-time", "dynamic", "disabled", "comment"]
BATCH = 1000


def make_batches(n: int) -> list[bytes]:
    """The listing as the wire carries it: JSON batches of positional rows."""
    out = []
    for start in range(0, n, BATCH):
        rows = []
        for i in range(start, min(n, start + BATCH)):
            rows.append(["*%X" % (i + 1), "X" if i % 17 == 0 else "", "list%d" % (i % 50),
                         "10.%d.%d.%d/32" % (i >> 16 & 255, i >> 8 & 255, i & 255), "%dm" % (i % 90),
                         "2026-11-%02d 12:00:00" % (1 + i % 28), "no", "yes" if i % 17 == 0 else "no",
                         "host %d" % i if i % 10 == 0 else ""])
        out.append(orjson.dumps({"columns": COLUMNS, "rows": rows}))
    return out


def decode(batch: bytes) -> list[dict]:
    msg = orjson.loads(batch)
    cols = msg["columns"]
    return [dict(zip(cols, r)) for r in msg["rows"]]


def raw_decode_rate(batches: list[bytes], n: int) -> float:
    t = time.perf_counter()
    for b in batches:
        decode(b)
    return n / (time.perf_counter() - t)


class StallMeter:
    """Largest gap between ticks of a 5 ms timer."""

    def __init__(self):
        self.timer = QtCore.QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def start(self) -> None:
        self.worst = 0.0
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self._tick()
        self.timer.stop()
        return self.worst


class WireStream:
    """Decodes the batches one per await, as the session's stream would."""

    def __init__(self, batches: list[bytes]):
        self.batches = batches

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for b in self.batches:
            await asyncio.sleep(0)
            yield {"op": "rows", "rows": decode(b)}
        yield {"op": "ready"}

    async def cancel(self) -> None:
        pass


async def measure_gap(meter: StallMeter, fn) -> tuple[float, float]:
    """Run ``fn`` (blocking) between loop turns; (seconds, longest stall)."""
    meter.start()
    await asyncio.sleep(0.05)
    t = time.perf_counter()
    fn()
    took = time.perf_counter() - t
    await asyncio.sleep(0.05)
    return took, meter.stop()


async def bench(n: int, view: QtWidgets.QTableView) -> dict[str, float]:
    batches = make_batches(n)
    gc.collect()
    rate = raw_decode_rate(batches, n)
    model = TableModel(columns_for(MENU))
    view.setModel(model)
    view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
    meter = StallMeter()
    meter.start()
    t = time.perf_counter()
    feed = Feed(model, WireStream(batches)).start()
    while not model.loaded:
        await asyncio.sleep(0.01)
    load = time.perf_counter() - t
    await feed.task
    load_stall = meter.stop()
    assert model.rowCount() == n, (model.rowCount(), n)
    addr = model.column_of("address")
    sort_s, sort_stall = await measure_gap(meter, lambda: model.sort(addr, Qt.DescendingOrder))
    sort_str_s, _ = await measure_gap(meter, lambda: model.sort(model.column_of("list"), Qt.AscendingOrder))
    filt_s, _ = await measure_gap(meter, lambda: model.set_filter([Rule(model.column_of("list"), "is", "list7")]))
    shown = model.rowCount()
    find_s, _ = await measure_gap(meter, lambda: model.set_filter([], find="host 12"))
    clear_s, _ = await measure_gap(meter, lambda: model.set_filter([], find=""))
    view.setModel(None)
    return {"rows": n, "decode_rate": rate, "load_s": load, "load_rate": n / load, "load_stall_ms": load_stall * 1000,
            "sort_addr_s": sort_s, "sort_str_s": sort_str_s, "sort_stall_ms": sort_stall * 1000,
            "filter_s": filt_s, "filter_rows": shown, "find_s": find_s, "unfilter_s": clear_s}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = p.parse_args()
    app, loop = make_app()
    view = QtWidgets.QTableView()
    configure_view(view)  # exactly as the table windows set theirs up
    view.resize(900, 600)
    view.show()

    async def all_sizes():
        out = []
        for n in args.rows:
            out.append(await bench(n, view))
        return out

    with loop:
        results = loop.run_until_complete(all_sizes())
    for r in results:
        print("%9d rows: raw decode %8.0f rows/s | load through model+view %6.2f s = %8.0f rows/s "
              "(%.2fx of raw decode), longest stall %5.1f ms" % (
                  r["rows"], r["decode_rate"], r["load_s"], r["load_rate"], r["load_rate"] / r["decode_rate"],
                  r["load_stall_ms"]))
        print("%9s       sort by address %.3f s (stall %.0f ms), by string %.3f s; filter is %.3f s (%d rows), "
              "quick find %.3f s, clear %.3f s" % (
                  "", r["sort_addr_s"], r["sort_stall_ms"], r["sort_str_s"], r["filter_s"], r["filter_rows"],
                  r["find_s"], r["unfilter_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
