"""The diagnosis as text a person reads (grouped by layer) or as one JSON object.

Only renders. Strings that came from the server are taken as they are (only capped,
printable.quoted); here every string first has its secrets replaced and is then
escaped and cut for display (printable.shown), in that order, so that no cut can
leave part of a secret that the redactor would no longer recognise.
"""

from __future__ import annotations

from typing import Any

from ..printable import shown
from ..records import as_dict
from ..redact import Redactor
from .facts import Facts, UpgradeAttempt
from .findings import LAYERS, Findings


def document(facts: Facts, findings: Findings, exit_code: int) -> dict[str, Any]:
    from ..reporters.json_report import result_document

    tls: dict[str, Any] | None = None
    if facts.tls is not None:
        tls = as_dict(facts.tls)
        for cert in tls["chain"]:
            cert.pop("not_after_epoch", None)
    return {
        "target": facts.target,
        "ocpp_version": facts.configured_version,
        "exit_code": exit_code,
        "check_would_pass": exit_code == 0,
        "identity": facts.identity,
        "proxy": facts.proxy,
        "resolve_error": facts.resolve_error,
        "addresses": [as_dict(probe) for probe in facts.addresses],
        "tls": tls,
        "served_versions": facts.served_versions,
        "upgrade_attempts": [_attempt_document(attempt) for attempt in facts.attempts],
        "clock_offset_s": facts.clock_offset_s,
        "clock": {
            "http_date_offset_s": facts.http_clock_offset_s,
            "ocpp_offset_s": facts.ocpp.clock_offset_s if facts.ocpp is not None else None,
        },
        "ocpp": result_document(facts.ocpp) if facts.ocpp is not None else None,
        "ocpp_run_with": facts.ocpp_settings_note or None,
        "findings": [as_dict(item) for item in findings.items],
        "suggestions": list(findings.suggestions),
        "connections": facts.connections,
        "deadline_reached": facts.deadline_reached,
        "elapsed_ms": round(facts.elapsed_ms, 3),
    }


def _attempt_document(attempt: UpgradeAttempt) -> dict[str, Any]:
    document = as_dict(attempt)
    document["credentials_used"] = document.pop("credentials_sent")  # the name
    return document


def redacted(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return shown(redactor.text(value))
    if isinstance(value, list):
        return [redacted(item, redactor) for item in value]
    if isinstance(value, dict):
        return {key: redacted(item, redactor) for key, item in value.items()}
    return value


def render_json(facts: Facts, findings: Findings, exit_code: int, redactor: Redactor) -> str:
    import orjson

    return orjson.dumps(redacted(document(facts, findings, exit_code), redactor)).decode("utf-8")


def render_text(facts: Facts, findings: Findings, exit_code: int, redactor: Redactor) -> str:
    if facts.target:
        lines = [f"ocpp-probe diagnose {facts.target} (OCPP {facts.configured_version} configured)"]
    else:
        lines = ["ocpp-probe diagnose: the settings are not usable"]
    if facts.proxy:
        lines[0] += f" via proxy {facts.proxy}"
    for layer in LAYERS:
        items = [item for item in findings.items if item.layer == layer]
        if not items:
            continue
        lines.append("")
        lines.append(layer)
        for item in items:
            lines.append(f"  {item.level:<4} {item.text}")
    lines.append("")
    lines.append("what to change")
    if findings.suggestions:
        lines.extend(f"  - {suggestion}" for suggestion in findings.suggestions)
    elif exit_code == 0:
        lines.append("  nothing: a check with these settings passes")
    else:
        lines.append("  no specific change found; see the FAIL lines above")
    verdict = "would pass" if exit_code == 0 else "would FAIL" if exit_code == 2 else "cannot run"
    lines.append("")
    lines.append(
        f"a check with these settings {verdict} (exit {exit_code}); "
        f"{facts.connections} connections in {facts.elapsed_ms:.0f} ms"
        + (" (total deadline reached)" if facts.deadline_reached else "")
    )
    return "\n".join(shown(redactor.text(line)) for line in lines)
