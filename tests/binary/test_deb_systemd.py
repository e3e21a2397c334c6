"""The installed units run under a real systemd: the amd64 .deb in a fresh bookworm or
bullseye root booted with systemd-nspawn (systemd as PID 1 of the container; it shares
the host's network, so it reaches a demo CSMS on the host's loopback).

A driver unit inside the container starts the units, records what systemd and the
kernel say about them in /root/results, and powers the container off. This runs the
hardening for real (DynamicUser, NoNewPrivileges, the system call filter) and the
restart rules, on systemd 252 (bookworm) and 247 (bullseye). The arm packages get
the same units and are verified by systemd-analyze in test_deb.py; they are not
booted here (systemd under QEMU user emulation).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ocpp_probe.demo import DemoCsms

from ..support.net import free_port
from .debroot import DebRoot, pristine_root

DRIVER = r"""#!/bin/bash
# Runs inside the booted container; every finding goes to /root/results.
out=/root/results
wait_for() { for _ in $(seq 1 300); do eval "$1" && return 0; sleep 0.1; done; return 1; }
prop() { systemctl show -p "$2" --value "$1"; }

systemctl start ocpp-probe@good.service
wait_for 'journalctl -u ocpp-probe@good.service | grep -q "OCPP OK"' && echo "good_ok=yes" >> $out
pid=$(prop ocpp-probe@good.service MainPID)
echo "good_state=$(prop ocpp-probe@good.service ActiveState)" >> $out
echo "good_uid=$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" >> $out
echo "good_nonewprivs=$(awk '/^NoNewPrivs:/ {print $2}' /proc/$pid/status)" >> $out
echo "good_seccomp=$(awk '/^Seccomp:/ {print $2}' /proc/$pid/status)" >> $out
echo "good_capeff=$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)" >> $out
systemctl stop ocpp-probe@good.service
echo "good_stopped_status=$(prop ocpp-probe@good.service ExecMainStatus)" >> $out
echo "good_stopped_result=$(prop ocpp-probe@good.service Result)" >> $out

systemctl start ocpp-probe@bad.service
wait_for '[ "$(systemctl show -p ActiveState --value ocpp-probe@bad.service)" = failed ]'
sleep 1.5  # RestartSec would have passed twice: a restart would show now
echo "bad_state=$(prop ocpp-probe@bad.service ActiveState)" >> $out
echo "bad_status=$(prop ocpp-probe@bad.service ExecMainStatus)" >> $out
echo "bad_restarts=$(prop ocpp-probe@bad.service NRestarts)" >> $out
echo "bad_line=$(journalctl -u ocpp-probe@bad.service | grep -o 'OCPP UNKNOWN - .*')" >> $out

systemctl start ocpp-probe-serve.service
port=$(cat /root/serve-port)
answer() {
    exec 3<>/dev/tcp/127.0.0.1/$port || return 1
    printf 'GET /probe?target=demo HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    cat <&3 > /root/serve-answer
    exec 3<&-
}
wait_for answer && head -n 1 /root/serve-answer | tr -d '\r' | sed 's/^/serve_status=/' >> $out
grep -q '"verdict": *"OK"' /root/serve-answer && echo "serve_verdict=OK" >> $out
pid=$(prop ocpp-probe-serve.service MainPID)
echo "serve_uid=$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" >> $out
systemctl reload ocpp-probe-serve.service
rm -f /root/serve-answer
wait_for answer && head -n 1 /root/serve-answer | tr -d '\r' | sed 's/^/reloaded_status=/' >> $out
echo "reloaded_same_pid=$([ "$(prop ocpp-probe-serve.service MainPID)" = "$pid" ] && echo yes)" >> $out
systemctl stop ocpp-probe-serve.service
echo "serve_stopped_result=$(prop ocpp-probe-serve.service Result)" >> $out
echo "done=yes" >> $out
systemctl poweroff
"""

DRIVER_UNIT = """[Unit]
Description=drives the ocpp-probe unit test
After=multi-user.target

[Service]
Type=simple
ExecStart=/root/drive.sh

[Install]
WantedBy=multi-user.target
"""

_BOOT = r"""
set -e
lower="$1"; top="$2"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$top/upper,workdir=$top/work" "$top/merged"
exec systemd-nspawn --quiet --directory="$top/merged" --register=no --keep-unit --boot --console=pipe
"""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "boot_suite" in metafunc.fixturenames:
        metafunc.parametrize("boot_suite", ["bookworm", "bullseye"], scope="module")


def boot(root: DebRoot) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-nspawn") is None:
        pytest.fail("systemd-nspawn missing: apt-get install systemd-container (build/apt-deps.sh does)")
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "/bin/bash", "-c", _BOOT, "sh",
         str(root.lower), str(root.top)],
        capture_output=True, text=True, timeout=240,
    )


@pytest.fixture(scope="module")
def results(
    boot_suite: str, amd64_binary: Path, debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """What the driver found in one boot of a fresh root with the package installed.
    (amd64_binary: deselected with the other amd64-only tests when amd64 is not under test.)"""
    tmp_path = tmp_path_factory.mktemp(f"boot-{boot_suite}")
    root = DebRoot(pristine_root(boot_suite, "amd64"), tmp_path / "root")
    package = root.put(debs["amd64"])
    (tmp_path / "drive.sh").write_text(DRIVER)
    (tmp_path / "drive.service").write_text(DRIVER_UNIT)
    port = free_port()
    with DemoCsms() as csms:
        (tmp_path / "serve.toml").write_text(
            f'[server]\nlisten = "127.0.0.1:{port}"\n\n[targets.demo]\nws_url = "{csms.url("SERVE-1")}"\n'
        )
        (tmp_path / "good.env").write_text(f"WS_URL={csms.url('GOOD-1')}\nPROBE_EVERY=1\n")
        (tmp_path / "bad.env").write_text(f"WS_URL={csms.url('BAD-1')}\nPROBE_TIMEOUT=-5\n")
        for name in ("drive.sh", "drive.service", "serve.toml", "good.env", "bad.env"):
            root.put(tmp_path / name)
        root.ok(
            f"dpkg -i {package} >/dev/null"
            " && install -m 0600 /tmp/good.env /tmp/bad.env /etc/ocpp-probe/"
            " && cp /tmp/serve.toml /etc/ocpp-probe/serve.toml"
            f" && echo {port} > /root/serve-port"
            " && install -m 0755 /tmp/drive.sh /root/drive.sh"
            " && cp /tmp/drive.service /etc/systemd/system/"
            " && systemctl enable drive.service 2>/dev/null"
        )
        booted = boot(root)
    results_file = root.upper / "root" / "results"
    assert results_file.exists(), booted.stdout[-3000:] + booted.stderr[-3000:]
    found = dict(line.split("=", 1) for line in results_file.read_text().splitlines())
    assert found.get("done") == "yes", found
    return found


def test_loop_instance_runs_sandboxed_and_stops_cleanly(results: dict[str, str]) -> None:
    """Loop mode under the unit's sandbox: checks, as an unprivileged dynamic user, with
    no new privileges, a seccomp filter and no capabilities; stops with exit 0."""
    assert results.get("good_ok") == "yes", results
    assert results["good_state"] == "active"
    assert int(results["good_uid"]) >= 61184  # systemd's DynamicUser range
    assert (results["good_nonewprivs"], results["good_seccomp"]) == ("1", "2")
    assert int(results["good_capeff"], 16) == 0
    assert (results["good_stopped_status"], results["good_stopped_result"]) == ("0", "success")


def test_bad_settings_exit_3_and_are_not_restarted(results: dict[str, str]) -> None:
    assert (results["bad_state"], results["bad_status"], results["bad_restarts"]) == ("failed", "3", "0")
    assert results["bad_line"] == (
        "OCPP UNKNOWN - config failed: PROBE_TIMEOUT: must be a positive number of seconds, got '-5'"
    )


def test_serve_unit_answers_a_probe(results: dict[str, str]) -> None:
    assert re.match(r"HTTP/1\.[01] 200 ", results.get("serve_status", "")), results
    assert results.get("serve_verdict") == "OK"
    assert int(results["serve_uid"]) >= 61184


def test_serve_unit_reload_rereads_the_config_in_the_same_process(results: dict[str, str]) -> None:
    """systemctl reload sends SIGHUP to the main process, which is the binary's staticx
    loader: the loader must pass it on to the probe rather than die of it."""
    assert results["reloaded_same_pid"] == "yes", results
    assert re.match(r"HTTP/1\.[01] 200 ", results.get("reloaded_status", "")), results
    assert results["serve_stopped_result"] == "success"  # SIGTERM after the reload: exit 0
