"""The live figure helpers (winbox_py.backend.livestats, the graph's scale):
rates read and written as RouterOS prints them, rates from counter deltas,
the history ring buffer."""

from __future__ import annotations

import pytest

from winbox_py.backend.livestats import (RATE_FIELDS, History, RateTracker, format_bps, format_pps,
                                         has_counters, parse_rate)
from winbox_py.views.trafficgraph import nice_ceiling


@pytest.mark.parametrize("text, bits", [("950bps", 950), ("288.5kbps", 288500), ("1.9Mbps", 1.9e6),
                                        ("2.0Gbps", 2e9), ("737", 737), ("12.4 kbps", 12400), ("0", 0)])
def test_rates_as_routeros_prints_them_are_read(text, bits):
    assert parse_rate(text) == pytest.approx(bits)


@pytest.mark.parametrize("text", ["", "fast", "kbps", "-3kbps", "1.2.3"])
def test_what_is_not_a_rate_is_none(text):
    assert parse_rate(text) is None


def test_rates_are_written_with_the_unit_that_fits():
    assert [format_bps(b) for b in (0, 950, 12400, 1.94e6, 2e9)] == \
        ["0 bps", "950 bps", "12.4 kbps", "1.9 Mbps", "2.0 Gbps"]
    assert format_pps(736.6) == "737"
    for b in (0, 999, 1000, 123456, 9.99e8):  # what is written reads back to about the same
        assert parse_rate(format_bps(b)) == pytest.approx(b, rel=0.06, abs=1)


def _row(rx_byte, tx_byte, rx_packet, tx_packet):
    return {"rx-byte": str(rx_byte), "tx-byte": str(tx_byte), "rx-packet": str(rx_packet),
            "tx-packet": str(tx_packet)}


def test_rates_come_from_the_deltas_between_readings():
    t = RateTracker()
    assert t.update("*1", _row(1000, 500, 10, 5), 100.0) == {f: "" for f in RATE_FIELDS}  # nothing to compare
    rates = t.update("*1", _row(126000, 2500, 110, 25), 102.0)  # 2 s later
    assert rates == {"rx-rate": "500.0 kbps", "tx-rate": "8.0 kbps", "rx-packet-rate": "50",
                     "tx-packet-rate": "10"}
    # another item is tracked on its own
    assert t.update("*2", _row(1, 1, 1, 1), 102.0)["rx-rate"] == ""
    # the same counters again (no change sent): the shown rate stays until the item is idle
    assert t.update("*1", _row(126000, 2500, 110, 25), 102.5) == rates
    assert t.idle("*1", 103.0) is None
    assert t.idle("*1", 104.6) == {"tx-rate": "0 bps", "rx-rate": "0 bps", "tx-packet-rate": "0",
                                   "rx-packet-rate": "0"}
    assert t.idle("*1", 105.0) is None  # said once


def test_counters_that_go_back_start_over_and_zero_counters_mean_nothing_flows():
    t = RateTracker()
    t.update("*1", _row(5000, 5000, 50, 50), 10.0)
    assert t.update("*1", _row(0, 0, 0, 0), 11.0) == {"tx-rate": "0 bps", "rx-rate": "0 bps",
                                                      "tx-packet-rate": "0", "rx-packet-rate": "0"}
    t.update("*1", _row(4000, 4000, 40, 40), 12.0)
    assert t.update("*1", _row(3000, 9000, 30, 90), 13.0)["rx-rate"] == ""  # went down: unknown
    t.forget("*1")
    assert t.known() == []


def test_the_history_keeps_the_last_samples_only():
    h = History(("tx", "rx"), capacity=3)
    for n in range(5):
        h.add(float(n), (n, 10 * n))
    assert len(h) == 3
    assert h.values("rx") == [20.0, 30.0, 40.0]
    assert h.last() == (4.0, (4.0, 40.0))
    assert h.peak() == 40.0
    with pytest.raises(ValueError, match="needs 2 values"):
        h.add(5.0, (1,))
    h.clear()
    assert len(h) == 0 and h.peak() == 0.0


def test_the_graph_scale_is_a_round_number_above_the_peak():
    assert [nice_ceiling(v) for v in (0, 900, 1001, 1900, 2001, 4999, 5001, 1.9e6, 7e9)] == \
        [1000, 1000, 2000, 2000, 5000, 5000, 10000, 2e6, 1e10]


def test_only_menus_with_every_counter_get_rates():
    props = [{"name": n} for n in ("name", "rx-byte", "tx-byte", "rx-packet", "tx-packet")]
    assert has_counters({"props": props})
    assert not has_counters({"props": props[:-1]})


def test_the_graph_spans_at_least_a_minute_and_at_most_what_it_keeps(qapp):
    from winbox_py.views.trafficgraph import SERIES, TrafficGraph
    h = History(SERIES, capacity=300)
    graph = TrafficGraph(h)
    for t in range(3):
        h.add(float(t), (1, 2, 3, 4))
    assert graph.span() == 60.0  # a new graph: three seconds are a twentieth of the width, not 1/150
    for t in range(3, 200):
        h.add(float(t), (1, 2, 3, 4))
    assert graph.span() == 199.0
    for t in range(200, 700):
        h.add(float(t), (1, 2, 3, 4))
    assert graph.span() == 299.0 and len(h) == 300  # the last five minutes
    graph.deleteLater()


def test_interface_tables_show_rates_where_the_counters_were():
    from winbox_py.views.tablelive import live_default_columns
    props = [{"name": n} for n in ("name", "type", "rx-byte", "tx-byte", "rx-packet", "tx-packet", "comment")]
    menu = {"props": props, "columns": ["name", "type", "rx-byte", "tx-byte"]}
    assert live_default_columns(menu) == [".flags", "name", "type", "tx-rate", "rx-rate", "tx-packet-rate",
                                          "rx-packet-rate", "comment"]
    menu["columns"] = ["name"]
    assert live_default_columns(menu)[-1] == "comment" and "tx-rate" in live_default_columns(menu)
    assert live_default_columns({"props": props[:2], "columns": ["name"]}) == [".flags", "name"]
