"""Inputs, bad data, deduplication, output schema, the compiled policy and the command line of
the bulk path."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck import scan
from cryptocheck.bulk import buffers as bulk_buffers
from cryptocheck.bulk import reader as bulk_reader
from cryptocheck.bulk.compiled import breakpoints
from cryptocheck.bulk.run import BulkOptions, BulkResult, bulk_scan
from cryptocheck.bulk.schema import bulk_record_schema
from cryptocheck.cli import bulk as bulk_cli
from cryptocheck.cli import main
from cryptocheck.model import CryptoUsage, Location, RunError
from cryptocheck.policy import evaluate, load_policy
from cryptocheck.report.wire import jsonl_record_schema
from cryptocheck.sources.files import SourceOptions, pem
from cryptocheck.sources.files.usages import lifetime_days

ROOT = Path(__file__).resolve().parent.parent
CERTS = ROOT / "tests" / "corpus" / "certs"
DAY = date(2026, 11, 22)


def run_bulk(targets: list[str], **options: Any) -> tuple[list[dict[str, Any]], BulkResult]:
    out = io.BytesIO()
    options.setdefault("jobs", 1)
    result = bulk_scan(targets, load_policy(None), DAY, out, BulkOptions(**options))
    return [json.loads(line) for line in out.getvalue().decode().splitlines()], result


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["record"] == kind]


def corpus_ders() -> list[bytes]:
    found = []
    for path in sorted(CERTS.glob("leaf-*.pem"))[:12]:
        for event in pem.scan(path.read_bytes()):
            if isinstance(event, pem.PemBlock) and event.label == "CERTIFICATE":
                found.append(event.der)
    return found


def pem_text(der: bytes) -> bytes:
    text = base64.b64encode(der)
    body = b"\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def ders() -> list[bytes]:
    found = corpus_ders()
    assert len(found) >= 10
    return found


@pytest.fixture()
def bundle(tmp_path: Path, ders: list[bytes]) -> Path:
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"".join(pem_text(d) for d in ders))
    return path


def fingerprints(records: list[dict[str, Any]]) -> list[str]:
    return [r["sha256"] for r in of_kind(records, "certificate")]


def test_archives_give_the_certificates_of_their_members(tmp_path: Path, bundle: Path,
                                                         ders: list[bytes]) -> None:
    expected, _ = run_bulk([str(bundle)])
    with tarfile.open(tmp_path / "certs.tar.gz", "w:gz") as archive:
        archive.add(bundle, arcname="inner/bundle.pem")
    with zipfile.ZipFile(tmp_path / "certs.zip", "w") as archive:
        archive.write(bundle, "inner/bundle.pem")
    for name in ("certs.tar.gz", "certs.zip"):
        records, result = run_bulk([str(tmp_path / name)])
        assert fingerprints(records) == fingerprints(expected)
        assert {r["path"] for r in of_kind(records, "certificate")} == {
            f"{tmp_path / name}!inner/bundle.pem"}
        assert result.unique == len(ders)


def test_archive_too_large_to_hold_is_streamed(tmp_path: Path, bundle: Path) -> None:
    expected, _ = run_bulk([str(bundle)])
    with tarfile.open(tmp_path / "big.tar", "w") as archive:
        archive.add(bundle, arcname="bundle.pem")
    # A tiny size limit sends the archive and its member down the streaming readers.
    records, _ = run_bulk([str(tmp_path / "big.tar")],
                          source_options=SourceOptions(max_file_size=2048))
    assert fingerprints(records) == fingerprints(expected)


def test_streamed_bundle_equals_bundle_read_whole(tmp_path: Path, ders: list[bytes],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries fall anywhere (inside BEGIN lines, bodies, garbage): the streamed
    read gives the same lines as reading the file whole."""
    parts = [pem_text(d) for d in ders]
    parts.insert(3, b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
    parts.insert(6, pem_text(ders[0])[:200])  # truncated: no END line
    parts.insert(8, b"# a comment between blocks\n\x00\x01\x02 binary junk\n")
    path = tmp_path / "mixed.pem"
    path.write_bytes(b"".join(parts) * 3)
    whole, _ = run_bulk([str(path)], dedup=False)
    for chunk in (97, 1000, 4096):
        monkeypatch.setattr(bulk_buffers, "CHUNK", chunk)
        streamed, _ = run_bulk([str(path)], dedup=False,
                               source_options=SourceOptions(max_file_size=1024))
        assert [r for r in streamed if r["record"] in ("certificate", "error")] == \
               [r for r in whole if r["record"] in ("certificate", "error")]


def test_one_reader_streams_many_files_alike(tmp_path: Path, ders: list[bytes],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader keeps its read buffers from one file to the next: big and small files,
    ending anywhere in a piece, an archive member streamed between them, give the lines each
    gives when read whole."""
    folder = tmp_path / "estate"
    folder.mkdir()
    texts = [pem_text(d) for d in ders]
    junk = b"# between blocks\n\x00\x01 binary junk\n"
    sizes = [(7, 3), (1, 1), (11, 2), (2, 5), (5, 1)]  # (certificates, copies)
    for number, (count, copies) in enumerate(sizes):
        chosen = [texts[(number + k) % len(texts)] for k in range(count)]
        chosen.insert(count // 2, junk)
        (folder / f"{number}.pem").write_bytes(b"".join(chosen) * copies)
    with tarfile.open(folder / "2b.tar", "w") as archive:
        archive.add(folder / "2.pem", arcname="member.pem")
    rows = [base64.b64encode(d) for d in ders] * 3
    rows.insert(4, b"@@@ not base64 @@@")
    (folder / "3b.b64").write_bytes(b"\n".join(rows) + b"\n")
    whole, _ = run_bulk([str(folder)], dedup=False)
    for chunk in (600, 1000, 4096):  # (a tar archive is known by bytes 257-262 of its head)
        monkeypatch.setattr(bulk_buffers, "CHUNK", chunk)
        streamed, _ = run_bulk([str(folder)], dedup=False,
                               source_options=SourceOptions(max_file_size=1024))
        kept = [r for r in streamed if r["record"] in ("certificate", "error")]
        assert kept == [r for r in whole if r["record"] in ("certificate", "error")]
        assert len(of_kind(streamed, "certificate")) == \
            7 * 3 + 1 + 11 * 2 * 2 + 2 * 5 + 5 + 3 * len(ders)


def test_json_lines_with_a_field(tmp_path: Path, ders: list[bytes]) -> None:
    path = tmp_path / "ct.jsonl"
    lines = [json.dumps({"entry": {"cert": base64.b64encode(d).decode()}, "n": i})
             for i, d in enumerate(ders[:4])]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"entry": {"cert": pem_text(ders[5]).decode()}}))
    path.write_text("\n".join(lines) + "\n")
    records, result = run_bulk([str(path)], field="entry.cert")
    assert fingerprints(records) == [hashlib.sha256(d).hexdigest()
                                     for d in ders[:4] + [ders[5]]]
    errors = of_kind(records, "error")
    assert [(e["reason"], e["location"]["line"]) for e in errors] == [("garbage", 3)]
    assert result.inputs == 6


def test_base64_lines(tmp_path: Path, ders: list[bytes]) -> None:
    path = tmp_path / "certs.b64"
    rows = [base64.b64encode(d) for d in ders[:5]]
    rows.insert(2, b"@@@ garbage @@@")
    rows.insert(4, base64.b64encode(ders[0][:100]))  # truncated DER
    path.write_bytes(b"\n".join(rows) + b"\n")
    records, _ = run_bulk([str(path)], dedup=False)
    assert len(of_kind(records, "certificate")) == 5
    errors = [(e["reason"], e["location"]["line"], e["location"]["offset"])
              for e in of_kind(records, "error")]
    assert [e[:2] for e in errors] == [("garbage", 3), ("malformed-der", 5)]
    assert all(isinstance(e[2], int) for e in errors)
    assert [r["line"] for r in of_kind(records, "certificate")] == [1, 2, 4, 6, 7]


def test_directory_of_der_files(tmp_path: Path, ders: list[bytes]) -> None:
    for number, der in enumerate(ders[:4]):
        (tmp_path / f"{number}.der").write_bytes(der)
    records, _ = run_bulk([str(tmp_path)])
    assert len(of_kind(records, "certificate")) == 4
    assert all(r["line"] is None for r in of_kind(records, "certificate"))


def test_standard_input(bundle: Path, ders: list[bytes]) -> None:
    done = subprocess.run([sys.executable, "-m", "cryptocheck", "certs", "--bulk", "--format",
                           "jsonl", "--as-of", "2026-11-22", "-"], input=bundle.read_bytes(),
                          capture_output=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(of_kind(records, "certificate")) == len(ders)
    assert {r["path"] for r in of_kind(records, "certificate")} == {"-"}


def test_duplicates_are_counted_once_each(tmp_path: Path, ders: list[bytes]) -> None:
    path = tmp_path / "twice.pem"
    path.write_bytes(b"".join(pem_text(d) for d in ders[:3] + ders[:2]))
    records, result = run_bulk([str(path)])
    assert len(of_kind(records, "certificate")) == 3
    assert sorted((r["sha256"], r["seen"]) for r in of_kind(records, "duplicate")) == sorted(
        (hashlib.sha256(d).hexdigest(), 2) for d in ders[:2])
    summary = of_kind(records, "bulk-summary")[0]
    assert (summary["inputs"], summary["certificates"], summary["duplicates"]) == (5, 3, 2)
    records, result = run_bulk([str(path)], dedup=False)
    assert len(of_kind(records, "certificate")) == 5 and result.duplicates == 0


def test_bad_entries_are_errors_with_positions_and_the_run_goes_on(
        tmp_path: Path, ders: list[bytes]) -> None:
    garbage = b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x30\x82junk" * 20) + \
        b"\n-----END CERTIFICATE-----\n"
    text = pem_text(ders[0]) + garbage + pem_text(ders[1]) + b"\x00\xff\xfe binary\n" + \
        pem_text(ders[2]) + pem_text(ders[3])[:150]
    path = tmp_path / "bad.pem"
    path.write_bytes(text)
    records, result = run_bulk([str(path)])
    assert len(of_kind(records, "certificate")) == 3
    errors = [(e["reason"], e["index"], e["location"]["line"]) for e in of_kind(records, "error")]
    assert errors == [("malformed-der", 1, 2 + pem_text(ders[0]).count(b"\n") - 1),
                      ("garbage", 3, text[:text.index(pem_text(ders[2]))].count(b"\n") + 1),
                      ("truncated-pem", 5, text[:text.rindex(b"-----BEGIN")].count(b"\n") + 1)]
    assert result.inputs == result.unique + result.duplicates + result.errors == 6
    offsets = [e["location"]["offset"] for e in of_kind(records, "error")]
    assert offsets[0] == len(pem_text(ders[0]))


def test_every_line_validates_against_the_schema(tmp_path: Path, bundle: Path) -> None:
    key_dir = ROOT / "tests" / "corpus" / "keys"
    records, _ = run_bulk([str(bundle), str(bundle), str(key_dir),
                           str(ROOT / "tests" / "fixtures" / "sources")])
    validator = jsonschema.Draft202012Validator(bulk_record_schema())
    kinds = set()
    for record in records:
        validator.validate(record)
        kinds.add(record["record"])
    assert {"class", "certificate", "asset", "error", "duplicate", "bulk-summary",
            "summary"} <= kinds
    report_lines = jsonschema.Draft202012Validator(jsonl_record_schema())
    for record in records:
        if record["record"] in ("asset", "error", "summary"):
            report_lines.validate(record)


VALIDITY_POLICIES = {name: load_policy(name) for name in ("cabf-br", "nhs-acagpg",
                                                           "nist-ir8547")}


@settings(max_examples=300, deadline=None)
@given(policy=st.sampled_from(sorted(VALIDITY_POLICIES)),
       start=st.integers(0, 40 * 365 * 86400), length=st.integers(-86400, 1200 * 86400),
       shift=st.integers(-3 * 86400, 3 * 86400), as_of=st.dates(date(2017, 1, 1), date(2032, 1, 1)))
def test_certificates_in_one_date_bucket_get_one_verdict(policy: str, start: int, length: int,
                                                         shift: int, as_of: date) -> None:
    """The compiled breakpoints are exact: two validity periods in the same buckets (of
    not_after, not_before and lifetime) get the same verdict from the real engine."""
    loaded = VALIDITY_POLICIES[policy]
    points = breakpoints(loaded, as_of)
    epoch = datetime(1995, 1, 1, tzinfo=UTC)
    nb1, na1 = start, start + length
    nb2, na2 = start + shift, start + length + shift

    def usage(nb: int, na: int) -> tuple[CryptoUsage, tuple[int, int, int]]:
        not_before = epoch + timedelta(seconds=nb)
        not_after = epoch + timedelta(seconds=na)
        life = lifetime_days(not_before, not_after)
        bucket = (bisect_right(points.not_after, int(not_after.timestamp())),
                  bisect_right(points.not_before, int(not_before.timestamp())),
                  na - nb if points.span is None else bisect_right(points.span, na - nb))
        attrs = tuple(sorted((("is_ca", False), ("self_signed", False),
                              ("lifetime_days", life), ("not_after", not_after),
                              ("not_before", not_before))))
        return CryptoUsage("x", "certificate.validity", "validity-period", Location(),
                           attributes=attrs), bucket

    first, bucket1 = usage(nb1, na1)
    second, bucket2 = usage(nb2, na2)
    if bucket1 == bucket2:
        one, two = evaluate(first, loaded, as_of), evaluate(second, loaded, as_of)
        assert (one.status, one.rule_id) == (two.status, two.rule_id)


def test_cli_bulk_exit_codes_and_refusals(bundle: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["certs", "--bulk", "--as-of", "2026-11-22", "--format", "jsonl",
                                str(bundle)])
    assert done.exit_code == 1  # the corpus holds disallowed keys
    assert '"record":"bulk-summary"' in done.output
    done = runner.invoke(main, ["certs", "--bulk", "--format", "html", str(bundle)])
    assert done.exit_code == 2
    waivers = tmp_path / "w.toml"
    waivers.write_text("[[waiver]]\nid = 'W-1'\n")  # no owner, reason, expiry or match
    done = runner.invoke(main, ["certs", "--bulk", "--waivers", str(waivers), str(bundle)])
    assert done.exit_code == 2
    assert "waiver" in done.output
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    done = runner.invoke(main, ["certs", "--bulk", str(garbage)])
    assert done.exit_code == 2
    done = runner.invoke(main, ["certs", "--bulk", "--fail-on", "disallowed", "--as-of",
                                "2026-11-22", str(CERTS / "leaf-ec-p256.pem")])
    assert done.exit_code == 0
    assert "certificates by worst status" in done.output


def test_cli_takes_the_bulk_path_by_itself_for_large_inputs(
        bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["certs", "--format", "jsonl", str(bundle)])
    assert '"record":"bulk-summary"' not in done.output
    monkeypatch.setattr(bulk_cli, "AUTO_BULK_BYTES", bundle.stat().st_size)
    done = runner.invoke(main, ["certs", "--format", "jsonl", str(bundle)])
    assert '"record":"bulk-summary"' in done.output


def test_progress_only_when_asked(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_bulk([str(bundle)], progress=False)
    assert capsys.readouterr().err == ""
    run_bulk([str(bundle)], progress=True)
    assert "certificates" in capsys.readouterr().err


def test_text_around_blocks_is_read_as_the_normal_path_reads_it(tmp_path: Path,
                                                                 ders: list[bytes]) -> None:
    """SSH keys quoted between PEM blocks are items of the normal path, after the blocks."""
    key_line = (ROOT / "tests" / "corpus" / "ssh" / "id_ed25519.pub").read_text().strip()
    path = tmp_path / "mixed.txt"
    path.write_bytes(pem_text(ders[0]) + b"# deploy key: " + key_line.encode() + b"\n" +
                     pem_text(ders[1]))
    report = scan([str(path)], load_policy(None), DAY)
    records, result = run_bulk([str(path)])
    assert [(r["record"], r["index"]) for r in records if "index" in r] == \
        [("certificate", 0), ("certificate", 1), ("asset", 2)]
    assert [a.id for a in report.assets] == [r["id"] for r in records if "index" in r]
    assert result.tally.other_assets == 1


def test_error_lines_are_the_reports_error_records() -> None:
    """The bulk path writes error lines from a template; they are the report's records."""
    import dataclasses

    from cryptocheck.report.jsonl import error_record
    from cryptocheck.report.wire import dumps_line

    reader = bulk_reader.Reader(load_policy(None), DAY, SourceOptions())
    cases = [RunError(Location(path='d/"é".pem', index=3, line=7), "malformed-pem",
                      "PEM block 'CERTIFICATE' body is not base64"),
             RunError(Location(path="x.pem", index=None, line=None), "empty-file", "empty"),
             RunError(Location(path="y.pem", index=0, offset=12), "garbage", "tab\there")]
    for error in cases:
        for offset in (None, 99):
            expected = error
            if offset is not None and error.location.offset is None:
                expected = dataclasses.replace(
                    error, location=dataclasses.replace(error.location, offset=offset))
            assert reader.error_line(error, offset) == \
                (dumps_line(error_record(expected)) + "\n").encode()


@pytest.mark.parametrize("junk", [False, True])
def test_one_large_bundle_is_split_among_jobs(tmp_path: Path, ders: list[bytes],
                                             monkeypatch: pytest.MonkeyPatch,
                                             junk: bool) -> None:
    """A bundle too large for the normal path is cut into ranges read by several jobs; the
    output is the one-job output. With binary junk between two blocks (an item no BEGIN line
    announces) the range's count differs and the rest of the file is read again in order."""
    from cryptocheck.bulk import jobs as bulk_jobs

    parts = []
    for number in range(400):
        parts.append(pem_text(ders[number % len(ders)]))
        if number == 150:
            parts.append(b"-----BEGIN CERTIFICATE-----\nbroken!\n-----END CERTIFICATE-----\n")
        if number == 260 and junk:
            parts.append(b"\x00\x01\x02 junk between blocks\n")
    path = tmp_path / "big.pem"
    path.write_bytes(b"".join(parts))
    options = SourceOptions(max_file_size=10_000)
    one, _ = run_bulk([str(path)], jobs=1, dedup=False, source_options=options)
    monkeypatch.setattr(bulk_jobs, "SPLIT_BYTES", 40_000)
    assert len(bulk_jobs.split_points(str(path), path.stat().st_size)) > 5
    reread = []
    read_rest = bulk_jobs.read_rest

    def spy(*args: Any) -> None:
        reread.append(args[1])
        read_rest(*args)

    monkeypatch.setattr(bulk_jobs, "read_rest", spy)
    two, result = run_bulk([str(path)], jobs=2, dedup=False, source_options=options)
    assert len(reread) == junk
    keep = ("certificate", "error", "class")
    assert [r for r in two if r["record"] in keep] == [r for r in one if r["record"] in keep]
    assert result.tally.files_read == 1
    assert len(of_kind(two, "error")) == 1 + junk


def test_passwords_open_encrypted_keys_in_bundles(tmp_path: Path, ders: list[bytes]) -> None:
    """An encrypted key between certificates is opened with the given passwords, as the
    normal path opens it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"))
    path = tmp_path / "mixed.pem"
    path.write_bytes(pem_text(ders[0]) + key + pem_text(ders[1]))
    options = SourceOptions(passwords=("s3cret",))
    report = scan([str(path)], load_policy(None), DAY, options=options)
    records, _ = run_bulk([str(path)], source_options=options)
    assets = {r["id"]: r for r in records if r["record"] == "asset"}
    expected = [a for a in report.assets if a.type == "private-key"]
    assert len(expected) == 1 and expected[0].id in assets
    assert assets[expected[0].id]["key_size"] == expected[0].key_size == 256
    assert "s3cret" not in "".join(json.dumps(r) for r in records)


def test_cli_bulk_with_waivers(bundle: Path, tmp_path: Path) -> None:
    """--waivers on the bulk path: what they cover no longer fails the run, and the summary
    line counts it."""
    runner = CliRunner()
    args = ["certs", "--bulk", "--as-of", "2026-11-22", "--format", "jsonl", str(bundle)]
    assert runner.invoke(main, args).exit_code == 1
    waivers = tmp_path / "w.toml"
    waivers.write_text('[[waiver]]\nid = "W-ALL"\nowner = "pki"\nreason = "migration"\n'
                       'expires = 2027-06-30\n[waiver.match]\nrule = "*"\n')
    done = runner.invoke(main, [*args, "--waivers", str(waivers)])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output.splitlines()[-1])
    assert summary["record"] == "summary" and summary["summary"]["waived"] > 0
    assert summary["waivers"][0]["id"] == "W-ALL"
    assert '"waiver":"W-ALL"' in done.output
    text = runner.invoke(main, ["certs", "--bulk", "--as-of", "2026-11-22", "--waivers",
                                str(waivers), str(bundle)])
    assert text.exit_code == 0
    assert f"waived findings: {summary['summary']['waived']:,}" in text.output
