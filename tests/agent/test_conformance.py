"""The shared RouterOS conformance cases pass against the agent's CLI.

Runs ../shared/conformance/run.py (beside the project) from the project root,
the way the cases are meant to be run, and reports its failures verbatim.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO.parent / "shared" / "conformance" / "run.py"


@pytest.mark.slow
def test_conformance_cases_pass():
    if not RUNNER.exists():
        pytest.skip("the shared conformance cases are not beside the project (%s missing)" % RUNNER)
    env = dict(os.environ)
    env.pop("WINBOX_AGENT_CMD", None)
    result = subprocess.run([sys.executable, str(RUNNER)], cwd=str(REPO), capture_output=True, text=True,
                            env=env, timeout=600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert summary.endswith(" 0 failed") and result.returncode == 0, (
        "conformance failures:\n%s%s" % (result.stdout, result.stderr))
