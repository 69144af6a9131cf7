"""Private and standalone public keys -> KeyAsset records, and how private keys are protected.

A private key is read only to learn the public facts of its key (algorithm, size, curve,
SPKI fingerprint) and how it is stored; the key object is dropped at once and nothing of it,
nor any password, reaches a record or a message.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cryptocheck import catalog
from cryptocheck.model import KeyAsset, RunError
from cryptocheck.sources.files import der
from cryptocheck.sources.files.context import FileContext, asset_id
from cryptocheck.sources.files.keyinfo import UNKNOWN, KeyFacts, facts_of_public_key, spki_facts

# DER kind (der.classify) -> (format name, algorithm implied by the format)
_PRIVATE_FORMATS = {
    "pkcs8": ("PKCS#8", None),
    "encrypted-pkcs8": ("PKCS#8", None),
    "pkcs1-private": ("PKCS#1", "RSA"),
    "sec1": ("SEC1", "EC"),
    "dsa-private": ("DSA", "DSA"),
}

PEM_PRIVATE_KINDS = {
    "PRIVATE KEY": "pkcs8",
    "ENCRYPTED PRIVATE KEY": "encrypted-pkcs8",
    "RSA PRIVATE KEY": "pkcs1-private",
    "EC PRIVATE KEY": "sec1",
    "DSA PRIVATE KEY": "dsa-private",
}


def _load_private(data: bytes, password: bytes | None, pem: bool) -> Any:
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    # Validation of RSA keys is slow and irrelevant here: we only read the public half.
    return loader(data, password, unsafe_skip_rsa_key_validation=True)


def _open_with_passwords(data: bytes, passwords: tuple[str, ...], pem: bool) -> Any | None:
    for password in passwords:
        try:
            return _load_private(data, password.encode("utf-8"), pem)
        except Exception:  # noqa: BLE001, S112 - wrong password: never logged, try the next
            continue
    return None


# --- how an encrypted private key is protected -----------------------------------------
# The names of cipher OIDs, PBE schemes and PBKDF2 PRFs come from the catalogue
# (``catalog/data/ciphers.toml``, with their sources); the scheme OIDs read structurally are
# below (PBES2, PBKDF2: RFC 8018 Appendix A and C; scrypt: RFC 7914 §7). Unknown OIDs are
# reported as their dotted form, never guessed. PKCS#12 and JKS key entries use the same.

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"


def _scheme_name(alg: der.AlgorithmIdentifier) -> str:
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
    return _scheme_name(der.algorithm_identifier(parts[0]))


# --- private and public key assets ------------------------------------------------------

def private_key_asset(data: bytes, kind: str, ctx: FileContext, line: int | None, *,
                      pem_text: bytes | None = None, legacy_cipher: str | None = None,
                      format_override: str | None = None) -> KeyAsset | RunError:
    """One private key from its DER (``data``) of ``kind`` (see ``der.classify``).

    ``pem_text`` is the whole PEM block when the key came as PEM: legacy OpenSSL encryption
    (``Proc-Type: 4,ENCRYPTED``) can only be opened from it; ``legacy_cipher`` is then the
    DEK-Info cipher. Encrypted keys are opened with the context's passwords when one works;
    otherwise they are reported with what their headers reveal.
    """
    format_name, implied = _PRIVATE_FORMATS[kind]
    if format_override:
        format_name = format_override
    encrypted = kind == "encrypted-pkcs8" or legacy_cipher is not None
    protection: str | None = legacy_cipher
    facts = UNKNOWN
    if kind == "encrypted-pkcs8":
        try:
            protection = encrypted_pkcs8_protection(data)
        except der.DerError:
            return ctx.error("malformed-der", "encrypted private key header does not parse", line)
    key: Any = None
    if encrypted:
        source, as_pem = (pem_text, True) if legacy_cipher and pem_text else (data, False)
        key = _open_with_passwords(source, ctx.passwords, as_pem)
    else:
        try:
            key = _load_private(data, None, False)
        except Exception:  # noqa: BLE001 - unsupported algorithm or malformed: decide below
            key = None
    if key is not None:
        facts = facts_of_public_key(key.public_key())
        if kind == "pkcs8":
            facts = _original_algorithm_facts(data, key.public_key(), facts)
        del key
    elif not encrypted:
        from_oid = _pkcs8_algorithm(data) if kind == "pkcs8" else None
        if from_oid is None:
            return ctx.error("malformed-der", f"{format_name} private key does not parse", line)
        facts = from_oid
    elif implied is not None:
        facts = KeyFacts(implied, None, None, None, None)

    return private_key_from_facts(facts, ctx, line, format_name, encrypted, protection)


def private_key_from_facts(facts: KeyFacts, ctx: FileContext, line: int | None, format_name: str,
                           encrypted: bool | None, protection: str | None) -> KeyAsset:
    """A ``private-key`` KeyAsset from the public facts of the key and how it is stored."""
    return _key_asset(facts, ctx, line, format_name, private=True, encrypted=encrypted,
                      protection=protection)


def _original_algorithm_facts(data: bytes, public_key: Any, facts: KeyFacts) -> KeyFacts:
    """Facts of a PKCS#8 key under its *own* AlgorithmIdentifier.

    ``cryptography`` re-encodes some public halves under another identifier: RSA-PSS (and
    RSA-OAEP) keys as plain rsaEncryption, PKCS#3 DH keys as X9.42 dhpublicnumber. The SPKI is
    rebuilt from the key's original AlgorithmIdentifier so that its algorithm and fingerprint
    match its certificate's or its public key file's (RFC 4055 §1.2; RFC 3279 §2.3.3). Known
    limit: an *encrypted* PKCS#8 key is only seen after decryption, under the re-encoding.
    """
    try:
        algorithm_tlv = der.read_tlv(data)[0].children()[1]
        oid = der.algorithm_identifier(algorithm_tlv).oid
    except (der.DerError, IndexError):
        return facts
    if oid == facts.oid:
        return facts
    name = catalog.key_algorithm(oid)
    if name in ("RSA-PSS", "RSA-OAEP") and facts.algorithm == "RSA":
        key_bits = public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.PKCS1)
    elif name == "DH" and facts.algorithm == "DH":
        y = public_key.public_numbers().y
        key_bits = der.encode(der.INTEGER, y.to_bytes(y.bit_length() // 8 + 1, "big"))
    else:
        return facts
    spki = der.encode(der.SEQUENCE, algorithm_tlv.raw + der.encode(der.BIT_STRING, b"\x00" + key_bits))
    try:
        return spki_facts(spki)
    except der.DerError:
        return facts


def _pkcs8_algorithm(data: bytes) -> KeyFacts | None:
    """Facts of a PKCS#8 key ``cryptography`` cannot load (ML-DSA, EC on curves it lacks...).

    For EC keys the public point, which SEC1 ECPrivateKey carries in ``[1] publicKey``
    (RFC 5915 §3), gives a full SPKI and so a fingerprint; otherwise the AlgorithmIdentifier
    alone gives the algorithm (and the curve, or the DSA/DH prime size, from its parameters).
    The private key field is parsed only to find that public element; nothing of it is kept.
    """
    try:
        parts = der.read_tlv(data)[0].children()
        algorithm_tlv = parts[1]
        oid = der.algorithm_identifier(algorithm_tlv).oid
    except (der.DerError, IndexError):
        return None
    if catalog.key_algorithm(oid) == "EC":
        public = _sec1_public_point(parts[2]) if len(parts) > 2 else None
        if public is not None:
            spki = der.encode(der.SEQUENCE, algorithm_tlv.raw + public)
            try:
                return spki_facts(spki)
            except der.DerError:
                pass
    # No public key to hash: the identifier's own facts (an SPKI with an empty key).
    try:
        found = spki_facts(der.encode(der.SEQUENCE, algorithm_tlv.raw + der.encode(der.BIT_STRING, b"\x00")))
    except der.DerError:
        return KeyFacts(catalog.key_algorithm(oid) or "unknown", None, None, oid, None)
    return KeyFacts(found.algorithm, found.size, found.curve, found.oid, None)


def _sec1_public_point(private_key_octets: der.Tlv) -> bytes | None:
    """The DER BIT STRING of ``[1] publicKey`` inside a SEC1 ECPrivateKey, or None."""
    try:
        for element in der.read_tlv(private_key_octets.value)[0].children():
            if element.tag == 0xA1:
                point = element.children()[0]
                return point.raw if point.tag == der.BIT_STRING else None
    except (der.DerError, IndexError):
        return None
    return None


def public_key_asset(data: bytes, kind: str, ctx: FileContext, line: int | None,
                     format_name: str | None = None) -> KeyAsset | RunError:
    """One standalone public key: ``spki`` (PUBLIC KEY) or ``pkcs1-public`` (RSA PUBLIC KEY)."""
    try:
        if kind == "pkcs1-public":
            n_tlv, e_tlv = der.read_one(data).children()
            public = rsa.RSAPublicNumbers(der.decode_int(e_tlv), der.decode_int(n_tlv))
            facts = facts_of_public_key(public.public_key())
            if facts is UNKNOWN:
                raise der.DerError("RSA public key does not load")
            default_format = "PKCS#1"
        else:
            facts = spki_facts(der.read_one(data).raw)
            default_format = "SubjectPublicKeyInfo"
    except (der.DerError, ValueError):
        return ctx.error("malformed-der", "public key does not parse", line)
    return key_asset_from_facts(facts, ctx, line, format_name or default_format)


def key_asset_from_facts(facts: KeyFacts, ctx: FileContext, line: int | None, format_name: str,
                         comment: str | None = None) -> KeyAsset:
    """A ``public-key`` KeyAsset from already known facts."""
    return _key_asset(facts, ctx, line, format_name, private=False, comment=comment)


def _key_asset(facts: KeyFacts, ctx: FileContext, line: int | None, format_name: str, *,
               private: bool, encrypted: bool | None = None, protection: str | None = None,
               comment: str | None = None) -> KeyAsset:
    location = ctx.location(line)
    # Without a public key to fingerprint, the place identifies the key.
    fingerprint = facts.spki_sha256 or f"{location.path}#{location.index}"
    return KeyAsset(
        id=asset_id("key" if private else "pub", location, fingerprint),
        type="private-key" if private else "public-key",
        location=location,
        key_algorithm=facts.algorithm,
        key_size=facts.size,
        curve=facts.curve,
        key_oid=facts.oid,
        spki_sha256=facts.spki_sha256,
        format=format_name,
        encrypted=encrypted,
        protection=protection,
        comment=comment,
    )


def csr_public_key(data: bytes, ctx: FileContext, line: int | None) -> KeyAsset | RunError:
    """The subject public key of a PKCS#10 certificate request."""
    try:
        info = der.read_tlv(data)[0].children()[0]
        spki = info.children()[2]
        facts = spki_facts(spki.raw)
    except (der.DerError, IndexError):
        return ctx.error("malformed-der", "certificate request does not parse", line)
    return key_asset_from_facts(facts, ctx, line, "PKCS#10")
