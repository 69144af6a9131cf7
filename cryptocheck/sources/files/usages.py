"""Assets -> crypto usages: one record per algorithm in use, in the catalogue's names.

This is the common language between sources and policies. A certificate gives three usages
(its subject key, the signature on it, its validity period); a key gives one, and a private
key a second for how it is stored.

Contexts (policies match on these; globs allowed in rules):

==============================  =======================================================
``certificate.public-key``      the subject public key of a certificate
``certificate.signature``       the issuer's signature on a certificate (not self-signed)
``certificate.self-signature``  the signature on a self-signed certificate (a trust anchor's
                                self-signature is not relied on in path validation,
                                RFC 5280 §6.1)
``certificate.validity``        the validity period (not_before, not_after, lifetime)
``public-key``                  a public key found on its own (SPKI, SSH, known_hosts)
``private-key``                 a private key found on its own
``private-key.protection``      how a stored private key is protected (cipher, or ``none``)
==============================  =======================================================
"""

from __future__ import annotations

from collections.abc import Iterator

from cryptocheck import catalog
from cryptocheck.model import Asset, CertificateAsset, CryptoUsage, KeyAsset
from cryptocheck.sources import registry
from cryptocheck.sources.files.validity import lifetime_days

CONTEXTS = (
    "certificate.public-key",
    "certificate.signature",
    "certificate.self-signature",
    "certificate.validity",
    "public-key",
    "private-key",
    "private-key.protection",
)


def usages_of(asset: Asset) -> Iterator[CryptoUsage]:
    """Every crypto usage of one asset, in a fixed order.

    Certificates and keys are decomposed here; an asset of another source (an endpoint, a
    configuration setting) by its own source's record, found in the registry.

    >>> # [u.context for u in usages_of(cert)]
    >>> # ['certificate.public-key', 'certificate.signature', 'certificate.validity']
    """
    if isinstance(asset, CertificateAsset):
        yield from _certificate_usages(asset)
    elif isinstance(asset, KeyAsset):
        yield from _key_usages(asset)
    else:
        yield from registry.usages_of(asset)


def _key_fields(algorithm: str, key_size: int | None, curve: str | None) -> dict[str, object]:
    return {
        "algorithm": algorithm,
        "key_size": key_size,
        "curve": curve,
        "strength": catalog.key_strength(algorithm, key_size, curve),
        "quantum_vulnerable": catalog.quantum_vulnerable(algorithm),
    }


def _certificate_usages(cert: CertificateAsset) -> Iterator[CryptoUsage]:
    flags: tuple[tuple[str, bool | int | str | None], ...] = (
        ("is_ca", cert.is_ca), ("self_signed", cert.self_signed))
    yield CryptoUsage(
        asset_id=cert.id, context="certificate.public-key", location=cert.location,
        oid=cert.key_oid, attributes=flags,
        **_key_fields(cert.key_algorithm, cert.key_size, cert.curve),  # type: ignore[arg-type]
    )
    scheme = cert.signature_scheme
    if cert.signature_hash:
        strength = catalog.hash_collision_strength(cert.signature_hash)
    else:
        # EdDSA and ML-DSA/SLH-DSA name no separate hash: the scheme's own strength.
        strength = catalog.key_strength(scheme)
    yield CryptoUsage(
        asset_id=cert.id,
        context="certificate.self-signature" if cert.self_signed else "certificate.signature",
        algorithm=scheme,
        location=cert.location,
        hash=cert.signature_hash,
        strength=strength,
        quantum_vulnerable=catalog.quantum_vulnerable(scheme),
        oid=cert.signature_oid,
        attributes=tuple(sorted(flags + (("signature_algorithm", cert.signature_algorithm),))),
    )
    yield CryptoUsage(
        asset_id=cert.id, context="certificate.validity", algorithm="validity-period",
        location=cert.location,
        attributes=tuple(sorted(flags + (
            ("lifetime_days", lifetime_days(cert.not_before, cert.not_after)),
            ("not_after", cert.not_after),
            ("not_before", cert.not_before),
        ))),
    )


def _key_usages(key: KeyAsset) -> Iterator[CryptoUsage]:
    attributes: tuple[tuple[str, bool | int | str | None], ...] = (
        ("encrypted", key.encrypted), ("format", key.format))
    yield CryptoUsage(
        asset_id=key.id, context=key.type, location=key.location, oid=key.key_oid,
        attributes=attributes,
        **_key_fields(key.key_algorithm, key.key_size, key.curve),  # type: ignore[arg-type]
    )
    if key.type != "private-key":
        return
    strength: int | None
    if key.encrypted is False:
        algorithm, strength = "none", 0
    else:
        cipher = _protection_cipher(key.protection)
        algorithm = cipher.name if cipher else "unknown"
        strength = cipher.strength if cipher else None
    yield CryptoUsage(
        asset_id=key.id, context="private-key.protection", algorithm=algorithm,
        location=key.location, strength=strength,
        attributes=tuple(sorted(attributes + (("protection", key.protection),))),
    )


def _protection_cipher(protection: str | None) -> catalog.Cipher | None:
    """The cipher named in a protection description such as
    ``PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC`` or ``aes256-ctr bcrypt``: the last token the
    catalogue knows (the cipher comes after the KDF in every form sources write)."""
    if not protection:
        return None
    found = None
    for token in protection.replace(",", " ").split():
        cipher = catalog.cipher(token)
        if cipher is not None:
            found = cipher
    return found
