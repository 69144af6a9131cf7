"""csv: one row per finding (same counts as the JSON report), --csv-assets one row per asset,
read back with Python's csv module; cells that a spreadsheet would run are defused."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_load import CORPUS, mixed_report, tls_endpoint, write_mixed

from cryptocheck.cli import main
from cryptocheck.model import Status
from cryptocheck.report.csv_report import ASSET_COLUMNS, FINDING_COLUMNS, render_csv, safe_cell
from cryptocheck.report.sample import sample_report
from cryptocheck.report.wire import dumps_report


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_findings_round_trip_with_the_json_counts() -> None:
    report = mixed_report()
    document = json.loads(dumps_report(report))
    rows = _rows(render_csv(report))
    assert len(rows) == len(document["findings"])
    assert list(rows[0]) == list(FINDING_COLUMNS)
    by_status = Counter(r["status"] for r in rows)
    assert {s: by_status.get(s, 0) for s in document["summary"]["findings_by_status"]} == \
        document["summary"]["findings_by_status"]
    assert sum(r["waived"] == "true" for r in rows) == document["summary"]["waived"]
    assert [(r["asset"], r["rule"]) for r in rows] == \
        [(f["asset"], f["rule"]) for f in document["findings"]]
    tls = [r for r in rows if r["asset_type"] == "tls-endpoint"]
    assert {r["algorithm"] for r in tls} >= {"TLSv1.0", "TLS_RSA_WITH_AES_128_CBC_SHA"}
    port = str(tls_endpoint(report).location.port)
    assert all(r["host"] == "127.0.0.1" and r["port"] == port for r in tls)
    config = [r for r in rows if r["asset_type"] == "config-setting"]
    assert config and all(r["path"] and r["line"] for r in config)


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_assets_round_trip_one_row_per_asset() -> None:
    report = mixed_report()
    document = json.loads(dumps_report(report))
    rows = _rows(render_csv(report, per_asset=True))
    assert list(rows[0]) == list(ASSET_COLUMNS)
    assert [r["asset"] for r in rows] == [a["id"] for a in document["assets"]]
    total = Counter[str]()
    for row in rows:
        for status in document["summary"]["findings_by_status"]:
            total[status] += int(row[f"findings_{status}"])
    assert dict(total) == document["summary"]["findings_by_status"]
    failing = sum(int(r["failing"]) for r in rows)
    assert failing == sum(1 for f in report.findings
                          if not f.waived and f.status is Status.DISALLOWED)


def test_spreadsheet_formulas_are_defused() -> None:
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell(-1) == -1 and safe_cell(None) == "" and safe_cell(True) == "true"
    rows = _rows(render_csv(sample_report()))
    hostile = [r for r in rows if r["asset"] == "cert-3"]
    assert hostile and not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_cli_writes_csv_for_findings_and_assets(tmp_path: Path) -> None:
    saved = write_mixed(tmp_path / "mixed.json")
    for flag, expected in (([], len(mixed_report().findings)),
                           (["--csv-assets"], len(mixed_report().assets))):
        out = tmp_path / "out.csv"
        result = CliRunner().invoke(main, ["report", str(saved), "--format", "csv", "-o",
                                           str(out), *flag])
        assert result.exit_code == 0, result.output
        assert len(_rows(out.read_text(encoding="utf-8"))) == expected


def test_scan_csv_counts_match_its_json(tmp_path: Path) -> None:
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["certs", str(CORPUS / "certs"), "--as-of", "2026-06-01",
                                       "-o", f"json={out_json}", "-o", f"csv={out_csv}"])
    assert result.exit_code == 1, result.output  # the corpus has disallowed keys
    document = json.loads(out_json.read_text(encoding="utf-8"))
    rows = _rows(out_csv.read_text(encoding="utf-8"))
    counts = Counter(r["status"] for r in rows)
    assert {s: counts.get(s, 0) for s in document["summary"]["findings_by_status"]} == \
        document["summary"]["findings_by_status"]
