"""Every menu of the device, declared once (see :mod:`winbox_agent.schema`).

Importing this package declares them all.  :data:`EXPORT_ORDER` fixes the
order of ``export`` (a referenced item is created before what refers to it);
menus not named there follow in declaration order.
"""

from ..schema import REGISTRY
from . import interfaces, ip, system  # noqa: F401

EXPORT_ORDER = [
    "/system/identity",
    "/interface/ethernet",
    "/interface/bridge",
    "/interface",
    "/ip/pool",
    "/ip/address",
]


def _reorder() -> None:
    first = [p for p in EXPORT_ORDER if p in REGISTRY]
    rest = [p for p in REGISTRY if p not in first]
    ordered = {p: REGISTRY[p] for p in first + rest}
    REGISTRY.clear()
    REGISTRY.update(ordered)


_reorder()
