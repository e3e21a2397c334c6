"""Running checks for requests: single flight per target, admission, per-request deadlines.

- One check per target at a time: a request for a target being checked joins that
  check (a CSMS drops the older of two connections with the same identity).
- Every request is answered within its own deadline, whoever started the check: a
  request that joins waits only until its own deadline and then gets a timeout
  verdict, never the other request's longer wait.
- ``max_concurrent`` bounds the checks running at once (threads, sockets, memory:
  the probe host's resources, and the load it puts on CSMSs). Targets whose last
  check failed, the ones likely to hold a slot for their whole timeout, share at
  most ``max_concurrent - reserved`` slots; the reserved quarter stays free for
  targets whose last check passed or that were never checked, so dead CSMSs cannot
  starve live ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..failures import FailureKind
from ..records import replace
from ..redact import redact_url
from ..result import CheckResult, Verdict
from ..settings import CheckSettings
from ..trace import Tracer
from .config import ServeConfig
from .history import History, Record, TraceCollector
from .metrics import ServerMetrics

Checker = Callable[[CheckSettings, Tracer], CheckResult]


class Busy(Exception):
    """No slot for this check; the request is refused (429), not queued. The message says why."""


@dataclass(frozen=True)
class Job:
    key: str  # single-flight key
    label: str  # target name or URL, for people and metrics
    module: str | None
    settings: CheckSettings


@dataclass
class _Flight:
    """One check in progress that concurrent requests for the same target share."""

    failing: bool
    done: threading.Event = field(default_factory=threading.Event)
    record: Record | None = None


def reserved_slots(limit: int) -> int:
    """Slots kept for targets not known to fail: a quarter, at least one (none when limit is 1)."""
    return max(1, limit // 4) if limit > 1 else 0


def timeout_result(settings: CheckSettings, waited_s: float) -> CheckResult:
    """The answer for a request whose deadline came before the shared check's end."""
    return CheckResult(
        verdict=Verdict.CRITICAL,
        target=redact_url(settings.url),
        ocpp_version=settings.version.value,
        failure_kind=FailureKind.TIMEOUT,
        reason=f"no result within this request's {waited_s:g} s: a check of this target "
        "started by an earlier request is still running",
        total_ms=waited_s * 1000,
    )


class ProbeService:
    def __init__(self, config: ServeConfig, metrics: ServerMetrics, checker: Checker) -> None:
        self.config = config
        self.metrics = metrics
        self.history = History()
        self._checker = checker
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._running = 0
        self._running_failing = 0

    def reload(self, config: ServeConfig) -> None:
        with self._lock:
            self.config = config

    def _refusal(self, failing: bool) -> str | None:
        """Why a new check cannot start now, or None when it can."""
        limit = self.config.max_concurrent
        if self._running >= limit:
            return f"no check slot free: {self._running} checks running (max_concurrent {limit})"
        cap = limit - reserved_slots(limit)
        if failing and self._running_failing >= cap:
            return (f"no check slot free for a target whose last check failed: such targets hold "
                    f"{self._running_failing} of the {cap} slots they may use (max_concurrent "
                    f"{limit}, {limit - cap} kept for targets that pass)")
        return None

    def probe(self, job: Job, budget_s: float | None = None) -> tuple[CheckResult, Record | None]:
        """The result for this request within ``budget_s`` (or the target's timeout),
        and the history record of the check it came from (None for a timeout verdict)."""
        settings = job.settings
        if budget_s is not None and budget_s < settings.timeout_s:
            settings = replace(settings, timeout_s=budget_s)
        failing = self.history.last_failed(job.key)
        with self._lock:
            flight = self._flights.get(job.key)
            leader = flight is None
            if flight is None:
                refusal = self._refusal(failing)
                if refusal is not None:
                    self.metrics.probe_rejected()
                    raise Busy(refusal)
                flight = self._flights[job.key] = _Flight(failing)
                self._running += 1
                self._running_failing += failing
        if not leader:
            self.metrics.probe_shared()
            if flight.done.wait(settings.timeout_s) and flight.record is not None:
                return flight.record.result, flight.record
            self.metrics.probe_timed_out()
            return timeout_result(settings, settings.timeout_s), None
        return self._lead(job, settings, flight)

    def _lead(self, job: Job, settings: CheckSettings, flight: _Flight) -> tuple[CheckResult, Record]:
        self.metrics.probe_started()
        trace = TraceCollector()
        result: CheckResult | None = None
        try:
            result = self._checker(settings, trace)
        finally:
            verdict = result.verdict.name if result else "UNKNOWN"
            labels = (("module", job.module),) if job.module else (("target", job.label),)
            # No result means the checker itself raised: a probe bug, counted as such.
            kind = (
                "internal" if result is None
                else result.failure_kind.value if result.failure_kind else None
            )
            self.metrics.probe_finished(labels, verdict, kind)
            if result is not None:
                flight.record = self.history.add(job.key, job.label, job.module, result, trace.lines,
                                                 settings)
            with self._lock:
                del self._flights[job.key]
                self._running -= 1
                self._running_failing -= flight.failing
            flight.done.set()
        assert flight.record is not None
        return result, flight.record

    def in_flight(self) -> int:
        with self._lock:
            return self._running
