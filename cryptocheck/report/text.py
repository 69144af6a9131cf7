"""The ``text`` format: what a person reads in a terminal or a CI log.

A header (tool, policy, as-of date), then one table of findings grouped by status worst
first, the errors, and one summary line with the counts and the worst status. Approved
findings are counted, and listed only when asked. The reporter prints no verdict: the CLI
knows ``--fail-on`` and adds it.

Everything printed that came from an input (subjects, comments, paths, messages) is passed
through :func:`printable` first, so a certificate whose subject holds an escape sequence or a
newline cannot rewrite the terminal or forge a line of the report.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from typing import IO, TextIO

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
from cryptocheck.report.wire import findings_by_status, iso_date, require_summary

# Statuses worst first: the order of the table and of the summary counts.
_WORST_FIRST = tuple(sorted(Status, key=lambda s: s.rank, reverse=True))

_ANSI_RESET = "\x1b[0m"
_STATUS_COLOUR = {
    Status.DISALLOWED: "\x1b[1;31m",  # bold red
    Status.UNKNOWN: "\x1b[35m",  # magenta
    Status.DEPRECATED: "\x1b[33m",  # yellow
    Status.LEGACY: "\x1b[36m",  # cyan
    Status.APPROVED: "\x1b[32m",  # green
}
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"

# Widest a column may grow before its cells are shortened; the message column is last and
# never shortened, so long messages only make lines long, not misaligned.
_MAX_RULE = 40
_MAX_ASSET = 48
_MAX_LOCATION = 56
_MAX_REASON = 24
_TARGETS_SHOWN = 5
_ELLIPSIS = "…"

# Algorithms whose description is incomplete without a size (or a curve).
_SIZED = frozenset({"RSA", "RSA-PSS", "DSA", "DH", "EC", "ECDSA", "ECDH"})


# --- text helpers ------------------------------------------------------------------------

def printable(text: str) -> str:
    """``text`` with control and format characters shown as escapes (``\\x1b``, ``\\u202e``).

    Input-derived strings are untrusted: an ANSI sequence in a certificate subject must not
    reach the terminal, a newline must not start a forged line, and a bidi override must not
    reorder what is shown.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"):
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:  # other separators (NBSP and the like): show as a plain space
            out.append(" ")
    return "".join(out)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide East Asian characters count 2, combining 0."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int, *, keep_end: bool = False) -> str:
    """``text`` shortened to at most ``width`` columns with ``…``.

    ``keep_end`` keeps the end rather than the start (for paths: the file name matters most).
    """
    if display_width(text) <= width:
        return text
    chars = list(reversed(text)) if keep_end else list(text)
    kept: list[str] = []
    used = display_width(_ELLIPSIS)
    for char in chars:
        w = display_width(char)
        if used + w > width:
            break
        kept.append(char)
        used += w
    if keep_end:
        return _ELLIPSIS + "".join(reversed(kept))
    return "".join(kept) + _ELLIPSIS


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns."""
    return text + " " * max(0, width - display_width(text))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- descriptions ------------------------------------------------------------------------

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


# Rows held in memory before a sorted run of them is written to a temporary file; the table
# is then written by merging the runs, so a run with millions of findings to list takes the
# memory of this many rows, not of all of them.
SPILL_ROWS = 50_000
_BATCH = 1000  # rows in one pickle of a run


def _write_run(rows: list[_Row]) -> IO[bytes]:
    """``rows`` sorted, in a temporary file (deleted when closed)."""
    run = tempfile.TemporaryFile(prefix="cryptocheck-text-")  # noqa: SIM115 - closed in end()
    rows.sort()
    for start in range(0, len(rows), _BATCH):  # batches, each its own pickle
        pickle.dump(rows[start:start + _BATCH], run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _read_run(run: IO[bytes]) -> Iterator[_Row]:
    while True:
        try:
            batch = pickle.load(run)
        except EOFError:
            return
        yield from batch


class TextReporter:
    """Writes the header at ``begin`` and the tables and summary at ``end``.

    Only findings to be listed are kept between calls (approved ones are not, unless
    ``show_approved``), and past :data:`SPILL_ROWS` of them they go to temporary files in
    sorted runs, merged at the end: memory stays bounded however many there are.
    """

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        opts = options or ReportOptions()
        self._stream = stream
        self._color = opts.color
        self._show_approved = opts.show_approved
        self._rows: list[_Row] = []
        self._runs: list[IO[bytes]] = []  # sorted runs of rows written out (SPILL_ROWS)
        self._widths = [len("STATUS"), len("RULE"), len("ASSET"), len("LOCATION")]
        self._errors: list[RunError] = []
        self._names: dict[str, str] = {}  # certificate id -> description, for the chains

    # colour is applied after padding, so escape codes never count towards a width
    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{_ANSI_RESET}" if self._color else text

    def _status(self, status: Status, width: int = 0) -> str:
        return self._paint(pad(status.value, width), _STATUS_COLOUR[status])

    def begin(self, header: RunHeader) -> None:
        """Write who is checking what, under which policy, as of when."""
        policy = header.policy
        targets = [printable(t) for t in header.targets[:_TARGETS_SHOWN]]
        more = len(header.targets) - _TARGETS_SHOWN
        if more > 0:
            targets.append(f"(+{more} more)")
        lines = [
            self._paint(f"cryptocheck {header.tool_version}", _BOLD)
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
            self._rows.append((key, status.value, rule, description, location,
                               printable(message)))
            if len(self._rows) >= SPILL_ROWS:
                self._runs.append(_write_run(self._rows))
                self._rows = []

    def error(self, error: RunError) -> None:
        """Keep the error for the errors table."""
        self._errors.append(error)

    def end(self, report: Report) -> None:
        """Write the findings table, the errors and the summary line."""
        summary = require_summary(report)
        try:
            self._write_findings_table()
        finally:
            for run in self._runs:
                run.close()
            self._runs = []
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
        """The findings, worst first, written as they come off the merge of the sorted runs
        (those spilled to disk and the rows still held)."""
        write = self._stream.write
        if not self._rows and not self._runs:
            write("No findings to list.\n\n")
            return
        self._rows.sort()
        rows: Iterator[_Row] = heapq.merge(*(_read_run(run) for run in self._runs),
                                           iter(self._rows))
        w_status, w_rule, w_asset, w_loc = self._widths
        heading = "  ".join(
            [pad("STATUS", w_status), pad("RULE", w_rule), pad("ASSET", w_asset),
             pad("LOCATION", w_loc), "MESSAGE"]
        )
        write(self._paint(heading, _BOLD) + "\n")
        previous: str | None = None
        for _, status, rule, asset, location, message in rows:
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
        self._rows = []

    def _chains_table(self, chains: Sequence[Chain]) -> list[str]:
        """Each chain, leaf first, with its weakest link (worst status on any certificate)."""
        if not chains:
            return []
        lines = [self._paint(f"Chains ({len(chains)})", _BOLD)]
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
            self._paint(f"Errors ({len(errors)})", _BOLD),
            self._paint("  ".join([pad("LOCATION", w_loc), pad("REASON", w_reason), "MESSAGE"]), _DIM),
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
            self._paint(f"{counts[status.value]} {status.value}", _STATUS_COLOUR[status])
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
