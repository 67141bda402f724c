"""Bridge, interface lists, routes, DNS, firewall and WireGuard: the
reference documents' examples run through the CLI as written, and the
simulated device's answers to them (connected routes, counters, handshakes).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import Clock  # noqa: E402
from winbox_agent import wgkeys  # noqa: E402
from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402

OFFICE1_KEY = "yKt9NJ4e5qlaSgh48WnPCDCEkDmq+VsBTt/DDEBWfEo="
OFFICE1_PUB = "u7gYAg5tkioJDcm3hyS7pm79eADKPs/ZUGON6/fF3iI="
OFFICE2_KEY = "KMwxqe/iXAU8Jn9dd1o5pPdHep2blGxNWm9I944/I24="
OFFICE2_PUB = "v/oIzPyFm1FPHrqhytZgsKjU7mUToQHLrW+Tb5e601M="


class Device:
    """A simulated router in a state dir, driven through the CLI interpreter."""

    def __init__(self, state_dir, clock=None, seed=7):
        self.clock = clock or Clock()
        self.state_dir = str(state_dir)
        self.router = Router(self.state_dir, driver="sim", seed=seed, clock=self.clock)
        self.out = []
        self.cli = Interpreter(self.router, out=self.out.append)
        self.json_cli = Interpreter(self.router, out=self.out.append, json_mode=True)

    def run(self, script):
        self.out.clear()
        self.cli.run_script(textwrap.dedent(script))
        return "\n".join(self.out)

    def rows(self, words, *extra):
        """``print`` of a menu as JSON rows (values as RouterOS prints them)."""
        self.out.clear()
        self.json_cli.run_line("%s print show-sensitive %s" % (words, " ".join(extra)))
        return json.loads(self.out[-1])

    def one(self, words, **match):
        hits = [r for r in self.rows(words) if all(r.get(k) == v for k, v in match.items())]
        assert len(hits) == 1, (match, self.rows(words))
        return hits[0]

    def fails(self, script):
        with pytest.raises(CliError) as info:
            self.cli.run_script(textwrap.dedent(script))
        return info.value.message

    def close(self):
        self.router.close()


@pytest.fixture
def dev(tmp_path):
    d = Device(tmp_path / "r1")
    yield d
    d.close()


def without(row, *keys):
    return {k: v for k, v in row.items() if k not in keys + (".id",)}


# --- document 004: WireGuard site to site, both offices ---------------------------------

SITE = {
    "office1": dict(key=OFFICE1_KEY, pub=OFFICE1_PUB, peer_pub=OFFICE2_PUB, remote_lan="10.1.101.0/24",
                    local_lan="10.1.202.0/24", tunnel="10.255.255.1/30", peer_tunnel="10.255.255.1/32",
                    endpoint="192.168.80.1"),
    "office2": dict(key=OFFICE2_KEY, pub=OFFICE2_PUB, peer_pub=OFFICE1_PUB, remote_lan="10.1.202.0/24",
                    local_lan="10.1.101.0/24", tunnel="10.255.255.2/30", peer_tunnel="10.255.255.2/32",
                    endpoint="192.168.90.1"),
}


WG_ADD = """
        /interface/wireguard
        add listen-port=13231 name=wireguard1
"""


def site_script(s, interface=True):
    return (WG_ADD if interface else "") + """
        /interface/wireguard/peers
        add allowed-address={remote_lan},{peer_tunnel} endpoint-address={endpoint} endpoint-port=13231 interface=wireguard1 \\
        public-key="{peer_pub}"
        /ip/address
        add address={tunnel} interface=wireguard1
        /ip/route
        add dst-address={remote_lan} gateway=wireguard1
        /ip/firewall/filter
        add action=accept chain=input dst-port=13231 protocol=udp src-address={endpoint}
        /ip/firewall/filter
        add action=accept chain=forward dst-address={local_lan} src-address={remote_lan}
        add action=accept chain=forward dst-address={remote_lan} src-address={local_lan}
    """.format(**s)


@pytest.mark.parametrize("office", ["office1", "office2"])
def test_wireguard_site_to_site(tmp_path, office):
    s = SITE[office]
    d = Device(tmp_path / office)
    try:
        d.run(site_script(s))
        wg = d.one("/interface/wireguard", name="wireguard1")
        assert wg["listen-port"] == "13231" and wg["mtu"] == "1420" and wg["disabled"] == "no"
        assert wgkeys.decode_key(wg["private-key"]) is not None
        assert wg["public-key"] == wgkeys.public_key(wg["private-key"])
        # the document's keys: set the printed private key, see the printed public key
        d.run('/interface/wireguard set wireguard1 private-key="%s"' % s["key"])
        assert d.one("/interface/wireguard", name="wireguard1")["public-key"] == s["pub"]

        peer = d.one("/interface/wireguard/peers", interface="wireguard1")
        assert peer["public-key"] == s["peer_pub"]
        assert set(peer["allowed-address"].split(",")) == {s["remote_lan"], s["peer_tunnel"]}
        assert peer["endpoint-address"] == s["endpoint"] and peer["endpoint-port"] == "13231"
        assert peer["persistent-keepalive"] == "0s" and peer["responder"] == "no"

        addr = d.one("/ip/address", interface="wireguard1")
        assert addr["address"] == s["tunnel"] and addr["network"] == "10.255.255.0"
        route = d.one("/ip/route", **{"dst-address": s["remote_lan"]})
        assert route["gateway"] == "wireguard1" and route["active"] == "yes" and route["distance"] == "1"
        connected = d.one("/ip/route", **{"dst-address": "10.255.255.0/30"})
        assert connected[".dynamic"] == "yes" and connected["gateway"] == "wireguard1"
        assert connected["distance"] == "0" and connected["pref-src"] == s["tunnel"].split("/")[0]

        rules = d.rows("/ip/firewall/filter")
        assert [r["chain"] for r in rules] == ["input", "forward", "forward"]
        assert rules[0]["protocol"] == "udp" and rules[0]["dst-port"] == "13231"
        assert rules[0]["src-address"] == s["endpoint"] and rules[0]["action"] == "accept"
        assert (rules[1]["src-address"], rules[1]["dst-address"]) == (s["remote_lan"], s["local_lan"])
    finally:
        d.close()


def test_site_to_site_with_generated_keys_exchanged(tmp_path):
    """Keys generated on add, read off one office's print, configured on the other."""
    clock = Clock()
    o1, o2 = Device(tmp_path / "o1", clock), Device(tmp_path / "o2", clock, seed=8)
    try:
        for d in (o1, o2):
            d.run(WG_ADD)
        pub1 = o1.one("/interface/wireguard", name="wireguard1")["public-key"]
        pub2 = o2.one("/interface/wireguard", name="wireguard1")["public-key"]
        assert pub1 != pub2
        o1.run(site_script(dict(SITE["office1"], peer_pub=pub2), interface=False))
        o2.run(site_script(dict(SITE["office2"], peer_pub=pub1), interface=False))
        assert o2.one("/interface/wireguard/peers", interface="wireguard1")["public-key"] == pub1

        # handshakes come a moment after the peer is added, then traffic flows
        peer = o1.one("/interface/wireguard/peers", interface="wireguard1")
        assert peer["last-handshake"] == "" and peer["rx"] == "0"
        clock.t += 30
        peer = o1.one("/interface/wireguard/peers", interface="wireguard1")
        assert peer["current-endpoint-address"] == "192.168.80.1" and peer["current-endpoint-port"] == "13231"
        assert peer["last-handshake"].endswith("s") and int(peer["rx"]) > 0 and int(peer["tx"]) > 0
        clock.t += 60
        later = o1.one("/interface/wireguard/peers", interface="wireguard1")
        assert int(later["rx"]) > int(peer["rx"]) and int(later["tx"]) > int(peer["tx"])
        iface = o1.one("/interface", name="wireguard1")
        assert int(iface["rx-byte"]) == int(later["rx"])
        # a disabled peer does not handshake
        o1.run("/interface/wireguard/peers disable 0")
        assert o1.one("/interface/wireguard/peers", interface="wireguard1")["rx"] == "0"
    finally:
        o1.close()
        o2.close()


def test_wireguard_through_the_agent_command_line(tmp_path):
    """The site-to-site script through ``python3 -m winbox_agent ... cli``, printed as JSON."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    for office in ("office1", "office2"):
        state = str(tmp_path / office)
        base = [sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", state, "cli"]
        script = site_script(SITE[office]) + '/interface/wireguard set wireguard1 private-key="%s"\n' % SITE[office]["key"]
        r = subprocess.run(base, input=textwrap.dedent(script), capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(base + ["--json", "-c", "/interface/wireguard print show-sensitive"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert json.loads(r.stdout)[0]["public-key"] == SITE[office]["pub"]
        r = subprocess.run(base + ["--json", "-c", "/ip/route print"], capture_output=True, text=True, env=env,
                           timeout=60)
        routes = json.loads(r.stdout)
        assert {x["dst-address"] for x in routes} == {SITE[office]["remote_lan"], "10.255.255.0/30"}


# --- document 004: RoadWarrior ------------------------------------------------------------

def test_wireguard_road_warrior(dev):
    phone_pub = wgkeys.public_key(wgkeys.generate_private())
    # a default-like firewall is there before, and its print gives the numbers
    dev.run("""
        /ip firewall filter
        add chain=input connection-state=established,related action=accept comment="established"
        add chain=input connection-state=invalid action=drop comment="invalid"
        add chain=input action=drop comment="drop all"
        print
    """)
    dev.run("""
        /interface wireguard
        add listen-port=13231 name=wireguard1
        /ip address
        add address=192.168.100.1/24 interface=wireguard1
        /interface wireguard peers
        add allowed-address=192.168.100.2/32 interface=wireguard1 public-key="%s"
        /ip firewall filter
        add action=accept chain=input comment="allow WireGuard" dst-port=13231 protocol=udp place-before=1
        /ip firewall filter
        add action=accept chain=input comment="allow WireGuard traffic" src-address=192.168.100.0/24 place-before=1
        /interface list add name=LAN
        /interface list member
        add interface=wireguard1 list=LAN
    """ % phone_pub)
    text = dev.run("/interface wireguard print")
    assert "wireguard1" in text and "private-key" not in text  # a secret: show-sensitive only
    peer = dev.one("/interface/wireguard/peers", interface="wireguard1")
    assert peer["allowed-address"] == "192.168.100.2/32" and peer["public-key"] == phone_pub
    assert peer["name"] == "peer1"
    # no endpoint: the router waits for the phone, no handshake of its own
    dev.clock.t += 60
    assert dev.one("/interface/wireguard/peers", interface="wireguard1")["last-handshake"] == ""
    comments = [r["comment"] for r in dev.rows("/ip firewall filter")]
    assert comments == ["established", "allow WireGuard", "allow WireGuard traffic", "invalid", "drop all"]
    rule = dev.one("/ip/firewall/filter", comment="allow WireGuard")
    assert rule["dst-port"] == "13231" and rule["protocol"] == "udp"
    assert dev.one("/ip/firewall/filter", comment="allow WireGuard traffic")["src-address"] == "192.168.100.0/24"
    member = dev.one("/interface/list/member", interface="wireguard1")
    assert member["list"] == "LAN" and member["disabled"] == "no"
    config = dev.run("/interface wireguard peers show-client-config 0")
    assert "PublicKey = %s" % dev.one("/interface/wireguard", name="wireguard1")["public-key"] in config


def test_place_before_and_move(dev):
    dev.run("""
        /ip firewall filter
        add chain=input action=accept comment=a
        add chain=input action=accept comment=b
        add chain=input action=drop comment=c
    """)
    dev.run("/ip firewall filter add chain=input action=accept comment=first place-before=0")
    assert [r["comment"] for r in dev.rows("/ip/firewall/filter")] == ["first", "a", "b", "c"]
    dev.run("/ip firewall filter print\n/ip firewall filter move 3 0")
    assert [r["comment"] for r in dev.rows("/ip/firewall/filter")] == ["c", "first", "a", "b"]
    dev.run("/ip firewall filter print\n/ip firewall filter move 0")
    assert [r["comment"] for r in dev.rows("/ip/firewall/filter")] == ["first", "a", "b", "c"]
    # a number past the end of the last print appends (the documents' examples
    # are written for a device with a default firewall)
    dev.run("/ip firewall filter print\n/ip firewall filter add chain=input comment=last place-before=9")
    assert [r["comment"] for r in dev.rows("/ip/firewall/filter")] == ["first", "a", "b", "c", "last"]
    msg = dev.fails("/ip firewall filter add chain=input place-before=nosuch")
    assert "nosuch" in msg


def test_road_warrior_firewall_on_a_fresh_device(dev):
    dev.run("""
        /ip firewall filter
        add action=accept chain=input comment="allow WireGuard" dst-port=13231 protocol=udp place-before=1
        /ip firewall filter
        add action=accept chain=input comment="allow WireGuard traffic" src-address=192.168.100.0/24 place-before=1
    """)
    assert [r["comment"] for r in dev.rows("/ip/firewall/filter")] == ["allow WireGuard", "allow WireGuard traffic"]


# --- document 004: OpenVPN client routes and MLPPP ------------------------------------------

def test_ovpn_client_routes(dev):
    dev.run("""
        /interface ovpn-client
        add name=ovpn-client1 connect-to=2.2.2.2 user=client1 password=123 disabled=no
        /ip route
        add dst-address=10.5.8.20 gateway=ovpn-client1
        add dst-address=192.168.55.0/24 gateway=ovpn-client1
        /ip firewall nat add chain=srcnat action=masquerade out-interface=ovpn-client1
    """)
    routes = dev.rows("/ip/route")
    assert {r["dst-address"] for r in routes} == {"10.5.8.20/32", "192.168.55.0/24"}
    assert all(r["gateway"] == "ovpn-client1" for r in routes)
    nat = dev.one("/ip/firewall/nat", chain="srcnat")
    assert nat["action"] == "masquerade" and nat["out-interface"] == "ovpn-client1"


def test_mlppp_example(dev):
    dev.run("""
        /interface ethernet set ether3 name=local
        /interface pppoe-client
           add service-name=ISP interface=ether1,ether2 user=xxx password=yyy disabled=no \\
           add-default-route=yes use-peer-dns=yes
        /ip address add address=192.168.88.1/24 interface=local

        /ip dns set allow-remote-request=yes

        /ip firewall nat
        add chain=src-nat action=masquerade out-interface=pppoe-out1

        /ip firewall filter
        add chain=input connection-state=invalid action=drop \\
        \tcomment="Drop Invalid connections"
        add chain=input connection-state=established action=accept \\
        \tcomment="Allow Established connections"
        add chain=input protocol=icmp action=accept \\
        \tcomment="Allow ICMP"
        add chain=input src-address=192.168.88.0/24 action=accept \\
        \tin-interface=!pppoe-out1
        add chain=input action=drop comment="Drop everything else"
    """)
    assert dev.one("/ip/address", interface="local")["address"] == "192.168.88.1/24"
    dns = dev.rows("/ip/dns")[0]
    assert dns["allow-remote-requests"] == "yes" and dns["cache-size"] == "2048" and dns["servers"] == ""
    nat = dev.one("/ip/firewall/nat", chain="src-nat")  # a custom chain, as RouterOS takes it
    assert nat["action"] == "masquerade" and nat["out-interface"] == "pppoe-out1"
    rules = dev.rows("/ip/firewall/filter")
    assert [r["comment"] for r in rules] == ["Drop Invalid connections", "Allow Established connections",
                                            "Allow ICMP", "", "Drop everything else"]
    assert rules[0]["connection-state"] == "invalid" and rules[0]["action"] == "drop"
    assert rules[2]["protocol"] == "icmp"
    assert rules[3]["in-interface"] == "!pppoe-out1" and rules[3]["src-address"] == "192.168.88.0/24"
    # renaming the PPPoE interface keeps the negation and shows the new name
    dev.run("/interface pppoe-client set pppoe-out1 name=isp")
    assert dev.rows("/ip/firewall/filter")[3]["in-interface"] == "!isp"
    assert dev.one("/ip/firewall/nat", chain="src-nat")["out-interface"] == "isp"


# --- document 001: MetaROUTER host and guest ------------------------------------------------

def test_metarouter_guest_route_and_nat(dev):
    """The guest side of the WISP example: ports renamed, addresses, default route, masquerade."""
    dev.run("""
        /interface ethernet
        set 0 name=public
        set 1 name=local
        /ip address
        add address=10.0.1.2/24 interface=public
        add address=10.0.2.1/24 interface=local
        /ip route
        add gateway=10.0.1.1
        /ip firewall nat
        add action=masquerade out-interface=public chain=srcnat
    """)
    routes = {r["dst-address"]: r for r in dev.rows("/ip/route")}
    assert set(routes) == {"0.0.0.0/0", "10.0.1.0/24", "10.0.2.0/24"}
    default = routes["0.0.0.0/0"]
    assert default["gateway"] == "10.0.1.1" and default["distance"] == "1" and default["active"] == "yes"
    assert default["immediate-gw"] == "10.0.1.1%public"
    assert routes["10.0.1.0/24"]["pref-src"] == "10.0.1.2" and routes["10.0.1.0/24"]["gateway"] == "public"
    assert routes["10.0.2.0/24"]["pref-src"] == "10.0.2.1" and routes["10.0.2.0/24"]["distance"] == "0"
    table = dev.run("/ip route print")
    assert "AS" in table.splitlines()[3] and "ADC" in table
    nat = dev.one("/ip/firewall/nat")
    assert (nat["chain"], nat["action"], nat["out-interface"]) == ("srcnat", "masquerade", "public")


def test_metarouter_host_bridge(dev):
    dev.run("""
        /metarouter add name=client1 memory-size=32
        /metarouter interface add virtual-machine=client1
        /metarouter interface add virtual-machine=client1
        /interface bridge add
        /interface bridge port add interface=ether2 bridge=bridge1
        /interface bridge port add interface=vif2 bridge=bridge1
        /ip address add address=10.0.1.1/24 interface=vif1
    """)
    bridge = dev.one("/interface/bridge", name="bridge1")
    assert bridge["protocol-mode"] == "rstp" and bridge["priority"] == "0x8000"
    assert bridge["max-message-age"] == "20s" and bridge["forward-delay"] == "15s"
    assert bridge["transmit-hold-count"] == "6" and bridge["ageing-time"] == "5m" and bridge["auto-mac"] == "yes"
    ports = dev.rows("/interface/bridge/port")
    assert [(p["interface"], p["bridge"], p["priority"], p["path-cost"], p["horizon"]) for p in ports] == [
        ("ether2", "bridge1", "0x80", "10", "none"), ("vif2", "bridge1", "0x80", "10", "none")]
    assert dev.one("/ip/address", interface="vif1")["network"] == "10.0.1.0"


# --- bridges ------------------------------------------------------------------------------

def test_bridge_runs_with_a_running_port_and_ports_go_inactive(dev):
    dev.run("/interface bridge add")
    bridge = dev.one("/interface/bridge", name="bridge1")
    assert bridge["running"] == "no" and bridge["actual-mtu"] == "1500" and bridge["mtu"] == "auto"
    assert bridge["mac-address"] not in ("", "00:00:00:00:00:00")
    dev.run("/interface bridge port add interface=ether2 bridge=bridge1")
    ether2 = dev.one("/interface/ethernet", name="ether2")
    bridge = dev.one("/interface/bridge", name="bridge1")
    assert bridge["running"] == "yes" and bridge["mac-address"] == ether2["mac-address"]
    assert dev.one("/interface/bridge/port")["status"] == "in-bridge"
    assert "RS" in [line for line in dev.run("/interface ethernet print").splitlines() if "ether2" in line][0]
    dev.run("/interface ethernet disable ether2")
    port = dev.one("/interface/bridge/port")
    assert port["status"] == "inactive"
    assert dev.run("/interface bridge port print").splitlines()[-1].split()[1] == "I"
    assert dev.one("/interface/bridge", name="bridge1")["running"] == "no"
    dev.run("/interface ethernet enable ether2")
    assert dev.one("/interface/bridge", name="bridge1")["running"] == "yes"


def test_bridge_errors(dev):
    dev.run("/interface bridge add\n/interface bridge add name=br2\n/interface wireguard add")
    dev.run("/interface bridge port add interface=ether2 bridge=bridge1")
    assert "ether2 is already a port of bridge1" in dev.fails(
        "/interface bridge port add interface=ether2 bridge=br2")
    assert "bridge" in dev.fails("/interface bridge port add interface=br2 bridge=bridge1")
    msg = dev.fails("/interface bridge port add interface=wireguard1 bridge=bridge1")
    assert "interface" in msg and "wireguard1" in msg
    msg = dev.fails("/interface bridge port add interface=ether9 bridge=bridge1")
    assert "interface" in msg and "ether9" in msg
    msg = dev.fails("/interface bridge port add interface=ether3 bridge=nosuch")
    assert "bridge" in msg and "nosuch" in msg
    msg = dev.fails("/interface bridge set bridge1 priority=70000")
    assert "priority" in msg and "0..65535" in msg
    msg = dev.fails("/interface bridge set bridge1 protocol-mode=fast")
    assert "protocol-mode" in msg and "rstp" in msg
    msg = dev.fails("/interface bridge set bridge1 auto-mac=no")
    assert "admin-mac" in msg
    dev.run("/interface bridge set bridge1 auto-mac=no admin-mac=02:00:00:00:00:01 priority=0x1000")
    bridge = dev.one("/interface/bridge", name="bridge1")
    assert bridge["mac-address"] == "02:00:00:00:00:01" and bridge["priority"] == "0x1000"
    # removing a bridge with ports is refused naming the port; nothing is lost
    msg = dev.fails("/interface bridge remove bridge1")
    assert "bridge1" in msg and "ether2" in msg
    assert len(dev.rows("/interface/bridge")) == 2 and len(dev.rows("/interface/bridge/port")) == 1
    dev.run("/interface bridge port remove 0\n/interface bridge remove bridge1")
    assert [b["name"] for b in dev.rows("/interface/bridge")] == ["br2"]


# --- interface lists --------------------------------------------------------------------------

def test_interface_lists(dev):
    lists = dev.rows("/interface/list")
    assert [r["name"] for r in lists] == ["all", "none", "dynamic", "static"]
    assert "cannot be removed" in dev.fails("/interface list remove all")
    assert "builtin" in dev.fails("/interface list set all name=everything")
    assert "builtin" in dev.fails("/interface list member add list=all interface=ether1")
    dev.run("/interface list add name=LAN\n/interface list add name=WAN include=LAN")
    assert "itself" in dev.fails("/interface list set LAN include=WAN")
    dev.run("/interface list member add list=LAN interface=ether2")
    assert "already a member" in dev.fails("/interface list member add list=LAN interface=ether2")
    msg = dev.fails("/interface list member add list=NOPE interface=ether2")
    assert "list" in msg and "NOPE" in msg
    msg = dev.fails("/interface list remove LAN")
    assert "LAN" in msg and "WAN" in msg and "in use" in msg
    dev.run("/interface list unset WAN include")
    msg = dev.fails("/interface list remove LAN")
    assert "LAN" in msg and "ether2" in msg
    dev.run("/ip firewall filter add chain=forward in-interface-list=LAN action=accept")
    dev.run("/interface list set LAN name=inside")
    assert dev.one("/ip/firewall/filter")["in-interface-list"] == "inside"
    assert dev.one("/interface/list/member")["list"] == "inside"


# --- routes ---------------------------------------------------------------------------------

def test_route_destination_is_normalised(dev):
    dev.run("""
        /ip route
        add dst-address=10.5.8.20 gateway=ether1
        add dst-address=192.168.55.77/24 gateway=ether1
        add dst-address=10.0.0.0/8 blackhole=yes
    """)
    assert [r["dst-address"] for r in dev.rows("/ip/route")] == ["10.5.8.20/32", "192.168.55.0/24", "10.0.0.0/8"]
    assert dev.one("/ip/route", **{"dst-address": "10.0.0.0/8"})["active"] == "yes"


def test_route_errors(dev):
    msg = dev.fails("/ip route add dst-address=10.0.0.0/8 gateway=nosuch")
    assert "gateway" in msg and "nosuch" in msg
    msg = dev.fails("/ip route add dst-address=10.0.300.0/24 gateway=ether1")
    assert "dst-address" in msg
    msg = dev.fails("/ip route add dst-address=10.0.0.0/8 gateway=ether1 distance=0")
    assert "distance" in msg and "1..255" in msg
    msg = dev.fails("/ip route add dst-address=10.0.0.0/8")
    assert "gateway" in msg
    assert dev.rows("/ip/route") == []


def test_route_activity_follows_gateway(dev):
    dev.run("""
        /ip route
        add dst-address=172.16.0.0/16 gateway=10.0.1.1
        add dst-address=172.17.0.0/16 gateway=ether3
        add dst-address=172.18.0.0/16 gateway=ether3 distance=5
        add dst-address=172.18.0.0/16 gateway=ether4 distance=2
    """)
    active = {(r["dst-address"], r["gateway"]): r["active"] for r in dev.rows("/ip/route")}
    assert active == {("172.16.0.0/16", "10.0.1.1"): "no", ("172.17.0.0/16", "ether3"): "yes",
                      ("172.18.0.0/16", "ether3"): "no", ("172.18.0.0/16", "ether4"): "yes"}
    dev.run("/ip address add address=10.0.1.2/24 interface=ether1")
    assert dev.one("/ip/route", gateway="10.0.1.1")["active"] == "yes"
    dev.run("/interface ethernet disable ether3")
    assert dev.one("/ip/route", **{"dst-address": "172.17.0.0/16"})["active"] == "no"
    dev.run("/ip route disable [find gateway=ether4]")
    assert dev.one("/ip/route", gateway="ether4")["active"] == "no"
    # a disabled address takes its connected route away
    dev.run("/ip address disable 0")
    assert {r["dst-address"] for r in dev.rows("/ip/route")} == {"172.16.0.0/16", "172.17.0.0/16",
                                                                "172.18.0.0/16"}
    # dynamic routes cannot be changed
    dev.run("/ip address enable 0\n/ip route print")
    assert "dynamic" in dev.fails("/ip route print\n/ip route set 4 distance=3")


# --- renames propagate --------------------------------------------------------------------------

def test_rename_shows_new_name_everywhere(dev):
    dev.run("""
        /interface bridge add name=br-lan
        /interface bridge port add interface=ether2 bridge=br-lan
        /ip address add address=10.0.1.2/24 interface=ether1
        /ip route add dst-address=10.9.0.0/16 gateway=ether1
        /ip firewall filter add chain=forward in-interface=ether1 out-interface=!ether2 action=drop
        /ip firewall nat add chain=srcnat out-interface=ether1 action=masquerade
    """)
    dev.run("/interface ethernet set ether1 name=wan\n/interface ethernet set ether2 name=lan-port")
    dev.run("/interface bridge set br-lan name=bridge-lan")
    assert dev.one("/ip/route", **{"dst-address": "10.9.0.0/16"})["gateway"] == "wan"
    assert dev.one("/ip/route", **{"dst-address": "10.0.1.0/24"})["gateway"] == "wan"
    rule = dev.one("/ip/firewall/filter")
    assert (rule["in-interface"], rule["out-interface"]) == ("wan", "!lan-port")
    assert dev.one("/ip/firewall/nat")["out-interface"] == "wan"
    port = dev.one("/interface/bridge/port")
    assert (port["interface"], port["bridge"]) == ("lan-port", "bridge-lan")
    assert "lan-port" in dev.run("/interface bridge port print")


# --- firewall -------------------------------------------------------------------------------

def test_firewall_values_and_errors(dev):
    dev.run("""
        /ip firewall nat
        add chain=dstnat action=dst-nat to-addresses=192.168.88.10 to-ports=8080 protocol=tcp dst-port=80 in-interface=ether1
        add chain=srcnat action=src-nat to-addresses=10.0.0.1-10.0.0.9 src-address=10.1.2.3/16
        /ip firewall filter
        add chain=forward action=jump jump-target=custom
        add chain=custom action=reject reject-with=icmp-admin-prohibited src-address=!10.0.0.0/8 log=yes log-prefix=cust
        add chain=input connection-state=established,related,new action=accept protocol=17 dst-port=53,1000-2000
    """)
    nat = dev.rows("/ip/firewall/nat")
    assert (nat[0]["to-addresses"], nat[0]["to-ports"], nat[0]["dst-port"]) == ("192.168.88.10", "8080", "80")
    assert nat[1]["to-addresses"] == "10.0.0.1-10.0.0.9" and nat[1]["src-address"] == "10.1.0.0/16"
    rules = dev.rows("/ip/firewall/filter")
    assert rules[1]["src-address"] == "!10.0.0.0/8" and rules[1]["log"] == "yes"
    assert rules[2]["connection-state"] == "established,related,new" and rules[2]["dst-port"] == "53,1000-2000"
    for bad, words in [
        ("/ip firewall filter add chain=input dst-port=80", ["dst-port", "protocol"]),
        ("/ip firewall filter add chain=input action=jump", ["jump-target"]),
        ("/ip firewall filter add chain=input action=masquerade", ["action", "masquerade"]),
        ("/ip firewall filter add chain=input connection-state=bogus", ["connection-state", "bogus"]),
        ("/ip firewall filter add chain=input src-address=10.0.0.300", ["src-address"]),
        ("/ip firewall filter add chain=input protocol=tcp dst-port=70000", ["dst-port", "65535"]),
        ("/ip firewall filter add chain=input in-interface=nosuch", ["in-interface", "nosuch"]),
        ("/ip firewall filter add action=accept", ["chain"]),
        ("/ip firewall nat add chain=srcnat action=netmap", ["to-addresses"]),
        ("/ip firewall nat add chain=dstnat action=dst-nat to-ports=80", ["to-ports", "protocol"]),
    ]:
        msg = dev.fails(bad)
        assert all(w in msg for w in words), (bad, msg)
    assert len(dev.rows("/ip/firewall/filter")) == 3


def test_firewall_counters_grow_for_enabled_reached_rules(dev):
    dev.run("""
        /ip firewall filter
        add chain=input action=accept
        add chain=input action=drop disabled=yes
        add chain=unused action=accept
        add chain=forward action=jump jump-target=mine
        add chain=mine action=accept
    """)
    assert all(r["packets"] == "0" for r in dev.rows("/ip/firewall/filter"))
    dev.clock.t += 100
    first = dev.rows("/ip/firewall/filter")
    dev.clock.t += 100
    second = dev.rows("/ip/firewall/filter")
    counts = [(int(a["packets"]), int(b["packets"])) for a, b in zip(first, second)]
    assert counts[0][0] > 0 and counts[0][1] > counts[0][0]
    assert counts[1] == (0, 0) and counts[2] == (0, 0)  # disabled; a chain nothing jumps to
    assert counts[4][1] > counts[4][0] > 0           # reached by the jump
    assert int(second[0]["bytes"]) > int(second[0]["packets"])


def test_counters_are_deterministic_per_seed(tmp_path):
    outs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        d = Device(tmp_path / name, Clock(), seed=seed)
        d.run("/ip firewall filter add chain=input action=accept")
        d.clock.t += 500
        outs.append((d.rows("/ip/firewall/filter")[0]["packets"], d.one("/interface", name="ether1")["rx-byte"]))
        d.close()
    assert outs[0] == outs[1] and outs[0] != outs[2]


# --- DNS -------------------------------------------------------------------------------------

def test_dns_settings(dev):
    dns = dev.rows("/ip/dns")[0]
    assert dns["allow-remote-requests"] == "no" and dns["max-udp-packet-size"] == "4096"
    assert dns["cache-max-ttl"] == "1w"
    dev.run("/ip dns set servers=8.8.8.8,2001:4860:4860::8888 allow-remote-request=yes cache-size=4096KiB")
    dns = dev.rows("/ip/dns")[0]
    assert dns["servers"] == "8.8.8.8,2001:4860:4860::8888" and dns["allow-remote-requests"] == "yes"
    assert dns["cache-size"] == "4096"
    msg = dev.fails("/ip dns set servers=8.8.8.x")
    assert "servers" in msg and "8.8.8.x" in msg
    msg = dev.fails("/ip dns set max-udp-packet-size=10")
    assert "max-udp-packet-size" in msg and "50..65507" in msg
    assert dev.rows("/ip/dns")[0]["servers"] == "8.8.8.8,2001:4860:4860::8888"


# --- WireGuard errors --------------------------------------------------------------------------

def test_wireguard_errors_and_defaults(dev):
    dev.run("/interface wireguard add\n/interface wireguard add")
    rows = dev.rows("/interface/wireguard")
    assert [(r["name"], r["listen-port"]) for r in rows] == [("wireguard1", "13231"), ("wireguard2", "13232")]
    assert rows[0]["private-key"] != rows[1]["private-key"]
    assert "listen-port" in dev.fails("/interface wireguard set wireguard2 listen-port=13231")
    assert "mtu" in dev.fails("/interface wireguard set wireguard1 mtu=70000")
    msg = dev.fails("/interface wireguard set wireguard1 private-key=abc")
    assert "private-key" in msg and "32 bytes" in msg
    assert "public-key" in dev.fails("/interface wireguard set wireguard1 public-key=%s" % OFFICE1_PUB)
    dev.run("/interface wireguard peers add interface=wireguard1 public-key=%s allowed-address=10.0.0.0/24"
            % OFFICE1_PUB)
    msg = dev.fails("/interface wireguard peers add interface=wireguard1 public-key=%s allowed-address=10.0.0.128/25"
                    % OFFICE2_PUB)
    assert "allowed-address" in msg and "overlaps" in msg
    msg = dev.fails("/interface wireguard peers add interface=wireguard1 public-key=%s" % OFFICE1_PUB)
    assert "public-key" in msg
    assert "public-key" in dev.fails("/interface wireguard peers add interface=wireguard2")
    msg = dev.fails("/interface wireguard peers add interface=wg9 public-key=%s" % OFFICE2_PUB)
    assert "interface" in msg and "wg9" in msg
    msg = dev.fails("/interface wireguard remove wireguard1")
    assert "wireguard1" in msg and "peer1" in msg
    # a client set up on the router: private-key=auto gives the peer's public key
    dev.run("/interface wireguard peers add interface=wireguard2 private-key=auto allowed-address=10.9.0.2/32")
    peer = dev.one("/interface/wireguard/peers", interface="wireguard2")
    assert peer["public-key"] == wgkeys.public_key(peer["private-key"])
    assert "private-key" not in dev.run("/interface wireguard peers print detail")


def test_wg_import_config_string_and_file(dev, tmp_path):
    """Document 004's wg-import example (7.19+), its newlines written as \\n."""
    dev.run(r'''/interface wireguard/wg-import config-string="[Interface]\nAddress =192.168.88.3/24\nListenPort = 13533\nPrivateKey = UBLqJEFZZf9wszZSUF2BPWa9dsMX99RbEcxlNfxWffk=\n[Peer]\nPublicKey = EoF7HlFu3fbOnuYbyGqLMJkPZgQk9n3WwONZuJZ6qWc=\nEndpoint = 199.168.100.10:51820\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 25"''')
    wg = dev.one("/interface/wireguard", name="wireguard1")
    assert wg["listen-port"] == "13533" and wg["private-key"] == "UBLqJEFZZf9wszZSUF2BPWa9dsMX99RbEcxlNfxWffk="
    assert wg["public-key"] == wgkeys.public_key(wg["private-key"])
    peer = dev.one("/interface/wireguard/peers", interface="wireguard1")
    assert (peer["endpoint-address"], peer["endpoint-port"]) == ("199.168.100.10", "51820")
    assert peer["allowed-address"] == "0.0.0.0/0" and peer["persistent-keepalive"] == "25s"
    assert peer["public-key"] == "EoF7HlFu3fbOnuYbyGqLMJkPZgQk9n3WwONZuJZ6qWc="
    assert dev.one("/ip/address", interface="wireguard1")["address"] == "192.168.88.3/24"

    # the document's form: the quoted configuration runs over several lines
    dev.run('''/interface wireguard/wg-import config-string="
[Interface]
Address =192.168.77.3/24
ListenPort = 13534
PrivateKey = %s
[Peer]
PublicKey = EoF7HlFu3fbOnuYbyGqLMJkPZgQk9n3WwONZuJZ6qWc=
Endpoint = 199.168.100.10:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 25"
/ip address print''' % OFFICE1_KEY)
    assert dev.one("/interface/wireguard", **{"listen-port": "13534"})["public-key"] == OFFICE1_PUB
    assert dev.one("/ip/address", address="192.168.77.3/24")["interface"] == "wireguard2"
    dev.run("/interface wireguard peers remove [find interface=wireguard2]\n"
            "/ip address remove [find address=192.168.77.3/24]\n/interface wireguard remove wireguard2")

    conf = tmp_path / "office.conf"
    conf.write_text("[Interface]\nPrivateKey = %s\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\n"
                    "AllowedIPs = 10.1.101.0/24, 10.255.255.1/32\nEndpoint = vpn.example.com:13231\n"
                    % (OFFICE2_KEY, OFFICE1_PUB))
    dev.run("/interface wireguard wg-import file=%s" % conf)
    wg2 = dev.one("/interface/wireguard", name="wireguard2")
    assert wg2["public-key"] == OFFICE2_PUB
    peer2 = dev.one("/interface/wireguard/peers", interface="wireguard2")
    assert peer2["allowed-address"] == "10.1.101.0/24,10.255.255.1/32"
    assert peer2["endpoint-address"] == "vpn.example.com"

    # a bad configuration adds nothing and names what is wrong
    before = len(dev.rows("/interface/wireguard"))
    msg = dev.fails(r'/interface wireguard wg-import config-string="[Interface]\nPrivateKey = %s\n'
                    r'[Peer]\nPublicKey = nonsense"' % wgkeys.generate_private())
    assert "public-key" in msg and "nonsense" in msg
    assert len(dev.rows("/interface/wireguard")) == before
    assert "PrivateKey" in dev.fails(r'/interface wireguard wg-import config-string="[Interface]\nListenPort = 1"')
    assert "file" in dev.fails("/interface wireguard wg-import file=%s" % (tmp_path / "missing.conf"))


# --- interface traffic -------------------------------------------------------------------------

def test_interface_traffic_counters_and_monitor(dev):
    ether = dev.one("/interface/ethernet", name="ether1")
    dev.clock.t += 10
    later = dev.one("/interface/ethernet", name="ether1")
    assert int(later["rx-byte"]) > int(ether["rx-byte"]) and int(later["tx-packet"]) > int(ether["tx-packet"])
    listing = dev.one("/interface", name="ether1")
    assert listing["rx-byte"] == later["rx-byte"]
    dev.run("/interface ethernet set ether1 name=wan mtu=1400")  # counters go on
    assert dev.one("/interface", name="wan")["rx-byte"] == later["rx-byte"]
    dev.run("/interface ethernet disable ether4")
    dev.clock.t += 10
    assert dev.one("/interface/ethernet", name="ether4")["rx-byte"] == "0"

    it = dev.router.command("/interface", "monitor-traffic", dev.router.find("/interface", "wan"), {})
    first = next(it)
    assert set(first) == {"name", "rx-bits-per-second", "tx-bits-per-second", "rx-packets-per-second",
                          "tx-packets-per-second"}
    assert first["name"] == "wan" and first["rx-bits-per-second"].endswith("bps")
    assert int(first["rx-packets-per-second"]) > 0
    again = next(it)
    assert again == first  # same instant, same sample: the iterator never waits
    dev.clock.t += 37
    assert next(it) != first
    it = dev.router.command("/interface", "monitor-traffic", dev.router.find("/interface", "ether4"), {})
    assert next(it)["rx-bits-per-second"] == "0bps"
    text = dev.run("/interface monitor-traffic wan once")
    assert "rx-bits-per-second" in text and "wan" in text
    assert "nosuch" in dev.fails("/interface monitor-traffic nosuch once")


# --- export round trip ---------------------------------------------------------------------------

NET_MENUS = ["/interface/bridge", "/interface/bridge/port", "/interface/list", "/interface/list/member",
             "/ip/address", "/ip/route", "/ip/dns", "/ip/firewall/filter", "/ip/firewall/nat",
             "/interface/wireguard", "/interface/wireguard/peers", "/interface/ethernet"]


def test_export_round_trip(tmp_path):
    clock = Clock()
    src = Device(tmp_path / "src", clock)
    phone = wgkeys.public_key(wgkeys.generate_private())
    src.run(site_script(SITE["office1"]))
    src.run("""
        /interface ethernet set ether3 name=local
        /interface bridge add name=br-lan protocol-mode=none vlan-filtering=yes comment="LAN bridge"
        /interface bridge port add interface=local bridge=br-lan pvid=10 horizon=3
        /interface bridge port add interface=ether4 bridge=br-lan disabled=yes
        /interface list add name=LAN
        /interface list add name=WAN exclude=LAN comment="outside"
        /interface list member add list=LAN interface=br-lan
        /interface list member add list=LAN interface=wireguard1
        /ip address add address=192.168.88.1/24 interface=br-lan
        /ip dns set servers=1.1.1.1,9.9.9.9 allow-remote-requests=yes cache-max-ttl=1d
        /ip route add dst-address=0.0.0.0/0 gateway=192.168.88.254 distance=3 comment="via lan"
        /ip route add dst-address=10.66.0.0/16 blackhole=yes disabled=yes
        /ip firewall nat add chain=srcnat action=masquerade out-interface-list=WAN
        /ip firewall nat add chain=dstnat action=dst-nat protocol=udp dst-port=51820 to-addresses=192.168.88.5 to-ports=51820
        /ip firewall filter add chain=input action=drop in-interface=!br-lan comment="drop \\"outside\\"" place-before=0
        /interface wireguard add name=wg-road listen-port=51820 mtu=1380
        /interface wireguard peers add interface=wg-road public-key="%s" allowed-address=192.168.100.2/32 \\
            persistent-keepalive=25s preshared-key=auto client-address=192.168.100.2/24 client-dns=192.168.100.1
    """ % phone)
    script = tmp_path / "net.rsc"
    src.run("/export show-sensitive file=%s" % script)
    dst = Device(tmp_path / "dst", clock)
    dst.run("/import file-name=%s" % script)
    try:
        for path in NET_MENUS:
            words = "/" + " ".join(path.strip("/").split("/"))
            a = [without(r) for r in src.rows(words)]
            b = [without(r) for r in dst.rows(words)]
            assert a == b, path
        # the route table including the dynamic routes
        text_a, text_b = src.run("/ip route print"), dst.run("/ip route print")
        assert text_a == text_b
    finally:
        src.close()
        dst.close()
