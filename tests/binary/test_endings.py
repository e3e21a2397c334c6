"""Every way a run of the binary can end, on every architecture: nothing left in
TMPDIR, no process left behind.

The binary's top process is staticx's loader, patched by build/staticx/loader.patch
and build/staticx/guard.c: it unpacks into $TMPDIR/staticx-locked-*, locks that
directory, and runs the probe as its child. Signals are sent once the check is in
progress (connected to a server that never answers), to the top process alone (as
Kuma or timeout(1) do) or to its whole process group (a shell's Ctrl-C, systemd).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocpp_probe.demo import DemoCsms

from ..peers.loopback import SilentServer
from ..support.binaries import BinaryRunner, poll_until
from ..support.net import free_port

BUNDLE = "staticx-locked-"
# Terminating signals a supervisor, a shell or a user sends; each one is forwarded.
FORWARDED = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1]


def bundles(tmpdir: Path) -> list[str]:
    return sorted(n for n in os.listdir(tmpdir) if n.startswith(BUNDLE))


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def gone(pid: int) -> bool:
    """Not running any more (exited, or a zombie nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@contextmanager
def checking(runner: BinaryRunner, env: dict[str, str] | None = None) -> Iterator[
    tuple[subprocess.Popen[str], Path, list[int]]
]:
    """A binary in the middle of a check (connected, silent server), with the pids of
    the loader's children (the probe)."""
    with SilentServer() as silent:
        proc, tmpdir = runner.start(
            [], env={"WS_URL": silent.url(), "PROBE_TIMEOUT": "120", **(env or {})}
        )
        try:
            assert silent.accepted.wait(120), "the binary never connected"
            assert poll_until(lambda: bool(bundles(tmpdir)))
            kids = children(proc.pid)
            assert kids, "the loader has no child"
            yield proc, tmpdir, kids
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def stopped(proc: subprocess.Popen[str], signum: int, target: str) -> tuple[str, str]:
    """Send ``signum`` to the process ("pid") or its whole group ("group"), as a launcher
    or a shell would, and collect what it printed until it ended."""
    if target == "group":
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    return proc.communicate(timeout=120)


@pytest.mark.parametrize("signum", FORWARDED, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("target", ["pid", "group"])
def test_signal_mid_check_leaves_nothing(runner: BinaryRunner, signum: int, target: str) -> None:
    with checking(runner) as (proc, tmpdir, kids):
        out, err = stopped(proc, signum, target)
    # The probe dies of the signal, the loader removes the bundle and dies of the same.
    assert proc.returncode == -signum, err
    assert out == ""
    assert all(gone(k) for k in kids)
    assert runner.leftovers(tmpdir) == []


def test_signal_while_unpacking_leaves_nothing(runner: BinaryRunner) -> None:
    """SIGTERM at once after the start, most likely while the loader still unpacks
    (before any child exists): the loader removes what it unpacked so far."""
    proc, tmpdir = runner.start(["--version"])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (-signal.SIGTERM, 0), err  # 0: it was already done
    assert runner.leftovers(tmpdir) == []


@pytest.mark.parametrize("target", ["pid", "group"])
def test_sigkill_no_orphan_and_next_start_cleans(runner: BinaryRunner, target: str) -> None:
    """SIGKILL cannot be caught: the probe dies with the loader at once (PDEATHSIG,
    so no late verdict), the bundle stays, and the next start removes it."""
    with checking(runner) as (proc, tmpdir, kids):
        stale = bundles(tmpdir)
        if target == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        assert poll_until(lambda: all(gone(k) for k in kids), timeout=30), "the probe outlived its loader"
        assert out == ""
        assert bundles(tmpdir) == stale
    env = runner.env(tmpdir, None)
    nxt = subprocess.run([str(runner.path), "--version"], env=env, capture_output=True, text=True, timeout=120)
    assert nxt.returncode == 0, nxt.stdout + nxt.stderr
    assert runner.leftovers(tmpdir) == []


def test_loader_crash_kills_probe_and_cleans(runner: BinaryRunner) -> None:
    """A fault in the loader (SIGSEGV delivered to it): it kills the probe, removes
    the bundle and dies of the fault, without a core file."""
    with checking(runner) as (proc, tmpdir, kids):
        proc.send_signal(signal.SIGSEGV)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGSEGV, err
    assert out == ""
    assert all(gone(k) for k in kids)
    assert runner.leftovers(tmpdir) == []
    assert not any(n.startswith("core") for n in os.listdir(runner.base))


def test_next_start_spares_a_live_run_and_foreign_dirs(runner: BinaryRunner) -> None:
    """A start sweeps only unlocked bundles of its own user: never the bundle of a
    run in progress, nor a directory staticx (unpatched) or another user made."""
    with checking(runner) as (proc, tmpdir, kids):
        live = bundles(tmpdir)
        foreign = [tmpdir / "staticx-AbC123", tmpdir / (BUNDLE + "nobody")]
        for path in foreign:
            path.mkdir()
        os.chown(foreign[1], 65534, 65534)
        env = runner.env(tmpdir, None)
        other = subprocess.run(
            [str(runner.path), "--version"], env=env, capture_output=True, text=True, timeout=120
        )
        assert other.returncode == 0, other.stdout + other.stderr
        assert bundles(tmpdir) == sorted([*live, foreign[1].name])
        assert (tmpdir / live[0] / "ocpp-probe").is_file()
        assert all(not gone(k) for k in kids)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGTERM
        assert sorted(os.listdir(tmpdir)) == sorted(p.name for p in foreign)
        for path in foreign:
            path.rmdir()
    assert runner.leftovers(tmpdir) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("target", ["pid", "group"])
def test_loop_stops_with_exit_0(
    runner: BinaryRunner, demo_csms: DemoCsms, signum: int, target: str
) -> None:
    """--every keeps its contract through the loader: SIGTERM/SIGINT end the loop
    after the current report, exit 0, nothing left."""
    report = runner.base / "loop.json"
    proc, tmpdir = runner.start(
        ["--json", "--every", "10", "--output", str(report)], env={"WS_URL": demo_csms.url("CP-LOOP")}
    )
    try:
        assert poll_until(report.exists, timeout=120), "no report from the loop"
        out, err = stopped(proc, signum, target)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out + err
    assert '"verdict":"OK"' in report.read_text().replace(" ", "")
    assert runner.leftovers(tmpdir) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("target", ["pid", "group"])
def test_serve_stops_with_exit_0(
    runner: BinaryRunner, demo_csms: DemoCsms, signum: int, target: str
) -> None:
    """serve mode keeps the same contract through the loader: exit 0, nothing left."""
    import urllib.request

    port = free_port()
    config = runner.base / "serve.toml"
    config.write_text(f'[targets.demo]\nws_url = "{demo_csms.url("CP-SERVE")}"\n')
    proc, tmpdir = runner.start(["serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"])

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe?target=demo", timeout=30) as r:
                return r.status == 200 and b'"verdict":"OK"' in r.read().replace(b" ", b"")
        except OSError:
            return False

    try:
        assert poll_until(answers, timeout=120), "serve mode never answered"
        out, err = stopped(proc, signum, target)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out + err
    assert runner.leftovers(tmpdir) == []
