"""The Mozilla root store (as shipped by ``certifi``) is read completely and classified.

Why: it is the most common real-world bundle a user will point cryptocheck at, it mixes RSA
and EC roots of many ages and encodings, and every certificate in it is one the catalogue
and the default policy must know: an error, an ``unknown`` algorithm or an ``unknown``
status there means a gap users will hit on day one.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from cryptocheck.model import CertificateAsset, Finding, RunError, Status
from cryptocheck.sources.files import SourceOptions, iter_assets

certifi = pytest.importorskip("certifi")

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def bundle() -> Path:
    return Path(certifi.where())


@pytest.fixture(scope="module")
def items(bundle: Path) -> list[CertificateAsset | RunError]:
    return [i for i in iter_assets([str(bundle)], SourceOptions())
            if isinstance(i, (CertificateAsset, RunError))]


def test_every_root_is_read_without_error(bundle: Path,
                                         items: list[CertificateAsset | RunError]) -> None:
    errors = [i for i in items if isinstance(i, RunError)]
    assert errors == []
    blocks = bundle.read_text(encoding="utf-8").count("-----BEGIN CERTIFICATE-----")
    certificates = [i for i in items if isinstance(i, CertificateAsset)]
    assert blocks > 100
    assert len(certificates) == blocks == len(items)
    assert [c.location.index for c in certificates] == list(range(blocks))


def test_every_root_is_classified(items: list[CertificateAsset]) -> None:
    problems = []
    for cert in items:
        where = f"#{cert.location.index} {cert.subject}"
        if cert.key_algorithm == "unknown":
            problems.append(f"{where}: key algorithm unknown (OID {cert.key_oid})")
        if cert.key_size is None and cert.curve is None:
            problems.append(f"{where}: neither key size nor curve known ({cert.key_algorithm})")
        if cert.signature_hash is None:
            problems.append(f"{where}: signature hash unknown ({cert.signature_algorithm})")
        if cert.signature_scheme == "unknown" or cert.signature_algorithm == cert.signature_oid:
            problems.append(f"{where}: signature algorithm unknown ({cert.signature_oid})")
        if not cert.is_ca or not cert.self_signed:
            problems.append(f"{where}: a root should be a self-signed CA "
                            f"(is_ca={cert.is_ca}, self_signed={cert.self_signed})")
    assert problems == [], "\n".join(problems)


def test_the_store_holds_what_we_expect(items: list[CertificateAsset]) -> None:
    # A guard on the classification itself: the Mozilla store is RSA and NIST-curve EC only.
    algorithms = Counter(c.key_algorithm for c in items)
    assert set(algorithms) <= {"RSA", "EC"}
    assert algorithms["RSA"] > 50 and algorithms["EC"] > 10
    curves = {c.curve for c in items if c.key_algorithm == "EC"}
    assert curves <= {"secp256r1", "secp384r1", "secp521r1"}
    sizes = {c.key_size for c in items if c.key_algorithm == "RSA"}
    assert sizes <= {2048, 3072, 4096}


def test_every_root_gets_a_known_status_under_the_default_policy(bundle: Path) -> None:
    from cryptocheck import scan

    report = scan([str(bundle)], as_of=AS_OF)
    assert report.errors == ()
    certificates = [a for a in report.assets if isinstance(a, CertificateAsset)]
    by_asset: dict[str, list[Finding]] = {c.id: [] for c in certificates}
    for finding in report.findings:
        by_asset[finding.asset_id].append(finding)
    problems = []
    for cert in certificates:
        findings = by_asset[cert.id]
        if not findings:
            problems.append(f"#{cert.location.index} {cert.subject}: no finding at all")
        for finding in findings:
            if finding.status is Status.UNKNOWN:
                problems.append(f"#{cert.location.index} {cert.subject}: {finding.usage.context} "
                                f"{finding.usage.describe()} -> unknown (rule {finding.rule})")
    assert problems == [], f"{len(problems)} unknown verdicts:\n" + "\n".join(problems)
