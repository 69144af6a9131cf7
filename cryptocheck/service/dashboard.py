"""The dashboard: a server-rendered page at ``/`` after logging in with a token.

Logging in exchanges the token for a session (a random id, stored hashed, in an HttpOnly,
SameSite=Strict cookie), so the token itself is never kept by the browser. The page has no
script and no inline style: the Content-Security-Policy forbids both.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from cryptocheck.model import Status
from cryptocheck.report import FORMATS
from cryptocheck.service import estate
from cryptocheck.service.routing import SESSION_COOKIE, ApiError, authorize, method_route, services
from cryptocheck.service.security import Principal, hash_token, lookup_token
from cryptocheck.service.storage import Database

HERE = Path(__file__).parent
EXPIRY_WINDOW = timedelta(days=30)


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(HERE)),
                       autoescape=select_autoescape(["j2", "html"], default=True))


def _page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    text = _environment().get_template(name).render(**values)
    return HTMLResponse(text, status_code=status)


async def login_form(request: Request) -> Response:
    """The login page."""
    return _page("login.j2", principal=None, error=None)


def _start_session(db: Database, principal: Principal, hours: int) -> str:
    session = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)
    with db.transaction() as tx:
        tx.run("INSERT INTO sessions (session_hash, token_id, expires) VALUES (?, ?, ?)",
               (hash_token(session), principal.token_id,
                expires.isoformat().replace("+00:00", "Z")))
    return session


async def login(request: Request) -> Response:
    """Check the token of the login form and start a session."""
    svc = services(request)
    try:
        form = await request.form(max_files=0, max_fields=5)
    except Exception:  # noqa: BLE001 - a malformed form is the caller's mistake
        return _page("login.j2", 400, principal=None, error="The form could not be read.")
    token = form.get("token")
    principal = None
    if isinstance(token, str) and token.strip():
        principal = await run_in_threadpool(lookup_token, svc.db, token.strip())
    if principal is None:
        return _page("login.j2", 401, principal=None, error="That token is not valid.")
    session = await run_in_threadpool(_start_session, svc.db, principal,
                                      svc.config.session_hours)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, session, max_age=svc.config.session_hours * 3600,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


async def logout(request: Request) -> Response:
    """End the session."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        def forget(db: Database) -> None:
            with db.transaction() as tx:
                tx.run("DELETE FROM sessions WHERE session_hash = ?", (hash_token(session),))
        await run_in_threadpool(forget, services(request).db)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def home(request: Request) -> Response:
    """The estate at a glance (login first)."""
    try:
        principal = await authorize(request, "read")
    except ApiError as exc:
        if exc.status == 401:
            return RedirectResponse("/login", status_code=303)
        raise
    expiring_before = (datetime.now(UTC) + EXPIRY_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = await run_in_threadpool(estate.summary, services(request).db, expiring_before)
    statuses = [s.value for s in sorted(Status, key=lambda s: -s.rank)]
    report_format = "html" if "html" in FORMATS else "json"
    return _page("dashboard.j2", principal=principal, summary=summary, statuses=statuses,
                 expiring_before=expiring_before, formats=FORMATS, report_format=report_format)


async def asset_page(request: Request) -> Response:
    """One asset: what it is, its status scan after scan, its latest findings."""
    try:
        principal = await authorize(request, "read")
    except ApiError as exc:
        if exc.status == 401:
            return RedirectResponse("/login", status_code=303)
        raise
    asset_id = request.path_params["asset_id"]
    db = services(request).db
    history = await run_in_threadpool(estate.asset_history, db, asset_id)
    if history is None:
        raise ApiError(404, "not-found", "no such asset")
    asset, findings = await run_in_threadpool(estate.asset_in_scan, db, history[-1]["scan"],
                                              asset_id)
    report_format = "html" if "html" in FORMATS else "json"
    return _page("asset.j2", principal=principal, asset_id=asset_id, asset=asset or {},
                 history=history, findings=findings, report_format=report_format)


async def stylesheet(request: Request) -> Response:
    """The dashboard's stylesheet."""
    return Response((HERE / "serve.css").read_text("utf-8"), media_type="text/css")


def routes() -> list[Route]:
    """The dashboard routes."""
    return [
        method_route("/", get=home),
        method_route("/login", get=login_form, post=login),
        method_route("/logout", post=logout),
        method_route("/asset/{asset_id}", get=asset_page),
        method_route("/static/serve.css", get=stylesheet),
    ]
