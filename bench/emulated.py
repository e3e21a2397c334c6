"""The arm binaries under QEMU user emulation, as ratios to the amd64 binary: one full
check each against the same loopback CSMS, paired and interleaved. A benchmark, not
a test, and not a device figure: QEMU translates every instruction, so the ratios say
how the emulated builds compare here (a regression shows), never how fast a Raspberry
Pi is.

    python bench/emulated.py [--rounds 10] [--dist dist]

Needs binfmt_misc with qemu-user-static (as the cross builds do); a binary that is
missing or cannot run is reported and left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench import paired_rounds  # noqa: E402
from ocpp_probe.demo import DemoCsms  # noqa: E402

ARCHES = ("amd64", "arm64", "armv7")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--dist", default=str(REPO / "dist"))
    args = ap.parse_args()

    with DemoCsms() as csms:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "WS_URL": csms.url("BENCH-CP"),
            "LANG": "C",
        }
        commands: dict[str, list[str]] = {}
        for arch in ARCHES:
            binary = Path(args.dist) / f"ocpp-probe-linux-{arch}"
            probe = subprocess.run([str(binary)], env=env, capture_output=True, text=True, check=False) \
                if binary.is_file() else None
            if probe is None or probe.returncode != 0:
                why = "missing" if probe is None else f"exit {probe.returncode}: {probe.stdout.strip()[:80]}"
                print(f"{arch}: left out ({why})")
                continue
            commands[arch] = [str(binary)]
        if "amd64" not in commands:
            print("the amd64 binary is needed as the reference")
            return 2
        samples = paired_rounds(commands, env, args.rounds, args.warmup, seed=20261126)
        results = {name: [sample["wall"] for sample in runs] for name, runs in samples.items()}

    print(f"{args.rounds} paired rounds (+{args.warmup} warm-up), full check, loopback demo CSMS")
    for name, walls in results.items():
        ratios = [wall / ref for wall, ref in zip(walls, results["amd64"])]
        print(
            f"{name:6} wall {statistics.median(walls) * 1000:8.1f} ms"
            f"   {statistics.median(ratios):5.1f}x amd64" + ("" if name == "amd64" else " (under QEMU)")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
