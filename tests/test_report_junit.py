"""junit: valid against the Jenkins xUnit plugin's JUnit schema (tests/fixtures/reports/
SOURCES.md); one test per asset and rule, failures exactly at or above --fail-on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from test_report_load import mixed_report, write_mixed

from cryptocheck.cli import main
from cryptocheck.model import Location, RunError, Status
from cryptocheck.report.junit import render_junit, xml_text
from cryptocheck.report.sample import empty_report, sample_report

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "fixtures/reports/junit-10.xsd")))


def _parse(text: str) -> etree._Element:
    root = etree.fromstring(text.encode("utf-8"))
    XSD.assertValid(root)
    return root


@pytest.mark.parametrize("build", [pytest.param(mixed_report, marks=pytest.mark.tls_server), sample_report, empty_report])
def test_valid_against_the_junit_schema(build: object) -> None:
    _parse(render_junit(build()))  # type: ignore[operator]


def test_schema_rejects_what_it_should() -> None:
    """The validator is live: a testsuite without its required counts is refused."""
    bad = etree.fromstring(b'<testsuites><testsuite name="x"/></testsuites>')
    assert not XSD.validate(bad)


@pytest.mark.parametrize("fail_on", [Status.DISALLOWED, Status.DEPRECATED, Status.LEGACY])
@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_one_case_per_asset_and_rule_and_failures_at_threshold(fail_on: Status) -> None:
    report = mixed_report()
    root = _parse(render_junit(report, fail_on=fail_on))
    groups: dict[tuple[str, str], list] = {}
    for f in report.findings:
        groups.setdefault((f.asset_id, f.rule), []).append(f)
    bare = {a.id for a in report.assets} - {f.asset_id for f in report.findings}
    cases = root.findall(".//testcase")
    assert len(cases) == len(groups) + len(bare) + len(report.errors)
    expected_failures = sum(1 for fs in groups.values()
                            if any(not f.waived and f.status.rank >= fail_on.rank for f in fs))
    assert len(root.findall(".//testcase/failure")) == expected_failures
    assert int(root.get("failures")) == expected_failures
    assert int(root.get("tests")) == len(cases)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    assert root.find(".//testcase/skipped") is not None  # the waived finding
    kinds = {s.get("name") for s in root.findall("testsuite")}
    assert {"certificate", "tls-endpoint", "config-setting"} <= kinds


def test_hostile_text_stays_well_formed() -> None:
    assert xml_text("a\x1bb\x00c\ud800") == "a\\x1bb\\x00c\\ud800"
    report = sample_report()
    hostile = RunError(location=Location(path="evil\x1b[31m.pem"), reason="garbage",
                       message="bytes \x00\x07 and a lone \udcff surrogate")
    text = render_junit(dataclasses.replace(report, errors=(*report.errors, hostile)),
                        fail_on=Status.LEGACY)
    root = _parse(text)
    assert "\x1b" not in text and "\x00" not in text
    errors = root.findall(".//testcase/error")
    assert len(errors) == 3 and "\\x07" in errors[-1].get("message")


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_cli_junit_from_saved_report(tmp_path: Path) -> None:
    saved = write_mixed(tmp_path / "m.json")
    out = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "junit", "-o", str(out),
                                       "--fail-on", "deprecated"])
    assert result.exit_code == 0, result.output
    root = _parse(out.read_text(encoding="utf-8"))
    prop = root.find(".//property[@name='fail_on']")
    assert prop is not None and prop.get("value") == "deprecated"
