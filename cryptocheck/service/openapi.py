"""The OpenAPI 3.1 description served at ``/openapi.json``, written by hand beside the routes
it describes (tests fuzz the server against it, so a drift shows)."""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptocheck.model import Status
from cryptocheck.policy import shipped_policy_ids
from cryptocheck.report import FORMATS, REPORT_FORMATS
from cryptocheck.sources.registry import get_source, source_names
from cryptocheck.version import __version__

JSON = "application/json"
STATUSES = [s.value for s in Status]
# The media types of the one registry of report formats, without their parameters.
REPORT_TYPES = sorted({fmt.media_type.partition(";")[0] for fmt in REPORT_FORMATS})


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {
    "400": _error("The request is not valid (the message says why)."),
    "401": _error("No valid token was sent."),
    "403": _error("The token's scope does not allow this, or a target is outside the allowlist."),
    "413": _error("The request body is over the size limit."),
    "429": _error("This token is over its rate limit (see Retry-After)."),
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _ok(description: str, schema: dict[str, Any] | None = None, status: str = "200",
        types: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {t: {"schema": schema} for t in (types or [JSON])}
    return {status: body}


def _op(summary: str, scope: str | None, responses: dict[str, Any],
        parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
        errors: tuple[str, ...] = ("400", "401", "403", "413", "429")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses}}
    if scope is None:
        op["security"] = []
    else:
        op["description"] = f"Needs a token of scope `{scope}` or higher."
        op["responses"].update({code: ERRORS[code] for code in errors})
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    return op


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


ID = {"type": "integer", "minimum": 0, "maximum": 2**62}
FORMAT = _query("format", "Report format (GET /v1/policies lists them).",
                {"type": "string", "default": "json", "enum": list(FORMATS)})
POLICY = _query("policy", "A shipped policy id (default: nhs-acagpg).",
                {"type": "string", "enum": shipped_policy_ids()})
AS_OF = _query("as_of", "Judge as of this date (YYYY-MM-DD).",
               {"type": "string", "format": "date"})
PASSWORD = {"name": "X-Cryptocheck-Password", "in": "header", "required": False,
            "description": "A password to try on PKCS#12, JKS and encrypted keys (repeat the "
                           "header for several; never logged or stored).",
            "schema": {"type": "string"}}
ESTATE_FILTERS = [
    _query("status", "Only this status.", {"type": "string", "enum": STATUSES}),
    _query("rule", "Only findings of this rule id.", {"type": "string"}),
    _query("kind", "Asset type (certificate, public-key, private-key, tls-endpoint, ...).",
           {"type": "string"}),
    _query("host", "Only assets of this host.", {"type": "string"}),
    _query("expiring_before", "Certificates expiring before this date.",
           {"type": "string", "format": "date"}),
    _query("job", "Only assets of this scan (default: each asset's latest scan).", ID),
    _query("limit", "At most this many (1-1000).", {"type": "integer", "minimum": 1,
                                                     "maximum": 1000}),
    _query("offset", "Skip this many.", {"type": "integer", "minimum": 0, "maximum": 10**9}),
]
UPLOAD = {"required": True, "description": "The file itself (PEM, DER, PKCS#7, PKCS#12, an "
          "archive), or a multipart form whose file fields are read.", "content": {
              "application/octet-stream": {"schema": {"type": "string", "format": "binary",
                                                      "minLength": 1}},
              "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                 "properties": {"file": {
                                                     "type": "string", "format": "binary"}}}}}}


def _option_schema(rule: Any) -> dict[str, Any]:
    if rule is bool:
        return {"type": "boolean"}
    if isinstance(rule, tuple):
        return {"type": "string", "enum": list(rule)}
    return {"type": "number", "exclusiveMinimum": 0}


OPTIONS = {"type": "object", "additionalProperties": False,
           "description": "Options of the kind's scanner: numbers at most its defaults.",
           "properties": {name: _option_schema(rule) for kind in source_names()
                          for name, rule in get_source(kind).tunable.items()}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}}},
    "ScanRequest": {"type": "object", "additionalProperties": False, "required": ["kind"],
                    "anyOf": [{"required": ["targets"], "properties": {
                                  "targets": {"minItems": 1}}},
                              {"required": ["files"], "properties": {"files": {
                                  "minItems": 1}}}],
                    "properties": {
        "kind": {"type": "string", "enum": list(source_names())},
        "targets": {"type": "array", "items": {"type": "string", "minLength": 1},
                    "description": "host[:port] for tls/ssh (inside the allowlist); paths "
                                   "under allow.paths for certs/config."},
        "files": {"type": "array", "items": {"type": "object", "required": ["content"],
                  "additionalProperties": False,
                  "properties": {"name": {"type": "string", "minLength": 1},
                                 "content": {"type": "string", "contentEncoding": "base64"}}}},
        "policy": {"type": "string", "enum": shipped_policy_ids()},
        "as_of": {"type": "string", "format": "date"}, "options": OPTIONS}},
    "Scan": {"type": "object", "required": ["id", "kind", "state"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string"},
        "state": {"type": "string", "enum": ["queued", "running", "finished", "failed",
                                             "cancelled"]},
        "progress": {"type": "object"}, "counts": {"type": "object"},
        "restarted": {"type": "boolean"}, "restarts": {"type": "integer"},
        "attempts": {"type": "integer"}, "events": {"type": "array"},
        "report": {"type": ["string", "null"]}}},
    "Schedule": {"type": "object", "required": ["id", "interval_seconds"], "properties": {
        "id": {"type": "integer"}, "interval_seconds": {"type": "integer"},
        "next_run": {"type": "string"}, "scan": {"type": "object"}}},
    "ScheduleRequest": {"type": "object", "required": ["scan", "interval_seconds"],
                        "additionalProperties": False, "properties": {
        "scan": _ref("ScanRequest"), "interval_seconds": {"type": "integer", "minimum": 60}}},
    "Report": {"type": "object", "description": "The JSON report (cryptocheck/schema/"
                                                "report.schema.json)."},
}


@cache
def spec() -> dict[str, Any]:
    """The description of every route."""
    read, scan = "read", "scan"
    missing = {"404": _error("No such thing.")}
    paths: dict[str, Any] = {
        "/healthz": {"get": _op("Liveness", None, _ok("Alive", {"type": "object"}))},
        "/readyz": {"get": _op("Readiness (database answers, schema current)", None, {
            **_ok("Ready", {"type": "object"}), "503": {"description": "Not ready"}})},
        "/metrics": {"get": _op("Prometheus metrics", read, _ok(
            "Metrics", {"type": "string"}, types=["text/plain"]))},
        "/openapi.json": {"get": _op("This description", None, _ok("OpenAPI", {
            "type": "object"}))},
        "/v1/check/certificates": {"post": _op(
            "Judge uploaded certificates and keys now", scan,
            _ok("The report", {}, types=REPORT_TYPES),
            [FORMAT, POLICY, AS_OF, PASSWORD], UPLOAD)},
        "/v1/check/config": {"post": _op(
            "Judge an uploaded configuration file or tar/zip of a repository now", scan,
            _ok("The report", {}, types=REPORT_TYPES),
            [FORMAT, POLICY, AS_OF], UPLOAD)},
        "/v1/scans": {
            "post": _op("Queue a scan", scan, {**_ok("Queued", _ref("Scan"), "202")},
                        body={"required": True, "content": {JSON: {
                            "schema": _ref("ScanRequest")}}}),
            "get": _op("Scans, newest first", read, _ok("Scans", {"type": "object"}), [
                _query("state", "Only this state.", {"type": "string"}),
                *ESTATE_FILTERS[-2:]])},
        "/v1/scans/{id}": {
            "parameters": [_path("id", ID)],
            "get": _op("A scan's state, progress, counts and events", read,
                       {**_ok("The scan", _ref("Scan")), **missing}),
            "delete": _op("Cancel a scan", scan, {**_ok("Done", {"type": "object"}),
                                                 **_ok("Cancelling", {"type": "object"}, "202"),
                                                 **missing})},
        "/v1/scans/{id}/report": {
            "parameters": [_path("id", ID)],
            "get": _op("A finished scan's report", read, {
                **_ok("The report", {}, types=REPORT_TYPES), **missing,
                "409": _error("The scan has not finished.")}, [FORMAT])},
        "/v1/assets": {"get": _op("Assets as their latest scan saw them", read,
                                  _ok("Assets", {"type": "object"}), ESTATE_FILTERS)},
        "/v1/findings": {"get": _op("Findings of each asset's latest scan", read,
                                    _ok("Findings", {"type": "object"}), ESTATE_FILTERS)},
        "/v1/assets/{asset_id}/history": {
            "parameters": [_path("asset_id", {"type": "string"})],
            "get": _op("An asset's status scan after scan", read,
                       {**_ok("History", {"type": "object"}), **missing})},
        "/v1/policies": {"get": _op("Shipped policies, scan kinds and report formats", read,
                                    _ok("Policies", {"type": "object"}))},
        "/v1/policies/{policy_id}": {
            "parameters": [_path("policy_id", {"type": "string"})],
            "get": _op("A policy and its rules", read,
                       {**_ok("The policy", {"type": "object"}), **missing})},
        "/v1/schedules": {
            "post": _op("Re-run a scan at an interval", "admin",
                        _ok("Created", _ref("Schedule"), "201"),
                        body={"required": True, "content": {JSON: {
                            "schema": _ref("ScheduleRequest")}}}),
            "get": _op("Schedules", read, _ok("Schedules", {"type": "object"}))},
        "/v1/schedules/{id}": {
            "parameters": [_path("id", ID)],
            "get": _op("A schedule", read, {**_ok("The schedule", _ref("Schedule")), **missing}),
            "delete": _op("Remove a schedule", "admin", {"204": {"description": "Removed"},
                                                     **missing})},
        "/": {"get": _op("The dashboard (after logging in; otherwise a redirect to /login)",
                         None, {**_ok("The page", {"type": "string"}, types=["text/html"]),
                                "303": {"description": "Log in first"}})},
        "/login": {
            "get": _op("The login page", None, _ok("The page", {"type": "string"},
                                                   types=["text/html"])),
            "post": _op("Log in with a token (starts a session cookie)", None, {
                "303": {"description": "Logged in"},
                "400": {"description": "The form could not be read"},
                "401": {"description": "Not a valid token"}},
                body={"required": True, "content": {"application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": {"token": {
                        "type": "string"}}}}}})},
        "/asset/{asset_id}": {
            "parameters": [_path("asset_id", {"type": "string"})],
            "get": _op("An asset's page: its status over time (dashboard; its session, "
                       "else a redirect to /login)", None, {
                **_ok("The page", {"type": "string"}, types=["text/html"]), **missing,
                "303": {"description": "Log in first"}})},
        "/logout": {"post": _op("End the session", None, {
            "303": {"description": "Logged out"}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "cryptocheck service", "version": __version__,
                 "description": "Checks, durable scans, the estate and policies. Send "
                                "'Authorization: Bearer TOKEN' (make one with `cryptocheck "
                                "serve token create`)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
