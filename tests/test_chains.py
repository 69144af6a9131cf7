"""Chains among the certificates given: leaf first, weakest link reported."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptocheck.model import CertificateAsset, Citation, CryptoUsage, Finding, Location, Status
from cryptocheck.sources.files.chains import build_chains

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2035, 1, 1, tzinfo=UTC)


def cert(name: str, issuer: str, *, ca: bool, ski: str | None = None, aki: str | None = None) -> CertificateAsset:
    return CertificateAsset(
        id=f"cert-{name}", location=Location(path=f"{name}.pem", index=0), sha256=name * 4,
        subject=f"CN={name}", issuer=f"CN={issuer}", serial="01", key_algorithm="RSA", key_size=2048,
        curve=None, key_oid="1.2.840.113549.1.1.1", signature_algorithm="sha256WithRSAEncryption",
        signature_scheme="RSA", signature_hash="SHA-256", signature_oid="1.2.840.113549.1.1.11",
        not_before=T0, not_after=T1, is_ca=ca, self_signed=name == issuer, spki_sha256=name,
        subject_key_id=ski, authority_key_id=aki)


def finding(asset: str, status: Status, rule: str) -> Finding:
    usage = CryptoUsage(asset_id=asset, context="certificate.signature", algorithm="RSA",
                        location=Location(path="x"))
    return Finding(asset, rule, status, "high", "m", (Citation("d", "s"),), usage.location, usage)


def test_chain_is_leaf_first_and_reports_weakest_link() -> None:
    root = cert("root", "root", ca=True, ski="r")
    inter = cert("inter", "root", ca=True, ski="i", aki="r")
    leaf = cert("leaf", "inter", ca=False, aki="i")
    findings = {"cert-inter": [finding("cert-inter", Status.DISALLOWED, "SHA1")],
                "cert-leaf": [finding("cert-leaf", Status.APPROVED, "OK")]}
    (chain,) = build_chains([root, leaf, inter], findings)
    assert chain.certificates == ("cert-leaf", "cert-inter", "cert-root")
    assert chain.complete
    assert (chain.weakest_status, chain.weakest_asset, chain.weakest_rule) == (
        Status.DISALLOWED, "cert-inter", "SHA1")


def test_lone_certificates_are_not_chains() -> None:
    assert build_chains([cert("solo", "nobody", ca=False)], {}) == ()
    assert build_chains([cert("root", "root", ca=True)], {}) == ()


def test_key_identifiers_pick_among_issuers_with_the_same_name() -> None:
    old = cert("inter", "root", ca=True, ski="old")
    new = CertificateAsset(**{f: getattr(old, f) for f in CertificateAsset.__slots__}
                           | {"id": "cert-new", "sha256": "new", "subject_key_id": "i"})
    leaf = cert("leaf", "inter", ca=False, aki="i")
    (chain,) = build_chains([leaf, old, new], {})
    assert chain.certificates == ("cert-leaf", "cert-new")


def test_incomplete_chain_when_root_missing() -> None:
    inter = cert("inter", "root", ca=True, ski="i", aki="r")
    leaf = cert("leaf", "inter", ca=False, aki="i")
    (chain,) = build_chains([leaf, inter], {})
    assert not chain.complete and chain.weakest_status is Status.APPROVED


def test_key_identifier_mismatch_breaks_the_link() -> None:
    inter = cert("inter", "root", ca=True, ski="other")
    leaf = cert("leaf", "inter", ca=False, aki="i")
    assert build_chains([leaf, inter], {}) == ()
