"""Qt is imported in one place: winbox_py/qt.py. Views never import PySide6."""

from __future__ import annotations

from pathlib import Path

from tests.test_layering import forbidden_import_problems, module_name, python_files

REPO = Path(__file__).resolve().parents[2]
VIEWS = REPO / "winbox_py" / "views"


def test_views_import_qt_only_through_the_shim():
    problems = {}
    for path in python_files(VIEWS):
        name, is_pkg = module_name(path, REPO)
        found = forbidden_import_problems(path.read_text(encoding="utf-8"), name, ("PySide6", "PyQt5", "PyQt6",
                                                                                   "shiboken6"), is_pkg)
        if found:
            problems[path.relative_to(REPO)] = found
    assert not problems, "views must import Qt from winbox_py.qt only:\n" + "\n".join(
        f"{p}: {x}" for p, xs in problems.items() for x in xs)


def test_the_checker_catches_a_direct_import():
    assert forbidden_import_problems("from PySide6.QtWidgets import QLabel\n", "winbox_py.views.x", ("PySide6",))
    assert not forbidden_import_problems("from winbox_py.qt import QtWidgets\n", "winbox_py.views.x", ("PySide6",))
