"""Run the probe in-process or as `python probe.py`, and read its verdict."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .paths import PROBE, ROOT
from .result_schema import validated, validated_lines


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def __post_init__(self) -> None:
        # Every JSON document a run prints is checked against docs/result.schema.json,
        # whether or not the test reads it, and its exit_code is the process's.
        documents = validated_lines(self.stdout)
        if len(documents) == 1 and self.stdout.count("\n") == 1:
            assert documents[0]["exit_code"] == self.code, (documents[0]["exit_code"], self.code)

    @property
    def doc(self) -> dict[str, Any]:
        """The --json document."""
        return validated(json.loads(self.stdout))  # type: ignore[no-any-return]


def probe_in_process(argv: list[str], env: Mapping[str, str] | None = None) -> Run:
    """Run ocpp_probe.cli.main with a clean environment plus ``env``."""
    # Imported here so that loading conftest.py (the binary tests' too) does not import the package.
    from ocpp_probe.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=dict(env or {}), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def probe_process(
    argv: list[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> Run:
    """Run `python probe.py` as a child process with a minimal environment plus ``env``."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT}
    base.update(env or {})
    done = subprocess.run(
        [sys.executable, PROBE, *argv],
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass
class Timed:
    run: Run
    elapsed_s: float


def timed_probe(argv: list[str], env: dict[str, str]) -> Timed:
    """probe_in_process, and how long it took."""
    start = time.monotonic()
    run = probe_in_process(argv, env)
    return Timed(run, time.monotonic() - start)
