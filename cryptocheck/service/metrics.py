"""``/metrics`` in the Prometheus text format (version 0.0.4).

Scan, target and finding figures are read from the database at scrape time, so every process
sharing a database reports the same estate; request counts are this process's own.
"""

from __future__ import annotations

import threading
from collections import Counter

from cryptocheck.model import Status
from cryptocheck.service.storage import Database

DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
STATES = ("queued", "running", "finished", "failed", "cancelled")


class RequestCounter:
    """HTTP requests served by this process, by method and status code."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self.seconds = 0.0
        self._lock = threading.Lock()

    def add(self, method: str, status: int, seconds: float) -> None:
        """Count one request."""
        with self._lock:
            self.counts[(method, status)] += 1
            self.seconds += seconds


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


def render(db: Database, requests: RequestCounter) -> str:
    """The metrics page."""
    with db.transaction() as tx:
        states = {r["state"]: int(r["n"]) for r in tx.rows(
            "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")}
        targets = tx.one("SELECT COALESCE(SUM(targets), 0) AS n FROM jobs") or {"n": 0}
        restarts = tx.one("SELECT COALESCE(SUM(restarted), 0) AS n FROM jobs") or {"n": 0}
        by_status = {r["status"]: int(r["n"]) for r in tx.rows(
            "SELECT f.status, COUNT(*) AS n FROM findings f JOIN jobs j ON j.id = f.job_id "
            "WHERE j.state = 'finished' GROUP BY f.status")}
        durations = [float(r["duration"]) for r in tx.rows(
            "SELECT duration FROM jobs WHERE state = 'finished' AND duration IS NOT NULL")]
    out = ["# HELP cryptocheck_scans Scans by state.", "# TYPE cryptocheck_scans gauge"]
    out += [_line("cryptocheck_scans", states.get(s, 0), {"state": s}) for s in STATES]
    out += ["# HELP cryptocheck_scan_targets_total Targets submitted in scans.",
            "# TYPE cryptocheck_scan_targets_total counter",
            _line("cryptocheck_scan_targets_total", int(targets["n"])),
            "# HELP cryptocheck_scan_restarts_total Scans restarted after an interruption.",
            "# TYPE cryptocheck_scan_restarts_total counter",
            _line("cryptocheck_scan_restarts_total", int(restarts["n"])),
            "# HELP cryptocheck_findings_total Findings of finished scans by status.",
            "# TYPE cryptocheck_findings_total counter"]
    out += [_line("cryptocheck_findings_total", by_status.get(s.value, 0), {"status": s.value})
            for s in Status]
    out += ["# HELP cryptocheck_scan_duration_seconds Duration of finished scans.",
            "# TYPE cryptocheck_scan_duration_seconds histogram"]
    for bound in DURATION_BUCKETS:
        out.append(_line("cryptocheck_scan_duration_seconds_bucket",
                         sum(1 for d in durations if d <= bound), {"le": f"{bound:g}"}))
    out += [_line("cryptocheck_scan_duration_seconds_bucket", len(durations), {"le": "+Inf"}),
            _line("cryptocheck_scan_duration_seconds_sum", round(sum(durations), 6)),
            _line("cryptocheck_scan_duration_seconds_count", len(durations)),
            "# HELP cryptocheck_http_requests_total HTTP requests served by this process.",
            "# TYPE cryptocheck_http_requests_total counter"]
    with requests._lock:
        counts = sorted(requests.counts.items())
        seconds = requests.seconds
    out += [_line("cryptocheck_http_requests_total", n, {"method": m, "code": str(c)})
            for (m, c), n in counts]
    out += ["# HELP cryptocheck_http_request_seconds_total Time spent serving HTTP requests.",
            "# TYPE cryptocheck_http_request_seconds_total counter",
            _line("cryptocheck_http_request_seconds_total", round(seconds, 6))]
    return "\n".join(out) + "\n"
