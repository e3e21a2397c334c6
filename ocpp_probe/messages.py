"""BootNotification and Heartbeat payloads, and validation of the CSMS's answers.

Only the fields the probe relies on are checked, but those strictly: a CSMS that
answers with a missing field or a wrong type would break a real charging station.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from .rpc import Payload
from .versions import OcppVersion

# Field lengths from the official schemas (CiString20Type / string maxLength).
MODEL_MAX = 20
VENDOR_MAX = {OcppVersion.V16: 20, OcppVersion.V201: 50, OcppVersion.V21: 50}

# RFC 3339 date-time as OCPP uses it; a missing offset is read as UTC, which is
# what OCPP says every time value is.
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})?$"
)


class BootStatus(Enum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class PayloadViolation(ValueError):
    """A response payload lacks a required field or has one of the wrong type."""

    def __init__(self, action: str, field: str, problem: str) -> None:
        super().__init__(f"{action} response field '{field}' {problem}")
        self.field = field


@dataclass(frozen=True)
class BootResponse:
    """A BootNotification response, validated."""

    status: BootStatus
    interval_s: int
    current_time: datetime
    reason_code: str | None = None  # 2.x statusInfo.reasonCode, when given


def boot_notification_payload(version: OcppVersion, model: str, vendor: str) -> Payload:
    if version is OcppVersion.V16:
        return {"chargePointVendor": vendor, "chargePointModel": model}
    return {"reason": "PowerUp", "chargingStation": {"model": model, "vendorName": vendor}}


def heartbeat_payload() -> Payload:
    return {}


def parse_date_time(value: str) -> datetime | None:
    """An aware UTC datetime, or None when the text is not an RFC 3339 date-time."""
    if not _DATE_TIME.match(value):
        return None
    text = value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T")
    # fromisoformat before 3.11 takes only 3 or 6 fraction digits and only +HH:MM.
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "00000")[:6], text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
        return None


def _required(payload: Payload, action: str, name: str) -> Any:
    if name not in payload:
        raise PayloadViolation(action, name, "is missing")
    return payload[name]


def _date_time_field(payload: Payload, action: str, name: str) -> datetime:
    value = _required(payload, action, name)
    if not isinstance(value, str):
        raise PayloadViolation(action, name, f"must be a date-time string, got {value!r:.40}")
    parsed = parse_date_time(value)
    if parsed is None:
        raise PayloadViolation(action, name, f"is not an RFC 3339 date-time: {value!r:.40}")
    return parsed


def parse_boot_response(payload: Payload, version: OcppVersion) -> BootResponse:
    action = "BootNotification"
    status_text = _required(payload, action, "status")
    try:
        status = BootStatus(status_text)
    except ValueError:
        raise PayloadViolation(
            action, "status", f"must be Accepted, Pending or Rejected, got {status_text!r:.40}"
        ) from None
    current_time = _date_time_field(payload, action, "currentTime")
    interval = _required(payload, action, "interval")
    if isinstance(interval, bool) or not isinstance(interval, int):
        raise PayloadViolation(action, "interval", f"must be an integer, got {interval!r:.40}")
    reason_code = None
    if version is not OcppVersion.V16 and "statusInfo" in payload:
        info = payload["statusInfo"]
        if not isinstance(info, dict) or not isinstance(info.get("reasonCode"), str):
            raise PayloadViolation(action, "statusInfo", "must be an object with a reasonCode")
        reason_code = info["reasonCode"]
    return BootResponse(status, interval, current_time, reason_code)


def parse_heartbeat_response(payload: Payload) -> datetime:
    return _date_time_field(payload, "Heartbeat", "currentTime")
