"""Serve mode: configured targets only, parallel checks, JSON and Prometheus answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ocpp_probe.serve.config import ServeConfig, ServeConfigError, load_config, parse_config

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .support.net import silent_listener
from .support.paths import PROBE, ROOT
from .support.prometheus import parse
from .support.serve import Answer, get, server

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
AXIOS_ACCEPT = "application/json, text/plain, */*"  # what Kuma's HTTP monitors send
BLACK_HOLE_TIMEOUT_S = 4.0


@pytest.fixture(scope="module")
def peers() -> Iterator[dict[str, Any]]:
    with OcppLibCsms() as lib16, OcppLibCsms(version="2.0.1", boot_status="Rejected") as rejected, \
            OcppRpcCsms(protocols=["ocpp2.0.1"]) as rpc201, silent_listener() as hole:
        yield {
            "lib16": {"ws_url": lib16.url("CP-LIB")},
            "rpc201": {"WS_URL": rpc201.url("CP-RPC"), "OCPP_VERSION": "2.0.1"},
            "rejected": {"ws_url": rejected.url("CP-REJ"), "ocpp_version": "2.0.1"},
            "hole": {"ws_url": f"ws://127.0.0.1:{hole}/ocpp/CP-HOLE", "probe_timeout": BLACK_HOLE_TIMEOUT_S},
        }


def test_a_black_hole_does_not_hold_up_the_other_targets(peers: dict[str, Any]) -> None:
    answers: dict[str, Answer] = {}

    def fetch(name: str) -> None:
        answers[name] = get(f"{base}/probe?target={name}")

    with server(peers) as base:
        threads = [threading.Thread(target=fetch, args=(name,)) for name in ("hole", "lib16", "rpc201")]
        for thread in threads:
            thread.start()
            time.sleep(0.05)  # the black hole's check is already waiting when the others start
        for thread in threads:
            thread.join(30)
    hole = answers["hole"]
    assert hole.status == 503
    assert hole.doc["failed_step"] == "upgrade" and hole.doc["failure_kind"] == "timeout"
    assert hole.seconds >= BLACK_HOLE_TIMEOUT_S - 0.2
    for name, version in (("lib16", "1.6"), ("rpc201", "2.0.1")):
        answer = answers[name]
        assert answer.status == 200, answer.body
        assert answer.headers["Content-Type"] == "application/json"
        assert (answer.doc["verdict"], answer.doc["ocpp_version"]) == ("OK", version)
        # Well within the black hole's deadline: they did not wait for it.
        assert answer.seconds < BLACK_HOLE_TIMEOUT_S / 2


def test_prometheus_answer_value_by_value(peers: dict[str, Any]) -> None:
    with server(peers) as base:
        by_param = get(f"{base}/probe?target=lib16&format=prometheus")
        by_accept = get(f"{base}/probe?target=lib16", {"Accept": PROMETHEUS_ACCEPT})
        kuma_style = get(f"{base}/probe?target=lib16", {"Accept": AXIOS_ACCEPT})
    assert kuma_style.headers["Content-Type"] == "application/json"
    assert kuma_style.doc["verdict"] == "OK"
    for answer in (by_param, by_accept):
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        samples, _ = parse(answer.body.decode())
        assert samples[("ocpp_probe_success", ())] == 1.0
        assert samples[("ocpp_probe_verdict", (("verdict", "OK"),))] == 1.0
        assert samples[("ocpp_probe_boot_status", (("status", "Accepted"),))] == 1.0
        phases = {
            dict(labels)["phase"]: value
            for (name, labels), value in samples.items() if name == "ocpp_probe_duration_seconds"
        }
        assert set(phases) == {"resolve", "connect", "upgrade", "boot", "heartbeat"}
        rtt = samples[("ocpp_probe_heartbeat_rtt_seconds", ())]
        assert 0 < rtt <= phases["heartbeat"]
        assert sum(phases.values()) <= samples[("ocpp_probe_check_duration_seconds", ())]
        assert abs(samples[("ocpp_probe_clock_offset_seconds", ())]) < 2.0  # seconds-precision peer
        info = [labels for name, labels in samples if name == "ocpp_probe_info"]
        assert dict(info[0])["subprotocol"] == "ocpp1.6"


def test_unhealthy_target_is_503_in_json_and_success_0_in_prometheus(peers: dict[str, Any]) -> None:
    with server(peers) as base:
        as_json = get(f"{base}/probe?target=rejected")
        as_metrics = get(f"{base}/probe?target=rejected&format=prometheus")
    assert as_json.status == 503
    assert (as_json.doc["verdict"], as_json.doc["failed_step"]) == ("CRITICAL", "boot")
    assert as_json.doc["failure_kind"] == "boot_rejected"
    assert as_metrics.status == 200  # as blackbox_exporter: the verdict is in the metrics
    samples, _ = parse(as_metrics.body.decode())
    assert samples[("ocpp_probe_success", ())] == 0.0
    assert samples[("ocpp_probe_boot_status", (("status", "Rejected"),))] == 1.0
    assert samples[("ocpp_probe_failed_step", (("kind", "boot_rejected"), ("step", "boot")))] == 1.0


def test_bad_requests_get_a_reason_and_no_url_is_ever_probed() -> None:
    modules = {"local": {"allow_hosts": ["*.example.com"], "allow_urls": ["ws://127.0.0.1:1/ocpp/X"]}}
    with OcppLibCsms() as csms, server({"only": {"ws_url": csms.url()}}, modules=modules) as base:
        url = csms.url()
        cases = {
            "/probe": (400, "missing ?target=NAME (or module=NAME&target=URL)"),
            "/probe?target=nope": (404, "unknown target 'nope'; a URL needs module=NAME"),
            f"/probe?target={url}": (404, f"unknown target '{url}'; a URL needs module=NAME"),
            f"/probe?target=only&url={url}": (400, "unknown parameter 'url': only target, module, "
                                              "format and debug are accepted"),
            "/probe?target=only&target=only": (400, "target given twice"),
            "/probe?target=only&format=xml": (400, "format must be json or prometheus"),
            "/probe?target=only&debug=yes": (400, "debug must be true or false"),
            f"/probe?module=nope&target={url}": (404, "unknown module 'nope'"),
            f"/probe?module=local&target={url}": (
                403, f"module 'local' does not allow {url}: it matches none of its allow_urls, "
                "allow_hosts or allow_url_regex"),
            "/probe?module=local&target=http://csms.example.com/ocpp/X": (
                400, "target: must start with ws:// or wss:// (scheme is http)"),
            "/nothing-here": (404, "no such page; try /probe?target=NAME or /"),
        }
        for path, (status, reason) in cases.items():
            answer = get(base + path)
            assert (answer.status, answer.doc["reason"]) == (status, reason), path
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"):
            refused = get(f"{base}/probe?target=only", method=method)
            assert (refused.status, refused.headers["Allow"]) == (405, "GET, HEAD"), method
            assert refused.doc == {"error": "Method Not Allowed",
                                   "reason": "only GET and HEAD are supported"}
        head = get(f"{base}/probe?target=only&format=prometheus", method="HEAD")
        assert (head.status, head.body) == (200, b"")
        assert head.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert csms.seen.identities == []  # nothing above reached the CSMS
        metrics, _ = parse(get(f"{base}/metrics").body.decode())
    assert metrics[("ocpp_probe_serve_requests_total", (("code", "400"), ("path", "/probe")))] == 6
    assert metrics[("ocpp_probe_serve_requests_total", (("code", "403"), ("path", "/probe")))] == 1
    assert metrics[("ocpp_probe_serve_requests_total", (("code", "404"), ("path", "/probe")))] == 3
    assert metrics[("ocpp_probe_serve_requests_total", (("code", "404"), ("path", "other")))] == 1
    assert metrics[("ocpp_probe_serve_requests_total", (("code", "405"), ("path", "other")))] == 5
    assert ("ocpp_probe_serve_probes_total", (("target", "only"), ("verdict", "OK"))) not in metrics


def test_server_metrics_count_checks_and_refusals_beyond_the_cap(peers: dict[str, Any]) -> None:
    with server(peers, max_concurrent=1) as base:
        hole = threading.Thread(target=get, args=(f"{base}/probe?target=hole",))
        hole.start()
        time.sleep(0.3)
        refused = get(f"{base}/probe?target=lib16")
        hole.join(30)
        accepted = get(f"{base}/probe?target=lib16")
        samples, types = parse(get(f"{base}/metrics").body.decode())
    assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
    assert refused.doc["reason"] == "no check slot free: 1 checks running (max_concurrent 1); retry later"
    assert accepted.status == 200
    assert samples[("ocpp_probe_serve_probes_rejected_total", ())] == 1
    assert samples[("ocpp_probe_serve_probes_total", (("target", "hole"), ("verdict", "CRITICAL")))] == 1
    assert samples[("ocpp_probe_serve_probes_total", (("target", "lib16"), ("verdict", "OK")))] == 1
    assert samples[("ocpp_probe_serve_probe_failures_total", (("kind", "timeout"), ("target", "hole")))] == 1
    assert [key for key in samples if key[0] == "ocpp_probe_serve_probe_failures_total"] == [
        ("ocpp_probe_serve_probe_failures_total", (("kind", "timeout"), ("target", "hole")))
    ]  # a passing check counts no failure
    assert samples[("ocpp_probe_serve_probes_in_flight", ())] == 0
    assert samples[("ocpp_probe_serve_requests_total", (("code", "429"), ("path", "/probe")))] == 1
    assert samples[("ocpp_probe_serve_requests_total", (("code", "503"), ("path", "/probe")))] == 1
    assert types["ocpp_probe_serve_probes"] == "counter"


def test_concurrent_requests_for_one_target_share_one_check() -> None:
    with OcppLibCsms(heartbeat_delay_s=0.5) as csms, server({"slow": {"ws_url": csms.url()}}) as base:
        answers: list[Answer] = []
        threads = [threading.Thread(target=lambda: answers.append(get(f"{base}/probe?target=slow")))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        for thread in threads:
            thread.join(30)
        samples, _ = parse(get(f"{base}/metrics").body.decode())
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert len(csms.seen.identities) == 1  # one connection: a CSMS would drop a duplicate identity
    assert len({answer.doc["started_at"] for answer in answers}) == 1
    assert samples[("ocpp_probe_serve_probes_shared_total", ())] == 2


def test_prometheus_scrape_timeout_header_shortens_the_check(peers: dict[str, Any]) -> None:
    with server(peers) as base:
        answer = get(f"{base}/probe?target=hole&format=prometheus",
                     {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"})
    samples, _ = parse(answer.body.decode())
    assert samples[("ocpp_probe_success", ())] == 0.0
    assert samples[("ocpp_probe_failed_step", (("kind", "timeout"), ("step", "upgrade")))] == 1.0
    assert 0.9 <= samples[("ocpp_probe_check_duration_seconds", ())] < 1.5


def test_config_keys_share_the_cli_validation(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "serve.toml")
    with open(path, "w") as handle:
        handle.write('[targets.a]\nWS_URL = "ws://127.0.0.1:1/ocpp/A"\nwarn_rtt = 250\n'
                     'accept_pending = true\n[targets.b]\nws_url = "ws://h/ocpp"\nid = "x"\n')
    with pytest.raises(ServeConfigError) as unknown:
        load_config(path, {})
    assert str(unknown.value) == (
        f"{path}: targets.b.id: unknown setting; use the environment names, e.g. ws_url, "
        "ocpp_version, probe_timeout"
    )
    good = parse_config({"targets": {"a": {"ws_url": "ws://h/ocpp/A", "warn_rtt": 250,
                                           "accept_pending": True}}}, {"NO_PROXY": "*"}, "x")
    assert isinstance(good, ServeConfig) and good.listen == "127.0.0.1:9477"
    settings = good.targets["a"].settings
    assert (settings.thresholds.rtt_warn_ms, settings.accept_pending, settings.identity) == (250, True, "A")
    bad = {"targets": {"c": {"ws_url": "ws://h/ocpp/C", "ocpp_version": "3"}}}
    with pytest.raises(ServeConfigError) as version:
        parse_config(bad, {}, "x.toml")
    assert str(version.value) == "x.toml: targets.c: OCPP_VERSION: must be 1.6, 2.0.1 or 2.1, got '3'"
    with pytest.raises(ServeConfigError, match="no targets"):
        parse_config({}, {}, "x.toml")


def test_missing_tomllib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tomllib", None)
    with pytest.raises(ServeConfigError) as missing:
        load_config("/nonexistent.toml", {})
    assert "tomllib (3.11+), which this build lacks" in str(missing.value)


def test_serve_process_answers_and_stops_on_sigterm(tmp_path: Any) -> None:
    config = os.path.join(tmp_path, "serve.toml")
    with OcppLibCsms() as csms:
        with open(config, "w") as handle:
            handle.write(f'[server]\nlisten = "127.0.0.1:0"\n[targets.cp]\nws_url = "{csms.url()}"\n')
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT}
        process = subprocess.Popen([sys.executable, PROBE, "serve", "--config", config], env=env,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert process.stderr is not None
            first = process.stderr.readline()
            assert first.startswith("ocpp-probe serve: listening on 127.0.0.1:")
            port = int(first.split("127.0.0.1:")[1].split(",")[0])
            answer = get(f"http://127.0.0.1:{port}/probe?target=cp")
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
            assert process.stderr.read() == "ocpp-probe serve: stopped by SIGTERM\n"
        finally:
            if process.poll() is None:
                process.kill()
    assert (answer.status, answer.doc["verdict"]) == (200, "OK")


def test_serve_with_a_bad_config_exits_unknown(tmp_path: Any) -> None:
    from .support.runs import probe_in_process

    missing = probe_in_process(["serve"])
    assert missing.code == 3
    assert missing.stderr == "ocpp-probe serve: --config FILE (or PROBE_CONFIG) is required\n"
    path = os.path.join(tmp_path, "bad.toml")
    with open(path, "w") as handle:
        handle.write("[targets.x\n")
    broken = probe_in_process(["serve", "--config", path])
    assert broken.code == 3
    assert broken.stderr.startswith(f"ocpp-probe serve: {path}: not valid TOML: ")
