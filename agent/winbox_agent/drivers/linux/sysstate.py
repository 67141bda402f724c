"""What the system has now, read with ``ip -j`` and cached briefly.

A ``print`` of twenty interfaces asks for live values twenty times; they
all come from one ``ip -j -d -s link``.  The cache is dropped after every
step that changes the system and otherwise lives for a fraction of a second.
"""

import time
from typing import Any, Callable, Dict, List, Optional

from .cmd import Host

TTL = 0.5


class SystemState:
    """Cached readings of links, addresses and routes.

    Attributes:
        host: where to read them.
    """

    def __init__(self, host: Host):
        self.host = host
        self._cache: Dict[str, Any] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        """``fn()``, computed at most once per TTL (and after every change)."""
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < TTL:
            return hit[1]
        value = fn()
        self._cache[key] = (now, value)
        return value

    def _get(self, key: str, argv: List[str]) -> Any:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < TTL:
            return hit[1]
        value = self.host.json(argv)
        self._cache[key] = (now, value)
        return value

    # -- links ---------------------------------------------------------------------
    def links(self) -> Dict[str, Dict[str, Any]]:
        """Every link by name, with details (kind, master) and statistics."""
        hit = self._cache.get("links")
        if hit is not None and time.monotonic() - hit[0] < TTL:
            return hit[1]
        rows = self._get("links-raw", ["ip", "-j", "-d", "-s", "link", "show"])
        out = {r["ifname"]: r for r in rows if "ifname" in r}
        self._cache["links"] = (time.monotonic(), out)
        return out

    def link(self, name: Optional[str]) -> Optional[Dict[str, Any]]:
        if not name:
            return None
        return self.links().get(name)

    @staticmethod
    def kind(link: Dict[str, Any]) -> Optional[str]:
        return (link.get("linkinfo") or {}).get("info_kind")

    @staticmethod
    def is_up(link: Optional[Dict[str, Any]]) -> bool:
        """Administratively up."""
        return bool(link) and "UP" in (link.get("flags") or [])

    @staticmethod
    def is_running(link: Optional[Dict[str, Any]]) -> bool:
        """Up with a carrier: what RouterOS calls running."""
        if not link:
            return False
        flags = link.get("flags") or []
        return "UP" in flags and "LOWER_UP" in flags

    @staticmethod
    def counters(link: Optional[Dict[str, Any]]) -> Dict[str, int]:
        stats = (link or {}).get("stats64") or (link or {}).get("stats") or {}
        rx, tx = stats.get("rx") or {}, stats.get("tx") or {}
        return {"rx-byte": int(rx.get("bytes", 0)), "tx-byte": int(tx.get("bytes", 0)),
                "rx-packet": int(rx.get("packets", 0)), "tx-packet": int(tx.get("packets", 0))}

    # -- addresses -------------------------------------------------------------------
    def addresses(self) -> List[Dict[str, Any]]:
        """IPv4 addresses: ``{"dev", "address" (a.b.c.d/len), "dynamic"}``."""
        out = []
        for link in self._get("addrs", ["ip", "-j", "-4", "addr", "show"]):
            for a in link.get("addr_info") or []:
                if a.get("family") != "inet":
                    continue
                out.append({"dev": link.get("ifname"), "address": "%s/%s" % (a["local"], a["prefixlen"]),
                            "peer": a.get("address") if a.get("address") != a.get("local") else None,
                            "label": a.get("label"), "dynamic": bool(a.get("dynamic"))})
        return out

    def has_address(self, dev: str, address: str) -> bool:
        return any(a["dev"] == dev and a["address"] == address for a in self.addresses())

    # -- routes -----------------------------------------------------------------------
    def routes(self, table: str = "main") -> List[Dict[str, Any]]:
        return self._get("routes-" + table, ["ip", "-j", "-4", "route", "show", "table", table])
