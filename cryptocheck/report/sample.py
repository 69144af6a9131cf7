"""A hand-built report full of awkward values, for trying and testing reporters.

The records are made by hand from :mod:`cryptocheck.model`, not by scanning, so a reporter
can be tried in isolation: unknown algorithms and OIDs, sizes that could not be read,
unicode and hostile subjects (escape sequences, newlines), archive members, lone surrogates
in a path, a waived finding, an expired waiver, an endpoint error, naive and non-UTC times.

Try a format with ``python -m cryptocheck.report.sample text`` (or ``json``, ``jsonl``).
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    Chain,
    Citation,
    CryptoUsage,
    Finding,
    KeyAsset,
    Location,
    PolicyInfo,
    Report,
    RunError,
    Status,
    Summary,
    Waiver,
)

_NIST = Citation(
    document="NIST SP 800-131A Rev. 2",
    section="Table 2",
    url="https://doi.org/10.6028/NIST.SP.800-131Ar2",
    confirmation="C",
)
_NHS = Citation(
    document="NHS Approved Cryptographic Algorithms Good Practice Guideline",
    section="4.2 — Signatures",
    url=None,
    confirmation="U",
    note="Section number from the 2023 edition",
)

POLICY = PolicyInfo(
    id="nhs-acag",
    version="2024.1",
    title="NHS Approved Cryptographic Algorithms",
    sha256="0" * 63 + "a",
    files=("policies/nhs-acag.toml",),
)

WAIVER = Waiver(
    id="W-1",
    owner="pki-team@example.org",
    reason="Legacy appliance, replacement ordered (ticket ÖPS-12)",
    expires=date(2026, 1, 31),
    rule="sig-sha1",
    asset="cert-1",
)
EXPIRED_WAIVER = Waiver(
    id="W-0",
    owner="alice",
    reason="temporary",
    expires=date(2024, 12, 31),
    rule="cert-validity-max",
    path="bundle.pem",
)


def _usage(asset: str, context: str, algorithm: str, location: Location, **kw: object) -> CryptoUsage:
    return CryptoUsage(asset_id=asset, context=context, algorithm=algorithm, location=location, **kw)  # type: ignore[arg-type]


def assets() -> tuple[Asset, ...]:
    """Five assets: three certificates and two keys, each odd in its own way."""
    leaf = CertificateAsset(
        id="cert-1",
        location=Location(path="bundle.pem", index=0, line=1),
        sha256="1" * 64,
        subject="CN=example.com,O=Example Ltd,C=GB",
        issuer="CN=Ünïcødé Root 例え,O=株式会社テスト",
        serial="0x0a1b",
        key_algorithm="RSA",
        key_size=1024,
        curve=None,
        key_oid="1.2.840.113549.1.1.1",
        signature_algorithm="sha1WithRSAEncryption",
        signature_scheme="RSA",
        signature_hash="SHA-1",
        signature_oid="1.2.840.113549.1.1.5",
        not_before=datetime(2020, 1, 1, 0, 0, 0),  # naive: taken as UTC
        not_after=datetime(2030, 1, 1, 12, 30, 15, 999),
        is_ca=False,
        self_signed=False,
        spki_sha256="2" * 64,
        authority_key_id="ab:cd",
    )
    root = CertificateAsset(
        id="cert-2",
        location=Location(path="bundle.pem", index=1, line=25),
        sha256="3" * 64,
        subject="CN=Ünïcødé Root 例え,O=株式会社テスト",
        issuer="CN=Ünïcødé Root 例え,O=株式会社テスト",
        serial="1",
        key_algorithm="EC",
        key_size=256,
        curve="secp256r1",
        key_oid="1.2.840.10045.2.1",
        signature_algorithm="ecdsa-with-SHA256",
        signature_scheme="ECDSA",
        signature_hash="SHA-256",
        signature_oid="1.2.840.10045.4.3.2",
        not_before=datetime(2019, 6, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
        not_after=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        is_ca=True,
        self_signed=True,
        spki_sha256="4" * 64,
        subject_key_id="ab:cd",
    )
    odd = CertificateAsset(
        id="cert-3",
        location=Location(path="certs.zip!inner/evil.der", index=0),
        sha256="5" * 64,
        subject="CN=evil\x1b[31m\nFAKE: 0 disallowed\u202e,O=x",
        issuer="",
        serial="-1",
        key_algorithm="unknown",
        key_size=None,
        curve=None,
        key_oid="1.2.3.4.5",
        signature_algorithm="1.2.840.113549.1.1.99",
        signature_scheme="unknown",
        signature_hash=None,
        signature_oid="1.2.840.113549.1.1.99",
        not_before=datetime(1950, 1, 1),
        not_after=datetime(1949, 12, 31),
        is_ca=False,
        self_signed=True,
        spki_sha256="6" * 64,
        source_format="DER",
    )
    private = KeyAsset(
        id="key-1",
        type="private-key",
        location=Location(path="keys/server.key", index=0, line=1),
        key_algorithm="RSA",
        key_size=None,  # encrypted, no password: size stays unknown
        curve=None,
        key_oid=None,
        spki_sha256=None,
        format="PKCS#8",
        encrypted=True,
        protection="PBES2 PBKDF2-HMAC-SHA1 DES-EDE3-CBC",
    )
    public = KeyAsset(
        id="key-2",
        type="public-key",
        location=Location(path="home/alice/.ssh/authorized_keys", index=2, line=3, column=1),
        key_algorithm="Ed25519",
        key_size=256,
        curve=None,
        key_oid="1.3.101.112",
        spki_sha256="7" * 64,
        format="authorized_keys",
        comment="alice@laptop — ключ",
    )
    return (leaf, root, odd, private, public)


def findings() -> tuple[Finding, ...]:
    """Nine findings covering every status, a waiver, an expired waiver and no citation."""
    a = {x.id: x.location for x in assets()}
    return (
        Finding(
            asset_id="cert-1", rule="rsa-key-min-2048", status=Status.DISALLOWED, severity="high",
            message="RSA 1024-bit keys are disallowed; use at least 2048 bits",
            citations=(_NIST, _NHS), location=a["cert-1"],
            usage=_usage("cert-1", "certificate.public-key", "RSA", a["cert-1"], key_size=1024,
                         strength=80, quantum_vulnerable=True, oid="1.2.840.113549.1.1.1",
                         attributes=(("not_after", datetime(2030, 1, 1, 12, 30, 15)),
                                     ("is_ca", False), ("lifetime_days", 3653))),
        ),
        Finding(
            asset_id="cert-1", rule="sig-sha1", status=Status.DISALLOWED, severity="critical",
            message="SHA-1 signatures are disallowed", citations=(_NIST,), location=a["cert-1"],
            usage=_usage("cert-1", "certificate.signature", "RSA", a["cert-1"], hash="SHA-1",
                         oid="1.2.840.113549.1.1.5"),
            waiver=WAIVER,
        ),
        Finding(
            asset_id="cert-1", rule="cert-validity-max", status=Status.DEPRECATED, severity="low",
            message="Validity over 398 days", citations=(_NHS,), location=a["cert-1"],
            usage=_usage("cert-1", "certificate.validity", "validity", a["cert-1"],
                         attributes=(("not_before", date(2020, 1, 1)),
                                     ("lifetime_days", 3653), ("note", None))),
            waiver_note="waiver W-0 expired on 2024-12-31",
        ),
        Finding(
            asset_id="cert-2", rule="ec-p256", status=Status.APPROVED, severity="none",
            message="P-256 is approved", citations=(_NIST,), location=a["cert-2"],
            usage=_usage("cert-2", "certificate.public-key", "EC", a["cert-2"], key_size=256,
                         curve="secp256r1", strength=128, quantum_vulnerable=True),
        ),
        Finding(
            asset_id="cert-2", rule="sig-ecdsa-sha256", status=Status.APPROVED, severity="none",
            message="ECDSA with SHA-256 is approved", citations=(_NIST,), location=a["cert-2"],
            usage=_usage("cert-2", "certificate.self-signature", "ECDSA", a["cert-2"],
                         hash="SHA-256", strength=128, quantum_vulnerable=True,
                         attributes=(("self_signed", True),)),
        ),
        Finding(
            asset_id="cert-3", rule="unmatched", status=Status.UNKNOWN, severity="medium",
            message="Key algorithm OID 1.2.3.4.5 is not in the catalogue",
            citations=(), location=a["cert-3"],
            usage=_usage("cert-3", "certificate.public-key", "unknown", a["cert-3"],
                         oid="1.2.3.4.5"),
        ),
        Finding(
            asset_id="key-1", rule="unmatched", status=Status.UNKNOWN, severity="medium",
            message="RSA key size could not be read (encrypted key)", citations=(),
            location=a["key-1"],
            usage=_usage("key-1", "private-key", "RSA", a["key-1"],
                         attributes=(("encrypted", True), ("format", "PKCS#8"))),
        ),
        Finding(
            asset_id="key-1", rule="pbe-3des", status=Status.LEGACY, severity="medium",
            message="Triple-DES key protection: re-encrypt with AES", citations=(_NIST,),
            location=a["key-1"],
            usage=_usage("key-1", "private-key.protection", "DES-EDE3-CBC", a["key-1"],
                         key_size=168, strength=112, quantum_vulnerable=False),
        ),
        Finding(
            asset_id="key-2", rule="ed25519", status=Status.APPROVED, severity="none",
            message="Ed25519 is approved", citations=(_NIST,), location=a["key-2"],
            usage=_usage("key-2", "public-key", "Ed25519", a["key-2"], key_size=256,
                         strength=128, quantum_vulnerable=True, oid="1.3.101.112"),
        ),
    )


def errors() -> tuple[RunError, ...]:
    """Two inputs that could not be read: a file (with a lone surrogate in its name) and a host."""
    return (
        RunError(
            location=Location(path="certs/bro\udcffken.pem", index=2, line=40, offset=2048),
            reason="malformed-der",
            message="certificate 3 of the bundle is not valid DER",
        ),
        RunError(
            location=Location(host="tls.example.net", port=8443),
            reason="unreadable",
            message="connection timed out after 10 s",
        ),
    )


def summarize(
    all_assets: tuple[Asset, ...], all_findings: tuple[Finding, ...], all_errors: tuple[RunError, ...]
) -> Summary:
    """Counts for the sample, the way a runner would count them."""
    by_status = Counter(f.status.value for f in all_findings)
    # as the run's tally does: a waived finding does not make the run worse
    worst = max((f.status for f in all_findings if not f.waived), key=lambda s: s.rank,
                default=None)
    return Summary(
        inputs=len(all_assets) + len(all_errors),
        assets=len(all_assets),
        errors=len(all_errors),
        findings_by_status=tuple(sorted(by_status.items())),
        waived=sum(1 for f in all_findings if f.waived),
        files_read=5,
        files_skipped=1,
        worst_status=worst,
    )


def sample_report() -> Report:
    """The whole sample run."""
    all_assets, all_findings, all_errors = assets(), findings(), errors()
    return Report(
        tool_version="0.1.0",
        command="certs",
        targets=("bundle.pem", "certs.zip", "keys/", "home/alice/.ssh/authorized_keys",
                 "certs/", "tls.example.net:8443"),
        policy=POLICY,
        as_of=date(2025, 6, 1),
        started=datetime(2025, 6, 1, 9, 0, 0, 123456, tzinfo=UTC),
        finished=datetime(2025, 6, 1, 10, 0, 5, tzinfo=timezone(timedelta(hours=1))),
        assets=all_assets,
        findings=all_findings,
        errors=all_errors,
        chains=(
            Chain(id="chain-1", certificates=("cert-1", "cert-2"), complete=True,
                  weakest_status=Status.DISALLOWED, weakest_asset="cert-1",
                  weakest_rule="rsa-key-min-2048"),
            Chain(id="chain-2", certificates=("cert-3",), complete=False,
                  weakest_status=Status.UNKNOWN, weakest_asset="cert-3", weakest_rule="unmatched"),
        ),
        summary=summarize(all_assets, all_findings, all_errors),
        waivers=(WAIVER, EXPIRED_WAIVER),
    )


def empty_report() -> Report:
    """A run that found nothing at all: no assets, findings or errors; worst status null."""
    return Report(
        tool_version="0.1.0", command="config", targets=(), policy=POLICY,
        as_of=date(2025, 6, 1),
        started=datetime(2025, 6, 1, 9, 0, 0), finished=datetime(2025, 6, 1, 9, 0, 1),
        assets=(), findings=(), errors=(),
        summary=summarize((), (), ()),
    )


if __name__ == "__main__":  # pragma: no cover - a convenience for trying formats by eye
    from cryptocheck.report import make_reporter, replay

    fmt = sys.argv[1] if len(sys.argv) > 1 else "text"
    replay(sample_report(), make_reporter(fmt, sys.stdout, color=sys.stdout.isatty()))
