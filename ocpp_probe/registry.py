"""Every setting of the probe, declared once: environment name, flag, metavar, default, help, scope.

The command line's parser (cli.py), serve's config loader and command (serve/), the
validation (settings.py, runner.py) and the README settings tables (checked by
tests/test_registry.py) all read this table, so a setting cannot exist in one of them
and be missing from another.

Scopes say what a setting shapes:

- ``check``: one check (settings.check_settings_from); also a key of serve's targets.
- ``push``, ``loop``, ``output``: the run around the checks (runner.run_options_from).
- ``serve``: serve mode's server.
- ``process``: read from the probe's own environment only, for every check it runs.

This module is at the bottom of the package (it imports nothing), and stays cheap to
import: plain classes with __slots__, no dataclasses or enum machinery, because every
start of the binary pays for what it imports.
"""

from __future__ import annotations

CHECK = "check"
PUSH = "push"
LOOP = "loop"
OUTPUT = "output"
SERVE = "serve"
PROCESS = "process"
RUN_SCOPES = (PUSH, LOOP, OUTPUT)  # settings of runner.RunOptions


class Setting:
    """One setting. ``metavar`` None with a flag: a switch that sets the value to "true"."""

    __slots__ = ("choices", "default", "env", "flag", "help", "metavar", "scope", "unit", "unset")

    def __init__(
        self,
        env: str | None,
        flag: str | None,
        help: str,
        *,
        metavar: str | None = None,
        default: str | None = None,
        unset: str = "",
        unit: str = "",
        choices: tuple[str, ...] = (),
        scope: str = CHECK,
    ) -> None:
        self.env = env  # the environment variable; None for a flag-only setting
        self.flag = flag  # the long flag; None for an environment-only setting
        self.help = help  # one line for --help, without the default or the variable
        self.metavar = metavar
        self.default = default  # the value used when unset, written as a user would
        self.unset = unset  # what happens when unset and there is no default, in words
        self.unit = unit  # for numbers: the unit the value is in, as error messages say it
        self.choices = choices
        self.scope = scope

    @property
    def name(self) -> str:
        """How messages name it: the variable, else the flag."""
        return self.env or self.flag or ""

    @property
    def help_text(self) -> str:
        """The --help line: help, the default, and the variable that sets it too."""
        text = self.help
        if self.default is not None and self.metavar is not None:
            text += f" (default {self.default})"
        return f"{text} [{self.env}]" if self.env else text

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"


WS_URL = Setting("WS_URL", "--url",
                 "CSMS endpoint, identity as last path segment (or the last non-empty one if it ends in /)",
                 metavar="URL", unset="(required)")
OCPP_VERSION = Setting("OCPP_VERSION", "--ocpp-version", "1.6, 2.0.1 or 2.1",
                       metavar="VERSION", default="1.6")
CHARGE_POINT_ID = Setting("CHARGE_POINT_ID", "--id",
                          "identity appended to the URL, percent-encoded; use one of its own, never a real "
                          "charger's (a CSMS takes the probe's BootNotification as that charger's)",
                          metavar="ID")
WS_TRAILING_SLASH = Setting("WS_TRAILING_SLASH", "--trailing-slash",
                            "append / after --id (for CSMSs routing .../<id>/)", default="false")
CHARGE_POINT_MODEL = Setting("CHARGE_POINT_MODEL", "--model", "BootNotification model",
                             metavar="TEXT", default="kuma-probe")
CHARGE_POINT_VENDOR = Setting("CHARGE_POINT_VENDOR", "--vendor", "BootNotification vendor",
                              metavar="TEXT", default="ocpp-probe")
HEARTBEAT_TIMEOUT = Setting("HEARTBEAT_TIMEOUT", "--heartbeat-timeout", "wait per OCPP response, ms",
                            metavar="MS", default="5000", unit="milliseconds")
PROBE_TIMEOUT = Setting("PROBE_TIMEOUT", "--timeout", "total deadline, s",
                        metavar="SECONDS", default="20", unit="seconds")
OCPP_PASSWORD = Setting("OCPP_PASSWORD", "--password", "Basic auth password (prefer the env or a file)",
                        metavar="TEXT")
OCPP_PASSWORD_FILE = Setting("OCPP_PASSWORD_FILE", "--password-file",
                             "file holding the Basic auth password", metavar="PATH")
OCPP_PASSWORD_HEX = Setting("OCPP_PASSWORD_HEX", "--password-hex",
                            "the password is a 1.6 AuthorizationKey in hex: send its bytes",
                            default="false")
TLS_CA_FILE = Setting("TLS_CA_FILE", "--ca-file", "CA bundle to trust for the CSMS certificate",
                      metavar="PATH", unset="system store")
TLS_CERT_FILE = Setting("TLS_CERT_FILE", "--cert-file", "client certificate (PEM), security profile 3",
                        metavar="PATH")
TLS_KEY_FILE = Setting("TLS_KEY_FILE", "--key-file", "client private key (PEM)", metavar="PATH")
TLS_INSECURE = Setting("TLS_INSECURE", "--insecure", "skip TLS verification (reported in the result)",
                       default="false")
PROBE_PROXY = Setting("PROBE_PROXY", "--proxy",
                      "http://[user:pass@]host:port CONNECT proxy, or 'none'",
                      metavar="URL", unset="from environment")
ACCEPT_PENDING = Setting("ACCEPT_PENDING", "--accept-pending", "count BootNotification Pending as healthy",
                         default="false")
PROBE_NO_BOOT = Setting("PROBE_NO_BOOT", "--no-boot",
                        "send only Heartbeat, no BootNotification (known station)", default="false")
WARN_RTT = Setting("WARN_RTT", "--warn-rtt", "WARNING above this Heartbeat RTT, ms",
                   metavar="MS", unit="milliseconds")
WARN_CERT_DAYS = Setting("WARN_CERT_DAYS", "--warn-cert-days",
                         "WARNING when the certificate expires sooner",
                         metavar="DAYS", default="14", unit="days")
WARN_CLOCK_OFFSET = Setting("WARN_CLOCK_OFFSET", "--warn-clock",
                            "WARNING when the CSMS clock is off by more, s",
                            metavar="SECONDS", unit="seconds")
SSL_CERT_FILE = Setting("SSL_CERT_FILE", None,
                        "CA bundle used instead of the system store when TLS_CA_FILE is not set",
                        scope=PROCESS)

KUMA_PUSH_URL = Setting("KUMA_PUSH_URL", "--push-url",
                        "Uptime Kuma push URL, .../api/push/<token> (secret: prefer the env)",
                        metavar="URL", scope=PUSH)
KUMA_PUSH_TIMEOUT = Setting("KUMA_PUSH_TIMEOUT", "--push-timeout", "whole push incl. DNS, s",
                            metavar="SECONDS", default="10", unit="seconds", scope=PUSH)
KUMA_PUSH_WARNING_DOWN = Setting("KUMA_PUSH_WARNING_DOWN", "--push-warning-down",
                                 "push WARNING as down (default up)", default="false", scope=PUSH)
PROBE_EVERY = Setting("PROBE_EVERY", "--every", "keep running: one check every SECONDS",
                      metavar="SECONDS", unit="seconds", scope=LOOP)
# Station mode (see ocpp_probe/station.py): a loop on one held connection.
PROBE_HOLD = Setting("PROBE_HOLD", "--hold", "station mode: hold one connection, a Heartbeat per --every",
                     default="false", scope=LOOP)
PROBE_PING_INTERVAL = Setting("PROBE_PING_INTERVAL", "--ping-interval",
                              "station mode: WebSocket ping every SECONDS, 0 for none",
                              metavar="SECONDS", default="30", unit="seconds", scope=LOOP)
PROBE_BOOT_ON_RECONNECT = Setting("PROBE_BOOT_ON_RECONNECT", "--boot-on-reconnect",
                                  "station mode: send BootNotification on every reconnect too",
                                  default="false", scope=LOOP)
FORMAT = Setting(None, "--format", "report format", metavar="FORMAT", default="text",
                 choices=("text", "json", "prometheus"), scope=OUTPUT)
OUTPUT_FILE = Setting(None, "--output", "write the report to FILE atomically instead of stdout",
                      metavar="FILE", unset="stdout", scope=OUTPUT)

PROBE_CONFIG = Setting("PROBE_CONFIG", "--config",
                       "TOML config with [server], [targets.NAME] and [modules.NAME]",
                       metavar="FILE", unset="(required)", scope=SERVE)
PROBE_LISTEN = Setting("PROBE_LISTEN", "--listen", "address to listen on, overrides [server] listen",
                       metavar="HOST:PORT", default="127.0.0.1:9477", scope=SERVE)
MAX_CONCURRENT = Setting(None, "--max-concurrent",
                         "checks running at once, all targets together; a quarter is kept for "
                         "targets whose last check passed; beyond, 429",
                         metavar="N", default="64", scope=SERVE)

SETTINGS: tuple[Setting, ...] = (
    WS_URL, OCPP_VERSION, CHARGE_POINT_ID, WS_TRAILING_SLASH, CHARGE_POINT_MODEL, CHARGE_POINT_VENDOR,
    HEARTBEAT_TIMEOUT, PROBE_TIMEOUT, OCPP_PASSWORD, OCPP_PASSWORD_FILE, OCPP_PASSWORD_HEX, TLS_CA_FILE,
    TLS_CERT_FILE, TLS_KEY_FILE, TLS_INSECURE, PROBE_PROXY, ACCEPT_PENDING, PROBE_NO_BOOT, WARN_RTT,
    WARN_CERT_DAYS, WARN_CLOCK_OFFSET, SSL_CERT_FILE,
    KUMA_PUSH_URL, KUMA_PUSH_TIMEOUT, KUMA_PUSH_WARNING_DOWN, PROBE_EVERY,
    PROBE_HOLD, PROBE_PING_INTERVAL, PROBE_BOOT_ON_RECONNECT, FORMAT, OUTPUT_FILE,
    PROBE_CONFIG, PROBE_LISTEN, MAX_CONCURRENT,
)
BY_ENV: dict[str, Setting] = {setting.env: setting for setting in SETTINGS if setting.env}


def in_scope(*scopes: str) -> tuple[Setting, ...]:
    return tuple(setting for setting in SETTINGS if setting.scope in scopes)


def command_line(*scopes: str) -> tuple[Setting, ...]:
    """The settings of these scopes that have a flag, in declaration order."""
    return tuple(setting for setting in in_scope(*scopes) if setting.flag)
