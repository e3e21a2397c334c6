"""`ocpp-probe diagnose` at the upgrade: versions, paths and credentials, real peers first."""

from __future__ import annotations

import re

import pytest

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .peers.scenario_server import Peer, ScenarioServer
from .support.diagnose import diagnose, findings, http_date, only_201, serve_ocpp
from .support.runs import probe_in_process

SUGGEST_201 = "the CSMS serves only ocpp2.0.1: set OCPP_VERSION=2.0.1"


def test_ocpp_lib_serving_only_201_refuses_with_400() -> None:
    with OcppLibCsms(version="2.0.1") as csms:
        run = diagnose({"WS_URL": csms.url()})
    doc = run.doc
    assert run.code == 2
    assert doc["served_versions"] == ["ocpp2.0.1"]
    first = doc["upgrade_attempts"][0]
    assert (first["subprotocol"], first["status"], first["outcome"]) == ("ocpp1.6", 400, "refused")
    assert "invalid subprotocol" in first["body_excerpt"]
    assert first["headers"]["server"].startswith("Python/")
    assert any(
        t.startswith("the CSMS does not serve ocpp1.6 (HTTP 400") and t.endswith("it serves only ocpp2.0.1")
        for t in findings(doc, "upgrade", "FAIL")
    )
    assert doc["suggestions"] == [SUGGEST_201]
    # One BootNotification, for the version served, as the check reports it.
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]
    assert doc["ocpp"]["verdict"] == "OK" and doc["ocpp"]["subprotocol"] == "ocpp2.0.1"
    assert doc["ocpp_run_with"] == "OCPP_VERSION=2.0.1"
    # websockets negotiates permessage-deflate; the answer is reported.
    served = next(a for a in doc["upgrade_attempts"] if a["outcome"] == "served")
    assert served["deflate_answer"].startswith("permessage-deflate")


def test_ocpp_rpc_serving_only_201_answers_101_without_subprotocol() -> None:
    with OcppRpcCsms(protocols=["ocpp2.0.1"]) as csms:
        run = diagnose({"WS_URL": csms.url()})
    doc = run.doc
    assert run.code == 2
    assert doc["served_versions"] == ["ocpp2.0.1"]
    assert doc["upgrade_attempts"][0]["status"] == 101
    assert doc["upgrade_attempts"][0]["outcome"] == "no_subprotocol"
    assert (
        "the CSMS does not serve ocpp1.6 (CSMS accepted the WebSocket but selected no subprotocol "
        "(offered ocpp1.6)); it serves only ocpp2.0.1"
    ) in findings(doc, "upgrade", "FAIL")
    assert doc["suggestions"] == [SUGGEST_201]
    assert len(csms.of("boot")) == 1
    # ocpp-rpc does not negotiate compression, which OCPP 2.0.1 asks of a CSMS.
    assert (
        "ocpp2.0.1: the CSMS did not accept permessage-deflate, which OCPP 2.0.1 and 2.1 require "
        "a CSMS to support (RFC 7692)"
    ) in findings(doc, "upgrade", "WARN")


@pytest.mark.parametrize(
    ("style", "detail"),
    [
        ("400", "HTTP 400 bad request: the CSMS rejected the upgrade request"),
        ("404", "HTTP 404 not found: unknown charge point identity or wrong path in WS_URL"),
        ("403", "HTTP 403 forbidden: the CSMS refuses this charge point identity or client certificate"),
        ("close", "connection closed by the server before the upgrade response"),
    ],
)
def test_scripted_201_only_in_each_refusal_style(style: str, detail: str) -> None:
    with ScenarioServer(only_201(style)) as server:
        run = diagnose({"WS_URL": server.url()})
    doc = run.doc
    assert run.code == 2, run.stdout
    assert doc["served_versions"] == ["ocpp2.0.1"]
    assert doc["upgrade_attempts"][0]["detail"] == detail
    assert f"the CSMS does not serve ocpp1.6 ({detail}); it serves only ocpp2.0.1" in findings(
        doc, "upgrade", "FAIL"
    )
    assert doc["suggestions"] == [SUGGEST_201]
    assert doc["ocpp"]["verdict"] == "OK"
    boots = [p for p in server.peers if any(b'"BootNotification"' in data for _, data in p.received)]
    assert len(boots) == 1
    if style == "404":
        # A 404 is retried with a trailing slash before blaming the version.
        assert [a["path_variant"] for a in doc["upgrade_attempts"]][:2] == [
            "as configured",
            "with trailing slash",
        ]


def _slash_only(peer: Peer) -> None:
    headers = peer.read_request()
    path = headers["request-line"].split(" ")[1]
    if path.endswith("/"):
        serve_ocpp(peer, "ocpp1.6")
    else:
        peer.respond("404 Not Found", b"Not Found")


def test_path_that_needs_a_trailing_slash() -> None:
    with ScenarioServer(_slash_only) as server:
        run = diagnose({"WS_URL": server.url()})
    doc = run.doc
    assert run.code == 2
    assert "the path answers 404 as configured but works with trailing slash (/ocpp/CP-1/)" in findings(
        doc, "upgrade", "FAIL"
    )
    assert doc["suggestions"] == ["set WS_URL to the path with trailing slash (/ocpp/CP-1/)"]
    assert doc["ocpp"]["verdict"] == "OK"
    assert doc["ocpp"]["target"].endswith("/ocpp/CP-1/")


def test_404_with_and_without_slash_blames_the_identity() -> None:
    with ScenarioServer(lambda peer: peer.respond("404 Not Found", b"unknown")) as server:
        run = diagnose({"WS_URL": server.url()})
    doc = run.doc
    assert run.code == 2
    assert "the path answers 404 for this identity with and without a trailing slash" in findings(
        doc, "upgrade", "FAIL"
    )
    assert doc["suggestions"] == [
        "the path answers 404 for this identity with and without a trailing slash: check the identity "
        "is registered at the CSMS and the path in WS_URL "
        "(e.g. SteVe: /steve/websocket/CentralSystemService/<identity>)"
    ]
    assert doc["ocpp"] is None


def test_wrong_credentials() -> None:
    with OcppRpcCsms(protocols=["ocpp1.6"], password="right-secret") as csms:
        run = diagnose({"WS_URL": csms.url(), "OCPP_PASSWORD": "wrong-secret"})
    doc = run.doc
    assert run.code == 2
    variants = [(a["credentials"], a["credentials_used"], a["status"]) for a in doc["upgrade_attempts"][:2]]
    assert variants == [("as configured", True, 401), ("none", False, 401)]
    assert "the CSMS refuses the credentials (401 with them, 401 without)" in findings(doc, "upgrade", "FAIL")
    assert doc["suggestions"] == [
        "wrong credentials: check OCPP_PASSWORD for identity 'CP-1' at the CSMS "
        "(and that no proxy strips Authorization)"
    ]
    assert "wrong-secret" not in run.stdout
    assert [e for e in csms.of("boot")] == []


def test_missing_credentials() -> None:
    with OcppRpcCsms(protocols=["ocpp1.6"], password="right-secret") as csms:
        run = diagnose({"WS_URL": csms.url()})
    assert run.code == 2
    assert "the CSMS answers 401 without credentials" in findings(run.doc, "upgrade", "FAIL")
    assert "the CSMS wants credentials: set OCPP_PASSWORD (or OCPP_PASSWORD_FILE)" in run.doc["suggestions"]


KEY = "0123456789abcdefghij"  # the CSMS's AuthorizationKey: 20 bytes


def test_hex_authorization_key() -> None:
    hex_key = KEY.encode().hex()
    with OcppRpcCsms(protocols=["ocpp1.6"], password=KEY) as csms:
        run = diagnose({"WS_URL": csms.url(), "OCPP_PASSWORD": hex_key})
        fixed = probe_in_process(
            ["--json", "--password-hex"], {"WS_URL": csms.url(), "OCPP_PASSWORD": hex_key}
        )
    doc = run.doc
    assert run.code == 2
    lint = findings(doc, "settings", "WARN")
    assert lint == [
        "OCPP_PASSWORD: the password is 40 hexadecimal characters, the form an OCPP 1.6 AuthorizationKey "
        "takes in ChangeConfiguration; a CSMS may expect the 20 decoded bytes instead"
    ]
    assert (
        "the CSMS refuses the hex password but accepts its decoded bytes (the AuthorizationKey)"
        in findings(doc, "upgrade", "FAIL")
    )
    assert doc["suggestions"] == ["the CSMS accepts the decoded AuthorizationKey: set OCPP_PASSWORD_HEX=true"]
    assert doc["ocpp"]["verdict"] == "OK" and doc["ocpp_run_with"] == "OCPP_PASSWORD_HEX=true"
    assert hex_key not in run.stdout and KEY not in run.stdout
    # The suggested setting makes the check itself pass.
    assert fixed.code == 0, fixed.stdout
    assert len(csms.of("boot")) == 2  # one BootNotification per run: diagnose, then the check


def test_clock_ten_minutes_off() -> None:
    def script(peer: Peer) -> None:
        peer.read_request()
        serve_ocpp(peer, "ocpp1.6", offset_s=600, extra=f"Date: {http_date(600)}\r\n")

    with ScenarioServer(script) as server:
        run = diagnose({"WS_URL": server.url()})
    doc = run.doc
    assert run.code == 0  # without WARN_CLOCK_OFFSET the check itself passes
    assert 598 <= doc["clock"]["http_date_offset_s"] <= 602
    assert 598 <= doc["clock_offset_s"] <= 602
    warned = findings(doc, "clock", "WARN")
    shown = [
        re.fullmatch(r"(HTTP Date|OCPP currentTime): the CSMS clock is \+(\d+) s from this machine's", text)
        for text in warned
    ]
    assert [(m.group(1), 598 <= int(m.group(2)) <= 602) for m in shown if m] == [
        ("HTTP Date", True),
        ("OCPP currentTime", True),
    ]
    assert len(doc["suggestions"]) == 1
    said = re.fullmatch(
        r"your clock and the CSMS's differ by (\d+) s: sync this machine \(NTP\) or the CSMS's clock",
        doc["suggestions"][0],
    )
    assert said is not None and 598 <= int(said.group(1)) <= 602


def test_csms_calls_and_interval_are_reported() -> None:
    with OcppLibCsms(version="1.6", call_first=1, interval=120) as csms:
        run = diagnose({"WS_URL": csms.url()})
    doc = run.doc
    assert run.code == 0, run.stdout
    assert doc["ocpp"]["csms_calls"] == ["GetConfiguration"]
    assert doc["ocpp"]["boot"]["interval_s"] == 120
    [line] = findings(doc, "ocpp", "OK")
    assert line.startswith("ocpp1.6 BootNotification Accepted, interval 120 s, Heartbeat RTT ")
    assert line.endswith(" ms, CSMS CALLs: GetConfiguration")
    # Versions this CSMS does not serve are information, not problems, when 1.6 is configured.
    assert findings(doc, "upgrade", "WARN") == []
    assert doc["suggestions"] == []
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]
