"""Users and rights: ``/user`` and ``/user group``, how a login gets its
policies, and what a read, write or full user may do (winbox_agent/access.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from tests.agent.helpers import refused  # noqa: E402
from winbox_agent.access import FACTORY_GROUPS, owner_name  # noqa: E402
from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402

WG_CONFIG = ("[Interface]\\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\\nListenPort = 51820\\n"
             "Address = 10.8.0.1/24\\n")


def shell(router) -> tuple[Interpreter, list[str]]:
    out: list[str] = []
    return Interpreter(router, out=out.append), out


def fail(sh: Interpreter, line: str) -> str:
    with pytest.raises(CliError) as info:
        sh.run_script(line)
    return info.value.message


# --- the menus ------------------------------------------------------------------------------


def test_factory_groups_are_there_and_cannot_be_changed(router):
    sh, out = shell(router)
    sh.run_script("/user group print terse")
    groups = {it["name"]: it["policy"] for it in router.store.items("/user/group")}
    assert groups == FACTORY_GROUPS
    assert "write" not in groups["read"] and "sensitive" not in groups["write"] and "policy" in groups["full"]
    assert fail(sh, "/user group remove [find name=full]") == "full is a default item and cannot be removed"
    assert fail(sh, "/user group set read policy=read,write") == \
        "policy: the policies of the default group read cannot be changed"
    assert fail(sh, "/user group set write name=writers") == "name: the default group write cannot be renamed"
    sh.run_script("/user group set full comment=\"everything\"")
    assert fail(sh, "/user group add name=ops policy=read,fly") == \
        "policy: fly is not one of %s" % ", ".join(FACTORY_GROUPS["full"])


def test_users_refer_to_groups_by_name_and_follow_renames(router):
    sh, out = shell(router)
    sh.run_script("/user group add name=ops policy=read,write,test\n"
                  "/user add name=alice group=ops address=192.0.2.0/24,2001:db8::/32\n"
                  "/user add name=bob group=read comment=\"night shift\"")
    sh.run_script("/user group set ops name=operators")
    sh.json_mode = True
    sh.run_script("/user print")
    rows = {r["name"]: r for r in json.loads(out[-1])}
    assert rows["alice"]["group"] == "operators" and rows["alice"]["address"] == "192.0.2.0/24,2001:db8::/32"
    assert rows["bob"]["group"] == "read"
    assert fail(sh, "/user group remove operators") == \
        "operators is in use by /user alice (group) and cannot be removed"
    assert fail(sh, "/user add name=carol group=nobody") == "group: no such group (nobody)"
    assert fail(sh, "/user add name=carol") == "group: must be set"
    assert fail(sh, "/user add name=bob group=full") == "name: bob already exists"
    assert fail(sh, "/user add name=dave group=read address=300.1.1.0/24") == \
        "address: 300.1.1.0/24 is not a valid IP prefix (address/length)"
    assert fail(sh, "/user set alice last-logged-in=\"jan/01/2020 00:00:00\"") == "last-logged-in is read-only"


def test_export_round_trips_users_and_groups(router):
    sh, out = shell(router)
    sh.run_script("/user group add name=ops policy=read,write\n/user add name=alice group=ops disabled=yes\n"
                  "/user add name=bob group=full address=10.0.0.0/8")
    sh.run_script("/export")
    fresh = Router(None, seed=5)
    Interpreter(fresh, out=lambda t: None).run_script(out[-1])

    def users(r):
        m = r.menu("/user")
        return [{k: v for k, v in r.format_row(m, row).items() if k != ".id"} for row in r.rows("/user")]
    assert users(fresh) == users(router)
    assert [(u["name"], u["group"], u["disabled"]) for u in users(fresh)] == [("alice", "ops", "yes"),
                                                                            ("bob", "full", "no")]
    fresh.close()


# --- who gets what ------------------------------------------------------------------------------


def test_how_a_login_gets_its_rights(router):
    router.add("/user/group", {"name": "ops", "policy": "read,write"})
    router.add("/user", {"name": "alice", "group": "ops"})
    router.add("/user", {"name": "root", "group": "read"})      # a /user item wins over the name
    router.add("/user", {"name": "eve", "group": "full", "disabled": "yes"})
    router.add("/user", {"name": "far", "group": "full", "address": "192.0.2.0/24"})
    assert router.as_user(owner_name()).rights.group == "full"   # the agent's own account, always
    assert router.as_user("alice").rights.group == "ops"
    assert router.as_user("alice").rights.policies == {"read", "write"}
    if owner_name() != "root":
        assert router.as_user("root").rights.group == "read"
    assert router.as_user("admin").rights.group == "full"
    assert router.as_user("stranger").rights.group == "read"
    assert refused(router.as_user, "eve").message == "user eve is disabled"
    assert router.as_user("far", "192.0.2.7").rights.group == "full"
    assert refused(router.as_user, "far", "198.51.100.1").message == "user far may not log in from 198.51.100.1"


def test_logging_in_notes_the_time_without_a_history_step():
    now = [1_700_000_000.0]
    r = Router(None, seed=1, clock=lambda: now[0])
    r.add("/user", {"name": "alice", "group": "write"})
    steps = len(r.history.undoable())
    r.login("alice")
    row = r.format_row(r.menu("/user"), r.rows("/user")[0])
    assert row["last-logged-in"] != "" and r.store.items("/user")[0]["last-logged-in"] == 1_700_000_000
    assert len(r.history.undoable()) == steps
    r.close()


# --- what each may do -----------------------------------------------------------------------------


def test_a_read_user_prints_and_monitors_but_every_change_is_refused(router):
    router.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1"})
    router.add("/ppp/secret", {"name": "u1", "password": "Pw-Read-1"})
    guest = router.as_user("guest")
    sh, out = shell(guest)
    sh.run_script("/ip address print\n/ip address print detail\n/interface print\n/system history print\n"
                  "/interface monitor-traffic ether1 once\n/export\n/ppp secret print detail")
    assert not any("Pw-Read-1" in line for line in out)
    before, rev = {p: list(v) for p, v in router.store.menus.items()}, router.store.revision
    for line in ["/ip address add address=10.0.1.1/24 interface=ether1", "/ip address set 0 comment=x",
                 "/ip address remove 0", "/ip address disable 0", "/ip address comment 0 comment=x",
                 "/ip address unset 0 comment", "/system identity set name=x", "/ip dns set servers=1.1.1.1",
                 "/ip firewall filter add chain=input", "/user add name=x group=full",
                 "/interface wireguard wg-import config-string=\"%s\"" % WG_CONFIG,
                 "/system license generate-new-id", "/undo"]:
        message = fail(sh, line)
        assert message.startswith("not enough rights: user guest (group read) may not "), (line, message)
    assert fail(sh, "/ppp secret print show-sensitive") == \
        "not enough rights: user guest (group read) may not see sensitive values (show-sensitive)"
    assert fail(sh, "/export show-sensitive").startswith("not enough rights")
    assert fail(sh, "/ppp secret get u1 password").startswith("not enough rights")
    assert {p: list(v) for p, v in router.store.menus.items()} == before and router.store.revision == rev
    # the router API is guarded the same way
    err = refused(guest.set, "/ip/address", [router.store.items("/ip/address")[0][".id"]], {"comment": "x"})
    assert err.category == "denied"


def test_a_where_on_a_secret_reveals_nothing_to_a_user_without_sensitive(router):
    router.add("/ppp/secret", {"name": "u1", "password": "Pw-Where-1"})
    sh, out = shell(router.as_user("guest"))
    sh.run_script("/ppp secret print count-only where password=Pw-Where-1")
    assert out[-1] == "0"
    sh, out = shell(router)
    sh.run_script("/ppp secret print count-only where password=Pw-Where-1")
    assert out[-1] == "1"


def test_a_write_user_changes_the_configuration_but_not_users_nor_sees_secrets(router):
    router.add("/user", {"name": "wendy", "group": "write"})
    wendy = router.as_user("wendy")
    sh, out = shell(wendy)
    sh.run_script("/ip address add address=10.0.0.1/24 interface=ether1\n"
                  "/ppp secret add name=u2 password=Pw-Write-2\n"
                  "/interface wireguard wg-import config-string=\"%s\"" % WG_CONFIG)
    assert len(router.store.items("/interface/wireguard")) == 1
    assert fail(sh, "/user add name=x group=full") == \
        "not enough rights: user wendy (group write) may not change /user (it needs the policy policy)"
    assert fail(sh, "/user group add name=g").startswith("not enough rights")
    assert fail(sh, "/ppp secret print show-sensitive").startswith("not enough rights")
    sh.run_script("/undo")                              # takes back the wg-import
    assert router.store.items("/interface/wireguard") == []
    sh.run_script("/system history print")
    history = router.history.rows()
    assert history[0]["by"] == "wendy" and history[0]["action"].startswith("undo: ")


def test_a_group_with_sensitive_but_not_write_can_see_secrets_only(router):
    router.add("/user/group", {"name": "auditors", "policy": "read,sensitive"})
    router.add("/user", {"name": "audrey", "group": "auditors"})
    router.add("/ppp/secret", {"name": "u3", "password": "Pw-Audit-3"})
    sh, out = shell(router.as_user("audrey"))
    sh.run_script("/ppp secret print detail show-sensitive")
    assert any("Pw-Audit-3" in line for line in out)
    assert fail(sh, "/ppp secret remove u3").startswith("not enough rights: user audrey (group auditors)")


def test_a_full_user_manages_users_and_the_history_says_who(router):
    router.add("/user", {"name": "fran", "group": "full"})
    sh, out = shell(router.as_user("fran"))
    sh.run_script("/user add name=gus group=read\n/ppp secret print show-sensitive")
    assert router.history.rows()[0] == dict(router.history.rows()[0], by="fran", action="item added /user gus")


def _agent(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    env.pop("SSH_CONNECTION", None)
    return subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state), "cli", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_cli_user_option(tmp_path):
    state = tmp_path / "s"
    assert _agent(state, "-c", "/user add name=ro group=read\n/user add name=off group=full disabled=yes").returncode == 0
    res = _agent(state, "--user", "ro", "-c", "/ip pool add name=p ranges=10.0.0.1-10.0.0.2")
    assert res.returncode == 1
    assert "not enough rights: user ro (group read) may not change /ip pool" in res.stderr
    assert _agent(state, "--user", "ro", "-c", "/ip pool print").returncode == 0
    res = _agent(state, "--user", "off", "-c", "/ip pool print")
    assert res.returncode == 1 and res.stderr == "error: user off is disabled\n"
    assert _agent(state, "--user", "admin", "-c", "/ip pool add name=p ranges=10.0.0.1-10.0.0.2").returncode == 0
    rows = json.loads(_agent(state, "--json", "-c", "/system history print").stdout)
    assert rows[0]["by"] == "admin" and rows[0]["action"] == "item added /ip pool p"
    rows = json.loads(_agent(state, "--json", "-c", "/user print").stdout)
    assert [r["last-logged-in"] != "" for r in rows] == [True, False]


def test_the_prompt_shows_the_login(router):
    sh, _ = shell(router.as_user("guest"))
    assert sh.prompt() == "[guest@MikroTik] > "
