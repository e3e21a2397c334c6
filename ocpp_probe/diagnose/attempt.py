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
from email.utils import parsedate_to_datetime

from ..connection import final_head, read_http_head, refusal_body
from ..deadline import DeadlineExceeded
from ..printable import quoted
from ..records import replace
from ..result import Step, StepFailure
from ..sockets import DeadlineSocket, describe_os_error
from ..tls import describe_ssl_error
from ..tls_socket import DeadlineSSLSocket
from ..upgrade import (
    HttpHead,
    UpgradeRefused,
    build_request,
    host_header,
    judge_response,
    new_key,
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
BODY_WAIT_S = 0.5  # for a refusal's body; the answer is known by then
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
USER_AGENT = "ocpp-probe-diagnose"


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
    """The telling headers, as taken (escaped and cut for display by the report)."""
    return {name: quoted(head.headers[name]) for name in SHOWN_HEADERS if name in head.headers}


def classify(head: HttpHead, key: str, offered: str | None, credentials_sent: bool) -> tuple[str, str]:
    """The outcome of an upgrade answer and the check's wording of it (sans-I/O)."""
    plain = HttpHead(
        head.status, head.reason, {k: v for k, v in head.headers.items() if k != "sec-websocket-extensions"}
    )
    if head.status == 101 and offered is None:
        try:
            judge_response(
                HttpHead(plain.status, plain.reason, {**plain.headers, "sec-websocket-protocol": "x"}),
                key,
                "x",
                False,
            )
        except UpgradeRefused as exc:
            return "error", exc.reason
        echoed = head.header("sec-websocket-protocol")
        if echoed:
            return "wrong_subprotocol", f"CSMS selected {quoted(echoed)!r} although none was offered"
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
    request = build_request(
        resource,
        host_header(settings.host, settings.port, settings.secure),
        subprotocol,
        key,
        authorization,
        extensions=DEFLATE_OFFER if deflate else None,
        user_agent=USER_AGENT,
    )
    try:
        sock = dialer.open(context, budget)
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
        try:
            # 1xx interim answers skipped as the check skips them (connection.final_head).
            head, leftover = final_head(sock, budget, head_bytes, leftover, "", dialer.trace)
        except UpgradeRefused as exc:
            return replace(base, detail=exc.reason, elapsed_ms=_ms(begin))
        except StepFailure as exc:
            outcome = "closed" if "closed" in exc.reason else "error"
            return replace(base, outcome=outcome, detail=exc.reason, elapsed_ms=_ms(begin))
        received_wall = time.time()
        outcome, detail = classify(head, key, subprotocol, authorization is not None)
        body = b""
        if head.status == 101:
            _close(sock)
        else:
            body = refusal_body(sock, head, leftover, budget, BODY_WAIT_S)
        return replace(
            base,
            outcome=outcome,
            status=head.status,
            reason=head.reason,
            headers=shown_headers(head),
            body_excerpt=quoted(body.decode("utf-8", "replace").strip()),
            detail=detail,
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
