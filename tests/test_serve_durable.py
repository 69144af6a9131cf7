"""Durable jobs on the real server process: a scan survives SIGKILL and restart (SQLite and
PostgreSQL), and two processes on one PostgreSQL share 50 jobs with none run twice."""

from __future__ import annotations

import base64
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from servers.database import create_pg_schema, drop_pg_schema
from servers.needs import declares
from servers.service import Server, make_token, write_config

pytestmark = pytest.mark.service
CORPUS_CERT = Path(__file__).parent / "corpus" / "certs" / "chain-leaf-rsa-2048.pem"
COPIES = 600  # a bundle that takes the server a few seconds, so it can be killed mid-scan


@pytest.fixture
@declares("database")
def pg_url() -> Iterator[str]:
    url, schema = create_pg_schema()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.database)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.db'}"
    else:
        yield request.getfixturevalue("pg_url")  # that fixture drops its schema


def _bundle(tmp_path: Path) -> tuple[Path, int]:
    data = CORPUS_CERT.read_bytes()
    per_copy = data.count(b"-----BEGIN CERTIFICATE-----")
    folder = tmp_path / "pki"
    folder.mkdir()
    (folder / "bundle.pem").write_bytes(data * COPIES)
    return folder / "bundle.pem", per_copy * COPIES


def test_scan_survives_sigkill_and_restart(database_url: str, tmp_path: Path) -> None:
    bundle, expected_assets = _bundle(tmp_path)
    config = write_config(tmp_path / "serve.toml", lease_seconds=2, poll_seconds=0.2,
                          workers=1, allow={"paths": [str(bundle.parent)]})
    token = make_token(database_url, "scan")
    server = Server(database_url, tmp_path / "first.log", config).start()
    try:
        answer = server.request("POST", "/v1/scans", token=token,
                                json_body={"kind": "certs", "targets": [str(bundle)]})
        assert answer.status == 202, answer.body
        scan_id = answer.json()["id"]
        # Kill it while the scan is running (progress is written as items flow).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = server.request("GET", f"/v1/scans/{scan_id}", token=token).json()
            if job["state"] == "running" and job["progress"]["done"] > 0:
                break
            assert job["state"] in ("queued", "running"), job
            time.sleep(0.05)
        assert job["state"] == "running" and job["progress"]["done"] < expected_assets, job
    finally:
        server.stop(signal.SIGKILL)

    restarted = Server(database_url, tmp_path / "second.log", config).start()
    try:
        job = restarted.wait_scan(token, scan_id, timeout=90)
        assert job["state"] == "finished", job
        assert job["restarted"] is True and job["restarts"] == 1 and job["attempts"] == 2
        assert any("restarted from the beginning" in e["event"] for e in job["events"]), job
        # The interrupted attempt left nothing behind: each certificate counted once.
        assert job["counts"]["assets"] == expected_assets
        report = restarted.request("GET", f"/v1/scans/{scan_id}/report", token=token).json()
        assert report["summary"]["assets"] == expected_assets
        assets = restarted.request("GET", f"/v1/assets?job={scan_id}&limit=1000",
                                   token=token).json()["assets"]
        assert len(assets) == 1000 and len({a["id"] for a in assets}) == 1000
    finally:
        restarted.stop()


def test_two_processes_share_fifty_jobs_none_twice(pg_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "serve.toml", poll_seconds=0.1, workers=2)
    token = make_token(pg_url, "scan")
    servers = [Server(pg_url, tmp_path / f"server{i}.log", config).start() for i in range(2)]
    try:
        content = base64.b64encode(CORPUS_CERT.read_bytes()).decode()
        ids = []
        for number in range(50):
            server = servers[number % 2]
            answer = server.request("POST", "/v1/scans", token=token, json_body={
                "kind": "certs", "files": [{"name": f"job{number}.pem", "content": content}]})
            assert answer.status == 202, answer.body
            ids.append(answer.json()["id"])
        for scan_id in ids:
            job = servers[0].wait_scan(token, scan_id, timeout=120)
            assert job["state"] == "finished" and job["counts"]["assets"] == 3, (job["message"], job["events"])
    finally:
        for server in servers:
            server.stop()
    with psycopg.connect(pg_url) as conn:
        claims = conn.execute("SELECT job_id, worker FROM job_claims").fetchall()
        attempts = dict(conn.execute("SELECT id, attempts FROM jobs").fetchall())
    per_job = Counter(job_id for job_id, _ in claims)
    assert sorted(per_job) == sorted(ids)
    assert set(per_job.values()) == {1}, "a job was claimed more than once"
    assert set(attempts.values()) == {1}
    processes = {worker.rsplit(":", 1)[0] for _, worker in claims}
    assert len(processes) == 2, "both server processes took jobs"


def test_cancel_a_running_scan(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    bundle, expected_assets = _bundle(tmp_path)
    config = write_config(tmp_path / "serve.toml", poll_seconds=0.1, workers=1,
                          allow={"paths": [str(bundle.parent)]})
    token = make_token(database_url, "scan")
    server = Server(database_url, tmp_path / "server.log", config).start()
    try:
        scan_id = server.request("POST", "/v1/scans", token=token, json_body={
            "kind": "certs", "targets": [str(bundle)]}).json()["id"]
        deadline = time.monotonic() + 60
        while server.request("GET", f"/v1/scans/{scan_id}",
                             token=token).json()["progress"]["done"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        answer = server.request("DELETE", f"/v1/scans/{scan_id}", token=token)
        assert answer.status == 202 and answer.json()["state"] == "cancelling", answer.body
        job = server.wait_scan(token, scan_id)
        assert job["state"] == "cancelled" and job["message"] == "cancelled while running", job
        assert 0 < job["progress"]["done"] < expected_assets
        assert server.request("GET", f"/v1/scans/{scan_id}/report", token=token).status == 409
        # The worker goes on to the next job.
        content = base64.b64encode(CORPUS_CERT.read_bytes()).decode()
        next_id = server.request("POST", "/v1/scans", token=token, json_body={
            "kind": "certs", "files": [{"name": "c.pem", "content": content}]}).json()["id"]
        assert server.wait_scan(token, next_id)["state"] == "finished"
    finally:
        server.stop()


def test_sigterm_puts_the_running_scan_back_in_the_queue(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    bundle, expected_assets = _bundle(tmp_path)
    config = write_config(tmp_path / "serve.toml", poll_seconds=0.1, workers=1,
                          allow={"paths": [str(bundle.parent)]})
    token = make_token(database_url, "scan")
    server = Server(database_url, tmp_path / "first.log", config).start()
    try:
        scan_id = server.request("POST", "/v1/scans", token=token, json_body={
            "kind": "certs", "targets": [str(bundle)]}).json()["id"]
        deadline = time.monotonic() + 60
        while server.request("GET", f"/v1/scans/{scan_id}",
                             token=token).json()["progress"]["done"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        server.stop(signal.SIGTERM)
    with sqlite3.connect(tmp_path / "serve.db") as db:
        state = db.execute("SELECT state, worker FROM jobs WHERE id = ?", (scan_id,)).fetchone()
    assert state == ("queued", None)  # no lease to wait for: the next process starts at once
    restarted = Server(database_url, tmp_path / "second.log", config).start()
    try:
        job = restarted.wait_scan(token, scan_id, timeout=90)
    finally:
        restarted.stop()
    assert job["state"] == "finished" and job["restarted"] is True, job
    assert job["counts"]["assets"] == expected_assets
    assert any("shutting down" in e["event"] for e in job["events"]), job["events"]
