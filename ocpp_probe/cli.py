"""Command line: flags and environment in, one check run, a rendered verdict, an exit code.

Every setting has an environment variable and a flag twin; the flag wins. Exit codes
follow the monitoring-plugins convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from . import __version__
from .printable import nagios_status, shown
from .result import Verdict
from .runner import (
    Outcome,
    OutputFormat,
    RunOptions,
    check_once,
    config_failure,
    render,
    report,
    run_options_from,
)
from .settings import DEFAULT_TIMEOUT_S, CheckSettings, ConfigError, check_settings_from
from .trace import Tracer, stream_tracer
from .usage import PluginArgumentParser, UsageError


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    help: str
    metavar: str | None = None  # None: a switch that sets the variable to "true"


OPTIONS: list[Option] = [
    Option(
        "--url", "WS_URL",
        "CSMS endpoint, identity as last path segment (or the last non-empty one if it ends in /)",
        "URL",
    ),
    Option("--ocpp-version", "OCPP_VERSION", "1.6 (default), 2.0.1 or 2.1", "VERSION"),
    Option(
        "--id", "CHARGE_POINT_ID",
        "identity appended to the URL, percent-encoded; use one of its own, never a real "
        "charger's (a CSMS takes the probe's BootNotification as that charger's)",
        "ID",
    ),
    Option("--trailing-slash", "WS_TRAILING_SLASH", "append / after --id (for CSMSs routing .../<id>/)"),
    Option("--model", "CHARGE_POINT_MODEL", "BootNotification model (default kuma-probe)", "TEXT"),
    Option("--vendor", "CHARGE_POINT_VENDOR", "BootNotification vendor (default ocpp-probe)", "TEXT"),
    Option(
        "--heartbeat-timeout", "HEARTBEAT_TIMEOUT", "wait per OCPP response, ms (default 5000)", "MS"
    ),
    Option(
        "--timeout", "PROBE_TIMEOUT", f"total deadline, s (default {DEFAULT_TIMEOUT_S:g})", "SECONDS"
    ),
    Option("--password", "OCPP_PASSWORD", "Basic auth password (prefer the env or a file)", "TEXT"),
    Option("--password-file", "OCPP_PASSWORD_FILE", "file holding the Basic auth password", "PATH"),
    Option(
        "--password-hex", "OCPP_PASSWORD_HEX", "the password is a 1.6 AuthorizationKey in hex: send its bytes"
    ),
    Option("--ca-file", "TLS_CA_FILE", "CA bundle to trust for the CSMS certificate", "PATH"),
    Option("--cert-file", "TLS_CERT_FILE", "client certificate (PEM), security profile 3", "PATH"),
    Option("--key-file", "TLS_KEY_FILE", "client private key (PEM)", "PATH"),
    Option("--insecure", "TLS_INSECURE", "skip TLS verification (reported in the result)"),
    Option("--proxy", "PROBE_PROXY", "http://[user:pass@]host:port CONNECT proxy, or 'none'", "URL"),
    Option("--accept-pending", "ACCEPT_PENDING", "count BootNotification Pending as healthy"),
    Option("--no-boot", "PROBE_NO_BOOT", "send only Heartbeat, no BootNotification (known station)"),
    Option("--warn-rtt", "WARN_RTT", "WARNING above this Heartbeat RTT, ms", "MS"),
    Option("--warn-cert-days", "WARN_CERT_DAYS", "WARNING when the certificate expires sooner (14)", "DAYS"),
    Option("--warn-clock", "WARN_CLOCK_OFFSET", "WARNING when the CSMS clock is off by more, s", "SECONDS"),
    # Options of the run rather than of the check (see runner.run_options_from).
    Option(
        "--push-url", "KUMA_PUSH_URL", "Uptime Kuma push URL, .../api/push/<token> (secret: prefer the env)",
        "URL",
    ),
    Option("--push-timeout", "KUMA_PUSH_TIMEOUT", "whole push incl. DNS, s (default 10)", "SECONDS"),
    Option("--push-warning-down", "KUMA_PUSH_WARNING_DOWN", "push WARNING as down (default up)"),
    Option("--every", "PROBE_EVERY", "keep running: one check every SECONDS", "SECONDS"),
    # Station mode (see ocpp_probe/station.py).
    Option("--hold", "PROBE_HOLD", "station mode: hold one connection, a Heartbeat per --every"),
    Option(
        "--ping-interval", "PROBE_PING_INTERVAL",
        "station mode: WebSocket ping every SECONDS, 0 for none (default 30)", "SECONDS",
    ),
    Option(
        "--boot-on-reconnect", "PROBE_BOOT_ON_RECONNECT",
        "station mode: send BootNotification on every reconnect too",
    ),
]

EPILOG = """\
exit codes: 0 OK, 1 WARNING, 2 CRITICAL (the check failed), 3 UNKNOWN (bad settings)
A failed push to Kuma makes the exit code at least 1 (the verdict itself is kept).
With --every the process runs until SIGTERM/SIGINT, then exits 0. --every alone opens
a new connection and boots each time (loop mode); --every with --hold keeps one
connection, boots once and sends one Heartbeat per interval (station mode).
`ocpp-probe serve --config FILE` runs the HTTP probe server (see `serve --help`).
`ocpp-probe diagnose ...` says layer by layer what is wrong and what to change.
Give the probe an identity of its own, never a real charger's: a CSMS takes the
probe's BootNotification as that charger's (SteVe overwrites the station's stored
vendor, model, serials and firmware and sends its commands to the newest connection;
ocpp-go rejects the second connection; CitrineOS can orphan the real charger).
Every option can also be set by the environment variable shown in its help; a flag
wins over its variable. https_proxy/http_proxy/all_proxy/no_proxy (either case) are
honoured as curl does. A one-shot run ends within PROBE_TIMEOUT + KUMA_PUSH_TIMEOUT.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = PluginArgumentParser(
        prog="ocpp-probe",
        description="Check an OCPP CSMS end to end, as a charging station would: "
        "TLS, WebSocket upgrade, BootNotification, Heartbeat.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in OPTIONS:
        help_text = f"{option.help} [{option.env}]"
        if option.metavar is None:
            parser.add_argument(option.flag, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(option.flag, metavar=option.metavar, help=help_text)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object (--format json)")
    output.add_argument(
        "--format", choices=[f.value for f in OutputFormat], help="report format (default text)"
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the report to FILE atomically instead of stdout"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="trace each step and frame on stderr"
    )
    parser.add_argument(
        "--demo", action="store_true", help="start a loopback demo CSMS and check it"
    )
    parser.add_argument("--version", action="version", version=f"ocpp-probe {__version__}")
    return parser


def _dest(option: Option) -> str:
    return option.flag.lstrip("-").replace("-", "_")


def settings_values(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with every given flag laid over its variable."""
    values = dict(environ)
    for option in OPTIONS:
        given = getattr(args, _dest(option))
        if given is None:
            continue
        values[option.env] = "true" if given is True else str(given)
    return values


def output_format(args: argparse.Namespace) -> OutputFormat:
    if args.json:
        return OutputFormat.JSON
    return OutputFormat(args.format) if args.format else OutputFormat.TEXT


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; never lets an exception escape as a traceback."""
    out = stdout or sys.stdout
    try:
        return _main(argv, environ, out, stderr or sys.stderr)
    except KeyboardInterrupt:
        out.write("OCPP UNKNOWN - interrupted\n")
        return Verdict.UNKNOWN.exit_code
    except Exception as exc:  # a bug: say so in the plugin format, not as a traceback
        # The message may quote a server: made safe like any outside text.
        why = nagios_status(shown(f"{type(exc).__name__}: {exc}"))
        out.write(f"OCPP UNKNOWN - internal error: {why}\n")
        return Verdict.UNKNOWN.exit_code


def _main(
    argv: Sequence[str] | None,
    environ: Mapping[str, str] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    import os

    env = dict(os.environ) if environ is None else dict(environ)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from .serve.command import serve_main

        return serve_main(argv[1:], env, out, err)
    if argv[:1] == ["diagnose"]:
        from .diagnose.command import diagnose_main

        return diagnose_main(argv[1:], env, out, err)
    parser = build_parser()
    as_json = OutputFormat.JSON if "--json" in argv else OutputFormat.TEXT
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        out.write(render(config_failure(f"usage: {exc} (see --help)"), as_json) + "\n")
        return Verdict.UNKNOWN.exit_code
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)

    values = settings_values(args, env)
    fmt = output_format(args)
    try:
        options = run_options_from(values, fmt, args.output)
    except ConfigError as exc:
        # Without valid run options nothing can be pushed; say why (in the output
        # file too, if one was named) and stop.
        report(Outcome(config_failure(str(exc))), RunOptions(format=fmt, output=args.output), out, err)
        return Verdict.UNKNOWN.exit_code
    demo = None
    if args.demo:
        from .demo import DemoCsms

        demo = DemoCsms().__enter__()
        values["WS_URL"] = demo.url()
        values.pop("CHARGE_POINT_ID", None)
    try:
        settings: CheckSettings | ConfigError
        try:
            settings = check_settings_from(values)
        except ConfigError as exc:
            settings = exc
        trace = stream_tracer(err) if args.verbose else None
        # Bad settings never get better by retrying: even with --every they are
        # reported (and pushed) once, the way a one-shot run reports them, exit 3.
        if options.hold and not isinstance(settings, ConfigError):
            from .station_loop import run_station

            return run_station(settings, options, out, err, trace)
        if options.every_s is not None and not isinstance(settings, ConfigError):
            from .loop import run_loop

            return run_loop(settings, options, out, err, trace)
        return _once(settings, options, out, err, trace)
    finally:
        if demo is not None:
            demo.__exit__(None, None, None)


def _once(
    settings: CheckSettings | ConfigError,
    options: RunOptions,
    out: TextIO,
    err: TextIO,
    trace: Tracer | None,
) -> int:
    outcome = check_once(settings, options, trace)
    if not report(outcome, options, out, err):
        return Verdict.UNKNOWN.exit_code  # the report never reached its file
    return outcome.exit_code
