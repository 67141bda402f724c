"""The router's rules for items: references by id, removal, names, required
properties, defaults, enable/disable/comment, order, copy-from, default names.

Most rules are checked on every declared menu, with items generated from the
schema (see test_export_roundtrip.fill), so menus added later are covered too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import refused  # noqa: E402
from winbox_agent.errors import RouterError  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402

from tests.agent.test_export_roundtrip import Filler, fill, options, writable_menus  # noqa: E402


@pytest.fixture
def router():
    r = Router(None, seed=3)     # in memory: no state file to write on every change
    yield r
    r.close()


@pytest.fixture(scope="module")
def filled():
    """A router with items in every writable menu (shared: tests copy what they change)."""
    r = Router(None, seed=4)
    f = fill(r)
    yield r, f
    r.close()


def unchanged(router: Router):
    """Asserts nothing was committed by what runs inside."""
    class Guard:
        def __enter__(self):
            self.rev = router.store.revision
            self.items = {p: [dict(i) for i in items] for p, items in router.store.menus.items()}

        def __exit__(self, *exc):
            assert router.store.revision == self.rev
            assert {p: [dict(i) for i in items] for p, items in router.store.menus.items()} == self.items
    return Guard()


def _ether(router, name):
    return router.find("/interface/ethernet", name)


# --- references ---------------------------------------------------------------------


def test_renaming_an_interface_renames_it_where_it_is_used(router):
    ether1 = _ether(router, "ether1")
    addr = router.add("/ip/address", {"address": "10.0.2.1/24", "interface": "ether1"})
    m = router.menu("/ip/address")
    assert router.store.get(addr)["interface"] == ether1          # stored as the id
    router.set("/interface/ethernet", [ether1], {"name": "wan"})
    assert router.format_row(m, router.row("/ip/address", addr))["interface"] == "wan"
    assert router.find("/interface/ethernet", "wan") == ether1
    iface_rows = {r["name"]: r for r in router.rows("/interface")}
    assert "wan" in iface_rows and "ether1" not in iface_rows


def test_renaming_a_pool_renames_next_pool(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24"})
    b = router.add("/ip/pool", {"name": "b", "ranges": "10.0.1.0/24", "next-pool": "a"})
    router.set("/ip/pool", [a], {"name": "first"})
    assert router.format_row(router.menu("/ip/pool"), router.row("/ip/pool", b))["next-pool"] == "first"


def test_every_reference_follows_a_rename(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        name = m.prop("name")
        if name is None or name.readonly:
            continue
        for it in list(router.store.items(m.path)):
            users = router.users_of(it[".id"])
            if not users:
                continue
            new = "renamed-%s" % it[".id"][1:]
            old = router.name_of(it[".id"])
            try:
                router.set(m.path, [it[".id"]], {"name": new})
            except RouterError as exc:
                assert exc.prop == "name", exc.message   # a menu whose names are fixed says so
                continue
            try:
                for upath, uid, prop in users:
                    um = REGISTRY[upath]
                    text = router.format_row(um, router.row(upath, uid), sensitive=True)[prop]
                    assert new in text.split(","), "%s %s %s shows %r after renaming %s" % (
                        upath, uid, prop, text, m.path)
                    checked += 1
            finally:
                router.set(m.path, [it[".id"]], {"name": old})
    assert checked >= 3


def test_a_referenced_item_cannot_be_removed(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24"})
    router.add("/ip/pool", {"name": "b", "ranges": "10.0.1.0/24", "next-pool": "a"})
    with unchanged(router):
        err = refused(router.remove, "/ip/pool", [a])
    assert err.category == "conflict"
    assert err.message == "a is in use by /ip pool b (next-pool) and cannot be removed"
    # removing the user along with it is fine
    router.remove("/ip/pool", [router.find("/ip/pool", "b"), a])
    assert router.store.items("/ip/pool") == []


def test_no_referenced_item_of_any_menu_can_be_removed(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        if not m.can_remove:
            continue
        for it in router.store.items(m.path):
            users = [u for u in router.users_of(it[".id"]) if u[1] != it[".id"]]
            if not users or it.get(".factory"):
                continue
            with unchanged(router):
                err = refused(router.remove, m.path, [it[".id"]])
            upath, uid, prop = users[0]
            assert err.category == "conflict", err.message
            assert "in use by" in err.message and router.name_of(uid) in err.message and prop in err.message
            checked += 1
    assert checked >= 2


def test_factory_items_cannot_be_removed(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        if not m.factory or m.factory_removable:
            continue
        for it in router.store.items(m.path):
            if not it.get(".factory"):
                continue
            with unchanged(router):
                err = refused(router.remove, m.path, [it[".id"]])
            assert err.category in ("denied", "conflict"), err.message
            assert "cannot be removed" in err.message
            checked += 1
    assert checked >= 5   # at least the ethernet ports


def test_removing_the_same_item_twice_in_one_command_removes_it_once(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24"})
    router.remove("/ip/pool", [a, a])
    assert router.store.get(a) is None


# --- names ---------------------------------------------------------------------------


def test_names_are_unique_in_a_menu(router):
    router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24"})
    with unchanged(router):
        err = refused(router.add, "/ip/pool", {"name": "a", "ranges": "10.0.1.0/24"})
    assert err.message == "name: a already exists" and err.prop == "name" and err.category == "conflict"
    b = router.add("/ip/pool", {"name": "b", "ranges": "10.0.1.0/24"})
    with unchanged(router):
        assert refused(router.set, "/ip/pool", [b], {"name": "a"}).message == "name: a already exists"


def test_interface_names_are_unique_across_interface_types(filled):
    router, _ = filled
    with unchanged(router):
        err = refused(router.set, "/interface/ethernet", [_ether(router, "ether2")], {"name": "ether1"})
    assert err.message == "name: ether1 already exists"
    checked = []
    for m in router.interface_menus():
        if not m.can_add or m.prop("name") is None or m.prop("name").readonly:
            continue
        made = [it[".id"] for it in router.store.items(m.path)]
        assert made, "%s: no item was made" % m.path
        with unchanged(router):
            err = refused(router.set, m.path, [made[0]], {"name": "ether1"})
        assert err.prop == "name" and "ether1" in err.message, (m.path, err.message)
        checked.append(m.path)
    if not checked:
        pytest.skip("no interface menu besides ethernet can add items yet")


def test_names_are_unique_in_every_menu(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        name = m.prop("name")
        if not m.can_add or name is None or name.readonly:
            continue
        items = [it for it in router.store.items(m.path) if not it.get(".factory")]
        if len(items) < 2:
            continue
        taken = router.name_of(items[0][".id"])
        with unchanged(router):
            err = refused(router.set, m.path, [items[1][".id"]], {"name": taken})
        assert err.prop == "name" and "already exists" in err.message, (m.path, err.message)
        checked += 1
    assert checked >= 3


# --- required and default values ---------------------------------------------------------


def test_required_properties(router):
    with unchanged(router):
        err = refused(router.add, "/ip/address", {"address": "10.0.2.1/24"})
    assert err.message == "interface: must be set" and err.prop == "interface"
    addr = router.add("/ip/address", {"address": "10.0.2.1/24", "interface": "ether1"})
    with unchanged(router):
        err = refused(router.unset, "/ip/address", [addr], ["interface"])
    assert "interface" in err.message and "required" in err.message


def test_every_required_property_is_asked_for(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        if not m.can_add:
            continue
        required = [p for p in m.writable_props if p.required and not callable(p.default)]
        for p in required:
            values = {}
            for q in m.writable_props:
                if q.required and q.name != p.name:
                    opts = options(router, q, 7)
                    assert opts, "%s %s: no value could be generated" % (m.path, q.name)
                    values[q.name] = opts[0]
            with unchanged(router):
                err = refused(router.add, m.path, values)
            assert err.message == "%s: must be set" % p.name, (m.path, values, err.message)
            checked += 1
    assert checked >= 3


def test_unset_returns_to_the_default(router):
    ether1 = _ether(router, "ether1")
    router.set("/interface/ethernet", [ether1], {"mtu": "1400", "arp": "proxy-arp"})
    assert router.row("/interface/ethernet", ether1)["mtu"] == 1400
    router.unset("/interface/ethernet", [ether1], ["mtu", "arp"])
    row = router.row("/interface/ethernet", ether1)
    assert row["mtu"] == 1500 and row["arp"] == "enabled"
    with unchanged(router):
        assert refused(router.unset, "/interface/ethernet", [ether1], ["mac-address"]).message == \
            "mac-address is read-only"
        assert refused(router.unset, "/interface/ethernet", [ether1], ["bogus"]).message == "unknown parameter bogus"


def test_unset_returns_every_property_to_its_default(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        items = router.store.items(m.path)
        if not items:
            continue
        item_id = items[-1][".id"]
        for p in m.writable_props:
            if p.required or callable(p.default) or p.name == "name" or p.name not in router.store.get(item_id):
                continue
            before = router.store.get(item_id)[p.name]
            try:
                router.unset(m.path, [] if m.single else [item_id], [p.name])
            except RouterError as exc:
                # a menu's own rule may need the value; then it says which
                assert exc.prop is not None or any(q.name in exc.message for q in m.props), exc.message
                continue
            stored = router.store.get(item_id)
            view = router.view(m, stored, runtime=False)
            derived = m.derive(router, dict(view, **{p.name: p.default})) if m.derive else {}
            if p.name in stored:        # the device filled in its own (a generated MAC address)
                assert stored[p.name] != before, (m.path, p.name)
            elif p.name not in derived:  # else computed from other values
                assert view.get(p.name) == p.default, (m.path, p.name)
            router.set(m.path, [] if m.single else [item_id], {p.name: p.type.format(before, router)})
            checked += 1
    assert checked >= 20


def test_setting_what_is_there_makes_no_revision(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24", "comment": "x"})
    events = []
    router.listeners.append(lambda rev, changes: events.append(rev))
    rev = router.store.revision
    assert router.set("/ip/pool", [a], {"comment": "x", "ranges": "10.0.0.0/24"}) == rev
    assert router.store.revision == rev and events == []
    router.set("/ip/pool", [a], {"comment": "y"})
    assert router.store.revision == rev + 1 and events == [rev + 1]


def test_read_only_properties_cannot_be_set(router):
    addr = router.add("/ip/address", {"address": "10.0.2.1/24", "interface": "ether1"})
    with unchanged(router):
        err = refused(router.set, "/ip/address", [addr], {"network": "10.0.0.0"})
    assert err.message == "network is read-only" and err.category == "denied"
    assert router.row("/ip/address", addr)["network"] == "10.0.2.0"


def test_unknown_items(router):
    with unchanged(router):
        assert refused(router.set, "/ip/pool", ["*FFFF"], {"comment": "x"}).message == "no such item (*FFFF)"
        assert refused(router.find, "/ip/pool", "nothing").message == "no such item (nothing)"
        assert refused(router.menu, "/ip/nothing").category == "missing"


# --- enable, disable, comment --------------------------------------------------------------


def test_enable_disable_and_comment(router):
    ether1 = _ether(router, "ether1")
    m = router.menu("/interface/ethernet")
    router.disable("/interface/ethernet", [ether1])
    row = router.format_row(m, router.row("/interface/ethernet", ether1))
    assert row["disabled"] == "yes" and "X" in row[".flags"] and "R" not in row[".flags"]
    router.enable("/interface/ethernet", [ether1])
    row = router.format_row(m, router.row("/interface/ethernet", ether1))
    assert row["disabled"] == "no" and "X" not in row[".flags"] and "R" in row[".flags"]
    router.comment("/interface/ethernet", [ether1], "uplink to ISP")
    assert router.row("/interface/ethernet", ether1)["comment"] == "uplink to ISP"
    with unchanged(router):
        assert "cannot be disabled" in refused(router.disable, "/ip/pool", []).message


def test_every_menu_with_disabled_can_be_disabled_and_enabled(filled):
    router, _ = filled
    checked = 0
    for m in writable_menus():
        if m.prop("disabled") is None or m.single:
            continue
        items = router.store.items(m.path)
        if not items:
            continue
        item_id = items[-1][".id"]
        router.disable(m.path, [item_id])
        assert router.row(m.path, item_id)["disabled"] is True
        flags = router.format_row(m, router.row(m.path, item_id))[".flags"]
        if any(f.letter == "X" for f in m.flags):
            assert "X" in flags, m.path
        router.enable(m.path, [item_id])
        assert router.row(m.path, item_id)["disabled"] is False
        checked += 1
    assert checked >= 3


# --- order and copies -----------------------------------------------------------------------


def _order(router, path):
    return [it[".id"] for it in router.store.items(path)]


def test_move_keeps_the_order_of_the_moved_items(router):
    ordered = [m for m in writable_menus() if m.ordered and m.can_add]
    m = ordered[0] if ordered else router.menu("/ip/pool")
    f = Filler(router)
    ids = [f.add(m) for _ in range(5)]
    assert all(ids), f.failed
    a, b, c, d, e = ids
    router.move(m.path, [d, b], a)
    assert _order(router, m.path) == [d, b, a, c, e]
    router.move(m.path, [d, a], None)              # to the end
    assert _order(router, m.path) == [b, c, e, d, a]
    router.move(m.path, [a], b)
    assert _order(router, m.path) == [a, b, c, e, d]
    # print lists them in that order
    assert [r[".id"] for r in router.rows(m.path) if not r.get(".dynamic")] == [a, b, c, e, d]


def test_copy_from_copies_everything_but_the_name(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24", "comment": "orig"})
    b = router.add("/ip/pool", {"name": "b"}, copy_from=a)
    assert router.store.get(b)["ranges"] == ["10.0.0.0/24"] and router.store.get(b)["comment"] == "orig"
    c = router.add("/ip/pool", {"name": "c", "comment": "changed"}, copy_from=a)
    assert router.store.get(c)["comment"] == "changed"
    assert router.store.get(a)["comment"] == "orig"


def test_place_before(router):
    a = router.add("/ip/pool", {"name": "a", "ranges": "10.0.0.0/24"})
    b = router.add("/ip/pool", {"name": "b", "ranges": "10.0.1.0/24"})
    c = router.add("/ip/pool", {"name": "c", "ranges": "10.0.2.0/24"}, place_before=b)
    assert _order(router, "/ip/pool") == [a, c, b]


# --- generated names -----------------------------------------------------------------------


def _named_menus():
    return [m for m in writable_menus() if m.default_name and m.can_add]


def test_default_names_count_up(router):
    menus = _named_menus()
    if not menus:
        pytest.skip("no menu declares a default name (like pppoe-out{n}) yet")
    f = Filler(router)
    for m in menus:
        taken = {router.name_of(it[".id"]) for path in REGISTRY for it in router.store.items(path)}
        free = [m.default_name.format(n=n) for n in range(1, 100) if m.default_name.format(n=n) not in taken]
        first = f.add(m, skip=("name",))
        second = f.add(m, skip=("name",))
        assert first and second, "%s: %s" % (m.path, f.failed)
        assert [router.name_of(first), router.name_of(second)] == free[:2], m.path
        # a freed name is given again
        router.remove(m.path, [first])
        third = f.add(m, skip=("name",))
        assert router.name_of(third) == free[0], m.path


def test_default_name_skips_a_name_taken_by_another_interface(router):
    menus = [m for m in _named_menus() if m.interface_type]
    if not menus:
        pytest.skip("no interface menu declares a default name yet")
    m = menus[0]
    taken = m.default_name.format(n=1)
    router.set("/interface/ethernet", [_ether(router, "ether5")], {"name": taken})
    made = Filler(router).add(m, skip=("name",))
    assert made and router.name_of(made) == m.default_name.format(n=2)
