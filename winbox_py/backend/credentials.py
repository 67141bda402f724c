"""Router passwords: in the system keyring, or in memory for this session only.

Passwords are never written to a file by winbox-py. They go to the system's
secure store through ``keyring`` (Secret Service / GNOME Keyring / KWallet on
Linux, Keychain on macOS, Credential Manager on Windows). When keyring has no
secure backend here (its ``fail`` or ``null`` backends, a plaintext file
backend, or a store that errors, e.g. no D-Bus session), passwords are kept
in memory until the program exits and :attr:`Credentials.persistent` is False,
with :attr:`Credentials.reason` saying why: the GUI shows it next to the
"remember password" box.
"""

from __future__ import annotations

import threading

import keyring
import keyring.backend
import keyring.errors

SERVICE = "winbox-py"

# Backends that are not a secure store (matched by module and class name, so
# that optional third-party backends need not be importable).
_INSECURE = (
    ("keyring.backends.fail", "Keyring"),
    ("keyring.backends.null", "Keyring"),
    ("keyrings.alt.file", "PlaintextKeyring"),
)


def _insecure_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why ``backend`` is not a secure store, or None if it is one."""
    cls = type(backend)
    if (cls.__module__, cls.__name__) in _INSECURE or "plaintext" in cls.__name__.lower():
        return f"no secure password store is available (keyring backend {cls.__module__}.{cls.__name__})"
    inner = getattr(backend, "backends", None)
    if inner is not None:  # keyring's chainer: secure if any member is
        reasons = [_insecure_reason(b) for b in inner]
        if not inner or all(reasons):
            return "no secure password store is available (no usable keyring backend)"
    return None


class Credentials:
    """Passwords by ``user@address``.

    Attributes:
        persistent: True while passwords go to a secure system store; False
            when they are only remembered until the program exits.
        reason: why they are not persistent (None when they are).
    """

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, service: str = SERVICE):
        self._backend = backend or keyring.get_keyring()
        self._service = service
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        self.reason = _insecure_reason(self._backend)

    @property
    def persistent(self) -> bool:
        return self.reason is None

    @staticmethod
    def key(address: str, user: str) -> str:
        return f"{user}@{address}"

    def _fall_back(self, exc: Exception) -> None:
        self.reason = f"the system password store failed ({type(exc).__name__}: {exc}); passwords are kept " \
                      f"for this session only"

    def get(self, address: str, user: str) -> str | None:
        """The saved password, or None."""
        name = self.key(address, user)
        with self._lock:
            if name in self._memory:
                return self._memory[name]
        if not self.persistent:
            return None
        try:
            return self._backend.get_password(self._service, name)
        except Exception as exc:  # keyring errors, D-Bus errors, locked stores
            self._fall_back(exc)
            return None

    def set(self, address: str, user: str, password: str) -> bool:
        """Remember ``password``; True if it went to the secure store."""
        name = self.key(address, user)
        if self.persistent:
            try:
                self._backend.set_password(self._service, name, password)
                with self._lock:
                    self._memory.pop(name, None)
                return True
            except Exception as exc:
                self._fall_back(exc)
        with self._lock:
            self._memory[name] = password
        return False

    def delete(self, address: str, user: str) -> None:
        """Forget the password (from memory and the store)."""
        name = self.key(address, user)
        with self._lock:
            self._memory.pop(name, None)
        if self.persistent:
            try:
                self._backend.delete_password(self._service, name)
            except keyring.errors.PasswordDeleteError:
                pass
            except Exception as exc:
                self._fall_back(exc)
