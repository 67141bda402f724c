"""``winbox-agent cli``: run commands, a script on stdin, or an interactive shell."""

import json
import os
import sys
from typing import Any, List, Optional

from ..masking import mask_secrets
from .shell import CliError, Interpreter


def run(router: Any, command: Optional[str], json_mode: bool, stdin: Any = None,
        user: Optional[str] = None) -> int:
    """Run ``command`` (or stdin) as ``user`` (default: the account running
    the agent), with that login's rights (access.py)."""
    from ..access import owner_name
    from ..errors import RouterError
    stdin = stdin or sys.stdin
    _never_fail_to_print()
    try:
        as_user = router.login(user or owner_name(), _ssh_client_address())
    except RouterError as exc:
        sys.stderr.write("error: %s\n" % exc.message)
        return 1
    interp = Interpreter(as_user, out=_writer(), json_mode=json_mode)
    try:
        if command is not None:
            interp.run_script(command)
        elif stdin.isatty():
            return interactive(interp)
        else:
            interp.run_script(_read_script(stdin))
    except CliError as exc:
        if json_mode:
            sys.stderr.write(json.dumps({"error": exc.message, "line": exc.line}) + "\n")
        sys.stderr.write("error: %s\n" % exc)
        if exc.command:
            sys.stderr.write("  in: %s\n" % mask_secrets(exc.command))
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _never_fail_to_print() -> None:
    """Under a locale that cannot show every character (plain C, Latin-1),
    print what it cannot show as escapes instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _read_script(stdin: Any) -> str:
    """A script on stdin is UTF-8 text, whatever the locale says."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:
        return stdin.read()
    data = raw.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError("the script is not UTF-8 text (byte %d)" % exc.start) from None


def _ssh_client_address() -> Optional[str]:
    """The address an SSH login came from (``SSH_CONNECTION``), if any."""
    parts = os.environ.get("SSH_CONNECTION", "").split()
    return parts[0] if parts else None


def _writer():
    def out(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    return out


def interactive(interp: Interpreter) -> int:
    history: List[str] = []
    try:
        import readline  # noqa: F401  (line editing and history where available)
        # Ctrl-A then Q leaves a MetaROUTER console at once: it enters the line "\x01q"
        for key in ("q", "Q"):
            readline.parse_and_bind(r'"\C-a%s": "\C-e\C-u\C-v\C-aq\n"' % key)
    except ImportError:
        pass
    while True:
        try:
            line = input(interp.prompt())
        except EOFError:
            sys.stdout.write("\n")
            return 0
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            continue
        if not line.strip():
            continue
        history.append(line)
        try:
            interp.run_line(line)
        except CliError as exc:
            sys.stdout.write("failure: %s\n" % exc.message)
        except KeyboardInterrupt:
            sys.stdout.write("\n")
        except SystemExit:
            return 0
