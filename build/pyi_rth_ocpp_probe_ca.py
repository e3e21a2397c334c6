# PyInstaller runtime hook (runs inside the frozen binary before probe.py).
#
# The bundled OpenSSL was built by Debian and looks for CA certificates under
# its own OPENSSLDIR (/usr/lib/ssl), which exists on Debian-family systems only
# when the `openssl` package is installed, and never on Alpine or RHEL-family
# systems. Point OpenSSL at the host's system CA store explicitly, unless the
# user has chosen one through SSL_CERT_FILE or SSL_CERT_DIR (those always win).
import os

_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Raspberry Pi OS, Alpine (ca-certificates)
    "/etc/ssl/cert.pem",  # Alpine (libressl/openssl default), Arch, macOS-style layouts
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # newer RHEL family
    "/etc/ssl/ca-bundle.pem",  # openSUSE
)


def _pick_ca_file():
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return
    for path in _CANDIDATES:
        if os.path.isfile(path):
            os.environ["SSL_CERT_FILE"] = path
            return


_pick_ca_file()
del _pick_ca_file
