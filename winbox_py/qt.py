"""The one place the views import Qt from.

Views write ``from winbox_py.qt import QtWidgets, QtCore, QtGui`` and never
import PySide6 themselves (tests/gui/test_qt_shim.py fails any other direct
import under winbox_py/views), so a move to another binding or version is a
change to this module only.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtTest, QtWidgets
from shiboken6 import isValid as is_alive

Signal = QtCore.Signal
Slot = QtCore.Slot
Qt = QtCore.Qt

__all__ = ["is_alive", "QtCore", "QtGui", "QtTest", "QtWidgets", "Signal", "Slot", "Qt"]
