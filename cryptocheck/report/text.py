"""The ``text`` format: what a person reads in a terminal or a CI log.

A header (tool, policy, as-of date), then one table of findings grouped by status worst
first, the errors, and one summary line with the counts and the worst status. Approved
findings are counted, and listed only when asked. The reporter prints no verdict: the CLI
knows ``--fail-on`` and adds it.

Everything printed that came from an input (subjects, comments, paths, messages) is passed
through :func:`~cryptocheck.report.terminal.printable` first, so a certificate whose subject
holds an escape sequence or a newline cannot rewrite the terminal or forge a line of the
report. Columns, widths and colours are :mod:`cryptocheck.report.terminal`'s; the rows of a
long table are held by :mod:`cryptocheck.report.external_sort`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    Chain,
    ConfigAsset,
    EndpointAsset,
    Finding,
    Report,
    RunError,
    Status,
    Summary,
)
from cryptocheck.report import ReportOptions, RunHeader
from cryptocheck.report.external_sort import ExternalSort
from cryptocheck.report.terminal import (
    BOLD,
    DIM,
    STATUS_COLOUR,
    display_width,
    fit,
    pad,
    paint,
    printable,
)
from cryptocheck.report.wire import findings_by_status, iso_date, require_summary

# Statuses worst first: the order of the table and of the summary counts.
_WORST_FIRST = tuple(sorted(Status, key=lambda s: s.rank, reverse=True))

# Widest a column may grow before its cells are shortened; the message column is last and
# never shortened, so long messages only make lines long, not misaligned.
_MAX_RULE = 40
_MAX_ASSET = 48
_MAX_LOCATION = 56
_MAX_REASON = 24
_TARGETS_SHOWN = 5

# Algorithms whose description is incomplete without a size (or a curve).
_SIZED = frozenset({"RSA", "RSA-PSS", "DSA", "DH", "EC", "ECDSA", "ECDH"})


# --- descriptions ------------------------------------------------------------------------

def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _rdn_parts(name: str) -> list[str]:
    """The attribute=value parts of an RFC 4514 name, split on unescaped ``,`` and ``+``."""
    parts, current, escaped = [], [], False
    for char in name:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in ",+":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def short_name(name: str) -> str:
    """The most telling part of a distinguished name: its CN, else its first part.

    >>> short_name("CN=example.com,O=Example Ltd,C=GB")
    'CN=example.com'
    """
    parts = _rdn_parts(name)
    for part in parts:
        attribute = part.split("=", 1)[0].strip().upper()
        if attribute in ("CN", "2.5.4.3"):
            return part
    return parts[0] if parts else "(empty subject)"


def describe_key(algorithm: str, key_size: int | None, curve: str | None, oid: str | None) -> str:
    """``RSA 1024``, ``EC secp256r1``, ``Ed25519``, ``RSA size unknown``, ``unknown 1.2.3.4``."""
    if algorithm == "unknown":
        return f"unknown {oid}" if oid else "unknown"
    if curve:
        # Ed25519/Ed448 keys may name their curve after themselves: say it once
        return algorithm if curve.lower() == algorithm.lower() else f"{algorithm} {curve}"
    if key_size is not None:
        return f"{algorithm} {key_size}"
    if algorithm in _SIZED:
        return f"{algorithm} size unknown"
    return algorithm


def asset_name_and_key(asset: Asset) -> tuple[str, str]:
    """The two parts of :func:`describe_asset`: whose it is, and what key it has."""
    if isinstance(asset, EndpointAsset):
        where = f"{asset.location.host}:{asset.location.port}"
        return printable(where), printable(asset.type.replace("-endpoint", "").upper())
    if isinstance(asset, ConfigAsset):
        return printable(asset.directive), printable(fit(asset.value, 60))
    key = describe_key(asset.key_algorithm, asset.key_size, asset.curve, asset.key_oid)
    if isinstance(asset, CertificateAsset):
        return printable(short_name(asset.subject)), printable(key)
    kind = "private key" if asset.type == "private-key" else "public key"
    return printable(asset.comment or kind), printable(key)


def describe_asset(asset: Asset, width: int | None = None) -> str:
    """A short description of an asset for one table cell, at most ``width`` columns.

    ``CN=example.com (RSA 1024)`` for a certificate; ``alice@laptop (Ed25519)`` for a key with
    a comment, else ``private key (EC secp384r1)``. Where it was found is a separate column.
    When it must be shortened, the name is cut and the key kept: the key is what the row is
    usually about.
    """
    name, key = asset_name_and_key(asset)
    suffix = f" ({key})"
    if width is None:
        return name + suffix
    if display_width(suffix) + 2 > width:
        return fit(name + suffix, width)
    return fit(name, width - display_width(suffix)) + suffix


def _waiver_text(finding: Finding) -> str:
    notes = []
    if finding.waiver is not None:
        w = finding.waiver
        notes.append(f"[waived {w.id} until {iso_date(w.expires)}, owner {w.owner}: {w.reason}]")
    if finding.waiver_note:
        notes.append(f"[{finding.waiver_note}]")
    return " ".join(notes)


# --- the reporter ------------------------------------------------------------------------

# A row of the findings table: (sort key, status, rule, asset, location, message). Plain
# tuples (sorted by their key first) so that long tables sort, spill and merge quickly.
_Key = tuple[int, int, str, int, int, str, str]
_Row = tuple[_Key, str, str, str, str, str]


class TextReporter:
    """Writes the header at ``begin`` and the tables and summary at ``end``.

    Only findings to be listed are kept between calls (approved ones are not, unless
    ``show_approved``), in an :class:`~cryptocheck.report.external_sort.ExternalSort`:
    memory stays bounded however many there are.
    """

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        opts = options or ReportOptions()
        self._stream = stream
        self._color = opts.color
        self._show_approved = opts.show_approved
        self._rows: ExternalSort[_Row] = ExternalSort()
        self._widths = [len("STATUS"), len("RULE"), len("ASSET"), len("LOCATION")]
        self._errors: list[RunError] = []
        self._names: dict[str, str] = {}  # certificate id -> description, for the chains

    # colour is applied after padding, so escape codes never count towards a width
    def _paint(self, text: str, code: str) -> str:
        return paint(text, code) if self._color else text

    def _status(self, status: Status, width: int = 0) -> str:
        return self._paint(pad(status.value, width), STATUS_COLOUR[status])

    def begin(self, header: RunHeader) -> None:
        """Write who is checking what, under which policy, as of when."""
        policy = header.policy
        targets = [printable(t) for t in header.targets[:_TARGETS_SHOWN]]
        more = len(header.targets) - _TARGETS_SHOWN
        if more > 0:
            targets.append(f"(+{more} more)")
        lines = [
            self._paint(f"cryptocheck {header.tool_version}", BOLD)
            + f"  {printable(header.command)} {' '.join(targets)}".rstrip(),
            f"Policy  {printable(policy.id)} {printable(policy.version)}"
            + (f" — {printable(policy.title)}" if policy.title else ""),
            f"As of   {iso_date(header.as_of)}",
            "",
        ]
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        """Keep the findings on ``asset`` that will be listed."""
        description = describe_asset(asset, _MAX_ASSET)
        if isinstance(asset, CertificateAsset):
            self._names[asset.id] = description
        for finding in findings:
            status = Status(finding.status)
            if status is Status.APPROVED and not self._show_approved:
                continue
            loc = finding.location
            message = finding.message
            waiver = _waiver_text(finding)
            if waiver:
                message = f"{message} {waiver}"
            rule, location = printable(finding.rule), printable(str(loc))
            key = (-status.rank, 1 if finding.waiver is not None else 0,
                   loc.path or loc.host or "", -1 if loc.index is None else loc.index,
                   -1 if loc.line is None else loc.line, finding.rule, message)
            widths = self._widths
            widths[0] = max(widths[0], display_width(status.value))
            widths[1] = max(widths[1], min(_MAX_RULE, display_width(rule)))
            widths[2] = max(widths[2], min(_MAX_ASSET, display_width(description)))
            widths[3] = max(widths[3], min(_MAX_LOCATION, display_width(location)))
            self._rows.add((key, status.value, rule, description, location,
                            printable(message)))

    def error(self, error: RunError) -> None:
        """Keep the error for the errors table."""
        self._errors.append(error)

    def end(self, report: Report) -> None:
        """Write the findings table, the errors and the summary line."""
        summary = require_summary(report)
        try:
            self._write_findings_table()
        finally:
            self._rows.close()
        out: list[str] = []
        counts = findings_by_status(summary.findings_by_status)
        approved = counts[Status.APPROVED.value]
        if approved and not self._show_approved:
            out.append(f"{_plural(approved, 'approved finding')} not listed.")
            out.append("")
        out.extend(self._chains_table(report.chains))
        out.extend(self._errors_table())
        out.append(self._summary_line(summary))
        self._stream.write("\n".join(out) + "\n")
        self._stream.flush()

    def _write_findings_table(self) -> None:
        """The findings, worst first, written as they come off the sort."""
        write = self._stream.write
        if not self._rows:
            write("No findings to list.\n\n")
            return
        w_status, w_rule, w_asset, w_loc = self._widths
        heading = "  ".join(
            [pad("STATUS", w_status), pad("RULE", w_rule), pad("ASSET", w_asset),
             pad("LOCATION", w_loc), "MESSAGE"]
        )
        write(self._paint(heading, BOLD) + "\n")
        previous: str | None = None
        for _, status, rule, asset, location, message in self._rows.sorted():
            if previous is not None and status != previous:
                write("\n")
            previous = status
            write("  ".join(
                [
                    self._status(Status(status), w_status),
                    pad(fit(rule, w_rule), w_rule),
                    pad(asset, w_asset),
                    pad(fit(location, w_loc, keep_end=True), w_loc),
                    message,
                ]
            ).rstrip() + "\n")
        write("\n")

    def _chains_table(self, chains: Sequence[Chain]) -> list[str]:
        """Each chain, leaf first, with its weakest link (worst status on any certificate)."""
        if not chains:
            return []
        lines = [self._paint(f"Chains ({len(chains)})", BOLD)]
        for chain in chains:
            names = [self._names.get(cert_id, cert_id) for cert_id in chain.certificates]
            state = "" if chain.complete else " (incomplete: no self-signed root given)"
            weakest = Status(chain.weakest_status)
            link = self._names.get(chain.weakest_asset, chain.weakest_asset)
            rule = f" {printable(chain.weakest_rule)}" if chain.weakest_rule else ""
            lines.append(f"  {' -> '.join(printable(n) for n in names)}{state}")
            lines.append(f"    weakest link: {self._status(weakest)}{rule} at {printable(link)}")
        lines.append("")
        return lines

    def _errors_table(self) -> list[str]:
        if not self._errors:
            return []
        errors = sorted(
            self._errors,
            key=lambda e: (str(e.location), e.reason, e.message),
        )
        locations = [printable(str(e.location)) for e in errors]
        reasons = [printable(e.reason) for e in errors]
        w_loc = min(_MAX_LOCATION, max(len("LOCATION"), *(display_width(s) for s in locations)))
        w_reason = min(_MAX_REASON, max(len("REASON"), *(display_width(s) for s in reasons)))
        lines = [
            self._paint(f"Errors ({len(errors)})", BOLD),
            self._paint("  ".join([pad("LOCATION", w_loc), pad("REASON", w_reason), "MESSAGE"]), DIM),
        ]
        for error, location, reason in zip(errors, locations, reasons):
            lines.append(
                "  ".join(
                    [
                        pad(fit(location, w_loc, keep_end=True), w_loc),
                        pad(fit(reason, w_reason), w_reason),
                        printable(error.message),
                    ]
                ).rstrip()
            )
        lines.append("")
        return lines

    def _summary_line(self, summary: Summary) -> str:
        """``12 assets, 1 error: 3 disallowed, 7 approved (1 waived) — worst status: disallowed``."""
        counts = findings_by_status(summary.findings_by_status)
        parts = [
            self._paint(f"{counts[status.value]} {status.value}", STATUS_COLOUR[status])
            for status in _WORST_FIRST
            if counts[status.value]
        ]
        findings = ", ".join(parts) if parts else "no findings"
        line = f"{_plural(summary.assets, 'asset')}, {_plural(summary.errors, 'error')}: {findings}"
        if summary.waived:
            line += f" ({summary.waived} waived)"
        if summary.worst_status is not None:
            line += f" — worst status: {self._status(Status(summary.worst_status))}"
        return line
