"""Showing whether live figures are live.

:class:`LiveStateLabel` follows a :class:`~winbox_py.backend.livestats.LiveFeed`:
nothing while samples come, ``waiting for the router...`` before the first,
and a grey ``stopped — connection lost`` (or the agent's reason) once the
stream ends, or ``stale — no data from the router for 5 s`` when samples stop
coming. :func:`grey` greys the widgets that show the figures, so an old number
never looks current.
"""

from __future__ import annotations

from typing import Iterable

from winbox_py.backend.livestats import LIVE, STALE, WAITING, LiveFeed
from winbox_py.qt import QtWidgets

STOPPED_STYLE = "color: #808080;"
WAITING_STYLE = "color: #606060; font-style: italic;"
DASH = "\u2014"


def describe(state: str, reason: str) -> str:
    """The words shown for a feed's state."""
    if state == LIVE:
        return ""
    if state == WAITING:
        return "waiting for the router..."
    if state == STALE:
        return "stale %s %s" % (DASH, reason or "no new data")
    return "stopped %s %s" % (DASH, reason) if reason and reason != "stopped" else "stopped"


def grey(widgets: Iterable[QtWidgets.QWidget], on: bool) -> None:
    """Grey out (or restore) widgets showing figures that are not live."""
    for w in widgets:
        w.setEnabled(not on)


class LiveStateLabel(QtWidgets.QLabel):
    """One line saying whether a feed's figures are live.

    Attributes:
        live: the feed is live (samples arriving).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("live-state")
        self.live = False
        self.setWordWrap(True)

    def follow(self, feed: LiveFeed) -> None:
        feed.state_changed.connect(self.show_state)
        self.show_state(feed.state, feed.reason)

    def show_state(self, state: str, reason: str) -> None:
        self.live = state == LIVE
        self.setText(describe(state, reason))
        self.setStyleSheet(WAITING_STYLE if state == WAITING else STOPPED_STYLE)
        self.setVisible(state != LIVE)
