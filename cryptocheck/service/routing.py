"""What every route shares: the services, the caller's token, JSON errors and small helpers
for bodies, path ids, report formats and report responses.

Routes import this module and it imports no route, so the application (:mod:`.app`) can
import every route module at its top: the dependency goes one way.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cryptocheck.report import FORMATS, report_format
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.kinds import RequestError
from cryptocheck.service.metrics import RequestCounter
from cryptocheck.service.security import (
    Allowlist,
    Principal,
    RateLimiter,
    TargetRefused,
    hash_token,
    lookup_token,
    scope_allows,
)
from cryptocheck.service.storage import Database, now_text
from cryptocheck.service.worker import Runner

SESSION_COOKIE = "cryptocheck_session"
MAX_ID = 2**62


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON body of an error."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


class Services:
    """What the routes share: settings, database, allowlist, limiter, runner, counters."""

    def __init__(self, config: ServeConfig, db: Database, runner: Runner | None) -> None:
        self.config = config
        self.db = db
        self.runner = runner
        self.allowlist = Allowlist(config.allow_networks, config.allow_hosts)
        self.limiter = RateLimiter(config.rate_limit_per_minute)
        self.requests = RequestCounter()


def services(request: Request) -> Services:
    """The app's shared services."""
    found: Services = request.app.state.services
    return found


def _session_principal(db: Database, session: str) -> Principal | None:
    with db.transaction() as tx:
        row = tx.one("SELECT t.id, t.name, t.scope FROM sessions s JOIN tokens t ON "
                     "t.id = s.token_id WHERE s.session_hash = ? AND s.expires > ? "
                     "AND t.revoked = 0", (hash_token(session), now_text()))
    return Principal(int(row["id"]), str(row["name"]), str(row["scope"])) if row else None


async def authorize(request: Request, scope: str) -> Principal:
    """The caller, if its token (bearer, or the dashboard's session on GET) holds ``scope``;
    otherwise :class:`ApiError` 401/403, or 429 when it is over its rate."""
    svc = services(request)
    header = request.headers.get("authorization", "")
    principal: Principal | None = None
    if header:
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "send the token as 'Authorization: Bearer TOKEN'",
                           {"WWW-Authenticate": 'Bearer realm="cryptocheck"'})
        principal = await run_in_threadpool(lookup_token, svc.db, token.strip())
    elif request.method == "GET" and request.cookies.get(SESSION_COOKIE):
        principal = await run_in_threadpool(_session_principal, svc.db,
                                            request.cookies[SESSION_COOKIE])
    if principal is None:
        raise ApiError(401, "unauthorized", "a valid API token is required",
                       {"WWW-Authenticate": 'Bearer realm="cryptocheck"'})
    if not scope_allows(principal.scope, scope):
        raise ApiError(403, "forbidden", f"this token's scope ({principal.scope}) does not "
                                         f"allow this; it needs scope {scope}")
    wait = svc.limiter.allow(principal.token_id)
    if wait:
        raise ApiError(429, "rate-limited", "too many requests for this token",
                       {"Retry-After": str(max(1, round(wait)))})
    return principal


Handler = Callable[[Request], Awaitable[Response]]


def method_route(path: str, **handlers: Handler) -> Route:
    """One route for a path and all its methods (``get=``, ``post=``...), so that a 405
    names every method the path has."""
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def endpoint(request: Request) -> Response:
        return await table["GET" if request.method == "HEAD" else request.method](request)
    return Route(path, endpoint, methods=list(table))


async def read_json(request: Request) -> Any:
    """The request's JSON body, or ApiError 400."""
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad-json", f"the body is not JSON: {type(exc).__name__}") from None


def path_id(request: Request, name: str = "id") -> int:
    """A numeric id from the path; ApiError 404 beyond what the database can hold."""
    value = int(request.path_params[name])
    if value > MAX_ID:
        raise ApiError(404, "not-found", f"no such {name}")
    return value


def refused(exc: RequestError | TargetRefused) -> ApiError:
    """The answer to a request the service will not run."""
    if isinstance(exc, TargetRefused):
        return ApiError(403, "target-not-allowed", str(exc))
    return ApiError(exc.status, exc.code, str(exc))


def requested_format(request: Request, default: str = "json") -> str:
    """The report format asked for in ``?format=`` (a name of the one registry of report
    formats); 400 if there is no such format."""
    fmt = request.query_params.get("format", default)
    if fmt not in FORMATS:
        raise ApiError(400, "bad-format", f"unknown format {fmt!r} (this server renders: "
                                          f"{', '.join(FORMATS)})")
    return fmt


CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"<>]*)"')


def report_response(body: str, fmt: str) -> Response:
    """A rendered report with its format's media type. An HTML report carries its own
    Content-Security-Policy (hashes of its inline style and script): sent as the header too,
    so that the service's stricter default does not block them."""
    headers: dict[str, str] = {}
    if fmt == "html":
        found = CSP_META.search(body[:4096])
        if found:
            headers["Content-Security-Policy"] = html.unescape(found.group(1))
    return Response(body, media_type=report_format(fmt).media_type, headers=headers)
