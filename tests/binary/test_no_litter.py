"""A one-file binary unpacks itself into $TMPDIR on every run (staticx's loader
unpacks the frozen program, libpython and the rest into staticx-*; a one-file
PyInstaller build inside it would add an _MEI*). After success, failure, timeout,
SIGTERM and SIGINT nothing may remain: a Pi probing every 30 s would otherwise fill /tmp.
"""

from __future__ import annotations

import os
import signal

import pytest

from .conftest import BinaryRunner, wait_for
from .peers import SilentServer, free_port


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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("target", ["pid", "group"])
def test_nothing_left_after_signal(runner: BinaryRunner, signum: int, target: str) -> None:
    """SIGTERM/SIGINT to the top process (as Kuma or timeout(1) do) or to its whole
    process group (as a shell's Ctrl-C or systemd do), in the middle of a check."""
    with SilentServer() as silent:
        proc, tmpdir = runner.start([], env={"WS_URL": silent.url(), "PROBE_TIMEOUT": "120"})
        try:
            assert silent.accepted.wait(120), "the binary never connected"
            # The check is in progress, so the bundle is unpacked into TMPDIR.
            assert wait_for(lambda: any(n.startswith("staticx-") for n in os.listdir(tmpdir)))
            if target == "group":
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Dies of the same signal, after removing its bundle; no report is printed.
    assert proc.returncode == -signum, err
    assert out == ""
    assert runner.leftovers(tmpdir) == []
