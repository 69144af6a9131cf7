"""report diff: two scans of a changed corpus give exactly the added and removed findings,
matched by stable fingerprints, in text, JSON and HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_report_load import CORPUS

from cryptocheck.cli import main

KEEP = ("leaf-ec-p256.pem", "leaf-ec-p192.pem", "leaf-lifetime-100d-2027.pem")
REMOVED = "leaf-rsa-2048-sig-sha1.pem"
ADDED = "leaf-rsa-1024.pem"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _scan(tree: Path, out: Path) -> dict[str, Any]:
    result = run("certs", str(tree), "--as-of", "2026-06-01", "--format", "json", "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any],
                                                                  dict[str, Any]]:
    root = tmp_path_factory.mktemp("diff")
    tree = root / "estate"
    tree.mkdir()
    for name in (*KEEP, REMOVED):
        shutil.copy(CORPUS / "certs" / name, tree / name)
    old = _scan(tree, root / "old.json")
    (tree / REMOVED).unlink()
    shutil.copy(CORPUS / "certs" / ADDED, tree / ADDED)
    new = _scan(tree, root / "new.json")
    return root / "old.json", root / "new.json", old, new


def _notable(document: dict[str, Any], file_name: str) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["usage"]["context"], Path(f["location"]["path"]).name)
            for f in document["findings"]
            if f["status"] != "approved" and Path(f["location"]["path"]).name == file_name}


def test_json_diff_is_exactly_the_added_and_removed_findings(two_scans: Any) -> None:
    old_path, new_path, old, new = two_scans
    expected_added = _notable(new, ADDED)
    expected_removed = _notable(old, REMOVED)
    assert expected_added and expected_removed  # the corpus change does change findings
    result = run("report", "diff", str(old_path), str(new_path), "--format", "json")
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)
    by_key = {(f["asset"], f["rule"]): f for f in new["findings"]}
    added = {(f["rule"], by_key[(f["asset"], f["rule"])]["usage"]["context"],
              Path(f["location"].split(":")[0].split("#")[0]).name) for f in diff["added"]}
    assert added == expected_added
    assert len(diff["added"]) == len(expected_added)
    assert len(diff["removed"]) == len(expected_removed)
    assert {Path(f["location"].split(":")[0].split("#")[0]).name for f in diff["removed"]} == {
        REMOVED}
    kept = sum(len(_notable(old, name)) for name in KEEP)
    assert diff["summary"]["unchanged"] == len(diff["unchanged"]) == kept


def test_same_report_twice_has_nothing_new_or_fixed(two_scans: Any) -> None:
    _, new_path, _, _ = two_scans
    result = run("report", "diff", str(new_path), str(new_path), "--format", "json",
                 "--fail-on-new")
    assert result.exit_code == 0
    diff = json.loads(result.stdout)
    assert diff["added"] == [] and diff["removed"] == []


def test_text_and_html_forms(two_scans: Any, tmp_path: Path) -> None:
    old_path, new_path, _, _ = two_scans
    result = run("report", "diff", str(old_path), str(new_path), "--fail-on-new")
    assert result.exit_code == 1  # new findings
    assert result.stdout.startswith("cryptocheck diff: ")
    assert f"{ADDED}" in result.stdout and f"{REMOVED}" in result.stdout
    assert "\nNew:\n+ " in result.stdout and "\nFixed:\n- " in result.stdout
    out = tmp_path / "diff.html"
    result = run("report", "diff", str(old_path), str(new_path), "--format", "html", "-o",
                 str(out))
    assert result.exit_code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h2>New findings</h2>" in page
    assert ADDED in page and REMOVED in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from anywhere
