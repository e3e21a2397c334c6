"""The one-line verdict that people, Nagios and Icinga all read, with perfdata."""

from __future__ import annotations

from ..result import CheckResult, Step, Verdict


def _ms(value: float) -> str:
    return f"{value:.3f}ms"


def summary(result: CheckResult) -> str:
    """The verdict sentence without the OCPP prefix or perfdata (also Kuma's msg)."""
    if result.verdict in (Verdict.CRITICAL, Verdict.UNKNOWN):
        step = result.failed_step.value if result.failed_step else "check"
        return _with_session(result, f"{step} failed: {result.reason}")
    parts: list[str] = []
    protocol = result.subprotocol or f"ocpp{result.ocpp_version}"
    if result.boot is not None:
        parts.append(f"{protocol} BootNotification {result.boot.status}")
    if result.heartbeat_rtt_ms is not None:
        parts.append(f"Heartbeat RTT {result.heartbeat_rtt_ms:.2f} ms")
    text = ", ".join(parts)
    if result.tls is not None and not result.tls.verified:
        text += " (TLS NOT VERIFIED: insecure mode)"
    if result.warnings:
        text = "; ".join(result.warnings) + " - " + text
    return _with_session(result, text)


def _with_session(result: CheckResult, text: str) -> str:
    if result.session is None:
        return text
    from ..session import short_session  # only station mode pays for it

    return f"{text} [{short_session(result.session)}]"


def perfdata(result: CheckResult) -> str:
    """Nagios plugin perfdata: label=value[UOM];warn;crit;min;max, one per measure."""
    items = [f"{step}={_ms(ms)};;;0" for step, ms in result.timings_ms.items()]
    items.append(f"total={_ms(result.total_ms)};;;0")
    if result.heartbeat_rtt_ms is not None:
        items.append(f"rtt={_ms(result.heartbeat_rtt_ms)};;;0")
    if result.tls is not None and result.tls.cert_days_left is not None:
        items.append(f"cert_days={result.tls.cert_days_left:.2f};;;")
    if result.clock_offset_s is not None:
        items.append(f"clock_offset={result.clock_offset_s:.3f}s;;;")
    return " ".join(items)


def render_line(result: CheckResult) -> str:
    line = f"OCPP {result.verdict.name} - {summary(result)}"
    if result.failed_step in (Step.CONFIG, Step.SESSION):
        return line  # nothing was measured (a bad setting, a held connection lost between checks)
    return f"{line} | {perfdata(result)}"
