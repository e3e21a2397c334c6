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
import time
from dataclasses import dataclass
from typing import Callable, TextIO

from .redact import redact_url
from .result import CheckResult
from .runner import Outcome, OutputFormat, RunOptions, check_once, report
from .settings import CheckSettings
from .signals import Stopped, StopSignals
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
        while not stop.requested:
            try:
                with stop.interruptible():
                    outcome: Outcome = checker(settings, options, trace)
            except Stopped:
                break
            checks += 1
            report_logged(outcome, options, out, err)
            if max_checks is not None and checks >= max_checks:
                break
            slot, skipped = schedule.next_slot(slot, clock())
            if skipped:
                err.write(skipped_note(outcome.result, options.every_s, skipped) + "\n")
                err.flush()
            (sleep or stop.wait)(max(0.0, schedule.slot_time(slot) - clock()))
    finally:
        stop.restore()
    why = f"stopped by {stop.signal_name}" if stop.signal_name else "done"
    err.write(f"ocpp-probe: {why} after {checks} check{'s' if checks != 1 else ''}\n")
    err.flush()
    return 0


def skipped_note(result: CheckResult, every_s: float, skipped: int) -> str:
    """The stderr note for slots skipped because a check outlasted the interval."""
    return (
        f"ocpp-probe: check took {result.total_ms / 1000:.2f} s, longer than the {every_s:g} s "
        f"interval; skipped {skipped} slot{'s' if skipped > 1 else ''}"
    )


def report_logged(outcome: Outcome, options: RunOptions, out: TextIO, err: TextIO) -> None:
    """Report one check of a loop or a station session: each text line carries its
    check's start time, since the output is a log."""
    prefix = ""
    if options.format is OutputFormat.TEXT and outcome.result.started_at:
        prefix = outcome.result.started_at + " "
    report(outcome, options, out, err, prefix)
