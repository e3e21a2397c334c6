"""What serve mode remembers of past checks: the last verdicts per target and their
traces, for the status page, debug links and admission (which targets are failing).

Bounded in every direction: a few records per target, a fixed number of targets
(module targets come from scrapes, so the least recently checked are forgotten) and
of traces, each of a bounded number of lines.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from ..printable import shown
from ..result import CheckResult
from ..settings import CheckSettings
from ..trace import TRACE_LINE_MAX

RECORDS_PER_TARGET = 5
MAX_TARGETS = 2000
MAX_TRACES = 500
MAX_TRACE_LINES = 400


@dataclass(frozen=True)
class Record:
    id: int
    key: str  # the single-flight key: target name, or "module URL"
    label: str  # what people see: target name or URL
    module: str | None
    finished: float  # Unix time
    result: CheckResult
    trace: tuple[str, ...]
    settings: CheckSettings  # as the check ran (a reload may have changed the config since)


class TraceCollector:
    """A Tracer (callable) keeping the check's trace lines with milliseconds since start."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        if len(self.lines) < MAX_TRACE_LINES:
            elapsed = (time.perf_counter() - self._start) * 1000
            # A line may span several (a request head); each part is made safe on its own.
            for part in line.split("\n"):
                self.lines.append(f"[{elapsed:9.3f} ms] {shown(part, TRACE_LINE_MAX)}")
        elif len(self.lines) == MAX_TRACE_LINES:
            self.lines.append("... (trace cut)")


class History:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: OrderedDict[str, deque[Record]] = OrderedDict()
        self._traces: OrderedDict[int, Record] = OrderedDict()
        self._next_id = 1

    def add(self, key: str, label: str, module: str | None, result: CheckResult,
            trace: list[str], settings: CheckSettings) -> Record:
        with self._lock:
            record = Record(self._next_id, key, label, module, time.time(), result, tuple(trace),
                            settings)
            self._next_id += 1
            records = self._by_key.pop(key, None) or deque(maxlen=RECORDS_PER_TARGET)
            records.append(record)
            self._by_key[key] = records  # most recently checked last
            while len(self._by_key) > MAX_TARGETS:
                self._by_key.popitem(last=False)
            self._traces[record.id] = record
            while len(self._traces) > MAX_TRACES:
                self._traces.popitem(last=False)
            return record

    def last_failed(self, key: str) -> bool:
        with self._lock:
            records = self._by_key.get(key)
            return bool(records) and not records[-1].result.ok  # type: ignore[index]

    def records(self) -> dict[str, list[Record]]:
        """Newest first per target, targets in the order last checked."""
        with self._lock:
            return {key: list(reversed(records)) for key, records in self._by_key.items()}

    def get(self, record_id: int) -> Record | None:
        with self._lock:
            return self._traces.get(record_id)
