"""Station mode's sans-I/O parts: pings and pongs, backoff, drop causes, session facts."""

from __future__ import annotations

from ocpp_probe.failures import FailureKind
from ocpp_probe.push import push_query
from ocpp_probe.reporters.json_report import result_document
from ocpp_probe.reporters.prometheus import render_prometheus
from ocpp_probe.reporters.text import render_line
from ocpp_probe.result import CheckResult, Step, Verdict
from ocpp_probe.session import (
    Backoff,
    Ledger,
    Pinger,
    boot_retry_delay,
    closed_by_csms,
    cut_without_close,
    heartbeat_unanswered,
    pong_missing,
    short_session,
)


def test_pinger_sends_on_its_interval_and_times_the_matching_pong() -> None:
    pinger = Pinger(interval_s=10, timeout_s=2, now=100.0)
    assert not pinger.due(109.9) and pinger.next_event(100.0) == 110.0
    assert pinger.due(110.0)
    payload = pinger.sent(110.0)
    assert not pinger.due(125.0)  # one ping at a time
    assert pinger.next_event(110.5) == 112.0  # the pong's deadline
    pinger.pong(b"unsolicited", 110.2)  # RFC 6455 allows it; it proves nothing
    assert pinger.waiting and pinger.rtt_ms is None
    pinger.pong(payload, 110.25)
    assert not pinger.waiting and pinger.rtt_ms is not None and abs(pinger.rtt_ms - 250) < 1e-6
    assert pinger.next_event(110.3) == 120.0


def test_pinger_reports_an_overdue_pong_and_zero_means_no_pings() -> None:
    pinger = Pinger(interval_s=1, timeout_s=0.5, now=0.0)
    pinger.sent(1.0)
    assert not pinger.overdue(1.49) and pinger.overdue(1.5)
    silent = Pinger(interval_s=0, timeout_s=0.5, now=0.0)
    assert not silent.due(1e9) and silent.next_event(5.0) is None


def test_backoff_doubles_up_to_the_check_interval_and_resets() -> None:
    backoff = Backoff(cap_s=10)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next_delay() == 1
    assert Backoff(cap_s=0.2).next_delay() == 0.2  # never later than the next slot


def test_boot_retry_follows_the_csms_interval_or_the_check_interval() -> None:
    assert boot_retry_delay(60, 30) == 60
    assert boot_retry_delay(0, 30) == 30  # 0: the station chooses
    assert boot_retry_delay(None, 5) == 5


def test_each_drop_cause_has_its_own_kind_and_says_how_long_the_connection_lived() -> None:
    frame = closed_by_csms("CSMS closed the WebSocket with 1001 (going away)", 12.34)
    assert frame.kind is FailureKind.CLOSED
    assert frame.reason == "CSMS closed the WebSocket with 1001 (going away), after the connection lived 12.3 s"
    idle = cut_without_close("CSMS closed the connection", None, quiet_s=60.0, lifetime_s=61.0)
    assert idle.kind is FailureKind.IDLE_CLOSED
    assert "after 60.0 s of silence" in idle.reason and idle.reason.endswith("lived 61.0 s")
    mid = cut_without_close("connection reset by the server", "Heartbeat response", 0.0, 5.0)
    assert mid.kind is FailureKind.CLOSED
    assert mid.reason.startswith("connection reset by the server without a WebSocket close frame while "
                                 "waiting for the Heartbeat response")
    assert pong_missing(5, 30).kind is FailureKind.PONG_TIMEOUT
    unanswered = heartbeat_unanswered(5, 30)
    assert unanswered.kind is FailureKind.HEARTBEAT_UNANSWERED
    assert unanswered.reason.startswith("no Heartbeat response within 5000 ms (HEARTBEAT_TIMEOUT)")
    assert len({frame.kind, idle.kind, pong_missing(1, 1).kind, unanswered.kind}) == 4


def _station_result(ledger: Ledger, age: float | None) -> CheckResult:
    return CheckResult(Verdict.OK, "ws://csms/ocpp/CP", "1.6", heartbeat_rtt_ms=1.5,
                       session=ledger.facts(age, 0.8))


def test_session_facts_in_json_prometheus_text_and_kuma() -> None:
    ledger = Ledger()
    ledger.connected()
    ledger.boots = 1
    ledger.last_drop = cut_without_close("CSMS closed the connection", None, 59.9, 3725.0)
    ledger.connected()
    ledger.heartbeats_sent, ledger.heartbeats_answered = 4, 3
    result = _station_result(ledger, 125.0)
    session = result_document(result)["session"]
    assert session == {
        "connection_age_s": 125.0, "reconnects": 1, "boots": 1, "heartbeats_sent": 4,
        "heartbeats_answered": 3, "last_drop_kind": "idle_closed",
        "last_drop_reason": ledger.last_drop.reason, "last_drop_lifetime_s": 3725.0, "pong_rtt_ms": 0.8,
    }
    metrics = render_prometheus(result, {"target": "t"})
    assert 'ocpp_probe_session_connection_age_seconds{target="t"} 125' in metrics
    assert 'ocpp_probe_session_reconnects_total{target="t"} 1' in metrics
    assert 'ocpp_probe_session_boots_total{target="t"} 1' in metrics
    assert 'ocpp_probe_session_heartbeats_answered{target="t"} 3' in metrics
    assert 'ocpp_probe_session_last_drop_lifetime_seconds{target="t",kind="idle_closed"} 3725' in metrics
    assert 'ocpp_probe_session_pong_rtt_seconds{target="t"} 0.0008' in metrics
    short = "held 2m05s, 1 reconnect, last drop idle_closed after 1h02m"
    assert short_session(result.session) == short  # type: ignore[arg-type]
    assert render_line(result).startswith(f"OCPP OK - Heartbeat RTT 1.50 ms [{short}] | ")
    assert push_query(result, False)["msg"] == f"OK - Heartbeat RTT 1.50 ms [{short}]"


def test_a_drop_result_fits_kuma_msg_with_its_session_facts() -> None:
    ledger = Ledger()
    ledger.connected()
    ledger.last_drop = cut_without_close("CSMS closed the connection", None, 59.9, 61.0)
    drop = CheckResult(Verdict.CRITICAL, "ws://csms/ocpp/CP", "1.6", failed_step=Step.SESSION,
                       failure_kind=ledger.last_drop.kind, reason=ledger.last_drop.reason,
                       session=ledger.facts(None, None))
    msg = push_query(drop, False)["msg"]
    assert msg.startswith("CRITICAL - session failed: CSMS closed the connection without a close frame")
    assert msg.endswith("[not connected, 0 reconnects, last drop idle_closed after 1m01s]")
    assert len(msg) <= 250
    assert "|" not in render_line(drop)  # nothing was measured: no perfdata of zeros


def test_one_shot_results_have_no_session_anywhere() -> None:
    result = CheckResult(Verdict.OK, "ws://csms/ocpp/CP", "1.6", heartbeat_rtt_ms=1.5)
    assert "session" not in result_document(result)
    assert "session" not in render_prometheus(result)
    assert "[" not in render_line(result).split("|")[0]
