"""Flow control: a million-row listing never piles up on either side.

The daemon lists the hidden ``/system/test-rows`` source (a million computed
rows) to a desktop that stops reading for a while; the daemon must stop
sending about one window (2 MiB) ahead of what the desktop consumed, the
desktop must hold no more than that, and the daemon's memory must not grow
with the listing.  Then everything is read, in order.
"""

from __future__ import annotations

import asyncio

import pytest

from winbox_py.backend.session import Session

ROWS = 1_000_000
WINDOW = 2 * 1024 * 1024
FRAME_SLACK = 512 * 1024     # one listing frame may start just under the window


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _stream_stats(stats: dict, session_name: str) -> dict:
    for conn in stats["connections"]:
        if conn["name"] == session_name:
            streams = list(conn["streams"].values())
            return streams[0] if streams else {}
    return {}


@pytest.mark.slow
def test_a_million_rows_under_flow_control(arun, start_daemon):
    d = start_daemon("--test-rows", str(ROWS))

    async def go():
        reader = await Session.open_local(str(d.state_dir), seed=1)
        watcher = await Session.open_local(str(d.state_dir), seed=1)
        pid = reader.facts["pid"]
        name = reader.facts["session"]
        rss_before = _rss_kib(pid)
        stream = reader.print_stream("/system/test-rows", raw=True)
        first = await stream.__anext__()
        assert first["columns"][:2] == [".id", "name"]
        assert first["rows"][0][1] == "row0000000"
        count = len(first["rows"])

        # the desktop stops reading: the daemon must stop one window ahead
        await asyncio.sleep(1.5)
        paused1 = _stream_stats(await watcher.stats(), name)
        await asyncio.sleep(1.0)
        paused2 = _stream_stats(await watcher.stats(), name)
        assert paused1["sent"] == paused2["sent"], "the daemon kept sending to a desktop that reads nothing"
        assert paused2["ahead"] <= WINDOW + FRAME_SLACK
        assert stream.buffered <= WINDOW + FRAME_SLACK
        assert paused2["sent"] < ROWS * 20          # far from the whole listing

        # now read everything, checking both sides as it flows
        peak_daemon = paused2["peak_ahead"]
        peak_write_buffer = 0
        last = None
        batches = 0
        async for batch in stream:
            rows = batch["rows"]
            count += len(rows)
            last = rows[-1] if rows else last
            batches += 1
            if batches % 100 == 0:
                stats = await watcher.stats()
                s = _stream_stats(stats, name)
                peak_daemon = max(peak_daemon, s.get("peak_ahead", 0))
                peak_write_buffer = max(peak_write_buffer, stats["peak_write_buffer"])
        assert count == ROWS
        assert last[1] == "row%07d" % (ROWS - 1)
        assert stream.peak_buffered <= WINDOW + FRAME_SLACK
        assert peak_daemon <= WINDOW + FRAME_SLACK
        assert peak_write_buffer <= WINDOW + FRAME_SLACK
        grown = _rss_kib(pid) - rss_before
        assert grown < 64 * 1024, f"the daemon grew by {grown} KiB listing {ROWS} rows"
        await reader.close()
        await watcher.close()

    arun(go(), timeout=400)
