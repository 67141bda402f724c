"""Keeping secrets out of what is echoed back: error messages and the command
lines they quote.

A property or command argument declared ``secret`` (``password``,
``private-key``, ``preshared-key``, ``ipsec-secret``, ``secret``,
``identity``, the license account's ``password``) is shown only when asked
for (``show-sensitive``).  Values are masked where they are formatted
(router.format_row, export, error messages of the router); this module
handles the one place where the raw text a person typed comes back: a failing
command quoted in an error (``in: /ppp secret add password=...``), including
abbreviated names (``pass=``).
"""

import re
from typing import FrozenSet, Tuple

from .schema import REGISTRY

MASK = "***"
#: Arguments that are not secrets themselves but carry keys (a wg-quick
#: configuration holds the interface's PrivateKey).
CARRIERS = ("config-string",)
_cache: Tuple[int, FrozenSet[str]] = (-1, frozenset())


def secret_names() -> FrozenSet[str]:
    """Names of every secret property and command argument of the schema."""
    global _cache
    if _cache[0] != len(REGISTRY):
        names = set()
        for m in REGISTRY.values():
            names.update(p.name for p in m.props if p.secret)
            for c in m.commands:
                names.update(a.name for a in c.args if a.secret)
        _cache = (len(REGISTRY), frozenset(names))
    return _cache[1]


# key=value where the value is quoted (to its closing quote, or the end) or bare
_PAIR = re.compile(r'(?P<key>[A-Za-z][\w.-]*)=(?P<value>"(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s;]*)', re.S)


def _is_secret(key: str) -> bool:
    """A secret's name or an abbreviation of one (the CLI accepts those)."""
    return any(name.startswith(key) for name in secret_names() | frozenset(CARRIERS))


def mask_secrets(text: str) -> str:
    """``text`` with the values of secret ``key=value`` pairs replaced by ``***``."""
    if "=" not in text:
        return text

    def sub(m: "re.Match[str]") -> str:
        key, value = m.group("key"), m.group("value")
        if _is_secret(key):
            return "%s=%s" % (key, MASK)
        if value.startswith('"') and "=" in value:    # a command inside one (console command="...")
            closed = len(value) > 1 and value.endswith('"') and not value.endswith('\\"')
            inner = value[1:-1] if closed else value[1:]
            plain = re.sub(r'\\(.)', r'\1', inner, flags=re.S)
            masked = mask_secrets(plain)
            if masked != plain:
                inner = masked.replace("\\", "\\\\").replace('"', '\\"')
            return '%s="%s%s' % (key, inner, '"' if closed else "")
        return m.group(0)
    return _PAIR.sub(sub, text)
