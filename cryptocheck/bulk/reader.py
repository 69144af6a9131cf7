"""Reading inputs for the bulk path: files, directories, archives, standard input, JSON Lines.

One :class:`Reader` per process. It decides what each target and stream is, and hands it
to the right reading: small files whose content the bulk path does not read (keys,
PKCS#12, JKS, Kubernetes Secrets, text with SSH keys...) go to the normal path of
:mod:`cryptocheck.sources.files` whole, so their items are exactly the normal path's; PEM
bundles (whole, or one byte range of one), files of base64 lines and JSON Lines are
streamed through the scan loops of :mod:`cryptocheck.bulk.splitters`, in pieces read into
the buffers of :mod:`cryptocheck.bulk.buffers`; tar and zip archives too large to hold are
streamed member by member (:mod:`cryptocheck.bulk.contents`).

What it produces is a stream of *entries* (see ``_fastcert.c``): certificate lines with their
SHA-256 and class, and raw lines (errors, non-certificate assets), in input order. The
bookkeeping and what is settled through the normal path are in
:mod:`cryptocheck.bulk.entries`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import IO

from cryptocheck.bulk import buffers
from cryptocheck.bulk.entries import Piece
from cryptocheck.bulk.inputs import (
    Rejoined,
    looks_like_base64_lines,
    regular_size,
    reread,
    text_after_blocks,
    walk,
)
from cryptocheck.bulk.splitters import Splitters
from cryptocheck.model import Location, RunError
from cryptocheck.sources.files import archive, jks, pem
from cryptocheck.sources.files.context import FileContext, has_crypto_extension


class Reader(Splitters):
    """Reads inputs into entries for one process.

    ``force_python`` uses the pure-Python scanner even when the C one is built (tests).
    """

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
            # every 4 KiB; see :mod:`cryptocheck.bulk.buffers`).
            head = self.read_buffers.head(readinto)
        else:
            head = handle.read(buffers.CHUNK)
        if len(head) < buffers.CHUNK and len(head) <= limit:
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

            yield from self.pem_loop(path, self.read_buffers.head(readinto), read, readinto)
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
