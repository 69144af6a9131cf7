"""The ASGI application: Starlette routes over the storage, the job runner and run.scan.

Every endpoint but ``/healthz`` and ``/readyz`` (and the dashboard's login page) needs a bearer
token; 401 means no valid token, 403 a token whose scope is too small. Errors are JSON
``{"error": code, "message": text}``. Bodies are bounded (``max_request_bytes``, 413) and
each token is rate limited (429 with ``Retry-After``). Nothing here logs a header, a body or
a query string value that could hold a secret.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cryptocheck.service import api, dashboard
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.metrics import RequestCounter, render
from cryptocheck.service.openapi import spec
from cryptocheck.service.routing import ApiError, Services, authorize, error_response, services
from cryptocheck.service.storage import MIGRATIONS, Database
from cryptocheck.service.worker import Runner

log = logging.getLogger("cryptocheck.service")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"),
    (b"content-security-policy",
     (b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
      b"frame-ancestors 'none'; base-uri 'none'")),
]


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes (413) before a route reads them, whether
    or not a Content-Length was sent; counts requests for /metrics; adds security headers."""

    def __init__(self, app: ASGIApp, limit: int, counter: RequestCounter) -> None:
        self.app = app
        self.limit = limit
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A route may set its own (a rendered HTML report: its own hashes).
                message["headers"] = headers + [(name, value) for name, value in SECURITY_HEADERS
                                                if name not in present]
            await send(message)

        declared = dict(scope["headers"]).get(b"content-length")
        too_large = declared is not None and (not declared.isdigit() or int(declared) > self.limit)
        chunks: list[bytes] = []
        size = 0
        if not too_large and scope["method"] not in ("GET", "HEAD"):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    too_large = True
                    break
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if too_large:
            response = error_response(413, "too-large",
                                      f"the request body is over {self.limit} bytes")
            await response(scope, receive, sending)
        else:
            body = b"".join(chunks)
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()
            await self.app(scope, replay, sending)
        self.counter.add(scope["method"], status["code"], time.monotonic() - started)


async def healthz(request: Request) -> Response:
    """Alive (no token needed)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and its schema is current (no token needed)."""
    version = await run_in_threadpool(services(request).db.schema_version)
    if version != MIGRATIONS[-1][0]:
        return JSONResponse({"status": "not ready", "schema": version}, status_code=503)
    return JSONResponse({"status": "ready", "schema": version})


async def metrics(request: Request) -> Response:
    """Prometheus metrics (scope read)."""
    await authorize(request, "read")
    svc = services(request)
    text = await run_in_threadpool(render, svc.db, svc.requests)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


async def openapi(request: Request) -> Response:
    """The OpenAPI description (no token needed: it describes, it holds nothing)."""
    return JSONResponse(spec())


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not-found", 405: "method-not-allowed"}
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), str(exc.detail),
                          dict(exc.headers or {}))


def create_app(config: ServeConfig, *, run_jobs: bool = True) -> Starlette:
    """The service as an ASGI app; migrates the database and starts the job runner when
    it starts up (``run_jobs=False``: an API-only process)."""
    db = Database(config.database_url, config.database_pool_size)
    svc = Services(config, db, Runner(db, config) if run_jobs else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(db.migrate)
        if svc.runner is not None:
            svc.runner.start()
            log.info("worker %s: %d job thread(s) on %s", svc.runner.worker_id,
                     config.workers, db.describe())
        yield
        if svc.runner is not None:
            await run_in_threadpool(svc.runner.stop)

    routes = [
        Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
        Route("/openapi.json", openapi), *api.routes(), *dashboard.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error})
    app.state.services = svc
    app.add_middleware(BodyLimit, limit=config.max_request_bytes, counter=svc.requests)
    return app
