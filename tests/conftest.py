"""Shared helpers: run the probe in-process or as `python probe.py`, read its verdict."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from .result_schema import validated, validated_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = os.path.join(ROOT, "probe.py")


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


@pytest.fixture
def probe() -> Any:
    return probe_in_process
