"""How much of a check is the probe's own time, against a loopback CSMS in another process.

Contenders, run paired and interleaved in one invocation:
  probe  - ocpp_probe.check.run_check (the real check: every step timed and validated)
  naive  - websocket-client's create_connection + BootNotification + Heartbeat with no
           validation, timing or deadline: the floor a hand-written script would reach
For each: median wall time of a whole check, median CPU time this process spent on it
(the probe's own work; the CSMS runs in a separate process), and for the probe the
median of total minus the CSMS's response times (BootNotification and Heartbeat round
trips as measured by the probe). Prints medians and the probe/naive ratios.

Usage: python bench/own_time.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import orjson  # noqa: E402
import websocket  # noqa: E402

from ocpp_probe.check import run_check  # noqa: E402
from ocpp_probe.settings import check_settings_from  # noqa: E402

SERVER = """
import sys, time
from ocpp_probe.demo import DemoCsms
with DemoCsms() as csms:
    print(csms.url(), flush=True)
    sys.stdin.read()
"""


def naive_check(url: str) -> None:
    ws = websocket.create_connection(url, subprotocols=["ocpp1.6"], timeout=5)
    try:
        boot = [2, str(uuid.uuid4()), "BootNotification",
                {"chargePointVendor": "ocpp-probe", "chargePointModel": "kuma-probe"}]
        ws.send(orjson.dumps(boot).decode())
        ws.recv()
        ws.send(orjson.dumps([2, str(uuid.uuid4()), "Heartbeat", {}]).decode())
        ws.recv()
    finally:
        ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    settings = check_settings_from({"WS_URL": url})
    samples: dict[str, dict[str, list[float]]] = {
        "probe": {"wall": [], "cpu": [], "own": []},
        "naive": {"wall": [], "cpu": []},
    }

    def probe_once() -> None:
        result = run_check(settings)
        if result.verdict.name != "OK":
            raise SystemExit(f"check failed: {result.reason}")
        waits = result.timings_ms["boot"] + (result.heartbeat_rtt_ms or 0)
        samples["probe"]["own"].append(result.total_ms - waits)

    contenders: dict[str, Callable[[], None]] = {"probe": probe_once, "naive": lambda: naive_check(url)}
    try:
        for run in contenders.values():  # warm-up: imports, first connections
            for _ in range(10):
                run()
        for kinds in samples.values():
            for values in kinds.values():
                values.clear()
        for index in range(args.rounds):
            order = list(contenders) if index % 2 == 0 else list(reversed(contenders))
            for name in order:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                contenders[name]()
                samples[name]["wall"].append((time.perf_counter() - wall0) * 1000)
                samples[name]["cpu"].append((time.process_time() - cpu0) * 1000)
    finally:
        server.stdin.close()
        server.wait(10)

    med = {name: {k: statistics.median(v) for k, v in kinds.items()} for name, kinds in samples.items()}
    print(f"own_time.py: {args.rounds} paired rounds against {url} (demo CSMS in another process)")
    print(f"{'contender':<10}{'wall ms':>10}{'cpu ms':>10}{'own ms':>10}")
    for name, m in med.items():
        own = f"{m['own']:10.3f}" if "own" in m else f"{'-':>10}"
        print(f"{name:<10}{m['wall']:10.3f}{m['cpu']:10.3f}{own}")
    print(f"ratio probe/naive: wall {med['probe']['wall'] / med['naive']['wall']:.2f}, "
          f"cpu {med['probe']['cpu'] / med['naive']['cpu']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
