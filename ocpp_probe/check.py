"""One check, start to finish: settings in, CheckResult out, nothing printed.

The steps run in the order a charging station runs them; each is timed with a
monotonic clock and bounded by the one deadline made here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .channel import Channel
from .connection import connect, resolve, show_address, start_tls, tunnel, upgrade
from .deadline import Deadline, DeadlineExceeded
from .exchange import Exchange
from .failures import FailureKind
from .messages import (
    PRE_BOOT_ERRORS,
    BootResponse,
    BootStatus,
    PayloadViolation,
    boot_notification_payload,
    heartbeat_payload,
    parse_boot_response,
    parse_heartbeat_response,
)
from .printable import quoted
from .redact import Redactor, query_secrets, redact_url
from .result import BootFacts, CheckResult, Step, StepFailure, TlsFacts, Verdict, judged, timed_out
from .settings import CheckSettings, ConfigError
from .sockets import DeadlineSocket
from .tls import client_context
from .trace import Tracer
from .upgrade import basic_token, basic_token_bytes

if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket

PENDING_HEALTHY = "BootNotification Pending (counted as healthy)"

# The close handshake is a courtesy after the verdict is known; it gets little time.
CLOSE_BUDGET_S = 1.0


class Progress:
    """What the check has learned so far; becomes the CheckResult.

    A plain class: a dataclass would cost about 0.3 ms at every start (records.py).
    """

    def __init__(self, boot: BootFacts | None = None) -> None:
        self.timings_ms: dict[str, float] = {}
        self.subprotocol: str | None = None
        self.remote_address: str | None = None
        self.tls: TlsFacts | None = None
        self.boot = boot
        self.heartbeat_rtt_ms: float | None = None
        self.clock_offset_s: float | None = None
        self.csms_calls: list[str] = []
        self.warnings: list[str] = []
        # The open socket, whatever layer it has reached, so it is closed however the check ends.
        self.sock: DeadlineSocket | DeadlineSSLSocket | None = None

    @contextmanager
    def timed(self, step: Step) -> Iterator[None]:
        """Time one step; a deadline that escapes its layer's translation is still a TIMEOUT."""
        start = time.perf_counter()
        try:
            yield
        except DeadlineExceeded as exc:
            raise timed_out(step, str(exc)) from None
        finally:
            self.timings_ms[step.value] = (time.perf_counter() - start) * 1000


def _boot_failure(boot: BootFacts) -> str:
    why = f" ({boot.reason_code})" if boot.reason_code else ""
    if boot.status == BootStatus.PENDING.value:
        return (
            f"BootNotification Pending{why}: the CSMS has not accepted this station yet, "
            f"retry in {boot.interval_s} s (set ACCEPT_PENDING=true to count Pending as healthy)"
        )
    return f"BootNotification Rejected{why}: the CSMS refuses this station, retry in {boot.interval_s} s"


def _violation(step: Step, exc: PayloadViolation) -> StepFailure:
    return StepFailure(step, f"protocol violation: {exc}", kind=FailureKind.OCPP_PROTOCOL)


def open_channel(
    settings: CheckSettings, deadline: Deadline, progress: Progress, trace: Tracer | None
) -> Channel:
    """Resolve, connect, TLS and upgrade: the WebSocket a station talks OCPP on.

    Shared by the one-shot check and station mode's (re)connects; raises StepFailure.
    """
    try:
        context = client_context(settings) if settings.secure else None
    except ConfigError as exc:
        raise StepFailure(Step.CONFIG, str(exc), Verdict.UNKNOWN, kind=FailureKind.CONFIG) from None

    dial_host = settings.proxy.host if settings.proxy else settings.host
    dial_port = settings.proxy.port if settings.proxy else settings.port
    with progress.timed(Step.RESOLVE):
        addresses = resolve(dial_host, dial_port, deadline)
    if trace:
        shown = ", ".join(str(address[3][0]) for address in addresses)
        via = " (proxy)" if settings.proxy else ""
        trace(f"* resolved {dial_host}{via} to {shown}")

    with progress.timed(Step.CONNECT):
        plain = progress.sock = connect(addresses, deadline)
        progress.remote_address = show_address(plain.getpeername())
        if trace:
            trace(f"* connected to {progress.remote_address}")
        if settings.proxy is not None:
            tunnel(plain, settings, deadline)
    sock: DeadlineSocket | DeadlineSSLSocket = plain
    if context is not None:
        with progress.timed(Step.TLS):
            sock, progress.tls = start_tls(plain, settings, context, deadline)
            progress.sock = sock
        if trace:
            trace(f"* TLS {progress.tls.version} {progress.tls.cipher}")
    with progress.timed(Step.UPGRADE):
        upgraded = upgrade(sock, settings, deadline, trace)
    progress.subprotocol = upgraded.subprotocol
    return Channel(sock, upgraded.leftover, trace=trace)


def _steps(
    settings: CheckSettings, deadline: Deadline, progress: Progress, trace: Tracer | None
) -> Channel:
    """Run the steps in order; returns the open channel for closing, raises StepFailure."""
    channel = open_channel(settings, deadline, progress, trace)
    exchange = Exchange(channel, settings.version, trace, progress.csms_calls)
    response_budget = settings.response_timeout_s
    if not settings.no_boot:
        _boot(settings, deadline, progress, exchange)
        if progress.boot is not None and progress.boot.status != BootStatus.ACCEPTED.value:
            return channel  # Pending counted as healthy: a Pending station sends no Heartbeat
    try:
        heartbeat(exchange, deadline.narrowed(response_budget, "Heartbeat response"), progress)
    except StepFailure as exc:
        if settings.no_boot and exc.error_code in PRE_BOOT_ERRORS:
            raise StepFailure(
                Step.HEARTBEAT,
                f"{exc.reason} (sent without BootNotification: this CSMS wants a boot "
                "first on each connection, drop --no-boot / PROBE_NO_BOOT)",
                kind=exc.kind,
                error_code=exc.error_code,
            ) from None
        raise
    return channel


def heartbeat(exchange: Exchange, deadline: Deadline, progress: Progress) -> None:
    """One Heartbeat: its RTT and the CSMS clock's offset go into ``progress``."""
    with progress.timed(Step.HEARTBEAT):
        sent_wall = time.time()
        sent = time.perf_counter()
        payload = exchange.call("Heartbeat", heartbeat_payload(), deadline, Step.HEARTBEAT)
        progress.heartbeat_rtt_ms = (time.perf_counter() - sent) * 1000
        received_wall = time.time()
        try:
            csms_time = parse_heartbeat_response(payload)
        except PayloadViolation as exc:
            raise _violation(Step.HEARTBEAT, exc) from None
        # The CSMS read its clock somewhere in the round trip; the midpoint is the best guess.
        progress.clock_offset_s = csms_time.timestamp() - (sent_wall + received_wall) / 2


def _boot(
    settings: CheckSettings, deadline: Deadline, progress: Progress, exchange: Exchange
) -> None:
    """BootNotification; returns when Accepted or Pending counted as healthy."""
    boot = boot_notification(settings, exchange, deadline, progress)
    if boot.status is not BootStatus.ACCEPTED:
        assert progress.boot is not None
        if boot.status is BootStatus.PENDING and settings.accept_pending:
            # A Pending station must not send Heartbeat, so the check ends here.
            progress.warnings.append(PENDING_HEALTHY)
            return
        _close_quietly(exchange.channel, deadline)
        raise boot_refused(progress.boot)


def boot_notification(
    settings: CheckSettings, exchange: Exchange, deadline: Deadline, progress: Progress
) -> BootResponse:
    """Send BootNotification and read its answer into ``progress.boot``."""
    with progress.timed(Step.BOOT):
        payload = exchange.call(
            "BootNotification",
            boot_notification_payload(settings.version, settings.model, settings.vendor),
            deadline.narrowed(settings.response_timeout_s, "BootNotification response"),
            Step.BOOT,
        )
        try:
            boot = parse_boot_response(payload, settings.version)
        except PayloadViolation as exc:
            raise _violation(Step.BOOT, exc) from None
        progress.boot = BootFacts(
            boot.status.value,
            boot.interval_s,
            boot.current_time.isoformat().replace("+00:00", "Z"),
            quoted(boot.reason_code) if boot.reason_code else None,
        )
    return boot


def boot_refused(boot: BootFacts) -> StepFailure:
    """The failure for a BootNotification answered Pending or Rejected."""
    kind = FailureKind.BOOT_PENDING if boot.status == BootStatus.PENDING.value else FailureKind.BOOT_REJECTED
    return StepFailure(Step.BOOT, _boot_failure(boot), kind=kind)


def _close_quietly(channel: Channel, deadline: Deadline) -> None:
    try:
        channel.close(deadline.narrowed(CLOSE_BUDGET_S, "close"))
    except Exception:
        pass  # the verdict is already known; a rude close does not change it


def run_check(settings: CheckSettings, trace: Tracer | None = None) -> CheckResult:
    """Check one CSMS endpoint; never raises for anything the server or network does."""
    redactor = redactor_for(settings)
    trace = redactor.tracer(trace)
    started_at = utc_now()
    begin = time.perf_counter()
    deadline = Deadline.after(settings.timeout_s)
    progress = Progress()
    failure: StepFailure | None = None
    try:
        channel = _steps(settings, deadline, progress, trace)
        with progress.timed(Step.CLOSE):
            _close_quietly(channel, deadline)
    except StepFailure as exc:
        failure = exc
    except Exception as exc:  # a bug, not a server fault: say so instead of a traceback
        step = current_step(progress)
        failure = StepFailure(
            step,
            f"internal error during {step.value}: {type(exc).__name__}: {exc}",
            Verdict.UNKNOWN,
            kind=FailureKind.INTERNAL,
        )
    finally:
        if progress.sock is not None:
            progress.sock.close()
    if trace and failure is not None:
        trace(f"! {failure.step.value} failed: {failure.reason}")
    total_ms = (time.perf_counter() - begin) * 1000
    result = result_of(settings, progress, failure, total_ms, started_at)
    return redactor.result(judged(result, settings.thresholds))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result_of(
    settings: CheckSettings,
    progress: Progress,
    failure: StepFailure | None,
    total_ms: float,
    started_at: str,
) -> CheckResult:
    """What ``progress`` learned, as a result (not yet judged against thresholds)."""
    return CheckResult(
        verdict=Verdict.OK if failure is None else failure.verdict,
        target=redact_url(settings.url),
        ocpp_version=settings.version.value,
        failed_step=None if failure is None else failure.step,
        failure_kind=None if failure is None else failure.kind,
        reason="" if failure is None else failure.reason,
        timings_ms=dict(progress.timings_ms),
        total_ms=total_ms,
        subprotocol=progress.subprotocol,
        http_status=None if failure is None else failure.http_status,
        remote_address=progress.remote_address,
        tls=progress.tls,
        boot=progress.boot,
        heartbeat_rtt_ms=progress.heartbeat_rtt_ms,
        clock_offset_s=progress.clock_offset_s,
        csms_calls=list(progress.csms_calls),
        warnings=list(progress.warnings),
        started_at=started_at,
        thresholds=settings.thresholds,
    )


def redactor_for(settings: CheckSettings) -> Redactor:
    secrets: list[str | None] = []
    if settings.password is not None:
        secrets += [settings.password, basic_token(settings.identity, settings.password)]
        if settings.password_hex:
            raw = bytes.fromhex(settings.password)
            # The bytes sent, as a server may quote them back: Latin-1 (an HTTP head), UTF-8.
            secrets += [basic_token_bytes(settings.identity, raw), raw.decode("iso-8859-1"),
                        raw.decode("utf-8", "replace")]
    if settings.proxy is not None and settings.proxy.credentials is not None:
        secrets += settings.proxy.credentials.secrets()
    secrets += query_secrets(settings.url)
    return Redactor(secrets)


def current_step(progress: Progress) -> Step:
    """The step after the last one that finished: where an unexpected error happened."""
    order = [Step.RESOLVE, Step.CONNECT, Step.TLS, Step.UPGRADE, Step.BOOT, Step.HEARTBEAT, Step.CLOSE]
    done = [step for step in order if step.value in progress.timings_ms]
    return done[-1] if done else Step.CONFIG
