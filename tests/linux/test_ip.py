"""Addresses, routes and DNS applied by the linux driver, proven on real
namespaces: packets get through (ping), the kernel's tables say so, and a
change that fails half way leaves the system as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.linux.netlab import CommandError, three_hosts

pytestmark = [pytest.mark.root, pytest.mark.netns]


def test_addresses_and_routes_carry_traffic_between_hosts(lab):
    a, r, b = three_hosts(lab)
    assert a.wait_ping("10.1.0.1"), "a cannot reach its neighbour r"
    assert not a.ping("10.2.0.2"), "a reaches b before any route exists"

    a.cli("/ip route add dst-address=10.2.0.0/24 gateway=10.1.0.1")
    b.cli("/ip route add gateway=10.2.0.1")
    assert a.wait_ping("10.2.0.2"), "the routes did not carry a's ping through r to b"

    # the kernel has the static route with the configured distance as metric
    routes = a.json(["ip", "-j", "route", "show", "10.2.0.0/24"])
    assert [(x.get("gateway"), x.get("metric")) for x in routes] == [("10.1.0.1", 1)]
    rows = a.rows("/ip route")
    static = [x for x in rows if x["dst-address"] == "10.2.0.0/24"]
    connected = [x for x in rows if x["dst-address"] == "10.1.0.0/24"]
    assert static[0]["active"] == "yes" and static[0]["immediate-gw"] == "10.1.0.1%eth1"
    assert ".dynamic" not in static[0]
    assert connected[0][".dynamic"] == "yes" and connected[0]["gateway"] == "eth1"
    assert connected[0]["distance"] == "0" and connected[0]["pref-src"] == "10.1.0.2"
    table = a.cli("/ip route print").stdout
    assert any(ln.split()[1:3] == ["ADC", "10.1.0.0/24"] for ln in table.splitlines() if ln.split()), table

    # removing the route takes it out of the kernel: b is unreachable again
    a.cli("/ip route remove [find dst-address=10.2.0.0/24]")
    assert a.json(["ip", "-j", "route", "show", "10.2.0.0/24"]) == []
    assert not a.ping("10.2.0.2")


def test_route_through_an_unreachable_gateway_is_inactive_until_it_is_reachable(lab):
    a, r, b = three_hosts(lab)
    a.cli("/ip route add dst-address=10.9.0.0/24 gateway=10.5.0.1")
    row = [x for x in a.rows("/ip route") if x["dst-address"] == "10.9.0.0/24"][0]
    assert row["active"] == "no", "a route through an unreachable gateway shows active"
    a.cli("/ip address add address=10.5.0.2/24 interface=eth1")
    row = [x for x in a.rows("/ip route") if x["dst-address"] == "10.9.0.0/24"][0]
    assert row["active"] == "yes"
    assert a.json(["ip", "-j", "route", "show", "10.9.0.0/24"])[0]["gateway"] == "10.5.0.1"


def test_disabled_address_leaves_the_kernel_and_comes_back(lab):
    a, r, b = three_hosts(lab)
    a.cli("/ip address disable [find address=10.1.0.2/24]")
    assert not any(i["local"] == "10.1.0.2" for x in a.addrs() for i in x["addr_info"])
    a.cli("/ip address enable [find address=10.1.0.2/24]")
    assert a.wait_ping("10.1.0.1")


def test_addresses_the_host_had_are_left_alone_and_listed_dynamic(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    a.run(["ip", "addr", "add", "192.168.50.5/24", "dev", "eth1"])
    a.cli("/ip address add address=10.1.0.2/24 interface=eth1")
    rows = a.rows("/ip address")
    dyn = [x for x in rows if x["address"] == "192.168.50.5/24"]
    assert dyn and dyn[0][".dynamic"] == "yes" and dyn[0]["interface"] == "eth1"
    a.cli("/ip address remove [find address=10.1.0.2/24]")
    kept = [i["local"] for x in a.addrs() for i in x["addr_info"]]
    assert "192.168.50.5" in kept and "10.1.0.2" not in kept


def test_saved_configuration_is_restored_when_the_agent_starts(lab):
    a, r, b = three_hosts(lab)
    a.cli("/ip route add dst-address=10.2.0.0/24 gateway=10.1.0.1")
    b.cli("/ip route add gateway=10.2.0.1")
    assert a.wait_ping("10.2.0.2")
    # the system loses what the agent set (as after a reboot) ...
    a.run(["ip", "addr", "flush", "dev", "eth1"])
    a.run(["ip", "link", "set", "eth1", "down"])
    assert not a.ping("10.1.0.1")
    # ... and the next start of the agent puts it back
    a.cli("/system identity print")
    assert a.wait_ping("10.2.0.2"), "the agent did not restore addresses and routes at start"


def test_a_change_failing_half_way_leaves_the_system_as_before(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    lab.link(a, "taken0", peer, "other0")       # a host interface the configuration does not know
    a.cli("/ip address add address=10.7.7.1/24 interface=eth1")
    before_addr = a.addrs()
    before_link = a.links()["eth1"]
    # mtu and comment are applied, then the rename fails: the name is taken on the host
    res = a.cli('/interface ethernet set eth1 mtu=1400 comment="half way" name=taken0', check=False)
    assert res.returncode != 0
    assert "taken0" in res.stderr and "already" in res.stderr
    after_link = a.links()["eth1"]
    assert after_link["mtu"] == before_link["mtu"] == 1500
    assert after_link.get("ifalias", "") == before_link.get("ifalias", "")
    assert a.addrs() == before_addr
    # and the configuration did not change either
    eth = [x for x in a.rows("/interface ethernet") if x["name"] == "eth1"][0]
    assert eth["mtu"] == "1500" and eth["comment"] == ""


def test_dns_servers_go_to_the_resolver_file_and_the_old_one_comes_back(lab):
    a = lab.host("a")
    resolv = Path("/etc/netns/%s/resolv.conf" % a.ns)
    original = resolv.read_text()
    a.cli("/ip dns set servers=10.1.1.1,10.1.1.2")
    text = a.run(["cat", "/etc/resolv.conf"]).stdout
    assert [ln.split()[1] for ln in text.splitlines() if ln.startswith("nameserver")] == ["10.1.1.1", "10.1.1.2"]
    a.cli("/ip dns set servers=\"\"")
    assert resolv.read_text() == original


def test_dns_remote_requests_are_reported_not_ignored(lab):
    a = lab.host("a")
    a.cli("/ip dns set servers=10.1.1.1 allow-remote-requests=yes")
    log = [x["message"] for x in a.rows("/log")]
    assert any(m.startswith("ip dns: allow-remote-requests") and "no DNS server" in m for m in log), log


def test_interface_comment_and_name_with_shell_metacharacters_go_through_untouched(lab, tmp_path):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    canary = tmp_path / "canary"
    comment = 'a;rm -rf / $(touch %s) `touch %s` | x' % (canary, canary)
    a.cli('/interface ethernet set eth1 comment="%s"' % comment)
    assert a.links()["eth1"]["ifalias"] == comment
    name = "e;id>q&$(x)"
    a.cli('/interface ethernet set eth1 name="%s"' % name)
    assert name in a.links()
    a.cli('/ip address add address=10.4.4.1/24 interface="%s"' % name)
    assert any(x["ifname"] == name and x["addr_info"] for x in a.addrs())
    assert not canary.exists()


def test_linux_refuses_interface_names_it_cannot_hold(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    with pytest.raises(CommandError, match="longer than the 15 characters"):
        a.cli("/interface ethernet set eth1 name=averyveryverylongname")
    assert "eth1" in a.links()
