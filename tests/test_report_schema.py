"""The JSON Schema: it is valid, the reporters' output satisfies it, and it is strict."""

from __future__ import annotations

import copy
import json
from io import StringIO
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from cryptocheck.report import make_reporter, replay
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import (
    SCHEMA_ID,
    jsonl_record_schema,
    report_schema,
    report_to_dict,
)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def errors_of(schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(instance)]


def render(fmt: str, report: Any) -> str:
    stream = StringIO()
    replay(report, make_reporter(fmt, stream))
    return stream.getvalue()


def test_schema_is_valid_draft_2020_12() -> None:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID


def test_format_checker_checks_times() -> None:
    # guard: the test environment must really check date-time, or the tests below prove less
    assert "date-time" in FormatChecker().checkers and "date" in FormatChecker().checkers


@pytest.mark.parametrize("make", [sample_report, empty_report])
def test_json_report_validates(make: Any) -> None:
    document = json.loads(render("json", make()))
    assert errors_of(report_schema(), document) == []


@pytest.mark.parametrize("make", [sample_report, empty_report])
def test_every_jsonl_line_validates(make: Any) -> None:
    lines = render("jsonl", make()).splitlines()
    schema = jsonl_record_schema()
    for line in lines:
        assert errors_of(schema, json.loads(line)) == [], line


def test_report_dict_validates_without_a_json_round_trip() -> None:
    assert errors_of(report_schema(), report_to_dict(sample_report())) == []


def _mutated(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    document = copy.deepcopy(report_to_dict(sample_report()))
    target = document
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["assets", 0, "surprise"], 1),  # extra key on a certificate
        (["assets", 3, "private_key"], "MII..."),  # extra key on a key
        (["findings", 0, "status"], "ok"),  # not a status
        (["findings", 0, "severity"], "urgent"),  # not a severity
        (["assets", 0, "type"], "cert"),  # not an asset type
        (["assets", 0, "not_after"], "2030-01-01T12:30:15+00:00"),  # not Z
        (["assets", 0, "not_after"], "2030-02-30T00:00:00Z"),  # not a date (format checker)
        (["assets", 0, "sha256"], "AB" * 32),  # upper-case hex
        (["assets", 0, "key_oid"], "rsaEncryption"),  # not an OID
        (["findings", 0, "location", "port"], 70000),
        (["findings", 0, "usage", "attributes", "nested"], {"a": 1}),
        (["findings", 0, "waived"], True),  # waived without a waiver
        (["findings", 1, "waiver", "expires"], "2026-01-31T00:00:00Z"),
        (["findings", 0, "citation", 0, "confirmation"], "confirmed"),
        (["summary", "findings_by_status", "ok"], 1),
        (["summary", "worst_status"], "fine"),
        (["errors", 0, "reason"], "Malformed DER"),
        (["policy", "as_of"], "1 June 2025"),
        (["schema_version"], "2.0"),
        (["tool", "name"], "other"),
    ],
)
def test_schema_rejects(path: list[Any], value: Any) -> None:
    assert errors_of(report_schema(), _mutated(path, value)) != []


@pytest.mark.parametrize(
    "path",
    [
        ["assets", 0, "curve"],  # null values are written, not left out
        ["assets", 3, "comment"],
        ["findings", 0, "waiver"],
        ["findings", 0, "location", "host"],
        ["summary", "findings_by_status", "legacy"],
        ["chains"],
    ],
)
def test_schema_requires_every_key(path: list[Any]) -> None:
    assert errors_of(report_schema(), _mutated(path, None, delete=True)) != []


def test_jsonl_schema_rejects_strays() -> None:
    lines = [json.loads(line) for line in render("jsonl", sample_report()).splitlines()]
    schema = jsonl_record_schema()
    asset_line, error_line, summary_line = lines[0], lines[-2], lines[-1]
    assert errors_of(schema, asset_line | {"extra": 1}) != []
    assert errors_of(schema, {k: v for k, v in asset_line.items() if k != "findings"}) != []
    assert errors_of(schema, error_line | {"extra": 1}) != []
    assert errors_of(schema, asset_line | {"record": "error"}) != []
    assert errors_of(schema, summary_line | {"assets": []}) != []
    assert errors_of(schema, {"record": "header"}) != []
