"""Reading inputs for the bulk path: files, directories, archives, standard input, JSON Lines.

One :class:`Reader` per process. It drives the scanner (the C one when it is built, else
:mod:`cryptocheck.bulk.pyscan`) over streams of bytes, and settles everything the scanner
hands back through the normal path of :mod:`cryptocheck.sources`: a block with another label,
a body that is not plain base64, a certificate the scanner does not read with certainty, a
class of certificate met for the first time. Small files whose content the bulk path does not
read (keys, PKCS#12, JKS, Kubernetes Secrets, text with SSH keys...) go to the normal path
whole, so their items are exactly the normal path's.

What it produces is a stream of *entries* (see ``_fastcert.c``): certificate lines with their
SHA-256 and class, and raw lines (errors, non-certificate assets), in input order.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import stat
import sys
import tarfile
import zipfile
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO, Any

from cryptocheck.model import Asset, CertificateAsset, Location, RunError, Waiver
from cryptocheck.policy import Policy
from cryptocheck.report.jsonl import asset_record, error_record
from cryptocheck.report.wire import clean_text, dumps_line
from cryptocheck.run import findings_for
from cryptocheck.sources import SourceOptions, SourceStats, archive, der, jks, pem, text
from cryptocheck.sources.context import FileContext, has_crypto_extension
from cryptocheck.sources.walk import _Run, content_items
from cryptocheck.sources.x509 import certificate_asset

from .compiled import ClassInfo, breakpoints, certificate_line, class_of, month_index
from .handover import Sink
from .inputs import (
    Rejoined,
    certificate_bytes,
    json_path,
    key_numbers,
    looks_like_base64_lines,
    names_other_items,
    raw_path,
    reread,
    text_after_blocks,
    walk,
)
from .pyscan import DONE, DOUBT, GAP, MISS, NEED_MORE, TAIL, TEXT, load_scanner

Piece = tuple[bytes, bytes]  # (meta, lines): see _fastcert.c
HANDED_ON = b"\x00"  # meta of a piece whose entries went to the reader's sink
CHUNK = 4 * 1024 * 1024
_HEADROOM = 1024 * 1024  # for the unfinished block carried from one piece to the next
FLUSH_AT = 4 * 1024 * 1024  # entries held before they are handed on
_MAX_HELD = 64 * 1024 * 1024  # a block that never ends is truncated after this much
@dataclasses.dataclass
class Tally:
    """What one reader counted that the entries do not carry."""

    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    other_assets: int = 0
    other_findings: Counter[str] = dataclasses.field(default_factory=Counter)
    files_read: int = 0
    files_skipped: int = 0
    fallbacks: int = 0  # certificates the C scanner handed to the normal path


class Reader:
    """Reads inputs into entries for one process.

    ``force_python`` uses the pure-Python scanner even when the C one is built (tests).
    """

    def __init__(self, policy: Policy, as_of: date, options: SourceOptions,
                 waivers: tuple[Waiver, ...] = (), force_python: bool = False,
                 field: str | None = None) -> None:
        self.policy = policy
        self.as_of = as_of
        self.options = options
        self.waivers = waivers
        self.field = field
        self.points = breakpoints(policy, as_of)
        self.keys: dict[bytes, tuple[int, bytes]] = {}
        self.infos: list[ClassInfo] = []
        self.by_name: dict[str, int] = {}
        self.new_classes: list[tuple[int, ClassInfo]] = []
        self.tally = Tally()
        self.scanner = load_scanner(force_python)(
            self.keys, self.points.not_after, self.points.not_before, self.points.lifetime,
            bool(waivers))
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
        self.scanner.append_raw((dumps_line(asset_record(item, findings)) + "\n").encode())

    def error_line(self, error: RunError, offset: int | None) -> bytes:
        """The report's ``error`` line for ``error`` (with ``offset`` when the error has
        none), written from a template: a run with 1% garbage meets tens of thousands."""
        loc = error.location
        if loc.host is not None or loc.column is not None or loc.path is None:
            if offset is not None and loc.offset is None:
                error = dataclasses.replace(error, location=dataclasses.replace(loc,
                                                                                offset=offset))
            return (dumps_line(error_record(error)) + "\n").encode()
        if loc.path != self._error_path:
            self._error_path, self._error_path_json = loc.path, json_path(loc.path).decode()
        where = self._error_path_json
        index = "null" if loc.index is None else loc.index
        line = "null" if loc.line is None else loc.line
        at = loc.offset if loc.offset is not None else offset
        message = json.dumps(clean_text(error.message), ensure_ascii=False)
        return (f'{{"record":"error","path":{where},"index":{index},'
                f'"reason":{json.dumps(error.reason)},"message":{message},'
                f'"location":{{"path":{where},"index":{index},"line":{line},"column":null,'
                f'"offset":{"null" if at is None else at},"host":null,"port":null}}}}\n'
                ).encode()

    def learn(self, der_bytes: bytes, key: bytes) -> bool:
        """Judge a certificate of a class not met before through the normal path and
        remember the class under the scanner's key; False if the scanner's reading of the
        certificate disagrees with the normal path's (then it is not cached)."""
        asset = certificate_asset(der_bytes, FileContext("-"), None, "PEM")
        if not isinstance(asset, CertificateAsset):
            return False
        bits, is_ca, self_signed, b_after, b_before, b_life = key_numbers(key)
        epoch_after = int(asset.not_after.timestamp())
        epoch_before = int(asset.not_before.timestamp())
        lifetime = max(0, -(-(epoch_after - epoch_before + 1) // 86400))
        points = self.points
        agree = (
            (bits == -1 or bits == asset.key_size)
            and bool(is_ca) == asset.is_ca and bool(self_signed) == asset.self_signed
            and b_after == bisect_right(points.not_after, epoch_after)
            and b_before == bisect_right(points.not_before, epoch_before)
            and b_life == (lifetime if points.lifetime is None
                           else bisect_right(points.lifetime, lifetime)))
        if not agree:
            return False
        findings = findings_for(asset, self.policy, self.as_of, self.waivers)
        info = class_of(asset, findings)
        self.keys[key] = (self.class_id(info), info.mid())
        return True

    def take(self) -> Piece:
        """The entries produced since the last call: (meta, lines). In a worker with a
        :attr:`sink`, they go straight to it and the piece is empty (its meta is
        :data:`HANDED_ON` when it held entries, so that callers can still tell)."""
        if self.sink is not None:
            return (HANDED_ON, b"") if self.sink.take_from(self.scanner) else (b"", b"")
        meta, lines = self.scanner.take()
        return bytes(meta), bytes(lines)

    # -- targets --------------------------------------------------------------------

    def target(self, target: str) -> Iterator[Piece]:
        """Entries of one target (file, directory or ``-``), handed on in pieces."""
        if target == "-":
            yield from self.stream("-", sys.stdin.buffer, explicit=True)
        elif os.path.isdir(target):
            for path in walk(target, self.options, self.tally):
                yield from self.path(path, explicit=False)
        else:
            yield from self.path(target, explicit=True)

    def path(self, path: str, explicit: bool) -> Iterator[Piece]:
        """Entries of one file."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self.emit(RunError(Location(path=path), "unreadable", "no such file or directory"),
                      None)
            yield self.take()
            return
        except OSError as exc:
            self.emit(RunError(Location(path=path), "unreadable",
                               f"cannot stat: {exc.strerror}"), None)
            yield self.take()
            return
        if not stat.S_ISREG(info.st_mode) and not explicit:
            self.tally.files_skipped += 1
            return
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
        except OSError as exc:
            self.emit(RunError(Location(path=path), "unreadable", f"cannot read: {exc.strerror}"),
                      None)
            yield self.take()
            return
        with handle:
            yield from self.stream(path, handle, explicit)

    def stream(self, path: str, handle: IO[bytes], explicit: bool) -> Iterator[Piece]:
        """Entries of one byte stream: small ones are sniffed whole like the normal path
        does; large ones are streamed as PEM, base64 lines or a tar/zip archive."""
        limit = self.options.max_file_size
        if self.field is not None:
            yield from self.json_lines(path, handle)
            return
        head = handle.read(CHUNK)
        if len(head) < CHUNK and len(head) <= limit:
            yield from self.data(path, head, explicit, 0, archive.ArchiveBudget())
            return
        if pem.has_pem(head) and not archive.is_archive(head) and not jks.is_keystore(head):
            # A PEM bundle: streamed, never held whole.
            def whole() -> bytes | None:
                return reread(path, limit)

            yield from self.pem_file(path, head, handle.read, explicit, 0,
                                     archive.ArchiveBudget(), whole,
                                     getattr(handle, "readinto", None))
            return
        data = head if len(head) > limit else head + handle.read(limit + 1 - len(head))
        if len(data) <= limit:
            yield from self.data(path, data, explicit, 0, archive.ArchiveBudget())
            return
        if archive.is_archive(head):
            yield from self.big_archive(path, Rejoined(data, handle))
            return
        self.tally.files_read += 1
        if looks_like_base64_lines(head):
            self.scanner.set_file(json_path(path), raw_path(path), False)
            yield from self.lines_loop(path, data, handle.read)
        else:
            self.emit(RunError(Location(path=path), "too-large",
                               f"input is over the {limit} limit and is neither PEM nor "
                               "base64 lines"), None)
        yield self.take()

    def pem_range(self, path: str, start: int, end: int, index: int, line: int,
                  check_gap: bool, prev_end: int) -> Iterator[Piece]:
        """Entries of the bytes [start, end) of a PEM bundle too large for the normal path,
        read by one job of several: numbering starts at ``index`` and ``line``, and the state
        the scanner would have after the bytes before ``start`` is given (``check_gap``,
        ``prev_end``). The caller checks afterwards that the range held exactly the items
        it expected (:attr:`range_state`)."""
        scanner = self.scanner
        scanner.set_file(json_path(path), raw_path(path), has_crypto_extension(path))
        scanner.report_text = True
        scanner.index, scanner.line, scanner.base = index, line, start
        scanner.check_gap, scanner.prev_end = check_gap, prev_end
        with open(path, "rb") as handle:
            handle.seek(start)
            left = end - start

            def read(size: int) -> bytes:
                nonlocal left
                chunk = handle.read(min(size, left))
                left -= len(chunk)
                return chunk

            def readinto(view: memoryview) -> int:
                nonlocal left
                got = handle.readinto(view[:left]) if left > 0 else 0
                left -= got
                return got

            yield from self.pem_loop(path, read(CHUNK), read, readinto)
        self.range_state = (scanner.index, scanner.line, bool(scanner.check_gap),
                            int(scanner.prev_end))
        yield self.take()

    def pem_file(self, path: str, head: bytes, read: Callable[[int], bytes] | None,
                 explicit: bool, depth: int, budget: archive.ArchiveBudget,
                 whole: Callable[[], bytes | None],
                 readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]:
        """A text file with PEM blocks: the blocks by the scanner, then what the normal path
        finds besides them (Kubernetes Secrets, SSH keys quoted in the text; only looked for
        when the text around the blocks names them). ``whole`` gives the whole file again
        when needed (None: not possible, or larger than the normal path reads)."""
        self.scanner.set_file(json_path(path), raw_path(path), has_crypto_extension(path))
        self.scanner.report_text = True
        self.other_text = False
        yield from self.pem_loop(path, head, read, readinto)
        if self.scanner.index == 0:
            # Nothing but blocks that are not items (no entry was made): the normal path
            # says what that means.
            data = whole()
            if data is not None:
                yield from self.normal(path, data, explicit, depth, budget)
                return
        if self.other_text:
            data = whole()
            if data is not None:
                ctx = FileContext(path, tuple(self.options.passwords),
                                  next_index=self.scanner.index)
                for item in text_after_blocks(data, ctx):
                    self.emit(item, None)
        self.tally.files_read += 1
        yield self.take()

    def data(self, path: str, data: bytes, explicit: bool, depth: int,
             budget: archive.ArchiveBudget) -> Iterator[Piece]:
        """Entries of a whole file (or archive member) held in memory."""
        if not data or jks.is_keystore(data):
            yield from self.normal(path, data, explicit, depth, budget)
            return
        if archive.is_archive(data):
            self.tally.files_read += 1
            pieces: list[Piece] = []
            found = False

            def member(content: bytes, member_path: str, level: int,
                       tree: archive.ArchiveBudget) -> Iterator[Asset | RunError]:
                nonlocal found
                for piece in self.data(member_path, content, False, level, tree):
                    found = found or bool(piece[0])
                    pieces.append(piece)
                return iter(())

            for item in archive.archive_items(data, path, depth + 1, budget, self.options,
                                              member):
                found = True
                self.emit(item, None)
            yield from pieces
            if not found and (explicit or has_crypto_extension(path)):
                self.emit(FileContext(path).file_error(
                    "no-crypto-material", "archive holds no certificate or key"), None)
            yield self.take()
            return
        is_text = pem.has_pem(data) or not pem.is_binary(data[:65536])
        if is_text and pem.has_pem(data):
            yield from self.pem_file(path, data, None, explicit, depth, budget, lambda: data)
            return
        if is_text and not pem.has_pem(data) and looks_like_base64_lines(data):
            self.tally.files_read += 1
            self.scanner.set_file(json_path(path), raw_path(path), False)
            yield from self.lines_loop(path, data, None)
            yield self.take()
            return
        if not is_text and der.classify(data) == "certificate" and self.fast:
            self.tally.files_read += 1
            self.scanner.set_file(json_path(path), raw_path(path), False)
            self.one_der(path, data, None, 0, "DER")
            yield self.take()
            return
        yield from self.normal(path, data, explicit, depth, budget)

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

    # -- PEM ------------------------------------------------------------------------

    def pem_loop(self, path: str, data: bytes,
                 read: Callable[[int], bytes] | None,
                 readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]:
        """Scan PEM text; ``read`` pulls more (None: ``data`` is all there is); ``readinto``,
        when given, fills a buffer instead (two buffers take turns, so a long stream is read
        without a new allocation or copy per piece)."""
        scanner = self.scanner
        buf: bytes | bytearray = data
        spare: bytearray | None = None
        pos = 0
        final = read is None
        while True:
            code, pos = scanner.scan_pem(buf, pos, final)
            if code == DONE:
                return
            if code == NEED_MORE:
                scanner.base += pos
                if readinto is not None:
                    tail = len(buf) - pos
                    # Made once with room to spare, then only resized within its allocation
                    # (CPython keeps a bytearray's memory when it shrinks by less than half).
                    fresh = spare if spare is not None else bytearray(CHUNK + _HEADROOM)
                    need = tail + CHUNK
                    if len(fresh) > need:
                        del fresh[need:]
                    elif len(fresh) < need:
                        fresh.extend(bytes(need - len(fresh)))
                    fresh[:tail] = buf[pos:]
                    got = readinto(memoryview(fresh)[tail:])
                    if got < CHUNK:
                        del fresh[tail + got:]
                    final = got == 0
                    spare = buf if isinstance(buf, bytearray) else None
                    buf = fresh
                else:
                    more = read(CHUNK) if read is not None else b""
                    if not more:
                        final = True
                    buf = buf[pos:] + more
                pos = 0
                if scanner.buffered() >= FLUSH_AT:
                    yield self.take()
                continue
            if code == MISS:
                start, end, der_bytes, key = scanner.pending()
                if self.learn(der_bytes, key):
                    continue  # scan the same block again, now that its class is known
                code = DOUBT
            if code == DOUBT:
                start, end, der_bytes, _ = scanner.pending()
                self.tally.fallbacks += self.fast
                ctx = FileContext(path, self.passwords, next_index=scanner.index)
                self.emit(certificate_asset(der_bytes, ctx, scanner.line, "PEM"),
                          scanner.base + start)
                scanner.index = ctx.next_index
                scanner.line += buf.count(b"\n", start, end)
                scanner.prev_end = scanner.base + end
                scanner.check_gap = True
                pos = end
                continue
            if code == TEXT:
                start, stop = scanner.pending()[:2]
                self.other_text = self.other_text or names_other_items(buf[start:stop])
                scanner.gap_done = True
                continue
            if code == GAP:
                start = scanner.pending()[0]
                if scanner.report_text and names_other_items(buf[start:pos]):
                    self.other_text = True
                if pem.is_binary(bytes(buf[start:pos])):
                    ctx = FileContext(path, self.passwords, next_index=scanner.index)
                    self.emit(ctx.error("garbage", "binary data between PEM blocks",
                                        scanner.line), scanner.base + start)
                    scanner.index = ctx.next_index
                scanner.gap_done = True
                continue
            if code == TAIL:
                if scanner.report_text and names_other_items(buf[pos:]):
                    self.other_text = True
                if pem.is_binary(bytes(buf[pos:])):
                    ctx = FileContext(path, self.passwords, next_index=scanner.index)
                    self.emit(ctx.error("garbage", "binary data after the last PEM block",
                                        scanner.line), scanner.base + pos)
                    scanner.index = ctx.next_index
                return
            # BLOCK: the normal path's own rules for the block starting at pos
            step = self.block(path, buf, pos, final)
            if step is None:  # needs more text to decide
                more = read(CHUNK) if read is not None and len(buf) - pos < _MAX_HELD else b""
                if not more:
                    final = True
                scanner.base += pos
                buf = buf[pos:] + more
                pos = 0
                continue
            pos = step

    def block(self, path: str, buf: bytes | bytearray, pos: int, final: bool) -> int | None:
        """Handle the BEGIN line at ``pos`` exactly as :func:`cryptocheck.sources.pem.scan`
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

    # -- base64 lines ---------------------------------------------------------------

    def lines_loop(self, path: str, data: bytes,
                   read: Callable[[int], bytes] | None) -> Iterator[Piece]:
        """Scan a file of one base64 DER certificate per line."""
        scanner = self.scanner
        buf = data
        pos = 0
        final = read is None
        while True:
            code, pos = scanner.scan_lines(buf, pos, final)
            if code == DONE:
                return
            if code == NEED_MORE:
                more = read(CHUNK) if read is not None else b""
                if not more:
                    final = True
                scanner.base += pos
                buf = buf[pos:] + more
                pos = 0
                if scanner.buffered() >= FLUSH_AT:
                    yield self.take()
                continue
            if code == MISS:
                start, end, der_bytes, key = scanner.pending()
                if self.learn(der_bytes, key):
                    continue
                code = DOUBT
            if code == DOUBT:
                start, end, der_bytes, _ = scanner.pending()
                self.tally.fallbacks += self.fast
                ctx = FileContext(path, self.passwords, next_index=scanner.index)
                self.emit(certificate_asset(der_bytes, ctx, scanner.line, "base64"),
                          scanner.base + start)
            else:  # BLOCK: a line that is not plain base64
                start = pos
                newline = buf.find(b"\n", pos)
                end = len(buf) if newline < 0 else newline + 1
                ctx = FileContext(path, self.passwords, next_index=scanner.index)
                self.emit(self.base64_item(buf[start:end].strip(), ctx, scanner.line),
                          scanner.base + start)
            scanner.index = ctx.next_index
            scanner.line += 1
            pos = end

    def base64_item(self, text_line: bytes, ctx: FileContext, line: int) -> Asset | RunError:
        """The certificate (or error) of one base64 line."""
        try:
            der_bytes = base64.b64decode(text_line, validate=True)
        except (binascii.Error, ValueError):
            return ctx.error("garbage", "line is not base64 of a certificate", line)
        return certificate_asset(der_bytes, ctx, line, "base64")

    # -- JSON Lines -----------------------------------------------------------------

    def json_lines(self, path: str, handle: IO[bytes]) -> Iterator[Piece]:
        """One certificate per JSON object, in the field named by ``--field`` (a dotted
        path; PEM text or base64 DER)."""
        assert self.field is not None
        self.tally.files_read += 1
        self.scanner.set_file(json_path(path), raw_path(path), False)
        names = self.field.split(".")
        offset = 0
        for number, raw in enumerate(iter(handle.readline, b""), start=1):
            here = offset
            offset += len(raw)
            if not raw.strip():
                continue
            ctx = FileContext(path, self.passwords, next_index=self.scanner.index)
            value: Any
            try:
                value = json.loads(raw)
                for name in names:
                    value = value[name]
            except (ValueError, KeyError, IndexError, TypeError):
                self.emit(ctx.error("garbage", f"line is not JSON with a {self.field!r} field",
                                    number), here)
                self.scanner.index = ctx.next_index
                continue
            der_bytes = certificate_bytes(value)
            if der_bytes is None:
                self.emit(ctx.error("malformed-pem", f"field {self.field!r} holds no "
                                    "certificate (PEM or base64 DER)", number), here)
                self.scanner.index = ctx.next_index
                continue
            self.one_der(path, der_bytes, number, here, "JSON")
            if self.scanner.buffered() >= FLUSH_AT:
                yield self.take()
        yield self.take()

    # -- large archives -------------------------------------------------------------

    def big_archive(self, path: str, raw: Rejoined) -> Iterator[Piece]:
        """A tar (plain or compressed) or zip too large to hold: members streamed."""
        self.tally.files_read += 1
        limit = self.options.max_file_size
        try:
            if raw.head.startswith(b"PK"):
                yield from self._big_zip(path, raw)
                return
            archive_file = tarfile.open(fileobj=raw, mode="r|*")  # noqa: SIM115
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.emit(RunError(Location(path=path), "unreadable",
                               f"archive cannot be read ({type(exc).__name__})"), None)
            yield self.take()
            return
        try:
            for member in archive_file:
                if not member.isfile():
                    continue
                stream = archive_file.extractfile(member)
                if stream is None:
                    continue
                member_path = f"{path}!{member.name}"
                if member.size <= limit:
                    yield from self.data(member_path, stream.read(), False, 1,
                                         archive.ArchiveBudget())
                else:
                    yield from self.stream(member_path, stream, False)
        except (tarfile.TarError, OSError, EOFError):
            self.emit(RunError(Location(path=path), "unreadable",
                               "tar archive is damaged or truncated"), None)
        finally:
            archive_file.close()
        yield self.take()

    def _big_zip(self, path: str, raw: Rejoined) -> Iterator[Piece]:
        handle = raw.handle
        handle.seek(0)
        try:
            zip_file = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError):
            self.emit(RunError(Location(path=path), "unreadable", "zip archive is damaged"), None)
            yield self.take()
            return
        with zip_file:
            for member in zip_file.infolist():
                if member.is_dir():
                    continue
                member_path = f"{path}!{member.filename}"
                with zip_file.open(member) as stream:
                    if member.file_size <= self.options.max_file_size:
                        yield from self.data(member_path, stream.read(), False, 1,
                                             archive.ArchiveBudget())
                    else:
                        yield from self.stream(member_path, stream, False)
        yield self.take()
