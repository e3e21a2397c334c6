"""What defining a class costs: a five-field frozen dataclass against the same class
as an ocpp_probe.records record, paired and interleaved rounds, medians and ratio.
A benchmark, not a test. Each module import of the probe pays this once per class.

    python bench/records.py [--rounds 15] [--per-round 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocpp_probe.records import record


def define(decorate: Callable[[type], type]) -> type:
    """The same five-field value class, made by ``decorate``."""

    @decorate
    class Sample:
        """A five-field value class."""

        a: int
        b: str
        c: float = 0.0
        d: list[int] = field(default_factory=list)
        e: str | None = None

    return Sample


def per_class_us(decorate: Callable[[type], type], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        define(decorate)
    return (time.perf_counter() - start) / count * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--per-round", type=int, default=50)
    args = ap.parse_args()
    samples: dict[str, list[float]] = {"dataclass(frozen=True)": [], "record": []}
    for index in range(args.rounds):
        pairs = [("dataclass(frozen=True)", dataclass(frozen=True)), ("record", record)]
        for name, decorate in pairs if index % 2 else reversed(pairs):
            samples[name].append(per_class_us(decorate, args.per_round))
    for name, values in samples.items():
        print(f"{name:24} {statistics.median(values):7.1f} us a class")
    ratios = [d / r for d, r in zip(samples["dataclass(frozen=True)"], samples["record"])]
    print(f"dataclass / record: {statistics.median(ratios):.1f}x ({args.rounds} paired rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
