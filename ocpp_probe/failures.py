"""The closed set of failure kinds: what went wrong, as data a machine can act on.

A failed check has a step (where) and a reason (a sentence for people); its kind says
what sort of failure it was, so alerts, dashboards and scripts can branch on it without
matching prose. Two failures share a kind when the person on call would do the same
thing about them; each kind's first thing to check is declared once, below, and the
table in docs/failure-kinds.md is checked against it by tests/test_failure_kinds.py.

This module sits at the bottom of the package (it imports nothing from it), so every
layer can classify its own exceptions here.
"""

from __future__ import annotations

import errno
import ssl
from enum import Enum


class FailureKind(Enum):
    """Why a check failed. The value is the name used in JSON and Prometheus labels."""

    DNS = "dns"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS_UNTRUSTED = "tls_untrusted"
    TLS_HOSTNAME = "tls_hostname"
    TLS_EXPIRED = "tls_expired"
    TLS_CLIENT_CERT = "tls_client_cert"
    TLS_HANDSHAKE = "tls_handshake"
    PROXY = "proxy"
    PROXY_AUTH = "proxy_auth"
    HTTP_AUTH = "http_auth"
    HTTP_NOT_FOUND = "http_not_found"
    HTTP_STATUS = "http_status"
    NO_SUBPROTOCOL = "no_subprotocol"
    WRONG_SUBPROTOCOL = "wrong_subprotocol"
    BAD_HANDSHAKE = "bad_handshake"
    WS_PROTOCOL = "ws_protocol"
    CLOSED = "closed"
    # Station mode (--hold): how a held connection was lost, each with its own remedy.
    IDLE_CLOSED = "idle_closed"  # cut without a close frame while quiet: an idle timeout
    PONG_TIMEOUT = "pong_timeout"  # the WebSocket ping went unanswered: a dead path
    HEARTBEAT_UNANSWERED = "heartbeat_unanswered"  # socket open, the CSMS stopped answering
    OCPP_PROTOCOL = "ocpp_protocol"
    CALLERROR = "callerror"
    BOOT_PENDING = "boot_pending"
    BOOT_REJECTED = "boot_rejected"
    CONFIG = "config"
    INTERNAL = "internal"

    @property
    def check_first(self) -> str:
        """What a person should look at first when a check fails this way."""
        return CHECK_FIRST[self]


CHECK_FIRST: dict[FailureKind, str] = {
    FailureKind.DNS: "the host name in WS_URL (or the proxy's) and the resolver of the probe's host",
    FailureKind.REFUSED: "that the CSMS (or proxy) is running and listening on the port in WS_URL",
    FailureKind.UNREACHABLE: "the network route from the probe to the CSMS: interfaces, routes, VPN",
    FailureKind.TIMEOUT: "firewalls dropping packets, then the load of the CSMS; the step says which wait",
    FailureKind.TLS_UNTRUSTED: "the CSMS certificate chain against TLS_CA_FILE (or the system CA bundle)",
    FailureKind.TLS_HOSTNAME: "that the host in WS_URL is one of the names in the CSMS certificate",
    FailureKind.TLS_EXPIRED: "the validity dates of the CSMS certificate, and the probe host's clock",
    FailureKind.TLS_CLIENT_CERT: (
        "TLS_CERT_FILE and TLS_KEY_FILE: present, unexpired, issued by a CA the CSMS trusts"
    ),
    FailureKind.TLS_HANDSHAKE: "that the port speaks TLS (ws:// vs wss://) and offers TLS 1.2 or 1.3",
    FailureKind.PROXY: "the proxy in PROBE_PROXY / HTTPS_PROXY: running, and allowed to CONNECT to the CSMS",
    FailureKind.PROXY_AUTH: "the user and password in the proxy URL",
    FailureKind.HTTP_AUTH: "OCPP_PASSWORD and the charge point identity (HTTP 401/403)",
    FailureKind.HTTP_NOT_FOUND: (
        "the path in WS_URL and that the identity is registered at the CSMS (HTTP 404)"
    ),
    FailureKind.HTTP_STATUS: (
        "the HTTP status in the reason: the CSMS or a proxy in front of it answered the upgrade"
    ),
    FailureKind.NO_SUBPROTOCOL: "that the CSMS supports OCPP_VERSION on this endpoint",
    FailureKind.WRONG_SUBPROTOCOL: "OCPP_VERSION against the version configured for this station at the CSMS",
    FailureKind.BAD_HANDSHAKE: "that WS_URL points at the CSMS itself, not a web server or another service",
    FailureKind.WS_PROTOCOL: "the CSMS's WebSocket implementation (or a proxy rewriting frames)",
    FailureKind.CLOSED: "the CSMS logs: it hung up (often a refused identity or client certificate)",
    FailureKind.IDLE_CLOSED: (
        "idle timeouts of load balancers and proxies in front of the CSMS (or a lower --ping-interval)"
    ),
    FailureKind.PONG_TIMEOUT: (
        "the path to the CSMS: NAT or firewall state lost, half-open TCP, a frozen node"
    ),
    FailureKind.HEARTBEAT_UNANSWERED: (
        "the CSMS workers: it stopped serving old connections (failover, stuck worker)"
    ),
    FailureKind.OCPP_PROTOCOL: "the CSMS's OCPP-J messages for this OCPP_VERSION (run with -v to see them)",
    FailureKind.CALLERROR: "the CALLERROR code and description in the reason, and the CSMS logs",
    FailureKind.BOOT_PENDING: "whether the station is awaiting approval at the CSMS (or set ACCEPT_PENDING)",
    FailureKind.BOOT_REJECTED: "that the identity is registered and enabled at the CSMS",
    FailureKind.CONFIG: "the setting named in the reason (environment variable or flag)",
    FailureKind.INTERNAL: "nothing at the CSMS: this is a probe bug; report it with the reason",
}


def kind_for_http_status(status: int) -> FailureKind:
    """The kind of a non-101 answer to the upgrade: credentials and path are their own."""
    if status in (401, 403):
        return FailureKind.HTTP_AUTH
    if status == 404:
        return FailureKind.HTTP_NOT_FOUND
    return FailureKind.HTTP_STATUS


_ERRNO_KINDS = {
    errno.ECONNREFUSED: FailureKind.REFUSED,
    errno.EHOSTUNREACH: FailureKind.UNREACHABLE,
    errno.ENETUNREACH: FailureKind.UNREACHABLE,
    errno.ENETDOWN: FailureKind.UNREACHABLE,
    errno.EHOSTDOWN: FailureKind.UNREACHABLE,
    errno.EADDRNOTAVAIL: FailureKind.UNREACHABLE,
    errno.ETIMEDOUT: FailureKind.TIMEOUT,
    errno.ECONNRESET: FailureKind.CLOSED,
    errno.EPIPE: FailureKind.CLOSED,
    errno.ECONNABORTED: FailureKind.CLOSED,
}


def kind_for_os_error(exc: OSError, default: FailureKind) -> FailureKind:
    """The kind of a socket error; ``default`` for errnos that say nothing more."""
    if isinstance(exc, TimeoutError):
        return FailureKind.TIMEOUT
    return _ERRNO_KINDS.get(exc.errno or 0, default)


# OpenSSL's X509_V_ERR codes that call for a different fix than "trust the CA".
_EXPIRED_CODES = (9, 10)  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED: dates or the probe's clock
_HOSTNAME_CODES = (62, 64)  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
# Alerts by which a server says it does not accept (or did not get) our client certificate.
_CLIENT_CERT_REASONS = frozenset({
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "TLSV1_ALERT_ACCESS_DENIED",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
})


def kind_for_ssl_error(exc: ssl.SSLError) -> FailureKind:
    """The kind of a TLS failure, from the same facts tls.describe_ssl_error words."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in _EXPIRED_CODES:
            return FailureKind.TLS_EXPIRED
        if exc.verify_code in _HOSTNAME_CODES:
            return FailureKind.TLS_HOSTNAME
        return FailureKind.TLS_UNTRUSTED
    if getattr(exc, "reason", None) in _CLIENT_CERT_REASONS:
        return FailureKind.TLS_CLIENT_CERT
    return FailureKind.TLS_HANDSHAKE
