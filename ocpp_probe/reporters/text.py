"""The one-line verdict that people, Nagios and Icinga all read, with perfdata."""

from __future__ import annotations

from ..printable import nagios_status, shown
from ..result import CheckResult, Step, Verdict


def _ms(value: float) -> str:
    return f"{value:.3f}ms"


def summary(result: CheckResult) -> str:
    """The verdict sentence without the OCPP prefix or perfdata (also Kuma's msg)."""
    if result.verdict in (Verdict.CRITICAL, Verdict.UNKNOWN):
        step = result.failed_step.value if result.failed_step else "check"
        return _with_session(result, f"{step} failed: {shown(result.reason)}")
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
        text = "; ".join(shown(warning) for warning in result.warnings) + " - " + text
    return _with_session(result, text)


def _with_session(result: CheckResult, text: str) -> str:
    if result.session is None:
        return text
    from ..session import short_session  # only station mode pays for it

    return f"{text} [{short_session(result.session)}]"


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def perfdata(result: CheckResult) -> str:
    """Nagios plugin perfdata: label=value[UOM];warn;crit;min;max, one per measure.

    The warn field carries the configured WARN_* limit in the monitoring-plugins range
    syntax, so graphers draw the line where the verdict turns: ``X`` warns above X,
    ``X:`` below X, ``-X:X`` outside plus or minus X. There is no critical limit.
    """
    limits = result.thresholds
    rtt_warn = limits.rtt_warn_ms if limits else None
    cert_warn = limits.cert_warn_days if limits else None
    clock_warn = limits.clock_warn_s if limits else None
    items = [f"{step}={_ms(ms)};;;0" for step, ms in result.timings_ms.items()]
    items.append(f"total={_ms(result.total_ms)};;;0")
    if result.heartbeat_rtt_ms is not None:
        warn = "" if rtt_warn is None else _number(rtt_warn)
        items.append(f"rtt={_ms(result.heartbeat_rtt_ms)};{warn};;0")
    if result.tls is not None and result.tls.cert_days_left is not None:
        warn = "" if cert_warn is None else _number(cert_warn) + ":"
        items.append(f"cert_days={result.tls.cert_days_left:.2f};{warn};;")
    if result.clock_offset_s is not None:
        warn = "" if clock_warn is None else f"-{_number(clock_warn)}:{_number(clock_warn)}"
        items.append(f"clock_offset={result.clock_offset_s:.3f}s;{warn};;")
    return " ".join(items)


def render_line(result: CheckResult) -> str:
    # Outside text never brings a "|" into the status part: it would start perfdata.
    line = f"OCPP {result.verdict.name} - {nagios_status(summary(result))}"
    if result.failed_step in (Step.CONFIG, Step.SESSION):
        return line  # nothing was measured (a bad setting, a held connection lost between checks)
    return f"{line} | {perfdata(result)}"
