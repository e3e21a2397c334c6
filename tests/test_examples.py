"""The files under examples/ that people copy: they parse, and they do what they say."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml

from ocpp_probe.cli import CLI_SETTINGS
from ocpp_probe.demo import DemoCsms
from ocpp_probe.reporters.prometheus import result_families
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.serve.config import load_config
from ocpp_probe.serve.exposition import blackbox_families
from ocpp_probe.settings import check_settings_from

from .peers.kuma_receiver import KumaReceiver
from .support.net import free_port
from .support.paths import PROBE, ROOT
from .support.results import passing_result

EXAMPLES = os.path.join(ROOT, "examples")
KNOWN_ENV = {setting.env for setting in CLI_SETTINGS if setting.env}


def example(*parts: str) -> str:
    return os.path.join(EXAMPLES, *parts)


def load_yaml(*parts: str) -> Any:
    with open(example(*parts)) as handle:
        return yaml.safe_load(handle)


def env_file(path: str) -> dict[str, str]:
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                # systemd's EnvironmentFile keeps an inline "# comment" as part of the value.
                assert "#" not in value, line
                values[name] = value
    return values


def mount(volume: str) -> tuple[str, str]:
    """(source, target) of a compose short-syntax volume; the source may hold ':-'."""
    source, target = volume.removesuffix(":ro").rsplit(":", 1)
    return source, target


@pytest.mark.parametrize("path", [("kuma", "probe.env.example"), ("systemd", "ocpp-probe.env.example")])
def test_example_environment_files_are_valid_settings(path: tuple[str, str]) -> None:
    values = env_file(example(*path))
    assert set(values) <= KNOWN_ENV
    settings = check_settings_from(values)
    assert settings.identity == "KUMA-PROBE-1"
    options = run_options_from(values, OutputFormat.TEXT, None)
    assert options.push is not None and options.push.display.endswith("/api/push/<redacted>")
    assert settings.timeout_s + options.push_timeout_s < 30  # the examples' loop interval


def test_sidecar_compose_runs_the_loop_with_push_next_to_kuma() -> None:
    compose = load_yaml("kuma", "compose.sidecar.yml")
    kuma, probe = compose["services"]["uptime-kuma"], compose["services"]["ocpp-probe"]
    assert kuma["image"] == "louislam/uptime-kuma:2"
    assert "kuma-data:/app/data" in kuma["volumes"]
    assert probe["command"] == ["--every", "30"]
    assert probe["env_file"] == "probe.env"
    dockerfile = probe["build"]["dockerfile_inline"]
    assert dockerfile.startswith("FROM python:3.12-slim\n")
    assert 'ENTRYPOINT ["ocpp-probe"]' in dockerfile
    context = os.path.normpath(os.path.join(example("kuma"), probe["build"]["context"]))
    assert context == ROOT
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert os.path.exists(os.path.join(context, source)), source
    # The push URL in the example names the Kuma service, reachable on the compose network.
    assert env_file(example("kuma", "probe.env.example"))["KUMA_PUSH_URL"].startswith(
        "http://uptime-kuma:3001/api/push/"
    )


def test_in_kuma_compose_starts_the_probe_then_kumas_own_command() -> None:
    kuma = load_yaml("kuma", "compose.in-kuma.yml")["services"]["uptime-kuma"]
    assert kuma["image"] == "louislam/uptime-kuma:2"
    script, *kuma_command = kuma["command"]
    assert kuma_command == ["node", "server/server.js"]  # Kuma's CMD in 1.23 and 2.x images
    mounts = {target: source for source, target in map(mount, kuma["volumes"])}
    assert mounts[script] == "./start-with-probe.sh"
    assert mounts["/opt/ocpp-probe/ocpp-probe"] == "${OCPP_PROBE_BINARY:-./ocpp-probe-linux-amd64}"
    assert mounts["/opt/ocpp-probe/probe.env"] == "./probe.env"
    assert os.access(example("kuma", "start-with-probe.sh"), os.X_OK)


def test_exec_compose_mounts_the_check_script() -> None:
    kuma = load_yaml("kuma", "compose.exec.yml")["services"]["uptime-kuma"]
    mounts = dict(mount(volume) for volume in kuma["volumes"])
    # PR #7147: scripts live in DATA_DIR/scripts, and a rootless Kuma refuses a scripts
    # directory it can write to: the whole directory is mounted, read-only.
    assert "./exec:/app/data/scripts:ro" in kuma["volumes"]
    assert mounts["./exec"] == "/app/data/scripts"
    assert mounts["./probe.env"] == "/opt/ocpp-probe/probe.env"
    assert os.access(example("kuma", "exec", "ocpp-check.sh"), os.X_OK)


def _probe_home(tmp: str, env_lines: list[str]) -> str:
    """A stand-in for /opt/ocpp-probe: the real probe behind a wrapper, and probe.env."""
    home = os.path.join(tmp, "opt")
    os.makedirs(home)
    wrapper = os.path.join(home, "ocpp-probe")
    with open(wrapper, "w") as handle:
        handle.write(f'#!/bin/sh\nexec "{sys.executable}" "{PROBE}" "$@"\n')
    os.chmod(wrapper, 0o755)
    with open(os.path.join(home, "probe.env"), "w") as handle:
        handle.write("\n".join(env_lines) + "\n")
    return home


def test_start_with_probe_runs_the_loop_and_leaves_kumas_environment_alone(tmp_path: Any) -> None:
    with DemoCsms() as csms, KumaReceiver(("T0K",)) as kuma:
        home = _probe_home(str(tmp_path), [f"WS_URL={csms.url()}", f"KUMA_PUSH_URL={kuma.url()}"])
        # Kuma's stand-in: says what it sees of the probe's settings, then runs until stopped.
        kuma_stand_in = 'echo "kuma sees WS_URL=${WS_URL:-unset}"; sleep 60'
        process = subprocess.Popen(
            ["sh", example("kuma", "start-with-probe.sh"), "sh", "-c", kuma_stand_in],
            env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "OCPP_PROBE_HOME": home,
                 "OCPP_PROBE_EVERY": "0.2"},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        try:
            for _ in range(150):
                if len(kuma.requests) >= 2:
                    break
                time.sleep(0.1)
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # as dumb-init does: the whole group
            out, _ = process.communicate(timeout=10)
    assert [request.one("status") for request in kuma.requests][:2] == ["up", "up"]
    lines = out.splitlines()
    assert lines[0] == "kuma sees WS_URL=unset"
    # The probe's loop lines (check start time first) share Kuma's output, as in a container log.
    assert any("Z OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT " in line for line in lines[1:])


def test_exec_script_exit_code_is_the_verdict_and_nothing_is_pushed(tmp_path: Any) -> None:
    closed = free_port()
    with DemoCsms() as csms, KumaReceiver(("T0K",)) as kuma:
        runs = {}
        for name, url in (("up", csms.url()), ("down", f"ws://127.0.0.1:{closed}/ocpp/X")):
            home = _probe_home(os.path.join(tmp_path, name),
                               [f"WS_URL={url}", f"KUMA_PUSH_URL={kuma.url()}", "PROBE_EVERY=5"])
            runs[name] = subprocess.run(
                ["sh", example("kuma", "exec", "ocpp-check.sh")],
                env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "OCPP_PROBE_HOME": home},
                capture_output=True, text=True, timeout=60,
            )
    # PR #7147's script monitor: exit 0 is UP with stdout as the message, anything else
    # DOWN with stderr as the message.
    assert runs["up"].returncode == 0
    assert runs["up"].stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted")
    assert runs["up"].stderr == ""
    assert runs["down"].returncode == 2
    assert runs["down"].stderr.startswith("OCPP CRITICAL - connect failed")
    assert runs["down"].stderr.count("\n") == 1
    assert runs["down"].stdout == ""
    assert kuma.requests == []


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Any) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing in CI: apt-get install systemd")
        pytest.skip("systemd-analyze not installed (Debian package: systemd)")
    shim = os.path.join(tmp_path, "ocpp-probe")
    with open(shim, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(shim, 0o755)
    units = []
    for name in ("ocpp-probe.service", "ocpp-probe-station.service", "ocpp-probe-once.service",
                 "ocpp-probe-once.timer", "ocpp-probe-serve.service"):
        with open(example("systemd", name)) as handle:
            text = handle.read()
        # verify insists that ExecStart's binary exists: point it at a stand-in, nothing else changes.
        assert "/usr/local/bin/ocpp-probe" in text or name.endswith(".timer")
        path = os.path.join(tmp_path, name)
        with open(path, "w") as handle:
            handle.write(text.replace("/usr/local/bin/ocpp-probe", shim))
        units.append(path)
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_systemd_loop_unit_runs_the_loop_and_the_timer_starts_the_oneshot() -> None:
    import configparser

    def unit(name: str) -> configparser.RawConfigParser:
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str  # type: ignore[assignment, method-assign]
        parser.read(example("systemd", name))
        return parser

    loop = unit("ocpp-probe.service")
    assert loop["Service"]["ExecStart"] == "/usr/local/bin/ocpp-probe --every 30"
    assert loop["Service"]["EnvironmentFile"] == "/etc/ocpp-probe/ocpp-probe.env"
    once = unit("ocpp-probe-once.service")
    assert (once["Service"]["Type"], once["Service"]["ExecStart"]) == ("oneshot", "/usr/local/bin/ocpp-probe")
    timer = unit("ocpp-probe-once.timer")
    assert timer["Timer"]["OnUnitActiveSec"] == "30s"
    serve = unit("ocpp-probe-serve.service")
    assert serve["Service"]["ExecStart"] == "/usr/local/bin/ocpp-probe serve --config /etc/ocpp-probe/serve.toml"
    # The shell's kill: /bin/kill (procps) is not on every minimal system.
    assert serve["Service"]["ExecReload"] == "/bin/sh -c 'kill -HUP \"$MAINPID\"'"
    # SIGTERM to the loader only, which passes it on to the probe (see the units).
    assert [u["Service"]["KillMode"] for u in (loop, once, serve)] == ["mixed"] * 3
    # Bad settings (exit 3) are never fixed by a restart.
    assert loop["Service"]["Restart"] == "on-failure"
    assert loop["Service"]["RestartPreventExitStatus"] == "3"
    assert once["Service"]["RestartPreventExitStatus"] == "3"
    assert (serve["Service"]["Restart"], serve["Service"]["RestartPreventExitStatus"]) == ("on-failure", "3")
    # The one-shot unit is hardened exactly as the loop unit.
    hardening = {
        "DynamicUser", "NoNewPrivileges", "CapabilityBoundingSet", "SystemCallArchitectures",
        "LockPersonality",
    } | {key for key in loop["Service"] if key.startswith(("Protect", "Private", "Restrict"))}
    hardening.discard("RestartPreventExitStatus")
    assert len(hardening) >= 15
    assert {key: once["Service"].get(key) for key in hardening} == {
        key: loop["Service"][key] for key in hardening
    }


STATION_ENV = [("kuma", "station.env.example"), ("systemd", "ocpp-probe-station.env.example")]


@pytest.mark.parametrize("path", STATION_ENV)
def test_station_environment_files_are_valid_station_settings(path: tuple[str, str]) -> None:
    values = env_file(example(*path))
    assert set(values) <= KNOWN_ENV
    settings = check_settings_from(values)
    assert settings.identity == "KUMA-STATION-1"  # not the loop examples' identity
    options = run_options_from({**values, "PROBE_HOLD": "true", "PROBE_EVERY": "60"}, OutputFormat.TEXT, None)
    assert options.hold and options.ping_interval_s == 30
    assert options.push is not None and options.push.display.endswith("/api/push/<redacted>")
    assert settings.timeout_s + options.push_timeout_s < 60  # the station examples' interval


def test_station_examples_offer_station_mode_next_to_the_loop() -> None:
    import configparser

    services = load_yaml("kuma", "compose.sidecar.yml")["services"]
    station = services["ocpp-probe-station"]
    assert station["image"] == services["ocpp-probe"]["image"]
    assert station["profiles"] == ["station"]  # opt-in: `--profile station`
    assert (station["command"], station["env_file"]) == (["--hold", "--every", "60"], "station.env")
    assert "profiles" not in services["ocpp-probe"]
    unit = configparser.RawConfigParser(strict=False)
    unit.read(example("systemd", "ocpp-probe-station.service"))
    assert unit["Service"]["ExecStart"] == "/usr/local/bin/ocpp-probe --hold --every 60"
    assert unit["Service"]["EnvironmentFile"] == "/etc/ocpp-probe/ocpp-probe-station.env"


def test_the_station_example_runs_as_written(tmp_path: Any) -> None:
    """The compose command and station.env, pointed at a real CSMS and Kuma stand-in."""
    from .peers.ocpp_lib_csms import OcppLibCsms

    command = load_yaml("kuma", "compose.sidecar.yml")["services"]["ocpp-probe-station"]["command"]
    values = env_file(example("kuma", "station.env.example"))
    with OcppLibCsms() as csms, KumaReceiver(("T0K",)) as kuma:
        values.update(WS_URL=csms.url("KUMA-STATION-1"), KUMA_PUSH_URL=kuma.url())
        out_path = os.path.join(tmp_path, "out")
        with open(out_path, "w") as out_file:
            process = subprocess.Popen(
                [sys.executable, PROBE, *command], env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, **values},
                stdout=out_file, stderr=subprocess.PIPE, text=True,
            )
            try:
                for _ in range(100):  # the first check runs at once; the next one is 60 s away
                    if os.path.getsize(out_path):
                        break
                    time.sleep(0.05)
            finally:
                process.send_signal(signal.SIGTERM)
                _, err = process.communicate(timeout=10)
        with open(out_path) as handle:
            out = handle.read()
        for _ in range(50):
            if csms.seen.closes:
                break
            time.sleep(0.05)
        seen = (list(csms.seen.actions), list(csms.seen.closes))
    assert process.returncode == 0, err
    assert seen == (["BootNotification", "Heartbeat"], [1001])
    assert [request.one("status") for request in kuma.requests] == ["up"]
    assert "Z OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT " in out
    assert "[held 0.0s, 0 reconnects]" in out
    assert err.splitlines()[0].endswith("Heartbeat every 60 s, ping every 30 s, pushing to "
                                        f"http://127.0.0.1:{kuma.port}/api/push/<redacted>")


def test_cron_lines_have_schedule_user_and_probe_command() -> None:
    with open(example("cron", "ocpp-probe.cron")) as handle:
        lines = [line.rstrip("\n") for line in handle]
    jobs = [line.lstrip("#") for line in lines if line.lstrip("#").startswith("* * * * * ")]
    assert len(jobs) == 2
    for job in jobs:
        fields = job.split(None, 6)
        assert fields[:5] == ["*"] * 5
        assert fields[5] == "ocpp-probe"
        assert ". /etc/ocpp-probe/ocpp-probe.env" in fields[6] and "ocpp-probe --timeout 40" in fields[6]
        assert "%" not in fields[6]  # cron would turn it into a newline
    assert "--format prometheus --output /var/lib/prometheus/node-exporter/ocpp.prom" in jobs[1]
    # Debian's textfile directory is root's: the example says how the probe's user may write.
    assert "setfacl -m u:ocpp-probe:rwx /var/lib/prometheus/node-exporter" in "\n".join(lines)


def test_prometheus_examples_match_the_serve_config_and_the_metric_names() -> None:
    config = load_config(example("prometheus", "serve.toml"), {})
    assert sorted(config.targets) == ["csms-prod", "csms-staging"]
    assert config.targets["csms-prod"].settings.version.value == "2.0.1"
    scrape = load_yaml("prometheus", "prometheus.yml")["scrape_configs"]
    ocpp = next(job for job in scrape if job["job_name"] == "ocpp")
    assert ocpp["metrics_path"] == "/probe"
    assert ocpp["params"] == {"format": ["prometheus"]}
    assert sorted(ocpp["static_configs"][0]["targets"]) == sorted(config.targets)
    relabel = ocpp["relabel_configs"]
    assert relabel[0] == {"source_labels": ["__address__"], "target_label": "__param_target"}
    assert relabel[-1]["replacement"] == config.listen
    modules = load_yaml("prometheus", "prometheus.yml")["scrape_configs"][1]
    assert modules["job_name"] == "ocpp-modules"
    assert [r.get("target_label") for r in modules["relabel_configs"]] == [
        "__param_target", "__param_module", "instance", "__address__"]
    for group in load_yaml("prometheus", os.path.join("targets", "csms.yml")):
        module = config.modules[group["labels"]["module"]]
        for url in group["targets"]:
            module.settings_for(url)  # every discovered URL is allowed by its module
    result = passing_result()
    names = {family.name for family in [*result_families(result), *blackbox_families(result)]}
    used = set()
    for group in load_yaml("prometheus", "ocpp-probe.rules.yml")["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"\b((?:ocpp_)?probe_[a-z_]+)", rule["expr"]))
    assert used and used <= names, used - names
