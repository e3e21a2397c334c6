"""Station mode's schedule: loop mode's slots, with the connection held in between.

The same guarantees as loop mode (loop.py): Heartbeats start on slots anchored to
the start, never overlap, skip missed slots with a note on stderr; SIGTERM and SIGINT
end the run with exit 0 after a close frame (1001 going away). A drop found between
slots is reported (and pushed) at once, not at the next slot.
"""

from __future__ import annotations

import time
from typing import TextIO

from .loop import Clock, Schedule, report_logged, skipped_note
from .redact import redact_url
from .result import CheckResult
from .runner import RunOptions, finish
from .settings import CheckSettings
from .signals import Stopped, StopSignals
from .station import Station
from .trace import Tracer


def run_station(
    settings: CheckSettings,
    options: RunOptions,
    out: TextIO,
    err: TextIO,
    trace: Tracer | None = None,
    stop: StopSignals | None = None,
    max_checks: int | None = None,
    clock: Clock = time.monotonic,
) -> int:
    """Hold a connection and check it every ``options.every_s`` seconds until stopped (exit 0)."""
    assert options.every_s is not None
    stop = stop or StopSignals()
    stop.install()
    pings = f"ping every {options.ping_interval_s:g} s" if options.ping_interval_s else "no pings"
    pushing = f", pushing to {options.push.display}" if options.push else ""
    err.write(
        f"ocpp-probe: holding a connection to {redact_url(settings.url)}, Heartbeat every "
        f"{options.every_s:g} s, {pings}{pushing}\n"
    )
    err.flush()

    def emit(result: CheckResult) -> None:
        report_logged(finish(result, options, trace), options, out, err)

    station = Station(settings, options, trace, clock, stop.wait)
    schedule = Schedule(clock(), options.every_s)
    slot = 0
    checks = 0
    try:
        while not stop.requested:
            try:
                with stop.interruptible():
                    result = station.tick()
                    emit(result)
            except Stopped:
                break
            checks += 1
            if max_checks is not None and checks >= max_checks:
                break
            slot, skipped = schedule.next_slot(slot, clock())
            if skipped:
                err.write(skipped_note(result, options.every_s, skipped) + "\n")
                err.flush()
            try:
                with stop.interruptible():
                    station.wait_until(schedule.slot_time(slot), emit)
            except Stopped:
                break
    finally:
        station.close()
        stop.restore()
    why = f"stopped by {stop.signal_name}" if stop.signal_name else "done"
    facts = station.ledger
    err.write(
        f"ocpp-probe: {why} after {checks} check{'s' if checks != 1 else ''}, "
        f"{facts.connections} connection{'s' if facts.connections != 1 else ''}, "
        f"{facts.boots} BootNotification{'s' if facts.boots != 1 else ''}\n"
    )
    err.flush()
    return 0
