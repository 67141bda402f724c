"""ZeroTier on the simulated router: the menus of 004_'s ZeroTier section, its CLI
examples as written, and the simulation over a controlled clock (peers,
network status, the router's own controller)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent import helpers  # noqa: E402
from tests.agent.helpers import Clock  # noqa: E402
from winbox_agent.menus.zerotier import zt_mac  # noqa: E402

ROOTS = {"61d294b9cb", "62f865ae71", "778cde7190", "992fcf1db7"}
DOC_NETWORK = "1d71939404912b40"


class Shell(helpers.Shell):
    SEED = 3

    def peers(self) -> list:
        return self.rows("/zerotier peer print")


@pytest.fixture
def sh(tmp_path, clock) -> Shell:
    return Shell(tmp_path / "state", clock)


# -- instances -------------------------------------------------------------------------

def test_factory_instance_zt1(sh):
    zt1 = sh.row("/zerotier print", name="zt1")
    assert (zt1["disabled"], zt1["port"], zt1["interface"], zt1["route-distance"]) == ("yes", "9993", "all", "1")
    assert zt1["comment"] == "ZeroTier Central controller - https://my.zerotier.com/"
    assert "identity" not in zt1  # a secret
    full = sh.row("/zerotier print show-sensitive", name="zt1")["identity"]
    address, zero, public, private = full.split(":")
    assert (len(address), zero, len(public), len(private)) == (10, "0", 128, 128)
    assert zt1["identity.public"] == "%s:0:%s" % (address, public)
    assert sh.error("/zerotier remove zt1") == "zt1 is a default item and cannot be removed"


def test_identity_is_drawn_from_the_seed(tmp_path, clock):
    ident = [Shell(tmp_path / str(n), clock, seed=s).row("/zerotier print", name="zt1")["identity.public"]
             for n, s in enumerate((3, 3, 4))]
    assert ident[0] == ident[1] != ident[2]


@pytest.mark.parametrize("command, message", [
    ("/zerotier set zt1 port=70000", "port: 70000 is out of range 0..65535"),
    ("/zerotier set zt1 route-distance=0", "route-distance: 0 is out of range 1..255"),
    ("/zerotier set zt1 identity=abc", "identity: is not a ZeroTier identity (address:0:public-key[:private-key] in hex)"),
    ("/zerotier set zt1 interface=ether9", "interface: no such interface (ether9)"),
    ("/zerotier interface add network=1d7193940491", "network: 1d7193940491 is not a network ID (16 hex digits)"),
    ("/zerotier interface add network=%s instance=zt9" % DOC_NETWORK, "instance: no such zerotier (zt9)"),
    ("/zerotier interface add", "network: must be set"),
    ("/zerotier controller add name=c ip-range=10.0.0.9-10.0.0.1",
     "ip-range: 10.0.0.9-10.0.0.1: the first address is above the last"),
    ("/zerotier controller add name=c mtu=100", "mtu: 100 is out of range 1280..10000"),
    ("/zerotier controller add name=c routes=10.0.0.0/8@gw", "routes: 10.0.0.0/8@gw is not a route (Dst[@Gw], "
                                                            "like 10.0.0.0/8@172.27.27.1)"),
    ("/zerotier controller member add network=nope zt-address=0123456789", "network: no such controller (nope)"),
])
def test_bad_values_name_the_field(sh, command, message):
    assert sh.error(command) == message


def test_every_menu_is_declared_with_the_documents_properties(sh):
    schema = sh.router.schema
    assert {p.name for p in schema["/zerotier"].props} >= {"name", "port", "identity", "interface",
                                                          "route-distance", "identity.public"}
    assert {p.name for p in schema["/zerotier/interface"].props} >= {
        "allow-default", "allow-global", "allow-managed", "arp-timeout", "comment", "disable-running-check",
        "instance", "name", "network", "status", "network-name", "mac-address"}
    assert {p.name for p in schema["/zerotier/controller"].props} >= {
        "broadcast", "comment", "instance", "ip-range", "ip6-6plane", "ip6-rfc4193", "ip6-range", "mtu",
        "multicast-limit", "name", "network", "private", "routes"}
    defaults = {p.name: p.type.format(p.default) for p in schema["/zerotier/controller"].props
                if not callable(p.default) and p.default is not None}
    assert defaults["mtu"] == "2800" and defaults["multicast-limit"] == "32"
    assert defaults["private"] == "yes" and defaults["broadcast"] == "yes" and defaults["ip6-6plane"] == "no"
    assert schema["/zerotier/peer"].readonly
    assert schema["/zerotier/interface"].interface_type == "zerotier"


# -- the document's configuration example ------------------------------------------------

def test_configuration_example_as_written(sh, clock):
    sh("zerotier/enable zt1\n"
       "zerotier/interface/add network=1d71939404912b40 instance=zt1")
    table = sh("zerotier/interface/print")
    assert "NAME" in table and "MAC-ADDRESS" in table and "NETWORK-NAME" in table and "STATUS" in table
    iface = sh.row("/zerotier interface print", name="zerotier1")
    assert (iface["network"], iface["status"], iface["running"]) == \
        (DOC_NETWORK, "REQUESTING_CONFIGURATION", "no")
    clock.advance(3)
    iface = sh.row("/zerotier interface print", name="zerotier1")
    assert (iface["status"], iface["running"]) == ("OK", "yes")
    assert iface["network-name"] and iface["mtu"] == "2800"
    sh("/ip firewall filter add action=accept chain=forward in-interface=zerotier1 place-before=0\n"
       "/ip firewall filter add action=accept chain=input in-interface=zerotier1 place-before=0")
    assert [r["chain"] for r in sh.rows("/ip firewall filter print")] == ["input", "forward"]
    addr = sh.row('ip/address/print where interface~"zero"')
    assert addr["interface"] == "zerotier1" and addr["address"].startswith("192.168.192.")
    assert addr["address"].endswith("/24") and addr[".dynamic"] == "yes"
    table = sh("zerotier/peer/print")
    assert table.splitlines()[0] == "Columns: INSTANCE, ZT-ADDRESS, LATENCY, ROLE, PATH"


def test_peers_appear_after_enable_and_their_latency_wanders(sh, clock):
    assert sh.peers() == []
    sh("/zerotier enable zt1")
    clock.advance(1)
    assert sh.peers() == []
    clock.advance(1.5)
    peers = sh.peers()
    assert {p["zt-address"] for p in peers} == ROOTS
    assert {p["role"] for p in peers} == {"PLANET"} and {p["instance"] for p in peers} == {"zt1"}
    assert all(p["path"].startswith("active,preferred,") and "/9993,recvd:" in p["path"] for p in peers)
    before = {p["zt-address"]: p["latency"] for p in peers}
    assert all(v.endswith("ms") for v in before.values())
    clock.advance(20)
    after = {p["zt-address"]: p["latency"] for p in sh.peers()}
    assert before != after
    sh("/zerotier disable zt1")
    assert sh.peers() == []


def test_the_simulation_is_deterministic_for_a_seed(tmp_path):
    outputs = []
    for n in range(2):
        clock = Clock()
        sh = Shell(tmp_path / str(n), clock)
        sh("/zerotier enable zt1\n/zerotier interface add network=%s" % DOC_NETWORK)
        clock.advance(4)
        outputs.append((sh("/zerotier peer print"), sh("/zerotier interface print"), sh("/ip address print")))
    assert outputs[0] == outputs[1]


def test_leaf_peers_for_members_of_joined_networks(sh, clock):
    sh("/zerotier enable zt1\n/zerotier interface add network=%s" % DOC_NETWORK)
    clock.advance(3)
    leaves = [p for p in sh.peers() if p["role"] == "LEAF"]
    assert leaves and DOC_NETWORK[:10] in {p["zt-address"] for p in leaves}
    assert all(p["version"] for p in leaves)


@pytest.mark.parametrize("network, status", [
    ("8056c2e21c00dead", "ACCESS_DENIED"),
    ("8056c2e21c000404", "NOT_FOUND"),
    ("8056c2e21c000001", "OK"),
])
def test_status_rule_for_foreign_networks(sh, clock, network, status):
    sh("/zerotier enable zt1\n/zerotier interface add network=%s" % network)
    clock.advance(3)
    r = sh.row("/zerotier interface print")
    assert r["status"] == status
    assert r["running"] == ("yes" if status == "OK" else "no")
    assert bool(sh.rows("/ip address print")) == (status == "OK")


def test_instance_disabled_or_port_taken(sh, clock):
    sh("/zerotier interface add network=%s" % DOC_NETWORK)
    clock.advance(5)
    assert sh.row("/zerotier interface print")["status"] == ""
    sh("/zerotier enable zt1\n/zerotier add name=zt2\n/zerotier interface add network=%s instance=zt2" % DOC_NETWORK)
    clock.advance(5)
    assert sh.row("/zerotier print", name="zt2")["state"] == "port-error"
    assert sh.row("/zerotier interface print", instance="zt2")["status"] == "PORT_ERROR"
    sh("/zerotier set zt2 port=9994")
    clock.advance(5)
    assert sh.row("/zerotier print", name="zt2")["state"] == "running"
    assert sh.row("/zerotier interface print", instance="zt2")["status"] == "OK"
    assert "already joined" in sh.error("/zerotier interface add network=%s instance=zt2" % DOC_NETWORK)


def test_mac_address_is_derived_as_zerotier_does():
    # the document's Home (879c0b5265) and Office on 879c0b5265a99e4b; the Office's member
    # line reads deba5dc5b1, a slip for the deb55dc5b1 its MAC address was made from
    assert zt_mac("879c0b5265", "879c0b5265a99e4b") == "4A:19:35:6E:00:6E"
    assert zt_mac("deb55dc5b1", "879c0b5265a99e4b") == "4A:40:1C:38:97:BA"


def test_interface_mac_uses_the_instance_identity(sh):
    ident = sh.row("/zerotier print show-sensitive", name="zt1")["identity"]
    sh("/zerotier set zt1 identity=879c0b5265:0:%s" % ident.split(":")[2])
    sh("/zerotier interface add network=879c0b5265a99e4b name=myZeroTier")
    assert sh.row("/zerotier interface print")["mac-address"] == "4A:19:35:6E:00:6E"


# -- the router's own controller (document: RouterOS Home) --------------------------------

def test_controller_example_as_written(sh, clock):
    sh("/zerotier/enable zt1")
    address = sh.row("/zerotier print", name="zt1")["identity.public"].split(":")[0]
    sh("/zerotier\n"
       "print\n"
       "controller/add name=ZT-private instance=zt1 ip-range=172.27.27.10-172.27.27.20 private=yes "
       "routes=172.27.27.0/24")
    ctrl = sh.row("/zerotier controller print", name="ZT-private")
    network = ctrl["network"]
    assert network.startswith(address) and len(network) == 16 and ctrl["private"] == "yes"
    sh("/zerotier\n"
       "interface/add network=%s name=myZeroTier instance=zt1\n"
       "interface/print interval=1" % network)
    clock.advance(3)
    assert sh.row("/zerotier interface print", name="myZeroTier")["status"] == "ACCESS_DENIED"
    member = sh.row("/zerotier controller member print")
    assert (member["network"], member["zt-address"], member["authorized"]) == ("ZT-private", address, "no")
    sh("/zerotier\ncontroller/member/print\ncontroller/member/set 0 authorized=yes")
    iface = sh.row("/zerotier interface print", name="myZeroTier")
    assert (iface["status"], iface["network-name"]) == ("OK", "ZT-private")
    addr = sh.row('/ip/address/print where interface~"Zero"')
    ip, plen = addr["address"].split("/")
    assert plen == "24" and 10 <= int(ip.split(".")[-1]) <= 20 and ip.startswith("172.27.27.")
    assert sh.row("/zerotier controller member print")["ip-address"] == ip
    route = sh.row('/ip/route/pr where gateway~"Zero"')
    assert (route["dst-address"], route["gateway"]) == ("172.27.27.0/24", "myZeroTier")


def test_members_added_by_hand_get_addresses_and_become_peers(sh, clock):
    sh("/zerotier enable zt1\n"
       "/zerotier controller add name=net ip-range=10.9.0.1-10.9.0.3 private=no routes=10.9.0.0/24\n"
       "/zerotier controller member add network=net zt-address=554a914c7f authorized=yes\n"
       "/zerotier controller member add network=net zt-address=a83ac6032a ip-address=10.9.0.77 authorized=yes\n"
       "/zerotier controller member add network=net zt-address=deba5dc5b1")
    assert sh.error("/zerotier controller member add network=net zt-address=554a914c7f") == \
        "zt-address: 554a914c7f is already a member of net"
    ips = {r["zt-address"]: r["ip-address"] for r in sh.rows("/zerotier controller member print")}
    assert ips["a83ac6032a"] == "10.9.0.77"
    assert {ips["554a914c7f"], ips["deba5dc5b1"]} <= {"10.9.0.1", "10.9.0.2", "10.9.0.3"}
    assert ips["554a914c7f"] != ips["deba5dc5b1"]
    flags = sh("/zerotier controller member print")
    assert " A " in flags
    sh("/zerotier interface add network=%s" % sh.row("/zerotier controller print")["network"])
    clock.advance(3)
    leaves = {p["zt-address"] for p in sh.peers() if p["role"] == "LEAF"}
    assert leaves == {"554a914c7f", "a83ac6032a"}  # deba5dc5b1 is not authorized


def test_a_network_of_our_controller_that_is_gone_is_not_found(sh, clock):
    sh("/zerotier enable zt1")
    address = sh.row("/zerotier print", name="zt1")["identity.public"].split(":")[0]
    sh("/zerotier interface add network=%s000001" % address)
    clock.advance(3)
    assert sh.row("/zerotier interface print")["status"] == "NOT_FOUND"


def test_controller_network_follows_its_instance(sh):
    sh("/zerotier add name=zt2 port=9994 disabled=yes\n/zerotier controller add name=c instance=zt1")
    first = sh.row("/zerotier controller print")["network"]
    sh("/zerotier controller set c instance=zt2")
    zt2 = sh.row("/zerotier print", name="zt2")["identity.public"].split(":")[0]
    moved = sh.row("/zerotier controller print")["network"]
    assert moved == zt2 + first[10:]


def test_export_and_import_round_trip(sh, tmp_path, clock):
    sh("/zerotier enable zt1\n"
       "/zerotier controller add name=c ip-range=10.1.0.1-10.1.0.50 routes=10.1.0.0/24,10.2.0.0/16@10.1.0.1\n"
       "/zerotier interface add network=%s allow-default=yes arp-timeout=30s" % DOC_NETWORK)
    script = sh("/export")
    other = Shell(tmp_path / "other", clock)
    other(script)
    for menu in ("/zerotier", "/zerotier interface", "/zerotier controller"):
        strip = lambda rows: [{k: v for k, v in r.items()  # noqa: E731
                               if k not in (".id", "identity.public", "network", "mac-address", "state",
                                            "running", "status", "network-name")} for r in rows]
        assert strip(other.rows(menu + " print")) == strip(sh.rows(menu + " print"))


def test_discovery_interfaces_follow_renames_and_exclude_zerotier_ones(sh):
    sh("/zerotier set zt1 interface=ether1,ether2\n/interface ethernet set ether1 name=wan")
    assert sh.row("/zerotier print", name="zt1")["interface"] == "wan,ether2"
    assert sh.error("/interface ethernet set wan name=ether2") == "name: ether2 already exists"
    sh("/zerotier interface add network=%s" % DOC_NETWORK)
    assert sh.error("/zerotier set zt1 interface=zerotier1") == \
        "interface: zerotier1 is a ZeroTier interface; peers are discovered over the others"


def test_identity_travels_only_with_show_sensitive(sh, tmp_path, clock):
    mine = sh.row("/zerotier print", name="zt1")["identity.public"]
    plain, full = sh("/export"), sh("/export show-sensitive")
    assert "identity=" not in plain and "identity=" in full
    other = Shell(tmp_path / "other", clock, seed=99)
    assert other.row("/zerotier print", name="zt1")["identity.public"] != mine
    other(full)
    assert other.row("/zerotier print", name="zt1")["identity.public"] == mine
