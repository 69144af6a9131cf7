"""Reporters: they format what a run found, and decide nothing.

Every reporter takes the same stream of calls from the runner, so that a format that can
write as it goes (``jsonl``) does, and memory stays flat however large the run::

    reporter.begin(header)              # once, before anything else
    reporter.item(asset, findings)      # once per asset, as it is judged
    reporter.error(run_error)           # once per input that could not be read
    reporter.end(report)                # once, with the complete report (summary, chains)

Formats (each a :class:`ReportFormat` record in :data:`REPORT_FORMATS`, the one table the
CLI and the service read; adding a format is one reporter module and one line there):

- ``json``: the whole report (see :mod:`cryptocheck.report.wire`) written at ``end``.
- ``jsonl``: one line per asset (with its findings) and per error as they arrive, then one
  ``summary`` line.
- ``text``: for people; findings worst first, errors, and a summary line.
- ``sarif``: SARIF 2.1.0 for code-scanning dashboards (written by the configuration source).
- ``html``: one self-contained page for auditors: summary, charts, findings by rule with
  citations, inventory, waivers, scope and evidence (:mod:`cryptocheck.report.html`).
- ``cbom``: CycloneDX 1.6 cryptography bill of materials with the verdicts as properties.
- ``csv``: one row per finding (``csv_assets``: one per asset); ``junit``: JUnit XML, one
  test per asset and rule; ``markdown``: a pull-request comment.

The whole-document formats (html, cbom, csv, junit, markdown) derive from
:class:`CollectingReporter`. :mod:`cryptocheck.report.load` reads a saved ``json`` report
back, so every format can be rendered later (``cryptocheck report``);
:mod:`cryptocheck.report.sign` signs a run's outputs and :mod:`cryptocheck.report.diff`
compares two runs.

Pass/fail is not decided here: the summary carries the counts and the worst status, and the
CLI turns them into a verdict and an exit code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Protocol, TextIO

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    EndpointAsset,
    Finding,
    KeyAsset,
    PolicyInfo,
    Report,
    RunError,
    Status,
)

__all__ = [
    "FORMATS",
    "REPORT_FORMATS",
    "CollectingReporter",
    "ReportFormat",
    "ReportOptions",
    "Reporter",
    "RunHeader",
    "accepted_protocols",
    "asset_kind",
    "asset_name",
    "failing_findings",
    "finding_fingerprint",
    "header_from_report",
    "make_reporter",
    "replay",
    "report_format",
    "verdict",
]

@dataclass(frozen=True)
class ReportFormat:
    """One output format: its name (``--format``, ``?format=``), the reporter class that
    writes it (``"module:Class"``, imported only when the format is used; built as
    ``cls(stream, options)``, implementing :class:`Reporter`) and the media type the service
    serves it as.

    Adding a format is one reporter module and one line in :data:`REPORT_FORMATS`.
    """

    name: str
    reporter: str
    media_type: str

    def reporter_class(self) -> Callable[[TextIO, ReportOptions], Reporter]:
        """The reporter class, imported now."""
        module, _, attr = self.reporter.partition(":")
        cls: Callable[[TextIO, ReportOptions], Reporter] = getattr(
            importlib.import_module(module), attr)
        return cls


#: Every report format, in the order the CLI and the service list them: the one table.
REPORT_FORMATS: Final = (
    ReportFormat("text", "cryptocheck.report.text:TextReporter", "text/plain; charset=utf-8"),
    ReportFormat("json", "cryptocheck.report.json_report:JsonReporter", "application/json"),
    ReportFormat("jsonl", "cryptocheck.report.jsonl:JsonLinesReporter", "application/x-ndjson"),
    ReportFormat("sarif", "cryptocheck.report.sarif:SarifReporter", "application/sarif+json"),
    ReportFormat("html", "cryptocheck.report.html:HtmlReporter", "text/html; charset=utf-8"),
    ReportFormat("cbom", "cryptocheck.report.cbom:CbomReporter",
                 "application/vnd.cyclonedx+json"),
    ReportFormat("csv", "cryptocheck.report.csv_report:CsvReporter", "text/csv; charset=utf-8"),
    ReportFormat("junit", "cryptocheck.report.junit:JunitReporter", "application/xml"),
    ReportFormat("markdown", "cryptocheck.report.markdown:MarkdownReporter",
                 "text/markdown; charset=utf-8"),
)

_BY_NAME: Final = {fmt.name: fmt for fmt in REPORT_FORMATS}

#: The format names, in order (for option choices).
FORMATS: Final = tuple(_BY_NAME)


def report_format(name: str) -> ReportFormat:
    """The format called ``name``; an unknown name is a ValueError (a caller mistake)."""
    found = _BY_NAME.get(name)
    if found is None:
        raise ValueError(f"unknown report format {name!r} (expected one of: "
                         f"{', '.join(FORMATS)})")
    return found


@dataclass(frozen=True)
class ReportOptions:
    """How a reporter should render; every field has a default, and formats ignore what does
    not concern them. ``fail_on`` is the CLI's threshold (JUnit failures, the verdict line)."""

    color: bool = False
    show_approved: bool = False
    fail_on: Status = Status.DISALLOWED
    csv_assets: bool = False


@dataclass(frozen=True)
class RunHeader:
    """What is known about a run before its first asset: who, what, under which policy, when."""

    tool_version: str
    command: str
    targets: tuple[str, ...]
    policy: PolicyInfo
    as_of: date
    started: datetime


class Reporter(Protocol):
    """Receives a run as a stream; see the module docstring for the order of calls."""

    def begin(self, header: RunHeader) -> None:
        """Called once, before any item or error."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        """One asset and every finding on it (approved ones included)."""

    def error(self, error: RunError) -> None:
        """One input that could not be read."""

    def end(self, report: Report) -> None:
        """The complete report, with its summary and chains; the last call."""


def make_reporter(
    fmt: str, stream: TextIO, *, color: bool = False, show_approved: bool = False,
    options: ReportOptions | None = None,
) -> Reporter:
    """A reporter that writes format ``fmt`` to ``stream``.

    ``color`` turns on ANSI colour in ``text`` (the CLI passes True only on a terminal with
    ``NO_COLOR`` unset); ``show_approved`` lists approved findings in ``text`` rather than
    only counting them; ``options``, when given, replaces both. An unknown format is a
    ValueError (a caller mistake).

    Example: ``make_reporter("jsonl", sys.stdout)``.
    """
    cls = report_format(fmt).reporter_class()
    return cls(stream, options or ReportOptions(color=color, show_approved=show_approved))


class CollectingReporter:
    """Base of the formats that can only be written whole (html, cbom, csv, junit, markdown).

    It keeps the records as they stream in (so it works whether or not the runner collects
    them) and, at ``end``, writes :meth:`render` of the complete report. Subclasses implement
    ``render(report) -> str`` as a pure function of the report and the options.
    """

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        self.stream = stream
        self.options = options or ReportOptions()
        self._assets: list[Asset] = []
        self._findings: list[Finding] = []
        self._errors: list[RunError] = []

    def begin(self, header: RunHeader) -> None:
        """Nothing to write before the first record."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        self._assets.append(asset)
        self._findings.extend(findings)

    def error(self, error: RunError) -> None:
        self._errors.append(error)

    def end(self, report: Report) -> None:
        """Write the whole document for ``report`` with the records that streamed in."""
        whole = dataclasses.replace(report, assets=tuple(self._assets),
                                    findings=tuple(self._findings), errors=tuple(self._errors))
        self.stream.write(self.render(whole))
        self.stream.flush()

    def render(self, report: Report) -> str:
        """The document for ``report``."""
        raise NotImplementedError


def failing_findings(findings: Iterable[Finding], fail_on: Status) -> list[Finding]:
    """The findings at or worse than ``fail_on`` that no waiver covers: what fails a run
    (the one place this rule is written; the CLI's exit decision counts them)."""
    return [f for f in findings if not f.waived and f.status.rank >= fail_on.rank]


def verdict(report: Report, fail_on: Status) -> str:
    """``PASS``, ``FAIL`` (findings at or above ``fail_on``) or ``ERROR`` (no input read),
    the way the CLI decides its exit code."""
    if failing_findings(report.findings, fail_on):
        return "FAIL"
    if not report.assets and report.errors:
        return "ERROR"
    return "PASS"


def asset_kind(asset: Asset) -> str:
    """The kind of source an asset came from, for counts and filters: ``certificate``,
    ``public-key``, ``private-key``, ``tls-endpoint``, ``ssh-endpoint``, ``config-setting``."""
    return asset.type


def asset_name(asset: Asset) -> str:
    """A short name a person recognises: a certificate's subject, an endpoint's host:port, a
    setting's directive, a key's algorithm (the location says where)."""
    if isinstance(asset, CertificateAsset):
        return asset.subject or asset.id
    if isinstance(asset, KeyAsset):
        size = f" {asset.key_size}" if asset.key_size and not asset.curve else ""
        curve = f" {asset.curve}" if asset.curve else ""
        return f"{asset.key_algorithm}{size}{curve} {asset.type}"
    if isinstance(asset, EndpointAsset):
        return f"{asset.service} {asset.location}"
    return f"{asset.directive} = {asset.value}"


def accepted_protocols(asset: EndpointAsset) -> list[str]:
    """The protocol versions an endpoint accepted, from its ``protocols`` detail: the TLS
    source writes ``{"TLSv1.2": {"accepted": true, ...}, ...}``; a plain list of names is
    read as all accepted. Empty when the detail is absent."""
    listed = asset.details.get("protocols")
    if isinstance(listed, dict):
        return [str(name) for name, entry in listed.items()
                if not isinstance(entry, dict) or entry.get("accepted", True)]
    if isinstance(listed, list):
        return [str(entry) for entry in listed if isinstance(entry, str)]
    return []


def finding_fingerprint(finding: Finding) -> str:
    """A stable identity for a finding across runs: the same rule on the same usage of the
    same asset at the same place gives the same 16 hex digits, whatever its status or date.

    Used by ``report diff`` (new, fixed and unchanged findings) and written in CSV and CBOM.
    """
    usage = finding.usage
    parts = (finding.rule, finding.asset_id, usage.context, usage.algorithm,
             str(usage.key_size), str(usage.curve), str(usage.hash), str(finding.location))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "backslashreplace")).hexdigest()[:16]


def header_from_report(report: Report) -> RunHeader:
    """The :class:`RunHeader` a finished report began with."""
    return RunHeader(
        tool_version=report.tool_version,
        command=report.command,
        targets=report.targets,
        policy=report.policy,
        as_of=report.as_of,
        started=report.started,
    )


def replay(report: Report, reporter: Reporter) -> None:
    """Feed a finished report to ``reporter`` as if it were running now.

    For rendering a stored report (``cryptocheck report``) and for tests. Assets come in the
    report's order, each with its findings (in the report's order); then the errors.
    """
    by_asset: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_asset.setdefault(finding.asset_id, []).append(finding)
    reporter.begin(header_from_report(report))
    for asset in report.assets:
        reporter.item(asset, tuple(by_asset.get(asset.id, ())))
    for error in report.errors:
        reporter.error(error)
    reporter.end(report)
