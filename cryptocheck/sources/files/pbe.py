"""How an encrypted private key is protected, read from its AlgorithmIdentifier.

The names of cipher OIDs, PBE schemes and PBKDF2 PRFs come from the catalogue
(``catalog/data/ciphers.toml``, with their sources); the scheme OIDs this module must
recognise structurally are below (PBES2, PBKDF2: RFC 8018 Appendix A and C; scrypt:
RFC 7914 §7). Unknown OIDs are reported as their dotted form, never guessed.
"""

from __future__ import annotations

from cryptocheck import catalog
from cryptocheck.sources.files import der

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"

def describe(alg: der.AlgorithmIdentifier) -> str:
    """A protection name such as ``PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC``.

    PBES1 and PKCS#12 schemes give their standard name; anything unreadable stays as OIDs.
    """
    if alg.oid != PBES2:
        return catalog.protection_name(alg.oid) or alg.oid
    try:
        if alg.parameters is None:
            raise der.DerError("PBES2 without parameters")
        kdf_tlv, enc_tlv = alg.parameters.children()[:2]
        kdf = der.algorithm_identifier(kdf_tlv)
        enc = der.algorithm_identifier(enc_tlv)
    except (der.DerError, ValueError):
        return "PBES2 (unreadable parameters)"
    cipher = catalog.protection_name(enc.oid) or enc.oid
    if kdf.oid == SCRYPT:
        return f"PBES2 scrypt {cipher}"
    if kdf.oid != PBKDF2:
        return f"PBES2 {kdf.oid} {cipher}"
    prf = "HMAC-SHA1"  # RFC 8018 A.2: prf DEFAULT algid-hmacWithSHA1
    try:
        if kdf.parameters is not None:
            for part in kdf.parameters.children():
                if part.tag == der.SEQUENCE:
                    oid = der.algorithm_identifier(part).oid
                    prf = catalog.protection_name(oid) or oid
    except der.DerError:
        prf = "unknown"
    return f"PBES2 PBKDF2-{prf} {cipher}"


def encrypted_pkcs8_protection(data: bytes) -> str:
    """The protection of an EncryptedPrivateKeyInfo (RFC 5958 §3) from its DER header."""
    parts = der.read_tlv(data)[0].children()
    return describe(der.algorithm_identifier(parts[0]))
