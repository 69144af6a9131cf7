"""Read-only routes: the estate (assets, findings, an asset's history) as the latest scans
left it (:mod:`.estate`), and the shipped policies."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cryptocheck.policy import PolicyError, shipped_policy_ids
from cryptocheck.policy.rules import rule_to_dict
from cryptocheck.report import FORMATS
from cryptocheck.service import estate
from cryptocheck.service.kinds import available_kinds, shipped_policy
from cryptocheck.service.routing import ApiError, authorize, services


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
