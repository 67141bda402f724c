"""What every connection to one device shares: the Router, live listings
(follow feeds) and monitors.

The daemon holds one Hub; ``serve`` holds one for its single connection.  The
Router is not thread-safe: everything here runs on one asyncio loop, and
driver iterators never block, so access is serialised by construction.
"""

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

from . import framing
from .facts import agent_hash, device_facts
from .feeds import Feed, Subscriber
from .listing import Listing
from .monitors import Monitor, Watcher
from .safemode import SafeMode
from .server import NORMAL_END, Connection, Options, log


class Hub:
    """The shared state of one device's agent.

    Attributes:
        router: the one Router of the device.
        connections: the connected desktops.
        feeds: listing key -> Feed; monitors: monitor key -> Monitor.
        safemode: the device's safe mode (proto/safemode.py).
        idle_since: monotonic time the last connection left (None: in use).
    """

    def __init__(self, router: Any, options: Optional[Options] = None):
        self.router = router
        self.options = options or Options()
        self.connections: List[Connection] = []
        self.feeds: Dict[Tuple[Any, ...], Feed] = {}
        self.monitors: Dict[Tuple[Any, ...], Monitor] = {}
        self.unshared = 0
        self.idle_since: Optional[float] = time.monotonic()
        self.peak_buffer = 0
        self.served = 0
        self._changed: set = set()
        self._refresh_pending = False
        router.listeners.append(self._on_commit)
        self.safemode = SafeMode(self, grace=getattr(self.options, "safe_mode_grace", 4.0),
                                 limit=getattr(self.options, "safe_mode_limit", 1000))
        if self.options.test_rows:
            from .testrows import enable
            enable(router, self.options.test_rows)

    # -- connections ----------------------------------------------------------------
    def connection(self, reader: Any, writer: Any, peer: Optional[Dict[str, Any]] = None) -> Connection:
        self.served += 1
        return Connection(self, reader, writer, "c%d" % self.served, peer)

    def attach(self, conn: Connection) -> None:
        self.connections.append(conn)
        self.idle_since = None

    def admit(self, conn: Connection) -> Optional[str]:
        """Give a new connection its login's rights; why it is refused, or None."""
        from .logins import admit
        return admit(self, conn)

    def detach(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
        self.safemode.connection_ended(conn)
        if conn.reason and conn.reason != NORMAL_END:
            log("%s ended: %s" % (conn.name, conn.reason))
        if not self.connections:
            self.idle_since = time.monotonic()

    def note_buffer(self, conn: Connection) -> None:
        size = conn.buffered()
        if size > self.peak_buffer:
            self.peak_buffer = size

    def capabilities(self) -> List[str]:
        from .ops import OPS
        return sorted(OPS) + ["flow-control", "heartbeat", "shared-monitors"]

    def init_message(self, conn: Connection, nonce: str) -> Dict[str, Any]:
        facts = device_facts(self.router)
        facts["protocol"] = framing.PROTOCOL
        facts["agent_hash"] = agent_hash()
        if conn.peer.get("user"):
            facts["user"] = conn.peer["user"]
            facts["uid"] = conn.peer.get("uid", facts["uid"])
        if conn.rights is not None:         # the login (sudo's user: /user groups apply to it) and its group
            facts["login"] = conn.rights.user or facts["user"]
            facts["group"] = conn.rights.group
            facts["policies"] = sorted(conn.rights.policies)
        if conn.peer.get("ssh_connection"):
            facts["ssh_connection"] = conn.peer["ssh_connection"]
        facts["session"] = conn.name
        return {
            "op": "init",
            "protocol": framing.PROTOCOL,
            "nonce": nonce,
            "capabilities": self.capabilities(),
            "agent_hash": facts["agent_hash"],
            "facts": facts,
            "limits": {"frame_max": framing.FRAME_MAX, "window": self.options.window,
                       "heartbeat": self.options.heartbeat, "dead_after": self.options.dead_after},
        }

    # -- follow ----------------------------------------------------------------------
    def listing(self, path: str, proplist: Optional[List[str]], sensitive: bool,
                where: Optional[Dict[str, Any]]) -> Listing:
        return Listing(self.router, path, proplist, sensitive, where)

    async def follow(self, out: Any, listing: Listing, interval: Optional[float], only_changes: bool) -> None:
        """Feed ``out`` the listing's rows and changes until it is cancelled."""
        where = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in
                             ((w[0], sorted(w[2])) for w in listing.where)))
        key = (listing.path, tuple(listing.columns), listing.sensitive, where)
        feed = self.feeds.get(key)
        if feed is None:
            feed = Feed(self, key, listing)
            self.feeds[key] = feed
        sub = Subscriber(feed, out, interval)
        feed.subscribers.append(sub)
        feed.retime()

        def leave() -> None:
            if sub in feed.subscribers:
                feed.subscribers.remove(sub)
            if not feed.subscribers:
                feed.close()
                if self.feeds.get(key) is feed:
                    del self.feeds[key]
            else:
                feed.retime()
        out.on_stop.append(leave)
        await sub.run(only_changes)

    def _on_commit(self, revision: int, changes: List[Any]) -> None:
        self._changed.update(ch.path for ch in changes)
        if not self._refresh_pending:
            self._refresh_pending = True
            asyncio.get_event_loop().call_soon(self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        paths, self._changed = self._changed, set()
        for feed in list(self.feeds.values()):
            if feed.subscribers and feed.concerns(paths):
                try:
                    feed.refresh()
                except Exception as exc:  # one broken listing must not stop the others
                    log("refreshing %s failed: %r" % (feed.path, exc))

    # -- monitors ---------------------------------------------------------------------
    async def watch(self, out: Any, path: str, name: str, item: Optional[str], args: Dict[str, str],
                    interval: float, deadline: Optional[float]) -> None:
        """Feed ``out`` the samples of a shared stream command until cancelled."""
        key: Tuple[Any, ...] = (path, name, item, tuple(sorted(args.items())), interval)
        if not name.startswith("monitor"):
            # an action with progress (renew, scan, import-image) is each request's own:
            # a second request must start it again, not be handed the end of the first
            self.unshared += 1
            key += (self.unshared,)
        monitor = self.monitors.get(key)
        if monitor is None:
            rows = self.router.command(path, name, item, args)
            monitor = Monitor(self, key, iter(rows), interval)
            self.monitors[key] = monitor
        watcher = Watcher(monitor, out, deadline)
        monitor.watchers.append(watcher)
        out.on_stop.append(lambda: monitor.leave(watcher))
        await watcher.run()

    # -- diagnostics -------------------------------------------------------------------
    def stats(self) -> Dict[str, Any]:
        conns = []
        for c in self.connections:
            conns.append({
                "name": c.name,
                "write_buffer": c.buffered(),
                "streams": {str(rid): {"sent": o.sent, "acked": o.acked, "ahead": o.sent - o.acked,
                                       "peak_ahead": o.peak} for rid, o in c.active.items()},
            })
        return {
            "connections": conns,
            "feeds": [{"path": f.path, "subscribers": len(f.subscribers), "rows": len(f.order),
                       "refreshes": f.refreshes} for f in self.feeds.values()],
            "monitors": [{"path": m.key[0], "command": m.key[1], "item": m.key[2], "watchers": len(m.watchers),
                          "samples": m.samples} for m in self.monitors.values()],
            "peak_write_buffer": self.peak_buffer,
            "safe_mode": self.safemode.stats(),
            "window": self.options.window,
            "served": self.served,
        }

    def close(self) -> None:
        self.safemode.close()
        for m in list(self.monitors.values()):
            m.close()
        for f in list(self.feeds.values()):
            f.close()
        if self._on_commit in self.router.listeners:
            self.router.listeners.remove(self._on_commit)

