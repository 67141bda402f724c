"""State files and the daemon's socket are readable only by their owner,
whatever the umask: the configuration holds secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.cli.shell import Interpreter  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_py.backend.local import stop_daemon  # noqa: E402


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _open_to_others(root: Path) -> list[str]:
    return ["%s %o" % (p, _mode(p)) for p in [root, *root.rglob("*")] if _mode(p) & 0o077]


def test_state_files_are_readable_by_their_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        state = tmp_path / "state"
        r = Router(str(state), seed=1)
        sh = Interpreter(r, out=lambda text: None, base_dir=str(tmp_path))
        sh.run_script("/ppp secret add name=u password=Pw-File-1\n/metarouter add name=mr0\n"
                      '/metarouter console mr0 command="/system identity set name=guest"\n'
                      "/export show-sensitive file=backup")
        r.close()
    finally:
        os.umask(old)
    assert _mode(state) == 0o700
    assert {p.name for p in state.iterdir()} >= {"config.json", "sim.json"}
    assert _open_to_others(state) == []
    assert _mode(tmp_path / "backup.rsc") == 0o600          # it holds the password
    assert "Pw-File-1" in (tmp_path / "backup.rsc").read_text()


def test_the_daemon_socket_and_files_are_its_owners_only(tmp_path):
    state = tmp_path / "state"
    env = dict(os.environ, PYTHONPATH=str(REPO / "agent"))
    res = subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state), "daemon", "--detach",
                          "--idle-exit", "30"], env=env, capture_output=True, text=True, timeout=60,
                         preexec_fn=lambda: os.umask(0o022))
    try:
        assert res.returncode == 0, res.stderr
        sock = state / "agent.sock"
        deadline = time.monotonic() + 20
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stat.S_ISSOCK(sock.lstat().st_mode)
        assert _mode(sock) & 0o077 == 0
        assert _open_to_others(state) == []
    finally:
        stop_daemon(str(state))
