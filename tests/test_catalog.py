"""Invariants of the algorithm catalogue: every alias resolves to one thing, every table row
has its parts, strengths agree with NIST SP 800-57 Part 1 Table 2."""

from __future__ import annotations

import re

import pytest

from cryptocheck import catalog

OID_RE = re.compile(r"^[0-2](\.\d+)+$")


def test_every_signature_oid_is_dotted_and_its_parts_exist() -> None:
    for sig in catalog.all_signature_algorithms():
        assert OID_RE.match(sig.oid), sig
        if sig.hash not in (None, "params"):
            assert catalog.hash_algorithm(sig.hash) is not None, f"{sig.name}: hash {sig.hash} not in catalogue"
        assert catalog.algorithm_info(sig.scheme) is not None or sig.scheme in {"DSA", "ECDSA"}, sig


def test_every_key_oid_names_an_algorithm_with_properties() -> None:
    for oid, name in catalog.all_key_oids().items():
        assert OID_RE.match(oid)
        info = catalog.algorithm_info(name)
        assert info is not None, f"{oid} -> {name} has no algorithm properties"
        assert info.quantum_vulnerable is not None


def test_curve_aliases_resolve_to_one_curve() -> None:
    assert catalog.curve("prime256v1") == catalog.curve("secp256r1") == catalog.curve("P-256")
    assert catalog.curve("1.2.840.10045.3.1.7").name == "secp256r1"
    assert catalog.curve("nistp384").name == "secp384r1"
    for curve in catalog.all_curves():
        for alias in curve.aliases:
            assert catalog.curve(alias) == curve
        if curve.oid:
            assert catalog.curve(curve.oid) == curve


@pytest.mark.parametrize("algorithm,size,curve,expected", [
    # SP 800-57 Part 1 Rev 5 Table 2; intermediate sizes read down.
    ("RSA", 1024, None, 80), ("RSA", 2048, None, 112), ("RSA", 3072, None, 128),
    ("RSA", 4096, None, 128), ("RSA", 7680, None, 192), ("RSA", 15360, None, 256),
    ("DSA", 2048, None, 112), ("EC", None, "secp224r1", 112), ("EC", None, "prime256v1", 128),
    ("EC", None, "secp384r1", 192), ("EC", None, "secp521r1", 256),
    ("EC", None, "brainpoolP320r1", 128), ("EC", None, "secp256k1", 128),
    ("EC", None, "secp192r1", 80), ("EC", None, "sect283k1", 128),
    # RFC 8032 §8.5 / FIPS 186-5: not from the ECC order range.
    ("Ed25519", None, None, 128), ("Ed448", None, None, 224),
    # NIST IR 8547 ipd Tables 3, 5.
    ("ML-DSA-44", None, None, 128), ("ML-DSA-87", None, None, 256), ("ML-KEM-768", None, None, 192),
    ("SLH-DSA-SHAKE-256f", None, None, 256),
])
def test_key_strength(algorithm: str, size: int | None, curve: str | None, expected: int) -> None:
    assert catalog.key_strength(algorithm, size, curve) == expected


def test_sizes_below_the_table_are_below_80_bits_not_unknown() -> None:
    assert catalog.key_strength("RSA", 512) < 80
    assert catalog.key_strength("RSA", 768) < 80


def test_unknown_things_stay_unknown() -> None:
    assert catalog.key_algorithm("1.2.3.4.5") is None
    assert catalog.signature_algorithm("1.2.3.4.5") is None
    assert catalog.key_strength("unknown", 2048) is None
    assert catalog.key_strength("EC", None, "no-such-curve") is None
    assert catalog.key_strength("RSA", None) is None


def test_hash_strengths() -> None:
    assert catalog.hash_collision_strength("SHA-1") == 80
    assert catalog.hash_collision_strength("sha256") == 128
    assert catalog.hash_collision_strength("SHA-512/224") == 112
    assert catalog.hash_collision_strength("SHA3-384") == 192
    assert catalog.hash_collision_strength("MD5") == 0


def test_ciphers() -> None:
    assert catalog.cipher("DES-EDE3-CBC").name == "3TDEA"
    assert catalog.cipher("aes256-ctr").name == "AES-256"
    assert catalog.cipher("AES-128-CBC").strength == 128
    assert catalog.cipher("rot13") is None


def test_quantum_vulnerability() -> None:
    for name in ("RSA", "RSA-PSS", "DSA", "EC", "ECDSA", "Ed25519", "Ed448", "X25519", "DH"):
        assert catalog.quantum_vulnerable(name) is True, name
    for name in ("ML-DSA-65", "ML-KEM-1024", "SLH-DSA-SHA2-128s"):
        assert catalog.quantum_vulnerable(name) is False, name


def test_every_protection_scheme_with_a_cipher_resolves_to_it() -> None:
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("cryptocheck.catalog.data").joinpath("ciphers.toml").read_text())
    for table in ("cipher_oid", "pbe"):
        for oid, entry in data[table].items():
            assert catalog.protection_name(oid) == entry["name"]
            if "cipher" in entry:
                assert catalog.cipher(entry["name"]).name == entry["cipher"], entry
    assert catalog.protection_name("1.2.840.113549.2.9") == "HMAC-SHA256"
    assert catalog.cipher("pbeWithSHAAnd3-KeyTripleDES-CBC").name == "3TDEA"
    assert catalog.cipher("JKS-KeyProtector") is None  # no catalogued cipher: stays unknown
