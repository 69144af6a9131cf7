"""What a SubjectPublicKeyInfo says about its key: algorithm, size, curve, fingerprint.

One reader for every source (certificates, SPKI files, private keys, SSH keys once turned
into SPKI), working on the DER so that keys ``cryptography`` cannot load (ML-DSA, SLH-DSA,
unknown OIDs) still give their algorithm, and nothing is guessed for what it does not say.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptocheck import catalog
from cryptocheck.sources.files import der

_EC_OIDS = ("1.2.840.10045.2.1", "1.3.132.1.12")


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """The public facts of a key, in catalogue names."""

    algorithm: str
    size: int | None
    curve: str | None
    oid: str | None
    spki_sha256: str | None


UNKNOWN = KeyFacts("unknown", None, None, None, None)


def spki_facts(spki: bytes) -> KeyFacts:
    """Facts of the DER SubjectPublicKeyInfo ``spki``.

    RSA and RSA-PSS give the modulus bits, DSA the bits of p, EC the canonical curve and
    the bit length of its order, EdDSA the curve ``ed25519``/``ed448`` and no size.
    Unknown algorithms give ``unknown`` with the dotted OID kept. Raises DerError when the
    bytes are not an SPKI at all.
    """
    top = der.read_tlv(spki)[0]
    parts = top.children()
    if len(parts) != 2 or parts[1].tag != der.BIT_STRING:
        raise der.DerError("not a SubjectPublicKeyInfo")
    alg = der.algorithm_identifier(parts[0])
    fingerprint = hashlib.sha256(top.raw).hexdigest()
    name = catalog.key_algorithm(alg.oid)
    if name is None:
        return KeyFacts("unknown", None, None, alg.oid, fingerprint)
    size: int | None = None
    curve_name: str | None = None
    key_bits = parts[1].value[1:]  # first byte of a BIT STRING counts unused bits
    try:
        if name in ("RSA", "RSA-PSS", "RSA-OAEP"):
            fields = der.read_tlv(key_bits)[0].children()
            size = der.int_bits(fields[0])
        elif name in ("DSA", "DH") and alg.parameters is not None \
                and alg.parameters.tag == der.SEQUENCE:
            size = der.int_bits(alg.parameters.children()[0])
        elif alg.oid in _EC_OIDS and alg.parameters is not None \
                and alg.parameters.tag == der.OID:
            found = catalog.curve(der.decode_oid(alg.parameters))
            if found is not None:
                curve_name, size = found.name, found.order_bits
        elif name in ("Ed25519", "Ed448", "X25519", "X448"):
            curve_name = name.lower()
    except (der.DerError, IndexError):
        # The algorithm is known but its parameters do not parse: size stays unknown.
        size, curve_name = None, None
    return KeyFacts(name, size, curve_name, alg.oid, fingerprint)


def facts_of_public_key(public_key: object) -> KeyFacts:
    """Facts of a ``cryptography`` public key object, through its SPKI encoding."""
    from cryptography.hazmat.primitives import serialization

    try:
        spki = public_key.public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # noqa: BLE001 - any key type cryptography cannot encode
        return UNKNOWN
    try:
        return spki_facts(spki)
    except der.DerError:
        return UNKNOWN
