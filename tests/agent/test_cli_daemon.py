"""``winbox-agent cli`` beside a running daemon goes through the daemon, so
neither side's changes are lost."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def agent(state: Path, *args: str, stdin: str = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "agent"))
    return subprocess.run([sys.executable, "-m", "winbox_agent", "--state-dir", str(state), *args],
                          input=stdin, capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def daemon(tmp_path):
    state = tmp_path / "state"
    r = agent(state, "daemon", "--detach")
    assert r.returncode == 0, r.stderr
    pid_file = state / "daemon.pid"
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text().split()[0])
    yield state, pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not _gone(pid):
        os.kill(pid, signal.SIGKILL)


def _gone(pid: int, seconds: float = 20) -> bool:
    """Whether process ``pid`` ends within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    if not _gone(pid):
        raise AssertionError("daemon did not stop")


def pools(state: Path) -> list:
    r = agent(state, "cli", "--json", "-c", "/ip pool print")
    assert r.returncode == 0, r.stderr
    return sorted(p["name"] for p in json.loads(r.stdout))


def test_changes_made_by_cli_while_the_daemon_runs_survive_the_daemon(daemon):
    state, pid = daemon
    assert agent(state, "cli", "-c", "/ip pool add name=first ranges=10.0.0.1-10.0.0.9").returncode == 0
    script = "/ip pool\nadd name=second ranges=10.0.1.1-10.0.1.9\n"
    assert agent(state, "cli", stdin=script).returncode == 0
    assert pools(state) == ["first", "second"]
    stop(pid)
    # the daemon wrote its configuration when it stopped: both CLI changes are in it
    assert pools(state) == ["first", "second"]


def test_errors_through_the_daemon_name_the_line_and_exit_non_zero(daemon):
    state, _ = daemon
    r = agent(state, "cli", stdin="/ip pool add name=a ranges=10.0.0.1-10.0.0.2\n/ip pool add name=a ranges=10.0.0.3-10.0.0.4\n")
    assert r.returncode == 1
    assert "line 2" in r.stderr and "name: a already exists" in r.stderr
    r = agent(state, "cli", "-c", "/metarouter add name=x memory-size=300")
    assert r.returncode == 1 and "memory-size: 300 is out of range 16..256" in r.stderr
