"""The RouterOS command language as the agent's CLI speaks it.

Most tests drive the interpreter in-process on a real router; the last ones
run the real ``python3 -m winbox_agent ... cli`` process for exit codes,
stderr, ``--json``, ``/import`` and ``export file=``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.cli.lexer import logical_lines, quote, split_commands  # noqa: E402
from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402


class Shell:
    """An interpreter on a fresh router, collecting what it prints."""

    def __init__(self, tmp_path: Path, json_mode: bool = False):
        self.router = Router(str(tmp_path / "state"), seed=5)
        self.lines: List[str] = []
        self.interp = Interpreter(self.router, out=self.lines.append, json_mode=json_mode, base_dir=str(tmp_path))

    def __call__(self, script: str) -> str:
        self.lines.clear()
        self.interp.run_script(script)
        return "\n".join(self.lines)

    def json(self, command: str) -> list:
        saved = self.interp.json_mode
        self.interp.json_mode = True
        try:
            return json.loads(self(command))
        finally:
            self.interp.json_mode = saved

    def error(self, script: str) -> CliError:
        with pytest.raises(CliError) as info:
            self.interp.run_script(script)
        return info.value

    def pools(self) -> list:
        return [(r["name"], r["comment"]) for r in self.json("/ip pool print")]


@pytest.fixture
def sh(tmp_path):
    shell = Shell(tmp_path)
    yield shell
    shell.router.close()


# --- the language ---------------------------------------------------------------------


def test_menu_line_then_commands(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24\nadd name=b ranges=10.0.1.0/24")
    assert [n for n, _ in sh.pools()] == ["a", "b"]
    assert sh.interp.cwd.path == "/ip/pool"
    assert sh.interp.prompt().endswith("/ip pool> ")


def test_backslash_continues_a_line(sh):
    sh('/ip pool add name=a \\\n    ranges=10.0.0.0/24 \\\n    comment=joined')
    assert sh.pools() == [("a", "joined")]
    assert list(logical_lines("a \\\n  b\nc")) == [(1, "a b"), (3, "c")]


def test_windows_line_ends_and_byte_order_mark(sh):
    sh("\ufeff/ip pool add name=a ranges=10.0.0.0/24 \\\r\n  comment=crlf\r\n/ip pool add name=b ranges=10.0.1.0/24\r\n")
    assert sh.pools() == [("a", "crlf"), ("b", "")]


def test_quoted_values_with_escapes(sh):
    sh(r'/ip pool add name="my pool" ranges=10.0.0.0/24 comment="say \"hi\"\tand \\ \_x\41\$"')
    assert sh.pools() == [("my pool", 'say "hi"\tand \\  xA$')]
    # quote() writes values back so they read the same
    for text in ['say "hi"', "a\\b", "tab\there", "new\nline", "$x", "", "plain", "sp ace", "\x01"]:
        words = split_commands("set comment=%s" % quote(text))[0]
        assert words[1].value == text, text


def test_comment_lines_are_skipped(sh):
    sh("# /ip pool add name=ignored ranges=10.9.9.0/24\n/ip pool add name=a ranges=10.0.0.0/24 ; "
       "/ip pool add name=b ranges=10.0.1.0/24\n   # indented comment")
    assert [n for n, _ in sh.pools()] == ["a", "b"]


def test_paths_with_slashes_spaces_and_dotdot(sh):
    sh("/ip/pool/add name=a ranges=10.0.0.0/24")
    sh("/ip pool add name=b ranges=10.0.1.0/24")
    sh("/ip/pool add name=c ranges=10.0.2.0/24")
    assert [n for n, _ in sh.pools()] == ["a", "b", "c"]
    sh("/ip address")
    assert sh.interp.cwd.path == "/ip/address"
    assert "10.0.1.0/24" in sh(".. pool print")
    sh("..")
    assert sh.interp.cwd.path == "/ip"
    sh("pool")
    assert sh.interp.cwd.path == "/ip/pool"
    sh("/")
    assert sh.interp.cwd.path == "/"


def test_abbreviations(sh):
    sh("/sys identity set name=Client1")
    assert sh.json("/system identity print")[0]["name"] == "Client1"
    out = sh("/interface ethernet p")
    assert "ether1" in out and "ether5" in out
    sh("/ip pool ad name=a range=10.0.0.0/24 comm=short")      # add, ranges=, comment=
    assert sh.json("/ip pool print")[0]["ranges"] == "10.0.0.0/24"
    assert sh.pools() == [("a", "short")]


def test_ambiguity_and_unknown_words_are_errors(sh):
    sh("/ip pool add name=a ranges=10.0.0.0/24")
    err = sh.error("/ip pool set a n=x")
    assert "ambiguous parameter n" in err.message and "name" in err.message and "next-pool" in err.message
    err = sh.error("/ip pool set a nonsense=x")
    assert err.message == "unknown parameter nonsense"
    err = sh.error("/ip poolx print")
    assert "unknown command or menu poolx" in err.message
    err = sh.error("/ip address add address=10.0.1.2/24 interfae=public")
    assert err.message == "unknown parameter interfae"
    assert sh.error("/ip pool set a network=x").message == "unknown parameter network"
    assert sh.error("/ip address add address=10.0.1.2/24 interface=ether1 network=10.0.1.0").message == \
        "network is read-only"


def test_items_by_number_name_id_and_find(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24\nadd name=b ranges=10.0.1.0/24\nadd name=c ranges=10.0.2.0/24")
    sh("print")
    sh("set 1 comment=by-number")
    assert sh.pools()[1] == ("b", "by-number")
    sh("set c comment=by-name")
    ids = {r["name"]: r[".id"] for r in sh.json("print")}
    sh("set %s comment=by-id" % ids["a"])
    sh("set [ find name=b ] comment=by-find")
    assert sh.pools() == [("a", "by-id"), ("b", "by-find"), ("c", "by-name")]
    sh("set [ find where comment~\"^by-\" ] comment=all")
    assert {c for _, c in sh.pools()} == {"all"}
    sh("set 0,2 comment=two")
    assert sh.pools() == [("a", "two"), ("b", "all"), ("c", "two")]
    assert sh("find where name=c") == ids["c"]
    assert sh("get a comment") == "two"


def test_numbers_come_from_the_last_print(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24\nadd name=b ranges=10.0.1.0/24")
    sh("print where name=b")
    sh("set 0 comment=the-b")        # 0 is the first row of that print: b
    assert sh.pools() == [("a", ""), ("b", "the-b")]
    assert "no such item (5)" in sh.error("set 5 comment=x").message


def test_print_where(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24 comment=x\nadd name=b ranges=10.0.1.0/24\n"
       "add name=c ranges=10.0.2.0/24 next-pool=a")
    names = lambda where: [r["name"] for r in sh.json("print where " + where)]  # noqa: E731
    assert names("name=b") == ["b"]
    assert names("name!=b") == ["a", "c"]
    assert names("name=a or name=c") == ["a", "c"]
    assert names("comment=\"\" and next-pool=none") == ["b"]
    assert names("name~\"^[ab]$\"") == ["a", "b"]
    assert names("next-pool=a") == ["c"]
    assert names("not name=a") == ["b", "c"]
    out = sh("/interface ethernet print where running")
    assert "ether1" in out
    sh("/interface ethernet disable ether2")
    assert [r["name"] for r in sh.json("/interface ethernet print where disabled")] == ["ether2"]
    assert "ether2" not in [r["name"] for r in sh.json("/interface ethernet print where !disabled")]
    assert "unknown parameter" in sh.error("/ip pool print where bogus=1").message


def test_where_with_quotes_and_parentheses(sh):
    sh('/ip pool\nadd name=a ranges=10.0.0.0/24 comment="x y"\nadd name=b ranges=10.0.1.0/24 comment="f(x)"\n'
       'add name=c ranges=10.0.2.0/24')
    names = lambda where: [r["name"] for r in sh.json("print where " + where)]  # noqa: E731
    assert names('comment~"x y"') == ["a"]
    assert names('(comment~"x y")') == ["a"]
    assert names('(name=a or name=b) and comment="x y"') == ["a"]
    assert names("name=c || (name=b && comment=f(x))") == ["b", "c"]
    assert names("not (name=b)") == ["a", "c"]
    assert names("((name=b))") == ["b"]
    assert "missing )" in sh.error("print where (name=a").message
    assert sh.error("print where name=a)").message == "unexpected word ) in where"


def test_print_forms(sh):
    sh('/ip pool\nadd name=a ranges=10.0.0.0/24 comment="first pool"\nadd name=b ranges=10.0.1.0/24')
    table = sh("print")
    assert "NAME" in table and "RANGES" in table and ";;; first pool" in table
    rows = [line for line in table.splitlines() if line.strip().startswith(("0", "1"))]
    assert rows[0].startswith("0") and rows[1].startswith("1")
    detail = sh("print detail")
    assert 'name=a ranges=10.0.0.0/24 next-pool=none' in detail and ";;; first pool" in detail
    assert sh("print count-only") == "2"
    assert sh("print count-only where name=a") == "1"
    only = sh("print proplist=name")
    assert "RANGES" not in only and "a" in only
    assert sh.json("print proplist=name,ranges") == [
        {".id": r[".id"], "name": r["name"], "ranges": r["ranges"]} for r in sh.json("print")]
    settings = sh("/system identity print")
    assert settings.strip() == "name: MikroTik"


def test_flags_in_print(sh):
    sh("/interface ethernet disable ether3")
    out = sh("/interface ethernet print")
    assert "X - DISABLED" in out
    line = next(line for line in out.splitlines() if "ether3" in line)
    assert " X " in line


def test_json_print_has_every_property_with_defaults_and_id(sh):
    sh("/ip pool add name=a ranges=10.0.0.0/24")
    for m in REGISTRY.values():
        if m.source is not None:
            continue
        rows = sh.json("%s print show-sensitive" % ("/" + " ".join(m.words)))
        for row in rows:
            assert ".id" in row, m.path
            assert set(p.name for p in m.props) <= set(row), "%s: %s" % (m.path, set(p.name for p in m.props) - set(row))
    pool = sh.json("/ip pool print")[0]
    assert pool["next-pool"] == "none" and pool["comment"] == ""    # defaults included


def test_secrets_only_with_show_sensitive(sh):
    secret = [(m, p) for m in REGISTRY.values() for p in m.props
              if p.secret and not m.readonly and m.source is None]
    if not secret:
        pytest.skip("no menu declares a secret property yet")
    for m, p in secret:
        where = "/" + " ".join(m.words)
        plain = sh.json("%s print" % where)
        shown = sh.json("%s print show-sensitive" % where)
        assert all(p.name not in r for r in plain), (m.path, p.name)
        assert all(p.name in r for r in shown), (m.path, p.name)


def test_errors_stop_a_script_with_the_line_number(sh):
    err = sh.error("/ip pool add name=a ranges=10.0.0.0/24\n\n/ip pool add name=b ranges=10.0.300.0/24\n"
                   "/ip pool add name=c ranges=10.0.2.0/24")
    assert err.line == 3 and err.message.startswith("ranges: ")
    assert [n for n, _ in sh.pools()] == ["a"]       # the line before stays, the one after never ran
    err = sh.error("/ip pool add name=d \\\n ranges=bad")
    assert err.line == 1


def test_unset_and_remove_and_comment(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24 next-pool=none comment=x\nadd name=b ranges=10.0.1.0/24 next-pool=a")
    sh("unset b next-pool")
    assert sh.json("print where name=b")[0]["next-pool"] == "none"
    sh("comment a comment=y")
    assert sh.pools()[0] == ("a", "y")
    sh("remove [ find ]")
    assert sh.pools() == []


def test_copy_from_and_place_before(sh):
    sh("/ip pool\nadd name=a ranges=10.0.0.0/24 comment=orig\nadd name=b ranges=10.0.1.0/24")
    sh("add copy-from=a name=c place-before=b")
    assert sh.pools() == [("a", "orig"), ("c", "orig"), ("b", "")]
    assert sh.json("print where name=c")[0]["ranges"] == "10.0.0.0/24"


def test_move_in_an_ordered_menu(sh):
    ordered = [m for m in REGISTRY.values() if m.ordered and m.can_add]
    if not ordered:
        pytest.skip("no ordered menu (firewall) is declared yet")
    from tests.agent.test_export_roundtrip import Filler
    m = ordered[0]
    f = Filler(sh.router)
    ids = [f.add(m) for _ in range(3)]
    assert all(ids), f.failed
    where = "/" + " ".join(m.words)
    sh("%s print" % where)
    sh("%s move 2 0" % where)
    assert [r[".id"] for r in sh.json("%s print" % where)] == [ids[2], ids[0], ids[1]]
    sh("%s print" % where)
    sh("%s move 0 destination=2" % where)
    assert [r[".id"] for r in sh.json("%s print" % where)] == [ids[0], ids[2], ids[1]]


def test_export_and_import_files(sh, tmp_path):
    sh('/ip pool add name=a ranges=10.0.0.0/24 comment="with space"\n/system identity set name=edge')
    sh("/export file=backup")
    text = (tmp_path / "backup.rsc").read_text()
    assert "/ip pool" in text and 'comment="with space"' in text and "name=edge" in text
    fresh = Shell(tmp_path / "other")
    fresh.interp.base_dir = str(tmp_path)
    fresh("/import file-name=backup.rsc")
    assert fresh.pools() == [("a", "with space")]
    assert fresh.json("/system identity print")[0]["name"] == "edge"
    (tmp_path / "bad.rsc").write_text("/ip pool add name=z ranges=10.9.0.0/24\n/ip pool add name=y ranges=nope\n")
    err = fresh.error("/import file-name=bad.rsc")
    assert err.message.startswith("bad.rsc: line 2: ranges:")
    assert "file-name" in fresh.error("/import file-name=missing.rsc").message
    (tmp_path / "binary.rsc").write_bytes(b"\xff\xfe/ip pool print\n")
    assert fresh.error("/import file-name=binary.rsc").message == "file-name: binary.rsc is not a UTF-8 text file"
    fresh.router.close()


def test_export_of_one_menu(sh):
    sh("/ip pool add name=a ranges=10.0.0.0/24\n/system identity set name=edge")
    out = sh("/ip pool export")
    assert "/ip pool" in out and "add name=a ranges=10.0.0.0/24" in out and "identity" not in out


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60))
def test_any_value_reads_back_through_quote(text):
    """What export writes for a value (quote) is read back as that value, whatever it holds."""
    lines = list(logical_lines("/ip pool set a comment=" + quote(text)))
    assert len(lines) == 1
    word = split_commands(lines[0][1])[0][-1]
    assert word.key == "comment" and word.value == text


# --- the real process ------------------------------------------------------------------------


def agent(tmp_path: Path, *args: str, stdin: str = None, env: dict = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env or {}))
    env["PYTHONPATH"] = str(REPO / "agent")
    cmd = [sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", str(tmp_path / "state"), "cli"]
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=60)


def test_process_exit_code_and_stderr_on_error(tmp_path):
    ok = agent(tmp_path, stdin="/ip pool add name=a ranges=10.0.0.0/24\n")
    assert ok.returncode == 0, ok.stderr
    bad = agent(tmp_path, stdin="/ip pool add name=b ranges=10.0.1.0/24\n# c\n/ip pool add name=c ranges=x\n"
                                "/ip pool add name=d ranges=10.0.3.0/24\n")
    assert bad.returncode != 0
    assert "line 3" in bad.stderr and "ranges" in bad.stderr and bad.stdout == ""
    listing = agent(tmp_path, "--json", "-c", "/ip pool print")
    assert listing.returncode == 0
    assert [r["name"] for r in json.loads(listing.stdout)] == ["a", "b"]   # b kept, d never ran
    typo = agent(tmp_path, "-c", "/ip address add address=10.0.1.2/24 interfae=public")
    assert typo.returncode != 0 and "interfae" in typo.stderr
    bad_addr = agent(tmp_path, "-c", "/ip address add address=10.0.300.1/24 interface=ether1")
    assert bad_addr.returncode != 0 and "address" in bad_addr.stderr


def test_process_json_mode(tmp_path):
    r = agent(tmp_path, "--json", "-c", "/ip pool add name=a ranges=10.0.0.0/24")
    assert r.returncode == 0 and json.loads(r.stdout)["ret"].startswith("*")
    r = agent(tmp_path, "--json", "-c", "/ip pool print")
    rows = json.loads(r.stdout)
    assert rows == [{".id": rows[0][".id"], "name": "a", "ranges": "10.0.0.0/24", "next-pool": "none", "comment": ""}]
    r = agent(tmp_path, "--json", "-c", "/ip pool set a n=1")
    assert r.returncode != 0
    err = json.loads(r.stderr.splitlines()[0])
    assert "ambiguous" in err["error"] and err["line"] == 1


def test_process_export_file_and_import(tmp_path):
    # files are UTF-8 whatever the locale says (here plain ASCII, as on a bare device)
    ascii_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    (tmp_path / "in.rsc").write_text('/ip pool add name=a ranges=10.0.0.0/24 comment="Zürich – 東京"\n',
                                     encoding="utf-8")
    r = agent(tmp_path, "-c", "/import file-name=in.rsc\n/export file=saved", env=ascii_locale)
    assert r.returncode == 0, r.stderr
    assert 'comment="Zürich – 東京"' in (tmp_path / "saved.rsc").read_text(encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "saved.rsc").write_bytes((tmp_path / "saved.rsc").read_bytes())
    r = agent(other, "-c", "/import file-name=saved.rsc", env=ascii_locale)
    assert r.returncode == 0, r.stderr
    rows = json.loads(agent(other, "--json", "-c", "/ip pool print").stdout)
    assert [(x["name"], x["comment"]) for x in rows] == [("a", "Zürich – 東京")]


def test_process_script_on_stdin_is_utf8_whatever_the_locale(tmp_path):
    latin = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
    r = agent(tmp_path, stdin='/ip pool add name=a ranges=10.0.0.0/24 comment="Zürich – 東京"\n/ip pool print\n',
              env=latin)
    assert r.returncode == 0, r.stderr
    assert "Z\\xfcrich" in r.stdout           # shown as an escape, not a crash
    rows = json.loads(agent(tmp_path, "--json", "-c", "/ip pool print").stdout)
    assert rows[0]["comment"] == "Zürich – 東京"
    bad = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(tmp_path / "state"), "cli"],
                         input=b"/ip pool print\n\xff\n", capture_output=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO / "agent")), timeout=60)
    assert bad.returncode != 0 and b"not UTF-8" in bad.stderr

