"""Paints table rows by their state: disabled grey, invalid red, dynamic blue,
comments in italics (the model says which under its STATE_ROLE and COMMENT_ROLE)."""

from __future__ import annotations

from winbox_py.backend.models import COMMENT_ROLE, STATE_ROLE
from winbox_py.qt import QtGui, QtWidgets

COLOURS = {
    "disabled": QtGui.QColor(128, 128, 128),
    "invalid": QtGui.QColor(200, 30, 30),
    "dynamic": QtGui.QColor(20, 60, 170),
}


def colour_of(state: str | None) -> QtGui.QColor | None:
    return COLOURS.get(state) if state else None


class RowDelegate(QtWidgets.QStyledItemDelegate):
    """The table windows' item delegate (one per view)."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        colour = colour_of(index.data(STATE_ROLE))
        if colour is not None:
            option.palette.setColor(QtGui.QPalette.Text, colour)
            option.palette.setColor(QtGui.QPalette.HighlightedText, colour.lighter(170))
        if index.data(COMMENT_ROLE):
            option.font.setItalic(True)
