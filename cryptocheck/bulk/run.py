"""The bulk run: inputs split among processes, entries merged in input order, one summary.

Work is split by file (a directory of bundles, the usual shape of an estate export or a
certificate-transparency dump) and each process reads its files itself, so the parent only
merges: it deduplicates by SHA-256, counts, and writes lines. Results come back in the order
the files were given, so the output is the same for any ``--jobs``. Standard input and
archives too large to hold are read in the parent.
"""

from __future__ import annotations

import dataclasses
import gc
import mmap
import multiprocessing
import os
import queue
import shutil
import stat
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from cryptocheck import __version__
from cryptocheck.model import PolicyInfo, Report, Status, Summary, Waiver
from cryptocheck.policy import Policy
from cryptocheck.report.jsonl import summary_record
from cryptocheck.report.wire import dumps_line
from cryptocheck.run import policy_info
from cryptocheck.sources import SourceOptions, pem
from cryptocheck.sources.context import has_crypto_extension

from .compiled import ClassInfo, month_label
from .pyscan import _extension, load_filter, load_merger
from .reader import Reader, Tally, walk


@dataclass(frozen=True)
class BulkOptions:
    """How a bulk run reads and splits its inputs."""

    jobs: int = 0  # 0: every core
    dedup: bool = True
    field: str | None = None  # JSON Lines: the field holding the certificate
    progress: bool | None = None  # None: when stderr is a terminal
    force_python: bool = False
    source_options: SourceOptions = dataclasses.field(default_factory=SourceOptions)


@dataclass
class BulkResult:
    """What a bulk run counted (the summary lines are built from it)."""

    policy: PolicyInfo
    as_of: date
    targets: tuple[str, ...]
    started: datetime
    finished: datetime
    classes: list[ClassInfo]
    class_counts: dict[int, int]
    month_counts: dict[int, int]
    unique: int
    duplicates: int
    tally: Tally
    jobs: int
    engine: str
    repeated: list[tuple[bytes, int]]

    @property
    def errors(self) -> int:
        return sum(self.tally.errors.values())

    @property
    def inputs(self) -> int:
        """Every item read: unique certificates + duplicates + other assets + errors."""
        return self.unique + self.duplicates + self.tally.other_assets + self.errors

    @property
    def seconds(self) -> float:
        return max((self.finished - self.started).total_seconds(), 1e-9)

    def findings_by_status(self) -> Counter[str]:
        counts: Counter[str] = Counter(self.tally.other_findings)
        for number, count in self.class_counts.items():
            for _, _, status, _ in self.classes[number].findings:
                counts[status] += count
        return counts

    def worst_status(self) -> Status | None:
        statuses = [Status(s) for s, c in self.findings_by_status().items() if c]
        return max(statuses, key=lambda s: s.rank) if statuses else None

    def failing(self, fail_on: Status) -> int:
        """Certificates (and other assets' findings) at or worse than ``fail_on``."""
        total = 0
        for number, count in self.class_counts.items():
            if any(Status(s).rank >= fail_on.rank for _, _, s, _ in self.classes[number].findings):
                total += count
        total += sum(c for s, c in self.tally.other_findings.items()
                     if Status(s).rank >= fail_on.rank)
        return total

    def bulk_record(self) -> dict[str, Any]:
        """The ``bulk-summary`` line: the counts a person reads after a large run."""
        by_key: Counter[str] = Counter()
        by_hash: Counter[str] = Counter()
        by_worst: Counter[str] = Counter()
        classes = []
        for number in sorted(self.class_counts, key=lambda n: self.classes[n].name):
            info, count = self.classes[number], self.class_counts[number]
            by_key[info.key_label] += count
            by_hash[info.signature_hash or "none"] += count
            by_worst[info.worst] += count
            classes.append({"class": info.name, "key_algorithm": info.key_algorithm,
                            "key_size": info.key_size, "curve": info.curve,
                            "signature_hash": info.signature_hash, "status": info.worst,
                            "count": count})
        return {
            "record": "bulk-summary",
            "inputs": self.inputs,
            "certificates": self.unique,
            "duplicates": self.duplicates,
            "other_assets": self.tally.other_assets,
            "errors": self.errors,
            "adds_up": "inputs = certificates + duplicates + other_assets + errors",
            "by_key": dict(sorted(by_key.items())),
            "by_signature_hash": dict(sorted(by_hash.items())),
            "by_status": {s.value: by_worst.get(s.value, 0)
                          for s in sorted(Status, key=lambda s: s.rank)},
            "expiry_by_month": {month_label(m): c for m, c in sorted(self.month_counts.items())},
            "errors_by_reason": dict(sorted(self.tally.errors.items())),
            "classes": classes,
            "fallbacks": self.tally.fallbacks,
            "jobs": self.jobs,
            "engine": self.engine,
            "seconds": round(self.seconds, 3),
            "certificates_per_second": round(self.inputs / self.seconds),
        }

    def report(self, waivers: Sequence[Waiver]) -> Report:
        """A :class:`Report` with the summary (no records): for the standard summary line."""
        by_status = self.findings_by_status()
        assets = self.unique + self.tally.other_assets
        summary = Summary(
            inputs=assets + self.errors, assets=assets, errors=self.errors,
            findings_by_status=tuple((s.value, by_status.get(s.value, 0)) for s in Status),
            waived=0, files_read=self.tally.files_read, files_skipped=self.tally.files_skipped,
            worst_status=self.worst_status())
        return Report(__version__, "certs", self.targets, self.policy, self.as_of, self.started,
                      self.finished, (), (), (), (), summary, tuple(waivers))


# -- worker side -------------------------------------------------------------------------

_READER: Reader | None = None
_SPOOL = ""
# Shared memory the workers hand lines over in (made by the parent before the workers
# fork): a slab is taken from _FREE by a worker, filled with one unit's lines, and given back
# by the parent once it has written them. When no slab is free, or the lines do not fit,
# they go to a spool file instead, so a worker never waits for the parent.
SLAB_BYTES = 12 * 1024 * 1024
_SLABS: list[mmap.mmap] = []
_FREE: Any = None


class _Sink:
    """Where a worker puts the lines of one unit."""

    def __init__(self, number: int) -> None:
        self.path = os.path.join(_SPOOL, f"{number}.jsonl")
        self.slab: int | None = None
        self.used = 0
        self.file: IO[bytes] | None = None
        if _FREE is not None:
            try:
                self.slab = _FREE.get_nowait()
            except queue.Empty:
                self.slab = None

    def write(self, data: bytes) -> None:
        if self.file is None and self.slab is not None and \
                self.used + len(data) <= SLAB_BYTES:
            _SLABS[self.slab][self.used:self.used + len(data)] = data
            self.used += len(data)
            return
        if self.file is None:
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in result()
            if self.slab is not None:
                self.file.write(_SLABS[self.slab][:self.used])
                _FREE.put(self.slab)
                self.slab = None
        self.file.write(data)

    def result(self) -> str | tuple[int, int]:
        """The spool file's path, or (slab, length)."""
        if self.file is not None:
            self.file.close()
            return self.path
        if self.slab is not None:
            return self.slab, self.used
        with open(self.path, "wb"):
            return self.path


def _init_worker(policy: Policy, as_of: date, options: SourceOptions,
                 waivers: tuple[Waiver, ...], force_python: bool, field_name: str | None,
                 spool: str) -> None:
    global _READER, _SPOOL
    _READER = Reader(policy, as_of, options, waivers, force_python, field_name)
    _SPOOL = spool


def _work(unit: tuple[int, str, bool]) -> tuple[
        int, bytes, str | tuple[int, int], list[tuple[int, ClassInfo]], Tally]:
    """Read one file in a worker: the meta records come back through the pipe, the lines
    through a spool file (the parent copies it to the output without reading it when
    nothing is dropped)."""
    reader = _READER
    assert reader is not None
    number, path, explicit = unit
    reader.tally = Tally()
    metas: list[bytes] = []
    sink = _Sink(number)
    for meta, lines in reader.path(path, explicit):
        metas.append(meta)
        sink.write(lines)
    new, reader.new_classes = reader.new_classes, []
    return os.getpid(), b"".join(metas), sink.result(), new, reader.tally


# A PEM bundle too large for the normal path is split among jobs in ranges of this size,
# cut where one block ends and the next begins on the following line.
SPLIT_BYTES = 32 * 1024 * 1024
_BOUNDARY = b"-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class _Range:
    """One range of a split bundle: bytes [start, end), and what is expected in it."""

    group: int  # which split file
    number: int  # position of the range in its file
    path: str
    start: int
    end: int
    begins: int  # BEGIN lines in the range (each must give exactly one item)
    index: int  # index of its first item
    line: int  # line it starts on


def _count_range(job: tuple[str, int, int]) -> tuple[int, int]:
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


def _split_points(path: str, size: int) -> list[int]:
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


def _splittable(path: str, options: SourceOptions) -> int:
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


def _work_range(unit: tuple[int, _Range, bool, int]) -> tuple[
        int, bytes, str | tuple[int, int], list[tuple[int, ClassInfo]], Tally,
        tuple[int, int, bool, int]]:
    """Read one range of a split bundle in a worker (see :func:`_work`)."""
    reader = _READER
    assert reader is not None
    number, part, check_gap, prev_end = unit
    reader.tally = Tally()
    metas: list[bytes] = []
    sink = _Sink(number)
    for meta, lines in reader.pem_range(part.path, part.start, part.end, part.index,
                                        part.line, check_gap, prev_end):
        metas.append(meta)
        sink.write(lines)
    new, reader.new_classes = reader.new_classes, []
    return (os.getpid(), b"".join(metas), sink.result(), new, reader.tally,
            reader.range_state)


def _dispatch(unit: tuple[Any, ...]) -> tuple[Any, ...]:
    if isinstance(unit[1], _Range):
        return _work_range(unit)
    return _work(unit)


def _units(targets: Sequence[str], options: SourceOptions, tally: Tally) -> Iterator[tuple[str, bool]]:
    for target in targets:
        if os.path.isdir(target):
            for path in walk(target, options, tally):
                yield path, False
        else:
            yield target, True


# -- parent side ---------------------------------------------------------------------------

class _Merge:
    """Parent-side merging: class ids made global, duplicates dropped, lines written."""

    def __init__(self, out: IO[bytes], dedup: bool, force_python: bool) -> None:
        self.out = out
        self.merger = load_merger(force_python)(dedup)
        self.filter = load_filter(force_python)
        self.classes: list[ClassInfo] = []
        self.by_name: dict[str, int] = {}
        self.maps: dict[int, list[int]] = {}
        self.tally = Tally()

    def add(self, source: int, meta: bytes,
            lines: bytes | str | list[bytes] | tuple[int, int],
            new: list[tuple[int, ClassInfo]]) -> None:
        """Merge one unit: ``lines`` is the bytes (or a list of byte strings), or the path of
        a spool file holding them (removed once copied)."""
        mapping = self.maps.setdefault(source, [])
        for local, info in new:
            number = self.by_name.get(info.name)
            if number is None:
                number = len(self.classes)
                self.classes.append(info)
                self.by_name[info.name] = number
                self.out.write((dumps_line(info.record()) + "\n").encode())
            if len(mapping) <= local:
                mapping.extend([-1] * (local + 1 - len(mapping)))
            mapping[local] = number
        mask = self.merger.merge(meta, mapping) if meta else None
        if isinstance(lines, tuple):
            slab, length = lines
            try:
                view = memoryview(_SLABS[slab])[:length]
                if mask is None:
                    self.out.write(view)
                else:
                    self.out.write(self.filter(meta, bytes(view), mask))
                view.release()
            finally:
                _FREE.put(slab)
        elif isinstance(lines, str):
            try:
                if mask is None:
                    _copy_file(lines, self.out)
                else:
                    with open(lines, "rb") as handle:
                        self.out.write(self.filter(meta, handle.read(), mask))
            finally:
                os.unlink(lines)
        elif isinstance(lines, list):
            if mask is None:
                for part in lines:
                    self.out.write(part)
            else:
                self.out.write(self.filter(meta, b"".join(lines), mask))
        elif mask is None:
            self.out.write(lines)
        else:
            self.out.write(self.filter(meta, lines, mask))

    def add_tally(self, other: Tally) -> None:
        self.tally.errors.update(other.errors)
        self.tally.other_findings.update(other.other_findings)
        self.tally.other_assets += other.other_assets
        self.tally.files_read += other.files_read
        self.tally.files_skipped += other.files_skipped
        self.tally.fallbacks += other.fallbacks


class _Progress:
    """Rate and ETA on stderr, redrawn at most five times a second."""

    def __init__(self, enabled: bool, total_bytes: int) -> None:
        self.enabled = enabled
        self.total = total_bytes
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done_bytes: int, merge: _Merge) -> None:
        self.done += done_bytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        certificates = merge.merger.counts()[2]
        self.last = now
        elapsed = max(now - self.start, 1e-6)
        rate = certificates / elapsed
        eta = ""
        if self.total and self.done:
            eta = f", ETA {max(0.0, elapsed * (self.total - self.done) / self.done):.0f}s"
            eta = f" {100 * self.done / self.total:5.1f}%" + eta
        sys.stderr.write(f"\r{certificates:,} certificates, {rate:,.0f}/s{eta}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def bulk_scan(targets: Sequence[str], policy: Policy, as_of: date, out: IO[bytes],
              options: BulkOptions | None = None, waivers: Sequence[Waiver] = ()) -> BulkResult:
    """Scan ``targets`` on the bulk path, writing JSON Lines to ``out`` as they come.

    Why: a million certificates in seconds, with the findings the normal path would give
    (the per-class verdicts come from the same engine, and anything the fast reader is not
    sure of is read by the normal path). Lines: ``class`` (once per class, before its first
    certificate), ``certificate``, ``error`` and ``asset`` (the normal path's records, for
    errors and non-certificate items), ``duplicate`` (SHA-256 seen more than once), then
    ``bulk-summary`` and the standard ``summary`` line. See docs/bulk.md.

    >>> # bulk_scan(["ct-dump/"], load_policy(None), date.today(), sys.stdout.buffer)
    """
    if waivers:
        raise ValueError("waivers are not supported on the bulk path (a waiver may name one "
                         "certificate); use cryptocheck.run.scan")
    opts = options or BulkOptions()
    # The run makes few reference cycles and many short-lived objects: the cyclic collector
    # would spend its time walking the policy and catalogue again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _bulk_scan(targets, policy, as_of, out, opts)
    finally:
        if collecting:
            gc.enable()


def _bulk_scan(targets: Sequence[str], policy: Policy, as_of: date, out: IO[bytes],
               opts: BulkOptions) -> BulkResult:
    started = datetime.now(UTC)
    jobs = opts.jobs or os.cpu_count() or 1
    waivers_t: tuple[Waiver, ...] = ()
    merge = _Merge(out, opts.dedup, opts.force_python)
    walked = Tally()
    units = list(_units(targets, opts.source_options, walked))
    merge.add_tally(walked)
    local = [u for u in units if u[0] == "-"]
    remote = [u for u in units if u[0] != "-"]
    total = sum(_size(path) for path, _ in units)
    show = opts.progress if opts.progress is not None else sys.stderr.isatty()
    progress = _Progress(bool(show), total)
    reader = Reader(policy, as_of, opts.source_options, waivers_t, opts.force_python, opts.field)
    engine = "c" if reader.fast else "python"

    if jobs > 1 and not local and remote and (
            len(remote) > 1 or _splittable(remote[0][0], opts.source_options)):
        global _FREE
        context = multiprocessing.get_context("fork")
        spool = tempfile.mkdtemp(prefix="cryptocheck-bulk-", dir=_spool_dir())
        _SLABS[:] = [mmap.mmap(-1, SLAB_BYTES) for _ in range(jobs + 2)]
        _FREE = context.Queue()
        for number in range(len(_SLABS)):
            _FREE.put(number)
        try:
            with context.Pool(jobs, _init_worker, (policy, as_of, opts.source_options,
                                                   waivers_t, opts.force_python, opts.field,
                                                   spool)) as pool:
                _pooled(pool, remote, opts, merge, reader, progress)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
            for slab in _SLABS:
                slab.close()
            _SLABS.clear()
            _FREE.close()
            _FREE = None
        units = local
    for path, explicit in units:
        size = _splittable(path, opts.source_options) if path != "-" else 0
        if size:
            ranges = [_Range(0, n, path, a, b, 0, 0, 1) for n, (a, b) in enumerate(
                _bounds(path, size))]
            merge.tally.files_read += 1
            _read_ranges(reader, merge, ranges, progress,
                         (0, 1, has_crypto_extension(path), -1))
        elif path == "-":
            _add_unit(reader, merge, reader.target("-"))
        else:
            _add_unit(reader, merge, reader.path(path, explicit))
        progress.update(_size(path), merge)
    merge.add_tally(reader.tally)
    progress.close()
    repeated = sorted(merge.merger.repeated())
    for digest, count in repeated:
        out.write((dumps_line({"record": "duplicate", "sha256": digest.hex(), "seen": count})
                   + "\n").encode())
    class_counts, month_counts, unique, duplicates = merge.merger.counts()
    result = BulkResult(policy_info(policy), as_of, tuple(targets), started, datetime.now(UTC),
                        merge.classes, class_counts, month_counts, unique, duplicates,
                        merge.tally, jobs, engine, repeated)
    out.write((dumps_line(result.bulk_record()) + "\n").encode())
    out.write((dumps_line(summary_record(result.report(waivers_t))) + "\n").encode())
    out.flush()
    return result


def _pooled(pool: Any, remote: list[tuple[str, bool]], opts: BulkOptions, merge: _Merge,
            reader: Reader, progress: _Progress) -> None:
    """Files and ranges of split bundles through the pool, merged in input order.

    A range's numbering comes from counting the BEGIN lines and newlines of the ranges
    before it (in parallel, first). That is exact when every BEGIN line gave exactly one
    item, which each range reports; when one did not (a PKCS#7 bundle, binary junk between
    blocks), that range and the rest of its file are read again, in order, by this process.
    """
    work: list[tuple[Any, ...]] = []
    splits: dict[int, list[_Range]] = {}
    for path, explicit in remote:
        size = _splittable(path, opts.source_options)
        if not size:
            work.append((len(work), path, explicit))
            continue
        bounds = _bounds(path, size)
        counts = pool.map(_count_range, [(path, a, b) for a, b in bounds], chunksize=1)
        group = len(splits)
        index, line = 0, 1
        ranges = []
        for number, ((a, b), (newlines, begins)) in enumerate(zip(bounds, counts)):
            ranges.append(_Range(group, number, path, a, b, begins, index, line))
            index += begins
            line += newlines
        splits[group] = ranges
        edges = has_crypto_extension(path)
        for part in ranges:
            # Ranges after the first start right after a complete block.
            work.append((len(work), part, edges if part.number == 0 else True,
                         -1 if part.number == 0 else part.start))
    redone: set[int] = set()
    for unit, result in zip(work, pool.imap(_dispatch, work, chunksize=1)):
        pid, meta, lines, new, tally = result[:5]
        part = unit[1]
        if isinstance(part, _Range):
            if part.group in redone:
                _discard(lines)
                continue
            if result[5][0] - part.index != part.begins:
                _discard(lines)
                redone.add(part.group)
                _read_rest(reader, merge, part, splits[part.group], progress)
                continue
            if part.number == 0:
                merge.tally.files_read += 1
        merge.add(pid, meta, lines, new)
        merge.add_tally(tally)
        progress.update(0 if isinstance(part, _Range) else _size(part), merge)
        if isinstance(part, _Range):
            progress.update(part.end - part.start, merge)


def _discard(lines: str | tuple[int, int]) -> None:
    """Drop a worker's lines unread (spool file removed, slab given back)."""
    if isinstance(lines, tuple):
        _FREE.put(lines[0])
    else:
        os.unlink(lines)


def _read_rest(reader: Reader, merge: _Merge, part: _Range, ranges: list[_Range],
               progress: _Progress) -> None:
    """Read a split bundle from ``part`` to its end in this process, in order."""
    if part.number == 0:
        state = (0, 1, has_crypto_extension(part.path), -1)
        merge.tally.files_read += 1
    else:
        # Ranges before this one held one item per BEGIN line, so this one starts right
        # after a complete block.
        state = (part.index, part.line, True, part.start)
    _read_ranges(reader, merge, ranges[part.number:], progress, state)


def _read_ranges(reader: Reader, merge: _Merge, ranges: list[_Range], progress: _Progress,
                 state: tuple[int, int, bool, int]) -> None:
    """Read ranges of one bundle in order in this process, each range one unit (so the
    output is the same as when jobs read them), the scanner's state carried across."""
    for part in ranges:
        index, line, check_gap, prev_end = state
        _add_unit(reader, merge, reader.pem_range(part.path, part.start, part.end, index, line,
                                                  check_gap, prev_end))
        state = reader.range_state
        progress.update(part.end - part.start, merge)


HOLD_BYTES = 32 * 1024 * 1024  # lines of one unit held in memory before they are spooled


def _add_unit(reader: Reader, merge: _Merge, pieces: Iterator[tuple[bytes, bytes]]) -> None:
    """Merge one unit (a file, or a range of a split bundle) read in this process, as a
    worker's unit is merged: the classes it met first, then its lines. Class lines thus sit
    at unit boundaries, which do not depend on the number of jobs."""
    metas: list[bytes] = []
    held: list[bytes] = []
    size = 0
    spool: IO[bytes] | None = None
    try:
        for meta, lines in pieces:
            metas.append(meta)
            size += len(lines)
            if spool is None and size > HOLD_BYTES:
                spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
                    prefix="cryptocheck-bulk-", dir=_spool_dir(), delete=False)
                spool.write(b"".join(held))
                held.clear()
            if spool is not None:
                spool.write(lines)
            else:
                held.append(lines)
        new, reader.new_classes = reader.new_classes, []
        if spool is not None:
            spool.close()
            merge.add(0, b"".join(metas), spool.name, new)
            spool = None
        else:
            merge.add(0, b"".join(metas), held, new)
    finally:
        if spool is not None:
            spool.close()
            os.unlink(spool.name)


def _bounds(path: str, size: int) -> list[tuple[int, int]]:
    """The byte ranges a split bundle is read in."""
    points = _split_points(path, size)
    return list(zip(points, points[1:] + [size]))


def _spool_dir() -> str | None:
    """Memory-backed temporary storage when the system has it (lines pass through here)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _copy_file(path: str, out: IO[bytes]) -> None:
    """Append the file at ``path`` to ``out``, in the kernel when ``out`` is a real file."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            fileno = out.fileno()
        except (AttributeError, OSError, ValueError):
            fileno = -1
        if fileno >= 0:
            out.flush()
            sent = 0
            try:
                while sent < size:
                    done = os.sendfile(fileno, handle.fileno(), sent, size - sent)
                    if done == 0:
                        break
                    sent += done
                return
            except OSError:
                handle.seek(sent)
        shutil.copyfileobj(handle, out, 1 << 20)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size if path != "-" else 0
    except OSError:
        return 0
