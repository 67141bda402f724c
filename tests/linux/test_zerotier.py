"""ZeroTier through the local service API, against a fake service that
follows ZeroTier One's published API (tests/linux/fake_zerotier.py):
document 004's controller example, joining, peers, and the errors when
the service is missing or refuses the token."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]

FAKE = Path(__file__).with_name("fake_zerotier.py")
ADDRESS = "879c0b5265"


class FakeService:
    """The fake ZeroTier service in a test host."""

    def __init__(self, host, home: Path, port: int = 9993):
        self.host = host
        self.home = home
        self.port = port
        self.proc = host.popen(["python3", str(FAKE), "--port", str(port), "--home", str(home),
                                "--address", ADDRESS], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.token = (home / "authtoken.secret").read_text().strip()

    def get(self, path: str):
        code = ("import json,sys,urllib.request;r=urllib.request.Request('http://127.0.0.1:%d'+sys.argv[1],"
                "headers={'X-ZT1-Auth':sys.argv[2]});print(urllib.request.urlopen(r).read().decode())" % self.port)
        return json.loads(self.host.run(["python3", "-c", code, path, self.token]).stdout)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)


@pytest.fixture
def zt(lab, tmp_path):
    home = tmp_path / "zerotier-one"
    home.mkdir()
    host = lab.host("home")
    host.env["WINBOX_ZEROTIER_HOME"] = str(home)
    svc = FakeService(host, home)
    try:
        yield host, svc
    finally:
        svc.stop()


def _row(host, menu, **match):
    for r in host.rows(menu):
        if all(r.get(k) == v for k, v in match.items()):
            return r
    raise AssertionError("no %s row with %s in %s" % (menu, match, host.rows(menu)))


def test_controller_example_from_the_document(zt):
    host, svc = zt
    host.cli("/zerotier enable zt1")
    inst = _row(host, "/zerotier", name="zt1")
    assert inst["identity.public"].startswith(ADDRESS + ":0:") and inst["running"] == "yes"

    host.cli("/zerotier controller add name=ZT-private instance=zt1 ip-range=172.27.27.10-172.27.27.20 "
             "private=yes routes=172.27.27.0/24")
    net = _row(host, "/zerotier/controller", name="ZT-private")["network"]
    assert len(net) == 16 and net.startswith(ADDRESS)
    conf = svc.get("/controller/network/%s" % net)
    assert conf["private"] is True and conf["name"] == "ZT-private"
    assert conf["ipAssignmentPools"] == [{"ipRangeStart": "172.27.27.10", "ipRangeEnd": "172.27.27.20"}]
    assert conf["routes"] == [{"target": "172.27.27.0/24", "via": None}]

    host.cli("/zerotier interface add network=%s name=myZeroTier instance=zt1" % net)
    assert svc.get("/network/%s" % net)["allowManaged"] is True
    row = _row(host, "/zerotier/interface", name="myZeroTier")
    assert row["status"] == "ACCESS_DENIED" and row["network-name"] == "ZT-private"

    host.cli("/zerotier controller member add network=ZT-private zt-address=%s authorized=yes "
             "ip-address=172.27.27.15" % ADDRESS)
    member = svc.get("/controller/network/%s/member/%s" % (net, ADDRESS))
    assert member["authorized"] is True and member["ipAssignments"] == ["172.27.27.15"]
    row = _row(host, "/zerotier/interface", name="myZeroTier")
    assert row["status"] == "OK" and row["running"] == "yes"
    assert row["mac-address"] and row["mtu"] == "2800"

    # unauthorizing and removing go through to the service too
    host.cli("/zerotier controller member set [find] authorized=no")
    assert _row(host, "/zerotier/interface", name="myZeroTier")["status"] == "ACCESS_DENIED"
    host.cli("/zerotier interface remove myZeroTier")
    assert net not in [n["id"] for n in svc.get("/network")]
    host.cli("/zerotier controller member remove [find]\n/zerotier controller remove ZT-private")
    assert svc.get("/controller/network") == []


def test_joining_a_network_and_peers(zt):
    host, svc = zt
    host.cli("/zerotier enable zt1\n/zerotier interface add network=1d71939404912b40 instance=zt1 allow-default=yes")
    joined = svc.get("/network/1d71939404912b40")
    assert joined["allowDefault"] is True and joined["allowGlobal"] is False
    time.sleep(1.2)
    row = _row(host, "/zerotier/interface", network="1d71939404912b40")
    assert row["status"] == "OK" and row["network-name"] == "net-912b40" and row["name"] == "zerotier1"
    peers = host.rows("/zerotier/peer")
    roles = sorted(p["role"] for p in peers)
    assert roles == ["LEAF", "PLANET", "PLANET", "PLANET", "PLANET"]
    leaf = [p for p in peers if p["role"] == "LEAF"][0]
    assert leaf["zt-address"] == "1d71939404" and leaf["latency"] == "23ms" and "active" in leaf["path"]
    # disabling the interface leaves the network; enabling joins again
    host.cli("/zerotier interface disable zerotier1")
    assert svc.get("/network") == []
    host.cli("/zerotier interface enable zerotier1")
    assert [n["id"] for n in svc.get("/network")] == ["1d71939404912b40"]
    # disabling the instance leaves everything
    host.cli("/zerotier disable zt1")
    assert svc.get("/network") == []


def test_a_missing_service_is_reported_on_the_instance(lab):
    host = lab.host("office")
    host.env["WINBOX_ZEROTIER_HOME"] = str(lab.base / "nothing-here")
    host.cli("/zerotier enable zt1\n/zerotier interface add network=1d71939404912b40 instance=zt1")
    log = [x["message"] for x in host.rows("/log")]
    assert any(m.startswith("zerotier zt1: cannot read the ZeroTier service's auth token") for m in log), log
    assert any(m.startswith("zerotier interface zerotier1: its instance zt1 is not running") for m in log), log
    row = _row(host, "/zerotier/interface", name="zerotier1")
    assert row["running"] == "no" and row[".problem"].startswith("its instance zt1 is not running")


def test_a_refused_token_is_reported(zt):
    host, svc = zt
    (svc.home / "authtoken.secret").write_text("not-the-token")
    host.cli("/zerotier enable zt1")
    log = [x["message"] for x in host.rows("/log")]
    assert any("refused the auth token" in m for m in log), log
