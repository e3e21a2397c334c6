"""Settings of one check, read from environment-style names and validated up front.

Every setting has an environment variable (monitors that only pass environment) and a
command-line twin; both arrive here as one mapping of environment names to text, so
the CLI, the loop and serve mode's config file all share this validation. A bad
setting is a ConfigError that names it, which the CLI reports as UNKNOWN (exit 3).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import field

from . import registry
from .httpclient import Proxy, environment_proxy, parse_proxy
from .messages import MODEL_MAX, VENDOR_MAX
from .records import record
from .result import Thresholds
from .versions import OcppVersion

__all__ = ["CheckSettings", "ConfigError", "Proxy", "check_settings_from", "parse_bool", "parse_positive"]

# Defaults are declared with their settings in registry.py; these are them, typed.
DEFAULT_TIMEOUT_S = float(registry.PROBE_TIMEOUT.default or 0)
DEFAULT_RESPONSE_TIMEOUT_MS = int(registry.HEARTBEAT_TIMEOUT.default or 0)
DEFAULT_MODEL = registry.CHARGE_POINT_MODEL.default or ""
DEFAULT_VENDOR = registry.CHARGE_POINT_VENDOR.default or ""
DEFAULT_CERT_WARN_DAYS = float(registry.WARN_CERT_DAYS.default or 0)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting is missing or wrong; ``setting`` is its environment variable name."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


@record
class CheckSettings:
    """Everything one check needs, validated."""

    url: str  # the full endpoint, identity included, never with credentials
    host: str
    port: int
    resource: str  # path and query sent in the upgrade request
    secure: bool
    identity: str
    version: OcppVersion
    model: str = DEFAULT_MODEL
    vendor: str = DEFAULT_VENDOR
    timeout_s: float = DEFAULT_TIMEOUT_S
    response_timeout_s: float = DEFAULT_RESPONSE_TIMEOUT_MS / 1000
    password: str | None = field(default=None, repr=False)
    # OCPP 1.6 AuthorizationKey given as hex: the decoded bytes are the Basic password.
    password_hex: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    proxy: Proxy | None = None
    accept_pending: bool = False
    no_boot: bool = False  # send only Heartbeat: the CSMS already knows this station
    thresholds: Thresholds = field(default_factory=Thresholds)


def _text(values: Mapping[str, str], name: str) -> str | None:
    """The value of a setting, or None when unset or empty."""
    value = values.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def parse_bool(values: Mapping[str, str], name: str) -> bool:
    value = (values.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"must be true or false, got {value!r}")


def parse_positive(values: Mapping[str, str], name: str, unit: str | None = None) -> float | None:
    """A positive number, or None when unset; the unit defaults to the registry's."""
    unit = unit or registry.BY_ENV[name].unit
    text = _text(values, name)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ConfigError(name, f"must be a number of {unit}, got {text!r}") from None
    if not number > 0 or number == float("inf"):
        raise ConfigError(name, f"must be a positive number of {unit}, got {text!r}")
    return number


def _readable_file(values: Mapping[str, str], name: str) -> str | None:
    path = _text(values, name)
    if path is None:
        return None
    if not os.path.isfile(path):
        raise ConfigError(name, f"no such file: {path}")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ConfigError(name, f"cannot read {path}: {exc.strerror or exc}") from None
    return path


def _read_password_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read()
    except UnicodeDecodeError:
        raise ConfigError("OCPP_PASSWORD_FILE", f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError("OCPP_PASSWORD_FILE", f"cannot read {path}: {exc.strerror}") from None
    # Files written by editors or `echo` end with a newline that is not part of it.
    password = content.rstrip("\r\n")
    if not password:
        raise ConfigError("OCPP_PASSWORD_FILE", f"{path} is empty")
    return password


def _check_hex_password(password: str | None) -> None:
    if password is None:
        raise ConfigError("OCPP_PASSWORD_HEX", "is set but no password is (OCPP_PASSWORD)")
    try:
        bytes.fromhex(password)
    except ValueError:
        raise ConfigError(
            "OCPP_PASSWORD_HEX", "needs a password of hexadecimal digit pairs"
        ) from None


def _endpoint(values: Mapping[str, str]) -> tuple[urllib.parse.SplitResult, str, str]:
    """The parsed endpoint URL with the identity in it, and the decoded identity."""
    raw = _text(values, "WS_URL")
    if raw is None:
        raise ConfigError("WS_URL", "is required (e.g. wss://csms.example.com/ocpp/CP001)")
    try:
        parts = urllib.parse.urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigError("WS_URL", f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("ws", "wss"):
        shown = parts.scheme or "none"
        raise ConfigError("WS_URL", f"must start with ws:// or wss:// (scheme is {shown})")
    if not parts.hostname:
        raise ConfigError("WS_URL", "has no host name")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "WS_URL", "must not carry credentials; set OCPP_PASSWORD or OCPP_PASSWORD_FILE"
        )
    if parts.fragment:
        raise ConfigError("WS_URL", "must not have a #fragment")
    # A raw space or other character not allowed in a URL path would break the
    # request line; encode those, keeping any %-escapes the user already wrote.
    path = urllib.parse.quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    identity_setting = _text(values, "CHARGE_POINT_ID")
    trailing_slash = parse_bool(values, "WS_TRAILING_SLASH")
    if identity_setting is not None:
        identity = identity_setting
        # OCPP-J puts the identity in the last path segment, percent-encoded; some
        # CSMSs (arthexis among them) route only .../<identity>/, with the slash.
        path = path.rstrip("/") + "/" + urllib.parse.quote(identity, safe="")
        if trailing_slash:
            path += "/"
    else:
        if trailing_slash:
            raise ConfigError(
                "WS_TRAILING_SLASH",
                "applies to CHARGE_POINT_ID; with the identity in WS_URL, end WS_URL with /",
            )
        # A URL written as .../<identity>/ names the identity in its last non-empty
        # segment; the slash stays on the wire, since that is the route the CSMS serves.
        last = path.rstrip("/").rsplit("/", 1)[-1] if path.endswith("/") else path.rsplit("/", 1)[-1]
        identity = urllib.parse.unquote(last)
        if not identity or path.endswith("//"):
            raise ConfigError(
                "WS_URL",
                "has no charge point identity as its last path segment; "
                "add it or set CHARGE_POINT_ID",
            )
    return parts._replace(path=path), identity, path


def _proxy(values: Mapping[str, str], scheme: str, host: str) -> Proxy | None:
    """The proxy for the CSMS: PROBE_PROXY, else the usual variables as curl reads them."""
    explicit = _text(values, "PROBE_PROXY")
    if explicit is not None:
        if explicit.lower() in ("none", "off", "direct"):
            return None
        source, url = "PROBE_PROXY", explicit
    else:
        found = environment_proxy(values, scheme, host)
        if found is None:
            return None
        source, url = found
    try:
        return parse_proxy(url)
    except ValueError as exc:
        raise ConfigError(source, str(exc)) from None


def check_settings_from(values: Mapping[str, str]) -> CheckSettings:
    """Validate environment-style settings into CheckSettings, or raise ConfigError."""
    parts, identity, path = _endpoint(values)
    secure = parts.scheme.lower() == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    query = urllib.parse.quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    resource = (path or "/") + (f"?{query}" if query else "")
    url = urllib.parse.urlunsplit(parts._replace(scheme=parts.scheme.lower()))

    version_text = _text(values, "OCPP_VERSION") or registry.OCPP_VERSION.default or ""
    try:
        version = OcppVersion.parse(version_text)
    except ValueError:
        raise ConfigError(
            "OCPP_VERSION", f"must be 1.6, 2.0.1 or 2.1, got {version_text!r}"
        ) from None

    model = _text(values, "CHARGE_POINT_MODEL") or DEFAULT_MODEL
    vendor = _text(values, "CHARGE_POINT_VENDOR") or DEFAULT_VENDOR
    if len(model) > MODEL_MAX:
        raise ConfigError("CHARGE_POINT_MODEL", f"must be at most {MODEL_MAX} characters")
    if len(vendor) > VENDOR_MAX[version]:
        raise ConfigError(
            "CHARGE_POINT_VENDOR",
            f"must be at most {VENDOR_MAX[version]} characters for OCPP {version.value}",
        )

    timeout_s = parse_positive(values, "PROBE_TIMEOUT") or DEFAULT_TIMEOUT_S
    response_ms = parse_positive(values, "HEARTBEAT_TIMEOUT")
    response_timeout_s = (response_ms or DEFAULT_RESPONSE_TIMEOUT_MS) / 1000

    password_file = _text(values, "OCPP_PASSWORD_FILE")
    if password_file is not None:
        password: str | None = _read_password_file(password_file)
    else:
        # Passwords are taken as given: leading or trailing spaces may be part of one.
        password = values.get("OCPP_PASSWORD") or None

    password_hex = parse_bool(values, "OCPP_PASSWORD_HEX")
    if password_hex:
        _check_hex_password(password)

    ca_file = _readable_file(values, "TLS_CA_FILE")
    cert_file = _readable_file(values, "TLS_CERT_FILE")
    key_file = _readable_file(values, "TLS_KEY_FILE")
    if key_file and not cert_file:
        raise ConfigError("TLS_KEY_FILE", "is set but TLS_CERT_FILE is not")
    insecure = parse_bool(values, "TLS_INSECURE")
    if not secure and (ca_file or cert_file or insecure):
        name = "TLS_CA_FILE" if ca_file else "TLS_CERT_FILE" if cert_file else "TLS_INSECURE"
        raise ConfigError(name, "only applies to wss:// URLs")

    cert_warn = values.get("WARN_CERT_DAYS")
    thresholds = Thresholds(
        rtt_warn_ms=parse_positive(values, "WARN_RTT"),
        cert_warn_days=(
            DEFAULT_CERT_WARN_DAYS
            if cert_warn is None or cert_warn.strip() == ""
            else parse_positive(values, "WARN_CERT_DAYS")
        ),
        clock_warn_s=parse_positive(values, "WARN_CLOCK_OFFSET"),
    )

    return CheckSettings(
        url=url,
        host=host,
        port=port,
        resource=resource,
        secure=secure,
        identity=identity,
        version=version,
        model=model,
        vendor=vendor,
        timeout_s=timeout_s,
        response_timeout_s=response_timeout_s,
        password=password,
        password_hex=password_hex,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        insecure=insecure,
        proxy=_proxy(values, parts.scheme, host),
        accept_pending=parse_bool(values, "ACCEPT_PENDING"),
        no_boot=parse_bool(values, "PROBE_NO_BOOT"),
        thresholds=thresholds,
    )


