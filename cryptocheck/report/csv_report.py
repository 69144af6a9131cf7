"""The ``csv`` format: one row per finding (or, with ``--csv-assets``, one row per asset).

For spreadsheets and dashboards. The columns are fixed (``FINDING_COLUMNS``,
``ASSET_COLUMNS``) and always present, empty where a value is unknown. Every finding of the
JSON report is one row, approved ones included, so the counts by status are the JSON
report's. Text that came from an input and starts with ``= + - @`` (or a tab or carriage
return) is prefixed with ``'`` so that a spreadsheet shows it rather than running it as a
formula (CSV injection); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    ConfigAsset,
    EndpointAsset,
    Finding,
    KeyAsset,
    Report,
    Status,
)
from cryptocheck.report import CollectingReporter, asset_name, finding_fingerprint
from cryptocheck.report.wire import STATUS_ORDER, clean_text, iso_date

FINDING_COLUMNS: tuple[str, ...] = (
    "fingerprint", "asset", "asset_type", "asset_name", "location", "path", "line", "host",
    "port", "rule", "status", "severity", "waived", "waiver_id", "waiver_owner",
    "waiver_expires", "waiver_note", "context", "algorithm", "key_size", "curve", "hash",
    "strength", "quantum_vulnerable", "oid", "message", "citation", "citation_url",
)

ASSET_COLUMNS: tuple[str, ...] = (
    "asset", "asset_type", "asset_name", "location", "path", "line", "host", "port",
    "algorithm", "key_size", "curve", "signature_algorithm", "signature_hash", "not_before",
    "not_after", "sha256", "worst_status", "findings", "failing",
    *(f"findings_{status}" for status in STATUS_ORDER),
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str | int:
    """A CSV cell: ints stay numbers, None is empty, text is defused against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    text = clean_text(str(value)) or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def finding_row(finding: Finding, asset: Asset | None) -> dict[str, object]:
    """The row of one finding, keyed by ``FINDING_COLUMNS``."""
    usage, where, waiver = finding.usage, finding.location, finding.waiver
    return {
        "fingerprint": finding_fingerprint(finding),
        "asset": finding.asset_id,
        "asset_type": asset.type if asset else None,
        "asset_name": asset_name(asset) if asset else None,
        "location": str(where),
        "path": where.path,
        "line": where.line,
        "host": where.host,
        "port": where.port,
        "rule": finding.rule,
        "status": finding.status.value,
        "severity": finding.severity,
        "waived": finding.waived,
        "waiver_id": waiver.id if waiver else None,
        "waiver_owner": waiver.owner if waiver else None,
        "waiver_expires": iso_date(waiver.expires) if waiver else None,
        "waiver_note": finding.waiver_note,
        "context": usage.context,
        "algorithm": usage.algorithm,
        "key_size": usage.key_size,
        "curve": usage.curve,
        "hash": usage.hash,
        "strength": usage.strength,
        "quantum_vulnerable": usage.quantum_vulnerable,
        "oid": usage.oid,
        "message": finding.message,
        "citation": "; ".join(str(c) for c in finding.citations),
        "citation_url": " ".join(c.url for c in finding.citations if c.url),
    }


def asset_row(asset: Asset, findings: Sequence[Finding], fail_on: Status) -> dict[str, object]:
    """The row of one asset with the counts of its findings, keyed by ``ASSET_COLUMNS``."""
    where = asset.location
    row: dict[str, object] = {
        "asset": asset.id, "asset_type": asset.type, "asset_name": asset_name(asset),
        "location": str(where), "path": where.path, "line": where.line, "host": where.host,
        "port": where.port,
    }
    if isinstance(asset, CertificateAsset):
        row |= {"algorithm": asset.key_algorithm, "key_size": asset.key_size,
                "curve": asset.curve, "signature_algorithm": asset.signature_algorithm,
                "signature_hash": asset.signature_hash,
                "not_before": iso_date(asset.not_before), "not_after": iso_date(asset.not_after),
                "sha256": asset.sha256}
    elif isinstance(asset, KeyAsset):
        row |= {"algorithm": asset.key_algorithm, "key_size": asset.key_size,
                "curve": asset.curve, "sha256": asset.spki_sha256}
    elif isinstance(asset, EndpointAsset):
        row |= {"algorithm": asset.service}
    elif isinstance(asset, ConfigAsset):
        row |= {"algorithm": asset.directive}
    counts = Counter(f.status.value for f in findings)
    judged = [f for f in findings if not f.waived]
    worst = max((f.status for f in judged), key=lambda s: s.rank, default=None)
    row |= {
        "worst_status": worst.value if worst else None,
        "findings": len(findings),
        "failing": sum(1 for f in judged if f.status.rank >= fail_on.rank),
        **{f"findings_{status}": counts.get(status, 0) for status in STATUS_ORDER},
    }
    return row


def render_csv(report: Report, *, per_asset: bool = False,
               fail_on: Status = Status.DISALLOWED) -> str:
    """The report as CSV text (RFC 4180, CRLF line ends as the csv module writes them)."""
    out = io.StringIO()
    columns = ASSET_COLUMNS if per_asset else FINDING_COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
    writer.writeheader()
    by_asset: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_asset.setdefault(finding.asset_id, []).append(finding)
    if per_asset:
        for asset in report.assets:
            row = asset_row(asset, by_asset.get(asset.id, []), fail_on)
            writer.writerow({c: safe_cell(row.get(c)) for c in columns})
    else:
        assets = {a.id: a for a in report.assets}
        for finding in report.findings:
            row = finding_row(finding, assets.get(finding.asset_id))
            writer.writerow({c: safe_cell(row.get(c)) for c in columns})
    return out.getvalue()


class CsvReporter(CollectingReporter):
    """Writes :func:`render_csv` of the whole run at ``end``."""

    def render(self, report: Report) -> str:
        return render_csv(report, per_asset=self.options.csv_assets,
                          fail_on=self.options.fail_on)
