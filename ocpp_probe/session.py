"""Station mode's bookkeeping, without sockets: pings, backoff, drops and session facts.

The held connection (station.py) asks these plain objects what is due and tells them
what happened; everything here takes the time as an argument, so it is tested without
waiting and without a network.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

from .channel import ConnectionClosed, WebSocketViolation
from .deadline import DeadlineExceeded
from .failures import FailureKind
from .result import SessionFacts, StepFailure
from .rpc import FrameViolation
from .sockets import describe_os_error
from .tls import describe_ssl_error

RECONNECT_FIRST_S = 1.0  # first retry after a drop; doubles up to the --every interval


@dataclass(frozen=True)
class Drop:
    """How a held connection was lost."""

    kind: FailureKind
    reason: str  # one line, ends with how long the connection lived
    lifetime_s: float


def _lived(lifetime_s: float) -> str:
    return f"after the connection lived {lifetime_s:.1f} s"


def closed_by_csms(close_reason: str, lifetime_s: float) -> Drop:
    """The CSMS sent a close frame; ``close_reason`` names its code and text."""
    return Drop(FailureKind.CLOSED, f"{close_reason}, {_lived(lifetime_s)}", lifetime_s)


def cut_without_close(
    how: str, waiting_for: str | None, quiet_s: float, lifetime_s: float
) -> Drop:
    """The TCP connection ended (EOF or reset) with no WebSocket close frame.

    While the probe waited for an answer, the far end went away mid-conversation.
    While nothing was outstanding, the connection was cut in a quiet stretch: the
    signature of an idle timeout in a load balancer or proxy (the quiet time says how
    long it tolerates silence), though a CSMS process that died looks the same.
    """
    if waiting_for is not None:
        return Drop(
            FailureKind.CLOSED,
            f"{how} without a WebSocket close frame while waiting for the {waiting_for}, "
            f"{_lived(lifetime_s)}",
            lifetime_s,
        )
    return Drop(
        FailureKind.IDLE_CLOSED,
        f"{how} without a close frame after {quiet_s:.1f} s of silence (an idle timeout "
        f"in a proxy or load balancer?), {_lived(lifetime_s)}",
        lifetime_s,
    )


def pong_missing(timeout_s: float, lifetime_s: float) -> Drop:
    return Drop(
        FailureKind.PONG_TIMEOUT,
        f"no pong within {timeout_s:g} s of a WebSocket ping: the path to the CSMS is dead "
        f"or the CSMS is stuck, {_lived(lifetime_s)}",
        lifetime_s,
    )


def heartbeat_unanswered(timeout_s: float, lifetime_s: float) -> Drop:
    return Drop(
        FailureKind.HEARTBEAT_UNANSWERED,
        f"no Heartbeat response within {timeout_s * 1000:g} ms (HEARTBEAT_TIMEOUT) on an open "
        f"connection: the CSMS stopped serving it, the probe reconnects, {_lived(lifetime_s)}",
        lifetime_s,
    )


def broken(kind: FailureKind, problem: str, lifetime_s: float) -> Drop:
    """The CSMS broke the WebSocket or OCPP-J rules; the probe gives up the connection."""
    return Drop(kind, f"{problem}; connection given up, {_lived(lifetime_s)}", lifetime_s)


def drop_in_call(
    exc: StepFailure, action: str, budget_s: float, opened_at: float, last_traffic: float, now: float
) -> Drop | None:
    """The drop behind a failed CALL, or None when the connection is still usable."""
    cause = exc.__context__  # the exchange raises its StepFailure `from None` over this
    lifetime = now - opened_at
    if isinstance(cause, DeadlineExceeded):
        if action == "Heartbeat":
            return heartbeat_unanswered(budget_s, lifetime)
        return broken(FailureKind.TIMEOUT, exc.reason, lifetime)
    if isinstance(cause, (ConnectionClosed, OSError)):
        return drop_from_error(cause, f"{action} response", now - last_traffic, lifetime)
    if isinstance(cause, WebSocketViolation):
        return broken(FailureKind.WS_PROTOCOL, exc.reason, lifetime)
    if isinstance(cause, FrameViolation):
        return broken(FailureKind.OCPP_PROTOCOL, exc.reason, lifetime)
    return None


def drop_from_error(
    cause: BaseException, waiting_for: str | None, quiet_s: float, lifetime: float
) -> Drop:
    if isinstance(cause, ConnectionClosed):
        if cause.by_frame:
            return closed_by_csms(cause.reason, lifetime)
        return cut_without_close("CSMS closed the connection", waiting_for, quiet_s, lifetime)
    if isinstance(cause, ssl.SSLError):
        return cut_without_close(describe_ssl_error(cause), waiting_for, quiet_s, lifetime)
    assert isinstance(cause, OSError)
    return cut_without_close(describe_os_error(cause), waiting_for, quiet_s, lifetime)


class Pinger:
    """WebSocket pings every ``interval_s`` (0: none), each answered within ``timeout_s``."""

    def __init__(self, interval_s: float, timeout_s: float, now: float) -> None:
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._next_at = now + interval_s
        self._outstanding: bytes | None = None
        self._sent_at = 0.0
        self.rtt_ms: float | None = None

    def due(self, now: float) -> bool:
        return self.interval_s > 0 and self._outstanding is None and now >= self._next_at

    def sent(self, now: float) -> bytes:
        """A new ping's payload, recorded as outstanding."""
        payload = os.urandom(8)
        self._outstanding, self._sent_at = payload, now
        self._next_at = now + self.interval_s
        return payload

    def pong(self, payload: bytes, now: float) -> None:
        # RFC 6455 allows unsolicited pongs; only the answer to ours is measured.
        if self._outstanding is not None and payload == self._outstanding:
            self.rtt_ms = (now - self._sent_at) * 1000
            self._outstanding = None

    @property
    def waiting(self) -> bool:
        return self._outstanding is not None

    def overdue(self, now: float) -> bool:
        return self._outstanding is not None and now >= self._sent_at + self.timeout_s

    def next_event(self, now: float) -> float | None:
        """When something is next due: a ping to send or a pong deadline."""
        if self._outstanding is not None:
            return self._sent_at + self.timeout_s
        return self._next_at if self.interval_s > 0 else None


class Backoff:
    """Delays between reconnect attempts: 1 s, 2 s, 4 s ... never longer than ``cap_s``."""

    def __init__(self, cap_s: float, first_s: float = RECONNECT_FIRST_S) -> None:
        self.cap_s = cap_s
        self.first_s = min(first_s, cap_s)
        self._next = self.first_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap_s)
        return delay

    def reset(self) -> None:
        self._next = self.first_s


def boot_retry_delay(interval_s: int | None, every_s: float) -> float:
    """When to send BootNotification again after Pending or Rejected.

    OCPP: after the interval the CSMS gave; 0 (or none) leaves the choice to the
    station, which then uses its own check interval.
    """
    return float(interval_s) if interval_s and interval_s > 0 else every_s


@dataclass
class Ledger:
    """Counts over the whole session and over the current connection."""

    connections: int = 0
    boots: int = 0
    heartbeats_sent: int = 0  # reset with each connection
    heartbeats_answered: int = 0
    last_drop: Drop | None = None

    def connected(self) -> None:
        self.connections += 1
        self.heartbeats_sent = self.heartbeats_answered = 0

    def facts(self, age_s: float | None, pong_rtt_ms: float | None) -> SessionFacts:
        drop = self.last_drop
        return SessionFacts(
            connection_age_s=None if age_s is None else round(age_s, 3),
            reconnects=max(0, self.connections - 1),
            boots=self.boots,
            heartbeats_sent=self.heartbeats_sent,
            heartbeats_answered=self.heartbeats_answered,
            last_drop_kind=drop.kind.value if drop else None,
            last_drop_reason=drop.reason if drop else None,
            last_drop_lifetime_s=round(drop.lifetime_s, 3) if drop else None,
            pong_rtt_ms=None if pong_rtt_ms is None else round(pong_rtt_ms, 3),
        )


def short_session(facts: SessionFacts) -> str:
    """The session in a few words, for the text line and Kuma's msg."""
    if facts.connection_age_s is None:
        held = "not connected"
    else:
        held = f"held {_duration(facts.connection_age_s)}"
    parts = [held, f"{facts.reconnects} reconnect{'s' if facts.reconnects != 1 else ''}"]
    if facts.last_drop_kind is not None and facts.last_drop_lifetime_s is not None:
        parts.append(
            f"last drop {facts.last_drop_kind} after {_duration(facts.last_drop_lifetime_s)}"
        )
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"
