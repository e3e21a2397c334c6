"""Prometheus text exposition, read back with the official prometheus_client parser."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request

from ocpp_probe.failures import FailureKind
from ocpp_probe.reporters.prometheus import render_prometheus
from ocpp_probe.result import CheckResult, Step, Verdict

from .support.net import free_port
from .support.prometheus import parse
from .support.results import passing_result
from .support.runs import probe_in_process


def test_passing_check_metrics_value_by_value() -> None:
    samples, types = parse(render_prometheus(passing_result()))
    assert samples == {
        ("ocpp_probe_success", ()): 1.0,
        ("ocpp_probe_verdict", (("verdict", "OK"),)): 0.0,
        ("ocpp_probe_verdict", (("verdict", "WARNING"),)): 1.0,
        ("ocpp_probe_verdict", (("verdict", "CRITICAL"),)): 0.0,
        ("ocpp_probe_verdict", (("verdict", "UNKNOWN"),)): 0.0,
        ("ocpp_probe_duration_seconds", (("phase", "resolve"),)): 0.0015,
        ("ocpp_probe_duration_seconds", (("phase", "connect"),)): 0.002,
        ("ocpp_probe_duration_seconds", (("phase", "tls"),)): 0.03,
        ("ocpp_probe_duration_seconds", (("phase", "upgrade"),)): 0.00425,
        ("ocpp_probe_duration_seconds", (("phase", "boot"),)): 0.012,
        ("ocpp_probe_duration_seconds", (("phase", "heartbeat"),)): 0.008,
        ("ocpp_probe_check_duration_seconds", ()): 0.05825,
        ("ocpp_probe_heartbeat_rtt_seconds", ()): 0.0075,
        ("ocpp_probe_boot_status", (("status", "Accepted"),)): 1.0,
        ("ocpp_probe_tls_cert_expiry_timestamp_seconds", ()): 1767225600.0,
        ("ocpp_probe_clock_offset_seconds", ()): -1.25,
        ("ocpp_probe_info", (("ocpp_version", "2.0.1"), ("probe_version", "0.1.0"),
                             ("subprotocol", "ocpp2.0.1"))): 1.0,
    }
    assert set(types.values()) == {"gauge"}


def test_failed_check_leaves_out_what_was_not_measured() -> None:
    result = CheckResult(
        verdict=Verdict.CRITICAL, target='ws://h/ocpp/"odd\\id', ocpp_version="1.6",
        failed_step=Step.CONNECT, reason="refused", failure_kind=FailureKind.REFUSED,
        timings_ms={"resolve": 1.0, "connect": 0.5}, total_ms=1.75,
    )
    samples, _ = parse(render_prometheus(result, {"target": result.target}))
    target = (("target", 'ws://h/ocpp/"odd\\id'),)
    assert samples[("ocpp_probe_success", target)] == 0.0
    assert samples[("ocpp_probe_failed_step", (("kind", "refused"), ("step", "connect"), *target))] == 1.0
    assert samples[("ocpp_probe_verdict", (("target", target[0][1]), ("verdict", "CRITICAL")))] == 1.0
    names = {name for name, _ in samples}
    assert "ocpp_probe_heartbeat_rtt_seconds" not in names
    assert "ocpp_probe_boot_status" not in names
    assert "ocpp_probe_clock_offset_seconds" not in names
    assert "ocpp_probe_tls_cert_expiry_timestamp_seconds" not in names
    phases = {dict(labels)["phase"] for name, labels in samples if name == "ocpp_probe_duration_seconds"}
    assert phases == {"resolve", "connect"}


def test_one_shot_prometheus_format_on_stdout() -> None:
    run = probe_in_process(["--demo", "--format", "prometheus"])
    assert run.code == 0
    samples, _ = parse(run.stdout)
    target = next(dict(labels)["target"] for name, labels in samples if name == "ocpp_probe_success")
    assert target.startswith("ws://127.0.0.1:") and target.endswith("/ocpp/DEMO-CP-1")
    label = (("target", target),)
    assert samples[("ocpp_probe_success", label)] == 1.0
    assert samples[("ocpp_probe_boot_status", (("status", "Accepted"), *label))] == 1.0
    rtt = samples[("ocpp_probe_heartbeat_rtt_seconds", label)]
    heartbeat = samples[("ocpp_probe_duration_seconds", (("phase", "heartbeat"), *label))]
    total = samples[("ocpp_probe_check_duration_seconds", label)]
    assert 0 < rtt <= heartbeat < total < 5
    assert abs(samples[("ocpp_probe_clock_offset_seconds", label)]) < 1.0


def test_output_file_is_replaced_atomically_and_stdout_stays_quiet(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "ocpp.prom")
    with open(path, "w") as handle:
        handle.write("stale\n")
    run = probe_in_process(["--demo", "--format", "prometheus", "--output", path])
    assert run.code == 0
    assert run.stdout == ""
    with open(path) as handle:
        samples, _ = parse(handle.read())
    assert [v for (name, _), v in samples.items() if name == "ocpp_probe_success"] == [1.0]
    assert os.listdir(tmp_path) == ["ocpp.prom"]  # no temporary file left behind
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_failed_check_is_still_written_and_keeps_its_exit_code(tmp_path: os.PathLike[str]) -> None:
    port = free_port()
    path = os.path.join(tmp_path, "ocpp.prom")
    run = probe_in_process(
        ["--format", "prometheus", "--output", path], {"WS_URL": f"ws://127.0.0.1:{port}/ocpp/CP"}
    )
    assert run.code == 2
    with open(path) as handle:
        samples, _ = parse(handle.read())
    assert [v for (name, _), v in samples.items() if name == "ocpp_probe_success"] == [0.0]


def test_unwritable_output_is_unknown(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "missing-dir", "ocpp.prom")
    run = probe_in_process(["--demo", "--format", "prometheus", "--output", path])
    assert run.code == 3
    assert run.stderr.startswith(f"ocpp-probe: cannot write {path}: No such file or directory")


def test_json_shorthand_and_format_flag_are_exclusive() -> None:
    run = probe_in_process(["--demo", "--json", "--format", "text"])
    assert run.code == 3
    assert "not allowed with argument" in run.doc["reason"]


def _scrape_textfiles(directory: str, log: str) -> str:
    """What node_exporter's textfile collector makes of ``directory`` (Debian package).

    A collision (two files with the same series) is no scrape error: node_exporter drops
    one series and logs "was collected before" to ``log``.
    """
    port = free_port()
    with open(log, "wb") as log_file:
        exporter = subprocess.Popen(
            ["prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
             f"--collector.textfile.directory={directory}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        end = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                    return str(answer.read().decode())
            except urllib.error.HTTPError as exc:
                return f"HTTP {exc.code}: {exc.read().decode()}"
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
    finally:
        exporter.terminate()
        exporter.wait(10)


def test_configuration_error_says_why_and_two_bad_files_do_not_collide(
    tmp_path: os.PathLike[str],
) -> None:
    directory = os.path.join(tmp_path, "textfiles")
    os.mkdir(directory)
    first = probe_in_process(
        ["--format", "prometheus", "--output", os.path.join(directory, "csms-a.prom")],
        {"WS_URL": "http://csms-a.example/ocpp/CP"},
    )
    second = probe_in_process(
        ["--format", "prometheus", "--output", os.path.join(directory, "csms-b.prom")],
        {"WS_URL": "ws://csms-b.example/ocpp/CP", "PROBE_TIMEOUT": "ten"},
    )
    assert (first.code, second.code) == (3, 3)
    assert first.stderr == "ocpp-probe: WS_URL: must start with ws:// or wss:// (scheme is http)\n"
    assert second.stderr == "ocpp-probe: PROBE_TIMEOUT: must be a number of seconds, got 'ten'\n"
    with open(os.path.join(directory, "csms-a.prom")) as handle:
        text = handle.read()
    assert text.startswith(
        "# ocpp-probe configuration error: WS_URL: must start with ws:// or wss:// (scheme is http)\n"
    )
    samples, _ = parse(text)
    assert samples[("ocpp_probe_failed_step", (("kind", "config"), ("step", "config"), ("target", "csms-a.prom")))] == 1.0

    log = os.path.join(tmp_path, "node-exporter.log")
    scraped = _scrape_textfiles(directory, log)
    with open(log) as handle:
        assert "was collected before" not in handle.read()
    samples, _ = parse(scraped)
    assert samples[("node_textfile_scrape_error", ())] == 0.0
    for name in ("csms-a.prom", "csms-b.prom"):
        assert samples[("ocpp_probe_success", (("target", name),))] == 0.0
        assert samples[("ocpp_probe_verdict", (("target", name), ("verdict", "UNKNOWN")))] == 1.0


def test_configuration_error_on_stdout_keeps_the_reason_in_a_comment() -> None:
    run = probe_in_process(["--format", "prometheus"], {"WS_URL": "ws://h/ocpp/CP", "WARN_RTT": "-1"})
    assert run.code == 3
    assert run.stdout.startswith(
        "# ocpp-probe configuration error: WARN_RTT: must be a positive number of milliseconds, got '-1'\n"
    )
    assert run.stderr == "ocpp-probe: WARN_RTT: must be a positive number of milliseconds, got '-1'\n"
    samples, _ = parse(run.stdout)
    assert samples[("ocpp_probe_failed_step", (("kind", "config"), ("step", "config"), ("target", "")))] == 1.0


def test_a_bad_run_option_still_reaches_the_output_file(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "ocpp.prom")
    run = probe_in_process(
        ["--demo", "--format", "prometheus", "--output", path], {"KUMA_PUSH_URL": "ftp://kuma/x"}
    )
    assert run.code == 3 and run.stdout == ""
    assert run.stderr.startswith("ocpp-probe: KUMA_PUSH_URL: must be an http(s) URL")
    with open(path) as handle:
        assert handle.read().startswith("# ocpp-probe configuration error: KUMA_PUSH_URL: ")


def test_every_exposition_carries_when_its_check_ran() -> None:
    from ocpp_probe.records import replace

    stamped = replace(passing_result(), started_at="2026-01-02T03:04:05.250Z")
    samples, types = parse(render_prometheus(stamped))
    assert samples[("ocpp_probe_last_run_timestamp_seconds", ())] == 1767323045.25
    assert types["ocpp_probe_last_run_timestamp_seconds"] == "gauge"


def test_chain_expiry_degrades_to_none_without_the_private_chain_api() -> None:
    from ocpp_probe.connection import _chain_not_after

    class NoChain:
        _sslobj = None  # e.g. a Python build whose SSL object lacks get_unverified_chain

    assert _chain_not_after(NoChain()) is None  # type: ignore[arg-type]


def test_a_failure_outside_any_step_still_has_its_kind() -> None:
    # serve answers so when a shared check outlasts the request: no step ran for it.
    result = CheckResult(
        verdict=Verdict.CRITICAL, target="ws://h/ocpp/CP-1", ocpp_version="1.6",
        failure_kind=FailureKind.TIMEOUT, reason="no result within this request's 2 s",
    )
    samples, _ = parse(render_prometheus(result))
    assert samples[("ocpp_probe_failed_step", (("kind", "timeout"),))] == 1.0
    assert samples[("ocpp_probe_success", ())] == 0.0
