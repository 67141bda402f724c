"""SSH connections to devices: ssh_config, host key checking, authentication.

Blocking (paramiko): connect.py runs it in a worker thread, never on the event
loop. What it does, in order:

1. :func:`resolve` the address the user typed through ``~/.ssh/config``
   (``HostName``, ``Port``, ``User``, ``IdentityFile``, ``ProxyCommand``);
   explicit values (``user@``, ``:port``, ``-i``) win over the file.
2. :func:`dial` a TCP socket with ``TCP_NODELAY`` (paramiko's many small
   packets otherwise wait for delayed acknowledgements: 3-4x slower connects).
3. Check the server's host key against two known-hosts files, OpenSSH style:
   the user's ``~/.ssh/known_hosts`` (read only: keys trusted through OpenSSH
   are trusted here too) and winbox-py's own ``~/.config/winbox-py/known_hosts``
   (where keys accepted in winbox-py are appended, plain host names). An
   unknown key goes to a :data:`HostKeyDecision` callback with its fingerprint
   (``SHA256:...`` as OpenSSH prints it); a key that differs from a known one
   for the same name and type is refused with OpenSSH's warning, never asked
   about; a ``@revoked`` key is refused.
4. Authenticate: key files given explicitly (``-i``, ``IdentityFile``), then
   the ssh-agent's keys, then the default ``~/.ssh/id_*`` files (only when no
   key file was given), then the password (falling back to
   keyboard-interactive).

Every failure is a :class:`ConnectError` whose ``kind`` says what went wrong
and whose message a person can act on.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import paramiko

from winbox_py.backend import paths

DEFAULT_PORT = 22
DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
USER_KNOWN_HOSTS = "~/.ssh/known_hosts"
SSH_CONFIG = "~/.ssh/config"

KINDS = (
    "invalid",            # the address, port or an option is malformed
    "unreachable",        # no TCP connection, or not an SSH server
    "host-key-changed",   # the device's key differs from the known one: refused
    "host-key-refused",   # unknown key, and the user (callback) said no
    "auth-refused",       # no key or password was accepted
    "key-file",           # a key file given cannot be read or decrypted
    "no-python",          # no usable python3 (>= 3.9, with the modules needed)
    "sudo-refused",       # --sudo asked for, but sudo -n would not run
    "agent-failed",       # the agent could not be started (loader error)
    "protocol",           # the agent started but the handshake failed
)

HostKeyDecision = Callable[[str, str], bool]
"""``decide(host, fingerprint) -> accept?`` for a key seen for the first time.

``host`` is the address as shown to the user (``host`` or ``host:port``,
``[v6]:port``); ``fingerprint`` is ``SHA256:<base64>`` like OpenSSH's.
"""


class ConnectError(Exception):
    """Connecting failed; ``kind`` (one of :data:`KINDS`) says how.

    Attributes:
        kind: what went wrong (also available as ``problem``, like RpcError).
        message: a sentence a person can act on.
        needs_password: for ``auth-refused``: the server takes a password and
            none was given (so asking for one may help).
        fingerprint: for host key problems, the server's key fingerprint.
    """

    def __init__(self, kind: str, message: str, *, needs_password: bool = False,
                 fingerprint: str | None = None):
        super().__init__(message)
        self.kind = kind if kind in KINDS else "agent-failed"
        self.message = message
        self.needs_password = needs_password
        self.fingerprint = fingerprint

    @property
    def problem(self) -> str:
        return self.kind

    @property
    def property(self) -> str | None:
        return None

    def __str__(self) -> str:
        return self.message


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's fingerprint of a public key: ``SHA256:`` + unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


# --- the address ---------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, after ``~/.ssh/config``.

    Attributes:
        alias: the host as the user typed it (what ssh_config matched).
        hostname: the name or address dialled.
        port: TCP port.
        user: login name.
        identity_files: key files to try first (``-i``, then ``IdentityFile``).
        proxy_command: ``ProxyCommand`` from ssh_config, if any.
    """

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    proxy_command: str | None = None

    @property
    def known_hosts_name(self) -> str:
        """The name under which known_hosts files list this host."""
        return self.hostname if self.port == DEFAULT_PORT else f"[{self.hostname}]:{self.port}"

    @property
    def display(self) -> str:
        """``host``, ``host:port`` or ``[v6]:port``, as shown to the user."""
        if self.port == DEFAULT_PORT:
            return self.hostname
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{host}:{self.port}"


def resolve(host: str, port: int | None = None, user: str | None = None,
            keyfile: str | None = None, config_path: str | None = None) -> Endpoint:
    """Apply ``~/.ssh/config`` (or ``config_path``) to an address.

    Raises ConnectError("invalid") for a malformed config file or port.
    """
    conf: dict = {}
    path = os.path.expanduser(config_path or SSH_CONFIG)
    if os.path.isfile(path):
        try:
            conf = dict(paramiko.SSHConfig.from_path(path).lookup(host))
        except Exception as exc:  # paramiko raises assorted errors for bad files
            raise ConnectError("invalid", f"{path}: cannot be read: {exc}") from exc
    hostname = conf.get("hostname") or host
    if port is None:
        try:
            port = int(conf.get("port", DEFAULT_PORT))
        except ValueError:
            raise ConnectError("invalid", f"{path}: Port {conf.get('port')!r} for {host} is not a number") from None
    if not 1 <= port <= 65535:
        raise ConnectError("invalid", f"port: {port} is out of range 1..65535")
    files: list[str] = []
    if keyfile:
        files.append(os.path.expanduser(keyfile))
    for name in conf.get("identityfile") or ():
        name = os.path.expanduser(name)
        if name not in files:
            files.append(name)
    proxy = conf.get("proxycommand")
    if proxy and proxy.strip().lower() == "none":
        proxy = None
    return Endpoint(alias=host, hostname=hostname, port=port,
                    user=user or conf.get("user") or getpass.getuser(),
                    identity_files=tuple(files), proxy_command=proxy)


# --- known hosts -----------------------------------------------------------


@dataclass(frozen=True)
class KnownKey:
    """One key line of a known_hosts file that names a given host."""

    path: str
    lineno: int
    keytype: str
    blob: bytes
    marker: str  # "" or "@revoked" ("@cert-authority" lines are not used)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _pattern_matches(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        try:
            _, _, salt, digest = pattern.split("|", 3)
            mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
        except (ValueError, binascii.Error):
            return False
    # OpenSSH patterns know only * and ? ("[host]:port" brackets are literal)
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower())
    return re.fullmatch(regex, name.lower()) is not None


def _host_field_matches(field: str, name: str) -> bool:
    matched = False
    for pattern in field.split(","):
        if pattern.startswith("!"):
            if _pattern_matches(pattern[1:], name):
                return False
        elif _pattern_matches(pattern, name):
            matched = True
    return matched


class KnownHosts:
    """The known-hosts files consulted, and the one accepted keys go to.

    Attributes:
        app_file: winbox-py's own file, where accepted keys are appended.
        user_files: files read but never written (the user's OpenSSH file).
    """

    def __init__(self, app_file: Path | None = None, user_files: Sequence[Path] | None = None):
        self.app_file = Path(app_file) if app_file else paths.config_dir() / "known_hosts"
        if user_files is None:
            user_files = [Path(os.path.expanduser(USER_KNOWN_HOSTS))]
        self.user_files = [Path(p) for p in user_files]

    def lookup(self, name: str) -> list[KnownKey]:
        """Every key (and revocation) recorded for ``name``, in file order."""
        found: list[KnownKey] = []
        for path in [*self.user_files, self.app_file]:
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for lineno, line in enumerate(lines, 1):
                fields = line.split()
                if not fields or fields[0].startswith("#"):
                    continue
                marker = ""
                if fields[0].startswith("@"):
                    marker, fields = fields[0], fields[1:]
                    if marker != "@revoked":
                        continue
                if len(fields) < 3 or not _host_field_matches(fields[0], name):
                    continue
                try:
                    blob = base64.b64decode(fields[2], validate=True)
                except (binascii.Error, ValueError):
                    continue
                found.append(KnownKey(str(path), lineno, fields[1], blob, marker))
        return found

    def add(self, name: str, key: paramiko.PKey) -> None:
        """Append ``name``'s key to the app's file (created 0600 in a 0700 dir)."""
        paths.ensure_private_dir(self.app_file.parent)
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        fd = os.open(self.app_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(line)


def check_host_key(known: KnownHosts, endpoint: Endpoint, key: paramiko.PKey,
                   decide: HostKeyDecision) -> None:
    """Accept ``key`` for ``endpoint`` or raise ConnectError.

    Known and equal: accepted. Revoked, or different from a known key of the
    same type: refused (``host-key-changed``). Unknown: ``decide`` is asked,
    and an accepted key is saved to the app's known_hosts file.
    """
    name = endpoint.known_hosts_name
    fp = fingerprint(key)
    blob = key.asbytes()
    entries = known.lookup(name)
    for e in entries:
        if e.marker == "@revoked" and e.blob == blob:
            raise ConnectError(
                "host-key-changed",
                f"The host key of {endpoint.display} ({key.get_name()} {fp}) is marked as revoked "
                f"in {e.path}:{e.lineno}. Refusing to connect.", fingerprint=fp)
    same_type = [e for e in entries if not e.marker and e.keytype == key.get_name()]
    if any(e.blob == blob for e in same_type):
        return
    if same_type:
        old = same_type[0]
        raise ConnectError(
            "host-key-changed",
            f"WARNING: THE HOST KEY OF {endpoint.display} HAS CHANGED! Someone could be eavesdropping "
            f"on you right now (man-in-the-middle attack), or the device's key was replaced. "
            f"It now offers {key.get_name()} {fp}; the key known in {old.path}:{old.lineno} is "
            f"{old.fingerprint}. Refusing to connect: if the change is expected, remove that line "
            f"and connect again.", fingerprint=fp)
    if not decide(endpoint.display, fp):
        raise ConnectError(
            "host-key-refused",
            f"The host key of {endpoint.display} ({key.get_name()} {fp}) is not known and was not "
            f"accepted.", fingerprint=fp)
    known.add(name, key)


def _prefer_known_key_types(transport: paramiko.Transport, entries: list[KnownKey]) -> None:
    """Ask first for a host key type we know for this host (as OpenSSH does)."""
    known = [e.keytype for e in entries if not e.marker]
    if not known:
        return
    opts = transport.get_security_options()
    available = list(opts.key_types)
    first: list[str] = []
    for keytype in known:
        candidates = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if keytype == "ssh-rsa" else [keytype]
        first += [c for c in candidates if c in available and c not in first]
    if first:
        opts.key_types = first + [k for k in available if k not in first]


# --- the connection --------------------------------------------------------


def dial(endpoint: Endpoint, timeout: float) -> socket.socket | paramiko.ProxyCommand:
    """A connected TCP socket (TCP_NODELAY) or a ProxyCommand to the device."""
    if endpoint.proxy_command:
        try:
            return paramiko.ProxyCommand(endpoint.proxy_command)
        except Exception as exc:
            raise ConnectError("unreachable", f"ProxyCommand for {endpoint.alias} failed: {exc}") from exc
    where = endpoint.display
    try:
        sock = socket.create_connection((endpoint.hostname, endpoint.port), timeout=timeout)
    except socket.gaierror as exc:
        raise ConnectError("unreachable", f"{endpoint.hostname}: unknown host name ({exc.strerror})") from exc
    except ConnectionRefusedError as exc:
        raise ConnectError("unreachable", f"{where}: connection refused (is an SSH server "
                                          f"listening on port {endpoint.port}?)") from exc
    except (socket.timeout, TimeoutError) as exc:
        raise ConnectError("unreachable", f"{where}: no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise ConnectError("unreachable", f"{where}: {exc.strerror or exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if QUICKACK is not None:
        sock = QuickAckSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    return sock


QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class QuickAckSocket(socket.socket):
    """A socket that re-arms TCP_QUICKACK before every read (Linux).

    sshd does not set TCP_NODELAY on sessions without a terminal, so its small
    writes wait for our acknowledgement, which Linux delays up to 40 ms; the
    kernel drops quick-ack mode again after a while, hence re-arming it.
    """

    def recv(self, *args):  # type: ignore[override]
        try:
            self.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        except OSError:
            pass
        return super().recv(*args)


def open_transport(endpoint: Endpoint, decide: HostKeyDecision, password: str | None = None, *,
                   known_hosts: KnownHosts | None = None, timeout: float = 15.0,
                   allow_agent: bool = True, look_for_keys: bool = True) -> paramiko.Transport:
    """An authenticated paramiko Transport to ``endpoint`` (blocking)."""
    known = known_hosts or KnownHosts()
    sock = dial(endpoint, timeout)
    try:
        transport = paramiko.Transport(sock)
    except Exception as exc:
        sock.close()
        raise ConnectError("unreachable", f"{endpoint.display}: {exc}") from exc
    try:
        _prefer_known_key_types(transport, known.lookup(endpoint.known_hosts_name))
        try:
            transport.start_client(timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectError(
                "unreachable", f"{endpoint.display}: the SSH handshake failed ({exc or 'connection closed'}); "
                f"is this an SSH server?") from exc
        check_host_key(known, endpoint, transport.get_remote_server_key(), decide)
        authenticate(transport, endpoint, password, allow_agent=allow_agent, look_for_keys=look_for_keys)
    except BaseException:
        transport.close()
        raise
    return transport


def _load_key(path: str, passphrase: str | None) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path, passphrase)
    except FileNotFoundError:
        raise ConnectError("key-file", f"key file {path}: no such file") from None
    except PermissionError:
        raise ConnectError("key-file", f"key file {path}: permission denied") from None
    except paramiko.PasswordRequiredException:
        raise ConnectError("key-file", f"key file {path} is encrypted: give its passphrase as the password") from None
    except (paramiko.SSHException, ValueError) as exc:
        raise ConnectError("key-file", f"key file {path}: not a usable private key ({exc})") from exc
    except OSError as exc:
        raise ConnectError("key-file", f"key file {path}: {exc.strerror or exc}") from exc


def _open_agent() -> paramiko.Agent | None:
    """The user's ssh-agent (SSH_AUTH_SOCK), or None."""
    if not os.environ.get("SSH_AUTH_SOCK"):
        return None
    try:
        return paramiko.Agent()
    except paramiko.SSHException:
        return None


def authenticate(transport: paramiko.Transport, endpoint: Endpoint, password: str | None, *,
                 allow_agent: bool = True, look_for_keys: bool = True) -> None:
    """Log in with keys, agent, then password; ConnectError if nothing works."""
    user = endpoint.user
    who = f"{user}@{endpoint.display}"
    try:
        transport.auth_none(user)
        return
    except paramiko.BadAuthenticationType as exc:
        allowed = list(exc.allowed_types)
    except paramiko.AuthenticationException:
        allowed = ["publickey", "password", "keyboard-interactive"]
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError("unreachable", f"{endpoint.display}: connection lost while logging in ({exc})") from exc

    tried: list[str] = []
    if "publickey" in allowed:
        for path in endpoint.identity_files:
            key = _load_key(path, password)
            tried.append(f"key {path}")
            allowed = _try_key(transport, user, key, allowed)
            if transport.is_authenticated():
                return
        agent = _open_agent() if allow_agent else None
        if agent is not None:
            try:
                keys = list(agent.get_keys())
                if keys:
                    tried.append(f"{len(keys)} ssh-agent key{'s' if len(keys) != 1 else ''}")
                for key in keys:
                    allowed = _try_key(transport, user, key, allowed)
                    if transport.is_authenticated():
                        return
            finally:
                agent.close()
        if look_for_keys and not endpoint.identity_files:
            for name in DEFAULT_KEY_FILES:
                path = os.path.expanduser(name)
                if not os.path.isfile(path):
                    continue
                try:
                    key = _load_key(path, password)
                except ConnectError:
                    continue  # an encrypted default key we cannot open: skip it, as ssh does
                tried.append(f"key {path}")
                allowed = _try_key(transport, user, key, allowed)
                if transport.is_authenticated():
                    return
    takes_password = "password" in allowed or "keyboard-interactive" in allowed
    if password is not None and takes_password:
        tried.append("password")
        try:
            transport.auth_password(user, password)
        except paramiko.AuthenticationException:
            pass
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise ConnectError("unreachable", f"{endpoint.display}: connection lost while logging in ({exc})") from exc
        if transport.is_authenticated():
            return
        raise ConnectError("auth-refused", f"{who}: permission denied: the password was refused "
                                           f"(tried {', '.join(tried)}).")
    what = ", ".join(tried) if tried else "nothing (no key files, no ssh-agent keys)"
    hint = " A password is needed." if takes_password and password is None else ""
    raise ConnectError("auth-refused",
                       f"{who}: permission denied (tried {what}; the server accepts "
                       f"{', '.join(allowed) or 'no method'}).{hint}",
                       needs_password=takes_password and password is None)


def _try_key(transport: paramiko.Transport, user: str, key, allowed: list[str]) -> list[str]:
    """One public key attempt; returns the methods still allowed."""
    try:
        remaining = transport.auth_publickey(user, key)
    except paramiko.BadAuthenticationType as exc:
        return list(exc.allowed_types)
    except paramiko.AuthenticationException:
        return allowed
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError("unreachable", f"connection lost while logging in ({exc})") from exc
    return list(remaining) if remaining else allowed
