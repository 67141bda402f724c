"""The Comment dialog (Ctrl+M): one multi-line text, OK / Cancel.

Non-modal: it calls back with the text instead of blocking in ``exec()``, so
the asyncio work behind the windows keeps running while it is open.
"""

from __future__ import annotations

from typing import Callable

from winbox_py.qt import Qt, QtWidgets


class CommentDialog(QtWidgets.QDialog):
    """Edits one item's (or several items') comment.

    Attributes:
        edit: the text field.
    """

    def __init__(self, title: str, text: str, on_ok: Callable[[str], None], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self._on_ok = on_ok
        self.edit = QtWidgets.QPlainTextEdit(self)
        self.edit.setPlainText(text)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(buttons)
        self.resize(360, 160)

    def _ok(self) -> None:
        self._on_ok(self.edit.toPlainText().replace("\n", " ").strip())
        self.accept()
