"""What /probe answers with format=prometheus, and with debug=true.

The OCPP-specific metrics (reporters.prometheus, namespace ocpp_probe_) plus the names
blackbox_exporter uses for the same facts, so generic ``probe_success == 0`` rules and
blackbox dashboards cover OCPP targets unchanged.
"""

from __future__ import annotations

from ..redact import redact_url
from ..reporters.prometheus import Family, Sample, render_families, result_families
from ..result import CheckResult
from ..settings import CheckSettings
from .history import Record


def blackbox_families(result: CheckResult) -> list[Family]:
    chain = result.tls.chain_not_after if result.tls else None
    return [
        Family("probe_success", "gauge", "Displays whether or not the probe was a success",
               (Sample((), 1.0 if result.ok else 0.0),)),
        Family("probe_duration_seconds", "gauge",
               "Returns how long the probe took to complete in seconds",
               (Sample((), result.total_ms / 1000),)),
        Family("probe_ssl_earliest_cert_expiry", "gauge",
               "Returns last SSL chain expiry in unixtime (earliest notAfter in the presented chain)",
               () if chain is None else (Sample((), chain),)),
    ]


def probe_metrics(result: CheckResult) -> str:
    return render_families([*blackbox_families(result), *result_families(result)])


def settings_lines(settings: CheckSettings, module: str | None) -> list[str]:
    """The resolved settings of a check, for debug=true: secrets only as set/unset."""
    limits = settings.thresholds
    lines = [
        f"module: {module or '(named target)'}",
        f"url: {redact_url(settings.url)}",
        f"identity: {settings.identity}",
        f"ocpp_version: {settings.version.value}",
        f"probe_timeout: {settings.timeout_s:g} s",
        f"heartbeat_timeout: {settings.response_timeout_s * 1000:g} ms",
        f"password: {'set (not shown)' if settings.password else 'none'}",
        f"ca_file: {settings.ca_file or 'system'}",
        f"cert_file: {settings.cert_file or 'none'}",
        f"key_file: {settings.key_file or 'none'}",
        f"insecure: {str(settings.insecure).lower()}",
        f"proxy: {settings.proxy.display if settings.proxy else 'none'}"
        + (" (with credentials, not shown)" if settings.proxy and settings.proxy.authorization else ""),
        f"accept_pending: {str(settings.accept_pending).lower()}",
        f"warn_rtt: {limits.rtt_warn_ms if limits.rtt_warn_ms is not None else 'none'}",
        f"warn_cert_days: {limits.cert_warn_days if limits.cert_warn_days is not None else 'none'}",
        f"warn_clock: {limits.clock_warn_s if limits.clock_warn_s is not None else 'none'}",
    ]
    return lines


def debug_text(settings: CheckSettings, module: str | None, result: CheckResult,
               record: Record | None) -> str:
    """blackbox_exporter's debug=true: the trace, the settings, then the metrics."""
    trace = list(record.trace) if record else ["(no trace: this request's deadline came first)"]
    parts = [
        "Logs for the probe:", *trace, "",
        "Metrics that would have been returned:", probe_metrics(result).rstrip("\n"), "",
        "Module configuration:", *settings_lines(settings, module), "",
    ]
    return "\n".join(parts)
