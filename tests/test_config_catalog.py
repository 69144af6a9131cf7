"""Invariants of the OpenSSL suite table and the cloud TLS policy table."""

from __future__ import annotations

import tomllib
from importlib import resources

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.catalog.openssl_ciphers import (
    AUTH_BITS,
    ENC_BITS,
    MAC_BITS,
    MKEY_BITS,
    PROTOCOL_VERSIONS,
    STRENGTH_BITS,
    aliases,
    openssl_suite,
    openssl_suites,
)
from cryptocheck.sources.config.cloud import _table, policy_details


def test_every_openssl_suite_is_an_iana_suite_with_the_same_openssl_name() -> None:
    for suite in openssl_suites():
        entry = tls_catalog.suite(suite.iana)
        assert entry is not None, suite.iana
        assert entry.code == suite.code, suite.iana
        assert entry.tls13 == suite.tls13
        if entry.openssl_name is not None:
            # OpenSSL 1.0.2 called two 3DES suites EDH-...; 1.1.0+ keeps those as aliases.
            assert entry.openssl_name == suite.openssl or entry.openssl_name in aliases(), suite.iana


def test_openssl_suite_fields_name_known_flags() -> None:
    names = set()
    for suite in openssl_suites():
        assert suite.mkey in MKEY_BITS or (suite.tls13 and suite.mkey == "any")
        assert suite.auth in AUTH_BITS or (suite.tls13 and suite.auth == "any")
        assert suite.enc in ENC_BITS and suite.mac in MAC_BITS
        assert suite.strength in STRENGTH_BITS
        assert suite.min_tls in PROTOCOL_VERSIONS and suite.max_tls in PROTOCOL_VERSIONS
        assert 0 <= suite.strength_bits <= suite.alg_bits or suite.enc == "eNULL"
        assert suite.openssl not in names
        names.add(suite.openssl)
        assert openssl_suite(suite.openssl) is suite and openssl_suite(suite.iana) is suite
    assert not names & set(aliases())  # an alias never shadows a suite name


def test_cloud_policies_resolve_to_catalogue_suites() -> None:
    text = resources.files("cryptocheck.catalog.data").joinpath("cloud-tls-policies.toml").read_text("utf-8")
    data = tomllib.loads(text)
    assert len(data["policy"]) == len(_table())
    for (_, name), entry in _table().items():
        for suite in entry["suites"]:
            assert tls_catalog.suite(suite) is not None, (name, suite)
        for protocol in entry["protocols"] or []:
            assert protocol in tls_catalog.PROTOCOLS
        assert entry["source"].startswith("https://")
    details = policy_details("ELBSecurityPolicy-TLS-1-0-2015-04")
    assert details is not None and "TLS_RSA_WITH_3DES_EDE_CBC_SHA" in details["cipher_suites"]
