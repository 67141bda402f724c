"""PPP on the simulated router, driven by a clock the tests step: clients going
dialing -> verifying password... -> connected, failures with their reason in
/log, the PPPoE scanner, MLPPP, the other tunnels, /ppp active sessions of the
router's own servers, and DHCPv6 prefix delegation over a PPPoE link."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import LNS_EXAMPLE, T0, Clock  # noqa: E402
from winbox_agent.cli.shell import Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402


class Sim:
    """A simulated router on a stepped clock, with the CLI on top."""

    def __init__(self, state: Path, clock: Clock, seed: int = 7):
        self.clock = clock
        self.router = Router(str(state), seed=seed, clock=clock)
        self.lines: List[str] = []
        self.cli = Interpreter(self.router, out=self.lines.append)

    def __call__(self, script: str) -> str:
        self.lines.clear()
        self.cli.run_script(script)
        return "\n".join(self.lines)

    def id(self, path: str, name: str) -> str:
        return self.router.find(path, name)

    def monitor(self, name: str, path: str = "/interface/pppoe-client") -> Dict[str, str]:
        rows = self.router.command(path, "monitor", self.id(path, name), {"once": "yes"})
        return next(iter(rows))

    def row(self, path: str, name: str) -> Dict[str, str]:
        m = self.router.menu(path)
        return self.router.format_row(m, self.router.row(path, self.id(path, name)), sensitive=True)

    def rows(self, path: str) -> List[Dict[str, str]]:
        m = self.router.menu(path)
        return [self.router.format_row(m, r, sensitive=True) for r in self.router.rows(path)]

    def log(self) -> List[Dict]:
        return self.router.driver.log_entries()

    def messages(self, topic: str = "ppp") -> List[str]:
        return [e["message"] for e in self.log() if topic in e["topics"].split(",")]


@pytest.fixture
def sim(tmp_path, clock):
    return Sim(tmp_path / "state", clock)


# -- PPPoE client ------------------------------------------------------------------------------------

def test_pppoe_client_dials_verifies_and_connects_with_uptime_counting(sim, clock):
    sim("/interface pppoe-client add interface=ether1 user=MT-User password=StrongPass disabled=no")
    assert sim.monitor("pppoe-out1") == {"status": "dialing"}
    assert sim.row("/interface/pppoe-client", "pppoe-out1")[".flags"] == ""
    clock.at(0.9)
    assert sim.monitor("pppoe-out1")["status"] == "dialing"
    clock.at(1.5)
    verifying = sim.monitor("pppoe-out1")
    assert verifying == {"status": "verifying password...", "ac-name": "isp-ether1", "service-name": "internet",
                         "ac-mac": verifying["ac-mac"]}
    clock.at(2.0)
    row = sim.monitor("pppoe-out1")
    assert list(row) == ["status", "uptime", "active-links", "encoding", "local-address", "remote-address",
                         "ac-mac", "ac-name", "service-name", "mtu", "mru"]
    assert row["status"] == "connected" and row["uptime"] == "0s" and row["active-links"] == "1"
    assert ipaddress.ip_address(row["local-address"]) in ipaddress.ip_network("100.64.0.0/10")
    assert row["remote-address"] == "100.64.0.1"
    assert (row["mtu"], row["mru"]) == ("1460", "1460")          # min(max-mtu 1460, the AC's 1480)
    assert row["ac-mac"] == verifying["ac-mac"]
    clock.at(65)
    assert sim.monitor("pppoe-out1")["uptime"] == "1m3s"
    printed = sim.row("/interface/pppoe-client", "pppoe-out1")
    assert printed[".flags"] == "R"
    assert (printed["status"], printed["uptime"], printed["running"]) == ("connected", "1m3s", "yes")
    assert printed["local-address"] == row["local-address"]
    assert any(r["name"] == "pppoe-out1" and r[".flags"] == "R" for r in sim.rows("/interface"))
    assert sim.messages() == ["pppoe-out1: initializing...", "pppoe-out1: connecting...",
                              "pppoe-out1: authenticated", "pppoe-out1: connected"]
    times = [e["time"] for e in sim.log() if "ppp" in e["topics"]]
    assert times == [T0, T0, T0 + 2, T0 + 2]


def test_monitor_is_a_stream_that_never_waits(sim, clock):
    sim("/interface pppoe-client add interface=ether1 user=u password=p disabled=no name=wan")
    rows = sim.router.command("/interface/pppoe-client", "monitor", sim.id("/interface/pppoe-client", "wan"), {})
    seen = []
    started = time.monotonic()
    for step in range(4):
        clock.at(step * 0.75)
        seen.append(next(rows)["status"])
    assert time.monotonic() - started < 1
    assert seen == ["dialing", "dialing", "verifying password...", "connected"]
    assert sim("/interface pppoe-client monitor wan once").splitlines()[0].strip() == "status: connected"


def test_max_mtu_auto_takes_the_access_concentrators(sim, clock):
    sim("/interface pppoe-client add interface=ether2 user=u password=p disabled=no max-mtu=auto max-mru=1400")
    clock.at(3)
    row = sim.monitor("pppoe-out1")
    assert (row["mtu"], row["mru"], row["remote-address"]) == ("1480", "1400", "100.64.0.2")


@pytest.mark.parametrize("settings,after,reason", [
    ("user=u password=", 2, "authentication failed"),
    ("user= password=p", 2, "authentication failed"),
    ("user=u password=p allow=\"\"", 2, "authentication failed"),
    ("user=u password=p service-name=pppoeservice", 1, "no access concentrator answered for service-name=pppoeservice"),
    ("user=u password=p ac-name=other-isp", 1, "no access concentrator answered for ac-name=other-isp"),
    ("user=u password=p service-name=internet ac-name=isp-ether1", None, None),
])
def test_pppoe_client_failures_say_why_in_the_log(sim, clock, settings, after, reason):
    sim("/interface pppoe-client add interface=ether1 disabled=no %s" % settings)
    clock.at(10)
    status = sim.monitor("pppoe-out1")["status"]
    errors = [(e["time"], e["topics"], e["message"]) for e in sim.log() if "error" in e["topics"]]
    if reason is None:
        assert status == "connected" and errors == []
        return
    assert status == "disconnected"
    assert sim.row("/interface/pppoe-client", "pppoe-out1")[".flags"] == ""
    assert errors == [(T0 + after, "pppoe,ppp,error", "pppoe-out1: disconnected <%s>" % reason)]
    clock.at(20)
    sim.log()
    assert len([e for e in sim.log() if "error" in e["topics"]]) == 1      # written once however often looked at


def test_disabling_the_ethernet_port_drops_the_link_and_enabling_redials(sim, clock):
    sim("/interface pppoe-client add interface=ether3 user=u password=p disabled=no")
    clock.at(5)
    assert sim.monitor("pppoe-out1")["status"] == "connected"
    sim("/interface ethernet disable ether3")
    assert sim.monitor("pppoe-out1") == {"status": "disconnected"}
    assert sim.row("/interface/pppoe-client", "pppoe-out1")[".flags"] == "I"
    clock.at(8)
    sim("/interface ethernet enable ether3")
    assert sim.monitor("pppoe-out1")["status"] == "dialing"
    clock.at(10)
    assert sim.monitor("pppoe-out1")["uptime"] == "0s"
    entries = [(e["time"] - T0, e["message"]) for e in sim.log() if "ppp" in e["topics"]]
    assert entries[4:] == [(5, "pppoe-out1: disconnected <interface ether3 is disabled>"),
                           (8, "pppoe-out1: initializing..."), (8, "pppoe-out1: connecting..."),
                           (10, "pppoe-out1: authenticated"), (10, "pppoe-out1: connected")]


def test_disabling_the_client_logs_a_disconnect(sim, clock):
    sim("/interface pppoe-client add interface=ether1 user=u password=p disabled=no")
    clock.at(4)
    sim("/interface pppoe-client disable pppoe-out1")
    assert sim.monitor("pppoe-out1") == {"status": "disconnected"}
    assert sim.row("/interface/pppoe-client", "pppoe-out1")[".flags"] == "X"
    last = sim.log()[-1]
    assert (last["time"], last["topics"], last["message"]) == (T0 + 4, "pppoe,ppp,info", "pppoe-out1: disconnected")


def test_mlppp_bonds_the_links_that_answer(sim, clock):
    sim("/interface pppoe-client add service-name=internet interface=ether1,ether2 user=xxx password=yyy disabled=no")
    clock.at(3)
    assert sim.monitor("pppoe-out1")["active-links"] == "2"
    sim("/interface ethernet disable ether2")
    row = sim.monitor("pppoe-out1")
    assert (row["status"], row["active-links"], row["uptime"]) == ("connected", "1", "1s")


def test_scan_lists_the_access_concentrator_of_a_port(sim, clock):
    out = sim("/interface pppoe-client scan ether4")
    ac_mac = sim.router.driver.mac("isp", "ether4")
    assert [line.strip() for line in out.splitlines() if line.strip()] == [
        "service: internet", "mac-address: %s" % ac_mac, "ac-name: isp-ether4"]
    rows = list(sim.router.command("/interface/pppoe-client", "scan", None, {"interface": "ether4"}))
    assert rows == [{"service": "internet", "mac-address": ac_mac, "ac-name": "isp-ether4"}]
    sim("/interface ethernet disable ether4")
    assert list(sim.router.command("/interface/pppoe-client", "scan", None, {"interface": "ether4"})) == []
    assert "interface: must be given" in str(pytest.raises(Exception, sim.router.command,
                                                           "/interface/pppoe-client", "scan", None, {}).value)


def test_the_sim_is_deterministic_for_a_seed_and_clock(tmp_path):
    def run(name: str, seed: int) -> List[Dict[str, str]]:
        clock = Clock()
        s = Sim(tmp_path / name, clock, seed=seed)
        s("/interface pppoe-client add interface=ether1 user=u password=p disabled=no\n"
          "/interface l2tp-client add connect-to=192.0.2.9 user=u password=p disabled=no")
        out = []
        for t in (0, 1.2, 2, 30):
            clock.at(t)
            out.append(s.monitor("pppoe-out1"))
            out.append(s.monitor("l2tp-out1", "/interface/l2tp-client"))
        out.append([(e["time"], e["topics"], e["message"]) for e in s.log()])
        return out

    assert run("a", 7) == run("b", 7)
    assert run("c", 8)[6]["local-address"] != run("d", 7)[6]["local-address"]


def test_separate_routers_on_one_state_dir_agree(tmp_path, clock):
    first = Sim(tmp_path / "state", clock)
    first("/interface pppoe-client add interface=ether1 user=u password=p disabled=no")
    first.router.close()
    clock.at(3)
    second = Sim(tmp_path / "state", clock)
    assert second.monitor("pppoe-out1")["uptime"] == "1s"
    assert second.messages() == ["pppoe-out1: initializing...", "pppoe-out1: connecting...",
                                 "pppoe-out1: authenticated", "pppoe-out1: connected"]


def test_separate_cli_processes_see_the_link_come_up(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))

    def cli(*args: str) -> str:
        cmd = [sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", str(tmp_path / "s"), "cli"]
        done = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    before = time.time()
    cli("-c", "/interface pppoe-client add interface=ether1 user=u password=p disabled=no")
    added = time.time()
    first = json.loads(cli("--json", "-c", "/interface pppoe-client print"))[0]["status"]
    if time.time() - before < 1:      # the first look came in time to see it dialing
        assert first == "dialing"
    time.sleep(max(0.0, added + 2.2 - time.time()))
    row = json.loads(cli("--json", "-c", "/interface pppoe-client print"))[0]
    assert (row["status"], row["running"]) == ("connected", "yes")
    assert row["uptime"] in ("0s", "1s", "2s", "3s", "4s", "5s")
    log = json.loads(cli("--json", "-c", "/log print where topics~\"ppp\""))
    assert [e["message"] for e in log] == ["pppoe-out1: initializing...", "pppoe-out1: connecting...",
                                           "pppoe-out1: authenticated", "pppoe-out1: connected"]


# -- the other tunnels -------------------------------------------------------------------------------

@pytest.mark.parametrize("path,extra,encoding,mtu", [
    ("/interface/l2tp-client", "", "MPPE128 stateless", "1450"),
    ("/interface/pptp-client", "", "MPPE128 stateless", "1450"),
    ("/interface/sstp-client", "", "AES256-GCM-SHA384", "1460"),
    ("/interface/sstp-client", "ciphers=aes256-sha profile=default-encryption", "AES256-SHA", "1460"),
    ("/interface/ovpn-client", "", "BF-128-CBC/SHA1", "1500"),
    ("/interface/ovpn-client", "cipher=aes256-gcm auth=null", "AES-256-GCM/NULL", "1500"),
    ("/interface/l2tp-client", "profile=default", "", "1450"),
])
def test_tunnel_clients_connect_to_a_server_at_any_address(sim, clock, path, extra, encoding, mtu):
    menu = " ".join(w for w in path.split("/") if w)
    sim("/%s add connect-to=203.0.113.7 user=u password=p disabled=no name=vpn %s" % (menu, extra))
    assert sim.monitor("vpn", path) == {"status": "connecting..."}
    clock.at(1)
    assert sim.monitor("vpn", path) == {"status": "verifying password..."}
    clock.at(2.5)
    row = sim.monitor("vpn", path)
    assert row["status"] == "connected" and row["uptime"] == "0s"
    assert (row["encoding"], row["mtu"]) == (encoding, mtu)
    assert ipaddress.ip_address(row["remote-address"]) in ipaddress.ip_network("100.64.1.0/24")
    assert sim.row(path, "vpn")[".flags"] == "R"


@pytest.mark.parametrize("path,extra,reason", [
    ("/interface/sstp-client", "verify-server-certificate=yes", "unable to get issuer certificate locally"),
    ("/interface/ovpn-client", "verify-server-certificate=yes", "unable to get issuer certificate locally"),
    ("/interface/l2tp-client", "use-ipsec=yes", "IPsec: ipsec-secret is empty"),
])
def test_tunnel_clients_fail_with_a_reason(sim, clock, path, extra, reason):
    menu = " ".join(w for w in path.split("/") if w)
    sim("/%s add connect-to=203.0.113.7 user=u password=p disabled=no name=vpn %s" % (menu, extra))
    clock.at(5)
    assert sim.monitor("vpn", path) == {"status": "disconnected"}
    proto = path.split("/")[2].split("-")[0]
    assert [e["message"] for e in sim.log() if e["topics"] == "%s,ppp,error" % proto] == [
        "vpn: disconnected <%s>" % reason]


# -- /ppp active ----------------------------------------------------------------------------------------

PPPOE_SERVER = """
/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5
/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool
/ppp secret add name=MT-User password=StrongPass profile=for-pppoe service=pppoe
/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice
"""


def test_secrets_on_an_enabled_server_become_active_sessions(sim, clock):
    sim(PPPOE_SERVER)
    clock.at(1.9)
    assert sim.rows("/ppp/active") == []
    clock.at(2)
    [row] = sim.rows("/ppp/active")
    assert (row["name"], row["service"], row["address"], row["uptime"]) == ("MT-User", "pppoe", "10.0.0.2", "0s")
    assert row["caller-id"] == sim.router.driver.mac("ppp-peer", sim.id("/ppp/secret", "MT-User"))
    assert row["session-id"].startswith("0x81") and row["radius"] == "no" and row[".flags"] == ""
    clock.at(3)
    sim("/ppp secret add name=second password=x profile=for-pppoe service=pppoe\n"
        "/ppp secret add name=fixed password=x service=pppoe remote-address=10.9.9.9")
    clock.at(5)
    assert {r["name"]: r["address"] for r in sim.rows("/ppp/active")} == {
        "MT-User": "10.0.0.2", "second": "10.0.0.3", "fixed": "10.9.9.9"}
    assert sim.row("/ppp/active", "MT-User")["uptime"] == "3s"
    # an earlier session ending does not move the others' addresses
    sim("/ppp secret remove MT-User")
    assert {r["name"]: r["address"] for r in sim.rows("/ppp/active")} == {"second": "10.0.0.3", "fixed": "10.9.9.9"}
    clock.at(6)
    sim("/interface pppoe-server server disable 0")
    assert sim.rows("/ppp/active") == []
    assert sim.messages() == [
        "MT-User logged in, 10.0.0.2 from %s" % row["caller-id"],
        "second logged in, 10.0.0.3 from %s" % sim.router.driver.mac("ppp-peer", sim.id("/ppp/secret", "second")),
        "fixed logged in, 10.9.9.9 from %s" % sim.router.driver.mac("ppp-peer", sim.id("/ppp/secret", "fixed")),
        "MT-User logged out", "second logged out", "fixed logged out"]


def test_connected_users_appear_as_server_interfaces(sim, clock):
    sim("/interface pptp-server server set enabled=yes\n"
        "/ppp secret add local-address=10.0.0.1 name=MT-User password=StrongPass profile=default-encryption "
        "remote-address=10.0.0.5 service=pptp\n"
        "/ppp secret add name=bob password=x service=pptp remote-address=10.0.0.6\n"
        "/interface pptp-server add name=bob-in user=bob")
    clock.at(1)
    assert sim.rows("/interface/pptp-server")[0][".flags"] == ""
    clock.at(2 + 44 * 60 + 8)
    rows = {r["name"]: r for r in sim.rows("/interface/pptp-server")}
    dynamic = rows["<pptp-MT-User>"]
    assert (dynamic[".flags"], dynamic["user"], dynamic["mtu"], dynamic["uptime"], dynamic["encoding"]) == (
        "DR", "MT-User", "1450", "44m8s", "MPPE128 stateless")
    assert dynamic["client-address"] == sim.row("/ppp/active", "MT-User")["caller-id"]
    assert (rows["bob-in"][".flags"], rows["bob-in"]["uptime"]) == ("R", "44m8s")
    types = {r["name"]: (r["type"], r[".flags"]) for r in sim.rows("/interface")}
    assert types["<pptp-MT-User>"] == ("pptp-in", "DR") and types["bob-in"] == ("pptp-in", "R")
    assert "<pptp-MT-User>  MT-User  1450" in sim("/interface pptp-server print")
    sim("/interface pptp-server server set enabled=no")
    assert [(r["name"], r[".flags"]) for r in sim.rows("/interface/pptp-server")] == [("bob-in", "")]


def test_a_secret_needs_its_services_server(sim, clock):
    sim("/ppp secret add name=u password=p service=l2tp remote-address=10.0.0.9")
    clock.at(10)
    assert sim.rows("/ppp/active") == []
    sim("/interface pptp-server server set enabled=yes")
    clock.at(20)
    assert sim.rows("/ppp/active") == []
    sim("/interface l2tp-server server set enabled=yes")
    clock.at(22)
    [row] = sim.rows("/ppp/active")
    assert (row["service"], row["address"], row["encoding"]) == ("l2tp", "10.0.0.9", "")
    assert ipaddress.ip_address(row["caller-id"]) in ipaddress.ip_network("198.51.100.0/24")


def test_lns_example_session(sim, clock):
    sim(LNS_EXAMPLE)
    clock.at(2)
    [row] = sim.rows("/ppp/active")
    assert (row["name"], row["service"], row["address"]) == ("good_worker@mt.lv", "l2tp", "192.168.99.2")
    assert "good_worker@mt.lv  l2tp" in sim("/ppp active print")


def test_an_exhausted_pool_refuses_the_session(sim, clock):
    sim("/ip pool add name=tiny ranges=10.0.0.2-10.0.0.2\n/ppp profile add name=p remote-address=tiny\n"
        "/interface sstp-server server set enabled=yes default-profile=p\n"
        "/ppp secret add name=a password=x service=sstp profile=p\n/ppp secret add name=b password=x profile=p")
    clock.at(3)
    assert [(r["name"], r["address"], r["encoding"]) for r in sim.rows("/ppp/active")] == [
        ("a", "10.0.0.2", "AES256-GCM-SHA384")]
    errors = [(e["topics"], e["message"]) for e in sim.log() if "error" in e["topics"]]
    assert errors == [("sstp,ppp,error", "b: could not assign an address, the pool is full")]


# -- DHCPv6 prefix delegation over PPPoE ------------------------------------------------------------------

def test_dhcpv6_client_gets_a_prefix_once_the_pppoe_link_is_up(sim, clock):
    sim("/interface pppoe-client add name=client-test interface=ether1 user=a1 password=p disabled=no\n"
        "/ipv6 dhcp-client add interface=client-test pool-name=ppp-test pool-prefix-length=64")
    clock.at(2.5)
    assert sim.row("/ipv6/dhcp-client", "client-test")["status"] == "searching..."
    assert sim.rows("/ipv6/pool") == []
    clock.at(3)
    row = sim.row("/ipv6/dhcp-client", "client-test")
    prefix = ipaddress.ip_network(row["prefix"])
    assert row["status"] == "bound" and prefix.prefixlen == 56 and prefix.subnet_of(ipaddress.ip_network("2001:db8::/32"))
    assert row["expires-after"] == "1d"
    [pool] = sim.rows("/ipv6/pool")
    assert (pool["name"], pool["prefix"], pool["prefix-length"], pool[".flags"]) == (
        "ppp-test", row["prefix"], "64", "D")
    assert "dhcp6 client on client-test got prefix %s" % row["prefix"] in sim.messages("dhcp")
    clock.at(3 + 3600)
    assert sim.row("/ipv6/dhcp-client", "client-test")["expires-after"] == "23h"
    sim("/ipv6 dhcp-client renew client-test")
    assert sim.row("/ipv6/dhcp-client", "client-test")["status"] == "searching..."
    clock.at(3 + 3601)
    assert sim.row("/ipv6/dhcp-client", "client-test")["status"] == "bound"
    assert sim.messages("dhcp") == ["dhcp6 client on client-test got prefix %s" % row["prefix"],
                                    "dhcp6 client on client-test released prefix %s" % row["prefix"],
                                    "dhcp6 client on client-test got prefix %s" % row["prefix"]]


def test_dhcpv6_client_errors_and_ethernet_upstream(sim, clock):
    sim("/ipv6 dhcp-client add interface=ether2 pool-name=big pool-prefix-length=48\n"
        "/ipv6 dhcp-client add interface=ether3 pool-name=lan request=address,prefix")
    clock.at(2)
    assert sim.row("/ipv6/dhcp-client", "ether2")["status"] == "error"
    assert "dhcp6 client on ether2: pool-prefix-length 48 is shorter than the delegated /56" in sim.messages("dhcp")
    bound = sim.row("/ipv6/dhcp-client", "ether3")
    assert bound["status"] == "bound" and bound["address"].endswith("/128")
    assert [p["name"] for p in sim.rows("/ipv6/pool")] == ["lan"]
    sim("/interface ethernet disable ether3")
    row = sim.row("/ipv6/dhcp-client", "ether3")
    assert (row["status"], row[".flags"]) == ("searching...", "I")


def test_a_script_of_many_secrets_is_linear_and_survives_a_restart(tmp_path, clock):
    lines = ["/ip pool add name=big ranges=10.1.0.0/22", "/ppp profile add name=isp remote-address=big",
             "/interface pppoe-server server add interface=ether2 disabled=no default-profile=isp"]
    lines += ["/ppp secret add name=user%d password=p%d profile=isp service=pppoe" % (n, n) for n in range(400)]
    first = Sim(tmp_path / "state", clock)
    started = time.monotonic()
    first("\n".join(lines))                  # one batch: the sim state is written once, when the router closes
    elapsed = time.monotonic() - started
    first.router.close()
    clock.at(2)
    second = Sim(tmp_path / "state", clock)
    active = second.rows("/ppp/active")
    assert [r["address"] for r in active] == [str(ipaddress.ip_address("10.1.0.1") + n) for n in range(400)]
    assert len([m for m in second.messages() if " logged in, " in m]) == 400
    assert elapsed < 60, "400 secrets took %.1fs" % elapsed
