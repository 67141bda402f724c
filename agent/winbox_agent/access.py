"""Who may do what: the rights of a login, and a router seen through them.

RouterOS gives every user a group and every group a set of policies; this
agent does the same with ``/user`` and ``/user/group`` (menus/users.py).  The
policies that matter here:

- ``read``: print, get, monitor, export (without secrets);
- ``write``: change the configuration (add, set, remove, undo, commands that
  change something);
- ``policy``: manage ``/user`` and ``/user/group``;
- ``sensitive``: see secrets (``show-sensitive``, ``get ... password``).

How a login name (the SSH user the daemon or ``cli --user`` is given) gets its
rights, first rule that applies:

1. the account the agent runs as (its owner: it owns the state files and could
   edit them anyway) gets every policy;
2. a name that is a ``/user`` item gets its group's policies, if the item is
   not disabled and, when it has an ``address`` list, the login comes from one
   of those prefixes (otherwise the login is refused);
3. ``root`` and ``admin`` get every policy;
4. anyone else gets the factory group ``read``.

:class:`UserRouter` is a router seen by one login: the same API, every call
that could change something runs under that login's :class:`Rights`, which
:class:`~winbox_agent.router.Router` checks in one place (``_commit``), so a
change a command makes on its own (``wg-import``) is checked too.  The rights
in force are a context variable, so concurrent asyncio tasks of the daemon
each keep their own.
"""

import contextlib
import contextvars
import ipaddress
import os
from typing import Any, Callable, FrozenSet, Iterator, Optional, Sequence

from .errors import RouterError

POLICIES = ("local", "telnet", "ssh", "ftp", "reboot", "read", "write", "policy", "test", "winbox",
            "password", "web", "sniff", "sensitive", "api", "romon", "rest-api")
_READ = ("local", "telnet", "ssh", "reboot", "read", "test", "winbox", "password", "web", "sniff", "api",
         "romon", "rest-api")
#: The factory groups and their policies, as RouterOS ships them.
FACTORY_GROUPS = {
    "read": [p for p in POLICIES if p in _READ],
    "write": [p for p in POLICIES if p in _READ + ("write",)],
    "full": list(POLICIES),
}
#: Menus whose changes need the ``policy`` policy besides ``write``.
POLICY_MENUS = ("/user", "/user/group")
#: Commands that change nothing: ``read`` is enough.
READ_COMMANDS = ("monitor", "monitor-traffic", "scan")
#: Commands that show secrets: ``sensitive`` is needed besides ``read``.
SENSITIVE_COMMANDS = ("show-client-config",)
#: Logins that get every policy unless they are /user items.
PRIVILEGED_LOGINS = ("root", "admin")


def _words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


class Rights:
    """What one login may do.

    Attributes:
        user: the login name (recorded as "by" in the history).
        group: the group the policies come from (``full`` for the owner).
        policies: the policies granted.
    """

    def __init__(self, user: str, group: str, policies: Sequence[str]):
        self.user = user
        self.group = group
        self.policies: FrozenSet[str] = frozenset(policies)

    def __repr__(self) -> str:
        return "Rights(%r, %r)" % (self.user, self.group)

    def may(self, policy: str) -> bool:
        return policy in self.policies

    def _who(self) -> str:
        return "user %s (group %s)" % (self.user, self.group)

    def check_read(self) -> None:
        if not self.may("read"):
            raise RouterError("not enough rights: %s may not read the configuration" % self._who(), "denied")

    def check_change(self, path: str) -> None:
        """Refuse a change of ``path`` this login may not make."""
        if not self.may("write"):
            raise RouterError("not enough rights: %s may not change %s" % (self._who(), _words(path)), "denied")
        if path in POLICY_MENUS and not self.may("policy"):
            raise RouterError("not enough rights: %s may not change %s (it needs the policy policy)" % (
                self._who(), _words(path)), "denied")

    def check_command(self, path: str, name: str) -> None:
        """Refuse a menu command this login may not run."""
        if name in SENSITIVE_COMMANDS:
            self.check_read()
            self.check_sensitive(name)
        elif name in READ_COMMANDS:
            self.check_read()
        elif not self.may("write"):
            raise RouterError("not enough rights: %s may not run %s %s" % (self._who(), _words(path), name),
                              "denied")

    def check_sensitive(self, what: str = "show-sensitive", prop: Optional[str] = None) -> None:
        """Refuse to show secrets (``what`` asked for them) without ``sensitive``."""
        if not self.may("sensitive"):
            raise RouterError("not enough rights: %s may not see sensitive values (%s)" % (self._who(), what),
                              "denied", prop)


FULL_ACCESS = Rights("", "full", POLICIES)

_ACTING: "contextvars.ContextVar[Optional[Rights]]" = contextvars.ContextVar("winbox_agent_rights", default=None)


def current() -> Optional[Rights]:
    """The rights in force, or None: the router itself (factory, drivers, tests)."""
    return _ACTING.get()


@contextlib.contextmanager
def acting(rights: Optional[Rights]) -> Iterator[None]:
    """Run what is inside with ``rights`` in force."""
    token = _ACTING.set(rights)
    try:
        yield
    finally:
        _ACTING.reset(token)


def owner_name() -> str:
    """The login name of the account this process runs as."""
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER") or str(os.geteuid())


def group_policies(router: Any, group: Any) -> Sequence[str]:
    """The policies of a group reference (a factory group's name or an item id)."""
    for it in router.store.items("/user/group"):
        if it[".id"] == group or it.get(".factory") == group or it.get("name") == group:
            return it.get("policy") or []
    return FACTORY_GROUPS.get(group, [])


def rights_for(router: Any, login: str, address: Optional[str] = None) -> Rights:
    """The rights of ``login`` (see the module's rules); RouterError "denied"
    when the login is a disabled user or comes from an address not allowed."""
    if login == owner_name():
        return Rights(login, "full", POLICIES)
    for it in router.store.items("/user"):
        if it.get("name") != login:
            continue
        if it.get("disabled"):
            raise RouterError("user %s is disabled" % login, "denied")
        allowed = it.get("address") or []
        if allowed and address is not None and not _from(address, allowed):
            raise RouterError("user %s may not log in from %s" % (login, address), "denied")
        group = it.get("group") or "read"
        return Rights(login, router.name_of(group) if str(group).startswith("*") else str(group),
                      group_policies(router, group))
    if login in PRIVILEGED_LOGINS:
        return Rights(login, "full", POLICIES)
    return Rights(login, "read", group_policies(router, "read"))


def _from(address: str, allowed: Sequence[str]) -> bool:
    try:
        addr = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    for prefix in allowed:
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            return True
    return False


#: Router methods that may change something: run under the login's rights.
GUARDED = ("add", "set", "unset", "remove", "enable", "disable", "comment", "move", "command",
           "undo", "redo")


class UserRouter:
    """A :class:`~winbox_agent.router.Router` as one login sees it.

    Reads pass through (secrets stay masked unless the login has the
    ``sensitive`` policy); calls that may change something run with the
    login's rights in force, so the router refuses what they do not allow.

    Attributes:
        router: the router underneath (shared by every login).
        rights: this login's :class:`Rights`.
    """

    def __init__(self, router: Any, rights: Rights):
        self.router = router
        self.rights = rights

    @property
    def user(self) -> str:
        return self.rights.user

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.router, name)
        if name in GUARDED and callable(value):
            return self._guarded(value)
        return value

    def _guarded(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kw: Any) -> Any:
            with acting(self.rights):
                return fn(*args, **kw)
        return call

    def format_row(self, m: Any, view: Any, sensitive: bool = False, proplist: Any = None) -> Any:
        return self.router.format_row(m, view, sensitive and self.rights.may("sensitive"), proplist)
