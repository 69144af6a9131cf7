"""``/v1/scans`` and ``/v1/schedules``: scans queued as durable jobs (:mod:`.jobs`), now or
at intervals (:mod:`.schedules`), and their reports in any installed format."""

from __future__ import annotations

from io import StringIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cryptocheck.report import make_reporter, replay
from cryptocheck.report.load import load_report
from cryptocheck.service import estate, jobs, schedules
from cryptocheck.service.kinds import RequestError, validate_scan
from cryptocheck.service.routing import (
    ApiError,
    authorize,
    path_id,
    read_json,
    refused,
    report_response,
    requested_format,
    services,
)
from cryptocheck.service.security import TargetRefused


async def create_scan(request: Request) -> Response:
    """Queue a scan; 202 with its id."""
    principal = await authorize(request, "scan")
    svc = services(request)
    body = await read_json(request)
    try:
        validated = await run_in_threadpool(validate_scan, body, svc.config, svc.allowlist)
    except (RequestError, TargetRefused) as exc:
        raise refused(exc) from None
    job_id = await run_in_threadpool(jobs.submit, svc.db, validated, principal.token_id)
    job = await run_in_threadpool(jobs.get_job, svc.db, job_id)
    return JSONResponse(job, status_code=202, headers={"Location": f"/v1/scans/{job_id}"})


async def list_scans(request: Request) -> Response:
    """Scans, newest first."""
    await authorize(request, "read")
    state = request.query_params.get("state")
    try:
        filters = estate.Filters({k: v for k, v in request.query_params.items()
                                  if k in ("limit", "offset")})
    except ValueError as exc:
        raise ApiError(400, "bad-filter", str(exc)) from None

    found = await run_in_threadpool(jobs.list_jobs, services(request).db, state, filters.limit,
                                    filters.offset)
    return JSONResponse({"scans": found})


async def get_scan(request: Request) -> Response:
    """A scan's state, progress, counts and events."""
    await authorize(request, "read")
    job = await run_in_threadpool(jobs.get_job, services(request).db, path_id(request))
    if job is None:
        raise ApiError(404, "not-found", "no such scan")
    return JSONResponse(job)


async def cancel_scan(request: Request) -> Response:
    """Cancel a queued or running scan."""
    await authorize(request, "scan")
    state = await run_in_threadpool(jobs.cancel, services(request).db, path_id(request))
    if state is None:
        raise ApiError(404, "not-found", "no such scan")
    return JSONResponse({"id": path_id(request), "state": state},
                        status_code=202 if state == "cancelling" else 200)


def _render(body: str, fmt: str) -> str:
    out = StringIO()
    replay(load_report(body), make_reporter(fmt, out))
    return out.getvalue()


async def scan_report(request: Request) -> Response:
    """A finished scan's report in any installed format."""
    await authorize(request, "read")
    fmt = requested_format(request)
    job_id = path_id(request)
    db = services(request).db

    def stored() -> tuple[str | None, str | None]:
        with db.transaction() as tx:
            job = tx.one("SELECT state FROM jobs WHERE id = ?", (job_id,))
            report = tx.one("SELECT body FROM reports WHERE job_id = ? AND format = 'json'",
                            (job_id,))
        return (job["state"] if job else None), (report["body"] if report else None)
    state, body = await run_in_threadpool(stored)
    if state is None:
        raise ApiError(404, "not-found", "no such scan")
    if body is None:
        raise ApiError(409, "not-finished", f"the scan is {state}; it has no report")
    if fmt != "json":
        body = await run_in_threadpool(_render, body, fmt)
    return report_response(body, fmt)


async def create_schedule(request: Request) -> Response:
    """Re-run a scan every ``interval_seconds`` (scope admin: a standing scan is the
    operator's decision)."""
    principal = await authorize(request, "admin")
    svc = services(request)
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) != {"scan", "interval_seconds"}:
        raise ApiError(400, "bad-request", "the body must be {scan, interval_seconds}")
    interval = body["interval_seconds"]
    if not isinstance(interval, int) or isinstance(interval, bool) or not (
            svc.config.min_schedule_seconds <= interval <= 366 * 86400):
        raise ApiError(400, "bad-interval", f"interval_seconds must be a whole number from "
                                            f"{svc.config.min_schedule_seconds} to {366 * 86400}")
    try:
        validated = await run_in_threadpool(validate_scan, body["scan"], svc.config, svc.allowlist)
    except (RequestError, TargetRefused) as exc:
        raise refused(exc) from None
    schedule_id = await run_in_threadpool(schedules.create_schedule, svc.db, validated, interval,
                                          principal.token_id)
    found = await run_in_threadpool(schedules.get_schedule, svc.db, schedule_id)
    return JSONResponse(found, status_code=201,
                        headers={"Location": f"/v1/schedules/{schedule_id}"})


async def list_schedules(request: Request) -> Response:
    """Every schedule."""
    await authorize(request, "read")
    found = await run_in_threadpool(schedules.list_schedules, services(request).db)
    return JSONResponse({"schedules": found})


async def get_schedule(request: Request) -> Response:
    """One schedule."""
    await authorize(request, "read")
    found = await run_in_threadpool(schedules.get_schedule, services(request).db,
                                    path_id(request))
    if found is None:
        raise ApiError(404, "not-found", "no such schedule")
    return JSONResponse(found)


async def delete_schedule(request: Request) -> Response:
    """Stop a schedule (its scans stay)."""
    await authorize(request, "admin")
    if not await run_in_threadpool(schedules.delete_schedule, services(request).db,
                                   path_id(request)):
        raise ApiError(404, "not-found", "no such schedule")
    return Response(status_code=204)
