"""Request round trip through bridge + daemon, against a bare JSON echo.

Measures in the same run, over the same kind of pipe (an asyncio subprocess's
stdin/stdout, frames written and read the same way):

- ``echo``: a bare Python process that reads a frame and writes it back
  (stdlib ``json`` decode + encode, like the agent): the floor;
- ``serve``: ``get /system/identity`` to an agent serving in its own process
  (no daemon);
- ``bridge``: the same through ``bridge`` + the daemon (the real path: what
  every SSH connection runs);
- ``bridge, busy``: the same while another stream (a monitor at 10 samples/s
  and a follow of /interface) runs on the connection.

Prints p50 and p99 of each and the ratios to the echo.

    python bench/bench_rpc.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from winbox_py.backend.local import stop_daemon  # noqa: E402
from winbox_py.backend.rpc import encode, read_frame  # noqa: E402
from winbox_py.backend.session import Session  # noqa: E402
from winbox_py.backend.transport import LocalTransport, ProcessTransport, agent_env  # noqa: E402

ECHO = r"""
import json, os, sys
rd = sys.stdin.buffer
wr = sys.stdout.buffer
while True:
    header = rd.readline()
    if not header:
        break
    msg = json.loads(rd.read(int(header)))
    payload = json.dumps({"op": "done", "id": msg["id"], "result": {"name": "MikroTik"}},
                         separators=(",", ":")).encode()
    wr.write(b"%d\n" % len(payload) + payload)
    wr.flush()
"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def echo_times(n: int) -> list[float]:
    t = await ProcessTransport.run([sys.executable, "-c", ECHO])
    times = []
    try:
        for i in range(n):
            start = time.perf_counter()
            t.writer.write(encode({"op": "get", "id": i, "path": "/system/identity"}))
            await t.writer.drain()
            await read_frame(t.reader)
            times.append(time.perf_counter() - start)
    finally:
        t.close()
        await t.wait_closed()
    return times


async def session_times(session: Session, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await session.get("/system/identity")
        times.append(time.perf_counter() - start)
    return times


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as tmp:
        results: dict[str, list[float]] = {}
        await echo_times(50)                      # warm up the interpreter's caches
        results["bare JSON echo (reference)"] = await echo_times(n)

        serve = await Session.over(await LocalTransport.start(["--state-dir", f"{tmp}/serve", "serve"]))
        await session_times(serve, 50)
        results["agent serve (no daemon)"] = await session_times(serve, n)
        await serve.close()

        state = f"{tmp}/daemon"
        try:
            s = await Session.open_local(state, agent_args=["--test-rows", "10"])
            await session_times(s, 50)
            results["bridge + daemon"] = await session_times(s, n)
            monitor = s.command("/system/test-rows", "monitor", interval=0.1)
            follow = s.follow("/interface", interval=0.5)

            async def drain(stream):
                async for _ in stream:
                    pass
            tasks = [asyncio.ensure_future(drain(monitor)), asyncio.ensure_future(drain(follow))]
            await asyncio.sleep(0.5)
            results["bridge + daemon, with a monitor and a follow running"] = await session_times(s, n)
            await monitor.cancel()
            await follow.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await s.close()
        finally:
            stop_daemon(state)

    ref = results["bare JSON echo (reference)"]
    ref50, ref99 = percentile(ref, 0.5), percentile(ref, 0.99)
    load = os.getloadavg()[0]
    print(f"request round trip, {n} sequential requests each; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'path':58} {'p50':>9} {'p99':>9} {'p50 ratio':>10} {'p99 ratio':>10}")
    for name, times in results.items():
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        print(f"{name:58} {p50 * 1e3:7.3f}ms {p99 * 1e3:7.3f}ms {p50 / ref50:9.1f}x {p99 / ref99:9.1f}x")
    print(f"(mean over all: {statistics.mean(results['bridge + daemon']) * 1e3:.3f} ms through the bridge)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    os.environ.update({k: v for k, v in agent_env().items() if k == "PYTHONPATH"})
    asyncio.run(main(args.requests))
