"""/system identity, resource and license, and /log on the simulated router (a CHR):
the CHR document's license rules, resources moving with a controlled clock, and
the log kept across CLI runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent import helpers  # noqa: E402
from tests.agent.helpers import Clock  # noqa: E402


class Shell(helpers.Shell):
    SEED = 11

    def license(self) -> dict:
        return self.rows("/system license print")[0]

    def resource(self) -> dict:
        return self.rows("/system resource print")[0]


@pytest.fixture
def sh(tmp_path, clock) -> Shell:
    return Shell(tmp_path / "state", clock)


# -- identity ---------------------------------------------------------------------------

def test_identity_names_the_prompt(sh):
    assert sh.interp.prompt() == "[admin@MikroTik] > "
    sh("/system identity set name=RouterGW")
    assert sh.interp.prompt() == "[admin@RouterGW] > "
    assert sh.error('/system identity set name=""') == "name: must not be empty"


# -- resource --------------------------------------------------------------------------------

def test_resource_describes_a_chr(sh):
    r = sh.resource()
    assert (r["board-name"], r["platform"], r["architecture-name"]) == ("CHR", "MikroTik", "x86_64")
    assert r["version"].endswith("(stable)") and r["cpu-count"] == "2" and r["cpu-frequency"] == "2400MHz"
    assert r["total-memory"] == "1.0GiB" and r["total-hdd-space"] == "128.0MiB"
    assert re.fullmatch(r"\d+(\.\d)?MiB", r["free-memory"]) and re.fullmatch(r"\d+(\.\d)?MiB", r["free-hdd-space"])
    assert sh.error("/system resource set cpu-count=4") == "unknown command or menu set"


def test_uptime_counts_from_boot_across_runs(sh, clock):
    assert sh.resource()["uptime"] == "0s"
    clock.advance(3725)
    sh.reopen()
    assert sh.resource()["uptime"] == "1h2m5s"


def test_cpu_load_moves_with_the_clock_deterministically(sh, clock, tmp_path):
    loads = []
    for _ in range(30):
        clock.advance(2)
        load = sh.resource()["cpu-load"]
        assert re.fullmatch(r"\d{1,3}%", load) and 0 <= int(load[:-1]) <= 100
        loads.append(load)
    assert len(set(loads)) > 3
    twin = Shell(tmp_path / "twin", Clock(clock.t))
    assert twin.resource()["cpu-load"] == sh.resource()["cpu-load"]


def test_running_machines_take_memory(sh, clock):
    def mib(text: str) -> float:
        return float(text[:-3]) * (1024 if text.endswith("GiB") else 1)
    free = mib(sh.resource()["free-memory"])
    sh("/metarouter add name=big memory-size=256")
    assert free - mib(sh.resource()["free-memory"]) > 200
    clock.advance(3)
    sh("/metarouter shut-down big")
    clock.advance(2)
    assert abs(free - mib(sh.resource()["free-memory"])) < 10


# -- license ------------------------------------------------------------------------------------

def test_a_new_chr_is_free_with_a_system_id(sh):
    lic = sh.license()
    assert lic["level"] == "free" and lic["limited-upgrades"] == "no"
    assert re.fullmatch(r"[A-Za-z0-9+/]{11}", lic["system-id"])
    assert lic["next-renewal-at"] == "" and lic["deadline-at"] == "" and lic["license-server"] == ""
    assert sh.error("/system license set level=p1") == "level is read-only"


def test_system_id_is_drawn_from_the_seed(tmp_path, clock):
    ids = [Shell(tmp_path / str(n), clock, seed=s).license()["system-id"] for n, s in enumerate((1, 1, 2))]
    assert ids[0] == ids[1] != ids[2]


def test_generate_new_id_on_the_free_level(sh):
    first = sh.license()["system-id"]
    sh("/system license generate-new-id")
    second = sh.license()["system-id"]
    assert second != first and re.fullmatch(r"[A-Za-z0-9+/]{11}", second)
    sh.reopen()
    assert sh.license()["system-id"] == second
    sh("/system license generate-new-id")
    assert sh.license()["system-id"] not in (first, second)


def test_generate_new_id_is_refused_once_licensed(sh, clock):
    lic_id = sh.router.single_id(sh.router.menu("/system/license"))
    sh.router.set_readonly("/system/license", lic_id, {"level": "p1", "next-renewal-at": int(clock.t) + 86400,
                                                       "deadline-at": int(clock.t) + 30 * 86400}, note="test")
    before = sh.license()["system-id"]
    message = sh.error("/system license generate-new-id")
    assert message.startswith("generate-new-id is allowed only on the free license level")
    assert "p1" in message and "could not be updated" in message
    assert sh.license()["system-id"] == before
    lic = sh.license()
    assert re.fullmatch(r"[a-z]{3}/\d\d/\d{4} \d\d:\d\d:\d\d", lic["deadline-at"])
    assert lic["limited-upgrades"] == "no"
    clock.advance(31 * 86400)
    assert sh.license()["limited-upgrades"] == "yes"


def test_renew_without_a_license_server(sh):
    out = sh("/system license renew account=mymikrotikcomaccount password=secret level=p1")
    assert out.strip() == "status: ERROR: no license server configured"
    assert sh.license()["level"] == "free"
    assert sh.error("/system license renew password=x") == "account: must be given"
    assert sh.error("/system license renew account=a password=x level=p2") == \
        "level: p2 is not one of p1 | p10 | p-unlimited"


def test_license_server_setting(sh, clock):
    assert sh.error("/system license set license-server=nowhere") == \
        "license-server: nowhere is not host:port (like licence.example.net:443)"
    sh("/system license set license-server=127.0.0.1:8729")
    assert sh.license()["license-server"] == "127.0.0.1:8729"
    assert "/system license\nset license-server=127.0.0.1:8729" in sh("/export")
    rows = list(sh.router.command("/system/license", "renew", None,
                                  {"account": "a", "password": "b", "level": "p10"}))
    # without the server's public key no key could be checked: refused before connecting
    assert rows == [{"status": "ERROR: no license-server-key is set to check the keys the server signs"}]


def test_license_menu_is_described_for_the_gui(sh):
    m = sh.router.menu("/system/license")
    renew = m.command("renew")
    assert renew.stream and [a.name for a in renew.args] == ["account", "password", "level"]
    assert next(a for a in renew.args if a.name == "password").secret
    assert m.command("generate-new-id") is not None
    assert {p.name for p in m.props if p.readonly} == {"system-id", "level", "next-renewal-at", "deadline-at",
                                                      "limited-upgrades", "speed-limit"}


# -- log --------------------------------------------------------------------------------------------

def test_log_lists_what_happened_and_survives_runs(sh, clock):
    sh("/system license generate-new-id\n/system license renew account=a password=b")
    logs = sh.rows("/log print")
    assert [r["topics"] for r in logs][-2:] == ["system,info", "system,error"]
    assert logs[-1]["message"] == "license renew failed: no license server configured"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", logs[-1]["time"])
    table = sh("/log print")
    assert "TIME" in table and "TOPICS" in table and "MESSAGE" in table
    sh.reopen()
    assert sh.rows("/log print")[-2:] == logs[-2:]
    assert sh.error("/log add message=x") == "unknown command or menu add"
    assert sh.error("/log remove 0") == "unknown command or menu remove"


def test_log_keeps_the_last_thousand_lines(clock):
    sh = Shell(None, clock)
    for n in range(1100):
        sh.router.driver.log("system,info", "line %d" % n)
    logs = sh.rows("/log print")
    assert len(logs) == 1000
    assert logs[0]["message"] == "line 100" and logs[-1]["message"] == "line 1099"


def test_log_print_through_the_real_cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    base = [sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", str(tmp_path / "s"), "cli"]
    subprocess.run(base + ["-c", "/metarouter add name=mr0\n/metarouter reboot mr0"], env=env, check=True,
                   capture_output=True, timeout=60)
    out = subprocess.run(base + ["--json", "-c", "/log print"], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert json.loads(out)[-1]["message"] == "metarouter mr0 rebooted"
