"""The ``/v1`` API: every path and the handler of each of its methods, in one table (the
OpenAPI description in :mod:`.openapi` covers exactly these). The handlers live by what they
serve: :mod:`.checks` (synchronous checks), :mod:`.scans` (scans and schedules),
:mod:`.queries` (the estate and the policies)."""

from __future__ import annotations

from starlette.routing import Route

from cryptocheck.service import checks, queries, scans
from cryptocheck.service.routing import method_route


def routes() -> list[Route]:
    """The /v1 routes."""
    return [
        method_route("/v1/check/certificates", post=checks.check_certificates),
        method_route("/v1/check/config", post=checks.check_config),
        method_route("/v1/scans", get=scans.list_scans, post=scans.create_scan),
        method_route("/v1/scans/{id:int}", get=scans.get_scan, delete=scans.cancel_scan),
        method_route("/v1/scans/{id:int}/report", get=scans.scan_report),
        method_route("/v1/assets", get=queries.list_assets),
        method_route("/v1/assets/{asset_id}/history", get=queries.asset_history),
        method_route("/v1/findings", get=queries.list_findings),
        method_route("/v1/policies", get=queries.list_policies),
        method_route("/v1/policies/{policy_id}", get=queries.get_policy),
        method_route("/v1/schedules", get=scans.list_schedules, post=scans.create_schedule),
        method_route("/v1/schedules/{id:int}", get=scans.get_schedule, delete=scans.delete_schedule),
    ]
