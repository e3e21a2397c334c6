"""Command line: flags and environment in, one check run, a rendered verdict, an exit code.

Every setting has an environment variable and a flag twin; the flag wins. Exit codes
follow the monitoring-plugins convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO, cast

from . import __version__, registry
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
from .settings import CheckSettings, ConfigError, check_settings_from
from .trace import Tracer, stream_tracer

if TYPE_CHECKING:
    import argparse

# The flags that lay a setting over its environment variable: the check's and the run's.
CLI_SETTINGS = registry.command_line(registry.CHECK, registry.PUSH, registry.LOOP)

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
    import argparse

    from .usage import PluginArgumentParser, add_setting

    parser = PluginArgumentParser(
        prog="ocpp-probe",
        description="Check an OCPP CSMS end to end, as a charging station would: "
        "TLS, WebSocket upgrade, BootNotification, Heartbeat.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for setting in CLI_SETTINGS:
        add_setting(parser, setting)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object (--format json)")
    add_setting(output, registry.FORMAT)
    add_setting(parser, registry.OUTPUT_FILE)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="trace each step and frame on stderr"
    )
    parser.add_argument(
        "--demo", action="store_true", help="start a loopback demo CSMS and check it"
    )
    parser.add_argument("--version", action="version", version=f"ocpp-probe {__version__}")
    return parser


def no_arguments() -> argparse.Namespace:
    """What build_parser().parse_args([]) returns, without building a parser: a run
    configured by its environment alone (as Kuma and systemd units run it) skips
    argparse, gettext, locale and shutil, several ms at every start."""
    from types import SimpleNamespace

    values: dict[str, object] = {
        setting.flag.lstrip("-").replace("-", "_"): None
        for setting in (*CLI_SETTINGS, registry.FORMAT, registry.OUTPUT_FILE)
        if setting.flag is not None
    }
    values.update(json=False, verbose=False, demo=False)
    return cast("argparse.Namespace", SimpleNamespace(**values))


def settings_values(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with every given flag laid over its variable."""
    from .usage import flags_over_environment

    return flags_over_environment(args, CLI_SETTINGS, environ)


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
    env = dict(os.environ) if environ is None else dict(environ)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from .serve.command import serve_main

        return serve_main(argv[1:], env, out, err)
    if argv[:1] == ["diagnose"]:
        from .diagnose.command import diagnose_main

        return diagnose_main(argv[1:], env, out, err)
    if argv == ["--version"]:  # without building a parser
        out.write(f"ocpp-probe {__version__}\n")
        return 0
    if argv:
        from .usage import UsageError

        as_json = OutputFormat.JSON if "--json" in argv else OutputFormat.TEXT
        try:
            args = build_parser().parse_args(argv)
        except UsageError as exc:
            out.write(render(config_failure(f"usage: {exc} (see --help)"), as_json) + "\n")
            return Verdict.UNKNOWN.exit_code
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        values = settings_values(args, env)
    else:
        args = no_arguments()  # settings from the environment alone: no parser needed
        values = dict(env)
    fmt = output_format(args)
    try:
        options = run_options_from(values, fmt, args.output)
    except ConfigError as exc:
        # Without valid run options nothing can be pushed; say why (in the output
        # file too, if one was named) and stop.
        report(Outcome(config_failure(str(exc))), RunOptions(format=fmt, output=args.output), out, err)
        return Verdict.UNKNOWN.exit_code
    with contextlib.ExitStack() as stack:
        if args.demo:
            from .demo import DemoCsms  # only --demo needs the demo CSMS and its imports

            demo = stack.enter_context(DemoCsms())
            values[registry.WS_URL.name] = demo.url()
            values.pop(registry.CHARGE_POINT_ID.name, None)
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
