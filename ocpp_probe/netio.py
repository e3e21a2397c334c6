"""Reaching a server within a Deadline: resolve, connect, read an HTTP head.

The first steps every outbound connection of the probe shares (the check's upgrade,
a proxy's CONNECT, the Kuma push). Each wait asks the deadline how long it may still
take; getaddrinfo, which has no timeout, runs in a thread the caller stops waiting
for. Failures are NetFailure: a sentence for people and a FailureKind.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Any, Union

from .deadline import Deadline, DeadlineExceeded
from .failures import FailureKind, kind_for_os_error
from .printable import quoted
from .sockets import DeadlineSocket, describe_os_error
from .upgrade import MAX_HEAD_BYTES, head_end

Address = tuple[int, int, int, tuple[Any, ...]]  # family, type, proto, sockaddr
if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket

# A name, not the class: tls_socket.py loads ssl, which a ws:// check never needs.
Stream = Union[DeadlineSocket, "DeadlineSSLSocket"]


class NetFailure(Exception):
    """A step of an outbound connection failed; ``message`` is one line for people."""

    def __init__(self, message: str, kind: FailureKind, partial: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.partial = partial  # some of the answer had arrived when it failed


def show_address(sockaddr: tuple[Any, ...]) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def is_address_literal(host: str) -> bool:
    """Whether host is an IPv4 or IPv6 address as written (no scope id): parsed, never
    looked up. (Not ipaddress: its import costs about 1 ms at every start.)"""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return True
    return False


def resolve(host: str, port: int, deadline: Deadline) -> list[Address]:
    """TCP addresses for host, IPv6 and IPv4, within the deadline.

    getaddrinfo has no timeout of its own, so it runs in a daemon thread that the
    caller stops waiting for when the deadline passes.
    """
    if host.lower().rstrip(".").endswith(".invalid") or host.lower() == "invalid":
        # RFC 6761 section 6.4: such names never resolve, so resolvers must not ask DNS.
        raise NetFailure(
            f"cannot resolve {host}: .invalid names never resolve (RFC 6761)", FailureKind.DNS
        )
    # getaddrinfo encodes a str name with the "idna" codec, whose first use imports
    # stringprep and Unicode tables (about 1.4 ms at every start, measured); an ASCII
    # name needs no encoding and goes as bytes. Other names keep the codec's IDNA.
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    if is_address_literal(host):  # needs no lookup, nor a thread to bound one
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(name, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=lookup, name="ocpp-probe-resolve", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if not outcome:
        raise NetFailure(
            f"resolving {host} timed out after {deadline.budget_s:g} s", FailureKind.TIMEOUT
        )
    found = outcome[0]
    if isinstance(found, socket.gaierror):
        raise NetFailure(f"cannot resolve {host}: {found.strerror}", FailureKind.DNS)
    if isinstance(found, Exception):
        raise NetFailure(f"cannot resolve {host}: {found}", FailureKind.DNS)
    addresses = [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    if not addresses:
        raise NetFailure(f"{host} has no addresses", FailureKind.DNS)
    return addresses


def connect(addresses: list[Address], deadline: Deadline) -> DeadlineSocket:
    """A TCP connection to the first address that answers.

    Each remaining address gets an equal share of the time left, so one address
    that drops packets cannot use up the whole budget. When all fail, the kind is
    the most telling one: a refusal (something answered) over silence over no route.
    """
    failures: list[str] = []
    kinds: set[FailureKind] = set()
    for index, (family, kind, proto, sockaddr) in enumerate(addresses):
        share = deadline.remaining() / (len(addresses) - index)
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
            kinds.add(FailureKind.TIMEOUT)
        except ConnectionRefusedError:
            failures.append(f"connection refused by {show_address(sockaddr)}")
            kinds.add(FailureKind.REFUSED)
        except OSError as exc:
            failures.append(f"{show_address(sockaddr)}: {describe_os_error(exc)}")
            kinds.add(kind_for_os_error(exc, FailureKind.UNREACHABLE))
        sock.close()
    if not failures:
        raise NetFailure(f"connecting timed out after {deadline.budget_s:g} s", FailureKind.TIMEOUT)
    telling = [k for k in (FailureKind.REFUSED, FailureKind.TIMEOUT) if k in kinds]
    chosen = telling[0] if telling else kinds.pop() if len(kinds) == 1 else FailureKind.UNREACHABLE
    raise NetFailure("; ".join(failures), chosen)


_HTTP_PREFIX = b"HTTP/"


def read_head(
    sock: Stream, deadline: Deadline, what: str, silent_close_hint: str = "", pending: bytes = b""
) -> tuple[bytes, bytes]:
    """An HTTP response head and the bytes that followed it, within the deadline.

    ``pending`` holds bytes already received (what followed a 1xx head).
    """
    sock.io_deadline = deadline
    buffer = pending
    while True:
        if buffer:
            if not buffer.startswith(_HTTP_PREFIX[: len(buffer)]):
                # An SSH banner, a TLS alert, a database greeting: no need to wait for more.
                first_line = buffer.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
                raise NetFailure(
                    f"server did not answer with HTTP: {quoted(first_line.decode('iso-8859-1'))!r}",
                    FailureKind.BAD_HANDSHAKE,
                    partial=True,
                )
            end = head_end(buffer)
            if end >= 0 and end <= MAX_HEAD_BYTES:
                return buffer[:end], buffer[end:]
            if end >= 0 or len(buffer) > MAX_HEAD_BYTES:
                raise NetFailure(
                    f"{what} header block is over the {MAX_HEAD_BYTES}-byte limit",
                    FailureKind.BAD_HANDSHAKE,
                    partial=True,
                )
        try:
            chunk = sock.recv(4096)
        except DeadlineExceeded:
            got = f"after {len(buffer)} bytes of it" if buffer else "before any of it arrived"
            raise NetFailure(
                f"{what} timed out {got} ({deadline.budget_s:g} s budget)",
                FailureKind.TIMEOUT,
                partial=bool(buffer),
            ) from None
        if not chunk:
            if not buffer:
                raise NetFailure(
                    f"connection closed by the server before the {what}{silent_close_hint}",
                    FailureKind.CLOSED,
                )
            raise NetFailure(f"connection closed in the middle of the {what}", FailureKind.CLOSED, True)
        buffer += chunk
