"""Write ocpp-probe(1) in roff and the commented example environment file, generated
from the command line's own declaration.

Every option, its environment twin and its help come from the argument parsers
the program itself uses for --help (cli.build_parser, which is built from the
settings registry ocpp_probe/registry.py, and the serve parser), so the manual page
cannot drift from the program. Only the prose around them (description, exit
status, files, examples) is written here.

    python build/manpage.py OUT.1 [ENV_EXAMPLE]   (SOURCE_DATE_EPOCH sets the page's date)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocpp_probe import __version__, registry
from ocpp_probe.cli import EPILOG, build_parser
from ocpp_probe.diagnose.command import build_parser as diagnose_parser
from ocpp_probe.serve.command import _parser as serve_parser

# The variables of the check command's own options, described once under OPTIONS.
CHECK_COMMAND_ENV = {s.env for s in registry.command_line(registry.CHECK, *registry.RUN_SCOPES) if s.env}
ENV_TWIN = re.compile(r"\s*\[([A-Z][A-Z0-9_]*)\]$")


def roff(text: str) -> str:
    """Text made safe for roff: backslashes, hyphens that are minus signs, leading dots."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.MULTILINE)


def option_entries(parser: argparse.ArgumentParser) -> list[tuple[str, str, str | None]]:
    """(synopsis of the option, help text, environment twin) for every option of --help."""
    entries = []
    for action in parser._actions:  # argparse's public help is built from the same list
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        flags = ", ".join(f"\\fB{roff(flag)}\\fR" for flag in action.option_strings)
        if action.nargs != 0:
            if action.choices:
                metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
            else:
                metavar = str(action.metavar or action.dest.upper())
            flags += f" \\fI{roff(metavar)}\\fR"
        help_text = action.help or ""
        if action.option_strings == ["-h", "--help"]:
            help_text = "show the help and exit"
        match = ENV_TWIN.search(help_text)
        env = match.group(1) if match else None
        if match:
            help_text = help_text[: match.start()]
        entries.append((flags, help_text, env))
    return entries


def options_section(parser: argparse.ArgumentParser, skip_check_options: bool = False) -> list[str]:
    lines = []
    for flags, help_text, env in option_entries(parser):
        if skip_check_options and env in CHECK_COMMAND_ENV:
            continue  # described once, under OPTIONS
        lines += [".TP", flags, roff(help_text) + "."]
        if env:
            lines.append(f"Environment: \\fB{roff(env)}\\fR.")
    return lines


def page(date: str) -> str:
    check = build_parser()
    serve = serve_parser()
    diagnose = diagnose_parser()
    envs = sorted({env for _, _, env in option_entries(check) + option_entries(serve) if env})
    lines = [
        f'.TH OCPP\\-PROBE 1 "{date}" "ocpp\\-probe {roff(__version__)}" "User Commands"',
        ".nh",  # no hyphenation: option and variable names must stay whole
        ".SH NAME",
        "ocpp\\-probe \\- check an OCPP central system (CSMS) end to end, as a charging station does",
        ".SH SYNOPSIS",
        ".B ocpp\\-probe",
        "[\\fIOPTION\\fR]...",
        ".br",
        ".B ocpp\\-probe serve",
        "\\fB\\-\\-config\\fR \\fIFILE\\fR [\\fIOPTION\\fR]...",
        ".br",
        ".B ocpp\\-probe diagnose",
        "[\\fIOPTION\\fR]...",
        ".SH DESCRIPTION",
        roff(check.description or ""),
        ".PP",
        "One check resolves the CSMS name, connects, negotiates TLS for wss://, upgrades to a",
        "WebSocket offering one OCPP subprotocol (ocpp1.6, ocpp2.0.1 or ocpp2.1), sends",
        "BootNotification (which must be Accepted) and Heartbeat, and reports OK, WARNING,",
        "CRITICAL or UNKNOWN as one line with perfdata, as JSON or as Prometheus metrics.",
        "One total deadline bounds the whole check.",
        ".PP",
        "Every setting is an environment variable with a flag twin; the flag wins.",
        ".SH OPTIONS",
        *options_section(check),
        ".SH SERVE MODE",
        roff(serve.description or ""),
        *options_section(serve),
        ".SH DIAGNOSE",
        roff(diagnose.description or ""),
        ".PP",
        "The settings of the check (OPTIONS above) apply; besides them:",
        *options_section(diagnose, skip_check_options=True),
        ".SH ENVIRONMENT",
        "Each of these is the twin of the option named above:",
        ".PP",
        ", ".join(f"\\fB{roff(env)}\\fR" for env in envs) + ".",
        ".PP",
        "\\fBHTTPS_PROXY\\fR, \\fBHTTP_PROXY\\fR, \\fBALL_PROXY\\fR and \\fBNO_PROXY\\fR are honoured",
        "as curl reads them; \\fBSSL_CERT_FILE\\fR replaces the system CA store.",
        ".SH EXIT STATUS",
        ".nf",
        *[roff(line) for line in EPILOG.strip().splitlines()],
        ".fi",
        ".SH FILES",
        ".TP",
        "\\fI/etc/ocpp\\-probe/NAME.env\\fR",
        "Settings of the \\fBocpp\\-probe@\\fINAME\\fB.service\\fR instance, one per CSMS",
        "(keep it mode 0600 when it holds a password or push token).",
        ".TP",
        "\\fI/etc/ocpp\\-probe/example.env\\fR",
        "A commented example to copy.",
        ".TP",
        "\\fI/etc/ocpp\\-probe/serve.toml\\fR",
        "Targets of \\fBocpp\\-probe\\-serve.service\\fR.",
        ".SH EXAMPLES",
        ".nf",
        "ocpp\\-probe \\-\\-demo",
        "WS_URL=wss://csms.example.com/ocpp/PROBE\\-1 ocpp\\-probe \\-\\-json",
        "systemctl enable \\-\\-now ocpp\\-probe@prod",
        ".fi",
        ".SH SEE ALSO",
        "\\fBsystemd.exec\\fR(5), \\fBsystemd.service\\fR(5)",
    ]
    return "\n".join(lines) + "\n"


ENV_HEAD = """\
# Settings of one CSMS check for ocpp-probe@NAME.service: copy this file to
# /etc/ocpp-probe/NAME.env with mode 0600 (it may hold a password or a push
# token; systemd reads it as root before dropping privileges), set WS_URL, and
# run `systemctl enable --now ocpp-probe@NAME`. Every setting of ocpp-probe(1)
# is listed below; a line left commented keeps the default.
# systemd reads it (EnvironmentFile= in systemd.exec(5)): put a value that has
# spaces, quotes or backslashes in 'single quotes'.

# Required. The CSMS endpoint; the last path segment is the charge point
# identity. Use an identity no real charger uses: a CSMS keeps one
# connection per identity.
WS_URL=wss://csms.example.com/ocpp/PROBE-1

# Uptime Kuma: add a Push monitor (Heartbeat Interval 60 s for a 30 s loop)
# and put its push URL here.
# Loop mode by default; PROBE_HOLD=true below makes it station mode.
#KUMA_PUSH_URL=https://kuma.example.com/api/push/TOKEN
"""


def env_example() -> str:
    lines = [ENV_HEAD]
    for flags, help_text, env in option_entries(build_parser()):
        if env is None or env in ("WS_URL", "KUMA_PUSH_URL"):
            continue
        flag = re.sub(r"\\f[BIR]|\\", "", flags)
        default = "30" if env == "PROBE_EVERY" else ""  # what ocpp-probe@.service sets
        lines.append(f"# {help_text} ({flag})\n#{env}={default}\n")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        sys.stderr.write("usage: manpage.py OUT.1 [ENV_EXAMPLE]\n")
        return 2
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    date = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    Path(argv[0]).write_text(page(date), encoding="utf-8")
    if len(argv) == 2:
        Path(argv[1]).write_text(env_example(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
