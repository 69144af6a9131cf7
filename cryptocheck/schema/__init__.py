"""The JSON Schema (draft 2020-12) of the report wire format, ``report.schema.json``.

The wire format itself is built by :mod:`cryptocheck.report.wire`; tests validate every
report format that writes it against this schema.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _schema_text() -> str:
    return resources.files("cryptocheck.schema").joinpath("report.schema.json").read_text("utf-8")


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the ``json`` report (a fresh copy each call)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def jsonl_record_schema() -> dict[str, Any]:
    """The same schema document, rooted at one ``jsonl`` line (asset, error or summary)."""
    schema = report_schema()
    schema["$ref"] = "#/$defs/jsonl_record"
    return schema
