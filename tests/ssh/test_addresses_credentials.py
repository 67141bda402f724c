"""Addresses as typed, the saved-routers file, and where passwords go."""

from __future__ import annotations

import json
import os

import keyring.backends.fail
import keyring.backends.null
import pytest

from winbox_py.backend.addressbook import AddressBook, AddressBookError, Entry
from winbox_py.backend.connect import Address, parse_address
from winbox_py.backend.credentials import Credentials
from winbox_py.backend.ssh import ConnectError

# --- addresses ----------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("192.168.88.1", Address("192.168.88.1")),
    ("192.168.88.1:2222", Address("192.168.88.1", 2222)),
    ("admin@router.lan", Address("router.lan", None, "admin")),
    ("admin@10.0.0.1:22", Address("10.0.0.1", 22, "admin")),
    ("[fe80::1]", Address("fe80::1")),
    ("[2001:db8::7]:8022", Address("2001:db8::7", 8022)),
    ("ops@[2001:db8::7]:8022", Address("2001:db8::7", 8022, "ops")),
    ("2001:db8::7", Address("2001:db8::7")),
    ("fe80::1%eth0", Address("fe80::1%eth0")),
    ("  core-1  ", Address("core-1")),
])
def test_addresses_are_parsed(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text, words", [
    ("", ["address", "empty"]),
    ("host:0", ["port", "1..65535"]),
    ("host:http", ["port", "'http'"]),
    ("[2001:db8::7", ["']'"]),
    ("[not-v6]:22", ["not an IPv6 address"]),
    ("[::1]x", ["unexpected"]),
    ("bad host", ["not a host name"]),
    ("a b@host", ["not a valid user name"]),
])
def test_bad_addresses_say_what_is_wrong(text, words):
    with pytest.raises(ConnectError) as info:
        parse_address(text)
    assert info.value.kind == "invalid"
    for word in words:
        assert word in info.value.message


# --- the address book ------------------------------------------------------------


def test_saved_routers_survive_a_restart_without_secrets(tmp_path):
    path = tmp_path / "cfg" / "addresses.json"
    book = AddressBook(path)
    book.put({"address": "192.168.88.1", "user": "admin", "group": "office", "comment": "main\nrouter"})
    book.put(Entry("[2001:db8::1]:2222", "ops", keyfile="~/.ssh/id_ops"))
    book.put({"address": "192.168.88.1", "user": "admin", "group": "lab"})  # same router: replaced
    again = AddressBook(path)
    assert again.warning is None
    assert [(e.address, e.user, e.group) for e in again.entries] == [
        ("192.168.88.1", "admin", "lab"), ("[2001:db8::1]:2222", "ops", "")]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "password" not in path.read_text()


def test_bad_entries_are_refused_naming_the_field(tmp_path):
    book = AddressBook(tmp_path / "a.json")
    with pytest.raises(AddressBookError, match="address: required"):
        book.put({"address": ""})
    with pytest.raises(AddressBookError, match="port"):
        book.put({"address": "host:70000"})
    with pytest.raises(AddressBookError, match="group: expected text"):
        book.put({"address": "host", "group": 5})
    with pytest.raises(AddressBookError, match="user: .* differs"):
        book.put({"address": "root@host", "user": "admin"})
    assert book.entries == [] and not (tmp_path / "a.json").exists()


def test_import_takes_the_good_entries_and_reports_the_rest(tmp_path):
    src = tmp_path / "import.json"
    src.write_text(json.dumps({"format": "winbox-py-addresses", "version": 1, "routers": [
        {"address": "10.0.0.1", "user": "admin", "password": "hunter2"},
        {"address": "10.0.0.2:99999"},
        {"address": "10.0.0.3", "comment": "edge"},
    ]}))
    book = AddressBook(tmp_path / "book.json")
    count, problems = book.import_from(src)
    assert count == 2
    assert [e.address for e in book.entries] == ["10.0.0.1", "10.0.0.3"]
    assert any("entry 1" in p and "password not imported" in p for p in problems)
    assert any("entry 2" in p and "port" in p for p in problems)
    assert "hunter2" not in (tmp_path / "book.json").read_text()


def test_export_then_import_elsewhere_gives_the_same_list(tmp_path):
    book = AddressBook(tmp_path / "one.json")
    book.put({"address": "r1", "user": "a", "group": "g1", "comment": "c"})
    book.put({"address": "r2:2200", "keyfile": "/k"})
    assert book.export_to(tmp_path / "out.json") == 2
    other = AddressBook(tmp_path / "two.json")
    assert other.import_from(tmp_path / "out.json") == (2, [])
    assert other.entries == book.entries


def test_a_corrupt_file_is_moved_aside_not_lost(tmp_path):
    path = tmp_path / "addresses.json"
    path.write_text('{"format": "winbox-py-addresses", "version": 1, "routers": [')
    book = AddressBook(path)
    assert book.entries == [] and "moved to" in book.warning
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("addresses.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_text().endswith('"routers": [')
    book.put({"address": "fresh"})
    assert AddressBook(path).entries == [Entry("fresh")]


def test_a_file_with_a_bad_entry_keeps_a_copy_before_it_is_rewritten(tmp_path):
    path = tmp_path / "addresses.json"
    original = json.dumps({"format": "winbox-py-addresses", "version": 1,
                           "routers": [{"address": "ok"}, {"address": "bad host"}]})
    path.write_text(original)
    book = AddressBook(path)
    assert [e.address for e in book.entries] == ["ok"] and "skipped 1 bad entry" in book.warning
    book.put({"address": "new"})
    copies = [p for p in tmp_path.iterdir() if p.name.startswith("addresses.json.bak-")]
    assert len(copies) == 1 and copies[0].read_text() == original


# --- passwords ------------------------------------------------------------------------


def _files_containing(root, secret: str) -> list[str]:
    found = []
    for base, _, files in os.walk(root):
        for name in files:
            try:
                with open(os.path.join(base, name), "rb") as f:
                    if secret.encode() in f.read():
                        found.append(os.path.join(base, name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()],
                         ids=["fail", "null"])
def test_without_a_secure_store_passwords_stay_in_memory_for_the_session(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / ".local" / "share"))
    creds = Credentials(backend)
    assert not creds.persistent and "no secure password store" in creds.reason
    assert creds.set("10.0.0.1", "admin", "s3cret-pw") is False
    assert creds.get("10.0.0.1", "admin") == "s3cret-pw"
    assert creds.get("10.0.0.1", "other") is None
    assert Credentials(backend).get("10.0.0.1", "admin") is None  # the next program run
    creds.delete("10.0.0.1", "admin")
    assert creds.get("10.0.0.1", "admin") is None
    assert _files_containing(tmp_path, "s3cret-pw") == []


def test_a_store_that_fails_falls_back_to_memory_and_says_so(tmp_path, monkeypatch):
    secret_service = pytest.importorskip("keyring.backends.SecretService")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no session bus socket in there
    creds = Credentials(secret_service.Keyring())
    assert creds.persistent  # a real secure backend, until it fails
    assert creds.set("r1", "admin", "pw-in-memory") is False
    assert not creds.persistent and "failed" in creds.reason
    assert creds.get("r1", "admin") == "pw-in-memory"
    assert _files_containing(tmp_path, "pw-in-memory") == []
