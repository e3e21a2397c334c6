"""The probe against servers that are broken or hostile: one row per misbehaviour.

Each row names the server's behaviour, the exit code, the failed step, a piece of
the one-line reason, and a time bound: the check's deadline + 0.5 s where the
server stalls, much less where the failure is immediate. Every row also asserts
what holds for all of them: no traceback, no "internal error", one line, nothing
on stderr without -v.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from ocpp_probe.check import CLOSE_BUDGET_S

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.scenario_server import OP_BINARY, OP_CONT, OP_PING, OP_TEXT, Peer, ScenarioServer, Script
from .support.net import black_hole, refusing_port
from .support.pki import Pki
from .support.runs import timed_probe
from .support.scripts import (
    HEARTBEAT_OK,
    S101,
    answers_late,
    big_fragmented,
    big_frame_header,
    boot_answer,
    boot_fragmented,
    boot_reply,
    boot_with,
    boot_without,
    booted,
    close_code,
    csms_calls_first,
    csms_calls_seen,
    drip_boot,
    drip_response,
    healthy,
    heartbeat_reply,
    http_status_is,
    lib_calls_answered,
    over_tls,
    ping_first,
    pong_seen,
    raw_after_request,
    read_then_silent,
    result_frame,
    silent,
    status,
    steps,
    text,
    unknown_then_ok,
    upgraded,
)

DEADLINE_S = 2.0  # PROBE_TIMEOUT of every row
STALL = DEADLINE_S + 0.5  # bound where the server stalls: the deadline guarantee
IMMEDIATE = 1.0  # bound where the failure needs no waiting
RESPONSE_MS = 400  # HEARTBEAT_TIMEOUT of the per-response rows
PER_RESPONSE = RESPONSE_MS / 1000 + 0.5
# A verdict is known before the close handshake, which gets at most CLOSE_BUDGET_S.
CLOSE_BOUND = CLOSE_BUDGET_S + 0.5


@dataclass
class Row:
    id: str
    script: Script | None
    code: int
    step: str | None
    message: str
    bound: float
    env: dict[str, str] = field(default_factory=dict)
    tls: str | None = None  # server certificate flavour; the script runs inside TLS
    tls_options: dict[str, Any] = field(default_factory=dict)
    wss: bool = False  # wss:// URL even though the script does no TLS itself
    special: str | None = None  # a target that is not a scenario server
    peer: Callable[[], OcppLibCsms] | None = None  # a real CSMS instead of a script
    check: Callable[[Any, dict[str, Any]], None] | None = None  # more assertions


_STATUS_TEXT = {
    200: ("200 OK", "HTTP 200 OK: a plain HTTP answer, not a WebSocket upgrade"),
    301: ("301 Moved Permanently\r\nLocation: https://elsewhere.example/ocpp", "redirect to https://elsewhere.example/ocpp"),
    400: ("400 Bad Request", "HTTP 400 bad request"),
    401: ("401 Unauthorized", "HTTP 401 unauthorized"),
    403: ("403 Forbidden", "HTTP 403 forbidden"),
    404: ("404 Not Found", "HTTP 404 not found"),
    500: ("500 Internal Server Error", "HTTP 500 internal server error"),
    503: ("503 Service Unavailable", "HTTP 503 service unavailable"),
}


def _status_rows() -> list[Row]:
    rows = []
    for code, (line, message) in _STATUS_TEXT.items():
        for body in (b"", b"<html><body>nope</body></html>\n"):
            rows.append(
                Row(
                    f"http-{code}-{'body' if body else 'empty'}",
                    status(line, body),
                    2,
                    "upgrade",
                    message,
                    IMMEDIATE,
                    check=http_status_is(code),
                )
            )
    return rows


ROWS: list[Row] = [
    # -- network ---------------------------------------------------------------
    Row("refused", None, 2, "connect", "connection refused by 127.0.0.1:", IMMEDIATE, special="refused"),
    Row("unresolvable", None, 2, "resolve", "cannot resolve csms.invalid", IMMEDIATE, special="invalid"),
    Row("black-hole", None, 2, "connect", "no answer from 127.0.0.1:", STALL, special="black-hole"),
    Row("accept-then-silence-ws", silent, 2, "upgrade", "upgrade response timed out before any", STALL),
    Row("accept-then-silence-wss", silent, 2, "tls", "TLS handshake timed out after 2 s", STALL, wss=True),
    Row("silence-after-tls", silent, 2, "upgrade", "upgrade response timed out before any", STALL,
        tls="good"),
    Row("silence-after-upgrade-request", read_then_silent, 2, "upgrade", "timed out before any", STALL),
    Row("drip-http-response", drip_response, 2, "upgrade", "upgrade response timed out after", STALL),
    Row("drip-boot-frame", drip_boot, 2, "boot", "total deadline of 2 s reached waiting for the Boot", STALL),
    Row("silence-after-101", upgraded(silent), 2, "boot", "total deadline of 2 s reached", STALL),
    Row("silence-after-boot", booted(silent), 2, "heartbeat", "waiting for the Heartbeat response", STALL),
    Row("reset-during-tls-handshake", steps(Peer.read_some, Peer.reset), 2, "tls",
        "TLS handshake failed: connection reset by the server", IMMEDIATE, wss=True),
    # Over TLS, OpenSSL reports a reset after the handshake as the stream ending.
    Row("reset-after-tls", steps(Peer.read_request, Peer.reset), 2, "upgrade",
        "connection closed by the server before the upgrade response", IMMEDIATE, tls="good"),
    Row("reset-after-upgrade-request", steps(Peer.read_request, Peer.reset), 2, "upgrade",
        "connection reset by the server", IMMEDIATE),
    Row("reset-after-101", upgraded(steps(Peer.read_call, Peer.reset)), 2, "boot",
        "connection reset by the server", IMMEDIATE),
    Row("reset-after-boot", booted(steps(Peer.read_call, Peer.reset)), 2, "heartbeat",
        "connection reset by the server", IMMEDIATE),
    Row("reset-mid-response", steps(Peer.read_request, lambda p: p.send(S101 + b"Upgrade: web"), Peer.reset), 2,
        "upgrade", "upgrade failed: connection reset by the server", IMMEDIATE),
    Row("fin-after-upgrade-request", steps(Peer.read_request, Peer.hang_up), 2, "upgrade",
        "connection closed by the server before the upgrade response", IMMEDIATE),
    Row("fin-after-101", upgraded(steps(Peer.read_call, Peer.hang_up)), 2, "boot",
        "closed the connection without a WebSocket close frame, before the BootNotification", IMMEDIATE),
    Row("no-answer-to-close", booted(steps(lambda p: p.answer(HEARTBEAT_OK), Peer.hold)), 0, None, "",
        CLOSE_BOUND),
    # -- HTTP upgrade -------------------------------------------------------------
    Row("101-without-subprotocol", lambda p: p.accept(protocol=None), 2, "upgrade",
        "selected no subprotocol (offered ocpp1.6)", IMMEDIATE),
    Row("101-other-subprotocol", lambda p: p.accept(protocol="ocpp2.0.1"), 2, "upgrade",
        "selected subprotocol 'ocpp2.0.1', not the offered ocpp1.6", IMMEDIATE),
    Row("101-bad-accept", lambda p: p.accept(accept="dGhlIHNhbXBsZSBub25jZQ=="), 2, "upgrade",
        "wrong Sec-WebSocket-Accept", IMMEDIATE),
    Row("101-extension", lambda p: p.accept(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        2, "upgrade", "extension the probe did not offer", IMMEDIATE),
    *_status_rows(),
    Row("not-http-banner", raw_after_request(b"SSH-2.0-OpenSSH_9.6\r\n"), 2, "upgrade",
        "server did not answer with HTTP: 'SSH-2.0-OpenSSH_9.6'", IMMEDIATE),
    Row("not-http-binary", raw_after_request(b"\x00\x01\x02\x03garbage"), 2, "upgrade",
        "server did not answer with HTTP", IMMEDIATE),
    Row("headers-without-end", raw_after_request(S101 + b"Upgrade: websocket\r\n"),
        2, "upgrade", "upgrade response timed out after 54 bytes", STALL),
    Row("huge-header-block", raw_after_request(
        S101 + b"X-Filler: " + b"a" * 100_000 + b"\r\n\r\n"),
        2, "upgrade", "header block is over the 65536-byte limit", IMMEDIATE),
    Row("endless-headers", raw_after_request(
        S101 + b"X-Filler: aaaaaaaaaaaaaaaa\r\n" * 8000),
        2, "upgrade", "header block is over the 65536-byte limit", IMMEDIATE),
    Row("malformed-header-line", raw_after_request(S101 + b"no colon here\r\n\r\n"),
        2, "upgrade", "malformed HTTP header line", IMMEDIATE),
    # -- WebSocket frames ---------------------------------------------------------
    Row("text-not-json", boot_reply(lambda c: text("hello, charger")), 2, "boot",
        "protocol violation: frame is not JSON", IMMEDIATE),
    Row("invalid-utf8", boot_reply(lambda c: text(b'[3, "\xff\xfe"]')), 2, "boot",
        "text message that is not valid UTF-8", IMMEDIATE),
    Row("binary-frame", boot_reply(lambda c: Peer.frame(OP_BINARY, b"[3]")), 2, "boot",
        "binary message; OCPP-J uses text", IMMEDIATE),
    Row("fragmented-message", boot_fragmented(with_ping=False), 0, None, "", IMMEDIATE),
    Row("fragmented-with-ping-inside", boot_fragmented(with_ping=True), 0, None, "", IMMEDIATE,
        check=pong_seen),
    Row("huge-frame-header", boot_reply(big_frame_header), 2, "boot",
        "1099511627776-byte frame, over the 1048576-byte limit", IMMEDIATE),
    Row("huge-fragmented-message", boot_reply(big_fragmented), 2, "boot",
        "over the 1048576-byte limit (fragmented)", IMMEDIATE),
    Row("ping-answered", ping_first, 0, None, "", IMMEDIATE, check=pong_seen),
    *[
        Row(f"close-{code}-before-boot-answer", close_code(code), 2, "boot",
            f"CSMS closed the WebSocket with {code} ({meaning}): bye, before the BootNotification",
            IMMEDIATE)
        for code, meaning in ((1000, "normal closure"), (1002, "protocol error"),
                              (1008, "policy violation"), (1011, "internal error"))
    ],
    Row("close-without-code", close_code(None), 2, "boot", "closed the WebSocket (no status code)",
        IMMEDIATE),
    Row("close-1011-before-heartbeat-answer", booted(steps(Peer.read_call, lambda p: p.close_with(1011))), 2,
        "heartbeat", "closed the WebSocket with 1011 (internal error), before the Heartbeat", IMMEDIATE),
    Row("close-invalid-code", boot_reply(lambda c: Peer.frame(0x8, struct.pack("!H", 999))), 2, "boot",
        "invalid close code 999", IMMEDIATE),
    Row("masked-frame", boot_reply(lambda c: Peer.frame(OP_TEXT, b"[]", mask=True)), 2, "boot",
        "masked frame", IMMEDIATE),
    Row("rsv-bits", boot_reply(lambda c: Peer.frame(OP_TEXT, b"[]", rsv=4)), 2, "boot",
        "reserved bits", IMMEDIATE),
    Row("reserved-opcode", boot_reply(lambda c: Peer.frame(0x3, b"[]")), 2, "boot",
        "reserved opcode 3", IMMEDIATE),
    Row("continuation-first", boot_reply(lambda c: Peer.frame(OP_CONT, b"[]")), 2, "boot",
        "continuation frame with nothing to continue", IMMEDIATE),
    Row("new-message-inside-fragmented", boot_reply(
        lambda c: Peer.frame(OP_TEXT, b"[3,", fin=False) + Peer.frame(OP_TEXT, b"[]")), 2, "boot",
        "new message inside a fragmented one", IMMEDIATE),
    Row("fragmented-ping", boot_reply(lambda c: Peer.frame(OP_PING, b"x", fin=False)), 2, "boot",
        "fragmented or oversized control frame", IMMEDIATE),
    Row("oversized-ping", boot_reply(lambda c: Peer.frame(OP_PING, b"x" * 200)), 2, "boot",
        "fragmented or oversized control frame", IMMEDIATE),
    # -- OCPP -----------------------------------------------------------------
    Row("json-object", boot_reply(lambda c: text('{"status": "Accepted"}')), 2, "boot",
        "frame is a JSON object, expected an array", IMMEDIATE),
    Row("json-empty-array", boot_reply(lambda c: text("[]")), 2, "boot", "frame is an empty array",
        IMMEDIATE),
    Row("message-type-not-number", boot_reply(lambda c: text('["3", "x", {}]')), 2, "boot",
        "message type is a JSON string, expected a number", IMMEDIATE),
    Row("unknown-message-type-ignored", unknown_then_ok(lambda c: text(f'[7, "{c[1]}", {{}}]')), 0, None,
        "", IMMEDIATE),
    Row("callresult-unknown-id-ignored", unknown_then_ok(lambda c: result_frame(["", "nobody"], {})), 0,
        None, "", IMMEDIATE),
    Row("callresult-payload-not-object", boot_reply(lambda c: text(f'[3, "{c[1]}", [1, 2]]')), 2, "boot",
        "CALLRESULT payload is a JSON array, expected an object", IMMEDIATE),
    Row("callresult-wrong-length", boot_reply(lambda c: text(f'[3, "{c[1]}", {{}}, {{}}]')), 2, "boot",
        "CALLRESULT frame has 4 elements, expected 3", IMMEDIATE),
    Row("message-id-not-string", boot_reply(lambda c: text("[3, 17, {}]")), 2, "boot",
        "CALLRESULT message id is a JSON number, expected a string", IMMEDIATE),
    Row("callerror-boot", boot_reply(
        lambda c: text(f'[4, "{c[1]}", "InternalError", "database down", {{}}]')), 2, "boot",
        "CSMS answered BootNotification with CALLERROR InternalError: database down", IMMEDIATE),
    Row("callerror-heartbeat", heartbeat_reply(
        lambda c: text(f'[4, "{c[1]}", "NotImplemented", "", {{}}]')), 2, "heartbeat",
        "CSMS answered Heartbeat with CALLERROR NotImplemented", IMMEDIATE),
    Row("callerror-with-control-characters", boot_reply(
        lambda c: text(f'[4, "{c[1]}", "InternalError", "line one\\nline two\\u001b[2J", {{}}]')), 2, "boot",
        "CALLERROR InternalError: line one\\x0aline two\\x1b[2J", IMMEDIATE),
    Row("http-reason-with-escape", status("599 Weird\x1b[31m red", b""), 2, "upgrade",
        "HTTP 599 Weird\\x1b[31m red", IMMEDIATE),
    Row("http-reason-huge", status("599 " + "x" * 20000, b""), 2, "upgrade", "HTTP 599 xxxx", IMMEDIATE),
    Row("reason-code-huge", boot_answer(boot_with(status="Rejected", statusInfo={"reasonCode": "r" * 50000})),
        2, "boot", "BootNotification Rejected (rrrr", IMMEDIATE, env={"OCPP_VERSION": "2.0.1"}),
    Row("call-action-huge", boot_reply(lambda c: text(f'[2, "x", "{"A" * 30000}", []]')), 2, "boot",
        "CALL AAAA", IMMEDIATE),
    Row("callerror-details-not-object", boot_reply(
        lambda c: text(f'[4, "{c[1]}", "InternalError", "x", []]')), 2, "boot",
        "CALLERROR errorDetails is a JSON array, expected an object", IMMEDIATE),
    Row("pending", None, 2, "boot", "BootNotification Pending: the CSMS has not accepted this station yet",
        IMMEDIATE, peer=lambda: OcppLibCsms(boot_status="Pending")),
    Row("pending-accepted-by-setting", None, 0, None, "", IMMEDIATE, env={"ACCEPT_PENDING": "true"},
        peer=lambda: OcppLibCsms(boot_status="Pending")),
    Row("rejected", None, 2, "boot", "BootNotification Rejected: the CSMS refuses this station",
        IMMEDIATE, peer=lambda: OcppLibCsms(boot_status="Rejected")),
    *[
        Row(f"boot-missing-{name}", boot_answer(boot_without(name)), 2, "boot",
            f"BootNotification response field '{name}' is missing", IMMEDIATE)
        for name in ("status", "currentTime", "interval")
    ],
    Row("boot-status-not-enum", boot_answer(boot_with(status="Maybe")), 2, "boot",
        "field 'status' must be Accepted, Pending or Rejected, got 'Maybe'", IMMEDIATE),
    Row("boot-status-not-string", boot_answer(boot_with(status=["Accepted"])), 2, "boot",
        "field 'status' must be Accepted, Pending or Rejected, got ['Accepted']", IMMEDIATE),
    Row("boot-interval-string", boot_answer(boot_with(interval="300")), 2, "boot",
        "field 'interval' must be an integer, got '300'", IMMEDIATE),
    Row("boot-interval-float", boot_answer(boot_with(interval=1.5)), 2, "boot",
        "field 'interval' must be an integer, got 1.5", IMMEDIATE),
    Row("boot-current-time-not-date", boot_answer(boot_with(currentTime="yesterday")), 2, "boot",
        "field 'currentTime' is not an RFC 3339 date-time: 'yesterday'", IMMEDIATE),
    Row("boot-current-time-number", boot_answer(boot_with(currentTime=1767225600)), 2, "boot",
        "field 'currentTime' must be a date-time string, got 1767225600", IMMEDIATE),
    Row("boot-current-time-out-of-range", boot_answer(boot_with(currentTime="9999-12-31T23:59:59-23:59")),
        2, "boot", "field 'currentTime' is not an RFC 3339 date-time", IMMEDIATE),
    Row("heartbeat-missing-current-time", heartbeat_reply(lambda c: result_frame(c, {})), 2, "heartbeat",
        "Heartbeat response field 'currentTime' is missing", IMMEDIATE),
    Row("heartbeat-current-time-bad", heartbeat_reply(lambda c: result_frame(c, {"currentTime": "now"})),
        2, "heartbeat", "Heartbeat response field 'currentTime' is not an RFC 3339 date-time", IMMEDIATE),
    Row("csms-call-first", csms_calls_first(1), 0, None, "", IMMEDIATE,
        check=csms_calls_seen(["GetConfiguration"])),
    Row("csms-calls-first-several", csms_calls_first(4), 0, None, "", IMMEDIATE,
        check=csms_calls_seen(["GetConfiguration"] * 4)),
    Row("real-csms-call-first", None, 0, None, "", IMMEDIATE,
        peer=lambda: OcppLibCsms(call_first=1), check=lib_calls_answered(1)),
    Row("real-csms-calls-first-several", None, 0, None, "", IMMEDIATE,
        peer=lambda: OcppLibCsms(call_first=3), check=lib_calls_answered(3)),
    Row("boot-answer-after-response-timeout", answers_late, 2, "boot",
        f"no BootNotification response within {RESPONSE_MS} ms (HEARTBEAT_TIMEOUT)", PER_RESPONSE,
        env={"HEARTBEAT_TIMEOUT": str(RESPONSE_MS)}),
    Row("heartbeat-answer-after-response-timeout", None, 2, "heartbeat",
        f"no Heartbeat response within {RESPONSE_MS} ms (HEARTBEAT_TIMEOUT)", PER_RESPONSE,
        env={"HEARTBEAT_TIMEOUT": str(RESPONSE_MS)}, peer=lambda: OcppLibCsms(heartbeat_delay_s=1.5)),
    # -- TLS --------------------------------------------------------------------
    Row("tls-healthy", healthy, 0, None, "", IMMEDIATE, tls="good"),
    Row("tls-self-signed", healthy, 2, "tls", "server certificate not trusted: self-signed certificate",
        IMMEDIATE, tls="self-signed"),
    Row("tls-untrusted-ca", healthy, 2, "tls",
        "server certificate not trusted: unable to get local issuer certificate", IMMEDIATE,
        tls="untrusted-ca"),
    Row("tls-wrong-host", healthy, 2, "tls", "server certificate not trusted: IP address mismatch",
        IMMEDIATE, tls="wrong-host"),
    Row("tls-expired", healthy, 2, "tls", "server certificate not trusted: certificate has expired",
        IMMEDIATE, tls="expired"),
    Row("tls-not-yet-valid", healthy, 2, "tls",
        "server certificate not trusted: certificate is not yet valid", IMMEDIATE, tls="not-yet-valid"),
    Row("tls-client-cert-required", healthy, 2, "tls", "server requires a client certificate (TLS_CERT_FILE)",
        IMMEDIATE, tls="good", tls_options={"require_client_cert": True}),
    Row("tls-client-cert-given", healthy, 0, None, "", IMMEDIATE, tls="good",
        tls_options={"require_client_cert": True},
        env={"TLS_CERT_FILE": "{client_cert}", "TLS_KEY_FILE": "{client_key}"}),
    Row("tls-1.0-only", healthy, 2, "tls", "server offers no TLS version the probe accepts (1.2 or 1.3)",
        IMMEDIATE, tls="good",
        tls_options={"tls_versions": (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)}),
    Row("plain-http-on-wss-port",
        steps(Peer.read_some, lambda p: p.send(b"HTTP/1.1 400 Bad Request\r\n\r\n")), 2, "tls",
        "server did not answer with TLS (plain HTTP on a wss:// port?)", IMMEDIATE, wss=True),
]


# The failure kind each row must report (None: the check passes). Kept beside ROWS
# rather than in each Row so the table above stays one row per line; the test below
# fails if a row is missing here or a name here matches no row.
_TIMEOUT_ROWS = (
    "black-hole", "accept-then-silence-ws", "accept-then-silence-wss", "silence-after-tls",
    "silence-after-upgrade-request", "drip-http-response", "drip-boot-frame", "silence-after-101",
    "silence-after-boot", "headers-without-end", "boot-answer-after-response-timeout",
    "heartbeat-answer-after-response-timeout",
)
_CLOSED_ROWS = (
    "reset-during-tls-handshake", "reset-after-tls", "reset-after-upgrade-request", "reset-after-101",
    "reset-after-boot", "reset-mid-response", "fin-after-upgrade-request", "fin-after-101",
    "close-1000-before-boot-answer", "close-1002-before-boot-answer", "close-1008-before-boot-answer",
    "close-1011-before-boot-answer", "close-without-code", "close-1011-before-heartbeat-answer",
)
_WS_PROTOCOL_ROWS = (
    "invalid-utf8", "binary-frame", "huge-frame-header", "huge-fragmented-message", "close-invalid-code",
    "masked-frame", "rsv-bits", "reserved-opcode", "continuation-first", "new-message-inside-fragmented",
    "fragmented-ping", "oversized-ping",
)
_OCPP_PROTOCOL_ROWS = (
    "text-not-json", "json-object", "json-empty-array", "message-type-not-number",
    "callresult-payload-not-object", "callresult-wrong-length", "message-id-not-string",
    "call-action-huge", "callerror-details-not-object", "boot-missing-status", "boot-missing-currentTime",
    "boot-missing-interval", "boot-status-not-enum", "boot-status-not-string", "boot-interval-string",
    "boot-interval-float", "boot-current-time-not-date", "boot-current-time-number",
    "boot-current-time-out-of-range", "heartbeat-missing-current-time", "heartbeat-current-time-bad",
)
_BAD_HANDSHAKE_ROWS = (
    "101-bad-accept", "101-extension", "not-http-banner", "not-http-binary", "huge-header-block",
    "endless-headers", "malformed-header-line",
)
_PASSING_ROWS = (
    "no-answer-to-close", "fragmented-message", "fragmented-with-ping-inside", "ping-answered",
    "unknown-message-type-ignored", "callresult-unknown-id-ignored", "pending-accepted-by-setting",
    "csms-call-first", "csms-calls-first-several", "real-csms-call-first", "real-csms-calls-first-several",
    "tls-healthy", "tls-client-cert-given",
)
KINDS: dict[str, str | None] = {
    **dict.fromkeys(_TIMEOUT_ROWS, "timeout"),
    **dict.fromkeys(_CLOSED_ROWS, "closed"),
    **dict.fromkeys(_WS_PROTOCOL_ROWS, "ws_protocol"),
    **dict.fromkeys(_OCPP_PROTOCOL_ROWS, "ocpp_protocol"),
    **dict.fromkeys(_BAD_HANDSHAKE_ROWS, "bad_handshake"),
    **dict.fromkeys(_PASSING_ROWS, None),
    "refused": "refused",
    "unresolvable": "dns",
    "101-without-subprotocol": "no_subprotocol",
    "101-other-subprotocol": "wrong_subprotocol",
    **{f"http-{code}-{body}": kind for body in ("body", "empty") for code, kind in (
        (200, "http_status"), (301, "http_status"), (400, "http_status"), (401, "http_auth"),
        (403, "http_auth"), (404, "http_not_found"), (500, "http_status"), (503, "http_status"))},
    "http-reason-with-escape": "http_status",
    "http-reason-huge": "http_status",
    "callerror-boot": "callerror",
    "callerror-heartbeat": "callerror",
    "callerror-with-control-characters": "callerror",
    "pending": "boot_pending",
    "rejected": "boot_rejected",
    "reason-code-huge": "boot_rejected",
    "tls-self-signed": "tls_untrusted",
    "tls-untrusted-ca": "tls_untrusted",
    "tls-wrong-host": "tls_hostname",
    "tls-expired": "tls_expired",
    "tls-not-yet-valid": "tls_expired",
    "tls-client-cert-required": "tls_client_cert",
    "tls-1.0-only": "tls_handshake",
    "plain-http-on-wss-port": "tls_handshake",
}


def _with_tls(row: Row, pki: Pki) -> Script:
    assert row.script is not None
    script = row.script
    if row.tls is None:
        return script
    return over_tls(pki.server_context(row.tls, **row.tls_options), script)


@contextmanager
def _target(row: Row, pki: Pki) -> Iterator[tuple[str, Any]]:
    """The URL the probe checks for this row, and the server behind it (if any)."""
    if row.special == "refused":
        with refusing_port() as port:
            yield f"ws://127.0.0.1:{port}/ocpp/CP-1", None
    elif row.special == "invalid":
        yield "ws://csms.invalid/ocpp/CP-1", None  # RFC 6761: never resolves, never queried
    elif row.special == "black-hole":
        with black_hole() as port:
            yield f"ws://127.0.0.1:{port}/ocpp/CP-1", None
    elif row.peer is not None:
        with row.peer() as csms:
            yield csms.url(), csms
    else:
        with ScenarioServer(_with_tls(row, pki)) as server:
            yield server.url(scheme="wss" if row.tls or row.wss else "ws"), server
            assert not server.errors, server.errors


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_server_row(row: Row, pki: Pki) -> None:
    with _target(row, pki) as (url, server):
        env = {"WS_URL": url, "PROBE_TIMEOUT": str(DEADLINE_S)}
        if url.startswith("wss://"):
            env["TLS_CA_FILE"] = pki.ca_file
        for name, value in row.env.items():
            env[name] = value.format(client_cert=pki.client_cert, client_key=pki.client_key)
        timed = timed_probe(["--json"], env)
        run = timed.run
        doc = run.doc
        assert (run.code, doc["failed_step"]) == (row.code, row.step), doc
        assert doc["failure_kind"] == KINDS[row.id], doc
        assert row.message in (doc["reason"] or ""), doc["reason"]
        assert timed.elapsed_s <= row.bound, f"took {timed.elapsed_s:.2f} s, bound {row.bound} s"
        reason = doc["reason"] or ""
        assert "internal error during" not in reason and "Traceback" not in run.stdout
        assert "\n" not in reason and run.stdout.count("\n") == 1
        assert len(reason) <= 400, f"{len(reason)} characters: a reason is one readable line"
        assert run.stderr == ""
        if row.code == 0:
            assert doc["verdict"] == "OK" and doc["boot"]["status"] in ("Accepted", "Pending")
            # A Pending station must not send Heartbeat; every other passing row measured one.
            assert (doc["heartbeat_rtt_ms"] is None) == (doc["boot"]["status"] == "Pending")
        if row.check is not None:
            row.check(server, doc)


FAST_ROWS = [row for row in ROWS if row.bound <= IMMEDIATE]


@pytest.mark.parametrize("row", FAST_ROWS, ids=[row.id for row in FAST_ROWS])
def test_hostile_server_row_traced(row: Row, pki: Pki) -> None:
    # The same verdict in text mode with -v; the trace is well-formed and one line per
    # event (server text inside it escaped), and nothing else reaches stderr.
    with _target(row, pki) as (url, _server):
        env = {"WS_URL": url, "PROBE_TIMEOUT": str(DEADLINE_S)}
        if url.startswith("wss://"):
            env["TLS_CA_FILE"] = pki.ca_file
        for name, value in row.env.items():
            env[name] = value.format(client_cert=pki.client_cert, client_key=pki.client_key)
        run = timed_probe(["-v"], env).run
    assert run.code == row.code
    verdict = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[row.code]
    assert run.stdout.startswith(f"OCPP {verdict} - ") and run.stdout.count("\n") == 1
    if row.step is not None:
        assert f" - {row.step} failed: " in run.stdout
    lines = run.stderr.splitlines()
    assert all(line.startswith(("[", "      ")) for line in lines), run.stderr
    if row.step != "resolve":  # a name that never resolved leaves nothing to trace
        assert lines
    assert "Traceback" not in run.stderr


def test_matrix_has_at_least_forty_rows() -> None:
    assert len(ROWS) >= 40
    assert len({row.id for row in ROWS}) == len(ROWS)


def test_every_row_declares_its_failure_kind() -> None:
    assert set(KINDS) == {row.id for row in ROWS}
    assert all((KINDS[row.id] is None) == (row.step is None) for row in ROWS)



def test_resolver_failure_names_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # What any other unresolvable name gets, without asking a real DNS server.
    def no_such_name(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    timed = timed_probe(["--json"], {"WS_URL": "ws://csms.example.net/ocpp/CP-1", "PROBE_TIMEOUT": "2"})
    assert timed.run.code == 2
    assert timed.run.doc["failed_step"] == "resolve"
    assert timed.run.doc["reason"] == "cannot resolve csms.example.net: Name or service not known"
    assert timed.run.doc["failure_kind"] == "dns"
    assert timed.elapsed_s <= IMMEDIATE


def test_hanging_resolver_is_cut_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def hangs(*args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hangs)
    timed = timed_probe(["--json"], {"WS_URL": "ws://csms.example.net/ocpp/CP-1", "PROBE_TIMEOUT": "1"})
    assert timed.run.code == 2
    assert timed.run.doc["failed_step"] == "resolve"
    assert timed.run.doc["reason"] == "resolving csms.example.net timed out after 1 s"
    assert timed.run.doc["failure_kind"] == "timeout"
    assert timed.elapsed_s <= 1.5
