"""`python probe.py --every ...` as a child process, and waiting for what it does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from .paths import PROBE, ROOT
from .result_schema import validated


class LoopProcess:
    """`python probe.py --every ...` with its output in files (a pipe could fill up)."""

    def __init__(self, tmp: str, argv: list[str], env: dict[str, str]) -> None:
        self.out_path = os.path.join(tmp, "stdout")
        self.err_path = os.path.join(tmp, "stderr")
        self._out: TextIO = open(self.out_path, "w")
        self._err: TextIO = open(self.err_path, "w")
        base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT, **env}
        self.process = subprocess.Popen(
            [sys.executable, PROBE, *argv], env=base, stdout=self._out, stderr=self._err,
            stdin=subprocess.DEVNULL,
        )

    def documents(self) -> list[dict[str, Any]]:
        with open(self.out_path) as handle:
            return [validated(json.loads(line)) for line in handle.read().splitlines() if line.endswith("}")]

    def stderr(self) -> str:
        with open(self.err_path) as handle:
            return handle.read()

    def fd_count(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def idle_fd_count(self) -> int:
        """The fewest fds seen over ~60 ms: the count between checks, not during one."""
        counts = []
        for _ in range(30):
            counts.append(self.fd_count())
            time.sleep(0.002)
        return min(counts)

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as handle:
            line = next(line for line in handle if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._out.close()
            self._err.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
