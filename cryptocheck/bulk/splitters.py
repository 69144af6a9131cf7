"""The format-specific splitters of the bulk path: PEM text, base64 lines, JSON Lines.

Each loop drives the scanner (the C one when it is built, else
:mod:`cryptocheck.bulk.pyscan`) over a stream handed to it in pieces, and settles what the
scanner hands back through the normal path: a certificate whose class is met for the first
time (learnt, then scanned again), one it does not read with certainty, another label, text
or binary data between blocks, a line that is not plain base64. Which stream is which, and
where its pieces come from, is :class:`~cryptocheck.bulk.reader.Reader`'s; the pieces are
read into :class:`~cryptocheck.bulk.buffers.ReadBuffers`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from cryptocheck.bulk import buffers
from cryptocheck.bulk.buffers import ReadBuffers
from cryptocheck.bulk.contents import Contents
from cryptocheck.bulk.entries import FLUSH_AT, Piece
from cryptocheck.bulk.inputs import certificate_bytes, names_other_items
from cryptocheck.bulk.pyscan import DONE, DOUBT, GAP, MISS, NEED_MORE, TAIL, TEXT
from cryptocheck.sources.files import pem
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.x509 import certificate_asset

_MAX_HELD = 64 * 1024 * 1024  # a block that never ends is truncated after this much


class Splitters(Contents):
    """The scan loops of one reader, one per streamed format."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_buffers = ReadBuffers()

    # -- PEM ------------------------------------------------------------------------

    def pem_loop(self, path: str, data: bytes | bytearray,
                 read: Callable[[int], bytes] | None,
                 readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]:
        """Scan PEM text; ``read`` pulls more (None: ``data`` is all there is); ``readinto``,
        when given, fills a buffer instead (two buffers take turns, so a long stream is read
        without a new allocation or copy per piece)."""
        scanner = self.scanner
        buf: bytes | bytearray = data
        pos = 0
        final = read is None
        while True:
            code, pos = scanner.scan_pem(buf, pos, final)
            if code == DONE:
                return
            if code == NEED_MORE:
                scanner.base += pos
                buf, final = self.read_buffers.next_piece(buf, pos, read, readinto)
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
                held = len(buf) - pos
                more = read(buffers.CHUNK) if read is not None and held < _MAX_HELD else b""
                if not more:
                    final = True
                scanner.base += pos
                buf = buf[pos:] + more
                pos = 0
                continue
            pos = step

    # -- base64 lines ---------------------------------------------------------------

    def lines_loop(self, path: str, data: bytes | bytearray,
                   read: Callable[[int], bytes] | None,
                   readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]:
        """Scan a file of one base64 DER certificate per line (``read`` and ``readinto`` as
        for :meth:`pem_loop`)."""
        scanner = self.scanner
        buf = data
        pos = 0
        final = read is None
        while True:
            code, pos = scanner.scan_lines(buf, pos, final)
            if code == DONE:
                return
            if code == NEED_MORE:
                scanner.base += pos
                buf, final = self.read_buffers.next_piece(buf, pos, read, readinto)
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
                self.emit(self.base64_item(bytes(buf[start:end]).strip(), ctx, scanner.line),
                          scanner.base + start)
            scanner.index = ctx.next_index
            scanner.line += 1
            pos = end

    # -- JSON Lines -----------------------------------------------------------------

    def json_lines(self, path: str, handle: IO[bytes]) -> Iterator[Piece]:
        """One certificate per JSON object, in the field named by ``--field`` (a dotted
        path; PEM text or base64 DER)."""
        assert self.field is not None
        self.tally.files_read += 1
        self.start_file(path, False)
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
