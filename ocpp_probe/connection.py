"""The network half of a check: resolve, connect (through a proxy if set), TLS, upgrade.

Each function does one step, bounded by the deadline it is given, and raises
StepFailure naming that step; the check times them.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from .deadline import Deadline, DeadlineExceeded
from .failures import FailureKind
from .result import Step, StepFailure, TlsFacts
from .settings import CheckSettings
from .sockets import DeadlineSocket, DeadlineSSLSocket, describe_os_error
from .tls import describe_ssl_error
from .trace import Tracer
from .upgrade import (
    BODY_READ_MAX,
    MAX_HEAD_BYTES,
    MAX_INTERIM,
    HttpHead,
    UpgradeRefused,
    basic_authorization,
    basic_token_bytes,
    build_request,
    head_end,
    host_header,
    is_interim,
    judge_response,
    new_key,
    parse_head,
    password_bytes,
    redacted_request,
)

Address = tuple[int, int, int, tuple[Any, ...]]  # family, type, proto, sockaddr


def show_address(sockaddr: tuple[Any, ...]) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def resolve(host: str, port: int, deadline: Deadline) -> list[Address]:
    """TCP addresses for host, IPv6 and IPv4, within the deadline.

    getaddrinfo has no timeout of its own, so it runs in a daemon thread that the
    check stops waiting for when the deadline passes.
    """
    if host.lower().rstrip(".").endswith(".invalid") or host.lower() == "invalid":
        # RFC 6761 section 6.4: such names never resolve, so resolvers must not ask DNS.
        raise StepFailure(Step.RESOLVE, f"cannot resolve {host}: .invalid names never resolve (RFC 6761)")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address needs no lookup, nor a thread to bound one
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=lookup, name="ocpp-probe-resolve", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if not outcome:
        raise StepFailure(Step.RESOLVE, f"resolving {host} timed out after {deadline.budget_s:g} s")
    found = outcome[0]
    if isinstance(found, socket.gaierror):
        raise StepFailure(Step.RESOLVE, f"cannot resolve {host}: {found.strerror}")
    if isinstance(found, Exception):
        raise StepFailure(Step.RESOLVE, f"cannot resolve {host}: {found}")
    addresses = [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    if not addresses:
        raise StepFailure(Step.RESOLVE, f"{host} has no addresses")
    return addresses


def connect(addresses: list[Address], deadline: Deadline) -> DeadlineSocket:
    """A TCP connection to the first address that answers.

    Each remaining address gets an equal share of the time left, so one address
    that drops packets cannot use up the whole budget.
    """
    failures: list[str] = []
    for index, (family, kind, proto, sockaddr) in enumerate(addresses):
        left = len(addresses) - index
        share = deadline.remaining() / left
        if share <= 0:
            break
        sock = DeadlineSocket(family, kind, proto)
        try:
            sock.settimeout(share)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(sockaddr)
            return sock
        except socket.timeout:
            failures.append(f"no answer from {show_address(sockaddr)} within {share:.3g} s")
        except ConnectionRefusedError:
            failures.append(f"connection refused by {show_address(sockaddr)}")
        except OSError as exc:
            failures.append(f"{show_address(sockaddr)}: {describe_os_error(exc)}")
        sock.close()
    if not failures:
        raise StepFailure(Step.CONNECT, f"connecting timed out after {deadline.budget_s:g} s")
    raise StepFailure(Step.CONNECT, "; ".join(failures))


_HTTP_PREFIX = b"HTTP/"


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
    sock.io_deadline = deadline
    buffer = already
    while True:
        end = head_end(buffer)
        if end >= 0:
            if end > MAX_HEAD_BYTES:
                break
            return buffer[:end], buffer[end:]
        if len(buffer) > MAX_HEAD_BYTES:
            break
        try:
            chunk = sock.recv(4096)
        except DeadlineExceeded:
            got = f"after {len(buffer)} bytes of it" if buffer else "before any of it arrived"
            raise StepFailure(
                step, f"{what} timed out {got} ({deadline.budget_s:g} s budget)"
            ) from None
        if not chunk:
            if not buffer:
                raise StepFailure(
                    step, f"connection closed by the server before the {what}{silent_close_hint}"
                )
            raise StepFailure(step, f"connection closed in the middle of the {what}")
        buffer += chunk
        if not buffer.startswith(_HTTP_PREFIX[: len(buffer)]):
            # An SSH banner, a TLS alert, a database greeting: no need to wait for more.
            first_line = buffer.split(b"\r\n", 1)[0].split(b"\n", 1)[0][:60]
            raise StepFailure(
                step, f"server did not answer with HTTP: {first_line.decode('iso-8859-1')!r}"
            )
    raise StepFailure(step, f"{what} header block is over the {MAX_HEAD_BYTES}-byte limit")


def tunnel(sock: DeadlineSocket, settings: CheckSettings, deadline: Deadline) -> None:
    """Ask the HTTP proxy for a CONNECT tunnel to the CSMS."""
    assert settings.proxy is not None
    target = host_header(settings.host, settings.port, secure=False)
    if ":" not in target.rsplit("]", 1)[-1]:
        target = f"{target}:{settings.port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if settings.proxy.authorization:
        lines.append(f"Proxy-Authorization: {settings.proxy.authorization}")
    sock.io_deadline = deadline
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    except OSError as exc:
        raise StepFailure(Step.CONNECT, f"proxy {settings.proxy.display}: {exc}") from None
    head, _ = read_http_head(sock, deadline, Step.CONNECT, "proxy CONNECT response")
    try:
        answer = parse_head(head)
    except UpgradeRefused as exc:
        raise StepFailure(Step.CONNECT, f"proxy {settings.proxy.display}: {exc.reason}") from None
    if answer.status == 407:
        raise StepFailure(Step.CONNECT, f"proxy {settings.proxy.display} requires authentication")
    if answer.status // 100 != 2:
        raise StepFailure(
            Step.CONNECT,
            f"proxy {settings.proxy.display} refused CONNECT: {answer.status} {answer.reason}",
        )


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
    try:
        answer, leftover = _final_head(sock, deadline, head, leftover, hint, trace)
        body = b"" if answer.status == 101 else _refusal_body(sock, answer, leftover, deadline)
        subprotocol = judge_response(
            answer, key, settings.version.subprotocol, settings.password is not None, body,
            version_hint=True,
        )
    except UpgradeRefused as exc:
        raise StepFailure(Step.UPGRADE, exc.reason, http_status=exc.status) from None
    return Upgraded(subprotocol, leftover)


def _final_head(
    sock: DeadlineSocket | DeadlineSSLSocket,
    deadline: Deadline,
    head: bytes,
    leftover: bytes,
    hint: str,
    trace: Tracer | None,
) -> tuple[HttpHead, bytes]:
    """The answer to the upgrade after skipping 1xx interim answers (RFC 9110 15.2)."""
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


def _refusal_body(
    sock: DeadlineSocket | DeadlineSSLSocket, head: HttpHead, leftover: bytes, deadline: Deadline
) -> bytes:
    """Up to BODY_READ_MAX bytes of a refusal's body, for the reason a server may give there.

    The verdict is already decided, so this waits at most a second (and never past the
    check's deadline) and returns what arrived; a body that never comes costs nothing.
    """
    length_text = head.header("content-length")
    want = BODY_READ_MAX
    if length_text is not None and length_text.strip().isdigit():
        want = min(want, int(length_text.strip()))
    chunked = "chunked" in (head.header("transfer-encoding") or "").lower()
    body = leftover
    sock.io_deadline = deadline.narrowed(1.0, "upgrade refusal body")
    try:
        while len(body) < want and not (chunked and _dechunked(body)[1]):
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except (DeadlineExceeded, OSError):
        pass  # what arrived is all there is to quote
    finally:
        sock.io_deadline = deadline
    if chunked:
        body = _dechunked(body)[0]
    return body[:want]


def _dechunked(data: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body as far as it arrived intact, and whether it is complete.

    RFC 9112 section 7.1; trailers after the last chunk are not waited for.
    """
    out = b""
    while True:
        line, sep, rest = data.partition(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        if not sep or not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            return out, False
        size = int(size_text, 16)
        if size == 0:
            return out, True
        out += rest[:size]
        data = rest[size + 2 :]
