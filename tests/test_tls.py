"""wss:// against the ocpp library CSMS with certificates made here (trustme)."""

from __future__ import annotations

import datetime as dt
import re
import ssl
from pathlib import Path

import pytest
import trustme

from .peers.ocpp_lib_csms import OcppLibCsms
from .support.pki import Pki, leaf_context
from .support.runs import Run, probe_in_process

NOW = dt.datetime.now(dt.timezone.utc)


def run_against(context: ssl.SSLContext, **env: str) -> Run:
    with OcppLibCsms(ssl_context=context) as csms:
        return probe_in_process(["--json"], {"WS_URL": csms.url(), **env})


def test_trusted_through_ca_file(pki: Pki) -> None:
    context = leaf_context(pki.ca, not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=400))
    run = run_against(context, TLS_CA_FILE=pki.ca_file)
    assert run.code == 0, run.doc
    tls = run.doc["tls"]
    assert tls["version"] in ("TLSv1.2", "TLSv1.3")
    assert tls["verified"] is True
    assert 399 < tls["cert_days_left"] <= 400
    assert list(run.doc["timings_ms"])[:4] == ["resolve", "connect", "tls", "upgrade"]


def test_untrusted_ca_fails_at_tls(pki: Pki) -> None:
    run = run_against(leaf_context(pki.ca), SSL_CERT_FILE="/nonexistent-so-only-system-store")
    assert run.code == 2
    assert run.doc["failed_step"] == "tls"
    assert run.doc["failure_kind"] == "tls_untrusted"
    assert run.doc["reason"].startswith("server certificate not trusted: unable to get local issuer")


def test_untrusted_through_system_store(pki: Pki) -> None:
    run = run_against(leaf_context(pki.ca))
    assert (run.code, run.doc["failed_step"], run.doc["failure_kind"]) == (2, "tls", "tls_untrusted")
    assert "not trusted" in run.doc["reason"]


def test_wrong_host_name(pki: Pki) -> None:
    run = run_against(leaf_context(pki.ca, "csms.example.org"), TLS_CA_FILE=pki.ca_file)
    assert (run.code, run.doc["failed_step"], run.doc["failure_kind"]) == (2, "tls", "tls_hostname")
    assert run.doc["reason"] == (
        "server certificate not trusted: IP address mismatch, certificate is not valid for '127.0.0.1'."
    )


def test_expired_certificate(pki: Pki) -> None:
    context = leaf_context(
        pki.ca, not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1)
    )
    run = run_against(context, TLS_CA_FILE=pki.ca_file)
    assert (run.code, run.doc["failed_step"], run.doc["failure_kind"]) == (2, "tls", "tls_expired")
    assert run.doc["reason"] == "server certificate not trusted: certificate has expired"


def test_certificate_expiring_soon_is_a_warning(pki: Pki) -> None:
    context = leaf_context(pki.ca, not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=5))
    run = run_against(context, TLS_CA_FILE=pki.ca_file)
    assert run.code == 1
    assert run.doc["verdict"] == "WARNING"
    assert run.doc["warnings"] == [f"certificate expires in {run.doc['tls']['cert_days_left']:.1f} days"]
    assert 4 < run.doc["tls"]["cert_days_left"] <= 5
    with OcppLibCsms(ssl_context=context) as csms:
        line = probe_in_process([], {"WS_URL": csms.url(), "TLS_CA_FILE": pki.ca_file}).stdout
    assert line.startswith("OCPP WARNING - certificate expires in ")
    assert " days - ocpp1.6 BootNotification Accepted, Heartbeat RTT " in line
    # WARN_CERT_DAYS (14 by default) is the warn field, in range syntax: warn below 14.
    days = float(re.search(r" cert_days=(\d+\.\d\d);14:;;", line).group(1))  # type: ignore[union-attr]
    assert 4 < days <= 5


def test_insecure_skips_verification_and_says_so(pki: Pki) -> None:
    context = leaf_context(pki.ca, "csms.example.org")
    run = run_against(context, TLS_INSECURE="1")
    assert run.code == 0
    assert run.doc["tls"]["verified"] is False
    with OcppLibCsms(ssl_context=context) as csms:
        line = probe_in_process(["--insecure"], {"WS_URL": csms.url()}).stdout
    assert "(TLS NOT VERIFIED: insecure mode)" in line


@pytest.fixture
def client_ca() -> trustme.CA:
    return trustme.CA()


def test_client_certificate_required_and_given(
    pki: Pki, client_ca: trustme.CA, tmp_path: Path
) -> None:
    leaf = client_ca.issue_cert("CP-1")
    cert, key = tmp_path / "cp.pem", tmp_path / "cp.key"
    for blob in leaf.cert_chain_pems:
        with open(cert, "ab") as handle:
            handle.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(key))
    run = run_against(
        leaf_context(pki.ca, client_ca=client_ca),
        TLS_CA_FILE=pki.ca_file,
        TLS_CERT_FILE=str(cert),
        TLS_KEY_FILE=str(key),
    )
    assert run.code == 0, run.doc


def test_client_certificate_required_and_missing(
    pki: Pki, client_ca: trustme.CA
) -> None:
    run = run_against(leaf_context(pki.ca, client_ca=client_ca), TLS_CA_FILE=pki.ca_file)
    assert run.code == 2
    # With TLS 1.3 the server's refusal arrives after the client's handshake is done.
    assert run.doc["failed_step"] in ("tls", "upgrade")
    # The server either sends the certificate_required alert or just hangs up.
    assert run.doc["reason"] in (
        "server requires a client certificate (TLS_CERT_FILE)",
        "connection closed by the server before the upgrade response: "
        "the CSMS may require a client certificate (set TLS_CERT_FILE)",
        "connection closed by the server during the upgrade: "
        "the CSMS may require a client certificate (set TLS_CERT_FILE)",
    )
    # The alert says what is wrong; a hang-up only that the server closed (the reason
    # then points at the client certificate as the likely cause).
    alert = run.doc["reason"] == "server requires a client certificate (TLS_CERT_FILE)"
    assert run.doc["failure_kind"] == ("tls_client_cert" if alert else "closed")


def test_key_that_does_not_match_certificate_is_unknown(
    pki: Pki, tmp_path: Path
) -> None:
    one, other = pki.ca.issue_cert("a"), pki.ca.issue_cert("b")
    cert, key = tmp_path / "a.pem", tmp_path / "b.key"
    one.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))
    run = probe_in_process(
        ["--json"],
        {"WS_URL": "wss://127.0.0.1:1/ocpp/CP1", "TLS_CA_FILE": pki.ca_file,
         "TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)},
    )
    assert run.code == 3
    assert run.doc["failed_step"] == "config" and run.doc["failure_kind"] == "config"
    assert run.doc["reason"] == "TLS_KEY_FILE: does not match the certificate in TLS_CERT_FILE"
    assert "PRIVATE KEY" not in run.stdout


