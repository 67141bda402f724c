"""Toolbar and window icons, drawn with QPainter (no image files to ship).

WinBox's look: a blue plus, a red minus, a blue check mark, a red cross, a
yellow note for comments, a funnel for filters, curved arrows for undo and
redo. :func:`icon` caches each QIcon by name.
"""

from __future__ import annotations

from typing import Callable

from winbox_py.qt import QtCore, QtGui

SIZE = 32
BLUE = QtGui.QColor(30, 90, 200)
RED = QtGui.QColor(205, 40, 40)
GREEN = QtGui.QColor(40, 150, 60)
DARK = QtGui.QColor(60, 60, 60)
YELLOW = QtGui.QColor(245, 205, 70)

_cache: dict[str, QtGui.QIcon] = {}


def _pen(color: QtGui.QColor, width: float = 4.0) -> QtGui.QPen:
    pen = QtGui.QPen(color, width)
    pen.setCapStyle(QtCore.Qt.RoundCap)
    pen.setJoinStyle(QtCore.Qt.RoundJoin)
    return pen


def _add(p: QtGui.QPainter) -> None:
    p.setPen(_pen(BLUE, 5))
    p.drawLine(16, 6, 16, 26)
    p.drawLine(6, 16, 26, 16)


def _remove(p: QtGui.QPainter) -> None:
    p.setPen(_pen(RED, 5))
    p.drawLine(6, 16, 26, 16)


def _enable(p: QtGui.QPainter) -> None:
    p.setPen(_pen(BLUE, 4.5))
    p.drawPolyline([QtCore.QPointF(6, 17), QtCore.QPointF(13, 24), QtCore.QPointF(26, 8)])


def _disable(p: QtGui.QPainter) -> None:
    p.setPen(_pen(RED, 4.5))
    p.drawLine(8, 8, 24, 24)
    p.drawLine(24, 8, 8, 24)


def _comment(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.5))
    p.setBrush(YELLOW)
    p.drawRect(6, 5, 20, 22)
    for y in (11, 16, 21):
        p.drawLine(10, y, 22, y)


def _copy(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.5))
    p.setBrush(QtGui.QColor(235, 235, 235))
    p.drawRect(5, 4, 15, 18)
    p.setBrush(QtGui.QColor(255, 255, 255))
    p.drawRect(12, 10, 15, 18)


def _filter(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.5))
    p.setBrush(QtGui.QColor(90, 140, 220))
    p.drawPolygon([QtCore.QPointF(5, 6), QtCore.QPointF(27, 6), QtCore.QPointF(18, 17),
                   QtCore.QPointF(18, 26), QtCore.QPointF(14, 28), QtCore.QPointF(14, 17)])


def _arrow(p: QtGui.QPainter, back: bool) -> None:
    p.setPen(_pen(DARK, 3.5))
    path = QtGui.QPainterPath()
    if back:
        path.moveTo(9, 12)
        path.cubicTo(20, 4, 30, 14, 22, 25)
        p.drawPath(path)
        p.drawLine(9, 12, 10, 4)
        p.drawLine(9, 12, 17, 13)
    else:
        path.moveTo(23, 12)
        path.cubicTo(12, 4, 2, 14, 10, 25)
        p.drawPath(path)
        p.drawLine(23, 12, 22, 4)
        p.drawLine(23, 12, 15, 13)


def _folder(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.2))
    p.setBrush(QtGui.QColor(240, 200, 90))
    p.drawRect(4, 9, 24, 17)
    p.drawRect(4, 6, 10, 4)


def _window(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.2))
    p.setBrush(QtGui.QColor(250, 250, 250))
    p.drawRect(5, 6, 22, 20)
    p.setBrush(BLUE)
    p.drawRect(5, 6, 22, 5)


def _terminal(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.2))
    p.setBrush(QtGui.QColor(20, 20, 20))
    p.drawRect(4, 6, 24, 20)
    p.setPen(_pen(QtGui.QColor(90, 230, 90), 2.2))
    p.drawPolyline([QtCore.QPointF(8, 11), QtCore.QPointF(12, 15), QtCore.QPointF(8, 19)])
    p.drawLine(14, 20, 20, 20)


def _router(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.5))
    p.setBrush(QtGui.QColor(35, 60, 120))
    p.drawRoundedRect(3, 13, 26, 12, 3, 3)
    p.setPen(_pen(QtGui.QColor(120, 230, 120), 2.5))
    for x in (8, 13, 18):
        p.drawPoint(x, 19)
    p.setPen(_pen(DARK, 2))
    p.drawLine(9, 13, 6, 5)
    p.drawLine(23, 13, 26, 5)


def _safe(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 1.5))
    p.setBrush(GREEN)
    path = QtGui.QPainterPath()
    path.moveTo(16, 3)
    path.lineTo(27, 8)
    path.cubicTo(27, 20, 20, 26, 16, 29)
    path.cubicTo(12, 26, 5, 20, 5, 8)
    path.closeSubpath()
    p.drawPath(path)


def _eye(p: QtGui.QPainter) -> None:
    p.setPen(_pen(DARK, 2))
    path = QtGui.QPainterPath()
    path.moveTo(3, 16)
    path.quadTo(16, 3, 29, 16)
    path.quadTo(16, 29, 3, 16)
    p.drawPath(path)
    p.setBrush(DARK)
    p.drawEllipse(QtCore.QPointF(16, 16), 4, 4)


def _refresh(p: QtGui.QPainter) -> None:
    p.setPen(_pen(GREEN, 3.5))
    p.drawArc(7, 7, 18, 18, 30 * 16, 300 * 16)
    p.drawLine(25, 10, 25, 3)
    p.drawLine(25, 10, 18, 10)


_PAINTERS: dict[str, Callable[[QtGui.QPainter], None]] = {
    "add": _add, "remove": _remove, "enable": _enable, "disable": _disable,
    "comment": _comment, "copy": _copy, "filter": _filter,
    "undo": lambda p: _arrow(p, True), "redo": lambda p: _arrow(p, False),
    "folder": _folder, "window": _window, "terminal": _terminal, "router": _router,
    "safe": _safe, "eye": _eye, "refresh": _refresh,
}


def pixmap(name: str, size: int = SIZE) -> QtGui.QPixmap:
    pm = QtGui.QPixmap(size, size)
    pm.fill(QtCore.Qt.transparent)
    p = QtGui.QPainter(pm)
    p.setRenderHint(QtGui.QPainter.Antialiasing)
    p.scale(size / SIZE, size / SIZE)
    _PAINTERS[name](p)
    p.end()
    return pm


def icon(name: str) -> QtGui.QIcon:
    """The icon called ``name`` (see _PAINTERS for the names)."""
    cached = _cache.get(name)
    if cached is None:
        cached = QtGui.QIcon()
        for size in (16, 24, 32):
            cached.addPixmap(pixmap(name, size))
        _cache[name] = cached
    return cached


def names() -> list[str]:
    return sorted(_PAINTERS)
