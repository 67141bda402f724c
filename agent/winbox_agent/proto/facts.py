"""What the agent says about itself and its device in ``init``."""

import os
import platform
import socket
from typing import Any, Dict

from .rendezvous import agent_hash  # noqa: F401  (re-exported)


def os_release() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith("PRETTY_NAME="):
                        return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            continue
    return "%s %s" % (platform.system(), platform.release())


def user_name(uid: int) -> str:
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def device_facts(router: Any) -> Dict[str, Any]:
    """hostname, OS, Python, driver, identity, user of the daemon's process."""
    try:
        identity = router.rows("/system/identity")[0].get("name", "")
    except Exception:
        identity = ""
    uid = os.getuid()
    return {
        "hostname": socket.gethostname(),
        "os": os_release(),
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "python": platform.python_version(),
        "driver": router.driver.name,
        "identity": identity,
        "uid": uid,
        "user": user_name(uid),
        "pid": os.getpid(),
    }
