"""TLS facts to findings: trust, chain, expiry, OCPP's TLS profile (pure)."""

from __future__ import annotations

from ..settings import CheckSettings
from .facts import Facts
from .finding import Findings


def judge_tls(facts: Facts, settings: CheckSettings, out: Findings) -> None:
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
