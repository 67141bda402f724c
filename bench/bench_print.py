"""A 1,000,000-item ``print`` through bridge + daemon, against decoding the
same data as raw JSON lines.

Measured in the same run:

- ``raw JSON lines``: the same rows, one JSON array per line, written by a
  ``cat`` subprocess into a pipe and decoded by the desktop with orjson: the
  desktop's ceiling (no agent work at all);
- ``agent formatting + encoding``: the agent producing the listing's frames
  in-process (no pipe, no desktop): the agent's ceiling;
- ``print, positional``: ``Session.print_stream(raw=True)`` through the
  bridge and the daemon of ``/system/test-rows`` (computed rows, formatted by
  the schema's types, under flow control), rows counted;
- ``print, dicts``: the same through ``Session.print_stream()``, which makes
  one dict per row (what ``Session.print`` returns).

Prints rows/s of each and the ratios to the raw JSON lines.

    python bench/bench_print.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from winbox_py.backend.local import _importable, stop_daemon  # noqa: E402
from winbox_py.backend.session import Session  # noqa: E402
from winbox_py.backend.transport import ProcessTransport  # noqa: E402


def agent_rows(n: int):
    """The agent's own rows for /system/test-rows, and the frames it would send."""
    _importable()
    from winbox_agent.proto.framing import encode_payload
    from winbox_agent.proto.listing import Listing
    from winbox_agent.proto.testrows import enable
    from winbox_agent.router import Router
    router = Router(None, seed=1)
    enable(router, n)
    listing = Listing(router, "/system/test-rows")
    return router, listing, encode_payload


def agent_ceiling(n: int) -> float:
    router, listing, encode_payload = agent_rows(n)
    start = time.perf_counter()
    batch = []
    for row in listing.rows():
        batch.append(row)
        if len(batch) == 1000:
            encode_payload({"op": "rows", "rows": batch, "id": 1})
            batch = []
    took = time.perf_counter() - start
    router.close()
    return n / took


async def raw_lines(path: str, n: int) -> float:
    t = await ProcessTransport.run(["cat", path])
    start = time.perf_counter()
    count = 0
    loads = orjson.loads
    reader = t.reader
    while True:
        line = await reader.readline()
        if not line:
            break
        loads(line)
        count += 1
    took = time.perf_counter() - start
    t.close()
    await t.wait_closed()
    assert count == n, count
    return n / took


async def through_agent(state: str, n: int, raw: bool) -> float:
    s = await Session.open_local(state, agent_args=["--test-rows", str(n)])
    try:
        start = time.perf_counter()
        count = 0
        async for batch in s.print_stream("/system/test-rows", raw=raw):
            count += len(batch["rows"])
        took = time.perf_counter() - start
        assert count == n, count
        return n / took
    finally:
        await s.close()


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-print-") as tmp:
        lines = os.path.join(tmp, "rows.jsonl")
        router, listing, _ = agent_rows(n)
        with open(lines, "wb") as fh:
            for row in listing.rows():
                fh.write(orjson.dumps(row) + b"\n")
        router.close()
        results = {}
        results["raw JSON lines, orjson (reference)"] = await raw_lines(lines, n)
        results["agent formatting + encoding, in-process"] = agent_ceiling(n)
        state = os.path.join(tmp, "state")
        try:
            results["print through bridge + daemon, positional rows"] = await through_agent(state, n, True)
            results["print through bridge + daemon, one dict per row"] = await through_agent(state, n, False)
        finally:
            stop_daemon(state)
    ref = results["raw JSON lines, orjson (reference)"]
    load = os.getloadavg()[0]
    print(f"listing {n} rows x 10 columns; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'what':52} {'rows/s':>12} {'vs raw lines':>13}")
    for name, rate in results.items():
        print(f"{name:52} {rate:12,.0f} {rate / ref:12.2f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    asyncio.run(main(args.rows))
