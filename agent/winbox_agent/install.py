"""``winbox-agent install``: make the agent resident on a Linux router.

The agent is normally pushed over SSH at each connection and keeps nothing
on the device but its configuration.  Installed, it lives in
``/usr/local/lib/winbox-agent`` and a systemd unit runs its daemon at boot
(``--driver linux``), which applies the saved configuration to the system
before anyone connects and keeps serving desktops.

The agent's own source is written out module by module through its import
loader, so installing works the same whether the agent runs from files or
from the packed bundle the desktop pushes.  ``--root`` installs into a
directory tree instead of ``/`` (for packaging and tests) and never touches
systemd.
"""

import argparse
import importlib.util
import os
import pkgutil
import sys
from typing import List, Optional

from .errors import RouterError

UNIT_NAME = "winbox-agent.service"
PREFIX = "/usr/local/lib/winbox-agent"
UNIT_DIR = "/etc/systemd/system"
STATE_DIR = "/var/lib/winbox-agent"


def sources() -> List[tuple]:
    """(relative path, source text) of every module of the agent."""
    import winbox_agent
    out = [("winbox_agent/__init__.py", _source("winbox_agent"))]
    for info in pkgutil.walk_packages(winbox_agent.__path__, "winbox_agent."):
        rel = info.name.replace(".", "/") + ("/__init__.py" if info.ispkg else ".py")
        out.append((rel, _source(info.name)))
    return out


def _source(name: str) -> str:
    spec = importlib.util.find_spec(name)
    loader = spec.loader if spec else None
    text = loader.get_source(name) if loader is not None and hasattr(loader, "get_source") else None
    if text is None:
        raise RouterError("cannot read the source of %s to install it" % name, "general")
    return text


def unit_text(python: str, prefix: str, state_dir: str) -> str:
    return "\n".join([
        "[Unit]",
        "Description=winbox-py agent: applies the router configuration and serves desktops",
        "Documentation=https://github.com/winbox-py/winbox-py/blob/main/docs/linux-driver.md",
        "Wants=network-pre.target",
        "After=network-pre.target",
        "",
        "[Service]",
        "Type=simple",
        "Environment=PYTHONPATH=%s" % prefix,
        "ExecStart=%s -m winbox_agent --driver linux --state-dir %s daemon --idle-exit 0" % (python, state_dir),
        "Restart=on-failure",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def _under(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/")) if root != "/" else path


def install(prefix: str = PREFIX, unit_dir: str = UNIT_DIR, python: Optional[str] = None, root: str = "/",
            start: bool = True, state_dir: Optional[str] = None, out=print) -> int:
    """Write the agent and its unit; enable and start it (on a real root)."""
    from .drivers.linux.cmd import Host, write_file
    python = python or sys.executable or "/usr/bin/python3"
    state_dir = state_dir or STATE_DIR
    if " " in python or " " in prefix or " " in state_dir:
        raise RouterError("paths with spaces cannot go into the systemd unit", "argument")
    files = sources()
    base = _under(root, prefix)
    for rel, text in files:
        write_file(os.path.join(base, rel), text, 0o644)
    unit = os.path.join(_under(root, unit_dir), UNIT_NAME)
    write_file(unit, unit_text(python, prefix, state_dir), 0o644)
    out("installed %d modules in %s" % (len(files), base))
    out("wrote %s" % unit)
    if root != "/" or not start:
        return 0
    host = Host()
    if host.which("systemctl") is None:
        out("no systemctl here: start the daemon at boot with: PYTHONPATH=%s %s -m winbox_agent --driver linux "
            "--state-dir %s daemon --idle-exit 0" % (prefix, python, state_dir))
        return 0
    host.run(["systemctl", "daemon-reload"])
    host.run(["systemctl", "enable", "--now", UNIT_NAME])
    out("enabled and started %s" % UNIT_NAME)
    return 0


def main(args: argparse.Namespace, state_dir: Optional[str]) -> int:
    """``winbox-agent install`` with the command line's options."""
    try:
        return install(args.prefix or PREFIX, args.unit_dir or UNIT_DIR, args.python, args.root,
                       not args.no_start, state_dir)
    except RouterError as exc:
        sys.stderr.write("error: %s\n" % exc.message)
        return 1
    except OSError as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1
