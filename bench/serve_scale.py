"""Serve mode at scale: 200 targets, a quarter of them black holes, scraped the way
Prometheus does (every target every 15 s at its own offset, 10 s scrape timeout sent as
X-Prometheus-Scrape-Timeout-Seconds), for a few minutes. A benchmark, not a test.

    python bench/serve_scale.py [--minutes 3] [--targets 200] [--holes 0.25]

The probe server (`python probe.py serve`) and the CSMS (the demo CSMS, which accepts
any identity) run as their own processes, so the server's CPU time is its own. Black
holes are a listening socket that completes TCP handshakes and never answers. Targets
are module targets (module=bench&target=URL), one identity each.

Reports: answer time p50/p99 of healthy targets, the share of scrapes answered within
their timeout (healthy and black holes apart), probe_success of healthy targets, CPU
seconds per check, and the server's threads and RSS (peak and at the end).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTERVAL_S = 15.0
SCRAPE_TIMEOUT_S = 10.0


def proc_status(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("Threads", "VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int) -> None:
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--holes", type=float, default=0.25, help="share of black-hole targets")
    args = parser.parse_args()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)}
    csms_port, serve_port = free_port(), free_port()
    csms = subprocess.Popen([sys.executable, "-c", (
        "import time; from ocpp_probe.demo import DemoCsms\n"
        f"with DemoCsms(port={csms_port}):\n    time.sleep(1e9)")], env=env)
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(1024)  # handshakes complete; nothing is ever read or written
    hole_port = hole.getsockname()[1]
    holes = round(args.targets * args.holes)
    urls = [(f"ws://127.0.0.1:{hole_port}/ocpp/HOLE-{i}", False) for i in range(holes)]
    urls += [(f"ws://127.0.0.1:{csms_port}/ocpp/CP-{i}", True) for i in range(args.targets - holes)]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "serve.toml"
        config.write_text(f'[server]\nlisten = "127.0.0.1:{serve_port}"\n'
                          '[modules.bench]\nprobe_timeout = 10\nallow_hosts = ["127.0.0.1"]\n')
        serve = subprocess.Popen([sys.executable, str(REPO / "probe.py"), "serve", "--config", str(config)],
                                 env=env, stderr=subprocess.DEVNULL)
        try:
            wait_listening(csms_port)
            wait_listening(serve_port)
            run(args, serve, serve_port, urls)
        finally:
            serve.terminate()
            csms.terminate()
            serve.wait(10)
            csms.wait(10)
            hole.close()


def run(args: argparse.Namespace, serve: subprocess.Popen[bytes], port: int,
        urls: list[tuple[str, bool]]) -> None:
    base = f"http://127.0.0.1:{port}/probe?module=bench&format=prometheus&target="
    results: list[tuple[bool, float, int, bool]] = []  # healthy, seconds, status, success
    lock = threading.Lock()
    stop_at = time.monotonic() + args.minutes * 60
    cpu_start = cpu_seconds(serve.pid)
    peak_threads = 0

    def scraper(url: str, healthy: bool) -> None:
        next_at = time.monotonic() + random.uniform(0, INTERVAL_S)
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= stop_at:
                return
            request = urllib.request.Request(base + url, headers={
                "X-Prometheus-Scrape-Timeout-Seconds": str(SCRAPE_TIMEOUT_S),
                "Accept": "text/plain;version=0.0.4"})
            begin = time.monotonic()
            status, success = 0, False
            try:
                with urllib.request.urlopen(request, timeout=SCRAPE_TIMEOUT_S) as answer:
                    body = answer.read().decode()
                    status = answer.status
                    success = "\nprobe_success 1\n" in "\n" + body
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = -1  # timed out as Prometheus would
            with lock:
                results.append((healthy, time.monotonic() - begin, status, success))
            next_at += INTERVAL_S

    threads = [threading.Thread(target=scraper, args=pair, daemon=True) for pair in urls]
    for thread in threads:
        thread.start()
    while time.monotonic() < stop_at:
        time.sleep(2)
        peak_threads = max(peak_threads, proc_status(serve.pid)["Threads"])
    for thread in threads:
        thread.join(SCRAPE_TIMEOUT_S + 5)
    cpu = cpu_seconds(serve.pid) - cpu_start
    status = proc_status(serve.pid)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    checks = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith("ocpp_probe_serve_probes_total{"))
    healthy = [r for r in results if r[0]]
    dead = [r for r in results if not r[0]]
    times = [r[1] for r in healthy if r[2] == 200]

    def within(rows: list[tuple[bool, float, int, bool]]) -> float:
        return 100 * sum(1 for r in rows if r[2] == 200 and r[1] <= SCRAPE_TIMEOUT_S) / max(1, len(rows))

    print(f"targets {len(urls)} ({len(urls) - sum(h for _, h in urls)} black holes), "
          f"{args.minutes:g} min, every {INTERVAL_S:g} s, scrape timeout {SCRAPE_TIMEOUT_S:g} s")
    print(f"scrapes: {len(healthy)} healthy, {len(dead)} black hole; checks run: {checks:.0f}")
    print(f"healthy answer time: p50 {1000 * statistics.median(times):.1f} ms, "
          f"p99 {1000 * percentile(times, 0.99):.1f} ms, max {1000 * max(times):.1f} ms")
    print(f"answered within timeout: healthy {within(healthy):.2f} %, black holes {within(dead):.2f} %")
    print(f"healthy probe_success=1: {100 * sum(r[3] for r in healthy) / max(1, len(healthy)):.2f} %")
    refused = sum(1 for r in results if r[2] == 429)
    print(f"refused (429): {refused}; client timeouts: {sum(1 for r in results if r[2] == -1)}")
    print(f"server CPU: {cpu:.1f} s, {1000 * cpu / max(1, checks):.2f} ms per check")
    print(f"server threads: peak {peak_threads}, end {status['Threads']}; "
          f"RSS: peak {status['VmHWM'] / 1024:.1f} MiB, end {status['VmRSS'] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
