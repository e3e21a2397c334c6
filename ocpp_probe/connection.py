"""The network half of a check: resolve, connect (through a proxy if set), TLS, upgrade.

Each function does one step, bounded by the deadline it is given, and raises
StepFailure naming that step and its FailureKind; the check times them. What the
network raises (a NetFailure of httpclient/netio, a deadline passing, a TLS alert, a
socket error) becomes a failure in one place, ``stage``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from . import httpclient
from .deadline import Deadline, DeadlineExceeded
from .failures import FailureKind, kind_for_os_error, kind_for_ssl_error
from .httpclient import Address, NetFailure, dechunk, show_address
from .records import record
from .result import Step, StepFailure, TlsFacts, timed_out
from .settings import CheckSettings
from .sockets import DeadlineSocket, describe_os_error
from .tls import describe_ssl_error
from .trace import Tracer
from .upgrade import (
    BODY_READ_MAX,
    MAX_INTERIM,
    HttpHead,
    UpgradeRefused,
    basic_authorization,
    basic_token_bytes,
    build_request,
    host_header,
    is_interim,
    judge_response,
    new_key,
    parse_head,
    password_bytes,
    redacted_request,
)

if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket

__all__ = [
    "Address", "connect", "final_head", "read_http_head", "refusal_body", "resolve", "show_address",
    "start_tls", "tunnel", "upgrade",
]

@contextmanager
def stage(step: Step, doing: str, closed_hint: str = "") -> Iterator[None]:
    """Turn what the network raises while ``doing`` one step into that step's StepFailure.

    The one translation for this layer. A NetFailure (httpclient, netio) carries its
    sentence and kind already. A passed deadline is TIMEOUT. A TLS error is classified
    by failures.kind_for_ssl_error and blamed on the TLS step, since a TLS 1.3 alert can
    arrive with the first read after the handshake; a TLS EOF after the handshake is a
    hang-up (CLOSED) of this step, explained by ``closed_hint``. A socket error goes by
    its errno (CLOSED when it says nothing more).
    """
    try:
        yield
    except NetFailure as exc:
        raise from_net(step, exc) from None
    except DeadlineExceeded as exc:
        raise timed_out(step, f"{doing} timed out after {exc.limit_s:g} s") from None
    except ssl.SSLEOFError as exc:
        if step is Step.TLS:
            raise StepFailure(step, describe_ssl_error(exc), kind=kind_for_ssl_error(exc)) from None
        raise StepFailure(
            step,
            f"connection closed by the server during the {doing}{closed_hint}",
            kind=FailureKind.CLOSED,
        ) from None
    except ssl.SSLError as exc:
        raise StepFailure(Step.TLS, describe_ssl_error(exc), kind=kind_for_ssl_error(exc)) from None
    except OSError as exc:
        raise StepFailure(
            step, f"{doing} failed: {describe_os_error(exc)}", kind=kind_for_os_error(exc, FailureKind.CLOSED)
        ) from None


def from_net(step: Step, exc: NetFailure) -> StepFailure:
    """A NetFailure of httpclient/netio as the failure of ``step``: its sentence and kind."""
    return StepFailure(step, exc.message, kind=exc.kind)


def resolve(host: str, port: int, deadline: Deadline) -> list[Address]:
    """TCP addresses for host within the deadline (see httpclient.resolve)."""
    with stage(Step.RESOLVE, f"resolving {host}"):
        return httpclient.resolve(host, port, deadline)


def connect(addresses: list[Address], deadline: Deadline) -> DeadlineSocket:
    """A TCP connection to the first address that answers (see httpclient.connect)."""
    with stage(Step.CONNECT, "connecting"):
        return httpclient.connect(addresses, deadline)


def read_http_head(
    sock: DeadlineSocket | DeadlineSSLSocket,
    deadline: Deadline,
    step: Step,
    what: str,
    silent_close_hint: str = "",
    already: bytes = b"",
) -> tuple[bytes, bytes]:
    """The HTTP response head and any bytes that followed it, within limits.

    ``already`` holds bytes received before (what followed a 1xx answer).
    """
    # Only NetFailure here: socket and TLS errors are worded by the caller's stage(),
    # which knows the whole step ("upgrade failed: ...").
    try:
        return httpclient.read_head(sock, deadline, what, silent_close_hint, pending=already)
    except NetFailure as exc:
        raise from_net(step, exc) from None


def tunnel(sock: DeadlineSocket, settings: CheckSettings, deadline: Deadline) -> None:
    """Ask the HTTP proxy for a CONNECT tunnel to the CSMS."""
    assert settings.proxy is not None
    with stage(Step.CONNECT, f"proxy {settings.proxy.display}"):
        httpclient.tunnel(sock, settings.host, settings.port, settings.proxy, deadline)


def _facts(sock: ssl.SSLSocket, verified: bool) -> TlsFacts:
    cipher = sock.cipher()
    cert = sock.getpeercert() if verified else None
    not_after: float | None = None
    days_left: float | None = None
    if cert and isinstance(cert.get("notAfter"), str):
        not_after = float(ssl.cert_time_to_seconds(str(cert["notAfter"])))
        days_left = (not_after - time.time()) / 86400
    return TlsFacts(
        version=sock.version(),
        cipher=cipher[0] if cipher else None,
        cert_not_after=not_after,
        cert_days_left=days_left,
        verified=verified,
        chain_not_after=_chain_not_after(sock),
    )


def _chain_not_after(sock: ssl.SSLSocket) -> float | None:
    """Earliest notAfter of the presented chain, as blackbox_exporter's
    probe_ssl_earliest_cert_expiry. Only the private _sslobj.get_unverified_chain()
    (3.10+) gives certificates with a parsed notAfter; without it there is no value."""
    try:
        chain = sock._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
        times = [float(ssl.cert_time_to_seconds(str(cert.get_info()["notAfter"])))
                 for cert in chain or ()]
    except Exception:  # missing API or an unparsable date: degrade, never fail the check
        return None
    return min(times) if times else None


def start_tls(
    sock: DeadlineSocket, settings: CheckSettings, context: ssl.SSLContext, deadline: Deadline
) -> tuple[DeadlineSSLSocket, TlsFacts]:
    tls_sock = context.wrap_socket(
        sock, server_hostname=settings.host, do_handshake_on_connect=False
    )
    from .tls_socket import DeadlineSSLSocket  # here: a ws:// check never loads ssl

    assert isinstance(tls_sock, DeadlineSSLSocket)
    tls_sock.io_deadline = deadline
    try:
        with stage(Step.TLS, "TLS handshake"):
            tls_sock.do_handshake()
    except StepFailure:
        tls_sock.close()
        raise
    return tls_sock, _facts(tls_sock, verified=not settings.insecure)


@record
class Upgraded:
    """The WebSocket connection after a successful upgrade."""

    subprotocol: str
    leftover: bytes  # WebSocket bytes that arrived with the 101 response


def upgrade(
    sock: DeadlineSocket | DeadlineSSLSocket,
    settings: CheckSettings,
    deadline: Deadline,
    trace: Tracer | None = None,
) -> Upgraded:
    key = new_key()
    authorization = (
        "Basic " + basic_token_bytes(settings.identity, password_bytes(settings.password, True))
        if settings.password is not None and settings.password_hex
        else basic_authorization(settings.identity, settings.password)
        if settings.password is not None
        else None
    )
    request = build_request(
        settings.resource,
        host_header(settings.host, settings.port, settings.secure),
        settings.version.subprotocol,
        key,
        authorization,
    )
    if trace:
        trace("> " + redacted_request(request).replace("\n", "\n> "))
    hint = ""
    if (
        settings.secure  # first: a ws:// check never loads ssl (lazy_imports.py)
        and isinstance(sock, ssl.SSLSocket)
        and settings.cert_file is None
        and sock.version() == "TLSv1.3"
    ):
        # In TLS 1.3 a server checks the client certificate after the handshake has
        # completed on our side; many just hang up instead of sending an alert.
        hint = ": the CSMS may require a client certificate (set TLS_CERT_FILE)"
    sock.io_deadline = deadline
    with stage(Step.UPGRADE, "upgrade", closed_hint=hint):
        sock.sendall(request)
        head, leftover = read_http_head(sock, deadline, Step.UPGRADE, "upgrade response", hint)
    try:
        answer, leftover = final_head(sock, deadline, head, leftover, hint, trace)
        body = b"" if answer.status == 101 else refusal_body(sock, answer, leftover, deadline)
        subprotocol = judge_response(
            answer, key, settings.version.subprotocol, settings.password is not None, body,
            version_hint=True,
        )
    except UpgradeRefused as exc:
        raise StepFailure(Step.UPGRADE, exc.reason, http_status=exc.status, kind=exc.kind) from None
    return Upgraded(subprotocol, leftover)


def final_head(
    sock: DeadlineSocket | DeadlineSSLSocket,
    deadline: Deadline,
    head: bytes,
    leftover: bytes,
    hint: str,
    trace: Tracer | None,
) -> tuple[HttpHead, bytes]:
    """The answer to the upgrade after skipping 1xx interim answers (RFC 9110 15.2).

    Each head is traced as received; UpgradeRefused for one that is not HTTP.
    """
    for _ in range(MAX_INTERIM + 1):
        if trace:
            shown = head.decode("iso-8859-1").rstrip("\r\n").replace("\r\n", "\n< ")
            trace("< " + shown)
        answer = parse_head(head)
        if not is_interim(answer):
            return answer, leftover
        try:
            head, leftover = read_http_head(
                sock, deadline, Step.UPGRADE, "upgrade response", hint, already=leftover
            )
        except OSError as exc:  # ssl errors are OSErrors too
            raise StepFailure(
                Step.UPGRADE,
                f"upgrade failed after a {answer.status} interim answer: {describe_os_error(exc)}",
                kind=FailureKind.CLOSED,
            ) from None
    raise StepFailure(
        Step.UPGRADE,
        f"CSMS sent more than {MAX_INTERIM} 1xx interim answers and no final one",
        kind=FailureKind.BAD_HANDSHAKE,
    )


def refusal_body(
    sock: DeadlineSocket | DeadlineSSLSocket,
    head: HttpHead,
    leftover: bytes,
    deadline: Deadline,
    wait_s: float = 1.0,
) -> bytes:
    """Up to BODY_READ_MAX bytes of a refusal's body, for the reason a server may give there.

    The verdict is already decided, so this waits at most ``wait_s`` (and never past the
    check's deadline) and returns what arrived; a body that never comes costs nothing.
    """
    length_text = head.header("content-length")
    want = BODY_READ_MAX
    if length_text is not None and length_text.strip().isdigit():
        want = min(want, int(length_text.strip()))
    chunked = "chunked" in (head.header("transfer-encoding") or "").lower()
    body = leftover
    sock.io_deadline = deadline.narrowed(wait_s, "upgrade refusal body")
    try:
        while len(body) < want and not (chunked and dechunk(body, want)[1]):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except (DeadlineExceeded, OSError):
        pass  # what arrived is all there is to quote
    finally:
        sock.io_deadline = deadline
    if chunked:
        body = dechunk(body, want)[0]
    return body[:want]
