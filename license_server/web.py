"""HTTP and JSON in front of :class:`~license_server.service.LicenseService`.

``POST /v1/challenge``, ``POST /v1/renew`` and ``POST /v1/refresh`` take a
JSON object and answer one: ``{"key": ...}`` (or the challenge) with 200, or
``{"error": "..."}`` with 400 (bad request, unknown level), 401
(``Unauthorized``), 403, 404, 413, 429 or 500.  Nothing else is served.
Each request is logged on stderr without its secrets.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Tuple

from .service import LicenseService, ServiceError

MAX_BODY = 16 * 1024
ROUTES = {
    "/v1/challenge": "challenge",
    "/v1/renew": "renew",
    "/v1/refresh": "refresh",
}


class Handler(BaseHTTPRequestHandler):
    """One request; the service is the server's ``service`` attribute."""

    server_version = "winbox-license-server"
    sys_version = ""
    timeout = 30

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        status, answer = self._answer()
        self._log("%s %d %s" % (self.path, status, "ok" if status == 200 else answer.get("error", "")))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.send_error(405, "use POST with a JSON body")

    def _answer(self) -> Tuple[int, Dict[str, Any]]:
        name = ROUTES.get(self.path)
        if name is None:
            return 404, {"error": "no such endpoint %s" % self.path[:100]}
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return 411, {"error": "bad request: Content-Length is needed"}
        if length < 0 or length > MAX_BODY:
            return 413, {"error": "bad request: the body is larger than %d bytes" % MAX_BODY}
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "bad request: the body is not JSON"}
        if not isinstance(body, dict):
            return 400, {"error": "bad request: the body is not a JSON object"}
        service: LicenseService = self.server.service  # type: ignore[attr-defined]
        try:
            return 200, getattr(service, name)(body)
        except ServiceError as exc:
            return exc.status, {"error": exc.message}
        except Exception as exc:  # report, keep serving
            self._log("%s failed: %r" % (self.path, exc))
            return 500, {"error": "the license server failed; see its log"}

    def _log(self, text: str) -> None:
        sys.stderr.write("%s %s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), self.client_address[0], text))
        sys.stderr.flush()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass                          # do_POST logs each request once, without its body


class Server(ThreadingHTTPServer):
    """The listening socket and the service behind it."""

    daemon_threads = True

    def __init__(self, address: Tuple[str, int], service: LicenseService):
        self.service = service
        super().__init__(address, Handler)
