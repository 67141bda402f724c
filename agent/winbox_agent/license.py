"""The agent's license client: ``/system license renew`` and the renewal schedule.

Both drivers hand ``/system/license`` to a :class:`LicenseClient`:

- ``renew account= password= level=`` is a stream (:class:`Renewal`): status
  ``connecting``, ``renewing``, then ``done`` or ``ERROR: ...``.  The talking
  happens on a worker thread so that ``next()`` never waits; the key it
  brings back is checked (:func:`licensekey.check`: signed by the server key
  this router trusts, ``license-server-key``; for this system ID; not older
  than the key it has) and only then kept in ``license.key`` beside the
  configuration and recorded as the level, next-renewal-at and deadline-at.
  Anything else leaves the license as it was.
- The schedule (CHR document, "License Update"): from next-renewal-at on,
  reading the license (a print, the License window) tries to renew with the
  key the router has, at most once an hour, until the server answers; an
  error answer stops the attempts until the next manual renew.  Past
  deadline-at the level is kept and ``limited-upgrades`` reads yes.

The password never leaves the router: see :mod:`licenseproof`.  The server is
``license-server`` (``host:port``); port 443 is spoken to over HTTPS (with the
system's certificate authorities), any other port over plain HTTP, which is
safe for the password and the key alike but not private.
"""

import base64
import binascii
import http.client
import json
import os
import socket
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import licensekey, licenseproof
from .licensekey import KeyRefused
from .store import load_json, write_atomic

try:
    import fcntl
except ImportError:                  # not on every platform the demo runs on
    fcntl = None  # type: ignore[assignment]
try:
    import ssl
except ImportError:                  # minimal Pythons (OpenWrt's python3-light) have none
    ssl = None  # type: ignore[assignment]

LICENSE = "/system/license"
KEY_FILE = "license.key"
STATE_FILE = "license-client.json"
LOCK_FILE = "license.lock"
RETRY_SECONDS = 3600                # the document: "once an hour after next-renewal-at"
TIMEOUT = 10.0                      # connecting, and each read
REFRESH_WAIT = 2.0                  # how long a print waits for a scheduled renewal
MAX_REPLY = 64 * 1024
BUSY = "another renewal is already running"

_running: set = set()               # renewals of this process, by state dir (or router)
_running_guard = threading.Lock()


class NoAnswer(Exception):
    """The server could not be reached or sent something that is not an answer."""


class Refusal(Exception):
    """The server answered with an error (``Unauthorized``...)."""


def _printable(text: Any, limit: int = 200) -> str:
    """A server's message made safe to show: one line, printable, bounded."""
    s = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return s[:limit] or "no reason given"


def _split(server: str) -> Tuple[str, int]:
    host, _, port = server.rpartition(":")
    return host.strip("[]"), int(port)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "no answer within %d s" % TIMEOUT
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return "TLS failed (%s)" % (exc.reason or exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def post(server: str, path: str, body: Dict[str, Any], timeout: float = TIMEOUT) -> Dict[str, Any]:
    """POST ``body`` as JSON to the account server; its JSON answer, or
    :class:`Refusal` with the server's message, or :class:`NoAnswer`."""
    host, port = _split(server)
    if port == 443:
        if ssl is None:
            raise NoAnswer("cannot reach the license server %s: this router's Python has no ssl module "
                           "for HTTPS" % server)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        data = resp.read(MAX_REPLY + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise NoAnswer("cannot reach the license server %s: %s" % (server, _reason(exc))) from None
    finally:
        conn.close()
    try:
        if len(data) > MAX_REPLY:
            raise ValueError("too long")
        answer = json.loads(data.decode("utf-8"))
        if not isinstance(answer, dict):
            raise ValueError("not an object")
    except ValueError:
        raise NoAnswer("the license server %s sent something that is not an answer (HTTP %d)" % (
            server, resp.status)) from None
    if resp.status != 200:
        raise Refusal(_printable(answer.get("error") or "HTTP %d" % resp.status))
    return answer


class _Lock:
    """One renewal at a time per router: in this process (a set) and between
    processes sharing the state directory (``flock`` on ``license.lock``)."""

    def __init__(self, client: "LicenseClient"):
        self.name = client.router.state_dir or "memory:%d" % id(client.router)
        self.path = client.path(LOCK_FILE)
        self.fh: Any = None
        self.held = False

    def acquire(self) -> bool:
        with _running_guard:
            if self.name in _running:
                return False
            _running.add(self.name)
        if self.path and fcntl is not None:
            try:
                self.fh = open(self.path, "a")
                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if self.fh is not None:
                    self.fh.close()
                    self.fh = None
                with _running_guard:
                    _running.discard(self.name)
                return False
        self.held = True
        return True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self.fh is not None:
            self.fh.close()          # closing drops the flock
            self.fh = None
        with _running_guard:
            _running.discard(self.name)


class _Job:
    """Talking to the server on a worker thread.

    Attributes:
        reached: statuses passed so far (``connecting``, ``renewing``).
        outcome: ``("key", text)``, ``("refused", message)`` or
            ``("unreachable", message)`` once finished.
        how: ``renewed`` (a person's renew) or ``renewed by schedule``.
    """

    def __init__(self, work: Any, lock: _Lock, how: str):
        self.reached = ["connecting"]
        self.outcome: Optional[Tuple[str, str]] = None
        self.how = how
        self._work = work
        self._lock = lock
        self._release_at_end = False
        self._guard = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="license-renewal", daemon=True)
        self.thread.start()

    def reach(self, status: str) -> None:
        with self._guard:
            self.reached.append(status)

    def snapshot(self) -> Tuple[list, Optional[Tuple[str, str]]]:
        with self._guard:
            return list(self.reached), self.outcome

    def release_when_done(self) -> None:
        """Let go of the renewal lock once the worker ends (at once if it has)."""
        with self._guard:
            if self.outcome is None:
                self._release_at_end = True
                return
        self._lock.release()

    def _run(self) -> None:
        try:
            result = ("key", self._work(self))
        except Refusal as exc:
            result = ("refused", str(exc))
        except NoAnswer as exc:
            result = ("unreachable", str(exc))
        except Exception as exc:  # a bug must end the stream, not hang it
            result = ("unreachable", "renewal failed: %s" % (exc,))
        with self._guard:
            self.outcome = result
            release = self._release_at_end
        if release:
            self._lock.release()


def _key_of(answer: Dict[str, Any]) -> str:
    key = answer.get("key")
    if not isinstance(key, str):
        raise NoAnswer("the license server's answer has no key")
    return key


class LicenseClient:
    """The license of one router: renewals, the schedule, the kept key.

    Attributes:
        driver: the driver (``router``, ``now()``, ``log()``).
        generation: counts accepted keys, so a late scheduled renewal does
            not undo a newer manual one.
    """

    def __init__(self, driver: Any):
        self.driver = driver
        self.router = driver.router
        self.generation = 0
        self._memory: Dict[str, Any] = {}      # state and key of a router without a state dir
        self._pending: List[Tuple[_Job, int]] = []   # renewals whose outcome is taken at a later read

    # -- what is kept ---------------------------------------------------------------
    def path(self, name: str) -> Optional[str]:
        return os.path.join(self.router.state_dir, name) if self.router.state_dir else None

    def license(self) -> Dict[str, Any]:
        m = self.router.menu(LICENSE)
        return self.router.view(m, self.router.store.items(LICENSE)[0], runtime=False)

    def key_text(self) -> Optional[str]:
        path = self.path(KEY_FILE)
        if path is None:
            return self._memory.get("key")
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, ValueError):
            return None

    def _keep_key(self, text: str) -> None:
        path = self.path(KEY_FILE)
        if path is None:
            self._memory["key"] = text
        else:
            write_atomic(path, text.encode("utf-8"), mode=0o644)

    def state(self) -> Dict[str, Any]:
        path = self.path(STATE_FILE)
        if path is None:
            return dict(self._memory.get("state", {}))
        st = load_json(path, {})
        return st if isinstance(st, dict) else {}

    def save_state(self, st: Dict[str, Any]) -> None:
        path = self.path(STATE_FILE)
        if path is None:
            self._memory["state"] = dict(st)
        else:
            write_atomic(path, json.dumps(st).encode())

    def _when(self, name: str, value: int) -> str:
        return self.router.menu(LICENSE).prop(name).type.format(value, self.router)

    def server_key(self, lic: Dict[str, Any]) -> bytes:
        text = lic.get("license-server-key") or ""
        if not text:
            raise KeyRefused("no license-server-key is set to check the keys the server signs")
        return licensekey.public_key_bytes(text)

    # -- taking a key ------------------------------------------------------------------
    def accept(self, text: str) -> licensekey.LicenseKey:
        """Check a key the server sent and, if this router may take it, keep
        it and record its level and times (else :class:`KeyRefused`)."""
        lic = self.license()
        not_before = None
        held = self.key_text()
        if held:
            try:
                not_before = licensekey.parse(held).issued_at
            except KeyRefused:
                pass
        key = licensekey.check(text, self.server_key(lic), lic.get("system-id") or "", not_before)
        self._keep_key(text)
        self.generation += 1
        self.router.set_readonly(LICENSE, lic[".id"], {
            "level": key.level, "next-renewal-at": key.next_renewal_at, "deadline-at": key.deadline_at,
        }, note="license renewed")
        return key

    def _renewed(self, key: licensekey.LicenseKey, how: str) -> None:
        st = self.state()
        if st.pop("stopped", None) is not None:     # attempts resume; still at most one an hour
            self.save_state(st)
        self.driver.log("system,info", "license %s: level %s%s, next renewal at %s, deadline at %s" % (
            how, key.level, " (trial)" if key.trial else "", self._when("next-renewal-at", key.next_renewal_at),
            self._when("deadline-at", key.deadline_at)))

    # -- renew ----------------------------------------------------------------------------
    def renew(self, args: Dict[str, Any]) -> Iterator[Dict[str, str]]:
        return Renewal(self, args)

    # -- the schedule ---------------------------------------------------------------------
    def runtime(self, view: Dict[str, Any]) -> Dict[str, Any]:
        """Live values of ``/system/license``: the speed limit, a scheduled
        renewal when one is due, limited-upgrades past the deadline."""
        out: Dict[str, Any] = {}
        now = self.driver.now()
        try:
            out.update(self._scheduled(view, now))
        except OSError as exc:          # the state dir went away: report, do not break print
            self.driver.log("system,error", "license renewal: %s" % exc)
        level = out.get("level", view.get("level"))
        out["speed-limit"] = licensekey.speed_limit(level)
        deadline = out.get("deadline-at", view.get("deadline-at"))
        if isinstance(deadline, (int, float)) and now >= deadline:
            out["limited-upgrades"] = True
        return out

    def adopt(self, job: _Job) -> None:
        """Take over a renewal whose stream was closed before it ended: it
        goes on, and its outcome is taken at a later read of the license."""
        job.release_when_done()
        self._pending.append((job, self.generation))

    def settle(self) -> Dict[str, Any]:
        """Take the outcome of every renewal in the background that ended;
        the values of the last key taken, if any."""
        out: Dict[str, Any] = {}
        for entry in list(self._pending):
            job, generation = entry
            if job.outcome is not None:
                self._pending.remove(entry)
                out.update(self._settle(job, generation))
        return out

    def _scheduled(self, view: Dict[str, Any], now: float) -> Dict[str, Any]:
        out = self.settle()
        if out or self._pending:
            return out
        due = view.get("next-renewal-at")
        if view.get("level") in (None, "free") or not isinstance(due, (int, float)) or now < due:
            return {}
        st = self.state()
        if st.get("stopped"):
            return {}
        last = st.get("last-attempt")
        if isinstance(last, (int, float)) and 0 <= now - last < RETRY_SECONDS:
            return {}
        server = view.get("license-server") or ""
        key = self.key_text()
        st["last-attempt"] = now
        if not server or not key:
            self.save_state(st)
            self.driver.log("system,error", "license renewal: %s; trying again in an hour" % (
                "no license server configured" if not server else
                "this router keeps no key to renew with (run /system license renew)"))
            return {}
        lock = _Lock(self)
        if not lock.acquire():
            return {}
        self.save_state(st)
        system_id = view.get("system-id") or ""

        def work(job: _Job) -> str:
            return _key_of(post(server, "/v1/refresh", {"system-id": system_id, "key": key}))

        job = _Job(work, lock, "renewed by schedule")
        job.release_when_done()
        job.thread.join(REFRESH_WAIT)
        if job.outcome is None:
            self._pending.append((job, self.generation))
            return {}
        return self._settle(job, self.generation)

    def _settle(self, job: _Job, generation: int) -> Dict[str, Any]:
        """Take the outcome of a renewal that ended in the background."""
        kind, value = job.outcome or ("unreachable", "no outcome")
        if generation != self.generation:
            return {}                        # a newer key came in meanwhile
        if job.how == "renewed":             # a person's renew whose stream was closed early
            if kind != "key":
                self.driver.log("system,error", "license renew failed: %s" % value)
                return {}
            try:
                key = self.accept(value)
            except KeyRefused as exc:
                self.driver.log("system,error", "license renew failed: key refused: %s" % exc)
                return {}
            self._renewed(key, job.how)
            return {"level": key.level, "next-renewal-at": key.next_renewal_at, "deadline-at": key.deadline_at}
        if kind == "refused":
            st = self.state()
            st["stopped"] = value
            self.save_state(st)
            self.driver.log("system,error", "license renewal refused by the server: %s; no more attempts "
                                            "until /system license renew" % value)
            return {}
        if kind == "unreachable":
            self.driver.log("system,error", "license renewal failed: %s; trying again in an hour" % value)
            return {}
        try:
            key = self.accept(value)
        except KeyRefused as exc:
            self.driver.log("system,error", "license renewal: key refused: %s; trying again in an hour" % exc)
            return {}
        self._renewed(key, job.how)
        return {"level": key.level, "next-renewal-at": key.next_renewal_at, "deadline-at": key.deadline_at}


class Renewal:
    """The ``renew`` stream.  ``next()`` never waits: it starts the worker,
    then reports each status the worker reached once, repeating the current
    one while nothing new happened, and ends after ``done`` or ``ERROR: ...``.

    Closing it before the end (the dialog's Stop, a terminal that shows one
    sample) stops the reporting, not the renewal: what the server was asked
    it may have done already, so the outcome is still taken (after the same
    checks) at a later read of the license, and logged.
    """

    def __init__(self, client: LicenseClient, args: Dict[str, Any]):
        self.client = client
        self.args = args
        self._job: Optional[_Job] = None
        self._lock: Optional[_Lock] = None
        self._shown = 0
        self._over = False

    def __iter__(self) -> "Renewal":
        return self

    def __next__(self) -> Dict[str, str]:
        if self._over:
            raise StopIteration
        if self._job is None:
            return self._start()
        reached, outcome = self._job.snapshot()
        if self._shown < len(reached):
            self._shown += 1
            return {"status": reached[self._shown - 1]}
        if outcome is not None:
            return self._finish(outcome)
        return {"status": reached[-1]}

    def close(self) -> None:
        if not self._over and self._job is not None and self._lock is not None:
            self._lock = None
            self.client.adopt(self._job)
        self._over = True
        self._release()

    def __del__(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _end(self, message: str) -> Dict[str, str]:
        self._over = True
        self._release()
        self.client.driver.log("system,error", "license renew failed: %s" % message)
        return {"status": "ERROR: %s" % message}

    def _start(self) -> Dict[str, str]:
        client = self.client
        lic = client.license()
        server = lic.get("license-server") or ""
        if not server:
            return self._end("no license server configured")
        try:
            client.server_key(lic)
        except KeyRefused as exc:
            return self._end(str(exc))
        lock = _Lock(client)
        if not lock.acquire():
            return self._end(BUSY)
        account, password = self.args["account"], self.args["password"]
        level = self.args.get("level") or "p1"
        system_id = lic.get("system-id") or ""

        def work(job: _Job) -> str:
            challenge = post(server, "/v1/challenge", {"account": account})
            try:
                salt = base64.b64decode(challenge["salt"], validate=True)
                iterations = int(challenge["iterations"])
                nonce = str(challenge["nonce"])
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise NoAnswer("the license server %s sent a challenge this router does not understand" % server)
            if not licenseproof.MIN_ITERATIONS <= iterations <= licenseproof.MAX_ITERATIONS:
                raise NoAnswer("the license server %s asks for %d password iterations (allowed %d..%d)" % (
                    server, iterations, licenseproof.MIN_ITERATIONS, licenseproof.MAX_ITERATIONS))
            job.reach("renewing")
            msg = licenseproof.message(account, nonce, system_id, level)
            proof = licenseproof.proof(password, salt, iterations, msg)
            return _key_of(post(server, "/v1/renew", {
                "account": account, "nonce": nonce, "system-id": system_id, "level": level,
                "proof": base64.b64encode(proof).decode()}))

        self._lock = lock
        self._job = _Job(work, lock, "renewed")
        self._shown = 1
        return {"status": "connecting"}

    def _finish(self, outcome: Tuple[str, str]) -> Dict[str, str]:
        kind, value = outcome
        if kind != "key":
            return self._end(value)
        try:
            key = self.client.accept(value)
        except KeyRefused as exc:
            return self._end("key refused: %s" % exc)
        self._over = True
        self._release()
        self.client._renewed(key, "renewed")
        return {"status": "done"}
