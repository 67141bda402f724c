"""PPPoE on Linux: document 004's quick example of an access concentrator
on one agent, found by the other agent's ``scan`` (real discovery packets
between namespaces); a PPP session needs /dev/ppp, which this kernel may
lack, and then the client says so."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]

SERVER = """/system identity set name=isp1
/ip pool
add name=pppoe-pool ranges=10.0.0.2-10.0.0.5
/ppp profile
add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool
/ppp secret
add name=MT-User password=StrongPass profile=for-pppoe service=pppoe
/interface pppoe-server server
add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice
"""

CLIENT = ("/interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice "
          "name=PPPoE-Out disabled=no user=MT-User")


@pytest.fixture
def isp(lab):
    server, client = lab.host("isp"), lab.host("cpe")
    lab.link(server, "ether3", client, "ether2")
    server.cli(SERVER)
    return server, client


def test_scan_finds_the_access_concentrator_of_the_other_agent(isp):
    server, client = isp
    mac = server.links()["ether3"]["address"].upper()
    out = client.cli("/interface pppoe-client scan ether2", as_json=True).stdout
    rows = json.loads(out.strip().splitlines()[-1])
    assert rows == [{"service": "pppoeservice", "mac-address": mac, "ac-name": "isp1"}]
    # the server stops when disabled: nothing answers any more
    server.cli("/interface pppoe-server server disable 0")
    out = client.cli("/interface pppoe-client scan ether2", as_json=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


def test_without_kernel_ppp_the_client_and_server_say_so(isp):
    if os.path.exists("/dev/ppp"):
        pytest.skip("this kernel has /dev/ppp: the missing-PPP report cannot be shown here")
    server, client = isp
    client.cli(CLIENT)
    row = client.rows("/interface pppoe-client")[0]
    assert row["running"] == "no" and row["status"] == "disconnected"
    assert row[".problem"] == "PPPoE-Out cannot dial: the kernel has no PPP support here (/dev/ppp is missing)"
    out = client.cli("/interface pppoe-client print").stdout
    assert "I" in [ln for ln in out.splitlines() if "PPPoE-Out" in ln][0].split()[1]
    log = [x["message"] for x in client.rows("/log")]
    assert "interface pppoe-client PPPoE-Out: PPPoE-Out cannot dial: the kernel has no PPP support here " \
           "(/dev/ppp is missing)" in log
    notice = server.rows("/interface pppoe-server server")[0][".notice"]
    assert "cannot connect" in notice and "/dev/ppp" in notice
    # the other tunnels too
    client.cli("/interface l2tp-client add connect-to=10.0.0.1 user=u password=p disabled=no")
    row = client.rows("/interface l2tp-client")[0]
    assert row[".problem"] == "l2tp-out1 cannot dial: the kernel has no PPP support here (/dev/ppp is missing)"


def test_pppoe_session_between_two_agents(isp):
    if not os.path.exists("/dev/ppp"):
        pytest.skip("the kernel lacks PPP (/dev/ppp is missing): no PPP session can be made here")
    server, client = isp
    client.cli(CLIENT)
    import time
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = client.rows("/interface pppoe-client")[0]
        if row["status"] == "connected":
            break
        time.sleep(1)
    assert row["status"] == "connected" and row["local-address"] == "10.0.0.2"
