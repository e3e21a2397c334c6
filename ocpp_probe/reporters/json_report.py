"""The whole result as one JSON object, for scripts and HTTP(s)-Json monitors."""

from __future__ import annotations

from typing import Any

import orjson

from .. import __version__
from ..printable import shown
from ..records import as_dict
from ..result import CheckResult


def result_document(result: CheckResult) -> dict[str, Any]:
    """The check's result; keys are snake_case, as docs/result.schema.json declares.

    ``exit_code`` is the check's own code here; the command line replaces it with the
    code the process exits with (a failed push raises it), and keeps the check's in
    ``check_exit_code``.
    """
    document = _document(result)
    if result.session is not None:  # station mode only: one-shot documents stay as they were
        session = as_dict(result.session)
        if result.session.last_drop_reason is not None:  # quotes the CSMS's close reason
            session["last_drop_reason"] = shown(result.session.last_drop_reason)
        document["session"] = session
    return document


def _document(result: CheckResult) -> dict[str, Any]:
    return {
        "verdict": result.verdict.name,
        "exit_code": result.verdict.exit_code,
        "check_exit_code": result.verdict.exit_code,
        "ok": result.ok,
        "failed_step": result.failed_step.value if result.failed_step else None,
        "failure_kind": result.failure_kind.value if result.failure_kind else None,
        "reason": shown(result.reason) or None,
        "target": shown(result.target),
        "ocpp_version": result.ocpp_version,
        "subprotocol": result.subprotocol,
        "http_status": result.http_status,
        "remote_address": result.remote_address,
        "timings_ms": {step: round(ms, 3) for step, ms in result.timings_ms.items()},
        "total_ms": round(result.total_ms, 3),
        "heartbeat_rtt_ms": (
            None if result.heartbeat_rtt_ms is None else round(result.heartbeat_rtt_ms, 3)
        ),
        "clock_offset_s": (
            None if result.clock_offset_s is None else round(result.clock_offset_s, 3)
        ),
        "boot": _boot(result),
        "tls": as_dict(result.tls) if result.tls else None,
        "csms_calls": [shown(action) for action in result.csms_calls],
        "warnings": [shown(warning) for warning in result.warnings],
        "started_at": result.started_at,
        "probe_version": __version__,
    }


def _boot(result: CheckResult) -> dict[str, Any] | None:
    if result.boot is None:
        return None
    boot = as_dict(result.boot)
    if boot.get("reason_code"):
        boot["reason_code"] = shown(boot["reason_code"])  # the CSMS's words
    return boot


def render_json(result: CheckResult, extra: dict[str, Any] | None = None) -> str:
    """The document as one line of JSON; ``extra`` adds keys of the run (e.g. the push)."""
    document = result_document(result)
    if extra:
        document.update(extra)
    return orjson.dumps(document).decode("utf-8")
