"""Where this machine keeps its trusted CA certificates."""

from __future__ import annotations

import os
import ssl

# Bundles of the common distributions, checked when OpenSSL's compiled-in default is absent.
KNOWN_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, FreeBSD, Alpine
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+
)


def system_store_paths() -> list[str]:
    """The system trust store as one bundle file when there is one, else its directory.

    One bundle is preferred to the hashed directory (``/etc/ssl/certs``), which holds each
    certificate again under symbolic links. Falls back to the Mozilla bundle of ``certifi``
    when the machine has no store of its own.
    """
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile,
                      *KNOWN_BUNDLES):
        if candidate and os.path.isfile(candidate):
            return [candidate]
    for candidate in (os.environ.get("SSL_CERT_DIR"), paths.capath, paths.openssl_capath):
        if candidate and os.path.isdir(candidate):
            return [candidate]
    import certifi

    return [certifi.where()]
