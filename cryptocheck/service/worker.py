"""The worker: runs claimed jobs (:mod:`.jobs`) in this process through the one pipeline.

``workers`` threads claim and run jobs, a heartbeat renews their leases, and a scheduler
queues due schedules. Finishing is conditional on still holding the job, so a worker whose
lease was taken over cannot write a second result.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from cryptocheck.model import Waiver
from cryptocheck.report.wire import report_to_dict
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.estate import IndexReporter, clear_job
from cryptocheck.service.jobs import claim, event
from cryptocheck.service.kinds import run_request
from cryptocheck.service.schedules import due_schedules
from cryptocheck.service.security import Allowlist
from cryptocheck.service.storage import Database, Row, now_text
from cryptocheck.sources.registry import Item, get_source

log = logging.getLogger("cryptocheck.service")

PROGRESS_SECONDS = 0.25  # how often a running job writes its progress and checks for a cancel


class _Stop(Exception):
    """Raised inside a running scan to stop it: ``state`` is where the job goes."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.message = message


class Runner:
    """Runs claimed jobs in this process: ``workers`` threads, a heartbeat and a scheduler."""

    def __init__(self, db: Database, config: ServeConfig) -> None:
        self.db = db
        self.config = config
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._running: dict[int, bool] = {}  # job id -> still ours
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker, heartbeat and scheduler threads."""
        targets = [self._work] * self.config.workers + [self._heartbeat, self._schedule]
        for index, target in enumerate(targets):
            thread = threading.Thread(target=target, name=f"cryptocheck-serve-{index}",
                                      daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; running jobs go back to the queue at their next item."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                job = claim(self.db, self.worker_id, self.config)
            except Exception:  # a database hiccup must not end the worker
                log.exception("claiming a job failed")
                job = None
            if job is None:
                self.stopping.wait(self.config.poll_seconds)
                continue
            try:
                self.run(job)
            except Exception:  # the database failed under the job: its lease runs out, and
                # the job is claimed again (by this worker or another)
                log.exception("job %s could not be recorded", job["id"])

    def _heartbeat(self) -> None:
        while not self.stopping.wait(self.config.lease_seconds / 3):
            with self._lock:
                jobs = list(self._running)
            for job_id in jobs:
                try:
                    with self.db.transaction() as tx:
                        kept = tx.run("UPDATE jobs SET lease_until = ? WHERE id = ? AND worker = ? "
                                      "AND state = 'running'",
                                      (time.time() + self.config.lease_seconds, job_id,
                                       self.worker_id))
                except Exception:
                    log.exception("renewing the lease of job %s failed", job_id)
                    continue
                if not kept:
                    with self._lock:
                        if job_id in self._running:
                            self._running[job_id] = False

    def _schedule(self) -> None:
        while not self.stopping.wait(self.config.schedule_poll_seconds):
            try:
                due_schedules(self.db)
            except Exception:
                log.exception("running due schedules failed")

    def _check(self, job_id: int) -> None:
        with self._lock:
            ours = self._running.get(job_id, False)
        if not ours:
            raise _Stop("lost", "another worker took this job over")
        if self.stopping.is_set():
            raise _Stop("queued", "this server is shutting down")
        with self.db.transaction() as tx:
            row = tx.one("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
        if row and row["cancel_requested"]:
            raise _Stop("cancelled", "cancelled while running")

    def _tracked(self, job_id: int, items: Iterator[Item]) -> Iterator[Item]:
        last = time.monotonic()
        done = 0  # inputs so far: assets and errors (a waiver found in the input is neither)
        for item in items:
            done += not isinstance(item, Waiver)
            if time.monotonic() - last >= PROGRESS_SECONDS:
                last = time.monotonic()
                self._check(job_id)
                with self.db.transaction() as tx:
                    tx.run("UPDATE jobs SET progress = ? WHERE id = ?", (done, job_id))
            yield item

    def run(self, job: Row) -> None:
        """Run one claimed job to its end (finished, failed, cancelled or requeued)."""
        job_id = int(job["id"])
        with self._lock:
            self._running[job_id] = True
        started = time.monotonic()
        request = json.loads(job["request"])
        log.info("job %s (%s, %s target(s)) running", job_id, job["kind"], job["targets"])
        try:
            files = [(r["name"], base64.b64decode(r["content"])) for r in job["inputs"]]
            if get_source(request["kind"]).network:
                # Checked again now: names may resolve elsewhere than at submission, and the
                # allowlist may have narrowed since.
                allowlist = Allowlist(self.config.allow_networks, self.config.allow_hosts)
                for target in request["targets"]:
                    allowlist.check(target)
            report = run_request(request, files, [IndexReporter(self.db, job_id)],
                                 watch=functools.partial(self._tracked, job_id))
            self._check(job_id)
            # Stored compact (the json module's C encoder; indenting takes it to pure Python,
            # a third of a large scan's time); the same document as the json format.
            body = json.dumps(report_to_dict(report), ensure_ascii=False, separators=(",", ":"))
            self._finish(job_id, "finished", None, report.summary, body + "\n",
                         time.monotonic() - started)
        except _Stop as stop:
            if stop.state == "lost":
                log.warning("job %s was taken over by another worker", job_id)
            elif stop.state == "queued":
                self._requeue(job_id, stop.message)
            else:
                self._finish(job_id, stop.state, stop.message, None, None,
                             time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - the job fails, the worker goes on
            log.warning("job %s failed: %s", job_id, type(exc).__name__)
            self._finish(job_id, "failed", f"{type(exc).__name__}: {exc}"[:500], None, None,
                         time.monotonic() - started)
        finally:
            with self._lock:
                self._running.pop(job_id, None)

    def _requeue(self, job_id: int, message: str) -> None:
        with self.db.transaction() as tx:
            if tx.run("UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, "
                      "restarted = restarted + 1 WHERE id = ? AND worker = ? AND state = 'running'",
                      (job_id, self.worker_id)):
                clear_job(tx, job_id)
                event(tx, job_id, f"interrupted ({message}); queued again")

    def _finish(self, job_id: int, state: str, message: str | None, summary: Any,
                body: str | None, duration: float) -> None:
        counts = None
        if summary is not None:
            counts = json.dumps(dict(summary.findings_by_status))
        with self.db.transaction() as tx:
            changed = tx.run(
                "UPDATE jobs SET state = ?, message = ?, finished = ?, duration = ?, "
                "lease_until = NULL, findings = ?, assets = ?, errors = ?, worst_status = ?, "
                "progress = COALESCE(?, progress) WHERE id = ? AND worker = ? AND state = 'running'",
                (state, message, now_text(), duration, counts,
                 summary.assets if summary else 0, summary.errors if summary else 0,
                 summary.worst_status.value if summary and summary.worst_status else None,
                 summary.inputs if summary else None, job_id, self.worker_id))
            if not changed:  # taken over by another worker: its result is the one kept
                log.warning("job %s is no longer held by this worker", job_id)
                return
            if body is not None:
                tx.run("INSERT INTO reports (job_id, format, body) VALUES (?, 'json', ?)",
                       (job_id, body))
            tx.run("DELETE FROM job_inputs WHERE job_id = ?", (job_id,))
            event(tx, job_id, state if message is None else f"{state}: {message}")
        log.info("job %s %s in %.2f s", job_id, state, duration)
