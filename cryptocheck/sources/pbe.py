"""How an encrypted private key is protected, read from its AlgorithmIdentifier.

The catalogue has no table for password-based encryption yet, so the few OIDs needed to
*name* the protection live here, each from its defining document:
  PBES1 / PBES2 / PBKDF2 / PBMAC1:           RFC 8018 Appendix A and C
  hmacWithSHA*:                              RFC 8018 Appendix B.1; RFC 9579
  AES-CBC/GCM OIDs:                          NIST CSOR aes 2.16.840.1.101.3.4.1.*
  DES-EDE3-CBC, RC2-CBC, DES-CBC:            RFC 8018 Appendix B.2
  PKCS#12 PBE (pbeWithSHAAnd...):            RFC 7292 Appendix C
  scrypt:                                    RFC 7914 §7
  Sun JKS / JCEKS key protectors:            OpenJDK sun.security.provider.KeyProtector,
                                             com.sun.crypto.provider.KeyProtector
Unknown OIDs are reported as their dotted form, never guessed.
"""

from __future__ import annotations

from cryptocheck.sources import der

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"

NAMES: dict[str, str] = {
    # PBES1 (RFC 8018 A.3)
    "1.2.840.113549.1.5.1": "pbeWithMD2AndDES-CBC",
    "1.2.840.113549.1.5.4": "pbeWithMD2AndRC2-CBC",
    "1.2.840.113549.1.5.3": "pbeWithMD5AndDES-CBC",
    "1.2.840.113549.1.5.6": "pbeWithMD5AndRC2-CBC",
    "1.2.840.113549.1.5.10": "pbeWithSHA1AndDES-CBC",
    "1.2.840.113549.1.5.11": "pbeWithSHA1AndRC2-CBC",
    # PKCS#12 PBE (RFC 7292 C)
    "1.2.840.113549.1.12.1.1": "pbeWithSHAAnd128BitRC4",
    "1.2.840.113549.1.12.1.2": "pbeWithSHAAnd40BitRC4",
    "1.2.840.113549.1.12.1.3": "pbeWithSHAAnd3-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.4": "pbeWithSHAAnd2-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.5": "pbeWithSHAAnd128BitRC2-CBC",
    "1.2.840.113549.1.12.1.6": "pbewithSHAAnd40BitRC2-CBC",
    # Java keystores
    "1.3.6.1.4.1.42.2.17.1.1": "JKS-KeyProtector",
    "1.3.6.1.4.1.42.2.19.1": "PBEWithMD5AndTripleDES",
}

PRFS: dict[str, str] = {
    "1.2.840.113549.2.7": "HMAC-SHA1",
    "1.2.840.113549.2.8": "HMAC-SHA224",
    "1.2.840.113549.2.9": "HMAC-SHA256",
    "1.2.840.113549.2.10": "HMAC-SHA384",
    "1.2.840.113549.2.11": "HMAC-SHA512",
    "1.2.840.113549.2.12": "HMAC-SHA512-224",
    "1.2.840.113549.2.13": "HMAC-SHA512-256",
}

CIPHERS: dict[str, str] = {
    "2.16.840.1.101.3.4.1.2": "AES-128-CBC",
    "2.16.840.1.101.3.4.1.22": "AES-192-CBC",
    "2.16.840.1.101.3.4.1.42": "AES-256-CBC",
    "2.16.840.1.101.3.4.1.6": "AES-128-GCM",
    "2.16.840.1.101.3.4.1.26": "AES-192-GCM",
    "2.16.840.1.101.3.4.1.46": "AES-256-GCM",
    "1.2.840.113549.3.7": "DES-EDE3-CBC",
    "1.2.840.113549.3.2": "RC2-CBC",
    "1.3.14.3.2.7": "DES-CBC",
}


def describe(alg: der.AlgorithmIdentifier) -> str:
    """A protection name such as ``PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC``.

    PBES1 and PKCS#12 schemes give their standard name; anything unreadable stays as OIDs.
    """
    if alg.oid != PBES2:
        return NAMES.get(alg.oid, alg.oid)
    try:
        if alg.parameters is None:
            raise der.DerError("PBES2 without parameters")
        kdf_tlv, enc_tlv = alg.parameters.children()[:2]
        kdf = der.algorithm_identifier(kdf_tlv)
        enc = der.algorithm_identifier(enc_tlv)
    except (der.DerError, ValueError):
        return "PBES2 (unreadable parameters)"
    cipher = CIPHERS.get(enc.oid, enc.oid)
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
                    prf = PRFS.get(oid, oid)
    except der.DerError:
        prf = "unknown"
    return f"PBES2 PBKDF2-{prf} {cipher}"


def encrypted_pkcs8_protection(data: bytes) -> str:
    """The protection of an EncryptedPrivateKeyInfo (RFC 5958 §3) from its DER header."""
    parts = der.read_tlv(data)[0].children()
    return describe(der.algorithm_identifier(parts[0]))
