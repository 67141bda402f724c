"""Splitting RouterOS scripts into commands and words.

A script is lines; a line ending in ``\\`` continues on the next; ``#`` starts
a comment line; ``;`` separates commands on one line.  A word is a bare word,
a quoted string, a ``name=value`` pair (the value may be quoted) or a
bracketed expression ``[ find default-name=ether1 ]``.
"""

from typing import Iterator, List, NamedTuple, Optional, Tuple

ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "_": " ", "a": "\a", "b": "\b",
           "f": "\f", "v": "\v", "$": "$", "?": "?"}


class LexError(Exception):
    """A line that cannot be split (an unclosed quote or bracket)."""


class Word(NamedTuple):
    """One word of a command.

    Attributes:
        text: the whole word as typed (for messages).
        key: the part before ``=`` in ``name=value`` (``None`` for a plain word).
        value: the value (quotes removed) or the plain word itself.
        quoted: the value was quoted.
        expr: the word is a bracketed expression; value holds its inside.
    """

    text: str
    key: Optional[str]
    value: str
    quoted: bool = False
    expr: bool = False


def logical_lines(script: str) -> Iterator[Tuple[int, str]]:
    """(first line number, text) of each logical line, continuations joined.

    A line ending in ``\\`` continues on the next; a quoted string may also
    run over several lines, its newlines kept in the value (the document's
    ``wg-import config-string="[Interface]...``)."""
    if script.startswith("\ufeff"):     # a file saved by an editor that marks UTF-8
        script = script[1:]
    cur = ""
    start = 0
    pending = continued = False
    # only \n ends a line: str.splitlines() would also split at \x85, \u2028
    # and other characters a quoted value may hold
    for number, raw in enumerate(script.split("\n"), 1):
        line = raw.rstrip("\r")
        if not pending:
            start = number
            if line.strip().startswith("#"):
                continue
            cur = line.rstrip()
        elif continued:
            cur = cur.rstrip() + " " + line.strip()
        else:  # inside a quoted string: the newline is part of the value
            cur += "\n" + line
        continued = cur.endswith("\\") and not cur.endswith("\\\\")
        if continued:
            cur = cur[:-1]
        pending = continued or _open_quote(cur)
        if pending:
            continue
        if cur.strip():
            yield start, cur.strip()
        cur = ""
    if pending and cur.strip():
        yield start, cur.strip()


def _open_quote(text: str) -> bool:
    """Whether ``text`` ends inside a quoted string."""
    inside = False
    i = 0
    while i < len(text):
        c = text[i]
        if inside and c == "\\":
            i += 2
            continue
        if c == '"':
            inside = not inside
        i += 1
    return inside


def _quoted(s: str, i: int) -> Tuple[str, int]:
    """Read a quoted string starting at s[i] == '"'; returns (value, index after)."""
    out = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in ESCAPES:
                out.append(ESCAPES[nxt])
                i += 2
                continue
            if i + 2 < len(s) and all(ch in "0123456789abcdefABCDEF" for ch in s[i + 1:i + 3]):
                out.append(chr(int(s[i + 1:i + 3], 16)))
                i += 3
                continue
            out.append(nxt)
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise LexError("unclosed quote")


def _bracket(s: str, i: int) -> Tuple[str, int]:
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == '"':
            _, j = _quoted(s, j)
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return s[i + 1:j].strip(), j + 1
        j += 1
    raise LexError("unclosed [")


def split_commands(line: str) -> List[List[Word]]:
    """Split a logical line into commands (``;``-separated) of words."""
    commands: List[List[Word]] = []
    words: List[Word] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t":
            i += 1
            continue
        if c == ";":
            commands.append(words)
            words = []
            i += 1
            continue
        if c == "#" and not words:
            break
        if c == "[":
            inner, j = _bracket(line, i)
            words.append(Word(line[i:j], None, inner, expr=True))
            i = j
            continue
        if c == '"':
            value, j = _quoted(line, i)
            words.append(Word(line[i:j], None, value, quoted=True))
            i = j
            continue
        j = i
        while j < n and line[j] not in " \t;=\"[":
            j += 1
        head = line[i:j]
        if j < n and line[j] == "=":
            j += 1
            if j < n and line[j] == '"':
                value, k = _quoted(line, j)
                words.append(Word(line[i:k], head, value, quoted=True))
                i = k
                continue
            if j < n and line[j] == "[":
                inner, k = _bracket(line, j)
                words.append(Word(line[i:k], head, inner, expr=True))
                i = k
                continue
            k = j
            while k < n and line[k] not in " \t;":
                if line[k] == '"':
                    _, k = _quoted(line, k)
                    continue
                k += 1
            raw = line[j:k]
            words.append(Word(line[i:k], head, raw))
            i = k
            continue
        if j < n and line[j] in "\"[":
            # a word running into a quote (comment~"x y"): keep it as typed,
            # quoted parts whole
            k = j
            while k < n and line[k] not in " \t;":
                if line[k] == '"':
                    _, k = _quoted(line, k)
                    continue
                k += 1
            words.append(Word(line[i:k], None, line[i:k]))
            i = k
            continue
        words.append(Word(head, None, head))
        i = j
    if words:
        commands.append(words)
    return [c for c in commands if c]


def quote(value: str) -> str:
    """A value as it must be written in a script to read back the same."""
    if value == "":
        return '""'
    if all((c.isascii() and c.isalnum()) or c in "-_.:/,*@+!" for c in value):
        return value
    out = []
    for c in value:
        if c in '"\\$?':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif ord(c) < 32:
            out.append("\\%02X" % ord(c))
        else:
            out.append(c)
    return '"%s"' % "".join(out)
