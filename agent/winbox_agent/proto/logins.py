"""Who is on the other end of a connection, and what they may do.

The bridge's hello tells the daemon the account it runs as (``user``, the
SSH login) and, when it runs through ``sudo``, the person's own login
(``login``, from ``SUDO_USER``), plus ``SSH_CONNECTION``.  The daemon's
socket is readable only by its owner, so every peer already runs as that
account (or as root): the rights decided here are the RouterOS-style
``/user`` groups for accountability and safety, not a boundary against the
account itself.

- a login that is a ``/user`` item gets its group's policies (refused if
  the item is disabled or the address is not allowed: access.py);
- an account that runs as the daemon's own account (or ``root``/``admin``)
  and is not a ``/user`` item gets every policy;
- anyone else gets the ``read`` group.

Each connection then works through an :class:`~winbox_agent.access.UserRouter`
whose rights also ask safe mode (:mod:`.safemode`) about every change, so a
change from any path (an operation, a CLI line, an import, a command, an
undo) is checked in the one place the Router checks rights.
"""

import os
from typing import Any, Dict, Optional

from .. import access
from ..errors import RouterError


class GuardedRights(access.Rights):
    """A login's rights plus the device's safe mode.

    Attributes:
        conn: the connection these rights belong to.
        safemode: the SafeMode asked about every change.
    """

    def __init__(self, rights: access.Rights, conn: Any, safemode: Any):
        super().__init__(rights.user, rights.group, rights.policies)
        self.conn = conn
        self.safemode = safemode

    def check_change(self, path: str) -> None:
        super().check_change(path)
        if self.safemode is not None:
            self.safemode.check_write(self.conn, path)


def client_address(peer: Dict[str, Any]) -> Optional[str]:
    """The desktop's address from ``SSH_CONNECTION`` (None for a local pipe)."""
    parts = str(peer.get("ssh_connection") or "").split()
    return parts[0] if parts else None


def login_name(peer: Dict[str, Any]) -> str:
    return str(peer.get("login") or peer.get("user") or access.owner_name())


def rights_of(router: Any, peer: Dict[str, Any]) -> access.Rights:
    """The rights of the person behind ``peer`` (module docstring)."""
    login = login_name(peer)
    address = client_address(peer)
    is_user = any(it.get("name") == login for it in router.store.items("/user"))
    same_account = peer.get("uid") in (None, os.getuid(), 0)
    if not is_user and same_account:
        return access.Rights(login, "full", access.POLICIES)
    return access.rights_for(router, login, address)


def admit(hub: Any, conn: Any) -> Optional[str]:
    """Give ``conn`` its rights and router; the reason it is refused, or None."""
    try:
        rights = rights_of(hub.router, conn.peer)
        user = hub.router.login(rights.user, client_address(conn.peer))
    except RouterError as exc:
        return exc.message
    conn.rights = GuardedRights(rights, conn, getattr(hub, "safemode", None))
    conn.router = access.UserRouter(user.router, conn.rights)
    return None
