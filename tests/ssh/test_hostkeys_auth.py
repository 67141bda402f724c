"""Host key checking and authentication against a real sshd."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import subprocess

import pytest

from winbox_py.backend import ssh
from winbox_py.backend.connect import ConnectTarget, open_agent
from winbox_py.backend.ssh import ConnectError

from tests.ssh.sshd import Client, require_password_login

pytestmark = pytest.mark.sshd


def _server_fingerprint(client: Client) -> str:
    blob = base64.b64decode(client.server.host_key_pub.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _open(target: ConnectTarget, decide, password: str | None = None) -> ConnectError | None:
    """Connect and start the agent's ``version``; the ConnectError, or None."""
    async def main():
        try:
            opened = await open_agent(target, decide, password)
        except ConnectError as exc:
            return exc
        out = await asyncio.wait_for(opened.transport.reader.read(), 30)
        await opened.transport.wait_closed()
        assert out.strip() == b"winbox-agent 0.1.0"
        return None

    return asyncio.run(main())


def test_unknown_host_key_accepted_through_the_callback_is_saved(client: Client):
    asked = []

    async def decide(host, fingerprint):
        asked.append((host, fingerprint))
        await asyncio.sleep(0)  # a dialog would wait on the event loop here
        return True

    assert _open(client.target(agent_command="version"), decide) is None
    assert asked == [(client.server.address, _server_fingerprint(client))]
    saved = client.known_hosts.app_file.read_text()
    assert f"[127.0.0.1]:{client.server.port} ssh-ed25519 " in saved
    assert client.server.host_key_pub.split()[1] in saved
    assert oct(client.known_hosts.app_file.stat().st_mode & 0o777) == "0o600"
    # the next connect does not ask again
    assert _open(client.target(agent_command="version"), decide) is None
    assert len(asked) == 1


def test_unknown_host_key_refused_is_not_saved_and_nothing_runs(client: Client):
    error = _open(client.target(agent_command="version"), lambda host, fp: False)
    assert error is not None and error.kind == "host-key-refused"
    assert _server_fingerprint(client) in error.message
    assert not client.known_hosts.app_file.exists()


def test_key_known_through_openssh_known_hosts_is_trusted_without_asking(client: Client):
    keytype, blob = client.server.host_key_pub.split()[:2]
    (client.home / ".ssh" / "known_hosts").write_text(
        f"# made by ssh\n[127.0.0.1]:{client.server.port} {keytype} {blob}\n")

    def never(host, fp):
        raise AssertionError("asked about a known key")

    assert _open(client.target(agent_command="version"), never) is None
    assert not client.known_hosts.app_file.exists()


def test_hashed_known_hosts_entries_match(client: Client):
    keytype, blob = client.server.host_key_pub.split()[:2]
    path = client.home / ".ssh" / "known_hosts"
    path.write_text(f"[127.0.0.1]:{client.server.port} {keytype} {blob}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], check=True, capture_output=True, timeout=30)
    assert "127.0.0.1" not in path.read_text()
    assert _open(client.target(agent_command="version"), lambda h, f: False) is None


def test_changed_host_key_is_refused_without_asking(client: Client, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")],
                   check=True, capture_output=True, timeout=30)
    keytype, other_blob = (tmp_path / "other.pub").read_text().split()[:2]
    (client.home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{client.server.port} {keytype} {other_blob}\n")

    def never(host, fp):
        raise AssertionError("a changed key must not be offered for acceptance")

    error = _open(client.target(agent_command="version"), never)
    assert error is not None and error.kind == "host-key-changed"
    assert "HAS CHANGED" in error.message and _server_fingerprint(client) in error.message
    assert "known_hosts:1" in error.message
    assert not client.known_hosts.app_file.exists()


def test_changed_key_saved_in_the_app_file_is_refused_too(client: Client, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")],
                   check=True, capture_output=True, timeout=30)
    keytype, other_blob = (tmp_path / "other.pub").read_text().split()[:2]
    client.known_hosts.app_file.parent.mkdir(parents=True)
    client.known_hosts.app_file.write_text(f"[127.0.0.1]:{client.server.port} {keytype} {other_blob}\n")
    error = _open(client.target(agent_command="version"), lambda h, f: True)
    assert error is not None and error.kind == "host-key-changed"
    # the file keeps the old key: nothing was silently replaced
    assert other_blob in client.known_hosts.app_file.read_text()
    assert client.server.host_key_pub.split()[1] not in client.known_hosts.app_file.read_text()


def test_password_login(client: Client):
    user = require_password_login(client.server)
    client.trust_server()
    assert _open(client.target(keyfile=None, agent_command="version"), lambda h, f: False,
                 password=user.password) is None


def test_wrong_password_is_reported_clearly(client: Client):
    require_password_login(client.server)
    client.trust_server()
    error = _open(client.target(keyfile=None, agent_command="version"), lambda h, f: False,
                  password="not-the-password")
    assert error is not None and error.kind == "auth-refused"
    assert "password was refused" in error.message
    assert client.server.plain.name in error.message


def test_no_key_and_no_password_says_a_password_is_needed(client: Client):
    require_password_login(client.server)
    client.trust_server()
    error = _open(client.target(keyfile=None, agent_command="version"), lambda h, f: False)
    assert error is not None and error.kind == "auth-refused" and error.needs_password
    assert "password" in error.message


def test_key_from_ssh_config_identityfile_and_user(client: Client):
    client.trust_server()
    (client.home / ".ssh" / "config").write_text(
        f"Host testrouter\n  HostName 127.0.0.1\n  Port {client.server.port}\n"
        f"  User {client.server.plain.name}\n  IdentityFile {client.server.key}\n")
    target = client.target(host="testrouter", keyfile=None, agent_command="version")
    assert _open(target, lambda h, f: False) is None


def test_missing_key_file_is_named(client: Client):
    client.trust_server()
    error = _open(client.target(keyfile=str(client.home / "no-such-key"), agent_command="version"),
                  lambda h, f: False)
    assert error is not None and error.kind == "key-file" and "no-such-key" in error.message


def test_unreachable_port_is_reported(client: Client):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error = _open(client.target(host=f"127.0.0.1:{port}", agent_command="version"), lambda h, f: True)
    assert error is not None and error.kind == "unreachable" and "refused" in error.message


def test_not_an_ssh_server_is_reported(client: Client):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def talk():
        conn, _ = server.accept()
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        conn.close()

    t = threading.Thread(target=talk)
    t.start()
    try:
        error = _open(client.target(host=f"127.0.0.1:{server.getsockname()[1]}", agent_command="version"),
                      lambda h, f: True)
    finally:
        t.join(10)
        server.close()
    assert error is not None and error.kind == "unreachable" and "SSH" in error.message


def test_fingerprint_matches_ssh_keygen(client: Client, tmp_path):
    path = tmp_path / "host.pub"
    path.write_text(client.server.host_key_pub + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    import paramiko

    keytype, blob = client.server.host_key_pub.split()[:2]
    key = paramiko.PKey.from_type_string(keytype, base64.b64decode(blob))
    assert ssh.fingerprint(key) == out.split()[1]


def test_login_with_a_key_held_by_ssh_agent(client: Client, tmp_path, monkeypatch):
    client.trust_server()
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            import time

            time.sleep(0.05)
        env = {"SSH_AUTH_SOCK": str(sock), "PATH": "/usr/bin:/bin"}
        subprocess.run(["ssh-add", str(client.server.key)], env=env, check=True, capture_output=True, timeout=30)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        assert _open(client.target(keyfile=None, agent_command="version"), lambda h, f: False) is None
        # without the agent the same login has nothing to offer
        monkeypatch.delenv("SSH_AUTH_SOCK")
        error = _open(client.target(keyfile=None, agent_command="version"), lambda h, f: False)
        assert error is not None and error.kind == "auth-refused"
    finally:
        agent.terminate()
        agent.wait(10)
