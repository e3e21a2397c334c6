"""End to end against OCPP implementations nobody here wrote, on loopback.

The `ocpp` library (mobilityhouse) validates every message against the official OCA
JSON schemas; ocpp-rpc in strictMode validates with its own copy. A probe payload
that strays from the spec would be answered with a CALLERROR and fail these tests.
"""

from __future__ import annotations

import time

import pytest

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .support.runs import probe_in_process

VERSIONS = ["1.6", "2.0.1", "2.1"]
RPC_VERSIONS = ["1.6", "2.0.1"]  # what ocpp-rpc ships schemas for


def check(url: str, version: str, **env: str):  # type: ignore[no-untyped-def]
    return probe_in_process(["--json"], {"WS_URL": url, "OCPP_VERSION": version, **env})


@pytest.mark.parametrize("version", VERSIONS)
def test_ocpp_library_accepted(version: str) -> None:
    with OcppLibCsms(version=version) as csms:
        run = check(csms.url(), version)
    doc = run.doc
    assert run.code == 0, doc
    assert doc["verdict"] == "OK"
    assert doc["subprotocol"] == f"ocpp{version}"
    assert doc["boot"]["status"] == "Accepted" and doc["boot"]["interval_s"] == 300
    assert list(doc["timings_ms"]) == ["resolve", "connect", "upgrade", "boot", "heartbeat", "close"]
    assert doc["heartbeat_rtt_ms"] > 0
    assert abs(doc["clock_offset_s"]) < 2  # the peer stamps whole seconds
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]
    assert csms.seen.identities == ["CP-1"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_ocpp_library_not_accepted_is_critical_without_heartbeat(version: str, status: str) -> None:
    with OcppLibCsms(version=version, boot_status=status) as csms:
        run = check(csms.url(), version)
    assert run.code == 2
    assert run.doc["failed_step"] == "boot"
    assert run.doc["failure_kind"] == f"boot_{status.lower()}"
    assert run.doc["reason"].startswith(f"BootNotification {status}")
    assert run.doc["boot"]["status"] == status
    assert csms.seen.actions == ["BootNotification"]  # a Pending/Rejected station sends no Heartbeat


def test_pending_counts_as_healthy_when_asked() -> None:
    with OcppLibCsms(version="2.0.1", boot_status="Pending") as csms:
        run = check(csms.url(), "2.0.1", ACCEPT_PENDING="true")
    assert run.code == 0
    assert run.doc["boot"]["status"] == "Pending"
    assert run.doc["heartbeat_rtt_ms"] is None
    assert "heartbeat" not in run.doc["timings_ms"]
    assert csms.seen.actions == ["BootNotification"]


@pytest.mark.parametrize(("version", "code"), [("1.6", "NotImplemented"), ("2.0.1", "NotSupported"), ("2.1", "NotSupported")])
def test_ocpp_library_csms_calls_first(version: str, code: str) -> None:
    with OcppLibCsms(version=version, call_first=3) as csms:
        run = check(csms.url(), version)
    assert run.code == 0, run.doc
    action = "GetConfiguration" if version == "1.6" else "GetBaseReport"
    assert run.doc["csms_calls"] == [action] * 3
    assert csms.seen.call_first_errors == [code] * 3


def test_ocpp_library_boot_payload_is_what_was_configured() -> None:
    with OcppLibCsms(version="2.0.1") as csms:
        run = check(csms.url(), "2.0.1", CHARGE_POINT_MODEL="Model-X", CHARGE_POINT_VENDOR="Acme Charging")
    assert run.code == 0
    assert csms.seen.boot_payloads == [
        {"reason": "PowerUp", "charging_station": {"model": "Model-X", "vendor_name": "Acme Charging"}}
    ]


@pytest.mark.parametrize(
    ("password", "code", "reason"),
    [
        ("right-password-16", 0, None),
        ("wrong-password-16", 2, "HTTP 401 unauthorized: credentials missing or refused"),
        (None, 2, "HTTP 401 unauthorized: the CSMS wants credentials; set OCPP_PASSWORD"),
    ],
)
def test_ocpp_library_basic_auth(password: str | None, code: int, reason: str | None) -> None:
    env = {"OCPP_PASSWORD": password} if password else {}
    with OcppLibCsms(password="right-password-16") as csms:
        run = probe_in_process(
            ["--json", "--url", csms.url("x").rsplit("/", 1)[0] + "/", "--id", "CP 7/ü"], env
        )
    assert run.code == code
    if reason is None:
        assert run.doc["reason"] is None
        assert csms.seen.identities == ["CP%207%2F%C3%BC"]
    else:
        assert run.doc["reason"].startswith(reason)
        assert run.doc["failed_step"] == "upgrade" and run.doc["http_status"] == 401
        assert run.doc["failure_kind"] == "http_auth"


@pytest.mark.parametrize("version", RPC_VERSIONS)
def test_ocpp_rpc_strict_accepted(version: str) -> None:
    with OcppRpcCsms(protocols=[f"ocpp{version}"]) as csms:
        run = check(csms.url(), version)
        time.sleep(0.2)  # let the peer report the close
        failures = csms.of("strictValidationFailure")
        closes = csms.of("close")
        boots = csms.of("boot")
    assert run.code == 0, run.doc
    assert run.doc["subprotocol"] == f"ocpp{version}"
    assert failures == []
    assert closes == [{"event": "close", "code": 1000}]
    assert len(boots) == 1


@pytest.mark.parametrize("version", RPC_VERSIONS)
@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_ocpp_rpc_strict_not_accepted(version: str, status: str) -> None:
    with OcppRpcCsms(protocols=[f"ocpp{version}"], boot_status=status) as csms:
        run = check(csms.url(), version)
        heartbeats = csms.of("heartbeat")
    assert run.code == 2
    assert (run.doc["failed_step"], run.doc["boot"]["status"]) == ("boot", status)
    assert run.doc["failure_kind"] == f"boot_{status.lower()}"
    assert heartbeats == []


@pytest.mark.parametrize(("version", "code"), [("1.6", "NotImplemented"), ("2.0.1", "NotSupported")])
def test_ocpp_rpc_strict_calls_first(version: str, code: str) -> None:
    with OcppRpcCsms(protocols=[f"ocpp{version}"], call_first=2) as csms:
        run = check(csms.url(), version)
        time.sleep(0.1)
        errors = csms.of("callFirstError")
    assert run.code == 0, run.doc
    assert len(run.doc["csms_calls"]) == 2
    assert [e["code"] for e in errors] == [code, code]


@pytest.mark.parametrize(
    ("password", "code", "status"),
    [("right-password-16", 0, None), ("wrong-password-16", 2, 401), (None, 2, 401)],
)
def test_ocpp_rpc_basic_auth(password: str | None, code: int, status: int | None) -> None:
    env = {"OCPP_PASSWORD": password} if password else {}
    with OcppRpcCsms(password="right-password-16") as csms:
        run = check(csms.url("CP 1"), "1.6", **env)
        time.sleep(0.1)
        auths = csms.of("auth")
    assert run.code == code
    assert run.doc["http_status"] == status
    assert run.doc["failure_kind"] == (None if status is None else "http_auth")
    assert auths[0]["identity"] == "CP 1"
    assert auths[0]["password_given"] is (password is not None)


def test_ocpp_rpc_rejects_a_version_it_does_not_offer() -> None:
    with OcppRpcCsms(protocols=["ocpp1.6"]) as csms:
        run = check(csms.url(), "2.0.1")
    # ocpp-rpc (like the `ws` package under it) completes the upgrade without a
    # subprotocol; a charger would then speak the wrong dialect, so this fails.
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["http_status"] == 101
    assert run.doc["failure_kind"] == "no_subprotocol"
    assert run.doc["reason"] == (
        "CSMS accepted the WebSocket but selected no subprotocol (offered ocpp2.0.1)"
    )


def test_a_flood_of_csms_calls_is_answered_and_listed_within_bounds() -> None:
    with OcppLibCsms(version="1.6", call_first=60) as csms:
        run = check(csms.url(), "1.6")
    assert run.code == 0, run.doc
    assert csms.seen.call_first_errors == ["NotImplemented"] * 60  # every one answered
    assert run.doc["csms_calls"] == ["GetConfiguration"] * 50  # the report keeps 50
