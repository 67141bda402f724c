"""The one exception type of the agent, which becomes a wire error as data."""

from typing import Optional

# The closed list of problem categories (mirrors RouterOS API trap categories).
CATEGORIES = (
    "missing",      # no such item, menu or command
    "argument",     # bad argument value / unknown parameter
    "conflict",     # name taken, item in use, outdated write
    "denied",       # not allowed (read-only menu, factory item, user rights)
    "interrupted",  # cancelled
    "driver",       # the system could not apply the change
    "protocol",     # malformed request
    "general",
)


class RouterError(Exception):
    """An error a person can act on.

    Attributes:
        category: one of CATEGORIES.
        message: the sentence shown to the user; names the offending word.
        prop: the property concerned, if any.
    """

    def __init__(self, message: str, category: str = "argument", prop: Optional[str] = None):
        # text that came in as bytes that were not UTF-8 (lone surrogates) cannot be sent or printed
        message = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in message)
        super().__init__(message)
        if category not in CATEGORIES:
            category = "general"
        self.category = category
        self.message = message
        self.prop = prop

    def to_wire(self) -> dict:
        out = {"problem": self.category, "message": self.message}
        if self.prop:
            out["property"] = self.prop
        return out

    def __str__(self) -> str:
        return self.message


class ValueProblem(ValueError):
    """Raised by a value type's parser; the caller adds the property name."""
