"""Outbound HTTP for the probe: Basic credentials, proxy choice, one bounded request.

The WebSocket upgrade, the CONNECT tunnel through a proxy and the Uptime Kuma push
all resolve a host, connect, maybe tunnel, maybe start TLS and read an HTTP head.
The mechanics live here and in netio.py, once, and every wait in them is bounded
by one Deadline in total: name resolution included, and however slowly the answer trickles in (each
socket call gets only what is left of the deadline, see sockets.py). urllib's
``timeout`` bounds each socket call instead, so a receiver sending one byte a
second could hold a run for ever; that is why the push does not use urllib.

Failures raise NetFailure with a sentence and a FailureKind; callers say which
step of theirs it was. Head parsing stays sans-I/O in upgrade.py.
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING

from .deadline import Deadline, DeadlineExceeded
from .failures import FailureKind, kind_for_ssl_error
from .netio import Address, NetFailure, Stream, connect, read_head, resolve, show_address
from .records import record
from .sockets import DeadlineSocket, describe_os_error
from .upgrade import HttpHead, UpgradeRefused, basic_token, parse_head

if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket

__all__ = [
    "Address", "Credentials", "HttpResponse", "NetFailure", "Proxy", "Stream", "bypassed", "connect",
    "dechunk", "environment_proxy", "parse_proxy", "proxy_variables", "read_head", "request", "resolve",
    "show_address", "start_tls", "tunnel", "url_credentials",
]

# The variables curl reads, lower case first as curl prefers it (for plain http curl
# ignores HTTP_PROXY, a CGI hazard; the probe is no CGI program and honours both).
PROXY_VARIABLES = (
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
    "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
)

DEFAULT_PROXY_PORT = 3128
MAX_BODY_BYTES = 64 * 1024

# -- Basic credentials ------------------------------------------------------------


@record
class Credentials:
    """A user and password for HTTP Basic authentication; neither shows in repr."""

    user: str = field(repr=False)
    password: str = field(repr=False)

    @property
    def authorization(self) -> str:
        return "Basic " + basic_token(self.user, self.password)

    def secrets(self) -> list[str]:
        """What the redactor must hide: the password and the token that carries it."""
        return [self.password, basic_token(self.user, self.password)]


def url_credentials(parts: urllib.parse.SplitResult) -> Credentials | None:
    """The user:password of a URL, percent-decoded, or None when it has none."""
    if parts.username is None:
        return None
    user = urllib.parse.unquote(parts.username)
    return Credentials(user, urllib.parse.unquote(parts.password or ""))


# -- proxies ----------------------------------------------------------------------


@record
class Proxy:
    """An HTTP proxy that tunnels with CONNECT; its user and password are secrets."""

    host: str
    port: int
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def credentials(self) -> Credentials | None:
        if self.user is None:
            return None
        return Credentials(self.user, self.password or "")

    @property
    def authorization(self) -> str | None:
        credentials = self.credentials
        return credentials.authorization if credentials else None

    @property
    def display(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"


def proxy_variables(values: Mapping[str, str]) -> dict[str, str]:
    """Only the proxy variables of an environment (the rest may hold secrets)."""
    return {name: values[name] for name in PROXY_VARIABLES if (values.get(name) or "").strip()}


def environment_proxy(values: Mapping[str, str], scheme: str, host: str) -> tuple[str, str] | None:
    """(variable, proxy URL) for a request to ``scheme://host``, as curl chooses it.

    https and wss use https_proxy, http and ws use http_proxy; all_proxy is the
    fallback; no_proxy lists hosts reached directly.
    """
    secure = scheme.lower() in ("https", "wss")
    names = ("https_proxy", "HTTPS_PROXY") if secure else ("http_proxy", "HTTP_PROXY")
    for name in (*names, "all_proxy", "ALL_PROXY"):
        url = (values.get(name) or "").strip()
        if not url:
            continue
        no_proxy = (values.get("no_proxy") or values.get("NO_PROXY") or "").strip()
        if no_proxy and bypassed(host, no_proxy):
            return None
        return name, url
    return None


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY sends ``host`` direct: ``*``, a domain and its subdomains
    (a leading dot is ignored), an exact address, or an address range in CIDR form."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in no_proxy.replace(" ", ",").split(","):
        entry = entry.strip().lower().lstrip(".").strip("[]")
        if not entry:
            continue
        if entry == "*" or host == entry or host.endswith("." + entry):
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def parse_proxy(url: str) -> Proxy:
    """An http://[user:password@]host[:port] proxy; ValueError says what is wrong."""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or DEFAULT_PROXY_PORT
    except ValueError:
        raise ValueError("is not a valid proxy URL") from None
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError("must be an http://host:port proxy (CONNECT tunnel)")
    credentials = url_credentials(parts)
    if credentials is None:
        return Proxy(parts.hostname, port)
    return Proxy(parts.hostname, port, credentials.user, credentials.password)


def connect_request(host: str, port: int, proxy: Proxy) -> bytes:
    """The CONNECT request that asks ``proxy`` for a tunnel to host:port."""
    shown = f"[{host}]" if ":" in host else host
    target = f"{shown}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def tunnel(sock: DeadlineSocket, host: str, port: int, proxy: Proxy, deadline: Deadline) -> None:
    """Ask ``proxy`` (already connected on ``sock``) for a CONNECT tunnel to host:port."""
    sock.io_deadline = deadline
    try:
        sock.sendall(connect_request(host, port, proxy))
    except DeadlineExceeded:
        raise NetFailure(f"proxy {proxy.display}: sending CONNECT timed out", FailureKind.TIMEOUT) from None
    except OSError as exc:
        raise NetFailure(f"proxy {proxy.display}: {describe_os_error(exc)}", FailureKind.PROXY) from None
    try:
        head, _ = read_head(sock, deadline, "proxy CONNECT response")
    except NetFailure as exc:
        raise NetFailure(exc.message, exc.kind if exc.kind is FailureKind.TIMEOUT else FailureKind.PROXY,
                         exc.partial) from None
    try:
        answer = parse_head(head)
    except UpgradeRefused as exc:
        raise NetFailure(f"proxy {proxy.display}: {exc.reason}", FailureKind.PROXY) from None
    if answer.status == 407:
        raise NetFailure(f"proxy {proxy.display} requires authentication", FailureKind.PROXY_AUTH)
    if answer.status // 100 != 2:
        raise NetFailure(
            f"proxy {proxy.display} refused CONNECT: {answer.status} {answer.reason}", FailureKind.PROXY
        )


def start_tls(
    sock: DeadlineSocket, host: str, context: ssl.SSLContext, deadline: Deadline
) -> DeadlineSSLSocket:
    """TLS over ``sock``; the context must make DeadlineSSLSockets."""
    tls_sock = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    from .tls_socket import DeadlineSSLSocket  # here: a ws:// check never loads ssl

    assert isinstance(tls_sock, DeadlineSSLSocket)
    tls_sock.io_deadline = deadline
    try:
        tls_sock.do_handshake()
    except DeadlineExceeded:
        tls_sock.close()
        raise NetFailure(
            f"TLS handshake timed out after {deadline.budget_s:g} s", FailureKind.TIMEOUT
        ) from None
    except ssl.SSLError as exc:
        tls_sock.close()
        why = getattr(exc, "verify_message", None) or exc.reason or exc
        raise NetFailure(f"TLS handshake failed: {why}", kind_for_ssl_error(exc)) from None
    except OSError as exc:
        tls_sock.close()
        raise NetFailure(
            f"TLS handshake failed: {describe_os_error(exc)}", FailureKind.TLS_HANDSHAKE
        ) from None
    return tls_sock


# -- one request ------------------------------------------------------------------


@record
class HttpResponse:
    """An HTTP response: its head and (at most max_body bytes of) its body."""

    head: HttpHead
    body: bytes  # at most max_body bytes of it

    @property
    def status(self) -> int:
        return self.head.status


def request(
    url: str,
    deadline: Deadline,
    headers: Mapping[str, str] | None = None,
    proxy: Proxy | None = None,
    context: ssl.SSLContext | None = None,
    max_body: int = MAX_BODY_BYTES,
) -> HttpResponse:
    """One GET of ``url`` (no credentials in it), everything bounded by ``deadline``.

    https needs ``context``. Through a proxy, http is sent to the proxy in absolute
    form and https goes through a CONNECT tunnel, as curl does.
    """
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    addresses = resolve(proxy.host if proxy else host, proxy.port if proxy else port, deadline)
    plain = connect(addresses, deadline)
    sock: Stream = plain
    try:
        shown_host = f"[{host}]" if ":" in host else host
        host_header = shown_host if parts.port is None else f"{shown_host}:{port}"
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        lines = []
        if proxy is not None and secure:
            tunnel(plain, host, port, proxy, deadline)
        elif proxy is not None:
            target = urllib.parse.urlunsplit((parts.scheme, host_header, parts.path or "/", parts.query, ""))
            if proxy.authorization:
                lines.append(f"Proxy-Authorization: {proxy.authorization}")
        if secure:
            if context is None:
                raise ValueError("an https request needs a TLS context")
            sock = start_tls(plain, host, context, deadline)
        head_lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", "Connection: close", *lines]
        head_lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.io_deadline = deadline
        try:
            sock.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode("utf-8"))
        except DeadlineExceeded:
            raise NetFailure(f"sending the request timed out after {deadline.budget_s:g} s",
                             FailureKind.TIMEOUT) from None
        except OSError as exc:
            raise NetFailure(f"sending the request failed: {describe_os_error(exc)}",
                             FailureKind.CLOSED) from None
        rest = b""
        informational = 0
        while True:
            try:
                raw, rest = read_head(sock, deadline, "HTTP response", pending=rest)
            except NetFailure as exc:
                if informational and not exc.partial:  # 1xx answers did arrive
                    raise NetFailure(exc.message, exc.kind, partial=True) from None
                raise
            try:
                head = parse_head(raw)
            except UpgradeRefused as exc:
                raise NetFailure(exc.reason, FailureKind.BAD_HANDSHAKE, partial=True) from None
            if not 100 <= head.status < 200:
                break  # RFC 9110 15.2: informational answers come before the real one
            informational += 1
        body = _read_body(sock, head, rest, deadline, max_body)
        return HttpResponse(head, body)
    except OSError as exc:  # a reset while reading: one more way the peer can fail
        raise NetFailure(f"connection failed: {describe_os_error(exc)}", FailureKind.CLOSED, True) from None
    finally:
        sock.close()
        plain.close()


def _read_body(sock: Stream, head: HttpHead, data: bytes, deadline: Deadline, limit: int) -> bytes:
    """The body (at most ``limit`` bytes): by Content-Length, chunked, or to the close."""
    if head.status in (204, 304):
        return b""
    chunked = "chunked" in (head.header("transfer-encoding") or "").lower()
    length_text = head.header("content-length")
    wanted = limit
    if not chunked and length_text is not None and length_text.strip().isdigit():
        wanted = min(limit, int(length_text.strip()))
    sock.io_deadline = deadline
    closed = False
    while True:
        if chunked:
            body, done = dechunk(data, limit)
            if done or len(body) >= limit or closed:
                return body[:limit]
        elif len(data) >= wanted or closed:
            return data[:wanted]
        try:
            chunk = sock.recv(4096)
        except DeadlineExceeded:
            raise NetFailure(
                f"HTTP response body timed out after {len(data)} bytes ({deadline.budget_s:g} s budget)",
                FailureKind.TIMEOUT,
                partial=True,
            ) from None
        closed = not chunk
        data += chunk


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def dechunk(data: bytes, limit: int) -> tuple[bytes, bool]:
    """The body decoded from chunked ``data`` so far (RFC 9112 section 7.1), and whether
    nothing more is worth waiting for: the last chunk came (trailers are not waited
    for), the framing is garbled (what arrived intact is judged), or ``limit`` is reached.
    """
    body = b""
    position = 0
    while len(body) < limit:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return body, False
        size_text = data[position:line_end].split(b";", 1)[0].strip()
        # Hex digits only: int(..., 16) would also take "0x10", "+5" and "1_0".
        if not size_text or not _HEX_DIGITS.issuperset(size_text):
            return body, True
        size = int(size_text, 16)
        if size == 0:
            return body, True
        start = line_end + 2
        body += data[start : start + size]
        if len(data) < start + size + 2:
            return body, False
        position = start + size + 2
    return body, True
