"""TLS choices -> crypto usages (docs/contexts.md, section TLS).

The functions here are the one place a protocol version, cipher suite, group, DH prime or
signature scheme becomes a :class:`~cryptocheck.model.CryptoUsage`. The live scanner
(:func:`usages_of` on a ``tls-endpoint`` asset) and the configuration parsers (an nginx
``ssl_ciphers`` line) both call them, so a configured suite and an accepted one are judged by
the same rules. Called without ``asset_id``/``location`` they return usages with an empty id
and location for the caller to fill in (``dataclasses.replace``).

>>> protocol_usage("TLSv1.0").context
'tls.protocol'
"""

from __future__ import annotations

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.catalog.tls import CipherSuite
from cryptocheck.model import CryptoUsage, Location

_NOWHERE = Location()

# Key exchanges a cryptographically relevant quantum computer breaks (NIST IR 8547 ipd §3:
# RSA, finite-field and elliptic-curve Diffie-Hellman); PSK alone is symmetric.
_KX_QUANTUM_VULNERABLE = {"RSA": True, "DH": True, "DHE": True, "ECDH": True, "ECDHE": True,
                          "SRP": True, "ECCPWD": True, "GOST": True, "PSK": False}

Attribute = tuple[str, bool | int | str | None]


def protocol_usage(version: str, *, asset_id: str = "",
                   location: Location = _NOWHERE) -> CryptoUsage:
    """The ``tls.protocol`` usage of protocol ``version`` (``SSLv3``, ``TLSv1.2``...)."""
    return CryptoUsage(asset_id=asset_id, context="tls.protocol", algorithm=version,
                       location=location)


def cipher_suite_usages(suite: CipherSuite, protocol: str, *, asset_id: str = "",
                        location: Location = _NOWHERE) -> list[CryptoUsage]:
    """The ``tls.cipher-suite`` usage of ``suite`` negotiated in ``protocol`` and, for suites
    that name one (TLS <= 1.2), the ``tls.key-exchange`` usage of its key exchange."""
    attributes: tuple[Attribute, ...] = tuple(sorted((
        ("protocol", protocol), ("kx", suite.kx), ("au", suite.au), ("cipher", suite.cipher),
        ("mode", suite.mode), ("mac", suite.mac), ("aead", suite.aead),
        ("export", suite.export),
    )))
    usages = [CryptoUsage(
        asset_id=asset_id, context="tls.cipher-suite", algorithm=suite.name, location=location,
        key_size=suite.key_size, strength=suite.strength, attributes=attributes)]
    if not suite.tls13:
        usages.append(CryptoUsage(
            asset_id=asset_id, context="tls.key-exchange", algorithm=suite.kx,
            location=location, quantum_vulnerable=_KX_QUANTUM_VULNERABLE.get(suite.kx),
            attributes=(("au", suite.au), ("protocol", protocol))))
    return usages


def group_usage(name: str, *, asset_id: str = "", location: Location = _NOWHERE) -> CryptoUsage:
    """The ``tls.group`` usage of group ``name`` (``x25519``, ``ffdhe2048``, ``X25519MLKEM768``);
    a group the catalogue does not know keeps its name and has no strength (policy: unknown)."""
    group = tls_catalog.group(name)
    if group is None:
        return CryptoUsage(asset_id=asset_id, context="tls.group", algorithm=name,
                           location=location)
    return CryptoUsage(
        asset_id=asset_id, context="tls.group", algorithm=group.name, location=location,
        key_size=group.key_size, curve=group.curve, strength=group.strength,
        quantum_vulnerable=not group.quantum_safe,
        attributes=(("kind", group.kind),))


def dh_usage(bits: int, group: str | None, *, asset_id: str = "",
             location: Location = _NOWHERE) -> CryptoUsage:
    """The ``tls.dh-parameters`` usage of a finite-field DH prime of ``bits`` bits; ``group``
    names it when it is a named group (``ffdhe2048``), else None."""
    return CryptoUsage(
        asset_id=asset_id, context="tls.dh-parameters", algorithm="DH", location=location,
        key_size=bits, strength=catalog.key_strength("DH", bits), quantum_vulnerable=True,
        attributes=(("group", group),))


def signature_scheme_usage(name: str, protocol: str, *, asset_id: str = "",
                           location: Location = _NOWHERE) -> CryptoUsage:
    """The ``tls.signature-scheme`` usage of scheme ``name`` (``rsa_pss_rsae_sha256``) in
    ``protocol``; strength is the hash's collision strength (the scheme's own for EdDSA and
    ML-DSA, which name no hash)."""
    scheme = tls_catalog.signature_scheme(name)
    if scheme is None:
        return CryptoUsage(asset_id=asset_id, context="tls.signature-scheme", algorithm=name,
                           location=location, attributes=(("protocol", protocol),))
    strength = (catalog.hash_collision_strength(scheme.hash) if scheme.hash
                else catalog.key_strength(scheme.algorithm))
    return CryptoUsage(
        asset_id=asset_id, context="tls.signature-scheme", algorithm=scheme.name,
        location=location, hash=scheme.hash, curve=scheme.curve, strength=strength,
        quantum_vulnerable=catalog.quantum_vulnerable(scheme.algorithm),
        attributes=(("protocol", protocol),))


