"""BootNotification/Heartbeat payloads and the strict reading of the CSMS's answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ocpp_probe.messages import (
    BootResponse,
    BootStatus,
    PayloadViolation,
    boot_notification_payload,
    parse_boot_response,
    parse_date_time,
    parse_heartbeat_response,
)
from ocpp_probe.versions import OcppVersion

GOOD = {"status": "Accepted", "currentTime": "2025-03-01T12:00:00.123Z", "interval": 300}


def test_boot_payload_1_6() -> None:
    assert boot_notification_payload(OcppVersion.V16, "M", "V") == {
        "chargePointVendor": "V",
        "chargePointModel": "M",
    }


@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V21])
def test_boot_payload_2_x(version: OcppVersion) -> None:
    assert boot_notification_payload(version, "M", "V") == {
        "reason": "PowerUp",
        "chargingStation": {"model": "M", "vendorName": "V"},
    }


def test_accepted_response_is_read() -> None:
    parsed = parse_boot_response(GOOD, OcppVersion.V16)
    assert parsed == BootResponse(
        BootStatus.ACCEPTED, 300, datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
    )


def test_2_x_status_info_reason_code_is_kept() -> None:
    payload = dict(GOOD, status="Rejected", statusInfo={"reasonCode": "UnknownStation"})
    assert parse_boot_response(payload, OcppVersion.V201).reason_code == "UnknownStation"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"status": None}, "status", "is missing"),
        ({"currentTime": None}, "currentTime", "is missing"),
        ({"interval": None}, "interval", "is missing"),
        ({"status": "accepted"}, "status", "must be Accepted, Pending or Rejected"),
        ({"status": 1}, "status", "must be Accepted, Pending or Rejected"),
        ({"interval": "300"}, "interval", "must be an integer"),
        ({"interval": 300.5}, "interval", "must be an integer"),
        ({"interval": True}, "interval", "must be an integer"),
        ({"currentTime": 1700000000}, "currentTime", "must be a date-time string"),
        ({"currentTime": "yesterday"}, "currentTime", "is not an RFC 3339 date-time"),
        ({"currentTime": "2025-03-01"}, "currentTime", "is not an RFC 3339 date-time"),
        ({"currentTime": "2025-13-01T00:00:00Z"}, "currentTime", "is not an RFC 3339 date-time"),
    ],
)
def test_bad_boot_responses_name_the_field(change: dict, field: str, problem: str) -> None:
    payload = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(PayloadViolation) as caught:
        parse_boot_response(payload, OcppVersion.V16)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"BootNotification response field '{field}' {problem}")


def test_heartbeat_response_needs_current_time() -> None:
    with pytest.raises(PayloadViolation) as caught:
        parse_heartbeat_response({})
    assert str(caught.value) == "Heartbeat response field 'currentTime' is missing"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T12:00:00Z", datetime(2025, 3, 1, 12, tzinfo=timezone.utc)),
        ("2025-03-01T14:00:00+02:00", datetime(2025, 3, 1, 12, tzinfo=timezone.utc)),
        ("2025-03-01T12:00:00", datetime(2025, 3, 1, 12, tzinfo=timezone.utc)),  # read as UTC
        ("2025-03-01t12:00:00.5z", datetime(2025, 3, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2025-03-01T12:00:00.123456789Z", datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2025-03-01T13:30:00.12+0130", datetime(2025, 3, 1, 12, 0, 0, 120000, tzinfo=timezone.utc)),
    ],
)
def test_date_times_in_the_forms_csms_send(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected


@pytest.mark.parametrize("text", ["", "2025-03-01", "12:00:00", "2025-03-01T25:00:00Z", "now"])
def test_not_date_times(text: str) -> None:
    assert parse_date_time(text) is None
