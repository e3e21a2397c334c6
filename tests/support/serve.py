"""An in-process serve-mode server, and HTTP requests to it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ocpp_probe.serve.command import RunningServer
from ocpp_probe.serve.config import parse_config

from .result_schema import validated


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def doc(self) -> dict[str, Any]:
        document = json.loads(self.body)
        if self.status >= 400 and "verdict" not in document:
            # serve's own refusals (bad request, busy) are not check results
            assert set(document) == {"error", "reason"}, document
            return document  # type: ignore[no-any-return]
        return validated(document)  # type: ignore[no-any-return]


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Answer:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    begin = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read(),
                          time.monotonic() - begin)
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, dict(exc.headers), exc.read(), time.monotonic() - begin)


@contextmanager
def server(targets: dict[str, dict[str, Any]], max_concurrent: int = 8,
           modules: dict[str, dict[str, Any]] | None = None) -> Iterator[str]:
    document = {"server": {"listen": "127.0.0.1:0", "max_concurrent": max_concurrent},
                "targets": targets, "modules": modules or {}}
    running = RunningServer(parse_config(document, {}, "test.toml"))
    try:
        yield f"http://127.0.0.1:{running.port}"
    finally:
        running.close()
