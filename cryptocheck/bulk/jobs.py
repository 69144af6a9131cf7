"""The work of a bulk run: units (files, and ranges of bundles too large for the normal path)
read by worker processes or in order by this one.

Work is split by file (a directory of bundles, the usual shape of an estate export or a
certificate-transparency dump) and a bundle too large for the normal path is cut into
ranges; each process reads its units itself, so the parent only merges. Results are merged
in input order, one unit at a time, so the output is the same for any ``--jobs``.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptocheck.bulk.compiled import ClassInfo
from cryptocheck.bulk.entries import Tally
from cryptocheck.bulk.handover import Lines, Sink, discard
from cryptocheck.bulk.inputs import walk
from cryptocheck.bulk.merge import Merge, Progress
from cryptocheck.bulk.pyscan import _extension
from cryptocheck.bulk.reader import Reader
from cryptocheck.model import Waiver
from cryptocheck.policy import Policy
from cryptocheck.sources.files import SourceOptions, pem
from cryptocheck.sources.files.context import has_crypto_extension

_READER: Reader | None = None
_SPOOL = ""


def init_worker(policy: Policy, as_of: date, options: SourceOptions,
                 waivers: tuple[Waiver, ...], force_python: bool, field_name: str | None,
                 spool: str) -> None:
    global _READER, _SPOOL
    _READER = Reader(policy, as_of, options, waivers, force_python, field_name)
    _SPOOL = spool


def _drain(reader: Reader, sink: Sink, pieces: Iterator[tuple[bytes, bytes]]
           ) -> tuple[bytes, Lines]:
    """Run a reader over one unit, its entries going to ``sink``."""
    reader.sink = sink
    try:
        for _ in pieces:
            pass
    finally:
        reader.sink = None
    return sink.result()


def work(unit: tuple[int, str, bool]) -> tuple[
        int, bytes, Lines, list[tuple[int, ClassInfo]], Tally]:
    """Read one file in a worker: its entries go to a shared slab (or a spool file, and the
    meta records back through the pipe); see :mod:`cryptocheck.bulk.handover`."""
    reader = _READER
    assert reader is not None
    number, path, explicit = unit
    reader.tally = Tally()
    meta, lines = _drain(reader, Sink(_SPOOL, str(number)), reader.path(path, explicit))
    new, reader.new_classes = reader.new_classes, []
    return os.getpid(), meta, lines, new, reader.tally


# A PEM bundle too large for the normal path is split among jobs in ranges of this size,
# cut where one block ends and the next begins on the following line.
SPLIT_BYTES = 32 * 1024 * 1024
_BOUNDARY = b"-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class Range:
    """One range of a split bundle: bytes [start, end), and what is expected in it."""

    group: int  # which split file
    number: int  # position of the range in its file
    path: str
    start: int
    end: int
    begins: int  # BEGIN lines in the range (each must give exactly one item)
    index: int  # index of its first item
    line: int  # line it starts on


def count_range(job: tuple[str, int, int]) -> tuple[int, int]:
    """(newlines, BEGIN lines) in bytes [start, end) of a file, read in pieces."""
    path, start, end = job
    newlines = begins = 0
    carry = b""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while True:
            chunk = handle.read(min(4 * 1024 * 1024, left))
            left -= len(chunk)
            newlines += chunk.count(b"\n")
            data = carry + chunk
            final = not chunk or left <= 0
            upto = len(data) if final else max(0, len(data) - 80)
            begins += _count_begins(data, upto)
            carry = data[upto:]
            if final:
                return newlines, begins


def _count_begins(data: bytes, upto: int) -> int:
    """BEGIN lines (as the scanner finds them) starting before ``upto``."""
    module = _extension()
    if module is not None:
        return int(module.count_items(data, upto)[1])
    return sum(1 for match in pem._BEGIN.finditer(data) if match.start() < upto)


def split_points(path: str, size: int) -> list[int]:
    """Offsets where a split bundle's ranges start (the first is 0)."""
    points = [0]
    with open(path, "rb") as handle:
        for offset in range(SPLIT_BYTES, size, SPLIT_BYTES):
            handle.seek(offset)
            window = handle.read(1024 * 1024)
            found = window.find(_BOUNDARY)
            if found >= 0:
                point = offset + found + len(b"-----END CERTIFICATE-----\n")
                if point > points[-1]:
                    points.append(point)
    return points


def range_bounds(path: str, size: int) -> list[tuple[int, int]]:
    """The byte ranges a split bundle is read in."""
    points = split_points(path, size)
    return list(zip(points, points[1:] + [size]))


def splittable(path: str, options: SourceOptions) -> int:
    """The size of ``path`` when it is a PEM bundle worth splitting, else 0."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size <= max(options.max_file_size,
                                                                 2 * SPLIT_BYTES):
            return 0
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return 0
    return info.st_size if b"-----BEGIN " in head and not head.startswith(
        (b"PK", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) else 0


def work_range(unit: tuple[int, Range, bool, int]) -> tuple[
        int, bytes, Lines, list[tuple[int, ClassInfo]], Tally, tuple[int, int, bool, int]]:
    """Read one range of a split bundle in a worker (see :func:`work`)."""
    reader = _READER
    assert reader is not None
    number, part, check_gap, prev_end = unit
    reader.tally = Tally()
    meta, lines = _drain(reader, Sink(_SPOOL, str(number)),
                         reader.pem_range(part.path, part.start, part.end, part.index,
                                          part.line, check_gap, prev_end))
    new, reader.new_classes = reader.new_classes, []
    return os.getpid(), meta, lines, new, reader.tally, reader.range_state


def dispatch(unit: tuple[Any, ...]) -> tuple[Any, ...]:
    if isinstance(unit[1], Range):
        return work_range(unit)
    return work(unit)


def target_units(targets: Sequence[str], options: SourceOptions,
                 tally: Tally) -> Iterator[tuple[str, bool]]:
    """(path, named explicitly) of every file the targets name, in the normal path's order."""
    for target in targets:
        if os.path.isdir(target):
            for path in walk(target, options, tally):
                yield path, False
        else:
            yield target, True


def pooled(pool: Any, remote: list[tuple[str, bool]], options: SourceOptions, merge: Merge,
            reader: Reader, progress: Progress, spool: str) -> None:
    """Files and ranges of split bundles through the pool, merged in input order.

    A range's numbering comes from counting the BEGIN lines and newlines of the ranges
    before it (in parallel, first). That is exact when every BEGIN line gave exactly one
    item, which each range reports; when one did not (a PKCS#7 bundle, binary junk between
    blocks), that range and the rest of its file are read again, in order, by this process.
    """
    work: list[tuple[Any, ...]] = []
    splits: dict[int, list[Range]] = {}
    for path, explicit in remote:
        size = splittable(path, options)
        if not size:
            work.append((len(work), path, explicit))
            continue
        bounds = range_bounds(path, size)
        counts = pool.map(count_range, [(path, a, b) for a, b in bounds], chunksize=1)
        group = len(splits)
        index, line = 0, 1
        ranges = []
        for number, ((a, b), (newlines, begins)) in enumerate(zip(bounds, counts)):
            ranges.append(Range(group, number, path, a, b, begins, index, line))
            index += begins
            line += newlines
        splits[group] = ranges
        edges = has_crypto_extension(path)
        for part in ranges:
            # Ranges after the first start right after a complete block.
            work.append((len(work), part, edges if part.number == 0 else True,
                         -1 if part.number == 0 else part.start))
    redone: set[int] = set()
    for unit, result in zip(work, pool.imap(dispatch, work, chunksize=1)):
        pid, meta, lines, new, tally = result[:5]
        part = unit[1]
        if isinstance(part, Range):
            if part.group in redone:
                discard(lines)
                continue
            if result[5][0] - part.index != part.begins:
                discard(lines)
                redone.add(part.group)
                read_rest(reader, merge, part, splits[part.group], progress, spool)
                continue
            if part.number == 0:
                merge.tally.files_read += 1
        merge.add(pid, meta, lines, new)
        merge.add_tally(tally)
        progress.update(0 if isinstance(part, Range) else size_of(part), merge)
        if isinstance(part, Range):
            progress.update(part.end - part.start, merge)


def read_rest(reader: Reader, merge: Merge, part: Range, ranges: list[Range],
               progress: Progress, spool: str) -> None:
    """Read a split bundle from ``part`` to its end in this process, in order."""
    if part.number == 0:
        state = (0, 1, has_crypto_extension(part.path), -1)
        merge.tally.files_read += 1
    else:
        # Ranges before this one held one item per BEGIN line, so this one starts right
        # after a complete block.
        state = (part.index, part.line, True, part.start)
    read_ranges(reader, merge, ranges[part.number:], progress, state, spool)


def read_ranges(reader: Reader, merge: Merge, ranges: list[Range], progress: Progress,
                 state: tuple[int, int, bool, int], spool: str) -> None:
    """Read ranges of one bundle in order in this process, each range one unit (so the
    output is the same as when jobs read them), the scanner's state carried across."""
    for part in ranges:
        index, line, check_gap, prev_end = state
        add_unit(reader, merge, reader.pem_range(part.path, part.start, part.end, index, line,
                                                  check_gap, prev_end), spool)
        state = reader.range_state
        progress.update(part.end - part.start, merge)


_LOCAL_UNITS = itertools.count()


def add_unit(reader: Reader, merge: Merge, pieces: Iterator[tuple[bytes, bytes]],
             spool: str) -> None:
    """Merge one unit (a file, or a range of a split bundle) read in this process, as a
    worker's unit is merged: the classes it met first, then its lines. Class lines thus sit
    at unit boundaries, which do not depend on the number of jobs."""
    meta, lines = _drain(reader, Sink(spool, f"local-{next(_LOCAL_UNITS)}"), pieces)
    new, reader.new_classes = reader.new_classes, []
    merge.add(0, meta, lines, new)


def size_of(path: str) -> int:
    """Bytes of ``path`` (0 for standard input or when it cannot be read)."""
    try:
        return os.stat(path).st_size if path != "-" else 0
    except OSError:
        return 0
