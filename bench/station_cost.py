"""What loop mode and station mode cost the CSMS: CPU time of a real CSMS process
(npm ocpp-rpc in strictMode) and TCP connections per check, paired and interleaved.
A benchmark, not a test.

    python bench/station_cost.py [--rounds 5] [--checks 100] [--every 0.05]

Each round runs both modes against the same CSMS in a random order, for the same
number of checks: `--every E` (a connection, TLS-free upgrade, BootNotification and
Heartbeat per check) and `--hold --every E` (one Heartbeat per check on one held
connection). The CSMS's CPU time is read from /proc/<pid>/stat before and after each
run; the probe's from wait4(). Reported: medians per check, and the ratio loop/station.
Needs node and tests/peers/node_modules (npm ci in tests/peers).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.peers.ocpp_rpc_csms import OcppRpcCsms  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run(mode: str, csms: OcppRpcCsms, checks: int, every: float) -> dict[str, float]:
    station = ["--hold", "--ping-interval", "0"] if mode == "station" else []
    argv = ["--every", str(every), "--json", *station]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "WS_URL": csms.url(f"BENCH-{mode}")}
    assert csms._process is not None
    before_cpu, before_clients = cpu_s(csms._process.pid), len(csms.of("client"))
    proc = subprocess.Popen([sys.executable, str(REPO / "probe.py"), *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines = 0
    for line in proc.stdout:
        if '"verdict":"OK"' not in line:
            raise SystemExit(f"{mode}: not OK: {line[:200]}")
        lines += 1
        if lines >= checks:
            break
    proc.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(proc.pid, 0)
    time.sleep(0.2)  # let the CSMS finish with the last connection
    return {
        "csms_cpu_ms": (cpu_s(csms._process.pid) - before_cpu) * 1000 / checks,
        "probe_cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000 / checks,
        "connections": (len(csms.of("client")) - before_clients) / checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.05)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"loop": [], "station": []}
    with OcppRpcCsms(protocols=["ocpp1.6"]) as csms:
        for _ in range(args.rounds):
            for mode in random.sample(["loop", "station"], 2):
                results[mode].append(run(mode, csms, args.checks, args.every))
    print(f"{args.rounds} rounds x {args.checks} checks, --every {args.every}, CSMS: ocpp-rpc strictMode")
    medians = {mode: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
               for mode, runs in results.items()}
    for key in ("csms_cpu_ms", "probe_cpu_ms", "connections"):
        loop, station = medians["loop"][key], medians["station"][key]
        ratio = f"{loop / station:.1f}x" if station else "n/a"
        print(f"  {key:14} per check: loop {loop:8.3f}  station {station:8.3f}  loop/station {ratio}")


if __name__ == "__main__":
    main()
