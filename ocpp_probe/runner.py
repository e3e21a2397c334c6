"""One run of the check as the command line does it: check, push to Kuma, report.

Shared by one-shot runs and the loop, so both push, render and count exit codes the
same way. Exit codes with a push: the check's verdict stands and is reported as is;
a push that failed makes the run at least WARNING (exit 1), so an OK check whose
result never reached Kuma does not look like a fully successful run. A CRITICAL
or UNKNOWN check keeps its code (2, 3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field
from enum import Enum
from typing import TYPE_CHECKING, TextIO

from . import registry
from .failures import FailureKind
from .printable import shown
from .push_target import ProxyEnvironment, PushTarget, push_target_from
from .records import record
from .result import CheckResult, Step, Verdict
from .settings import CheckSettings, ConfigError, parse_bool, parse_positive
from .trace import Tracer

if TYPE_CHECKING:
    from .push import PushOutcome

DEFAULT_PUSH_TIMEOUT_S = float(registry.KUMA_PUSH_TIMEOUT.default or 0)
DEFAULT_PING_INTERVAL_S = float(registry.PROBE_PING_INTERVAL.default or 0)


class OutputFormat(Enum):
    TEXT = "text"
    JSON = "json"
    PROMETHEUS = "prometheus"


@record
class RunOptions:
    """How a run reports: format, output file, Kuma push, loop interval."""

    format: OutputFormat = OutputFormat.TEXT
    output: str | None = None  # a file replaced atomically instead of stdout
    push: PushTarget | None = None
    push_timeout_s: float = DEFAULT_PUSH_TIMEOUT_S
    warning_is_down: bool = False
    every_s: float | None = None
    # Station mode (--hold): one held connection, a Heartbeat per --every slot.
    hold: bool = False
    ping_interval_s: float = 0.0  # WebSocket pings on the held connection; 0: none
    boot_on_reconnect: bool = False
    # Only the proxy variables of the run's environment, for the push (the rest of
    # the environment may hold secrets and is not kept).
    proxies: ProxyEnvironment = field(default_factory=ProxyEnvironment)


def run_options_from(
    values: Mapping[str, str], fmt: OutputFormat, output: str | None
) -> RunOptions:
    """Validate the options that shape a run (not the check); raises ConfigError."""
    every = parse_positive(values, "PROBE_EVERY")
    if every is not None and fmt is OutputFormat.PROMETHEUS and output is None:
        raise ConfigError(
            "PROBE_EVERY", "with --format prometheus needs --output FILE (one exposition per check)"
        )
    hold = parse_bool(values, "PROBE_HOLD")
    if hold and every is None:
        raise ConfigError("PROBE_HOLD", "needs --every SECONDS (PROBE_EVERY): the Heartbeat interval")
    for name in ("PROBE_PING_INTERVAL", "PROBE_BOOT_ON_RECONNECT"):
        if not hold and (values.get(name) or "").strip():
            raise ConfigError(name, "only applies to station mode (--hold with --every)")
    return RunOptions(
        format=fmt,
        output=output,
        push=push_target_from(values),
        push_timeout_s=parse_positive(values, "KUMA_PUSH_TIMEOUT")
        or DEFAULT_PUSH_TIMEOUT_S,
        warning_is_down=parse_bool(values, "KUMA_PUSH_WARNING_DOWN"),
        every_s=every,
        hold=hold,
        ping_interval_s=_ping_interval(values),
        boot_on_reconnect=parse_bool(values, "PROBE_BOOT_ON_RECONNECT"),
        proxies=ProxyEnvironment.of(values),
    )


def _ping_interval(values: Mapping[str, str]) -> float:
    text = (values.get("PROBE_PING_INTERVAL") or "").strip().lower()
    try:
        if text in ("off", "none") or float(text) == 0:
            return 0.0
    except ValueError:
        pass  # not a number: parse_positive says so
    return parse_positive(values, "PROBE_PING_INTERVAL", "seconds (0: no pings)") or DEFAULT_PING_INTERVAL_S


@record
class Outcome:
    """A check's result and how its push went."""

    result: CheckResult
    push: PushOutcome | None = None

    @property
    def exit_code(self) -> int:
        code = self.result.verdict.exit_code
        if self.push is not None and not self.push.ok:
            code = max(code, Verdict.WARNING.exit_code)
        return code


def config_failure(reason: str) -> CheckResult:
    return CheckResult(
        verdict=Verdict.UNKNOWN,
        target="",
        ocpp_version="",
        failed_step=Step.CONFIG,
        reason=reason,
        failure_kind=FailureKind.CONFIG,
    )


def check_once(
    settings: CheckSettings | ConfigError, options: RunOptions, trace: Tracer | None = None
) -> Outcome:
    """Run the check (or report the bad settings) and push the verdict when asked to."""
    if isinstance(settings, ConfigError):
        result = config_failure(str(settings))
    else:
        from .check import run_check  # here, so that --help and --version skip the check's imports

        result = run_check(settings, trace)
    return finish(result, options, trace)


def finish(result: CheckResult, options: RunOptions, trace: Tracer | None = None) -> Outcome:
    if options.push is None:
        return Outcome(result)
    from .push import push  # here: only a run with a push URL needs the sending code

    outcome = push(
        options.push,
        result,
        options.push_timeout_s,
        options.proxies,
        options.warning_is_down,
        trace,
    )
    return Outcome(result, outcome)


def config_target(result: CheckResult, output: str | None) -> str:
    """The target label of a result: the endpoint, or for unusable settings the output file.

    Unusable settings leave no endpoint to name; two such files in node_exporter's
    textfile directory would then both say target="" and collide. The file's name
    (never its directory, never the bad value, which may hold a secret) keeps them apart.
    """
    if result.target or result.failed_step is not Step.CONFIG or output is None:
        return result.target
    return os.path.basename(output)


def render(
    result: CheckResult,
    fmt: OutputFormat,
    pushed: PushOutcome | None = None,
    output: str | None = None,
) -> str:
    if fmt is OutputFormat.JSON:
        from .reporters.json_report import render_json

        extra: dict[str, object] = {}
        if pushed is not None:
            from .push import outcome_document

            extra["push"] = outcome_document(pushed)
        # The code the process exits with, which a failed push raises (see Outcome).
        extra["exit_code"] = Outcome(result, pushed).exit_code
        return render_json(result, extra)
    if fmt is OutputFormat.PROMETHEUS:
        from .reporters.prometheus import render_prometheus

        # A target label keeps several probes' files apart in the textfile collector.
        text = render_prometheus(result, {"target": config_target(result, output)})
        if result.failed_step is Step.CONFIG:
            # Why, for whoever opens the file or the scrape: the exposition's comment.
            text = f"# ocpp-probe configuration error: {shown(result.reason)}\n{text}"
        return text.rstrip("\n")
    from .reporters.text import render_line

    return render_line(result)


def write_atomically(path: str, text: str) -> None:
    """Replace ``path`` in one rename, so a reader (node_exporter) never sees half a file."""
    import tempfile  # here, not at the top: only a run that writes a file needs it

    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".ocpp-probe-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from node_exporter's user
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def report(
    outcome: Outcome, options: RunOptions, out: TextIO, err: TextIO, prefix: str = ""
) -> bool:
    """Write the rendered result to stdout or the output file; a failed push to stderr.

    Returns False when the output file could not be written.
    """
    written = True
    text = render(outcome.result, options.format, outcome.push, options.output)
    if outcome.result.failed_step is Step.CONFIG and (
        options.format is OutputFormat.PROMETHEUS or options.output is not None
    ):
        # Metrics or a file do not show a person the reason; stderr does (cron mails
        # it, systemd logs it).
        err.write(f"ocpp-probe: {shown(outcome.result.reason)}\n")
    if options.output is not None:
        try:
            write_atomically(options.output, text + "\n")
        except OSError as exc:
            err.write(f"ocpp-probe: cannot write {options.output}: {exc.strerror or exc}\n")
            written = False
    else:
        out.write(prefix + text + "\n")
        out.flush()
    if outcome.push is not None and not outcome.push.ok:
        # The detail was redacted and escaped by push.push; it quotes Kuma or a proxy.
        err.write(f"ocpp-probe: push to {outcome.push.target} failed: {outcome.push.detail}\n")
        err.flush()
    return written
