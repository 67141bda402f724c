"""Which menus open a hand-made window instead of the generated dialog.

System > License opens :class:`~winbox_py.views.license.LicenseWindow` (with
Generate New ID and Renew License), System > Resources opens
:class:`~winbox_py.views.resourcewindow.ResourceWindow`. The main window asks
:func:`make` for them; every other menu keeps its table or dialog.
"""

from __future__ import annotations

from typing import Any, Callable

from winbox_py.qt import QtWidgets

WINDOWS = ("/system/license", "/system/resource")


def make(path: str, session: Any, parent: QtWidgets.QWidget, open_settings: Callable[[], Any] | None = None,
         credentials: Any = None) -> QtWidgets.QDialog:
    """The window for ``path`` (one of WINDOWS)."""
    if path == "/system/license":
        from winbox_py.views.license import LicenseWindow
        if credentials is None:
            from winbox_py.backend.credentials import Credentials
            credentials = Credentials()
        return LicenseWindow(session, credentials, open_settings, parent)
    if path == "/system/resource":
        from winbox_py.views.resourcewindow import ResourceWindow
        return ResourceWindow(session, parent)
    raise KeyError("no hand-made window for %s" % path)
