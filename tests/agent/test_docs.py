"""docs/menus.md is the reference generated from the schema, and stays so."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent import docs  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402

MENUS_MD = REPO / "docs" / "menus.md"


def test_menus_md_is_up_to_date():
    assert MENUS_MD.exists(), "docs/menus.md is missing; generate it (from %s) with:\n  %s" % (REPO, docs.REGENERATE)
    have, want = MENUS_MD.read_text(), docs.render()
    if have != want:
        diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(), "docs/menus.md", "generated",
                                         lineterm="", n=1))
        pytest.fail("docs/menus.md is out of date with the menu schema; regenerate it (from %s) with:\n  %s\n\n%s"
                    % (REPO, docs.REGENERATE, "\n".join(diff[:40])), pytrace=False)


def test_every_menu_property_and_command_is_in_the_reference():
    text = docs.render()
    for m in REGISTRY.values():
        section = text.split("\n## " + docs.menu_words(m.path) + "\n", 1)
        assert len(section) == 2, "%s has no section" % m.path
        body = section[1].split("\n## ", 1)[0]
        for p in m.props:
            assert "| `%s` |" % p.name in body, "%s: property %s missing" % (m.path, p.name)
        for c in m.commands:
            assert "- **%s**" % c.name in body, "%s: command %s missing" % (m.path, c.name)
            for a in c.args:
                assert "  - `%s`:" % a.name in body, "%s %s: argument %s missing" % (m.path, c.name, a.name)


def test_tables_have_as_many_cells_as_columns():
    for line in docs.render().splitlines():
        if line.startswith("| ") and not line.startswith("| property"):
            cells = [c for c in line.replace("\\|", "").split("|")[1:-1]]
            assert len(cells) == 6, line


def test_module_runs_as_a_program():
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    out = subprocess.run([sys.executable, "-m", "winbox_agent.docs"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == docs.render()
