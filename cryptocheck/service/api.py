"""The ``/v1`` routes: synchronous checks, scans, the estate, policies and schedules."""

from __future__ import annotations

import base64
import html
import importlib
import json
import re
import tempfile
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cryptocheck.cli.policy import rule_to_dict
from cryptocheck.policy import PolicyError, shipped_policy_ids
from cryptocheck.report import _REPORTERS as KNOWN_FORMATS
from cryptocheck.report import FORMATS, make_reporter, replay
from cryptocheck.run import scan
from cryptocheck.service import estate, jobs, schedules
from cryptocheck.service.app import ApiError, authorize, method_route, read_json, services
from cryptocheck.service.kinds import (
    RequestError,
    available_kinds,
    check_date,
    check_policy,
    kind_entry,
    scan_items,
    shipped_policy,
    upload_items,
    upload_name,
    validate_scan,
)
from cryptocheck.service.security import TargetRefused
from cryptocheck.service.storage import Database, Row
from cryptocheck.sources.files import SourceOptions, SourceStats

MEDIA_TYPES = {
    "json": "application/json", "jsonl": "application/x-ndjson",
    "text": "text/plain; charset=utf-8", "sarif": "application/sarif+json",
    "html": "text/html; charset=utf-8", "cbom": "application/vnd.cyclonedx+json",
    "csv": "text/csv; charset=utf-8", "junit": "application/xml",
    "markdown": "text/markdown; charset=utf-8",
}
MAX_ID = 2**62
PASSWORD_HEADER = "x-cryptocheck-password"


def _format(request: Request, default: str = "json") -> str:
    fmt = request.query_params.get("format", default)
    if fmt not in KNOWN_FORMATS:
        raise ApiError(400, "bad-format", f"unknown format {fmt!r} (this server renders: "
                                          f"{', '.join(FORMATS)})")
    if fmt not in FORMATS:
        raise ApiError(404, "format-unavailable", f"format {fmt} is not installed on this "
                                                  f"server (it renders: {', '.join(FORMATS)})")
    return fmt


def _refused(exc: Exception) -> ApiError:
    if isinstance(exc, TargetRefused):
        return ApiError(403, "target-not-allowed", str(exc))
    assert isinstance(exc, RequestError)
    return ApiError(exc.status, exc.code, str(exc))


def _path_id(request: Request, name: str = "id") -> int:
    value = int(request.path_params[name])
    if value > MAX_ID:
        raise ApiError(404, "not-found", f"no such {name}")
    return value


async def _uploads(request: Request) -> list[tuple[str, bytes]]:
    """Files of a multipart form (every file field), or the raw body as one file."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=100, max_fields=100)
        except Exception as exc:  # noqa: BLE001 - malformed multipart is the caller's mistake
            raise ApiError(400, "bad-form", f"cannot read the form: {type(exc).__name__}") from None
        files = [(upload_name(v.filename or k), await v.read()) for k, v in form.multi_items()
                 if isinstance(v, UploadFile)]
    else:
        body = await request.body()
        files = [(upload_name(request.query_params.get("name", "upload")), body)] if body else []
    if not files:
        raise ApiError(400, "no-input", "upload a file (raw body or multipart form)")
    return files


def _check(files: list[tuple[str, bytes]], kind: str, policy: str | None, as_of: str | None,
           fmt: str, passwords: tuple[str, ...]) -> str:
    out = StringIO()
    stats = SourceStats()
    with tempfile.TemporaryDirectory(prefix="cryptocheck-check-") as workdir:
        if kind == "certs":
            targets = [name for name, _ in files]
            items = upload_items(files, SourceOptions(passwords=passwords), stats)
        else:
            request: dict[str, Any] = {
                "kind": kind, "targets": [], "options": {}, "policy": policy, "as_of": as_of,
                "files": [{"name": n, "content": base64.b64encode(d).decode()}
                          for n, d in files]}
            targets, items = scan_items(request, Path(workdir), stats)
        scan(targets, shipped_policy(policy), date.fromisoformat(as_of) if as_of else None,
             reporters=[make_reporter(fmt, out)], command=kind, items=items, stats=stats)
    return out.getvalue()


async def _checkmethod_route(request: Request, kind: str) -> Response:
    await authorize(request, "scan")
    fmt = _format(request)
    try:
        policy = check_policy(request.query_params.get("policy"))
        as_of = check_date(request.query_params.get("as_of"))
    except RequestError as exc:
        raise _refused(exc) from None
    files = await _uploads(request)
    # Passwords for PKCS#12, JKS and encrypted keys come in headers (never logged, never
    # stored: checks are not kept), one per X-Cryptocheck-Password header.
    passwords = tuple(v for v in request.headers.getlist(PASSWORD_HEADER) if v)
    body = await run_in_threadpool(_check, files, kind, policy, as_of, fmt, passwords)
    return Response(body, media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"),
                    headers=_document_policy(body, fmt))


async def check_certificates(request: Request) -> Response:
    """Judge uploaded certificates and keys at once (PEM, DER, PKCS#7, archives)."""
    return await _checkmethod_route(request, "certs")


async def check_config(request: Request) -> Response:
    """Judge an uploaded configuration file, or a tar/zip of a repository, at once."""
    if kind_entry("config") is None:
        await authorize(request, "scan")
        raise ApiError(404, "kind-unavailable", "configuration checks are not installed on "
                                                "this server")
    return await _checkmethod_route(request, "config")


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


def _job(db: Database, job_id: int) -> dict[str, Any] | None:
    with db.transaction() as tx:
        row = tx.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        events = tx.rows("SELECT at, event FROM job_events WHERE job_id = ? ORDER BY id",
                         (job_id,))
    return job_out(row, events) if row else None


async def create_scan(request: Request) -> Response:
    """Queue a scan; 202 with its id."""
    principal = await authorize(request, "scan")
    svc = services(request)
    body = await read_json(request)
    try:
        validated = await run_in_threadpool(validate_scan, body, svc.config, svc.allowlist)
    except (RequestError, TargetRefused) as exc:
        raise _refused(exc) from None
    job_id = await run_in_threadpool(jobs.submit, svc.db, validated, principal.token_id)
    job = await run_in_threadpool(_job, svc.db, job_id)
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

    def query(db: Database) -> list[dict[str, Any]]:
        where, params = ("WHERE state = ?", [state]) if state else ("", [])
        with db.transaction() as tx:
            rows = tx.rows(f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                           [*params, filters.limit, filters.offset])
        return [job_out(r, []) for r in rows]
    return JSONResponse({"scans": await run_in_threadpool(query, services(request).db)})


async def get_scan(request: Request) -> Response:
    """A scan's state, progress, counts and events."""
    await authorize(request, "read")
    job = await run_in_threadpool(_job, services(request).db, _path_id(request))
    if job is None:
        raise ApiError(404, "not-found", "no such scan")
    return JSONResponse(job)


async def cancel_scan(request: Request) -> Response:
    """Cancel a queued or running scan."""
    await authorize(request, "scan")
    state = await run_in_threadpool(jobs.cancel, services(request).db, _path_id(request))
    if state is None:
        raise ApiError(404, "not-found", "no such scan")
    return JSONResponse({"id": _path_id(request), "state": state},
                        status_code=202 if state == "cancelling" else 200)


def _render(body: str, fmt: str) -> str:
    load: Any = importlib.import_module("cryptocheck.report.load")
    out = StringIO()
    replay(load.load_report(body), make_reporter(fmt, out))
    return out.getvalue()


async def scan_report(request: Request) -> Response:
    """A finished scan's report in any installed format."""
    await authorize(request, "read")
    fmt = _format(request)
    job_id = _path_id(request)
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
        if importlib.util.find_spec("cryptocheck.report.load") is None:
            raise ApiError(404, "format-unavailable", "only json reports can be served here")
        body = await run_in_threadpool(_render, body, fmt)
    return Response(body, media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"),
                    headers=_document_policy(body, fmt))


CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"<>]*)"')


def _document_policy(body: str, fmt: str) -> dict[str, str]:
    """An HTML report carries its own Content-Security-Policy (hashes of its inline style
    and script): sent as the header too, so that the service's stricter default does not
    block them."""
    if fmt != "html":
        return {}
    found = CSP_META.search(body[:4096])
    return {"Content-Security-Policy": html.unescape(found.group(1))} if found else {}


def _filters(request: Request) -> estate.Filters:
    try:
        return estate.Filters(dict(request.query_params))
    except ValueError as exc:
        raise ApiError(400, "bad-filter", str(exc)) from None


async def list_assets(request: Request) -> Response:
    """The estate's assets as their latest scan saw them, filtered."""
    await authorize(request, "read")
    found = await run_in_threadpool(estate.query_assets, services(request).db, _filters(request))
    return JSONResponse({"assets": found})


async def list_findings(request: Request) -> Response:
    """Findings of the estate's latest scans, filtered."""
    await authorize(request, "read")
    found = await run_in_threadpool(estate.query_findings, services(request).db,
                                    _filters(request))
    return JSONResponse({"findings": found})


async def asset_history(request: Request) -> Response:
    """An asset's status scan after scan."""
    await authorize(request, "read")
    asset_id = request.path_params["asset_id"]
    history = await run_in_threadpool(estate.asset_history, services(request).db, asset_id)
    if history is None:
        raise ApiError(404, "not-found", "no such asset")
    return JSONResponse({"id": asset_id, "history": history})


async def list_policies(request: Request) -> Response:
    """The shipped policies."""
    await authorize(request, "read")

    def listing() -> list[dict[str, Any]]:
        out = []
        for policy_id in shipped_policy_ids():
            policy = shipped_policy(policy_id)
            out.append({"id": policy.id, "title": policy.title, "version": policy.version,
                        "rules": len(policy.rules), "sha256": policy.sha256})
        return out
    return JSONResponse({"policies": await run_in_threadpool(listing),
                         "kinds": available_kinds(), "formats": list(FORMATS)})


async def get_policy(request: Request) -> Response:
    """One shipped policy with every rule."""
    await authorize(request, "read")
    policy_id = request.path_params["policy_id"]
    if policy_id not in shipped_policy_ids():
        raise ApiError(404, "not-found", "no such policy")
    try:
        policy = await run_in_threadpool(shipped_policy, policy_id)
    except PolicyError as exc:
        raise ApiError(404, "not-found", str(exc)) from None
    return JSONResponse({"id": policy.id, "title": policy.title, "version": policy.version,
                         "description": policy.description, "sha256": policy.sha256,
                         "extends": list(policy.extends),
                         "rules": [rule_to_dict(r) for r in policy.rules]})


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
        raise _refused(exc) from None
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
                                    _path_id(request))
    if found is None:
        raise ApiError(404, "not-found", "no such schedule")
    return JSONResponse(found)


async def delete_schedule(request: Request) -> Response:
    """Stop a schedule (its scans stay)."""
    await authorize(request, "admin")
    if not await run_in_threadpool(schedules.delete_schedule, services(request).db,
                                   _path_id(request)):
        raise ApiError(404, "not-found", "no such schedule")
    return Response(status_code=204)


def routes() -> list[Route]:
    """The /v1 routes."""
    return [
        method_route("/v1/check/certificates", post=check_certificates),
        method_route("/v1/check/config", post=check_config),
        method_route("/v1/scans", get=list_scans, post=create_scan),
        method_route("/v1/scans/{id:int}", get=get_scan, delete=cancel_scan),
        method_route("/v1/scans/{id:int}/report", get=scan_report),
        method_route("/v1/assets", get=list_assets),
        method_route("/v1/assets/{asset_id}/history", get=asset_history),
        method_route("/v1/findings", get=list_findings),
        method_route("/v1/policies", get=list_policies),
        method_route("/v1/policies/{policy_id}", get=get_policy),
        method_route("/v1/schedules", get=list_schedules, post=create_schedule),
        method_route("/v1/schedules/{id:int}", get=get_schedule, delete=delete_schedule),
    ]
