"""Proving the account password to the license server without sending it.

A salted-challenge exchange in the manner of SCRAM (RFC 5802), with
PBKDF2-HMAC-SHA256:

- the server keeps, per account, a random ``salt``, an ``iterations`` count
  and ``stored_key = SHA256(client_key)`` where
  ``client_key = HMAC(PBKDF2(password, salt, iterations), "Client Key")``;
- for each renewal it hands out a fresh ``nonce`` with the salt and count;
- the router answers ``proof = client_key XOR HMAC(stored_key, message)``,
  where the message binds the nonce to the account, system ID and level asked
  for, so a proof cannot be replayed nor moved to another request;
- the server recovers ``client_key`` from the proof and checks its hash.

Someone watching the wire learns neither the password nor anything that logs
in again; a stolen account table does not give the passwords either.
Both sides use this module (the server imports it from the agent).
"""

import hashlib
import hmac
from typing import Tuple

PROOF_DOMAIN = b"winbox-py license renew 1\n"
MIN_ITERATIONS = 10000
MAX_ITERATIONS = 10000000


def salted_keys(password: str, salt: bytes, iterations: int) -> Tuple[bytes, bytes]:
    """``(client_key, stored_key)`` of a password."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return client_key, hashlib.sha256(client_key).digest()


def message(account: str, nonce: str, system_id: str, level: str) -> bytes:
    """What a proof is bound to."""
    return PROOF_DOMAIN + "\n".join((account, nonce, system_id, level)).encode("utf-8")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def proof(password: str, salt: bytes, iterations: int, msg: bytes) -> bytes:
    """The router's answer to a challenge."""
    client_key, stored_key = salted_keys(password, salt, iterations)
    return _xor(client_key, hmac.new(stored_key, msg, hashlib.sha256).digest())


def check_proof(stored_key: bytes, msg: bytes, answer: bytes) -> bool:
    """Whether ``answer`` proves the password behind ``stored_key``."""
    if len(answer) != hashlib.sha256().digest_size:
        return False
    client_key = _xor(answer, hmac.new(stored_key, msg, hashlib.sha256).digest())
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
