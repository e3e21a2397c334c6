"""BootNotification/Heartbeat payloads and the strict reading of the CSMS's answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

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
def test_bad_boot_responses_name_the_field(change: dict[str, Any], field: str, problem: str) -> None:
    payload = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(PayloadViolation) as caught:
        parse_boot_response(payload, OcppVersion.V16)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"BootNotification response field '{field}' {problem}")


def test_heartbeat_response_needs_current_time() -> None:
    with pytest.raises(PayloadViolation) as caught:
        parse_heartbeat_response({})
    assert str(caught.value) == "Heartbeat response field 'currentTime' is missing"


UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T12:00:00Z", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01T14:00:00+02:00", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01t12:00:00.5z", datetime(2025, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        # Any number of fraction digits; beyond microseconds they are cut, never rounded up.
        ("2025-03-01T12:00:00.1Z", datetime(2025, 3, 1, 12, 0, 0, 100000, tzinfo=UTC)),
        ("2025-03-01T12:00:00.12Z", datetime(2025, 3, 1, 12, 0, 0, 120000, tzinfo=UTC)),
        ("2025-03-01T12:00:00.1234Z", datetime(2025, 3, 1, 12, 0, 0, 123400, tzinfo=UTC)),
        ("2025-03-01T12:00:00.123456789Z", datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2025-03-01T12:00:00.9999999999999Z", datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC)),
        # Leap seconds (RFC 3339 section 5.7 examples): the instant after :59.
        ("1990-12-31T23:59:60Z", datetime(1991, 1, 1, tzinfo=UTC)),
        ("1990-12-31T15:59:60-08:00", datetime(1991, 1, 1, tzinfo=UTC)),
        ("2016-12-31T23:59:60.5Z", datetime(2017, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        # Any offset, including odd ones, -00:00 (unknown local offset) and +23:59.
        ("2025-03-01T13:30:00.12+01:30", datetime(2025, 3, 1, 12, 0, 0, 120000, tzinfo=UTC)),
        ("1937-01-01T12:00:27.87+00:20", datetime(1937, 1, 1, 11, 40, 27, 870000, tzinfo=UTC)),
        ("2025-03-01T12:00:00-00:00", datetime(2025, 3, 1, 12, tzinfo=UTC)),
        ("2025-03-01T00:00:00+23:59", datetime(2025, 2, 28, 0, 1, tzinfo=UTC)),
        ("2025-02-28T22:00:00-05:45", datetime(2025, 3, 1, 3, 45, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_date_times_rfc_3339_allows(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected
    # The same value through a whole BootNotification answer, converted the same way.
    parsed = parse_boot_response(dict(GOOD, currentTime=text), OcppVersion.V201)
    assert parsed.current_time == expected
    assert parsed.current_time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("2025-03-01T12:00:00", " (no offset; RFC 3339 needs Z or one like +01:00)"),
        ("2025-03-01T12:00:00.5", " (no offset; RFC 3339 needs Z or one like +01:00)"),
        ("2025-03-01T13:30:00+0130", " (offset without a colon; RFC 3339 needs one like +01:00)"),
        ("2025-03-01 12:00:00Z", " (date and time separated by a space, not T)"),
        ("2025-03-01T25:00:00Z", " (time of day out of range)"),
        ("2025-03-01T12:60:00Z", " (time of day out of range)"),
        ("2025-03-01T12:00:61Z", " (time of day out of range)"),
        ("2025-03-01T12:00:00+24:00", " (offset out of range)"),
        ("2025-03-01T12:00:00+01:60", " (offset out of range)"),
        ("2025-02-29T12:00:00Z", " (no such date)"),
        ("2025-13-01T00:00:00Z", " (no such date)"),
        ("9999-12-31T23:59:59-23:59", " (out of the representable range)"),
        ("2025-03-01T12:00:00.Z", ""),
        ("2025-03-01T12:00Z", ""),
        ("2025-03-01", ""),
        ("12:00:00", ""),
        ("now", ""),
        ("", ""),
        ("\uff12\uff10\uff12\uff15-03-01T12:00:00Z", ""),  # fullwidth digits are not DIGIT
        ("2025-03-01T12:00:00Z\n", ""),
    ],
)
def test_what_rfc_3339_forbids_is_a_violation_naming_the_field(text: str, detail: str) -> None:
    assert parse_date_time(text) is None
    with pytest.raises(PayloadViolation) as caught:
        parse_heartbeat_response({"currentTime": text})
    assert caught.value.field == "currentTime"
    assert str(caught.value) == (
        f"Heartbeat response field 'currentTime' is not an RFC 3339 date-time{detail}: {text!r:.40}"
    )
