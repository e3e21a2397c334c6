"""Protocol corner cases judged by RFC 6455, RFC 9110 and RFC 3339, not by habit.

The subprotocol echo is matched exactly, 1xx interim answers before the 101 are
skipped, a refusal quotes the reason in its body and names the offered subprotocol,
and every date-time RFC 3339 allows is read (the unit cases are in test_messages.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect

from ocpp_probe.printable import QUOTE_MAX, SHOWN_MAX, shown
from ocpp_probe.upgrade import (
    MAX_INTERIM,
    HttpHead,
    UpgradeRefused,
    accept_for,
    body_reason,
    judge_response,
)

from .peers.arthexis_csms import ENROLLMENT_TOKEN, ArthexisCsms
from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .peers.scenario_server import Peer, ScenarioServer, Script
from .support.runs import Run, probe_in_process, timed_probe
from .support.scripts import BOOT_OK, HEARTBEAT_OK

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
PEERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")


def head_101(protocol: str) -> HttpHead:
    return HttpHead(101, "Switching Protocols", {
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-accept": accept_for(KEY),
        "sec-websocket-protocol": protocol,
    })


def run_against(script: Script, timeout: str = "3", **env: str) -> tuple[Run, float]:
    with ScenarioServer(script) as server:
        timed = timed_probe(["--json"], {"WS_URL": server.url(), "PROBE_TIMEOUT": timeout, **env})
        assert not server.errors, server.errors
    return timed.run, timed.elapsed_s


def serve_ocpp(peer: Peer, boot: dict[str, object] = BOOT_OK) -> None:
    peer.answer(boot)
    peer.answer(HEARTBEAT_OK)


# -- exact subprotocol echo (RFC 6455 section 4.1) ----------------------------------


@pytest.mark.parametrize("echo", ["OCPP1.6", "Ocpp1.6", "ocpp1.6 "])
def test_echo_must_be_the_offered_token_exactly(echo: str) -> None:
    head = head_101(echo.strip())
    if echo.strip() == "ocpp1.6":  # optional whitespace around a header value is not part of it
        assert judge_response(head, KEY, "ocpp1.6", False) == "ocpp1.6"
        return
    with pytest.raises(UpgradeRefused) as caught:
        judge_response(head, KEY, "ocpp1.6", False)
    assert caught.value.reason == (
        f"CSMS selected subprotocol {echo!r}, not the offered ocpp1.6 "
        "(subprotocol tokens are case-sensitive; chargers refuse it)"
    )


def case_changed_echo(peer: Peer) -> None:
    peer.read_request()
    peer.accept(protocol=peer.headers["sec-websocket-protocol"].upper())
    serve_ocpp(peer)


def test_case_changed_echo_fails_the_probe_as_it_fails_a_charger_stack() -> None:
    run, _ = run_against(case_changed_echo)
    assert run.code == 2, run.doc
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["reason"].startswith("CSMS selected subprotocol 'OCPP1.6', not the offered ocpp1.6")

    # The same server refused by the Python websockets client, which charger stacks use.
    async def charger() -> None:
        with ScenarioServer(case_changed_echo) as server:
            async with ws_connect(server.url(), subprotocols=["ocpp1.6"], open_timeout=3):  # type: ignore[list-item]
                pass

    with pytest.raises(websockets.InvalidHandshake):
        asyncio.run(charger())


NODE_WS_CLIENT = """
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[1], ['ocpp1.6']);
ws.on('open', () => { console.log('open'); ws.terminate(); });
ws.on('error', (err) => { console.log('error: ' + err.message); });
"""


def test_case_changed_echo_fails_node_ws_too() -> None:
    # Node's ws (under ocpp-rpc and many charger simulators) refuses the same answer.
    with ScenarioServer(case_changed_echo) as server:
        done = subprocess.run(
            ["node", "-e", NODE_WS_CLIENT, server.url()], cwd=PEERS_DIR,
            capture_output=True, text=True, timeout=30,
        )
    assert done.stdout.strip() == "error: Server sent an invalid subprotocol", done.stdout + done.stderr


# -- 1xx interim answers before the 101 (RFC 9110 section 15.2) ---------------------


def interim_then_accept(*interims: bytes) -> Script:
    def script(peer: Peer) -> None:
        peer.read_request()
        for interim in interims:
            peer.send(interim)
        peer.accept()
        serve_ocpp(peer)

    return script


def test_interim_answers_before_the_101_are_skipped() -> None:
    run, _ = run_against(interim_then_accept(
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 102 Processing\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    ))
    assert run.code == 0, run.doc
    assert run.doc["subprotocol"] == "ocpp1.6" and run.doc["boot"]["status"] == "Accepted"


def test_interim_answer_in_the_same_segment_as_the_101() -> None:
    def script(peer: Peer) -> None:
        peer.read_request()
        key = peer.headers["sec-websocket-key"]
        peer.send(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept_for(key)}\r\n".encode()
            + b"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        )
        serve_ocpp(peer)

    run, _ = run_against(script)
    assert run.code == 0, run.doc


def test_endless_interim_answers_are_a_failure() -> None:
    run, elapsed = run_against(interim_then_accept(*[b"HTTP/1.1 100 Continue\r\n\r\n"] * (MAX_INTERIM + 1)))
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["reason"] == f"CSMS sent more than {MAX_INTERIM} 1xx interim answers and no final one"
    assert elapsed < 1.0


def test_silence_after_an_interim_answer_is_bounded_by_the_deadline() -> None:
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        peer.hold(10)

    run, elapsed = run_against(script, timeout="1")
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade"
    assert "upgrade response timed out before any of it arrived" in run.doc["reason"]
    assert elapsed < 1.5


def test_reset_after_an_interim_answer_names_it() -> None:
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.1)  # the probe is reading again when the reset comes
        peer.reset()

    run, elapsed = run_against(script)
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["reason"] == "upgrade failed after a 100 interim answer: connection reset by the server"
    assert elapsed < 1.0


# -- what a refusal says, and the subprotocol hint ---------------------------------


def test_body_reason_text_html_escape_and_bound() -> None:
    plain = HttpHead(400, "Bad Request", {"content-type": "text/plain"})
    assert body_reason(plain, b"No matching subprotocol\n") == "No matching subprotocol"
    nginx = HttpHead(404, "Not Found", {"content-type": "text/html"})
    page = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    assert body_reason(nginx, page) == "404 Not Found 404 Not Found nginx"
    assert body_reason(nginx, b"<html><body><h1>Not Found</h1></body></html>") == ""  # the reason again
    hostile = body_reason(plain, b"db down\x1b[2J\r\nnext line")
    assert hostile == "db down\\x1b[2J next line"
    # Capped where it is taken; cut for display only after redaction, by shown().
    assert len(body_reason(plain, b"x" * 5000)) == QUOTE_MAX
    assert len(shown(body_reason(plain, b"x" * 5000))) == SHOWN_MAX
    assert body_reason(HttpHead(403, "Forbidden", {}), b"") == ""


def refuse(status_line: str, body: bytes, headers: str = "Content-Type: text/plain\r\n") -> Script:
    return lambda peer: peer.respond(status_line, body, headers)


def chunked_refusal(peer: Peer) -> None:
    peer.read_request()
    peer.send(
        b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nmaint\r\n9;x=1\r\nenance 2h\r\n0\r\n\r\n"
    )


HINT = "the offered subprotocol ocpp2.0.1 may be the cause (set OCPP_VERSION to a version the CSMS serves)"


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (refuse("400 Bad Request", b"No matching subprotocol"),
         f"HTTP 400 bad request: the CSMS rejected the upgrade request; the CSMS says: "
         f"'No matching subprotocol'; {HINT}"),
        (refuse("404 Not Found", b""),
         f"HTTP 404 not found: unknown charge point identity or wrong path in WS_URL; {HINT}"),
        (refuse("403 Forbidden", b"", headers=""),
         f"HTTP 403 forbidden: the CSMS refuses this charge point identity or client certificate; {HINT}"),
        (refuse("500 Internal Server Error", b"database down\x07\x1b[31m"),
         "HTTP 500 internal server error at the CSMS; the CSMS says: 'database down\\x07\\x1b[31m'"),
        (chunked_refusal,
         "HTTP 503 service unavailable: the CSMS or its proxy is down or overloaded; "
         "the CSMS says: 'maintenance 2h'"),
    ],
    ids=["400-body", "404-empty", "403-empty", "500-hostile-body", "503-chunked"],
)
def test_refusals_quote_their_body_and_name_the_subprotocol(script: Script, reason: str) -> None:
    run, elapsed = run_against(script, OCPP_VERSION="2.0.1")
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["reason"] == reason
    assert elapsed < 1.0


def test_a_body_that_never_comes_costs_at_most_a_second() -> None:
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 500\r\n\r\nNo match")
        peer.hold(10)

    run, elapsed = run_against(script, timeout="5")
    assert run.code == 2
    assert "the CSMS says: 'No match'" in run.doc["reason"]
    assert 0.9 < elapsed < 1.6


def test_unserved_version_against_the_ocpp_library() -> None:
    # websockets (the server under the ocpp library) refuses with 400 and says why in the body.
    with OcppLibCsms(version="1.6") as csms:
        run = probe_in_process(["--json"], {"WS_URL": csms.url(), "OCPP_VERSION": "2.0.1"})
    assert run.code == 2
    assert run.doc["http_status"] == 400
    assert run.doc["reason"] == (
        "HTTP 400 bad request: the CSMS rejected the upgrade request; the CSMS says: "
        "'Failed to open a WebSocket connection: invalid subprotocol; expected one of ocpp1.6.'; "
        + HINT
    )


def test_unserved_version_against_ocpp_rpc() -> None:
    # ocpp-rpc accepts the WebSocket and selects no subprotocol instead.
    with OcppRpcCsms(protocols=["ocpp1.6"]) as csms:
        run = probe_in_process(["--json"], {"WS_URL": csms.url(), "OCPP_VERSION": "2.0.1"})
    assert run.code == 2
    assert run.doc["reason"] == "CSMS accepted the WebSocket but selected no subprotocol (offered ocpp2.0.1)"


# -- RFC 3339 date-times from a real CSMS -------------------------------------------


def test_every_rfc_3339_form_from_a_real_csms_is_converted() -> None:
    # Nepal's +05:45 and nine fraction digits: the clock offset is still near zero.
    nepal = timezone(timedelta(hours=5, minutes=45))

    def stamp(now: datetime) -> str:
        return now.astimezone(nepal).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123+05:45"

    with OcppLibCsms(version="2.0.1", time_format=stamp) as csms:
        run = probe_in_process(["--json"], {"WS_URL": csms.url(), "OCPP_VERSION": "2.0.1"})
    assert run.code == 0, run.doc
    assert abs(run.doc["clock_offset_s"]) < 1
    shown = run.doc["boot"]["current_time"]  # converted to UTC
    assert shown.endswith("Z")
    when = datetime.fromisoformat(shown[:-1]).replace(tzinfo=timezone.utc)
    assert abs((when - datetime.now(timezone.utc)).total_seconds()) < 5


def test_a_naive_time_from_a_real_csms_is_a_violation_naming_the_field() -> None:
    # datetime.utcnow().isoformat(), a classic: no offset, which RFC 3339 requires.
    def naive(now: datetime) -> str:
        return now.replace(tzinfo=None).isoformat()

    with OcppLibCsms(version="1.6", time_format=naive) as csms:
        run = probe_in_process(["--json"], {"WS_URL": csms.url()})
    assert run.code == 2
    assert run.doc["failed_step"] == "boot"
    assert run.doc["reason"].startswith(
        "protocol violation: BootNotification response field 'currentTime' is not an RFC 3339 "
        "date-time (no offset; RFC 3339 needs Z or one like +01:00): '"
    )


# -- trailing slash, against a CSMS that routes only .../<identity>/ -----------------


@pytest.fixture(scope="module")
def arthexis() -> Iterator[ArthexisCsms]:
    with ArthexisCsms() as csms:
        yield csms


def test_trailing_slash_url_against_arthexis(arthexis: ArthexisCsms) -> None:
    run = probe_in_process(["--json", "-v"], {
        "WS_URL": arthexis.url("ws/ocpp/PROBE-SLASH/"), "OCPP_PASSWORD": ENROLLMENT_TOKEN,
    })
    assert run.code == 0, run.doc
    assert run.doc["target"] == arthexis.url("ws/ocpp/PROBE-SLASH/")
    assert run.doc["boot"]["status"] == "Accepted"
    assert "> GET /ws/ocpp/PROBE-SLASH/ HTTP/1.1" in run.stderr  # the slash on the wire


def test_charge_point_id_with_trailing_slash_against_arthexis(arthexis: ArthexisCsms) -> None:
    run = probe_in_process(["--json", "-v", "--id", "PROBE ID", "--trailing-slash"], {
        "WS_URL": arthexis.url(), "OCPP_PASSWORD": ENROLLMENT_TOKEN, "OCPP_VERSION": "2.0.1",
    })
    assert run.code == 0, run.doc
    assert run.doc["target"] == arthexis.url("ws/ocpp/PROBE%20ID/")
    assert "> GET /ws/ocpp/PROBE%20ID/ HTTP/1.1" in run.stderr


def test_without_the_slash_arthexis_has_no_route(arthexis: ArthexisCsms) -> None:
    # What the probe used to be limited to: the same station without the slash.
    run = probe_in_process(["--json", "-v", "--id", "PROBE-NOSLASH"], {
        "WS_URL": arthexis.url(), "OCPP_PASSWORD": ENROLLMENT_TOKEN,
    })
    assert run.code == 2
    assert run.doc["failed_step"] == "upgrade" and run.doc["http_status"] == 500
    assert "> GET /ws/ocpp/PROBE-NOSLASH HTTP/1.1" in run.stderr
