"""Long-running mode (--every): one process checking on a fixed schedule.

Checks start on slots anchored to the loop's start (start + k * interval), so the
schedule does not drift however long each check takes. Checks never overlap: the
next check starts only after the previous one (and its push) finished; a check that
ran past its slot skips the slots it missed, and says so on stderr. SIGTERM and
SIGINT end the loop with exit 0: a check or push in flight is abandoned (its
connection closed), so stopping takes a moment, not a check deadline.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Callable, TextIO

from .redact import redact_url
from .runner import Outcome, OutputFormat, RunOptions, check_once, report
from .settings import CheckSettings
from .trace import Tracer

Clock = Callable[[], float]
# One whole run of a check (check, push); tests pass their own. Not serve's Checker,
# which is a bare check without push or report.
RunOnce = Callable[[CheckSettings, RunOptions, "Tracer | None"], Outcome]


@dataclass(frozen=True)
class Schedule:
    """Slots at ``start + k * interval`` on a monotonic clock."""

    start: float
    interval: float

    def slot_time(self, slot: int) -> float:
        return self.start + slot * self.interval

    def next_slot(self, slot: int, now: float) -> tuple[int, int]:
        """The slot after ``slot`` that is not yet past at ``now``, and how many were skipped."""
        due = slot + 1
        if now > self.slot_time(due):
            # Overran: resume at the first slot still ahead, never start two at once.
            due = max(due, math.floor((now - self.start) / self.interval) + 1)
        return due, due - slot - 1


class Stopped(BaseException):
    """Raised by the signal handler inside a check or push: abandon it and stop.

    A BaseException so that run_check's catch-all for bugs does not swallow it.
    """


class StopSignals:
    """SIGTERM/SIGINT handling: set a flag, and interrupt an armed section at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._armed = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()
        if self._armed:
            self._armed = False
            raise Stopped()

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (tests drive the loop otherwise)
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        if self.event.is_set():
            # The process is on its way out. A launcher (staticx, a process-group kill
            # by systemd or Docker) may deliver the same signal again; with the default
            # handler back, that late copy would turn a clean exit 0 into 143.
            self._previous.clear()
            return
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.event.is_set():
            raise Stopped()
        self._armed = True
        try:
            yield
        finally:
            self._armed = False


def run_loop(
    settings: CheckSettings,
    options: RunOptions,
    out: TextIO,
    err: TextIO,
    trace: Tracer | None = None,
    stop: StopSignals | None = None,
    max_checks: int | None = None,
    clock: Clock = time.monotonic,
    checker: RunOnce = check_once,
    sleep: Callable[[float], object] | None = None,
) -> int:
    """Check every ``options.every_s`` seconds until stopped; returns the exit code (0)."""
    assert options.every_s is not None
    stop = stop or StopSignals()
    stop.install()
    pushing = f", pushing to {options.push.display}" if options.push else ""
    err.write(f"ocpp-probe: checking {redact_url(settings.url)} every {options.every_s:g} s{pushing}\n")
    err.flush()
    schedule = Schedule(clock(), options.every_s)
    slot = 0
    checks = 0
    try:
        while not stop.event.is_set():
            try:
                with stop.interruptible():
                    outcome: Outcome = checker(settings, options, trace)
            except Stopped:
                break
            checks += 1
            _report(outcome, options, out, err)
            if max_checks is not None and checks >= max_checks:
                break
            slot, skipped = schedule.next_slot(slot, clock())
            if skipped:
                took = outcome.result.total_ms / 1000
                note = (
                    f"ocpp-probe: check took {took:.2f} s, longer than the {options.every_s:g} s "
                    f"interval; skipped {skipped} slot{'s' if skipped > 1 else ''}"
                )
                err.write(note + "\n")
                err.flush()
            (sleep or stop.event.wait)(max(0.0, schedule.slot_time(slot) - clock()))
    finally:
        stop.restore()
    why = f"stopped by {stop.signal_name}" if stop.signal_name else "done"
    err.write(f"ocpp-probe: {why} after {checks} check{'s' if checks != 1 else ''}\n")
    err.flush()
    return 0


def _report(outcome: Outcome, options: RunOptions, out: TextIO, err: TextIO) -> None:
    # Each text line carries its check's start time: the loop's output is a log.
    prefix = ""
    if options.format is OutputFormat.TEXT and outcome.result.started_at:
        prefix = outcome.result.started_at + " "
    report(outcome, options, out, err, prefix)
