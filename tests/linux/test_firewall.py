"""/ip firewall filter and nat as nftables, proven by traffic: the source
address a listener sees (NAT), connections blocked and allowed (filter),
and other software's tables left alone."""

from __future__ import annotations

import json

import pytest

from tests.linux.netlab import Listener, connect, three_hosts

pytestmark = [pytest.mark.root, pytest.mark.netns]


@pytest.fixture
def net(lab):
    """client -- router -- server; the server has no route back to the client's net."""
    client, router, server = three_hosts(lab, ("client", "router", "server"))
    client.cli("/ip route add gateway=10.1.0.1")
    assert client.wait_ping("10.1.0.1") and router.wait_ping("10.2.0.2")
    return client, router, server


def test_masquerade_makes_connections_come_from_the_router(net):
    client, router, server = net
    listener = Listener(server, 8080)
    try:
        assert connect(client, "10.2.0.2", 8080) != "connected", "the server answers without NAT"
        router.cli("/ip firewall nat add chain=srcnat action=masquerade out-interface=eth2")
        assert connect(client, "10.2.0.2", 8080) == "connected"
    finally:
        peers = listener.peers()
    assert peers == ["10.2.0.1"], "the server saw %s, not the router's address" % peers
    # the rule counted the connection
    row = router.rows("/ip firewall nat")[0]
    assert int(row["packets"]) >= 1 and int(row["bytes"]) > 0


def test_src_nat_and_dst_nat_translate_to_the_given_addresses(net):
    client, router, server = net
    router.cli("/ip address add address=10.2.0.77/24 interface=eth2\n"
               "/ip firewall nat add chain=srcnat action=src-nat to-addresses=10.2.0.77 out-interface=eth2\n"
               "/ip firewall nat add chain=dstnat action=dst-nat protocol=tcp dst-port=80 "
               "to-addresses=10.2.0.2 to-ports=8080 in-interface=eth1")
    listener = Listener(server, 8080)
    try:
        assert connect(client, "10.1.0.1", 80) == "connected"
    finally:
        peers = listener.peers()
    assert peers == ["10.2.0.77"]


def test_filter_rules_block_and_allow_in_order(net):
    client, router, server = net
    listeners = [Listener(server, port) for port in (9000, 9001, 9002)]
    try:
        router.cli("/ip firewall filter add chain=forward action=drop protocol=tcp dst-port=9000\n"
                   "/ip firewall filter add chain=forward action=reject reject-with=tcp-reset protocol=tcp "
                   "dst-port=9002\n"
                   "/ip firewall filter add chain=forward action=accept connection-state=established,related\n"
                   "/ip firewall nat add chain=srcnat action=masquerade out-interface=eth2")
        assert connect(client, "10.2.0.2", 9000) == "timeout"
        assert connect(client, "10.2.0.2", 9001) == "connected"
        assert connect(client, "10.2.0.2", 9002) == "refused"
        # an accept placed before the drop lets 9000 through
        router.cli("/ip firewall filter add chain=forward action=accept protocol=tcp dst-port=9000 "
                   "src-address=10.1.0.0/24 in-interface=eth1 place-before=0")
        assert connect(client, "10.2.0.2", 9000) == "connected"
        # negated interface: the drop applies to everything not from eth1
        router.cli("/ip firewall filter remove 0\n"
                   "/ip firewall filter set 0 in-interface=!eth1")
        assert connect(client, "10.2.0.2", 9000) == "connected"
        router.cli("/ip firewall filter set 0 in-interface=eth1")
        assert connect(client, "10.2.0.2", 9000) == "timeout"
    finally:
        for lst in listeners:
            lst.close()


def test_input_chain_protects_the_router_itself(net):
    client, router, server = net
    listener = Listener(router, 2222)
    try:
        router.cli("/ip firewall filter add chain=input action=drop protocol=tcp dst-port=2222 "
                   "src-address=!10.2.0.0/24")
        assert connect(client, "10.1.0.1", 2222) == "timeout"
        assert connect(server, "10.2.0.1", 2222) == "connected"
        router.cli("/ip firewall filter disable 0")
        assert connect(client, "10.1.0.1", 2222) == "connected"
    finally:
        listener.close()


def test_other_tables_survive_and_only_the_agents_table_changes(net):
    client, router, server = net
    router.run(["nft", "add", "table", "inet", "foreign"])
    router.run(["nft", "add", "chain", "inet", "foreign", "keep", "{ type filter hook input priority 10 ; }"])
    router.run(["nft", "add", "rule", "inet", "foreign", "keep", "counter"])
    router.cli("/ip firewall filter add chain=input action=accept protocol=icmp")
    router.cli("/ip firewall filter add chain=input action=drop protocol=udp dst-port=53")
    router.cli("/ip firewall filter remove 1")
    tables = {(t["table"]["family"], t["table"]["name"])
              for t in router.json(["nft", "-j", "list", "tables"])["nftables"] if "table" in t}
    assert ("inet", "foreign") in tables and ("ip", "winbox") in tables
    foreign = json.dumps(router.json(["nft", "-j", "list", "table", "inet", "foreign"]))
    assert '"keep"' in foreign and "counter" in foreign
    # with no rules left the agent's table goes, the foreign one stays
    router.cli("/ip firewall filter remove 0")
    tables = {(t["table"]["family"], t["table"]["name"])
              for t in router.json(["nft", "-j", "list", "tables"])["nftables"] if "table" in t}
    assert tables == {("inet", "foreign")}


def test_rules_nftables_cannot_do_are_flagged_with_the_reason(net):
    client, router, server = net
    router.cli("/ip firewall filter add chain=forward action=drop src-address-list=bad\n"
               "/ip firewall filter add chain=forward action=drop protocol=tcp dst-port=9000")
    out = router.cli("/ip firewall filter print").stdout
    lines = [ln for ln in out.splitlines() if ln[:1].isdigit()]
    assert "I" in lines[0].split()[1] and "I" not in lines[1].split()[1], out
    log = [x["message"] for x in router.rows("/log")]
    assert any("src-address-list is not supported" in m for m in log), log
    # the other rule is in force
    nft = json.dumps(router.json(["nft", "-j", "list", "table", "ip", "winbox"]))
    assert nft.count('"comment"') == 1
