"""A one-file binary unpacks itself into $TMPDIR on every run (staticx's loader
unpacks the frozen program, libpython and the rest into staticx-locked-*). After
success, failure and timeout nothing may remain: a Pi probing every 30 s would
otherwise fill /tmp. Signals, SIGKILL and crashes: test_endings.py.
"""

from __future__ import annotations

from ..peers.loopback import SilentServer
from ..support.binaries import BinaryRunner
from ..support.net import free_port


def test_nothing_left_after_success(runner: BinaryRunner) -> None:
    r = runner.run(["--demo"])
    assert (r.returncode, r.leftovers) == (0, [])


def test_nothing_left_after_failure(runner: BinaryRunner) -> None:
    r = runner.run([], env={"WS_URL": f"ws://127.0.0.1:{free_port()}/ocpp/CP-LITTER"})
    assert r.stdout.startswith("OCPP CRITICAL")
    assert (r.returncode, r.leftovers) == (2, [])


def test_nothing_left_after_timeout(runner: BinaryRunner) -> None:
    with SilentServer() as silent:
        r = runner.run(["--json"], env={"WS_URL": silent.url(), "PROBE_TIMEOUT": "2"})
    doc = r.json()
    assert (doc["failed_step"], doc["verdict"]) == ("upgrade", "CRITICAL")
    assert "timed out" in doc["reason"]
    assert (r.returncode, r.leftovers) == (2, [])
