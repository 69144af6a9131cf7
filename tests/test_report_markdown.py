"""markdown: a PR comment with the verdict, counts, findings by rule with citations,
waivers and errors; hostile input cannot add markup."""

from __future__ import annotations

from collections import Counter

import pytest
from test_report_load import mixed_report

from cryptocheck.model import Status
from cryptocheck.report import markdown
from cryptocheck.report.markdown import code, md, render_markdown
from cryptocheck.report.sample import empty_report, sample_report


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_verdict_counts_and_sections() -> None:
    report = mixed_report()
    text = render_markdown(report)
    assert text.startswith("## cryptocheck mixed: **FAIL**")
    counts = Counter(f.status.value for f in report.findings)
    for status in ("disallowed", "unknown", "deprecated", "legacy", "approved"):
        assert f"| {status} | {counts.get(status, 0)} |" in text
    assert "### Findings not approved" in text and "### Waivers applied" in text
    assert "W-42" in text and "pki-team" in text and "2026-12-31" in text
    assert "https://doi.org/10.6028/NIST.SP.800-131Ar2" in text


def test_pass_when_threshold_not_reached() -> None:
    report = sample_report()
    assert "**FAIL**" in render_markdown(report, fail_on=Status.DISALLOWED)
    assert "## cryptocheck config: **PASS**" in render_markdown(empty_report())


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_rows_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    report = mixed_report()
    notable = sum(1 for f in report.findings if f.status is not Status.APPROVED)
    monkeypatch.setattr(markdown, "MAX_ROWS", 3)
    text = render_markdown(report)
    assert f"…and {notable - 3} more" in text


def test_hostile_text_is_inert() -> None:
    assert md("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>"
    assert md("a|b\nc") == "a\\|b c"
    assert md("@everyone [x](http://e)") == "\\@everyone \\[x\\](http://e)"
    assert "\u202e" not in md("evil\u202eFAKE")
    assert code("a`b|c_d") == "a'b/c_d"
    text = render_markdown(sample_report(), fail_on=Status.LEGACY)
    assert "\x1b" not in text and "<img" not in text
