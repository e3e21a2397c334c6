"""Modules: probe settings without a URL, plus the URLs a scrape may bring.

A module is what blackbox_exporter calls one: a named set of settings (OCPP version,
credentials, TLS files, timeouts); the scrape passes ``module=NAME&target=URL`` and
Prometheus' service discovery decides the URLs. So that serve mode cannot be turned
against hosts the operator did not mean (server-side request forgery), each module
lists what it may probe, as exact URLs, host globs or regular expressions; any other
URL is refused before a connection is made.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..redact import redact_url
from ..settings import CheckSettings, ConfigError, check_settings_from

ALLOW_KEYS = ("allow_urls", "allow_hosts", "allow_url_regex")
# Only to validate a module's own settings when the config is loaded.
_PLACEHOLDER_URL = "wss://module.invalid/ocpp/PLACEHOLDER"  # wss: TLS keys apply


class NotAllowed(Exception):
    """The URL is outside the module's allow-lists; the message says which lists."""


@dataclass(frozen=True)
class Module:
    name: str
    values: Mapping[str, str]  # environment-style settings, WS_URL excluded
    allow_urls: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()  # fnmatch globs on the host name, e.g. *.example.com
    allow_url_regex: tuple[re.Pattern[str], ...] = field(default=())

    def settings_for(self, url: str) -> CheckSettings:
        """The check settings for one URL: ConfigError when the URL is malformed,
        NotAllowed when no allow-list entry matches it."""
        settings = check_settings_from({**self.values, "WS_URL": url})
        if not self.allows(settings):
            raise NotAllowed(
                f"module {self.name!r} does not allow {redact_url(settings.url)}: it matches none of "
                "its allow_urls, allow_hosts or allow_url_regex"
            )
        return settings

    def allows(self, settings: CheckSettings) -> bool:
        if settings.url in self.allow_urls:
            return True
        host = settings.host.lower().rstrip(".")
        if any(fnmatch.fnmatchcase(host, glob) for glob in self.allow_hosts):
            return True
        return any(pattern.fullmatch(settings.url) for pattern in self.allow_url_regex)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(where, "must be a list of non-empty strings")
    return tuple(value)


def module_from(name: str, values: dict[str, str], lists: Mapping[str, Any]) -> Module:
    """``values`` are validated settings (upper-case names); ``lists`` the allow_* keys."""
    if "WS_URL" in values:
        raise ConfigError("ws_url", "a module has no URL: the scrape brings it as target=URL")
    urls = _strings(lists.get("allow_urls", []), "allow_urls")
    # Exact URLs are compared in the form the check uses (scheme lower-cased, etc.).
    try:
        urls = tuple(check_settings_from({**values, "WS_URL": url}).url for url in urls)
    except ConfigError as exc:
        raise ConfigError("allow_urls", f"{exc}") from None
    hosts = tuple(glob.lower() for glob in _strings(lists.get("allow_hosts", []), "allow_hosts"))
    patterns: list[re.Pattern[str]] = []
    for text in _strings(lists.get("allow_url_regex", []), "allow_url_regex"):
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise ConfigError("allow_url_regex", f"{text!r} is not a regular expression: {exc}") from None
    if not (urls or hosts or patterns):
        raise ConfigError(
            "allow_urls", "a module must allow something: set allow_urls, allow_hosts or "
            "allow_url_regex (a module that allowed every URL would let anyone who reaches "
            "the server use it to connect anywhere)"
        )
    check_settings_from({**values, "WS_URL": _PLACEHOLDER_URL})  # the module's own settings
    return Module(name, dict(values), urls, hosts, tuple(patterns))
