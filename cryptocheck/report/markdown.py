"""The ``markdown`` format: a short summary for a pull-request comment.

The verdict at ``--fail-on`` first, then the counts by status, the findings that are not
approved grouped by rule (each rule with its citation), the waivers in force and the inputs
that could not be read, and a footer naming the policy, its version and the as-of date.
Tables are capped (``MAX_ROWS``) so that a comment stays within what code hosts accept; the
full list is in the other formats. Everything that came from an input is escaped so that a
hostile subject cannot add markup, links or mentions to the comment.
"""

from __future__ import annotations

import re
from collections import Counter

from cryptocheck.model import Finding, Report, Status
from cryptocheck.report import CollectingReporter, failing_findings, verdict
from cryptocheck.report.wire import STATUS_ORDER, iso_date, utc_timestamp

MAX_ROWS = 50
_WORST_FIRST = tuple(reversed(STATUS_ORDER))
_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~@])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def md(text: object) -> str:
    """``text`` as inert Markdown inside a table cell: controls and bidi overrides shown as
    escapes, newlines as spaces, every markup character backslash-escaped."""
    value = str(text) if text is not None else ""
    value = _CONTROL.sub(lambda m: " " if m.group() in "\n\r\t" else f"\\u{ord(m.group()):04x}",
                         value)
    return _SPECIAL.sub(r"\\\1", value)


def code(text: object) -> str:
    """``text`` as the inside of a Markdown code span: backslash escapes do not work there,
    so backticks and pipes (which would end the span or the table cell) are replaced."""
    value = _CONTROL.sub(" ", str(text) if text is not None else "")
    return value.replace("`", "'").replace("|", "/")


def _citation(finding: Finding) -> str:
    cites = []
    for c in finding.citations:
        text = md(str(c))
        cites.append(f"[{text}](<{c.url}>)" if c.url and c.url.startswith("https://") else text)
    return "; ".join(cites) or "no citation (rule unmatched)"


def render_markdown(report: Report, *, fail_on: Status = Status.DISALLOWED) -> str:
    """The report as GitHub-flavoured Markdown."""
    result = verdict(report, fail_on)
    failing = failing_findings(report.findings, fail_on)
    lines = [f"## cryptocheck {md(report.command)}: **{result}**", ""]
    if result == "FAIL":
        lines.append(f"{len(failing)} finding(s) not waived at or above `{fail_on.value}`.")
    elif result == "ERROR":
        lines.append("No input could be read.")
    else:
        lines.append(f"Nothing not waived at or above `{fail_on.value}`.")
    counts = Counter(f.status.value for f in report.findings)
    lines += ["", "| status | findings |", "| --- | ---: |"]
    lines += [f"| {status} | {counts.get(status, 0)} |" for status in _WORST_FIRST]
    waived = sum(1 for f in report.findings if f.waived)
    lines += ["", (f"{len(report.assets)} asset(s), {len(report.errors)} unreadable input(s), "
                   f"{waived} waived finding(s).")]

    notable = [f for f in report.findings if f.status is not Status.APPROVED]
    notable.sort(key=lambda f: (-f.status.rank, f.rule))
    if notable:
        lines += ["", "### Findings not approved", ""]
        lines += ["| status | rule | where | finding | citation |", "| --- | --- | --- | --- | --- |"]
        for finding in notable[:MAX_ROWS]:
            status = finding.status.value + (" (waived)" if finding.waived else "")
            lines.append(f"| {status} | `{code(finding.rule)}` | {md(finding.location)} | "
                         f"{md(finding.message)} | {_citation(finding)} |")
        if len(notable) > MAX_ROWS:
            lines.append(f"\n…and {len(notable) - MAX_ROWS} more (see the full report).")

    applied = {f.waiver.id: f.waiver for f in report.findings if f.waiver is not None}
    if applied:
        lines += ["", "### Waivers applied", "", "| waiver | owner | expires | reason |",
                  "| --- | --- | --- | --- |"]
        for waiver in sorted(applied.values(), key=lambda w: w.expires):
            lines.append(f"| {md(waiver.id)} | {md(waiver.owner)} | {iso_date(waiver.expires)} "
                         f"| {md(waiver.reason)} |")
    if report.errors:
        lines += ["", "### Inputs that could not be read", "", "| where | reason | message |",
                  "| --- | --- | --- |"]
        for error in report.errors[:MAX_ROWS]:
            lines.append(f"| {md(error.location)} | `{code(error.reason)}` | {md(error.message)} |")
        if len(report.errors) > MAX_ROWS:
            lines.append(f"\n…and {len(report.errors) - MAX_ROWS} more.")
    policy = report.policy
    footer = (f"<sub>Policy {md(policy.id)} {md(policy.version)} (sha256 "
              f"{policy.sha256[:12]}…), as of {iso_date(report.as_of)}; cryptocheck "
              f"{md(report.tool_version)}, finished {utc_timestamp(report.finished)}.</sub>")
    lines += ["", footer, ""]
    return "\n".join(lines)


class MarkdownReporter(CollectingReporter):
    """Writes :func:`render_markdown` of the whole run at ``end``."""

    def render(self, report: Report) -> str:
        return render_markdown(report, fail_on=self.options.fail_on)
