"""Undo and redo reach the system: on real namespaces, /undo takes an
address and a route out of the kernel and /redo puts them back, because an
undo is a change like any other and goes through the linux driver."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]


def _addresses(host, ifname: str) -> list[str]:
    return ["%s/%s" % (a["local"], a["prefixlen"]) for link in host.addrs() if link["ifname"] == ifname
            for a in link.get("addr_info", []) if a.get("family") == "inet"]


def _routes(host, dst: str) -> list[str]:
    return [r.get("gateway", "") for r in host.json(["ip", "-j", "route", "show", dst])]


def test_undo_and_redo_take_addresses_and_routes_out_of_the_kernel_and_back(lab):
    a, b = lab.host("a"), lab.host("b")
    lab.link(a, "eth1", b, "eth1")
    b.cli("/ip address add address=10.7.0.2/24 interface=eth1\n/ip address add address=10.99.0.1/24 interface=eth1")
    a.cli("/ip address add address=10.7.0.1/24 interface=eth1")
    a.cli("/ip route add dst-address=10.99.0.0/24 gateway=10.7.0.2")
    assert a.wait_ping("10.99.0.1"), "the route does not carry a's ping to b"

    a.cli("/undo")
    assert _routes(a, "10.99.0.0/24") == []
    assert not a.ping("10.99.0.1")
    a.cli("/undo")
    assert _addresses(a, "eth1") == []

    a.cli("/redo")
    assert _addresses(a, "eth1") == ["10.7.0.1/24"]
    a.cli("/redo")
    assert _routes(a, "10.99.0.0/24") == ["10.7.0.2"]
    assert a.wait_ping("10.99.0.1")
    history = a.rows("/system history")
    assert [h["action"] for h in history[:2]] == ["redo: item added /ip route 10.99.0.0/24",
                                                  "redo: item added /ip address 10.7.0.1/24"]
