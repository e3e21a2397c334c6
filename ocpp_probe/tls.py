"""The client TLS context: trust store, client certificate, and the insecure switch."""

from __future__ import annotations

import os
import ssl

from .settings import CheckSettings, ConfigError

# Where distributions keep their CA bundle. A frozen binary carries OpenSSL's
# compile-time default path, which may not exist on the host it is copied to.
SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Raspberry Pi OS, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # Alpine, macOS, BSD
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # CentOS/RHEL 7+
)


def system_ca_file() -> str | None:
    """The CA bundle to trust when none is configured: SSL_CERT_FILE, else the system's."""
    explicit = os.environ.get("SSL_CERT_FILE")
    if explicit:
        return explicit
    for path in SYSTEM_CA_FILES:
        if os.path.isfile(path):
            return path
    return None


def client_context(settings: CheckSettings) -> ssl.SSLContext:
    """A TLS context for the check; a file that cannot be used is a ConfigError."""
    from .tls_socket import DeadlineSSLSocket

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP security profiles require 1.2+
    context.sslsocket_class = DeadlineSSLSocket
    if settings.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif settings.ca_file:
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (ssl.SSLError, ValueError) as exc:
            raise ConfigError("TLS_CA_FILE", f"holds no usable certificate ({exc})") from None
    else:
        ca_file = system_ca_file()
        if ca_file:
            try:
                context.load_verify_locations(cafile=ca_file)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError("SSL_CERT_FILE", f"cannot load {ca_file} ({exc})") from None
        else:
            context.load_default_certs()
    if settings.cert_file:
        try:
            # An empty password callback stops OpenSSL prompting on the terminal for an
            # encrypted key, which would hang an unattended check.
            context.load_cert_chain(settings.cert_file, settings.key_file, password=lambda: b"")
        except ssl.SSLError as exc:
            raise _client_cert_error(settings, exc) from None
        except OSError as exc:
            raise ConfigError("TLS_CERT_FILE", f"cannot be read ({exc.strerror})") from None
    return context


def _client_cert_error(settings: CheckSettings, exc: ssl.SSLError) -> ConfigError:
    """Which of the two files is wrong, in words; never quoting the key itself."""
    reason = getattr(exc, "reason", None) or "unusable certificate or key"
    key_setting = "TLS_KEY_FILE" if settings.key_file else "TLS_CERT_FILE"
    if reason == "KEY_VALUES_MISMATCH":
        return ConfigError(key_setting, "does not match the certificate in TLS_CERT_FILE")
    assert settings.cert_file is not None
    try:
        with open(settings.cert_file, "rb") as handle:
            has_certificate = b"-----BEGIN CERTIFICATE-----" in handle.read(1 << 20)
    except OSError:
        has_certificate = False
    if not has_certificate:
        return ConfigError("TLS_CERT_FILE", f"holds no PEM certificate ({reason})")
    return ConfigError(key_setting, f"holds no usable private key for TLS_CERT_FILE ({reason})")


_SSL_REASONS = {
    "WRONG_VERSION_NUMBER": "server did not answer with TLS (plain HTTP on a wss:// port?)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "server offers no TLS version the probe accepts (1.2 or 1.3)",
    "UNSUPPORTED_PROTOCOL": "server offers no TLS version the probe accepts (1.2 or 1.3)",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "server requires a client certificate (TLS_CERT_FILE)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "server refused the TLS handshake (no shared cipher, "
    "or a client certificate is required)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "server rejected the client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "server does not trust the client certificate's CA",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "server says the client certificate has expired",
    "TLSV1_ALERT_ACCESS_DENIED": "server denied access to this client certificate",
    "NO_PROTOCOLS_AVAILABLE": "server offers no TLS version the probe accepts (1.2 or 1.3)",
}


def describe_ssl_error(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"server certificate not trusted: {exc.verify_message}"
    reason = getattr(exc, "reason", None)
    if reason in _SSL_REASONS:
        return _SSL_REASONS[reason]
    if isinstance(exc, ssl.SSLEOFError):
        return "server closed the connection during the TLS handshake"
    return f"TLS error: {reason or exc}"

