"""Hostile input to the command language: the agent never dies.

Random bytes (decoded as the CLI decodes them, and with replacement
characters), soups of real menu, command and property names and values,
deep nesting of brackets, quotes, parentheses and ``not``, and huge lines go
through the lexer, the interpreter and the router.  Each must end in a
:class:`CliError` (or run, or ``/quit``), never another exception; the state
written meanwhile must still load; and the agent process itself answers
garbage on stdin with an error, not a traceback.

Each test prints how many cases it ran (``pytest -s``); docs/reliability.md
keeps the figures.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.cli.shell import CliError, Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402

from tests.agent.test_export_roundtrip import candidates  # noqa: E402

#: WINBOX_FUZZ_SCALE=10 runs ten times as many cases (a longer hunt than CI's)
SCALE = float(os.environ.get("WINBOX_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    suppress_health_check=list(HealthCheck))


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for m in REGISTRY.values():
        words.update(m.words)
        words.add("/" + " ".join(m.words))
        words.add(m.path)
        for p in m.props:
            words.add(p.name)
            words.add("%s=" % p.name)
        for c in m.commands:
            words.add(c.name)
            words.update(a.name for a in c.args)
    words.update(["print", "add", "set", "unset", "remove", "enable", "disable", "comment", "move", "find",
                  "get", "export", "import", "undo", "redo", "where", "detail", "terse", "show-sensitive",
                  "count-only", "as-value", "follow", "once", "numbers=", "place-before=", "copy-from=",
                  "file=", "file-name=", "proplist=", "destination=", "0", "1", "2", "99", "-1", "*1", "*FFFF",
                  "ether1", "ether2", "yes", "no", "and", "or", "not", "!", "(", ")", "[", "]", "[ find", "\"",
                  "\\", ";", "=", "~", "<", ">", "..", "/", "#", "$x", ":put", "{", "}", "\\\n", "\n", "\t",
                  "\x00", "\x01q", "\ufeff", "é", "🦊", "\u2028", "10.0.0.1/24", "10.0.0.1", "::1", "1h30m",
                  "02:00:00:00:00:01", "all", "none", "auto", "unlimited"])
    return sorted(words)


VOCAB = _vocabulary()
COUNTS: dict[str, int] = {}


class Victim:
    """A router with a state directory and a shell on it, reset between cases
    only where a case may leave the shell somewhere else (a guest console)."""

    def __init__(self, state: Path, files: Path):
        self.state = state
        self.router = Router(str(state), seed=9)
        self.out: list[str] = []
        self.sh = Interpreter(self.router, out=self._out, base_dir=str(files))
        self.sh.stop_stream = lambda: True          # a monitor prints one sample

    def _out(self, text: str) -> None:
        if len(self.out) < 1000:
            self.out.append(text)

    def run(self, script: str, name: str) -> None:
        COUNTS[name] = COUNTS.get(name, 0) + 1
        try:
            self.sh.run_script(script)
        except (CliError, SystemExit):
            pass
        finally:
            self.sh.guest = None
            self.sh.cwd = self.sh.root
            self.out.clear()

    def check_reloads(self) -> None:
        """What the fuzzed router left on disk loads, and is what it had."""
        self.router.store.flush()
        have = {p: copy.deepcopy(v) for p, v in self.router.store.menus.items() if v}
        again = Router(str(self.state), seed=9)
        try:
            assert {p: v for p, v in again.store.menus.items() if v} == have
            assert again.store.revision == self.router.store.revision
        finally:
            again.close()


@pytest.fixture(scope="module")
def victim(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    (base / "files").mkdir()
    v = Victim(base / "state", base / "files")
    yield v
    v.check_reloads()
    v.router.close()
    print("\nfuzz cases run: %s (total %d)" % (COUNTS, sum(COUNTS.values())))


# --- random bytes ------------------------------------------------------------------------------


@fuzz(1500)
@given(data=st.binary(max_size=300), errors=st.sampled_from(["surrogateescape", "replace"]))
def test_random_bytes(victim, data, errors):
    victim.run(data.decode("utf-8", errors), "bytes")


# --- soups of real words -------------------------------------------------------------------------


def _value_texts() -> list[str]:
    r = Router(None, seed=1)
    out: set[str] = set()
    for m in REGISTRY.values():
        for p in m.props:
            try:
                out.update(candidates(r, p.type, 3)[:3])
            except Exception:       # a type the generator does not know: its words are enough
                pass
    r.close()
    return sorted(out)


VALUES = _value_texts()
word = st.sampled_from(VOCAB) | st.text(max_size=6)
pair = st.tuples(st.sampled_from([p for p in VOCAB if p.isidentifier() or "-" in p]),
                 st.sampled_from(VALUES) | st.text(max_size=8)).map(lambda kv: "%s=%s" % kv)
line = st.lists(word | pair, max_size=14).map(" ".join)


@fuzz(3000)
@given(lines=st.lists(line, min_size=1, max_size=4))
def test_token_soup(victim, lines):
    victim.run("\n".join(lines), "soup")


@fuzz(1500)
@given(m=st.sampled_from(sorted(REGISTRY)), cmd=st.sampled_from(["add", "set", "print", "remove", "unset", "get",
                                                                  "find", "enable", "move", "comment"]),
       items=st.lists(st.sampled_from(["0", "1", "*1", "[ find ]", "ether1", "numbers=0", "\"x y\""]),
                      max_size=2),
       pairs=st.lists(pair, max_size=6))
def test_commands_on_every_menu(victim, m, cmd, items, pairs):
    victim.run(" ".join(["/" + " ".join(w for w in m.split("/") if w), cmd] + items + pairs), "menus")


# --- nesting and size --------------------------------------------------------------------------------


NESTERS = ["[", "]", "[ find ", "(", ")", "\"", "\\\"", "not ", "! ", "\\", "{", "}", "where ", "=", ";"]


@fuzz(800)
@given(parts=st.lists(st.sampled_from(NESTERS), min_size=1, max_size=60), depth=st.integers(1, 4000),
       head=st.sampled_from(["/ip address print where ", "/ip address remove ", "/ip address set ",
                             "/interface print where ", ":put ", ""]))
def test_deep_nesting(victim, parts, depth, head):
    victim.run(head + "".join(parts) * (depth // len(parts) + 1), "nesting")


@pytest.mark.parametrize("text", [
    "[" * 100000, "]" * 100000, "(" * 5000, "/ip address print where " + "(" * 5000 + "disabled" + ")" * 5000,
    "/ip address print where " + "not " * 100000 + "disabled",
    "/ip address print where " + " or ".join(["disabled"] * 20000),
    "[ find " * 3000 + "]" * 3000, '"' * 100001, "\\" * 100001, "x\\\n" * 20000,
    '/ip address add address=10.0.0.1/24 interface=ether1 comment="' + "a" * 1_000_000 + '"',
    "/system identity set name=" + "n" * 1_000_000, "/ip address print " + "detail " * 50000,
    "/ip pool add name=p ranges=" + ",".join("10.0.%d.1-10.0.%d.2" % (i % 250, i % 250) for i in range(20000)),
    ";" * 200000, "/" * 200000, "\n" * 200000,
])
def test_huge_and_deep_lines_end_in_an_error_quickly(victim, text):
    started = time.monotonic()
    victim.run(text, "huge")
    assert time.monotonic() - started < 30, "a hostile line took %.1f s" % (time.monotonic() - started)


def test_where_nesting_has_a_clear_limit(victim):
    with pytest.raises(CliError, match="nested more than 64 deep"):
        victim.sh.run_script("/ip address print where " + "(" * 65 + "disabled" + ")" * 65)
    victim.sh.run_script("/ip address print where " + "(" * 64 + "disabled" + ")" * 64)


# --- the process -----------------------------------------------------------------------------------


@fuzz(12)
@given(data=st.binary(min_size=1, max_size=400) | st.lists(st.sampled_from(VOCAB), max_size=30).map(
    lambda ws: " ".join(ws).encode("utf-8", "surrogatepass")))
def test_the_agent_process_answers_garbage_with_an_error(tmp_path_factory, data):
    COUNTS["process"] = COUNTS.get("process", 0) + 1
    state = tmp_path_factory.mktemp("proc")
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"), LC_ALL="C")
    res = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state / "s"), "cli"],
                         input=data, capture_output=True, env=env, timeout=60, cwd=str(state))
    assert res.returncode in (0, 1), res.stderr.decode(errors="replace")
    assert b"Traceback" not in res.stderr, res.stderr.decode(errors="replace")
    if res.returncode == 1:
        assert res.stderr.startswith(b"error: "), res.stderr
    # and what it left loads
    again = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state / "s"), "cli", "-c",
                            "/system identity print"], capture_output=True, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
