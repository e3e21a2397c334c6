"""Speed, CPU and memory of one full check: frozen binary vs `python probe.py` vs a
Node.js + ws baseline, paired and interleaved (each round runs all three in a fresh
random order against the same loopback CSMS). A benchmark, not a test.

    python bench/bench.py [--rounds 40] [--binary dist/ocpp-probe-linux-amd64] [--python PY]

--python is the interpreter for `probe.py` (needs websocket-client and orjson;
default: this one). The Node baseline's `ws` is installed with npm ci if missing.
Afterwards it prints the import-time budget of `probe.py` (bench/imports.py).
Wall time is spawn to exit; CPU time comes from wait4(), so it includes every process
the command starts. Peak RSS (the largest single process) is measured apart, through
GNU time when it is installed: a child forked from this benchmark starts with this
process's high-water RSS (Linux keeps it across exec), which hid the probe's smaller
figure behind the benchmark's own.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ocpp_probe.demo import DemoCsms  # noqa: E402


def run_once(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(REPO)
    )
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not out.startswith(b"OCPP OK"):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {out!r} {err[-400:]!r}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


def paired_rounds(
    commands: dict[str, list[str]], env: dict[str, str], rounds: int, warmup: int, seed: int
) -> dict[str, list[dict[str, float]]]:
    """Each round runs every command once, in a fresh random order; warm-up rounds are
    not kept. Pairs (round i of a and of b) share the machine's state of the moment."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    rng = random.Random(seed)
    for index in range(warmup + rounds):
        order = list(commands)
        rng.shuffle(order)
        for name in order:
            sample = run_once(commands[name], env)
            if index >= warmup:
                results[name].append(sample)
    return results


def peak_rss_mib(cmd: list[str], env: dict[str, str], runs: int = 5) -> float | None:
    """Median peak RSS of ``cmd`` as GNU time (a small process) sees its child."""
    if not os.path.exists("/usr/bin/time"):
        return None
    values = []
    for _ in range(runs):
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True, text=True, cwd=str(REPO)
        )
        values.append(int(proc.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--binary", default=str(REPO / "dist" / "ocpp-probe-linux-amd64"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--node", default="node")
    ap.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=CMD",
        help="another contender in the same rounds, e.g. old=/tmp/ocpp-probe-before (repeatable)",
    )
    ap.add_argument(
        "--no-imports", action="store_true", help="skip the import-time budget (bench/imports.py)"
    )
    args = ap.parse_args()

    node_dir = REPO / "bench" / "node-probe"
    if not (node_dir / "node_modules" / "ws").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(node_dir)], check=True
        )

    commands = {
        "binary": [args.binary],
        "python": [args.python, str(REPO / "probe.py")],
        "node": [args.node, str(node_dir / "probe.mjs")],
    }
    for extra in args.extra:
        name, _, cmd = extra.partition("=")
        commands[name] = cmd.split()
    with DemoCsms() as csms:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "WS_URL": csms.url("BENCH-CP"),
            "LANG": "C",
        }
        results = paired_rounds(commands, env, args.rounds, args.warmup, seed=20261125)
        rss = {name: peak_rss_mib(cmd, env) for name, cmd in commands.items()}

    med = {
        name: {k: statistics.median(s[k] for s in samples) for k in ("wall", "cpu", "rss_mib")}
        for name, samples in results.items()
    }
    for name, value in rss.items():
        if value is not None:
            med[name]["rss_mib"] = value
    size = os.path.getsize(args.binary) / 1e6
    print(
        f"{args.rounds} paired rounds (+{args.warmup} warm-up), loopback demo CSMS, {os.cpu_count()} CPUs"
    )
    width = max(8, *(len(name) for name in commands))
    print(f"{'':{width}} {'wall ms':>9} {'cpu ms':>9} {'peak RSS MiB':>13}")
    for name in commands:
        m = med[name]
        print(f"{name:{width}} {m['wall'] * 1000:9.1f} {m['cpu'] * 1000:9.1f} {m['rss_mib']:13.1f}")
    pairs = [("binary", "node"), ("python", "node"), ("binary", "python")]
    pairs += [(name, other) for name in commands if name not in ("binary", "python", "node")
              for other in ("node", "binary")]
    for a, b in pairs:
        # Median of the per-round ratios (paired), not the ratio of medians.
        ratios = [x["wall"] / y["wall"] for x, y in zip(results[a], results[b])]
        cpu = [x["cpu"] / y["cpu"] for x, y in zip(results[a], results[b])]
        print(
            f"{a}/{b}: wall {statistics.median(ratios):.2f}x, cpu {statistics.median(cpu):.2f}x, "
            f"RSS {med[a]['rss_mib'] / med[b]['rss_mib']:.2f}x"
        )
    print(f"binary size: {size:.1f} MB ({os.path.basename(args.binary)})")
    if not args.no_imports:
        from imports import report

        with DemoCsms() as csms:
            report(args.python, csms.url("BENCH-CP"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
