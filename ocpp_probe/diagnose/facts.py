"""What a diagnosis observed, layer by layer: plain frozen values, no judgement.

The probes fill these in; findings.py turns them into findings and suggestions;
report.py renders both. Text that came from the server is already escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..result import CheckResult


@dataclass(frozen=True)
class AddressProbe:
    family: str  # "IPv4" or "IPv6"
    address: str  # shown as host:port or [v6]:port
    connected: bool
    detail: str  # "connected" or why not
    connect_ms: float | None


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: str | None  # RFC 3339 UTC
    not_after: str | None
    not_after_epoch: float | None
    sans: list[str] = field(default_factory=list)
    self_issued: bool = False


@dataclass(frozen=True)
class Verification:
    store: str  # "system" or "TLS_CA_FILE"
    ok: bool
    detail: str


@dataclass(frozen=True)
class TlsProbe:
    handshake_ok: bool
    detail: str  # why the handshake failed, or ""
    version: str | None = None
    cipher: str | None = None
    chain: list[CertInfo] = field(default_factory=list)
    chain_available: bool = True  # False where the interpreter cannot show the chain
    chain_note: str = ""
    verifications: list[Verification] = field(default_factory=list)
    missing_intermediate: bool | None = None
    earliest_expiry_days: float | None = None
    ocpp_profile_ok: bool | None = None  # None: not tried (time ran out)
    ocpp_profile_detail: str = ""


@dataclass(frozen=True)
class UpgradeAttempt:
    subprotocol: str | None  # None: no subprotocol offered
    path: str  # the request target sent
    path_variant: str  # "as configured", "with trailing slash", "without trailing slash"
    credentials: str  # "as configured", "none", "decoded hex"
    credentials_sent: bool
    outcome: str  # served | no_subprotocol | wrong_subprotocol | refused | closed | error
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body_excerpt: str = ""
    detail: str = ""  # the check's wording of what happened
    deflate_offered: bool = False
    deflate_answer: str | None = None  # the server's Sec-WebSocket-Extensions, if any
    date_offset_s: float | None = None  # server Date minus local clock
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Lint:
    setting: str
    level: str  # "WARN" or "FAIL"
    text: str
    suggestion: str = ""


@dataclass(frozen=True)
class Facts:
    target: str
    configured_version: str
    secure: bool
    identity: str
    proxy: str | None = None
    lints: list[Lint] = field(default_factory=list)
    resolve_error: str | None = None
    addresses: list[AddressProbe] = field(default_factory=list)
    proxy_error: str | None = None
    tls: TlsProbe | None = None
    attempts: list[UpgradeAttempt] = field(default_factory=list)
    ocpp: CheckResult | None = None  # the check run for the chosen version, as it reports
    ocpp_settings_note: str = ""  # how the OCPP run differed from the settings, if it did
    ocpp_with_current_settings: bool = False
    connections: int = 0
    deadline_reached: bool = False
    elapsed_ms: float = 0.0

    @property
    def served_versions(self) -> list[str]:
        seen: list[str] = []
        for attempt in self.attempts:
            if attempt.outcome == "served" and attempt.subprotocol and attempt.subprotocol not in seen:
                seen.append(attempt.subprotocol)
        return seen

    @property
    def http_clock_offset_s(self) -> float | None:
        for attempt in self.attempts:
            if attempt.date_offset_s is not None:
                return attempt.date_offset_s
        return None

    @property
    def clock_offset_s(self) -> float | None:
        """OCPP's currentTime when the exchange ran, else the HTTP Date header."""
        if self.ocpp is not None and self.ocpp.clock_offset_s is not None:
            return self.ocpp.clock_offset_s
        return self.http_clock_offset_s
