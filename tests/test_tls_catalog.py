"""The TLS catalogue: registry invariants, and agreement with the local OpenSSL."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from cryptocheck import catalog
from cryptocheck.catalog import tls
from cryptocheck.model import EndpointAsset, Location
from cryptocheck.sources.tls import probes, usages


def _openssl_suites() -> list[tuple[int, str, str]]:
    out = subprocess.run(
        ["openssl", "ciphers", "-stdname", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        hi, lo = parts[0].split(",")
        rows.append((int(hi, 16) << 8 | int(lo, 16), parts[2], parts[4]))
    return rows


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.tools
def test_every_openssl_suite_has_the_same_codepoint_and_names() -> None:
    rows = _openssl_suites()
    assert len(rows) > 100
    for code, iana, openssl_name in rows:
        by_code = tls.suite(code)
        assert by_code is not None, f"0x{code:04X} {iana} missing"
        assert by_code.name == iana
        assert tls.suite_by_openssl_name(openssl_name) is by_code
        if not by_code.tls13:
            assert by_code.openssl_name == openssl_name


def test_registry_is_complete_and_unique() -> None:
    suites = tls.cipher_suites()
    codes = [s.code for s in suites]
    names = [s.name for s in suites]
    assert len(codes) == len(set(codes)) and len(names) == len(set(names))
    # Every assigned codepoint of the IANA registry: 350 suites + 7 SSLv2 kinds.
    assert len([s for s in suites if not s.sslv2]) == 350
    assert len([s for s in suites if s.sslv2]) == 7
    for family in ("NULL", "RC4", "DES", "3DES", "IDEA", "SEED", "CAMELLIA", "ARIA",
                   "CHACHA20", "KUZNYECHIK", "MAGMA", "RC2"):
        assert any(s.cipher == family for s in suites), family
    assert {s.mode for s in suites} >= {"CCM", "CCM8", "GCM", "CBC", "POLY1305", "STREAM"}
    assert tls.suite("TLS_RSA_EXPORT_WITH_RC4_40_MD5").export  # type: ignore[union-attr]


@pytest.mark.parametrize("name, parts", [
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ("ECDHE", "RSA", "AES", 128, "GCM", "AEAD", True)),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", ("RSA", "RSA", "3DES", 168, "CBC", "SHA1", False)),
    ("TLS_DH_anon_WITH_AES_256_CBC_SHA256", ("DH", "anon", "AES", 256, "CBC", "SHA256", False)),
    ("TLS_DHE_PSK_WITH_AES_128_CCM", ("DHE", "PSK", "AES", 128, "CCM", "AEAD", True)),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", ("ECDHE", "ECDSA", "AES", 256, "CCM8", "AEAD", True)),
    ("TLS_RSA_WITH_RC4_128_MD5", ("RSA", "RSA", "RC4", 128, "STREAM", "MD5", False)),
    ("TLS_AES_256_GCM_SHA384", ("any", "any", "AES", 256, "GCM", "AEAD", True)),
    ("TLS_CHACHA20_POLY1305_SHA256", ("any", "any", "CHACHA20", 256, "POLY1305", "AEAD", True)),
    ("TLS_NULL_WITH_NULL_NULL", ("NULL", "NULL", "NULL", 0, "NULL", "NULL", False)),
    ("TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", ("SRP", "RSA", "AES", 128, "CBC", "SHA1", False)),
])
def test_decomposition(name: str, parts: tuple[object, ...]) -> None:
    s = tls.suite(name)
    assert s is not None
    assert (s.kx, s.au, s.cipher, s.key_size, s.mode, s.mac, s.aead) == parts


def test_lookups_by_code_name_and_openssl_name() -> None:
    assert tls.suite(0x1301) is tls.suite("tls_aes_128_gcm_sha256")
    assert tls.suite_by_openssl_name("DES-CBC3-SHA") is tls.suite(0x000A)
    assert tls.suite_by_openssl_name("TLS_AES_128_GCM_SHA256") is tls.suite(0x1301)
    assert tls.suite_by_openssl_name("NO-SUCH") is None and tls.suite(0x0A0A) is None
    assert tls.suite(0x0700C0).name == "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"  # type: ignore[union-attr]
    openssl_names = [s.openssl_name for s in tls.cipher_suites() if s.openssl_name]
    assert len(openssl_names) == len(set(openssl_names))


def test_groups_and_schemes() -> None:
    for name, code in [("x25519", 29), ("secp256r1", 23), ("ffdhe2048", 256),
                       ("ffdhe8192", 260), ("brainpoolP256r1tls13", 31),
                       ("X25519MLKEM768", 0x11EC), ("SecP256r1MLKEM768", 0x11EB),
                       ("SecP384r1MLKEM1024", 0x11ED), ("MLKEM512", 0x200),
                       ("MLKEM768", 0x201), ("MLKEM1024", 0x202)]:
        g = tls.group(name)
        assert g is not None and g.code == code and tls.group(code) is g
    assert tls.group("X25519MLKEM768").quantum_safe  # type: ignore[union-attr]
    assert not tls.group("x25519").quantum_safe  # type: ignore[union-attr]
    assert tls.group("ffdhe3072").strength == 128  # type: ignore[union-attr]
    assert all(g.strength is not None for g in tls.groups() if g.kind != "hybrid"
               or g.curve)
    for g in tls.groups():
        if g.curve:
            assert g.curve in tls.known_names()["curve"]
    s = tls.signature_scheme(0x0804)
    assert s is not None and (s.name, s.algorithm, s.hash) == (
        "rsa_pss_rsae_sha256", "RSA-PSS", "SHA-256")
    for scheme in tls.signature_schemes():
        if scheme.hash:
            assert catalog.hash_algorithm(scheme.hash) is not None, scheme.name


def test_known_names_reach_the_policy_validator() -> None:
    names = catalog.known_names()
    assert "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in names["algorithm"]
    assert {"TLSv1.0", "X25519MLKEM768", "rsa_pkcs1_sha1", "ECDHE", "DH"} <= names["algorithm"]


def test_usages_of_an_endpoint() -> None:
    asset = EndpointAsset(
        id="tls:example:443", type="tls-endpoint", location=Location(host="example", port=443),
        address="127.0.0.1", service="tls",
        details={"protocols": {
            "TLSv1.2": {"accepted": True, "server_order": True, "cipher_suites": [
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]},
            "TLSv1.1": {"accepted": False, "cipher_suites": []}},
            "groups": ["x25519"], "dh_parameters": [{"key_size": 1024, "group": None}],
            "signature_schemes": {"TLSv1.2": ["rsa_pkcs1_sha1"]}})
    got = [(u.context, u.algorithm) for u in probes.usages_of(asset)]
    assert got == [
        ("tls.protocol", "TLSv1.2"),
        ("tls.cipher-suite", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("tls.key-exchange", "ECDHE"),
        ("tls.cipher-suite", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("tls.group", "x25519"),
        ("tls.dh-parameters", "DH"),
        ("tls.signature-scheme", "rsa_pkcs1_sha1"),
    ]
    assert all(u.asset_id == asset.id and u.location == asset.location
               for u in probes.usages_of(asset))
    suite_usage = next(u for u in probes.usages_of(asset) if u.context == "tls.cipher-suite")
    assert suite_usage.attribute("kx") == "ECDHE" and suite_usage.attribute("protocol") == "TLSv1.2"
    assert usages.dh_usage(1024, None).strength == 80
    assert usages.group_usage("nonsense").strength is None

