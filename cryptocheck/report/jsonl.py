"""The ``jsonl`` format: one JSON object per line, written as the run goes.

Lines are ``{"record": "asset", ...asset fields..., "findings": [...]}`` for each asset,
``{"record": "error", ...}`` for each input that could not be read, and a last
``{"record": "summary", ...}`` line with the schema, tool, command, policy, times, counts,
chains and waivers. Each line is flushed as soon as it is written, so a consumer (or a person
watching ``tail -f``) sees results while a long scan runs, and an interrupted run keeps what
it wrote. A stream without a summary line is therefore an incomplete run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from cryptocheck.model import Asset, Finding, Report, RunError
from cryptocheck.report import ReportOptions, RunHeader
from cryptocheck.report.wire import (
    asset_to_dict,
    chain_to_dict,
    dumps_line,
    error_to_dict,
    finding_to_dict,
    run_metadata,
    waiver_to_dict,
)


def asset_record(asset: Asset, findings: Sequence[Finding]) -> dict[str, Any]:
    """The ``asset`` line for one asset and its findings."""
    return {"record": "asset"} | asset_to_dict(asset) | {
        "findings": [finding_to_dict(f) for f in findings]
    }


def error_record(error: RunError) -> dict[str, Any]:
    """The ``error`` line for one input that could not be read."""
    return {"record": "error"} | error_to_dict(error)


def summary_record(report: Report) -> dict[str, Any]:
    """The last line: everything about the run except the per-item records."""
    return {"record": "summary"} | run_metadata(report) | {
        "chains": [chain_to_dict(c) for c in report.chains],
        "waivers": [waiver_to_dict(w) for w in report.waivers],
    }


class JsonLinesReporter:
    """Writes one flushed line per asset and per error as they arrive, and a summary line."""

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        self._stream = stream

    def _write(self, record: Mapping[str, Any]) -> None:
        self._stream.write(dumps_line(record) + "\n")
        self._stream.flush()

    def begin(self, header: RunHeader) -> None:
        """Nothing is written before the first asset: the summary line says what ran."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        """Write the asset's line at once."""
        self._write(asset_record(asset, findings))

    def error(self, error: RunError) -> None:
        """Write the error's line at once."""
        self._write(error_record(error))

    def end(self, report: Report) -> None:
        """Write the summary line."""
        self._write(summary_record(report))
