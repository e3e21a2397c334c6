"""BootNotification and Heartbeat payloads, and validation of the CSMS's answers.

Only the fields the probe relies on are checked, but those strictly: a CSMS that
answers with a missing field or a wrong type would break a real charging station.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from .records import record
from .rpc import Payload
from .versions import OcppVersion

# Field lengths from the official schemas (CiString20Type / string maxLength).
MODEL_MAX = 20
VENDOR_MAX = {OcppVersion.V16: 20, OcppVersion.V201: 50, OcppVersion.V21: 50}

# RFC 3339 section 5.6 date-time, the format of every OCPP time value: "T" and "Z" in
# either case, any number of fraction digits, a leap second (60), and an offset that is
# required and written with a colon. Ranges are checked after the match.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
# The near misses CSMSs send, to say what is wrong with them.
_NEAR_MISS = re.compile(
    r"\d{4}-\d{2}-\d{2}(?P<sep>[Tt ])\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)


# CALLERROR codes with which CSMSs refuse a message from a station that has not
# booted on this connection (OCPP 2.x: SecurityError; others use the generic ones).
PRE_BOOT_ERRORS = frozenset({"SecurityError", "GenericError", "ProtocolError"})


class BootStatus(Enum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class PayloadViolation(ValueError):
    """A response payload lacks a required field or has one of the wrong type."""

    def __init__(self, action: str, field: str, problem: str) -> None:
        super().__init__(f"{action} response field '{field}' {problem}")
        self.field = field


@record
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


def date_time_problem(value: str) -> datetime | str:
    """An aware UTC datetime, or why the text is not an RFC 3339 date-time ("" if unclear)."""
    found = _DATE_TIME.fullmatch(value)
    if found is None:
        near = _NEAR_MISS.fullmatch(value)
        if near is None:
            return ""
        if near.group("sep") == " ":
            return "date and time separated by a space, not T"
        if near.group("offset") is None:
            return "no offset; RFC 3339 needs Z or one like +01:00"
        return "offset without a colon; RFC 3339 needs one like +01:00"
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = found.group(7) or ""
    if hour > 23 or minute > 59 or second > 60:
        return "time of day out of range"
    if found.group(9) is not None:
        offset_hours, offset_minutes = int(found.group(10)), int(found.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            return "offset out of range"
        sign = -1 if found.group(9) == "-" else 1
        offset = sign * timedelta(hours=offset_hours, minutes=offset_minutes)
    else:
        offset = timedelta(0)
    try:
        # A leap second (:60) is the instant after :59, as POSIX time counts it.
        local = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=timezone.utc)
    except ValueError:
        return "no such date"
    # Fraction digits beyond microseconds are cut, not rounded: never into the next second.
    micros = int((fraction + "000000")[:6])
    try:
        return local + timedelta(seconds=second - min(second, 59), microseconds=micros) - offset
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
        return "out of the representable range"


def parse_date_time(value: str) -> datetime | None:
    """An aware UTC datetime, or None when the text is not an RFC 3339 date-time."""
    parsed = date_time_problem(value)
    return parsed if isinstance(parsed, datetime) else None


def _required(payload: Payload, action: str, name: str) -> Any:
    if name not in payload:
        raise PayloadViolation(action, name, "is missing")
    return payload[name]


def _date_time_field(payload: Payload, action: str, name: str) -> datetime:
    value = _required(payload, action, name)
    if not isinstance(value, str):
        raise PayloadViolation(action, name, f"must be a date-time string, got {value!r:.40}")
    parsed = date_time_problem(value)
    if isinstance(parsed, str):
        detail = f" ({parsed})" if parsed else ""
        raise PayloadViolation(
            action, name, f"is not an RFC 3339 date-time{detail}: {value!r:.40}"
        )
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
