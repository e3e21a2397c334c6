"""The server's own counters, exposed on /metrics (not the probe results: see /probe)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from .. import __version__
from ..reporters.prometheus import Family, Sample, render_families

# Request paths are counted under these names only, so a scanner cannot grow the label set.
KNOWN_PATHS = ("/", "/probe", "/metrics")


class ServerMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._probes: Counter[tuple[str, str]] = Counter()
        self._failures: Counter[tuple[str, str]] = Counter()
        self._shared = 0
        self._rejected = 0
        self._in_flight = 0
        self._started = time.time()

    def request(self, path: str, code: int) -> None:
        with self._lock:
            self._requests[(path if path in KNOWN_PATHS else "other", str(code))] += 1

    def probe_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def probe_finished(self, target: str, verdict: str, kind: str | None = None) -> None:
        """Count a finished check; ``kind`` is its FailureKind value, None when it passed."""
        with self._lock:
            self._in_flight -= 1
            self._probes[(target, verdict)] += 1
            if kind is not None:
                self._failures[(target, kind)] += 1

    def probe_shared(self) -> None:
        with self._lock:
            self._shared += 1

    def probe_rejected(self) -> None:
        with self._lock:
            self._rejected += 1

    def render(self) -> str:
        with self._lock:
            requests = sorted(self._requests.items())
            probes = sorted(self._probes.items())
            failures = sorted(self._failures.items())
            shared, rejected, in_flight = self._shared, self._rejected, self._in_flight
        families = [
            Family("ocpp_probe_serve_requests_total", "counter", "HTTP requests answered",
                   tuple(Sample((("path", p), ("code", c)), n) for (p, c), n in requests)),
            Family("ocpp_probe_serve_probes_total", "counter", "Checks run, by target and verdict",
                   tuple(Sample((("target", t), ("verdict", v)), n) for (t, v), n in probes)),
            Family("ocpp_probe_serve_probe_failures_total", "counter",
                   "Failed checks, by target and failure kind (see docs/failure-kinds.md)",
                   tuple(Sample((("target", t), ("kind", k)), n) for (t, k), n in failures)),
            Family("ocpp_probe_serve_probes_shared_total", "counter",
                   "Requests answered with a check already running for the same target",
                   (Sample((), shared),)),
            Family("ocpp_probe_serve_probes_rejected_total", "counter",
                   "Requests refused with 429 because max_concurrent checks were running",
                   (Sample((), rejected),)),
            Family("ocpp_probe_serve_probes_in_flight", "gauge", "Checks running now",
                   (Sample((), in_flight),)),
            Family("ocpp_probe_serve_start_time_seconds", "gauge", "When the server started, Unix time",
                   (Sample((), self._started),)),
            Family("ocpp_probe_build_info", "gauge", "ocpp-probe version (info-style, always 1)",
                   (Sample((("version", __version__),), 1),)),
        ]
        return render_families(families)
