"""Shared pieces of the hostile-server tests: certificates, TLS contexts, timing."""

from __future__ import annotations

import datetime
import os
import ssl
import time
import warnings
from dataclasses import dataclass
from typing import Any

import trustme

from .conftest import Run, probe_in_process

NOW = "2026-01-01T00:00:00Z"
BOOT_OK: dict[str, Any] = {"status": "Accepted", "currentTime": NOW, "interval": 300}
HEARTBEAT_OK: dict[str, Any] = {"currentTime": NOW}


@dataclass
class Pki:
    """Certificates for every TLS row, written once per test session."""

    dir: str
    ca: trustme.CA
    ca_file: str  # the CA the probe is told to trust
    client_cert: str
    client_key: str
    other_client_key: str  # a key that belongs to no certificate here

    def server_context(
        self,
        flavour: str = "good",
        require_client_cert: bool = False,
        tls_versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None,
    ) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        day = datetime.timedelta(days=1)
        now = datetime.datetime.now(datetime.timezone.utc)
        if flavour == "good":
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        elif flavour == "self-signed":
            # A CA certificate presented as the server's own: signed by itself.
            self_signed = trustme.CA()
            path = os.path.join(self.dir, "selfsigned.pem")
            with open(path, "wb") as handle:
                handle.write(self_signed.cert_pem.bytes() + self_signed.private_key_pem.bytes())
            context.load_cert_chain(path)
        elif flavour == "untrusted-ca":
            trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
        elif flavour == "wrong-host":
            self.ca.issue_cert("csms.example.com").configure_cert(context)
        elif flavour == "expired":
            self.ca.issue_cert(
                "127.0.0.1", not_before=now - 30 * day, not_after=now - day
            ).configure_cert(context)
        elif flavour == "not-yet-valid":
            self.ca.issue_cert(
                "127.0.0.1", not_before=now + day, not_after=now + 30 * day
            ).configure_cert(context)
        else:
            raise ValueError(flavour)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        if tls_versions is not None:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():  # old versions on purpose: a legacy server
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version, context.maximum_version = tls_versions
        return context


def make_pki(directory: str) -> Pki:
    ca = trustme.CA()
    ca_file = os.path.join(directory, "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    client = ca.issue_cert("CP-1")
    client_cert = os.path.join(directory, "client.pem")
    client_key = os.path.join(directory, "client.key")
    client.cert_chain_pems[0].write_to_path(client_cert)
    client.private_key_pem.write_to_path(client_key)
    other_key = os.path.join(directory, "other.key")
    ca.issue_cert("other").private_key_pem.write_to_path(other_key)
    return Pki(directory, ca, ca_file, client_cert, client_key, other_key)


@dataclass
class Timed:
    run: Run
    elapsed_s: float


def timed_probe(argv: list[str], env: dict[str, str]) -> Timed:
    start = time.monotonic()
    run = probe_in_process(argv, env)
    return Timed(run, time.monotonic() - start)
