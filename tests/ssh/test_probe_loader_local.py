"""The probe script and the loader run directly here (no SSH): interpreter
choice across real Pythons of several versions, and the agent on Python 3.9."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from winbox_py.backend import bootstrap
from winbox_py.backend.ssh import ConnectError


def _python(version: str) -> str | None:
    """An interpreter of that version on this machine, if any."""
    found = shutil.which(f"python{version}")
    candidates = ([found] if found else []) + sorted(glob.glob(f"/root/.pyenv/versions/{version}*/bin/python{version}"))
    for path in candidates:
        try:
            out = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            continue
        if out == version:
            return path
    return None


def _probe_with(tmp_path: Path, pythons: dict[str, str], modules=None) -> bootstrap.Probe:
    """Run the probe under dash with a PATH holding just these interpreters."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, target in pythons.items():
        os.symlink(target, bindir / name)
    for tool in ("uname", "id", "readlink", "cat"):
        os.symlink(shutil.which(tool), bindir / tool)
    script = bootstrap.probe_script(modules if modules is not None else bootstrap.build_payload().modules)
    out = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=120,
                         env={"PATH": str(bindir), "HOME": str(tmp_path)}).stdout
    return bootstrap.parse_probe(out)


def test_the_newest_usable_python_is_picked(tmp_path):
    py39, py37 = _python("3.9"), _python("3.7")
    if not (py39 and py37):
        pytest.skip("needs Python 3.9 and 3.7 interpreters on this machine")
    probe = _probe_with(tmp_path, {"python3": py37, "python3.9": py39, "python3.11": "/usr/bin/python3.11"})
    assert probe.complete and probe.facts["os"] == "Linux"
    versions = {p.name: p.version[:2] for p in probe.pythons}
    assert versions == {"python3.11": (3, 11), "python3.9": (3, 9), "python3": (3, 7)}
    assert bootstrap.pick_python(probe, "dev").name == "python3.11"


def test_only_an_old_python_is_reported_with_its_version(tmp_path):
    py37 = _python("3.7")
    if not py37:
        pytest.skip("needs a Python 3.7 interpreter on this machine")
    probe = _probe_with(tmp_path, {"python3": py37})
    with pytest.raises(ConnectError) as info:
        bootstrap.pick_python(probe, "dev")
    assert info.value.kind == "no-python"
    assert "3.9 or newer" in info.value.message and "3.7." in info.value.message


def test_a_python_missing_modules_is_reported_naming_them(tmp_path):
    modules = list(bootstrap.build_payload().modules) + ["winbox_test_no_such_module"]
    probe = _probe_with(tmp_path, {"python3": "/usr/bin/python3.11"}, modules)
    assert probe.pythons[0].missing == ("winbox_test_no_such_module",)
    with pytest.raises(ConnectError) as info:
        bootstrap.pick_python(probe, "dev")
    assert info.value.kind == "no-python" and "winbox_test_no_such_module" in info.value.message


def test_the_agents_imports_are_found_without_site_packages(tmp_path):
    probe = _probe_with(tmp_path, {"python3": "/usr/bin/python3.11"})
    assert probe.pythons[0].missing == ()
    assert "json" in bootstrap.build_payload().modules  # the scan found the agent's imports


def test_the_pushed_agent_runs_on_python_39(tmp_path):
    py39 = _python("3.9")
    if not py39:
        pytest.skip("needs a Python 3.9 interpreter on this machine")
    payload = bootstrap.build_payload()
    argv = [py39, "-I", "-S", "-u", "-c", bootstrap.LOADER, str(len(payload.blob)), payload.sha256, "-",
            "--state-dir", str(tmp_path / "state"), "cli", "-c",
            "/system identity set name=py39\n/interface print terse\n/system identity print"]
    result = subprocess.run(argv, input=payload.blob, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert out.startswith("\0winbox-loader ok " + payload.sha256 + " -\n")
    assert "name=ether1" in out and "name: py39" in out


def test_payload_is_deterministic():
    bootstrap.build_payload.cache_clear()
    first = bootstrap.build_payload()
    bootstrap.build_payload.cache_clear()
    again = bootstrap.build_payload()
    assert first.source == again.source and first.sha256 == again.sha256
    assert first.blob == again.blob
