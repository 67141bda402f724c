"""The server's Ed25519 key: made by ``keygen``, kept as a PKCS#8 PEM file
readable by its owner only, used to sign license keys."""

import base64
import os
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from winbox_agent.licensekey import key_id


class KeyFileError(Exception):
    """The key file is missing, unreadable or not an Ed25519 private key."""


class Signer:
    """Signs with the server's private key.

    Attributes:
        public: the 32 raw bytes of the public key.
        public_b64: the same in base64: the routers' ``license-server-key``.
        key_id: the short name keys carry in their ``signer`` field.
    """

    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
        self.public_b64 = base64.b64encode(self.public).decode()
        self.key_id = key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def generate(path: str, force: bool = False) -> Signer:
    """Make a new key at ``path`` (mode 0600); refuses to replace one unless ``force``."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyFileError("%s already exists: keep it (every router trusts its public key) or use --force"
                           % path) from None
    except OSError as exc:
        raise KeyFileError("cannot create %s: %s" % (path, exc.strerror)) from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(pem)
    return Signer(private)


def load(path: Optional[str]) -> Signer:
    """The key at ``path``."""
    if not path:
        raise KeyFileError("no --key FILE given (make one with: winbox-license-server keygen --key FILE)")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise KeyFileError("no key file %s (make one with: winbox-license-server keygen --key %s)"
                           % (path, path)) from None
    except OSError as exc:
        raise KeyFileError("cannot read %s: %s" % (path, exc.strerror)) from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError("%s is not an unencrypted PEM private key (%s)" % (path, exc)) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError("%s is not an Ed25519 key" % path)
    return Signer(private)
