"""Station mode's held connection: the open link and how it was lost.

station.py drives the connection; these are the plain records it keeps about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .channel import Channel
from .exchange import Exchange
from .messages import BootStatus
from .result import BootFacts, TlsFacts
from .session import Drop, Pinger
from .sockets import DeadlineSocket

if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket


class Lost(Exception):
    """The held connection is gone (or given up); ``drop`` says how."""

    def __init__(self, drop: Drop) -> None:
        super().__init__(drop.reason)
        self.drop = drop


@dataclass
class Link:
    """One open connection and what the probe knows about it."""

    channel: Channel
    sock: DeadlineSocket | DeadlineSSLSocket
    exchange: Exchange
    pinger: Pinger
    opened_at: float
    last_traffic: float
    subprotocol: str | None
    remote_address: str | None
    tls: TlsFacts | None
    boot: BootFacts | None = None  # the last BootNotification answer on this connection
    boot_retry_at: float | None = None  # Pending or Rejected: when to boot again
    calls: list[str] = field(default_factory=list)  # CSMS CALLs since the last result

    @property
    def accepted(self) -> bool:
        return self.boot is not None and self.boot.status == BootStatus.ACCEPTED.value

    @property
    def refused(self) -> bool:
        """Booted but not (yet) Accepted: no other message may be sent."""
        return self.boot is not None and not self.accepted
