"""One definition per fact: the DH groups are one table, checked against their RFCs and
OpenSSL, and every place that names a DH prime (TLS, configuration, SSH) names it from there."""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path

import pytest

from cryptocheck.catalog import dh
from cryptocheck.catalog import ssh as ssh_catalog
from cryptocheck.catalog import tls as tls_catalog

PACKAGE = Path(__file__).resolve().parents[1] / "cryptocheck"
DH_TABLE = PACKAGE / "catalog" / "data" / "dh-groups.toml"
needs_openssl = pytest.mark.tools  # runs openssl (scripts/test.sh installs it)


def _openssl_parameters(group: str) -> tuple[bytes, int, int]:
    """The PEM, prime and generator ``openssl genpkey -genparam`` writes for ``group``."""
    from cryptography.hazmat.primitives.serialization import load_pem_parameters

    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                          f"group:{group}"], capture_output=True, check=True).stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography has deprecated finite-field DH
        numbers = load_pem_parameters(pem).parameter_numbers()
    return pem, numbers.p, numbers.g


@needs_openssl
@pytest.mark.parametrize("openssl_name", [
    "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
    "modp_1536", "modp_2048", "modp_3072", "modp_4096", "modp_6144", "modp_8192"])
def test_named_primes_are_openssls(openssl_name: str) -> None:
    _, prime, generator = _openssl_parameters(openssl_name)
    found = dh.by_prime(prime)
    assert found is not None and found == dh.group(openssl_name)
    assert found.name == openssl_name.replace("_", "")
    assert (found.generator, found.bits) == (generator, prime.bit_length())


def _pi_scaled(bits: int) -> int:
    """floor(pi * 2^bits), by Machin's formula in integer arithmetic."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inverse(x: int) -> int:
        total = term = one // x
        square, n, sign = x * x, 1, -1
        while term:
            term //= square
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total

    return (16 * arctan_inverse(5) - 4 * arctan_inverse(239)) >> guard


# RFC 2409 §6 / RFC 3526: p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k).
MODP_K = {768: 149686, 1024: 129093, 1536: 741804, 2048: 124476, 3072: 1690314,
          4096: 240904, 6144: 929484, 8192: 4743158}


@pytest.mark.parametrize("bits", sorted(MODP_K))
def test_modp_primes_follow_the_published_formula(bits: int) -> None:
    prime = 2**bits - 2**(bits - 64) - 1 + 2**64 * (_pi_scaled(bits - 130) + MODP_K[bits])
    found = dh.group(f"modp{bits}")
    assert found is not None and found.prime == prime and found.bits == bits
    assert found.source in ("RFC 2409", "RFC 3526")


def test_every_group_a_protocol_names_is_in_the_dh_table() -> None:
    tls_ff = [g.name for g in tls_catalog.groups() if g.kind == "ff"]
    assert tls_ff and all(dh.group(name) is not None for name in tls_ff)
    ssh_groups = {a.group for a in ssh_catalog.algorithms("kex").values() if a.group}
    assert ssh_groups and all(dh.group(name) is not None for name in ssh_groups), ssh_groups
    for group in dh.groups():
        assert dh.by_prime(group.prime) == group
        assert dh.by_prime(group.prime.to_bytes(group.bits // 8 + 1, "big")) == group
    assert dh.by_prime(dh.group("ffdhe2048").prime - 2) is None  # type: ignore[union-attr]


def _hex_runs(text: str) -> str:
    """``text`` with everything that can split a hexadecimal literal removed (quotes, line
    continuations, whitespace, ``0x``, underscores), upper-case."""
    return re.sub(r"0x|[\s\"'\\_+(),]", "", text, flags=re.IGNORECASE).upper()


def test_no_second_copy_of_a_dh_prime_in_the_package() -> None:
    # Any 16 hex digits of a well-known prime past its leading ones, anywhere in the package
    # other than the one table, would be a second copy (the RFC 7919 and MODP families used
    # to be recognised by these prefixes in two places, and ffdhe primes pasted in a third).
    probes = set()
    for group in dh.groups():
        digits = f"{group.prime:X}"
        probes.update({digits[16:32], digits[len(digits) // 2:len(digits) // 2 + 16],
                       digits[-32:-16]})
    offenders = []
    # The table's generated JSON copy (scripts/parsed_json.py) is the same table: its
    # equality with the TOML is what tests/test_parsed_json.py checks.
    generated = DH_TABLE.with_name(DH_TABLE.stem + ".parsed.json")
    for path in PACKAGE.rglob("*"):
        if path in (DH_TABLE, generated) or not path.is_file() or path.suffix not in (
                ".py", ".c", ".h", ".toml", ".json", ".txt", ".pem"):
            continue
        text = _hex_runs(path.read_text("utf-8", errors="replace"))
        offenders += [f"{path.relative_to(PACKAGE)}: {probe}" for probe in probes
                      if probe in text]
    assert not offenders


@needs_openssl
def test_tls_config_and_ssh_name_a_prime_alike(tmp_path: Path) -> None:
    from cryptocheck.sources.config.settings import dh_prime_bits
    from cryptocheck.sources.ssh import kex as ssh_kex
    from cryptocheck.sources.tls import ffdhe

    for openssl_name, name in (("ffdhe2048", "ffdhe2048"), ("modp_2048", "modp2048"),
                               ("modp_4096", "modp4096")):
        pem, prime, _ = _openssl_parameters(openssl_name)
        assert dh_prime_bits(pem) == (prime.bit_length(), name)  # configuration
        assert dh.group_name(prime.to_bytes(prime.bit_length() // 8, "big")) == name  # TLS
    assert ffdhe.PRIMES[tls_catalog.group("ffdhe3072").code] == dh.group("ffdhe3072").prime  # type: ignore[union-attr]
    group14 = ssh_kex.fixed_group("diffie-hellman-group14-sha256")
    assert group14 is not None and group14.name == "modp2048"
    assert ssh_kex.fixed_group("curve25519-sha256") is None


# ---- curve and protocol aliases ----------------------------------------------------------


def test_protocol_names_and_spellings_are_one_table() -> None:
    assert tls_catalog.PROTOCOLS == ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2",
                                     "TLSv1.3")
    assert tls_catalog.PROTOCOL_VERSIONS["TLSv1.2"] == 0x0303
    for name in tls_catalog.PROTOCOLS:
        assert tls_catalog.protocol(name) == name
        assert tls_catalog.protocol(f"  {name.upper()} ") == name
    for spelling, name in (("TLSv1", "TLSv1.0"), ("tls1_2", "TLSv1.2"), ("TLS1_2", "TLSv1.2"),
                           ("ssl3", "SSLv3"), ("tls13", "TLSv1.3")):
        assert tls_catalog.protocol(spelling) == name
    assert tls_catalog.protocol("TLSv1.4") is None

    from cryptocheck.catalog import openssl_ciphers
    from cryptocheck.sources.config import settings

    assert openssl_ciphers.PROTOCOL_VERSIONS is tls_catalog.PROTOCOL_VERSIONS
    assert settings.protocol_name("TLSv1_1") == "TLSv1.1"


def test_group_aliases_are_the_curve_aliases() -> None:
    from cryptocheck import catalog
    from cryptocheck.sources.config.settings import group_details, group_name

    for group in tls_catalog.groups():
        curve = catalog.curve(group.name) if group.kind == "ec" else None
        for alias in curve.aliases if curve else ():
            assert group_name(alias) == group.name, alias
            assert tls_catalog.group_by_alias(alias.lower()) == group
    assert group_details("X25519:prime256v1:P-384:nistp521:auto") == {
        "groups": ["x25519", "secp256r1", "secp384r1", "secp521r1"]}
    assert group_name("x25519mlkem768") == "X25519MLKEM768"
    assert group_name("no-such-group") == "no-such-group"  # kept as written


# Mapping entries that write out a fact the catalogue holds; each (pattern, where it lives).
_TABLE_ENTRIES = (
    # An alias used as a mapping key ("prime256v1": ..., "tls1_2": ...): x509.toml (curves),
    # protocols.toml (protocol spellings).
    (r"""["'](?:prime256v1|p-256|nistp256|tls1_2|tlsv1_2|tls12|ssl3)["']\s*:""",
     "curve and protocol aliases"),
    # A protocol name mapped to its wire version ("TLSv1.2": 0x0303): protocols.toml.
    (r"""["'](?:SSLv[23]|TLSv1\.[0-3])["']\s*:\s*(?:0x0?3|7[67]\d\b)""", "protocol wire versions"),
    # A signature scheme's curve or hash written beside its codepoint (0x0403: ("secp256r1",
    # "sha256")): tls.toml's scheme records; a hash name mapped to `cryptography`'s hash
    # ("sha256": hashes.SHA256()): catalog.hash_function().
    (r"""0x0?[4-8][0-9a-f]{2}\s*:\s*\(?\s*["'](?:secp|brainpool|sha)""", "signature scheme parts"),
    (r"""["'](?:sha-?(?:1|224|256|384|512))["']\s*:\s*hashes\.""", "hash functions by name"),
    # A group or curve name mapped to `cryptography`'s curve class (0x0017: ec.SECP256R1,
    # "secp384r1": ec.SECP384R1): the group's catalogue record names the curve, and
    # catalog.ec_curve() finds cryptography's.
    (r""":\s*(?:ec\.)?(?:SECP\d|SECT\d|BrainpoolP\d)\w*""", "curve classes by group"),
    # A cloud key spec decomposed in code ("ECC_NIST_P256": ("EC", 256, "secp256r1")):
    # cloud-key-specs.toml, through catalog.cloud_keys.key_spec().
    (r"""["'](?:RSA|ECC?|ML_DSA)_\w+["']\s*:""", "cloud key specs"),
)


def _table_offenders(pattern: str) -> list[str]:
    entry = re.compile(pattern, re.IGNORECASE)
    return [f"{path.relative_to(PACKAGE)}: {m.group(0)}"
            for path in PACKAGE.rglob("*.py")
            for m in entry.finditer(path.read_text("utf-8"))]


@pytest.mark.parametrize(("pattern", "fact"), _TABLE_ENTRIES, ids=[f for _, f in _TABLE_ENTRIES])
def test_no_alias_table_in_code(pattern: str, fact: str) -> None:
    # These facts belong in the catalogue's data files, looked up from there, not in a module.
    assert not _table_offenders(pattern), fact


def test_the_table_patterns_catch_a_table() -> None:
    # Each pattern finds the kind of table it is meant to keep out (or it could not fail).
    written_out = {
        "curve and protocol aliases": '{"prime256v1": "secp256r1", "tls1_2": "TLSv1.2"}',
        "protocol wire versions": '{"SSLv3": 0x0300, "TLSv1.2": 0x0303}',
        "signature scheme parts": '_ECDSA = {0x0403: ("secp256r1", "sha256")}',
        "hash functions by name": '{"sha256": hashes.SHA256(), "SHA-384": hashes.SHA384()}',
        "curve classes by group": '{0x0017: ec.SECP256R1, "secp384r1": ec.SECP384R1}',
        "cloud key specs": '{"RSA_2048": ("RSA", 2048, None), "EC_prime256v1": ("EC", 256)}',
    }
    for pattern, fact in _TABLE_ENTRIES:
        assert re.search(pattern, written_out[fact], re.IGNORECASE), fact


def test_scheme_parts_are_what_cryptography_computes_with() -> None:
    # cert_verify takes a scheme's curve and hash from its catalogue record: each must be one
    # `cryptography` has, under the name it compares a key's curve by.
    from cryptocheck import catalog

    for scheme in tls_catalog.signature_schemes():
        if scheme.hash is not None:
            function = catalog.hash_function(scheme.hash)
            assert function is not None and catalog.hash_algorithm(function.name) \
                == catalog.hash_algorithm(scheme.hash), scheme
        if scheme.algorithm == "ECDSA" and scheme.curve is not None:
            assert catalog.ec_curve(scheme.curve).name == scheme.curve, scheme
    assert catalog.hash_function("SHAKE256") is None  # needs a digest size
    assert catalog.hash_function("no-such-hash") is None


def test_cloud_key_specs_are_the_catalogues() -> None:
    # What Terraform's aws_kms_key / aws_acm_certificate specs name (AWS KMS KeySpec, ACM
    # KeyAlgorithm), as the parser reported them before the table moved to the catalogue.
    from cryptocheck.catalog.cloud_keys import key_spec, key_specs
    from cryptocheck.sources.config import terraform

    expected = {
        "RSA_1024": ("RSA", 1024, None), "RSA_2048": ("RSA", 2048, None),
        "RSA_3072": ("RSA", 3072, None), "RSA_4096": ("RSA", 4096, None),
        "EC_prime256v1": ("EC", 256, "secp256r1"), "EC_secp384r1": ("EC", 384, "secp384r1"),
        "EC_secp521r1": ("EC", 521, "secp521r1"), "ECC_NIST_P256": ("EC", 256, "secp256r1"),
        "ECC_NIST_P384": ("EC", 384, "secp384r1"), "ECC_NIST_P521": ("EC", 521, "secp521r1"),
        "ECC_SECG_P256K1": ("EC", 256, "secp256k1"), "ML_DSA_44": ("ML-DSA-44", None, None),
        "ML_DSA_65": ("ML-DSA-65", None, None), "ML_DSA_87": ("ML-DSA-87", None, None)}
    assert {s.name: (s.algorithm, s.key_size, s.curve) for s in key_specs()} == expected
    assert key_spec("SYMMETRIC_DEFAULT") is None and key_spec("ecc_nist_p256") is None

    found: list[dict[str, object]] = []
    list(terraform._key(lambda attribute, value, details: found.append(details),
                        "key_spec", "ECC_NIST_P384", "private-key"))
    assert found == [{"keys": [{"context": "private-key", "algorithm": "EC", "key_size": 384,
                                "curve": "secp384r1", "format": "ECC_NIST_P384"}]}]
