"""From facts to findings and suggestions: pure functions, no I/O.

Each layer's function reads the facts and returns findings (layer, level, text) and
the changes a person should make, worded in the probe's settings where a setting is
the fix ("set OCPP_VERSION=2.0.1") and as a server change where it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import CheckSettings
from .facts import Facts, UpgradeAttempt

LAYERS = ("settings", "network", "tls", "upgrade", "clock", "ocpp")
DEFAULT_CLOCK_WARN_S = 60.0
CONFIRMED_HEX = "the CSMS accepts the decoded AuthorizationKey: set OCPP_PASSWORD_HEX=true"


@dataclass(frozen=True)
class Finding:
    layer: str
    level: str  # OK, WARN, FAIL
    text: str


@dataclass
class Findings:
    items: list[Finding] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def add(self, layer: str, level: str, text: str, suggestion: str = "") -> None:
        self.items.append(Finding(layer, level, text))
        if suggestion and suggestion not in self.suggestions:
            self.suggestions.append(suggestion)


def _settings(facts: Facts, out: Findings) -> None:
    for item in facts.lints:
        out.add("settings", item.level, f"{item.setting}: {item.text}", item.suggestion)
    if not facts.lints:
        out.add("settings", "OK", f"identity {facts.identity!r} and credentials look usable")


def _network(facts: Facts, out: Findings) -> None:
    what = f"proxy {facts.proxy}" if facts.proxy else "the CSMS"
    if facts.resolve_error is not None:
        out.add(
            "network",
            "FAIL",
            f"{what}: {facts.resolve_error}",
            "check the host name in "
            + ("PROBE_PROXY" if facts.proxy else "WS_URL")
            + " and this machine's DNS",
        )
        return
    for probe in facts.addresses:
        if probe.connected:
            out.add(
                "network",
                "OK",
                f"{what} {probe.family} {probe.address}: TCP connect in {probe.connect_ms:.1f} ms",
            )
    good = {probe.family for probe in facts.addresses if probe.connected}
    for probe in facts.addresses:
        if probe.connected:
            continue
        level = "WARN" if good else "FAIL"
        out.add("network", level, f"{what} {probe.family} {probe.address}: {probe.detail}")
    bad = {probe.family for probe in facts.addresses if not probe.connected}
    if good and bad - good:
        dead = " and ".join(sorted(bad - good))
        out.add(
            "network",
            "WARN",
            f"{dead} addresses do not answer while {' and '.join(sorted(good))} ones do: a charger "
            f"that tries {dead} first fails or waits",
            f"fix the CSMS's {dead} reachability (listener, firewall) or remove its "
            f"{'AAAA' if dead == 'IPv6' else 'A'} record",
        )
    if not good:
        out.add(
            "network",
            "FAIL",
            f"no address of {what} accepts a TCP connection",
            "check the host and port in "
            + ("PROBE_PROXY" if facts.proxy else "WS_URL")
            + ", that the CSMS listens there and that no firewall blocks this machine",
        )


def _tls(facts: Facts, settings: CheckSettings, out: Findings) -> None:
    tls = facts.tls
    if tls is None:
        if not facts.secure and facts.addresses:
            out.add(
                "tls",
                "WARN",
                "ws:// without TLS: credentials and messages travel in clear (OCPP security profile 1)",
            )
        return
    if not tls.handshake_ok:
        suggestion = "check that WS_URL's port serves TLS and offers TLS 1.2 or 1.3"
        if "did not answer with TLS" in tls.detail:
            suggestion = "the port does not speak TLS: use ws:// or the CSMS's TLS port in WS_URL"
        elif "client certificate" in tls.detail:
            suggestion = "set TLS_CERT_FILE and TLS_KEY_FILE to the station certificate (security profile 3)"
        out.add("tls", "FAIL", f"TLS handshake failed: {tls.detail}", suggestion)
        return
    out.add("tls", "OK", f"{tls.version} with {tls.cipher}")
    if settings.insecure:
        out.add(
            "tls",
            "WARN",
            "TLS_INSECURE is set: the check does not verify the certificate, a charger does",
            "unset TLS_INSECURE once the certificate verifies",
        )
    if not tls.chain_available:
        out.add("tls", "WARN", f"presented chain not shown: {tls.chain_note}")
    else:
        for index, cert in enumerate(tls.chain):
            out.add(
                "tls",
                "OK",
                f"chain[{index}] {cert.subject} issued by {cert.issuer}, "
                f"valid {cert.not_before} to {cert.not_after}",
            )
    for check in tls.verifications:
        store = "the system CA store" if check.store == "system" else "TLS_CA_FILE"
        if check.ok:
            out.add("tls", "OK", f"certificate verified against {store}")
            continue
        configured = check is tls.verifications[0]
        level = "FAIL" if configured else "WARN"
        text = f"certificate not verified against {store}: {check.detail}"
        if "mismatch" in check.detail:
            suggestion = (
                f"the certificate does not name {settings.host}: use a name it lists in WS_URL, "
                "or fix the server's certificate"
            )
        elif "expired" in check.detail:
            suggestion = "renew the server's certificate"
        elif tls.missing_intermediate:
            suggestion = ""  # said below, with the fix
        elif check.store == "system":
            suggestion = (
                "set TLS_CA_FILE to the CA that issued the CSMS certificate (chargers need it installed too)"
                if configured
                else ""
            )
            if not configured:
                text += " (chargers need TLS_CA_FILE's CA installed)"
        else:
            suggestion = "check that TLS_CA_FILE holds the CA that issued the CSMS certificate"
        out.add("tls", level, text, suggestion)
    if tls.missing_intermediate and tls.chain:
        last = tls.chain[-1]
        out.add(
            "tls",
            "FAIL",
            f"the server does not send its intermediate certificate: nothing it sends or the trust "
            f"store holds issued {last.subject!r} (issuer {last.issuer!r}); chargers without it will fail",
            "fix the server's chain: configure the full chain (certificate plus intermediates) "
            "on the CSMS or its TLS front",
        )
    if tls.earliest_expiry_days is not None:
        days = tls.earliest_expiry_days
        if days < 0:
            expired = min(
                (c for c in tls.chain if c.not_after_epoch is not None), key=lambda c: c.not_after_epoch or 0
            )
            out.add(
                "tls",
                "FAIL",
                f"certificate {expired.subject!r} expired {-days:.1f} days ago ({expired.not_after})",
                "renew the server's certificate",
            )
        elif settings.thresholds.cert_warn_days is not None and days < settings.thresholds.cert_warn_days:
            out.add(
                "tls",
                "WARN",
                f"earliest certificate expiry in {days:.1f} days",
                "renew the server's certificate soon",
            )
        else:
            out.add("tls", "OK", f"earliest certificate expiry in {days:.0f} days")
    if tls.ocpp_profile_ok is True:
        out.add(
            "tls", "OK", f"a charger limited to OCPP's TLS profile can connect ({tls.ocpp_profile_detail})"
        )
    elif tls.ocpp_profile_ok is False:
        out.add(
            "tls",
            "WARN",
            "a charger limited to TLS 1.2 with OCPP's AES-GCM suites cannot connect: "
            + tls.ocpp_profile_detail,
            "enable TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 / AES256-GCM-SHA384 "
            "(OCPP security profiles) on the server",
        )
    else:
        out.add("tls", "WARN", f"OCPP TLS profile not checked: {tls.ocpp_profile_detail}")


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


def _upgrade(facts: Facts, settings: CheckSettings, out: Findings) -> None:
    attempts = facts.attempts
    if not attempts:
        return
    for attempt in attempts:
        if attempt.outcome == "skipped":
            out.add("upgrade", "WARN", _describe(attempt))
            continue
        level = (
            "OK"
            if attempt.outcome == "served" or (attempt.subprotocol is None and attempt.outcome != "error")
            else "WARN"
        )
        out.add("upgrade", level, _describe(attempt))
    served = facts.served_versions
    configured = settings.version.subprotocol
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
    before = len(out.suggestions)
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


def _clock(facts: Facts, settings: CheckSettings, out: Findings) -> None:
    limit = settings.thresholds.clock_warn_s or DEFAULT_CLOCK_WARN_S
    sources = []
    if facts.http_clock_offset_s is not None:
        sources.append(("HTTP Date", facts.http_clock_offset_s))
    if facts.ocpp is not None and facts.ocpp.clock_offset_s is not None:
        sources.append(("OCPP currentTime", facts.ocpp.clock_offset_s))
    if not sources:
        if facts.attempts:
            out.add(
                "clock", "WARN", "the server sent no HTTP Date and OCPP never started: clock not compared"
            )
        return
    for source, offset in sources:
        if abs(offset) > limit:
            out.add(
                "clock",
                "WARN",
                f"{source}: the CSMS clock is {offset:+.0f} s from this machine's",
                f"your clock and the CSMS's differ by {abs(offset):.0f} s: "
                "sync this machine (NTP) or the CSMS's clock",
            )
        else:
            out.add("clock", "OK", f"{source}: the CSMS clock is {offset:+.1f} s from this machine's")


def _ocpp(facts: Facts, out: Findings) -> None:
    result = facts.ocpp
    if result is None:
        if facts.ocpp_settings_note:
            out.add("ocpp", "WARN", f"BootNotification {facts.ocpp_settings_note}")
        elif facts.attempts:
            out.add("ocpp", "FAIL", "BootNotification not sent: no OCPP version is served")
        return
    how = f" (run with {facts.ocpp_settings_note})" if facts.ocpp_settings_note else ""
    if result.ok:
        boot = result.boot
        parts = [f"{result.subprotocol} BootNotification {boot.status if boot else '?'}"]
        if boot is not None and boot.interval_s is not None:
            parts.append(f"interval {boot.interval_s} s")
        if result.heartbeat_rtt_ms is not None:
            parts.append(f"Heartbeat RTT {result.heartbeat_rtt_ms:.1f} ms")
        if result.csms_calls:
            parts.append("CSMS CALLs: " + ", ".join(result.csms_calls))
        out.add("ocpp", "OK", ", ".join(parts) + how)
        return
    suggestion = ""
    if result.boot is not None and result.boot.status == "Pending":
        suggestion = "accept this identity at the CSMS, or set ACCEPT_PENDING=true"
    elif result.boot is not None and result.boot.status == "Rejected":
        suggestion = "register this identity at the CSMS"
    step = result.failed_step.value if result.failed_step else "?"
    out.add("ocpp", "FAIL", f"{step} failed: {result.reason}{how}", suggestion)


def judge(facts: Facts, settings: CheckSettings) -> Findings:
    out = Findings()
    _settings(facts, out)
    _network(facts, out)
    _tls(facts, settings, out)
    _upgrade(facts, settings, out)
    _clock(facts, settings, out)
    _ocpp(facts, out)
    if CONFIRMED_HEX in out.suggestions:
        # The lint's "if the CSMS expects ..." is answered: keep only the confirmed change.
        out.suggestions = [s for s in out.suggestions if s == CONFIRMED_HEX or "OCPP_PASSWORD_HEX" not in s]
    return out


def check_would_pass(facts: Facts) -> bool:
    """Would `ocpp-probe` with these settings pass? Only an unchanged OCPP run says yes."""
    return facts.ocpp is not None and facts.ocpp_with_current_settings and facts.ocpp.ok
