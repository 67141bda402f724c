"""The unknown-host-key question, asked without blocking the event loop.

:func:`ask` shows the host and its key fingerprint (``SHA256:...`` as OpenSSH
prints it) and resolves to True (accept and remember) or False (refuse).
"""

from __future__ import annotations

import asyncio

from winbox_py.qt import QtWidgets

TEXT = ("The authenticity of host %s can't be established.\n\n"
        "Key fingerprint:\n%s\n\n"
        "Accept the key and remember it for later connections? Only accept it if you know "
        "this is the router's key.")


class HostKeyBox(QtWidgets.QMessageBox):
    """The question; ``answer`` is the future the caller awaits."""

    def __init__(self, host: str, fingerprint: str, parent=None):
        super().__init__(parent)
        self.setIcon(QtWidgets.QMessageBox.Warning)
        self.setWindowTitle("Unknown host key")
        self.setText(TEXT % (host, fingerprint))
        self.accept_button = self.addButton("Accept", QtWidgets.QMessageBox.AcceptRole)
        self.refuse_button = self.addButton("Refuse", QtWidgets.QMessageBox.RejectRole)
        self.setDefaultButton(self.refuse_button)
        self.answer: asyncio.Future = asyncio.get_event_loop().create_future()
        self.buttonClicked.connect(self._clicked)
        self.finished.connect(lambda _r: self._resolve(False))

    def _clicked(self, button) -> None:
        self._resolve(button is self.accept_button)

    def _resolve(self, value: bool) -> None:
        if not self.answer.done():
            self.answer.set_result(value)


async def ask(host: str, fingerprint: str, parent=None) -> bool:
    box = HostKeyBox(host, fingerprint, parent)
    box.open()
    ask.last_box = box  # type: ignore[attr-defined]  (tests press its buttons)
    try:
        return await box.answer
    finally:
        box.deleteLater()
