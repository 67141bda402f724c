"""Layouts the tool dialogs share: their content on the left, a column of
buttons on the right (Start, Stop, Close in the command windows), and status
lines across the bottom."""

from __future__ import annotations

from collections.abc import Sequence

from winbox_py.qt import QtWidgets


def start_stop_close(parent: QtWidgets.QWidget) -> tuple[QtWidgets.QPushButton, QtWidgets.QPushButton,
                                                          QtWidgets.QPushButton]:
    """Start, Stop (disabled until something runs) and Close buttons of ``parent``."""
    start = QtWidgets.QPushButton("Start", parent)
    stop = QtWidgets.QPushButton("Stop", parent)
    close = QtWidgets.QPushButton("Close", parent)
    stop.setEnabled(False)
    return start, stop, close


def buttons_beside(parent: QtWidgets.QWidget, content: QtWidgets.QLayout,
                   buttons: Sequence[QtWidgets.QPushButton], below: Sequence[QtWidgets.QWidget] = (),
                   min_width: int = 0) -> QtWidgets.QVBoxLayout:
    """Lay ``parent`` out: ``content`` taking the room on the left, ``buttons``
    stacked at the top right (each at least ``min_width`` wide when given), and
    the ``below`` widgets across the bottom, in order. Returns the outer layout."""
    column = QtWidgets.QVBoxLayout()
    for b in buttons:
        if min_width:
            b.setMinimumWidth(min_width)
        column.addWidget(b)
    column.addStretch(1)
    body = QtWidgets.QHBoxLayout()
    body.addLayout(content, 1)
    body.addLayout(column)
    layout = QtWidgets.QVBoxLayout(parent)
    layout.addLayout(body, 1)
    for w in below:
        layout.addWidget(w)
    return layout
