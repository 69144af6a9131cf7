"""The bulk run: its options, its result and summary lines, and :func:`bulk_scan`.

Units of work are read by worker processes (:mod:`cryptocheck.bulk.jobs`) or in order by
this one, merged in input order by :class:`cryptocheck.bulk.merge.Merge` (deduplication by
SHA-256, counts, lines written), then the summary lines are written. Standard input is read
in this process.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from cryptocheck.bulk.compiled import ClassInfo, month_label
from cryptocheck.bulk.entries import Tally
from cryptocheck.bulk.handover import close_slabs, open_slabs, spool_dir
from cryptocheck.bulk.jobs import (
    Range,
    add_unit,
    init_worker,
    pooled,
    range_bounds,
    read_ranges,
    size_of,
    splittable,
    target_units,
)
from cryptocheck.bulk.merge import Merge, Progress
from cryptocheck.bulk.reader import Reader
from cryptocheck.model import PolicyInfo, Report, Status, Summary, Waiver
from cryptocheck.policy import Policy
from cryptocheck.report.jsonl import summary_record
from cryptocheck.report.wire import dumps_line
from cryptocheck.run import policy_info
from cryptocheck.sources.files import SourceOptions
from cryptocheck.sources.files.context import has_crypto_extension
from cryptocheck.version import __version__


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
            for finding in self.classes[number].findings:
                counts[finding.status] += count
        return counts

    def waived(self) -> int:
        """Findings a waiver covers (certificates' and other assets')."""
        total = sum(self.tally.other_waived.values())
        for number, count in self.class_counts.items():
            total += count * sum(1 for f in self.classes[number].findings
                                 if f.waiver is not None)
        return total

    def worst_status(self) -> Status | None:
        """The worst status of a finding no waiver covers (as the normal path's summary)."""
        ranks: Counter[str] = Counter({s: c for s, c in self.tally.other_findings.items()})
        ranks.subtract(self.tally.other_waived)
        for number, count in self.class_counts.items():
            for finding in self.classes[number].findings:
                if finding.waiver is None:
                    ranks[finding.status] += count
        statuses = [Status(s) for s, c in ranks.items() if c > 0]
        return max(statuses, key=lambda s: s.rank) if statuses else None

    def failing(self, fail_on: Status) -> int:
        """Certificates (and other assets' findings) at or worse than ``fail_on``."""
        total = 0
        for number, count in self.class_counts.items():
            if any(Status(f.status).rank >= fail_on.rank and f.waiver is None
                   for f in self.classes[number].findings):
                total += count
        total += sum(c - self.tally.other_waived.get(s, 0)
                     for s, c in self.tally.other_findings.items()
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
            waived=self.waived(), files_read=self.tally.files_read,
            files_skipped=self.tally.files_skipped,
            worst_status=self.worst_status())
        return Report(__version__, "certs", self.targets, self.policy, self.as_of, self.started,
                      self.finished, (), (), (), (), summary, tuple(waivers))


# -- worker side -------------------------------------------------------------------------


# -- parent side ---------------------------------------------------------------------------


def bulk_scan(targets: Sequence[str], policy: Policy, as_of: date, out: IO[bytes],
              options: BulkOptions | None = None, waivers: Sequence[Waiver] = ()) -> BulkResult:
    """Scan ``targets`` on the bulk path, writing JSON Lines to ``out`` as they come.

    Why: a million certificates in seconds, with the findings the normal path would give
    (the per-class verdicts come from the same engine, and anything the fast reader is not
    sure of is read by the normal path). Lines: ``class`` (once per class, before its first
    certificate), ``certificate``, ``error`` and ``asset`` (the normal path's records, for
    errors and non-certificate items), ``duplicate`` (SHA-256 seen more than once), then
    ``bulk-summary`` and the standard ``summary`` line. See docs/bulk.md.

    ``waivers`` naming only rules are applied to whole classes; a certificate a waiver names
    otherwise (SHA-256, asset id, path, subject) is judged by the normal path, so that
    each is applied exactly where the normal path applies it (a waiver by subject sends every
    certificate there: the scanner does not read subjects).

    >>> # bulk_scan(["ct-dump/"], load_policy(None), date.today(), sys.stdout.buffer)
    """
    opts = options or BulkOptions()
    # The run makes few reference cycles and many short-lived objects: the cyclic collector
    # would spend its time walking the policy and catalogue again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _bulk_scan(targets, policy, as_of, out, opts, tuple(waivers))
    finally:
        if collecting:
            gc.enable()


def _read_here(units: list[tuple[str, bool]], reader: Reader, merge: Merge, progress: Progress,
               options: SourceOptions, spool: str) -> None:
    """Read units in this process, in order (one job, or standard input)."""
    for path, explicit in units:
        size = splittable(path, options) if path != "-" else 0
        if size:
            ranges = [Range(0, n, path, a, b, 0, 0, 1) for n, (a, b) in enumerate(
                range_bounds(path, size))]
            merge.tally.files_read += 1
            read_ranges(reader, merge, ranges, progress,
                        (0, 1, has_crypto_extension(path), -1), spool)
        elif path == "-":
            add_unit(reader, merge, reader.target("-"), spool)
        else:
            add_unit(reader, merge, reader.path(path, explicit), spool)
        progress.update(size_of(path), merge)


def _bulk_scan(targets: Sequence[str], policy: Policy, as_of: date, out: IO[bytes],
               opts: BulkOptions, waivers_t: tuple[Waiver, ...]) -> BulkResult:
    started = datetime.now(UTC)
    jobs = opts.jobs or os.cpu_count() or 1
    walked = Tally()
    units = list(target_units(targets, opts.source_options, walked))
    local = [u for u in units if u[0] == "-"]
    remote = [u for u in units if u[0] != "-"]
    total = sum(size_of(path) for path, _ in units)
    # A PEM certificate takes 900 bytes or so: size the deduplication table once.
    merge = Merge(out, opts.dedup, opts.force_python, expected=total // 900)
    merge.add_tally(walked)
    show = opts.progress if opts.progress is not None else sys.stderr.isatty()
    progress = Progress(bool(show), total)
    reader = Reader(policy, as_of, opts.source_options, waivers_t, opts.force_python, opts.field)
    engine = "c" if reader.fast else "python"

    used = 1  # processes that read inputs (what the summary reports)
    spool = tempfile.mkdtemp(prefix="cryptocheck-bulk-", dir=spool_dir())
    try:
        if jobs > 1 and not local and remote and (
                len(remote) > 1 or splittable(remote[0][0], opts.source_options)):
            context = multiprocessing.get_context("fork")
            open_slabs(context, jobs + 2)
            try:
                with context.Pool(jobs, init_worker, (policy, as_of, opts.source_options,
                                                       waivers_t, opts.force_python,
                                                       opts.field, spool)) as pool:
                    pooled(pool, remote, opts.source_options, merge, reader, progress, spool)
            finally:
                close_slabs()
            units = local
            used = jobs
        if units:
            open_slabs(None, 1)
            try:
                _read_here(units, reader, merge, progress, opts.source_options, spool)
            finally:
                close_slabs()
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    merge.add_tally(reader.tally)
    progress.close()
    repeated = sorted(merge.merger.repeated())
    for digest, count in repeated:
        out.write((dumps_line({"record": "duplicate", "sha256": digest.hex(), "seen": count})
                   + "\n").encode())
    class_counts, month_counts, unique, duplicates = merge.merger.counts()
    result = BulkResult(policy_info(policy), as_of, tuple(targets), started, datetime.now(UTC),
                        merge.classes, class_counts, month_counts, unique, duplicates,
                        merge.tally, used, engine, repeated)
    out.write((dumps_line(result.bulk_record()) + "\n").encode())
    out.write((dumps_line(summary_record(result.report(waivers_t))) + "\n").encode())
    out.flush()
    return result
