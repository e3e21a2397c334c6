"""HTTP side of serve mode: which check a request asks for, and how to answer.

/probe?target=NAME (a named target) or /probe?module=NAME&target=URL answers JSON
with 200 when the check passed (OK or WARNING) and 503 when it did not, so Kuma's
HTTP(s) and HTTP(s)-Json Query monitors work as they are; with format=prometheus
(or a Prometheus Accept header) it always answers 200 with the metrics, as
blackbox_exporter does, so probe_success carries the verdict.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson

from ..redact import redact_url
from ..reporters.json_report import result_document
from ..reporters.prometheus import CONTENT_TYPE as PROMETHEUS_TYPE
from ..settings import ConfigError
from .exposition import debug_text, probe_metrics
from .modules import NotAllowed
from .page import status_page
from .service import Busy, Job, ProbeService

ALLOWED_PARAMS = ("target", "module", "format", "debug")
FORMATS = ("json", "prometheus")
ALLOW = "GET, HEAD"
# Leave Prometheus this much of its scrape timeout to receive the answer.
SCRAPE_TIMEOUT_MARGIN_S = 0.5
TEXT = "text/plain; charset=utf-8"


class BadRequest(Exception):
    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def wants_prometheus(accept: str) -> bool:
    """Prometheus' own Accept header, not any text/plain (Kuma's axios sends that too)."""
    accept = accept.lower()
    return "application/openmetrics-text" in accept or "version=0.0.4" in accept


def job_for(service: ProbeService, params: dict[str, list[str]]) -> Job:
    """The check a /probe request asks for; BadRequest (400/403/404) before any connection."""
    for name, values in params.items():
        if name not in ALLOWED_PARAMS:
            raise BadRequest(HTTPStatus.BAD_REQUEST,
                             f"unknown parameter {name!r}: only target, module, format and debug "
                             "are accepted")
        if len(values) > 1:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} given twice")
    target = params.get("target", [""])[0]
    if not target:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "missing ?target=NAME (or module=NAME&target=URL)")
    fmt = params.get("format", [""])[0]
    if fmt and fmt not in FORMATS:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "format must be json or prometheus")
    if params.get("debug", ["false"])[0] not in ("true", "false"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "debug must be true or false")
    config = service.config
    module_name = params.get("module", [""])[0]
    if not module_name:
        if target not in config.targets:
            raise BadRequest(HTTPStatus.NOT_FOUND,
                             f"unknown target {target!r}; a URL needs module=NAME")
        return Job(target, target, None, config.targets[target].settings)
    module = config.modules.get(module_name)
    if module is None:
        raise BadRequest(HTTPStatus.NOT_FOUND, f"unknown module {module_name!r}")
    try:
        settings = module.settings_for(target)
    except ConfigError as exc:
        detail = exc.problem if exc.setting == "WS_URL" else str(exc)
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"target: {detail}") from None
    except NotAllowed as exc:
        raise BadRequest(HTTPStatus.FORBIDDEN, str(exc)) from None
    return Job(f"{module_name} {redact_url(settings.url)}", settings.url, module_name, settings)


class ProbeHandler(BaseHTTPRequestHandler):
    server_version = "ocpp-probe"
    timeout = 15  # a client that does not finish its request line in time is dropped
    service: ProbeService  # set on the subclass made by serve.command
    verbose: bool = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # http.server answers 501 to methods without a do_ method; every method other
        # than GET and HEAD gets the same documented 405 instead.
        if name.startswith("do_"):
            return self._refuse_method
        raise AttributeError(name)

    def _send(self, status: int, body: bytes, content_type: str, path: str) -> None:
        self.service.metrics.request(path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.send_header("Retry-After", "1")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", ALLOW)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, reason: str, path: str) -> None:
        body = orjson.dumps({"error": status.phrase, "reason": reason})
        self._send(status, body, "application/json", path)

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        if path == "/probe":
            self._probe(parts.query)
        elif path == "/metrics":
            self._send(HTTPStatus.OK, self.service.metrics.render().encode(), PROMETHEUS_TYPE, path)
        elif path in ("/-/healthy", "/-/ready"):
            self._send(HTTPStatus.OK, b"OK\n", TEXT, path)
        elif path == "/logs":
            self._logs(parts.query)
        elif path == "/":
            page = status_page(self.service).encode()
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", path)
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page; try /probe?target=NAME or /", path)

    do_HEAD = do_GET  # /probe answers HEAD without running a check (see _probe)

    def _refuse_method(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD are supported", "other")

    def _logs(self, query: str) -> None:
        text = urllib.parse.parse_qs(query).get("id", [""])[0]
        record = self.service.history.get(int(text)) if text.isdigit() and len(text) < 12 else None
        if record is None:
            return self._error(HTTPStatus.NOT_FOUND, "no such check; the server keeps the last "
                               "500 traces", "/logs")
        body = f"Check #{record.id} of {record.label}\n\n" + debug_text(
            record.settings, record.module, record.result, record)
        self._send(HTTPStatus.OK, body.encode(), TEXT, "/logs")

    def _probe(self, query: str) -> None:
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        try:
            job = job_for(self.service, params)
        except BadRequest as exc:
            return self._error(exc.status, exc.reason, "/probe")
        fmt = params.get("format", [""])[0]
        prometheus = fmt == "prometheus" or (not fmt and wants_prometheus(self.headers.get("Accept", "")))
        debug = params.get("debug", ["false"])[0] == "true"
        content_type = TEXT if debug else PROMETHEUS_TYPE if prometheus else "application/json"
        if self.command == "HEAD":
            return self._send(HTTPStatus.OK, b"", content_type, "/probe")
        try:
            result, record = self.service.probe(job, self._scrape_timeout())
        except Busy as busy:
            return self._error(HTTPStatus.TOO_MANY_REQUESTS, f"{busy}; retry later", "/probe")
        if debug:
            body = debug_text(job.settings, job.module, result, record)
            self._send(HTTPStatus.OK, body.encode(), TEXT, "/probe")
        elif prometheus:
            self._send(HTTPStatus.OK, probe_metrics(result).encode(), PROMETHEUS_TYPE, "/probe")
        else:
            status = HTTPStatus.OK if result.ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, orjson.dumps(result_document(result)), "application/json", "/probe")

    def _scrape_timeout(self) -> float | None:
        return scrape_budget(self.headers.get("X-Prometheus-Scrape-Timeout-Seconds"))


def scrape_budget(header: str | None) -> float | None:
    """The check's budget for a scrape timeout: the margin less, or half of a timeout
    too short for the margin; None without a usable header (the target's timeout)."""
    try:
        seconds = float(header) if header else None
    except ValueError:
        return None
    if seconds is None or not 0 < seconds < float("inf"):
        return None
    return seconds - SCRAPE_TIMEOUT_MARGIN_S if seconds > 2 * SCRAPE_TIMEOUT_MARGIN_S else seconds / 2
