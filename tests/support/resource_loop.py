"""Child process of the resource test: many checks in one process, measured as it goes.

Run as `python -m tests.support.resource_loop '<json>'` with {"cases": [[env, exit code], ...],
"checks": N, "warm_up": W, "marks": M}. Prints one JSON object per mark with the
process's open file descriptors, RSS and thread count; exits 1 if a check ends with
an exit code other than its case's.
"""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import threading
import time

from ocpp_probe.cli import main


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _threads_after_settling() -> list[str]:
    # A resolver thread may still be unwinding right after its check returned.
    end = time.monotonic() + 1.0
    while threading.active_count() > 1 and time.monotonic() < end:
        time.sleep(0.01)
    return [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()]


def _run(cases: list[tuple[dict[str, str], int]], start: int, count: int) -> None:
    for index in range(start, start + count):
        env, expected = cases[index % len(cases)]
        out = io.StringIO()
        code = main([], environ=dict(env), stdout=out, stderr=io.StringIO())
        if code != expected:
            print(json.dumps({"error": f"check {index}: exit {code}, expected {expected}: {out.getvalue()}"}))
            sys.exit(1)


def loop(config: dict[str, object]) -> None:
    assert isinstance(config["cases"], list)
    cases = [(dict(env), int(code)) for env, code in config["cases"]]
    checks, warm_up, marks = (int(str(config[name])) for name in ("checks", "warm_up", "marks"))
    _run(cases, 0, warm_up)
    done = warm_up
    for mark in range(marks + 1):
        if mark:
            _run(cases, done, checks // marks)
            done += checks // marks
        gc.collect()
        fds = len(os.listdir("/proc/self/fd"))
        print(json.dumps({"checks": done - warm_up, "fds": fds, "rss_kib": _rss_kib(),
                          "threads": _threads_after_settling()}), flush=True)


if __name__ == "__main__":
    loop(json.loads(sys.argv[1]))
