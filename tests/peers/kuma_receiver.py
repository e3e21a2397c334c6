"""A loopback stand-in for Uptime Kuma's push endpoint that records every request.

Answers as Kuma's /api/push/:pushToken route does: 200 {"ok":true} for a known
token, 404 {"ok":false,"msg":"Monitor not found or not active."} otherwise. Kuma
1.23 routes GET only (express answers other methods with an HTML 404), which
``get_only`` reproduces. Other modes misbehave on purpose: ``html`` (a wrong URL
that lands on some web page) and ``hang`` (accepts and never answers).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOT_FOUND = b'{"ok":false,"msg":"Monitor not found or not active."}'


@dataclass(frozen=True)
class PushRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    at: float  # time.monotonic() when it arrived

    def one(self, name: str) -> str:
        values = self.query[name]
        assert len(values) == 1, f"{name} given {len(values)} times"
        return values[0]


class _Handler(BaseHTTPRequestHandler):
    owner: KumaReceiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        self.owner.record(PushRequest(
            self.command, parts.path, urllib.parse.parse_qs(parts.query, keep_blank_values=True),
            time.monotonic(),
        ))
        mode = self.owner.mode
        if mode == "hang":
            self.owner.release.wait(30)
            return
        if mode == "html":
            self._send(200, b"<!DOCTYPE html><html>Uptime Kuma</html>", "text/html")
            return
        if self.owner.get_only and self.command != "GET":
            self._send(404, f"Cannot {self.command} {parts.path}".encode(), "text/html")
            return
        prefix = "/api/push/"
        token = parts.path[len(prefix):] if parts.path.startswith(prefix) else None
        if token in self.owner.tokens:
            self._send(200, b'{"ok":true}', "application/json")
        else:
            self._send(404, NOT_FOUND, "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer


class KumaReceiver:
    def __init__(
        self, tokens: tuple[str, ...] = ("T0KEN-abc123",), mode: str = "kuma",
        get_only: bool = True, port: int = 0,
    ) -> None:
        self.tokens = set(tokens)
        self.mode = mode
        self.get_only = get_only
        self.port = port
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[PushRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, token: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}/api/push/{token or next(iter(self.tokens))}"

    def record(self, request: PushRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[PushRequest]:
        with self._lock:
            return list(self._requests)

    def start(self) -> KumaReceiver:
        handler = type("Handler", (_Handler,), {"owner": self})
        server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> KumaReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
