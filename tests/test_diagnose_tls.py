"""`ocpp-probe diagnose` at the TLS layer, against the ocpp library CSMS (trustme certificates)."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import trustme

from .peers.ocpp_lib_csms import OcppLibCsms
from .support.diagnose import diagnose, findings
from .support.pki import Pki, leaf_context

NOW = dt.datetime.now(dt.timezone.utc)
FIX_CHAIN = "fix the server's chain: configure the full chain (certificate plus intermediates) on the CSMS or its TLS front"


def _serving(cert: trustme.LeafCert, tmp_path: Path, full_chain: bool) -> ssl.SSLContext:
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    pems = cert.cert_chain_pems if full_chain else cert.cert_chain_pems[:1]
    chain.write_bytes(b"".join(pem.bytes() for pem in pems))
    cert.private_key_pem.write_to_path(str(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(chain), str(key))
    return context


def test_chain_without_its_intermediate(pki: Pki, tmp_path: Path) -> None:
    intermediate = pki.ca.create_child_ca()
    leaf = intermediate.issue_cert("127.0.0.1")
    with OcppLibCsms(ssl_context=_serving(leaf, tmp_path, full_chain=False)) as csms:
        run = diagnose({"WS_URL": csms.url(), "TLS_CA_FILE": pki.ca_file})
    doc = run.doc
    assert run.code == 2
    tls = doc["tls"]
    assert tls["missing_intermediate"] is True
    assert len(tls["chain"]) == 1
    assert set(tls["chain"][0]) >= {"subject", "issuer", "not_before", "not_after", "sans"}
    assert tls["chain"][0]["sans"] == ["IP Address:127.0.0.1"]
    assert tls["verifications"][0] == {
        "store": "TLS_CA_FILE",
        "ok": False,
        "detail": "server certificate not trusted: unable to get local issuer certificate",
    }
    assert any(
        text.startswith("the server does not send its intermediate certificate")
        and text.endswith("chargers without it will fail")
        for text in findings(doc, "tls", "FAIL")
    )
    assert doc["suggestions"] == [FIX_CHAIN]
    # The diagnosis still reaches OCPP, without verification, and says so.
    assert doc["ocpp"]["verdict"] == "OK" and doc["ocpp_run_with"] == "TLS verification off"
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]


def test_full_chain_verifies_and_fits_the_ocpp_profile(
    pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.ca.create_child_ca().issue_cert("127.0.0.1")
    with OcppLibCsms(ssl_context=_serving(leaf, tmp_path, full_chain=True)) as csms:
        run = diagnose({"WS_URL": csms.url(), "TLS_CA_FILE": pki.ca_file})
    doc = run.doc
    assert run.code == 0, run.stdout
    assert doc["tls"]["missing_intermediate"] is False
    assert len(doc["tls"]["chain"]) == 2
    assert doc["tls"]["ocpp_profile_ok"] is True
    assert doc["tls"]["verifications"][0]["ok"] is True
    # The system store does not know this test CA: worth a warning, not a failure.
    assert doc["tls"]["verifications"][1]["store"] == "system"
    assert doc["tls"]["verifications"][1]["ok"] is False
    assert findings(doc, "tls", "FAIL") == []
    assert doc["suggestions"] == []


def test_expired_certificate(pki: Pki) -> None:
    context = leaf_context(pki.ca, not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=2))
    with OcppLibCsms(ssl_context=context) as csms:
        run = diagnose({"WS_URL": csms.url(), "TLS_CA_FILE": pki.ca_file})
    doc = run.doc
    assert run.code == 2
    assert doc["tls"]["earliest_expiry_days"] < -1.9
    fails = findings(doc, "tls", "FAIL")
    assert (
        "certificate not verified against TLS_CA_FILE: server certificate not trusted: certificate has expired"
        in fails
    )
    assert any(
        text.startswith("certificate 'O=trustme") and " expired 2.0 days ago " in text for text in fails
    )
    assert doc["suggestions"] == ["renew the server's certificate"]


def test_tls13_only_server_fails_the_ocpp_profile(pki: Pki) -> None:
    context = leaf_context(pki.ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with OcppLibCsms(ssl_context=context) as csms:
        run = diagnose({"WS_URL": csms.url(), "TLS_CA_FILE": pki.ca_file})
    doc = run.doc
    assert run.code == 0  # the probe itself speaks TLS 1.3
    assert doc["tls"]["version"] == "TLSv1.3"
    assert doc["tls"]["ocpp_profile_ok"] is False
    assert any(
        text.startswith("a charger limited to TLS 1.2 with OCPP's AES-GCM suites cannot connect: ")
        for text in findings(doc, "tls", "WARN")
    )
    assert doc["suggestions"] == [
        "enable TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 / AES256-GCM-SHA384 (OCPP security profiles) "
        "on the server"
    ]
