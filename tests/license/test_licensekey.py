"""The license key format and the rules a key must pass before a router takes it."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from winbox_agent import licensekey, licenseproof
from winbox_agent.licensekey import KeyRefused

T0 = 1449871199          # dec/11/2015 21:59:59 UTC: the CHR document's example renews then
DAY = 86400


def _signer(seed: int = 1):
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private, public


def _key(system_id: str = "6R1ZP/utuJx", level: str = "p1", seed: int = 1, issued: int = T0) -> str:
    private, public = _signer(seed)
    return licensekey.signed_text(system_id, level, True, 1, issued, issued + 30 * DAY, issued + 60 * DAY,
                                  public, private.sign)


def _replace_line(text: str, name: str, value: str) -> str:
    return "\n".join("%s: %s" % (name, value) if ln.startswith(name + ":") else ln for ln in text.split("\n"))


def test_a_key_reads_as_the_document_example():
    text = _key()
    lines = text.strip().split("\n")
    assert lines[0] == licensekey.BEGIN and lines[-1] == licensekey.END
    assert lines[1:9] == ["system-id: 6R1ZP/utuJx", "level: p1", "trial: yes", "serial: 1",
                          "issued-at: 2015-12-11T21:59:59Z", "next-renewal-at: 2016-01-10T21:59:59Z",
                          "deadline-at: 2016-02-09T21:59:59Z", "signer: %s" % licensekey.key_id(_signer()[1])]
    key = licensekey.check(text, _signer()[1], "6R1ZP/utuJx")
    assert (key.level, key.trial, key.serial) == ("p1", True, 1)
    assert (key.issued_at, key.next_renewal_at, key.deadline_at) == (T0, T0 + 30 * DAY, T0 + 60 * DAY)


def test_a_key_survives_mail_and_windows_line_ends():
    text = _key()
    pasted = "Here is your key:\r\n\r\n" + "\r\n".join("   " + ln for ln in text.split("\n")) + "\r\nRegards\r\n"
    assert licensekey.check(pasted, _signer()[1], "6R1ZP/utuJx").level == "p1"


@pytest.mark.parametrize("name,value", [
    ("system-id", "6R1ZP/utuJy"), ("level", "p-unlimited"), ("trial", "no"), ("serial", "2"),
    ("issued-at", "2015-12-11T21:59:58Z"), ("next-renewal-at", "2016-01-11T21:59:59Z"),
    ("deadline-at", "2030-02-09T21:59:59Z"),
])
def test_changing_any_field_breaks_the_signature(name, value):
    tampered = _replace_line(_key(), name, value)
    with pytest.raises(KeyRefused) as info:
        licensekey.check(tampered, _signer()[1], "6R1ZP/utuJy" if name == "system-id" else "6R1ZP/utuJx")
    assert str(info.value) == "its signature does not match: the key was altered"


def test_a_key_of_another_server_is_refused_by_name():
    text = _key(seed=2)
    with pytest.raises(KeyRefused) as info:
        licensekey.check(text, _signer(1)[1], "6R1ZP/utuJx")
    assert str(info.value).startswith("it was signed by another server (key %s)" % licensekey.key_id(_signer(2)[1]))
    # claiming to be from the trusted server does not help: the signature is the other server's
    forged = _replace_line(text, "signer", licensekey.key_id(_signer(1)[1]))
    with pytest.raises(KeyRefused, match="the key was altered"):
        licensekey.check(forged, _signer(1)[1], "6R1ZP/utuJx")


def test_a_key_for_another_system_is_refused():
    with pytest.raises(KeyRefused) as info:
        licensekey.check(_key("AAAAbbbbCCC"), _signer()[1], "6R1ZP/utuJx")
    assert str(info.value) == "it is for system ID AAAAbbbbCCC, and this router's is 6R1ZP/utuJx"


def test_an_older_key_than_the_one_held_is_refused():
    text = _key(issued=T0)
    assert licensekey.check(text, _signer()[1], "6R1ZP/utuJx", not_before=T0).serial == 1
    with pytest.raises(KeyRefused, match=r"older than the key this router has \(issued 2015-12-11T21:59:59Z"):
        licensekey.check(text, _signer()[1], "6R1ZP/utuJx", not_before=T0 + 1)


@pytest.mark.parametrize("change,message", [
    (lambda t: t.replace(licensekey.BEGIN, ""), "it is not a license key"),
    (lambda t: _replace_line(t, "level", "p2"), "level 'p2' is not one of p1, p10, p-unlimited"),
    (lambda t: _replace_line(t, "level", "free"), "level 'free' is not one of"),
    (lambda t: _replace_line(t, "trial", "maybe"), "trial must be yes or no"),
    (lambda t: _replace_line(t, "serial", "-1"), "serial must be a positive number"),
    (lambda t: _replace_line(t, "deadline-at", "feb/09/2016"), "deadline-at 'feb/09/2016' is not a time"),
    (lambda t: _replace_line(t, "deadline-at", "2015-01-01T00:00:00Z"), "are out of order"),
    (lambda t: _replace_line(t, "system-id", "a b"), "system-id 'a b' is not a system ID"),
    (lambda t: _replace_line(t, "signature", "abc"), "signature is not 64 bytes of base64"),
    (lambda t: t.replace("serial: 1\n", ""), "its fields must be system-id, level, trial, serial"),
    (lambda t: t.replace("serial: 1\n", "serial: 1\nserial: 1\n"), "its fields must be"),
    (lambda t: t.replace("trial: yes", "trial yes"), "'trial yes' is not a 'name: value' line"),
])
def test_malformed_keys_say_what_is_wrong(change, message):
    with pytest.raises(KeyRefused) as info:
        licensekey.check(change(_key()), _signer()[1], "6R1ZP/utuJx")
    assert message in str(info.value)


def test_server_key_must_be_32_bytes_of_base64():
    pub = _signer()[1]
    assert licensekey.public_key_bytes(base64.b64encode(pub).decode()) == pub
    for bad in ("", "not base64!", base64.b64encode(pub[:31]).decode()):
        with pytest.raises(KeyRefused, match="license-server-key is not a base64 Ed25519 public key"):
            licensekey.public_key_bytes(bad)


def test_speed_limits_of_the_levels():
    assert [licensekey.speed_limit(lv) for lv in licensekey.LEVELS] == ["1Mbit", "1Gbit", "10Gbit", "unlimited"]
    assert licensekey.SPEED_LIMITS["p10"] == 10 * 10 ** 9 and licensekey.SPEED_LIMITS["p-unlimited"] is None


def test_the_password_proof_binds_password_and_request():
    salt = b"s" * 16
    _, stored = licenseproof.salted_keys("wonderland", salt, 10000)
    msg = licenseproof.message("alice", "nonce1", "6R1ZP/utuJx", "p1")
    good = licenseproof.proof("wonderland", salt, 10000, msg)
    assert licenseproof.check_proof(stored, msg, good)
    assert not licenseproof.check_proof(stored, msg, licenseproof.proof("Wonderland", salt, 10000, msg))
    for other in (licenseproof.message("alice", "nonce2", "6R1ZP/utuJx", "p1"),
                  licenseproof.message("alice", "nonce1", "6R1ZP/utuJx", "p10"),
                  licenseproof.message("alice", "nonce1", "AAAAbbbbCCC", "p1")):
        assert not licenseproof.check_proof(stored, other, good)
    assert not licenseproof.check_proof(stored, msg, good[:-1])
    assert b"wonderland" not in good + stored
