"""SSHTransport carries bytes untouched, both ways, with back-pressure."""

from __future__ import annotations

import asyncio
import os

import pytest

from winbox_py.backend import ssh
from winbox_py.backend.transport import Transport
from winbox_py.backend.transport_ssh import HIGH_WATER, SSHTransport

from tests.ssh.sshd import Client

pytestmark = pytest.mark.sshd


async def _exec(client: Client, command: str) -> SSHTransport:
    target = client.target()
    loop = asyncio.get_running_loop()
    conn = await loop.run_in_executor(None, lambda: ssh.open_transport(
        target.endpoint(), lambda h, f: True, known_hosts=target.known_hosts))
    chan = await loop.run_in_executor(None, conn.open_session)
    await loop.run_in_executor(None, chan.exec_command, command)
    return SSHTransport(chan, conn, "test")


def test_every_byte_value_round_trips_through_cat(client: Client):
    data = bytes(range(256)) * 64 + b"\r\n\x03\x04\x1a\x00\r" + os.urandom(3 * 1024 * 1024)

    async def main():
        t = await _exec(client, "cat")
        assert isinstance(t, Transport)

        async def send():
            for i in range(0, len(data), 200_000):
                t.writer.write(data[i:i + 200_000])
                await t.writer.drain()
                assert t.writer.pending <= HIGH_WATER
            t.writer.write_eof()

        sender = asyncio.ensure_future(send())
        echoed = await asyncio.wait_for(t.reader.read(), 120)
        await sender
        await asyncio.wait_for(t.wait_closed(), 10)
        return echoed, t.exit_status

    echoed, status = asyncio.run(main())
    assert echoed == data
    assert status == 0


def test_stderr_and_exit_status_are_kept_for_diagnostics(client: Client):
    async def main():
        t = await _exec(client, "echo out; echo 'something broke' >&2; exit 3")
        out = await asyncio.wait_for(t.reader.read(), 30)
        await asyncio.wait_for(t.wait_closed(), 10)
        return out, t

    out, t = asyncio.run(main())
    assert out == b"out\n"
    assert t.exit_status == 3 and t.diagnostics() == "something broke"


def test_close_does_not_hang_on_a_peer_that_stopped_reading(client: Client):
    async def main():
        t = await _exec(client, "sleep 60")
        t.writer.write(b"x" * (8 * 1024 * 1024))  # far more than the SSH window
        await asyncio.sleep(0.5)
        assert t.writer.pending > 0
        start = asyncio.get_running_loop().time()
        t.close()
        await asyncio.wait_for(t.wait_closed(), 15)
        return asyncio.get_running_loop().time() - start

    took = asyncio.run(main())
    assert took < 10
