"""``winbox-agent install``: the agent's files and a systemd unit, written
into a directory tree (``--root``), from files or from a packed bundle."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

AGENT = Path(__file__).resolve().parents[2] / "agent"


def _agent(args, pythonpath, cwd):
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run([sys.executable, "-m", "winbox_agent"] + args, capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def _installed_agent_runs(root: Path, tmp_path: Path) -> None:
    prefix = root / "usr/local/lib/winbox-agent"
    assert (prefix / "winbox_agent/drivers/linux/core.py").exists()
    unit = (root / "etc/systemd/system/winbox-agent.service").read_text()
    assert "Environment=PYTHONPATH=/usr/local/lib/winbox-agent" in unit
    assert "ExecStart=%s -m winbox_agent --driver linux --state-dir /var/lib/winbox-agent daemon --idle-exit 0" % (
        sys.executable) in unit
    assert "WantedBy=multi-user.target" in unit
    # the installed copy runs on its own (nothing from the repository on its path)
    res = _agent(["--state-dir", str(tmp_path / "state"), "cli", "-c", "/system identity print"], prefix, tmp_path)
    assert res.returncode == 0 and "MikroTik" in res.stdout, res.stderr


def test_install_writes_the_agent_and_its_unit(tmp_path):
    root = tmp_path / "root"
    res = _agent(["install", "--root", str(root)], AGENT, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "winbox-agent.service" in res.stdout
    _installed_agent_runs(root, tmp_path)
    # the sources are the agent's own, byte for byte
    src = (AGENT / "winbox_agent/router.py").read_text()
    assert (root / "usr/local/lib/winbox-agent/winbox_agent/router.py").read_text() == src


def test_install_from_a_packed_agent_without_files(tmp_path):
    """Pushed agents have no files on the device: install reads the modules through their loader."""
    bundle = tmp_path / "agent.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        for path in (AGENT / "winbox_agent").rglob("*.py"):
            z.write(path, path.relative_to(AGENT).as_posix())
    root = tmp_path / "root"
    res = _agent(["install", "--root", str(root), "--no-start"], bundle, tmp_path)
    assert res.returncode == 0, res.stderr
    _installed_agent_runs(root, tmp_path)
