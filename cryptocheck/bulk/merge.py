"""The parent's side of a bulk run: class ids made global, duplicates dropped, lines written
in input order, progress shown."""

from __future__ import annotations

import os
import sys
import time
from typing import IO

from cryptocheck.bulk import handover
from cryptocheck.bulk.compiled import ClassInfo
from cryptocheck.bulk.entries import Tally
from cryptocheck.bulk.handover import copy_file
from cryptocheck.bulk.pyscan import load_filter, load_merger
from cryptocheck.report.wire import dumps_line


class Merge:
    """Parent-side merging: class ids made global, duplicates dropped, lines written."""

    def __init__(self, out: IO[bytes], dedup: bool, force_python: bool,
                 expected: int = 0) -> None:
        self.out = out
        self.merger = load_merger(force_python)(dedup, expected)
        self.filter = load_filter(force_python)
        self.classes: list[ClassInfo] = []
        self.by_name: dict[str, int] = {}
        self.maps: dict[int, list[int]] = {}
        self.tally = Tally()

    def add(self, source: int, meta: bytes,
            lines: bytes | list[bytes] | handover.Lines,
            new: list[tuple[int, ClassInfo]]) -> None:
        """Merge one unit: ``lines`` is the bytes (or a list of byte strings), the path of a
        spool file holding them (removed once copied), or a worker's slab (given back once
        written; it holds the meta records too unless ``meta`` has them)."""
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
        if isinstance(lines, tuple):
            slab, length, meta_length = lines
            try:
                records: bytes | memoryview = (handover.slab_meta(slab, meta_length)
                                               if meta_length else meta)
                mask = self.merger.merge(records, mapping) if records else None
                view = memoryview(handover.SLABS[slab])[:length]
                if mask is None:
                    self.out.write(view)
                else:
                    self.out.write(self.filter(records, bytes(view), mask))
                view.release()
                if isinstance(records, memoryview):
                    records.release()
            finally:
                handover.FREE.put(slab)
            return
        mask = self.merger.merge(meta, mapping) if meta else None
        if isinstance(lines, str):
            try:
                if mask is None:
                    copy_file(lines, self.out)
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
        self.tally.other_waived.update(other.other_waived)
        self.tally.other_assets += other.other_assets
        self.tally.files_read += other.files_read
        self.tally.files_skipped += other.files_skipped
        self.tally.fallbacks += other.fallbacks


class Progress:
    """Rate and ETA on stderr, redrawn at most five times a second."""

    def __init__(self, enabled: bool, total_bytes: int) -> None:
        self.enabled = enabled
        self.total = total_bytes
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done_bytes: int, merge: Merge) -> None:
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
