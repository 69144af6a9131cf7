"""The output options every scanning command shares (--format, --output FILE and FMT=FILE,
--csv-assets) and the ``report`` command's usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from test_report_load import CORPUS, config_setting, mixed_report, tls_endpoint, write_mixed

from cryptocheck.cli import main
from cryptocheck.cli.common import parse_outputs, planned_outputs

CERTS = str(CORPUS / "certs" / "leaf-ec-p256.pem")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_parse_outputs() -> None:
    assert parse_outputs(["r.txt", "json=r.json", "csv=a=b.csv"]) == (
        "r.txt", (("json", "r.json"), ("csv", "a=b.csv")))
    assert parse_outputs(["notaformat=x.txt"]) == ("notaformat=x.txt", ())
    with pytest.raises(click.BadParameter, match="one plain"):
        parse_outputs(["a.txt", "b.txt"])
    with pytest.raises(click.BadParameter, match="twice"):
        parse_outputs(["json=r.out", "csv=r.out"])
    with pytest.raises(click.BadParameter, match="names no file"):
        parse_outputs(["json="])


def test_planned_outputs() -> None:
    # Only FMT=FILE given and no --format: nothing goes to standard output.
    assert planned_outputs("text", None, (("json", "r.json"),), False) == [("json", "r.json")]
    # --format given too: it goes to standard output as well.
    assert planned_outputs("csv", None, (("json", "r.json"),), True) == [
        ("csv", None), ("json", "r.json")]
    assert planned_outputs("text", None, (), False) == [("text", None)]
    with pytest.raises(click.BadParameter, match="standard output"):
        planned_outputs("text", None, (("json", "-"),), True)


def test_one_scan_writes_several_formats(tmp_path: Path) -> None:
    out = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "csv", "junit", "markdown", "cbom")}
    args = ["certs", str(CORPUS / "certs"), "--as-of", "2026-06-01", "--format", "text",
            "-o", str(tmp_path / "r.txt")]
    for fmt, path in out.items():
        args += ["--output", f"{fmt}={path}"]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # everything went to files
    assert (tmp_path / "r.txt").read_text().startswith("cryptocheck ")
    document = json.loads(out["json"].read_text())
    assert document["summary"]["assets"] > 0
    for path in out.values():
        assert path.stat().st_size > 0
    # Every format saw the same run: the cbom's assets are the json's.
    bom = json.loads(out["cbom"].read_text())
    refs = {c["bom-ref"] for c in bom["components"]}
    assert {a["id"] for a in document["assets"]} <= refs


def test_format_to_stdout_and_others_to_files(tmp_path: Path) -> None:
    result = run("certs", CERTS, "--as-of", "2026-06-01", "--format", "markdown",
                 "-o", f"json={tmp_path / 'r.json'}")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## cryptocheck certs: **PASS**")
    assert json.loads((tmp_path / "r.json").read_text())["command"] == "certs"


def test_csv_assets_flag_on_a_scan(tmp_path: Path) -> None:
    result = run("certs", str(CORPUS / "certs"), "--format", "csv", "--csv-assets",
                 "-o", str(tmp_path / "a.csv"), "-o", f"json={tmp_path / 'r.json'}")
    assert result.exit_code == 1
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert rows[0].startswith("asset,asset_type")
    assert len(rows) - 1 == json.loads((tmp_path / "r.json").read_text())["summary"]["assets"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("certs", CERTS, "-o", "a.txt", "-o", "b.txt").exit_code == 2
    assert run("certs", CERTS, "--format", "json", "-o", "csv=-").exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result = run("report", str(bad), "--format", "text")
    assert result.exit_code == 2 and "not a cryptocheck report" in result.stderr
    result = run("report", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "cannot read" in result.stderr
    assert run("report", "--help").exit_code == 0


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_report_renders_text_by_default(tmp_path: Path) -> None:
    saved = write_mixed(tmp_path / "m.json")
    result = run("report", str(saved))
    assert result.exit_code == 0, result.output
    report = mixed_report()
    assert "nhs-acagpg" in result.stdout
    assert str(tls_endpoint(report).location) in result.stdout
    # the location column is cut to the terminal's width, so look for the setting itself
    assert config_setting(report).directive in result.stdout
