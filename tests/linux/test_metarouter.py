"""MetaROUTER on Linux: a virtual machine is a network namespace with a
guest router; vifN veth pairs join it to the host.  Document 001's WISP
example, steps 1-6, typed as written, carries a client's traffic."""

from __future__ import annotations

import os

import pytest

from tests.linux.netlab import CommandError

pytestmark = [pytest.mark.root, pytest.mark.netns]


def _netns(host):
    import hashlib
    return "wbmr-%s-" % hashlib.sha1(str(host.state).encode()).hexdigest()[:6]


def test_wisp_example_isolated_router_for_a_client(lab):
    gw, client = lab.host("gw"), lab.host("client")
    lab.link(gw, "ether1", client, "unused0")
    lab.link(gw, "ether2", client, "eth1")
    # 1. a MetaROUTER for the client
    gw.cli("/metarouter add name=client1 memory-size=32")
    vm = gw.rows("/metarouter")[0]
    assert vm["state"] == "running" and vm["memory-size"] == "32MiB"
    ns = [n for n in os.listdir("/run/netns") if n.startswith(_netns(gw))]
    assert len(ns) == 1
    # 2. two interfaces
    gw.cli("/metarouter interface add virtual-machine=client1\n/metarouter interface add virtual-machine=client1")
    vifs = gw.rows("/metarouter interface")
    links = gw.links()
    assert {"vif1", "vif2"} <= set(links)
    guest_links = {r["ifname"]: r for r in gw.json(["ip", "-n", ns[0], "-j", "link", "show"])}
    assert guest_links["ether1"]["address"].upper() == vifs[0]["vm-mac-address"]
    assert guest_links["ether2"]["address"].upper() == vifs[1]["vm-mac-address"]
    assert links["vif1"]["address"].upper() == vifs[0]["dynamic-mac-address"]
    # 3. a bridge of the client's port and vif2
    gw.cli("/interface bridge add\n/interface bridge port add interface=ether2 bridge=bridge1\n"
           "/interface bridge port add interface=vif2 bridge=bridge1")
    links = gw.links()
    assert links["vif2"]["master"] == "bridge1" and links["ether2"]["master"] == "bridge1"
    # 4. an address between host and guest
    gw.cli("/ip address add address=10.0.1.1/24 interface=vif1")
    # 5. + 6. in the guest's console
    gw.cli('/metarouter console client1 command="/sys identity set name=Client1"')
    res = gw.cli('/metarouter console client1 command="/ip address add address=10.0.1.2/24 interfae=public"',
                 check=False)
    assert res.returncode != 0 and "interfae" in res.stderr
    gw.cli('/metarouter console client1 command="/interface ethernet print\n'
           '/interface ethernet set 0 name=public\n/interface ethernet set 1 name=local\n'
           '/ip address add address=10.0.1.2/24 interface=public\n'
           '/ip address add address=10.0.2.1/24 interface=local\n'
           '/ip route add gateway=10.0.1.1\n'
           '/ip firewall nat add action=masquerade out-interface=public chain=srcnat"')
    out = gw.cli('/metarouter console client1 command="/system identity print\n/interface ethernet print"').stdout
    assert "Client1" in out and "public" in out and "local" in out
    guest_links = {r["ifname"] for r in gw.json(["ip", "-n", ns[0], "-j", "link", "show"])}
    assert {"public", "local"} <= guest_links
    # the guest answers on vif1, and the client behind it reaches the host through the guest's NAT
    assert gw.wait_ping("10.0.1.2")
    client.run(["ip", "addr", "add", "10.0.2.2/24", "dev", "eth1"])
    client.run(["ip", "link", "set", "eth1", "up"])
    client.run(["ip", "route", "add", "default", "via", "10.0.2.1"])
    assert client.wait_ping("10.0.1.1"), "the client's traffic does not pass the guest router"
    # /interface on the host lists the vifs
    rows = {r["name"]: r for r in gw.rows("/interface")}
    assert rows["vif1"]["type"] == "vif" and rows["vif1"]["running"] == "yes"


def test_shut_down_start_and_remove(lab):
    gw = lab.host("gw")
    gw.cli("/metarouter add name=mr1\n/metarouter interface add virtual-machine=mr1\n"
           "/ip address add address=10.0.9.1/24 interface=vif1")
    gw.cli('/metarouter console mr1 command="/ip address add address=10.0.9.2/24 interface=ether1"')
    assert gw.wait_ping("10.0.9.2")
    gw.cli("/metarouter shut-down mr1")
    assert gw.rows("/metarouter")[0]["state"] == "stopped"
    assert not [n for n in os.listdir("/run/netns") if n.startswith(_netns(gw))]
    assert "vif1" not in gw.links()
    with pytest.raises(CommandError, match="not running"):
        gw.cli('/metarouter console mr1 command="/ip address print"')
    # start brings the namespace back and the guest applies its saved configuration
    gw.cli("/metarouter start mr1")
    assert gw.rows("/metarouter")[0]["state"] == "running"
    assert gw.wait_ping("10.0.9.2")
    gw.cli("/metarouter reboot mr1")
    assert gw.wait_ping("10.0.9.2")
    # remove: interfaces first (the address refers to vif1), then the machine
    gw.cli("/ip address remove [find interface=vif1]\n/metarouter interface remove [find]\n/metarouter remove mr1")
    assert not [n for n in os.listdir("/run/netns") if n.startswith(_netns(gw))]
    assert "vif1" not in gw.links()


def test_import_image_says_why_it_cannot(lab):
    gw = lab.host("gw")
    gw.cli("/metarouter add name=mr1")
    res = gw.cli("/metarouter import-image file-name=openwrt.tgz", check=False)
    assert res.returncode != 0 and "not supported by the linux driver" in res.stderr
