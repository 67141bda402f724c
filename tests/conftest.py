"""Session-wide test policy.

- Under CI (``WINBOX_REQUIRE_PRIVILEGED=1``) a test skipped for want of root,
  sshd or network namespaces (a skip reason starting with ``needs-privilege:``,
  see tests/support/skips.py) fails the run: those tests must run there.
- Every test must leave no child process behind (after a 2 s grace period).
- Qt runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import glob
import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.support.skips import PREFIX

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHILD_GRACE_SECONDS = 2.0

# "nodeid: reason" of every needs-privilege skip of this session
_privileged_skips: list[str] = []


def _require_privileged() -> bool:
    return os.environ.get("WINBOX_REQUIRE_PRIVILEGED") == "1"


# --- skips that CI does not accept --------------------------------------------


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def _note_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if reason.startswith(PREFIX):
        _privileged_skips.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _require_privileged() and _privileged_skips:
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _privileged_skips:
        return
    if _require_privileged():
        terminalreporter.section("tests that must run here but skipped", red=True, bold=True)
        terminalreporter.write_line(
            "WINBOX_REQUIRE_PRIVILEGED=1: these need root, sshd or network namespaces, "
            "which this machine must provide; failing the run."
        )
    else:
        terminalreporter.section("skipped for want of privileges", yellow=True)
    for line in _privileged_skips:
        terminalreporter.write_line(line)


# --- leaked child processes --------------------------------------------------


def _children() -> set[int]:
    """Pids of this process's live (not zombie) children."""
    pids: set[int] = set()
    files = glob.glob(f"/proc/{os.getpid()}/task/*/children")
    if files:
        for name in files:
            try:
                with open(name) as f:
                    pids.update(int(p) for p in f.read().split())
            except OSError:  # the thread ended meanwhile
                pass
    else:  # kernel without CONFIG_PROC_CHILDREN: scan every process's parent
        me = os.getpid()
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                pids.add(int(stat.split("/")[2]))
    return {p for p in pids if not _is_zombie(p)}


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True  # gone already


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        argv = "?"
    return f"pid {pid}: {argv[:200]}"


@pytest.fixture(autouse=True)
def no_leaked_children() -> Iterator[None]:
    """Fail a test that leaves child processes running."""
    before = _children()
    yield
    deadline = time.monotonic() + CHILD_GRACE_SECONDS
    while True:
        leaked = _children() - before
        if not leaked or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if leaked:
        described = [_describe(p) for p in sorted(leaked)]
        for pid in leaked:  # so that the next tests start clean
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pytest.fail(
            "test left child processes running:\n  " + "\n  ".join(described),
            pytrace=False,
        )
