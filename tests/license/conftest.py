"""Fixtures of the license tests.

- ``servers``: ``servers.start(accounts={"alice": "pw"})`` makes a signing key
  and a database, then runs the real account server (``python3 -m
  license_server``) on a free loopback port as a child process; every server
  is stopped at the end.  ``servers.rogue(key_text)`` is an impostor in this
  process that answers any renewal with the key text it is given (what a
  man in the middle could send).
- ``agent_cli(state_dir, script)`` runs the real agent CLI in a subprocess.
- ``Clock``: a clock a test moves by hand, for Routers made in the test.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent import licenseproof  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "agent")]))
ITERATIONS = 10000          # the lowest allowed: the tests need speed, not strength
DAY = 86400


class Clock:
    """A clock the test moves by hand (starts at the real time, as the server's does)."""

    def __init__(self, t: float | None = None):
        self.t = time.time() if t is None else t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def server_cli(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """``python3 -m license_server ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "license_server", *args], env=ENV, input=stdin,
                          capture_output=True, text=True, timeout=60, check=check)


class LicenseServer:
    """A real account server in a child process.

    Attributes:
        db, key: its database and key files; public_key: its license-server-key;
        address: ``127.0.0.1:PORT`` while it runs; process: the Popen.
    """

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.db = directory / "accounts.db"
        self.key = directory / "server.pem"
        self.public_key = server_cli("keygen", "--key", str(self.key)).stdout.strip()
        self.process: subprocess.Popen | None = None
        self.address = ""

    def add_account(self, name: str, password: str) -> None:
        server_cli("add-account", "--db", str(self.db), name, "--password-stdin", "--iterations", str(ITERATIONS),
                   stdin=password + "\n")

    def start(self) -> "LicenseServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "license_server", "--db", str(self.db), "--key", str(self.key),
             "--listen", "127.0.0.1:0"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("the license server did not start: %r %s" % (line, self.process.stderr.read()))
        self.address = line.split()[2]
        return self

    def stop(self) -> None:
        p = self.process
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        p.stdout.close()
        self.log = p.stderr.read()
        p.stderr.close()
        self.process = None

    def sql(self, statement: str, *params: Any) -> list:
        """Run SQL on the server's database (to age a trial, to look inside)."""
        conn = sqlite3.connect(str(self.db))
        try:
            with conn:
                return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    def post(self, path: str, body: Any, raw: bytes | None = None) -> tuple[int, dict]:
        """A request as a router would make it; (status, JSON answer)."""
        host, port = self.address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            data = raw if raw is not None else json.dumps(body).encode()
            conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read().decode() or "{}")
        finally:
            conn.close()

    def renew(self, account: str, password: str, system_id: str, level: str = "p1") -> tuple[int, dict]:
        """challenge + renew with a proof made from ``password``."""
        status, ch = self.post("/v1/challenge", {"account": account})
        assert status == 200, ch
        msg = licenseproof.message(account, ch["nonce"], system_id, level)
        proof = licenseproof.proof(password, base64.b64decode(ch["salt"]), ch["iterations"], msg)
        return self.post("/v1/renew", {"account": account, "nonce": ch["nonce"], "system-id": system_id,
                                       "level": level, "proof": base64.b64encode(proof).decode()})


class RogueServer:
    """An impostor answering every challenge, and every renewal with ``key``."""

    def __init__(self, key: str):
        self.key = key
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(self.path)
                if self.path == "/v1/challenge":
                    answer = {"nonce": "n", "salt": base64.b64encode(b"s" * 16).decode(), "iterations": ITERATIONS}
                else:
                    answer = {"key": outer.key}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class Servers:
    """Starts account servers (and impostors) for one test; stops them all."""

    def __init__(self, base: Path):
        self.base = base
        self.started: list[Any] = []

    def start(self, accounts: dict[str, str] | None = None, name: str = "server") -> LicenseServer:
        srv = LicenseServer(self.base / name)
        for account, password in (accounts or {}).items():
            srv.add_account(account, password)
        self.started.append(srv)
        return srv.start()

    def rogue(self, key: str) -> RogueServer:
        r = RogueServer(key)
        self.started.append(r)
        return r

    def stop(self) -> None:
        for s in self.started:
            s.stop()


@pytest.fixture
def servers(tmp_path) -> Any:
    s = Servers(tmp_path / "servers")
    yield s
    s.stop()


@pytest.fixture
def server(servers) -> LicenseServer:
    """One running server with the account alice / wonderland."""
    return servers.start({"alice": "wonderland"})


def agent_cli(state_dir: Path, script: str, json_mode: bool = False) -> subprocess.CompletedProcess:
    """The real agent CLI on the sim driver (seed 1) in ``state_dir``."""
    cmd = [sys.executable, "-m", "winbox_agent", "--driver", "sim", "--state-dir", str(state_dir), "--seed", "1",
           "cli"]
    if json_mode:
        cmd.append("--json")
    return subprocess.run(cmd + ["-c", script], env=ENV, capture_output=True, text=True, timeout=120)


def drain(rows: Any, timeout: float = 30.0) -> list[str]:
    """The statuses of a renew stream, pacing ``next()`` as a caller does
    (a stream's ``next`` never waits); repeats of a status are dropped."""
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        for row in rows:
            if not out or out[-1] != row["status"]:
                out.append(row["status"])
            assert time.monotonic() < deadline, "the renewal did not end: %s" % out
            time.sleep(0.02)
    finally:
        rows.close()
    return out
