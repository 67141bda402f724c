"""Errors in plain words for people.

The back end raises RpcError (problem, message, property) for what the agent
refused and ConnectError-like exceptions (with a ``kind``) when a connection
fails; :func:`plain` turns any of them into one sentence for a status bar or
a message box, without a traceback.
"""

from __future__ import annotations

import asyncio
import socket

_CONNECT_KINDS = {
    "auth-refused": "The router refused the login: check the user name, password or key.",
    "unreachable": "Could not reach the router: check the address and that SSH is running on it.",
    "host-key-changed": "The router's host key has CHANGED since the last connection. "
                        "This may be an attack; the connection was refused.",
    "host-key-refused": "The router's host key was not accepted, so the connection was not made.",
    "no-python": "The router has no usable python3 (3.9 or newer), which the agent needs.",
    "timeout": "The router did not answer in time.",
}


def plain(exc: BaseException) -> str:
    """One sentence a person can act on."""
    kind = getattr(exc, "kind", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(kind, str) and kind in _CONNECT_KINDS:
        text = _CONNECT_KINDS[kind]
        if message and message not in text:
            text += " (" + message + ")"
        return text
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return _CONNECT_KINDS["timeout"]
    if isinstance(exc, socket.gaierror):
        return "The router's name could not be resolved: %s" % exc.strerror
    if isinstance(exc, ConnectionRefusedError):
        return "The router refused the connection (nothing listening on that port?)."
    if isinstance(exc, OSError) and exc.strerror:
        return "Network error: %s" % exc.strerror
    if getattr(exc, "problem", None) is not None:
        return message
    return message or exc.__class__.__name__
