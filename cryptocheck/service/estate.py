"""The estate: every asset and finding of every finished scan, indexed for queries.

A scan's assets and findings are written as the scan streams (one row per asset per scan),
so that ``/v1/assets`` shows each asset as its latest scan saw it and
``/v1/assets/{id}/history`` its status scan after scan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from cryptocheck.model import Asset, CertificateAsset, Finding, Report, RunError, Status
from cryptocheck.report import RunHeader
from cryptocheck.report.wire import asset_to_dict, finding_to_dict, utc_timestamp
from cryptocheck.service.storage import Database, Row, Tx, now_text

BATCH = 500


def worst_status(findings: Sequence[Finding]) -> str:
    """The worst status among findings not waived (``approved`` when there is none)."""
    worst = Status.APPROVED
    for finding in findings:
        if not finding.waived and finding.status.rank > worst.rank:
            worst = finding.status
    return worst.value


class IndexReporter:
    """A reporter that writes each asset and its findings into the estate tables."""

    def __init__(self, db: Database, job_id: int) -> None:
        self.db = db
        self.job_id = job_id
        self.assets: list[tuple[Any, ...]] = []
        self.findings: list[tuple[Any, ...]] = []

    def begin(self, header: RunHeader) -> None:
        """Nothing to write before the first asset."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        location = asset.location
        subject = not_after = None
        if isinstance(asset, CertificateAsset):
            subject, not_after = asset.subject, utc_timestamp(asset.not_after)
        quantum = any(f.usage.quantum_vulnerable for f in findings)
        self.assets.append((self.job_id, asset.id, asset.type, location.host, location.port,
                            location.path, subject, not_after, worst_status(findings),
                            int(quantum), now_text(), json.dumps(asset_to_dict(asset))))
        for finding in findings:
            self.findings.append((self.job_id, asset.id, finding.rule, finding.status.value,
                                  finding.severity, finding.usage.context, int(finding.waived),
                                  json.dumps(finding_to_dict(finding))))
        if len(self.assets) >= BATCH:
            self.flush()

    def error(self, error: RunError) -> None:
        """Errors stay in the stored report; they are not estate assets."""

    def end(self, report: Report) -> None:
        self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        if not self.assets and not self.findings:
            return
        with self.db.transaction() as tx:
            tx.many("INSERT INTO assets (job_id, asset_id, type, host, port, path, subject, "
                    "not_after, worst_status, quantum_vulnerable, seen, body) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ", self.assets)
            tx.many("INSERT INTO findings (job_id, asset_id, rule, status, severity, context, "
                    "waived, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.findings)
        self.assets, self.findings = [], []


def clear_job(tx: Tx, job_id: int) -> None:
    """Forget what an interrupted attempt of a job had indexed (it starts again)."""
    tx.run("DELETE FROM assets WHERE job_id = ?", (job_id,))
    tx.run("DELETE FROM findings WHERE job_id = ?", (job_id,))


# The latest row of each asset among finished scans.
_LATEST = ("a.job_id = (SELECT MAX(b.job_id) FROM assets b JOIN jobs j ON j.id = b.job_id "
           "WHERE b.asset_id = a.asset_id AND j.state = 'finished')")


class Filters:
    """The estate filters of ``/v1/assets`` and ``/v1/findings``, validated."""

    FIELDS = ("status", "rule", "kind", "host", "expiring_before", "job")

    def __init__(self, query: dict[str, str]) -> None:
        self.status = query.get("status")
        if self.status is not None:
            self.status = Status.parse(self.status).value  # ValueError names the statuses
        self.rule = query.get("rule") or None
        self.kind = query.get("kind") or None
        self.host = query.get("host") or None
        self.expiring_before: str | None = None
        if query.get("expiring_before") is not None:
            text = query["expiring_before"]
            try:
                day = date.fromisoformat(text) if len(text) == 10 else None
            except ValueError:
                day = None
            if day is None:
                raise ValueError(f"expiring_before {text!r} is not a date (YYYY-MM-DD)")
            self.expiring_before = utc_timestamp(datetime(day.year, day.month, day.day))
        self.job = _int(query.get("job"), "job", 0)
        self.limit = _int(query.get("limit"), "limit", 100, 1000, smallest=1)
        self.offset = _int(query.get("offset"), "offset", 0, 10**9)


def _int(text: str | None, name: str, default: int, largest: int = 2**62,
         smallest: int = 0) -> int:
    if text is None:
        return default
    if not text.isdigit() or not smallest <= int(text) <= largest:
        raise ValueError(f"{name} must be a whole number from {smallest} to {largest}")
    return int(text)


def _asset_where(filters: Filters) -> tuple[str, list[Any]]:
    where = ["a.job_id = ?" if filters.job else _LATEST]
    params: list[Any] = [filters.job] if filters.job else []
    if filters.kind:
        where.append("a.type = ?")
        params.append(filters.kind)
    if filters.host:
        where.append("a.host = ?")
        params.append(filters.host)
    if filters.expiring_before:
        where.append("a.not_after IS NOT NULL AND a.not_after < ?")
        params.append(filters.expiring_before)
    return " AND ".join(where), params


def query_assets(db: Database, filters: Filters) -> list[dict[str, Any]]:
    """Assets as their latest scan saw them, filtered; each with its worst status."""
    where, params = _asset_where(filters)
    if filters.status:
        where += " AND a.worst_status = ?"
        params.append(filters.status)
    if filters.rule:
        where += (" AND EXISTS (SELECT 1 FROM findings f WHERE f.job_id = a.job_id "
                  "AND f.asset_id = a.asset_id AND f.rule = ?)")
        params.append(filters.rule)
    with db.transaction() as tx:
        rows = tx.rows(f"SELECT a.* FROM assets a WHERE {where} ORDER BY a.asset_id "
                       f"LIMIT ? OFFSET ?", [*params, filters.limit, filters.offset])
    return [_asset_out(row) for row in rows]


def _asset_out(row: Row) -> dict[str, Any]:
    return {"id": row["asset_id"], "type": row["type"], "worst_status": row["worst_status"],
            "scan": int(row["job_id"]), "seen": row["seen"],
            "quantum_vulnerable": bool(row["quantum_vulnerable"]),
            "asset": json.loads(row["body"])}


def query_findings(db: Database, filters: Filters) -> list[dict[str, Any]]:
    """Findings of each asset's latest scan, filtered."""
    where, params = _asset_where(filters)
    if filters.status:
        where += " AND f.status = ?"
        params.append(filters.status)
    if filters.rule:
        where += " AND f.rule = ?"
        params.append(filters.rule)
    with db.transaction() as tx:
        rows = tx.rows(f"SELECT f.job_id, f.body FROM findings f JOIN assets a ON "
                       f"a.job_id = f.job_id AND a.asset_id = f.asset_id WHERE {where} "
                       f"ORDER BY f.id LIMIT ? OFFSET ?", [*params, filters.limit, filters.offset])
    return [{"scan": int(r["job_id"]), **json.loads(r["body"])} for r in rows]


def asset_history(db: Database, asset_id: str) -> list[dict[str, Any]] | None:
    """The asset's status in every finished scan that saw it, oldest first (None: never
    seen)."""
    with db.transaction() as tx:
        rows = tx.rows("SELECT a.job_id, a.worst_status, a.seen, j.finished, j.schedule_id "
                       "FROM assets a JOIN jobs j ON j.id = a.job_id WHERE a.asset_id = ? "
                       "AND j.state = 'finished' ORDER BY a.job_id", (asset_id,))
    if not rows:
        return None
    return [{"scan": int(r["job_id"]), "status": r["worst_status"], "seen": r["seen"],
             "schedule": r["schedule_id"]} for r in rows]


def asset_in_scan(db: Database, job_id: int, asset_id: str
                  ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """An asset as one scan saw it, and its findings there."""
    with db.transaction() as tx:
        row = tx.one("SELECT body FROM assets WHERE job_id = ? AND asset_id = ?",
                     (job_id, asset_id))
        findings = tx.rows("SELECT body FROM findings WHERE job_id = ? AND asset_id = ? "
                           "ORDER BY id", (job_id, asset_id))
    return (json.loads(row["body"]) if row else None), [json.loads(f["body"]) for f in findings]


def summary(db: Database, expiring_before: str) -> dict[str, Any]:
    """What the dashboard shows: counts by status, worst findings, certificates expiring
    soon, post-quantum readiness, recent scans."""
    with db.transaction() as tx:
        by_status = {r["worst_status"]: int(r["n"]) for r in tx.rows(
            f"SELECT a.worst_status, COUNT(*) AS n FROM assets a WHERE {_LATEST} "
            "GROUP BY a.worst_status")}
        quantum = tx.one(f"SELECT COUNT(*) AS total, SUM(a.quantum_vulnerable) AS vulnerable "
                         f"FROM assets a WHERE {_LATEST}") or {}
        worst = tx.rows(f"SELECT f.job_id, f.asset_id, f.rule, f.status, f.severity, f.body "
                        f"FROM findings f JOIN assets a ON a.job_id = f.job_id AND "
                        f"a.asset_id = f.asset_id WHERE {_LATEST} AND f.waived = 0 AND "
                        "f.status IN ('disallowed', 'unknown', 'deprecated') "
                        "ORDER BY CASE f.status WHEN 'disallowed' THEN 0 WHEN 'unknown' THEN 1 "
                        "ELSE 2 END, f.id LIMIT 20")
        expiring = tx.rows(f"SELECT a.asset_id, a.subject, a.not_after, a.job_id FROM assets a "
                           f"WHERE {_LATEST} AND a.not_after IS NOT NULL AND a.not_after < ? "
                           "ORDER BY a.not_after LIMIT 20", (expiring_before,))
        scans = tx.rows("SELECT id, kind, state, targets, assets, errors, worst_status, created, "
                        "finished, restarted FROM jobs ORDER BY id DESC LIMIT 10")
    total = int(quantum.get("total") or 0)
    vulnerable = int(quantum.get("vulnerable") or 0)
    return {
        "by_status": by_status, "assets": total, "quantum_vulnerable": vulnerable,
        "quantum_safe": total - vulnerable,
        "worst": [{**json.loads(r["body"]), "scan": int(r["job_id"])} for r in worst],
        "expiring": expiring, "scans": scans,
    }
