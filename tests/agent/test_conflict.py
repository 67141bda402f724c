"""Two desktops editing the same item: the later write of a form loaded
before the first write is refused as a conflict, naming the property and
both values, and nothing is lost silently (see winbox_agent/conflicts.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import refused  # noqa: E402
from winbox_agent.cli.shell import Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402


def form(router: Router, path: str, item: str) -> dict:
    """What a desktop's item dialog is loaded with: the row as print gives it."""
    m = router.menu(path)
    return router.format_row(m, router.row(path, item))


@pytest.fixture
def address(router):
    return router.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1", "comment": "start"})


def test_the_later_of_two_outdated_writes_is_refused_and_the_first_kept(router, address):
    a, b = form(router, "/ip/address", address), form(router, "/ip/address", address)
    router.set("/ip/address", [address], {"comment": "from A"}, session="A", expect={"comment": a["comment"]})
    rev = router.store.revision
    err = refused(router.set, "/ip/address", [address], {"comment": "from B"}, session="B",
                  expect={"comment": b["comment"]})
    assert err.category == "conflict" and err.prop == "comment"
    assert err.message == ("comment: /ip address 10.0.0.1/24 was changed since the form was loaded (by A, "
                           "revision %d): it is \"from A\" now, the form had start" % rev)
    assert router.store.get(address)["comment"] == "from A"
    assert router.store.revision == rev


def test_writes_of_different_properties_both_land(router, address):
    a, b = form(router, "/ip/address", address), form(router, "/ip/address", address)
    router.set("/ip/address", [address], {"comment": "from A"}, expect={"comment": a["comment"]})
    router.set("/ip/address", [address], {"disabled": "yes"}, expect={"disabled": b["disabled"]})
    item = router.store.get(address)
    assert item["comment"] == "from A" and item["disabled"] is True


def test_a_strict_form_sends_every_value_it_showed(router, address):
    b = form(router, "/ip/address", address)
    router.set("/ip/address", [address], {"disabled": "yes"}, session="A")
    shown = {k: v for k, v in b.items() if not k.startswith(".")}
    err = refused(router.set, "/ip/address", [address], {"comment": "B"}, expect=shown)
    assert err.prop == "disabled" and "it is yes now, the form had no" in err.message
    # read-only values the form showed (network, or a live one) are not a write: not compared
    b2 = form(router, "/ip/address", address)
    b2["network"] = "192.0.2.0"
    router.set("/ip/address", [address], {"comment": "B"},
               expect={k: v for k, v in b2.items() if not k.startswith(".")})
    assert router.store.get(address)["comment"] == "B"


def test_a_rename_meanwhile_is_a_conflict_for_a_form_that_showed_the_old_name(router):
    pool = router.add("/ip/pool", {"name": "office", "ranges": "10.0.0.10-10.0.0.20"})
    prof = router.add("/ppp/profile", {"name": "vpn", "remote-address": "office"})
    loaded = form(router, "/ppp/profile", prof)
    router.set("/ip/pool", [pool], {"name": "hq"})
    # the reference did not change: only its name did, and the form shows names
    err = refused(router.set, "/ppp/profile", [prof], {"remote-address": "hq"},
                  expect={"remote-address": loaded["remote-address"]})
    assert err.prop == "remote-address" and "it is hq now, the form had office" in err.message


def test_the_item_revision_catches_any_change_since(router, address):
    loaded_at = router.store.revision
    router.set("/ip/address", [address], {"comment": "x"}, expect={".revision": str(loaded_at)})
    err = refused(router.set, "/ip/address", [address], {"disabled": "yes"}, expect={".revision": str(loaded_at)})
    assert err.category == "conflict" and "was changed since the form was loaded" in err.message
    # another item's changes do not count
    other = router.add("/ip/address", {"address": "10.0.1.1/24", "interface": "ether2"})
    now = router.store.revision
    router.set("/ip/address", [address], {"comment": "y"})
    router.set("/ip/address", [other], {"comment": "z"}, expect={".revision": str(now)})
    assert refused(router.set, "/ip/address", [address], {}, expect={".revision": "soon"}).category == "argument"


def test_a_secret_changed_meanwhile_is_not_shown(router):
    s = router.add("/ppp/secret", {"name": "u", "password": "Alpha-1"})
    loaded = router.format_row(router.menu("/ppp/secret"), router.row("/ppp/secret", s), sensitive=True)
    router.set("/ppp/secret", [s], {"password": "Bravo-2"})
    err = refused(router.set, "/ppp/secret", [s], {"password": "Charlie-3"}, expect={"password": loaded["password"]})
    assert err.prop == "password" and "values not shown" in err.message
    assert "Alpha" not in err.message and "Bravo" not in err.message and "Charlie" not in err.message
    assert router.store.get(s)["password"] == "Bravo-2"


def test_settings_menus_and_unset_are_checked_too(router):
    loaded = form(router, "/system/identity", router.single_id(router.menu("/system/identity")))
    router.set("/system/identity", [], {"name": "first"})
    err = refused(router.set, "/system/identity", [], {"name": "second"}, expect={"name": loaded["name"]})
    assert err.message.startswith("name: /system identity was changed since the form was loaded")
    a = router.add("/ip/address", {"address": "10.0.2.1/24", "interface": "ether1", "comment": "c"})
    router.set("/ip/address", [a], {"comment": "d"})
    err = refused(router.unset, "/ip/address", [a], ["comment"], expect={"comment": "c"})
    assert err.category == "conflict" and router.store.get(a)["comment"] == "d"


def test_an_unknown_property_in_expect_is_an_argument_error(router, address):
    err = refused(router.set, "/ip/address", [address], {"comment": "x"}, expect={"colour": "red"})
    assert err.category == "argument" and err.prop == "colour"


def test_the_cli_writes_without_expectations(router, address):
    sh = Interpreter(router, out=lambda text: None)
    router.set("/ip/address", [address], {"comment": "elsewhere"})
    sh.run_script("/ip address set [find address=10.0.0.1/24] comment=mine")
    assert router.store.get(address)["comment"] == "mine"
