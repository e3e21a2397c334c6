"""Serve mode with the real Prometheus (Debian's package, on loopback): promtool checks
the example configs and unit-tests the alert rules; a Prometheus server started here
scrapes serve mode with the example scrape config and raises the alert when the probe
server stops."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from ocpp_probe.serve.command import RunningServer
from ocpp_probe.serve.config import parse_config

from .peers.ocpp_lib_csms import OcppLibCsms
from .support.net import free_port
from .support.paths import ROOT

EXAMPLES = os.path.join(ROOT, "examples", "prometheus")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI: build/apt-deps.sh installs Debian's prometheus")
        pytest.skip(f"{name} not installed (Debian package: prometheus)")
    return path


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    done = subprocess.run([tool("promtool"), "test", "rules", "rules.test.yml"], capture_output=True,
                          text=True, timeout=120, cwd=os.path.join(ROOT, "tests", "prometheus"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("SUCCESS")


@pytest.mark.parametrize("config", ["prometheus.yml", "sharded/prometheus-shard-0.yml",
                                    "sharded/prometheus-shard-1.yml"])
def test_example_scrape_configs_pass_promtool_check_config(config: str) -> None:
    done = subprocess.run([tool("promtool"), "check", "config", config], capture_output=True,
                          text=True, timeout=120, cwd=EXAMPLES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 8 rules found" in done.stdout


def test_the_two_shards_split_the_targets_between_them() -> None:
    regexes = []
    for shard in (0, 1):
        with open(os.path.join(EXAMPLES, "sharded", f"prometheus-shard-{shard}.yml")) as handle:
            job = yaml.safe_load(handle)["scrape_configs"][0]
        hashmod, keep = job["relabel_configs"][:2]
        assert (hashmod["action"], hashmod["modulus"], keep["action"]) == ("hashmod", 2, "keep")
        regexes.append(keep["regex"])
        assert job["relabel_configs"][-1]["replacement"] == f"probe-{shard}.example.com:9477"
    assert regexes == ["0", "1"]


def query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?query={urllib.parse.quote(expr)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success"
    return answer["data"]["result"]  # type: ignore[no-any-return]


def wait_for(base: str, expr: str, count: int, within_s: float) -> list[dict[str, Any]]:
    end = time.monotonic() + within_s
    result: list[dict[str, Any]] = []
    while time.monotonic() < end:
        result = query(base, expr)
        if len(result) >= count:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{expr}: {len(result)} series after {within_s} s, expected {count}: {result}")


def prometheus_config(tmp: Path, probe: str, urls: dict[str, list[str]]) -> Path:
    """The example config with this test's addresses and one-second rhythm; the rules
    keep their expressions, with every 'for' shortened to 2 s."""
    with open(os.path.join(EXAMPLES, "prometheus.yml")) as handle:
        config = yaml.safe_load(handle)
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    for job in config["scrape_configs"]:
        job.pop("scrape_interval", None)
        job["scrape_timeout"] = "1s"
        for rule in job.get("relabel_configs", []):
            if rule.get("replacement") == "127.0.0.1:9477":
                rule["replacement"] = probe
        for static in job.get("static_configs", []):
            static["targets"] = [probe if t == "127.0.0.1:9477" else t for t in static["targets"]]
    (tmp / "targets").mkdir()
    groups = [{"labels": {"module": module}, "targets": targets} for module, targets in urls.items()]
    (tmp / "targets" / "csms.yml").write_text(yaml.safe_dump(groups))
    with open(os.path.join(EXAMPLES, "ocpp-probe.rules.yml")) as handle:
        rules = yaml.safe_load(handle)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
    (tmp / "ocpp-probe.rules.yml").write_text(yaml.safe_dump(rules))
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def prometheus(config: Path, tmp: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp / "prometheus.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end or process.poll() is not None:
                raise AssertionError("prometheus did not start: " + (tmp / "prometheus.log").read_text())
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_real_prometheus_scrapes_serve_mode_and_alerts_when_it_stops(tmp_path: Path) -> None:
    with OcppLibCsms() as good, OcppLibCsms(version="2.0.1", boot_status="Rejected") as rejected:
        document = {
            "server": {"listen": "127.0.0.1:0"},
            "targets": {"csms-prod": {"ws_url": good.url("CP-PROD")},
                        "csms-staging": {"ws_url": rejected.url("CP-STAGING"), "ocpp_version": "2.0.1"}},
            "modules": {"ocpp201": {"ocpp_version": "2.0.1", "allow_hosts": ["127.0.0.1"]},
                        "ocpp16": {"allow_urls": [good.url("CP-SD-1")]}},
        }
        running = RunningServer(parse_config(document, {}, "test.toml"))
        probe = f"127.0.0.1:{running.port}"
        urls = {"ocpp16": [good.url("CP-SD-1")], "ocpp201": [rejected.url("CP-SD-2")]}
        config = prometheus_config(tmp_path, probe, urls)
        try:
            with prometheus(config, tmp_path) as base:
                success = wait_for(base, 'probe_success{job=~"ocpp|ocpp-modules"}', 4, 30)
                by_instance = {s["metric"]["instance"]: s["value"][1] for s in success}
                assert by_instance == {"csms-prod": "1", "csms-staging": "0",
                                       good.url("CP-SD-1"): "1", rejected.url("CP-SD-2"): "0"}
                modules = {s["metric"]["instance"]: s["metric"]["module"] for s in success
                           if s["metric"]["job"] == "ocpp-modules"}
                assert modules == {good.url("CP-SD-1"): "ocpp16", rejected.url("CP-SD-2"): "ocpp201"}
                down = wait_for(base, 'ALERTS{alertname="OcppCsmsDown",alertstate="firing"}', 2, 30)
                assert sorted(s["metric"]["instance"] for s in down) == sorted(
                    ["csms-staging", rejected.url("CP-SD-2")])
                assert query(base, 'ALERTS{alertname="OcppProbeServerDown"}') == []
                running.close()
                server_down = wait_for(
                    base, 'ALERTS{alertname="OcppProbeServerDown",alertstate="firing"}', 1, 30)
                assert server_down[0]["metric"]["instance"] == probe
                failed = wait_for(
                    base, 'ALERTS{alertname="OcppProbeScrapeFailed",alertstate="firing"}', 4, 30)
                assert {s["metric"]["instance"] for s in failed} == set(by_instance)
                # The CSMS alerts resolve with their series; the probe alerts replace them.
                wait_for(base, 'absent(ALERTS{alertname="OcppCsmsDown"})', 1, 30)
        finally:
            running.close()
