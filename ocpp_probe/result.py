"""What a check found: a plain value that every reporter renders in its own way.

Nothing in the check prints; it returns a CheckResult, and the text line, the JSON
object, the Prometheus metrics and the Kuma push are all views of that one value.
"""

from __future__ import annotations

from dataclasses import field
from enum import Enum

from .failures import FailureKind
from .printable import printable
from .records import record, replace


class Verdict(Enum):
    """Monitoring-plugins states; the value is the process exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def exit_code(self) -> int:
        return self.value


class Step(Enum):
    """The steps of a check, in the order they run."""

    CONFIG = "config"
    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS = "tls"
    UPGRADE = "upgrade"
    BOOT = "boot"
    HEARTBEAT = "heartbeat"
    CLOSE = "close"
    SESSION = "session"  # station mode: the held connection dropped between checks


class StepFailure(Exception):
    """A step of the check failed; ``reason`` is the one-line explanation, ``kind`` its class.

    The kind is required: every layer decides it where it translates its own
    exceptions (connection.stage, Exchange.call, the check's steps), never later
    by reading the sentence.
    """

    def __init__(
        self,
        step: Step,
        reason: str,
        verdict: Verdict = Verdict.CRITICAL,
        http_status: int | None = None,
        *,
        kind: FailureKind,
        error_code: str | None = None,
        connection_lost: bool = False,
    ) -> None:
        reason = printable(reason)  # reasons quote the server; they must stay one line
        super().__init__(reason)
        self.step = step
        self.reason = reason
        self.verdict = verdict
        self.http_status = http_status
        self.kind = kind
        self.error_code = error_code  # the CALLERROR's errorCode, when the CSMS sent one
        # Set where a CALL's transport failed (Exchange.call): the connection cannot carry
        # another message. A CALLERROR or a bad payload leaves it usable; station mode
        # keeps the connection then and drops it (session.drop_in_call) otherwise.
        self.connection_lost = connection_lost


def timed_out(step: Step, reason: str) -> StepFailure:
    """The failure of a wait that ran out; every layer's timeout goes through here.

    Layers word the reason (which wait, which budget, how far it got); the kind is
    decided once, here.
    """
    return StepFailure(step, reason, kind=FailureKind.TIMEOUT)


@record
class TlsFacts:
    """What the TLS handshake showed."""

    version: str | None = None
    cipher: str | None = None
    cert_not_after: float | None = None  # epoch seconds of the leaf's notAfter
    cert_days_left: float | None = None
    verified: bool = True  # False when the user switched verification off
    # Earliest notAfter among the certificates the CSMS presented (leaf and intermediates);
    # None when the Python build cannot list the chain.
    chain_not_after: float | None = None


@record
class BootFacts:
    """What the BootNotification response said."""

    status: str
    interval_s: int | None = None
    current_time: str | None = None
    reason_code: str | None = None


@record
class SessionFacts:
    """Station mode (--hold): the long-held connection behind this result."""

    connection_age_s: float | None  # None while no connection is open
    reconnects: int  # connections opened after the first one
    boots: int  # BootNotifications sent in this session (1 is the healthy figure)
    heartbeats_sent: int  # on the current connection
    heartbeats_answered: int
    last_drop_kind: str | None = None  # a FailureKind value
    last_drop_reason: str | None = None
    last_drop_lifetime_s: float | None = None  # how long the dropped connection had lived
    pong_rtt_ms: float | None = None  # the last WebSocket ping's round trip


@record
class CheckResult:
    """The frozen result of one check, which every reporter renders."""

    verdict: Verdict
    target: str  # the endpoint URL, never with credentials in it
    ocpp_version: str
    failed_step: Step | None = None
    reason: str = ""
    failure_kind: FailureKind | None = None  # None exactly when the check passed
    # Milliseconds per step that ran (finished or failed), in check order.
    timings_ms: dict[str, float] = field(default_factory=dict)
    total_ms: float = 0.0
    subprotocol: str | None = None
    http_status: int | None = None
    remote_address: str | None = None
    tls: TlsFacts | None = None
    boot: BootFacts | None = None
    heartbeat_rtt_ms: float | None = None
    clock_offset_s: float | None = None  # CSMS clock minus local clock
    csms_calls: list[str] = field(default_factory=list)  # actions the CSMS sent us first
    warnings: list[str] = field(default_factory=list)
    started_at: str | None = None  # UTC ISO 8601, for logs and JSON consumers
    # The limits the check was judged by, for perfdata's warn field; None: no limits shown.
    thresholds: Thresholds | None = None
    session: SessionFacts | None = None  # station mode only; one-shot results have none

    def __post_init__(self) -> None:
        # A failure without a kind would reach JSON and Prometheus as "passed". A failure
        # may lack a step (serve's answer when a shared check outlasts the request), never a kind.
        if (self.failure_kind is None) != self.ok or (self.ok and self.failed_step is not None):
            raise ValueError(
                "a failed CheckResult has a failure_kind; a passing one has neither it nor a step"
            )

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.OK, Verdict.WARNING)


@record
class Thresholds:
    """Limits that turn a passing check into a WARNING."""

    rtt_warn_ms: float | None = None
    cert_warn_days: float | None = 14.0
    clock_warn_s: float | None = None


def judged(result: CheckResult, limits: Thresholds) -> CheckResult:
    """The result with WARNING applied where a passing check crossed a limit."""
    if result.verdict is not Verdict.OK:
        return result
    warnings = list(result.warnings)
    rtt = result.heartbeat_rtt_ms
    if limits.rtt_warn_ms is not None and rtt is not None and rtt > limits.rtt_warn_ms:
        warnings.append(f"Heartbeat RTT {rtt:.2f} ms above {limits.rtt_warn_ms:g} ms")
    days = result.tls.cert_days_left if result.tls else None
    if limits.cert_warn_days is not None and days is not None and days < limits.cert_warn_days:
        warnings.append(f"certificate expires in {days:.1f} days")
    offset = result.clock_offset_s
    if limits.clock_warn_s is not None and offset is not None and abs(offset) > limits.clock_warn_s:
        warnings.append(f"CSMS clock off by {offset:+.1f} s")
    if warnings == result.warnings:
        return result
    return replace(result, verdict=Verdict.WARNING, warnings=warnings)
