"""Undo and redo: every step taken back and done again restores the
configuration exactly, through the driver like any change; steps that would
lose or break something are refused as conflicts; each router has its own
history, and ``/system history`` says what each step did and who did it."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import refused  # noqa: E402
from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402


def config(router: Router) -> dict:
    """Every stored item of every menu, in order (empty menus left out)."""
    return {p: copy.deepcopy(items) for p, items in router.store.menus.items() if items}


# --- a workload of varied steps ---------------------------------------------------------


class Workload:
    """Takes random valid steps on a router: adds, sets, unsets, renames,
    removals, moves, enable/disable, settings menus and references."""

    def __init__(self, router: Router, seed: int):
        self.r = router
        self.rng = random.Random(seed)
        self.n = 0

    def _ids(self, path: str) -> list[str]:
        return [it[".id"] for it in self.r.store.items(path)]

    def step(self) -> str:
        """Take one step that commits a revision; returns what it was."""
        self.n += 1
        n, r, rng = self.n, self.r, self.rng
        choices = ["pool", "address", "rule", "identity", "dns"]
        if self._ids("/ip/address"):
            choices += ["comment", "disable", "remove-address", "unset-comment"]
        if self._ids("/ip/pool"):
            choices += ["rename-pool", "profile"]
        if len(self._ids("/ip/firewall/filter")) > 1:
            choices += ["move"]
        if self._ids("/ppp/profile") and any(not it.get(".factory") for it in r.store.items("/ppp/profile")):
            choices += ["remove-profile"]
        kind = rng.choice(choices)
        if kind == "pool":
            r.add("/ip/pool", {"name": "pool%d" % n, "ranges": "10.%d.%d.10-10.%d.%d.20" % (n // 200, n % 200,
                                                                                              n // 200, n % 200)})
        elif kind == "address":
            r.add("/ip/address", {"address": "10.%d.%d.1/24" % (100 + n // 200, n % 200),
                                  "interface": rng.choice(["ether1", "ether2"])})
        elif kind == "rule":
            r.add("/ip/firewall/filter", {"chain": rng.choice(["input", "forward"]), "action": "accept",
                                          "comment": "rule %d" % n})
        elif kind == "identity":
            r.set("/system/identity", [], {"name": "router-%d" % n})
        elif kind == "dns":
            r.set("/ip/dns", [], {"servers": "192.0.2.%d" % (n % 250 + 1)})
        elif kind == "comment":
            r.set("/ip/address", [rng.choice(self._ids("/ip/address"))], {"comment": "note %d" % n})
        elif kind == "unset-comment":
            item = rng.choice(self._ids("/ip/address"))
            if not r.store.get(item).get("comment"):
                r.set("/ip/address", [item], {"comment": "c %d" % n})
            else:
                r.unset("/ip/address", [item], ["comment"])
        elif kind == "disable":
            item = rng.choice(self._ids("/ip/address"))
            (r.enable if r.store.get(item).get("disabled") else r.disable)("/ip/address", [item])
        elif kind == "remove-address":
            r.remove("/ip/address", [rng.choice(self._ids("/ip/address"))])
        elif kind == "rename-pool":
            r.set("/ip/pool", [rng.choice(self._ids("/ip/pool"))], {"name": "renamed%d" % n})
        elif kind == "profile":
            pool = r.name_of(rng.choice(self._ids("/ip/pool")))
            r.add("/ppp/profile", {"name": "prof%d" % n, "remote-address": pool})
        elif kind == "remove-profile":
            mine = [it[".id"] for it in r.store.items("/ppp/profile") if not it.get(".factory")]
            r.remove("/ppp/profile", [rng.choice(mine)])
        elif kind == "move":
            ids = self._ids("/ip/firewall/filter")
            r.move("/ip/firewall/filter", [ids[-1]], ids[0])
        return kind


def test_120_steps_undone_then_redone_restore_every_state_exactly(tmp_path):
    r = Router(str(tmp_path), seed=7)
    work = Workload(r, seed=11)
    states = [config(r)]
    kinds = set()
    for _ in range(120):
        rev = r.store.revision
        kinds.add(work.step())
        assert r.store.revision == rev + 1, "a workload step committed nothing"
        states.append(config(r))
    assert {"pool", "address", "rule", "move", "remove-address", "rename-pool", "profile"} <= kinds, kinds

    for k in range(120, 0, -1):
        r.undo(session="test")
        assert config(r) == states[k - 1], "undo number %d did not restore the state before step %d" % (121 - k, k)
    assert refused(r.undo).message == "nothing to undo"

    for k in range(1, 121):
        r.redo(session="test")
        assert config(r) == states[k], "redo of step %d did not restore the state after it" % k
    assert refused(r.redo).message == "nothing to redo"
    r.close()

    # the stacks live in the history: a new process sees them
    again = Router(str(tmp_path), seed=7)
    assert config(again) == states[-1]
    assert len(again.history.undoable()) == 120
    again.undo()
    assert config(again) == states[-2]
    again.close()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), steps=st.integers(1, 25), back=st.integers(0, 25))
def test_any_sequence_undone_part_way_and_redone_comes_back(seed, steps, back):
    r = Router(None, seed=1)
    work = Workload(r, seed)
    states = [config(r)]
    for _ in range(steps):
        work.step()
        states.append(config(r))
    back = min(back, steps)
    for _ in range(back):
        r.undo()
    assert config(r) == states[steps - back]
    for _ in range(back):
        r.redo()
    assert config(r) == states[steps]
    r.close()


def test_a_new_change_clears_what_could_be_redone(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.1-10.0.0.9"})
    router.undo()
    assert router.store.get(a) is None and router.history.redoable()
    router.add("/ip/pool", {"name": "b", "ranges": "10.0.1.1-10.0.1.9"})
    assert router.history.redoable() == []
    assert refused(router.redo).message == "nothing to redo"


def test_undo_restores_a_removed_item_in_its_place_with_its_references(router):
    p1 = router.add("/ip/pool", {"name": "p1", "ranges": "10.0.0.1-10.0.0.9"})
    rules = [router.add("/ip/firewall/filter", {"chain": "input", "comment": "r%d" % i}) for i in range(4)]
    prof = router.add("/ppp/profile", {"name": "dial", "remote-address": "p1"})
    router.remove("/ip/firewall/filter", [rules[1], rules[2]])
    router.remove("/ppp/profile", [prof])
    router.undo()
    assert router.store.get(prof)["remote-address"] == p1
    router.undo()
    assert [it[".id"] for it in router.store.items("/ip/firewall/filter")] == rules


# --- through the driver ----------------------------------------------------------------------


def test_an_undo_the_driver_refuses_changes_nothing():
    """The simulated MetaROUTER refuses a disk smaller than what the machine
    uses by now: undoing the step that made its disk unlimited is refused by
    the driver, as the same change typed in would be."""
    now = [1000.0]
    r = Router(None, seed=2, clock=lambda: now[0])
    mr = r.add("/metarouter", {"name": "mr0"})
    now[0] += 10
    r.set("/metarouter", [mr], {"disk-size": "1000"})
    r.set("/metarouter", [mr], {"disk-size": "unlimited"})
    now[0] += 40000                                     # the machine writes to its disk
    before, rev = config(r), r.store.revision
    err = refused(r.undo)
    assert err.prop == "disk-size" and "less than" in err.message and "cannot undo revision" in err.message
    assert config(r) == before and r.store.revision == rev
    assert r.history.undoable()[-1] == rev              # still there to undo later
    r.close()


def test_undoing_the_removal_of_a_virtual_machine_brings_its_disk_back(tmp_path):
    """The sim puts a removed machine's disk aside; undo goes through the
    driver, which brings it back with the guest's configuration on it."""
    r = Router(str(tmp_path), seed=3)
    out: list[str] = []
    sh = Interpreter(r, out=out.append)
    sh.run_script("/metarouter add name=mr0\n"
                  '/metarouter console mr0 command="/system identity set name=guest-one"')
    mr = r.find("/metarouter", "mr0")
    r.remove("/metarouter", [mr])
    with pytest.raises(CliError, match="no such item"):
        sh.run_script('/metarouter console mr0 command="/system identity print"')
    r.undo()
    out.clear()
    sh.run_script('/metarouter console mr0 command="/system identity print"')
    assert any("guest-one" in line for line in out), out
    r.close()


# --- conflicts ---------------------------------------------------------------------------------


def test_undoing_an_add_that_something_now_refers_to_is_a_conflict(router):
    router.add("/ip/pool", {"name": "office", "ranges": "10.0.0.10-10.0.0.20"})
    add_rev = router.store.revision
    router.add("/ppp/profile", {"name": "vpn", "remote-address": "office"})
    before = config(router)
    err = refused(router.undo, revision=add_rev)
    assert err.category == "conflict"
    assert err.message == ("cannot undo revision %d (item added /ip pool office): /ip pool office is now used "
                           "by /ppp profile vpn (remote-address)" % add_rev)
    assert config(router) == before
    # taken back in order, both go
    router.undo()
    router.undo(revision=add_rev)
    assert router.store.items("/ip/pool") == []


def test_undoing_a_set_whose_property_changed_since_names_both_values(router):
    a = router.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1"})
    router.set("/ip/address", [a], {"comment": "first"})
    first = router.store.revision
    router.set("/ip/address", [a], {"comment": "second", "disabled": "yes"})
    err = refused(router.undo, revision=first)
    assert err.category == "conflict" and err.prop == "comment"
    assert err.message == ("cannot undo revision %d (item changed /ip address 10.0.0.1/24 (comment)): comment of "
                           "/ip address 10.0.0.1/24 was changed since: it is second now, the step left it first"
                           % first)


def test_selective_undo_keeps_later_changes_to_other_properties(router):
    a = router.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1"})
    router.set("/ip/address", [a], {"comment": "x"})
    rev = router.store.revision
    router.disable("/ip/address", [a])
    router.undo(revision=rev)
    assert router.store.get(a).get("comment") is None and router.store.get(a)["disabled"] is True
    # and redo puts the comment back without touching disabled
    router.redo()
    assert router.store.get(a)["comment"] == "x" and router.store.get(a)["disabled"] is True


def test_undoing_a_removal_whose_name_was_taken_since_is_a_conflict(router):
    p = router.add("/ip/pool", {"name": "p", "ranges": "10.0.0.1-10.0.0.2"})
    router.remove("/ip/pool", [p])
    removal = router.store.revision
    router.add("/ip/pool", {"name": "p", "ranges": "10.0.1.1-10.0.1.2"})
    err = refused(router.undo, revision=removal)
    assert err.category == "conflict" and err.prop == "name" and "p already exists" in err.message


def test_undoing_a_removal_of_an_item_whose_reference_is_gone_is_a_conflict(router):
    router.add("/ip/pool", {"name": "p", "ranges": "10.0.0.1-10.0.0.2"})
    prof = router.add("/ppp/profile", {"name": "vpn", "remote-address": "p"})
    router.remove("/ppp/profile", [prof])
    removal = router.store.revision
    router.remove("/ip/pool", [router.find("/ip/pool", "p")])
    err = refused(router.undo, revision=removal)
    assert err.category == "conflict" and err.prop == "remote-address"
    assert err.message.endswith("remote-address: /ppp profile vpn refers to /ip pool p, which was removed since")


def test_a_secret_changed_since_is_not_shown_in_the_conflict(router):
    s = router.add("/ppp/secret", {"name": "u", "password": "Alpha-Secret-1"})
    router.set("/ppp/secret", [s], {"password": "Bravo-Secret-2"})
    rev = router.store.revision
    router.set("/ppp/secret", [s], {"password": "Charlie-Secret-3"})
    err = refused(router.undo, revision=rev)
    assert err.prop == "password" and "Secret" not in err.message and "values not shown" in err.message


# --- per router, CLI and history list -----------------------------------------------------------


def test_each_router_has_its_own_history(tmp_path):
    a = Router(str(tmp_path / "a"), seed=1)
    b = Router(str(tmp_path / "b"), seed=1)
    a.add("/ip/pool", {"name": "only-a", "ranges": "10.0.0.1-10.0.0.2"})
    b.set("/system/identity", [], {"name": "bee"})
    a.undo()
    assert a.store.items("/ip/pool") == []
    assert b.store.items("/system/identity")[0]["name"] == "bee"
    assert refused(a.undo).message == "nothing to undo"
    b.undo()
    assert "name" not in b.store.items("/system/identity")[0]
    a.close()
    b.close()


def test_undo_of_my_own_latest_step_leaves_the_other_session_alone(router):
    router.add("/ip/pool", {"name": "mine", "ranges": "10.0.0.1-10.0.0.2"}, session="desk-a")
    router.add("/ip/pool", {"name": "theirs", "ranges": "10.0.1.1-10.0.1.2"}, session="desk-b")
    router.undo(session="desk-a", mine=True)
    assert [it["name"] for it in router.store.items("/ip/pool")] == ["theirs"]
    assert refused(router.undo, session="desk-a", mine=True).message == "nothing to undo of this session"


def _agent(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    return subprocess.run([sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", str(state),
                           "cli", *args], capture_output=True, text=True, env=env, timeout=60)


def test_cli_undo_redo_and_system_history_across_runs(tmp_path):
    state = tmp_path / "state"
    assert _agent(state, "-c", "/ip address add address=10.0.0.1/24 interface=ether1").returncode == 0
    assert _agent(state, "-c", "/ip address set [find address=10.0.0.1/24] comment=uplink").returncode == 0
    assert _agent(state, "-c", "/undo").returncode == 0
    out = _agent(state, "--json", "-c", "/system history print")
    rows = json.loads(out.stdout)
    assert [r["action"] for r in rows] == ["undo: item changed /ip address 10.0.0.1/24 (comment)",
                                          "item changed /ip address 10.0.0.1/24 (comment)",
                                          "item added /ip address 10.0.0.1/24"]
    assert [(r["undoable"], r["redoable"]) for r in rows] == [("no", "no"), ("no", "yes"), ("yes", "no")]
    assert rows[2]["by"] == rows[1]["by"] != ""
    assert [int(r["revision"]) for r in rows] == sorted((int(r["revision"]) for r in rows), reverse=True)
    table = _agent(state, "-c", "/system history print").stdout
    assert "Flags: U - UNDOABLE; R - REDOABLE" in table
    assert any(line.split()[1:2] == ["U"] and "item added /ip address 10.0.0.1/24" in line
               for line in table.splitlines()), table
    assert _agent(state, "-c", "/redo").returncode == 0
    rows = json.loads(_agent(state, "--json", "-c", "/ip address print").stdout)
    assert rows[0]["comment"] == "uplink"
    bad = _agent(state, "-c", "/redo")
    assert bad.returncode == 1 and "nothing to redo" in bad.stderr


def test_undo_in_a_menu_and_abbreviations_stay_as_they_were(router):
    out: list[str] = []
    sh = Interpreter(router, out=out.append)
    sh.run_script("/ip address add address=10.0.0.1/24 interface=ether1 comment=x")
    sh.run_script("/ip address\nun 0 comment")       # "un" is still unset, not undo
    assert "comment" not in router.store.items("/ip/address")[0]
    sh.run_script("undo")                              # undo typed in full works in a menu
    assert router.store.items("/ip/address")[0]["comment"] == "x"
    with pytest.raises(CliError, match="unexpected argument now"):
        sh.run_script("/undo now")


def test_history_keeps_at_least_a_hundred_steps_after_a_thousand():
    r = Router(None, seed=1)
    for n in range(1100):
        r.set("/system/identity", [], {"name": "n%d" % n})
    assert len(r.history.undoable()) >= 100
    for _ in range(100):
        r.undo()
    assert r.store.items("/system/identity")[0]["name"] == "n999"
    r.close()


def test_what_one_command_adds_is_one_step(router):
    """wg-import adds an interface, its address and its peer: one /undo takes
    them all back, one /redo brings them all again."""
    sh = Interpreter(router, out=lambda text: None)
    before = config(router)
    sh.run_script('/interface wireguard wg-import config-string="[Interface]\\n'
                  'PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\\nAddress = 10.8.0.1/24\\n'
                  '[Peer]\\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\\nAllowedIPs = 10.8.0.2/32\\n"')
    after = config(router)
    assert len(router.store.items("/interface/wireguard/peers")) == 1
    row = router.history.rows()[0]
    assert row["undoable"] and "wg-import" not in row["action"]
    sh.run_script("/undo")
    assert config(router) == before
    assert router.history.rows()[0]["action"].startswith("undo: /interface wireguard wg-import: item added "
                                                         "/interface wireguard wireguard1; item added /ip address")
    sh.run_script("/redo")
    assert config(router) == after
