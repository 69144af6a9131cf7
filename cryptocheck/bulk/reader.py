"""Reading inputs for the bulk path: files, directories, archives, standard input, JSON Lines.

One :class:`Reader` per process. It drives the scanner (the C one when it is built, else
:mod:`cryptocheck.bulk.pyscan`) over streams of bytes, and settles everything the scanner
hands back through the normal path of :mod:`cryptocheck.sources.files`: a block with another label,
a body that is not plain base64, a certificate the scanner does not read with certainty, a
class of certificate met for the first time. Small files whose content the bulk path does not
read (keys, PKCS#12, JKS, Kubernetes Secrets, text with SSH keys...) go to the normal path
whole, so their items are exactly the normal path's.

What it produces is a stream of *entries* (see ``_fastcert.c``): certificate lines with their
SHA-256 and class, and raw lines (errors, non-certificate assets), in input order. This module
holds the reading: targets, files and streams, and the loops that scan them in chunks (PEM
bundles, whole or by range; base64 lines; JSON Lines). The bookkeeping and what is settled
through the normal path are in :mod:`cryptocheck.bulk.entries`; contents held whole and large
archives in :mod:`cryptocheck.bulk.contents`.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

from cryptocheck.bulk.contents import Contents
from cryptocheck.bulk.entries import FLUSH_AT, Piece
from cryptocheck.bulk.inputs import (
    Rejoined,
    certificate_bytes,
    looks_like_base64_lines,
    names_other_items,
    regular_size,
    reread,
    text_after_blocks,
    walk,
)
from cryptocheck.bulk.pyscan import DONE, DOUBT, GAP, MISS, NEED_MORE, TAIL, TEXT
from cryptocheck.model import Location, RunError
from cryptocheck.sources.files import archive, jks, pem
from cryptocheck.sources.files.context import FileContext, has_crypto_extension
from cryptocheck.sources.files.x509 import certificate_asset

CHUNK = 4 * 1024 * 1024
_HEADROOM = 1024 * 1024  # for the unfinished block carried from one piece to the next
_MAX_HELD = 64 * 1024 * 1024  # a block that never ends is truncated after this much


class Reader(Contents):
    """Reads inputs into entries for one process.

    ``force_python`` uses the pure-Python scanner even when the C one is built (tests).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buffers: list[bytearray] = []  # see _buffer

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
        readinto = getattr(handle, "readinto", None)
        head: bytes | bytearray
        if readinto is not None:
            # Into a buffer this reader keeps (a fresh 4 MiB per file costs a page fault
            # every 4 KiB; see :meth:`_buffer`).
            head = self._head(readinto)
        else:
            head = handle.read(CHUNK)
        if len(head) < CHUNK and len(head) <= limit:
            yield from self.data(path, bytes(head), explicit, 0, archive.ArchiveBudget())
            return
        if pem.has_pem(head) and not archive.is_archive(head) and not jks.is_keystore(head):
            # A PEM bundle: streamed, never held whole.
            def whole() -> bytes | None:
                return reread(path, limit)

            yield from self.pem_file(path, head, handle.read, explicit, 0,
                                     archive.ArchiveBudget(), whole, readinto)
            return
        data: bytes | bytearray
        if readinto is not None and regular_size(handle) > limit:
            # Larger than the normal path reads (its size says so): streamed from the head.
            data = head
        else:
            head = bytes(head)
            data = head if len(head) > limit else head + handle.read(limit + 1 - len(head))
            if len(data) <= limit:
                yield from self.data(path, data, explicit, 0, archive.ArchiveBudget())
                return
        if archive.is_archive(head):
            yield from self.big_archive(path, Rejoined(bytes(data), handle))
            return
        self.tally.files_read += 1
        if looks_like_base64_lines(head):
            self.start_file(path, False)
            yield from self.lines_loop(path, data, handle.read, readinto)
        else:
            self.emit(RunError(Location(path=path), "too-large",
                               f"input is over the {limit} limit and is neither PEM nor "
                               "base64 lines"), None)
        yield self.take()

    def _buffer(self, number: int) -> bytearray:
        """One of the two read buffers this reader keeps for its whole life: a fresh
        allocation of 4 MiB per file would cost a page fault every 4 KiB (over a hundred
        thousand a million certificates, in system time), and more on a virtual machine that
        hands freed memory back to its host. Made once with room to spare, then only resized
        within its allocation (CPython keeps a bytearray's memory when it shrinks by less than
        half); only one stream uses them at a time (an archive's member is streamed once the
        archive's own head is no longer in them)."""
        buffers = self._buffers
        while len(buffers) <= number:
            buffers.append(bytearray(CHUNK + _HEADROOM))
        return buffers[number]

    def _next_piece(self, buf: bytes | bytearray, pos: int,
                    read: Callable[[int], bytes] | None,
                    readinto: Callable[[memoryview], int] | None
                    ) -> tuple[bytes | bytearray, bool]:
        """``buf[pos:]`` followed by the next piece of the stream (in a kept buffer when the
        stream has ``readinto``), and whether the stream has ended."""
        if readinto is not None:
            return self._refill(buf, pos, readinto)
        more = read(CHUNK) if read is not None else b""
        return buf[pos:] + more, not more

    def _refill(self, buf: bytes | bytearray, pos: int,
                readinto: Callable[[memoryview], int]) -> tuple[bytes | bytearray, bool]:
        """``buf[pos:]`` followed by the next CHUNK of the stream, in the other read buffer,
        and whether the stream has ended. The last piece is copied out rather than the buffer
        shrunk (CPython would give the memory back, and growing it again costs page faults)."""
        tail = len(buf) - pos
        first = self._buffer(0)
        fresh = self._buffer(1) if buf is first else first
        need = tail + CHUNK
        if len(fresh) > need:
            del fresh[need:]  # never by half: the memory is kept
        elif len(fresh) < need:
            fresh.extend(bytes(need - len(fresh)))
        fresh[:tail] = buf[pos:]
        got = readinto(memoryview(fresh)[tail:])
        return (fresh if got == CHUNK else bytes(memoryview(fresh)[:tail + got])), got == 0

    def _head(self, readinto: Callable[[memoryview], int]) -> bytes | bytearray:
        """The first CHUNK bytes of a stream, in the first read buffer; a shorter stream
        (all of it) as bytes, the buffer left as it is."""
        head = self._buffer(0)
        del head[CHUNK:]
        got = readinto(memoryview(head))
        return head if got == CHUNK else bytes(memoryview(head)[:got])

    def pem_range(self, path: str, start: int, end: int, index: int, line: int,
                  check_gap: bool, prev_end: int) -> Iterator[Piece]:
        """Entries of the bytes [start, end) of a PEM bundle too large for the normal path,
        read by one job of several: numbering starts at ``index`` and ``line``, and the state
        the scanner would have after the bytes before ``start`` is given (``check_gap``,
        ``prev_end``). The caller checks afterwards that the range held exactly the items
        it expected (:attr:`range_state`)."""
        scanner = self.scanner
        self.start_file(path, has_crypto_extension(path))
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

            yield from self.pem_loop(path, self._head(readinto), read, readinto)
        self.range_state = (scanner.index, scanner.line, bool(scanner.check_gap),
                            int(scanner.prev_end))
        yield self.take()

    def pem_file(self, path: str, head: bytes | bytearray, read: Callable[[int], bytes] | None,
                 explicit: bool, depth: int, budget: archive.ArchiveBudget,
                 whole: Callable[[], bytes | None],
                 readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]:
        """A text file with PEM blocks: the blocks by the scanner, then what the normal path
        finds besides them (Kubernetes Secrets, SSH keys quoted in the text; only looked for
        when the text around the blocks names them). ``whole`` gives the whole file again
        when needed (None: not possible, or larger than the normal path reads)."""
        self.start_file(path, has_crypto_extension(path))
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
                buf, final = self._next_piece(buf, pos, read, readinto)
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
                buf, final = self._next_piece(buf, pos, read, readinto)
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
