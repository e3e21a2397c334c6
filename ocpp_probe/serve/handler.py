"""HTTP side of serve mode: which target to check, and how to answer.

/probe?target=NAME answers JSON with 200 when the check passed (OK or WARNING) and
503 when it did not, so Kuma's HTTP(s) and HTTP(s)-Json Query monitors work as they
are; with format=prometheus (or a Prometheus Accept header) it always answers 200
with the metrics, as blackbox_exporter does, so ocpp_probe_success carries the verdict.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson

from ..reporters.json_report import result_document
from ..reporters.prometheus import CONTENT_TYPE as PROMETHEUS_TYPE
from ..reporters.prometheus import render_prometheus
from ..result import CheckResult
from ..settings import CheckSettings
from .config import ServeConfig
from .metrics import ServerMetrics

Checker = Callable[[CheckSettings], CheckResult]
ALLOWED_PARAMS = ("target", "format")
FORMATS = ("json", "prometheus")
# Leave Prometheus this much of its scrape timeout to receive the answer.
SCRAPE_TIMEOUT_MARGIN_S = 0.5


class Busy(Exception):
    """max_concurrent checks are running; the request is refused (429), not queued."""


@dataclass
class _Flight:
    """One check in progress that concurrent requests for the same target share."""

    done: threading.Event
    result: CheckResult | None = None


class ProbeService:
    """Runs checks for named targets: at most ``max_concurrent`` at once, and at most
    one per target (a second request for a target being checked shares that check,
    because a CSMS drops the older of two connections with the same identity)."""

    def __init__(self, config: ServeConfig, metrics: ServerMetrics, checker: Checker) -> None:
        self.config = config
        self.metrics = metrics
        self._checker = checker
        self._slots = threading.BoundedSemaphore(config.max_concurrent)
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def probe(self, name: str, timeout_s: float | None = None) -> CheckResult:
        settings = self.config.targets[name].settings
        if timeout_s is not None and timeout_s < settings.timeout_s:
            settings = replace(settings, timeout_s=timeout_s)
        with self._lock:
            flight = self._flights.get(name)
            leader = flight is None
            if flight is None:
                if not self._slots.acquire(blocking=False):
                    self.metrics.probe_rejected()
                    raise Busy()
                flight = self._flights[name] = _Flight(threading.Event())
        if not leader:
            self.metrics.probe_shared()
            flight.done.wait()
            assert flight.result is not None
            return flight.result
        self.metrics.probe_started()
        try:
            flight.result = self._checker(settings)
        finally:
            verdict = flight.result.verdict.name if flight.result else "UNKNOWN"
            self.metrics.probe_finished(name, verdict)
            with self._lock:
                del self._flights[name]
            self._slots.release()
            flight.done.set()
        return flight.result


def wants_prometheus(accept: str) -> bool:
    """Prometheus' own Accept header, not any text/plain (Kuma's axios sends that too)."""
    accept = accept.lower()
    return "application/openmetrics-text" in accept or "version=0.0.4" in accept


class ProbeHandler(BaseHTTPRequestHandler):
    server_version = "ocpp-probe"
    timeout = 15  # a client that does not finish its request line in time is dropped
    service: ProbeService  # set on the subclass made by serve.command
    verbose: bool = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, path: str) -> None:
        self.service.metrics.request(path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.send_header("Retry-After", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, reason: str, path: str) -> None:
        body = orjson.dumps({"error": status.phrase, "reason": reason})
        self._send(status, body, "application/json", path)

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/probe":
            self._probe(parts.query)
        elif parts.path == "/metrics":
            body = self.service.metrics.render().encode()
            self._send(HTTPStatus.OK, body, PROMETHEUS_TYPE, "/metrics")
        elif parts.path == "/":
            names = ", ".join(sorted(self.service.config.targets))
            text = f"ocpp-probe serve\n/probe?target=NAME (targets: {names})\n/metrics\n"
            self._send(HTTPStatus.OK, text.encode(), "text/plain; charset=utf-8", "/")
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page; try /probe?target=NAME", parts.path)

    do_HEAD = do_GET

    def _refuse_method(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "only GET is supported", self.path)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse_method

    def _probe(self, query: str) -> None:
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        for name, values in params.items():
            if name not in ALLOWED_PARAMS:
                return self._error(
                    HTTPStatus.BAD_REQUEST,
                    f"unknown parameter {name!r}: only target and format are accepted; "
                    "targets and their URLs come from the config file",
                    "/probe",
                )
            if len(values) > 1:
                return self._error(HTTPStatus.BAD_REQUEST, f"{name} given twice", "/probe")
        target = params.get("target", [""])[0]
        if not target:
            return self._error(HTTPStatus.BAD_REQUEST, "missing ?target=NAME", "/probe")
        fmt = params.get("format", [""])[0]
        if fmt and fmt not in FORMATS:
            return self._error(HTTPStatus.BAD_REQUEST, "format must be json or prometheus", "/probe")
        if target not in self.service.config.targets:
            return self._error(HTTPStatus.NOT_FOUND, f"unknown target {target!r}", "/probe")
        prometheus = fmt == "prometheus" or (not fmt and wants_prometheus(self.headers.get("Accept", "")))
        try:
            result = self.service.probe(target, self._scrape_timeout())
        except Busy:
            limit = self.service.config.max_concurrent
            return self._error(
                HTTPStatus.TOO_MANY_REQUESTS, f"{limit} checks already running; retry later", "/probe"
            )
        if prometheus:
            self._send(HTTPStatus.OK, render_prometheus(result).encode(), PROMETHEUS_TYPE, "/probe")
        else:
            status = HTTPStatus.OK if result.ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, orjson.dumps(result_document(result)), "application/json", "/probe")

    def _scrape_timeout(self) -> float | None:
        header = self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
        try:
            seconds = float(header) - SCRAPE_TIMEOUT_MARGIN_S if header else None
        except ValueError:
            return None
        return seconds if seconds is not None and seconds > 0 else None
