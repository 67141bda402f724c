"""Ethernet ports, bridges and host interfaces the configuration does not
know, on real namespaces."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]


def test_factory_ethernet_ports_are_the_hosts_nics(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "wan0", peer, "x0")
    lab.link(a, "lan0", peer, "x1")
    links = a.links()
    rows = a.rows("/interface ethernet")
    assert [r["name"] for r in rows] == ["wan0", "lan0"]          # lo left out, system names kept
    assert [r["default-name"] for r in rows] == ["wan0", "lan0"]
    assert rows[0]["mac-address"] == links["wan0"]["address"].upper()
    # a factory port is enabled: the agent brought it up
    assert "UP" in a.links()["wan0"]["flags"]
    res = a.cli("/interface ethernet set wan0 mac-address=02:00:00:00:00:01", check=False)
    assert res.returncode != 0 and "mac-address is read-only" in res.stderr


def test_ethernet_mtu_disable_and_rename_reach_the_kernel(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    a.cli("/interface ethernet set eth1 mtu=1400 name=uplink")
    link = a.links()["uplink"]
    assert link["mtu"] == 1400 and "UP" in link["flags"]
    a.cli("/interface ethernet disable uplink")
    assert "UP" not in a.links()["uplink"]["flags"]
    assert a.rows("/interface ethernet")[0]["running"] == "no"
    a.cli("/interface ethernet enable uplink\n/ip address add address=10.6.0.1/24 interface=uplink")
    peer.run(["ip", "link", "set", "eth1", "up"])
    peer.run(["ip", "addr", "add", "10.6.0.2/24", "dev", "eth1"])
    assert a.wait_ping("10.6.0.2")
    row = [r for r in a.rows("/interface") if r["name"] == "uplink"][0]
    assert row["running"] == "yes" and int(row["rx-byte"]) > 0 and int(row["tx-byte"]) > 0


def test_bridge_joins_two_hosts_across_a_third(lab):
    a, sw, b = lab.host("a"), lab.host("switch"), lab.host("b")
    lab.link(a, "eth1", sw, "port1")
    lab.link(b, "eth1", sw, "port2")
    a.cli("/ip address add address=10.3.0.1/24 interface=eth1")
    b.cli("/ip address add address=10.3.0.2/24 interface=eth1")
    sw.cli("/interface bridge add name=bridge1 protocol-mode=none")
    assert not a.ping("10.3.0.2"), "a reaches b before the ports are in the bridge"
    sw.cli("/interface bridge port add interface=port1 bridge=bridge1\n"
           "/interface bridge port add interface=port2 bridge=bridge1")
    links = sw.links()
    assert links["port1"]["master"] == "bridge1" and links["port2"]["master"] == "bridge1"
    assert a.wait_ping("10.3.0.2"), "no traffic across the bridge"
    ports = sw.rows("/interface bridge port")
    assert [p["status"] for p in ports] == ["in-bridge", "in-bridge"]
    eth = {r["name"]: r for r in sw.rows("/interface")}
    assert eth["bridge1"]["running"] == "yes"

    # a disabled port leaves the bridge; removing the bridge deletes it
    sw.cli("/interface bridge port disable [find interface=port2]")
    assert "master" not in sw.links()["port2"]
    assert not a.ping("10.3.0.2")
    sw.cli("/interface bridge port remove [find]\n/interface bridge remove bridge1")
    assert "bridge1" not in sw.links()


def test_bridge_settings_reach_the_kernel(lab):
    sw = lab.host("switch")
    sw.cli("/interface bridge add name=br0 protocol-mode=stp priority=0x1000 forward-delay=10s ageing-time=1m "
           "igmp-snooping=yes comment=core")
    info = sw.links()["br0"]["linkinfo"]["info_data"]
    assert info["stp_state"] == 1 and info["priority"] == 0x1000
    assert info["forward_delay"] == 1000 and info["ageing_time"] == 6000 and info["mcast_snooping"] == 1
    assert sw.links()["br0"]["ifalias"] == "core"
    sw.cli("/interface bridge set br0 protocol-mode=none name=br1")
    links = sw.links()
    assert "br0" not in links and links["br1"]["linkinfo"]["info_data"]["stp_state"] == 0


def test_host_interfaces_unknown_to_the_configuration_are_dynamic_and_usable(lab):
    a = lab.host("a")
    peer = lab.host("p")
    lab.link(a, "eth1", peer, "eth1")
    a.cli("/interface print")                     # the factory configuration is made now
    lab.link(a, "late0", peer, "late0")           # a NIC that appears afterwards
    peer.run(["ip", "link", "set", "late0", "up"])
    peer.run(["ip", "addr", "add", "10.8.0.2/24", "dev", "late0"])
    rows = {r["name"]: r for r in a.rows("/interface")}
    assert rows["late0"][".dynamic"] == "yes" and "eth1" in rows and ".dynamic" not in rows["eth1"]
    # it can be used: an address on it works and shows its name
    a.run(["ip", "link", "set", "late0", "up"])
    a.cli("/ip address add address=10.8.0.1/24 interface=late0")
    assert a.wait_ping("10.8.0.2")
    addr = [r for r in a.rows("/ip address") if r["address"] == "10.8.0.1/24"][0]
    assert addr["interface"] == "late0" and ".dynamic" not in addr
    # a dynamic interface cannot be changed through the configuration
    res = a.cli("/interface ethernet set late0 mtu=1400", check=False)
    assert res.returncode != 0 and "dynamic" in res.stderr
