"""The account server as routers and its operator meet it: the command line
(keygen, accounts, upgrade, list) and the HTTP answers to renewals."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from winbox_agent import licensekey, licenseproof

from tests.license.conftest import DAY, ENV, LicenseServer, server_cli

SYSTEM = "6R1ZP/utuJx"


def _key_of(answer: dict, server: LicenseServer, system_id: str = SYSTEM) -> licensekey.LicenseKey:
    return licensekey.check(answer["key"], base64.b64decode(server.public_key), system_id)


# -- command line ---------------------------------------------------------------------------------

def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path):
    key = tmp_path / "k.pem"
    out = server_cli("keygen", "--key", str(key))
    assert len(base64.b64decode(out.stdout.strip())) == 32
    assert "set license-server-key=%s" % out.stdout.strip() in out.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert server_cli("public-key", "--key", str(key)).stdout == out.stdout
    again = server_cli("keygen", "--key", str(key), check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert server_cli("public-key", "--key", str(key)).stdout == out.stdout        # untouched
    forced = server_cli("keygen", "--key", str(key), "--force")
    assert forced.stdout != out.stdout


def test_serving_without_a_key_says_how_to_make_one(tmp_path):
    run = server_cli("--db", str(tmp_path / "db"), "--key", str(tmp_path / "none.pem"), check=False)
    assert run.returncode == 2
    assert "no key file %s (make one with: winbox-license-server keygen" % (tmp_path / "none.pem") in run.stderr
    bad = server_cli("--db", str(tmp_path / "db"), "--key", str(tmp_path / "none.pem"), "--listen", "nowhere",
                     check=False)
    assert "--listen nowhere is not HOST:PORT" in bad.stderr


def test_accounts_keep_no_password(tmp_path):
    db = str(tmp_path / "accounts.db")
    server_cli("add-account", "--db", db, "alice", "--password-stdin", stdin="wonderland\n")
    server_cli("add-account", "--db", db, "bob", "--password-stdin", stdin="wonderland\n")
    with open(db, "rb") as fh:
        assert b"wonderland" not in fh.read()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT name, salt, stored_key FROM accounts ORDER BY name").fetchall()
    conn.close()
    assert [r[0] for r in rows] == ["alice", "bob"]
    assert rows[0][1] != rows[1][1] and rows[0][2] != rows[1][2]     # salted: same password, other hash
    dup = server_cli("add-account", "--db", db, "alice", "--password-stdin", stdin="x\n", check=False)
    assert dup.returncode == 2 and "account alice already exists" in dup.stderr
    empty = server_cli("add-account", "--db", db, "carol", "--password-stdin", stdin="\n", check=False)
    assert empty.returncode == 2 and "the password must not be empty" in empty.stderr
    spaced = server_cli("add-account", "--db", db, "a b", "--password-stdin", stdin="x\n", check=False)
    assert spaced.returncode == 2 and "without spaces" in spaced.stderr
    missing = server_cli("set-password", "--db", db, "carol", "--password-stdin", stdin="x\n", check=False)
    assert missing.returncode == 2 and "no account carol" in missing.stderr


def test_a_changed_password_is_the_one_that_works(server):
    assert server.renew("alice", "wonderland", SYSTEM)[0] == 200
    server_cli("set-password", "--db", str(server.db), "alice", "--password-stdin", stdin="looking-glass\n")
    assert server.renew("alice", "wonderland", SYSTEM) == (401, {"error": "Unauthorized"})
    assert server.renew("alice", "looking-glass", SYSTEM)[0] == 200


# -- renewals ----------------------------------------------------------------------------------------

def test_first_renewal_registers_a_60_day_trial(server):
    before = int(time.time())
    status, answer = server.renew("alice", "wonderland", SYSTEM, "p10")
    assert status == 200
    key = _key_of(answer, server)
    assert (key.level, key.trial, key.serial) == ("p10", True, 1)
    assert before <= key.issued_at <= time.time()
    assert key.next_renewal_at == key.issued_at + 30 * DAY
    assert key.deadline_at == key.issued_at + 60 * DAY
    listing = server_cli("list", "--db", str(server.db)).stdout
    assert SYSTEM in listing and "alice" in listing and "trial" in listing


def test_later_renewals_keep_the_trial_level_and_end(server):
    first = _key_of(server.renew("alice", "wonderland", SYSTEM, "p1")[1], server)
    server.sql("UPDATE systems SET registered_at = registered_at - ?, trial_ends_at = trial_ends_at - ?",
               50 * DAY, 50 * DAY)
    second = _key_of(server.renew("alice", "wonderland", SYSTEM, "p-unlimited")[1], server)
    assert (second.level, second.trial, second.serial) == ("p1", True, 2)
    assert second.deadline_at == first.deadline_at - 50 * DAY          # the trial's end, 10 days away
    assert second.next_renewal_at == second.deadline_at                 # not after the deadline


def test_wrong_password_and_unknown_account_are_both_unauthorized(server):
    assert server.renew("alice", "Wonderland", SYSTEM) == (401, {"error": "Unauthorized"})
    assert server.renew("mallory", "wonderland", SYSTEM) == (401, {"error": "Unauthorized"})
    assert server.sql("SELECT COUNT(*) FROM systems") == [(0,)]


def test_a_challenge_does_not_tell_whether_an_account_exists(server):
    _, known = server.post("/v1/challenge", {"account": "alice"})
    _, unknown = server.post("/v1/challenge", {"account": "mallory"})
    _, again = server.post("/v1/challenge", {"account": "mallory"})
    assert set(known) == set(unknown) == {"nonce", "salt", "iterations"}
    assert unknown["iterations"] >= 10000 and len(base64.b64decode(unknown["salt"])) == 16
    assert again["salt"] == unknown["salt"] and again["nonce"] != unknown["nonce"]


def test_a_challenge_is_good_for_one_renewal(server):
    _, ch = server.post("/v1/challenge", {"account": "alice"})
    msg = licenseproof.message("alice", ch["nonce"], SYSTEM, "p1")
    proof = base64.b64encode(licenseproof.proof("wonderland", base64.b64decode(ch["salt"]), ch["iterations"], msg))
    body = {"account": "alice", "nonce": ch["nonce"], "system-id": SYSTEM, "level": "p1", "proof": proof.decode()}
    assert server.post("/v1/renew", body)[0] == 200
    assert server.post("/v1/renew", body) == (400, {"error": "the challenge expired or was already used; "
                                                             "renew again"})
    # a proof made for p1 does not buy p10
    _, ch = server.post("/v1/challenge", {"account": "alice"})
    body.update(nonce=ch["nonce"], level="p10")
    assert server.post("/v1/renew", body) == (401, {"error": "Unauthorized"})


def test_unknown_level_and_bad_requests_are_named(server):
    assert server.renew("alice", "wonderland", SYSTEM, "p2") == (
        400, {"error": "unknown level p2 (allowed: p1, p10, p-unlimited)"})
    assert server.renew("alice", "wonderland", "not an id") == (
        400, {"error": "bad request: not an id is not a system ID"})
    assert server.post("/v1/renew", {"account": "alice"}) == (
        400, {"error": "bad request: nonce must be a non-empty string of at most 100 characters"})
    assert server.post("/v1/renew", None, raw=b"{not json") == (400, {"error": "bad request: the body is not JSON"})
    assert server.post("/v1/renew", [1]) == (400, {"error": "bad request: the body is not a JSON object"})
    assert server.post("/v1/other", {}) == (404, {"error": "no such endpoint /v1/other"})
    status, answer = server.post("/v1/renew", None, raw=b"x" * 20000)
    assert status == 413 and "larger than" in answer["error"]
    host, port = server.address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/v1/renew")
    assert conn.getresponse().status == 405
    conn.close()


def test_a_system_belongs_to_the_account_that_registered_it(server):
    server.add_account("bob", "builder")
    assert server.renew("alice", "wonderland", SYSTEM)[0] == 200
    assert server.renew("bob", "builder", SYSTEM) == (
        403, {"error": "system ID %s is registered to another account" % SYSTEM})
    assert server.renew("bob", "builder", "AAAAbbbbCCC")[0] == 200


def test_repeated_failures_are_slowed_down(server):
    for _ in range(5):
        assert server.renew("alice", "guess", SYSTEM)[0] == 401
    status, answer = server.renew("alice", "wonderland", SYSTEM)
    assert status == 429 and answer["error"].startswith("too many failed logins for this account; try again in")


def test_an_ended_trial_is_refused_until_bought(server):
    assert server.renew("alice", "wonderland", SYSTEM, "p1")[0] == 200
    server.sql("UPDATE systems SET trial_ends_at = ?", int(time.time()) - DAY)
    status, answer = server.renew("alice", "wonderland", SYSTEM)
    assert status == 403 and answer["error"].startswith("the 60-day trial of system ID %s ended on " % SYSTEM)
    assert "buy a license for it on the account server" in answer["error"]
    out = server_cli("upgrade", "--db", str(server.db), SYSTEM, "p10").stdout
    assert "p10 license, paid" in out
    key = _key_of(server.renew("alice", "wonderland", SYSTEM)[1], server)
    assert (key.level, key.trial) == ("p10", False)
    assert key.deadline_at == key.issued_at + 60 * DAY and key.next_renewal_at == key.issued_at + 30 * DAY
    down = server_cli("upgrade", "--db", str(server.db), SYSTEM, "p1", check=False)
    assert down.returncode == 1 and "already has a p10 license; it can only be upgraded" in down.stderr
    assert "p-unlimited license" in server_cli("upgrade", "--db", str(server.db), SYSTEM, "p-unlimited").stdout


def test_an_unpaid_trial_leaves_the_account_two_months_after_its_end(server):
    assert server.renew("alice", "wonderland", SYSTEM)[0] == 200
    server.sql("UPDATE systems SET trial_ends_at = ?", int(time.time()) - 61 * DAY)
    assert SYSTEM not in server_cli("list", "--db", str(server.db)).stdout
    gone = server_cli("upgrade", "--db", str(server.db), SYSTEM, "p1", check=False)
    assert gone.returncode == 1 and "is not in any account" in gone.stderr


def test_refresh_takes_only_this_servers_keys_for_registered_systems(server, servers):
    key = server.renew("alice", "wonderland", SYSTEM)[1]["key"]
    status, answer = server.post("/v1/refresh", {"system-id": SYSTEM, "key": key})
    assert status == 200 and _key_of(answer, server).serial == 2
    altered = key.replace("level: p1", "level: p10")
    assert server.post("/v1/refresh", {"system-id": SYSTEM, "key": altered}) == (
        403, {"error": "the key was not issued by this server"})
    assert server.post("/v1/refresh", {"system-id": "AAAAbbbbCCC", "key": key}) == (
        403, {"error": "the key is for system ID %s, not AAAAbbbbCCC" % SYSTEM})
    assert server.post("/v1/refresh", {"system-id": SYSTEM, "key": "hello"})[0] == 400
    server.sql("DELETE FROM systems")
    assert server.post("/v1/refresh", {"system-id": SYSTEM, "key": key}) == (
        404, {"error": "system ID %s is not registered on this server" % SYSTEM})


def test_the_log_names_requests_without_secrets(server):
    server.renew("alice", "wonderland", SYSTEM)
    server.renew("alice", "wrong", SYSTEM)
    server.stop()
    assert "/v1/renew 200 ok" in server.log and "/v1/renew 401 Unauthorized" in server.log
    assert "wonderland" not in server.log and "proof" not in server.log


def test_serves_on_ipv6_loopback(servers):
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError as exc:
        pytest.skip("this machine has no IPv6 loopback (%s)" % exc)
    srv = servers.start({"alice": "wonderland"})
    srv.stop()
    p = subprocess.Popen([sys.executable, "-m", "license_server", "--db", str(srv.db), "--key", str(srv.key),
                          "--listen", "[::1]:0"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("listening on [::1]:"), line + p.stderr.read()
        conn = http.client.HTTPConnection("::1", int(line.split()[2].rsplit(":", 1)[1]), timeout=10)
        conn.request("POST", "/v1/challenge", body=b'{"account": "alice"}')
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        p.terminate()
        p.wait(10)
        p.stdout.close()
        p.stderr.close()
