"""``print`` output as RouterOS lays it out: tables, detail and settings."""

from typing import Dict, List, Sequence

from ..schema import Menu
from .lexer import quote


def flags_legend(m: Menu) -> str:
    if not m.flags:
        return ""
    return "Flags: " + "; ".join("%s - %s" % (f.letter, f.meaning.upper()) for f in m.flags)


def table(m: Menu, rows: Sequence[Dict[str, str]], columns: Sequence[str]) -> str:
    """Numbered table with a flags column and upper-case headers."""
    lines: List[str] = []
    legend = flags_legend(m)
    if legend:
        lines.append(legend)
    lines.append("Columns: " + ", ".join(c.upper() for c in columns))
    flag_w = max([len(r.get(".flags", "")) for r in rows] + [len(m.flags) and 1])
    num_w = max(1, len(str(len(rows) - 1)) if rows else 1)
    widths = [len(c) for c in columns]
    cells = []
    for r in rows:
        line = [_cell(r.get(c, "")) for c in columns]
        cells.append(line)
        widths = [max(w, len(v)) for w, v in zip(widths, line)]
    head = "#".ljust(num_w) + " " + " " * flag_w + " " + "  ".join(
        c.upper().ljust(w) for c, w in zip(columns, widths))
    lines.append(head.rstrip())
    for n, (r, line) in enumerate(zip(rows, cells)):
        text = str(n).ljust(num_w) + " " + r.get(".flags", "").ljust(flag_w) + " " + "  ".join(
            v.ljust(w) for v, w in zip(line, widths))
        if r.get("comment"):
            lines.append(str(n).ljust(num_w) + " " + " " * flag_w + " ;;; " + r["comment"])
            text = " " * num_w + text[num_w:]
        lines.append(text.rstrip())
    return "\n".join(lines)


def _cell(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def detail(m: Menu, rows: Sequence[Dict[str, str]], names: Sequence[str]) -> str:
    """``print detail``: every property as name=value, wrapped."""
    lines: List[str] = []
    legend = flags_legend(m)
    if legend:
        lines.append(legend)
    for n, r in enumerate(rows):
        head = "%2d %-2s " % (n, r.get(".flags", ""))
        if r.get("comment"):
            lines.append(head + ";;; " + r["comment"])
            head = " " * len(head)
        parts = ["%s=%s" % (k, quote(r[k])) for k in names if k in r and k != "comment"]
        cur = head
        for p in parts:
            if len(cur) + len(p) + 1 > 100 and cur.strip():
                lines.append(cur.rstrip())
                cur = " " * 6
            cur += p + " "
        lines.append(cur.rstrip())
        lines.append("")
    return "\n".join(lines).rstrip()


def settings(row: Dict[str, str], names: Sequence[str]) -> str:
    """A settings menu (``/ip dns print``): right-aligned ``name: value``."""
    keys = [k for k in names if k in row]
    width = max([len(k) for k in keys] + [1])
    return "\n".join("%s: %s" % (k.rjust(width), row[k]) for k in keys)
