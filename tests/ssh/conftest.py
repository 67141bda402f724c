"""Fixtures of the SSH tests: ``sshd`` (a real OpenSSH server) and ``client``
(see sshd.py), and a check that no test leaves an SSH connection open."""

from __future__ import annotations

import threading
import time

import paramiko
import pytest

from tests.ssh.sshd import client, sshd  # noqa: F401  (pytest finds fixtures by name here)


@pytest.fixture(autouse=True)
def no_leaked_ssh_connections():
    """Fail a test that leaves a paramiko connection (and its thread) open."""
    before = {t for t in threading.enumerate() if isinstance(t, paramiko.Transport)}
    yield
    deadline = time.monotonic() + 3
    while True:
        still_open = [t for t in threading.enumerate()
                      if isinstance(t, paramiko.Transport) and t not in before and t.is_alive()]
        if not still_open or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for t in still_open:
        t.close()
    assert not still_open, f"test left {len(still_open)} SSH connection(s) open"
