"""L2TP, PPTP and SSTP clients on Linux: the files the agent writes for
them (xl2tpd's lac section, pppd options, the password only in pppd's
secrets files, mode 0600, on no command line), what is reported when the
kernel has no PPP or a program is missing, the agent's xl2tpd stopped and
its files removed on disable; and an L2TP session between two agents
where the kernel can carry PPP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.netns]

PASSWORD = 'Str0ng"Pass'
NO_PPP = "the kernel has no PPP support here (/dev/ppp is missing)"
HAS_PPP = os.path.exists("/dev/ppp")


@pytest.fixture
def pair(lab):
    isp, cpe = lab.host("isp"), lab.host("cpe")
    lab.link(isp, "ether1", cpe, "ether1")
    isp.run(["ip", "link", "set", "ether1", "up"])
    isp.run(["ip", "addr", "add", "10.0.0.1/24", "dev", "ether1"])
    cpe.cli("/ip address add address=10.0.0.2/24 interface=ether1")
    return isp, cpe


def run_dir(host) -> Path:
    return host.state / "linux"


def secrets(host, name: str = "chap-secrets") -> Path:
    return Path("/etc/netns") / host.ns / "ppp" / name


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cmdlines(lab, host) -> dict[int, str]:
    """Every process in a test host, by pid: its command line."""
    out = {}
    for pid in lab.pids(host.ns):
        try:
            out[pid] = Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            pass
    return out


def item_id(host, menu: str, name: str) -> str:
    return next(r[".id"] for r in host.rows(menu) if r["name"] == name)


def test_l2tp_client_files_daemon_and_report(lab, pair):
    isp, cpe = pair
    secrets(cpe).write_text('# the host\'s own\n"someone" * "theirs" *\n')
    cpe.cli("/ppp profile add name=enc use-encryption=required use-compression=no session-timeout=1h\n"
            "/interface l2tp-client add name=l2tp-out1 connect-to=10.0.0.1 user=MT-User password=\"%s\" "
            "profile=enc max-mtu=1400 max-mru=1400 add-default-route=yes default-route-distance=3 "
            "use-peer-dns=yes allow=mschap2,chap disabled=no" % PASSWORD.replace('"', '\\"'))
    tag = item_id(cpe, "/interface l2tp-client", "l2tp-out1").lstrip("*")
    conf = (run_dir(cpe) / "xl2tpd.conf").read_text()
    assert ("[lac wb-%s]\nlns = 10.0.0.1\npppoptfile = %s\n" % (tag, run_dir(cpe) / ("l2tp-%s.options" % tag))) in conf
    assert ("autodial = %s" % ("yes" if HAS_PPP else "no")) in conf
    opts_path = run_dir(cpe) / ("l2tp-%s.options" % tag)
    opts = opts_path.read_text().splitlines()
    assert mode(opts_path) == 0o600
    for line in ('ifname "l2tp-out1"', 'linkname "l2tp-out1"', 'ipparam "l2tp-out1"', 'user "MT-User"',
                 "remotename winbox-l2tp-%s" % tag, "mtu 1400", "mru 1400", "defaultroute",
                 "defaultroute-metric 3", "usepeerdns", "refuse-pap", "refuse-mschap", "require-mppe-128",
                 "nobsdcomp", "nodeflate", "maxconnect 3600"):
        assert line in opts
    assert "refuse-chap" not in opts and "refuse-mschap-v2" not in opts
    assert not any("Str0ng" in ln for ln in opts)
    # the password: a block of its own in pppd's secrets files, the host's lines kept
    for name in ("chap-secrets", "pap-secrets"):
        text = secrets(cpe, name).read_text()
        assert '"MT-User" winbox-l2tp-%s "Str0ng\\"Pass" *' % tag in text
        assert mode(secrets(cpe, name)) == 0o600
    assert '"someone" * "theirs" *' in secrets(cpe).read_text()
    # the agent's own xl2tpd runs; no command line in the host shows the password
    pid = int((run_dir(cpe) / "xl2tpd.pid").read_text().split()[0])
    procs = cmdlines(lab, cpe)
    assert "xl2tpd" in procs[pid] and "-C %s" % (run_dir(cpe) / "xl2tpd.control") in procs[pid]
    assert not any("Str0ng" in line for line in procs.values())
    row = cpe.rows("/interface l2tp-client")[0]
    if not HAS_PPP:
        problem = "l2tp-out1 cannot dial: " + NO_PPP
        assert row[".problem"] == problem and row["running"] == "no" and row["status"] == "disconnected"
        assert "interface l2tp-client l2tp-out1: " + problem in [x["message"] for x in cpe.rows("/log")]
        out = cpe.cli("/interface l2tp-client print").stdout
        assert "I" in [ln for ln in out.splitlines() if "l2tp-out1" in ln][0].split()[1]
        mon = cpe.cli("/interface l2tp-client monitor l2tp-out1 once", as_json=True).stdout
        assert json.loads(mon.strip().splitlines()[-1])[0]["status"] == "disconnected"
    # disabled: xl2tpd stops, its files and the secrets block go, the host's lines stay
    cpe.cli("/interface l2tp-client disable l2tp-out1")
    assert not Path("/proc/%d" % pid).exists() or "xl2tpd" not in Path("/proc/%d/cmdline" % pid).read_text()
    assert not any("xl2tpd" in line for line in cmdlines(lab, cpe).values())
    assert sorted(p.name for p in run_dir(cpe).iterdir() if "l2tp" in p.name and not p.name.endswith(".log")) == []
    assert secrets(cpe).read_text() == '# the host\'s own\n"someone" * "theirs" *\n'
    assert ".problem" not in cpe.rows("/interface l2tp-client")[0]


def test_pptp_and_sstp_client_files(lab, pair):
    isp, cpe = pair
    cpe.cli("/interface pptp-client add name=pptp-out1 connect-to=10.0.0.1 user=u1 password=pw-pptp disabled=no\n"
            "/interface sstp-client add name=\"sstp;x\" connect-to=10.0.0.1 port=4443 user=u2 password=pw-sstp "
            "add-sni=yes authentication=mschap2 certificate=mine disabled=no")
    pptp = item_id(cpe, "/interface pptp-client", "pptp-out1").lstrip("*")
    sstp = item_id(cpe, "/interface sstp-client", "sstp;x").lstrip("*")
    popts = (run_dir(cpe) / ("pptp-%s.options" % pptp)).read_text().splitlines()
    assert 'pty "pptp 10.0.0.1 --nolaunchpppd"' in popts and 'ifname "pptp-out1"' in popts
    assert "nodetach" in popts and "persist" in popts and 'user "u1"' in popts
    sopts = (run_dir(cpe) / ("sstp-%s.options" % sstp)).read_text().splitlines()
    # pppd runs the pty command with sh -c: the name is one shell word
    assert 'pty "sstpc --nolaunchpppd --ipparam \'sstp;x\' --cert-warn --tls-ext 10.0.0.1:4443"' in sopts
    assert "plugin sstp-pppd-plugin.so" in sopts
    assert {"refuse-pap", "refuse-chap", "refuse-mschap"} <= set(sopts) and "refuse-mschap-v2" not in sopts
    chap = secrets(cpe).read_text()
    assert '"u1" winbox-pptp-%s "pw-pptp" *' % pptp in chap and '"u2" winbox-sstp-%s "pw-sstp" *' % sstp in chap
    rows = {r["name"]: r for r in cpe.rows("/interface pptp-client") + cpe.rows("/interface sstp-client")}
    assert "a client certificate" in rows["sstp;x"][".notice"]
    if not HAS_PPP:
        assert rows["pptp-out1"][".problem"] == "pptp-out1 cannot dial: " + NO_PPP
        assert rows["sstp;x"][".problem"] == "sstp;x cannot dial: " + NO_PPP
        assert not any("pppd" in line for line in cmdlines(lab, cpe).values())
    else:
        procs = cmdlines(lab, cpe)
        assert any("pppd file %s" % (run_dir(cpe) / ("pptp-%s.options" % pptp)) in ln for ln in procs.values())
        assert not any("pw-" in ln for ln in procs.values())
    cpe.cli("/interface pptp-client remove pptp-out1\n/interface sstp-client disable \"sstp;x\"")
    assert not any(p.name.endswith(".options") for p in run_dir(cpe).iterdir())
    assert "winbox-" not in secrets(cpe).read_text()
    assert not any("pppd" in line for line in cmdlines(lab, cpe).values())


def test_a_missing_program_is_reported(lab, pair, tmp_path):
    isp, cpe = pair
    # a PATH with every program of /usr/sbin but xl2tpd
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    for entry in os.scandir("/usr/sbin"):
        if entry.name != "xl2tpd":
            (sbin / entry.name).symlink_to(entry.path)
    cpe.env["PATH"] = "%s:/usr/bin:/bin" % sbin
    cpe.cli("/interface l2tp-client add name=l2tp-out1 connect-to=10.0.0.1 user=u password=p disabled=no")
    row = cpe.rows("/interface l2tp-client")[0]
    problem = "l2tp-out1 cannot dial: the host has no xl2tpd command (Debian package xl2tpd)"
    assert row[".problem"] == problem and row["running"] == "no"
    assert "interface l2tp-client l2tp-out1: " + problem in [x["message"] for x in cpe.rows("/log")]
    assert not (run_dir(cpe) / "xl2tpd.conf").exists()


def test_a_bad_interface_name_is_refused(lab, pair):
    isp, cpe = pair
    res = cpe.cli("/interface l2tp-client add name=a-name-far-too-long connect-to=10.0.0.1 disabled=no", check=False)
    assert "longer than the 15 characters" in (res.stdout + res.stderr)
    assert cpe.rows("/interface l2tp-client") == []
    assert not (run_dir(cpe) / "xl2tpd.conf").exists()


LNS_CONF = """[global]
port = 1701
[lns default]
ip range = 10.10.10.2-10.10.10.9
local ip = 10.10.10.1
require authentication = yes
require chap = yes
refuse pap = yes
pppoptfile = {opts}
length bit = yes
"""


def test_l2tp_session_between_two_agents(lab, pair, tmp_path):
    if not HAS_PPP:
        pytest.skip("kernel lacks PPP (/dev/ppp is missing): no L2TP session can be made here")
    isp, cpe = pair
    # the LNS: a plain xl2tpd in the isp host, its users in its own pppd secrets
    opts = tmp_path / "lns.options"
    opts.write_text("name isp1\nrequire-chap\nnoccp\nnodefaultroute\nlcp-echo-interval 5\n")
    conf = tmp_path / "lns.conf"
    conf.write_text(LNS_CONF.format(opts=opts))
    secrets(isp).write_text('"MT-User" * "%s" *\n' % PASSWORD.replace('"', '\\"'))
    with open(tmp_path / "lns.log", "w") as log:
        lns = subprocess.Popen(isp.wrap(["xl2tpd", "-D", "-c", str(conf), "-p", str(tmp_path / "lns.pid"),
                                         "-C", str(tmp_path / "lns.control")]), stdout=log, stderr=log)
    try:
        cpe.cli("/interface l2tp-client add name=l2tp-out1 connect-to=10.0.0.1 user=MT-User password=\"%s\" "
                "allow=chap disabled=no" % PASSWORD.replace('"', '\\"'))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = cpe.rows("/interface l2tp-client")[0]
            if row["status"] == "connected":
                break
            time.sleep(1)
        assert row["status"] == "connected" and row["local-address"] == "10.10.10.2", \
            (tmp_path / "lns.log").read_text()
        assert cpe.wait_ping("10.10.10.1")
        mon = cpe.cli("/interface l2tp-client monitor l2tp-out1 once", as_json=True).stdout
        sample = json.loads(mon.strip().splitlines()[-1])[0]
        assert sample["status"] == "connected" and sample["remote-address"] == "10.10.10.1"
        cpe.cli("/interface l2tp-client disable l2tp-out1")
        assert "l2tp-out1" not in cpe.links()
    finally:
        lns.kill()
        lns.wait(timeout=10)

