"""The text line (people, Nagios, Icinga) and the JSON document render one CheckResult."""

from __future__ import annotations

from typing import Any

import orjson

from ocpp_probe.failures import FailureKind
from ocpp_probe.records import replace
from ocpp_probe.reporters.json_report import render_json
from ocpp_probe.reporters.text import perfdata, render_line, summary
from ocpp_probe.result import BootFacts, CheckResult, Step, Thresholds, TlsFacts, Verdict, judged

from .support.result_schema import validated

OK = CheckResult(
    verdict=Verdict.OK,
    target="wss://csms.test/ocpp/CP1",
    ocpp_version="1.6",
    timings_ms={"resolve": 0.05, "connect": 0.2, "tls": 3.1, "upgrade": 1.0, "boot": 2.0, "heartbeat": 2.31},
    total_ms=9.8,
    subprotocol="ocpp1.6",
    tls=TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", 1.9e9, 200.0),
    boot=BootFacts("Accepted", 300, "2025-01-01T00:00:00Z"),
    heartbeat_rtt_ms=2.314,
    clock_offset_s=-0.25,
)


def test_ok_line_with_perfdata_for_every_phase() -> None:
    assert render_line(OK) == (
        "OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT 2.31 ms | "
        "resolve=0.050ms;;;0 connect=0.200ms;;;0 tls=3.100ms;;;0 upgrade=1.000ms;;;0 "
        "boot=2.000ms;;;0 heartbeat=2.310ms;;;0 total=9.800ms;;;0 rtt=2.314ms;;;0 "
        "cert_days=200.00;;; clock_offset=-0.250s;;;"
    )


def test_perfdata_carries_the_configured_thresholds() -> None:
    # monitoring-plugins range syntax: "X" warns above X, "X:" below X, "-X:X" outside.
    limited = replace(OK, thresholds=Thresholds(rtt_warn_ms=5.8, cert_warn_days=14, clock_warn_s=2.5))
    assert perfdata(limited).split(" ")[-3:] == [
        "rtt=2.314ms;5.8;;0", "cert_days=200.00;14:;;", "clock_offset=-0.250s;-2.5:2.5;;",
    ]
    # Only the limits that are set: the default certificate limit, no RTT or clock limit.
    assert perfdata(replace(OK, thresholds=Thresholds())).split(" ")[-3:] == [
        "rtt=2.314ms;;;0", "cert_days=200.00;14:;;", "clock_offset=-0.250s;;;",
    ]


def test_thresholds_reach_the_perfdata_of_a_real_run(probe: Any) -> None:
    run = probe(["--demo", "--warn-rtt", "250", "--warn-clock", "3"])
    assert run.code == 0, run.stdout
    fields = dict(item.split("=", 1) for item in run.stdout.split(" | ", 1)[1].split())
    assert fields["rtt"].endswith(";250;;0")
    assert fields["clock_offset"].endswith(";-3:3;;")


def test_critical_line_names_the_step() -> None:
    failed = CheckResult(
        verdict=Verdict.CRITICAL, target="ws://x/CP1", ocpp_version="2.0.1",
        failed_step=Step.UPGRADE, reason="HTTP 404 not found", failure_kind=FailureKind.HTTP_NOT_FOUND, timings_ms={"resolve": 1.0}, total_ms=1.5,
    )
    assert render_line(failed) == (
        "OCPP CRITICAL - upgrade failed: HTTP 404 not found | resolve=1.000ms;;;0 total=1.500ms;;;0"
    )


def test_warning_comes_from_thresholds() -> None:
    warned = judged(OK, Thresholds(rtt_warn_ms=1.0, cert_warn_days=365, clock_warn_s=0.1))
    assert warned.verdict is Verdict.WARNING
    assert warned.warnings == [
        "Heartbeat RTT 2.31 ms above 1 ms",
        "certificate expires in 200.0 days",
        "CSMS clock off by -0.2 s",
    ]
    assert summary(warned).startswith("Heartbeat RTT 2.31 ms above 1 ms; certificate expires")
    assert judged(OK, Thresholds(rtt_warn_ms=10, cert_warn_days=14)) is OK


def test_failed_checks_are_never_downgraded_to_warning() -> None:
    failed = CheckResult(verdict=Verdict.CRITICAL, target="", ocpp_version="1.6", failed_step=Step.BOOT, reason="x",
                         failure_kind=FailureKind.CALLERROR)
    assert judged(failed, Thresholds(rtt_warn_ms=0.001)) is failed


def test_perfdata_of_a_failure_has_only_what_ran() -> None:
    failed = CheckResult(verdict=Verdict.CRITICAL, target="", ocpp_version="1.6", failed_step=Step.CONNECT,
                         failure_kind=FailureKind.REFUSED, timings_ms={"resolve": 2.0}, total_ms=2.0)
    assert perfdata(failed) == "resolve=2.000ms;;;0 total=2.000ms;;;0"


def test_json_document_carries_every_fact() -> None:
    doc = validated(orjson.loads(render_json(OK)))
    assert doc["verdict"] == "OK" and doc["exit_code"] == 0 and doc["ok"] is True
    assert doc["failed_step"] is None and doc["reason"] is None and doc["failure_kind"] is None
    assert doc["timings_ms"]["tls"] == 3.1
    assert doc["heartbeat_rtt_ms"] == 2.314
    assert doc["clock_offset_s"] == -0.25
    assert doc["tls"] == {
        "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
        "cert_not_after": 1.9e9, "cert_days_left": 200.0, "verified": True, "chain_not_after": None,
    }
    assert doc["boot"] == {"status": "Accepted", "interval_s": 300, "current_time": "2025-01-01T00:00:00Z", "reason_code": None}


def test_json_names_the_failure_kind() -> None:
    failed = CheckResult(
        verdict=Verdict.CRITICAL, target="ws://x/CP1", ocpp_version="1.6", failed_step=Step.TLS,
        reason="server certificate not trusted: certificate has expired",
        failure_kind=FailureKind.TLS_EXPIRED,
    )
    doc = orjson.loads(render_json(failed))
    assert doc["failed_step"] == "tls" and doc["failure_kind"] == "tls_expired"
    assert render_line(failed) == (
        "OCPP CRITICAL - tls failed: server certificate not trusted: certificate has expired | total=0.000ms;;;0"
    )


def test_a_failure_without_a_kind_cannot_be_made() -> None:
    try:
        CheckResult(verdict=Verdict.CRITICAL, target="", ocpp_version="1.6", failed_step=Step.BOOT, reason="x")
    except ValueError as exc:
        assert "failure_kind" in str(exc)
    else:
        raise AssertionError("a failed CheckResult without a kind was accepted")
