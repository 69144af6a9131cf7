"""The jsonl reporter: a line per asset and error as they arrive, flushed, then a summary."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from cryptocheck.report import header_from_report, make_reporter, replay
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import SCHEMA_ID, asset_to_dict, finding_to_dict


class RecordingStream(StringIO):
    """A stream that remembers what had been written each time it was flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        super().flush()
        self.flushed.append(self.getvalue())


def lines_of(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_record_kinds_in_order() -> None:
    stream = StringIO()
    replay(sample_report(), make_reporter("jsonl", stream))
    records = lines_of(stream.getvalue())
    assert [r["record"] for r in records] == ["asset"] * 5 + ["error"] * 2 + ["summary"]


def test_asset_line_is_the_asset_with_its_findings() -> None:
    report = sample_report()
    stream = StringIO()
    replay(report, make_reporter("jsonl", stream))
    first = lines_of(stream.getvalue())[0]
    keys = list(first)
    assert keys[0] == "record" and keys[-1] == "findings"
    fields = {k: v for k, v in first.items() if k not in ("record", "findings")}
    assert fields == asset_to_dict(report.assets[0])
    assert first["findings"] == [finding_to_dict(f) for f in report.findings[:3]]


def test_asset_without_findings_has_empty_list() -> None:
    report = sample_report()
    stream = StringIO()
    reporter = make_reporter("jsonl", stream)
    reporter.begin(header_from_report(report))
    reporter.item(report.assets[0], ())
    assert lines_of(stream.getvalue())[0]["findings"] == []


def test_lines_are_written_and_flushed_as_items_arrive() -> None:
    report = sample_report()
    stream = RecordingStream()
    reporter = make_reporter("jsonl", stream)
    reporter.begin(header_from_report(report))
    assert stream.getvalue() == ""
    reporter.item(report.assets[0], report.findings[:3])
    assert stream.flushed[-1].count("\n") == 1
    reporter.error(report.errors[0])
    assert stream.flushed[-1].count("\n") == 2
    reporter.end(report)
    assert stream.flushed[-1].count("\n") == 3
    assert '"record":"summary"' in stream.flushed[-1].splitlines()[-1]


def test_summary_line() -> None:
    stream = StringIO()
    replay(sample_report(), make_reporter("jsonl", stream))
    summary = lines_of(stream.getvalue())[-1]
    assert list(summary) == [
        "record", "schema", "schema_version", "tool", "command", "targets", "policy", "started",
        "finished", "summary", "chains", "waivers",
    ]
    assert summary["schema"] == SCHEMA_ID
    assert summary["summary"]["findings_by_status"]["disallowed"] == 2
    assert [c["id"] for c in summary["chains"]] == ["chain-1", "chain-2"]
    assert [w["id"] for w in summary["waivers"]] == ["W-1", "W-0"]


def test_each_line_is_one_line_even_with_hostile_text() -> None:
    stream = StringIO()
    replay(sample_report(), make_reporter("jsonl", stream))
    text = stream.getvalue()
    assert len(text.splitlines()) == 8  # the newline in cert-3's subject is escaped
    assert "\x1b" not in text


def test_deterministic() -> None:
    outputs = []
    for _ in range(2):
        stream = StringIO()
        replay(sample_report(), make_reporter("jsonl", stream))
        outputs.append(stream.getvalue())
    assert outputs[0] == outputs[1]


def test_empty_run_is_just_a_summary() -> None:
    stream = StringIO()
    replay(empty_report(), make_reporter("jsonl", stream))
    records = lines_of(stream.getvalue())
    assert [r["record"] for r in records] == ["summary"]
    assert records[0]["summary"]["worst_status"] is None
