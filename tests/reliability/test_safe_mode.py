"""Safe mode in the agent, through the protocol (the real Hub, Router and sim
driver in this process; the desktop's real Session over socket pairs).

The connection that took safe mode going away starts a grace period on safe
mode's clock (a fake one here, advanced by the test): after it, every change
made in safe mode is undone as one revision and the desktop is told what was
undone when it reconnects.  Turning it off keeps the changes; a desktop that
reconnects in time with its token keeps its safe mode; one session holds it
at a time; a full journal refuses the next change.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.reliability.conftest import read_config
from winbox_py.backend.session import RpcError


async def _until(condition, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.02)


async def _addresses(session) -> list[str]:
    return sorted(r["address"] for r in await session.print("/ip/address"))


async def _holding_safe_mode(hub_agent, **options):
    """A hub (``hub_agent(**options)``) and a session on it that holds safe mode,
    with one change made in it: 192.0.2.1/24 on ether2."""
    h = await hub_agent(**options)
    s = await h.session()
    await s.safe_mode(True)
    await s.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
    return h, s


def test_a_lost_connection_rolls_back_after_the_grace_period(arun, hub_agent):
    async def go():
        h = await hub_agent()
        s = await h.session()
        before = await _addresses(s)
        assert "safe-mode" in s.capabilities
        status = await s.safe_mode(True)
        assert status["on"] and status["held"] and status["changes"] == 0
        await s.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        await s.set("/interface/ethernet", "ether3", {"mtu": "1400"})
        await s.add("/ip/pool", {"name": "probation", "ranges": "10.9.0.10-10.9.0.20"})
        await s.remove("/ip/pool", ["probation"])
        assert (await s.safe_mode_status())["changes"] == 4
        rev_before_loss = h.router.store.revision

        s.on_state(lambda state, reason: None)
        h.transports[0].close()                         # the desktop's connection drops
        await _until(lambda: h.hub.safemode.holder is not None and h.hub.safemode.holder.conn is None,
                     what="the agent to notice the lost connection")
        h.clock.advance(h.hub.safemode.grace - 0.5)      # still within the grace period
        await asyncio.sleep(0.4)
        assert h.router.store.revision == rev_before_loss, "rolled back before the grace period ended"
        h.clock.advance(1.0)
        await _until(lambda: h.hub.safemode.holder is None, what="the rollback")
        # one revision undid everything, and the sim follows it
        assert h.router.store.revision == rev_before_loss + 1
        assert h.router.store.history[-1]["kind"] == "rollback"
        ether3 = h.router.rows("/interface/ethernet")[2]
        assert ether3["name"] == "ether3" and ether3["mtu"] == 1500
        report = h.hub.safemode.last_report
        assert report["count"] == 4 and "did not come back" in report["reason"]
        assert any("192.0.2.1/24" in line for line in report["undone"])

        # the desktop comes back: its addresses are as before, and it is told why
        news = []
        s.on_safe_mode(news.append)
        await s.reconnect()
        assert await _addresses(s) == before
        assert s.rollback is not None and s.rollback["count"] == 4
        assert news and news[-1]["event"] == "rolled-back" and news[-1]["report"]["undone"]
        assert not (await s.safe_mode_status())["on"]
        await s.close()
        await h.close()
    arun(go())


def test_turning_it_off_keeps_the_changes_and_writes_them_only_then(arun, hub_agent, tmp_path):
    async def go():
        h, s = await _holding_safe_mode(hub_agent, state_dir=tmp_path / "state")
        await s.set("/system/identity", [], {"name": "probation"})
        # runtime first: the running configuration has them, the saved one not yet
        assert "192.0.2.1/24" in await _addresses(s)
        saved = read_config(tmp_path / "state")
        assert not any(it.get("address") == "192.0.2.1/24" for it in saved["menus"].get("/ip/address", []))
        assert (tmp_path / "state" / "safemode.journal").exists()
        status = await s.safe_mode(False)
        assert not status["on"] and not status["held"]
        saved = read_config(tmp_path / "state")                  # persisted on release
        assert any(it.get("address") == "192.0.2.1/24" for it in saved["menus"]["/ip/address"])
        assert saved["menus"]["/system/identity"][0]["name"] == "probation"
        assert not (tmp_path / "state" / "safemode.journal").exists()
        # and nothing is rolled back when the connection goes now
        h.transports[0].close()
        h.clock.advance(60)
        await asyncio.sleep(0.5)
        assert h.hub.safemode.last_report is None
        assert "192.0.2.1/24" in [r["address"] for r in h.router.rows("/ip/address")]
        await s.close()
        await h.close()
    arun(go())


def test_unroll_undoes_the_changes_at_once(arun, hub_agent):
    async def go():
        h = await hub_agent()
        s = await h.session()
        before = await _addresses(s)
        await s.safe_mode(True)
        await s.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        status = await s.safe_mode(False, unroll=True)
        assert status["report"]["count"] == 1 and status["report"]["reason"] == "undone on request"
        assert await _addresses(s) == before
        await s.close()
        await h.close()
    arun(go())


def test_a_desktop_that_reconnects_in_time_keeps_its_safe_mode(arun, hub_agent):
    async def go():
        h, s = await _holding_safe_mode(hub_agent)
        h.transports[0].close()
        await _until(lambda: h.hub.safemode.holder.conn is None, what="the lost connection")
        h.clock.advance(h.hub.safemode.grace - 1)
        news = []
        s.on_safe_mode(news.append)
        await s.reconnect()                         # presents its token
        assert news[-1]["event"] == "reclaimed" and s.safe["on"]
        h.clock.advance(60)                         # long past the grace period: nothing happens
        await asyncio.sleep(0.5)
        assert h.hub.safemode.holder is not None and h.hub.safemode.last_report is None
        # changes through the new connection are journalled too
        await s.add("/ip/address", {"address": "198.51.100.1/24", "interface": "ether3"})
        assert s.safe["on"] and (await s.safe_mode_status())["changes"] == 2
        # a wrong token reclaims nothing
        other = await h.session()
        got = await other._call("safe-mode", reclaim="0" * 32)
        assert got["reclaimed"] is False and not got["on"] and got["held"]
        await s.safe_mode(False)
        assert "198.51.100.1/24" in await _addresses(other)
        await other.close()
        await s.close()
        await h.close()
    arun(go())


def test_missed_heartbeats_count_as_a_lost_connection(arun, hub_agent):
    async def go():
        h, s = await _holding_safe_mode(hub_agent)
        conn = h.hub.safemode.holder.conn
        conn.last_seen -= conn.options.dead_after + 1    # the desktop went silent (a blackhole)
        await _until(lambda: h.hub.safemode.holder.conn is None, what="the silence to be noticed")
        assert "no heartbeat" in h.hub.safemode.holder.lost_reason
        h.clock.advance(h.hub.safemode.grace)
        await _until(lambda: h.hub.safemode.holder is None, what="the rollback")
        assert "192.0.2.1/24" not in [r["address"] for r in h.router.rows("/ip/address")]
        await s.close()
        await h.close()
    arun(go())


def test_one_holder_others_are_told_and_may_take_over(arun, hub_agent):
    async def go():
        h = await hub_agent()
        a = await h.session(peer={"user": "alice"})
        b = await h.session(peer={"user": "bob"})
        news_b = []
        b.on_safe_mode(news_b.append)
        await a.safe_mode(True)
        await a.add("/ip/address", {"address": "192.0.2.1/24", "interface": "ether2"})
        await _until(lambda: news_b and news_b[-1]["event"] == "held", what="b to hear who holds safe mode")
        assert news_b[-1]["status"]["holder"]["user"] == "alice"
        # b may read, but its changes are refused, naming the holder
        assert "192.0.2.1/24" in await _addresses(b)
        with pytest.raises(RpcError) as err:
            await b.set("/system/identity", [], {"name": "bob-was-here"})
        assert err.value.problem == "denied" and "safe mode is held by alice" in err.value.message
        with pytest.raises(RpcError) as err:
            await b.cli("/ip pool add name=p ranges=10.0.0.1-10.0.0.2")
        assert "safe mode is held by alice" in err.value.message
        with pytest.raises(RpcError) as err:
            await b.safe_mode(True)
        assert err.value.problem == "conflict" and "held by alice" in err.value.message
        # b takes over, keeping alice's change
        news_a = []
        a.on_safe_mode(news_a.append)
        status = await b.safe_mode(True, take_over="keep")
        assert status["on"] and status["holder"]["user"] == "bob"
        await _until(lambda: any(n["event"] == "taken-over" for n in news_a), what="a to hear it was taken over")
        assert not a.safe["on"]
        with pytest.raises(RpcError):
            await a.add("/ip/pool", {"name": "p", "ranges": "10.0.0.1-10.0.0.2"})
        await b.add("/ip/address", {"address": "198.51.100.1/24", "interface": "ether3"})
        # a takes it back, undoing bob's change (alice's, kept when bob took over, stays)
        status = await a.safe_mode(True, take_over="unroll")
        assert status["on"]
        got = await _addresses(a)
        assert "192.0.2.1/24" in got and "198.51.100.1/24" not in got
        await a.safe_mode(False)
        await a.close()
        await b.close()
        await h.close()
    arun(go())


def test_a_full_journal_refuses_the_next_change(arun, hub_agent):
    from winbox_agent.proto.server import Options

    async def go():
        h = await hub_agent(options=Options(safe_mode_limit=5))
        s = await h.session()
        await s.safe_mode(True)
        for i in range(5):
            await s.add("/ip/pool", {"name": "p%d" % i, "ranges": "10.0.%d.1-10.0.%d.9" % (i, i)})
        with pytest.raises(RpcError) as err:
            await s.add("/ip/pool", {"name": "p5", "ranges": "10.0.5.1-10.0.5.9"})
        assert err.value.problem == "denied"
        assert "journal is full (5 changes)" in err.value.message and "turn safe mode off" in err.value.message
        assert len(await s.print("/ip/pool")) == 5      # nothing half done
        await s.safe_mode(False)
        await s.add("/ip/pool", {"name": "p5", "ranges": "10.0.5.1-10.0.5.9"})
        await s.close()
        await h.close()
    arun(go())


def test_a_read_user_cannot_take_safe_mode(arun, hub_agent):
    async def go():
        h = await hub_agent()
        admin = await h.session()
        await admin.add("/user", {"name": "viewer", "group": "read"})
        viewer = await h.session(peer={"user": "root", "login": "viewer"})
        with pytest.raises(RpcError) as err:
            await viewer.safe_mode(True)
        assert err.value.problem == "denied" and "write policy" in err.value.message
        await viewer.close()
        await admin.close()
        await h.close()
    arun(go())


def test_the_daemon_stopping_in_safe_mode_rolls_back_and_says_so(arun, hub_agent, tmp_path):
    async def go():
        state = tmp_path / "state"
        h, s = await _holding_safe_mode(hub_agent, state_dir=state)
        await s.close()
        await h.close()                                 # the agent stops (SIGTERM)
        saved = read_config(state)
        assert not any(it.get("address") == "192.0.2.1/24" for it in saved["menus"].get("/ip/address", []))
        assert "stopped" in h.hub.safemode.last_report["reason"]
    arun(go())


def test_the_marker_tells_a_restarted_agent_what_was_not_kept(arun, hub_agent, tmp_path):
    """A daemon killed in safe mode never wrote the changes; the marker file
    it leaves lets the next one report them (the full kill test is in
    test_faults.py)."""
    async def go():
        state = tmp_path / "state"
        h, s = await _holding_safe_mode(hub_agent, state_dir=state)
        marker = (state / "safemode.journal").read_text().splitlines()
        assert len(marker) == 2 and "192.0.2.1/24" in json.loads(marker[1])["action"]
        assert (state / "safemode.journal").stat().st_mode & 0o777 == 0o600
        copy = marker
        await s.safe_mode(False)
        await s.close()
        await h.close()
        (state / "safemode.journal").write_text("\n".join(copy) + "\n")
        h2 = await hub_agent(state_dir=state)
        report = h2.hub.safemode.last_report
        assert report["restarted"] and report["count"] == 1 and "192.0.2.1/24" in report["undone"][0]
        assert not (state / "safemode.journal").exists()
        await h2.close()
    arun(go())


# -- the rollback itself, on random sequences of changes ------------------------------------------

class _Conn:
    """The least a connection needs to hold safe mode (no socket)."""

    def __init__(self, name: str):
        self.name = name
        self.peer = {"user": "tester"}
        self.rights = None

    def send(self, msg: dict) -> int:
        return 0


class _Hub:
    def __init__(self, router):
        self.router = router
        self.connections: list = []


def _random_change(router, draw_int, conn) -> None:
    """One change of a kind a person makes, on whatever is there now."""
    kind = draw_int(0, 8)
    pools = router.store.items("/ip/pool")
    rules = router.store.items("/ip/firewall/filter")
    n = draw_int(0, 10_000)
    s = conn.name
    if kind == 0 or (kind in (1, 2) and not pools):
        router.add("/ip/pool", {"name": "p%d" % n, "ranges": "10.%d.0.1-10.%d.0.9" % (n % 250, n % 250)}, session=s)
    elif kind == 1:
        router.set("/ip/pool", [pools[n % len(pools)][".id"]], {"comment": "c%d" % n}, session=s)
    elif kind == 2:
        router.remove("/ip/pool", [pools[n % len(pools)][".id"]], session=s)
    elif kind == 3 or (kind in (4, 5) and len(rules) < 2):
        before = rules[n % len(rules)][".id"] if rules and n % 2 else None
        router.add("/ip/firewall/filter", {"chain": "input", "action": "accept", "comment": "r%d" % n},
                   session=s, place_before=before)
    elif kind == 4:
        router.move("/ip/firewall/filter", [rules[n % len(rules)][".id"]],
                    rules[(n // 7) % len(rules)][".id"] if n % 3 else None, session=s)
    elif kind == 5:
        router.remove("/ip/firewall/filter", [rules[n % len(rules)][".id"]], session=s)
    elif kind == 6:
        router.set("/interface/ethernet", [router.find("/interface/ethernet", "ether%d" % (1 + n % 5))],
                   {"mtu": str(1280 + n % 200)}, session=s)
    elif kind == 7:
        fn = router.disable if n % 2 else router.enable
        fn("/interface/ethernet", [router.find("/interface/ethernet", "ether%d" % (1 + n % 5))], session=s)
    else:
        router.add("/ip/address", {"address": "10.%d.%d.1/24" % (n % 200, n % 7), "interface":
                                   "ether%d" % (1 + n % 5)}, session=s)


def test_rollback_restores_exactly_what_was_there_for_any_sequence_of_changes():
    """Hypothesis: any sequence of adds, sets, removes, moves, enables and
    disables made in safe mode, rolled back, leaves every menu (items,
    values and order) exactly as before safe mode, through the sim driver."""
    import copy

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from winbox_agent.errors import RouterError
    from winbox_agent.proto.safemode import SafeMode
    from winbox_agent.router import Router

    runs = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        router = Router(None, driver="sim", seed=3)
        sm = SafeMode(_Hub(router))
        conn = _Conn("c1")
        # something there before safe mode, to change and move
        for i in range(3):
            router.add("/ip/pool", {"name": "base%d" % i, "ranges": "10.200.%d.1-10.200.%d.9" % (i, i)})
            router.add("/ip/firewall/filter", {"chain": "forward", "action": "drop", "comment": "base%d" % i})
        before = copy.deepcopy(router.store.menus)
        sm.take(conn)
        steps = data.draw(st.integers(1, 25))
        done = 0
        for _ in range(steps):
            try:
                _random_change(router, lambda lo, hi: data.draw(st.integers(lo, hi)), conn)
                done += 1
            except RouterError:
                pass
        sm._rollback("test")
        after = {k: v for k, v in router.store.menus.items() if v}
        assert after == {k: v for k, v in before.items() if v}
        assert sm.last_report["failed"] == []
        runs.append(done)
        router.close()
    check()
    assert len(runs) >= 100 and sum(runs) > 500


def test_after_a_rollback_undo_and_the_history_stand_where_they_stood_before_safe_mode(arun, hub_agent):
    async def go():
        h = await hub_agent()
        s = await h.session()
        await s.add("/ip/pool", {"name": "before", "ranges": "10.1.0.1-10.1.0.9"})
        await s.safe_mode(True)
        await s.add("/ip/pool", {"name": "during", "ranges": "10.2.0.1-10.2.0.9"})
        await s.undo()                                   # an undo inside safe mode is journalled too
        await s.add("/ip/pool", {"name": "during2", "ranges": "10.3.0.1-10.3.0.9"})
        await s.safe_mode(False, unroll=True)
        assert [r["name"] for r in await s.print("/ip/pool")] == ["before"]
        history = await s.print("/system/history")
        assert "safe mode rollback: 3 steps undone" in history[0]["action"]
        # the toolbar's Undo undoes the step before safe mode, not a rolled-back one
        await s.undo()
        assert await s.print("/ip/pool") == []
        await s.redo()
        assert [r["name"] for r in await s.print("/ip/pool")] == ["before"]
        with pytest.raises(RpcError) as err:
            await s.redo()
        assert "nothing to redo" in err.value.message
        await s.close()
        await h.close()
    arun(go())


def test_what_a_command_adds_on_its_own_is_journalled_and_rolled_back_too(arun, hub_agent):
    async def go():
        h = await hub_agent()
        s = await h.session()
        await s.safe_mode(True)
        await s.cli(r'/interface wireguard/wg-import config-string="[Interface]\nAddress = 192.168.88.3/24\n'
                    r'ListenPort = 13533\nPrivateKey = UBLqJEFZZf9wszZSUF2BPWa9dsMX99RbEcxlNfxWffk=\n[Peer]\n'
                    r'PublicKey = EoF7HlFu3fbOnuYbyGqLMJkPZgQk9n3WwONZuJZ6qWc=\nAllowedIPs = 0.0.0.0/0"')
        assert len(await s.print("/interface/wireguard")) == 1
        assert (await s.safe_mode_status())["changes"] >= 3          # interface, address, peer
        await s.safe_mode(False, unroll=True)
        assert await s.print("/interface/wireguard") == []
        assert await s.print("/interface/wireguard/peers") == []
        assert await s.print("/ip/address") == []
        await s.close()
        await h.close()
    arun(go())
