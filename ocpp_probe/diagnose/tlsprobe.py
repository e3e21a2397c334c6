"""TLS as a charger meets it: the presented chain, trust, expiry, version, OCPP's profile.

The chain comes from OpenSSL's view of what the server sent (the C-level
``get_unverified_chain``: public on SSLSocket from Python 3.13, present on the
private ``_sslobj`` from 3.10, which is what the binaries' Debian 3.11 has). On an
older interpreter the report says the chain is not available.
"""

from __future__ import annotations

import ssl
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ..records import replace
from ..result import StepFailure
from ..settings import CheckSettings, ConfigError
from ..sockets import DeadlineSocket
from ..tls import client_context
from ..tls_socket import DeadlineSSLSocket
from .dial import Dialer
from .facts import CertInfo, TlsProbe, Verification

# OCPP security profiles 2 and 3 (1.6 security whitepaper, 2.0.1 part 2 A00.FR.3xx):
# TLS 1.2 with these AES-GCM suites; a charger may support nothing else.
OCPP_PROFILE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
)

_NAME_KEYS = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
}


def _name(parts: Any) -> str:
    pieces = []
    for rdn in parts or ():
        for key, value in rdn:
            pieces.append(f"{_NAME_KEYS.get(key, key)}={value}")
    return ", ".join(pieces)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _when(text: Any) -> tuple[str | None, float | None]:
    if not isinstance(text, str):
        return None, None
    epoch = float(ssl.cert_time_to_seconds(text))
    # Not datetime.fromtimestamp: with a 32-bit time_t (armv7) it overflows for dates
    # after 2038, and certificates valid for decades are common.
    shown = (_EPOCH + timedelta(seconds=epoch)).isoformat().replace("+00:00", "Z")
    return shown, epoch


def cert_info(info: dict[str, Any]) -> CertInfo:
    """One certificate from OpenSSL's decoded form (as ``getpeercert()`` shows it)."""
    not_before, _ = _when(info.get("notBefore"))
    not_after, epoch = _when(info.get("notAfter"))
    sans = [f"{kind}:{value}" for kind, value in info.get("subjectAltName", ())]
    subject, issuer = _name(info.get("subject")), _name(info.get("issuer"))
    return CertInfo(subject, issuer, not_before, not_after, epoch, sans, subject == issuer)


def presented_chain(sock: ssl.SSLSocket) -> tuple[list[CertInfo], bool, str]:
    sslobj = getattr(sock, "_sslobj", None)
    getter = getattr(sslobj, "get_unverified_chain", None)
    if getter is None:
        return [], False, "this Python cannot show the presented chain (needs 3.10 or later)"
    chain = []
    for cert in getter() or ():
        chain.append(cert_info(cert.get_info()))
    return chain, True, ""


def chain_incomplete(chain: list[CertInfo], trusted_subjects: set[str]) -> bool | None:
    """True when the last certificate sent was issued by one neither sent nor trusted."""
    if not chain:
        return None
    last = chain[-1]
    sent = {cert.subject for cert in chain}
    return not last.self_issued and last.issuer not in sent and last.issuer not in trusted_subjects


def _trusted_subjects(context: ssl.SSLContext) -> set[str]:
    return {_name(ca.get("subject")) for ca in context.get_ca_certs()}


def _unverified_context(settings: CheckSettings, profile: bool = False) -> ssl.SSLContext:
    context = client_context(replace(settings, insecure=True))
    if profile:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(":".join(OCPP_PROFILE_CIPHERS))
    return context


def _handshake(
    dialer: Dialer, context: ssl.SSLContext
) -> tuple[DeadlineSocket | DeadlineSSLSocket | None, str]:
    """An open TLS socket, or None with the reason in the check's words."""
    try:
        return dialer.open(context, dialer.budget()), ""
    except StepFailure as exc:
        return None, exc.reason


def probe_tls(dialer: Dialer, settings: CheckSettings) -> TlsProbe:
    configured_store = "TLS_CA_FILE" if settings.ca_file else "system"
    try:
        configured = client_context(replace(settings, insecure=False))
    except ConfigError as exc:
        return TlsProbe(False, str(exc))
    verifications: list[Verification] = []
    sock, why = _handshake(dialer, configured)
    if sock is not None:
        verifications.append(Verification(configured_store, True, "verified"))
    elif why.startswith("server certificate not trusted"):
        verifications.append(Verification(configured_store, False, why))
        sock, why = _handshake(dialer, _unverified_context(settings))
    if sock is None or not isinstance(sock, ssl.SSLSocket):
        return TlsProbe(False, why, verifications=verifications)
    try:
        version, cipher = sock.version(), (sock.cipher() or (None,))[0]
        chain, available, note = presented_chain(sock)
        # Without the chain, a verified connection still shows its leaf (for the expiry).
        leaf = sock.getpeercert() if not available else None
    finally:
        sock.close()
    trusted = _trusted_subjects(configured)
    if settings.ca_file:
        system = client_context(replace(settings, ca_file=None, insecure=False))
        other, detail = _handshake(dialer, system)
        if other is not None:
            other.close()
        verifications.append(Verification("system", other is not None, detail or "verified"))
    shown = chain or ([cert_info(leaf)] if leaf else [])
    expiries = [cert.not_after_epoch for cert in shown if cert.not_after_epoch is not None]
    days = (min(expiries) - time.time()) / 86400 if expiries else None
    profile_ok, profile_detail = _profile(dialer, settings, version, cipher)
    return TlsProbe(
        True,
        "",
        version,
        cipher,
        chain,
        available,
        note,
        verifications,
        chain_incomplete(chain, trusted) if available else None,
        days,
        profile_ok,
        profile_detail,
    )


def _profile(
    dialer: Dialer, settings: CheckSettings, version: str | None, cipher: str | None
) -> tuple[bool | None, str]:
    """Could a charger limited to TLS 1.2 and OCPP's AES-GCM suites connect?"""
    if version == "TLSv1.2" and cipher in OCPP_PROFILE_CIPHERS:
        return True, f"negotiated {cipher} over TLS 1.2 already"
    if dialer.deadline.remaining() < 0.5:
        return None, "not tried: the deadline was near"
    sock, why = _handshake(dialer, _unverified_context(settings, profile=True))
    if sock is None:
        return False, why
    assert isinstance(sock, ssl.SSLSocket)
    chosen = (sock.cipher() or (None,))[0]
    sock.close()
    return True, f"TLS 1.2 with {chosen}"
