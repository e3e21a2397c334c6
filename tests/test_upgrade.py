"""The HTTP upgrade request and the judging of the answer, without sockets."""

from __future__ import annotations

import base64

import pytest

from ocpp_probe.failures import FailureKind
from ocpp_probe.upgrade import (
    HttpHead,
    UpgradeRefused,
    accept_for,
    basic_authorization,
    build_request,
    head_end,
    host_header,
    judge_response,
    parse_head,
    redacted_request,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
NO_SUBPROTOCOL = FailureKind.NO_SUBPROTOCOL
BAD_HANDSHAKE = FailureKind.BAD_HANDSHAKE


def good_head(**overrides: str) -> HttpHead:
    headers = {
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-accept": accept_for(KEY),
        "sec-websocket-protocol": "ocpp1.6",
    }
    headers.update(overrides)
    return HttpHead(101, "Switching Protocols", {k: v for k, v in headers.items() if v})


def test_accept_matches_rfc_6455_example() -> None:
    assert accept_for(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_request_offers_exactly_one_subprotocol() -> None:
    request = build_request("/ocpp/CP1", "csms:9000", "ocpp2.0.1", KEY).decode()
    lines = request.split("\r\n")
    assert lines[0] == "GET /ocpp/CP1 HTTP/1.1"
    assert "Host: csms:9000" in lines
    assert "Sec-WebSocket-Protocol: ocpp2.0.1" in lines
    assert "Sec-WebSocket-Version: 13" in lines
    assert f"Sec-WebSocket-Key: {KEY}" in lines
    assert request.endswith("\r\n\r\n")
    assert "Authorization" not in request


def test_basic_auth_is_identity_and_utf8_password() -> None:
    value = basic_authorization("CP 1", "pässwörd:x")
    assert value.startswith("Basic ")
    assert base64.b64decode(value[6:]).decode("utf-8") == "CP 1:pässwörd:x"


def test_redacted_request_hides_credentials() -> None:
    request = build_request("/x", "h", "ocpp1.6", KEY, basic_authorization("CP", "secret-pw"))
    shown = redacted_request(request)
    assert "Authorization: <redacted>" in shown
    assert base64.b64encode(b"CP:secret-pw").decode() not in shown


@pytest.mark.parametrize(
    ("host", "port", "secure", "expected"),
    [("a", 80, False, "a"), ("a", 443, True, "a"), ("a", 443, False, "a:443"), ("::1", 9, False, "[::1]:9")],
)
def test_host_header_leaves_out_default_ports(host: str, port: int, secure: bool, expected: str) -> None:
    assert host_header(host, port, secure) == expected


def test_parse_head_joins_repeated_headers() -> None:
    head = parse_head(b"HTTP/1.1 101 Switching Protocols\r\nX-A: 1\r\nx-a: 2\r\nUpgrade: websocket\r\n\r\n")
    assert head.status == 101
    assert head.header("x-a") == "1, 2"
    assert head.header("Upgrade") == "websocket"


def test_head_end_finds_the_blank_line() -> None:
    assert head_end(b"HTTP/1.1 101 OK\r\n\r\n\x81\x00") == 19
    assert head_end(b"HTTP/1.1 101 OK\r\n") == -1


@pytest.mark.parametrize("data", [b"SSH-2.0-OpenSSH_9.2\r\n\r\n", b"\x16\x03\x01\x00\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n"])
def test_not_http_is_refused(data: bytes) -> None:
    with pytest.raises(UpgradeRefused) as caught:
        parse_head(data)
    assert caught.value.reason.startswith("server did not answer with HTTP")
    assert caught.value.kind is BAD_HANDSHAKE


def test_good_response_gives_the_subprotocol() -> None:
    assert judge_response(good_head(), KEY, "ocpp1.6", password_sent=False) == "ocpp1.6"


@pytest.mark.parametrize(
    ("head", "message", "kind"),
    [
        (good_head(**{"sec-websocket-protocol": ""}), "selected no subprotocol (offered ocpp1.6)", NO_SUBPROTOCOL),
        (good_head(**{"sec-websocket-protocol": "ocpp2.0.1"}), "selected subprotocol 'ocpp2.0.1', not the offered ocpp1.6",
         FailureKind.WRONG_SUBPROTOCOL),
        (good_head(**{"sec-websocket-accept": "AAAA"}), "wrong Sec-WebSocket-Accept", BAD_HANDSHAKE),
        (good_head(**{"sec-websocket-accept": ""}), "lacks Sec-WebSocket-Accept", BAD_HANDSHAKE),
        (good_head(upgrade=""), "lacks 'Upgrade: websocket'", BAD_HANDSHAKE),
        (good_head(connection="keep-alive"), "lacks 'Connection: Upgrade'", BAD_HANDSHAKE),
        (good_head(**{"sec-websocket-extensions": "permessage-deflate"}), "extension the probe did not offer",
         BAD_HANDSHAKE),
    ],
)
def test_bad_101_responses_are_told_apart(head: HttpHead, message: str, kind: FailureKind) -> None:
    with pytest.raises(UpgradeRefused) as caught:
        judge_response(head, KEY, "ocpp1.6", password_sent=False)
    assert message in caught.value.reason
    assert caught.value.status == 101
    assert caught.value.kind is kind


@pytest.mark.parametrize(
    ("status", "password_sent", "message", "kind"),
    [
        (401, True, "HTTP 401 unauthorized: credentials missing or refused", FailureKind.HTTP_AUTH),
        (401, False, "HTTP 401 unauthorized: the CSMS wants credentials; set OCPP_PASSWORD", FailureKind.HTTP_AUTH),
        (404, False, "HTTP 404 not found: unknown charge point identity or wrong path", FailureKind.HTTP_NOT_FOUND),
        (403, False, "HTTP 403 forbidden", FailureKind.HTTP_AUTH),
        (503, False, "HTTP 503 service unavailable", FailureKind.HTTP_STATUS),
        (200, False, "HTTP 200 OK", FailureKind.HTTP_STATUS),
        (418, False, "HTTP 418 I'm a teapot", FailureKind.HTTP_STATUS),
    ],
)
def test_non_101_status_is_explained(status: int, password_sent: bool, message: str, kind: FailureKind) -> None:
    reason = {200: "OK", 418: "I'm a teapot"}.get(status, "x")
    with pytest.raises(UpgradeRefused) as caught:
        judge_response(HttpHead(status, reason, {}), KEY, "ocpp1.6", password_sent)
    assert caught.value.reason.startswith(message)
    assert caught.value.status == status
    assert caught.value.kind is kind


def test_redirect_names_its_target() -> None:
    head = HttpHead(301, "Moved", {"location": "wss://new.example/ocpp/CP1"})
    with pytest.raises(UpgradeRefused) as caught:
        judge_response(head, KEY, "ocpp1.6", False)
    assert caught.value.reason == (
        "HTTP 301 redirect to wss://new.example/ocpp/CP1 (chargers do not follow redirects)"
    )
