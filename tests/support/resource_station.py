"""Child process of the station resource test: one long session with many reconnects.

Run as `python -m tests.support.resource_station '<json>'` with {"url": ..., "checks": N,
"warm_up": W, "marks": M}. Holds a connection to the CSMS at ``url`` (which closes it
every few Heartbeats), and prints one JSON object per mark with the process's open
file descriptors, RSS, threads and the session's counts. Each mark is taken right
after an answered Heartbeat, so exactly one connection is open at every mark.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time

from ocpp_probe.result import CheckResult, Verdict
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.settings import check_settings_from
from ocpp_probe.station import Station

from .resource_loop import _rss_kib, _threads_after_settling


def main(config: dict[str, object]) -> None:
    values = {"WS_URL": str(config["url"]), "PROBE_EVERY": "0.005", "PROBE_HOLD": "true",
              "PROBE_PING_INTERVAL": "0.02", "PROBE_TIMEOUT": "3"}
    station = Station(check_settings_from(values), run_options_from(values, OutputFormat.JSON, None))
    checks, warm_up, marks = (int(str(config[name])) for name in ("checks", "warm_up", "marks"))
    drops: list[str] = []

    def dropped(result: CheckResult) -> None:
        drops.append(str(result.failure_kind))

    def one_ok() -> None:
        """Ticks until one is OK: a drop or a failed reconnect is part of the session."""
        for _ in range(50):
            result = station.tick()
            station.wait_until(time.monotonic() + 0.005, dropped)
            if result.verdict is Verdict.OK:
                return
        print(json.dumps({"error": f"no OK in 50 ticks, last: {result.reason}"}))
        sys.exit(1)

    for _ in range(warm_up):
        one_ok()
    for mark in range(marks + 1):
        if mark:
            for _ in range(checks // marks):
                one_ok()
        while station.link is None:  # the mark is taken on a held connection
            one_ok()
        gc.collect()
        print(json.dumps({
            "fds": len(os.listdir("/proc/self/fd")), "rss_kib": _rss_kib(),
            "threads": _threads_after_settling(), "connections": station.ledger.connections,
            "boots": station.ledger.boots, "drops": len(drops),
        }), flush=True)
    station.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
