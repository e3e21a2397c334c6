"""The server's own counters, exposed on /metrics (not the probe results: see /probe)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from .. import __version__
from ..reporters.prometheus import Family, Sample, render_families
from .procmetrics import process_families

# Request paths are counted under these names only, so a scanner cannot grow the label set.
KNOWN_PATHS = ("/", "/probe", "/metrics", "/logs", "/-/healthy", "/-/ready")
Labels = tuple[tuple[str, str], ...]


class ServerMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._probes: Counter[tuple[Labels, str]] = Counter()
        self._failures: Counter[tuple[Labels, str]] = Counter()
        self._shared = 0
        self._rejected = 0
        self._timed_out = 0
        self._in_flight = 0
        self._started = time.time()
        self._reload_ok = 1.0
        self._reload_at = self._started

    def request(self, path: str, code: int) -> None:
        with self._lock:
            self._requests[(path if path in KNOWN_PATHS else "other", str(code))] += 1

    def probe_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def probe_finished(self, labels: Labels, verdict: str, kind: str | None = None) -> None:
        """``labels`` is (("target", NAME),) or, for a module's URL, (("module", NAME),):
        URLs come from scrapes and are not labels, so the label set stays bounded.
        ``kind`` is the failure's FailureKind value, None when the check passed."""
        with self._lock:
            self._in_flight -= 1
            self._probes[(labels, verdict)] += 1
            if kind is not None:
                self._failures[(labels, kind)] += 1

    def probe_shared(self) -> None:
        with self._lock:
            self._shared += 1

    def probe_rejected(self) -> None:
        with self._lock:
            self._rejected += 1

    def probe_timed_out(self) -> None:
        with self._lock:
            self._timed_out += 1

    def reloaded(self, ok: bool) -> None:
        with self._lock:
            self._reload_ok = 1.0 if ok else 0.0
            if ok:
                self._reload_at = time.time()

    def render(self) -> str:
        with self._lock:
            requests = sorted(self._requests.items())
            probes = sorted(self._probes.items())
            failures = sorted(self._failures.items())
            shared, rejected, in_flight = self._shared, self._rejected, self._in_flight
            timed_out, reload_ok, reload_at = self._timed_out, self._reload_ok, self._reload_at
        families = [
            Family("ocpp_probe_serve_requests_total", "counter", "HTTP requests answered",
                   tuple(Sample((("path", p), ("code", c)), n) for (p, c), n in requests)),
            Family("ocpp_probe_serve_probes_total", "counter",
                   "Checks run, by named target or module, and verdict",
                   tuple(Sample((*labels, ("verdict", v)), n) for (labels, v), n in probes)),
            Family("ocpp_probe_serve_probe_failures_total", "counter",
                   "Failed checks, by named target or module, and failure kind (docs/failure-kinds.md)",
                   tuple(Sample((*labels, ("kind", k)), n) for (labels, k), n in failures)),
            Family("ocpp_probe_serve_probes_shared_total", "counter",
                   "Requests answered with a check already running for the same target",
                   (Sample((), shared),)),
            Family("ocpp_probe_serve_probes_rejected_total", "counter",
                   "Requests refused with 429: no check slot free for the target",
                   (Sample((), rejected),)),
            Family("ocpp_probe_serve_probes_timed_out_total", "counter",
                   "Requests that joined a running check and reached their own deadline first",
                   (Sample((), timed_out),)),
            Family("ocpp_probe_serve_probes_in_flight", "gauge", "Checks running now",
                   (Sample((), in_flight),)),
            Family("ocpp_probe_serve_start_time_seconds", "gauge", "When the server started, Unix time",
                   (Sample((), self._started),)),
            Family("ocpp_probe_serve_config_last_reload_successful", "gauge",
                   "1 when the last config load (start or SIGHUP) succeeded, else 0",
                   (Sample((), reload_ok),)),
            Family("ocpp_probe_serve_config_last_reload_success_timestamp_seconds", "gauge",
                   "When the config was last loaded successfully, Unix time",
                   (Sample((), reload_at),)),
            Family("ocpp_probe_build_info", "gauge", "ocpp-probe version (info-style, always 1)",
                   (Sample((("version", __version__),), 1),)),
            *process_families(),
        ]
        return render_families(families)
