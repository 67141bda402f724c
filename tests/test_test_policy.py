"""The test suite's own policy (tests/conftest.py) does what it promises."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A scratch project with this suite's conftest.py and support package."""
    shutil.copy(TESTS / "conftest.py", pytester.path / "conftest.py")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "__init__.py").write_text("")
    shutil.copytree(TESTS / "support", pytester.path / "tests" / "support", ignore=shutil.ignore_patterns("__pycache__"))
    return pytester


SKIPS = """
import pytest

def test_needs_privilege():
    pytest.skip("needs-privilege: pretend this machine has no sshd")

def test_other_skip():
    pytest.skip("not on this platform")

def test_ok():
    pass
"""


def test_privilege_skip_fails_the_run_when_required(suite, monkeypatch):
    suite.makepyfile(test_skips=SKIPS)
    monkeypatch.setenv("WINBOX_REQUIRE_PRIVILEGED", "1")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*tests that must run here but skipped*", "*test_needs_privilege: needs-privilege: pretend*"]
    )
    result.stdout.no_fnmatch_line("*test_other_skip: *")


def test_privilege_skip_is_only_listed_otherwise(suite, monkeypatch):
    suite.makepyfile(test_skips=SKIPS)
    monkeypatch.delenv("WINBOX_REQUIRE_PRIVILEGED", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*skipped for want of privileges*"])


def test_module_level_privilege_skip_counts_too(suite, monkeypatch):
    suite.makepyfile(
        test_module_skip="""
        import pytest
        pytest.skip("needs-privilege: root", allow_module_level=True)
        """
    )
    monkeypatch.setenv("WINBOX_REQUIRE_PRIVILEGED", "1")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_leaked_child_process_fails_the_test(suite):
    suite.makepyfile(
        test_leak="""
        import subprocess
        import warnings

        kept = []

        def test_leaks():
            kept.append(subprocess.Popen(["sleep", "60"]))

        def test_child_that_ends_in_time():
            kept.append(subprocess.Popen(["sleep", "0.3"]))

        def test_waits_for_its_child():
            subprocess.run(["true"], check=True)
        """
    )
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*test left child processes running*", "*sleep 60*"])
