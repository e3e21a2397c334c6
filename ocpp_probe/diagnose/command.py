"""`ocpp-probe diagnose`: the check's settings and flags in, a report a person acts on out.

Exit codes: 0 when a check with these settings would pass, 2 when it would fail,
3 for bad settings; the report is the point, not the code.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping, Sequence
from typing import TextIO

from .. import registry
from ..check import _redactor
from ..redact import Redactor
from ..settings import CheckSettings, ConfigError, check_settings_from
from ..trace import stream_tracer
from ..upgrade import basic_token_bytes
from ..usage import PluginArgumentParser, UsageError, add_setting, flags_over_environment
from .facts import Facts
from .findings import Findings, check_would_pass, judge
from .lint import looks_like_hex_key
from .report import render_json, render_text
from .run import diagnose

# Options of a run (push, loop, output) have no meaning for a diagnosis: the check's only.
CHECK_OPTIONS = registry.command_line(registry.CHECK)

EPILOG = """\
Runs a bounded series of probes (every address, TLS chain and trust, each OCPP
subprotocol, path and credential variants, clock, one BootNotification and
Heartbeat) within PROBE_TIMEOUT, and says what to change.
exit codes: 0 a check with these settings would pass, 2 it would fail, 3 bad settings
"""


def build_parser() -> argparse.ArgumentParser:
    parser = PluginArgumentParser(
        prog="ocpp-probe diagnose",
        description="Diagnose why a charger cannot use an OCPP CSMS, layer by layer, "
        "and say what to change. Takes the same settings as the check.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for setting in CHECK_OPTIONS:
        add_setting(parser, setting)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-v", "--verbose", action="store_true", help="trace each attempt and frame on stderr")
    parser.add_argument("--demo", action="store_true", help="start a loopback demo CSMS and diagnose it")
    return parser


def _values(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    return flags_over_environment(args, CHECK_OPTIONS, environ)


def diagnosis_redactor(settings: CheckSettings) -> Redactor:
    """The check's secrets, plus the decoded-key form a diagnosis may try."""
    redactor = _redactor(settings)
    password = settings.password
    if password is not None and looks_like_hex_key(password):
        token = basic_token_bytes(settings.identity, bytes.fromhex(password))
        return Redactor([*redactor.secrets, token])
    return redactor


def _bad_settings(problem: str, setting: str | None, as_json: bool, out: TextIO) -> int:
    facts = Facts(target="", configured_version="", secure=False, identity="")
    findings = Findings()
    findings.add("settings", "FAIL", problem, f"fix {setting}" if setting else "see --help")
    redactor = Redactor([])
    render = render_json if as_json else render_text
    out.write(render(facts, findings, 3, redactor) + "\n")
    return 3


def diagnose_main(argv: Sequence[str], environ: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    as_json = "--json" in argv
    try:
        args = parser.parse_args(list(argv))
    except UsageError as exc:
        return _bad_settings(f"usage: {exc} (see --help)", None, as_json, out)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    values = _values(args, environ)
    with contextlib.ExitStack() as stack:
        if args.demo:
            from ..demo import DemoCsms

            demo = stack.enter_context(DemoCsms())
            values[registry.WS_URL.name] = demo.url()
            values.pop(registry.CHARGE_POINT_ID.name, None)
        try:
            settings = check_settings_from(values)
        except ConfigError as exc:
            return _bad_settings(str(exc), exc.setting, as_json, out)
        redactor = diagnosis_redactor(settings)
        trace = redactor.tracer(stream_tracer(err)) if args.verbose else None
        facts = diagnose(settings, trace)
        findings = judge(facts, settings)
        code = 0 if check_would_pass(facts) else 2
        render = render_json if args.json else render_text
        out.write(render(facts, findings, code, redactor) + "\n")
        out.flush()
        return code
