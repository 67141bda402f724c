"""What the account server does, apart from HTTP.

- ``challenge(account)``: a one-time nonce with the account's salt and
  iteration count (made-up but stable ones for an unknown account, so the
  answer does not tell which accounts exist).
- ``renew(account, nonce, proof, system-id, level)``: checks the proof of the
  password; on a system ID's first renewal registers it to the account with
  a 60-day trial of ``level``; answers a signed key.  Later renewals keep the
  level the server has (a trial's level is fixed; a higher one is bought on
  the server, ``upgrade``).
- ``refresh(system-id, key)``: the routers' scheduled renewal, authorised by
  the key this server signed for them.
- Keys say ``next-renewal-at`` = now + 30 days and ``deadline-at`` = now + 60
  days (as in the CHR document's example), a trial's both capped at its end.
  A trial that ended without a purchase is refused; two months after its end
  it no longer appears in the account either (CHR document, "60-day trial").
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from winbox_agent import licensekey, licenseproof
from winbox_agent.licensekey import PAID_LEVELS, KeyRefused

from .db import Database
from .signing import Signer

DAY = 86400
TRIAL_DAYS = 60
RENEW_AFTER = 30 * DAY
DEADLINE_AFTER = 60 * DAY
DELIST_AFTER = 60 * DAY              # an unpaid trial leaves the account this long after its end
NONCE_SECONDS = 120
MAX_NONCES = 10000
DEFAULT_ITERATIONS = 200000
FAILURES_ALLOWED = 5                 # failed logins per account ...
FAILURE_WINDOW = 300                 # ... within this many seconds


class ServiceError(Exception):
    """A refusal: the HTTP status and the message the router shows after ``ERROR:``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _date(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def _text(body: Dict[str, Any], name: str, limit: int = 255) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ServiceError(400, "bad request: %s must be a non-empty string of at most %d characters"
                           % (name, limit))
    return value


def check_account_name(name: str) -> str:
    if not name or len(name) > 255 or any(c.isspace() or not c.isprintable() for c in name):
        raise ValueError("an account name is 1 to 255 printable characters without spaces")
    return name


class LicenseService:
    """The server's logic over one database and one signing key.

    Attributes:
        db: the :class:`Database`.
        signer: the server's :class:`Signer`.
        clock: seconds since the epoch (``time.time``).
    """

    def __init__(self, db: Database, signer: Signer, clock: Callable[[], float] = time.time):
        self.db = db
        self.signer = signer
        self.clock = clock
        self._lock = threading.Lock()
        self._nonces: Dict[str, tuple] = {}
        self._failures: Dict[str, List[float]] = {}
        self._secret = db.secret()

    def now(self) -> int:
        return int(self.clock())

    # -- accounts (command line) ---------------------------------------------------------
    @staticmethod
    def credentials(password: str, iterations: int = DEFAULT_ITERATIONS) -> tuple:
        if not password:
            raise ValueError("the password must not be empty")
        if not licenseproof.MIN_ITERATIONS <= iterations <= licenseproof.MAX_ITERATIONS:
            raise ValueError("iterations must be %d..%d" % (licenseproof.MIN_ITERATIONS,
                                                          licenseproof.MAX_ITERATIONS))
        salt = secrets.token_bytes(16)
        _, stored_key = licenseproof.salted_keys(password, salt, iterations)
        return salt, iterations, stored_key

    # -- the endpoints ---------------------------------------------------------------------
    def challenge(self, body: Dict[str, Any]) -> Dict[str, Any]:
        account = _text(body, "account")
        with self._lock:
            row = self.db.account(account)
            if row is not None:
                salt, iterations = bytes(row["salt"]), row["iterations"]
            else:
                salt = hmac.new(self._secret, account.encode(), hashlib.sha256).digest()[:16]
                iterations = DEFAULT_ITERATIONS
            now = time.monotonic()
            for n in [n for n, (_, until) in self._nonces.items() if until < now]:
                del self._nonces[n]
            while len(self._nonces) >= MAX_NONCES:
                del self._nonces[next(iter(self._nonces))]
            nonce = secrets.token_urlsafe(24)
            self._nonces[nonce] = (account, now + NONCE_SECONDS)
        return {"nonce": nonce, "salt": base64.b64encode(salt).decode(), "iterations": iterations}

    def renew(self, body: Dict[str, Any]) -> Dict[str, Any]:
        account = _text(body, "account")
        nonce = _text(body, "nonce", 100)
        system_id = _text(body, "system-id", 64)
        level = _text(body, "level", 32)
        try:
            proof = base64.b64decode(_text(body, "proof", 100), validate=True)
        except (binascii.Error, ValueError):
            raise ServiceError(400, "bad request: proof must be base64") from None
        if level not in PAID_LEVELS:
            raise ServiceError(400, "unknown level %s (allowed: %s)" % (level, ", ".join(PAID_LEVELS)))
        if not licensekey.SYSTEM_ID_RE.fullmatch(system_id):
            raise ServiceError(400, "bad request: %s is not a system ID" % system_id)
        with self._lock:
            issued = self._nonces.pop(nonce, None)
            if issued is None or issued[0] != account or issued[1] < time.monotonic():
                raise ServiceError(400, "the challenge expired or was already used; renew again")
            self._throttle(account)
            row = self.db.account(account)
            msg = licenseproof.message(account, nonce, system_id, level)
            if row is None or not licenseproof.check_proof(bytes(row["stored_key"]), msg, proof):
                self._failed(account)
                raise ServiceError(401, "Unauthorized")
            self._failures.pop(account, None)
            now = self.now()
            with self.db.transaction():
                system = self.db.system(system_id)
                if system is None:
                    self.db.register(system_id, account, level, now, now + TRIAL_DAYS * DAY)
                elif system["account"] != account:
                    raise ServiceError(403, "system ID %s is registered to another account" % system_id)
                return {"key": self._issue(system_id, now)}

    def refresh(self, body: Dict[str, Any]) -> Dict[str, Any]:
        system_id = _text(body, "system-id", 64)
        text = _text(body, "key", 4096)
        try:
            key = licensekey.parse(text)
        except KeyRefused as exc:
            raise ServiceError(400, "the key is not valid: %s" % exc) from None
        if key.signer != self.signer.key_id or not self.signer.verify(key.message, key.signature):
            raise ServiceError(403, "the key was not issued by this server")
        if key.system_id != system_id:
            raise ServiceError(403, "the key is for system ID %s, not %s" % (key.system_id, system_id))
        with self._lock:
            now = self.now()
            with self.db.transaction():
                if self.db.system(system_id) is None:
                    raise ServiceError(404, "system ID %s is not registered on this server" % system_id)
                return {"key": self._issue(system_id, now)}

    def _failed(self, account: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= MAX_NONCES:       # forget accounts whose failures are old
            for name in [n for n, times in self._failures.items() if not times or now - times[-1] >= FAILURE_WINDOW]:
                del self._failures[name]
        self._failures.setdefault(account, []).append(now)

    def _throttle(self, account: str) -> None:
        now = time.monotonic()
        recent = [t for t in self._failures.get(account, []) if now - t < FAILURE_WINDOW]
        self._failures[account] = recent
        if len(recent) >= FAILURES_ALLOWED:
            wait = int(FAILURE_WINDOW - (now - recent[0])) + 1
            raise ServiceError(429, "too many failed logins for this account; try again in %d s" % wait)

    def _issue(self, system_id: str, now: int) -> str:
        """A signed key for a registered system (inside a transaction)."""
        system = self.db.system(system_id)
        assert system is not None
        paid = bool(system["paid"])
        if not paid and now >= system["trial_ends_at"]:
            raise ServiceError(403, "the %d-day trial of system ID %s ended on %s; buy a license for it on the "
                                    "account server" % (TRIAL_DAYS, system_id, _date(system["trial_ends_at"])))
        deadline = now + DEADLINE_AFTER
        if not paid:
            deadline = min(deadline, system["trial_ends_at"])
        renewal = min(now + RENEW_AFTER, deadline)
        serial = system["serial"] + 1
        self.db.issued(system_id, serial, now)
        return licensekey.signed_text(system_id, system["level"], not paid, serial, now, renewal, deadline,
                                      self.signer.public, self.signer.sign)

    # -- the account holder's side (command line) ----------------------------------------------
    def upgrade(self, system_id: str, level: str) -> Dict[str, Any]:
        """Buy ``level`` for a system (from its trial, or up from a lower paid level)."""
        if level not in PAID_LEVELS:
            raise ServiceError(400, "unknown level %s (allowed: %s)" % (level, ", ".join(PAID_LEVELS)))
        with self._lock, self.db.transaction():
            system = self.db.system(system_id)
            now = self.now()
            if system is None or not self._listed(system, now):
                raise ServiceError(404, "system ID %s is not in any account" % system_id)
            if system["paid"] and PAID_LEVELS.index(level) <= PAID_LEVELS.index(system["level"]):
                raise ServiceError(400, "system ID %s already has a %s license; it can only be upgraded "
                                        "to a higher level" % (system_id, system["level"]))
            self.db.set_level(system_id, level, paid=True)
            return dict(self.db.system(system_id) or {})

    def listing(self, account: Optional[str] = None) -> List[Dict[str, Any]]:
        """The systems an account holder sees (all accounts when None)."""
        now = self.now()
        return [s for s in self.db.systems(account) if self._listed(s, now)]

    @staticmethod
    def _listed(system: Dict[str, Any], now: int) -> bool:
        return bool(system["paid"]) or now < system["trial_ends_at"] + DELIST_AFTER
