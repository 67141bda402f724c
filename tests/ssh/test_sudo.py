"""``--sudo``: the agent runs as root through ``sudo -n`` when the login is not root."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from winbox_py.backend.connect import connect
from winbox_py.backend.ssh import ConnectError

from tests.ssh.sshd import Client, require_junk_user

pytestmark = pytest.mark.sshd


def _require_sudo(client: Client) -> None:
    if not shutil.which("sudo") or not client.server.users:
        pytest.skip("needs-privilege: sudo installed and test users made as root (apt-get install sudo)")


def test_sudo_runs_the_agent_as_root(client: Client):
    _require_sudo(client)

    async def main():
        session = await connect(client.target(sudo=True), lambda h, f: True)
        try:
            return dict(session.facts)
        finally:
            await session.close()

    facts = asyncio.run(main())
    assert facts["user"] == "root"
    # sudo cleared the environment, but the agent still knows where the desktop is
    # (safe mode's connection check needs it)
    assert facts["ssh_connection"].split()[0] == "127.0.0.1"


def test_sudo_that_wants_a_password_is_reported(client: Client):
    _require_sudo(client)
    junk = require_junk_user(client.server)

    async def main():
        with pytest.raises(ConnectError) as info:
            await connect(client.target(junk, host=f"{junk.name}@{client.server.address}", sudo=True,
                                        state_dir=str(junk.home / client.state_name),
                                        agent_cache=str(junk.home / "agent-cache")), lambda h, f: True)
        return info.value

    error = asyncio.run(main())
    assert error.kind == "sudo-refused"
    assert "password is required" in error.message and "sudoers" in error.message
