"""Durable scan jobs: a queue in the database, claimed under a lease.

A job is ``queued`` until a worker claims it; the claim sets ``running``, the worker's id and a
lease that a heartbeat renews (:mod:`.worker` runs them). A process that dies stops renewing:
once the lease has run out any process (the same one restarted, or another sharing the
PostgreSQL database) claims the job again and runs it from the start; ``restarted`` counts
these, ``job_events`` says what happened and ``job_claims`` records every claim. Claims take
the row with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL and under SQLite's write lock
(``BEGIN IMMEDIATE``); the count of running jobs is checked in the same transaction (under an
advisory lock on PostgreSQL), so ``max_running_jobs`` holds across processes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cryptocheck.service.config import ServeConfig
from cryptocheck.service.estate import clear_job
from cryptocheck.service.kinds import target_count
from cryptocheck.service.storage import CLAIM_LOCK, Database, Row, Tx, now_text


def event(tx: Tx, job_id: int, text: str) -> None:
    """Append to a job's event log."""
    tx.run("INSERT INTO job_events (job_id, at, event) VALUES (?, ?, ?)", (job_id, now_text(), text))


def enqueue(tx: Tx, request: dict[str, Any], token_id: int | None, schedule_id: int | None,
            note: str) -> int:
    """Queue a validated scan request (see :func:`kinds.validate_scan`) inside ``tx``; its
    job id. ``note`` is the job's first event. Uploaded files are kept in ``job_inputs``
    only until the job ends; the job's own request names them."""
    stored = {**request, "files": [f["name"] for f in request["files"]]}
    job_id = tx.insert(
        "INSERT INTO jobs (kind, state, request, policy, as_of, targets, created, token_id, "
        "schedule_id) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
        (request["kind"], json.dumps(stored), request["policy"], request["as_of"],
         target_count(request), now_text(), token_id, schedule_id))
    tx.many("INSERT INTO job_inputs (job_id, position, name, content) VALUES (?, ?, ?, ?)",
            [(job_id, i, f["name"], f["content"]) for i, f in enumerate(request["files"])])
    event(tx, job_id, note)
    return job_id


def submit(db: Database, request: dict[str, Any], token_id: int | None) -> int:
    """Queue a validated scan request; its job id."""
    with db.transaction() as tx:
        return enqueue(tx, request, token_id, None, "queued")


def cancel(db: Database, job_id: int) -> str | None:
    """Cancel a job: a queued one at once, a running one at its next item. Its state after
    the call (None: no such job)."""
    with db.transaction() as tx:
        row = tx.one("SELECT state FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            return None
        if row["state"] == "queued":
            tx.run("UPDATE jobs SET state = 'cancelled', finished = ? WHERE id = ?",
                   (now_text(), job_id))
            tx.run("DELETE FROM job_inputs WHERE job_id = ?", (job_id,))
            event(tx, job_id, "cancelled before it started")
            return "cancelled"
        if row["state"] == "running":
            tx.run("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            event(tx, job_id, "cancel requested")
            return "cancelling"
        return str(row["state"])


def claim(db: Database, worker: str, config: ServeConfig) -> Row | None:
    """Take the oldest queued job, or a running one whose lease has run out; None if there
    is none or ``max_running_jobs`` are running."""
    now = time.time()
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.postgres else ""
    with db.transaction() as tx:
        tx.lock(CLAIM_LOCK)
        running = tx.one("SELECT COUNT(*) AS n FROM jobs WHERE state = 'running' "
                         "AND lease_until >= ?", (now,))
        if running and int(running["n"]) >= config.max_running_jobs:
            return None
        row = tx.one("SELECT id, state, worker FROM jobs WHERE state = 'queued' OR "
                     "(state = 'running' AND lease_until < ?) ORDER BY id LIMIT 1" + skip_locked,
                     (now,))
        if row is None:
            return None
        job_id = int(row["id"])
        stale = row["state"] == "running"
        tx.run("UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, "
               "attempts = attempts + 1, restarted = restarted + ?, progress = 0, "
               "started = COALESCE(started, ?) WHERE id = ?",
               (worker, now + config.lease_seconds, int(stale), now_text(), job_id))
        reason = "restart" if stale else "start"
        tx.run("INSERT INTO job_claims (job_id, worker, claimed, reason) VALUES (?, ?, ?, ?)",
               (job_id, worker, now_text(), reason))
        if stale:
            clear_job(tx, job_id)
            event(tx, job_id, f"worker {row['worker']} stopped renewing its lease; "
                              f"restarted from the beginning by {worker}")
        else:
            event(tx, job_id, f"started by {worker}")
        job = tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        inputs = tx.rows("SELECT name, content FROM job_inputs WHERE job_id = ? "
                         "ORDER BY position", (job_id,))
    assert job is not None
    job["inputs"] = inputs
    return job


def job_out(row: Row, events: list[Row]) -> dict[str, Any]:
    """A job as the API shows it."""
    request = json.loads(row["request"])
    return {
        "id": int(row["id"]), "kind": row["kind"], "state": row["state"],
        "targets": request["targets"], "files": request["files"],
        "policy": row["policy"], "as_of": row["as_of"],
        "progress": {"done": int(row["progress"]), "targets": int(row["targets"])},
        "counts": {"assets": int(row["assets"]), "errors": int(row["errors"]),
                   "findings_by_status": json.loads(row["findings"]) if row["findings"] else None},
        "worst_status": row["worst_status"], "attempts": int(row["attempts"]),
        "restarted": bool(row["restarted"]), "restarts": int(row["restarted"]),
        "cancel_requested": bool(row["cancel_requested"]), "message": row["message"],
        "schedule": row["schedule_id"], "created": row["created"], "started": row["started"],
        "finished": row["finished"], "duration_seconds": row["duration"],
        "events": [{"at": e["at"], "event": e["event"]} for e in events],
        "report": f"/v1/scans/{int(row['id'])}/report" if row["state"] == "finished" else None,
    }


def get_job(db: Database, job_id: int) -> dict[str, Any] | None:
    """One job with its events, as the API shows it; None if there is no such job."""
    with db.transaction() as tx:
        row = tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        events = tx.rows("SELECT at, event FROM job_events WHERE job_id = ? ORDER BY id",
                         (job_id,))
    return job_out(row, events) if row else None


def list_jobs(db: Database, state: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """Jobs, newest first (in ``state`` if given), without their events."""
    where, params = ("WHERE state = ?", [state]) if state else ("", [])
    with db.transaction() as tx:
        rows = tx.rows(f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                       [*params, limit, offset])
    return [job_out(r, []) for r in rows]
