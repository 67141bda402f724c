"""Faults: the daemon killed with SIGKILL at random moments during a long
run of commits made through the protocol (a bridge per connection, as over
SSH).

After every kill the daemon is started again and the desktop reconnects:
the configuration loads, is consistent (a change of several items in one
revision is there whole or not at all), no change the desktop was told had
succeeded is missing, and at most the one change in flight when the kill
came is undecided.  A kill during safe mode brings back the configuration
from before safe mode, and the reconnecting desktop is told what was not
kept.  The number of kills survived is printed (``-s``) and recorded in
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from tests.reliability.conftest import bridge_opener, read_config
from winbox_py.backend.session import RpcError, Session

KILLS = 25


class Model:
    """What the desktop was told: pools that exist and their comments.

    Attributes:
        known: name -> comment of every pool whose last change was acknowledged.
        pending: the change in flight when the connection died (name -> comment,
            None for a removal, for each name it touched): either outcome is right.
    """

    def __init__(self) -> None:
        self.known: dict[str, str | None] = {}
        self.pending: dict[str, str | None] = {}

    def check(self, actual: dict[str, str]) -> None:
        for name, comment in self.known.items():
            if name in self.pending:
                continue
            if comment is None:
                assert name not in actual, "pool %s was removed (acknowledged) but is back" % name
            else:
                assert actual.get(name) == comment, "acknowledged change of %s lost: %r != %r" % (
                    name, actual.get(name), comment)
        for name in actual:
            assert name in self.known or name in self.pending, "pool %s appeared from nowhere" % name
        # the change in flight is all or nothing
        if self.pending:
            outcomes = {name: actual.get(name, None) == want for name, want in self.pending.items()}
            assert len(set(outcomes.values())) == 1, "a revision was applied in part: %s" % outcomes
        # adopt what happened
        for name in self.pending:
            self.known[name] = actual.get(name)
        self.pending = {}


async def _pools(session: Session) -> dict[str, str]:
    return {r["name"]: r["comment"] for r in await session.print("/ip/pool", proplist=["name", "comment"])}


async def _work(session: Session, model: Model, rnd: random.Random, serial: list[int]) -> None:
    """Commit changes until the connection dies."""
    while True:
        live = sorted(n for n, c in model.known.items() if c is not None)
        r = rnd.random()
        if len(live) < 4 or r < 0.35:
            name = "k%d" % serial[0]
            serial[0] += 1
            model.pending = {name: ""}
            await session.add("/ip/pool", {"name": name, "ranges": "10.1.0.1-10.1.0.9"})
        elif r < 0.75:
            names = rnd.sample(live, 2)
            text = "c%d" % rnd.randrange(10**6)
            model.pending = {n: text for n in names}
            await session.set("/ip/pool", names, {"comment": text})          # one revision, two items
        elif r < 0.9:
            name = rnd.choice(live)
            model.pending = {name: None}
            await session.remove("/ip/pool", [name])
        else:
            model.pending = {}
            await session.print("/ip/pool")
        model.known.update(model.pending)
        model.pending = {}


@pytest.mark.slow
def test_the_daemon_killed_at_random_points_loses_no_acknowledged_change(arun, start_daemon):
    d = start_daemon()
    rnd = random.Random(7)
    survived = {"kills": 0, "commits_checked": 0}

    async def go():
        reopen = bridge_opener(d.state_dir)
        session = await Session.over(await reopen(), reopen=reopen)
        model = Model()
        serial = [0]
        for _ in range(KILLS):
            work = asyncio.ensure_future(_work(session, model, rnd, serial))
            await asyncio.sleep(rnd.uniform(0.05, 0.6))
            assert not work.done(), work
            d.kill()                                       # SIGKILL: no cleanup of any kind
            with pytest.raises(RpcError):
                await work
            survived["kills"] += 1
            # the state file is always a whole revision
            config = read_config(d.state_dir)
            assert config["format"] == 1 and isinstance(config["revision"], int)
            d.restart()
            await session.reconnect()
            model.check(await _pools(session))
            survived["commits_checked"] = len(model.known)
        await session.close()
        # no half-written temporary files are left by the kills
        leftovers = [n for n in os.listdir(d.state_dir) if n.startswith(".tmp-")]
        assert leftovers == []

    arun(go(), timeout=600)
    print("\nfaults: the daemon was killed %d times during commits; every restart loaded a consistent "
          "configuration with every acknowledged change (%d pools tracked)" % (
              survived["kills"], survived["commits_checked"]))
    assert survived["kills"] == KILLS


def test_a_kill_during_safe_mode_comes_back_to_before_safe_mode_and_says_so(arun, start_daemon):
    d = start_daemon()

    async def go():
        reopen = bridge_opener(d.state_dir)
        session = await Session.over(await reopen(), reopen=reopen)
        await session.add("/ip/pool", {"name": "kept", "ranges": "10.1.0.1-10.1.0.9"})
        await session.safe_mode(True)
        await session.add("/ip/pool", {"name": "probation", "ranges": "10.2.0.1-10.2.0.9"})
        await session.set("/system/identity", [], {"name": "probation"})
        news = []
        session.on_safe_mode(news.append)
        d.kill()
        await asyncio.sleep(0.2)
        d.restart()
        await session.reconnect()
        assert set(await _pools(session)) == {"kept"}
        assert (await session.get("/system/identity"))["name"] == "MikroTik"
        report = session.rollback
        assert report is not None and report["restarted"] and report["count"] == 2
        assert news[-1]["event"] == "rolled-back"
        assert any("probation" in line for line in report["undone"])
        assert not session.safe.get("held")
        await session.close()
    arun(go())
