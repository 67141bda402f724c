"""Secrets (every property or argument declared ``secret``: passwords,
private and preshared keys, IPsec secrets, the ZeroTier identity, the license
account password) are never printed, exported, logged or echoed in an error
unless asked for with ``show-sensitive`` (or ``get ITEM password``).

A router is filled with an item in every writable menu (test_export_roundtrip's
generator), every secret is then set to a value found nowhere else, and
everything a person or the desktop can get out of the agent is searched for
those values.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.cli.export import export  # noqa: E402
from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.errors import RouterError  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402
from winbox_agent.types import Key, Str  # noqa: E402

from tests.agent.test_export_roundtrip import fill  # noqa: E402


def _token(p, n: int) -> str | None:
    """A value for secret property ``p`` that appears nowhere else."""
    if isinstance(p.type, Key) or "key" in p.name:
        return base64.b64encode(b"ZZsecret%02d" % n + bytes(range(22))).decode()
    if isinstance(p.type, Str):
        text = "Zq%03dSecretWord" % n
        return text[: p.type.max_len] if p.type.max_len else text
    return None                     # a value the router made (a ZeroTier identity): kept as it is


@pytest.fixture(scope="module")
def secret_router(tmp_path_factory):
    state = tmp_path_factory.mktemp("secrets")
    r = Router(str(state), seed=12)
    fill(r, per_menu=1)
    n = 0
    for m in REGISTRY.values():
        secret = [p for p in m.writable_props if p.secret]
        if not secret or m.readonly:
            continue
        for it in r.store.items(m.path):
            values = {}
            for p in secret:
                n += 1
                token = _token(p, n)
                if token is not None:
                    values[p.name] = token
            if values:
                try:
                    r.set(m.path, [it[".id"]], values)
                except RouterError as exc:      # a value the menu's rules refuse: keep the generated one
                    print("kept generated secrets of %s: %s" % (m.path, exc))
    tokens = set()
    for m in REGISTRY.values():
        for it in r.store.items(m.path):
            for p in m.props:
                v = it.get(p.name)
                if p.secret and isinstance(v, str) and len(v) >= 12:
                    tokens.add(v)
    yield r, tokens, state
    r.close()


def leaks(text: str, tokens) -> list[str]:
    return sorted(t[:16] + "..." for t in tokens if t in text)


def test_there_are_secrets_of_every_kind(secret_router):
    r, tokens, _ = secret_router
    have = {(m.path, p.name) for m in REGISTRY.values() for it in r.store.items(m.path) for p in m.props
            if p.secret and isinstance(it.get(p.name), str) and it[p.name] in tokens}
    names = {name for _, name in have}
    assert {"password", "private-key", "preshared-key", "ipsec-secret", "secret", "identity"} <= names, have


def test_nothing_a_person_prints_or_exports_shows_a_secret(secret_router):
    r, tokens, _ = secret_router
    out: list[str] = []
    sh = Interpreter(r, out=out.append)
    for m in REGISTRY.values():
        where = "/" + " ".join(m.words)
        for line in ("print", "print detail", "print terse", "print as-value", "export", "export verbose"):
            if line.startswith("export") and (m.readonly or m.source is not None):
                continue
            sh.run_script("%s %s" % (where, line))
        if not m.single and r.store.items(m.path):
            sh.run_script("%s get %s" % (where, r.store.items(m.path)[0][".id"]))
    sh.json_mode = True
    for m in REGISTRY.values():
        sh.run_script("/" + " ".join(m.words) + " print")
    sh.json_mode = False
    sh.run_script("/export\n/export verbose\n/system history print detail\n/log print detail")
    text = "\n".join(out)
    assert leaks(text, tokens) == []
    assert leaks(export(r), tokens) == []
    # the listing the desktop gets (router.format_row without sensitive)
    rows = [r.format_row(m, row) for m in REGISTRY.values() for row in r.rows(m.path)]
    assert leaks(json.dumps(rows), tokens) == []


def test_show_sensitive_shows_them_all(secret_router):
    """The other side of the coin: the searches above would find them."""
    r, tokens, _ = secret_router
    out: list[str] = []
    sh = Interpreter(r, out=out.append)
    sh.run_script("/export show-sensitive")
    assert leaks("\n".join(out), tokens) == sorted(t[:16] + "..." for t in tokens)
    for m in REGISTRY.values():
        for p in m.props:
            if p.secret and not m.single and r.store.items(m.path) and r.store.items(m.path)[0].get(p.name):
                out.clear()
                sh.run_script("/%s get %s %s" % (" ".join(m.words), r.store.items(m.path)[0][".id"], p.name))
                assert out[-1] in tokens or len(out[-1]) < 12


def test_the_history_list_and_the_log_name_no_secret(secret_router):
    r, tokens, state = secret_router
    rows = r.history.rows()
    assert rows and leaks(json.dumps(rows), tokens) == []
    logs = r.rows("/log")
    assert leaks(json.dumps(logs, default=str), tokens) == []
    # the sim's own file (the log, the machines' states) holds none either
    r.store.flush()
    r.driver.stop()
    assert leaks((state / "sim.json").read_text(), tokens) == []


def test_errors_about_a_secret_never_repeat_it():
    r = Router(None, seed=3)
    sh = Interpreter(r, out=lambda text: None)
    bad = "BadSecretValue9"

    def error(line: str) -> str:
        with pytest.raises(CliError) as info:
            sh.run_script(line)
        return str(info.value) + "\n" + info.value.command

    cases = [
        "/interface wireguard add private-key=%s" % bad,
        "/interface wireguard add private-key=\"%s%s\"" % (bad, "x" * 40),
        "/ppp secret add name=u password=\"%s%s\"" % (bad, "y" * 1000),
        "/ppp secret add name=u password=\"%s" % bad,                       # unclosed quote
        "/ppp secret add name=u pass=%s colour=red" % bad,                  # abbreviated, then an unknown one
        "/ppp secret add name=u password=%s profile=nowhere" % bad,
        "/zerotier set zt1 identity=%s" % bad,
        "/interface l2tp-client add connect-to=192.0.2.1 ipsec-secret=%s use-ipsec=maybe" % bad,
        "/system license renew account=a password=%s level=p99" % bad,
        "/metarouter add name=m\n/metarouter console m command=\"/ppp secret add password=%s wrong=1\"" % bad,
        "/interface wireguard wg-import config-string=\"[Interface]\\nPrivateKey = %s\\n\"" % bad,
        "/interface wireguard wg-import config-string=\"[Interface]\\nPrivateKey %s\\n\"" % bad,
        "/interface wireguard wg-import config-string=\"%s\"" % bad,
    ]
    for line in cases:
        text = error(line)
        assert bad not in text, (line, text)
    # a value that is not secret is still quoted back, so people see what was wrong
    assert "nowhere" in error("/ppp secret add name=u profile=nowhere")
    r.close()


def test_a_unique_secret_already_used_is_not_shown():
    r = Router(None, seed=3)
    key = base64.b64encode(b"UniqueKeyTest000" + bytes(16)).decode()
    r.add("/interface/wireguard", {"name": "wg1", "private-key": key})
    try:
        r.add("/interface/wireguard", {"name": "wg2", "private-key": key})
    except RouterError as exc:
        assert key not in exc.message
    r.close()


def test_the_cli_process_masks_the_line_it_quotes(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    res = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(tmp_path / "s"), "cli", "-c",
                          "/ppp secret add name=u password=Hidden-Pw-77 profile=nowhere"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 1
    assert "Hidden-Pw-77" not in res.stderr and "password=***" in res.stderr and "nowhere" in res.stderr
