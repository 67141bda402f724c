"""The configuration store: crash safety, history with inverses, ids, file modes.

The crash test runs a real child process that commits revisions in a loop and
SIGKILLs it at random moments; after every kill the state directory must load
with at least every revision the child had reported as committed.
"""

from __future__ import annotations

import copy
import json
import os
import random
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.errors import RouterError  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.store import STATE_FILE, Change, Store  # noqa: E402

ITEMS = "/test/items"
COUNTER = "/test/counter"

# The child: every revision adds one item and sets the counter item to the
# revision number, both in one commit; it prints "REV ID" once apply() returns.
CHILD = r"""
import sys
from winbox_agent.store import Change, Store

store = Store(sys.argv[1])
counter = store.items("/test/counter")
while True:
    changes = [Change("/test/items", store.new_id(), None,
                      {"n": store.revision + 1, "payload": "x" * 300})]
    if counter:
        before = {k: v for k, v in counter[0].items() if k != ".id"}
        changes.append(Change("/test/counter", counter[0][".id"], before, {"value": store.revision + 1}))
    else:
        changes.append(Change("/test/counter", store.new_id(), None, {"value": store.revision + 1}))
    rev = store.apply(changes, note="child")
    counter = store.items("/test/counter")
    print(rev, changes[0].id, flush=True)
"""


def _agent_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "agent") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_a_committed_revision(tmp_path):
    state = tmp_path / "state"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    reported: dict[str, int] = {}      # item id -> revision that added it
    last_reported = 0
    kills = 50
    for k in range(kills):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(state)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=_agent_env(), text=True)
        try:
            time.sleep(rng.uniform(0.05, 0.45))
        finally:
            child.kill()
            out, err = child.communicate(timeout=30)
        assert child.returncode == -9, "child ended by itself (seed %d): %s" % (seed, err[-500:])
        for line in out.splitlines():
            rev, item_id = line.split()
            reported[item_id] = int(rev)
            last_reported = max(last_reported, int(rev))

        loaded = Store(str(state))
        where = "after kill %d (seed %d)" % (k + 1, seed)
        assert loaded.revision >= last_reported, where
        items = {it[".id"]: it for it in loaded.items(ITEMS)}
        missing = [i for i in reported if i not in items]
        assert not missing, "%s: committed items missing: %s" % (where, missing[:5])
        for item_id, rev in reported.items():
            assert items[item_id]["n"] == rev, where
        # each revision added exactly one item and set the counter to itself
        assert len(items) == loaded.revision, where
        assert sorted(it["n"] for it in items.values()) == list(range(1, loaded.revision + 1)), where
        counter = loaded.items(COUNTER)
        assert len(counter) == (1 if loaded.revision else 0), where
        if counter:
            assert counter[0]["value"] == loaded.revision, where
    # the kills did land among commits, not only before the first one
    assert last_reported > kills, "only %d revisions committed in %d runs (seed %d)" % (last_reported, kills, seed)
    # half-written files of the dead writers are gone once the store loads
    assert [n for n in os.listdir(state) if n.startswith(".tmp-")] == []


def test_a_running_writers_temporary_file_is_left_alone(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    mine = state / (".tmp-%d-abc" % os.getpid())
    mine.write_text("in progress")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = state / (".tmp-%s-xyz" % dead.stdout.strip())
    gone.write_text("torn")
    Store(str(state))
    assert mine.exists() and not gone.exists()


def _items(store: Store) -> dict:
    return copy.deepcopy({p: items for p, items in store.menus.items() if items})


def _inverse(entry: dict) -> list:
    return [Change.from_json(c).inverse() for c in reversed(entry["changes"])]


def _pool(router: Router, name: str) -> str:
    return router.add("/ip/pool", {"name": name, "ranges": "10.%d.0.0/24" % (len(router.store.items("/ip/pool")) + 1)})


def test_inverse_of_every_revision_restores_the_items_before_it(tmp_path):
    router = Router(str(tmp_path / "state"))
    ops = [
        lambda r: _pool(r, "a"),
        lambda r: _pool(r, "b"),
        lambda r: _pool(r, "c"),
        lambda r: _pool(r, "d"),
        lambda r: _pool(r, "e"),
        lambda r: r.set("/ip/pool", [r.find("/ip/pool", "a")], {"comment": "first"}),
        lambda r: r.set("/ip/pool", [r.find("/ip/pool", "c"), r.find("/ip/pool", "d")], {"next-pool": "a"}),
        lambda r: r.unset("/ip/pool", [r.find("/ip/pool", "a")], ["comment"]),
        lambda r: r.move("/ip/pool", [r.find("/ip/pool", "e")], r.find("/ip/pool", "a")),
        lambda r: r.move("/ip/pool", [r.find("/ip/pool", "a"), r.find("/ip/pool", "b")], None),
        lambda r: r.remove("/ip/pool", [r.find("/ip/pool", "e"), r.find("/ip/pool", "b")]),
        lambda r: r.set("/system/identity", [], {"name": "edge"}),
        lambda r: _pool(r, "f"),
        lambda r: _pool(r, "g"),
        # several items at once, in list order and against it
        lambda r: r.remove("/ip/pool", [it[".id"] for it in r.store.items("/ip/pool")[:2]]),
        lambda r: r.remove("/ip/pool", [it[".id"] for it in r.store.items("/ip/pool")[::-1][:2]]),
    ]
    for op in ops:
        before = _items(router.store)
        op(router)
        after = _items(router.store)
        assert after != before
        entry = router.store.history[-1]
        assert entry["rev"] == router.store.revision
        # undo: the inverse brings back exactly what was there, in the same order
        router.store.apply(_inverse(entry), note="undo")
        assert _items(router.store) == before, entry["note"]
        # redo: replaying the recorded changes gives the state after the operation
        router.store.apply([Change.from_json(c) for c in entry["changes"]], note="redo")
        assert _items(router.store) == after, entry["note"]
    router.close()


def test_history_records_before_and_after_of_each_change(tmp_path):
    router = Router(str(tmp_path / "state"))
    pool = _pool(router, "a")
    router.set("/ip/pool", [pool], {"comment": "hello"})
    router.remove("/ip/pool", [pool])
    add, change, remove = ([Change.from_json(c) for c in e["changes"]] for e in router.store.history[-3:])
    assert [c.op for c in add] == ["add"] and add[0].after["name"] == "a"
    assert [c.op for c in change] == ["set"]
    assert change[0].before.get("comment", "") == "" and change[0].after["comment"] == "hello"
    assert [c.op for c in remove] == ["remove"] and remove[0].before["comment"] == "hello"
    assert remove[0].inverse().op == "add" and remove[0].inverse().after == remove[0].before
    router.close()
    # the history survives a restart
    again = Store(str(tmp_path / "state"))
    assert [e["note"] for e in again.history[-3:]] == ["add /ip/pool", "set /ip/pool", "remove /ip/pool"]


def test_set_keeps_the_item_in_its_place(tmp_path):
    router = Router(str(tmp_path / "state"))
    ids = [_pool(router, n) for n in "abc"]
    router.set("/ip/pool", [ids[0]], {"comment": "still first"})
    assert [it[".id"] for it in router.store.items("/ip/pool")] == ids
    router.close()


def test_ids_are_never_reused(tmp_path):
    state = str(tmp_path / "state")
    router = Router(state)
    seen = {it[".id"] for items in router.store.menus.values() for it in items}
    first = _pool(router, "a")
    second = _pool(router, "b")
    assert first not in seen and second not in seen and first != second
    seen |= {first, second}
    # removing the newest item does not free its id
    router.remove("/ip/pool", [second])
    third = _pool(router, "c")
    assert third not in seen
    seen.add(third)
    # nor does undoing the add that made it
    entry = router.store.history[-1]
    router.store.apply(_inverse(entry), note="undo")
    fourth = _pool(router, "d")
    assert fourth not in seen
    seen.add(fourth)
    router.close()
    # nor a restart
    router = Router(state)
    fifth = _pool(router, "e")
    assert fifth not in seen
    assert int(fifth[1:], 16) > max(int(i[1:], 16) for i in seen)
    router.close()


def test_state_file_is_private(tmp_path):
    state = tmp_path / "state"
    router = Router(str(state))
    _pool(router, "a")
    router.close()
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    for name in os.listdir(state):
        assert stat.S_IMODE(os.stat(state / name).st_mode) == 0o600, name
    assert (state / STATE_FILE).exists()


@pytest.mark.parametrize("text, message", [
    (json.dumps({"format": 99, "revision": 3}), "unknown state format 99"),
    ('{"format": 1, "revision": 3, "menus": {', "is not a readable configuration"),
    ("[]", "unknown state format"),
])
def test_an_unreadable_state_is_refused_not_overwritten(tmp_path, text, message):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / STATE_FILE).write_text(text)
    with pytest.raises(RouterError, match=message):
        Store(str(state))
    assert (state / STATE_FILE).read_text() == text
    # the agent says so and stops, leaving the file for a person to look at
    env = dict(_agent_env())
    r = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state), "cli", "-c", "/ip pool print"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and message in r.stderr
    assert "Traceback" not in r.stderr
    assert (state / STATE_FILE).read_text() == text


def test_batch_writes_once_at_the_end(tmp_path):
    state = tmp_path / "state"
    store = Store(str(state))
    with store.batch():
        for n in range(3):
            store.apply([Change(ITEMS, store.new_id(), None, {"n": n})])
        assert not (state / STATE_FILE).exists()
    assert Store(str(state)).revision == 3
