"""The JSON Schema of the bulk path's JSON Lines (``certs --bulk --format jsonl``).

A bulk stream holds the report's own ``error``, ``asset`` and ``summary`` lines (described by
``cryptocheck/schema/report.schema.json``) and four lines of its own: ``class`` (a class of
certificates and the findings the policy gives every certificate in it), ``certificate``
(one certificate, pointing at its class), ``duplicate`` (a SHA-256 seen more than once) and
``bulk-summary``. The schema is the report schema's definitions plus these four.
"""

from __future__ import annotations

from typing import Any

from cryptocheck.schema import report_schema

_TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
_COUNTS = {"type": "object", "additionalProperties": {"$ref": "#/$defs/count"}}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STR = {"type": ["string", "null"]}

BULK_DEFS: dict[str, Any] = {
    "bulk_certificate": {
        "description": "One certificate; its findings are those of its class.",
        "type": "object",
        "additionalProperties": False,
        "required": ["record", "id", "sha256", "path", "index", "line", "offset", "class",
                     "status", "not_before", "not_after"],
        "properties": {
            "record": {"const": "certificate"},
            "id": {"type": "string", "pattern": "^cert-[0-9a-f]{16}$"},
            "sha256": {"$ref": "#/$defs/sha256_hex"},
            "path": {"type": "string"},
            "index": {"$ref": "#/$defs/count"},
            "line": _NULLABLE_INT,
            "offset": _NULLABLE_INT,
            "class": {"type": "string", "pattern": "^c[0-9a-f]{12}$"},
            "status": {"$ref": "#/$defs/status"},
            "not_before": _TIME,
            "not_after": _TIME,
        },
    },
    "bulk_class": {
        "description": "A class of certificates the policy cannot tell apart, and its findings.",
        "type": "object",
        "additionalProperties": False,
        "required": ["record", "class", "key_algorithm", "key_size", "curve", "key_oid",
                     "signature_algorithm", "signature_scheme", "signature_hash",
                     "signature_oid", "is_ca", "self_signed", "status", "findings"],
        "properties": {
            "record": {"const": "class"},
            "class": {"type": "string", "pattern": "^c[0-9a-f]{12}$"},
            "key_algorithm": {"type": "string"},
            "key_size": _NULLABLE_INT,
            "curve": _NULLABLE_STR,
            "key_oid": {"type": "string"},
            "signature_algorithm": {"type": "string"},
            "signature_scheme": {"type": "string"},
            "signature_hash": _NULLABLE_STR,
            "signature_oid": {"type": "string"},
            "is_ca": {"type": "boolean"},
            "self_signed": {"type": "boolean"},
            "status": {"$ref": "#/$defs/status"},
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["context", "rule", "status", "severity"],
                    "properties": {
                        "context": {"type": "string"},
                        "rule": {"type": "string"},
                        "status": {"$ref": "#/$defs/status"},
                        "severity": {"$ref": "#/$defs/severity"},
                        "waiver": {"type": "string",
                                   "description": "id of the waiver that covers the finding"},
                        "waiver_note": {"type": "string",
                                        "description": "why a waiver that matched was not "
                                                       "applied (expired)"},
                    },
                },
            },
        },
    },
    "bulk_duplicate": {
        "description": "A certificate (by SHA-256 of its DER) seen more than once.",
        "type": "object",
        "additionalProperties": False,
        "required": ["record", "sha256", "seen"],
        "properties": {
            "record": {"const": "duplicate"},
            "sha256": {"$ref": "#/$defs/sha256_hex"},
            "seen": {"type": "integer", "minimum": 2},
        },
    },
    "bulk_summary": {
        "description": "Counts of a bulk run: inputs = certificates + duplicates + "
                       "other_assets + errors.",
        "type": "object",
        "additionalProperties": False,
        "required": ["record", "inputs", "certificates", "duplicates", "other_assets",
                     "errors", "adds_up", "by_key", "by_signature_hash", "by_status",
                     "expiry_by_month", "errors_by_reason", "classes", "fallbacks", "jobs",
                     "engine", "seconds", "certificates_per_second"],
        "properties": {
            "record": {"const": "bulk-summary"},
            "inputs": {"$ref": "#/$defs/count"},
            "certificates": {"$ref": "#/$defs/count"},
            "duplicates": {"$ref": "#/$defs/count"},
            "other_assets": {"$ref": "#/$defs/count"},
            "errors": {"$ref": "#/$defs/count"},
            "adds_up": {"type": "string"},
            "by_key": _COUNTS,
            "by_signature_hash": _COUNTS,
            "by_status": {"$ref": "#/$defs/findings_by_status"},
            "expiry_by_month": _COUNTS,
            "errors_by_reason": _COUNTS,
            "classes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["class", "key_algorithm", "key_size", "curve",
                                 "signature_hash", "status", "count"],
                    "properties": {
                        "class": {"type": "string"},
                        "key_algorithm": {"type": "string"},
                        "key_size": _NULLABLE_INT,
                        "curve": _NULLABLE_STR,
                        "signature_hash": _NULLABLE_STR,
                        "status": {"$ref": "#/$defs/status"},
                        "count": {"$ref": "#/$defs/count"},
                    },
                },
            },
            "fallbacks": {"$ref": "#/$defs/count"},
            "jobs": {"type": "integer", "minimum": 1},
            "engine": {"enum": ["c", "python"]},
            "seconds": {"type": "number", "minimum": 0},
            "certificates_per_second": {"type": "integer", "minimum": 0},
        },
    },
}


def bulk_record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one line of a bulk stream (a fresh copy)."""
    schema = report_schema()
    schema["$defs"].update(BULK_DEFS)
    schema["$defs"]["bulk_record"] = {"oneOf": [
        {"$ref": "#/$defs/jsonl_asset"}, {"$ref": "#/$defs/jsonl_error"},
        {"$ref": "#/$defs/jsonl_summary"}, {"$ref": "#/$defs/bulk_certificate"},
        {"$ref": "#/$defs/bulk_class"}, {"$ref": "#/$defs/bulk_duplicate"},
        {"$ref": "#/$defs/bulk_summary"},
    ]}
    schema["$ref"] = "#/$defs/bulk_record"
    return schema
