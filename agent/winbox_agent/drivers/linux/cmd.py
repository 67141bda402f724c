"""The one place the linux driver runs external commands.

Every command is an argument list handed to ``subprocess`` without a shell,
so a name like ``a;rm -rf /`` is just a name.  Every command has a timeout.
A command that fails becomes a :class:`RouterError` of category ``driver``
carrying the command and what it printed on stderr; a command that is not
installed becomes :class:`Missing`, which the areas turn into an error on
the items that need it (the host cannot do that) rather than a refusal.

A :class:`Host` runs commands on this system, or inside a network namespace
(``ip netns exec NS ...``) for a MetaROUTER guest.
"""

import errno
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from typing import Any, Dict, List, Optional, Sequence

from ...errors import RouterError

DEFAULT_TIMEOUT = 20.0

#: the Debian package that provides each command, for error messages
PACKAGES = {
    "ip": "iproute2", "tc": "iproute2", "nft": "nftables", "wg": "wireguard-tools",
    "wireguard-go": "wireguard-go", "openvpn": "openvpn", "pppd": "ppp", "pppoe-discovery": "ppp",
    "pppoe-server": "pppoe", "xl2tpd": "xl2tpd", "pptp": "pptp-linux", "sstpc": "sstp-client",
    "sysctl": "procps", "openssl": "openssl", "systemctl": "systemd",
}


class Missing(Exception):
    """A command the host does not have (or a kernel feature it lacks).

    Attributes:
        reason: the sentence shown on the items that need it.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def shown(argv: Sequence[str]) -> str:
    """A command as a person would type it (for messages only, never run)."""
    return " ".join(shlex.quote(a) for a in argv)


def missing_command(name: str) -> Missing:
    pkg = PACKAGES.get(name)
    hint = " (Debian package %s)" % pkg if pkg else ""
    return Missing("the host has no %s command%s" % (name, hint))


class Host:
    """Runs commands on the system, or in a network namespace.

    Attributes:
        netns: the network namespace commands run in (None: this one).
        timeout: default seconds a command may take.
        ran: how many commands ran (for measurements).
    """

    def __init__(self, netns: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT):
        self.netns = netns
        self.timeout = timeout
        self.ran = 0

    # -- finding commands -------------------------------------------------------
    @staticmethod
    def which(name: str) -> Optional[str]:
        return shutil.which(name, path=os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin")

    def need(self, name: str) -> str:
        """The path of a command, or Missing."""
        path = self.which(name)
        if path is None:
            raise missing_command(name)
        return path

    def _argv(self, argv: Sequence[str]) -> List[str]:
        argv = [str(a) for a in argv]
        argv[0] = self.need(argv[0])
        if self.netns:
            return [self.need("ip"), "netns", "exec", self.netns] + argv
        return argv

    # -- running ------------------------------------------------------------------
    def _complete(self, full: List[str], input: Optional[str], limit: float) -> subprocess.CompletedProcess:
        """Run ``full`` (as _argv made it) to its end within ``limit`` seconds: its
        stdout and stderr as text, ``input`` (or nothing) on its stdin."""
        self.ran += 1
        return subprocess.run(full, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              universal_newlines=True, timeout=limit)

    def run(self, argv: Sequence[str], input: Optional[str] = None, timeout: Optional[float] = None,
            check: bool = True) -> str:
        """Run a command and return its stdout; raise RouterError when it fails."""
        full = self._argv(argv)
        limit = timeout or self.timeout
        try:
            res = self._complete(full, input, limit)
        except subprocess.TimeoutExpired:
            raise RouterError("`%s` did not finish within %g s" % (shown(argv), limit), "driver") from None
        except OSError as exc:
            raise RouterError("`%s` could not run: %s" % (shown(argv), exc.strerror or exc), "driver") from None
        if check and res.returncode != 0:
            raise CommandFailed(argv, res.returncode, res.stderr)
        return res.stdout

    def try_run(self, argv: Sequence[str], input: Optional[str] = None,
                timeout: Optional[float] = None) -> "Result":
        """Run a command and return its result whatever its exit status."""
        full = self._argv(argv)
        limit = timeout or self.timeout
        try:
            res = self._complete(full, input, limit)
        except subprocess.TimeoutExpired:
            return Result(124, "", "timed out after %g s" % limit)
        return Result(res.returncode, res.stdout, res.stderr)

    def json(self, argv: Sequence[str], timeout: Optional[float] = None) -> Any:
        out = self.run(argv, timeout=timeout)
        if not out.strip():
            return []
        try:
            return json.loads(out)
        except ValueError:
            raise RouterError("`%s` printed something that is not JSON" % shown(argv), "driver") from None

    # -- long-running programs -------------------------------------------------------
    def spawn(self, argv: Sequence[str], log_path: str, env: Optional[Dict[str, str]] = None) -> int:
        """Start a program in the background, detached from this process
        (its own session, output to ``log_path``); returns its pid."""
        full = self._argv(argv)
        environ = dict(os.environ)
        environ.update(env or {})
        self.ran += 1
        with open(log_path, "ab") as log:
            try:
                proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environ,
                                        start_new_session=True, close_fds=True)
            except OSError as exc:
                raise RouterError("`%s` could not start: %s" % (shown(argv), exc.strerror or exc),
                                  "driver") from None
        # the child outlives this process: nobody here will wait for it, and a
        # Popen object that is never waited for warns when collected
        proc.returncode = 0
        return proc.pid

    @staticmethod
    def alive(pid: Optional[int], name: Optional[str] = None) -> bool:
        """Whether process ``pid`` runs (and its command line mentions ``name``)."""
        if not pid:
            return False
        try:
            with open("/proc/%d/stat" % pid) as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    _reap(pid)
                    return False
            if name is None:
                return True
            with open("/proc/%d/cmdline" % pid, "rb") as fh:
                return name.encode() in fh.read()
        except (OSError, IndexError):
            return False

    def stop(self, pid: Optional[int], name: Optional[str] = None, wait: float = 3.0) -> None:
        """Stop a program this driver started (TERM, then KILL)."""
        if not self.alive(pid, name):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not self.alive(pid):
                return
            time.sleep(0.02)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        _reap(pid)

    # -- files of the system ----------------------------------------------------------
    def etc(self, name: str) -> str:
        """The path of a file under /etc as this host sees it (namespaced hosts
        have theirs under /etc/netns/NAME/, which ``ip netns exec`` binds)."""
        if self.netns:
            return os.path.join("/etc/netns", self.netns, name)
        return os.path.join("/etc", name)

    def sysctl(self, key: str, value: str) -> None:
        """Set a kernel parameter of this host's network namespace."""
        if self.netns:
            self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)])
            return
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as fh:
                fh.write(value)
        except OSError as exc:
            raise RouterError("cannot set %s: %s" % (key, exc.strerror or exc), "driver") from None

    def read_sysctl(self, key: str) -> Optional[str]:
        if self.netns:
            res = self.try_run(["sysctl", "-n", key])
            return res.out.strip() if res.code == 0 else None
        try:
            with open("/proc/sys/" + key.replace(".", "/")) as fh:
                return fh.read().strip()
        except OSError:
            return None


class Result:
    """What a command did: exit code, stdout, stderr."""

    __slots__ = ("code", "out", "err")

    def __init__(self, code: int, out: str, err: str):
        self.code = code
        self.out = out
        self.err = err


class CommandFailed(RouterError):
    """A command exited non-zero; the message quotes the command and its stderr.

    Attributes:
        argv: the command; code: its exit status; stderr: what it said.
    """

    def __init__(self, argv: Sequence[str], code: int, stderr: str):
        text = " ".join(line.strip() for line in (stderr or "").strip().splitlines()[-3:]) or "exit status %d" % code
        super().__init__("`%s` failed: %s" % (shown(argv), text), "driver")
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr or ""


def _reap(pid: int) -> None:
    """Collect a child of ours that exited (harmless for anyone else's)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError as exc:
        if exc.errno != errno.ECHILD:
            raise


def write_file(path: str, text: str, mode: int = 0o600) -> None:
    """Write a file the driver owns (configuration of a daemon), atomically."""
    from ...store import write_atomic
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    write_atomic(path, text.encode(), mode)
