"""Certificates for the TLS tests: one CA per session, a client certificate, server contexts."""

from __future__ import annotations

import datetime
import os
import ssl
import warnings
from dataclasses import dataclass

import trustme


def leaf_context(
    ca: trustme.CA,
    *names: str,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    client_ca: trustme.CA | None = None,
) -> ssl.SSLContext:
    """A server context with a certificate ``ca`` issues for ``names`` (127.0.0.1 by default).

    With ``client_ca`` the server requires a client certificate that CA issued.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert = ca.issue_cert(*(names or ("127.0.0.1",)), not_before=not_before, not_after=not_after)
    cert.configure_cert(context)
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@dataclass
class Pki:
    """A CA the probe is told to trust, and a client certificate it issued (one per session)."""

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
        day = datetime.timedelta(days=1)
        now = datetime.datetime.now(datetime.timezone.utc)
        if flavour == "good":
            context = leaf_context(self.ca, "127.0.0.1", "localhost")
        elif flavour == "self-signed":
            # A CA certificate presented as the server's own: signed by itself.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self_signed = trustme.CA()
            path = os.path.join(self.dir, "selfsigned.pem")
            with open(path, "wb") as handle:
                handle.write(self_signed.cert_pem.bytes() + self_signed.private_key_pem.bytes())
            context.load_cert_chain(path)
        elif flavour == "untrusted-ca":
            context = leaf_context(trustme.CA())
        elif flavour == "wrong-host":
            context = leaf_context(self.ca, "csms.example.com")
        elif flavour == "expired":
            context = leaf_context(self.ca, not_before=now - 30 * day, not_after=now - day)
        elif flavour == "not-yet-valid":
            context = leaf_context(self.ca, not_before=now + day, not_after=now + 30 * day)
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
