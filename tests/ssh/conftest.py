"""Fixtures of the SSH tests: ``sshd`` (a real OpenSSH server) and ``client``; see sshd.py."""

from tests.ssh.sshd import client, sshd  # noqa: F401  (pytest finds fixtures by name here)

import threading
import time

import paramiko
import pytest


@pytest.fixture(autouse=True)
def no_leaked_ssh_connections():
    """Fail a test that leaves a paramiko connection (and its thread) open."""
    before = {t for t in threading.enumerate() if isinstance(t, paramiko.Transport)}
    yield
    deadline = time.monotonic() + 3
    while True:
        open_ = [t for t in threading.enumerate() if isinstance(t, paramiko.Transport) and t not in before
                 and t.is_alive()]
        if not open_ or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for t in open_:
        t.close()
    assert not open_, f"test left {len(open_)} SSH connection(s) open"
