"""Real records through the reporters: scan the fixture corpus and hold every format to the schema.

The other report tests use hand-built records; this one catches what only real sources
produce (digest spelling, OIDs, names, times) that the schema does not allow. It uses a
small inline policy so that it does not depend on the shipped policies.
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from cryptocheck.report import make_reporter
from cryptocheck.report.wire import jsonl_record_schema, report_schema

CORPUS = Path(__file__).parent / "corpus"

POLICY = """
[policy]
id = "report-test"
title = "policy for the report tests"
version = "1"

[[rule]]
id = "RSA-SMALL"
summary = "RSA under 2048 bits is disallowed"
status = "disallowed"
contexts = ["*public-key"]
[rule.match]
algorithm = ["RSA", "RSA-PSS"]
key_size = { lt = 2048 }
[[rule.citation]]
document = "NIST SP 800-131A Rev. 2"
section = "§3"
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not CORPUS.is_dir():
        pytest.skip("tests/corpus not present")
    from cryptocheck import scan

    policy = tmp_path_factory.mktemp("policy") / "report-test.toml"
    policy.write_text(POLICY, encoding="utf-8")
    streams = {fmt: StringIO() for fmt in ("json", "jsonl", "text")}
    reporters = [make_reporter(fmt, stream) for fmt, stream in streams.items()]
    scan([str(CORPUS)], policy, date(2025, 6, 1), reporters=reporters)
    return {fmt: stream.getvalue() for fmt, stream in streams.items()}


def _problems(schema: dict[str, object], document: object) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = []
    for error in validator.iter_errors(document):
        causes = error.context or [error]
        problems += [f"{list(c.absolute_path)}: {c.message[:200]}" for c in causes]
    return problems


def test_json_of_a_real_scan_validates(rendered: dict[str, str]) -> None:
    document = json.loads(rendered["json"])
    assert document["summary"]["assets"] > 0
    assert _problems(report_schema(), document) == []


def test_jsonl_of_a_real_scan_validates_and_matches_json(rendered: dict[str, str]) -> None:
    lines = [json.loads(line) for line in rendered["jsonl"].splitlines()]
    schema = jsonl_record_schema()
    for line in lines:
        assert _problems(schema, line) == [], line.get("id")
    document = json.loads(rendered["json"])
    assert lines[-1]["summary"] == document["summary"]
    assert sum(1 for r in lines if r["record"] == "asset") == document["summary"]["assets"]
    assert sum(1 for r in lines if r["record"] == "error") == document["summary"]["errors"]


def test_text_of_a_real_scan_ends_with_the_counts(rendered: dict[str, str]) -> None:
    document = json.loads(rendered["json"])
    last = rendered["text"].splitlines()[-1]
    assert last.startswith(f"{document['summary']['assets']} assets")
    assert "\x1b" not in rendered["text"]
