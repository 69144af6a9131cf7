"""The job queue and the estate, on SQLite and PostgreSQL: claims respect the global limit, a
lapsed lease is taken over (and says so), a taken-over worker cannot write a result,
migrations are idempotent, cancelling a queued job is immediate; estate queries, history,
the dashboard summary and metrics read the same on both databases."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from servers.database import create_pg_schema, drop_pg_schema

from cryptocheck.service import estate, jobs, worker
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.kinds import validate_scan
from cryptocheck.service.metrics import RequestCounter, render
from cryptocheck.service.security import Allowlist
from cryptocheck.service.storage import MIGRATIONS, Database

CERT = Path(__file__).parent / "corpus" / "certs" / "leaf-ec-p256.pem"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.database)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'queue.db'}")
        database.migrate()
        yield database
        database.close()
        return
    url, schema = create_pg_schema()
    database = Database(url)
    try:
        database.migrate()
        yield database
    finally:
        database.close()
        drop_pg_schema(schema)


def _request(config: ServeConfig) -> dict[str, object]:
    content = base64.b64encode(CERT.read_bytes()).decode()
    return validate_scan({"kind": "certs", "files": [{"name": "c.pem", "content": content}]},
                         config, Allowlist([], []))


def test_migrations_are_idempotent(db: Database) -> None:
    assert db.migrate() == MIGRATIONS[-1][0]
    assert db.schema_version() == MIGRATIONS[-1][0]


def test_global_limit_and_lapsed_leases(db: Database) -> None:
    config = ServeConfig(max_running_jobs=1, lease_seconds=2)
    first = jobs.submit(db, _request(config), None)
    second = jobs.submit(db, _request(config), None)
    claimed = jobs.claim(db, "worker-a", config)
    assert claimed is not None and claimed["id"] == first and claimed["inputs"]
    assert jobs.claim(db, "worker-b", config) is None  # one running: the limit holds
    time.sleep(2.2)  # worker-a stops renewing: its lease lapses
    taken = jobs.claim(db, "worker-b", config)
    assert taken is not None and taken["id"] == first  # the lapsed job first, from scratch
    assert taken["restarted"] == 1 and taken["attempts"] == 2
    with db.transaction() as tx:
        claims = tx.rows("SELECT worker, reason FROM job_claims WHERE job_id = ? ORDER BY id",
                         (first,))
        events = [r["event"] for r in tx.rows("SELECT event FROM job_events WHERE job_id = ?",
                                              (first,))]
    assert claims == [{"worker": "worker-a", "reason": "start"},
                      {"worker": "worker-b", "reason": "restart"}]
    assert any("worker-a stopped renewing its lease" in e for e in events)

    # worker-a, still alive somewhere, cannot record a result for a job it lost.
    runner_a = worker.Runner(db, config)
    runner_a.worker_id = "worker-a"
    runner_a._finish(first, "finished", None, None, "{}", 0.1)
    with db.transaction() as tx:
        row = tx.one("SELECT state, worker FROM jobs WHERE id = ?", (first,))
        reports = tx.rows("SELECT job_id FROM reports")
    assert row == {"state": "running", "worker": "worker-b"} and reports == []

    # Run the second job for real with a runner, under a roomier limit.
    roomy = replace(config, max_running_jobs=2, lease_seconds=30)
    runner = worker.Runner(db, roomy)
    job = jobs.claim(db, runner.worker_id, roomy)
    assert job is not None and job["id"] == second
    runner.run(job)
    with db.transaction() as tx:
        done = tx.one("SELECT state, assets, restarted FROM jobs WHERE id = ?", (second,))
        inputs = tx.one("SELECT COUNT(*) AS n FROM job_inputs WHERE job_id = ?", (second,))
    assert done == {"state": "finished", "assets": 1, "restarted": 0}
    assert inputs is not None and inputs["n"] == 0


def test_cancel_queued_job(db: Database) -> None:
    config = ServeConfig()
    job_id = jobs.submit(db, _request(config), None)
    assert jobs.cancel(db, job_id) == "cancelled"
    assert jobs.claim(db, "worker", config) is None
    assert jobs.cancel(db, job_id) == "cancelled"
    assert jobs.cancel(db, 12345) is None


def test_estate_queries_and_dashboard_summary(db: Database) -> None:
    config = ServeConfig()
    weak = Path(__file__).parent / "corpus" / "certs" / "leaf-ec-p192.pem"
    content = base64.b64encode(weak.read_bytes()).decode()
    request = validate_scan({"kind": "certs", "files": [{"name": "weak.pem", "content": content}]},
                            config, Allowlist([], []))
    runner = worker.Runner(db, config)
    for _ in range(2):
        jobs.submit(db, request, None)
        job = jobs.claim(db, runner.worker_id, config)
        assert job is not None
        runner.run(job)
    latest = estate.query_assets(db, estate.Filters({}))
    assert len(latest) == 1 and latest[0]["scan"] == 2
    assert latest[0]["worst_status"] == "disallowed" and latest[0]["quantum_vulnerable"]
    assert estate.query_assets(db, estate.Filters({"status": "approved"})) == []
    findings = estate.query_findings(db, estate.Filters({"status": "disallowed"}))
    assert findings and {f["scan"] for f in findings} == {2}
    history = estate.asset_history(db, latest[0]["id"])
    assert history is not None and [h["scan"] for h in history] == [1, 2]
    summary = estate.summary(db, "2999-01-01T00:00:00Z")
    assert summary["assets"] == 1 and summary["quantum_vulnerable"] == 1
    assert summary["by_status"] == {"disallowed": 1}
    assert summary["worst"] and summary["worst"][0]["status"] == "disallowed"
    assert [c["asset_id"] for c in summary["expiring"]] == [latest[0]["id"]]
    assert [s["id"] for s in summary["scans"]] == [2, 1]
    metrics = render(db, RequestCounter())
    assert 'cryptocheck_scans{state="finished"} 2' in metrics
