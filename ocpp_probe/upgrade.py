"""The HTTP upgrade to WebSocket, without sockets: the request, and judging the answer.

websocket-client reports a missing subprotocol, a different subprotocol and a bad
Sec-WebSocket-Accept all as "Invalid WebSocket Header"; an operator needs to know
which, so the probe makes and judges the handshake itself and leaves only the
WebSocket framing to websocket-client.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import field

try:
    # CPython's own SHA-1: hashlib would load OpenSSL's libcrypto at import, which a
    # ws:// check otherwise never needs (ssl loads it for wss:// anyway).
    from _sha1 import sha1 as _sha1  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import sha1 as _sha1

from . import __version__
from .failures import FailureKind, kind_for_http_status
from .printable import printable, quoted
from .records import record

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

# Limits on what the server may send before the WebSocket starts.
MAX_HEAD_BYTES = 64 * 1024
MAX_INTERIM = 16  # 1xx answers skipped before the 101; more is a server in a loop
BODY_READ_MAX = 4096  # of a refusal's body, enough for any reason a server gives there
# Statuses real CSMSs answer when they do not serve the offered OCPP version:
# "400 No matching subprotocol", a bare 404, or a 403 with no body.
SUBPROTOCOL_SUSPECTS = frozenset({400, 403, 404})

STATUS_MEANINGS = {
    400: "bad request: the CSMS rejected the upgrade request",
    401: "unauthorized: credentials missing or refused (check OCPP_PASSWORD and the identity)",
    403: "forbidden: the CSMS refuses this charge point identity or client certificate",
    404: "not found: unknown charge point identity or wrong path in WS_URL",
    405: "method not allowed: the URL is not a WebSocket endpoint",
    408: "request timeout at the CSMS",
    426: "upgrade required: the CSMS wants a different WebSocket version",
    429: "too many requests: the CSMS is rate-limiting connections",
    500: "internal server error at the CSMS",
    502: "bad gateway: a proxy in front of the CSMS got no valid answer from it",
    503: "service unavailable: the CSMS or its proxy is down or overloaded",
    504: "gateway timeout: a proxy in front of the CSMS got no answer from it",
}


class UpgradeRefused(Exception):
    """The server's answer to the upgrade request is not a valid WebSocket handshake."""

    def __init__(
        self, reason: str, status: int | None = None, kind: FailureKind = FailureKind.BAD_HANDSHAKE
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.kind = kind


@record
class HttpHead:
    """The status line and headers of an HTTP response."""

    status: int
    reason: str
    # Lower-case names; repeated headers joined with ", " as RFC 9110 allows.
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_for(key: str) -> str:
    digest = _sha1((key + _GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def host_header(host: str, port: int, secure: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port == (443 if secure else 80):
        return shown
    return f"{shown}:{port}"


def basic_token(user: str, password: str) -> str:
    """The credentials of an HTTP Basic Authorization header, UTF-8 (RFC 7617)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def password_bytes(password: str, password_hex: bool) -> bytes:
    """The Basic password as sent: UTF-8, or the decoded bytes of a hex AuthorizationKey."""
    return bytes.fromhex(password) if password_hex else password.encode()


def basic_token_bytes(user: str, password: bytes) -> str:
    return base64.b64encode(user.encode() + b":" + password).decode("ascii")


def basic_authorization(identity: str, password: str) -> str:
    """The Authorization value of OCPP security profiles 1 and 2.

    The user is the charge point identity, the password as configured; both are
    sent as UTF-8 (RFC 7617 with charset UTF-8), which all OCPP versions use.
    """
    return "Basic " + basic_token(identity, password)


def build_request(
    resource: str,
    host: str,
    subprotocol: str | None,
    key: str,
    authorization: str | None = None,
    extensions: str | None = None,
    user_agent: str = f"ocpp-probe/{__version__}",
) -> bytes:
    """The upgrade request. Diagnose varies it: no subprotocol (None), an extension
    offered (permessage-deflate), its own User-Agent."""
    lines: list[str] = [
        f"GET {resource} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    if extensions is not None:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    lines.append(f"User-Agent: {user_agent}")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def redacted_request(request: bytes) -> str:
    """The request as text for a trace, with credentials replaced."""
    out = []
    for line in request.decode("utf-8", "replace").split("\r\n"):
        name = line.split(":", 1)[0].strip().lower()
        if name in ("authorization", "proxy-authorization"):
            line = line.split(":", 1)[0] + ": <redacted>"
        out.append(line)
    return "\n".join(line for line in out if line)


def head_end(buffer: bytes) -> int:
    """Index just past the blank line that ends an HTTP head, or -1 if not there yet."""
    index = buffer.find(b"\r\n\r\n")
    return -1 if index < 0 else index + 4


def parse_head(data: bytes) -> HttpHead:
    """Parse a complete HTTP/1.x response head; UpgradeRefused if it is not one."""
    text = data.decode("iso-8859-1")
    lines = text.split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise UpgradeRefused(f"server did not answer with HTTP: {quoted(status_line)!r}")
    status = int(parts[1])
    # Quoted in the verdict; its display bound comes after redaction (printable.shown).
    reason = quoted(parts[2].strip()) if len(parts) > 2 else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise UpgradeRefused(f"malformed HTTP header line in upgrade response: {quoted(line)!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return HttpHead(status, reason, headers)


def _has_token(value: str | None, token: str) -> bool:
    return value is not None and token in (part.strip().lower() for part in value.split(","))


def is_interim(head: HttpHead) -> bool:
    """A 1xx answer other than 101, which a client skips (RFC 9110 section 15.2)."""
    return 100 <= head.status < 200 and head.status != 101


def body_reason(head: HttpHead, body: bytes) -> str:
    """What a refusal's body says, as one escaped line (capped: printable.quoted); "" when it says nothing.

    HTML error pages are reduced to their text, so nginx's ``<h1>404 Not Found</h1>``
    page reads as the status line it repeats, which is then left out.
    """
    charset = re.search(r"charset=\s*\"?([\w.:-]+)", head.header("content-type") or "", re.I)
    try:
        text = body.decode(charset.group(1) if charset else "utf-8", "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    if "html" in (head.header("content-type") or "").lower() or text.lstrip().startswith("<"):
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.S | re.I)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    status_line = f"{head.status} {head.reason}".strip()
    if not text or text in (head.reason, status_line) or text == f"{status_line} {status_line}":
        return ""
    return quoted(printable(text))


def judge_response(
    head: HttpHead,
    key: str,
    offered: str,
    password_sent: bool,
    body: bytes = b"",
    version_hint: bool = False,
) -> str:
    """The negotiated subprotocol, or UpgradeRefused naming exactly what is wrong.

    ``body`` is what arrived of a refusal's body (nothing for a 101). ``version_hint``
    names the offered subprotocol as a possible cause of a 400/403/404, for the check;
    diagnose tries the other versions itself and says so in its own words.
    """
    if head.status != 101:
        meaning = STATUS_MEANINGS.get(head.status)
        if head.status == 401 and not password_sent:
            meaning = "unauthorized: the CSMS wants credentials; set OCPP_PASSWORD"
        if meaning is None and 200 <= head.status < 300:
            # "HTTP 200 OK" as a failure puzzles people; it means the URL is a web page.
            meaning = (
                f"{head.reason or 'success'}: a plain HTTP answer, not a WebSocket upgrade "
                "(is WS_URL the CSMS's WebSocket endpoint?)"
            )
        if meaning is None and 300 <= head.status < 400:
            location = head.header("location") or "nowhere"
            meaning = f"redirect to {quoted(location)} (chargers do not follow redirects)"
        if meaning is None:
            meaning = head.reason or "unexpected status"
        said = body_reason(head, body)
        if said:
            meaning += f"; the CSMS says: '{said}'"  # escaped once, by body_reason
        if version_hint and head.status in SUBPROTOCOL_SUSPECTS:
            meaning += (
                f"; the offered subprotocol {offered} may be the cause "
                "(set OCPP_VERSION to a version the CSMS serves)"
            )
        raise UpgradeRefused(f"HTTP {head.status} {meaning}", head.status, kind_for_http_status(head.status))
    if not _has_token(head.header("upgrade"), "websocket"):
        raise UpgradeRefused("101 response lacks 'Upgrade: websocket'", 101)
    if not _has_token(head.header("connection"), "upgrade"):
        raise UpgradeRefused("101 response lacks 'Connection: Upgrade'", 101)
    accept = head.header("sec-websocket-accept")
    if accept is None:
        raise UpgradeRefused("101 response lacks Sec-WebSocket-Accept", 101)
    if accept != accept_for(key):
        raise UpgradeRefused("101 response has a wrong Sec-WebSocket-Accept", 101)
    echoed = head.header("sec-websocket-protocol")
    if echoed is None:
        raise UpgradeRefused(
            f"CSMS accepted the WebSocket but selected no subprotocol (offered {offered})",
            101,
            FailureKind.NO_SUBPROTOCOL,
        )
    if echoed != offered:
        # RFC 6455 section 4.1: the echo must be the offered token itself, compared
        # case-sensitively; charger stacks (Python websockets, Node ws) fail otherwise.
        same_but_case = echoed.lower() == offered.lower()
        raise UpgradeRefused(
            f"CSMS selected subprotocol {quoted(echoed)!r}, not the offered {offered}"
            + (" (subprotocol tokens are case-sensitive; chargers refuse it)" if same_but_case else ""),
            101,
            FailureKind.WRONG_SUBPROTOCOL,
        )
    if head.header("sec-websocket-extensions"):
        raise UpgradeRefused("CSMS enabled a WebSocket extension the probe did not offer", 101)
    return offered
