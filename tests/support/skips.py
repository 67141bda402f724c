"""Skips for tests that need privileges the machine may not give.

Every skip here has a reason starting with ``needs-privilege:``. Under CI
(``WINBOX_REQUIRE_PRIVILEGED=1``) tests/conftest.py turns any such skip into a
failed run, so a test that needs root, sshd or network namespaces cannot pass
there by quietly not running.

Use them at the top of a test or fixture::

    def test_bridge_over_ssh(tmp_path):
        require_sshd()
        ...
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

PREFIX = "needs-privilege:"
SSHD = Path("/usr/sbin/sshd")


def _skip(why: str) -> None:
    pytest.skip(f"{PREFIX} {why}")


def require_root() -> None:
    """Skip unless running as root."""
    if os.geteuid() != 0:
        _skip(f"root (running as uid {os.geteuid()})")


@functools.cache
def _netns_problem() -> str | None:
    """Why network namespaces cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return f"network namespaces need root (running as uid {os.geteuid()})"
    ip = shutil.which("ip")
    if ip is None:
        return "network namespaces need 'ip' (iproute2)"
    name = f"winbox-probe-{secrets.token_hex(4)}"
    add = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True, timeout=30)
    if add.returncode != 0:
        return f"'ip netns add' failed: {add.stderr.strip() or add.returncode}"
    delete = subprocess.run([ip, "netns", "del", name], capture_output=True, text=True, timeout=30)
    if delete.returncode != 0:
        return f"'ip netns del {name}' failed: {delete.stderr.strip() or delete.returncode}"
    return None


def require_netns() -> None:
    """Skip unless network namespaces can be made (tried once per session)."""
    problem = _netns_problem()
    if problem is not None:
        _skip(problem)


def require_sshd() -> None:
    """Skip unless an OpenSSH server binary is installed."""
    if not SSHD.exists():
        _skip(f"an OpenSSH server ({SSHD} missing; apt-get install openssh-server)")
