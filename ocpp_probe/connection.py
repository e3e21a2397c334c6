"""The network half of a check: resolve, connect (through a proxy if set), TLS, upgrade.

Each function does one step, bounded by the deadline it is given, and raises
StepFailure naming that step; the check times them.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

from . import httpclient
from .deadline import Deadline, DeadlineExceeded
from .httpclient import Address, NetFailure, show_address
from .result import Step, StepFailure, TlsFacts
from .settings import CheckSettings
from .sockets import DeadlineSocket, DeadlineSSLSocket, describe_os_error
from .tls import describe_ssl_error
from .trace import Tracer
from .upgrade import (
    UpgradeRefused,
    basic_authorization,
    basic_token_bytes,
    build_request,
    host_header,
    judge_response,
    new_key,
    parse_head,
    password_bytes,
    redacted_request,
)

__all__ = [
    "Address", "connect", "read_http_head", "resolve", "show_address", "start_tls", "tunnel", "upgrade",
]



def resolve(host: str, port: int, deadline: Deadline) -> list[Address]:
    """TCP addresses for host within the deadline (see httpclient.resolve)."""
    try:
        return httpclient.resolve(host, port, deadline)
    except NetFailure as exc:
        raise StepFailure(Step.RESOLVE, exc.message, kind=exc.kind) from None


def connect(addresses: list[Address], deadline: Deadline) -> DeadlineSocket:
    """A TCP connection to the first address that answers (see httpclient.connect)."""
    try:
        return httpclient.connect(addresses, deadline)
    except NetFailure as exc:
        raise StepFailure(Step.CONNECT, exc.message, kind=exc.kind) from None


def read_http_head(
    sock: DeadlineSocket | DeadlineSSLSocket,
    deadline: Deadline,
    step: Step,
    what: str,
    silent_close_hint: str = "",
) -> tuple[bytes, bytes]:
    """The HTTP response head and any bytes that followed it, within limits."""
    try:
        return httpclient.read_head(sock, deadline, what, silent_close_hint)
    except NetFailure as exc:
        raise StepFailure(step, exc.message, kind=exc.kind) from None


def tunnel(sock: DeadlineSocket, settings: CheckSettings, deadline: Deadline) -> None:
    """Ask the HTTP proxy for a CONNECT tunnel to the CSMS."""
    assert settings.proxy is not None
    try:
        httpclient.tunnel(sock, settings.host, settings.port, settings.proxy, deadline)
    except NetFailure as exc:
        raise StepFailure(Step.CONNECT, exc.message, kind=exc.kind) from None


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
    assert isinstance(tls_sock, DeadlineSSLSocket)
    tls_sock.io_deadline = deadline
    try:
        tls_sock.do_handshake()
    except DeadlineExceeded:
        tls_sock.close()
        raise StepFailure(
            Step.TLS, f"TLS handshake timed out after {deadline.budget_s:g} s"
        ) from None
    except ssl.SSLError as exc:
        tls_sock.close()
        raise StepFailure(Step.TLS, describe_ssl_error(exc)) from None
    except OSError as exc:
        tls_sock.close()
        raise StepFailure(Step.TLS, f"TLS handshake failed: {describe_os_error(exc)}") from None
    return tls_sock, _facts(tls_sock, verified=not settings.insecure)


@dataclass(frozen=True)
class Upgraded:
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
    if isinstance(sock, ssl.SSLSocket) and settings.cert_file is None and sock.version() == "TLSv1.3":
        # In TLS 1.3 a server checks the client certificate after the handshake has
        # completed on our side; many just hang up instead of sending an alert.
        hint = ": the CSMS may require a client certificate (set TLS_CERT_FILE)"
    sock.io_deadline = deadline
    try:
        sock.sendall(request)
        head, leftover = read_http_head(sock, deadline, Step.UPGRADE, "upgrade response", hint)
    except DeadlineExceeded:
        raise StepFailure(Step.UPGRADE, f"upgrade timed out after {deadline.budget_s:g} s") from None
    except ssl.SSLEOFError:
        raise StepFailure(Step.UPGRADE, f"connection closed by the server during the upgrade{hint}") from None
    except ssl.SSLError as exc:
        # TLS 1.3 servers judge the client certificate after the client's handshake has
        # finished, so their alert arrives with the first read: still a TLS failure.
        raise StepFailure(Step.TLS, describe_ssl_error(exc)) from None
    except OSError as exc:
        raise StepFailure(Step.UPGRADE, f"upgrade failed: {describe_os_error(exc)}") from None
    if trace:
        shown = head.decode("iso-8859-1").rstrip("\r\n").replace("\r\n", "\n< ")
        trace("< " + shown)
    try:
        subprotocol = judge_response(
            parse_head(head), key, settings.version.subprotocol, settings.password is not None
        )
    except UpgradeRefused as exc:
        raise StepFailure(Step.UPGRADE, exc.reason, http_status=exc.status) from None
    return Upgraded(subprotocol, leftover)
