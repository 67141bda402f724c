"""``export``: the configuration as a script that, run on a factory device,
reproduces it.  Only what differs from the factory state is written."""

import time
from typing import Any, Dict, List, Optional

from ..schema import Menu
from .lexer import quote


def menu_words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


def _values(router: Any, m: Menu, item: Dict[str, Any], sensitive: bool, verbose: bool) -> List[str]:
    out = []
    for p in m.props:
        if p.readonly or p.name not in item:
            continue
        value = item[p.name]
        if not verbose and not callable(p.default) and value == p.default:
            continue
        if p.secret and not sensitive:
            continue
        out.append("%s=%s" % (p.name, quote(p.type.format(value, router))))
    return out


def _factory_selector(m: Menu, name: str) -> str:
    key = m.factory_key or "name"
    return "[ find %s=%s ]" % (key, quote(name))


def export_menu(router: Any, m: Menu, sensitive: bool = False, verbose: bool = False) -> List[str]:
    if m.readonly or m.source is not None:
        return []
    lines: List[str] = []
    items = router.store.items(m.path)
    if m.single:
        if items:
            vals = _values(router, m, items[0], sensitive, verbose)
            if vals:
                lines.append("set " + " ".join(vals))
    else:
        present = {it.get(".factory") for it in items if it.get(".factory")}
        for f in m.factory:
            fname = f.get(m.factory_key or "name") or f.get("name")
            if fname not in present:
                lines.append("remove " + _factory_selector(m, fname))
        for it in items:
            if it.get(".factory"):
                factory = next((f for f in m.factory
                                if (f.get(m.factory_key or "name") or f.get("name")) == it[".factory"]), {})
                changed = {k: v for k, v in it.items() if not k.startswith(".") and factory.get(k, _MISSING) != v}
                prop_types = {p.name: p for p in m.props}
                vals = []
                for k in [p.name for p in m.props if p.name in changed]:
                    p = prop_types[k]
                    if p.readonly or (p.secret and not sensitive):
                        continue
                    vals.append("%s=%s" % (k, quote(p.type.format(it[k], router))))
                if vals:
                    lines.append("set %s %s" % (_factory_selector(m, it[".factory"]), " ".join(vals)))
            else:
                vals = _values(router, m, it, sensitive, verbose)
                lines.append("add " + " ".join(vals) if vals else "add")
    if lines:
        lines.insert(0, menu_words(m.path))
    return lines


_MISSING = object()


def export(router: Any, path: Optional[str] = None, sensitive: bool = False, verbose: bool = False,
           header: bool = True) -> str:
    """The whole configuration (or one menu and those below it) as a script."""
    lines: List[str] = []
    if header:
        lines.append("# %s by winbox-agent" % time.strftime("%Y-%m-%d %H:%M:%S"))
        if not sensitive:
            lines.append("# secrets are not included; use show-sensitive to include them")
    for m in router.schema.values():
        if path and not (m.path == path or m.path.startswith(path.rstrip("/") + "/")):
            continue
        lines.extend(export_menu(router, m, sensitive, verbose))
    return "\n".join(lines) + "\n"
