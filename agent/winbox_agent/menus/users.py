"""/user, /user/group and /system/history.

Users and groups follow RouterOS (``/user``: name, group, address allowed
from, disabled, comment, last-logged-in; ``/user group``: name and policies,
factory groups ``read``, ``write`` and ``full``).  Here a user is an SSH login
of the device: the daemon (or ``cli --user``) maps the login name to its
group's policies; access.py holds the rules, including what a login that is
no /user item gets.  There are no passwords: logging in is SSH's business.

``/system history`` lists the recorded revisions, newest first, with what
each did and who did it; ``U`` marks the steps ``/undo`` can take back, ``R``
those ``/redo`` can do again (history.py).
"""

from ..access import FACTORY_GROUPS, POLICIES
from ..errors import RouterError
from ..schema import Flag, Prop, comment_prop, disabled_prop, menu, FLAG_DISABLED
from ..types import Bool, Flags, Int, ListOf, Name, Prefix, Ref, Str
from .system import LogTime, Timestamp


class GroupRef(Ref):
    """A user's group: a factory group by its name, another group by id."""

    def __init__(self):
        super().__init__("/user/group", words=tuple(FACTORY_GROUPS))


def _group_validate(router, view):
    factory = view.get(".factory")
    if not factory:
        return
    if view.get("name") != factory:
        raise RouterError("name: the default group %s cannot be renamed" % factory, "denied", "name")
    if list(view.get("policy") or []) != FACTORY_GROUPS.get(factory):
        raise RouterError("policy: the policies of the default group %s cannot be changed" % factory,
                          "denied", "policy")


menu("/user/group", [
    Prop("name", Name(), required=True, doc="Name of the group."),
    Prop("policy", Flags(*POLICIES), default=[],
         doc="What its users may do: read (print, monitor), write (change the configuration), policy "
             "(manage users), sensitive (see secrets), and the other RouterOS policies."),
    comment_prop(),
], factory=[{"name": g, "policy": list(p)} for g, p in FACTORY_GROUPS.items()], factory_key="name",
    validate=_group_validate, title="Groups", group="System", columns=["name", "policy", "comment"],
    flags=[Flag("*", "default", lambda i: bool(i.get(".factory")))],
    doc="User groups and their policies; the default groups read, write and full cannot be changed.")

menu("/user", [
    Prop("name", Name(), required=True, doc="The login name (the SSH user) this entry is for."),
    Prop("group", GroupRef(), required=True, doc="The group whose policies the user has."),
    Prop("address", ListOf(Prefix(None)), default=None,
         doc="Networks the user may log in from (empty: from anywhere)."),
    disabled_prop(),
    comment_prop(),
    Prop("last-logged-in", Timestamp(), readonly=True, tab="Status", doc="When the user last logged in."),
], title="Users", group="System", columns=["name", "group", "address", "last-logged-in"],
    flags=[FLAG_DISABLED],
    doc="Who may do what: each login gets its group's policies (not listed: root, admin and the agent's "
        "own account have full, others read).")

menu("/system/history", [
    Prop("time", LogTime(), readonly=True, doc="When the change was made."),
    Prop("action", Str(), readonly=True, doc="What it did (item added /ip address 10.0.0.1/24)."),
    Prop("by", Str(), readonly=True, doc="The user (or session) that made it."),
    Prop("revision", Int(), readonly=True, doc="The configuration revision it made."),
    Prop("undoable", Bool(), readonly=True, doc="Whether /undo can take it back now."),
    Prop("redoable", Bool(), readonly=True, doc="Whether /redo can do it again now."),
], readonly=True, source=lambda router: router.history.rows(), title="History", group="System",
    columns=["time", "action", "by", "revision"],
    flags=[Flag("U", "undoable", lambda i: bool(i.get("undoable"))),
           Flag("R", "redoable", lambda i: bool(i.get("redoable")))],
    doc="Changes made to the configuration, newest first; /undo and /redo work through them.")
