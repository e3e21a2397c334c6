"""The diagnosis, in order: lint, network, TLS, upgrade attempts, one OCPP exchange.

One Deadline (PROBE_TIMEOUT) bounds it all; each connection gets a share of it.
BootNotification is sent once at most, by the check itself (run_check), for the
best version the endpoint serves.
"""

from __future__ import annotations

import ssl
import time
import urllib.parse
from dataclasses import dataclass

from ..check import run_check
from ..deadline import Deadline
from ..messages import VENDOR_MAX
from ..records import replace
from ..redact import redact_url
from ..settings import CheckSettings
from ..tls import client_context
from ..trace import Tracer
from ..upgrade import basic_authorization, basic_token_bytes
from ..versions import OcppVersion
from .attempt import run_attempt
from .dial import Dialer
from .facts import Facts, UpgradeAttempt
from .lint import lint, looks_like_hex_key
from .tlsprobe import probe_tls

# Preference when the configured version is not served: the newest one served.
_NEWEST_FIRST = (OcppVersion.V21, OcppVersion.V201, OcppVersion.V16)
# Below this much time left, starting the OCPP exchange would only report a timeout.
MIN_OCPP_S = 1.0


@dataclass(frozen=True)
class _Way:
    """How the attempts reach the endpoint: path and credentials."""

    resource: str
    path_variant: str
    credentials: str
    authorization: str | None


def toggled_slash(resource: str) -> tuple[str, str]:
    path, sep, query = resource.partition("?")
    if path.endswith("/") and len(path) > 1:
        return path.rstrip("/") + sep + query, "without trailing slash"
    return path + "/" + sep + query, "with trailing slash"


def _configured_authorization(settings: CheckSettings) -> str | None:
    if settings.password is None:
        return None
    if settings.password_hex:
        return "Basic " + basic_token_bytes(settings.identity, bytes.fromhex(settings.password))
    return basic_authorization(settings.identity, settings.password)


def _attempts(
    dialer: Dialer, settings: CheckSettings, secure_context: ssl.SSLContext | None
) -> tuple[list[UpgradeAttempt], _Way]:
    context = secure_context if settings.secure else None
    attempts: list[UpgradeAttempt] = []

    def attempt(way: _Way, subprotocol: str | None) -> UpgradeAttempt:
        if dialer.deadline.remaining() < MIN_OCPP_S:
            skipped = UpgradeAttempt(
                subprotocol,
                way.resource,
                way.path_variant,
                way.credentials,
                way.authorization is not None,
                "skipped",
                detail="not tried: the total deadline (PROBE_TIMEOUT) was near",
            )
            attempts.append(skipped)
            return skipped
        done = run_attempt(
            dialer, context, way.resource, subprotocol, way.path_variant, way.credentials, way.authorization
        )
        attempts.append(done)
        return done

    way = _Way(settings.resource, "as configured", "as configured", _configured_authorization(settings))
    configured = settings.version.subprotocol
    first = attempt(way, configured)
    if first.status == 404:
        resource, slash_variant = toggled_slash(settings.resource)
        other = _Way(resource, slash_variant, way.credentials, way.authorization)
        if attempt(other, configured).status != 404:
            way = other
    latest = attempts[-1]
    if latest.status in (401, 403):
        variants: list[_Way] = []
        if settings.password is not None:
            variants.append(_Way(way.resource, way.path_variant, "none", None))
            if not settings.password_hex and looks_like_hex_key(settings.password):
                token = basic_token_bytes(settings.identity, bytes.fromhex(settings.password))
                variants.append(_Way(way.resource, way.path_variant, "decoded hex", "Basic " + token))
        for variant in variants:
            if attempt(variant, configured).status not in (401, 403):
                way = variant
                break
    for version in (OcppVersion.V16, OcppVersion.V201, OcppVersion.V21):
        if version is not settings.version:
            attempt(way, version.subprotocol)
    attempt(way, None)
    return attempts, way


def _ocpp_settings(
    settings: CheckSettings, way: _Way, version: OcppVersion, insecure: bool
) -> tuple[CheckSettings, list[str]]:
    changes: list[str] = []
    chosen = replace(settings, version=version, vendor=settings.vendor[: VENDOR_MAX[version]])
    if version is not settings.version:
        changes.append(f"OCPP_VERSION={version.value}")
    if way.resource != settings.resource:
        parts = urllib.parse.urlsplit(settings.url)
        chosen = replace(
            chosen,
            resource=way.resource,
            url=urllib.parse.urlunsplit(parts._replace(path=way.resource.partition("?")[0])),
        )
        changes.append(f"path {way.resource.partition('?')[0]} ({way.path_variant})")
    if way.credentials == "none":
        chosen = replace(chosen, password=None, password_hex=False)
        changes.append("no credentials")
    elif way.credentials == "decoded hex":
        chosen = replace(chosen, password_hex=True)
        changes.append("OCPP_PASSWORD_HEX=true")
    if insecure and not settings.insecure:
        chosen = replace(chosen, insecure=True)
        changes.append("TLS verification off")
    return chosen, changes


def diagnose(settings: CheckSettings, trace: Tracer | None = None) -> Facts:
    begin = time.perf_counter()
    deadline = Deadline.after(settings.timeout_s, "diagnosis")
    dialer = Dialer(settings, deadline, trace)
    facts = Facts(
        target=redact_url(settings.url),
        configured_version=settings.version.value,
        secure=settings.secure,
        identity=settings.identity,
        proxy=settings.proxy.display if settings.proxy else None,
        lints=lint(settings),
    )

    def done(**changes: object) -> Facts:
        return replace(
            facts,
            connections=dialer.connections,
            deadline_reached=deadline.expired(),
            elapsed_ms=(time.perf_counter() - begin) * 1000,
            **changes,
        )

    addresses, resolve_error = dialer.probe_addresses()
    facts = replace(facts, addresses=addresses, resolve_error=resolve_error)
    if resolve_error is not None or not any(probe.connected for probe in addresses):
        return done()
    context = None
    verified = True
    if settings.secure:
        tls = probe_tls(dialer, settings)
        facts = replace(facts, tls=tls)
        if not tls.handshake_ok:
            return done()
        verified = bool(tls.verifications) and tls.verifications[0].ok
        context = client_context(replace(settings, insecure=True))
    attempts, way = _attempts(dialer, settings, context)
    facts = replace(facts, attempts=attempts)
    served = {a.subprotocol for a in attempts if a.outcome == "served"}
    on_way = {
        a.subprotocol
        for a in attempts
        if a.outcome == "served" and (a.path, a.credentials) == (way.resource, way.credentials)
    }
    if settings.version.subprotocol in on_way:
        version: OcppVersion | None = settings.version
    else:
        version = next((v for v in _NEWEST_FIRST if v.subprotocol in served), None)
    if version is None:
        return done()
    if deadline.remaining() < MIN_OCPP_S:
        return done(ocpp_settings_note="not run: the total deadline (PROBE_TIMEOUT) was near")
    chosen, changes = _ocpp_settings(settings, way, version, insecure=not verified)
    chosen = replace(chosen, timeout_s=deadline.remaining())
    dialer.connections += 1
    result = run_check(chosen, trace)
    return done(
        ocpp=result,
        ocpp_settings_note=", ".join(changes),
        ocpp_with_current_settings=not changes,
    )
