"""The saved routers of the login window (WinBox's "Managed" list).

A plain JSON file, ``~/.config/winbox-py/addresses.json``, with no secrets:
passwords live in the keyring (credentials.py). Each entry has an address
(``[user@]host[:port]`` rules of connect.py), a user, a group, a comment and
an optional private key file; (address, user) is unique.

The same format is used to export to and import from a file; importing
validates every entry, skips bad ones with a reason naming the field, and
never takes a password along. A corrupt file is moved aside (never
overwritten), so nothing saved is lost.

File format::

    {"format": "winbox-py-addresses", "version": 1,
     "routers": [{"address": "192.168.88.1", "user": "admin", "group": "office",
                  "comment": "", "keyfile": ""}]}
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterable

from winbox_py.backend import paths
from winbox_py.backend.connect import parse_address
from winbox_py.backend.ssh import ConnectError

FORMAT = "winbox-py-addresses"
VERSION = 1
SECRET_KEYS = ("password", "passwd", "secret", "passphrase")
MAX_TEXT = 1000


class AddressBookError(ValueError):
    """A bad entry or file; the message names the field and what is allowed."""


@dataclass(frozen=True)
class Entry:
    """One saved router."""

    address: str
    user: str = ""
    group: str = ""
    comment: str = ""
    keyfile: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.address, self.user)


def validate(data: Any) -> Entry:
    """An Entry from a dict (as in the file), or AddressBookError."""
    if not isinstance(data, dict):
        raise AddressBookError(f"entry: expected an object, got {type(data).__name__}")
    known = {f.name for f in fields(Entry)}
    values: dict[str, str] = {}
    for name in known:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise AddressBookError(f"{name}: expected text, got {type(value).__name__}")
        if len(value) > MAX_TEXT:
            raise AddressBookError(f"{name}: longer than {MAX_TEXT} characters")
        if name != "comment" and any(ch in value for ch in "\r\n\0"):
            raise AddressBookError(f"{name}: must be one line")
        values[name] = value.strip() if name != "comment" else value
    if not values["address"]:
        raise AddressBookError("address: required (a host name or IP address, e.g. 192.168.88.1)")
    try:
        parsed = parse_address(values["address"])
    except ConnectError as exc:
        raise AddressBookError(exc.message) from None
    if values["user"] and any(ch in values["user"] for ch in " \t@:/"):
        raise AddressBookError(f"user: {values['user']!r} is not a valid user name")
    if parsed.user and values["user"] and parsed.user != values["user"]:
        raise AddressBookError(f"user: {values['user']!r} differs from the user in address {values['address']!r}")
    return Entry(**values)


class AddressBook:
    """The saved routers, loaded from and saved to a JSON file.

    Attributes:
        path: the file.
        entries: the routers, in the user's order.
        warning: set when the file could not be read (and was moved aside).
    """

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else paths.config_dir() / "addresses.json"
        self.entries: list[Entry] = []
        self.warning: str | None = None
        self._load()

    # --- file ---------------------------------------------------------------

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"{self.path}: cannot be read ({exc.strerror})"
            return
        try:
            entries, skipped = _parse(text)
        except AddressBookError as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                os.replace(self.path, aside)
                where = f"moved to {aside}"
            except OSError:
                where = "left in place"
            self.warning = f"{self.path}: {exc}; the file was {where} and the list starts empty"
            return
        self.entries = entries
        if skipped:
            # the next save drops them: keep the file as it was
            copy = self.path.with_name(f"{self.path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                paths.write_private_file(copy, text)
                kept = f" (the file as it was is kept in {copy})"
            except OSError:
                kept = ""
            self.warning = (f"{self.path}: skipped {len(skipped)} bad entr{'y' if len(skipped) == 1 else 'ies'}"
                            f"{kept}: " + "; ".join(skipped))

    def save(self) -> None:
        paths.write_private_file(self.path, dumps(self.entries))

    # --- editing --------------------------------------------------------------

    def find(self, address: str, user: str = "") -> Entry | None:
        for e in self.entries:
            if e.key == (address, user):
                return e
        return None

    def put(self, entry: Entry | dict, save: bool = True) -> Entry:
        """Add ``entry``, or replace the one with the same address and user."""
        entry = validate(asdict(entry) if isinstance(entry, Entry) else entry)
        for i, e in enumerate(self.entries):
            if e.key == entry.key:
                self.entries[i] = entry
                break
        else:
            self.entries.append(entry)
        if save:
            self.save()
        return entry

    def update(self, old: Entry, **changes: str) -> Entry:
        """Change fields of ``old`` (its address/user may change too)."""
        new = validate(asdict(replace(old, **changes)))
        if new.key != old.key and self.find(*new.key):
            raise AddressBookError(f"address: {new.user + '@' if new.user else ''}{new.address} is already saved")
        self.entries = [new if e.key == old.key else e for e in self.entries]
        self.save()
        return new

    def remove(self, address: str, user: str = "") -> bool:
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.key != (address, user)]
        if len(self.entries) != before:
            self.save()
            return True
        return False

    def groups(self) -> list[str]:
        return sorted({e.group for e in self.entries if e.group})

    # --- import / export ----------------------------------------------------------

    def export_to(self, path: Path | str, entries: Iterable[Entry] | None = None) -> int:
        chosen = list(self.entries if entries is None else entries)
        paths.write_private_file(Path(path), dumps(chosen))
        return len(chosen)

    def import_from(self, path: Path | str) -> tuple[int, list[str]]:
        """Merge a file's entries in; (entries added or updated, problems)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise AddressBookError(f"{path}: cannot be read ({exc.strerror})") from None
        entries, problems = _parse(text)
        for entry in entries:
            self.put(entry, save=False)
        if entries:
            self.save()
        return len(entries), problems


def dumps(entries: Iterable[Entry]) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION,
                       "routers": [asdict(e) for e in entries]}, indent=2) + "\n"


def _parse(text: str) -> tuple[list[Entry], list[str]]:
    """Entries of a file, and a problem line for each entry skipped."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AddressBookError(f"not valid JSON ({exc})") from None
    if isinstance(data, list):  # a bare list of entries is accepted too
        data = {"format": FORMAT, "version": VERSION, "routers": data}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AddressBookError(f"not a winbox-py address list (format must be {FORMAT!r})")
    if data.get("version") != VERSION:
        raise AddressBookError(f"version: {data.get('version')!r} is not supported (this program reads {VERSION})")
    routers = data.get("routers")
    if not isinstance(routers, list):
        raise AddressBookError("routers: expected a list")
    entries: list[Entry] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(routers, 1):
        try:
            entry = validate(item)
        except AddressBookError as exc:
            problems.append(f"entry {i}: {exc}")
            continue
        if isinstance(item, dict) and any(k in item for k in SECRET_KEYS):
            problems.append(f"entry {i}: password not imported (passwords are kept in the system keyring only)")
        if entry.key in seen:
            problems.append(f"entry {i}: {entry.address} (user {entry.user or '-'}) appears twice; the last one is kept")
            entries = [e for e in entries if e.key != entry.key]
        seen.add(entry.key)
        entries.append(entry)
    return entries, problems
