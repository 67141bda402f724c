"""Load: 20 desktops, 1,000 operations each, against one daemon.

Each desktop is a real bridge process (as over SSH) with its own Session;
all run at once.  Every operation is answered, the final configuration is
exactly what the operations add up to, and the daemon's memory stays
bounded (its RSS is measured before and after).  The figures are printed
(``-s``) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.reliability.conftest import bridge_opener
from winbox_py.backend.session import Session

SESSIONS = 20
OPERATIONS = 1000


async def _desktop(n: int, session: Session, counts: dict) -> dict[str, str]:
    """1,000 operations, mostly reads, about one in eight a change; returns
    what this desktop's pools should be at the end (name -> comment)."""
    rnd = random.Random(n)
    live: dict[str, str] = {}
    serial = 0
    for _ in range(OPERATIONS):
        r = rnd.random()
        if len(live) < 3 or r < 0.04:
            name = "s%d-%d" % (n, serial)
            serial += 1
            await session.add("/ip/pool", {"name": name, "ranges": "10.%d.%d.1-10.%d.%d.9" % (n, serial % 250,
                                                                                             n, serial % 250)})
            live[name] = ""
            counts["changes"] += 1
        elif r < 0.105:
            name = rnd.choice(sorted(live))
            text = "c%d" % rnd.randrange(10**6)
            await session.set("/ip/pool", name, {"comment": text})
            live[name] = text
            counts["changes"] += 1
        elif r < 0.125:
            name = rnd.choice(sorted(live))
            await session.remove("/ip/pool", [name])
            del live[name]
            counts["changes"] += 1
        elif r < 0.6:
            name = rnd.choice(sorted(live))
            row = await session.get("/ip/pool", name)
            assert row["name"] == name and row["comment"] == live[name]
            counts["reads"] += 1
        else:
            rows = await session.print("/ip/pool", proplist=["name", "comment"], where={"name": sorted(live)[:3]})
            assert {r["name"]: r["comment"] for r in rows} == {k: live[k] for k in sorted(live)[:3]}
            counts["reads"] += 1
        counts["answered"] += 1
    return live


@pytest.mark.slow
def test_twenty_desktops_doing_a_thousand_operations_each(arun, start_daemon):
    d = start_daemon()

    async def go():
        opener = bridge_opener(d.state_dir)
        sessions = [await Session.over(await opener()) for _ in range(SESSIONS)]
        # warm up (first compile and allocations), then measure
        for s in sessions:
            await s.print("/ip/pool")
        rss_before = d.rss_kib()
        counts = {"answered": 0, "changes": 0, "reads": 0}
        start = time.monotonic()
        results = await asyncio.gather(*[_desktop(i, s, counts) for i, s in enumerate(sessions)])
        elapsed = time.monotonic() - start
        rss_after = d.rss_kib()
        # the sum of the operations is what the router has
        expected = {name: comment for live in results for name, comment in live.items()}
        rows = await sessions[0].print("/ip/pool", proplist=["name", "comment"])
        assert {r["name"]: r["comment"] for r in rows} == expected
        stats = await sessions[0].stats()
        assert len(stats["connections"]) == SESSIONS
        for s in sessions:
            await s.close()
        return counts, elapsed, rss_before, rss_after, len(expected)

    counts, elapsed, rss_before, rss_after, items = arun(go(), timeout=600)
    assert counts["answered"] == SESSIONS * OPERATIONS
    print("\nload: %d sessions x %d operations = %d answered (%d changes, %d reads) in %.1f s (%.0f ops/s); "
          "%d pools at the end; daemon RSS %d KiB before, %d KiB after (+%d KiB)" % (
              SESSIONS, OPERATIONS, counts["answered"], counts["changes"], counts["reads"], elapsed,
              counts["answered"] / elapsed, items, rss_before, rss_after, rss_after - rss_before))
    # bounded: the history keeps 1000 revisions, nothing else grows with the operations
    assert rss_after - rss_before < 40 * 1024, (rss_before, rss_after)
