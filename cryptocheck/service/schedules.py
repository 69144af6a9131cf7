"""Schedules: a scan request re-run at an interval, so the estate is followed over time.

Every process polls for due schedules; one transaction takes each due schedule (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), queues its job and moves its
next run on, so that two processes never queue the same run twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cryptocheck.service.jobs import enqueue
from cryptocheck.service.storage import Database, Row, now_text


def create_schedule(db: Database, request: dict[str, Any], interval: int,
                    token_id: int | None) -> int:
    """Store a validated scan request to run every ``interval`` seconds, first at once."""
    with db.transaction() as tx:
        return tx.insert("INSERT INTO schedules (request, interval_seconds, next_run, created, "
                         "token_id) VALUES (?, ?, ?, ?, ?)",
                         (json.dumps(request), interval, time.time(), now_text(), token_id))


def schedule_out(row: Row) -> dict[str, Any]:
    """A schedule as the API shows it (uploaded contents left out)."""
    request = json.loads(row["request"])
    request["files"] = [f["name"] for f in request.get("files", [])]
    return {"id": int(row["id"]), "interval_seconds": int(row["interval_seconds"]),
            "next_run": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["next_run"])),
            "enabled": bool(row["enabled"]), "created": row["created"],
            "last_scan": row["last_job"], "scan": request}


def list_schedules(db: Database) -> list[dict[str, Any]]:
    """Every schedule."""
    with db.transaction() as tx:
        return [schedule_out(r) for r in tx.rows("SELECT * FROM schedules ORDER BY id")]


def get_schedule(db: Database, schedule_id: int) -> dict[str, Any] | None:
    """One schedule, or None."""
    with db.transaction() as tx:
        row = tx.one("SELECT * FROM schedules WHERE id = ?", (schedule_id,))
    return schedule_out(row) if row else None


def delete_schedule(db: Database, schedule_id: int) -> bool:
    """Remove a schedule (its past scans stay); whether it existed."""
    with db.transaction() as tx:
        return tx.run("DELETE FROM schedules WHERE id = ?", (schedule_id,)) > 0


def due_schedules(db: Database) -> list[int]:
    """Queue a job for every schedule that is due; the job ids."""
    queued: list[int] = []
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.postgres else ""
    while True:
        with db.transaction() as tx:
            row = tx.one("SELECT * FROM schedules WHERE enabled = 1 AND next_run <= ? "
                         "ORDER BY next_run LIMIT 1" + skip_locked, (time.time(),))
            if row is None:
                return queued
            job_id = enqueue(tx, json.loads(row["request"]), row["token_id"], int(row["id"]),
                             f"queued by schedule {row['id']}")
            tx.run("UPDATE schedules SET next_run = ?, last_job = ? WHERE id = ?",
                   (time.time() + int(row["interval_seconds"]), job_id, row["id"]))
            queued.append(job_id)
