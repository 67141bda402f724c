"""Outdated writes: refusing a form that was loaded before someone else changed
the same item.

Two desktops open the same item; the first saves; the second saves a form
that still shows the old values.  ``Router.set`` (and ``unset``) take
``expect``: the values as the form was loaded, formatted as ``print`` gives
them, for the properties being written (a desktop may send every property it
showed, to be stricter), and optionally ``.revision``: the router's revision
when the form was loaded (any change of the item after it is a conflict).
If the item is not like that any more, the write is refused with category
``conflict``, naming the property, both values (never a secret's) and who
changed it, and nothing is written; the desktop shows it and lets the
person reload.  Read-only properties in ``expect`` are ignored (they are the
router's, not anyone's write).  The CLI does not use it.
"""

from typing import Any, Dict, Optional

from .errors import RouterError
from .history import label


def _words(path: str) -> str:
    return "/" + " ".join(w for w in path.split("/") if w)


def _quoted(text: str) -> str:
    return '"%s"' % text if text == "" or " " in text else text


def last_change(router: Any, item_id: str, prop: Optional[str] = None,
                after: int = 0) -> Optional[Dict[str, Any]]:
    """The newest history entry after revision ``after`` that changed the
    item (that property of it, if given)."""
    for e in reversed(router.store.history):
        if e["rev"] <= after:
            break
        for c in e.get("changes", ()):
            if c.get("id") != item_id:
                continue
            if prop is None:
                return e
            before, after_ = c.get("before") or {}, c.get("after") or {}
            if before.get(prop) != after_.get(prop):
                return e
    return None


def _by(entry: Optional[Dict[str, Any]]) -> str:
    if entry is None:
        return ""
    who = entry.get("user") or entry.get("session")
    return " (by %s, revision %d)" % (who, entry["rev"]) if who else " (revision %d)" % entry["rev"]


def check_expected(router: Any, m: Any, item_id: str, expect: Dict[str, str]) -> None:
    """Refuse (RouterError "conflict") when the stored item differs from ``expect``."""
    stored = router.store.get(item_id)
    view = router.view(m, stored, runtime=False)
    name = label(router, m.path, item_id, stored)
    what = ("%s %s" % (_words(m.path), name)).strip()
    for key, shown in expect.items():
        if key == ".revision":
            try:
                since = int(str(shown))
            except ValueError:
                raise RouterError(".revision: %s is not a revision number" % shown, "argument", ".revision") from None
            entry = last_change(router, item_id, after=since)
            if entry is not None:
                raise RouterError("%s was changed since the form was loaded%s: reload it" % (what, _by(entry)),
                                  "conflict")
            continue
        p = m.prop(key)
        if p is None:
            raise RouterError("unknown parameter %s" % key, "argument", key)
        if p.readonly:
            continue
        now = p.type.format(view.get(key), router)
        if now == str(shown):
            continue
        entry = last_change(router, item_id, key)
        if p.secret:
            raise RouterError("%s: %s was changed since the form was loaded%s (values not shown): reload it" % (
                key, what, _by(entry)), "conflict", key)
        raise RouterError("%s: %s was changed since the form was loaded%s: it is %s now, the form had %s" % (
            key, what, _by(entry), _quoted(now), _quoted(str(shown))), "conflict", key)
