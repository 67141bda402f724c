"""The menu schema: one declaration per menu path.

The same declaration drives validation, the CLI parser, ``print``, ``export``,
the protocol's ``describe`` (and so the GUI's tables and dialogs) and the
generated ``docs/menus.md``.  Menu modules in :mod:`winbox_agent.menus` call
:func:`menu` to declare themselves; :data:`REGISTRY` holds them in
declaration order, which is also the order of ``export``.
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from .types import Bool, Str, ValueType


@dataclass
class Prop:
    """One property of a menu.

    Attributes:
        name: the RouterOS property name (``max-mtu``).
        type: its :class:`~winbox_agent.types.ValueType`.
        default: the canonical default value, or ``None`` for empty; a callable
            ``(router, item) -> value`` is evaluated once when an item is added.
        required: must be given on ``add``.
        readonly: reported by the router or driver, never set by a person.
        secret: masked unless ``show-sensitive`` is asked for.
        tab: the item dialog tab the GUI puts it on.
        unique: no two items of the menu may share the value.
        doc: one line from the reference documents.
    """

    name: str
    type: ValueType
    default: Any = None
    required: bool = False
    readonly: bool = False
    secret: bool = False
    tab: str = "General"
    unique: bool = False
    doc: str = ""

    def describe(self) -> Dict[str, Any]:
        d = {
            "name": self.name,
            "type": self.type.describe(),
            "default": None if callable(self.default) else self.type.format(self.default),
            "required": self.required,
            "readonly": self.readonly,
            "secret": self.secret,
            "tab": self.tab,
            "unique": self.unique,
            "doc": self.doc,
        }
        return d


@dataclass
class Flag:
    """A letter in the flags column: ``X`` disabled, ``R`` running, ``D`` dynamic."""

    letter: str
    meaning: str
    test: Callable[[Dict[str, Any]], bool]


@dataclass
class Command:
    """A menu command beyond the common ones (monitor, scan, renew, start...).

    Attributes:
        name: the command word.
        args: named arguments it takes (Props; ``required`` honoured).
        item: whether it takes an item (``monitor pppoe-out1``, ``start mr0``).
        stream: it produces rows over time (``monitor`` without ``once``).
        doc: one line for the reference.
    """

    name: str
    args: Sequence[Prop] = ()
    item: bool = False
    stream: bool = False
    doc: str = ""

    def describe(self) -> Dict[str, Any]:
        return {"name": self.name, "args": [a.describe() for a in self.args], "item": self.item,
                "stream": self.stream, "doc": self.doc}


FLAG_DISABLED = Flag("X", "disabled", lambda i: i.get("disabled") is True)
FLAG_DYNAMIC = Flag("D", "dynamic", lambda i: bool(i.get(".dynamic")))
FLAG_RUNNING = Flag("R", "running", lambda i: i.get("running") is True)
FLAG_INVALID = Flag("I", "invalid", lambda i: i.get("invalid") is True)


@dataclass
class Menu:
    """A menu path and everything about it.

    Attributes:
        path: ``/interface/pppoe-client``.
        props: the properties, in print order.
        single: a settings menu with exactly one item (``/ip dns``).
        readonly: items come from the router, not from people (``/ppp active``).
        can_add / can_remove: whether ``add`` / ``remove`` exist.
        interface_type: items of this menu are interfaces of this type.
        default_name: pattern for a generated name (``pppoe-out{n}``).
        factory: items present on a factory device; they cannot be removed
            unless ``factory_removable``.
        factory_key: property identifying a factory item in ``export``.
        columns: the default table columns.
        flags: the flags column.
        commands: commands beyond add/set/remove/print/...
        ordered: item order matters (firewall); ``move`` and ``place-before``.
        validate: ``(router, item) -> None`` cross-property checks raising RouterError.
        derive: ``(router, item) -> dict`` read-only values computed from config.
        source: ``(router) -> [item]`` for a listing computed from other menus
            (``/interface``) instead of stored items.
        title: the window title in the GUI; group: the GUI's menu tree branch.
        doc: one line for the reference.
    """

    path: str
    props: List[Prop]
    single: bool = False
    readonly: bool = False
    can_add: bool = True
    can_remove: bool = True
    interface_type: Optional[str] = None
    default_name: Optional[str] = None
    factory: List[Dict[str, str]] = field(default_factory=list)
    factory_removable: bool = False
    factory_key: Optional[str] = None
    columns: List[str] = field(default_factory=list)
    flags: List[Flag] = field(default_factory=list)
    commands: List[Command] = field(default_factory=list)
    ordered: bool = False
    validate: Optional[Callable[..., None]] = None
    derive: Optional[Callable[..., Dict[str, Any]]] = None
    source: Optional[Callable[..., List[Dict[str, Any]]]] = None
    title: str = ""
    group: str = ""
    doc: str = ""

    def __post_init__(self):
        self._props = {p.name: p for p in self.props}
        if self.single or self.readonly:
            if self.single:
                self.can_add = False
                self.can_remove = False
            if self.readonly:
                self.can_add = False
                self.can_remove = False

    def prop(self, name: str) -> Optional[Prop]:
        return self._props.get(name)

    @property
    def writable_props(self) -> List[Prop]:
        return [p for p in self.props if not p.readonly]

    def command(self, name: str) -> Optional[Command]:
        for c in self.commands:
            if c.name == name:
                return c
        return None

    @property
    def words(self) -> List[str]:
        return [w for w in self.path.split("/") if w]

    @property
    def has_name(self) -> bool:
        return "name" in self._props

    def describe(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "title": self.title or self.words[-1],
            "group": self.group,
            "single": self.single,
            "readonly": self.readonly,
            "can_add": self.can_add,
            "can_remove": self.can_remove,
            "interface_type": self.interface_type,
            "ordered": self.ordered,
            "columns": self.columns or [p.name for p in self.props[:6]],
            "flags": [{"letter": f.letter, "meaning": f.meaning} for f in self.flags],
            "commands": [c.describe() for c in self.commands],
            "props": [p.describe() for p in self.props],
            "doc": self.doc,
        }


REGISTRY: Dict[str, Menu] = {}


def menu(path: str, props: List[Prop], **kw: Any) -> Menu:
    """Declare a menu and add it to :data:`REGISTRY`."""
    if path in REGISTRY:
        raise ValueError("menu declared twice: " + path)
    m = Menu(path=path, props=props, **kw)
    REGISTRY[path] = m
    return m


# Helpers most menus share -------------------------------------------------

def disabled_prop(default: bool = False) -> Prop:
    return Prop("disabled", Bool(), default=default, doc="Whether the item is disabled.")


def comment_prop() -> Prop:
    return Prop("comment", Str(max_len=255), default="", doc="Short description of the item.")


def running_prop() -> Prop:
    return Prop("running", Bool(), readonly=True, tab="Status", doc="Whether the interface is running.")
