"""Connecting to a device: the one call the GUI and ``winbox-py cli`` make.

:func:`connect` parses the address, opens the SSH connection (ssh.py, in a
worker thread), starts the agent on the device (bootstrap.py) and runs the
protocol handshake (``Session.over``). The event loop is never blocked: the
host key question is asked through the ``decide_host_key`` coroutine on the
loop while the worker thread waits for the answer.

Addresses: ``host``, ``host:port``, ``user@host``, ``user@host:port``,
``[v6]``, ``[v6]:port``, a bare IPv6 address (``fe80::1``, no port), or an
alias of ``~/.ssh/config``.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Union

from winbox_py.backend import bootstrap, ssh
from winbox_py.backend.ssh import ConnectError

if TYPE_CHECKING:
    from winbox_py.backend.session import Session

HostKeyCallback = Callable[[str, str], Union[Awaitable[bool], bool]]

_HOST_RE = re.compile(r"^[A-Za-z0-9_.%-]+$")
_USER_RE = re.compile(r"^[^\s@:/]+$")


@dataclass(frozen=True)
class Address:
    """A parsed address: ``user`` and ``port`` are None when not given."""

    host: str
    port: int | None = None
    user: str | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and self.port else self.host
        text = f"{host}:{self.port}" if self.port else host
        return f"{self.user}@{text}" if self.user else text


def _port(text: str, address: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConnectError("invalid", f"address {address!r}: port {text!r} is not a number in 1..65535")
    return int(text)


def parse_address(text: str) -> Address:
    """``[user@]host[:port]`` (IPv6 in brackets when a port follows).

    Raises ConnectError("invalid") naming what is wrong.
    """
    address = text.strip()
    if not address:
        raise ConnectError("invalid", "address: empty; give a host name or IP address, e.g. 192.168.88.1")
    user = None
    if "@" in address:
        user, _, address = address.rpartition("@")
        if not _USER_RE.match(user):
            raise ConnectError("invalid", f"address {text!r}: {user!r} is not a valid user name")
    port = None
    if address.startswith("["):
        host, sep, rest = address[1:].partition("]")
        if not sep:
            raise ConnectError("invalid", f"address {text!r}: missing ']' after the IPv6 address")
        if rest:
            if not rest.startswith(":"):
                raise ConnectError("invalid", f"address {text!r}: unexpected {rest!r} after ']'")
            port = _port(rest[1:], text)
        _check_ipv6(host, text)
    elif address.count(":") > 1:
        host = address
        _check_ipv6(host, text)
    else:
        host, sep, port_text = address.partition(":")
        if sep:
            port = _port(port_text, text)
        if not host or not _HOST_RE.match(host):
            raise ConnectError("invalid", f"address {text!r}: {host!r} is not a host name or IP address")
    return Address(host=host, port=port, user=user)


def _check_ipv6(host: str, text: str) -> None:
    try:
        ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        raise ConnectError("invalid", f"address {text!r}: {host!r} is not an IPv6 address") from None


@dataclass
class ConnectTarget:
    """What to connect to and how.

    Attributes:
        host: the address as typed (see :func:`parse_address`).
        user: login name (overrides one in ``host``; default: ssh_config or
            the local user name).
        port: overrides one in ``host``.
        keyfile: a private key file to try first.
        sudo: run the agent through ``sudo -n`` when not logging in as root.
        driver: the agent's ``--driver`` (``sim`` or ``linux``; None: the
            agent's default).
        state_dir: the agent's ``--state-dir`` on the device (None: its default).
        agent_command: the agent subcommand speaking the protocol.
        agent_cache: ``auto``, ``off`` or a directory on the device.
        command_prefix: shell text before every remote command (tests).
        ssh_config: path of the ssh_config file (default ``~/.ssh/config``).
        known_hosts: which known_hosts files to use (default: see ssh.py).
        memory: what is remembered per device (default ``~/.cache/winbox-py``).
        timeout: seconds for each network step.
    """

    host: str
    user: str | None = None
    port: int | None = None
    keyfile: str | None = None
    sudo: bool = False
    driver: str | None = None
    state_dir: str | None = None
    agent_command: str = "bridge"
    agent_cache: str = "auto"
    command_prefix: str = ""
    ssh_config: str | None = None
    known_hosts: ssh.KnownHosts | None = None
    memory: bootstrap.HostMemory | None = None
    timeout: float = 15.0
    extra_agent_args: list[str] = field(default_factory=list)

    def agent_args(self) -> list[str]:
        args: list[str] = []
        if self.driver:
            args += ["--driver", self.driver]
        if self.state_dir:
            args += ["--state-dir", self.state_dir]
        return args + list(self.extra_agent_args) + [self.agent_command]

    def endpoint(self) -> ssh.Endpoint:
        address = parse_address(self.host)
        return ssh.resolve(address.host, port=self.port or address.port, user=self.user or address.user,
                           keyfile=self.keyfile, config_path=self.ssh_config)


@dataclass
class Opened:
    """An SSH connection with the agent started, before the handshake."""

    transport: Any  # SSHTransport
    endpoint: ssh.Endpoint
    started: bootstrap.Started


async def open_agent(target: ConnectTarget, decide_host_key: HostKeyCallback,
                     password: str | None = None) -> Opened:
    """SSH in and start the agent; returns its transport (no handshake yet)."""
    loop = asyncio.get_running_loop()
    endpoint = target.endpoint()

    def decide(host: str, fingerprint: str) -> bool:
        async def ask() -> bool:
            answer = decide_host_key(host, fingerprint)
            if inspect.isawaitable(answer):
                answer = await answer
            return bool(answer)
        return asyncio.run_coroutine_threadsafe(ask(), loop).result()

    def open_blocking():
        return ssh.open_transport(endpoint, decide, password, known_hosts=target.known_hosts,
                                  timeout=target.timeout)

    future = loop.run_in_executor(None, open_blocking)
    try:
        connection = await asyncio.shield(future)
    except asyncio.CancelledError:
        # the worker thread goes on: close what it opens
        future.add_done_callback(lambda f: f.cancelled() or f.exception() or f.result().close())
        raise
    options = bootstrap.AgentOptions(agent_args=target.agent_args(), sudo=target.sudo,
                                     cache=target.agent_cache, command_prefix=target.command_prefix)
    try:
        started = await bootstrap.start_agent(connection, endpoint, options, target.memory)
    except BaseException:
        connection.close()
        raise
    return Opened(started.transport, endpoint, started)


async def connect(target: ConnectTarget, decide_host_key: HostKeyCallback,
                  password: str | None = None) -> "Session":
    """An open Session to the device's agent over SSH.

    ``decide_host_key(host, fingerprint)`` (a coroutine function, or a plain
    function) is asked about a host key seen for the first time; a changed key
    is refused without asking. Raises :class:`ConnectError`.
    """
    from winbox_py.backend.session import Session

    opened = await open_agent(target, decide_host_key, password)

    async def reopen():
        again = await open_agent(target, _known_only, password)
        return again.transport

    try:
        return await _handshake(Session, opened, reopen)
    except ConnectError:
        raise
    except BaseException:
        opened.transport.close()
        raise


async def _known_only(host: str, fingerprint: str) -> bool:
    """On reconnect the key was accepted already: a new one is not asked about."""
    return False


async def _handshake(session_cls: Any, opened: Opened, reopen: Callable[[], Awaitable[Any]]) -> "Session":
    transport = opened.transport
    try:
        over = session_cls.over
        params = inspect.signature(over).parameters
        if "reopen" in params:
            return await over(transport, reopen=reopen)
        return await over(transport)
    except (asyncio.CancelledError, KeyboardInterrupt):
        transport.close()
        raise
    except Exception as exc:
        transport.close()
        await asyncio.wait_for(transport.wait_closed(), 5)
        tail = " | ".join(line.strip() for line in transport.stderr_lines()[-5:] if line.strip())
        detail = f"; the agent said: {tail}" if tail else ""
        raise ConnectError("protocol", f"{opened.endpoint.display}: the agent did not complete the "
                                       f"handshake ({exc}){detail}") from exc
