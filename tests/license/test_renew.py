"""``/system license renew`` on the agent against the real account server:
the CHR document's free -> p1 trial, later renewals, the renewal schedule and
the deadline, and everything that must leave the license as it was (wrong
password, server down, altered, foreign or misaddressed keys, a renewal
already running)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from winbox_agent import license as agent_license
from winbox_agent import licensekey
from winbox_agent.router import Router

from tests.license.conftest import DAY, Clock, agent_cli, drain

LICENSE = "/system/license"
STAMP = re.compile(r"[a-z]{3}/\d\d/\d{4} \d\d:\d\d:\d\d")


def _configure(target, server) -> None:
    """Point a router (Router or state dir) at a server and trust its key."""
    values = {"license-server": server.address, "license-server-key": server.public_key}
    if isinstance(target, Router):
        target.set(LICENSE, [], values)
    else:
        run = agent_cli(target, "/system license set license-server=%s license-server-key=%s" % (
            server.address, server.public_key))
        assert run.returncode == 0, run.stdout + run.stderr


def _print(router: Router) -> dict:
    m = router.menu(LICENSE)
    return router.format_row(m, router.rows(LICENSE)[0])


def _renew(router: Router, password: str = "wonderland", level: str = "p1", account: str = "alice") -> list:
    return drain(router.command(LICENSE, "renew", None, {"account": account, "password": password, "level": level}))


def _logs(router: Router) -> list:
    return [e["message"] for e in router.driver.log_entries()]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def router(tmp_path, clock):
    r = Router(str(tmp_path / "router"), seed=7, clock=clock)
    yield r
    r.close()


def _stamp_time(text: str) -> float:
    return time.mktime(time.strptime(text, "%b/%d/%Y %H:%M:%S"))


# -- the document's walk-through, through the real CLI -----------------------------------------------------

@pytest.mark.slow
def test_free_to_p1_trial_then_a_renewal_through_the_cli(server, tmp_path):
    state = tmp_path / "chr"
    lic = json.loads(agent_cli(state, "/system license print", json_mode=True).stdout)[0]
    assert (lic["level"], lic["speed-limit"], lic["next-renewal-at"], lic["deadline-at"]) == ("free", "1Mbit", "", "")
    _configure(state, server)
    started = time.time()
    run = agent_cli(state, "/system license renew account=alice password=wonderland level=p1")
    assert run.returncode == 0, run.stderr
    statuses = [ln.split(": ", 1)[1] for ln in run.stdout.split("\n") if ln.strip().startswith("status:")]
    assert statuses[0] == "connecting" and statuses[-1] == "done" and "renewing" in statuses
    assert set(statuses) == {"connecting", "renewing", "done"}
    lic = json.loads(agent_cli(state, "/system license print", json_mode=True).stdout)[0]
    assert (lic["level"], lic["speed-limit"], lic["limited-upgrades"]) == ("p1", "1Gbit", "no")
    assert lic["system-id"] == server.sql("SELECT system_id FROM systems")[0][0]
    assert STAMP.fullmatch(lic["next-renewal-at"]) and STAMP.fullmatch(lic["deadline-at"])
    assert abs(_stamp_time(lic["next-renewal-at"]) - (started + 30 * DAY)) < 120
    assert abs(_stamp_time(lic["deadline-at"]) - (started + 60 * DAY)) < 120      # the 60-day trial
    kept = licensekey.parse((state / "license.key").read_text())
    assert (kept.level, kept.trial, kept.serial) == ("p1", True, 1)
    # renewing again: the same trial, a new key
    run = agent_cli(state, "/system license renew account=alice password=wonderland level=p1")
    assert "status: done" in run.stdout
    assert licensekey.parse((state / "license.key").read_text()).serial == 2
    again = json.loads(agent_cli(state, "/system license print", json_mode=True).stdout)[0]
    assert again["level"] == "p1" and again["deadline-at"] == lic["deadline-at"]
    logs = json.loads(agent_cli(state, "/log print", json_mode=True).stdout)
    assert logs[-1]["message"].startswith("license renewed: level p1 (trial), next renewal at ")
    refused = agent_cli(state, "/system license generate-new-id")
    assert refused.returncode != 0
    assert "generate-new-id is allowed only on the free license level" in refused.stdout + refused.stderr
    assert json.loads(agent_cli(state, "/system license print", json_mode=True).stdout)[0]["system-id"] == \
        lic["system-id"]


def test_a_bought_level_arrives_with_the_next_renewal(server, router):
    _configure(router, server)
    assert _renew(router)[-1] == "done"
    system_id = _print(router)["system-id"]
    from tests.license.conftest import server_cli
    server_cli("upgrade", "--db", str(server.db), system_id, "p10")
    assert _renew(router, level="p1")[-1] == "done"
    lic = _print(router)
    assert (lic["level"], lic["speed-limit"]) == ("p10", "10Gbit")
    assert not licensekey.parse(agent_license.LicenseClient(router.driver).key_text()).trial


# -- what leaves the license as it was --------------------------------------------------------------------

def test_wrong_password_is_unauthorized_and_changes_nothing(server, tmp_path):
    state = tmp_path / "chr"
    _configure(state, server)
    run = agent_cli(state, "/system license renew account=alice password=guess level=p1")
    assert run.stdout.strip().split("\n")[-1].strip() == "status: ERROR: Unauthorized"
    lic = json.loads(agent_cli(state, "/system license print", json_mode=True).stdout)[0]
    assert (lic["level"], lic["next-renewal-at"], lic["deadline-at"]) == ("free", "", "")
    assert not (state / "license.key").exists()
    logs = json.loads(agent_cli(state, "/log print", json_mode=True).stdout)
    assert logs[-1]["message"] == "license renew failed: Unauthorized"
    assert server.sql("SELECT COUNT(*) FROM systems") == [(0,)]


def test_server_down_is_a_clear_error(server, router):
    _configure(router, server)
    server.stop()
    statuses = _renew(router)
    assert statuses[0] == "connecting"
    assert statuses[-1] == "ERROR: cannot reach the license server %s: connection refused" % server.address
    assert _print(router)["level"] == "free"


def test_unknown_level_is_refused_before_asking(server, tmp_path):
    state = tmp_path / "chr"
    _configure(state, server)
    run = agent_cli(state, "/system license renew account=alice password=wonderland level=p2")
    assert run.returncode != 0
    assert "level: p2 is not one of p1 | p10 | p-unlimited" in run.stdout + run.stderr
    assert server.sql("SELECT COUNT(*) FROM systems") == [(0,)]


def test_no_trusted_server_key_no_renewal(server, router):
    router.set(LICENSE, [], {"license-server": server.address})
    assert _renew(router) == ["ERROR: no license-server-key is set to check the keys the server signs"]
    assert server.sql("SELECT COUNT(*) FROM systems") == [(0,)]    # no trial was started for nothing
    bad = pytest.raises(Exception, router.set, LICENSE, [], {"license-server-key": "abc"})
    assert "license-server-key: abc is not a base64 key of 32 bytes" in str(bad.value)


def test_a_tampered_key_is_refused(server, servers, router):
    _configure(router, server)
    assert _renew(router)[-1] == "done"
    before = _print(router)
    kept = agent_license.LicenseClient(router.driver).key_text()
    for tampered in (kept.replace("level: p1", "level: p-unlimited"),
                     re.sub(r"deadline-at: \d{4}", "deadline-at: 2099", kept)):
        assert tampered != kept
        rogue = servers.rogue(tampered)
        router.set(LICENSE, [], {"license-server": rogue.address})
        statuses = _renew(router)
        assert statuses[-1] == "ERROR: key refused: its signature does not match: the key was altered"
        assert rogue.requests == ["/v1/challenge", "/v1/renew"]
        after = _print(router)
        assert {k: after[k] for k in ("level", "next-renewal-at", "deadline-at")} == \
            {k: before[k] for k in ("level", "next-renewal-at", "deadline-at")}
        assert agent_license.LicenseClient(router.driver).key_text() == kept
    assert _logs(router)[-1] == "license renew failed: key refused: its signature does not match: the key was altered"


def test_a_key_signed_by_another_server_is_refused(servers, router):
    trusted = servers.start({"alice": "wonderland"}, name="trusted")
    impostor = servers.start({"alice": "wonderland"}, name="impostor")   # the same software, its own key
    _configure(router, trusted)
    router.set(LICENSE, [], {"license-server": impostor.address})
    statuses = _renew(router)
    assert statuses[-1].startswith("ERROR: key refused: it was signed by another server (key ")
    assert "not by license-server-key" in statuses[-1]
    assert _print(router)["level"] == "free"
    assert agent_license.LicenseClient(router.driver).key_text() is None


def test_a_key_for_another_system_id_is_refused(server, servers, tmp_path, clock):
    a = Router(str(tmp_path / "a"), seed=1, clock=clock)
    b = Router(str(tmp_path / "b"), seed=2, clock=clock)
    try:
        for r in (a, b):
            _configure(r, server)
        assert _renew(a)[-1] == "done"
        a_id, b_id = _print(a)["system-id"], _print(b)["system-id"]
        assert a_id != b_id
        rogue = servers.rogue(agent_license.LicenseClient(a.driver).key_text())
        b.set(LICENSE, [], {"license-server": rogue.address})
        assert _renew(b)[-1] == "ERROR: key refused: it is for system ID %s, and this router's is %s" % (a_id, b_id)
        assert _print(b)["level"] == "free"
    finally:
        a.close()
        b.close()


def test_a_second_renew_while_one_runs_is_refused(server, router, tmp_path):
    _configure(router, server)
    first = router.command(LICENSE, "renew", None, {"account": "alice", "password": "wonderland", "level": "p1"})
    assert next(first) == {"status": "connecting"}
    second = router.command(LICENSE, "renew", None, {"account": "alice", "password": "wonderland", "level": "p10"})
    assert list(second) == [{"status": "ERROR: another renewal is already running"}]
    # another process on the same router is told the same
    run = agent_cli(Path(router.state_dir), "/system license renew account=alice password=wonderland level=p1")
    assert "status: ERROR: another renewal is already running" in run.stdout
    assert drain(first)[-1] == "done"
    assert _print(router)["level"] == "p1"
    assert _renew(router)[-1] == "done"                      # and once it ended, renewing works again


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_closing_the_stream_early_stops_the_reporting_not_the_renewal(server, router):
    _configure(router, server)
    rows = router.command(LICENSE, "renew", None, {"account": "alice", "password": "wonderland", "level": "p1"})
    assert next(rows)["status"] == "connecting"
    rows.close()
    # the server registers the trial whatever the router does next; the router takes the key at its next read
    _wait_for(lambda: server.sql("SELECT serial FROM systems") == [(1,)])
    _wait_for(lambda: _print(router)["level"] == "p1")
    assert _logs(router)[-1].startswith("license renewed: level p1 (trial)")
    # a wrong password closed early is logged as such, and changes nothing
    rows = router.command(LICENSE, "renew", None, {"account": "alice", "password": "guess", "level": "p10"})
    next(rows)
    rows.close()
    _wait_for(lambda: "license renew failed: Unauthorized" in _logs(router))
    assert _print(router)["level"] == "p1"


def test_renew_in_a_one_sample_terminal_still_renews(server, router):
    """The desktop's terminal (protocol ``cli``) and ``/import`` show one sample of a stream."""
    from winbox_agent.cli.shell import Interpreter
    _configure(router, server)
    lines: list = []
    interp = Interpreter(router, out=lines.append)
    interp.stop_stream = lambda: True
    interp.run_script("/system license renew account=alice password=wonderland level=p1")
    assert lines[0] == "status: connecting"
    _wait_for(lambda: _print(router)["level"] == "p1")


# -- the schedule and the deadline ----------------------------------------------------------------------------

def test_past_next_renewal_at_a_print_renews_with_the_kept_key(server, router, clock):
    _configure(router, server)
    assert _renew(router)[-1] == "done"
    client = agent_license.LicenseClient(router.driver)
    first = licensekey.parse(client.key_text())
    clock.advance(29 * DAY)
    assert _print(router)["level"] == "p1"
    assert licensekey.parse(client.key_text()).serial == 1          # not due yet
    clock.advance(1 * DAY + 60)
    _print(router)       # due: renews (an answer slower than 2 s is taken at a later read)
    _wait_for(lambda: _print(router) and licensekey.parse(client.key_text()).serial == 2)
    lic = _print(router)
    assert _logs(router)[-1].startswith("license renewed by schedule: level p1 (trial)")
    assert lic["level"] == "p1" and lic["limited-upgrades"] == "no"
    assert server.sql("SELECT serial FROM systems") == [(2,)]
    assert first.deadline_at == licensekey.parse(client.key_text()).deadline_at      # the trial's end
    # this router's clock runs a month ahead of the server's, so the new key is due at once: still hourly
    clock.advance(600)
    _print(router)
    assert server.sql("SELECT serial FROM systems") == [(2,)]
    clock.advance(3600)
    _wait_for(lambda: _print(router) and server.sql("SELECT serial FROM systems") == [(3,)])


def test_deadline_passed_keeps_the_level_with_limited_upgrades(server, router, clock):
    _configure(router, server)
    assert _renew(router, level="p10")[-1] == "done"
    server.stop()
    clock.advance(31 * DAY)
    assert _print(router)["level"] == "p10"
    failed = [m for m in _logs(router) if m.startswith("license renewal failed: cannot reach")]
    assert len(failed) == 1 and failed[0].endswith("trying again in an hour")
    clock.advance(1800)
    _print(router)
    assert len([m for m in _logs(router) if m.startswith("license renewal failed")]) == 1   # once an hour
    clock.advance(1800)
    _print(router)
    assert len([m for m in _logs(router) if m.startswith("license renewal failed")]) == 2
    clock.advance(30 * DAY)
    lic = _print(router)
    assert (lic["level"], lic["speed-limit"], lic["limited-upgrades"]) == ("p10", "10Gbit", "yes")
    router.close()
    reopened = Router(router.state_dir, seed=7, clock=clock)         # and so it stays
    try:
        assert _print(reopened)["limited-upgrades"] == "yes" and _print(reopened)["level"] == "p10"
    finally:
        reopened.close()


def test_a_server_error_stops_the_scheduled_attempts(server, router, clock):
    _configure(router, server)
    assert _renew(router)[-1] == "done"
    server.sql("UPDATE systems SET trial_ends_at = ?", int(time.time()) - 1)
    clock.advance(30 * DAY + 60)
    _wait_for(lambda: _print(router) and any(m.startswith("license renewal refused") for m in _logs(router)))
    refused = [m for m in _logs(router) if m.startswith("license renewal refused by the server")]
    assert len(refused) == 1 and "trial of system ID" in refused[0] and "no more attempts" in refused[0]
    clock.advance(5 * 3600)
    _print(router)
    assert len([m for m in _logs(router) if "license renewal" in m]) == 1
    # the trial's deadline passes: limited upgrades, level kept
    clock.advance(31 * DAY)
    assert (_print(router)["level"], _print(router)["limited-upgrades"]) == ("p1", "yes")


# -- the Renew License dialog's way: the protocol ------------------------------------------------------------

def test_renew_over_the_protocol_streams_its_progress(server, tmp_path):
    from winbox_py.backend.local import inprocess
    from winbox_py.backend.session import Session

    async def go():
        agent = await inprocess(str(tmp_path / "inproc"), seed=1)
        s = await Session.over(agent.transport)
        try:
            await s.set(LICENSE, None, {"license-server": server.address, "license-server-key": server.public_key})
            args = {"account": "alice", "password": "guess", "level": "p1"}
            rows = await asyncio.wait_for(s.command(LICENSE, "renew", args=args, interval=0.1).collect(), 60)
            assert rows[-1] == {"status": "ERROR: Unauthorized"}
            args["password"] = "wonderland"
            rows = await asyncio.wait_for(s.command(LICENSE, "renew", args=args, interval=0.1).collect(), 60)
            statuses = [r["status"] for r in rows]
            assert statuses[0] == "connecting" and statuses[-1] == "done" and "renewing" in statuses
            assert set(statuses) == {"connecting", "renewing", "done"}
            assert _print(agent.router)["level"] == "p1"
        finally:
            await s.close()
            await agent.stop()
    asyncio.run(go())


def test_a_python_without_ssl_says_why_it_cannot_use_https(tmp_path):
    import subprocess
    import sys

    from tests.license.conftest import ENV
    code = (
        "import sys; sys.modules['ssl'] = None\n"
        "from winbox_agent import license\n"
        "try:\n"
        "    license.post('licence.example.net:443', '/v1/challenge', {})\n"
        "except license.NoAnswer as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == ("cannot reach the license server licence.example.net:443: this router's Python "
                                  "has no ssl module for HTTPS"), out.stderr
