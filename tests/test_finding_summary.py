"""A finding carries its deciding rule's one-line summary: from the engine, through the JSON
report and back, into SARIF rule descriptors (which no longer take the message apart)."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import jsonschema

from cryptocheck import scan
from cryptocheck.model import Report
from cryptocheck.policy import load_policy
from cryptocheck.report import make_reporter, replay
from cryptocheck.report.load import load_report
from cryptocheck.report.wire import dumps_report, report_schema

CORPUS = Path(__file__).resolve().parent / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config"
AS_OF = date(2026, 11, 22)


def _report(paths: list[str]) -> Report:
    return scan(paths, "nhs-acagpg", AS_OF)


def _some_paths() -> list[str]:
    certs = sorted((CORPUS / "certs").glob("*"))[:40] if (CORPUS / "certs").is_dir() else []
    return [str(p) for p in certs] + [str(FIXTURES / "nginx")]


def test_every_finding_carries_its_rules_summary() -> None:
    policy = load_policy("nhs-acagpg")
    report = _report(_some_paths())
    assert report.findings
    for finding in report.findings:
        rule = policy.rule(finding.rule)
        expected = rule.summary if rule else "no rule of the policy applies"
        assert finding.summary == expected, finding.rule
        # The message still tells people the same thing, ending with the summary.
        assert finding.message.endswith(f": {expected}")


def test_summary_survives_the_json_round_trip_and_validates() -> None:
    report = _report(_some_paths())
    text = dumps_report(report)
    document = json.loads(text)
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    assert all("summary" in f for f in document["findings"])
    loaded = load_report(text)
    assert [f.summary for f in loaded.findings] == [f.summary for f in report.findings]
    assert dumps_report(loaded) == text


def test_a_report_written_before_findings_had_summaries_still_loads() -> None:
    document = json.loads(dumps_report(_report(_some_paths())))
    for finding in document["findings"]:
        del finding["summary"]
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    text = json.dumps(document)
    loaded = load_report(text)
    assert all(f.summary is None for f in loaded.findings)


def test_sarif_rule_descriptions_are_the_summary_not_a_parse_of_the_message() -> None:
    report = _report(_some_paths())
    # A message that no longer has the "<usage> (<context>): <summary>" shape: SARIF must
    # still describe each rule by its summary.
    reworded = dataclasses.replace(report, findings=tuple(
        dataclasses.replace(f, message=f"reworded: {f.rule}") for f in report.findings))
    out = io.StringIO()
    replay(reworded, make_reporter("sarif", out))
    rules = json.loads(out.getvalue())["runs"][0]["tool"]["driver"]["rules"]
    by_rule = {f.rule: f.summary for f in report.findings}
    assert rules
    for rule in rules:
        assert rule["shortDescription"]["text"] == by_rule[rule["id"]]
        assert rule["fullDescription"]["text"] == by_rule[rule["id"]]
