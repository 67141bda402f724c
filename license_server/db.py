"""The server's database (SQLite): accounts and the systems registered to them.

``accounts``: name, salt, PBKDF2 iteration count and ``stored_key`` (see
:mod:`winbox_agent.licenseproof`); never a password.
``systems``: one row per system ID: its account, level, whether it is paid
for (else a trial), when the trial ends, and the serial of the last key.
``meta``: a random secret (fake salts for unknown accounts).
"""

import os
import secrets
import sqlite3
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    salt BLOB NOT NULL,
    iterations INTEGER NOT NULL,
    stored_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS systems (
    system_id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts(name),
    level TEXT NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL,
    trial_ends_at INTEGER NOT NULL,
    serial INTEGER NOT NULL DEFAULT 0,
    last_issued_at INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""


class DatabaseError(Exception):
    """The database cannot be opened or is not ours."""


class Database:
    """A connection to the database file, made if missing (mode 0600)."""

    def __init__(self, path: Optional[str]):
        if not path:
            raise DatabaseError("no --db FILE given")
        if not os.path.exists(path):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise DatabaseError("cannot create %s: %s" % (path, exc.strerror)) from None
        try:
            self.conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise DatabaseError("%s has schema version %d; this server knows %d" % (
                    path, version, SCHEMA_VERSION))
            self.conn.executescript(SCHEMA)
            self.conn.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError("%s is not a license server database (%s)" % (path, exc)) from None
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> Any:
        """``with db.transaction():`` runs the statements inside as one."""
        return _Transaction(self.conn)

    # -- meta -----------------------------------------------------------------------
    def secret(self) -> bytes:
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'secret'").fetchone()
        if row is not None:
            return bytes(row["value"])
        value = secrets.token_bytes(32)
        self.conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('secret', ?)", (value,))
        return bytes(self.conn.execute("SELECT value FROM meta WHERE name = 'secret'").fetchone()["value"])

    # -- accounts -------------------------------------------------------------------
    def account(self, name: str) -> Optional[Dict[str, Any]]:
        row = self.conn.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
        return dict(row) if row is not None else None

    def add_account(self, name: str, salt: bytes, iterations: int, stored_key: bytes, now: int) -> None:
        self.conn.execute("INSERT INTO accounts (name, salt, iterations, stored_key, created_at) "
                          "VALUES (?, ?, ?, ?, ?)", (name, salt, iterations, stored_key, now))

    def set_password(self, name: str, salt: bytes, iterations: int, stored_key: bytes) -> bool:
        cur = self.conn.execute("UPDATE accounts SET salt = ?, iterations = ?, stored_key = ? WHERE name = ?",
                                (salt, iterations, stored_key, name))
        return cur.rowcount == 1

    # -- systems --------------------------------------------------------------------
    def system(self, system_id: str) -> Optional[Dict[str, Any]]:
        row = self.conn.execute("SELECT * FROM systems WHERE system_id = ?", (system_id,)).fetchone()
        return dict(row) if row is not None else None

    def register(self, system_id: str, account: str, level: str, now: int, trial_ends_at: int) -> None:
        self.conn.execute("INSERT INTO systems (system_id, account, level, paid, registered_at, trial_ends_at) "
                          "VALUES (?, ?, ?, 0, ?, ?)", (system_id, account, level, now, trial_ends_at))

    def issued(self, system_id: str, serial: int, now: int) -> None:
        self.conn.execute("UPDATE systems SET serial = ?, last_issued_at = ? WHERE system_id = ?",
                          (serial, now, system_id))

    def set_level(self, system_id: str, level: str, paid: bool) -> None:
        self.conn.execute("UPDATE systems SET level = ?, paid = ? WHERE system_id = ?",
                          (level, 1 if paid else 0, system_id))

    def systems(self, account: Optional[str] = None) -> List[Dict[str, Any]]:
        if account is None:
            rows = self.conn.execute("SELECT * FROM systems ORDER BY account, registered_at")
        else:
            rows = self.conn.execute("SELECT * FROM systems WHERE account = ? ORDER BY registered_at", (account,))
        return [dict(r) for r in rows]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")
