"""MetaROUTER on the simulated router: the menus of 001_/002_, machine states
over a controlled clock, vifN host interfaces, and the console's nested router
(the document's WISP example run as written)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import Shell  # noqa: E402


@pytest.fixture
def sh(tmp_path, clock) -> Shell:
    return Shell(tmp_path / "state", clock)


# -- the menu ------------------------------------------------------------------------

def test_creating_a_metarouter_as_the_document_does(sh, clock):
    sh("/metarouter add name=mr0 memory-size=32 disk-size=32000 disabled=no\n/metarouter add name=mr1")
    mr0 = sh.row("/metarouter print", name="mr0")
    assert (mr0["memory-size"], mr0["disk-size"], mr0["disabled"], mr0["state"]) == \
        ("32MiB", "32000kiB", "no", "booting")
    mr1 = sh.row("/metarouter print", name="mr1")
    assert (mr1["memory-size"], mr1["disk-size"], mr1["disabled"]) == ("16MiB", "unlimited", "no")
    clock.advance(3)
    assert sh.row("/metarouter print", name="mr0")["state"] == "running"
    table = sh("/metarouter print")
    assert "NAME" in table and "MEMORY-SIZE" in table and "USED-DISK" in table and "STATE" in table


def test_units_may_be_typed_and_the_name_is_generated(sh):
    sh("/metarouter add memory-size=64MiB disk-size=1000kiB")
    r = sh.row("/metarouter print", name="mr1")
    assert (r["memory-size"], r["disk-size"]) == ("64MiB", "1000kiB")


@pytest.mark.parametrize("command, message", [
    ("/metarouter add name=mr9 memory-size=300", "memory-size: 300 is out of range 16..256"),
    ("/metarouter add name=mr9 memory-size=8", "memory-size: 8 is out of range 16..256"),
    ("/metarouter add name=mr9 disk-size=lots", "disk-size: lots is not an integer in 0..4294967295 or unlimited"),
    ("/metarouter add name=mr9 disk-size=4294967296", "disk-size: 4294967296 is out of range 0..4294967295"),
    ("/metarouter add name=mr0", "name: mr0 already exists"),
    ("/metarouter set mr0 state=running", "state is read-only"),
])
def test_bad_values_are_refused_naming_the_field(sh, command, message):
    sh("/metarouter add name=mr0")
    assert sh.error(command) == message
    assert [r["name"] for r in sh.rows("/metarouter print")] == ["mr0"]


def test_at_most_eight_machines_and_eight_interfaces(sh):
    sh("\n".join("/metarouter add name=vm%d" % n for n in range(8)))
    assert "more than 8 virtual machines" in sh.error("/metarouter add name=vm8")
    sh("\n".join("/metarouter interface add virtual-machine=vm%d" % n for n in range(8)))
    assert "more than 8 virtual interfaces" in sh.error("/metarouter interface add virtual-machine=vm0")


def test_a_machine_in_use_by_an_interface_cannot_be_removed(sh):
    sh("/metarouter add name=mr0\n/metarouter interface add virtual-machine=mr0")
    assert "in use" in sh.error("/metarouter remove mr0")


# -- states over time --------------------------------------------------------------

def test_shut_down_start_and_reboot_move_through_the_states(sh, clock):
    sh("/metarouter add name=mr0")
    state = lambda: sh.row("/metarouter print", name="mr0")["state"]  # noqa: E731
    clock.advance(3)
    assert state() == "running"
    sh("/metarouter shut-down mr0")
    assert state() == "shutting-down"
    clock.advance(2)
    assert state() == "stopped"
    assert "already stopped" in sh.error("/metarouter shut-down mr0")
    assert "use start" in sh.error("/metarouter reboot mr0")
    sh("/metarouter start mr0")
    assert state() == "booting"
    clock.advance(3)
    assert state() == "running"
    assert "already running" in sh.error("/metarouter start mr0")
    sh("/metarouter reboot 0")
    assert state() == "rebooting"
    clock.advance(2)
    assert state() == "booting"
    clock.advance(3)
    assert state() == "running"
    sh("/metarouter disable mr0")
    assert state() == "disabled"
    assert "disabled" in sh.error("/metarouter start mr0")
    sh("/metarouter enable mr0")
    assert state() == "booting"


def test_states_survive_a_new_cli_run(sh, clock):
    sh("/metarouter add name=mr0")
    clock.advance(5)
    sh("/metarouter shut-down mr0")
    clock.advance(5)
    sh.reopen()
    assert sh.row("/metarouter print", name="mr0")["state"] == "stopped"


def test_used_disk_grows_while_running_only(sh, clock):
    sh("/metarouter add name=mr0")
    used = lambda: int(sh.row("/metarouter print", name="mr0")["used-disk"].rstrip("kiB"))  # noqa: E731
    first = used()
    clock.advance(600)
    grown = used()
    assert grown > first
    sh("/metarouter shut-down mr0")
    clock.advance(600)
    assert used() == grown
    r = sh.row("/metarouter print detail", name="mr0")
    assert int(r["disk-reads"]) > 0 and int(r["disk-writes"]) > 0


def test_disk_size_cannot_shrink_below_what_is_used(sh, clock):
    sh("/metarouter add name=mr0")
    clock.advance(60)
    assert sh.error("/metarouter set mr0 disk-size=10").startswith("disk-size: 10kiB is less than the ")


def test_import_image_needs_an_uploaded_file(sh, tmp_path):
    sh("/metarouter add name=mr1")
    assert sh.error("/metarouter import-image file-name=openwrt-mr-mips-rootfs.tgz") == \
        "file-name: no such file (openwrt-mr-mips-rootfs.tgz); upload the image first"
    files = tmp_path / "state" / "files"
    files.mkdir()
    (files / "openwrt-mr-mips-rootfs.tgz").write_bytes(os.urandom(7383 * 1024))
    assert sh("/metarouter import-image file-name=openwrt-mr-mips-rootfs.tgz").strip() == "imported: 100%"
    r = sh.row("/metarouter print", name="mr1")
    assert r["state"] == "rebooting" and r["used-disk"] == "7383kiB"
    assert "imported image" in sh.error("/metarouter console mr1")


# -- vif interfaces ----------------------------------------------------------------

def test_dynamic_interfaces_are_vifN_on_the_host(sh):
    sh("/metarouter add name=client1\n"
       "/metarouter interface add virtual-machine=client1\n"
       "/metarouter interface add virtual-machine=client1 type=dynamic")
    rows = sh.rows("/metarouter interface print")
    assert [r["name"] for r in rows] == ["vif1", "vif2"]
    listing = sh("/interface print")
    assert any(line.split()[1:4] == ["DR", "vif1", "vif"] for line in listing.splitlines())
    assert any(line.split()[1:4] == ["DR", "vif2", "vif"] for line in listing.splitlines())
    table = sh("/metarouter interface print")
    assert "VIRTUAL-MACHINE" in table and "VM-MAC-ADDRESS" in table
    assert "0 A client1" in table


def test_vif_names_are_kept_and_referenced(sh):
    sh("/metarouter add name=mr0\n"
       "/metarouter interface add virtual-machine=mr0\n"
       "/metarouter interface add virtual-machine=mr0\n"
       "/interface bridge add\n"
       "/interface bridge port add interface=vif2 bridge=bridge1\n"
       "/ip address add address=10.0.1.1/24 interface=vif1")
    assert sh.row("/ip address print", address="10.0.1.1/24")["interface"] == "vif1"
    assert sh.row("/interface bridge port print", interface="vif2")["bridge"] == "bridge1"
    assert "in use" in sh.error("/metarouter interface remove [find name=vif2]")
    sh("/ip address remove 0\n/metarouter interface remove [find name=vif1]")
    assert [r["name"] for r in sh.rows("/metarouter interface print")] == ["vif2"]
    sh("/metarouter interface add virtual-machine=mr0")
    assert [r["name"] for r in sh.rows("/metarouter interface print")] == ["vif2", "vif1"]
    assert sh.error("/metarouter interface set [find name=vif2] name=vif7") == \
        "name: the name of a virtual interface cannot be changed (it is vif2)"
    assert sh.row("/interface bridge port print", bridge="bridge1")["interface"] == "vif2"


def test_export_keeps_vif_names_through_a_gap(sh, tmp_path, clock):
    sh("/metarouter add name=mr0\n"
       "/metarouter interface add virtual-machine=mr0\n"
       "/metarouter interface add virtual-machine=mr0\n"
       "/metarouter interface remove 0\n"
       "/ip address add address=10.0.1.1/24 interface=vif2")
    script = sh("/export")
    other = Shell(tmp_path / "other", clock)
    other(script)
    assert other.row("/ip address print", address="10.0.1.1/24")["interface"] == "vif2"
    mine = sh.row("/metarouter interface print", name="vif2")
    theirs = other.row("/metarouter interface print", name="vif2")
    assert mine["vm-mac-address"] == theirs["vm-mac-address"]


def test_dynamic_bridge_makes_the_vif_a_port_while_the_machine_is_up(sh, clock):
    sh("/interface bridge add\n/metarouter add name=mr0\n"
       "/metarouter interface add virtual-machine=mr0 dynamic-bridge=bridge1")
    port = sh.row("/interface bridge port print", interface="vif1")
    assert port["bridge"] == "bridge1" and port[".dynamic"] == "yes"
    clock.advance(3)
    sh("/metarouter shut-down mr0")
    clock.advance(2)
    assert sh.rows("/interface bridge port print") == []
    assert "in use" in sh.error("/interface bridge remove bridge1")


# -- the console --------------------------------------------------------------------

WISP_HOST = """\
/metarouter add name=client1 memory-size=32
/metarouter print
/metarouter interface add virtual-machine=client1
/metarouter interface add virtual-machine=client1
/metarouter interface print
/interface bridge add
/interface bridge print
/interface bridge port add interface=ether2 bridge=bridge1
/interface bridge port add interface=vif2 bridge=bridge1
/interface bridge port print
/ip address add address=10.0.1.1/24 interface=vif1
/ip address print
"""

WISP_GUEST = """\
/metarouter console client1
/sys identity set name=Client1
/interface ethernet p
/interface ethernet set 0 name=public
/interface ethernet set 1 name=local
/interface ethernet print
"""


def test_wisp_example_host_and_guest(sh, clock):
    """001_ "Creating isolated Metarouter for client", steps 1-6."""
    sh(WISP_HOST)
    host_macs = [r["vm-mac-address"] for r in sh.rows("/metarouter interface print")]
    out = sh(WISP_GUEST)
    assert "[Ctrl-A is the prefix key]" in out
    assert sh.interp.prompt() == "[admin@Client1] > "
    ethers = sh.rows("/interface ethernet print")
    assert [(r["name"], r["mac-address"]) for r in ethers] == list(zip(["public", "local"], host_macs))
    assert sh.error("/ip address add address=10.0.1.2/24 interfae=public") == "unknown parameter interfae"
    sh("/ip address add address=10.0.1.2/24 interface=public\n"
       "/ip address add address=10.0.2.1/24 interface=local\n"
       "/ip route add gateway=10.0.1.1\n"
       "/ip firewall nat add action=masquerade out-interface=public chain=srcnat")
    assert {r["address"]: r["interface"] for r in sh.rows("/ip address print")} == \
        {"10.0.1.2/24": "public", "10.0.2.1/24": "local"}
    assert sh.row("/ip route print", **{"dst-address": "0.0.0.0/0"})["gateway"] == "10.0.1.1"
    assert sh.row("/ip firewall nat print", action="masquerade")["out-interface"] == "public"
    assert sh("/quit").strip() == "Welcome back!"
    # the host keeps its own identity, addresses and ports
    assert sh.interp.prompt() == "[admin@MikroTik] > "
    assert sh.row("/system identity print")["name"] == "MikroTik"
    assert [r["address"] for r in sh.rows("/ip address print")] == ["10.0.1.1/24"]
    assert "public" not in {r["name"] for r in sh.rows("/interface print")}


def test_the_guest_keeps_its_state_across_runs(sh, clock, tmp_path):
    sh("/metarouter add name=client1\n/metarouter interface add virtual-machine=client1")
    sh("/metarouter console client1\n/system identity set name=Client1\n/quit")
    sh.reopen()
    out = sh('/metarouter console client1 command="/system identity print"')
    assert out.splitlines()[-1] == "name: Client1"
    assert sh.interp.guest is None
    assert (tmp_path / "state" / "metarouter").is_dir()


def test_ctrl_a_q_leaves_the_console(sh):
    sh("/metarouter add name=mr0\n/metarouter console mr0")
    assert sh.interp.guest is not None
    assert sh("\x01q").strip() == "Welcome back!"
    assert sh.interp.guest is None


def test_console_command_errors_name_the_machine(sh):
    sh("/metarouter add name=client1\n/metarouter interface add virtual-machine=client1")
    assert sh.error('/metarouter console client1 command="/ip address add address=10.0.1.2/24 interfae=ether1"') \
        == "in client1: line 1: unknown parameter interfae"


def test_console_needs_a_running_machine(sh, clock):
    sh("/metarouter add name=mr0")
    clock.advance(3)
    sh("/metarouter shut-down mr0")
    clock.advance(2)
    assert sh.error("/metarouter console mr0") == "mr0 is stopped; start it first"


def test_new_interfaces_appear_as_guest_ports(sh):
    sh("/metarouter add name=mr0\n/metarouter interface add virtual-machine=mr0")
    assert [r["name"] for r in sh.rows('/metarouter console mr0 command="/interface ethernet print"')] == ["ether1"]
    sh("/metarouter interface add virtual-machine=mr0")
    assert [r["name"] for r in sh.rows('/metarouter console mr0 command="/interface ethernet print"')] == \
        ["ether1", "ether2"]


def test_a_guest_cannot_host_machines(sh):
    sh("/metarouter add name=mr0")
    assert "cannot run virtual machines" in sh.error('/metarouter console mr0 command="/metarouter add name=x"')


def test_removing_a_machine_puts_its_disk_aside(sh, tmp_path):
    sh("/metarouter add name=mr0\n"
       '/metarouter console mr0 command="/system identity set name=Guest"')
    vm_id = sh.rows("/metarouter print")[0][".id"].lstrip("*")
    disk = tmp_path / "state" / "metarouter" / vm_id
    assert disk.is_dir()
    sh("/metarouter remove mr0")
    assert not disk.exists() and (disk.parent / (vm_id + ".removed")).is_dir()


def test_wisp_example_through_the_real_cli(tmp_path):
    """The whole example as a script on stdin of ``winbox-agent cli``, console and all."""
    script = WISP_HOST + WISP_GUEST + "/system identity print\n/quit\n/system identity print\n"
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    proc = subprocess.run([sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir",
                           str(tmp_path / "s"), "cli"], input=script, capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    names = [line for line in proc.stdout.splitlines() if line.startswith("name: ")]
    assert names == ["name: Client1", "name: MikroTik"]
    assert "Welcome back!" in proc.stdout
