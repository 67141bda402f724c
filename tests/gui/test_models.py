"""The table model: listings in batches, live changes, sort and filter in
Python, checked by qtmodeltester after each step."""

from __future__ import annotations

import pytest

from winbox_py.backend.models import TableModel
from winbox_py.backend.tabledata import Rule, columns_for, default_columns, title
from winbox_py.qt import Qt

pytestmark = pytest.mark.gui

MENU = {
    "path": "/interface/ethernet",
    "columns": ["name", "mtu", "mac-address"],
    "props": [
        {"name": "name", "type": {"kind": "name"}},
        {"name": "mtu", "type": {"kind": "int"}},
        {"name": "mac-address", "type": {"kind": "mac"}},
        {"name": "address", "type": {"kind": "address"}},
        {"name": "password", "type": {"kind": "string"}, "secret": True},
        {"name": "comment", "type": {"kind": "string"}},
    ],
}


def row(n: int, mtu: int = 1500, flags: str = "", address: str = "", comment: str = "") -> dict:
    return {".id": "*%X" % n, ".flags": flags, "name": "ether%d" % n, "mtu": str(mtu),
            "mac-address": "02:00:00:00:00:%02X" % n, "address": address, "comment": comment}


def shown(model: TableModel, field: str = "name") -> list[str]:
    c = model.column_of(field)
    return [model.index(r, c).data() for r in range(model.rowCount())]


@pytest.fixture
def model(qapp, qtmodeltester):
    m = TableModel(columns_for(MENU))
    qtmodeltester.check(m)
    yield m
    qtmodeltester.check(m)


def test_columns_come_from_the_schema_without_secrets():
    cols = columns_for(MENU)
    assert [c.field for c in cols] == [".flags", "name", "mtu", "mac-address", "address", "comment"]
    assert [c.title for c in cols][:4] == ["", "Name", "MTU", "MAC Address"]
    assert default_columns(MENU) == [".flags", "name", "mtu", "mac-address", "comment"]
    assert title("max-mru") == "Max MRU"


def test_a_listing_arrives_in_batches_then_ready(model, qtbot):
    with qtbot.wait_signal(model.ready, timeout=2000):
        model.feed({"op": "rows", "rows": [row(i) for i in range(1, 4)]})
        model.feed({"op": "rows", "rows": [row(i) for i in range(4, 6)]})
        model.feed({"op": "ready"})
    assert shown(model) == ["ether1", "ether2", "ether3", "ether4", "ether5"]
    assert model.loaded


def test_live_add_set_remove_apply_in_place(model, qtmodeltester):
    model.feed_rows([row(i) for i in range(1, 6)])
    model.feed({"op": "set", "row": row(3, mtu=9000)})
    model.feed({"op": "remove", "row": {".id": "*2"}})
    model.feed({"op": "add", "row": row(7)})
    model.flush()
    qtmodeltester.check(model)
    assert shown(model) == ["ether1", "ether3", "ether4", "ether5", "ether7"]
    assert model.value("*3", "mtu") == "9000"
    assert model.total == 5


def test_sort_numbers_as_numbers_and_both_ways(model):
    model.feed_rows([row(1, 1500), row(2, 100), row(3, 65535), row(4, 1500)])
    mtu = model.column_of("mtu")
    model.sort(mtu, Qt.AscendingOrder)
    assert shown(model, "mtu") == ["100", "1500", "1500", "65535"]
    assert shown(model) == ["ether2", "ether1", "ether4", "ether3"]
    model.sort(mtu, Qt.DescendingOrder)
    assert shown(model) == ["ether3", "ether1", "ether4", "ether2"]
    model.sort(-1)
    assert shown(model) == ["ether1", "ether2", "ether3", "ether4"]


def test_sorted_tables_keep_order_under_live_changes(model, qtmodeltester):
    model.feed_rows([row(i, 1000 + i) for i in range(1, 6)])
    model.sort(model.column_of("mtu"), Qt.DescendingOrder)
    model.feed({"op": "set", "row": row(1, 9999)})
    model.feed({"op": "add", "row": row(9, 1003)})
    model.flush()
    qtmodeltester.check(model)
    assert shown(model) == ["ether1", "ether5", "ether4", "ether3", "ether9", "ether2"]


def test_addresses_sort_by_octets(model):
    model.feed_rows([row(1, address="10.0.0.10/24"), row(2, address="10.0.0.9/24"),
                     row(3, address="9.1.1.1/8")])
    model.sort(model.column_of("address"))
    assert shown(model, "address") == ["9.1.1.1/8", "10.0.0.9/24", "10.0.0.10/24"]


def test_filter_stack_and_quick_find(model, qtmodeltester):
    model.feed_rows([row(i, 1500 if i % 2 else 9000, comment="uplink" if i == 3 else "") for i in range(1, 9)])
    mtu = model.column_of("mtu")
    model.set_filter([Rule(mtu, "is", "9000")])
    assert shown(model) == ["ether2", "ether4", "ether6", "ether8"]
    model.set_filter([Rule(mtu, "is not", "9000"), Rule(model.column_of("name"), "in", "ether1, ether3,ether4")])
    assert shown(model) == ["ether1", "ether3"]
    model.set_filter([], find="UPLINK")
    assert shown(model) == ["ether3"]
    # a live change that makes a hidden row match shows it, in order
    model.feed({"op": "set", "row": row(7, comment="uplink 2")})
    model.flush()
    qtmodeltester.check(model)
    assert shown(model) == ["ether3", "ether7"]
    model.set_filter([], find="")
    assert len(shown(model)) == 8


def test_rows_are_coloured_by_state(model):
    from winbox_py.backend.models import STATE_ROLE
    from winbox_py.views.rowdelegate import colour_of
    model.feed_rows([row(1, flags="X"), row(2, flags="R"), row(3, flags="I")])
    assert colour_of(model.index(0, 1).data(STATE_ROLE)).name() == "#808080"
    assert colour_of(model.index(1, 1).data(STATE_ROLE)) is None
    assert colour_of(model.index(2, 1).data(STATE_ROLE)).name() == "#c81e1e"


def test_a_burst_of_changes_resets_instead_of_row_by_row(model, qtmodeltester, qtbot):
    model.feed_rows([row(i) for i in range(1, 201)])
    with qtbot.wait_signal(model.modelReset, timeout=1000):
        for i in range(1, 201, 2):
            model.feed({"op": "remove", "row": {".id": "*%X" % i}})
        model.flush()
    qtmodeltester.check(model)
    assert model.rowCount() == 100


def test_sort_keys_stay_current_through_changes_filters_and_re_sorts(model, qtmodeltester):
    model.feed_rows([row(i, 1000 + i) for i in range(1, 7)])
    mtu, name = model.column_of("mtu"), model.column_of("name")
    model.sort(mtu, Qt.AscendingOrder)
    model.set_filter([Rule(name, "in", "ether1,ether2,ether3")])
    model.feed({"op": "set", "row": row(5, 1)})      # hidden row changes its sort value
    model.feed({"op": "set", "row": row(2, 5000)})   # shown row moves to the end
    model.feed({"op": "remove", "row": {".id": "*3"}})
    model.flush()
    qtmodeltester.check(model)
    assert shown(model) == ["ether1", "ether2"]
    model.set_filter([])
    assert shown(model) == ["ether5", "ether1", "ether4", "ether6", "ether2"]
    model.sort(name, Qt.DescendingOrder)
    model.sort(mtu, Qt.DescendingOrder)
    assert shown(model) == ["ether2", "ether6", "ether4", "ether1", "ether5"]
