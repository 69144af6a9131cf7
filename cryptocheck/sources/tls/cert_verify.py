"""The signature of a server's TLS 1.3 CertificateVerify (RFC 8446 §4.4.3), checked with the
key of the leaf certificate the server sent.

Without this check, the signature scheme recorded for a TLS 1.3 endpoint is only what the
server names: a server or middlebox could claim one it did not sign with. The verification is
`cryptography`'s (RSA-PSS, ECDSA, EdDSA); what is here is the content signed (§4.4.3), which
scheme needs which key (§4.2.3), and the schemes TLS 1.3 forbids.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog

# 64 spaces, the context string and a zero byte come before the transcript hash, so that a
# TLS 1.3 signature can never be taken for a TLS 1.2 one or a client's (§4.4.3).
_SERVER_CV_PREFIX = b"\x20" * 64 + b"TLS 1.3, server CertificateVerify\x00"
# The schemes a TLS 1.3 CertificateVerify may use are the catalogue's, with their hash (and,
# for ECDSA, the curve the scheme fixes, §4.2.3; brainpool: RFC 8734): ECDSA, RSA-PSS and
# EdDSA (which hashes the content itself). What the catalogue does not say is which RSA key an
# RSA-PSS scheme needs: an rsaEncryption key (rsae) or an RSASSA-PSS key (pss), §4.2.3.
_RSA_PSS_KEY = {0x0804: "rsae", 0x0805: "rsae", 0x0806: "rsae",
                0x0809: "pss", 0x080A: "pss", 0x080B: "pss"}


def certificate_verify_content(transcript_hash: bytes) -> bytes:
    """What a server's TLS 1.3 CertificateVerify signs (§4.4.3), given
    Hash(ClientHello .. Certificate)."""
    return _SERVER_CV_PREFIX + transcript_hash


def verify_certificate_verify(leaf: bytes, scheme: int, signature: bytes,
                              transcript_hash: bytes) -> tuple[bool | None, str]:
    """Whether ``signature``, made with ``scheme``, is the server's TLS 1.3 CertificateVerify
    over ``transcript_hash`` with the key of the DER certificate ``leaf``: (True, ""),
    (False, why) or (None, why) when it cannot be checked (a certificate cryptography cannot
    read, a scheme or key it has no verifier for).

    Without this, the scheme recorded is only what the server names: a server or middlebox
    could claim one it did not sign with. rsa_pkcs1_*, DSA and SHA-1 (or older) schemes are
    not allowed in a TLS 1.3 CertificateVerify (§4.4.3, §4.2.3): they fail.

    >>> verify_certificate_verify(leaf, 0x0804, signature, transcript_hash)  # doctest: +SKIP
    (True, '')
    """
    # Imported here, as the handshake's own cryptography is imported only once needed.
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, padding, rsa

    refused = _not_in_tls13(scheme)
    if refused:
        return False, (f"scheme 0x{scheme:04X} ({refused}) is not allowed in a TLS 1.3 "
                       "CertificateVerify (RFC 8446 §4.4.3)")
    content = certificate_verify_content(transcript_hash)
    try:
        certificate = x509.load_der_x509_certificate(leaf)
        key = certificate.public_key()
        key_oid = certificate.public_key_algorithm_oid
    except (ValueError, UnsupportedAlgorithm) as exc:
        return None, f"the leaf certificate's key cannot be read ({exc})"
    record = tls_catalog.signature_scheme(scheme)
    family = record.algorithm if record is not None else None
    try:
        if record is not None and family == "ECDSA" and record.curve and record.hash:
            curve = record.curve
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != curve:
                return False, _wrong_key(scheme, f"a {curve}", _key_name(key))
            key.verify(signature, content, ec.ECDSA(catalog.hash_function(record.hash)))
        elif record is not None and family == "RSA-PSS" and record.hash \
                and scheme in _RSA_PSS_KEY:
            kind = _RSA_PSS_KEY[scheme]
            pss_key = key_oid == x509.oid.PublicKeyAlgorithmOID.RSASSA_PSS
            if not isinstance(key, rsa.RSAPublicKey) or pss_key != (kind == "pss"):
                wanted = "an RSASSA-PSS" if kind == "pss" else "an rsaEncryption RSA"
                return False, _wrong_key(scheme, wanted,
                                         "RSASSA-PSS" if pss_key else _key_name(key))
            algorithm = catalog.hash_function(record.hash)
            key.verify(signature, content, padding.PSS(padding.MGF1(algorithm),
                                                       algorithm.digest_size), algorithm)
        elif family in ("Ed25519", "Ed448"):
            wanted_type = ed25519.Ed25519PublicKey if family == "Ed25519" \
                else ed448.Ed448PublicKey
            if not isinstance(key, wanted_type):
                return False, _wrong_key(scheme, f"an {family}", _key_name(key))
            key.verify(signature, content)
        else:
            return None, f"cryptocheck has no verifier for scheme 0x{scheme:04X}"
    except InvalidSignature:
        return False, "the signature does not verify with the leaf certificate's key"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return False, f"the signature does not verify with the leaf certificate's key ({exc})"
    return True, ""


def _wrong_key(scheme: int, wanted: str, found: str) -> str:
    return f"scheme 0x{scheme:04X} needs {wanted} key; the leaf's is {found}"


def _not_in_tls13(scheme: int) -> str:
    """Why a TLS 1.2-style (hash, signature) codepoint may not sign a TLS 1.3 CertificateVerify,
    or "": PKCS #1 v1.5 and DSA signatures, and MD5, SHA-1 and SHA-224 (§4.2.3, §4.4.3)."""
    hash_byte, signature_byte = scheme >> 8, scheme & 0xFF
    if not 1 <= hash_byte <= 6 or signature_byte not in (1, 2, 3):
        return ""
    if signature_byte == 1:
        return "rsa_pkcs1"
    if signature_byte == 2:
        return "DSA"
    return f"ECDSA with {('MD5', 'SHA-1', 'SHA-224')[hash_byte - 1]}" if hash_byte <= 3 else ""


def _key_name(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__
