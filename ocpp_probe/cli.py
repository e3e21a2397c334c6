"""Command line: flags and environment in, one check run, a rendered verdict, an exit code.

Every setting has an environment variable and a flag twin; the flag wins. Exit codes
follow the monitoring-plugins convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from . import __version__
from .check import run_check
from .result import CheckResult, Step, Verdict
from .settings import DEFAULT_TIMEOUT_S, ConfigError, check_settings_from
from .trace import stream_tracer


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    help: str
    metavar: str | None = None  # None: a switch that sets the variable to "true"


OPTIONS: list[Option] = [
    Option("--url", "WS_URL", "CSMS endpoint, identity as last path segment", "URL"),
    Option("--ocpp-version", "OCPP_VERSION", "1.6 (default), 2.0.1 or 2.1", "VERSION"),
    Option("--id", "CHARGE_POINT_ID", "identity appended to the URL, percent-encoded", "ID"),
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
    Option("--ca-file", "TLS_CA_FILE", "CA bundle to trust for the CSMS certificate", "PATH"),
    Option("--cert-file", "TLS_CERT_FILE", "client certificate (PEM), security profile 3", "PATH"),
    Option("--key-file", "TLS_KEY_FILE", "client private key (PEM)", "PATH"),
    Option("--insecure", "TLS_INSECURE", "skip TLS verification (reported in the result)"),
    Option("--proxy", "PROBE_PROXY", "http://[user:pass@]host:port CONNECT proxy, or 'none'", "URL"),
    Option("--accept-pending", "ACCEPT_PENDING", "count BootNotification Pending as healthy"),
    Option("--warn-rtt", "WARN_RTT", "WARNING above this Heartbeat RTT, ms", "MS"),
    Option("--warn-cert-days", "WARN_CERT_DAYS", "WARNING when the certificate expires sooner (14)", "DAYS"),
    Option("--warn-clock", "WARN_CLOCK_OFFSET", "WARNING when the CSMS clock is off by more, s", "SECONDS"),
]

EPILOG = """\
exit codes: 0 OK, 1 WARNING, 2 CRITICAL (the check failed), 3 UNKNOWN (bad settings)
Every option can also be set by the environment variable shown in its help; a flag
wins over its variable. HTTPS_PROXY/HTTP_PROXY/NO_PROXY are honoured as curl does.
"""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on a usage error; a monitoring plugin must say UNKNOWN (3)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    output.add_argument("--json", action="store_true", help="print one JSON object")
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


def config_failure(reason: str) -> CheckResult:
    return CheckResult(
        verdict=Verdict.UNKNOWN,
        target="",
        ocpp_version="",
        failed_step=Step.CONFIG,
        reason=reason,
    )


def render(result: CheckResult, as_json: bool) -> str:
    if as_json:
        from .reporters.json_report import render_json

        return render_json(result)
    from .reporters.text import render_line

    return render_line(result)


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
        out.write(f"OCPP UNKNOWN - internal error: {type(exc).__name__}: {exc}\n")
        return Verdict.UNKNOWN.exit_code


def _main(
    argv: Sequence[str] | None,
    environ: Mapping[str, str] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    import os

    env = dict(os.environ) if environ is None else dict(environ)
    parser = build_parser()
    as_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        out.write(render(config_failure(f"usage: {exc} (see --help)"), as_json) + "\n")
        return Verdict.UNKNOWN.exit_code
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)

    values = settings_values(args, env)
    demo = None
    if args.demo:
        from .demo import DemoCsms

        demo = DemoCsms().__enter__()
        values["WS_URL"] = demo.url()
        values.pop("CHARGE_POINT_ID", None)
    try:
        try:
            settings = check_settings_from(values)
        except ConfigError as exc:
            result = config_failure(str(exc))
        else:
            trace = stream_tracer(err) if args.verbose else None
            result = run_check(settings, trace)
    finally:
        if demo is not None:
            demo.__exit__(None, None, None)
    out.write(render(result, args.json) + "\n")
    out.flush()
    return result.verdict.exit_code
