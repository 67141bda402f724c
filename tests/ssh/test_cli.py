"""``winbox-py cli`` as a user runs it, against the real sshd."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.ssh.sshd import Client, require_password_login

pytestmark = pytest.mark.sshd


def _cli(client: Client, *args: str, stdin: str = "", user: str | None = None) -> subprocess.CompletedProcess:
    user = user or client.server.plain.name
    argv = [sys.executable, "-m", "winbox_py", "cli", f"{user}@{client.server.address}",
            "--driver", "sim", "--state-dir", str(client.server.plain.home / client.state_name), *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)


def test_one_command_with_a_key_accepting_the_new_host_key(client: Client):
    result = _cli(client, "-i", str(client.server.key), "--accept-new-host-key", "-c", "/system identity print")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "name: MikroTik"
    assert "permanently added" in result.stderr
    assert client.known_hosts.app_file.exists()
    # known now: no flag needed, and nothing said about the key
    again = _cli(client, "-i", str(client.server.key), "-c", "/system identity print")
    assert again.returncode == 0 and again.stdout.strip() == "name: MikroTik"
    assert "permanently added" not in again.stderr


def test_unknown_host_key_without_the_flag_is_refused(client: Client):
    result = _cli(client, "-i", str(client.server.key), "-c", "/system identity print")
    assert result.returncode == 255
    assert "--accept-new-host-key" in result.stderr and "SHA256:" in result.stderr
    assert result.stdout == ""


def test_a_script_on_stdin_stops_at_the_first_error_with_status_1(client: Client):
    client.trust_server()
    script = ("/system identity set name=scripted\n"
              "/ip address add address=10.9.9.1/24 \\\n    interface=ether1\n"
              "/ip address add address=10.9.9.300/24 interface=ether1\n"
              "/system identity set name=never\n")
    result = _cli(client, "-i", str(client.server.key), stdin=script)
    assert result.returncode == 1
    assert "failure:" in result.stderr and "line 4" in result.stderr and "10.9.9.300" in result.stderr
    check = _cli(client, "-i", str(client.server.key), "-c", "/system identity print\n/ip address print terse")
    assert check.returncode == 0, check.stderr
    assert "name: scripted" in check.stdout and "10.9.9.1/24" in check.stdout


def test_password_from_stdin(client: Client):
    user = require_password_login(client.server)
    client.trust_server()
    result = _cli(client, "--password-stdin", stdin=user.password + "\n/system identity print\n")
    assert result.returncode == 0, result.stderr
    assert "name: MikroTik" in result.stdout
    wrong = _cli(client, "--password-stdin", "-c", "/system identity print", stdin="wrong\n")
    assert wrong.returncode == 255 and "password was refused" in wrong.stderr


def test_interactive_prompt_follows_the_menu_and_identity(client: Client):
    client.trust_server()
    argv = [sys.executable, "-m", "winbox_py", "cli", f"{client.server.plain.name}@{client.server.address}",
            "-i", str(client.server.key), "--driver", "sim",
            "--state-dir", str(client.server.plain.home / client.state_name)]
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""

    def expect(text: bytes, timeout: float = 60) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; output: {seen.decode(errors='replace')}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        assert text in seen, seen

    try:
        user = client.server.plain.name.encode()
        expect(b"[" + user + b"@MikroTik] > ")
        os.write(master, b"/ip address\r")
        expect(b"[" + user + b"@MikroTik] /ip address> ")
        os.write(master, b"/system identity set name=core1\r")
        expect(b"[" + user + b"@core1] /ip address> ")
        os.write(master, b"add address=10.0.0.300/24 interface=ether1\r")
        expect(b"failure: ")
        os.write(master, b"/quit\r")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_demo_needs_no_ssh(tmp_path):
    result = subprocess.run([sys.executable, "-m", "winbox_py", "cli", "--demo", "--state-dir", str(tmp_path / "st"),
                             "-c", "/interface print terse"], capture_output=True, text=True, timeout=120)
    try:
        assert result.returncode == 0, result.stderr
        assert "name=ether1" in result.stdout
    finally:
        _stop_local_daemon(tmp_path / "st")


def _stop_local_daemon(state_dir) -> None:
    """The demo's local daemon (started by this test) is detached: end it by pid."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if str(state_dir).encode() in cmd:
            try:
                os.kill(int(d), 9)
            except ProcessLookupError:
                pass


def test_bad_address_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "winbox_py", "cli", "admin@host:99999", "-c", "x"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "99999" in result.stderr and "1..65535" in result.stderr


def test_a_utf8_script_runs_under_the_c_locale(tmp_path):
    script = "\ufeff/system identity set name=\"réseau\"\n/system identity print\n".encode("utf-8")
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONIOENCODING="")
    try:
        result = subprocess.run([sys.executable, "-m", "winbox_py", "cli", "--demo", "--state-dir",
                                 str(tmp_path / "st")], input=script, capture_output=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert "name: réseau" in result.stdout.decode("utf-8", "backslashreplace") or \
            "name: r\\xe9seau" in result.stdout.decode("ascii", "backslashreplace")
        bad = subprocess.run([sys.executable, "-m", "winbox_py", "cli", "--demo", "--state-dir",
                              str(tmp_path / "st")], input=b"/system identity set name=\xff\n",
                             capture_output=True, timeout=120, env=env)
        assert bad.returncode == 1 and b"not UTF-8" in bad.stderr
    finally:
        _stop_local_daemon(tmp_path / "st")
