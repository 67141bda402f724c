"""OpenVPN between two namespaced agents: document 004's OVPN example (a
server with a certificate, users in /ppp secret, a client with user and
password), with certificates made by openssl; traffic crosses the tunnel."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]

SERVER = """/ip pool add name=ovpn-pool range=192.168.77.2-192.168.77.254
/ppp profile add name=ovpn local-address=192.168.77.1 remote-address=ovpn-pool
/ppp secret
add name=client1 password=123 profile=ovpn
add name=client2 password=234 profile=ovpn
/interface ovpn-server server add disabled=no certificate=server name=myServer
"""


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certificates(where):
    """A CA and a server certificate it signed (as /certificate would hold them)."""
    where.mkdir(parents=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=winbox test CA", cwd=where)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=10.20.0.1", cwd=where)
    (where / "ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                               "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "ext", cwd=where)


@pytest.fixture
def vpn(lab, tmp_path):
    if shutil.which("openvpn") is None or shutil.which("openssl") is None:
        pytest.skip("openvpn and openssl are needed (Debian packages openvpn, openssl)")
    server, client = lab.host("office"), lab.host("remote")
    lab.link(server, "ether1", client, "ether1")
    server.cli("/ip address add address=10.20.0.1/24 interface=ether1")
    client.cli("/ip address add address=10.20.0.2/24 interface=ether1")
    certs = tmp_path / "pki"
    make_certificates(certs)
    (server.state / "certificates").mkdir()
    (client.state / "certificates").mkdir()
    for name in ("ca.crt", "server.crt", "server.key"):
        shutil.copy(certs / name, server.state / "certificates" / name)
    shutil.copy(certs / "ca.crt", client.state / "certificates" / "ca.crt")
    return server, client


def _wait(host, menu, key, value, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = host.rows(menu)
        if rows and rows[0].get(key) == value:
            return rows[0]
        time.sleep(1)
    return host.rows(menu)[0]


def test_ovpn_example_tunnel_between_two_agents(vpn):
    server, client = vpn
    server.cli(SERVER)
    client.cli("/interface ovpn-client\nadd name=ovpn-client1 connect-to=10.20.0.1 user=client1 password=123 "
               "cipher=aes128-cbc disabled=no\n"
               "/ip route\nadd dst-address=10.5.8.20 gateway=ovpn-client1\n"
               "/ip firewall nat add chain=srcnat action=masquerade out-interface=ovpn-client1")
    row = _wait(client, "/interface ovpn-client", "status", "connected")
    assert row["status"] == "connected" and row["running"] == "yes", row
    assert row["local-address"] == "192.168.77.2"
    assert client.wait_ping("192.168.77.1"), "no traffic through the tunnel"
    assert server.wait_ping("192.168.77.2")
    route = client.json(["ip", "-j", "route", "show", "10.5.8.20"])
    assert route and route[0]["dev"] == "ovpn-client1"
    active = server.rows("/ppp active")
    assert [(a["name"], a["service"], a["address"]) for a in active] == [("client1", "ovpn", "192.168.77.2")]
    # a wrong password does not get in
    client.cli("/interface ovpn-client set ovpn-client1 password=wrong")
    time.sleep(4)
    assert client.rows("/interface ovpn-client")[0]["status"] != "connected"


def test_blowfish_default_is_reported_when_openssl_lacks_it(vpn):
    server, client = vpn
    res = subprocess.run(["openvpn", "--show-ciphers"], capture_output=True, text=True)
    if "BF-CBC" in res.stdout:
        pytest.skip("this OpenSSL still has Blowfish: the client default works here")
    client.cli("/interface ovpn-client add name=ovpn-client1 connect-to=10.20.0.1 user=client1 password=123 "
               "disabled=no")
    row = client.rows("/interface ovpn-client")[0]
    assert row["status"] == "disconnected"
    assert row[".problem"].startswith("cipher blowfish128 (BF-CBC) is not available in this host's OpenSSL")


def test_server_without_its_certificate_says_what_is_missing(lab):
    server = lab.host("office")
    server.cli("/interface ovpn-server server add disabled=no certificate=server name=myServer")
    row = server.rows("/interface ovpn-server server")[0]
    assert "server.crt, server.key and ca.crt are needed" in row[".problem"]
