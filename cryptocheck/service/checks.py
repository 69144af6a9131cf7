"""``POST /v1/check/*``: judge uploaded files at once and answer with the report (nothing
is stored: the uploads live in a temporary directory for the length of the request)."""

from __future__ import annotations

from io import StringIO
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cryptocheck.report import make_reporter
from cryptocheck.service.kinds import RequestError, check_date, check_policy, run_request
from cryptocheck.service.routing import (
    ApiError,
    authorize,
    refused,
    report_response,
    requested_format,
)
from cryptocheck.service.uploads import upload_name

PASSWORD_HEADER = "x-cryptocheck-password"


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
    request: dict[str, Any] = {"kind": kind, "targets": [], "options": {}, "policy": policy,
                               "as_of": as_of}
    run_request(request, files, [make_reporter(fmt, out)], passwords=passwords)
    return out.getvalue()


async def _checkmethod_route(request: Request, kind: str) -> Response:
    await authorize(request, "scan")
    fmt = requested_format(request)
    try:
        policy = check_policy(request.query_params.get("policy"))
        as_of = check_date(request.query_params.get("as_of"))
    except RequestError as exc:
        raise refused(exc) from None
    files = await _uploads(request)
    # Passwords for PKCS#12, JKS and encrypted keys come in headers (never logged, never
    # stored: checks are not kept), one per X-Cryptocheck-Password header.
    passwords = tuple(v for v in request.headers.getlist(PASSWORD_HEADER) if v)
    body = await run_in_threadpool(_check, files, kind, policy, as_of, fmt, passwords)
    return report_response(body, fmt)


async def check_certificates(request: Request) -> Response:
    """Judge uploaded certificates and keys at once (PEM, DER, PKCS#7, archives)."""
    return await _checkmethod_route(request, "certs")


async def check_config(request: Request) -> Response:
    """Judge an uploaded configuration file, or a tar/zip of a repository, at once."""
    return await _checkmethod_route(request, "config")
