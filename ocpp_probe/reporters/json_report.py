"""The whole result as one JSON object, for scripts and HTTP(s)-Json monitors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from .. import __version__
from ..result import CheckResult


def result_document(result: CheckResult) -> dict[str, Any]:
    """The check's result; keys are snake_case, as docs/result.schema.json declares.

    ``exit_code`` is the check's own code here; the command line replaces it with the
    code the process exits with (a failed push raises it), and keeps the check's in
    ``check_exit_code``.
    """
    return {
        "verdict": result.verdict.name,
        "exit_code": result.verdict.exit_code,
        "check_exit_code": result.verdict.exit_code,
        "ok": result.ok,
        "failed_step": result.failed_step.value if result.failed_step else None,
        "reason": result.reason or None,
        "target": result.target,
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
        "boot": asdict(result.boot) if result.boot else None,
        "tls": asdict(result.tls) if result.tls else None,
        "csms_calls": result.csms_calls,
        "warnings": result.warnings,
        "started_at": result.started_at,
        "probe_version": __version__,
    }


def render_json(result: CheckResult) -> str:
    return orjson.dumps(result_document(result)).decode("utf-8")
