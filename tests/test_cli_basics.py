"""The command line's contract: --version, --help, --demo, exit codes for bad usage."""

from __future__ import annotations

import re

from ocpp_probe import __version__

from .support.runs import probe_in_process, probe_process


def test_version_prints_name_and_version() -> None:
    run = probe_process(["--version"])
    assert run.code == 0
    assert run.stdout.strip() == f"ocpp-probe {__version__}"


def test_help_lists_every_environment_variable() -> None:
    run = probe_process(["--help"])
    assert run.code == 0
    for name in ("WS_URL", "OCPP_VERSION", "CHARGE_POINT_ID", "HEARTBEAT_TIMEOUT", "PROBE_TIMEOUT",
                 "OCPP_PASSWORD", "TLS_CA_FILE", "TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_INSECURE"):
        assert name in run.stdout


def test_demo_check_passes_as_a_process() -> None:
    run = probe_process(["--demo"])
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    perf = run.stdout.split(" | ", 1)[1]
    for step in ("resolve", "connect", "upgrade", "boot", "heartbeat", "total"):
        assert re.search(rf"\b{step}=\d+\.\d{{3}}ms;", perf), step
    assert run.stderr == ""


def test_unknown_flag_is_unknown_not_argparse_exit_2() -> None:
    run = probe_in_process(["--no-such-flag"])
    assert run.code == 3
    assert run.stdout.startswith("OCPP UNKNOWN - config failed: usage: unrecognized arguments")


def test_missing_url_names_the_setting() -> None:
    run = probe_in_process([])
    assert run.code == 3
    assert run.stdout.strip() == (
        "OCPP UNKNOWN - config failed: WS_URL: is required (e.g. wss://csms.example.com/ocpp/CP001)"
    )


def test_json_usage_error_is_json() -> None:
    run = probe_in_process(["--json", "--timeout"])
    assert run.code == 3
    assert run.doc["verdict"] == "UNKNOWN"
    assert run.doc["failed_step"] == "config" and run.doc["failure_kind"] == "config"
    assert "expected one argument" in run.doc["reason"]


def test_flag_wins_over_environment() -> None:
    run = probe_in_process(["--json", "--ocpp-version", "2.1", "--demo"], {"OCPP_VERSION": "9.9"})
    assert run.code == 0
    assert run.doc["subprotocol"] == "ocpp2.1"


def test_ipv6_literal_endpoint() -> None:
    from ocpp_probe.demo import DemoCsms

    with DemoCsms(host="::1") as csms:
        run = probe_in_process(["--json"], {"WS_URL": csms.url()})
    assert run.code == 0, run.doc
    assert run.doc["remote_address"] == f"[::1]:{csms.address[1]}"


def test_host_name_is_resolved_and_traced() -> None:
    from ocpp_probe.demo import DemoCsms

    with DemoCsms() as csms:
        url = csms.url().replace("127.0.0.1", "localhost")
        run = probe_in_process(["--json", "-v"], {"WS_URL": url})
    assert run.code == 0, run.stdout
    assert run.doc["remote_address"] == f"127.0.0.1:{csms.address[1]}"
    assert "* resolved localhost to " in run.stderr and "127.0.0.1" in run.stderr
