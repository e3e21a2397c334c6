"""What every binary (amd64 natively, arm64 and armv7 under QEMU) must do.

Each run has no Python on PATH and its own TMPDIR, which must be empty afterwards.
"""

from __future__ import annotations

import ocpp_probe
from ocpp_probe.demo import DemoCsms

from ..peers.loopback import TlsFront
from ..support.binaries import BinaryRunner
from ..support.net import free_port
from ..support.pki import Pki


def test_version(runner: BinaryRunner) -> None:
    r = runner.run(["--version"])
    assert (r.returncode, r.stdout.strip()) == (0, f"ocpp-probe {ocpp_probe.__version__}")
    assert r.leftovers == []


def test_demo_check(runner: BinaryRunner) -> None:
    r = runner.run(["--demo"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    assert r.leftovers == []


def test_loopback_csms_accepted(runner: BinaryRunner, demo_csms: DemoCsms) -> None:
    r = runner.run(["--json"], env={"WS_URL": demo_csms.url("CP-ARCH")})
    doc = r.json()
    assert r.returncode == 0, r.stdout + r.stderr
    assert (doc["verdict"], doc["failed_step"], doc["subprotocol"]) == ("OK", None, "ocpp1.6")
    assert doc["boot"]["status"] == "Accepted"
    assert doc["boot"]["interval_s"] == 300
    assert doc["target"] == demo_csms.url("CP-ARCH")
    assert r.leftovers == []


def test_loopback_csms_refused_connection(runner: BinaryRunner) -> None:
    port = free_port()
    r = runner.run(["--json"], env={"WS_URL": f"ws://127.0.0.1:{port}/ocpp/CP-ARCH"})
    doc = r.json()
    assert r.returncode == 2
    assert (doc["verdict"], doc["failed_step"]) == ("CRITICAL", "connect")
    assert doc["reason"] == f"connection refused by 127.0.0.1:{port}"
    assert r.leftovers == []


def test_wss_through_ca_file(runner: BinaryRunner, demo_csms: DemoCsms, pki: Pki) -> None:
    with TlsFront(pki.server_context(), demo_csms.address) as front:
        r = runner.run(
            ["--json", "--ocpp-version", "2.0.1"],
            env={"WS_URL": front.url(), "TLS_CA_FILE": pki.ca_file},
        )
    doc = r.json()
    assert r.returncode == 0, r.stdout + r.stderr
    assert (doc["verdict"], doc["subprotocol"]) == ("OK", "ocpp2.0.1")
    assert doc["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert r.leftovers == []


def test_ocpp_library_csms_accepted(runner: BinaryRunner) -> None:
    """The PyPI `ocpp` library as CSMS validates every payload against the OCA schemas."""
    from tests.peers.ocpp_lib_csms import OcppLibCsms

    with OcppLibCsms(version="2.0.1") as csms:
        r = runner.run(["--json"], env={"WS_URL": csms.url("CP-ARCH"), "OCPP_VERSION": "2.0.1"})
    doc = r.json()
    assert (r.returncode, doc["verdict"], doc["subprotocol"]) == (0, "OK", "ocpp2.0.1"), r.stdout
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]
    assert csms.seen.identities == ["CP-ARCH"]
    assert r.leftovers == []


def test_ocpp_library_csms_rejects_boot(runner: BinaryRunner) -> None:
    from tests.peers.ocpp_lib_csms import OcppLibCsms

    with OcppLibCsms(version="1.6", boot_status="Rejected") as csms:
        r = runner.run(["--json"], env={"WS_URL": csms.url("CP-ARCH")})
    doc = r.json()
    assert (r.returncode, doc["verdict"], doc["failed_step"]) == (2, "CRITICAL", "boot"), r.stdout
    assert doc["boot"]["status"] == "Rejected"
    assert "Rejected" in doc["reason"]
    assert r.leftovers == []


def test_diagnose_demo(runner: BinaryRunner) -> None:
    r = runner.run(["diagnose", "--demo", "--json"])
    doc = r.json()
    assert r.returncode == 0, r.stdout + r.stderr
    assert doc["served_versions"] == ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"]
    assert (doc["ocpp"]["verdict"], doc["ocpp"]["subprotocol"]) == ("OK", "ocpp1.6")
    assert doc["suggestions"] == []
    assert r.leftovers == []


def test_diagnose_wss_shows_the_presented_chain(runner: BinaryRunner, demo_csms: DemoCsms, pki: Pki) -> None:
    """The frozen interpreter (Debian's 3.11) must expose the chain the server presents."""
    with TlsFront(pki.server_context(), demo_csms.address) as front:
        r = runner.run(["diagnose", "--json"], env={"WS_URL": front.url(), "TLS_CA_FILE": pki.ca_file})
    doc = r.json()
    assert r.returncode == 0, r.stdout + r.stderr
    tls = doc["tls"]
    assert tls["chain_available"] is True
    assert len(tls["chain"]) == 1 and "IP Address:127.0.0.1" in tls["chain"][0]["sans"]
    assert (tls["missing_intermediate"], tls["ocpp_profile_ok"]) == (False, True)
    assert tls["verifications"][0] == {"store": "TLS_CA_FILE", "ok": True, "detail": "verified"}
    assert r.leftovers == []
