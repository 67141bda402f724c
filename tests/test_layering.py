"""The layering rules of the architecture, checked on the source tree.

- agent/ imports only the standard library (and itself): it runs on routers with
  nothing installed, on any Python from 3.9 on.
- agent/ never imports winbox_py.
- winbox_py/backend/ never imports the views, QtWidgets or QtGui (QtCore is
  fine), whether from PySide6 or through the winbox_py.qt shim.

The checkers work on source text, so they are themselves tested on small bad
sources at the end of this file.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AGENT = REPO / "agent"
BACKEND = REPO / "winbox_py" / "backend"

AGENT_PACKAGE = "winbox_agent"

# In the standard library of some but not all Pythons from 3.9 on: added later
# (tomllib) or removed by 3.13 (PEP 594, distutils, imp). The agent may import
# them only inside `try: ... except ImportError:`.
NOT_IN_EVERY_PY39_PLUS = frozenset(
    {
        "tomllib",
        "distutils", "imp", "asynchat", "asyncore", "smtpd",
        "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3",
        "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr",
        "spwd", "sunau", "telnetlib", "uu", "xdrlib",
    }
)

# winbox_py.qt is the views' Qt shim: the same modules reached through it
BACKEND_FORBIDDEN = (
    "winbox_py.views",
    "PySide6.QtWidgets",
    "PySide6.QtGui",
    "winbox_py.qt.QtWidgets",
    "winbox_py.qt.QtGui",
)
AGENT_FORBIDDEN = ("winbox_py",)


# --- the checkers ----------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One module a source file imports, as an absolute dotted name."""

    module: str
    line: int
    guarded: bool  # inside a try whose handlers catch ImportError


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS for t in types):
            return True
    return False


def _resolve(module: str | None, level: int, package: str) -> str:
    """The absolute name of `from <level dots><module> import ...` in `package`."""
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level - 1 < len(parts) else []
    return ".".join(base + ([module] if module else []))


def imports(source: str, module_name: str, is_package: bool = False, filename: str = "<source>") -> list[Import]:
    """Every module `source` imports, at any depth (functions, classes, try blocks).

    Relative imports are resolved against `module_name`; `from a import b` yields
    both `a` and `a.b` (b may be a submodule); `importlib.import_module("x")` and
    `__import__("x")` with a literal name count too.
    """
    tree = ast.parse(source, filename)
    package = module_name if is_package else module_name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(a.name, node.lineno, guarded) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, package)
            if base:
                found.append(Import(base, node.lineno, guarded))
            found.extend(
                Import(f"{base}.{a.name}" if base else a.name, node.lineno, guarded)
                for a in node.names
                if a.name != "*"
            )
        elif isinstance(node, ast.Call) and node.args:
            func, arg = node.func, node.args[0]
            dynamic = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
                isinstance(func, ast.Attribute) and func.attr == "import_module"
            )
            if dynamic and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if not arg.value.startswith("."):
                    found.append(Import(arg.value, node.lineno, guarded))
        if isinstance(node, ast.Try):
            inner = guarded or _catches_import_error(node)
            for child in node.body:
                visit(child, inner)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def stdlib_only_problems(source: str, module_name: str, is_package: bool = False) -> list[str]:
    """Imports of anything but the standard library and the agent's own package."""
    problems = []
    for imp in imports(source, module_name, is_package):
        top = imp.module.split(".")[0]
        if top == AGENT_PACKAGE:
            continue
        if top not in sys.stdlib_module_names:
            problems.append(f"line {imp.line}: imports {imp.module}, which is not in the standard library")
        elif top in NOT_IN_EVERY_PY39_PLUS and not imp.guarded:
            problems.append(
                f"line {imp.line}: imports {imp.module}, which not every Python from 3.9 on has "
                "(import it inside try/except ImportError)"
            )
    return problems


def forbidden_import_problems(
    source: str, module_name: str, forbidden: tuple[str, ...], is_package: bool = False
) -> list[str]:
    """Imports of any module in `forbidden` or below it (one line per statement)."""
    problems: dict[tuple[int, str], str] = {}
    for imp in imports(source, module_name, is_package):
        for bad in forbidden:
            if imp.module == bad or imp.module.startswith(bad + "."):
                problems.setdefault((imp.line, bad), f"line {imp.line}: imports {imp.module} ({bad} is off limits here)")
    return list(problems.values())


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )


def _has_union_operator(node: ast.AST | None) -> bool:
    return node is not None and any(
        isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(node)
    )


def _called_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def py39_problems(source: str, filename: str = "<source>") -> list[str]:
    """What would stop `source` from running on Python 3.9.

    The grammar is checked by the parser itself; on top of that a few common
    run-time uses of newer features: `X | Y` in evaluated annotations or
    isinstance(), dataclass(slots=/kw_only=), zip(strict=).
    """
    try:
        tree = ast.parse(source, filename, feature_version=(3, 9))
    except SyntaxError as exc:
        return [f"line {exc.lineno}: not Python 3.9 syntax: {exc.msg}"]
    problems = []
    lazy_annotations = _has_future_annotations(tree)
    for node in ast.walk(tree):
        annotations: list[ast.AST | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            annotations = [x.annotation for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        if not lazy_annotations and any(_has_union_operator(x) for x in annotations):
            problems.append(
                f"line {node.lineno}: 'X | Y' in an annotation needs Python 3.10 "
                "(add 'from __future__ import annotations')"
            )
        if isinstance(node, ast.Call):
            name = _called_name(node)
            keywords = {k.arg for k in node.keywords}
            if name in ("isinstance", "issubclass") and len(node.args) == 2 and _has_union_operator(node.args[1]):
                problems.append(f"line {node.lineno}: {name}() with 'X | Y' needs Python 3.10 (use a tuple)")
            if name == "dataclass" and keywords & {"slots", "kw_only", "match_args"}:
                problems.append(f"line {node.lineno}: dataclass({', '.join(sorted(keywords & {'slots', 'kw_only', 'match_args'}))}=) needs Python 3.10")
            if name == "zip" and "strict" in keywords:
                problems.append(f"line {node.lineno}: zip(strict=) needs Python 3.10")
    return problems


# --- the source tree ---------------------------------------------------------


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of `path` relative to the import root `root`, and
    whether it is a package's __init__."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _agent_files() -> list[Path]:
    if not AGENT.is_dir():
        pytest.skip("agent/ not written yet")
    files = list(python_files(AGENT))
    if not files:
        pytest.skip("agent/ not written yet")
    return files


def _report(problems: dict[Path, list[str]]) -> str:
    return "\n".join(f"{path.relative_to(REPO)}: {p}" for path, ps in problems.items() for p in ps)


def _check_tree(files: list[Path], root: Path, check) -> dict[Path, list[str]]:
    problems = {}
    for path in files:
        name, is_package = module_name(path, root)
        found = check(path.read_text(encoding="utf-8"), name, is_package)
        if found:
            problems[path] = found
    return problems


def test_agent_imports_only_the_standard_library():
    problems = _check_tree(_agent_files(), AGENT, stdlib_only_problems)
    assert not problems, "agent/ must use the standard library only:\n" + _report(problems)


def test_agent_runs_on_python_3_9():
    problems = {}
    for path in _agent_files():
        found = py39_problems(path.read_text(encoding="utf-8"), str(path))
        if found:
            problems[path] = found
    assert not problems, "agent/ must run on Python 3.9:\n" + _report(problems)


def test_agent_never_imports_the_desktop():
    problems = _check_tree(
        _agent_files(), AGENT, lambda src, name, pkg: forbidden_import_problems(src, name, AGENT_FORBIDDEN, pkg)
    )
    assert not problems, "agent/ must not import winbox_py:\n" + _report(problems)


def test_backend_imports_no_views_and_no_qt_widgets():
    files = list(python_files(BACKEND))
    assert files, "winbox_py/backend/ has no Python files"
    problems = _check_tree(
        files, REPO, lambda src, name, pkg: forbidden_import_problems(src, name, BACKEND_FORBIDDEN, pkg)
    )
    assert not problems, "winbox_py/backend/ must not import views, QtWidgets or QtGui:\n" + _report(problems)


# --- the checkers catch what they should ---------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import requests\n",
        "import os, yaml\n",
        "from paramiko import SSHClient\n",
        "def connect():\n    import paramiko\n    return paramiko\n",
        "class A:\n    def f(self):\n        from orjson import dumps\n",
        "try:\n    import orjson as json\nexcept ImportError:\n    import json\n",
        "import importlib\nmod = importlib.import_module('yaml')\n",
        "mod = __import__('psutil')\n",
        "import winbox_py\n",
        "import tomllib\n",
        "from distutils.version import LooseVersion\n",
    ],
)
def test_stdlib_checker_flags_third_party_imports(source):
    assert stdlib_only_problems(source, "winbox_agent.cli.parser"), source


@pytest.mark.parametrize(
    "source",
    [
        "import os\nimport json, socket\n",
        "from collections.abc import Mapping\n",
        "from __future__ import annotations\n",
        "from . import store\nfrom .menus import schema\n",
        "from winbox_agent.store import Store\n",
        "try:\n    import tomllib\nexcept ModuleNotFoundError:\n    tomllib = None\n",
        "import importlib\nmod = importlib.import_module('json')\n",
    ],
)
def test_stdlib_checker_accepts_the_standard_library(source):
    assert stdlib_only_problems(source, "winbox_agent.cli.parser") == []


@pytest.mark.parametrize(
    "source",
    [
        "from PySide6.QtWidgets import QWidget\n",
        "import PySide6.QtWidgets\n",
        "from PySide6 import QtGui\n",
        "from PySide6.QtGui import QColor\n",
        "import winbox_py.views.table\n",
        "from winbox_py import views\n",
        "from winbox_py.views.login import LoginDialog\n",
        "from ..views import main_window\n",
        "from .. import views\n",
        "def later():\n    from PySide6.QtWidgets import QMessageBox\n",
        "from winbox_py.qt import QtCore, QtWidgets\n",
        "from ..qt import QtGui\n",
    ],
)
def test_backend_checker_flags_views_and_widgets(source):
    assert forbidden_import_problems(source, "winbox_py.backend.models", BACKEND_FORBIDDEN), source


@pytest.mark.parametrize(
    "source",
    [
        "from PySide6.QtCore import QAbstractTableModel, Signal\n",
        "from PySide6 import QtCore\n",
        "from . import rpc\nfrom .transport import Transport\n",
        "from winbox_py.backend import session\n",
        "import winbox_py\n",
        "import viewsonic\n",
        "from winbox_py.qt import QtCore, Signal\n",
    ],
)
def test_backend_checker_accepts_qtcore_and_backend(source):
    assert forbidden_import_problems(source, "winbox_py.backend.models", BACKEND_FORBIDDEN) == []


def test_backend_checker_resolves_relative_imports_against_the_right_package():
    source = "from ..views import table\n"
    # in winbox_py/backend/__init__.py, '..' is winbox_py
    assert forbidden_import_problems(source, "winbox_py.backend", BACKEND_FORBIDDEN, is_package=True)
    # in winbox_py/backend/sub/mod.py, '..' is winbox_py.backend
    assert forbidden_import_problems(source, "winbox_py.backend.sub.mod", BACKEND_FORBIDDEN) == []


@pytest.mark.parametrize(
    "source",
    [
        "import winbox_py\n",
        "from winbox_py.backend import rpc\n",
        "def f():\n    import winbox_py.views\n",
    ],
)
def test_agent_checker_flags_the_desktop(source):
    assert forbidden_import_problems(source, "winbox_agent.daemon", AGENT_FORBIDDEN), source


@pytest.mark.parametrize(
    "source",
    [
        "match command:\n    case 'print':\n        pass\n",
        "try:\n    pass\nexcept* ValueError:\n    pass\n",
        "type Row = tuple[str, ...]\n",
        "def f(x: int | None) -> None:\n    pass\n",
        "def f() -> str | None:\n    pass\n",
        "class A:\n    size: int | None = None\n",
        "ok = isinstance(x, int | str)\n",
        "from dataclasses import dataclass\n@dataclass(slots=True)\nclass A:\n    x: int\n",
        "import dataclasses\n@dataclasses.dataclass(frozen=True, kw_only=True)\nclass A:\n    x: int\n",
        "pairs = list(zip(a, b, strict=True))\n",
    ],
)
def test_py39_checker_flags_newer_python(source):
    assert py39_problems(source), source


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations\ndef f(x: int | None) -> str | None:\n    pass\n",
        "from typing import Optional\ndef f(x: Optional[int]) -> list[str]:\n    return []\n",
        "if (n := len(a)) > 3:\n    pass\n",
        "flags = a | b\n",
        "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass A:\n    x: int\n",
        "ok = isinstance(x, (int, str))\n",
    ],
)
def test_py39_checker_accepts_python39(source):
    assert py39_problems(source) == []


def test_tree_walk_reports_a_bad_file_with_its_module_name(tmp_path):
    pkg = tmp_path / "winbox_agent" / "cli"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .. import store\n")
    (pkg / "shell.py").write_text("import os\n\ndef run():\n    import yaml\n")
    (tmp_path / "winbox_agent" / "__pycache__").mkdir()
    (tmp_path / "winbox_agent" / "__pycache__" / "junk.py").write_text("import yaml\n")
    files = list(python_files(tmp_path))
    assert [module_name(f, tmp_path) for f in files] == [
        ("winbox_agent", True),
        ("winbox_agent.cli", True),
        ("winbox_agent.cli.shell", False),
    ]
    problems = _check_tree(files, tmp_path, stdlib_only_problems)
    assert list(problems) == [pkg / "shell.py"]
    assert "line 4: imports yaml" in problems[pkg / "shell.py"][0]
