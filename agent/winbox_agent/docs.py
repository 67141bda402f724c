"""The menu reference, generated from the schema: ``python3 -m winbox_agent.docs > docs/menus.md``.

Every declared menu gets a section: its path as typed in the CLI, what it is,
its kind (list, settings, read-only), its commands with their arguments and a
table of its properties (type and what is allowed, default, read-only /
secret / required / unique, dialog tab, description).  The text depends on
the schema only, so tests/agent/test_docs.py can insist the committed file is
up to date.
"""

import sys
from typing import Dict, List

from . import menus  # noqa: F401  (declares every menu)
from .schema import REGISTRY, Command, Menu, Prop

REGENERATE = "PYTHONPATH=agent python3 -m winbox_agent.docs > docs/menus.md"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def code(text: str) -> str:
    return "`%s`" % text if text else ""


def menu_words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


def anchor(path: str) -> str:
    """The GitHub-style anchor of a menu's heading."""
    out = "".join(c for c in menu_words(path).lower() if c.isalnum() or c in " -_")
    return out.strip().replace(" ", "-")


def kind(m: Menu) -> str:
    if m.source is not None:
        return "read-only listing computed from other menus"
    if m.readonly and m.single:
        return "read-only settings (one item reported by the router)"
    if m.readonly:
        return "read-only list (items come from the router)"
    if m.single:
        return "settings (one item: `set`, `print`)"
    verbs = ["set"]
    if m.can_add:
        verbs.insert(0, "add")
    if m.can_remove:
        verbs.append("remove")
    if m.ordered:
        verbs.append("move")
    return "list (%s)" % ", ".join("`%s`" % v for v in verbs)


def default_text(p: Prop) -> str:
    if callable(p.default):
        return "(set when added)"
    if p.default is None:
        return ""
    text = p.type.format(p.default)
    return code(text) if text != "" else '`""`'


def prop_flags(p: Prop) -> str:
    names = []
    for flag in ("required", "readonly", "secret", "unique"):
        if getattr(p, flag):
            names.append("read-only" if flag == "readonly" else flag)
    return ", ".join(names)


def prop_table(props: List[Prop], with_tab: bool = True) -> List[str]:
    head = ["property", "allowed values", "default", "flags"] + (["tab"] if with_tab else []) + ["description"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in props:
        row = [code(p.name), p.type.allowed(), default_text(p), prop_flags(p)]
        if with_tab:
            row.append(p.tab)
        row.append(p.doc)
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines


def command_lines(c: Command) -> List[str]:
    what = []
    if c.item:
        what.append("takes an item")
    if c.stream:
        what.append("streams rows, `once` for one")
    head = "- **%s**%s%s" % (c.name, " (%s)" % "; ".join(what) if what else "", ": " + c.doc if c.doc else "")
    lines = [head]
    for a in c.args:
        bits = [a.type.allowed()]
        if a.required:
            bits.append("required")
        default = default_text(a)
        if default:
            bits.append("default " + default)
        lines.append("  - `%s`: %s%s" % (a.name, "; ".join(bits), " — " + a.doc if a.doc else ""))
    return lines


def render_menu(m: Menu) -> List[str]:
    lines = ["## " + menu_words(m.path), ""]
    if m.doc:
        lines += [m.doc, ""]
    facts = ["- Kind: " + kind(m)]
    facts.append("- Window: %s%s" % (m.title or m.words[-1], " (menu %s)" % m.group if m.group else ""))
    if m.interface_type:
        facts.append("- Interface type: `%s` (its items are listed in `/interface`)" % m.interface_type)
    if m.default_name:
        facts.append("- Name when none is given: `%s`" % m.default_name.replace("{n}", "N"))
    if m.factory:
        key = m.factory_key or "name"
        names = [str(f.get(key) or f.get("name")) for f in m.factory]
        facts.append("- Factory items%s: %s" % ("" if m.factory_removable else " (cannot be removed)",
                                                ", ".join("`%s`" % n for n in names)))
    columns = m.columns or [p.name for p in m.props[:6]]
    facts.append("- Table columns: " + ", ".join("`%s`" % c for c in columns))
    if m.flags:
        facts.append("- Flags: " + ", ".join("`%s` %s" % (f.letter, f.meaning) for f in m.flags))
    lines += facts + [""]
    if m.commands:
        lines += ["Commands:", ""]
        for c in m.commands:
            lines += command_lines(c)
        lines.append("")
    if m.props:
        lines += prop_table(m.props) + [""]
    return lines


def render(registry: Dict[str, Menu] = REGISTRY) -> str:
    """The whole reference as Markdown."""
    lines = [
        "# Menu reference",
        "",
        "Generated from the agent's schema (`agent/winbox_agent/menus/`); do not edit by hand.",
        "Regenerate with `%s`." % REGENERATE,
        "",
        "Menus are listed in export order: a menu comes after every menu it refers to.",
        "Values are written as in the RouterOS CLI (`name=value`); a reference to another",
        "item is written by its name.",
        "",
    ]
    groups: Dict[str, List[Menu]] = {}
    for m in registry.values():
        groups.setdefault(m.group or "Other", []).append(m)
    lines += ["Contents:", ""]
    for group, ms in groups.items():
        lines.append("- %s: %s" % (group, ", ".join("[%s](#%s)" % (menu_words(m.path), anchor(m.path)) for m in ms)))
    lines.append("")
    for m in registry.values():
        lines += render_menu(m)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
