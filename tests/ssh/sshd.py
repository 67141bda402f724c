"""A real OpenSSH server on loopback for the SSH transport tests (fixtures in conftest.py).

``sshd`` (session scope) runs /usr/sbin/sshd in the foreground (``-D -e``) with
its own host key and config: a free port on 127.0.0.1, ``AuthorizedKeysFile``
pointing to a temporary file, ``StrictModes no``, a ``Banner`` (which goes to
the client's banner, not stdout), and password logins.

As root it creates two throw-away local users with a known password (removed
again at the end): ``plain`` with /bin/sh as login shell, and ``junk`` whose
login shell is a wrapper printing MOTD-like junk on stdout before running
/bin/sh, as some routers' shells do. Not as root, the server runs as the
current user (key logins only): password tests skip as ``needs-privilege:``.

``client`` (function scope) isolates the desktop side: HOME, XDG dirs,
known_hosts, ssh_config and the per-host memory all in a temporary folder,
no ssh-agent. After each test every process of the test users is killed (the
agent daemons a bridge started detach from sshd on purpose).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.skips import PREFIX, SSHD, require_sshd
from winbox_py.backend import bootstrap, ssh
from winbox_py.backend.connect import ConnectTarget

JUNK = "Welcome to the test router!\r\n\x1b[1mLast login: never\x1b[0m\n"


@dataclass
class SSHUser:
    """A login on the test server."""

    name: str
    uid: int
    home: Path
    password: str | None  # None when password logins are not possible


@dataclass
class SSHServer:
    """The running test sshd.

    Attributes:
        port: its TCP port on 127.0.0.1.
        plain, junk: the logins (junk's shell prints junk on stdout).
        key: the client private key authorized for both.
        host_key_pub: the server's public host key line.
        root: the temporary folder with config, keys and homes.
    """

    port: int
    plain: SSHUser
    junk: SSHUser | None
    key: Path
    host_key_pub: str
    root: Path
    process: subprocess.Popen
    log: Path
    users: list[SSHUser] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def _make_user(name: str, home: Path, shell: str, password: str) -> SSHUser:
    _run("useradd", "--no-create-home", "--home-dir", str(home), "--shell", shell,
         "--comment", "winbox-py test user", name)
    home.mkdir(mode=0o755)
    entry = pwd.getpwnam(name)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                   capture_output=True, timeout=60)
    return SSHUser(name, entry.pw_uid, home, password)


def kill_user_processes(uid: int) -> None:
    """Kill every process owned by ``uid`` (a throw-away test user)."""
    for _ in range(20):
        pids = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if d.stat().st_uid == uid and (d / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX":
                        pids.append(int(d.name))
                except (OSError, IndexError):
                    pass
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def remove_stale_test_users() -> None:
    """Users and sudoers files left by a test run that was killed: their home
    (a removed temporary folder) is gone."""
    for entry in pwd.getpwall():
        if (entry.pw_name.startswith(("wbxplain", "wbxjunk")) and entry.pw_gecos == "winbox-py test user"
                and entry.pw_dir.startswith(tempfile.gettempdir()) and not os.path.exists(entry.pw_dir)):
            kill_user_processes(entry.pw_uid)
            subprocess.run(["userdel", entry.pw_name], capture_output=True, timeout=60)
    for path in Path("/etc/sudoers.d").glob("winbox-test-*"):
        tag = path.name.rpartition("-")[2]
        try:
            pwd.getpwnam(f"wbxplain{tag}")
        except KeyError:
            path.unlink(missing_ok=True)


class SSHDFailed(RuntimeError):
    """The test sshd could not be started."""


@contextlib.contextmanager
def running_sshd() -> Iterator[SSHServer]:
    """Start the test server (see the module docstring); stop it and remove
    its users and files on exit. Usable outside pytest (bench/)."""
    root = Path(tempfile.mkdtemp(prefix="winbox-sshd-"))
    root.chmod(0o755)
    is_root = os.geteuid() == 0
    users: list[SSHUser] = []
    cleanup: list[Path] = []
    process = None
    try:
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-host", "-f", str(root / "host_ed25519"))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-client", "-f", str(root / "client_key"))
        authorized = root / "authorized_keys"
        shutil.copy(root / "client_key.pub", authorized)
        authorized.chmod(0o644)
        (root / "banner").write_text("*** authorized use only (pre-login banner) ***\n")
        junk_shell = root / "junk-shell"
        junk_shell.write_text("#!/bin/sh\nprintf '%s'\nexec /bin/sh \"$@\"\n" % JUNK.replace("\x1b", "\\033"))
        junk_shell.chmod(0o755)
        if is_root:
            remove_stale_test_users()
            tag = secrets.token_hex(3)
            password = "pw-" + secrets.token_hex(8)
            plain = _make_user(f"wbxplain{tag}", root / "plain", "/bin/sh", password)
            users.append(plain)
            junk = _make_user(f"wbxjunk{tag}", root / "junk", str(junk_shell), password)
            users.append(junk)
            if shutil.which("sudo"):
                # plain may run python as root without a password (--sudo tests); junk may not
                sudoers = Path(f"/etc/sudoers.d/winbox-test-{tag}")
                sudoers.write_text(f"{plain.name} ALL=(root) NOPASSWD: /usr/bin/python3*, /usr/local/bin/python3*\n")
                sudoers.chmod(0o440)
                cleanup.append(sudoers)
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
            allow = f"AllowUsers {plain.name} {junk.name}\n"
        else:
            me = pwd.getpwuid(os.getuid())
            plain = SSHUser(me.pw_name, me.pw_uid, Path(tempfile.mkdtemp(prefix="winbox-home-")), None)
            junk = None
            allow = f"AllowUsers {me.pw_name}\n"
        log = root / "sshd.log"
        for attempt in range(5):
            port = _free_port()
            config = root / "sshd_config"
            config.write_text(
                f"Port {port}\n"
                "ListenAddress 127.0.0.1\n"
                f"HostKey {root / 'host_ed25519'}\n"
                f"PidFile {root / 'sshd.pid'}\n"
                f"AuthorizedKeysFile {authorized}\n"
                "StrictModes no\n"
                "PubkeyAuthentication yes\n"
                f"PasswordAuthentication {'yes' if is_root else 'no'}\n"
                "KbdInteractiveAuthentication no\n"
                "UsePAM no\n"
                "PrintMotd no\n"
                "PrintLastLog no\n"
                f"Banner {root / 'banner'}\n"
                "LogLevel VERBOSE\n"
                "MaxStartups 100\n"
                "MaxSessions 100\n"
                + allow
            )
            logf = open(log, "ab")
            process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                       stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
            logf.close()
            deadline = time.monotonic() + 10
            up = False
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    up = True
                    break
                except OSError:
                    time.sleep(0.05)
            if up:
                break
            if process.poll() is None:
                process.kill()
            process.wait()
            process = None
        if process is None:
            raise SSHDFailed("sshd did not start:\n" + log.read_text(errors="replace")[-3000:])
        server = SSHServer(port=port, plain=plain, junk=junk, key=root / "client_key",
                           host_key_pub=(root / "host_ed25519.pub").read_text().strip(),
                           root=root, process=process, log=log, users=users)
        yield server
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for path in cleanup:
            path.unlink(missing_ok=True)
        kill_processes_mentioning(str(root))
        for user in users:
            kill_user_processes(user.uid)
            subprocess.run(["userdel", user.name], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def kill_processes_mentioning(text: str) -> None:
    """Kill processes whose command line contains ``text`` (a unique temporary
    path of ours: e.g. an agent daemon run as root through sudo)."""
    needle = text.encode()
    me = os.getpid()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == me:
            continue
        try:
            if needle in (d / "cmdline").read_bytes():
                os.kill(int(d.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


@pytest.fixture(scope="session")
def sshd() -> Iterator[SSHServer]:
    require_sshd()
    try:
        with running_sshd() as server:
            yield server
    except SSHDFailed as exc:
        pytest.fail(str(exc))


@dataclass
class Client:
    """The desktop side of a test: its own HOME, known_hosts and memory."""

    home: Path
    known_hosts: ssh.KnownHosts
    memory: bootstrap.HostMemory
    server: SSHServer
    state_name: str

    def target(self, user: SSHUser | None = None, **overrides) -> ConnectTarget:
        """A ConnectTarget for the test server, key login, sim driver."""
        user = user or self.server.plain
        values = dict(
            host=f"{user.name}@{self.server.address}",
            keyfile=str(self.server.key),
            driver="sim",
            state_dir=str(user.home / self.state_name),
            agent_cache=str(user.home / "agent-cache"),
            known_hosts=self.known_hosts,
            memory=self.memory,
            ssh_config=str(self.home / ".ssh" / "config"),
            timeout=20.0,
        )
        values.update(overrides)
        return ConnectTarget(**values)

    def trust_server(self) -> None:
        """Put the server's key in the app's known_hosts (as if accepted before)."""
        keytype, blob = self.server.host_key_pub.split()[:2]
        self.known_hosts.app_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.known_hosts.app_file, "a") as f:
            f.write(f"[127.0.0.1]:{self.server.port} {keytype} {blob}\n")


@pytest.fixture
def client(sshd: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    known = ssh.KnownHosts(app_file=home / ".config" / "winbox-py" / "known_hosts",
                           user_files=[home / ".ssh" / "known_hosts"])
    state_name = "state-" + secrets.token_hex(4)
    client_state = str(sshd.plain.home / state_name)
    yield Client(home=home, known_hosts=known, memory=bootstrap.HostMemory(home / ".cache" / "hosts.json"),
                 server=sshd, state_name=state_name)
    for user in sshd.users:
        kill_user_processes(user.uid)
    kill_processes_mentioning(client_state)
    for user in [sshd.plain, sshd.junk]:
        if user is not None:
            shutil.rmtree(user.home / "agent-cache", ignore_errors=True)


def require_password_login(server: SSHServer) -> SSHUser:
    """The plain user, if it can log in with a password here."""
    if server.plain.password is None:
        pytest.skip(f"{PREFIX} password logins need a local user made as root (running as uid {os.geteuid()})")
    return server.plain


def require_junk_user(server: SSHServer) -> SSHUser:
    if server.junk is None:
        pytest.skip(f"{PREFIX} a user with a junk-printing login shell needs root (uid {os.geteuid()})")
    return server.junk
