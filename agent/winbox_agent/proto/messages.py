"""Typed access to incoming messages.

Every field of a request is read through one of these accessors, so a wrong
type becomes a clear ``protocol`` error naming the field, never a KeyError or
a wrong guess deep inside an operation.
"""

from typing import Any, Dict, List, Optional

from ..errors import RouterError

_MISSING = object()


def bad(field: str, what: str) -> RouterError:
    return RouterError("%s: %s" % (field, what), "protocol", field)


def get_str(msg: Dict[str, Any], field: str, default: Any = _MISSING) -> str:
    value = msg.get(field, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise bad(field, "is required (a string)")
        return default
    if not isinstance(value, str):
        raise bad(field, "must be a string, not %s" % _kind(value))
    return value


def get_bool(msg: Dict[str, Any], field: str, default: bool = False) -> bool:
    value = msg.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad(field, "must be true or false, not %s" % _kind(value))
    return value


def get_number(msg: Dict[str, Any], field: str, default: Optional[float] = None,
               lo: float = 0.0, hi: float = 86400.0) -> Optional[float]:
    value = msg.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(field, "must be a number, not %s" % _kind(value))
    if not lo <= value <= hi:
        raise bad(field, "%s is out of range %s..%s" % (value, lo, hi))
    return float(value)


def get_str_list(msg: Dict[str, Any], field: str, default: Any = _MISSING) -> List[str]:
    """A list of strings; a single string counts as a list of one."""
    value = msg.get(field, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise bad(field, "is required (a list of strings)")
        return default
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(field, "must be a list of strings")
    return value


def get_str_dict(msg: Dict[str, Any], field: str, allow_lists: bool = False) -> Dict[str, Any]:
    """An object whose values are strings (or lists of strings if allowed)."""
    value = msg.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(field, "must be an object of name: value strings")
    for k, v in value.items():
        if isinstance(v, str):
            continue
        if allow_lists and isinstance(v, list) and all(isinstance(x, str) for x in v):
            continue
        raise bad("%s.%s" % (field, k), "must be a string" + (" or a list of strings" if allow_lists else ""))
    return value


def request_id(msg: Dict[str, Any]) -> Any:
    """The request id: an integer or a short string chosen by the desktop."""
    rid = msg.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (int, str)) or (isinstance(rid, str) and not 0 < len(rid) <= 64):
        return None
    return rid


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"
