"""The closed set of failure kinds: what went wrong, as data a machine can act on.

A failed check has a step (where) and a reason (a sentence for people); its kind says
what sort of failure it was, so alerts, dashboards and scripts can branch on it without
matching prose. Each kind carries the first thing a person should check; the table in
docs/failure-kinds.md is checked against this declaration by the tests.
"""

from __future__ import annotations

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
