"""Prometheus text exposition (format 0.0.4) of one CheckResult.

Shared by one-shot output (node_exporter's textfile collector) and serve mode's
/probe answer. Names follow Prometheus conventions: base units (seconds), a
``_timestamp_seconds`` suffix for points in time, gauges for measurements of the
last check. A value the check did not measure is left out, never reported as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from .. import __version__
from ..printable import shown
from ..records import record
from ..result import CheckResult, SessionFacts, Step, Verdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The phases a charging station goes through; close is a courtesy and left out.
PHASES = (Step.RESOLVE, Step.CONNECT, Step.TLS, Step.UPGRADE, Step.BOOT, Step.HEARTBEAT)


@record
class Sample:
    """One Prometheus sample of a family."""

    labels: tuple[tuple[str, str], ...]
    value: float


@record
class Family:
    """One Prometheus metric family with its samples."""

    name: str
    kind: str  # gauge, counter
    help: str
    samples: tuple[Sample, ...]


def escape_label(value: str) -> str:
    """A label value: outside text made one safe line first, then Prometheus escapes."""
    return shown(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def render_families(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        if not family.samples:
            continue
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{key}="{escape_label(val)}"' for key, val in sample.labels)
            name = f"{family.name}{{{labels}}}" if labels else family.name
            lines.append(f"{name} {format_value(sample.value)}")
    return "\n".join(lines) + "\n"


def started_timestamp(result: CheckResult) -> float | None:
    """When the check started, Unix time (from its UTC ISO 8601 started_at)."""
    if not result.started_at:
        return None
    try:  # fromisoformat before 3.11 does not take "Z"
        return datetime.fromisoformat(result.started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def result_families(result: CheckResult, labels: Mapping[str, str] | None = None) -> list[Family]:
    base = tuple((labels or {}).items())

    def one(value: float | None, *extra: tuple[str, str]) -> tuple[Sample, ...]:
        return () if value is None else (Sample((*base, *extra), value),)

    phases = tuple(
        Sample((*base, ("phase", step.value)), result.timings_ms[step.value] / 1000)
        for step in PHASES
        if step.value in result.timings_ms
    )
    verdicts = tuple(
        Sample((*base, ("verdict", verdict.name)), 1.0 if verdict is result.verdict else 0.0)
        for verdict in Verdict
    )
    rtt = result.heartbeat_rtt_ms
    tls = result.tls
    families = [
        Family("ocpp_probe_success", "gauge",
               "1 when the CSMS accepted BootNotification and answered Heartbeat (OK or WARNING)",
               one(1.0 if result.ok else 0.0)),
        Family("ocpp_probe_verdict", "gauge",
               "The check's verdict as a state set: 1 for the current one", verdicts),
        Family("ocpp_probe_duration_seconds", "gauge",
               "Time taken by each phase of the check", phases),
        Family("ocpp_probe_check_duration_seconds", "gauge",
               "Time taken by the whole check", one(result.total_ms / 1000)),
        Family("ocpp_probe_heartbeat_rtt_seconds", "gauge",
               "Round trip of the OCPP Heartbeat CALL and its CALLRESULT",
               one(None if rtt is None else rtt / 1000)),
        Family("ocpp_probe_boot_status", "gauge",
               "BootNotification status answered by the CSMS (info-style, always 1)",
               one(1.0, ("status", result.boot.status)) if result.boot else ()),
        Family("ocpp_probe_tls_cert_expiry_timestamp_seconds", "gauge",
               "Expiry (notAfter) of the CSMS leaf certificate, Unix time",
               one(tls.cert_not_after if tls else None)),
        Family("ocpp_probe_clock_offset_seconds", "gauge",
               "CSMS clock (Heartbeat currentTime) minus the probe's clock",
               one(result.clock_offset_s)),
        Family("ocpp_probe_failed_step", "gauge",
               "The step at which the check failed and the failure kind "
               "(info-style, present only on failure)",
               # A failure outside any step (serve's shared-check timeout) has no step label.
               one(1.0, *((("step", result.failed_step.value),) if result.failed_step else ()),
                   ("kind", result.failure_kind.value))
               if result.failure_kind else ()),
        Family("ocpp_probe_last_run_timestamp_seconds", "gauge",
               "When the check that produced these values started, Unix time: its age "
               "tells a stale textfile from a fresh one",
               one(started_timestamp(result))),
        Family("ocpp_probe_info", "gauge",
               "OCPP version checked and subprotocol agreed (info-style, always 1)",
               one(1.0, ("ocpp_version", result.ocpp_version),
                   ("subprotocol", result.subprotocol or ""), ("probe_version", __version__))),
    ]
    if result.session is not None:
        families += _session_families(result.session, one)
    return families


def _session_families(
    session: SessionFacts, one: Callable[..., tuple[Sample, ...]]
) -> list[Family]:
    """Station mode (--hold): the held connection behind the result."""
    drop = session.last_drop_kind
    return [
        Family("ocpp_probe_session_connection_age_seconds", "gauge",
               "Age of the held connection (absent while disconnected)",
               one(session.connection_age_s)),
        Family("ocpp_probe_session_reconnects_total", "counter",
               "Connections opened after the first one in this session", one(session.reconnects)),
        Family("ocpp_probe_session_boots_total", "counter",
               "BootNotifications sent in this session", one(session.boots)),
        Family("ocpp_probe_session_heartbeats_sent", "gauge",
               "Heartbeats sent on the current connection", one(session.heartbeats_sent)),
        Family("ocpp_probe_session_heartbeats_answered", "gauge",
               "Heartbeats answered on the current connection", one(session.heartbeats_answered)),
        Family("ocpp_probe_session_last_drop_lifetime_seconds", "gauge",
               "How long the last dropped connection had lived, by how it was lost",
               one(session.last_drop_lifetime_s, ("kind", drop)) if drop else ()),
        Family("ocpp_probe_session_pong_rtt_seconds", "gauge",
               "Round trip of the last WebSocket ping on the held connection",
               one(None if session.pong_rtt_ms is None else session.pong_rtt_ms / 1000)),
    ]


def render_prometheus(result: CheckResult, labels: Mapping[str, str] | None = None) -> str:
    return render_families(result_families(result, labels))
