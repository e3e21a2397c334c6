"""One WebSocket upgrade attempt, recorded whatever the server does with it.

The request is the check's (ocpp_probe.upgrade), varied in one way at a time: the
subprotocol offered (or none), the path, the credentials; permessage-deflate is
offered so the answer can be reported. A 101 is closed at once: only the exchange
in ocpp.py sends BootNotification.
"""

from __future__ import annotations

import ssl
import struct
import time
from dataclasses import replace
from email.utils import parsedate_to_datetime

from ..connection import read_http_head
from ..deadline import Deadline, DeadlineExceeded
from ..printable import printable
from ..result import Step, StepFailure
from ..sockets import DeadlineSocket, describe_os_error
from ..tls import describe_ssl_error
from ..tls_socket import DeadlineSSLSocket
from ..upgrade import (
    HttpHead,
    UpgradeRefused,
    host_header,
    judge_response,
    new_key,
    parse_head,
    redacted_request,
)
from ..wscodec import ABNF
from .dial import Dialer
from .facts import UpgradeAttempt

# Headers that tell who answered and why; anything else stays out of the report.
SHOWN_HEADERS = (
    "server",
    "via",
    "www-authenticate",
    "date",
    "location",
    "content-type",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
)
MAX_HEADER_CHARS = 200
MAX_BODY_BYTES = 300
BODY_WAIT_S = 0.5
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


def request_for(
    resource: str,
    host: str,
    subprotocol: str | None,
    key: str,
    authorization: str | None,
    offer_deflate: bool,
) -> bytes:
    lines = [
        f"GET {resource} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    if offer_deflate:
        lines.append(f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}")
    lines.append("User-Agent: ocpp-probe-diagnose")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def date_offset(head: HttpHead, sent_wall: float, received_wall: float) -> float | None:
    """Server Date minus the local clock at the middle of the round trip (1 s resolution)."""
    value = head.header("date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp() - (sent_wall + received_wall) / 2


def shown_headers(head: HttpHead) -> dict[str, str]:
    return {
        name: printable(head.headers[name][:MAX_HEADER_CHARS])
        for name in SHOWN_HEADERS
        if name in head.headers
    }


def classify(head: HttpHead, key: str, offered: str | None, credentials_sent: bool) -> tuple[str, str]:
    """The outcome of an upgrade answer and the check's wording of it (sans-I/O)."""
    plain = HttpHead(
        head.status, head.reason, {k: v for k, v in head.headers.items() if k != "sec-websocket-extensions"}
    )
    if head.status == 101 and offered is None:
        try:
            judge_response(
                replace(plain, headers={**plain.headers, "sec-websocket-protocol": "x"}), key, "x", False
            )
        except UpgradeRefused as exc:
            return "error", exc.reason
        echoed = head.header("sec-websocket-protocol")
        if echoed:
            return "wrong_subprotocol", f"CSMS selected {printable(echoed[:40])!r} although none was offered"
        return "no_subprotocol", "CSMS accepted a WebSocket without any subprotocol"
    try:
        judge_response(plain, key, offered or "", credentials_sent)
    except UpgradeRefused as exc:
        if exc.status is None or exc.status != 101:
            return "refused", exc.reason
        if "selected no subprotocol" in exc.reason:
            return "no_subprotocol", exc.reason
        if "selected subprotocol" in exc.reason:
            return "wrong_subprotocol", exc.reason
        return "error", exc.reason
    return "served", f"CSMS serves {offered}"


def _body(
    sock: DeadlineSocket | DeadlineSSLSocket, head: HttpHead, leftover: bytes, deadline: Deadline
) -> bytes:
    wanted = MAX_BODY_BYTES
    length = head.header("content-length")
    if length is not None and length.strip().isdigit():
        wanted = min(wanted, int(length.strip()))
    body = leftover[:wanted]
    sock.io_deadline = deadline.narrowed(BODY_WAIT_S, "body")
    try:
        while len(body) < wanted:
            chunk = sock.recv(wanted - len(body))
            if not chunk:
                break
            body += chunk
    except (DeadlineExceeded, OSError):
        pass  # an excerpt is all the report wants
    return body


def run_attempt(
    dialer: Dialer,
    context: ssl.SSLContext | None,
    resource: str,
    subprotocol: str | None,
    path_variant: str,
    credentials: str,
    authorization: str | None,
) -> UpgradeAttempt:
    settings = dialer.settings
    deflate = subprotocol is not None
    base = UpgradeAttempt(
        subprotocol,
        resource,
        path_variant,
        credentials,
        authorization is not None,
        "error",
        deflate_offered=deflate,
    )
    begin = time.perf_counter()
    budget = dialer.budget()
    key = new_key()
    request = request_for(
        resource,
        host_header(settings.host, settings.port, settings.secure),
        subprotocol,
        key,
        authorization,
        deflate,
    )
    try:
        sock = dialer.open(context, budget)
    except ssl.SSLError as exc:
        return replace(base, detail=describe_ssl_error(exc), elapsed_ms=_ms(begin))
    except StepFailure as exc:
        return replace(base, detail=exc.reason, elapsed_ms=_ms(begin))
    try:
        dialer.note("> " + redacted_request(request).replace("\n", "\n> "))
        sock.io_deadline = budget
        sent_wall = time.time()
        try:
            sock.sendall(request)
            head_bytes, leftover = read_http_head(sock, budget, Step.UPGRADE, "upgrade response")
        except StepFailure as exc:
            outcome = "closed" if "closed" in exc.reason else "error"
            return replace(base, outcome=outcome, detail=exc.reason, elapsed_ms=_ms(begin))
        except DeadlineExceeded:
            return replace(base, detail="upgrade response timed out", elapsed_ms=_ms(begin))
        except ssl.SSLError as exc:
            return replace(base, detail=describe_ssl_error(exc), elapsed_ms=_ms(begin))
        except OSError as exc:
            return replace(base, outcome="closed", detail=describe_os_error(exc), elapsed_ms=_ms(begin))
        received_wall = time.time()
        dialer.note("< " + head_bytes.decode("iso-8859-1").rstrip("\r\n").replace("\r\n", "\n< "))
        try:
            head = parse_head(head_bytes)
        except UpgradeRefused as exc:
            return replace(base, detail=exc.reason, elapsed_ms=_ms(begin))
        outcome, detail = classify(head, key, subprotocol, authorization is not None)
        body = b""
        if head.status == 101:
            _close(sock)
        else:
            body = _body(sock, head, leftover, budget)
        return replace(
            base,
            outcome=outcome,
            status=head.status,
            reason=printable(head.reason),
            headers=shown_headers(head),
            body_excerpt=printable(body.decode("utf-8", "replace").strip()),
            detail=printable(detail),
            deflate_answer=shown_headers(head).get("sec-websocket-extensions")
            if head.status == 101
            else None,
            date_offset_s=date_offset(head, sent_wall, received_wall),
            elapsed_ms=_ms(begin),
        )
    finally:
        sock.close()


def _close(sock: DeadlineSocket | DeadlineSSLSocket) -> None:
    """A polite WebSocket close (1000); the answer is not waited for."""
    try:
        sock.sendall(ABNF.create_frame(struct.pack("!H", 1000), ABNF.OPCODE_CLOSE).format())
    except Exception:
        pass  # the attempt's result is known already


def _ms(begin: float) -> float:
    return (time.perf_counter() - begin) * 1000
