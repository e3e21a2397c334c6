"""Where a check's verdict goes in Uptime Kuma: KUMA_PUSH_URL, checked and taken apart.

Apart from push.py, which sends: every run reads its settings, but only a run with a
push URL needs the sending code (about 1.5 ms of imports at every start, measured).
The URL holds the push token, Kuma's only credential for a push monitor: it is kept
out of every repr and shown only with the token replaced (see redact.py).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import field

from .httpclient import Credentials, parse_proxy, proxy_variables, url_credentials
from .records import record
from .redact import REDACTED, Redactor
from .settings import ConfigError

SETTING = "KUMA_PUSH_URL"
PUSH_PATH = "/api/push/"
# Kuma's UI shows the push URL with these example parameters; people copy them along.
_KUMA_PARAMS = {"status", "msg", "ping"}


@record
class PushTarget:
    """Where to push the result in Uptime Kuma (the URL holds the token)."""

    url: str = field(repr=False)  # carries the token: never print it
    display: str  # scheme://host/.../api/push/<redacted>
    token: str = field(repr=False)
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def authorization(self) -> str | None:
        return self.credentials.authorization if self.credentials else None

    def secrets(self) -> list[str]:
        return [self.token, *(self.credentials.secrets() if self.credentials else [])]

    def redact(self, text: str, *more: str) -> str:
        """``text`` with the token, credentials and ``more`` removed, whole or in part."""
        return Redactor([*self.secrets(), *more]).text(text)


@record
class ProxyEnvironment:
    """The proxy variables of the run's environment, and nothing else from it."""

    values: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold passwords

    @classmethod
    def of(cls, environment: Mapping[str, str]) -> ProxyEnvironment:
        return cls(proxy_variables(environment))

    def secrets(self) -> list[str]:
        """The passwords in the proxy URLs, for the redactor (a proxy may echo them)."""
        found: list[str] = []
        for name, url in self.values.items():
            if name.lower() == "no_proxy":
                continue
            try:
                credentials = parse_proxy(url).credentials
            except ValueError:
                continue
            if credentials is not None:
                found += credentials.secrets()
        return found


def push_target_from(values: Mapping[str, str]) -> PushTarget | None:
    """The push target in KUMA_PUSH_URL, or None when unset; ConfigError when malformed."""
    raw = (values.get(SETTING) or "").strip()
    if not raw:
        return None
    example = "http(s)://kuma.example.com/api/push/<token>"
    try:
        parts = urllib.parse.urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(SETTING, f"is not a valid URL; expected {example}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(SETTING, f"must be an http(s) URL like {example}")
    prefix, marker, token = parts.path.partition(PUSH_PATH)
    token = token.strip("/")
    if not marker or not token or "/" in token:
        raise ConfigError(SETTING, f"must end in /api/push/<token>, like {example}")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    kept = [
        (name, value)
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if name not in _KUMA_PARAMS
    ]
    url = urllib.parse.urlunsplit(
        (parts.scheme.lower(), netloc, parts.path, urllib.parse.urlencode(kept), "")
    )
    display = f"{parts.scheme.lower()}://{netloc}{prefix}{PUSH_PATH}{REDACTED}"
    # A reverse proxy in front of Kuma may want Basic auth: user:password in the URL.
    return PushTarget(url, display, token, url_credentials(parts))
