"""The bulk path gives the normal path's answers: finding by finding over the whole test
corpus (several policies and dates), byte for byte between the C and the pure-Python
scanners and between one and two jobs, on mutated certificates too; and on a generated
corpus its counts equal the generator's manifest."""

from __future__ import annotations

import binascii
import importlib.util
import io
import json
import random
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from servers.needs import declares

from cryptocheck import scan
from cryptocheck.bulk.pyscan import have_extension
from cryptocheck.bulk.run import BulkOptions, BulkResult, bulk_scan
from cryptocheck.bulk.schema import bulk_record_schema
from cryptocheck.model import CertificateAsset, Status, Waiver
from cryptocheck.policy import load_policy
from cryptocheck.sources.files import pem

ROOT = Path(__file__).resolve().parent.parent
CORPUS = [str(ROOT / "tests" / "corpus"), str(ROOT / "tests" / "fixtures" / "sources")]

# The C scanner's tests fail, not skip, when it is not built: scripts/test.sh installs the
# compiler and headers and builds it, so a missing extension is a set-up defect.
needs_c = pytest.mark.usefixtures("c_scanner")


@pytest.fixture
@declares("c_extension")
def c_scanner() -> None:
    assert have_extension(), ("C scanner not built: install gcc, libssl-dev and the Python "
                              "headers, then pip install -e . (scripts/test.sh does)")


def run_bulk(targets: Sequence[str], policy: str | None = None, day: date = date(2026, 11, 22),
             **options: Any) -> tuple[list[dict[str, Any]], BulkResult]:
    out = io.BytesIO()
    options.setdefault("jobs", 1)
    waivers = options.pop("waivers", ())
    result = bulk_scan(list(targets), load_policy(policy), day, out, BulkOptions(**options),
                       waivers)
    return [json.loads(line) for line in out.getvalue().decode().splitlines()], result


def bulk_findings(records: list[dict[str, Any]]) -> tuple[dict[str, list[tuple[str, ...]]],
                                                           list[tuple[Any, ...]]]:
    """Asset id -> sorted (context, rule, status); errors as (path, index, line, reason)."""
    classes: dict[str, list[tuple[str, ...]]] = {}
    assets: dict[str, list[tuple[str, ...]]] = {}
    errors = []
    for record in records:
        kind = record["record"]
        if kind == "class":
            classes[record["class"]] = sorted(
                (f["context"], f["rule"], f["status"]) for f in record["findings"])
        elif kind == "certificate":
            assert record["id"] not in assets
            assets[record["id"]] = classes[record["class"]]
        elif kind == "asset":
            assets[record["id"]] = sorted(
                (f["usage"]["context"], f["rule"], f["status"]) for f in record["findings"])
        elif kind == "error":
            errors.append((record["path"], record["index"], record["location"]["line"],
                           record["reason"]))
    return assets, sorted(errors)


def normal_findings(targets: Sequence[str], policy: str | None,
                    day: date) -> tuple[dict[str, list[tuple[str, ...]]], list[tuple[Any, ...]]]:
    report = scan(list(targets), load_policy(policy), day)
    by_asset: dict[str, list[tuple[str, ...]]] = {a.id: [] for a in report.assets}
    for finding in report.findings:
        by_asset[finding.asset_id].append(
            (finding.usage.context, finding.rule, finding.status.value))
    errors = sorted((e.location.path, e.location.index, e.location.line, e.reason)
                    for e in report.errors)
    return {k: sorted(v) for k, v in by_asset.items()}, errors


def compare(targets: Sequence[str], policy: str | None, day: date, force_python: bool) -> int:
    expected_assets, expected_errors = normal_findings(targets, policy, day)
    records, result = run_bulk(targets, policy, day, dedup=False, force_python=force_python)
    assets, errors = bulk_findings(records)
    missing = sorted(set(expected_assets) - set(assets))
    unexpected = sorted(set(assets) - set(expected_assets))
    assert not missing, f"assets the bulk path lost: {missing[:5]}"
    assert not unexpected, f"assets only the bulk path has: {unexpected[:5]}"
    differ = {k: (expected_assets[k], assets[k]) for k in assets if assets[k] != expected_assets[k]}
    assert not differ, f"findings differ: {list(differ.items())[:3]}"
    assert errors == expected_errors
    return len(assets) - result.tally.fallbacks


@pytest.mark.parametrize("policy", ["nhs-acagpg", "cabf-br", "nist-ir8547", "cnsa-2.0",
                                    "nist-sp800-131a-r2"])
@pytest.mark.parametrize("day", [date(2019, 6, 1), date(2026, 11, 22), date(2031, 1, 1)])
@needs_c
def test_c_scanner_gives_the_normal_paths_findings(policy: str, day: date) -> None:
    decided = compare(CORPUS, policy, day, force_python=False)
    # The fast path itself decided most certificates (not only the fallback).
    assert decided > 100


def test_python_scanner_gives_the_normal_paths_findings() -> None:
    compare(CORPUS, "cabf-br", date(2026, 11, 22), force_python=True)


def _without_timing(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in records:
        for key in ("started", "finished", "seconds", "certificates_per_second", "jobs",
                    "engine", "fallbacks"):
            record.pop(key, None)
    return records


@needs_c
def test_c_and_python_scanners_write_the_same_bytes() -> None:
    c_records, _ = run_bulk(CORPUS, "cabf-br")
    py_records, _ = run_bulk(CORPUS, "cabf-br", force_python=True)
    assert _without_timing(c_records) == _without_timing(py_records)


def test_output_is_the_same_for_one_and_two_jobs() -> None:
    one, _ = run_bulk(CORPUS, jobs=1)
    two, _ = run_bulk(CORPUS, jobs=2)
    assert _without_timing(one) == _without_timing(two)


@pytest.mark.parametrize("handover_path", ["slab too small for lines", "slab too small for meta",
                                           "no slab free", "python scanner"])
def test_two_jobs_give_the_same_output_whichever_way_entries_are_handed_over(
        handover_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers hand entries over in shared slabs while they fit, else through spool files and
    the pipe; each way gives the one-job output (duplicates dropped the same way too)."""
    from cryptocheck.bulk import handover
    from cryptocheck.bulk import run as bulk_run

    force_python = handover_path == "python scanner"
    one, _ = run_bulk(CORPUS, jobs=1, force_python=force_python)
    if handover_path == "slab too small for lines":
        monkeypatch.setattr(handover, "SLAB_BYTES", 2000)
    elif handover_path == "slab too small for meta":
        monkeypatch.setattr(handover, "META_BYTES", 100)
    elif handover_path == "no slab free":
        real = handover.open_slabs
        monkeypatch.setattr(bulk_run, "open_slabs", lambda context, count: real(context, 0))
        monkeypatch.setattr(handover, "SLAB_WAIT", 0.0)  # (else every unit waits for one)
    two, result = run_bulk(CORPUS, jobs=2, force_python=force_python)
    assert result.jobs == 2
    assert sum(1 for r in one if r["record"] == "duplicate") > 0  # the masks are exercised
    assert _without_timing(one) == _without_timing(two)


def _der_certificates() -> list[bytes]:
    found = []
    for path in sorted((ROOT / "tests" / "corpus" / "certs").glob("*.pem")):
        for event in pem.scan(path.read_bytes()):
            if isinstance(event, pem.PemBlock) and event.label == "CERTIFICATE":
                found.append(event.der)
    return found


def _pem(der: bytes) -> bytes:
    text = binascii.b2a_base64(der, newline=False)
    body = b"\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"\n-----END CERTIFICATE-----\n"


@needs_c
@pytest.mark.parametrize("seed", [11, 12])
def test_mutated_certificates_agree_with_the_normal_path(tmp_path: Path, seed: int) -> None:
    """Certificates with bytes changed, flipped or dropped: the C scanner must either read
    them as the normal path does or hand them to it. Known limit (docs/bulk.md): DER that is
    well-formed but puts a wrong tag deep inside an extension can still be read by the C
    scanner where ``cryptography`` refuses it; a few in a thousand mutations do that, so
    this test allows that many and no more."""
    rng = random.Random(seed)
    sources = _der_certificates()
    parts = []
    for _ in range(600):
        der = bytearray(rng.choice(sources))
        for _ in range(rng.choice((1, 1, 2))):
            at = rng.randrange(len(der))
            if rng.random() < 0.7:
                der[at] = rng.randrange(256)
            else:
                del der[at]
        parts.append(_pem(bytes(der)))
    bundle = tmp_path / "mutated.pem"
    bundle.write_bytes(b"".join(parts))
    c_records, _ = run_bulk([str(bundle)], dedup=False)
    py_records, _ = run_bulk([str(bundle)], dedup=False, force_python=True)
    c_kinds = {r["index"]: r["record"] for r in c_records if "index" in r}
    py_kinds = {r["index"]: r["record"] for r in py_records if "index" in r}
    assert set(c_kinds) == set(py_kinds) == set(range(600))
    disagree = [i for i in c_kinds if c_kinds[i] != py_kinds[i]]
    assert len(disagree) <= 3, disagree
    # Where both read a certificate, they read the same one with the same verdict.
    c_certs = {r["index"]: (r["sha256"], r["class"]) for r in c_records
               if r["record"] == "certificate"}
    py_certs = {r["index"]: (r["sha256"], r["class"]) for r in py_records
                if r["record"] == "certificate"}
    for index in set(c_certs) & set(py_certs):
        assert c_certs[index] == py_certs[index]


def _generator() -> Any:
    path = ROOT / "benchmarks" / "gen_corpus.py"
    spec = importlib.util.spec_from_file_location("gen_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_corpus"] = module
    spec.loader.exec_module(module)
    return module


def test_counts_equal_the_generators_manifest(tmp_path: Path) -> None:
    manifest = _generator().generate(3000, tmp_path / "corpus", files=3, garbage=0.01,
                                     templates=60, seed=5)
    records, result = run_bulk([str(tmp_path / "corpus")], jobs=2)
    counts = {}
    for entry in result.bulk_record()["classes"]:
        key = entry["key_algorithm"]
        if entry["curve"] and entry["curve"].lower() != key.lower():
            key += f"-{entry['curve']}"
        elif entry["key_size"] is not None and not entry["curve"]:
            key += f"-{entry['key_size']}"
        label = f"{key}/{entry['signature_hash'] or 'none'}"
        counts[label] = counts.get(label, 0) + entry["count"]
    assert counts == manifest["classes"]
    assert result.unique == manifest["certificates"]
    assert result.inputs == 3000  # every entry counted once
    assert result.inputs == result.unique + result.duplicates + result.errors
    expected = sorted((str(tmp_path / "corpus" / e["file"]), e["index"], e["line"], e["reason"])
                      for e in manifest["errors"])
    got = sorted((r["path"], r["index"], r["location"]["line"], r["reason"])
                 for r in records if r["record"] == "error")
    assert got == expected
    offsets = [r["location"]["offset"] for r in records if r["record"] == "error"]
    assert all(isinstance(o, int) for o in offsets)


def test_certificate_lines_match_the_normal_assets() -> None:
    """Ids, fingerprints, dates and positions in certificate lines are the normal path's."""
    target = str(ROOT / "tests" / "corpus" / "certs")
    report = scan([target], load_policy(None), date(2026, 11, 22))
    expected = {a.id: a for a in report.assets if isinstance(a, CertificateAsset)}
    records, _ = run_bulk([target], dedup=False)
    lines = [r for r in records if r["record"] == "certificate"]
    assert lines
    for line in lines:
        asset = expected[line["id"]]
        assert line["sha256"] == asset.sha256
        assert (line["path"], line["index"], line["line"]) == (
            asset.location.path, asset.location.index, asset.location.line)
        assert line["not_after"] == asset.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- waivers -------------------------------------------------------------------------------


def _waived_findings(records: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """Asset id -> sorted (context, rule, status, waiver id, waiver note) from bulk records."""
    classes: dict[str, list[tuple[Any, ...]]] = {}
    assets: dict[str, list[tuple[Any, ...]]] = {}
    for record in records:
        kind = record["record"]
        if kind == "class":
            classes[record["class"]] = sorted(
                (f["context"], f["rule"], f["status"], f.get("waiver"), f.get("waiver_note"))
                for f in record["findings"])
        elif kind == "certificate":
            assets[record["id"]] = classes[record["class"]]
        elif kind == "asset":
            assets[record["id"]] = sorted(
                (f["usage"]["context"], f["rule"], f["status"], f["waiver"], f["waiver_note"])
                for f in record["findings"])
    return assets


def _bulk_validator() -> Any:
    return jsonschema.Draft202012Validator(bulk_record_schema())


def _corpus_waivers() -> tuple[Waiver, ...]:
    """Waivers of every kind, aimed at real corpus certificates with findings to waive."""
    report = scan(list(CORPUS), load_policy(None), date(2026, 11, 22))
    certificates = {a.id: a for a in report.assets if isinstance(a, CertificateAsset)}
    bad = [f for f in report.findings if f.asset_id in certificates
           and f.status.value != "approved"
           and not f.rule.startswith(("NHS-CERT-NOTYETVALID-", "NHS-SIG-SHA1-"))]
    keys = sorted({f.asset_id for f in bad if f.rule.startswith("NHS-KEY-")})
    third = certificates[keys[0]]
    others = sorted({f.asset_id for f in bad} - {third.id}
                    - {a for a in certificates if certificates[a].location.path
                       == third.location.path})
    first, second = certificates[others[0]], certificates[others[1]]
    until, past = date(2027, 12, 31), date(2020, 1, 1)
    return (
        Waiver("W-RULE", "pki", "rule-wide", until, rule="NHS-CERT-NOTYETVALID-*"),
        Waiver("W-OLD", "pki", "expired, so only noted", past, rule="NHS-SIG-SHA1-*"),
        Waiver("W-SHA", "pki", "one certificate by SHA-256", until, rule="*",
               sha256=first.sha256),
        Waiver("W-ASSET", "pki", "one certificate by asset id", until, asset=second.id),
        Waiver("W-PATH", "pki", "one file by path", until, rule="NHS-KEY-*",
               path="*" + (third.location.path or "").rsplit("/", 1)[-1]),
    )


@needs_c
@pytest.mark.parametrize("jobs", [1, 2])
def test_waivers_are_applied_where_the_normal_path_applies_them(jobs: int) -> None:
    waivers = _corpus_waivers()
    day = date(2026, 11, 22)
    report = scan(list(CORPUS), load_policy(None), day, waivers=waivers)
    expected = {a.id: [] for a in report.assets}
    for f in report.findings:
        expected[f.asset_id].append((f.usage.context, f.rule, f.status.value,
                                     f.waiver.id if f.waiver else None, f.waiver_note))
    expected = {k: sorted(v) for k, v in expected.items()}
    # Every kind of waiver covers or notes something here.
    used = {row[3] for rows in expected.values() for row in rows} | {
        "W-OLD" if any(row[4] for rows in expected.values() for row in rows) else None}
    assert {"W-RULE", "W-OLD", "W-SHA", "W-ASSET", "W-PATH"} <= used

    records, result = run_bulk(CORPUS, None, day, dedup=False, jobs=jobs, waivers=waivers)
    assert _waived_findings(records) == expected
    assert result.report(waivers).summary.waived == report.summary.waived
    assert result.worst_status() == report.summary.worst_status
    validator = _bulk_validator()
    for record in records:
        validator.validate(record)
    # Only certificates a waiver names went to the normal path for it: the fast path still
    # decided most of them.
    plain, plain_result = run_bulk(CORPUS, None, day, dedup=False, jobs=jobs)
    assert result.tally.fallbacks - plain_result.tally.fallbacks <= 4
    def certificates(found: list[dict[str, Any]]) -> list[str]:
        return [r["id"] for r in found if r["record"] in ("certificate", "asset")]

    assert certificates(plain) == certificates(records)


@needs_c
def test_a_waiver_by_subject_sends_every_certificate_to_the_normal_path() -> None:
    day = date(2026, 11, 22)
    report = scan(list(CORPUS), load_policy(None), day)
    subject = next(a.subject for a in report.assets
                   if isinstance(a, CertificateAsset) and a.subject and any(
                       f.asset_id == a.id and f.status.value != "approved"
                       for f in report.findings))
    waivers = (Waiver("W-SUBJ", "pki", "by subject", date(2027, 1, 1), subject=subject),)
    expected_report = scan(list(CORPUS), load_policy(None), day, waivers=waivers)
    records, result = run_bulk(CORPUS, None, day, dedup=False, waivers=waivers)
    found = _waived_findings(records)
    waived = sorted(f.asset_id for f in expected_report.findings if f.waiver)
    assert waived
    assert sorted(k for k, rows in found.items() for row in rows if row[3] == "W-SUBJ") == waived
    assert result.report(waivers).summary.waived == expected_report.summary.waived


def _twins(tmp_path: Path) -> Path:
    """A bundle of two certificates of one class (same RSA-1024 key, dates and names; other
    serial numbers): the first one met teaches the bulk path the class."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twin")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    pems = []
    for serial in (1, 2):
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                       .public_key(key.public_key()).serial_number(serial)
                       .not_valid_before(start).not_valid_after(start + dt.timedelta(days=300))
                       .sign(key, hashes.SHA256()))
        pems.append(certificate.public_bytes(Encoding.PEM))
    path = tmp_path / "twins.pem"
    path.write_bytes(b"".join(pems))
    return path


@needs_c
@pytest.mark.parametrize("selector", ["sha256", "asset"])
def test_a_waiver_naming_the_first_of_a_class_covers_it_alone(tmp_path: Path,
                                                              selector: str) -> None:
    bundle = _twins(tmp_path)
    day = date(2026, 11, 22)
    plain = scan([str(bundle)], load_policy(None), day)
    first = plain.assets[0]
    assert isinstance(first, CertificateAsset)
    named = {"sha256": first.sha256} if selector == "sha256" else {"asset": first.id}
    waivers = (Waiver("W-1", "pki", "the first twin only", date(2027, 1, 1), **named),)
    report = scan([str(bundle)], load_policy(None), day, waivers=waivers)
    expected = {a.id: [] for a in report.assets}
    for f in report.findings:
        expected[f.asset_id].append((f.usage.context, f.rule, f.status.value,
                                     f.waiver.id if f.waiver else None, f.waiver_note))
    records, result = run_bulk([str(bundle)], None, day, dedup=False, waivers=waivers)
    found = _waived_findings(records)
    assert found == {k: sorted(v) for k, v in expected.items()}
    assert [bool(any(row[3] for row in found[a.id])) for a in report.assets] == [True, False]
    assert result.failing(Status.DISALLOWED) == 1  # the second twin's RSA-1024 key
