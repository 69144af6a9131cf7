"""The bookkeeping of a bulk reader, and what it settles through the normal path.

:class:`Entries` holds the state one :class:`~cryptocheck.bulk.reader.Reader` keeps (the
scanner, the classes met so far, the :class:`Tally`) and turns items of the normal path of
:mod:`cryptocheck.sources.files` into *entries* (see ``_fastcert.c``): a class of certificate met for
the first time, a certificate the scanner does not read with certainty, a block with another
label, a line that is not plain base64, a file read whole by the normal path.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import fnmatch
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from datetime import date

from cryptocheck.bulk.compiled import (
    ClassInfo,
    breakpoints,
    certificate_line,
    class_key_gaps,
    class_of,
    month_index,
)
from cryptocheck.bulk.handover import Sink
from cryptocheck.bulk.inputs import json_path, key_numbers, names_other_items, raw_path
from cryptocheck.bulk.lines import ERROR, json_text, scanner_pieces
from cryptocheck.bulk.pyscan import DOUBT, MISS, load_scanner
from cryptocheck.model import Asset, CertificateAsset, RunError, Waiver
from cryptocheck.policy import Policy
from cryptocheck.report.jsonl import asset_record, error_record
from cryptocheck.report.wire import dumps_line
from cryptocheck.run import findings_for
from cryptocheck.sources.files import SourceOptions, SourceStats, archive, pem, text
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.walk import _Run, content_items
from cryptocheck.sources.files.x509 import certificate_asset

Piece = tuple[bytes, bytes]  # (meta, lines): see _fastcert.c
HANDED_ON = b"\x00"  # meta of a piece whose entries went to the reader's sink
FLUSH_AT = 4 * 1024 * 1024  # entries held before they are handed on


@dataclasses.dataclass
class Tally:
    """What one reader counted that the entries do not carry."""

    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    other_assets: int = 0
    other_findings: Counter[str] = dataclasses.field(default_factory=Counter)
    other_waived: Counter[str] = dataclasses.field(default_factory=Counter)  # of other_findings
    files_read: int = 0
    files_skipped: int = 0
    fallbacks: int = 0  # certificates the C scanner handed to the normal path


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(value)


def is_class_wide(waiver: Waiver) -> bool:
    """Whether ``waiver`` names rules only, so that it holds alike for every certificate of a
    class (the others name certificates: by SHA-256, asset id, path or subject)."""
    return (waiver.asset is None and waiver.sha256 is None and waiver.path is None
            and waiver.subject is None)


def watch_set(waivers: tuple[Waiver, ...]) -> set[bytes]:
    """The SHA-256 digests (32 bytes) and certificate asset ids (their 8 bytes) waivers name:
    the C scanner hands such a certificate to the normal path."""
    watched: set[bytes] = set()
    for waiver in waivers:
        try:
            if waiver.sha256 is not None and len(waiver.sha256) == 64:
                watched.add(bytes.fromhex(waiver.sha256))
            if waiver.asset is not None and waiver.asset.startswith("cert-") \
                    and len(waiver.asset) == 21:
                watched.add(bytes.fromhex(waiver.asset[5:]))
        except ValueError:
            continue  # not hex: it names no certificate
    return watched


class Entries:
    """The state of one reader and the entries it makes (see :class:`Reader
    <cryptocheck.bulk.reader.Reader>`, which adds the reading).

    ``force_python`` uses the pure-Python scanner even when the C one is built (tests).
    """

    def __init__(self, policy: Policy, as_of: date, options: SourceOptions,
                 waivers: tuple[Waiver, ...] = (), force_python: bool = False,
                 field: str | None = None) -> None:
        self.policy = policy
        self.as_of = as_of
        self.options = options
        # Waivers: those naming only rules hold for a whole class (the class's verdict is
        # judged with them); a certificate another waiver may name (by SHA-256, asset id,
        # path or subject) is judged by the normal path with all of them.
        self.waivers = waivers
        self.class_waivers = tuple(w for w in waivers if is_class_wide(w))
        self.path_globs = tuple(w.path for w in waivers if w.path is not None
                                and w.sha256 is None and w.asset is None)
        self.doubt_all = any(w.subject is not None and w.sha256 is None and w.asset is None
                             and w.path is None for w in waivers)
        # A rule testing a field the class key does not capture: no class verdict can be
        # reused, so every certificate goes to the normal path (the CLI says so on stderr).
        self.class_key_gaps = class_key_gaps(policy, as_of)
        self.doubt_all = self.doubt_all or bool(self.class_key_gaps)
        self.field = field
        self.points = breakpoints(policy, as_of)
        self.keys: dict[bytes, tuple[int, bytes]] = {}
        self.infos: list[ClassInfo] = []
        self.by_name: dict[str, int] = {}
        self.new_classes: list[tuple[int, ClassInfo]] = []
        self.tally = Tally()
        self.scanner = load_scanner(force_python)(
            self.keys, self.points.not_after, self.points.not_before, self.points.span,
            self.doubt_all, pieces=scanner_pieces())
        watched = watch_set(waivers)
        if watched:
            self.scanner.watch = watched
        self.fast = not force_python and type(self.scanner).__module__.endswith("_fastcert")
        self.run = _Run(options, SourceStats())
        self.passwords = tuple(options.passwords)  # tried on keys in bundles, as the normal path does
        self.other_text = False  # text around PEM blocks names Secrets or SSH keys
        self.range_state: tuple[int, int, bool, int] = (0, 1, False, -1)
        self._error_path: str | None = None
        self.sink: Sink | None = None  # where a worker's entries go (else pieces carry them)
        self._error_path_json = ""

    # -- classes and items ------------------------------------------------------------

    def class_id(self, info: ClassInfo) -> int:
        """The local id of a class, registering it when new."""
        found = self.by_name.get(info.name)
        if found is None:
            found = len(self.infos)
            self.infos.append(info)
            self.by_name[info.name] = found
            self.new_classes.append((found, info))
        return found

    def emit(self, item: Asset | RunError, offset: int | None) -> None:
        """Add one item of the normal path to the entries."""
        if isinstance(item, RunError):
            self.tally.errors[item.reason] += 1
            self.scanner.append_raw(self.error_line(item, offset))
            return
        findings = findings_for(item, self.policy, self.as_of, self.waivers)
        if isinstance(item, CertificateAsset):
            info = class_of(item, findings)
            local = self.class_id(info)
            self.scanner.append_cert(bytes.fromhex(item.sha256), local,
                                     month_index(item.not_after),
                                     certificate_line(item, info, offset))
            return
        self.tally.other_assets += 1
        for finding in findings:
            self.tally.other_findings[finding.status.value] += 1
            if finding.waived:
                self.tally.other_waived[finding.status.value] += 1
        self.scanner.append_raw((dumps_line(asset_record(item, findings)) + "\n").encode())

    def error_line(self, error: RunError, offset: int | None) -> bytes:
        """The report's ``error`` line for ``error`` (with ``offset`` when the error has
        none), written from the wire format's template (:data:`cryptocheck.bulk.lines.ERROR`):
        a run with 1% garbage meets tens of thousands."""
        loc = error.location
        if loc.host is not None or loc.column is not None or loc.path is None:
            if offset is not None and loc.offset is None:
                error = dataclasses.replace(error, location=dataclasses.replace(loc,
                                                                                offset=offset))
            return (dumps_line(error_record(error)) + "\n").encode()
        if loc.path != self._error_path:
            self._error_path, self._error_path_json = loc.path, json_path(loc.path).decode()
        at = loc.offset if loc.offset is not None else offset
        return (ERROR.fill({
            "path": self._error_path_json, "index": _json_int(loc.index),
            "reason": json_text(error.reason), "message": json_text(error.message),
            "line": _json_int(loc.line), "offset": _json_int(at)}) + "\n").encode()

    def learn(self, der_bytes: bytes, key: bytes) -> bool:
        """Judge a certificate of a class not met before through the normal path and
        remember the class under the scanner's key; False if the scanner's reading of the
        certificate disagrees with the normal path's (then it is not cached)."""
        asset = certificate_asset(der_bytes, FileContext("-"), None, "PEM")
        if not isinstance(asset, CertificateAsset):
            return False
        bits, is_ca, self_signed, b_after, b_before, b_span = key_numbers(key)
        epoch_after = int(asset.not_after.timestamp())
        epoch_before = int(asset.not_before.timestamp())
        span = epoch_after - epoch_before
        points = self.points
        agree = (
            (bits == -1 or bits == asset.key_size)
            and bool(is_ca) == asset.is_ca and bool(self_signed) == asset.self_signed
            and b_after == bisect_right(points.not_after, epoch_after)
            and b_before == bisect_right(points.not_before, epoch_before)
            and b_span == (span if points.span is None else bisect_right(points.span, span)))
        if not agree:
            return False
        findings = findings_for(asset, self.policy, self.as_of, self.class_waivers)
        info = class_of(asset, findings)
        self.keys[key] = (self.class_id(info), info.mid())
        return True

    def start_file(self, path: str, check_edges: bool) -> None:
        """Tell the scanner a new file starts; every certificate of a file a waiver names
        by path goes to the normal path."""
        self.scanner.set_file(json_path(path), raw_path(path), check_edges)
        if self.path_globs:
            self.scanner.force_doubt = self.doubt_all or any(
                fnmatch.fnmatchcase(path, glob) for glob in self.path_globs)

    def take(self) -> Piece:
        """The entries produced since the last call: (meta, lines). In a worker with a
        :attr:`sink`, they go straight to it and the piece is empty (its meta is
        :data:`HANDED_ON` when it held entries, so that callers can still tell)."""
        if self.sink is not None:
            return (HANDED_ON, b"") if self.sink.take_from(self.scanner) else (b"", b"")
        meta, lines = self.scanner.take()
        return bytes(meta), bytes(lines)

    # -- one certificate -----------------------------------------------------------

    def one_der(self, path: str, der_bytes: bytes, line: int | None, offset: int,
                source_format: str) -> None:
        """One certificate in DER: by the scanner if it can, else by the normal path."""
        scanner = self.scanner
        code = scanner.scan_der(der_bytes, -1 if line is None else line, offset)
        if code == MISS:
            key = scanner.pending()[3]
            if self.learn(der_bytes, key):
                code = scanner.scan_der(der_bytes, -1 if line is None else line, offset)
        if code in (MISS, DOUBT):
            self.tally.fallbacks += self.fast
            ctx = FileContext(path, self.passwords, next_index=scanner.index)
            self.emit(certificate_asset(der_bytes, ctx, line, source_format), offset)
            scanner.index = ctx.next_index

    # -- what the scanner hands back -------------------------------------------------

    def block(self, path: str, buf: bytes | bytearray, pos: int, final: bool) -> int | None:
        """Handle the BEGIN line at ``pos`` exactly as :func:`cryptocheck.sources.files.pem.scan`
        does; return where scanning goes on, or None when more text is needed."""
        scanner = self.scanner
        match = pem._BEGIN.match(buf, pos)
        if match is None:
            # A BEGIN line cut by the end of the input: not a block.
            scanner.line += buf.count(b"\n", pos, pos + 1)
            return pos + 1
        following = pem._BEGIN.search(buf, match.end())
        if following is None and not final:
            return None
        label = match.group(1)
        limit = following.start() if following else len(buf)
        end_marker = b"-----END " + label + b"-----"
        end = buf.find(end_marker, match.end(), limit)
        line = scanner.line
        ctx = FileContext(path, self.passwords, next_index=scanner.index)
        offset = scanner.base + pos
        if scanner.report_text and names_other_items(buf[pos:limit]):
            self.other_text = True
        if end < 0:
            self.emit(ctx.error("truncated-pem", f"PEM block {label.decode()!r} has no END line",
                                line), offset)
            scanner.check_gap = False
            scanner.prev_end = -1
            after = limit
        else:
            event = pem._decode(label.decode(), bytes(buf[match.end():end]), line)
            if isinstance(event, pem.PemProblem):
                self.emit(ctx.error(event.reason, event.message, line), offset)
            else:
                for item in text._block_items(event, ctx, line):
                    self.emit(item, offset)
            after = end + len(end_marker)
            scanner.prev_end = scanner.base + after
            scanner.check_gap = True
        scanner.index = ctx.next_index
        scanner.line += buf.count(b"\n", pos, after)
        return after

    def base64_item(self, text_line: bytes, ctx: FileContext, line: int) -> Asset | RunError:
        """The certificate (or error) of one base64 line."""
        try:
            der_bytes = base64.b64decode(text_line, validate=True)
        except (binascii.Error, ValueError):
            return ctx.error("garbage", "line is not base64 of a certificate", line)
        return certificate_asset(der_bytes, ctx, line, "base64")

    # -- whole files by the normal path ----------------------------------------------

    def normal(self, path: str, data: bytes, explicit: bool, depth: int,
               budget: archive.ArchiveBudget) -> Iterator[Piece]:
        """The normal path's items for a whole file."""
        before = self.run.stats.files_read, self.run.stats.files_skipped
        for item in content_items(self.run, data, path, explicit, depth, budget):
            self.emit(item, None)
            if self.scanner.buffered() >= FLUSH_AT:
                yield self.take()
        self.tally.files_read += self.run.stats.files_read - before[0]
        self.tally.files_skipped += self.run.stats.files_skipped - before[1]
        yield self.take()
