"""``winbox-py cli``: the router command language over the desktop's connection.

::

    winbox-py cli [user@]host[:port] [-i KEYFILE] [--accept-new-host-key]
                  [--password-stdin] [--sudo] [-c COMMAND]
    winbox-py cli --demo [-c COMMAND]

Connects exactly as the desktop does (:func:`winbox_py.backend.connect.connect`:
same SSH checks, same agent push) and runs each line through
``Session.cli``. With ``-c`` it runs that text; without it, a script read
from stdin when stdin is not a terminal, else an interactive shell with
RouterOS's prompt ``[user@identity] /path> ``. Lines ending in ``\\`` continue
on the next line. The first failing line stops a script with exit status 1;
a failed connection exits with 255 (as ssh does).

Passwords: ``--password-stdin`` reads one line from stdin (the rest, if any,
is the script); otherwise the keyring (credentials.py) is tried, and an
interactive terminal is asked when the device wants a password.
Host keys: an unknown key is accepted with ``--accept-new-host-key``, asked
about on a terminal, refused otherwise; a changed key is always refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import threading
from typing import Any, TextIO

from winbox_agent.cli.lexer import logical_lines

from winbox_py.backend.connect import ConnectTarget, connect, parse_address
from winbox_py.backend.ssh import ConnectError

EXIT_FAILED = 1
EXIT_CONNECT = 255
EXIT_INTERRUPTED = 130


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="winbox-py cli",
                                description="Run router commands on a device over SSH (as the desktop connects).")
    p.add_argument("address", nargs="?", help="[user@]host[:port], [IPv6]:port, or an ssh_config alias")
    p.add_argument("-i", dest="keyfile", metavar="KEYFILE", help="private key file to log in with")
    p.add_argument("-l", dest="user", metavar="USER", help="login name (overrides user@)")
    p.add_argument("-p", dest="port", type=int, metavar="PORT", help="SSH port (overrides :port)")
    p.add_argument("--accept-new-host-key", action="store_true",
                   help="accept and remember the device's host key if it is not known yet "
                        "(a changed key is refused all the same)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--sudo", action="store_true", help="run the agent through sudo -n when not logging in as root")
    p.add_argument("-c", dest="command", metavar="COMMAND", help="run these command lines and exit")
    p.add_argument("--driver", choices=("sim", "linux"), help="the agent's driver (default: the agent's own)")
    p.add_argument("--state-dir", metavar="DIR", help="the agent's state directory on the device")
    p.add_argument("--no-agent-cache", action="store_true", help="do not cache the agent on the device")
    p.add_argument("--demo", action="store_true", help="use the built-in demo router (a local agent), no SSH")
    return p


class Shell:
    """Runs lines on a session and prints like a RouterOS terminal.

    Attributes:
        session: the open Session.
        identity: the device's identity, for the prompt.
    """

    def __init__(self, session: Any, out: TextIO = sys.stdout, err: TextIO = sys.stderr):
        self.session = session
        self.out = out
        self.err = err
        self.identity = str(session.facts.get("identity") or "")

    def prompt(self) -> str:
        user = self.session.facts.get("user") or "admin"
        path = self.session.cli_path.strip("/")
        where = "/" + " ".join(path.split("/")) if path else ""
        return f"[{user}@{self.identity}] {where}> "

    async def refresh_identity(self) -> None:
        try:
            rows = await self.session.print("/system/identity")
            if rows:
                self.identity = rows[0].get("name", self.identity)
        except Exception:  # the prompt keeps the name it had
            pass

    async def run(self, line: str) -> None:
        text = await self.session.cli(line)
        if text:
            self.out.write(text if text.endswith("\n") else text + "\n")
            self.out.flush()

    async def script(self, text: str) -> int:
        """Run every line; stop at the first error (exit status 1)."""
        for number, line in logical_lines(text):
            try:
                await self.run(line)
            except ConnectError:
                raise
            except Exception as exc:
                self.err.write(f"failure: {_message(exc)} (line {number}: {line.strip()})\n")
                return EXIT_FAILED
        return 0

    async def interactive(self) -> int:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        await self.refresh_identity()
        while True:
            try:
                line = await _ask(self.prompt())
            except EOFError:
                self.out.write("\n")
                return 0
            if not line.strip():
                continue
            if line.strip() in ("/quit", "quit"):
                return 0
            try:
                await self.run(line)
            except ConnectError:
                raise
            except Exception as exc:
                if not getattr(self.session, "connected", True):
                    self.err.write(f"connection lost: {_message(exc)}\n")
                    return EXIT_CONNECT
                self.out.write(f"failure: {_message(exc)}\n")
            await self.refresh_identity()


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


async def _ask(prompt: str, secret: bool = False) -> str:
    """input() in a daemon thread, so the event loop (and the session's
    heartbeat) runs on while the user types."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def read() -> None:
        try:
            result: Any = getpass.getpass(prompt) if secret else input(prompt)
            error = None
        except BaseException as exc:  # EOFError, KeyboardInterrupt
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(_settle, future, result, error)
        except RuntimeError:
            pass

    threading.Thread(target=read, name="cli-input", daemon=True).start()
    return await future


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(EOFError() if isinstance(error, KeyboardInterrupt) else error)
    else:
        future.set_result(result)


def _host_key_decider(accept_new: bool, err: TextIO):
    async def decide(host: str, fingerprint: str) -> bool:
        if accept_new:
            err.write(f"Warning: permanently added {host} ({fingerprint}) to the list of known hosts.\n")
            return True
        if sys.stdin.isatty():
            err.write(f"The authenticity of host {host} can't be established.\n"
                      f"Its key fingerprint is {fingerprint}.\n")
            try:
                answer = await _ask("Are you sure you want to continue connecting (yes/no)? ")
            except EOFError:
                return False
            return answer.strip().lower() == "yes"
        err.write(f"The host key of {host} ({fingerprint}) is not known: use --accept-new-host-key, "
                  f"or connect once from a terminal to confirm it.\n")
        return False
    return decide


async def _open(args: argparse.Namespace, password: str | None, err: TextIO) -> Any:
    if args.demo:
        from winbox_py.backend.session import Session
        return await Session.open_local(state_dir=args.state_dir, driver=args.driver or "sim")
    target = ConnectTarget(host=args.address, user=args.user, port=args.port, keyfile=args.keyfile,
                           sudo=args.sudo, driver=args.driver, state_dir=args.state_dir,
                           agent_cache="off" if args.no_agent_cache else "auto")
    decide = _host_key_decider(args.accept_new_host_key, err)
    if password is None:
        password = _saved_password(target)
    try:
        return await connect(target, decide, password)
    except ConnectError as exc:
        if exc.kind == "auth-refused" and exc.needs_password and sys.stdin.isatty():
            endpoint = target.endpoint()
            try:
                password = await _ask(f"{endpoint.user}@{endpoint.display}'s password: ", secret=True)
            except EOFError:
                raise exc from None
            return await connect(target, decide, password)
        raise


def _saved_password(target: ConnectTarget) -> str | None:
    """The password the desktop saved in the keyring for this router, if any."""
    try:
        from winbox_py.backend.credentials import Credentials

        endpoint = target.endpoint()
        creds = Credentials()
        # saved under the address as typed in the login window, or as shown
        for address in dict.fromkeys([target.host.rpartition("@")[2], endpoint.display]):
            password = creds.get(address, endpoint.user)
            if password is not None:
                return password
        return None
    except Exception:
        return None


async def run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    password = None
    script: str | None = args.command
    if args.password_stdin:
        first = stdin.readline()
        if not first:
            err.write("winbox-py cli: --password-stdin: stdin is empty\n")
            return EXIT_FAILED
        password = first.rstrip("\r\n")
    if script is None and not stdin.isatty():
        script = stdin.read()
    try:
        session = await _open(args, password, err)
    except ConnectError as exc:
        err.write(f"winbox-py cli: {exc.message}\n")
        return EXIT_CONNECT
    except Exception as exc:
        err.write(f"winbox-py cli: cannot connect: {_message(exc)}\n")
        return EXIT_CONNECT
    shell = Shell(session, out, err)
    try:
        if script is not None:
            return await shell.script(script)
        return await shell.interactive()
    finally:
        await session.close()


def _utf8_streams() -> None:
    """Scripts are UTF-8 (a byte order mark is skipped) whatever the locale,
    and output never fails on a character the terminal cannot show."""
    settings = [(sys.stdout, {"errors": "backslashreplace"}), (sys.stderr, {"errors": "backslashreplace"})]
    if not sys.stdin.isatty():
        settings.append((sys.stdin, {"encoding": "utf-8-sig", "errors": "strict"}))
    for stream, options in settings:
        try:
            stream.reconfigure(**options)
        except (AttributeError, ValueError, OSError):
            pass


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.demo and not args.address:
        parser().error("give the router's address ([user@]host[:port]) or --demo")
    if args.address:
        try:
            parse_address(args.address)
        except ConnectError as exc:
            parser().error(exc.message)
    _utf8_streams()
    try:
        return asyncio.run(run(args, sys.stdin, sys.stdout, sys.stderr))
    except UnicodeDecodeError as exc:
        sys.stderr.write(f"winbox-py cli: stdin is not UTF-8 text ({exc.reason} at byte {exc.start})\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
