"""What the privileged tests need is here (under CI these must run, not skip)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.skips import SSHD, require_netns, require_root, require_sshd


@pytest.mark.root
def test_root():
    require_root()
    assert os.geteuid() == 0


@pytest.mark.netns
def test_network_namespaces():
    require_netns()


@pytest.mark.sshd
def test_sshd_runs():
    require_sshd()
    # `sshd -V` prints the version and exits (OpenSSH 9.x)
    result = subprocess.run([str(SSHD), "-V"], capture_output=True, text=True, timeout=30)
    assert "OpenSSH" in result.stderr + result.stdout
