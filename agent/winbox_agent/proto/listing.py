"""A menu's rows as positional lists of printed strings.

Listings travel as batches of positional rows with the column list sent once
(about half the bytes of one object per row).  The columns are ``.id``, the
properties asked for (all readable ones by default; secrets only when
``sensitive``), then ``.flags`` and ``.dynamic`` (``yes`` or empty).
"""

from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from ..errors import RouterError
from ..schema import Menu, Prop
from ..types import Bool, Int, ValueType

TAIL = (".flags", ".dynamic")


class Listing:
    """How to turn one menu's views into rows, with an optional filter.

    Attributes:
        menu: the Menu listed.
        columns: the column names of every row.
        where: property -> allowed printed values (any of them matches).
    """

    def __init__(self, router: Any, path: str, proplist: Optional[Sequence[str]] = None,
                 sensitive: bool = False, where: Optional[Dict[str, Any]] = None):
        self.router = router
        self.menu: Menu = router.menu(path)
        self.path = self.menu.path
        self.sensitive = sensitive
        m = self.menu
        if proplist:
            for name in proplist:
                if name not in (".id",) + TAIL and m.prop(name) is None:
                    raise RouterError("no such property %s in %s (.proplist)" % (name, path), "argument", name)
            names = [n for n in dict.fromkeys(proplist) if n not in (".id",) + TAIL]
        else:
            names = [p.name for p in m.props]
        self.props = [m.prop(n) for n in names if sensitive or not m.prop(n).secret]
        self.columns: List[str] = [".id"] + [p.name for p in self.props] + list(TAIL)
        self.row = compile_row([(p.name, formatter(p, router)) for p in self.props],
                               [(f.letter, f.test) for f in m.flags])
        self.where: List[Any] = []
        for name, want in (where or {}).items():
            allowed = frozenset(want if isinstance(want, list) else [want])
            if name in (".id", ".flags", ".dynamic"):
                self.where.append((name, None, allowed))
                continue
            p = m.prop(name)
            if p is None:
                raise RouterError("no such property %s in %s (where)" % (name, path), "argument", name)
            if p.secret and not sensitive:
                raise RouterError("%s is secret: filter on it with sensitive" % name, "denied", name)
            self.where.append((name, p, allowed))

    def views(self) -> Iterator[Dict[str, Any]]:
        return iter(self.router.rows(self.path))

    def matches(self, view: Dict[str, Any]) -> bool:
        for name, p, allowed in self.where:
            if p is None:
                if name == ".id":
                    value = view[".id"]
                elif name == ".flags":
                    value = self.router.flags(self.menu, view)
                else:
                    value = "yes" if view.get(".dynamic") else ""
            else:
                value = p.type.format(view.get(name), self.router)
            if value not in allowed:
                return False
        return True

    def rows(self) -> Iterator[List[Any]]:
        """Every matching row, lazily (a computed source may be large)."""
        if self.where:
            return map(self.row, filter(self.matches, self.views()))
        return map(self.row, self.views())

    def volatile(self) -> bool:
        """Whether a change to another menu may change these rows (computed
        listings, derived values, references shown by name)."""
        m = self.menu
        if m.source is not None or m.derive is not None:
            return True
        return any(_refers(p.type.describe()) for p in m.props)


def _plain(value: Any) -> str:
    if value.__class__ is str:
        return value
    return "" if value is None else str(value)


def _yes_no(value: Any) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def formatter(p: Prop, router: Any) -> Callable[[Any], str]:
    """A fast ``value -> printed string`` for one property (listings format
    millions of values): the type's own ``format`` unless it is one of the
    plain ones."""
    t = p.type
    cls = type(t)
    if cls.format is ValueType.format:
        return _plain
    if cls is Int and not t.hex_format:
        return _plain
    if cls is Bool:
        return _yes_no
    fmt = t.format
    return lambda value: fmt(value, router)


def compile_row(formats: List[Any], flags: List[Any]) -> Callable[[Dict[str, Any]], List[Any]]:
    """A function turning a view into a positional row, written out for these
    columns (a listing calls it a million times: no loop over columns, and
    strings, most values, are taken as they are)."""
    env: Dict[str, Any] = {}
    lines = ["def row(view):", "    get = view.get"]
    cells = ["view['.id']"]
    for i, (name, fmt) in enumerate(formats):
        env["f%d" % i] = fmt
        lines.append("    v%d = get(%r)" % (i, name))
        if fmt is _plain:
            cells.append("v%d if v%d.__class__ is str else _plain(v%d)" % (i, i, i))
        else:
            cells.append("f%d(v%d)" % (i, i))
    tests = []
    for j, (letter, test) in enumerate(flags):
        env["t%d" % j] = test
        tests.append("(%r if t%d(view) else '')" % (letter, j))
    cells.append(" + ".join(tests) if tests else "''")
    cells.append("'yes' if get('.dynamic') else ''")
    lines.append("    return [%s]" % ", ".join(cells))
    env["_plain"] = _plain
    exec("\n".join(lines), env)  # noqa: S102  (code built from the schema above, no outside text)
    return env["row"]


def _refers(desc: Any) -> bool:
    if isinstance(desc, dict):
        return desc.get("kind") == "ref" or any(_refers(v) for v in desc.values())
    if isinstance(desc, list):
        return any(_refers(v) for v in desc)
    return False
