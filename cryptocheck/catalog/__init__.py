"""The algorithm catalogue: names, OIDs and security strengths, loaded once from data files.

Every source maps what it reads (an OID, an OpenSSL name, an SSH name) through here, so that
the rest of cryptocheck speaks one language: ``RSA``, ``EC`` + ``secp256r1``, ``SHA-256``.
The tables live in ``catalog/data/*.toml``, each saying where its values come from.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """A signature AlgorithmIdentifier: standard ``name``, ``scheme`` family and ``hash``.

    ``hash`` is ``"params"`` when it must be read from the parameters (RSASSA-PSS) and None
    when the scheme names no separate hash (EdDSA, ML-DSA, SLH-DSA).
    """

    oid: str
    name: str
    scheme: str
    hash: str | None


@dataclass(frozen=True, slots=True)
class Curve:
    """A named elliptic curve with the bit length of its base-point order and its strength."""

    name: str
    oid: str | None
    order_bits: int | None
    strength: int | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HashAlgorithm:
    """A hash function with its collision and preimage strengths in bits."""

    name: str
    oid: str | None
    collision: int | None
    preimage: int | None


@dataclass(frozen=True, slots=True)
class Cipher:
    """A symmetric cipher (as used to protect stored keys) and its strength in bits."""

    name: str
    strength: int | None


@dataclass(frozen=True, slots=True)
class AlgorithmInfo:
    """Properties of a key algorithm that do not depend on its size."""

    name: str
    strength_table: str | None
    strength: int | None
    quantum_vulnerable: bool | None
    pq_category: int | None
    curve: str | None


def data_toml(name: str) -> dict[str, Any]:
    """A TOML table of the catalogue's ``data`` folder, parsed (from its generated JSON form
    while that is current: see :mod:`cryptocheck.catalog.parsed`)."""
    from cryptocheck.catalog.parsed import load  # on use: a run that needs no table skips it

    return load(name)


def _load(name: str) -> dict[str, Any]:
    return data_toml(name)


@dataclass(frozen=True)
class _Catalogue:
    signatures: Mapping[str, SignatureAlgorithm]
    keys: Mapping[str, str]
    curves: Mapping[str, Curve]  # by canonical name, alias, lower-case name and OID
    hashes: Mapping[str, HashAlgorithm]  # by canonical name, alias and OID
    algorithms: Mapping[str, AlgorithmInfo]
    ciphers: Mapping[str, Cipher]  # by lower-case name and alias
    protection_names: Mapping[str, str]  # OID -> name: cipher OIDs, PBE schemes, PBKDF2 PRFs
    tables: Mapping[str, tuple[tuple[int, int], ...]]  # ifc, ffc.l, ffc.n, ecc: sorted rows


def _rows(table: Mapping[str, int]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((int(size), int(bits)) for size, bits in table.items()))


@cache
def _catalogue() -> _Catalogue:
    x509 = _load("x509.toml")
    strength = _load("security-strength.toml")
    algs = _load("algorithms.toml")

    tables = {
        "ifc": _rows(strength["ifc"]),
        "ffc.l": _rows(strength["ffc"]["l"]),
        "ffc.n": _rows(strength["ffc"]["n"]),
        "ecc": _rows(strength["ecc"]),
    }
    named = {k.lower(): int(v) for k, v in strength["ecc_named"].items()}

    signatures = {
        oid: SignatureAlgorithm(oid, s["name"], s["scheme"], s.get("hash"))
        for oid, s in x509["signature"].items()
    }
    keys = {oid: k["name"] for oid, k in x509["key"].items()}

    curves: dict[str, Curve] = {}
    for name, c in x509["curve"].items():
        bits = c.get("order_bits")
        curve_strength = named.get(name.lower())
        if curve_strength is None and bits is not None:
            curve_strength = _floor_lookup(tables["ecc"], bits, lambda b: b // 2)
        curve = Curve(name, c.get("oid"), bits, curve_strength, tuple(c.get("aliases", ())))
        for key in (name, name.lower(), c.get("oid"), *curve.aliases,
                    *(a.lower() for a in curve.aliases)):
            if key:
                if key in curves and curves[key] != curve:
                    raise ValueError(f"catalogue: curve alias {key!r} names two curves")
                curves[key] = curve
    for name in ("x25519", "x448", "ed25519", "ed448"):
        curves.setdefault(name, Curve(name, None, None, named[name]))

    collision = dict(strength["hash"]["collision"])
    preimage = dict(strength["hash"]["preimage"])
    for name, extra in algs.get("hash_extra", {}).items():
        collision[_hash_key(name)] = extra["collision"]
        preimage[_hash_key(name)] = extra["preimage"]
    hashes: dict[str, HashAlgorithm] = {}
    for name, h in x509["hash"].items():
        key = _hash_key(name)
        algo = HashAlgorithm(name, h.get("oid"), collision.get(key), preimage.get(key))
        for alias in (name, h.get("oid"), *h.get("aliases", ())):
            if alias:
                if alias in hashes and hashes[alias] != algo:
                    raise ValueError(f"catalogue: hash alias {alias!r} names two hashes")
                hashes[alias] = algo

    algorithms = {
        name: AlgorithmInfo(
            name,
            a.get("strength_table"),
            a.get("strength"),
            a.get("quantum_vulnerable"),
            a.get("pq_category"),
            a.get("curve"),
        )
        for name, a in algs["algorithm"].items()
    }
    cipher_data = _load("ciphers.toml")
    ciphers: dict[str, Cipher] = {}

    def add_alias(alias: str, cipher: Cipher) -> None:
        if alias.lower() in ciphers and ciphers[alias.lower()] != cipher:
            raise ValueError(f"catalogue: cipher alias {alias!r} names two ciphers")
        ciphers[alias.lower()] = cipher

    for name, c in cipher_data["cipher"].items():
        cipher = Cipher(name, c.get("strength"))
        for alias in (name, *c.get("aliases", ())):
            add_alias(alias, cipher)
    # The names of cipher OIDs and PBE schemes resolve to the cipher they use.
    named_oids: dict[str, str] = {}
    for table in ("cipher_oid", "pbe"):
        for oid, entry in cipher_data.get(table, {}).items():
            named_oids[oid] = entry["name"]
            if "cipher" in entry:
                add_alias(entry["name"], ciphers[entry["cipher"].lower()])
    named_oids.update(cipher_data.get("prf", {}))
    return _Catalogue(
        MappingProxyType(signatures),
        MappingProxyType(keys),
        MappingProxyType(curves),
        MappingProxyType(hashes),
        MappingProxyType(algorithms),
        MappingProxyType(ciphers),
        MappingProxyType(named_oids),
        MappingProxyType(tables),
    )


def _hash_key(name: str) -> str:
    """security-strength.toml spells hashes ``sha512-224``; the catalogue ``SHA-512/224``."""
    return name.lower().replace("sha-", "sha").replace("/", "-")


def _floor_lookup(rows: tuple[tuple[int, int], ...], size: int, below: Any) -> int:
    """The strength of the largest row <= size (SP 800-57 reads intermediate sizes down)."""
    result = None
    for row_size, bits in rows:
        if size >= row_size:
            result = bits
    return int(below(size)) if result is None else result


def _ifc_estimate(bits: int) -> int:
    """Strength of an RSA/FFC modulus below 1024 bits, which Table 2 only calls '<= 80'.

    Uses the general number field sieve estimate of FIPS 140-3 IG D.B (formerly FIPS 140-2
    IG 7.5), rounded down: 512 bits -> 56. Only ever used for sizes below the table.
    """
    if bits <= 0:
        return 0
    n_ln2 = bits * math.log(2)
    value = (1.923 * (n_ln2 ** (1 / 3)) * (math.log(n_ln2) ** (2 / 3)) - 4.69) / math.log(2)
    return max(0, int(value))


# ---- public API ----------------------------------------------------------------------------


def signature_algorithm(oid: str) -> SignatureAlgorithm | None:
    """The signature algorithm with dotted ``oid``, or None when the catalogue lacks it."""
    return _catalogue().signatures.get(oid)


def key_algorithm(oid: str) -> str | None:
    """The canonical key algorithm name (``RSA``, ``EC``, ``ML-DSA-65``) for an SPKI OID."""
    return _catalogue().keys.get(oid)


def curve(name_or_oid: str) -> Curve | None:
    """The curve for a name, alias (``prime256v1``, ``P-256``, ``nistp256``) or dotted OID."""
    cat = _catalogue()
    return cat.curves.get(name_or_oid) or cat.curves.get(name_or_oid.lower())


def ec_curve(name_or_oid: str) -> Any:
    """`cryptography`'s curve object (``ec.SECP256R1()``) for a catalogue curve name, alias
    (``nistp256``, ``P-256``) or OID, or None when the catalogue or `cryptography` lacks it:
    code that computes on a curve finds it by the catalogue's names, not a table of its own."""
    found = curve(name_or_oid)
    if found is None or found.oid is None:
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        return ec.get_curve_for_oid(x509.ObjectIdentifier(found.oid))()
    except LookupError:
        return None


def hash_function(name_or_oid: str) -> Any:
    """`cryptography`'s hash object (``hashes.SHA256()``) for a catalogue hash name, alias
    (``sha256``) or OID, or None when the catalogue or `cryptography` lacks it (or it needs a
    digest size, as SHAKE does): code that hashes finds the function by the catalogue's names,
    not a table of its own.

    >>> hash_function("SHA-384").digest_size
    48
    """
    found = hash_algorithm(name_or_oid)
    kind = _hash_classes().get(found.name) if found is not None else None
    return kind() if kind is not None else None


@cache
def _hash_classes() -> Mapping[str, Any]:
    """Catalogue hash name -> `cryptography` hash class, matched by the class's own name
    (``sha512-224``) through the catalogue's aliases."""
    from cryptography.hazmat.primitives import hashes

    classes = {}
    for kind in vars(hashes).values():
        name = getattr(kind, "name", None)
        if not (isinstance(kind, type) and issubclass(kind, hashes.HashAlgorithm)
                and isinstance(name, str)):
            continue
        try:
            kind()
        except TypeError:  # BLAKE2 and SHAKE take a digest size: none is implied by a name
            continue
        found = hash_algorithm(name)
        if found is not None:
            classes[found.name] = kind
    return MappingProxyType(classes)


def hash_algorithm(name_or_oid: str) -> HashAlgorithm | None:
    """The hash for a canonical name, alias (``sha256``) or dotted OID."""
    cat = _catalogue()
    return cat.hashes.get(name_or_oid) or cat.hashes.get(name_or_oid.lower())


def algorithm_info(name: str) -> AlgorithmInfo | None:
    """Size-independent properties of key algorithm ``name``."""
    return _catalogue().algorithms.get(name)


def key_strength(algorithm: str, key_size: int | None = None, curve_name: str | None = None,
                 subgroup_bits: int | None = None) -> int | None:
    """Classical security strength in bits of a key (NIST SP 800-57 Part 1 Rev 5 Table 2).

    RSA moduli and FFC primes read the table down (RSA-4096 -> 128); for FFC the strength is
    the smaller of the prime's and (when known) the subgroup order's. EC keys take the
    strength of their curve. Returns None when it cannot be determined (unknown algorithm,
    unknown size or curve): callers must not guess.

    >>> key_strength("RSA", 2048), key_strength("EC", curve_name="prime256v1")
    (112, 128)
    """
    info = algorithm_info(algorithm)
    if info is None:
        return None
    if info.strength is not None:
        return info.strength
    cat = _catalogue()
    if info.strength_table == "ifc" and key_size:
        return _floor_lookup(cat.tables["ifc"], key_size, _ifc_estimate)
    if info.strength_table == "ffc" and key_size:
        value = _floor_lookup(cat.tables["ffc.l"], key_size, _ifc_estimate)
        if subgroup_bits:
            value = min(value, _floor_lookup(cat.tables["ffc.n"], subgroup_bits, lambda b: b // 2))
        return value
    if info.strength_table == "ecc":
        if curve_name:
            found = curve(curve_name)
            return found.strength if found else None
        if key_size:
            return _floor_lookup(cat.tables["ecc"], key_size, lambda b: b // 2)
    return None


def hash_collision_strength(name: str) -> int | None:
    """Collision resistance in bits (IR 8547 ipd Table 7); 0 for practically broken hashes."""
    found = hash_algorithm(name)
    return found.collision if found else None


def quantum_vulnerable(algorithm: str) -> bool | None:
    """Whether a cryptographically relevant quantum computer breaks ``algorithm`` (IR 8547)."""
    info = algorithm_info(algorithm)
    return info.quantum_vulnerable if info else None


def pq_category(algorithm: str) -> int | None:
    """NIST PQC security category (1-5) of a post-quantum parameter set, else None."""
    info = algorithm_info(algorithm)
    return info.pq_category if info else None


def cipher(name: str) -> Cipher | None:
    """The symmetric cipher for a canonical name or alias (``aes-256-cbc``, ``DES-EDE3-CBC``)."""
    return _catalogue().ciphers.get(name.lower())


def protection_name(oid: str) -> str | None:
    """The name of a key-protection OID: a PBES2 cipher (``AES-256-CBC``), a PBES1 or PKCS#12
    scheme (``pbeWithSHAAnd3-KeyTripleDES-CBC``) or a PBKDF2 PRF (``HMAC-SHA256``)."""
    return _catalogue().protection_names.get(oid)


def known_names() -> dict[str, frozenset[str]]:
    """Every canonical name by kind: for validating policies against the catalogue."""
    return dict(_known_names())


@cache  # the loader asks for every rule
def _known_names() -> dict[str, frozenset[str]]:
    cat = _catalogue()
    names = {
        "algorithm": frozenset(cat.algorithms) | frozenset(s.scheme for s in cat.signatures.values())
        | frozenset(c.name for c in cat.ciphers.values()),
        "curve": frozenset(c.name for c in cat.curves.values()),
        "hash": frozenset(h.name for h in cat.hashes.values()),
    }
    for module_name in PROTOCOL_CATALOGUES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        extra: dict[str, frozenset[str]] = module.known_names()
        for kind, more in extra.items():
            names[kind] = names.get(kind, frozenset()) | more
    return names


# The protocol catalogues (TLS cipher suites, groups, signature schemes; SSH algorithm names)
# live in their own modules; each has ``known_names() -> dict[kind, frozenset[str]]``.
PROTOCOL_CATALOGUES = ("cryptocheck.catalog.tls", "cryptocheck.catalog.ssh")


def all_signature_algorithms() -> tuple[SignatureAlgorithm, ...]:
    """Every signature algorithm in the catalogue, by OID order."""
    return tuple(_catalogue().signatures[o] for o in sorted(_catalogue().signatures))


def all_algorithms() -> Mapping[str, AlgorithmInfo]:
    """Name -> size-independent properties of every key algorithm the catalogue knows."""
    return _catalogue().algorithms


def all_key_oids() -> Mapping[str, str]:
    """OID -> canonical key algorithm name for every key algorithm in the catalogue."""
    return _catalogue().keys


def all_curves() -> tuple[Curve, ...]:
    """Every named curve, once each, sorted by name."""
    return tuple(sorted({c.name: c for c in _catalogue().curves.values()}.values(),
                        key=lambda c: c.name))
