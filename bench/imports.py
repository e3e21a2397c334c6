"""Import-time budget of one full check in source mode: how many modules
`python -X importtime probe.py` imports and how long they take (sum of the
modules' own times), median of several runs, with the costliest modules.

    python bench/imports.py [--python PY] [--runs 7] [--top 12]

Run by bench/bench.py after its rounds, so a regression shows next to the wall
times. The binary imports the same modules (its interpreter is the same Python
3.11; PyInstaller ignores -X options at run time, hence source mode here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ocpp_probe.demo import DemoCsms  # noqa: E402

Row = tuple[str, int, int]  # module, own us, cumulative us


def parse(stderr: str) -> list[Row]:
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        rows.append((name.strip(), int(own), int(cumulative)))
    return rows


def budget(python: str, url: str, runs: int, args: list[str]) -> tuple[int, float, list[Row]]:
    """Modules, median total ms, and the rows of the median run."""
    samples = []
    for _ in range(runs):
        env = {**os.environ, "WS_URL": url, "PYTHONPATH": str(REPO)}
        proc = subprocess.run(
            [python, "-X", "importtime", str(REPO / "probe.py"), *args],
            env=env, capture_output=True, text=True, cwd=str(REPO),
        )
        rows = parse(proc.stderr)
        samples.append((sum(r[1] for r in rows) / 1000, rows))
    samples.sort(key=lambda s: s[0])
    total, rows = samples[len(samples) // 2]
    return len(rows), total, rows


def report(python: str, url: str, runs: int = 7, top: int = 12) -> None:
    for label, args in (("full check", []), ("--version", ["--version"]), ("--help", ["--help"])):
        count, total, rows = budget(python, url, runs, args)
        print(f"import budget, {label}: {count} modules, {total:.1f} ms (median of {runs}, source mode)")
        if label == "full check":
            for name, own, cumulative in sorted(rows, key=lambda r: -r[2])[:top]:
                print(f"  {cumulative / 1000:6.1f} ms cumulative {own / 1000:6.1f} ms own  {name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    with DemoCsms() as csms:
        report(args.python, csms.url("BENCH-CP"), args.runs, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
