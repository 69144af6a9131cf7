"""The ``json`` format: the whole report as one JSON document, written when the run ends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from cryptocheck.model import Asset, Finding, Report, RunError
from cryptocheck.report import ReportOptions, RunHeader
from cryptocheck.report.wire import dump_report


class JsonReporter:
    """Writes :func:`cryptocheck.report.wire.report_to_dict` of the final report at ``end``.

    A JSON document cannot be valid until it is complete, so nothing is written before
    ``end``; the items are already in the report and are not kept twice.
    """

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        self._stream = stream

    def begin(self, header: RunHeader) -> None:
        """Nothing to write yet."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        """Nothing to write yet: the asset is in the final report."""

    def error(self, error: RunError) -> None:
        """Nothing to write yet: the error is in the final report."""

    def end(self, report: Report) -> None:
        """Write the report as indented JSON followed by a newline."""
        dump_report(report, self._stream)
        self._stream.flush()
