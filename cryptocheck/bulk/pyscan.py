"""The pure-Python scanner and merger: the same interface and output as ``_fastcert``.

Used when the C extension is not built (``pip install .`` without a compiler) and by the
tests that compare the two. This scanner decides no certificate itself: it finds the
blocks and lines, and hands every one of them back to the reader, which reads it through
the normal path. So its answers are the normal path's by construction; the C scanner must
give the same bytes, faster.

Event codes returned by ``scan_pem`` and ``scan_lines`` (and ``scan_der``):
``NEED_MORE`` (give more input from the returned position), ``DONE``, ``BLOCK`` (the reader
handles what starts at the returned position), ``MISS`` (a certificate of a class not yet
known), ``DOUBT`` (a certificate for the normal path), ``GAP`` (suspicious bytes before the
block at the returned position), ``TAIL`` (suspicious bytes after the last block) and, when
``report_text`` is set, ``TEXT`` (text other than blanks around blocks; pending holds it).
"""

from __future__ import annotations

import importlib
import re
import struct
from collections.abc import Sequence
from typing import Any

NEED_MORE, DONE, BLOCK, MISS, DOUBT, GAP, TAIL, TEXT = range(8)

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9][A-Z0-9 #]{0,62})-----")
_SUSPICIOUS = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f-\xff]")
_NONBLANK = re.compile(rb"[^ \t\r\n]")
_CERT = struct.Struct("<B32sIHI")  # meta of a certificate line
_RAW = struct.Struct("<BI")  # meta of a raw line


class PyScanner:
    """Finds PEM blocks and base64 lines; every certificate is left to the reader."""

    def __init__(self, classes: dict[bytes, tuple[int, bytes]], na_breaks: Sequence[int],
                 nb_breaks: Sequence[int], span_breaks: Sequence[int] | None,
                 force_doubt: bool = False, pieces: Sequence[bytes] = ()) -> None:
        # Every certificate goes to the reader here: what the C scanner's force_doubt and
        # watch (certificates waivers name) decide for it is already so.
        self.force_doubt = True
        self.watch: set[bytes] | None = None
        self.index = 0
        self.line = 1
        self.base = 0
        self.prev_end = -1
        self.check_gap = False
        self.check_edges = False
        self.gap_done = False
        self.report_text = False
        self._meta = bytearray()
        self._lines = bytearray()
        self._pending: tuple[int, int, bytes | None, bytes | None] = (0, 0, None, None)

    def set_file(self, path_json: bytes, path_raw: bytes, check_edges: bool) -> None:
        """Start a new file: counters back to their first values."""
        self.index, self.line, self.base, self.prev_end = 0, 1, 0, -1
        self.check_edges = self.check_gap = check_edges
        self.gap_done = self.report_text = False

    def scan_pem(self, data: bytes, pos: int, final: bool) -> tuple[int, int]:
        """Advance to the next event in PEM text (see the module docstring)."""
        n = len(data)
        match = _BEGIN.search(data, pos)
        if match is None:
            if not final:
                keep = max(pos, n - 80)
                if keep > pos and not self.gap_done and self.check_gap and \
                        _SUSPICIOUS.search(data, pos, keep):
                    keep = pos
                self.line += data.count(b"\n", pos, keep)
                return NEED_MORE, keep
            if self.report_text and not self.gap_done and _NONBLANK.search(data, pos, n):
                self._pending = (pos, n, None, None)
                return TEXT, pos
            if self.check_edges and self.prev_end >= 0 and _SUSPICIOUS.search(data, pos, n):
                return TAIL, pos
            self.line += data.count(b"\n", pos, n)
            return DONE, n
        at = match.start()
        if not self.gap_done and self.check_gap and _SUSPICIOUS.search(data, pos, at):
            self.line += data.count(b"\n", pos, at)
            self._pending = (pos, at, None, None)
            return GAP, at
        if not self.gap_done and self.report_text and _NONBLANK.search(data, pos, at):
            self.line += data.count(b"\n", pos, at)
            self._pending = (pos, at, None, None)
            return TEXT, at
        self.gap_done = False
        self.line += data.count(b"\n", pos, at)
        return BLOCK, at

    def scan_lines(self, data: bytes, pos: int, final: bool) -> tuple[int, int]:
        """Advance to the next non-blank line of a base64-per-line file."""
        n = len(data)
        while pos < n:
            newline = data.find(b"\n", pos)
            if newline < 0 and not final:
                return NEED_MORE, pos
            end = n if newline < 0 else newline
            if data[pos:end].strip(b" \t\r"):
                return BLOCK, pos
            self.line += 1
            pos = end + 1 if newline >= 0 else n
        return (DONE if final else NEED_MORE), pos

    def scan_der(self, der: bytes, line: int, offset: int) -> int:
        """Every certificate is for the normal path here."""
        self._pending = (0, len(der), bytes(der), None)
        return DOUBT

    def pending(self) -> tuple[int, int, bytes | None, bytes | None]:
        """(start, end, der, class key) of the certificate or gap last reported."""
        return self._pending

    def append_raw(self, line: bytes) -> None:
        """Append a line written as it is (an error, a key's asset record)."""
        self._meta += _RAW.pack(2, len(line))
        self._lines += line

    def append_cert(self, digest: bytes, local_class: int, month: int, line: bytes) -> None:
        """Append a certificate line with its SHA-256, class and expiry month."""
        self._meta += _CERT.pack(1, digest, local_class, month, len(line))
        self._lines += line

    def take(self) -> tuple[bytes, bytes]:
        """(meta, lines) so far (and forget them)."""
        out = bytes(self._meta), bytes(self._lines)
        self._meta.clear()
        self._lines.clear()
        return out

    def buffered(self) -> int:
        """Bytes of entries held."""
        return len(self._meta) + len(self._lines)

    def mark(self) -> tuple[int, int]:
        """Where the entries end now (for :meth:`truncate`)."""
        return len(self._meta), len(self._lines)

    def truncate(self, meta: int, lines: int) -> None:
        """Drop the entries after a :meth:`mark`."""
        del self._meta[meta:]
        del self._lines[lines:]


class PyMerger:
    """Deduplicates certificate entries by SHA-256 and counts classes and expiry months."""

    def __init__(self, dedup: bool = True, expected: int = 0) -> None:
        self.dedup = dedup
        self.seen: dict[bytes, int] = {}
        self.unique = 0
        self.duplicates = 0
        self.classes: dict[int, int] = {}
        self.months: dict[int, int] = {}

    def merge(self, meta: bytes, class_map: Sequence[int]) -> bytes | None:
        """Count the entries of ``meta``; None when every line is kept, else a mask (one
        byte per entry: 1 keep, 0 drop a duplicate)."""
        mask = bytearray()
        dropped = False
        pos = 0
        while pos < len(meta):
            if meta[pos] == 2:
                pos += _RAW.size
                mask.append(1)
                continue
            _, digest, local, month, _ = _CERT.unpack_from(meta, pos)
            pos += _CERT.size
            fresh = True
            if self.dedup:
                count = self.seen.get(digest, 0)
                self.seen[digest] = count + 1
                fresh = count == 0
            if fresh:
                self.unique += 1
                number = class_map[local]
                self.classes[number] = self.classes.get(number, 0) + 1
                self.months[month] = self.months.get(month, 0) + 1
            else:
                self.duplicates += 1
                dropped = True
            mask.append(fresh)
        return bytes(mask) if dropped else None

    def counts(self) -> tuple[dict[int, int], dict[int, int], int, int]:
        """(certificates per class, per expiry month, unique, duplicates)."""
        return dict(self.classes), dict(self.months), self.unique, self.duplicates

    def repeated(self) -> list[tuple[bytes, int]]:
        """Digests seen more than once, with how often."""
        return [(digest, count) for digest, count in self.seen.items() if count > 1]


def py_filter_lines(meta: bytes, lines: bytes, mask: bytes) -> bytes:
    """The lines whose mask byte is 1 (meta says where each line ends)."""
    out = bytearray()
    pos = start = number = 0
    while pos < len(meta):
        if meta[pos] == 2:
            _, size = _RAW.unpack_from(meta, pos)
            pos += _RAW.size
        else:
            size = _CERT.unpack_from(meta, pos)[4]
            pos += _CERT.size
        if mask[number]:
            out += lines[start:start + size]
        start += size
        number += 1
    return bytes(out)


def _extension() -> Any:
    """The C module, or None when it is not built."""
    try:
        return importlib.import_module("cryptocheck.bulk._fastcert")
    except ImportError:
        return None


def load_scanner(force_python: bool = False) -> Any:
    """The scanner class: the C one when built (and not refused), else :class:`PyScanner`."""
    module = None if force_python else _extension()
    return PyScanner if module is None else module.Scanner


def load_merger(force_python: bool = False) -> Any:
    """The merger class: the C one when built (and not refused), else :class:`PyMerger`."""
    module = None if force_python else _extension()
    return PyMerger if module is None else module.Merger


def load_filter(force_python: bool = False) -> Any:
    """``filter_lines``: the C one when built (and not refused), else the Python one."""
    module = None if force_python else _extension()
    return py_filter_lines if module is None else module.filter_lines


def have_extension() -> bool:
    """Whether the C scanner is built."""
    return _extension() is not None
