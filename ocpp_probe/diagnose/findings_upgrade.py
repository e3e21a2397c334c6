"""Upgrade attempts to findings: versions served, path, credentials, proxies (pure)."""

from __future__ import annotations

from ..settings import CheckSettings
from .facts import Facts, UpgradeAttempt
from .finding import Findings

CONFIRMED_HEX = "the CSMS accepts the decoded AuthorizationKey: set OCPP_PASSWORD_HEX=true"


def _describe(attempt: UpgradeAttempt) -> str:
    offered = attempt.subprotocol or "no subprotocol"
    extras = []
    if attempt.path_variant != "as configured":
        extras.append(attempt.path_variant)
    if attempt.credentials != "as configured":
        extras.append(f"credentials {attempt.credentials}")
    how = f" ({', '.join(extras)})" if extras else ""
    text = f"{offered}{how}: {attempt.detail}"
    if attempt.body_excerpt and attempt.status != 101:
        text += f' - body "{attempt.body_excerpt[:120]}"'
    return text


def judge_upgrade(facts: Facts, settings: CheckSettings, out: Findings) -> None:
    attempts = facts.attempts
    if not attempts:
        return
    for attempt in attempts:
        if attempt.outcome == "skipped":
            out.add("upgrade", "WARN", _describe(attempt))
            continue
        # Another version refused is information; the configured one refused, or no
        # answer at all, is a problem (judged again below, with the cause).
        problem = attempt.outcome == "error" or (
            attempt.subprotocol == settings.version.subprotocol and attempt.outcome != "served"
        )
        out.add("upgrade", "WARN" if problem else "OK", _describe(attempt))
    served = facts.served_versions
    configured = settings.version.subprotocol
    before = len(out.suggestions)  # a more specific cause found below replaces the generic hint
    # The last try of the configured version is the one on the path and credentials that work.
    first = [a for a in attempts if a.subprotocol == configured and a.outcome != "skipped"][-1]
    for name in ("server", "via"):
        values = sorted({a.headers[name] for a in attempts if name in a.headers})
        if values:
            out.add("upgrade", "OK", f"answered with {name.capitalize()}: {'; '.join(values)}")
    if any(a.status in (502, 503, 504) for a in attempts):
        status = next(a.status for a in attempts if a.status in (502, 503, 504))
        out.add(
            "upgrade",
            "FAIL",
            f"a proxy or load balancer answered {status}: the CSMS behind it did not",
            "check the CSMS behind the proxy or load balancer (see the Server/Via headers)",
        )
    if any(a.status is not None and 200 <= a.status < 300 for a in attempts):
        out.add(
            "upgrade",
            "FAIL",
            "a plain web page answered instead of a WebSocket endpoint",
            "check WS_URL: it points at a web server, not the CSMS's OCPP endpoint",
        )
    if facts.proxy and any(a.detail.startswith("proxy ") for a in attempts):
        failed = next(a for a in attempts if a.detail.startswith("proxy "))
        suggestion = "check PROBE_PROXY (or HTTPS_PROXY/HTTP_PROXY)"
        if "requires authentication" in failed.detail:
            suggestion = "the proxy wants credentials: set PROBE_PROXY=http://user:password@host:port"
        out.add("upgrade", "FAIL", failed.detail, suggestion)
        return
    if facts.proxy:
        out.add("upgrade", "OK", f"reached the CSMS through the CONNECT proxy {facts.proxy}")
    _path_and_credentials(attempts, settings, served, out)
    specific = len(out.suggestions) > before
    if configured in served:
        others = [s for s in served if s != configured]
        also = f" (also {', '.join(others)})" if others else ""
        out.add("upgrade", "OK", f"the CSMS serves {configured}{also}")
    elif served:
        only = served[0] if len(served) == 1 else None
        newest = facts.ocpp.ocpp_version if facts.ocpp is not None else served[-1].removeprefix("ocpp")
        text = f"the CSMS does not serve {configured} ({first.detail}); it serves " + (
            f"only {only}" if only else ", ".join(served)
        )
        out.add(
            "upgrade",
            "FAIL",
            text,
            f"the CSMS serves {'only ' + only if only else ', '.join(served)}: set OCPP_VERSION={newest}",
        )
    else:
        out.add(
            "upgrade",
            "FAIL",
            "the endpoint serves none of ocpp1.6, ocpp2.0.1, ocpp2.1",
            "" if specific else _no_version_hint(attempts, settings),
        )
    _deflate(facts, out)


def _no_version_hint(attempts: list[UpgradeAttempt], settings: CheckSettings) -> str:
    statuses = {a.status for a in attempts}
    if statuses <= {404}:
        return (
            "the path answers 404 for this identity with and without a trailing slash: check the identity "
            "is registered at the CSMS and the path in WS_URL"
        )
    if statuses & {401, 403} and settings.password is None:
        return "the CSMS wants credentials: set OCPP_PASSWORD (or OCPP_PASSWORD_FILE)"
    if statuses & {401, 403}:
        return "the CSMS refuses these credentials: check OCPP_PASSWORD for this identity at the CSMS"
    tried = [a for a in attempts if a.outcome != "skipped"]
    if tried and all("timed out" in a.detail for a in tried):
        return (
            "the server accepts TCP but never answers the upgrade: check that WS_URL's port is the "
            "CSMS's WebSocket port (a TLS port needs wss://), or raise PROBE_TIMEOUT"
        )
    if all(a.outcome == "closed" for a in tried):
        return "the server closes every upgrade: check WS_URL's path and that it is an OCPP CSMS"
    return "check WS_URL against the CSMS's documented endpoint"


def _path_and_credentials(
    attempts: list[UpgradeAttempt], settings: CheckSettings, served: list[str], out: Findings
) -> None:
    first = attempts[0]
    slash = next((a for a in attempts if a.path_variant != "as configured"), None)
    if first.status == 404 and slash is not None:
        if slash.outcome == "served":
            out.add(
                "upgrade",
                "FAIL",
                f"the path answers 404 as configured but works {slash.path_variant} ({slash.path})",
                f"set WS_URL to the path {slash.path_variant} ({slash.path})",
            )
        elif slash.status == 404 and not served:
            out.add(
                "upgrade",
                "FAIL",
                "the path answers 404 for this identity with and without a trailing slash",
                "the path answers 404 for this identity with and without a trailing slash: check the "
                "identity is registered at the CSMS and the path in WS_URL "
                "(e.g. SteVe: /steve/websocket/CentralSystemService/<identity>)",
            )
    refused = [a for a in attempts if a.status in (401, 403) and a.credentials == "as configured"]
    if not refused:
        return
    answer = refused[0]
    challenge = answer.headers.get("www-authenticate")
    said = f" (WWW-Authenticate: {challenge})" if challenge else ""
    if settings.password is None:
        if not served:
            out.add(
                "upgrade",
                "FAIL",
                f"the CSMS answers {answer.status} without credentials{said}",
                "the CSMS wants credentials: set OCPP_PASSWORD (or OCPP_PASSWORD_FILE)"
                if answer.status == 401
                else "the CSMS refuses this identity: check it is registered, "
                "or set OCPP_PASSWORD / TLS_CERT_FILE",
            )
        return
    by_label = {a.credentials: a for a in attempts if a.subprotocol == answer.subprotocol}
    decoded = by_label.get("decoded hex")
    none = by_label.get("none")
    if decoded is not None and _let_in(decoded):
        out.add(
            "upgrade",
            "FAIL",
            "the CSMS refuses the hex password but accepts its decoded bytes (the AuthorizationKey)",
            CONFIRMED_HEX,
        )
    elif none is not None and _let_in(none):
        out.add(
            "upgrade",
            "WARN",
            f"the CSMS answers {answer.status} with these credentials and accepts none at all",
            "unset OCPP_PASSWORD, or fix the password configured for this identity at the CSMS",
        )
    elif none is not None and none.status in (401, 403):
        out.add(
            "upgrade",
            "FAIL",
            f"the CSMS refuses the credentials ({answer.status} with them, {none.status} without){said}",
            f"wrong credentials: check OCPP_PASSWORD for identity {settings.identity!r} at the CSMS "
            "(and that no proxy strips Authorization)",
        )


def _let_in(attempt: UpgradeAttempt) -> bool:
    """The credentials passed: the server answered, and not with 401 or 403."""
    return attempt.status is not None and attempt.status not in (401, 403)


def _deflate(facts: Facts, out: Findings) -> None:
    served = [a for a in facts.attempts if a.outcome == "served" and a.deflate_offered]
    if not served:
        return
    for attempt in served:
        if attempt.deflate_answer:
            out.add(
                "upgrade",
                "OK",
                f"{attempt.subprotocol}: permessage-deflate accepted ({attempt.deflate_answer})",
            )
        elif attempt.subprotocol in ("ocpp2.0.1", "ocpp2.1"):
            out.add(
                "upgrade",
                "WARN",
                f"{attempt.subprotocol}: the CSMS did not accept permessage-deflate, "
                "which OCPP 2.0.1 and 2.1 "
                "require a CSMS to support (RFC 7692)",
            )
        else:
            out.add(
                "upgrade",
                "OK",
                f"{attempt.subprotocol}: permessage-deflate not accepted (optional in OCPP 1.6)",
            )
