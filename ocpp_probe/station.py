"""Station mode (--hold): one long-held connection, watched the way a charger lives with it.

The probe connects and boots once, then sends one Heartbeat per --every slot on the
same connection; each Heartbeat is a check with its own result. Between Heartbeats it
keeps the connection as a station does: it answers the CSMS's CALLs and pings, sends
its own pings and times their pongs. When the connection is lost, the cause (a close
frame, a cut with no close frame, a missed pong, an unanswered Heartbeat) is reported
at once, and the probe reconnects, without a new BootNotification unless the CSMS
demands one or --boot-on-reconnect asks for it.

Everything runs on the calling thread: each wait is a socket read bounded by the next
thing due (a ping, a pong's deadline, a boot retry, the next slot).
"""

from __future__ import annotations

import time
from typing import Callable

from .channel import ConnectionClosed, WebSocketViolation
from .check import (
    PENDING_HEALTHY,
    Progress,
    boot_notification,
    boot_refused,
    current_step,
    heartbeat,
    open_channel,
    redactor_for,
    result_of,
    utc_now,
)
from .deadline import Deadline, DeadlineExceeded
from .exchange import Exchange
from .failures import FailureKind
from .messages import PRE_BOOT_ERRORS, BootStatus
from .records import replace
from .result import BootFacts, CheckResult, Step, StepFailure, Verdict, judged
from .rpc import FrameViolation, describe
from .runner import RunOptions
from .session import (
    Backoff,
    Drop,
    Ledger,
    Pinger,
    boot_retry_delay,
    broken,
    drop_from_error,
    drop_in_call,
    pong_missing,
)
from .settings import CheckSettings
from .station_link import Link, Lost
from .trace import Tracer

Clock = Callable[[], float]
Report = Callable[[CheckResult], None]
CLOSE_BUDGET_S = 1.0


class Station:
    def __init__(
        self,
        settings: CheckSettings,
        options: RunOptions,
        trace: Tracer | None = None,
        clock: Clock = time.monotonic,
        wait: Callable[[float], object] = time.sleep,
    ) -> None:
        assert options.every_s is not None
        self.settings = settings
        self.options = options
        self.every_s = options.every_s
        self.redactor = redactor_for(settings)
        self.trace = self.redactor.tracer(trace)
        self.clock = clock
        self.wait = wait
        self.ledger = Ledger()
        self.backoff = Backoff(cap_s=self.every_s)
        self.link: Link | None = None
        self.next_attempt_at: float | None = None
        # Learned when the CSMS refuses a Heartbeat before a boot: boot on each connection.
        self.boot_required = options.boot_on_reconnect
        self.last_boot: BootFacts | None = None

    # -- the checks ------------------------------------------------------------------

    def tick(self) -> CheckResult:
        """One scheduled check: reconnect if needed, then a Heartbeat on the held connection."""
        started_at = utc_now()
        begin = time.perf_counter()
        progress = Progress()
        deadline = Deadline.after(self.settings.timeout_s, clock=self.clock)
        failure: StepFailure | None = None
        try:
            link = self.link or self._connect(progress, deadline)
            self._facts_into(progress, link)
            self._check_pong(link)
            if link.boot_retry_at is not None and self.clock() >= link.boot_retry_at:
                self._boot(link, progress, deadline)
            if link.refused:
                assert link.boot is not None
                progress.boot = link.boot
                if link.boot.status == BootStatus.PENDING.value and self.settings.accept_pending:
                    progress.warnings.append(PENDING_HEALTHY)  # a Pending station sends no Heartbeat
                else:
                    raise boot_refused(link.boot)
            else:
                self._heartbeat(link, progress, deadline)
        except Lost as lost:
            step = current_step(progress) if progress.timings_ms else Step.SESSION
            failure = StepFailure(step, lost.drop.reason, kind=lost.drop.kind)
        except StepFailure as exc:
            failure = exc
            if self.link is None:  # the reconnect failed: try again before the next slot
                self.next_attempt_at = self.clock() + self.backoff.next_delay()
        except Exception as exc:  # a bug, not a server fault: say so instead of a traceback
            step = current_step(progress)
            failure = StepFailure(
                step, f"internal error during {step.value}: {type(exc).__name__}: {exc}",
                Verdict.UNKNOWN, kind=FailureKind.INTERNAL,
            )
            if self.link is not None:  # start afresh on a new connection
                self._lose(broken(FailureKind.INTERNAL, failure.reason, self.clock() - self.link.opened_at),
                           quiet=True)
        if failure is not None and self.trace:
            self.trace(f"! {failure.step.value} failed: {failure.reason}")
        if self.link is not None:
            progress.csms_calls.extend(self.link.calls)
            self.link.calls.clear()
        if progress.boot is None:
            progress.boot = self.last_boot
        total_ms = (time.perf_counter() - begin) * 1000
        return self._finished(result_of(self.settings, progress, failure, total_ms, started_at))

    def wait_until(self, until: float, report: Report) -> None:
        """Keep the connection (or regain it) until ``until``; drops are reported at once."""
        while True:
            now = self.clock()
            if now >= until:
                return
            link = self.link
            if link is None:
                at = self.next_attempt_at
                if at is None or at >= until:
                    self.wait(until - now)
                    return
                if at > now:
                    self.wait(at - now)
                    continue
                self._quiet_reconnect()
                continue
            try:
                if link.boot_retry_at is not None and now >= link.boot_retry_at:
                    self._boot(link, Progress(), Deadline.after(self.settings.timeout_s, clock=self.clock))
                    continue
                wake = until if link.boot_retry_at is None else min(until, link.boot_retry_at)
                self._pump(link, wake)
            except Lost as lost:
                report(self._drop_result(lost.drop))
            except StepFailure as exc:  # a boot retry answered with a CALLERROR or nonsense
                if self.trace:
                    self.trace(f"! boot retry failed: {exc.reason}")
                link.boot_retry_at = self.clock() + boot_retry_delay(None, self.every_s)

    def close(self) -> None:
        """Leave politely: a close frame (1001 going away), bounded by a short budget."""
        link, self.link = self.link, None
        if link is None:
            return
        try:
            link.channel.close(Deadline.after(CLOSE_BUDGET_S, "close", self.clock), code=1001)
        except Exception:
            pass  # the probe is stopping; a rude peer changes nothing
        finally:
            link.sock.close()

    # -- connection life -------------------------------------------------------------

    def _connect(self, progress: Progress, deadline: Deadline) -> Link:
        try:
            channel = open_channel(self.settings, deadline, progress, self.trace)
        except BaseException:
            if progress.sock is not None:
                progress.sock.close()
            raise
        assert progress.sock is not None
        now = self.clock()
        link = Link(
            channel=channel,
            sock=progress.sock,
            exchange=Exchange(channel, self.settings.version, self.trace),
            pinger=Pinger(self.options.ping_interval_s, self.settings.response_timeout_s, now),
            opened_at=now,
            last_traffic=now,
            subprotocol=progress.subprotocol,
            remote_address=progress.remote_address,
            tls=progress.tls,
        )
        link.exchange.csms_calls = link.calls
        channel.on_pong = lambda payload: self._pong(link, payload)
        self.link = link
        self.next_attempt_at = None
        self.backoff.reset()
        self.ledger.connected()
        first = self.ledger.connections == 1
        # A station never Accepted must boot again on a new connection before anything else.
        unaccepted = self.last_boot is not None and self.last_boot.status != BootStatus.ACCEPTED.value
        if self.boot_required or unaccepted or (first and not self.settings.no_boot):
            self._boot(link, progress, deadline)
        elif self.trace:
            why = "--no-boot" if first else "a reconnect: the station did not reboot"
            self.trace(f"* no BootNotification ({why})")
        return link

    def _quiet_reconnect(self) -> None:
        """A reconnect between slots: success is reported by the next slot's Heartbeat."""
        try:
            self._connect(Progress(), Deadline.after(self.settings.timeout_s, clock=self.clock))
        except StepFailure as exc:
            delay = self.backoff.next_delay()
            self.next_attempt_at = self.clock() + delay
            if self.trace:
                self.trace(f"! reconnect failed ({exc.step.value}): {exc.reason}; next try in {delay:g} s")
        except Lost as lost:  # connected, then lost during the boot
            if self.trace:
                self.trace(f"! reconnect lost at once: {lost.drop.reason}")

    def _lose(self, drop: Drop, quiet: bool = False) -> None:
        """Record the drop, give up the connection and plan the first reconnect."""
        self.ledger.last_drop = drop
        link, self.link = self.link, None
        if link is not None:
            if not link.channel.closed_by_peer:
                try:  # tell the CSMS, briefly, why the probe is leaving
                    link.channel.close(Deadline.after(0.2, "close", self.clock), code=1000)
                except Exception:
                    pass
            link.sock.close()
        self.next_attempt_at = self.clock() + self.backoff.next_delay()
        if self.trace and not quiet:
            self.trace(f"! connection lost ({drop.kind.value}): {drop.reason}")

    # -- OCPP on the held connection -------------------------------------------------

    def _call(self, link: Link, action: str, run: Callable[[], object]) -> None:
        budget = self.settings.response_timeout_s
        try:
            run()
        except StepFailure as exc:
            drop = drop_in_call(exc, action, budget, self.clock() - link.opened_at)
            if drop is not None:
                self._lose(drop)
                raise Lost(drop) from None
            raise
        finally:
            link.last_traffic = self.clock()

    def _boot(self, link: Link, progress: Progress, deadline: Deadline) -> None:
        self.ledger.boots += 1
        self._call(link, "BootNotification",
                   lambda: boot_notification(self.settings, link.exchange, deadline, progress))
        assert progress.boot is not None
        link.boot = self.last_boot = progress.boot
        if link.accepted:
            link.boot_retry_at = None
            return
        # OCPP: nothing but BootNotification until the interval the CSMS gave has passed.
        delay = boot_retry_delay(progress.boot.interval_s, self.every_s)
        link.boot_retry_at = self.clock() + delay
        if self.trace:
            self.trace(f"* BootNotification {progress.boot.status}: next boot in {delay:g} s")

    def _heartbeat(self, link: Link, progress: Progress, deadline: Deadline) -> None:
        budget = deadline.narrowed(self.settings.response_timeout_s, "Heartbeat response")
        first = self.ledger.heartbeats_sent == 0
        self.ledger.heartbeats_sent += 1
        try:
            self._call(link, "Heartbeat", lambda: heartbeat(link.exchange, budget, progress))
        except StepFailure as exc:
            if not (first and link.boot is None and exc.error_code in PRE_BOOT_ERRORS):
                raise
            # The CSMS refuses messages before a boot on each connection: boot, and keep
            # doing so on every reconnect of this session.
            if self.trace:
                self.trace(f"* {exc.reason}: the CSMS wants a BootNotification on each connection")
            self.boot_required = True
            self._boot(link, progress, deadline)
            if link.refused:
                assert link.boot is not None
                raise boot_refused(link.boot) from None
            self.ledger.heartbeats_sent += 1
            budget = deadline.narrowed(self.settings.response_timeout_s, "Heartbeat response")
            self._call(link, "Heartbeat", lambda: heartbeat(link.exchange, budget, progress))
        self.ledger.heartbeats_answered += 1
        self._check_pong(link)

    def _pong(self, link: Link, payload: bytes) -> None:
        before = link.pinger.rtt_ms
        link.pinger.pong(payload, self.clock())
        if self.trace and link.pinger.rtt_ms is not before:
            self.trace(f"< pong after {link.pinger.rtt_ms:.2f} ms")

    def _check_pong(self, link: Link) -> None:
        now = self.clock()
        if link.pinger.overdue(now):
            drop = pong_missing(link.pinger.timeout_s, now - link.opened_at)
            self._lose(drop)
            raise Lost(drop)

    def _pump(self, link: Link, wake: float) -> None:
        """Read and answer what the CSMS sends, send pings when due, until ``wake``."""
        while True:
            self._check_pong(link)
            now = self.clock()
            try:
                if link.pinger.due(now):
                    bound = Deadline.after(self.settings.response_timeout_s, "ping", self.clock)
                    try:
                        link.channel.send_ping(link.pinger.sent(now), bound)
                    except DeadlineExceeded:  # the CSMS stopped reading: no pong will come either
                        drop = pong_missing(link.pinger.timeout_s, self.clock() - link.opened_at)
                        self._lose(drop)
                        raise Lost(drop) from None
                    if self.trace:
                        self.trace("> ping")
                    link.last_traffic = now
                if now >= wake:
                    return
                due = link.pinger.next_event(now)
                end = wake if due is None else min(wake, due)
                window = Deadline(end, max(end - now, 0.0), "idle", self.clock)
                try:
                    text = link.channel.receive_any(window)
                except DeadlineExceeded:
                    continue
                link.last_traffic = self.clock()
                if text is not None:
                    frame = link.exchange.take(text)
                    if frame is not None and self.trace:
                        self.trace(f"  ignored: {describe(frame)}")
            except (ConnectionClosed, OSError) as exc:
                waiting = "pong" if link.pinger.waiting else None
                now = self.clock()
                drop = drop_from_error(exc, waiting, now - link.last_traffic, now - link.opened_at)
            except WebSocketViolation as exc:
                drop = broken(FailureKind.WS_PROTOCOL, str(exc), self.clock() - link.opened_at)
            except FrameViolation as exc:
                drop = broken(FailureKind.OCPP_PROTOCOL, f"protocol violation: {exc}",
                              self.clock() - link.opened_at)
            else:
                continue
            self._lose(drop)
            raise Lost(drop)

    # -- results ---------------------------------------------------------------------

    def _facts_into(self, progress: Progress, link: Link) -> None:
        progress.subprotocol = progress.subprotocol or link.subprotocol
        progress.remote_address = progress.remote_address or link.remote_address
        progress.tls = progress.tls or link.tls

    def _finished(self, result: CheckResult) -> CheckResult:
        link = self.link
        age = None if link is None else self.clock() - link.opened_at
        pong = None if link is None else link.pinger.rtt_ms
        facts = self.ledger.facts(age, pong)
        return self.redactor.result(judged(replace(result, session=facts), self.settings.thresholds))

    def _drop_result(self, drop: Drop) -> CheckResult:
        """A drop between checks, reported at once as a failed session (check.result_of
        makes it, like every other result)."""
        failure = StepFailure(Step.SESSION, drop.reason, kind=drop.kind)
        progress = Progress(boot=self.last_boot)
        return self._finished(result_of(self.settings, progress, failure, 0.0, utc_now()))
