"""``report diff``: what changed between two runs — new, fixed and unchanged findings.

Why: a team fixing its estate wants to see progress (and a CI gate wants to fail only on
what a change introduced). Findings are matched by :func:`cryptocheck.report.finding_fingerprint`
(rule, asset, usage and place; not the status or the date), so the same weakness found
again is "unchanged" and a status that moved (a deprecation date passed) is shown as
unchanged with both statuses. Approved findings are not findings to fix and are left out.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cryptocheck.model import Finding, Report, Status
from cryptocheck.report import finding_fingerprint
from cryptocheck.report.wire import STATUS_ORDER, iso_date, utc_timestamp

DIFF_FORMATS = ("text", "json", "html")


@dataclass(frozen=True)
class ReportDiff:
    """Findings (not approved) of the new run that the old lacked, of the old run that the
    new lacks, and those in both (as (old, new) pairs), each list in report order."""

    old: Report
    new: Report
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]
    unchanged: tuple[tuple[Finding, Finding], ...]


def _notable(report: Report) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for finding in report.findings:
        if finding.status is not Status.APPROVED:
            found.setdefault(finding_fingerprint(finding), finding)
    return found


def diff_reports(old: Report, new: Report) -> ReportDiff:
    """Compare two reports by finding fingerprint.

    Example: ``diff_reports(load_report("monday.json"), load_report("friday.json")).added``.
    """
    before, after = _notable(old), _notable(new)
    return ReportDiff(
        old=old, new=new,
        added=tuple(f for key, f in after.items() if key not in before),
        removed=tuple(f for key, f in before.items() if key not in after),
        unchanged=tuple((before[key], f) for key, f in after.items() if key in before),
    )


def _finding_dict(finding: Finding, previous: Finding | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "fingerprint": finding_fingerprint(finding),
        "asset": finding.asset_id,
        "rule": finding.rule,
        "status": finding.status.value,
        "waived": finding.waived,
        "location": str(finding.location),
        "message": finding.message,
    }
    if previous is not None:
        record["previous_status"] = previous.status.value
    return record


def _run(report: Report) -> dict[str, Any]:
    return {"command": report.command, "policy": report.policy.id,
            "policy_version": report.policy.version, "as_of": iso_date(report.as_of),
            "finished": utc_timestamp(report.finished)}


def _counts(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = Counter(f.status.value for f in findings)
    return {status: counts.get(status, 0) for status in STATUS_ORDER if status != "approved"}


def diff_to_dict(result: ReportDiff) -> dict[str, Any]:
    """The diff as a JSON-ready dict (the ``json`` form)."""
    return {
        "old": _run(result.old),
        "new": _run(result.new),
        "summary": {"added": len(result.added), "removed": len(result.removed),
                    "unchanged": len(result.unchanged),
                    "added_by_status": _counts(result.added),
                    "removed_by_status": _counts(result.removed)},
        "added": [_finding_dict(f) for f in result.added],
        "removed": [_finding_dict(f) for f in result.removed],
        "unchanged": [_finding_dict(new, old) for old, new in result.unchanged],
    }


def _safe(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def render_diff(result: ReportDiff, fmt: str = "text") -> str:
    """The diff as ``text``, ``json`` or ``html`` (one self-contained page)."""
    if fmt == "json":
        return json.dumps(diff_to_dict(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return _render_html(result)
    if fmt != "text":
        raise ValueError(f"unknown diff format {fmt!r} (expected one of: {', '.join(DIFF_FORMATS)})")
    head = (f"cryptocheck diff: {len(result.added)} new, {len(result.removed)} fixed, "
            f"{len(result.unchanged)} unchanged finding(s) (approved ones not counted)")
    lines = [head]
    for title, sign, findings in (("New", "+", result.added), ("Fixed", "-", result.removed)):
        if findings:
            lines.append(f"\n{title}:")
            for f in findings:
                waived = " (waived)" if f.waived else ""
                lines.append(_safe(f"{sign} {f.status.value}{waived} {f.rule} {f.location}: "
                                   f"{f.message}"))
    moved = [(o, n) for o, n in result.unchanged if o.status is not n.status]
    if moved:
        lines.append("\nStatus changed:")
        for old, new in moved:
            lines.append(_safe(f"~ {old.status.value} -> {new.status.value} {new.rule} "
                               f"{new.location}: {new.message}"))
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:"
        "collapse;width:100%;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left;vertical-align:top}th{background:#f3f3f3}.added{color:#a40000}"
        ".removed{color:#1a7f37}")


def _table(kind: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    cells = "".join(
        f"<tr class='{kind}'><td>{html.escape(r['status'])}"
        f"{' (was ' + html.escape(r['previous_status']) + ')' if 'previous_status' in r else ''}"
        f"</td><td>{html.escape(r['rule'])}</td><td>{html.escape(r['location'])}</td>"
        f"<td>{html.escape(r['message'])}</td><td><code>{r['fingerprint']}</code></td></tr>"
        for r in rows)
    return ("<table><thead><tr><th>status</th><th>rule</th><th>where</th><th>finding</th>"
            f"<th>fingerprint</th></tr></thead><tbody>{cells}</tbody></table>")


def _render_html(result: ReportDiff) -> str:
    data = diff_to_dict(result)
    old, new = data["old"], data["new"]
    head = (f"<p>Old: {html.escape(old['command'])} finished {old['finished']}, policy "
            f"{html.escape(old['policy'])} {html.escape(old['policy_version'])} as of "
            f"{old['as_of']}.<br>New: {html.escape(new['command'])} finished "
            f"{new['finished']}, policy {html.escape(new['policy'])} "
            f"{html.escape(new['policy_version'])} as of {new['as_of']}.</p>")
    summary = data["summary"]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        f"<title>cryptocheck diff</title><style>{_CSS}</style></head><body>"
        f"<h1>cryptocheck diff</h1>{head}"
        f"<p><strong>{summary['added']}</strong> new, <strong>{summary['removed']}</strong> "
        f"fixed, <strong>{summary['unchanged']}</strong> unchanged.</p>"
        f"<h2>New findings</h2>{_table('added', data['added'])}"
        f"<h2>Fixed findings</h2>{_table('removed', data['removed'])}"
        f"<h2>Unchanged findings</h2>{_table('unchanged', data['unchanged'])}"
        "</body></html>\n"
    )
